/*
 * api.c — the generic endpoints behind every generated resource: list,
 * get, create, update and delete, driven by a cb_resource descriptor, plus
 * the dispatcher for hand-written routes.
 *
 * Each action does the same dull, error-prone work in the same order:
 * authentication level, path ids, parent visibility, owner scoping, body
 * parsing and validation, hooks and the write in one transaction, and one
 * answer. Another user's row and a missing row answer identically (404).
 */
#include "db/db.h"
#include "http/internal.h"
#include "util/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

cb_db *cb_ctx_db(cb_ctx *ctx)
{
    if (!ctx->db)
        ctx->db = cb_pool_get(10000);
    return ctx->db;
}

static bool is_unsafe(const char *method)
{
    return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
           strcmp(method, "OPTIONS") != 0;
}

/* A browser says where an unsafe request comes from: refuse other sites. */
static bool cross_site(const struct _u_request *req)
{
    const char *site = u_map_get_case(req->map_header, "Sec-Fetch-Site");
    if (site && strcmp(site, "cross-site") == 0)
        return true;
    const char *origin = u_map_get_case(req->map_header, "Origin");
    const char *host = u_map_get_case(req->map_header, "Host");
    if (!origin || strcmp(origin, "null") == 0)
        return origin != NULL;
    const char *sep = strstr(origin, "://");
    return !host || !sep || strcmp(sep + 3, host) != 0;
}

/* 401 signed out, 403 signed in without the role, 403 for a cookie-
   authenticated unsafe request without its CSRF token or from another
   site; false after replying. */
static bool allowed_or_reply(cb_ctx *ctx, cb_auth_level level, int *ret)
{
    bool unsafe = is_unsafe(ctx->req->http_verb);
    if (unsafe && cross_site(ctx->req)) {
        *ret = cb_reply_problem(ctx, 403, "cross-site requests are refused", NULL);
        return false;
    }
    if (level == CB_AUTH_PUBLIC)
        return true;
    if (ctx->user_id == 0) {
        u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
        *ret = cb_reply_problem(ctx, 401, "sign in first", NULL);
        return false;
    }
    if (unsafe && !ctx->via_token && !ctx->csrf_ok) {
        *ret = cb_reply_problem(ctx, 403, "missing or wrong X-CSRF-Token header", NULL);
        return false;
    }
    if (level == CB_AUTH_ADMIN && !ctx->is_admin) {
        *ret = cb_reply_problem(ctx, 403, "administrators only", NULL);
        return false;
    }
    return true;
}

/* A path id: a positive decimal int64 without sign or leading zeros. */
bool cb_parse_id(const char *s, int64_t *out)
{
    if (!s || s[0] < '1' || s[0] > '9' || strlen(s) > 19)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno)
        return false;
    *out = v;
    return true;
}

static void *new_row(const cb_model *m)
{
    void *row = cb_xmalloc(m->size);
    cb_row_init(m, row);
    return row;
}

static void free_row(const cb_model *m, void *row)
{
    if (row) {
        cb_row_clear(m, row);
        free(row);
    }
}

/* Is row `id` of `res` visible to the caller (exists, is theirs, and so is
   its parent chain)? CB_OK, CB_NOTFOUND or a database error. When `out` is
   given it receives the row. */
static cb_rc visible(cb_ctx *ctx, const cb_resource *res, int64_t id, int64_t parent_id, void *out)
{
    cb_db *db = cb_ctx_db(ctx);
    if (!db)
        return CB_BUSY;
    void *row = out ? out : new_row(res->model);
    cb_rc rc = cb_row_get(db, res->model, id, row);
    if (rc == CB_OK && res->owner_field >= 0 &&
        cb_row_int(res->model, row, (unsigned)res->owner_field) != ctx->user_id)
        rc = CB_NOTFOUND;
    if (rc == CB_OK && res->parent_field >= 0) {
        int64_t p = cb_row_int(res->model, row, (unsigned)res->parent_field);
        if (parent_id > 0 && p != parent_id)
            rc = CB_NOTFOUND;
        else if (res->parent)
            rc = visible(ctx, res->parent, p, 0, NULL);
    }
    if (!out)
        free_row(res->model, row);
    return rc;
}

/* The parent id from the path (ctx's :<parent field>), checked visible. */
static cb_rc parent_from_path(cb_ctx *ctx, const cb_resource *res, int64_t *parent_id)
{
    *parent_id = 0;
    if (res->parent_field < 0)
        return CB_OK;
    const char *name = res->model->fields[res->parent_field].name;
    if (!cb_parse_id(u_map_get(ctx->req->map_url, name), parent_id))
        return CB_NOTFOUND;
    return res->parent ? visible(ctx, res->parent, *parent_id, 0, NULL) : CB_OK;
}

