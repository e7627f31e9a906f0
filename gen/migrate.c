/*
 * migrate.c — `chatbot-gen migration -m MESSAGE`: the migration history's
 * loader, and the diff that writes the next migration (Alembic's
 * autogenerate, for SQLite).
 *
 * The current state is what the existing migrations produce: they are
 * applied to an in-memory database. The desired state is the schema's DDL
 * applied to another. Both are introspected (sqlite_master) and compared
 * object by object, SQL normalised (whitespace and identifier quotes
 * ignored, since ALTER TABLE rewrites them). The down section is the same
 * diff run the other way. Renames happen only where the schema says
 * renamed_from(...). Every new file is verified before it is written: the
 * whole history plus the new step must reproduce the desired state exactly,
 * and its down must bring back the previous one.
 */
#include "arena.h"
#include "emit.h"
#include "migrations.h"
#include "names.h"
#include "sqlddl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --- loading -------------------------------------------------------------- */

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    gen_buf b = {0};
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        gen_buf_putn(&b, chunk, n);
    fclose(f);
    if (!b.data)
        gen_buf_put(&b, "");
    return b.data;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "0003_add_pinned.sql" -> 3 and "add_pinned"; 0 when the name is not one. */
static int parse_file_name(const char *name, char **slug)
{
    size_t n = strlen(name);
    if (n < 10 || strcmp(name + n - 4, ".sql") != 0 || name[4] != '_')
        return 0;
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)name[i]))
            return 0;
    for (size_t i = 5; i < n - 4; i++)
        if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) || name[i] == '_'))
            return 0;
    *slug = gen_xmalloc(n - 8);
    memcpy(*slug, name + 5, n - 9);
    (*slug)[n - 9] = '\0';
    return atoi(name);
}

/* Splits a file's text at its "-- +up" and "-- +down" lines. */
static int split_sections(const char *path, char *text, gen_mig *m, FILE *diag)
{
    char *up = NULL, *down = NULL;
    int line = 1, up_line = 0;
    for (char *p = text; *p; line++) {
        char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        if (len == 6 && strncmp(p, "-- +up", 6) == 0) {
            if (up) {
                fprintf(diag, "%s:%d: a second '-- +up' line\n", path, line);
                return 1;
            }
            up = eol ? eol + 1 : p + len;
            up_line = line;
            *p = '\0';
        } else if (len == 8 && strncmp(p, "-- +down", 8) == 0) {
            if (!up || down) {
                fprintf(diag, "%s:%d: '-- +down' must follow one '-- +up'\n", path, line);
                return 1;
            }
            *p = '\0';
            down = eol ? eol + 1 : p + len;
        }
        if (!eol)
            break;
        p = eol + 1;
    }
    if (!up || !down) {
        fprintf(diag, "%s:%d: missing '%s' line\n", path, up ? up_line : 1,
                up ? "-- +down" : "-- +up");
        return 1;
    }
    m->up = gen_xstrdup(up);
    m->down = gen_xstrdup(down);
    return 0;
}

int gen_migrations_load(const char *dir, gen_mig_set *out, FILE *diag)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : (fprintf(diag, "%s: %s\n", dir, strerror(errno)), 1);
    char **names = NULL;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len > 4 && strcmp(e->d_name + len - 4, ".sql") == 0) {
            names = gen_xrealloc(names, (n + 1) * sizeof *names);
            names[n++] = gen_xstrdup(e->d_name);
        }
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    int errors = 0;
    out->items = gen_xmalloc((n ? n : 1) * sizeof *out->items);
    for (size_t i = 0; i < n; i++) {
        size_t plen = strlen(dir) + strlen(names[i]) + 2;
        char *path = gen_xmalloc(plen);
        snprintf(path, plen, "%s/%s", dir, names[i]);
        gen_mig m = {.path = path};
        m.version = parse_file_name(names[i], &m.name);
        char *text = NULL;
        if (m.version == 0) {
            fprintf(diag, "%s:1: migration files are named NNNN_slug.sql (lower-case slug)\n",
                    path);
            errors++;
        } else if (m.version != (int)out->n + 1) {
            fprintf(diag, "%s:1: expected migration %04zu here: versions must run 1, 2, 3… "
                    "without gaps or duplicates\n", path, out->n + 1);
            errors++;
        } else if (!(text = read_all(path))) {
            fprintf(diag, "%s:1: %s\n", path, strerror(errno));
            errors++;
        } else {
            errors += split_sections(path, text, &m, diag);
        }
        free(text);
        if (m.up) {
            out->items[out->n++] = m;
        } else {
            free(m.name);
            free(m.path);
        }
        free(names[i]);
    }
    free(names);
    if (errors)
        gen_migrations_free(out);
    return errors;
}

