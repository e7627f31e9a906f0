/*
 * test_ddl.c — the DDL of tests/fixtures/notes.schema on a real SQLite: it
 * applies cleanly, its CHECK constraints refuse what the API would, its
 * foreign keys cascade, and the FTS5 triggers keep the search index in step
 * with inserts, updates and deletes.
 */
#include "check.h"
#include "emit.h"
#include "parser.h"

#include <sqlite3.h>

static sqlite3 *db;

static bool ok(const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
}

static int count(const char *sql)
{
    sqlite3_stmt *q;
    int n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        n = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    return n;
}

/* The error message of `sql`, "" when it succeeds. */
static const char *error_of(const char *sql)
{
    static char text[256];
    char *err = NULL;
    sqlite3_exec(db, sql, NULL, NULL, &err);
    snprintf(text, sizeof text, "%s", err ? err : "");
    sqlite3_free(err);
    return text;
}

static void test_constraints(void)
{
    CHECK(ok("INSERT INTO notes (id, title) VALUES (1, 'first note')"));
    CHECK(count("SELECT priority FROM notes WHERE id = 1") == 5);
    CHECK(count("SELECT created_at > 1700000000000 FROM notes WHERE id = 1") == 1);
    CHECK(!ok("INSERT INTO notes (title, kind) VALUES ('x', 'chore')"));
    CHECK(!ok("INSERT INTO notes (title, priority) VALUES ('x', 11)"));
    /* Each CHECK is named after its column, so the error says which. */
    CHECK_STR(error_of("INSERT INTO notes (title, priority) VALUES ('x', 11)"),
              "CHECK constraint failed: priority");
    CHECK_STR(error_of("INSERT INTO notes (title, kind) VALUES ('x', 'chore')"),
              "CHECK constraint failed: kind");
    CHECK(!ok("INSERT INTO notes (title, priority) VALUES ('x', -1)"));
    CHECK(!ok("INSERT INTO notes (title, done) VALUES ('x', 2)"));
    CHECK(!ok("INSERT INTO notes (title) VALUES ('')"));
    CHECK(!ok("INSERT INTO notes (title) VALUES (printf('%.101c', 'a'))"));
    CHECK(ok("INSERT INTO notes (title) VALUES (printf('%.100c', 'a'))"));
    CHECK(!ok("INSERT INTO notes (title, extra) VALUES ('x', '{not json')"));
    CHECK(ok("INSERT INTO notes (title, extra) VALUES ('x', '{\"a\": [1]}')"));
    CHECK(!ok("INSERT INTO notes (body) VALUES ('no title')"));
    CHECK(ok("INSERT INTO tags (note_id, label) VALUES (1, 'red')"));
    CHECK(!ok("INSERT INTO tags (note_id, label) VALUES (1, 'red')"));
    CHECK(!ok("INSERT INTO tags (note_id, label) VALUES (999, 'blue')"));
    CHECK(ok("DELETE FROM notes WHERE id = 1"));
    CHECK(count("SELECT count(*) FROM tags") == 0);
}

static int matches(const char *query)
{
    char *sql = sqlite3_mprintf("SELECT count(*) FROM notes_fts WHERE notes_fts MATCH %Q", query);
    int n = count(sql);
    sqlite3_free(sql);
    return n;
}

static void test_search_sync(void)
{
    CHECK(ok("INSERT INTO notes (id, title, body) VALUES (10, 'Café menu', 'croissant')"));
    CHECK(matches("cafe") == 1);
    CHECK(matches("croissant") == 1);
    CHECK(ok("UPDATE notes SET body = 'baguette' WHERE id = 10"));
    CHECK(matches("croissant") == 0);
    CHECK(matches("baguette") == 1);
    CHECK(ok("UPDATE notes SET priority = 7 WHERE id = 10"));
    CHECK(matches("baguette") == 1);
    CHECK(ok("DELETE FROM notes WHERE id = 10"));
    CHECK(matches("baguette") == 0);
    CHECK(matches("cafe") == 0);
    CHECK(ok("INSERT INTO notes_fts(notes_fts) VALUES ('integrity-check')"));
}

/* A model referring to one declared after it is created after it. */
static void test_order(void)
{
    const char *src = "model post {\n    table posts\n    id id\n"
                      "    author_id ref(author) on_delete(cascade)\n}\n"
                      "model author {\n    table authors\n    id id\n    name text(20)\n}\n";
    gen_schema s;
    CHECK(gen_parse("order.schema", src, strlen(src), &s, stderr) == 0 &&
          gen_check(&s, stderr) == 0);
    gen_buf ddl = {0};
    gen_sql_ddl(&s, &ddl);
    const char *authors = strstr(ddl.data, "CREATE TABLE authors");
    const char *posts = strstr(ddl.data, "CREATE TABLE posts");
    CHECK(authors && posts && authors < posts);
    CHECK(strstr(ddl.data, "CREATE INDEX idx_posts_author_id ON posts (author_id);") != NULL);
    gen_buf_free(&ddl);
    gen_schema_free(&s);
}

int main(void)
{
    gen_schema s;
    if (gen_parse_file("tests/fixtures/notes.schema", &s, stderr) || gen_check(&s, stderr))
        return 1;
    gen_buf ddl = {0};
    gen_sql_ddl(&s, &ddl);
    CHECK(ddl.len > 0 && ddl.data[ddl.len - 1] == '\n');
    CHECK(strstr(ddl.data, "STRICT") == NULL);
    gen_buf again = {0};
    gen_sql_ddl(&s, &again);
    CHECK_STR(again.data, ddl.data);
    sqlite3_open(":memory:", &db);
    CHECK(ok("PRAGMA foreign_keys = ON"));
    char *err = NULL;
    CHECK(sqlite3_exec(db, ddl.data, NULL, NULL, &err) == SQLITE_OK);
    if (err)
        fprintf(stderr, "DDL: %s\n", err);
    sqlite3_free(err);
    test_constraints();
    test_search_sync();
    test_order();
    sqlite3_close(db);
    gen_buf_free(&ddl);
    gen_buf_free(&again);
    gen_schema_free(&s);
    return check_done("test_ddl");
}
