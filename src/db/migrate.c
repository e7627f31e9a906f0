/*
 * migrate.c — the migration runner: brings a database up or down the
 * embedded history one version at a time.
 *
 * Each step is atomic: foreign keys are switched off outside the
 * transaction (the table-rebuild recipe drops and renames tables that
 * others reference), the step's SQL and its schema_migrations bookkeeping
 * run inside one BEGIN IMMEDIATE ... COMMIT, and PRAGMA foreign_key_check
 * must find nothing before COMMIT. Any failure rolls the step back, so the
 * database is exactly as the previous step left it, and foreign keys are
 * always switched back on.
 */
#include "db/migrate.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

static const char *const create_table_sql =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)";

cb_migration_list cb_migrations_embedded(void)
{
    return (cb_migration_list){cb_migrations, cb_migrations_count};
}

static bool table_exists(cb_db *db, bool *exists)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->handle,
                           "SELECT 1 FROM sqlite_master WHERE type = 'table' "
                           "AND name = 'schema_migrations'", -1, &st, NULL) != SQLITE_OK)
        return false;
    int rc = sqlite3_step(st);
    *exists = rc == SQLITE_ROW;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE;
}

int cb_migrate_current(cb_db *db)
{
    bool exists;
    if (!table_exists(db, &exists))
        return -1;
    if (!exists)
        return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->handle, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
                           -1, &st, NULL) != SQLITE_OK)
        return -1;
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

static int latest_version(const cb_migration_list *h)
{
    return h->n > 0 ? h->items[h->n - 1].version : 0;
}

static const cb_migration *find_migration(const cb_migration_list *h, int version)
{
    for (int i = 0; i < h->n; i++)
        if (h->items[i].version == version)
            return &h->items[i];
    return NULL;
}

/* Where messages go: the caller's log, else stderr so a failure is never
   silent. */
static FILE *err_out(FILE *log)
{
    return log ? log : stderr;
}

static bool exec_sql(cb_db *db, const char *sql, char **err)
{
    char *msg = NULL;
    if (sqlite3_exec(db->handle, sql, NULL, NULL, &msg) == SQLITE_OK)
        return true;
    *err = cb_xstrdup(msg ? msg : sqlite3_errmsg(db->handle));
    sqlite3_free(msg);
    return false;
}

/* The first table foreign_key_check complains about, as an error. */
static bool fk_check(cb_db *db, char **err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->handle, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK) {
        *err = cb_xstrdup(sqlite3_errmsg(db->handle));
        return false;
    }
    int rc = sqlite3_step(st);
    bool ok = rc == SQLITE_DONE;
    if (rc == SQLITE_ROW)
        *err = cb_xasprintf("foreign key violation in table %s",
                            (const char *)sqlite3_column_text(st, 0));
    else if (!ok)
        *err = cb_xstrdup(sqlite3_errmsg(db->handle));
    sqlite3_finalize(st);
    return ok;
}

static bool record_step(cb_db *db, const cb_migration *mg, bool up, char **err)
{
    sqlite3_stmt *st;
    const char *sql = up ? "INSERT INTO schema_migrations (version, name, applied_at) "
                           "VALUES (?1, ?2, ?3)"
                         : "DELETE FROM schema_migrations WHERE version = ?1";
    if (sqlite3_prepare_v2(db->handle, sql, -1, &st, NULL) != SQLITE_OK) {
        *err = cb_xstrdup(sqlite3_errmsg(db->handle));
        return false;
    }
    sqlite3_bind_int(st, 1, mg->version);
    if (up) {
        sqlite3_bind_text(st, 2, mg->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 3, cb_now_ms());
    }
    bool ok = sqlite3_step(st) == SQLITE_DONE;
    if (!ok)
        *err = cb_xstrdup(sqlite3_errmsg(db->handle));
    sqlite3_finalize(st);
    return ok;
}

