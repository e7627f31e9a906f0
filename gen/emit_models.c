/*
 * emit_models.c — writes sql.h, sql.c, models.h and models.c: the statement
 * table, one struct + field table + cb_model descriptor per model, and the
 * thin typed wrappers over the generic runtime of src/db/model.h.
 *
 * Every SQL shape written here is specified in src/db/model.h (cb_model,
 * cb_field.sql_get_by, cb_list_query, cb_join_*); the runtime binds the
 * parameters by position, so a change of shape is a change of that contract.
 * Statements are enumerated by one walk (each_stmt) that all four files
 * share, so an id and its SQL cannot drift apart. The list queries of the
 * resources live here too because their ids belong to the same enum.
 */
#include "emit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

/* The expression default(now) stands for, in the DDL as here. */
#define SQL_NOW_MS "(CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER))"

/* Width after which a generated SQL literal is continued on a new line. */
#define SQL_WRAP 72

static bool has_column(const gen_field *f)
{
    return f->type != GT_MANY;
}

/* The index of f in the model's column list (= cb_model.fields). */
static int column_index(const gen_model *m, const char *name)
{
    int k = 0;
    for (size_t i = 0; i < m->n_fields; i++) {
        if (!has_column(&m->fields[i]))
            continue;
        if (strcmp(m->fields[i].name, name) == 0)
            return k;
        k++;
    }
    return -1;
}

/* --- SQL text ------------------------------------------------------------ */

static void put_sql_string(gen_buf *b, const char *s)
{
    gen_buf_put(b, "'");
    for (const char *q; (q = strchr(s, '\'')) != NULL; s = q + 1) {
        gen_buf_putn(b, s, (size_t)(q - s));
        gen_buf_put(b, "''");
    }
    gen_buf_put(b, s);
    gen_buf_put(b, "'");
}

/* The value an insert stores when the field is not set. */
static void put_sql_default(gen_buf *b, const gen_field *f)
{
    switch (f->def.kind) {
    case GD_INT:
    case GD_BOOL:
        gen_buf_printf(b, "%" PRId64, f->def.i);
        break;
    case GD_STRING:
    case GD_IDENT:
        put_sql_string(b, f->def.s);
        break;
    case GD_NOW:
        gen_buf_put(b, SQL_NOW_MS);
        break;
    case GD_NONE:
        gen_buf_put(b, "NULL");
        break;
    }
}

/* "id, title, ..." in field order; `qual` prefixes each ("notes."). */
static void put_columns(gen_buf *b, const gen_model *m, const char *qual)
{
    const char *sep = "";
    for (size_t i = 0; i < m->n_fields; i++) {
        if (!has_column(&m->fields[i]))
            continue;
        gen_buf_printf(b, "%s%s%s", sep, qual, m->fields[i].name);
        sep = ", ";
    }
}

static void sql_insert(gen_buf *b, const gen_model *m)
{
    gen_buf_printf(b, "INSERT INTO %s (", m->table);
    const char *sep = "";
    for (size_t i = 0; i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (has_column(f) && f->type != GT_ID) {
            gen_buf_printf(b, "%s%s", sep, f->name);
            sep = ", ";
        }
    }
    gen_buf_put(b, ") VALUES (");
    sep = "";
    int k = 1;
    for (size_t i = 0; i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (!has_column(f) || f->type == GT_ID)
            continue;
        gen_buf_printf(b, "%sCASE WHEN ?%d THEN ?%d ELSE ", sep, 2 * k - 1, 2 * k);
        put_sql_default(b, f);
        gen_buf_put(b, " END");
        sep = ", ";
        k++;
    }
    gen_buf_put(b, ") RETURNING ");
    put_columns(b, m, "");
}

static void sql_get(gen_buf *b, const gen_model *m, const char *key)
{
    gen_buf_put(b, "SELECT ");
    put_columns(b, m, "");
    gen_buf_printf(b, " FROM %s WHERE %s = ?1", m->table, key);
}

