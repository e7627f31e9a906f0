/*
 * test_chain.c — the migration workflow end to end on a real SQLite file:
 * chatbot-gen writes a chain of migrations from five schema versions (add
 * a column, drop one, rename a column and a table by hint, change a type
 * and a nullability), the runtime applies them up, down and up again with
 * rows in every table, and the data must survive each step. A migration
 * that fails halfway must leave the database byte-for-byte as it was.
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "db/db.h"
#include "db/migrate.h"
#include "emit.h"
#include "migrations.h"
#include "parser.h"

/* The runtime library refers to the generated tables; this test has none. */
const int cb_stmt_count = 0;
const char *const cb_stmt_sql[] = {NULL};
const cb_migration cb_migrations[] = {{0, NULL, NULL, NULL}};
const int cb_migrations_count = 0;

static char *query(cb_db *db, const char *sql)
{
    sqlite3_stmt *st;
    char *out = NULL;
    if (sqlite3_prepare_v2(db->handle, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "query failed: %s: %s\n", sql, sqlite3_errmsg(db->handle));
        return strdup("(error)");
    }
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        out = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out ? out : strdup("(null)");
}

static void expect(cb_db *db, const char *sql, const char *want)
{
    char *got = query(db, sql);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "  for: %s\n", sql);
    CHECK_STR(got, want);
    free(got);
}

/* The data every version must still hold (column and table names move). */
static void check_data(cb_db *db, int version)
{
    const char *authors = version >= 4 ? "writers" : "authors";
    const char *title = version >= 4 ? "headline" : "title";
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT group_concat(name, ',') FROM (SELECT name FROM %s ORDER BY id)",
             authors);
    expect(db, sql, "Ada,Brian,Grace");
    snprintf(sql, sizeof sql, "SELECT group_concat(%s || ':' || author_id || ':' || body, ',') "
             "FROM (SELECT * FROM posts ORDER BY id)", title);
    expect(db, sql, "hello world:1:first,second post:1:more,compilers:3:hello again");
    snprintf(sql, sizeof sql, "SELECT group_concat(rowid, ',') FROM (SELECT rowid FROM posts_fts "
             "WHERE posts_fts MATCH 'hello' ORDER BY rowid)");
    expect(db, sql, "1,3");
    if (version == 2)
        expect(db, "SELECT sum(views) FROM posts", "0");
    if (version >= 3)
        expect(db, "SELECT group_concat(score, ',') FROM posts", "1,1,1");
    if (version >= 5)
        expect(db, "SELECT typeof(score) FROM posts LIMIT 1", "text");
    expect(db, "PRAGMA foreign_key_check", "(null)");
}

static void fill(cb_db *db)
{
    const char *sql =
        "INSERT INTO authors (id, name) VALUES (1, 'Ada'), (2, 'Brian'), (3, 'Grace');"
        "INSERT INTO posts (id, author_id, title, body) VALUES (1, 1, 'hello world', 'first'),"
        " (2, 1, 'second post', 'more'), (3, 3, 'compilers', 'hello again');";
    CHECK(sqlite3_exec(db->handle, sql, NULL, NULL, NULL) == SQLITE_OK);
}

/* Schema and every row of every table (at version 5), as text. */
static char *dump(cb_db *db)
{
    static const char *const parts[] = {
        "SELECT group_concat(type || name || coalesce(sql, ''), '|') "
        "FROM (SELECT * FROM sqlite_master ORDER BY name)",
        "SELECT group_concat(id || ',' || quote(name), '|') FROM writers",
        "SELECT group_concat(id || ',' || author_id || ',' || quote(headline) || ',' || quote(body)"
        " || ',' || quote(score), '|') FROM posts",
        "SELECT group_concat(version || ',' || name, '|') FROM schema_migrations"};
    char *out = strdup("");
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        char *part = query(db, parts[i]), *joined;
        if (asprintf(&joined, "%s#%s", out, part) < 0)
            abort();
        free(out);
        free(part);
        out = joined;
    }
    return out;
}

static int generate_chain(const char *dir)
{
    for (int v = 1; v <= 5; v++) {
        char path[128], msg[32];
        snprintf(path, sizeof path, "tests/migrations/chain/v%d.schema", v);
        snprintf(msg, sizeof msg, "step %d", v);
        gen_schema s;
        int rc = gen_parse_file(path, &s, stderr) || gen_check(&s, stderr);
        if (!rc)
            rc = gen_migration_new(&s, dir, msg, stderr);
        gen_schema_free(&s);
        CHECK(rc == 0);
        if (rc)
            return -1;
    }
    return 0;
}

int main(void)
{
    char tmp[] = "/tmp/chatbot-chain-XXXXXX";
    CHECK(mkdtemp(tmp) != NULL);
    char migrations[256], dbpath[256];
    snprintf(migrations, sizeof migrations, "%s/migrations", tmp);
    snprintf(dbpath, sizeof dbpath, "%s/chain.db", tmp);
    if (generate_chain(migrations))
        return check_done("test_chain");

    gen_mig_set set;
    CHECK(gen_migrations_load(migrations, &set, stderr) == 0 && set.n == 5);
    cb_migration items[7];
    for (size_t i = 0; i < set.n; i++)
        items[i] = (cb_migration){set.items[i].version, set.items[i].name, set.items[i].up,
                                  set.items[i].down};
    cb_migration_list chain = {items, (int)set.n};

    cb_db *db = cb_db_open(dbpath);
    CHECK(db != NULL);
    CHECK(cb_migrate_upgrade(db, &chain, 1, NULL) == CB_OK);
    fill(db);
    check_data(db, 1);
    for (int v = 2; v <= 5; v++) {
        CHECK(cb_migrate_upgrade(db, &chain, v, NULL) == CB_OK);
        CHECK(cb_migrate_current(db) == v);
        check_data(db, v);
    }
    for (int v = 4; v >= 1; v--) {
        CHECK(cb_migrate_downgrade(db, &chain, v, NULL) == CB_OK);
        check_data(db, v);
    }
    CHECK(cb_migrate_upgrade(db, &chain, -1, NULL) == CB_OK);
    check_data(db, 5);

    /* A sixth step whose second statement fails: nothing of it may remain. */
    items[5] = (cb_migration){6, "broken", "CREATE TABLE leftovers (x INTEGER);\n"
                                           "UPDATE posts SET body = 'changed';\n"
                                           "INSERT INTO no_such_table VALUES (1);\n",
                              "DROP TABLE leftovers;\n"};
    cb_migration_list broken = {items, 6};
    char *before = dump(db);
    char *body_before = query(db, "SELECT group_concat(body, ',') FROM posts");
    CHECK(cb_migrate_upgrade(db, &broken, -1, NULL) != CB_OK);
    char *after = dump(db);
    char *body_after = query(db, "SELECT group_concat(body, ',') FROM posts");
    CHECK_STR(after, before);
    CHECK_STR(body_after, body_before);
    CHECK(cb_migrate_current(db) == 5);
    check_data(db, 5);
    free(before);
    free(after);
    free(body_before);
    free(body_after);

    cb_db_close(db);
    gen_migrations_free(&set);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    CHECK(system(cmd) == 0);
    return check_done("test_chain");
}