void gen_migrations_free(gen_mig_set *set)
{
    for (size_t i = 0; i < set->n; i++) {
        free(set->items[i].name);
        free(set->items[i].path);
        free(set->items[i].up);
        free(set->items[i].down);
    }
    free(set->items);
    memset(set, 0, sizeof *set);
}

/* --- introspection ---------------------------------------------------------- */

typedef struct obj {
    char kind;          /* 't' table, 'v' virtual table, 'i' index, 'r' trigger */
    char *name, *table, *sql, *norm;
} obj;

typedef struct state {
    obj *v;
    size_t n;
} state;

/* SQL with whitespace, identifier quotes and ';' removed outside string
   literals: ALTER TABLE rewrites the stored text, the meaning stays, and a
   default("a b") must still differ from default("ab"). */
static char *normalize(const char *sql)
{
    char *out = gen_xmalloc(strlen(sql) + 1), *o = out;
    bool literal = false;
    for (const char *p = sql; *p; p++) {
        if (*p == '\'')
            literal = !literal;         /* '' inside a literal toggles twice */
        if (literal || *p == '\'' ||
            (!isspace((unsigned char)*p) && *p != '"' && *p != ';'))
            *o++ = *p;
    }
    *o = '\0';
    return out;
}

static bool is_shadow(const state *st, const char *name)
{
    static const char *const suffixes[] = {"_data", "_idx", "_content", "_docsize", "_config"};
    for (size_t i = 0; i < st->n; i++) {
        size_t n = strlen(st->v[i].name);
        if (st->v[i].kind != 'v' || strncmp(name, st->v[i].name, n) != 0)
            continue;
        for (size_t k = 0; k < 5; k++)
            if (strcmp(name + n, suffixes[k]) == 0)
                return true;
    }
    return false;
}

static void state_free(state *st)
{
    for (size_t i = 0; i < st->n; i++) {
        free(st->v[i].name);
        free(st->v[i].table);
        free(st->v[i].sql);
        free(st->v[i].norm);
    }
    free(st->v);
    memset(st, 0, sizeof *st);
}

static void introspect(sqlite3 *db, state *st)
{
    memset(st, 0, sizeof *st);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql FROM sqlite_master "
                       "WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
                       -1, &q, NULL);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(q, 0);
        const char *sql = (const char *)sqlite3_column_text(q, 3);
        obj o = {0};
        o.kind = type[0] == 'i' ? 'i' : type[1] == 'r' ? 'r'
               : strncmp(sql, "CREATE VIRTUAL", 14) == 0 ? 'v' : 't';
        o.name = gen_xstrdup((const char *)sqlite3_column_text(q, 1));
        o.table = gen_xstrdup((const char *)sqlite3_column_text(q, 2));
        o.sql = gen_xstrdup(sql);
        o.norm = normalize(sql);
        st->v = gen_xrealloc(st->v, (st->n + 1) * sizeof *st->v);
        st->v[st->n++] = o;
    }
    sqlite3_finalize(q);
    /* FTS5 keeps its index in shadow tables: they follow their virtual
       table. Marked first, removed after, since is_shadow() reads the whole
       list. */
    bool *shadow = gen_xmalloc((st->n ? st->n : 1) * sizeof *shadow);
    for (size_t i = 0; i < st->n; i++)
        shadow[i] = st->v[i].kind == 't' && is_shadow(st, st->v[i].name);
    size_t kept = 0;
    for (size_t i = 0; i < st->n; i++) {
        if (shadow[i]) {
            free(st->v[i].name);
            free(st->v[i].table);
            free(st->v[i].sql);
            free(st->v[i].norm);
        } else {
            st->v[kept++] = st->v[i];
        }
    }
    free(shadow);
    st->n = kept;
}

static obj *find(const state *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->v[i].name, name) == 0)
            return &st->v[i];
    return NULL;
}

typedef struct columns {
    char **name;
    int *notnull, *has_default;
    char **type, **dflt;        /* dflt: the DEFAULT expression, or NULL */
    size_t n;
} columns;