static cb_rc hook(cb_ctx *ctx, const cb_resource *res, cb_hook_event ev, void *row, cb_errors *errs)
{
    return res->hooks[ev] ? res->hooks[ev](ctx, row, errs) : CB_OK;
}

/* Runs before-hook, write, after-hook in one transaction. */
static cb_rc write_in_tx(cb_ctx *ctx, const cb_resource *res, cb_hook_event before, void *row,
                         cb_errors *errs, cb_rc (*write)(cb_db *, const cb_model *, void *))
{
    cb_db *db = cb_ctx_db(ctx);
    if (!db)
        return CB_BUSY;
    cb_rc rc = cb_db_begin(db);
    if (rc != CB_OK)
        return rc;
    rc = hook(ctx, res, before, row, errs);
    if (rc == CB_OK)
        rc = write(db, res->model, row);
    if (rc == CB_OK)
        rc = hook(ctx, res, before + 1, row, errs);
    if (rc == CB_OK)
        rc = cb_db_commit(db);
    if (rc != CB_OK)
        cb_db_rollback(db);
    return rc;
}

/* After a unique-constraint failure: names each unique field whose value
   another row already holds, so the client knows what to change. */
static void name_conflicts(cb_ctx *ctx, const cb_model *m, const void *row, cb_errors *errs)
{
    cb_db *db = cb_ctx_db(ctx);
    const cb_row *hdr = row;
    void *other = new_row(m);
    for (unsigned i = 1; db && i < m->n_fields; i++) {
        const cb_field *f = &m->fields[i];
        uint64_t bit = UINT64_C(1) << i;
        bool has_value = (hdr->set & bit) && !(hdr->null & bit);
        if (!(f->flags & CB_F_UNIQUE) || f->stmt_get_by < 0 || !has_value)
            continue;
        if (cb_row_get_by(db, m, i, row, other) == CB_OK && cb_row_id(other) != cb_row_id(row))
            cb_errors_add(errs, f->name, "is already taken");
        cb_row_clear(m, other);
    }
    free(other);
}

static cb_rc delete_row(cb_db *db, const cb_model *m, void *row)
{
    return cb_row_delete(db, m, cb_row_id(row));
}

/* --- list ----------------------------------------------------------------- */

/* Is `name` one of the :params of the Ulfius pattern `path`? */
static bool path_param(const char *path, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = strchr(path, ':'); p; p = strchr(p + 1, ':'))
        if (strncmp(p + 1, name, n) == 0 && (p[n + 1] == '/' || p[n + 1] == '\0'))
            return true;
    return false;
}

/* Query parameters a list understands: limit, cursor, reverse and the path's own
   (Ulfius puts route parameters and the query in the same map). */
static bool unknown_parameters(const cb_resource *res, const struct _u_request *req,
                               cb_errors *errs)
{
    const char **keys = u_map_enum_keys(req->map_url);
    bool unknown = false;
    for (int i = 0; keys && keys[i]; i++) {
        if (strcmp(keys[i], "limit") && strcmp(keys[i], "cursor") && strcmp(keys[i], "reverse") &&
            !path_param(res->path, keys[i])) {
            cb_errors_add(errs, keys[i], "unknown query parameter");
            unknown = true;
        }
    }
    return unknown;
}

static bool parse_limit(const cb_resource *res, const char *s, int *limit, cb_errors *errs)
{
    *limit = res->page_default;
    if (!s)
        return true;
    int64_t v;
    if (!cb_parse_id(s, &v) || v > res->page_max) {
        cb_errors_add(errs, "limit", "must be an integer from 1 to %d", res->page_max);
        return false;
    }
    *limit = (int)v;
    return true;
}

static bool parse_reverse(const char *s, bool *reverse, cb_errors *errs)
{
    *reverse = s && strcmp(s, "true") == 0;
    if (!s || *reverse || strcmp(s, "false") == 0)
        return true;
    cb_errors_add(errs, "reverse", "must be true or false");
    return false;
}

/* The weak default of cb_api_row_extra (api.h): nothing to add. */
__attribute__((weak)) void cb_api_row_extra(cb_ctx *ctx, const cb_resource *res, const void *row,
                                            cb_buf *out)
{
    (void)ctx, (void)res, (void)row, (void)out;
}

