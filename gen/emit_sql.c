/*
 * emit_sql.c — the DDL of a schema: tables with their constraints, join
 * tables, indexes, FTS5 tables and their sync triggers.
 *
 * Used by `chatbot-gen migration` (the desired state it diffs against) and
 * so, indirectly, by every migration file. Constraints repeat the endpoint
 * validation (lengths, ranges, enums, JSON) so that no code path, hand-
 * written or not, can store what the API would refuse.
 */
#include "arena.h"
#include "emit.h"
#include "names.h"
#include "sqlddl.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define SQL_NOW_MS "(CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER))"

static void put_sql_string(gen_buf *b, const char *s)
{
    gen_buf_put(b, "'");
    for (const char *q; (q = strchr(s, '\'')); s = q + 1) {
        gen_buf_putn(b, s, (size_t)(q - s));
        gen_buf_put(b, "''");
    }
    gen_buf_put(b, s);
    gen_buf_put(b, "'");
}

static const char *sql_type(gen_type t)
{
    switch (t) {
    case GT_TEXT: case GT_EMAIL: case GT_ENUM: case GT_JSON:
        return "TEXT";
    default:
        return "INTEGER";
    }
}

static void put_default(gen_buf *b, const gen_field *f)
{
    const gen_default *d = &f->def;
    switch (d->kind) {
    case GD_INT: case GD_BOOL:
        gen_buf_printf(b, " DEFAULT %" PRId64, d->i);
        break;
    case GD_STRING: case GD_IDENT:
        gen_buf_put(b, " DEFAULT ");
        put_sql_string(b, d->s);
        break;
    case GD_NOW:
        gen_buf_put(b, " DEFAULT " SQL_NOW_MS);
        break;
    default:
        break;
    }
}

static bool has_check(const gen_field *f)
{
    switch (f->type) {
    case GT_INT:
        return f->has_min || f->has_max;
    case GT_BOOL: case GT_TEXT: case GT_EMAIL: case GT_ENUM: case GT_JSON:
        return true;
    default:
        return false;
    }
}

/* One CHECK per column, named after it, so that SQLite's "CHECK constraint
   failed: <name>" says which field was refused. */
static void put_checks(gen_buf *b, const gen_field *f)
{
    const char *c = f->name;
    if (!has_check(f))
        return;
    gen_buf_printf(b, " CONSTRAINT %s", c);
    switch (f->type) {
    case GT_INT:
        if (f->has_min && f->has_max)
            gen_buf_printf(b, " CHECK (%s BETWEEN %" PRId64 " AND %" PRId64 ")", c, f->min, f->max);
        else if (f->has_min)
            gen_buf_printf(b, " CHECK (%s >= %" PRId64 ")", c, f->min);
        else if (f->has_max)
            gen_buf_printf(b, " CHECK (%s <= %" PRId64 ")", c, f->max);
        break;
    case GT_BOOL:
        gen_buf_printf(b, " CHECK (%s IN (0, 1))", c);
        break;
    case GT_TEXT: case GT_EMAIL:
        if (f->has_min && f->min > 0)
            gen_buf_printf(b, " CHECK (length(%s) BETWEEN %" PRId64 " AND %" PRId64 ")", c, f->min,
                           f->text_max);
        else
            gen_buf_printf(b, " CHECK (length(%s) <= %" PRId64 ")", c, f->text_max);
        break;
    case GT_ENUM:
        gen_buf_printf(b, " CHECK (%s IN (", c);
        for (size_t i = 0; i < f->n_enum_values; i++) {
            gen_buf_put(b, i ? ", " : "");
            put_sql_string(b, f->enum_values[i]);
        }
        gen_buf_put(b, "))");
        break;
    case GT_JSON:
        gen_buf_printf(b, " CHECK (%s IS NULL OR json_valid(%s))", c, c);
        break;
    default:
        break;
    }
}

void gen_sql_column(gen_buf *b, const gen_field *f)
{
    if (f->type == GT_ID) {
        gen_buf_put(b, "id INTEGER PRIMARY KEY");
        return;
    }
    gen_buf_printf(b, "%s %s", f->name, sql_type(f->type));
    if (!f->optional)
        gen_buf_put(b, " NOT NULL");
    put_default(b, f);
    if (f->unique)
        gen_buf_put(b, " UNIQUE");
    put_checks(b, f);
    if (f->type == GT_REF && f->ref) {
        static const char *const actions[] = {"", " ON DELETE CASCADE", " ON DELETE RESTRICT",
                                              " ON DELETE SET NULL"};
        gen_buf_printf(b, " REFERENCES %s(id)%s", f->ref->table, actions[f->on_delete]);
    }
}

