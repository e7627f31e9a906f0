/*
 * model.h — the contract between generated code and the runtime for models.
 *
 * chatbot-gen emits, per model: a struct whose first member is a cb_row,
 * a static const cb_model descriptor (field table + SQL strings), and thin
 * typed wrappers over the generic functions below. The runtime (src/db/row.c,
 * src/db/dao.c, src/db/json.c) walks the descriptor: it never sees a model by
 * name, and the generator never writes logic that the runtime could own.
 *
 * Storage classes in the struct: CB_T_ID, CB_T_INT, CB_T_BOOL, CB_T_REF and
 * CB_T_TIMESTAMP are int64_t (timestamps are milliseconds since the epoch,
 * UTC); CB_T_TEXT, CB_T_EMAIL, CB_T_ENUM and CB_T_JSON are char * owned by
 * the row (malloc'd, freed by cb_row_clear). A field whose bit is set in
 * row->null is SQL NULL / JSON null and its value is 0 or NULL.
 *
 * Allocation failure aborts the process (see docs/architecture.md); every
 * other failure is returned as a cb_rc.
 */
#ifndef CB_DB_MODEL_H
#define CB_DB_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <jansson.h>
#include <sqlite3.h>

#include "util/buf.h"

typedef enum cb_rc {
    CB_OK = 0,
    CB_NOTFOUND,        /* no such row (or not the caller's) */
    CB_INVALID,         /* validation failed: see cb_errors */
    CB_CONFLICT,        /* unique constraint */
    CB_CONSTRAINT,      /* foreign key, check or NOT NULL constraint */
    CB_BUSY,            /* database locked beyond busy_timeout */
    CB_TOOBIG,          /* over a size limit */
    CB_ERROR            /* anything else; already logged */
} cb_rc;

typedef enum cb_type {
    CB_T_ID, CB_T_INT, CB_T_BOOL, CB_T_TEXT, CB_T_EMAIL,
    CB_T_TIMESTAMP, CB_T_ENUM, CB_T_JSON, CB_T_REF
} cb_type;

enum cb_field_flag {
    CB_F_OPTIONAL = 1 << 0,     /* NULL allowed */
    CB_F_UNIQUE = 1 << 1,
    CB_F_HIDDEN = 1 << 2,       /* never serialised to JSON, never accepted */
    CB_F_DEFAULT = 1 << 3,      /* the column has a default: may be omitted on insert */
    CB_F_DEFAULT_NOW = 1 << 4,  /* timestamp defaulting to now (filled in by the runtime) */
    CB_F_UPDATE_NOW = 1 << 5,   /* timestamp set to now on every update */
    CB_F_HAS_MIN = 1 << 6,
    CB_F_HAS_MAX = 1 << 7
};

typedef struct cb_field {
    const char *name;           /* JSON key and column name */
    cb_type type;
    unsigned flags;             /* cb_field_flag bits */
    size_t offset;              /* offsetof() the value in the model struct */
    int64_t min, max;           /* INT: value range; TEXT: length range in characters
                                   (max = text(N), min from min()); EMAIL: max 254 */
    const char *const *enum_values;   /* ENUM: NULL-terminated list */
    const char *default_json;   /* the default as JSON text ("0", "true", "\"x\""), or NULL;
                                   used by OpenAPI-free code paths and documentation */
    /* SELECT ... WHERE <name> = ?1 for a unique field, or NULL. Statement id
       for the per-connection cache (see cb_db_stmt). */
    const char *sql_get_by;
    int stmt_get_by;
} cb_field;

/* Every generated model struct starts with this. Bit i refers to fields[i]. */
typedef struct cb_row {
    uint64_t set;       /* field carries a value (from JSON or from the database) */
    uint64_t null;      /* field is NULL */
} cb_row;

#define CB_MAX_FIELDS 64