static void table_columns(sqlite3 *db, const char *table, columns *c)
{
    memset(c, 0, sizeof *c);
    char *sql = sqlite3_mprintf("PRAGMA table_info(\"%w\")", table);
    sqlite3_stmt *q;
    sqlite3_prepare_v2(db, sql, -1, &q, NULL);
    sqlite3_free(sql);
    while (sqlite3_step(q) == SQLITE_ROW) {
        c->name = gen_xrealloc(c->name, (c->n + 1) * sizeof *c->name);
        c->type = gen_xrealloc(c->type, (c->n + 1) * sizeof *c->type);
        c->notnull = gen_xrealloc(c->notnull, (c->n + 1) * sizeof *c->notnull);
        c->has_default = gen_xrealloc(c->has_default, (c->n + 1) * sizeof *c->has_default);
        c->dflt = gen_xrealloc(c->dflt, (c->n + 1) * sizeof *c->dflt);
        const char *dflt = (const char *)sqlite3_column_text(q, 4);
        c->dflt[c->n] = dflt ? gen_xstrdup(dflt) : NULL;
        c->name[c->n] = gen_xstrdup((const char *)sqlite3_column_text(q, 1));
        c->type[c->n] = gen_xstrdup((const char *)sqlite3_column_text(q, 2));
        c->notnull[c->n] = sqlite3_column_int(q, 3) && !sqlite3_column_int(q, 5);
        c->has_default[c->n] = sqlite3_column_type(q, 4) != SQLITE_NULL;
        c->n++;
    }
    sqlite3_finalize(q);
}

static void columns_free(columns *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->name[i]);
        free(c->type[i]);
        free(c->dflt[i]);
    }
    free(c->name);
    free(c->type);
    free(c->dflt);
    free(c->notnull);
    free(c->has_default);
}

static int column_index(const columns *c, const char *name)
{
    for (size_t i = 0; i < c->n; i++)
        if (strcmp(c->name[i], name) == 0)
            return (int)i;
    return -1;
}

static bool has_column(const columns *c, const char *name)
{
    return column_index(c, name) >= 0;
}

/* --- the diff ----------------------------------------------------------------- */

typedef struct rename_hint {
    const char *table;      /* the table in the "from" database; NULL: a table rename */
    const char *to_table;   /* its name in the "to" database */
    const char *from, *to;
} rename_hint;

typedef struct differ {
    sqlite3 *from_db, *to_db;
    const gen_schema *schema;   /* the desired schema when diffing up, else NULL */
    gen_buf *out;
    FILE *diag;
    int errors;
} differ;

/* Runs one statement on the "from" database (renames change what the rest
   of the diff compares) and records it. */
static void apply(differ *d, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(d->from_db, sql, NULL, NULL, &err) != SQLITE_OK) {
        fprintf(d->diag, "chatbot-gen: cannot apply \"%s\": %s\n", sql, err);
        d->errors++;
    }
    sqlite3_free(err);
    gen_buf_printf(d->out, "%s\n", sql);
}

static void do_renames(differ *d, const rename_hint *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        state from, to;
        introspect(d->from_db, &from);
        introspect(d->to_db, &to);
        char *sql = NULL;
        if (!r[i].table) {
            if (find(&from, r[i].from) && !find(&from, r[i].to) && find(&to, r[i].to))
                sql = sqlite3_mprintf("ALTER TABLE %s RENAME TO %s;", r[i].from, r[i].to);
        } else if (find(&from, r[i].table) && find(&to, r[i].to_table)) {
            columns fc, tc;
            table_columns(d->from_db, r[i].table, &fc);
            table_columns(d->to_db, r[i].to_table, &tc);
            if (has_column(&fc, r[i].from) && !has_column(&fc, r[i].to) && has_column(&tc, r[i].to))
                sql = sqlite3_mprintf("ALTER TABLE %s RENAME COLUMN %s TO %s;", r[i].table,
                                      r[i].from, r[i].to);
            columns_free(&fc);
            columns_free(&tc);
        }
        if (sql)
            apply(d, sql);
        sqlite3_free(sql);
        state_free(&from);
        state_free(&to);
    }
}

enum { T_SAME, T_NEW, T_DROPPED, T_ADD_COLUMNS, T_REBUILD };

