/*
 * test_chain.c — a migration history end to end: chatbot-gen writes it from
 * tests/migrations/chain/v1..v5.schema (add a column; drop one; rename a
 * table and a column from hints; change a type and a nullability, add an
 * index and a search field), the runtime runner applies it to a real SQLite
 * file holding rows, up step by step, down to the start and up again, and
 * the rows must survive every step. A migration that fails halfway must
 * leave the database byte-for-byte as it was.
 */
#include "check.h"
#include "db/db.h"
#include "db/migrate.h"
#include "emit.h"
#include "migrations.h"
#include "parser.h"

#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

/* The runtime refers to the generated statement table and history; this
   test brings its own history, so both are empty. */
const int cb_stmt_count = 0;
const char *const cb_stmt_sql[] = {NULL};
const cb_migration cb_migrations[] = {{0, NULL, NULL, NULL}};
const int cb_migrations_count = 0;

#define STEPS 5

static char dir[64];
static cb_db *db;

static void generate_chain(void)
{
    for (int v = 1; v <= STEPS; v++) {
        char path[128], message[32];
        snprintf(path, sizeof path, "tests/migrations/chain/v%d.schema", v);
        snprintf(message, sizeof message, "chain step %d", v);
        gen_schema s;
        int rc = gen_parse_file(path, &s, stderr) || gen_check(&s, stderr);
        CHECK(rc == 0);
        if (rc == 0)
            CHECK(gen_migration_new(&s, dir, message, stderr) == 0);
        gen_schema_free(&s);
    }
}

static bool exec(const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db->handle, sql, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, err);
    sqlite3_free(err);
    return rc == SQLITE_OK;
}

/* The first column of the first row of `sql` as text ("NULL" for NULL). */
static const char *value(const char *sql)
{
    static char text[256];
    sqlite3_stmt *q;
    snprintf(text, sizeof text, "(error)");
    if (sqlite3_prepare_v2(db->handle, sql, -1, &q, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db->handle));
        return text;
    }
    if (sqlite3_step(q) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(q, 0);
        snprintf(text, sizeof text, "%s", v ? v : "NULL");
    }
    sqlite3_finalize(q);
    return text;
}

/* Every row of every table, concatenated in a fixed order. */
static const char *rows(const char *sql)
{
    static char text[1024];
    size_t n = 0;
    text[0] = '\0';
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db->handle, sql, -1, &q, NULL) != SQLITE_OK)
        return "(error)";
    while (sqlite3_step(q) == SQLITE_ROW && n < sizeof text - 1)
        for (int c = 0; c < sqlite3_column_count(q); c++) {
            const char *v = (const char *)sqlite3_column_text(q, c);
            n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", v ? v : "NULL",
                                  c + 1 < sqlite3_column_count(q) ? "|" : ";");
            if (n >= sizeof text)
                n = sizeof text - 1;
        }
    sqlite3_finalize(q);
    return text;
}

static void fill(void)
{
    CHECK(exec("INSERT INTO authors (id, name) VALUES (1, 'Frank Herbert'), (2, 'Jane Austen');"
               "INSERT INTO books (id, author_id, title, pages, note) VALUES "
               "(1, 1, 'Dune', 412, 'desert'), (2, 2, 'Emma', NULL, NULL),"
               "(3, 2, 'Persuasion', 249, 'navy');"));
}

/* What must hold at version v once the rows went through every step. */
static void check_data(int v, bool came_down)
{
    const char *authors = v >= 4 ? "writers" : "authors", *title = v >= 4 ? "headline" : "title";
    char sql[256];
    CHECK(cb_migrate_current(db) == v);
    snprintf(sql, sizeof sql, "SELECT id, name FROM %s ORDER BY id", authors);
    CHECK_STR(rows(sql), "1|Frank Herbert;2|Jane Austen;");
    snprintf(sql, sizeof sql, "SELECT id, author_id, %s FROM books ORDER BY id", title);
    CHECK_STR(rows(sql), "1|1|Dune;2|2|Emma;3|2|Persuasion;");
    /* Version 5 makes pages required: Emma's unknown count became 0. */
    const char *pages = v >= 5 || came_down ? "412;0;249;" : "412;NULL;249;";
    CHECK_STR(rows("SELECT pages FROM books ORDER BY id"), pages);
    if (v <= 2)
        CHECK_STR(rows("SELECT note FROM books ORDER BY id"),
                  came_down ? "NULL;NULL;NULL;" : "desert;NULL;navy;");
    else
        CHECK_STR(value("SELECT count(*) FROM pragma_table_info('books') WHERE name = 'note'"),
                  "0");
    if (v >= 2)
        CHECK_STR(rows("SELECT rating, typeof(rating) FROM books ORDER BY id"),
                  v >= 5 ? "3|text;3|text;3|text;" : "3|integer;3|integer;3|integer;");
    if (v >= 5) {
        CHECK_STR(value("SELECT rowid FROM books_fts WHERE books_fts MATCH 'persuasion'"), "3");
        CHECK_STR(value("SELECT count(*) FROM sqlite_master WHERE name = 'idx_books_headline'"),
                  "1");
    }
    CHECK_STR(value("SELECT count(*) FROM pragma_foreign_key_check"), "0");
}