void gen_sql_table(gen_buf *b, const gen_model *m, const char *name, uint64_t columns)
{
    gen_buf_printf(b, "CREATE TABLE %s (", name ? name : m->table);
    const char *sep = "\n    ";
    size_t col = 0;
    for (size_t i = 0; i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (f->type == GT_MANY)
            continue;
        /* Past 64 columns only "all of them" can be asked for. */
        bool wanted = col < 64 ? (columns >> col) & 1 : columns == UINT64_MAX;
        if (wanted) {
            gen_buf_put(b, sep);
            gen_sql_column(b, f);
            sep = ",\n    ";
        }
        col++;
    }
    gen_buf_put(b, "\n);\n");
}

static bool leads_an_index(const gen_model *m, const gen_field *f)
{
    if (f->unique)
        return true;
    for (size_t i = 0; i < m->n_indexes; i++)
        if (strcmp(m->indexes[i].fields[0], f->name) == 0)
            return true;
    return false;
}

void gen_sql_indexes(gen_buf *b, const gen_model *m)
{
    for (size_t i = 0; i < m->n_indexes; i++) {
        const gen_index *ix = &m->indexes[i];
        gen_buf_printf(b, "CREATE %sINDEX idx_%s", ix->unique ? "UNIQUE " : "", m->table);
        for (size_t k = 0; k < ix->n_fields; k++)
            gen_buf_printf(b, "_%s", ix->fields[k]);
        gen_buf_printf(b, " ON %s (", m->table);
        for (size_t k = 0; k < ix->n_fields; k++)
            gen_buf_printf(b, "%s%s", k ? ", " : "", ix->fields[k]);
        gen_buf_put(b, ");\n");
    }
    for (size_t i = 0; i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (f->type == GT_REF && !leads_an_index(m, f))
            gen_buf_printf(b, "CREATE INDEX idx_%s_%s ON %s (%s);\n", m->table, f->name, m->table,
                           f->name);
    }
}

/* The FTS columns: the searched fields, then the scope field if any. The
   scope is indexed too, so a scoped query is a column filter FTS5 answers
   from its own doclists (user_id : "42" AND ...) instead of looking every
   match up in the table. It keeps the field's name: an external content
   table reads its columns from the content table by name ('rebuild',
   snippet()). */
static void put_fts_columns(gen_buf *b, const gen_model *m, const char *prefix)
{
    for (size_t i = 0; i < m->n_search_fields; i++)
        gen_buf_printf(b, ", %s%s", prefix, m->search_fields[i]);
    if (m->search_scope)
        gen_buf_printf(b, ", %s%s", prefix, m->search_scope);
}

void gen_sql_fts(gen_buf *b, const gen_model *m)
{
    if (!m->n_search_fields)
        return;
    gen_name fts = gen_fts_table(m);
    gen_buf_printf(b, "CREATE VIRTUAL TABLE %s USING fts5(", fts.s);
    for (size_t i = 0; i < m->n_search_fields; i++)
        gen_buf_printf(b, "%s, ", m->search_fields[i]);
    if (m->search_scope)
        gen_buf_printf(b, "%s, ", m->search_scope);
    /* prefix='3': the API matches a last word of 3 or more characters as a
       prefix; FTS5 answers 3-character prefixes from this index instead
       of merging the doclists of every word they start ("the"* is 100 ms
       over a million messages without it, under 1 ms with it). */
    gen_buf_printf(b, "content='%s', content_rowid='id', prefix='3', "
                   "tokenize='unicode61 remove_diacritics 2');\n", m->table);
}