/* The model whose table this is, in the desired schema. */
static const gen_model *model_of(const gen_schema *s, const char *table)
{
    for (size_t i = 0; s && i < s->n_models; i++)
        if (strcmp(s->models[i].table, table) == 0)
            return &s->models[i];
    return NULL;
}

/* Can `from`'s version of the table reach the model's by ALTER TABLE ADD
   COLUMN alone? True when it equals the model's first k columns exactly
   and every further column may be added that way. */
static bool can_add_columns(const gen_model *m, const obj *from_table, size_t from_columns)
{
    size_t total = 0;
    for (size_t i = 0; i < m->n_fields; i++)
        total += m->fields[i].type != GT_MANY;
    if (from_columns >= total || total > 64)
        return false;
    uint64_t mask = from_columns == 64 ? UINT64_MAX : (UINT64_C(1) << from_columns) - 1;
    gen_buf b = {0};
    gen_sql_table(&b, m, NULL, mask);
    char *norm = normalize(b.data);
    bool same = strcmp(norm, from_table->norm) == 0;
    free(norm);
    gen_buf_free(&b);
    size_t col = 0;
    for (size_t i = 0; same && i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (f->type == GT_MANY || col++ < from_columns)
            continue;
        bool has_constant_default = f->def.kind != GD_NONE && f->def.kind != GD_NOW;
        if (f->unique || f->def.kind == GD_NOW || (!f->optional && !has_constant_default) ||
            (f->type == GT_REF && f->def.kind != GD_NONE))
            same = false;
    }
    return same;
}

static void add_columns(differ *d, const gen_model *m, size_t from_columns)
{
    size_t col = 0;
    for (size_t i = 0; i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (f->type == GT_MANY || col++ < from_columns)
            continue;
        gen_buf_printf(d->out, "ALTER TABLE %s ADD COLUMN ", m->table);
        gen_sql_column(d->out, f);
        gen_buf_put(d->out, ";\n");
    }
}

/* Appends to `values` what the rebuilt table's column i is filled from: the
   old column, with its DEFAULT where a nullable column becomes NOT NULL.
   False: from nothing (the column's DEFAULT applies). */
static bool column_source(differ *d, const char *t, const columns *fc, const columns *tc,
                          size_t i, gen_buf *values)
{
    int old = column_index(fc, tc->name[i]);
    bool required = tc->notnull[i] && (old < 0 || !fc->notnull[old]);
    const char *sep = values->len ? ", " : "";
    if (required && !tc->has_default[i]) {
        /* Going up, the schema must say what existing rows get; going down,
           the old schema had no default, so the type's zero stands in. */
        if (d->schema) {
            fprintf(d->diag, "chatbot-gen: table %s: column '%s' becomes required: give it a "
                    "default(...) so existing rows get a value\n", t, tc->name[i]);
            d->errors++;
        }
        const char *zero = strcmp(tc->type[i], "TEXT") == 0 ? "''" : "0";
        if (old < 0)
            gen_buf_printf(values, "%s%s", sep, zero);
        else
            gen_buf_printf(values, "%sCOALESCE(%s, %s)", sep, tc->name[i], zero);
    } else if (old < 0) {
        return false;
    } else if (required) {
        gen_buf_printf(values, "%sCOALESCE(%s, %s)", sep, tc->name[i], tc->dflt[i]);
    } else {
        gen_buf_printf(values, "%s%s", sep, tc->name[i]);
    }
    return true;
}

/* The SQLite table-rebuild recipe, keeping every column both versions share. */
static void rebuild(differ *d, const obj *to_table)
{
    const char *t = to_table->name;
    columns fc, tc;
    table_columns(d->from_db, t, &fc);
    table_columns(d->to_db, t, &tc);
    const char *after = to_table->sql + strlen("CREATE TABLE ");
    while (*after && !isspace((unsigned char)*after) && *after != '(')
        after++;
    gen_buf_printf(d->out, "CREATE TABLE %s__new%s;\n", t, after);
    gen_buf cols = {0}, values = {0};
    for (size_t i = 0; i < tc.n; i++) {
        if (column_source(d, t, &fc, &tc, i, &values))
            gen_buf_printf(&cols, "%s%s", cols.len ? ", " : "", tc.name[i]);
    }
    if (cols.len)
        gen_buf_printf(d->out, "INSERT INTO %s__new (%s) SELECT %s FROM %s;\n", t, cols.data,
                       values.data, t);
    gen_buf_printf(d->out, "DROP TABLE %s;\nALTER TABLE %s__new RENAME TO %s;\n", t, t, t);
    gen_buf_free(&cols);
    gen_buf_free(&values);
    columns_free(&fc);
    columns_free(&tc);
}