static void sql_update(gen_buf *b, const gen_model *m)
{
    gen_buf_printf(b, "UPDATE %s SET ", m->table);
    const char *sep = "";
    int k = 1;
    for (size_t i = 0; i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (!has_column(f) || f->type == GT_ID)
            continue;
        gen_buf_printf(b, "%s%s = CASE WHEN ?%d THEN ?%d ELSE %s END", sep, f->name, 2 * k,
                       2 * k + 1, f->name);
        sep = ", ";
        k++;
    }
    gen_buf_put(b, " WHERE id = ?1 RETURNING ");
    put_columns(b, m, "");
}

/* The FTS5 query of a search: the user's query (?1, quoted phrases from
   cb_fts_query) confined to the searched columns, so no text can address
   the scope column; with `scoped`, ANDed with the scope column filter on
   ?2, which the SQL casts to an integer so only digits reach FTS5. FTS5
   then intersects doclists: no row of another scope is ever looked at. */
static void put_match(gen_buf *b, const gen_model *m, bool scoped)
{
    gen_buf_put(b, "'");
    if (scoped)
        gen_buf_printf(b, "%s : \"' || CAST(?2 AS INTEGER) || '\" AND ", m->search_scope);
    gen_buf_put(b, "{");
    for (size_t i = 0; i < m->n_search_fields; i++)
        gen_buf_printf(b, "%s%s", i ? " " : "", m->search_fields[i]);
    gen_buf_put(b, "} : (' || ?1 || ')'");
}

/* The best ?3 hits are chosen from the FTS index alone (bm25, the scope
   column weighted 0); only they are read from the table, with the scope
   checked again, and only they get a snippet (from a MATCH without the
   scope filter, so snippet() never picks the scope column). */
static void sql_search(gen_buf *b, const gen_model *m)
{
    gen_name fts_name = gen_fts_table(m);
    const char *fts = fts_name.s;
    char qual[GEN_NAME_MAX + 1];
    snprintf(qual, sizeof qual, "%s.", m->table);
    gen_buf_put(b, "SELECT ");
    put_columns(b, m, qual);
    gen_buf_printf(b, ", (SELECT snippet(%s, -1, char(2), char(3), '\xe2\x80\xa6', 12) FROM %s"
                   " WHERE %s MATCH ", fts, fts, fts);
    put_match(b, m, false);
    gen_buf_printf(b, " AND %s.rowid = h.rid), h.score FROM (SELECT rowid AS rid, bm25(%s",
                   fts, fts);
    for (size_t i = 0; m->search_scope && i < m->n_search_fields; i++)
        gen_buf_put(b, ", 1.0");
    if (m->search_scope)
        gen_buf_put(b, ", 0.0");
    gen_buf_printf(b, ") AS score FROM %s WHERE %s MATCH ", fts, fts);
    put_match(b, m, m->search_scope != NULL);
    gen_buf_printf(b, " ORDER BY score, rowid LIMIT ?3) AS h JOIN %s ON %s.id = h.rid",
                   m->table, m->table);
    if (m->search_scope)
        gen_buf_printf(b, " AND %s.%s = ?2", m->table, m->search_scope);
    gen_buf_printf(b, " ORDER BY h.score, %s.id", m->table);
}

/* The keyset condition after the cursor: param ?4 is the first key's.
   `reverse` walks the declared order backwards. */
static void put_keyset(gen_buf *b, const gen_resource *r, size_t i, bool reverse)
{
    gen_sort_key k = gen_sort_at(r, i);
    const char *op = k.desc != reverse ? "<" : ">";
    int p = 4 + (int)i;
    if (i + 1 == gen_sort_count(r)) {
        gen_buf_printf(b, "%s %s ?%d", k.field, op, p);
        return;
    }
    gen_buf_printf(b, "(%s %s ?%d OR (%s = ?%d AND ", k.field, op, p, k.field, p);
    put_keyset(b, r, i + 1, reverse);
    gen_buf_put(b, "))");
}

