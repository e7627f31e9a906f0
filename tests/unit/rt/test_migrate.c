/*
 * test_migrate.c — the migration runner on a real SQLite file: upgrade to a
 * version and to the latest, the table-rebuild recipe with foreign keys
 * off, downgrade step by step, and failing steps (bad SQL, a foreign key
 * violation, a broken down migration) that must leave the database exactly
 * as it was.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "db/db.h"
#include "db/migrate.h"

const int cb_stmt_count = 0;
const char *const cb_stmt_sql[] = {NULL};

#define M1_UP "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT NOT NULL);\n" \
              "INSERT INTO a (id, v) VALUES (1, 'x'), (2, 'y');\n"
#define M1_DOWN "DROP TABLE a;\n"
#define M2_UP "CREATE TABLE b (id INTEGER PRIMARY KEY, " \
              "a_id INTEGER NOT NULL REFERENCES a (id) ON DELETE CASCADE);\n" \
              "INSERT INTO b (id, a_id) VALUES (1, 1);\n"
#define M2_DOWN "DROP TABLE b;\n"
/* The table-rebuild recipe on a table that b references. */
#define M3_UP "CREATE TABLE a_new (id INTEGER PRIMARY KEY, v TEXT NOT NULL, " \
              "w INTEGER NOT NULL DEFAULT 0);\n" \
              "INSERT INTO a_new (id, v) SELECT id, v FROM a;\n" \
              "DROP TABLE a;\n" \
              "ALTER TABLE a_new RENAME TO a;\n"
#define M3_DOWN "CREATE TABLE a_old (id INTEGER PRIMARY KEY, v TEXT NOT NULL);\n" \
                "INSERT INTO a_old (id, v) SELECT id, v FROM a;\n" \
                "DROP TABLE a;\n" \
                "ALTER TABLE a_old RENAME TO a;\n"

const cb_migration cb_migrations[] = {
    {1, "create a", M1_UP, M1_DOWN},
    {2, "create b", M2_UP, M2_DOWN},
    {3, "rebuild a", M3_UP, M3_DOWN},
};
const int cb_migrations_count = 3;

static const cb_migration with_bad_sql[] = {
    {1, "create a", M1_UP, M1_DOWN},
    {2, "create b", M2_UP, M2_DOWN},
    {3, "rebuild a", M3_UP, M3_DOWN},
    {4, "broken", "CREATE TABLE c (x INTEGER);\nINSERT INTO a (id, v) VALUES (3, 'z');\n"
                  "SELEC nonsense;\n", "DROP TABLE c;\n"},
};

static const cb_migration with_orphan[] = {
    {1, "create a", M1_UP, M1_DOWN},
    {2, "create b", M2_UP, M2_DOWN},
    {3, "rebuild a", M3_UP, M3_DOWN},
    {4, "orphan", "CREATE TABLE c (x INTEGER);\nINSERT INTO b (id, a_id) VALUES (2, 99);\n",
     "DROP TABLE c;\n"},
};

static const cb_migration with_bad_down[] = {
    {1, "create a", M1_UP, M1_DOWN},
    {2, "create b", M2_UP, "DROP TABLE b;\nDROP TABLE no_such_table;\n"},
    {3, "rebuild a", M3_UP, M3_DOWN},
};

/* The whole schema plus the rows of a and b, to compare before and after. */
static char *snapshot(cb_db *db)
{
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    static const char *const queries[] = {
        "SELECT type, name, sql FROM sqlite_master ORDER BY name",
        "SELECT * FROM a ORDER BY id",
        "SELECT * FROM b ORDER BY id",
        "SELECT version, name FROM schema_migrations ORDER BY version",
    };
    for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db->handle, queries[q], -1, &st, NULL) != SQLITE_OK) {
            fprintf(f, "[%s: no]\n", queries[q]);
            continue;
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            for (int c = 0; c < sqlite3_column_count(st); c++) {
                const unsigned char *t = sqlite3_column_text(st, c);
                fprintf(f, "%s|", t ? (const char *)t : "NULL");
            }
            fputc('\n', f);
        }
        sqlite3_finalize(st);
    }
    fclose(f);
    return out;
}

static bool table_exists(cb_db *db, const char *name)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db->handle, "SELECT 1 FROM sqlite_master WHERE name = ?1", -1, &st, NULL);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bool yes = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return yes;
}

static int foreign_keys_on(cb_db *db)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db->handle, "PRAGMA foreign_keys", -1, &st, NULL);
    int on = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return on;
}

/* Runs fn's migration call with a captured log; returns the log text. */
static char *log_buf;
static size_t log_len;

static FILE *log_open(void)
{
    free(log_buf);
    log_buf = NULL;
    return open_memstream(&log_buf, &log_len);
}