static int table_status(const differ *d, const state *from, const obj *to_table, size_t *from_cols)
{
    const obj *f = find(from, to_table->name);
    if (!f)
        return T_NEW;
    if (strcmp(f->norm, to_table->norm) == 0)
        return T_SAME;
    const gen_model *m = model_of(d->schema, to_table->name);
    columns fc;
    table_columns(d->from_db, to_table->name, &fc);
    *from_cols = fc.n;
    columns_free(&fc);
    return m && can_add_columns(m, f, *from_cols) ? T_ADD_COLUMNS : T_REBUILD;
}

static int status_of(const state *from, const state *to, const int *to_status, const char *table)
{
    for (size_t i = 0; i < to->n; i++)
        if (to->v[i].kind == 't' && strcmp(to->v[i].name, table) == 0)
            return to_status[i];
    return find(from, table) ? T_DROPPED : T_NEW;
}

static bool changed(const state *other, const obj *o)
{
    const obj *x = find(other, o->name);
    return !x || strcmp(x->norm, o->norm) != 0;
}

/* Is the content table of FTS table `v` rebuilt by this diff? */
static bool content_rebuilt(const state *from, const state *to, const int *to_status, const obj *v)
{
    const char *content = strstr(v->norm, "content='");
    if (!content)
        return false;
    content += strlen("content='");
    size_t n = strcspn(content, "'");
    for (size_t i = 0; i < to->n; i++)
        if (to->v[i].kind == 't' && strlen(to->v[i].name) == n &&
            strncmp(to->v[i].name, content, n) == 0)
            return to_status[i] == T_REBUILD && find(from, v->name);
    return false;
}

static void emit_diff(differ *d, const state *from, const state *to)
{
    int *status = gen_xmalloc((to->n ? to->n : 1) * sizeof *status);
    size_t *from_cols = gen_xmalloc((to->n ? to->n : 1) * sizeof *from_cols);
    for (size_t i = 0; i < to->n; i++)
        status[i] = to->v[i].kind == 't' ? table_status(d, from, &to->v[i], &from_cols[i]) : T_SAME;
    /* Drop what goes away or changes: triggers (which name FTS tables) and
       indexes first, then FTS tables. A dropped or rebuilt table takes its
       own triggers and indexes with it. */
    for (size_t i = 0; i < from->n; i++) {
        const obj *o = &from->v[i];
        int ts = status_of(from, to, status, o->table);
        if ((o->kind == 'r' || o->kind == 'i') && ts != T_DROPPED && ts != T_REBUILD &&
            changed(to, o))
            gen_buf_printf(d->out, "DROP %s %s;\n", o->kind == 'r' ? "TRIGGER" : "INDEX", o->name);
    }
    for (size_t i = 0; i < from->n; i++)
        if (from->v[i].kind == 'v' && changed(to, &from->v[i]))
            gen_buf_printf(d->out, "DROP TABLE %s;\n", from->v[i].name);
    /* Dependants were created after what they reference: drop them first. */
    for (size_t i = from->n; i-- > 0;)
        if (from->v[i].kind == 't' && !find(to, from->v[i].name)) {
            if (d->schema)
                gen_buf_printf(d->out, "-- Dropping %s deletes its rows: the down recreates the "
                               "table empty, the data is gone.\n", from->v[i].name);
            gen_buf_printf(d->out, "DROP TABLE %s;\n", from->v[i].name);
        }
    /* Create and change tables in the desired order. */
    for (size_t i = 0; i < to->n; i++) {
        if (to->v[i].kind != 't')
            continue;
        if (status[i] == T_NEW)
            gen_buf_printf(d->out, "%s;\n", to->v[i].sql);
        else if (status[i] == T_ADD_COLUMNS)
            add_columns(d, model_of(d->schema, to->v[i].name), from_cols[i]);
        else if (status[i] == T_REBUILD)
            rebuild(d, &to->v[i]);
    }
    /* Then what hangs off tables: indexes, FTS tables (reindexed), triggers. */
    for (int pass = 0; pass < 3; pass++) {
        char kind = "ivr"[pass];
        for (size_t i = 0; i < to->n; i++) {
            const obj *o = &to->v[i];
            if (o->kind != kind)
                continue;
            int ts = status_of(from, to, status, o->table);
            bool create = changed(from, o) || (o->kind != 'v' && (ts == T_NEW || ts == T_REBUILD));
            if (create)
                gen_buf_printf(d->out, "%s;\n", o->sql);
            /* A new index reads the rows its table already has; FTS5 with
               external content does not, and a rebuilt table may have
               changed what it would read. */
            if (o->kind == 'v' && (create || content_rebuilt(from, to, status, o)))
                gen_buf_printf(d->out, "INSERT INTO %s(%s) VALUES ('rebuild');\n", o->name,
                               o->name);
        }
    }
    free(status);
    free(from_cols);
}