/* Applies (up) or reverts one migration atomically. */
static cb_rc run_step(cb_db *db, const cb_migration *mg, bool up, FILE *log)
{
    const char *sql = up ? mg->up_sql : mg->down_sql;
    char *err = NULL;
    bool began = false;
    bool ok = sql != NULL;
    if (!ok)
        err = cb_xstrdup("it has no down SQL");
    ok = ok && exec_sql(db, "PRAGMA foreign_keys=OFF", &err);
    ok = ok && exec_sql(db, "BEGIN IMMEDIATE", &err);
    began = ok;
    ok = ok && exec_sql(db, sql, &err);
    ok = ok && fk_check(db, &err);
    ok = ok && record_step(db, mg, up, &err);
    ok = ok && exec_sql(db, "COMMIT", &err);
    if (!ok && began && !sqlite3_get_autocommit(db->handle))
        sqlite3_exec(db->handle, "ROLLBACK", NULL, NULL, NULL);
    char *on_err = NULL;
    if (!exec_sql(db, "PRAGMA foreign_keys=ON", &on_err) && ok) {
        ok = false;
        err = on_err;
        on_err = NULL;
    }
    free(on_err);
    if (!ok) {
        fprintf(err_out(log), "migration %04d (%s) failed: %s\n", mg->version, mg->name,
                err ? err : "unknown error");
        free(err);
        return CB_ERROR;
    }
    if (log)
        fprintf(log, "%s %04d (%s)\n", up ? "applied" : "reverted", mg->version, mg->name);
    return CB_OK;
}

static cb_rc prepare(cb_db *db, FILE *log, int *current)
{
    if (!sqlite3_get_autocommit(db->handle)) {
        fprintf(err_out(log), "migrations cannot run inside a transaction\n");
        return CB_ERROR;
    }
    char *err = NULL;
    if (!exec_sql(db, create_table_sql, &err)) {
        fprintf(err_out(log), "cannot create schema_migrations: %s\n", err);
        free(err);
        return CB_ERROR;
    }
    *current = cb_migrate_current(db);
    if (*current < 0) {
        fprintf(err_out(log), "cannot read schema_migrations: %s\n", sqlite3_errmsg(db->handle));
        return CB_ERROR;
    }
    return CB_OK;
}

cb_rc cb_migrate_upgrade(cb_db *db, const cb_migration_list *h, int target, FILE *log)
{
    int latest = latest_version(h), current;
    if (target < 0)
        target = latest;
    if (target != 0 && !find_migration(h, target)) {
        fprintf(err_out(log), "unknown migration version %d\n", target);
        return CB_INVALID;
    }
    cb_rc rc = prepare(db, log, &current);
    if (rc != CB_OK)
        return rc;
    if (current > target) {
        fprintf(err_out(log), "database is at version %d, past the target %d%s\n", current,
                target, current > latest ? " (written by a newer version)" : "");
        return CB_INVALID;
    }
    for (int i = 0; i < h->n; i++) {
        const cb_migration *mg = &h->items[i];
        if (mg->version <= current || mg->version > target)
            continue;
        rc = run_step(db, mg, true, log);
        if (rc != CB_OK)
            return rc;
    }
    return CB_OK;
}

/* The applied version just below `version`, or 0. */
static int previous_applied(cb_db *db, int version)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->handle,
                           "SELECT COALESCE(MAX(version), 0) FROM schema_migrations "
                           "WHERE version < ?1", -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int(st, 1, version);
    int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    return v;
}

cb_rc cb_migrate_downgrade(cb_db *db, const cb_migration_list *h, int target, FILE *log)
{
    int current;
    if (target < 0 || (target != 0 && !find_migration(h, target))) {
        fprintf(err_out(log), "unknown migration version %d\n", target);
        return CB_INVALID;
    }
    cb_rc rc = prepare(db, log, &current);
    if (rc != CB_OK)
        return rc;
    if (current < target) {
        fprintf(err_out(log), "database is at version %d, below the target %d\n", current,
                target);
        return CB_INVALID;
    }
    while (current > target) {
        const cb_migration *mg = find_migration(h, current);
        if (!mg) {
            fprintf(err_out(log), "migration %04d is not known to this binary\n", current);
            return CB_INVALID;
        }
        rc = run_step(db, mg, false, log);
        if (rc != CB_OK)
            return rc;
        current = previous_applied(db, current);
        if (current < 0) {
            fprintf(err_out(log), "cannot read schema_migrations: %s\n",
                    sqlite3_errmsg(db->handle));
            return CB_ERROR;
        }
    }
    return CB_OK;
}

int cb_migrate_is_current(cb_db *db, const cb_migration_list *h)
{
    int current = cb_migrate_current(db);
    int latest = latest_version(h);
    if (current < 0 || current > latest)
        return -1;
    return current == latest;
}