static void test_up_and_down(cb_db *db)
{
    cb_migration_list h = cb_migrations_embedded();
    CHECK(h.n == 3 && h.items == cb_migrations);
    CHECK(cb_migrate_current(db) == 0);
    CHECK(cb_migrate_is_current(db, &h) == 0);

    FILE *log = log_open();
    CHECK(cb_migrate_upgrade(db, &h, 2, log) == CB_OK);
    fclose(log);
    CHECK_STR(log_buf, "applied 0001 (create a)\napplied 0002 (create b)\n");
    CHECK(cb_migrate_current(db) == 2);
    CHECK(cb_migrate_is_current(db, &h) == 0);

    CHECK(cb_migrate_upgrade(db, &h, -1, NULL) == CB_OK);
    CHECK(cb_migrate_current(db) == 3);
    CHECK(cb_migrate_is_current(db, &h) == 1);
    CHECK(foreign_keys_on(db) == 1);
    /* The rebuild kept the rows and the reference. */
    char *snap = snapshot(db);
    CHECK(strstr(snap, "1|x|0|\n2|y|0|\n1|1|\n") != NULL);
    free(snap);
    CHECK(cb_migrate_upgrade(db, &h, -1, NULL) == CB_OK);      /* nothing to do */
    CHECK(cb_migrate_current(db) == 3);

    /* Unknown targets, and targets on the wrong side. */
    CHECK(cb_migrate_upgrade(db, &h, 7, NULL) == CB_INVALID);
    CHECK(cb_migrate_downgrade(db, &h, 9, NULL) == CB_INVALID);
    CHECK(cb_migrate_downgrade(db, &h, -1, NULL) == CB_INVALID);
    log = log_open();
    CHECK(cb_migrate_upgrade(db, &h, 1, log) == CB_INVALID);
    fclose(log);
    CHECK(strstr(log_buf, "past the target") != NULL);

    /* A database ahead of the binary. */
    cb_migration_list older = {cb_migrations, 2};
    CHECK(cb_migrate_is_current(db, &older) == -1);
    CHECK(cb_migrate_upgrade(db, &older, -1, NULL) == CB_INVALID);

    log = log_open();
    CHECK(cb_migrate_downgrade(db, &h, 1, log) == CB_OK);
    fclose(log);
    CHECK_STR(log_buf, "reverted 0003 (rebuild a)\nreverted 0002 (create b)\n");
    CHECK(cb_migrate_current(db) == 1);
    CHECK(table_exists(db, "a") && !table_exists(db, "b"));
    snap = snapshot(db);
    CHECK(strstr(snap, "1|x|\n2|y|\n") != NULL);       /* w is gone again */
    free(snap);

    CHECK(cb_migrate_downgrade(db, &h, 0, NULL) == CB_OK);
    CHECK(cb_migrate_current(db) == 0);
    CHECK(!table_exists(db, "a"));
    CHECK(cb_migrate_downgrade(db, &h, 0, NULL) == CB_OK);     /* nothing to do */
}

static void test_failures(cb_db *db)
{
    cb_migration_list h = cb_migrations_embedded();
    CHECK(cb_migrate_upgrade(db, &h, -1, NULL) == CB_OK);
    char *before = snapshot(db);

    /* Bad SQL half-way through a step: nothing of the step remains. */
    cb_migration_list bad = {with_bad_sql, 4};
    FILE *log = log_open();
    CHECK(cb_migrate_upgrade(db, &bad, -1, log) == CB_ERROR);
    fclose(log);
    CHECK(strncmp(log_buf, "migration 0004 (broken) failed: ", 32) == 0);
    CHECK(strstr(log_buf, "SELEC") != NULL);
    CHECK(cb_migrate_current(db) == 3);
    CHECK(!table_exists(db, "c"));
    char *after = snapshot(db);
    CHECK_STR(after, before);
    free(after);
    CHECK(foreign_keys_on(db) == 1);
    CHECK(sqlite3_get_autocommit(db->handle));

    /* A foreign key violation is caught before COMMIT. */
    cb_migration_list orphan = {with_orphan, 4};
    log = log_open();
    CHECK(cb_migrate_upgrade(db, &orphan, -1, log) == CB_ERROR);
    fclose(log);
    CHECK_STR(log_buf, "migration 0004 (orphan) failed: foreign key violation in table b\n");
    CHECK(cb_migrate_current(db) == 3);
    after = snapshot(db);
    CHECK_STR(after, before);
    free(after);
    CHECK(foreign_keys_on(db) == 1);

    /* Earlier steps stay applied when a later one fails. */
    CHECK(cb_migrate_downgrade(db, &h, 1, NULL) == CB_OK);
    log = log_open();
    CHECK(cb_migrate_upgrade(db, &bad, -1, log) == CB_ERROR);
    fclose(log);
    CHECK(strstr(log_buf, "applied 0002 (create b)\napplied 0003 (rebuild a)\n"
                          "migration 0004 (broken) failed: ") == log_buf);
    CHECK(cb_migrate_current(db) == 3);

    /* A broken down step leaves the version where it was. */
    cb_migration_list bad_down = {with_bad_down, 3};
    log = log_open();
    CHECK(cb_migrate_downgrade(db, &bad_down, 0, log) == CB_ERROR);
    fclose(log);
    CHECK(strstr(log_buf, "reverted 0003 (rebuild a)\n"
                          "migration 0002 (create b) failed: no such table: no_such_table") ==
          log_buf);
    CHECK(cb_migrate_current(db) == 2);
    CHECK(table_exists(db, "b"));
    CHECK(foreign_keys_on(db) == 1);

    /* Never inside a caller's transaction. */
    CHECK(cb_db_begin(db) == CB_OK);
    log = log_open();
    CHECK(cb_migrate_upgrade(db, &h, -1, log) == CB_ERROR);
    fclose(log);
    cb_db_rollback(db);
    CHECK(cb_migrate_current(db) == 2);
    free(before);
}

int main(void)
{
    char path[] = "/tmp/cb-test-migrate-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 2;
    close(fd);
    cb_db *db = cb_db_open(path);
    CHECK(db != NULL);
    if (db) {
        test_up_and_down(db);
        test_failures(db);
        cb_db_close(db);
    }
    free(log_buf);
    char side[64];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return check_done("test_migrate");
}