static void sql_list(gen_buf *b, const gen_resource *r, bool after, bool reverse)
{
    const gen_model *m = r->model;
    const char *glue = " WHERE ";
    gen_buf_put(b, "SELECT ");
    put_columns(b, m, "");
    gen_buf_printf(b, " FROM %s", m->table);
    if (r->owner) {
        gen_buf_printf(b, "%s%s = ?1", glue, r->owner);
        glue = " AND ";
    }
    if (r->parent_field) {
        gen_buf_printf(b, "%s%s = ?2", glue, r->parent_field);
        glue = " AND ";
    }
    if (after) {
        gen_buf_put(b, glue);
        put_keyset(b, r, 0, reverse);
    }
    gen_buf_put(b, " ORDER BY ");
    for (size_t i = 0; i < gen_sort_count(r); i++) {
        gen_sort_key k = gen_sort_at(r, i);
        gen_buf_printf(b, "%s%s %s", i ? ", " : "", k.field, k.desc != reverse ? "DESC" : "ASC");
    }
    gen_buf_put(b, " LIMIT ?3");
}

/* --- the statement walk --------------------------------------------------- */

/* Called once per statement, in enum order, with its lower-case name
   ("note_insert": the enum constant is CB_STMT_NOTE_INSERT, the string
   cb_sql_note_insert) and its SQL. */
typedef void (*stmt_fn)(gen_buf *out, const char *name, const char *sql);

typedef struct stmt_walk {
    gen_buf *out;
    stmt_fn fn;
    gen_buf name, sql;
} stmt_walk;

static void walk_emit(stmt_walk *w)
{
    w->fn(w->out, gen_cstr(&w->name), gen_cstr(&w->sql));
    w->name.len = 0;
    w->sql.len = 0;
}

static void walk_model(stmt_walk *w, const gen_model *m)
{
    gen_buf_printf(&w->name, "%s_insert", m->name);
    sql_insert(&w->sql, m);
    walk_emit(w);
    gen_buf_printf(&w->name, "%s_get", m->name);
    sql_get(&w->sql, m, "id");
    walk_emit(w);
    gen_buf_printf(&w->name, "%s_update", m->name);
    sql_update(&w->sql, m);
    walk_emit(w);
    gen_buf_printf(&w->name, "%s_delete", m->name);
    gen_buf_printf(&w->sql, "DELETE FROM %s WHERE id = ?1", m->table);
    walk_emit(w);
    for (size_t i = 0; i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (f->unique && has_column(f) && f->type != GT_ID) {
            gen_buf_printf(&w->name, "%s_get_by_%s", m->name, f->name);
            sql_get(&w->sql, m, f->name);
            walk_emit(w);
        }
    }
    if (m->n_search_fields) {
        gen_buf_printf(&w->name, "%s_search", m->name);
        sql_search(&w->sql, m);
        walk_emit(w);
    }
    for (size_t i = 0; i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (f->type != GT_MANY)
            continue;
        gen_name acol = gen_join_column(m), bcol_name = gen_join_column(f->ref);
        const char *a = acol.s, *bcol = bcol_name.s;
        gen_buf_printf(&w->name, "%s_%s_add", m->name, f->name);
        gen_buf_printf(&w->sql, "INSERT OR IGNORE INTO %s (%s, %s) VALUES (?1, ?2)", f->through,
                       a, bcol);
        walk_emit(w);
        gen_buf_printf(&w->name, "%s_%s_remove", m->name, f->name);
        gen_buf_printf(&w->sql, "DELETE FROM %s WHERE %s = ?1 AND %s = ?2", f->through, a, bcol);
        walk_emit(w);
        gen_buf_printf(&w->name, "%s_%s_list", m->name, f->name);
        gen_buf_printf(&w->sql, "SELECT %s FROM %s WHERE %s = ?1 ORDER BY %s", bcol, f->through,
                       a, bcol);
        walk_emit(w);
    }
}

