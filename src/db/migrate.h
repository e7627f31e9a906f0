/*
 * migrate.h — applying the embedded migrations (Flask-Migrate's role).
 *
 * chatbot-gen copies every file of schema/migrations/ into
 * generated/migrations.c as a cb_migration; the binary carries its whole
 * history. The database records what it has in the table
 * schema_migrations(version INTEGER PRIMARY KEY, name TEXT NOT NULL,
 * applied_at INTEGER NOT NULL).
 *
 * Each migration runs in its own transaction with foreign keys switched off
 * outside it (PRAGMA foreign_keys cannot change inside one) and
 * PRAGMA foreign_key_check before COMMIT: a failure rolls back and leaves
 * the database exactly as it was.
 */
#ifndef CB_DB_MIGRATE_H
#define CB_DB_MIGRATE_H

#include <stdbool.h>
#include <stdio.h>
#include "db/db.h"

typedef struct cb_migration {
    int version;                /* 1, 2, ... from the file name 0001_name.sql */
    const char *name;           /* "initial" */
    const char *up_sql;
    const char *down_sql;
} cb_migration;

/* The binary's own history (generated/migrations.c), ordered by version. */
extern const cb_migration cb_migrations[];
extern const int cb_migrations_count;

/* A history to work on: the embedded one, or one a test loaded itself. */
typedef struct cb_migration_list {
    const cb_migration *items;
    int n;
} cb_migration_list;

cb_migration_list cb_migrations_embedded(void);

/* Version the database is at (0 when empty); -1 on error. */
int cb_migrate_current(cb_db *db);

/* Upgrade to `target` (-1 = latest) or downgrade to `target` (≥ 0). Reports
   each step on `log` (may be NULL) and errors with the version and SQLite's
   message. CB_OK, or the first failure (earlier steps stay applied; the
   failed one leaves nothing behind). An unknown target is CB_INVALID. */
cb_rc cb_migrate_upgrade(cb_db *db, const cb_migration_list *h, int target, FILE *log);
cb_rc cb_migrate_downgrade(cb_db *db, const cb_migration_list *h, int target, FILE *log);

/* 1 when the database is at the latest version, 0 when behind, -1 when it
   is ahead of this binary (a newer version wrote it) or on error. */
int cb_migrate_is_current(cb_db *db, const cb_migration_list *h);

#endif
