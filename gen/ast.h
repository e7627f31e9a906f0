/*
 * ast.h — the parsed schema, shared by the parser, the checker and every
 * emitter of chatbot-gen.
 *
 * The parser builds it; the checker validates it and resolves names (ref
 * targets, resource models, owner fields) into pointers; emitters only read
 * it. Every node remembers where it came from (struct gen_pos) so that any
 * stage can report `file:line:col: message`.
 *
 * Ownership: one arena per schema (gen_schema.arena); every string and node
 * is allocated from it and freed with gen_schema_free(). Lists are plain
 * arrays (pointer + count) grown by the parser; their order is the order of
 * the source text, which keeps every emitter deterministic.
 */
#ifndef GEN_AST_H
#define GEN_AST_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef struct gen_pos {
    const char *file;
    int line, col;              /* 1-based */
} gen_pos;

typedef enum gen_type {
    GT_ID,          /* INTEGER PRIMARY KEY, exactly one per model, named "id" */
    GT_INT,         /* 64-bit integer, optional min()/max() */
    GT_BOOL,
    GT_TEXT,        /* text(max): max length in Unicode characters */
    GT_EMAIL,       /* text of at most 254 characters shaped local@domain.tld */
    GT_TIMESTAMP,   /* stored as INTEGER milliseconds since the epoch, UTC */
    GT_ENUM,        /* enum(a, b, c): stored as TEXT */
    GT_JSON,        /* arbitrary JSON value stored as TEXT */
    GT_REF,         /* ref(model): INTEGER foreign key to model.id */
    GT_MANY         /* many(model) through(join_table): no column; a join table */
} gen_type;

typedef enum gen_on_delete {
    GOD_NONE,       /* not given: NO ACTION */
    GOD_CASCADE,
    GOD_RESTRICT,
    GOD_SET_NULL    /* only on optional refs */
} gen_on_delete;

typedef enum gen_default_kind {
    GD_NONE,
    GD_INT,         /* int, timestamp (ms) */
    GD_BOOL,
    GD_STRING,      /* text, email, json (the JSON text) */
    GD_IDENT,       /* enum value */
    GD_NOW          /* timestamp: current time */
} gen_default_kind;

typedef struct gen_default {
    gen_default_kind kind;
    int64_t i;              /* GD_INT, GD_BOOL (0/1) */
    const char *s;          /* GD_STRING, GD_IDENT */
    gen_pos pos;
} gen_default;

struct gen_model;

typedef struct gen_field {
    const char *name;
    gen_pos pos;
    gen_type type;
    gen_pos type_pos;
    int64_t text_max;           /* GT_TEXT: the max length; GT_EMAIL: 254 */
    bool has_min, has_max;      /* GT_INT: value range; GT_TEXT: min length */
    int64_t min, max;
    const char **enum_values;   /* GT_ENUM */
    size_t n_enum_values;
    const char *ref_name;       /* GT_REF, GT_MANY: target model name as written */
    struct gen_model *ref;      /* resolved by the checker */
    const char *through;        /* GT_MANY: join table name */
    gen_on_delete on_delete;
    bool optional;              /* NULL allowed */
    bool unique;
    bool hidden;                /* never serialised to JSON */
    bool on_update_now;         /* timestamp set to now on every update */
    gen_default def;
    const char *renamed_from;   /* migration hint, or NULL */
    gen_pos renamed_pos;
} gen_field;

typedef struct gen_index {
    const char **fields;
    size_t n_fields;
    bool unique;
    gen_pos pos;
} gen_index;

typedef struct gen_model {
    const char *name;           /* singular, e.g. "conversation" */
    const char *table;          /* `table` statement, or the name */
    gen_pos pos;
    gen_field *fields;
    size_t n_fields;
    gen_index *indexes;
    size_t n_indexes;
    const char **search_fields; /* search(...) : FTS5 columns, or none */
    size_t n_search_fields;
    const char *search_scope;   /* search(...) scope field, or NULL */
    gen_pos search_pos;
    const char *renamed_from;   /* migration hint: old table name, or NULL */
} gen_model;

typedef enum gen_auth {
    GA_PUBLIC,
    GA_USER,
    GA_ADMIN
} gen_auth;

/* Bit per CRUD action. */
enum {
    GACT_LIST = 1 << 0,
    GACT_GET = 1 << 1,
    GACT_CREATE = 1 << 2,
    GACT_UPDATE = 1 << 3,
    GACT_DELETE = 1 << 4
};

typedef struct gen_sort_key {
    const char *field;
    bool desc;
    gen_pos pos;
} gen_sort_key;

typedef enum gen_hook_event {
    GH_BEFORE_CREATE,
    GH_AFTER_CREATE,
    GH_BEFORE_UPDATE,
    GH_AFTER_UPDATE,
    GH_BEFORE_DELETE,
    GH_AFTER_DELETE,
    GH_COUNT
} gen_hook_event;

typedef struct gen_hook {
    gen_hook_event event;
    const char *function;       /* C function name defined in src/ */
    gen_pos pos;
} gen_hook;

/* A hand-written endpoint: `route METHOD "/sub" handler [auth LEVEL] ...` */
typedef struct gen_route {
    const char *method;         /* GET POST PUT PATCH DELETE */
    const char *subpath;        /* appended to the resource path, may be "" */
    const char *handler;        /* C function name defined in src/ */
    gen_auth auth;
    bool auth_given;            /* else inherits the resource's */
    const char *summary;        /* for OpenAPI, may be NULL */
    const char *body_model;     /* `body model(f1, f2)`: request fields, may be NULL */
    const char **body_fields;
    size_t n_body_fields;
    const char *returns_model;  /* `returns model`: 2xx body is that model, may be NULL */
    int status;                 /* success status, default 200 */
    gen_pos pos;
} gen_route;

typedef struct gen_resource {
    const char *name;
    gen_pos pos;
    const char *path;           /* e.g. "/api/v1/conversations" */
    gen_pos path_pos;
    const char *model_name;     /* NULL when the resource has only routes */
    gen_model *model;           /* resolved */
    gen_auth auth;              /* default GA_USER */
    const char *owner;          /* owner field (ref to the users model), or NULL */
    const char *parent_field;   /* `parent FIELD RESOURCE`: path param {FIELD} */
    const char *parent_resource;
    struct gen_resource *parent;
    unsigned actions;           /* GACT_* bits */
    const char **accept[5];     /* accepted fields per action, index = log2(GACT_*) */
    size_t n_accept[5];
    gen_sort_key *sort;
    size_t n_sort;
    int64_t page_default, page_max;   /* default 50 and 200 */
    gen_hook *hooks;
    size_t n_hooks;
    gen_route *routes;
    size_t n_routes;
    /* Where each item was written, for diagnostics (line 0: not given). */
    gen_pos model_pos, owner_pos, parent_pos, actions_pos, page_pos;
    gen_pos accept_pos[5];
} gen_resource;

typedef struct gen_arena gen_arena;

typedef struct gen_schema {
    const char *file;           /* path as given */
    gen_model *models;
    size_t n_models;
    gen_resource *resources;
    size_t n_resources;
    gen_arena *arena;
} gen_schema;

void gen_schema_free(gen_schema *s);

/* Lookups used by the checker and emitters; NULL when absent. */
gen_model *gen_find_model(const gen_schema *s, const char *name);
gen_field *gen_find_field(const gen_model *m, const char *name);
gen_resource *gen_find_resource(const gen_schema *s, const char *name);

#endif