static void each_stmt(const gen_schema *s, gen_buf *out, stmt_fn fn)
{
    stmt_walk w = {.out = out, .fn = fn};
    for (size_t i = 0; i < s->n_models; i++)
        walk_model(&w, &s->models[i]);
    for (size_t i = 0; i < s->n_resources; i++) {
        const gen_resource *r = &s->resources[i];
        if (!r->model || !(r->actions & GACT_LIST))
            continue;
        for (int reverse = 0; reverse <= 1; reverse++) {
            const char *suffix = reverse ? "_rev" : "";
            gen_buf_printf(&w.name, "%s_list_first%s", r->name, suffix);
            sql_list(&w.sql, r, false, reverse);
            walk_emit(&w);
            gen_buf_printf(&w.name, "%s_list_after%s", r->name, suffix);
            sql_list(&w.sql, r, true, reverse);
            walk_emit(&w);
        }
    }
    gen_buf_free(&w.name);
    gen_buf_free(&w.sql);
}

static void put_enum_line(gen_buf *out, const char *name, const char *sql)
{
    (void)sql;
    gen_buf_printf(out, "    CB_STMT_%s,\n", gen_upper(name).s);
}

static void put_extern_line(gen_buf *out, const char *name, const char *sql)
{
    (void)sql;
    gen_buf_printf(out, "extern const char cb_sql_%s[];\n", name);
}

static void put_sql_def(gen_buf *out, const char *name, const char *sql)
{
    gen_buf_printf(out, "const char cb_sql_%s[] =\n    ", name);
    gen_put_c_literal(out, sql, "    ", SQL_WRAP);
    gen_buf_put(out, ";\n\n");
}

static void put_table_line(gen_buf *out, const char *name, const char *sql)
{
    (void)sql;
    gen_buf_printf(out, "    [CB_STMT_%s] = cb_sql_%s,\n", gen_upper(name).s, name);
}

static void emit_sql_h(const gen_schema *s, const char *source, gen_outset *o)
{
    gen_buf *b = gen_out_file(o, "sql.h");
    gen_buf_header(b, "c", source);
    gen_buf_put(b,
        "/*\n"
        " * sql.h — the id of every SQL statement (its index in cb_stmt_sql[] and\n"
        " * in each connection's statement cache) and the statement strings.\n"
        " */\n"
        "#ifndef CB_GEN_SQL_H\n"
        "#define CB_GEN_SQL_H\n"
        "\n"
        "#include \"db/db.h\"\n"
        "\n"
        "enum cb_stmt_id {\n");
    each_stmt(s, b, put_enum_line);
    gen_buf_put(b, "    CB_STMT_COUNT\n};\n\n");
    each_stmt(s, b, put_extern_line);
    gen_buf_put(b, "\n#endif\n");
}

static void emit_sql_c(const gen_schema *s, const char *source, gen_outset *o)
{
    gen_buf *b = gen_out_file(o, "sql.c");
    gen_buf_header(b, "c", source);
    gen_buf_put(b,
        "/*\n"
        " * sql.c — the SQL of every statement, indexed by enum cb_stmt_id. The\n"
        " * shapes and their parameters are specified in src/db/model.h.\n"
        " */\n"
        "#include \"sql.h\"\n"
        "\n"
        "#include <stddef.h>\n"
        "\n");
    each_stmt(s, b, put_sql_def);
    gen_buf_put(b, "/* One NULL past the last id, so the table is never empty. */\n"
                   "const char *const cb_stmt_sql[] = {\n");
    each_stmt(s, b, put_table_line);
    gen_buf_put(b, "    [CB_STMT_COUNT] = NULL,\n};\n\n"
                   "const int cb_stmt_count = CB_STMT_COUNT;\n");
}

/* --- models.h --------------------------------------------------------------- */

static const char *c_type(gen_type t)
{
    switch (t) {
    case GT_TEXT:
    case GT_EMAIL:
    case GT_ENUM:
    case GT_JSON:
        return "char *";
    default:
        return "int64_t ";
    }
}

static void put_wrapper(gen_buf *b, const char *ret, const char *name, const char *params,
                        const char *body)
{
    gen_buf_printf(b, "static inline %s%s(%s)\n{\n    %s;\n}\n\n", ret, name, params, body);
}