/* One row's JSON object with the application's extra members inside it. */
static void write_row(cb_ctx *ctx, const cb_resource *res, const void *row, cb_buf *out)
{
    cb_row_write_json(out, res->model, row);
    size_t before = out->len;
    out->len--;                         /* reopen the object: drop its '}' */
    cb_api_row_extra(ctx, res, row, out);
    if (out->len == before - 1)
        out->len++;                     /* nothing added: the '}' is still there */
    else
        cb_buf_putc(out, '}');
}

cb_rc cb_api_list_json(cb_ctx *ctx, const cb_resource *res, const cb_list_request *lr,
                      char **json, size_t *len, cb_errors *errs)
{
    cb_db *db = cb_ctx_db(ctx);
    if (!db)
        return CB_BUSY;
    cb_list_query q = {.stmt_first = lr->reverse ? res->stmt_list_first_rev : res->stmt_list_first,
                       .stmt_after = lr->reverse ? res->stmt_list_after_rev : res->stmt_list_after,
                       .sort = res->sort,
                       .n_sort = res->n_sort,
                       .has_scope = res->owner_field >= 0,
                       .scope = ctx->user_id,
                       .has_parent = res->parent_field >= 0,
                       .parent = lr->parent_id,
                       .cursor = lr->cursor,
                       .limit = lr->limit};
    cb_rows rows = {0};
    cb_rc rc = cb_list_page(db, res->model, &q, &rows, errs);
    if (rc != CB_OK)
        return rc;
    /* Written straight into one buffer: lists are the hot path. */
    cb_buf page = {0};
    cb_buf_puts(&page, "{\"items\":[");
    for (size_t i = 0; i < rows.n; i++) {
        if (i)
            cb_buf_putc(&page, ',');
        write_row(ctx, res, (char *)rows.rows + i * res->model->size, &page);
    }
    cb_buf_puts(&page, "],\"next_cursor\":");
    if (rows.next_cursor)
        cb_json_write_string(&page, rows.next_cursor, strlen(rows.next_cursor));
    else
        cb_buf_puts(&page, "null");
    cb_buf_putc(&page, '}');
    cb_rows_free(&rows);
    *json = cb_buf_take(&page, len);
    return CB_OK;
}

int cb_api_list(const struct _u_request *req, struct _u_response *resp, void *data)
{
    cb_ctx *ctx = cb_ctx_of(req, resp);
    const cb_resource *res = data;
    int ret;
    if (!allowed_or_reply(ctx, res->auth, &ret))
        return ret;
    cb_errors errs = {0};
    cb_list_request lr = {.cursor = u_map_get(req->map_url, "cursor")};
    bool bad = unknown_parameters(res, req, &errs);
    bad |= !parse_limit(res, u_map_get(req->map_url, "limit"), &lr.limit, &errs);
    bad |= !parse_reverse(u_map_get(req->map_url, "reverse"), &lr.reverse, &errs);
    if (bad)
        return cb_reply_rc(ctx, CB_INVALID, &errs);
    cb_rc rc = parent_from_path(ctx, res, &lr.parent_id);
    if (rc != CB_OK)
        return cb_reply_rc(ctx, rc, NULL);
    char *text;
    size_t len;
    rc = cb_api_list_json(ctx, res, &lr, &text, &len, &errs);
    if (rc != CB_OK)
        return cb_reply_rc(ctx, rc, &errs);
    return cb_reply_json_text_take(ctx, 200, text, len);
}

/* --- get, create, update, delete ---------------------------------------- */

/* Common start of the item actions: auth, ids, visibility; the row is
   loaded into `row`. Returns true to go on, false after replying. */
static bool load_item(cb_ctx *ctx, const cb_resource *res, void *row, int *ret)
{
    if (!allowed_or_reply(ctx, res->auth, ret))
        return false;
    int64_t id, parent_id;
    cb_rc rc = parent_from_path(ctx, res, &parent_id);
    if (rc == CB_OK && !cb_parse_id(u_map_get(ctx->req->map_url, "id"), &id))
        rc = CB_NOTFOUND;
    if (rc == CB_OK)
        rc = visible(ctx, res, id, parent_id, row);
    if (rc != CB_OK) {
        *ret = cb_reply_rc(ctx, rc, NULL);
        return false;
    }
    return true;
}