typedef struct cb_model {
    const char *name;           /* "conversation" */
    const char *table;          /* "conversations" */
    size_t size;                /* sizeof the struct */
    const cb_field *fields;     /* fields[0] is the id */
    unsigned n_fields;
    /* SQL (the same strings as cb_stmt_sql[stmt_*]); k = 1..n runs over the
       non-id columns in field order; the runtime binds every parameter:
       insert:  INSERT INTO t (c1, .., cn) VALUES
                (CASE WHEN ?(2k-1) THEN ?(2k) ELSE <column default or NULL> END, ..)
                RETURNING <every column>
                ?(2k-1) is 1 when the field is set, else 0. Before binding, the
                runtime sets unset CB_F_DEFAULT_NOW and CB_F_UPDATE_NOW fields
                to cb_now_ms(), so one row's timestamps agree.
       get:     SELECT <every column> FROM t WHERE id = ?1
       update:  UPDATE t SET ck = CASE WHEN ?(2k) THEN ?(2k+1) ELSE ck END, ..
                WHERE id = ?1 RETURNING <every column>
                (CB_F_UPDATE_NOW fields are set to now by the runtime)
       delete:  DELETE FROM t WHERE id = ?1
       <every column> is the column list in field order, id first. */
    const char *sql_insert, *sql_get, *sql_update, *sql_delete;
    int stmt_insert, stmt_get, stmt_update, stmt_delete;
    /* Full-text search (model declares search(...)), else NULL / -1:
       SELECT <every column>,
         (SELECT snippet(<fts>, -1, char(2), char(3), '…', 12) FROM <fts>
          WHERE <fts> MATCH '{<f1> <f2>…} : (' || ?1 || ')' AND <fts>.rowid = h.rid),
         h.score
       FROM (SELECT rowid AS rid, bm25(<fts>[, 1.0…, 0.0]) AS score FROM <fts>
             WHERE <fts> MATCH '[<scope> : "' || CAST(?2 AS INTEGER) || '" AND ]'
                               '{<f1> <f2>…} : (' || ?1 || ')'
             ORDER BY score, rowid LIMIT ?3) AS h
       JOIN t ON t.id = h.rid [AND t.<scope> = ?2] ORDER BY h.score, t.id
       ?1 is the user's query from cb_fts_query, ?2 the scope. A scoped
       model's <fts> indexes the scope column after the searched ones, so
       FTS5 itself keeps to the scope (weighted 0 in bm25). The snippet
       marks matches with \x02 ... \x03 (turned into offsets by the runtime). */
    const char *sql_search;
    int stmt_search;
    int search_scope_field;     /* index of the scope field, or -1 */
} cb_model;

/* Per-field validation messages: {"field": "message"}; owns a json_t object. */
typedef struct cb_errors {
    json_t *fields;             /* NULL until the first error */
} cb_errors;

