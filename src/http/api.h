/*
 * api.h — the contract between generated endpoint tables and the HTTP
 * runtime.
 *
 * chatbot-gen emits, per resource, a static const cb_resource, and one
 * route table (cb_routes[]) listing every method + path with a runtime
 * callback and the descriptor it works on. The runtime (src/http/api.c)
 * implements the CRUD actions generically: body limits, JSON parsing,
 * validation, authentication level, owner and parent scoping, pagination,
 * status codes and problem+json errors. Hand-written code enters only
 * through hooks and route handlers, whose prototypes the generator writes
 * into generated/hooks.h (a missing one is a link error).
 *
 * Every request gets one cb_ctx, created by the server's first callback and
 * freed by its last (src/http/server.c); handlers borrow it.
 */
#ifndef CB_HTTP_API_H
#define CB_HTTP_API_H

#include <stdbool.h>
#include <stdint.h>
#include <ulfius.h>
#include "db/model.h"

typedef enum cb_auth_level {
    CB_AUTH_PUBLIC,
    CB_AUTH_USER,
    CB_AUTH_ADMIN
} cb_auth_level;

/* Per-request state. */
typedef struct cb_ctx {
    const struct _u_request *req;
    struct _u_response *resp;
    cb_db *db;                  /* NULL until cb_ctx_db() checks one out */
    int64_t user_id;            /* 0 when anonymous */
    bool is_admin;
    bool via_token;             /* authenticated by bearer token (no CSRF needed) */
    bool csrf_ok;               /* cookie session + matching X-CSRF-Token header */
    char client_addr[64];
    void *auth_data;            /* owned by src/auth, freed by cb_auth_release() */
    char *method, *path;        /* for the access log (path without the query) */
    double started_ms;
} cb_ctx;

/* Checks out a pooled connection for the rest of the request (returned at
   the end by the server). NULL when the pool is exhausted beyond its wait;
   the caller answers 503. */
cb_db *cb_ctx_db(cb_ctx *ctx);

/* A path id: a positive decimal int64 without sign or leading zeros. */
bool cb_parse_id(const char *s, int64_t *out);

/* True when the client of the calling thread's connection has closed it
   (thread per connection: valid in handlers and stream callbacks). */
bool cb_client_gone(void);

/* --- hooks -------------------------------------------------------------- */

typedef enum cb_hook_event {
    CB_HOOK_BEFORE_CREATE, CB_HOOK_AFTER_CREATE,
    CB_HOOK_BEFORE_UPDATE, CB_HOOK_AFTER_UPDATE,
    CB_HOOK_BEFORE_DELETE, CB_HOOK_AFTER_DELETE,
    CB_HOOK_COUNT
} cb_hook_event;

/* A hook sees the row about to be written (before_*) or just written
   (after_*). A before hook may change the row or refuse: it returns a
   cb_rc other than CB_OK and fills errs (CB_INVALID → 400 with the field
   errors, CB_CONFLICT → 409, CB_NOTFOUND → 404). Before and after hooks run
   inside the same transaction as the write, so a refusal writes nothing. */
typedef cb_rc (*cb_hook_fn)(cb_ctx *ctx, void *row, cb_errors *errs);

/* A hand-written route handler answers the request itself with the
   cb_reply_* helpers and returns U_CALLBACK_COMPLETE. */
typedef int (*cb_route_fn)(cb_ctx *ctx);

/* --- resources ---------------------------------------------------------- */

enum cb_action {
    CB_ACT_LIST, CB_ACT_GET, CB_ACT_CREATE, CB_ACT_UPDATE, CB_ACT_DELETE, CB_ACT_COUNT
};