static void walk_chain(const cb_migration_list *h)
{
    CHECK(cb_migrate_upgrade(db, h, 1, stdout) == CB_OK);
    fill();
    check_data(1, false);
    for (int v = 2; v <= STEPS; v++) {
        CHECK(cb_migrate_upgrade(db, h, v, stdout) == CB_OK);
        check_data(v, false);
    }
    CHECK(cb_migrate_is_current(db, h) == 1);
    /* The foreign keys still work on the rebuilt and renamed tables. */
    CHECK(exec("PRAGMA foreign_keys = ON"));
    CHECK(sqlite3_exec(db->handle, "INSERT INTO books (author_id, headline) VALUES (99, 'orphan')",
                       NULL, NULL, NULL) == SQLITE_CONSTRAINT_FOREIGNKEY);
    CHECK(cb_migrate_downgrade(db, h, 1, stdout) == CB_OK);
    check_data(1, true);
    CHECK(cb_migrate_upgrade(db, h, -1, stdout) == CB_OK);
    check_data(STEPS, true);
}

/* sqlite_master and every row of every ordinary table. */
static char *dump(void)
{
    gen_buf b = {0};
    sqlite3_stmt *q, *t;
    sqlite3_prepare_v2(db->handle, "SELECT type, name, tbl_name, sql FROM sqlite_master "
                       "ORDER BY name", -1, &q, NULL);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *sql = (const char *)sqlite3_column_text(q, 3);
        const char *name = (const char *)sqlite3_column_text(q, 1);
        gen_buf_printf(&b, "%s %s %s\n%s\n", sqlite3_column_text(q, 0), name,
                       sqlite3_column_text(q, 2), sql ? sql : "");
        if (strcmp((const char *)sqlite3_column_text(q, 0), "table") != 0 ||
            (sql && strncmp(sql, "CREATE VIRTUAL", 14) == 0))
            continue;
        char *select = sqlite3_mprintf("SELECT * FROM \"%w\"", name);
        sqlite3_prepare_v2(db->handle, select, -1, &t, NULL);
        sqlite3_free(select);
        while (sqlite3_step(t) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(t); c++) {
                const void *v = sqlite3_column_blob(t, c);
                int n = sqlite3_column_bytes(t, c);
                gen_buf_printf(&b, "%d:", sqlite3_column_type(t, c));
                if (v)
                    gen_buf_putn(&b, v, (size_t)n);
                gen_buf_put(&b, "|");
            }
            gen_buf_put(&b, "\n");
        }
        sqlite3_finalize(t);
    }
    sqlite3_finalize(q);
    return b.data;
}

static void failing_step(const cb_migration_list *h)
{
    cb_migration items[STEPS + 1];
    memcpy(items, h->items, STEPS * sizeof *items);
    /* The first statement succeeds; the second breaks the primary key. */
    items[STEPS] = (cb_migration){STEPS + 1, "fails_halfway",
                                  "CREATE TABLE extra (id INTEGER PRIMARY KEY);\n"
                                  "INSERT INTO extra (id) VALUES (1);\n"
                                  "INSERT INTO books (id, author_id, headline) "
                                  "VALUES (1, 1, 'duplicate id');\n",
                                  "DROP TABLE extra;\n"};
    cb_migration_list longer = {items, STEPS + 1};
    char *before = dump();
    CHECK(cb_migrate_upgrade(db, &longer, -1, stdout) != CB_OK);
    char *after = dump();
    CHECK(before && after && strcmp(before, after) == 0);
    CHECK(cb_migrate_current(db) == STEPS);
    CHECK(cb_migrate_is_current(db, &longer) == 0);
    free(before);
    free(after);
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (e->d_name[0] != '.')
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/cbchain-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    generate_chain();
    gen_mig_set set;
    CHECK(gen_migrations_load(dir, &set, stderr) == 0);
    CHECK(set.n == STEPS);
    if (set.n != STEPS)
        return check_done("test_chain");
    cb_migration items[STEPS];
    for (size_t i = 0; i < set.n; i++)
        items[i] = (cb_migration){set.items[i].version, set.items[i].name, set.items[i].up,
                                  set.items[i].down};
    cb_migration_list h = {items, STEPS};

    char path[128];
    snprintf(path, sizeof path, "%s/chain.db", dir);
    db = cb_db_open(path);
    CHECK(db != NULL);
    if (db) {
        walk_chain(&h);
        failing_step(&h);
        cb_db_close(db);
    }
    gen_migrations_free(&set);
    if (!check_failed)
        remove_dir();
    return check_done("test_chain");
}