/* The typed wrappers: each one line over the generic runtime. */
static void put_wrappers(gen_buf *b, const gen_model *m)
{
    const char *n = m->name;
    char fn[256], params[256], body[512];
    /* p and the body take the model name once; "%.0s" swallows it where a
       parameter list does not mention the struct. */
#define WRAP(ret, suffix, p, ...) do { \
        snprintf(fn, sizeof fn, "cb_%s_%s", n, suffix); \
        snprintf(params, sizeof params, p, n); \
        snprintf(body, sizeof body, __VA_ARGS__); \
        put_wrapper(b, ret, fn, params, body); \
    } while (0)
    WRAP("void ", "init", "cb_%s *row", "cb_row_init(&cb_model_%s, row)", n);
    WRAP("void ", "clear", "cb_%s *row", "cb_row_clear(&cb_model_%s, row)", n);
    WRAP("cb_rc ", "insert", "cb_db *db, cb_%s *row",
         "return cb_row_insert(db, &cb_model_%s, row)", n);
    WRAP("cb_rc ", "get", "cb_db *db, int64_t id, cb_%s *out",
         "return cb_row_get(db, &cb_model_%s, id, out)", n);
    WRAP("cb_rc ", "update", "cb_db *db, cb_%s *row",
         "return cb_row_update(db, &cb_model_%s, row)", n);
    WRAP("cb_rc ", "delete", "cb_db *db, int64_t id%.0s",
         "return cb_row_delete(db, &cb_model_%s, id)", n);
    WRAP("json_t *", "to_json", "const cb_%s *row", "return cb_row_to_json(&cb_model_%s, row)", n);
    WRAP("cb_rc ", "from_json",
         "const json_t *obj, uint64_t accepted, bool require, cb_%s *row, cb_errors *errs",
         "return cb_row_from_json(&cb_model_%s, obj, accepted, require, row, errs)", n);
    if (m->n_search_fields)
        WRAP("cb_rc ", "search",
             "cb_db *db, const char *query, int64_t scope, int limit, cb_search_result *out%.0s",
             "return cb_row_search(db, &cb_model_%s, query, scope, limit, out)", n);
#undef WRAP
    for (size_t i = 0; i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (f->unique && has_column(f) && f->type != GT_ID) {
            bool text = c_type(f->type)[0] == 'c';
            gen_buf_printf(b,
                "static inline cb_rc cb_%s_get_by_%s(cb_db *db, %svalue, cb_%s *out)\n{\n"
                "    cb_%s key = {.hdr = {.set = CB_%s_F_%s}, .%s = %svalue};\n"
                "    return cb_row_get_by(db, &cb_model_%s, CB_%s_%s, &key, out);\n}\n\n",
                n, f->name, text ? "const char *" : "int64_t ", n,
                n, gen_upper(n).s, gen_upper(f->name).s, f->name, text ? "(char *)" : "",
                n, gen_upper(n).s, gen_upper(f->name).s);
        }
        if (f->type == GT_MANY) {
            const char *t = f->ref->name;
            gen_name S = gen_upper(n), F = gen_upper(f->name);
            gen_buf_printf(b,
                "static inline cb_rc cb_%s_%s_add(cb_db *db, int64_t id, int64_t %s_id)\n{\n"
                "    return cb_join_add(db, CB_STMT_%s_%s_ADD, id, %s_id);\n}\n\n",
                n, f->name, t, S.s, F.s, t);
            gen_buf_printf(b,
                "static inline cb_rc cb_%s_%s_remove(cb_db *db, int64_t id, int64_t %s_id)\n{\n"
                "    return cb_join_remove(db, CB_STMT_%s_%s_REMOVE, id, %s_id);\n}\n\n",
                n, f->name, t, S.s, F.s, t);
            gen_buf_printf(b,
                "static inline cb_rc cb_%s_%s_list(cb_db *db, int64_t id, int64_t **%s_ids, "
                "size_t *n)\n{\n"
                "    return cb_join_list(db, CB_STMT_%s_%s_LIST, id, %s_ids, n);\n}\n\n",
                n, f->name, t, S.s, F.s, t);
        }
    }
}

