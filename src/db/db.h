/*
 * db.h — SQLite connections, the connection pool and the per-connection
 * prepared statement cache.
 *
 * HTTP threads can number in the thousands (one per connection), so
 * connections are pooled, not per thread: a request checks one out, and a
 * stream gives it back while it waits for tokens. Each connection keeps the
 * statements it prepared (SQLITE_PREPARE_PERSISTENT), indexed by the ids the
 * generator assigns (0 .. cb_stmt_count - 1). Every connection runs in WAL
 * mode with foreign_keys=ON and a busy_timeout.
 */
#ifndef CB_DB_DB_H
#define CB_DB_DB_H

#include <sqlite3.h>
#include "db/model.h"

#define CB_CUSTOM_STMTS 32

struct cb_db {
    sqlite3 *handle;
    sqlite3_stmt **stmts;       /* cb_stmt_count slots, prepared lazily */
    int n_stmts;
    sqlite3_stmt *custom[CB_CUSTOM_STMTS];  /* hand-written queries, see cb_db_custom_stmt */
};

/* Statement ids and their SQL, emitted by chatbot-gen (generated/models.c). */
extern const int cb_stmt_count;
extern const char *const cb_stmt_sql[];

/* Opens path (creating it), sets the pragmas. NULL on failure (logged). */
cb_db *cb_db_open(const char *path);
void cb_db_close(cb_db *db);

/* The cached statement `id`, reset and with bindings cleared, ready to bind.
   `sql` must equal cb_stmt_sql[id]. NULL on a prepare error (logged). */
sqlite3_stmt *cb_db_stmt(cb_db *db, int id);

/* A hand-written statement cached in `slot` (0 .. CB_CUSTOM_STMTS - 1;
   each caller owns a fixed slot, listed in src/db/db.c), prepared from
   `sql` on first use, reset and with bindings cleared. NULL on error. */
enum cb_custom_slot {
    CB_Q_SESSION_IDENTITY, CB_Q_USER_ROLE_NAMES, CB_Q_TOKEN_IDENTITY, CB_Q_TOKEN_TOUCH,
    CB_Q_END_OTHER_SESSIONS, CB_Q_END_TOKENS, CB_Q_THROTTLE_LOCKED, CB_Q_THROTTLE_FAIL,
    CB_Q_THROTTLE_LOCK, CB_Q_THROTTLE_RESET,
    CB_Q_CHAT_SEARCH,           /* src/chat/search.c */
    CB_Q_CHAT_HISTORY, CB_Q_REPLY_STORE, CB_Q_LAST_MESSAGE, CB_Q_CONVERSATION_TOUCH, /* src/chat */
    CB_Q_REPLY_PROGRESS,
    CB_Q_SLOTS_USED
};
_Static_assert(CB_Q_SLOTS_USED <= CB_CUSTOM_STMTS, "raise CB_CUSTOM_STMTS");
sqlite3_stmt *cb_db_custom_stmt(cb_db *db, enum cb_custom_slot slot, const char *sql);

/* Runs a one-off statement whose only parameter ?1 is an id (admin
   actions, not hot paths: prepared each time). 0, or -1 (logged). */
int cb_db_exec_id(cb_db *db, const char *sql, int64_t id);

/* Maps the result of sqlite3_step/exec to a cb_rc (constraint kinds apart). */
cb_rc cb_db_rc(cb_db *db, int sqlite_rc);

cb_rc cb_db_begin(cb_db *db);       /* BEGIN IMMEDIATE */
cb_rc cb_db_commit(cb_db *db);
void cb_db_rollback(cb_db *db);

/* The pool: fixed size, blocking checkout with a timeout. */
int cb_pool_init(const char *path, int size);
cb_db *cb_pool_get(int timeout_ms);
void cb_pool_put(cb_db *db);
void cb_pool_shutdown(void);

#endif