void gen_sql_fts_triggers(gen_buf *b, const gen_model *m)
{
    if (!m->n_search_fields)
        return;
    gen_name fts = gen_fts_table(m);
    gen_buf_printf(b, "CREATE TRIGGER %s_ai AFTER INSERT ON %s BEGIN\n"
                   "    INSERT INTO %s(rowid", fts.s, m->table, fts.s);
    put_fts_columns(b, m, "");
    gen_buf_put(b, ") VALUES (new.id");
    put_fts_columns(b, m, "new.");
    gen_buf_put(b, ");\nEND;\n");

    gen_buf_printf(b, "CREATE TRIGGER %s_ad AFTER DELETE ON %s BEGIN\n"
                   "    INSERT INTO %s(%s, rowid", fts.s, m->table, fts.s, fts.s);
    put_fts_columns(b, m, "");
    gen_buf_put(b, ") VALUES ('delete', old.id");
    put_fts_columns(b, m, "old.");
    gen_buf_put(b, ");\nEND;\n");

    gen_buf_printf(b, "CREATE TRIGGER %s_au AFTER UPDATE OF ", fts.s);
    for (size_t i = 0; i < m->n_search_fields; i++)
        gen_buf_printf(b, "%s%s", i ? ", " : "", m->search_fields[i]);
    if (m->search_scope)
        gen_buf_printf(b, ", %s", m->search_scope);
    gen_buf_printf(b, " ON %s BEGIN\n    INSERT INTO %s(%s, rowid", m->table, fts.s, fts.s);
    put_fts_columns(b, m, "");
    gen_buf_put(b, ") VALUES ('delete', old.id");
    put_fts_columns(b, m, "old.");
    gen_buf_printf(b, ");\n    INSERT INTO %s(rowid", fts.s);
    put_fts_columns(b, m, "");
    gen_buf_put(b, ") VALUES (new.id");
    put_fts_columns(b, m, "new.");
    gen_buf_put(b, ");\nEND;\n");
}

static void put_join_table(gen_buf *b, const gen_model *m, const gen_field *f)
{
    gen_name a = gen_join_column(m), c = gen_join_column(f->ref);
    gen_buf_printf(b, "CREATE TABLE %s (\n"
                   "    %s INTEGER NOT NULL REFERENCES %s(id) ON DELETE CASCADE,\n"
                   "    %s INTEGER NOT NULL REFERENCES %s(id) ON DELETE CASCADE,\n"
                   "    PRIMARY KEY (%s, %s)\n) WITHOUT ROWID;\n",
                   f->through, a.s, m->table, c.s, f->ref->table, a.s, c.s);
    gen_buf_printf(b, "CREATE INDEX idx_%s_%s ON %s (%s);\n", f->through, c.s, f->through, c.s);
}

/* Models in an order where every referenced table comes first (the
   schema's order when it already is). Cycles keep the schema's order. */
size_t gen_sql_model_order(const gen_schema *s, const gen_model **out)
{
    size_t n = 0;
    size_t size = s->n_models ? s->n_models : 1;
    bool *done = memset(gen_xmalloc(size * sizeof *done), 0, size * sizeof *done);
    bool progress = true;
    while (n < s->n_models && progress) {
        progress = false;
        for (size_t i = 0; i < s->n_models; i++) {
            if (done[i])
                continue;
            const gen_model *m = &s->models[i];
            bool ready = true;
            for (size_t k = 0; k < m->n_fields && ready; k++) {
                const gen_field *f = &m->fields[k];
                if (f->type == GT_REF && f->ref && f->ref != m)
                    ready = done[f->ref - s->models];
            }
            if (ready) {
                done[i] = true;
                out[n++] = m;
                progress = true;
                break;              /* restart: keep the schema's order where possible */
            }
        }
    }
    for (size_t i = 0; i < s->n_models; i++)
        if (!done[i])
            out[n++] = &s->models[i];
    free(done);
    return n;
}

void gen_sql_ddl(const gen_schema *s, gen_buf *out)
{
    const gen_model **order = gen_xmalloc((s->n_models ? s->n_models : 1) * sizeof *order);
    size_t n = gen_sql_model_order(s, order);
    for (size_t i = 0; i < n; i++) {
        gen_sql_table(out, order[i], NULL, UINT64_MAX);
        gen_sql_indexes(out, order[i]);
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < order[i]->n_fields; k++)
            if (order[i]->fields[k].type == GT_MANY && order[i]->fields[k].ref)
                put_join_table(out, order[i], &order[i]->fields[k]);
    for (size_t i = 0; i < n; i++) {
        gen_sql_fts(out, order[i]);
        gen_sql_fts_triggers(out, order[i]);
    }
    free(order);
}