static void put_model_h(gen_buf *b, const gen_model *m)
{
    const char *n = m->name;
    gen_name N = gen_upper(n);
    gen_buf_printf(b, "/* --- %s (table %s) */\n\n", n, m->table);
    gen_buf_printf(b, "typedef struct cb_%s {\n    cb_row hdr;\n", n);
    for (size_t i = 0; i < m->n_fields; i++)
        if (has_column(&m->fields[i]))
            gen_buf_printf(b, "    %s%s;\n", c_type(m->fields[i].type), m->fields[i].name);
    gen_buf_printf(b, "} cb_%s;\n\n", n);

    gen_buf_printf(b, "/* Field indexes in cb_model_%s.fields and bits of cb_row.set/null. */\n"
                      "enum cb_%s_field {\n", n, n);
    for (size_t i = 0; i < m->n_fields; i++)
        if (has_column(&m->fields[i]))
            gen_buf_printf(b, "    CB_%s_%s,\n", N.s, gen_upper(m->fields[i].name).s);
    gen_buf_put(b, "};\n\n");
    for (size_t i = 0; i < m->n_fields; i++) {
        if (!has_column(&m->fields[i]))
            continue;
        gen_name F = gen_upper(m->fields[i].name);
        gen_buf_printf(b, "#define CB_%s_F_%s (UINT64_C(1) << CB_%s_%s)\n", N.s, F.s, N.s, F.s);
    }
    gen_buf_printf(b, "\nextern const cb_model cb_model_%s;\n\n", n);
    put_wrappers(b, m);
}

static void emit_models_h(const gen_schema *s, const char *source, gen_outset *o)
{
    gen_buf *b = gen_out_file(o, "models.h");
    gen_buf_header(b, "c", source);
    gen_buf_put(b,
        "/*\n"
        " * models.h — one struct per model (a cb_row header, then the columns in\n"
        " * field order), its field indexes and masks, its descriptor, and typed\n"
        " * wrappers over the generic runtime of src/db/model.h.\n"
        " */\n"
        "#ifndef CB_GEN_MODELS_H\n"
        "#define CB_GEN_MODELS_H\n"
        "\n"
        "#include <stdbool.h>\n"
        "#include <stddef.h>\n"
        "#include <stdint.h>\n"
        "\n"
        "#include \"db/model.h\"\n"
        "#include \"sql.h\"\n"
        "\n");
    for (size_t i = 0; i < s->n_models; i++)
        put_model_h(b, &s->models[i]);
    gen_buf_put(b, "#endif\n");
}

/* --- models.c ------------------------------------------------------------------ */

static const char *cb_type_name(gen_type t)
{
    switch (t) {
    case GT_ID: return "CB_T_ID";
    case GT_INT: return "CB_T_INT";
    case GT_BOOL: return "CB_T_BOOL";
    case GT_TEXT: return "CB_T_TEXT";
    case GT_EMAIL: return "CB_T_EMAIL";
    case GT_TIMESTAMP: return "CB_T_TIMESTAMP";
    case GT_ENUM: return "CB_T_ENUM";
    case GT_JSON: return "CB_T_JSON";
    case GT_REF: return "CB_T_REF";
    case GT_MANY: break;
    }
    return "CB_T_ID";
}

/* The default as JSON text into j; false when there is no fixed value. */
static bool default_json(gen_buf *j, const gen_field *f)
{
    switch (f->def.kind) {
    case GD_INT:
        if (f->type == GT_TIMESTAMP) {
            gen_buf_put(j, "\"");
            gen_put_rfc3339(j, f->def.i);
            gen_buf_put(j, "\"");
        } else {
            gen_buf_printf(j, "%" PRId64, f->def.i);
        }
        return true;
    case GD_BOOL:
        gen_buf_put(j, f->def.i ? "true" : "false");
        return true;
    case GD_STRING:
        if (f->type == GT_JSON) {
            gen_buf_put(j, f->def.s);
            return true;
        }
        /* fall through */
    case GD_IDENT:
        gen_buf_put(j, "\"");
        gen_buf_json_escape(j, f->def.s);
        gen_buf_put(j, "\"");
        return true;
    case GD_NOW:
    case GD_NONE:
        break;
    }
    return false;
}