static int diff(differ *d, const rename_hint *renames, size_t n_renames)
{
    do_renames(d, renames, n_renames);
    state from, to;
    introspect(d->from_db, &from);
    introspect(d->to_db, &to);
    emit_diff(d, &from, &to);
    state_free(&from);
    state_free(&to);
    return d->errors;
}

/* --- databases for the two states ------------------------------------------- */

static sqlite3 *memory_db(void)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
        fputs("chatbot-gen: cannot open an in-memory SQLite database\n", stderr);
        exit(1);
    }
    return db;
}

static int exec_or_report(sqlite3 *db, const char *sql, const char *what, FILE *diag)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(diag, "chatbot-gen: %s: %s\n", what, err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    return rc == SQLITE_OK ? 0 : 1;
}

static sqlite3 *history_db(const gen_mig_set *set, FILE *diag)
{
    sqlite3 *db = memory_db();
    for (size_t i = 0; i < set->n; i++)
        if (exec_or_report(db, set->items[i].up, set->items[i].path, diag)) {
            sqlite3_close(db);
            return NULL;
        }
    return db;
}

static sqlite3 *schema_db(const gen_schema *s, FILE *diag)
{
    sqlite3 *db = memory_db();
    gen_buf ddl = {0};
    gen_sql_ddl(s, &ddl);
    int rc = exec_or_report(db, ddl.data ? ddl.data : "", "the schema's DDL", diag);
    gen_buf_free(&ddl);
    if (rc) {
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Same objects, same normalised SQL. */
static bool same_state(sqlite3 *a, sqlite3 *b, FILE *diag, const char *what)
{
    state sa, sb;
    introspect(a, &sa);
    introspect(b, &sb);
    bool same = sa.n == sb.n;
    for (size_t i = 0; i < sa.n; i++) {
        const obj *o = find(&sb, sa.v[i].name);
        if (!o || strcmp(o->norm, sa.v[i].norm) != 0) {
            fprintf(diag, "chatbot-gen: internal error: %s: '%s' differs\n", what, sa.v[i].name);
            same = false;
        }
    }
    state_free(&sa);
    state_free(&sb);
    return same;
}

static void collect_renames(const gen_schema *s, bool up, rename_hint **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    for (int pass = 0; pass < 2; pass++) {
        /* Up: tables first, then columns of the renamed tables. Down: reverse. */
        bool tables = (pass == 0) == up;
        for (size_t i = 0; i < s->n_models; i++) {
            const gen_model *m = &s->models[i];
            if (tables && m->renamed_from) {
                *out = gen_xrealloc(*out, (*n + 1) * sizeof **out);
                (*out)[(*n)++] = (rename_hint){NULL, NULL, up ? m->renamed_from : m->table,
                                               up ? m->table : m->renamed_from};
            }
            for (size_t k = 0; !tables && k < m->n_fields; k++)
                if (m->fields[k].renamed_from) {
                    *out = gen_xrealloc(*out, (*n + 1) * sizeof **out);
                    const char *old = m->fields[k].renamed_from, *new = m->fields[k].name;
                    /* Going down, columns are renamed before their table is. */
                    const char *old_table = m->renamed_from ? m->renamed_from : m->table;
                    (*out)[(*n)++] = (rename_hint){m->table, up ? m->table : old_table,
                                                   up ? old : new, up ? new : old};
                }
        }
    }
}

static int compute(const gen_schema *s, const gen_mig_set *set, bool up, gen_buf *out, FILE *diag)
{
    sqlite3 *old_db = history_db(set, diag), *new_db = schema_db(s, diag);
    int errors = !old_db || !new_db;
    if (!errors) {
        rename_hint *renames;
        size_t n;
        collect_renames(s, up, &renames, &n);
        differ d = {up ? old_db : new_db, up ? new_db : old_db, up ? s : NULL, out, diag, 0};
        errors = diff(&d, renames, n);
        free(renames);
    }
    sqlite3_close(old_db);
    sqlite3_close(new_db);
    return errors;
}

static int verify(const gen_schema *s, const gen_mig_set *set, const char *up, const char *down,
                  FILE *diag)
{
    sqlite3 *db = history_db(set, diag), *before = history_db(set, diag);
    sqlite3 *want = schema_db(s, diag);
    int bad = !db || !before || !want;
    if (!bad)
        bad = exec_or_report(db, up, "the new migration's up", diag) ||
              !same_state(db, want, diag, "up does not reach the schema") ||
              exec_or_report(db, down, "the new migration's down", diag) ||
              !same_state(db, before, diag, "down does not restore the previous state");
    sqlite3_close(db);
    sqlite3_close(before);
    sqlite3_close(want);
    return bad;
}

#define SLUG_MAX 40

/* "Add pinned, again!" -> "add_pinned_again": lower case, each run of other
   characters one '_', none at either end, at most SLUG_MAX characters. */
static void slugify(const char *message, char slug[SLUG_MAX + 1])
{
    size_t n = 0;
    bool sep = false;
    for (const char *p = message; *p && n < SLUG_MAX; p++) {
        if (isalnum((unsigned char)*p) && (unsigned char)*p < 0x80) {
            if (sep && n && n + 1 < SLUG_MAX)
                slug[n++] = '_';
            else if (sep && n)
                break;
            slug[n++] = (char)tolower((unsigned char)*p);
            sep = false;
        } else {
            sep = true;
        }
    }
    slug[n] = '\0';
    if (!n)
        snprintf(slug, SLUG_MAX + 1, "migration");
}

/* The message on the file's first line: a newline in it would end the
   comment and put the rest of the message into the SQL. */
static char *one_line(const char *message)
{
    char *line = gen_xstrdup(message);
    for (char *p = line; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    return line;
}

/* Writes migration number `version`; "wx" so that an existing file (a
   concurrent run) is never overwritten. */
static int write_migration(const gen_schema *s, const char *dir, size_t version,
                           const char *message, const char *up, const char *down, FILE *diag)
{
    char slug[SLUG_MAX + 1], path[4096];
    slugify(message, slug);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/%04zu_%s.sql", dir, version, slug);
    char *title = one_line(message);
    gen_buf file = {0};
    gen_buf_printf(&file, "-- chatbot migration %04zu: %s\n-- Generated by chatbot-gen from "
                   "%s. Review it; once committed it is history: never regenerated.\n"
                   "-- +up\n%s-- +down\n%s", version, title, s->file, up, down);
    free(title);
    FILE *f = fopen(path, "wx");
    bool ok = f && fwrite(file.data, 1, file.len, f) == file.len;
    if (f && fclose(f) != 0)
        ok = false;
    gen_buf_free(&file);
    if (!ok) {
        fprintf(diag, "chatbot-gen: cannot write %s: %s\n", path, strerror(errno));
        return 1;
    }
    printf("chatbot-gen: wrote %s\n", path);
    return 0;
}

int gen_migration_new(const gen_schema *s, const char *migrations_dir, const char *message,
                      FILE *diag)
{
    gen_mig_set set;
    if (gen_migrations_load(migrations_dir, &set, diag))
        return 1;
    gen_buf up = {0}, down = {0};
    int rc = compute(s, &set, true, &up, diag) || compute(s, &set, false, &down, diag);
    if (!rc && up.len == 0) {
        fprintf(diag, "chatbot-gen: no changes: schema matches the migrations (%s)\n",
                migrations_dir);
        rc = 2;
    }
    if (!rc && !down.data)
        gen_buf_put(&down, "");
    if (!rc && verify(s, &set, up.data, down.data, diag))
        rc = 1;
    if (!rc)
        rc = write_migration(s, migrations_dir, set.n + 1, message, up.data, down.data, diag);
    gen_buf_free(&up);
    gen_buf_free(&down);
    gen_migrations_free(&set);
    return rc;
}