int cb_api_get(const struct _u_request *req, struct _u_response *resp, void *data)
{
    cb_ctx *ctx = cb_ctx_of(req, resp);
    const cb_resource *res = data;
    void *row = new_row(res->model);
    int ret;
    if (load_item(ctx, res, row, &ret)) {
        cb_buf item = {0};
        write_row(ctx, res, row, &item);
        size_t len;
        char *text = cb_buf_take(&item, &len);
        ret = cb_reply_json_text_take(ctx, 200, text, len);
    }
    free_row(res->model, row);
    return ret;
}

int cb_api_create(const struct _u_request *req, struct _u_response *resp, void *data)
{
    cb_ctx *ctx = cb_ctx_of(req, resp);
    const cb_resource *res = data;
    int ret;
    if (!allowed_or_reply(ctx, res->auth, &ret))
        return ret;
    int64_t parent_id;
    cb_rc rc = parent_from_path(ctx, res, &parent_id);
    if (rc != CB_OK)
        return cb_reply_rc(ctx, rc, NULL);
    json_t *body = cb_request_json_or_reply(ctx);
    if (!body)
        return U_CALLBACK_COMPLETE;
    void *row = new_row(res->model);
    cb_errors errs = {0};
    rc = cb_row_from_json(res->model, body, res->accept[CB_ACT_CREATE], true, row, &errs);
    json_decref(body);
    if (rc == CB_OK && res->owner_field >= 0)
        cb_row_set_int(res->model, row, (unsigned)res->owner_field, ctx->user_id);
    if (rc == CB_OK && res->parent_field >= 0)
        cb_row_set_int(res->model, row, (unsigned)res->parent_field, parent_id);
    if (rc == CB_OK)
        rc = write_in_tx(ctx, res, CB_HOOK_BEFORE_CREATE, row, &errs, cb_row_insert);
    if (rc == CB_CONFLICT && !errs.fields)
        name_conflicts(ctx, res->model, row, &errs);
    ret = rc == CB_OK ? cb_reply_json(ctx, 201, cb_row_to_json(res->model, row))
                      : cb_reply_rc(ctx, rc, &errs);
    cb_errors_clear(&errs);
    free_row(res->model, row);
    return ret;
}

int cb_api_update(const struct _u_request *req, struct _u_response *resp, void *data)
{
    cb_ctx *ctx = cb_ctx_of(req, resp);
    const cb_resource *res = data;
    void *current = new_row(res->model), *row = new_row(res->model);
    int ret = U_CALLBACK_COMPLETE;
    json_t *body = NULL;
    if (!load_item(ctx, res, current, &ret) || !(body = cb_request_json_or_reply(ctx)))
        goto done;
    cb_errors errs = {0};
    cb_rc rc = cb_row_from_json(res->model, body, res->accept[CB_ACT_UPDATE], false, row, &errs);
    bool changes = (((cb_row *)row)->set & ~UINT64_C(1)) != 0;
    if (rc == CB_OK && changes) {
        cb_row_set_int(res->model, row, 0, cb_row_id(current));
        rc = write_in_tx(ctx, res, CB_HOOK_BEFORE_UPDATE, row, &errs, cb_row_update);
        if (rc == CB_CONFLICT && !errs.fields)
            name_conflicts(ctx, res->model, row, &errs);
    }
    if (rc != CB_OK)
        ret = cb_reply_rc(ctx, rc, &errs);
    else
        ret = cb_reply_json(ctx, 200, cb_row_to_json(res->model, changes ? row : current));
    cb_errors_clear(&errs);
done:
    json_decref(body);
    free_row(res->model, current);
    free_row(res->model, row);
    return ret;
}

int cb_api_delete(const struct _u_request *req, struct _u_response *resp, void *data)
{
    cb_ctx *ctx = cb_ctx_of(req, resp);
    const cb_resource *res = data;
    void *row = new_row(res->model);
    int ret;
    if (load_item(ctx, res, row, &ret)) {
        cb_errors errs = {0};
        cb_rc rc = write_in_tx(ctx, res, CB_HOOK_BEFORE_DELETE, row, &errs, delete_row);
        ret = rc == CB_OK ? cb_reply_empty(ctx, 204) : cb_reply_rc(ctx, rc, &errs);
        cb_errors_clear(&errs);
    }
    free_row(res->model, row);
    return ret;
}

int cb_api_route(const struct _u_request *req, struct _u_response *resp, void *data)
{
    cb_ctx *ctx = cb_ctx_of(req, resp);
    const cb_route_desc *route = data;
    int ret;
    if (!allowed_or_reply(ctx, route->auth, &ret))
        return ret;
    return route->handler(ctx);
}