/* An int64_t constant; INT64_MIN has no literal form in C. */
static void put_c_int64(gen_buf *b, int64_t v)
{
    if (v == INT64_MIN)
        gen_buf_put(b, "INT64_MIN");
    else
        gen_buf_printf(b, "INT64_C(%" PRId64 ")", v);
}

static void put_flags(gen_buf *b, const gen_field *f)
{
    const char *flags[8];
    int n = 0;
    if (f->optional) flags[n++] = "CB_F_OPTIONAL";
    if (f->unique) flags[n++] = "CB_F_UNIQUE";
    if (f->hidden) flags[n++] = "CB_F_HIDDEN";
    if (f->def.kind != GD_NONE) flags[n++] = "CB_F_DEFAULT";
    if (f->def.kind == GD_NOW) flags[n++] = "CB_F_DEFAULT_NOW";
    if (f->on_update_now) flags[n++] = "CB_F_UPDATE_NOW";
    bool text = f->type == GT_TEXT || f->type == GT_EMAIL;
    if (f->has_min && (f->type == GT_INT || f->type == GT_TEXT)) flags[n++] = "CB_F_HAS_MIN";
    if ((f->has_max && f->type == GT_INT) || text) flags[n++] = "CB_F_HAS_MAX";
    if (n == 0)
        return;
    gen_buf_put(b, "        .flags = ");
    for (int i = 0; i < n; i++)
        gen_buf_printf(b, "%s%s", i ? " | " : "", flags[i]);
    gen_buf_put(b, ",\n");
}

static void put_field_c(gen_buf *b, const gen_model *m, const gen_field *f)
{
    gen_name N = gen_upper(m->name), F = gen_upper(f->name);
    gen_buf_printf(b, "    [CB_%s_%s] = {\n", N.s, F.s);
    gen_buf_printf(b, "        .name = \"%s\",\n        .type = %s,\n", f->name,
                   cb_type_name(f->type));
    put_flags(b, f);
    gen_buf_printf(b, "        .offset = offsetof(cb_%s, %s),\n", m->name, f->name);
    if (f->type == GT_INT) {
        if (f->has_min) {
            gen_buf_put(b, "        .min = ");
            put_c_int64(b, f->min);
            gen_buf_put(b, ",\n");
        }
        if (f->has_max) {
            gen_buf_put(b, "        .max = ");
            put_c_int64(b, f->max);
            gen_buf_put(b, ",\n");
        }
    } else if (f->type == GT_TEXT || f->type == GT_EMAIL) {
        if (f->has_min && f->type == GT_TEXT)
            gen_buf_printf(b, "        .min = %" PRId64 ",\n", f->min);
        gen_buf_printf(b, "        .max = %" PRId64 ",\n", f->text_max);
    }
    if (f->type == GT_ENUM)
        gen_buf_printf(b, "        .enum_values = %s_%s_values,\n", m->name, f->name);
    gen_buf j = {0};
    if (default_json(&j, f)) {
        gen_buf_put(b, "        .default_json = ");
        gen_put_c_literal(b, gen_cstr(&j), "", 0);
        gen_buf_put(b, ",\n");
    }
    gen_buf_free(&j);
    if (f->unique && f->type != GT_ID)
        gen_buf_printf(b, "        .sql_get_by = cb_sql_%s_get_by_%s,\n"
                          "        .stmt_get_by = CB_STMT_%s_GET_BY_%s,\n",
                       m->name, f->name, N.s, F.s);
    else
        gen_buf_put(b, "        .stmt_get_by = -1,\n");
    gen_buf_put(b, "    },\n");
}