void cb_errors_add(cb_errors *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cb_errors_clear(cb_errors *e);

/* A database connection with its prepared statement cache (src/db/db.h). */
typedef struct cb_db cb_db;

/* A page of rows (defined below with the list functions). */
typedef struct cb_rows cb_rows;

/* --- rows --------------------------------------------------------------- */

void cb_row_init(const cb_model *m, void *row);         /* zero, nothing set */
void cb_row_clear(const cb_model *m, void *row);        /* free strings, zero */
int64_t cb_row_id(const void *row);                     /* fields[0] */
int64_t cb_row_int(const cb_model *m, const void *row, unsigned field);
const char *cb_row_text(const cb_model *m, const void *row, unsigned field);
/* Setters copy the value and mark the field set and not null. */
void cb_row_set_int(const cb_model *m, void *row, unsigned field, int64_t v);
void cb_row_set_text(const cb_model *m, void *row, unsigned field, const char *v);
void cb_row_set_null(const cb_model *m, void *row, unsigned field);

/* --- JSON --------------------------------------------------------------- */

/* Serialises every set, non-hidden field. Timestamps become RFC 3339 UTC
   strings with milliseconds ("2026-12-04T18:00:25.123Z"), bools true/false,
   json fields their parsed value. Returns a new reference. */
json_t *cb_row_to_json(const cb_model *m, const void *row);

/* The same object written straight into a buffer as compact JSON (the
   bytes json_dumps(cb_row_to_json(...), JSON_COMPACT) gives), for lists. */
void cb_row_write_json(cb_buf *b, const cb_model *m, const void *row);
/* A JSON string literal of s (len bytes), escaped as jansson does. */
void cb_json_write_string(cb_buf *b, const char *s, size_t len);

/* Decodes a JSON object into row. `accepted` is a mask of field bits the
   caller may set; any other key is an "unknown field" error. Checks types,
   NUL characters, UTF-8, text length in characters, int range, enum values,
   email shape, null only on optional fields. When `require` is true every
   accepted field that is neither optional nor defaulted must be present
   (create); else absent fields stay unset (partial update). Returns CB_OK or
   CB_INVALID with every problem in errs (not just the first). */
cb_rc cb_row_from_json(const cb_model *m, const json_t *obj, uint64_t accepted,
                       bool require, void *row, cb_errors *errs);

/* --- DAO (all statements prepared once per connection and reset after use) */

cb_rc cb_row_insert(cb_db *db, const cb_model *m, void *row);   /* row updated from RETURNING */
cb_rc cb_row_get(cb_db *db, const cb_model *m, int64_t id, void *out);
cb_rc cb_row_get_by(cb_db *db, const cb_model *m, unsigned field, const void *key_row, void *out);
cb_rc cb_row_update(cb_db *db, const cb_model *m, void *row);   /* only set fields; row refreshed */
cb_rc cb_row_delete(cb_db *db, const cb_model *m, int64_t id);

/* Fills `out` from the current result row of `stmt`, columns starting at
   `first_col` in field order. */
void cb_row_from_stmt(const cb_model *m, sqlite3_stmt *stmt, int first_col, void *out);

/* Keyset pagination. Sort keys always end with the id. */
typedef struct cb_sort_key {
    int field;                  /* index into model->fields */
    bool desc;
} cb_sort_key;

/* A list query. The statements take ?1 = scope (owner) value and ?2 =
   parent value (bound always; NULL when has_* is false — the SQL only
   mentions them when the resource has an owner / a parent), ?3 = limit + 1,
   and (stmt_after only) ?4.. = the cursor's key values in sort order.
   stmt_first: SELECT <every column> FROM t [WHERE owner = ?1] [AND parent = ?2]
               ORDER BY k1 DESC|ASC, .., id DESC|ASC LIMIT ?3
   stmt_after: the same with the keyset condition for mixed directions:
               AND (k1 < ?4 OR (k1 = ?4 AND (k2 > ?5 OR (k2 = ?5 AND id < ?6))))
               (< for DESC keys, > for ASC keys). */
typedef struct cb_list_query {
    int stmt_first, stmt_after;
    const cb_sort_key *sort;
    unsigned n_sort;
    bool has_scope, has_parent;
    int64_t scope, parent;
    const char *cursor;         /* from the client; NULL for the first page */
    int limit;                  /* already range-checked by the caller */
} cb_list_query;

/* Runs a page. The cursor is opaque to clients (base64url of the last row's
   sort key values): a malformed one is CB_INVALID with errs["cursor"]. */
cb_rc cb_list_page(cb_db *db, const cb_model *m, const cb_list_query *q, cb_rows *out,
                   cb_errors *errs);

/* Many-to-many join tables: stmt ids of INSERT OR IGNORE INTO j (a, b)
   VALUES (?1, ?2) / DELETE FROM j WHERE a = ?1 AND b = ?2 /
   SELECT b FROM j WHERE a = ?1 ORDER BY b. */
cb_rc cb_join_add(cb_db *db, int stmt, int64_t a, int64_t b);
cb_rc cb_join_remove(cb_db *db, int stmt, int64_t a, int64_t b);
cb_rc cb_join_list(cb_db *db, int stmt, int64_t a, int64_t **out, size_t *n);

/* A page of rows: rows is an array of n structs of m->size bytes. */
typedef struct cb_rows {
    const cb_model *model;
    void *rows;
    size_t n;
    char *next_cursor;          /* NULL on the last page; malloc'd */
} cb_rows;

void cb_rows_free(cb_rows *r);

/* One search hit: the row plus a plain-text snippet with [start, end)
   character offsets of the matched terms. */
typedef struct cb_search_hit {
    char *snippet;
    size_t (*highlights)[2];
    size_t n_highlights;
    double rank;
} cb_search_hit;

typedef struct cb_search_result {
    cb_rows rows;
    cb_search_hit *hits;        /* n = rows.n */
} cb_search_result;

/* `query` is the user's text: the runtime turns it into a safe FTS5 query
   (every term quoted), so no input can be a syntax error. A scoped model
   finds only rows whose scope field equals `scope`; with scope < 0 it
   finds nothing (never everybody's rows). An unscoped model ignores it. */
cb_rc cb_row_search(cb_db *db, const cb_model *m, const char *query, int64_t scope,
                    int limit, cb_search_result *out);
void cb_search_result_free(cb_search_result *r);

/* RFC 3339 helpers shared by JSON and the CLI. */
int64_t cb_now_ms(void);
void cb_format_time(int64_t ms, char out[32]);
bool cb_parse_time(const char *s, int64_t *ms);

#endif