typedef struct cb_resource {
    const char *name;
    const char *path;           /* "/api/v1/conversations" (Ulfius form, :params) */
    const cb_model *model;      /* NULL for route-only resources */
    cb_auth_level auth;
    int owner_field;            /* scoped to ctx->user_id, or -1 */
    int parent_field;           /* field taken from the :param of the same name, or -1 */
    const struct cb_resource *parent;   /* its row must exist and be visible */
    unsigned actions;           /* 1 << CB_ACT_* */
    uint64_t accept[CB_ACT_COUNT];      /* field mask accepted per action (create, update) */
    /* Keyset pagination: see cb_list_query in db/model.h for the SQL. */
    const cb_sort_key *sort;
    unsigned n_sort;
    const char *sql_list_first, *sql_list_after;
    int stmt_list_first, stmt_list_after;
    int stmt_list_first_rev, stmt_list_after_rev;     /* ?reverse=true: the order backwards */
    int page_default, page_max;
    cb_hook_fn hooks[CB_HOOK_COUNT];    /* NULL where none */
} cb_resource;

/* One hand-written route's descriptor. */
typedef struct cb_route_desc {
    const char *name;
    cb_auth_level auth;
    cb_route_fn handler;
} cb_route_desc;

/* One row of the generated route table. */
typedef struct cb_route {
    const char *method;
    const char *path;           /* Ulfius pattern, e.g. "/api/v1/conversations/:id" */
    int (*callback)(const struct _u_request *, struct _u_response *, void *);
    const void *data;           /* const cb_resource * or const cb_route_desc * */
} cb_route;

/* The route table of the generated code (generated/api.c). */
extern const cb_route cb_routes[];
extern const int cb_n_routes;

/* Runtime callbacks the route table points at (user_data = descriptor). */
int cb_api_list(const struct _u_request *, struct _u_response *, void *);

/* What a list request asks for, once its query has been checked. */
typedef struct cb_list_request {
    int64_t parent_id;          /* the parent's id in the path, if res has one */
    int limit;                  /* 1 .. res->page_max */
    bool reverse;
    const char *cursor;         /* NULL: the first page */
} cb_list_request;

/* One page of res's list, as GET answers it, for the caller of ctx (owner
   scope applied): *json (malloc'd, *len bytes) is {"items":[…],
   "next_cursor":…}. The page handlers use it to put a first page into a page. */
cb_rc cb_api_list_json(cb_ctx *ctx, const cb_resource *res, const cb_list_request *lr,
                      char **json, size_t *len, cb_errors *errs);
int cb_api_get(const struct _u_request *, struct _u_response *, void *);
int cb_api_create(const struct _u_request *, struct _u_response *, void *);
int cb_api_update(const struct _u_request *, struct _u_response *, void *);
int cb_api_delete(const struct _u_request *, struct _u_response *, void *);
int cb_api_route(const struct _u_request *, struct _u_response *, void *);

/* Members the application adds to a row's JSON object in the generic list
   and get answers (e.g. a user's role names, which live in a join table).
   It appends ",\"name\":value" pairs to `out`; the runtime's weak default
   adds nothing. */
struct cb_buf;
void cb_api_row_extra(cb_ctx *ctx, const cb_resource *res, const void *row, struct cb_buf *out);

/* --- replies (src/http/reply.c): each sends exactly one answer ---------- */

/* Request body as a JSON object: 415 unless Content-Type is
   application/json, 413 over the body limit, 400 for malformed JSON, a
   non-object, or invalid UTF-8; an empty body is {}. On failure the answer
   is already sent and NULL is returned. */
json_t *cb_request_json_or_reply(cb_ctx *ctx);

int cb_reply_json(cb_ctx *ctx, int status, json_t *body_take);
/* A JSON text built by the caller (malloc'd); the response takes it. */
int cb_reply_json_text_take(cb_ctx *ctx, int status, char *text, size_t len);
int cb_reply_empty(cb_ctx *ctx, int status);
/* application/problem+json {type,title,status,detail[,errors]} */
int cb_reply_problem(cb_ctx *ctx, int status, const char *detail, json_t *errors_take);
/* The same with the members of `members_take` merged in (detail, errors,
   or extension members such as the stored objects a failure concerns). */
int cb_reply_problem_with(cb_ctx *ctx, int status, json_t *members_take);
/* Maps a cb_rc (and errs for CB_INVALID) to its problem answer. */
int cb_reply_rc(cb_ctx *ctx, cb_rc rc, cb_errors *errs);

#endif