static void put_model_c(gen_buf *b, const gen_model *m)
{
    const char *n = m->name;
    gen_name N = gen_upper(n);
    unsigned n_cols = 0;
    gen_buf_printf(b, "/* --- %s */\n\n", n);
    for (size_t i = 0; i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (has_column(f))
            n_cols++;
        if (f->type != GT_ENUM)
            continue;
        gen_buf_printf(b, "static const char *const %s_%s_values[] = {", n, f->name);
        for (size_t k = 0; k < f->n_enum_values; k++)
            gen_buf_printf(b, "\"%s\", ", f->enum_values[k]);
        gen_buf_put(b, "NULL};\n\n");
    }
    gen_buf_printf(b, "static const cb_field %s_fields[] = {\n", n);
    for (size_t i = 0; i < m->n_fields; i++)
        if (has_column(&m->fields[i]))
            put_field_c(b, m, &m->fields[i]);
    gen_buf_put(b, "};\n\n");

    gen_buf_printf(b, "const cb_model cb_model_%s = {\n", n);
    gen_buf_printf(b, "    .name = \"%s\",\n    .table = \"%s\",\n", n, m->table);
    gen_buf_printf(b, "    .size = sizeof(cb_%s),\n    .fields = %s_fields,\n    .n_fields = %u,\n",
                   n, n, n_cols);
    static const char *const ops[] = {"insert", "get", "update", "delete"};
    for (size_t i = 0; i < 4; i++)
        gen_buf_printf(b, "    .sql_%s = cb_sql_%s_%s,\n", ops[i], n, ops[i]);
    for (size_t i = 0; i < 4; i++)
        gen_buf_printf(b, "    .stmt_%s = CB_STMT_%s_%s,\n", ops[i], N.s, gen_upper(ops[i]).s);
    if (m->n_search_fields) {
        gen_buf_printf(b, "    .sql_search = cb_sql_%s_search,\n"
                          "    .stmt_search = CB_STMT_%s_SEARCH,\n", n, N.s);
        if (m->search_scope)
            gen_buf_printf(b, "    .search_scope_field = CB_%s_%s,\n", N.s,
                           gen_upper(m->search_scope).s);
        else
            gen_buf_put(b, "    .search_scope_field = -1,\n");
    } else {
        gen_buf_put(b, "    .sql_search = NULL,\n    .stmt_search = -1,\n"
                       "    .search_scope_field = -1,\n");
    }
    gen_buf_put(b, "};\n\n");
}

static void emit_models_c(const gen_schema *s, const char *source, gen_outset *o)
{
    gen_buf *b = gen_out_file(o, "models.c");
    gen_buf_header(b, "c", source);
    gen_buf_put(b,
        "/*\n"
        " * models.c — the field tables and cb_model descriptors the runtime walks.\n"
        " * The SQL strings are the ones in sql.c (the same pointers).\n"
        " */\n"
        "#include \"models.h\"\n"
        "\n"
        "#include <stddef.h>\n"
        "#include <stdint.h>\n"
        "\n");
    for (size_t i = 0; i < s->n_models; i++)
        put_model_c(b, &s->models[i]);
}

/* What the generated C cannot express: reported like the checker's errors. */
static int check_models(const gen_schema *s)
{
    int errors = 0;
    for (size_t i = 0; i < s->n_models; i++) {
        const gen_model *m = &s->models[i];
        size_t cols = 0;
        for (size_t k = 0; k < m->n_fields; k++) {
            const gen_field *f = &m->fields[k];
            if (has_column(f))
                cols++;
            if (strcmp(f->name, "hdr") == 0) {
                fprintf(stderr, "%s:%d:%d: field name 'hdr' is reserved by the generated struct\n",
                        f->pos.file, f->pos.line, f->pos.col);
                errors++;
            }
        }
        if (cols > 64) {
            fprintf(stderr, "%s:%d:%d: model '%s' has %zu columns; at most 64 are supported\n",
                    m->pos.file, m->pos.line, m->pos.col, m->name, cols);
            errors++;
        }
        if (m->search_scope && column_index(m, m->search_scope) < 0) {
            fprintf(stderr, "%s:%d:%d: search scope '%s' is not a column of '%s'\n",
                    m->search_pos.file, m->search_pos.line, m->search_pos.col,
                    m->search_scope, m->name);
            errors++;
        }
    }
    return errors;
}

int gen_emit_models(const gen_schema *s, const char *source, gen_outset *o)
{
    int errors = check_models(s);
    if (errors)
        return errors;
    emit_sql_h(s, source, o);
    emit_sql_c(s, source, o);
    emit_models_h(s, source, o);
    emit_models_c(s, source, o);
    return 0;
}
