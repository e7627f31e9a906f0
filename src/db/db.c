/*
 * db.c — SQLite connections, their prepared statement caches, the mapping of
 * SQLite results to cb_rc, transactions, and the connection pool.
 *
 * A connection is used by one thread at a time (the pool guarantees it), so
 * it is opened with SQLITE_OPEN_NOMUTEX and its statement cache needs no
 * lock. Statements are prepared on first use from cb_stmt_sql[] and kept
 * until the connection closes; SQLite re-prepares them by itself after a
 * schema change (a migration).
 */
#include "db/db.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <yder.h>

#include "util/mem.h"

static const char *const open_pragmas =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "PRAGMA foreign_keys=ON;";

#define CB_BUSY_TIMEOUT_MS 5000

/* Waiting for another connection's write lock. SQLite's own busy_timeout
   sleeps in growing steps of up to 100 ms, so a writer that arrives just
   after another one began waits far longer than the transaction lasts;
   writes here are short, so retry every 200 µs (then every millisecond)
   up to the same total. */
static int busy_wait(void *unused, int attempts)
{
    (void)unused;
    long waited_us = attempts < 50 ? attempts * 200L : 10000L + (attempts - 50) * 1000L;
    if (waited_us >= CB_BUSY_TIMEOUT_MS * 1000L)
        return 0;
    struct timespec ts = {0, attempts < 50 ? 200000L : 1000000L};
    nanosleep(&ts, NULL);
    return 1;
}

cb_db *cb_db_open(const char *path)
{
    sqlite3 *h = NULL;
    int rc = sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                                           SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        y_log_message(Y_LOG_LEVEL_ERROR, "db: cannot open %s: %s", path,
                      h ? sqlite3_errmsg(h) : sqlite3_errstr(rc));
        sqlite3_close(h);
        return NULL;
    }
    sqlite3_extended_result_codes(h, 1);
    sqlite3_busy_handler(h, busy_wait, NULL);
    char *err = NULL;
    if (sqlite3_exec(h, open_pragmas, NULL, NULL, &err) != SQLITE_OK) {
        y_log_message(Y_LOG_LEVEL_ERROR, "db: cannot configure %s: %s", path,
                      err ? err : sqlite3_errmsg(h));
        sqlite3_free(err);
        sqlite3_close(h);
        return NULL;
    }
    cb_db *db = cb_xcalloc(1, sizeof *db);
    db->handle = h;
    db->n_stmts = cb_stmt_count;
    db->stmts = cb_xcalloc((size_t)(cb_stmt_count > 0 ? cb_stmt_count : 1), sizeof *db->stmts);
    return db;
}

void cb_db_close(cb_db *db)
{
    if (!db)
        return;
    for (int i = 0; i < db->n_stmts; i++)
        sqlite3_finalize(db->stmts[i]);
    for (int i = 0; i < CB_CUSTOM_STMTS; i++)
        sqlite3_finalize(db->custom[i]);
    free(db->stmts);
    if (sqlite3_close(db->handle) != SQLITE_OK)
        y_log_message(Y_LOG_LEVEL_ERROR, "db: close: %s", sqlite3_errmsg(db->handle));
    free(db);
}

sqlite3_stmt *cb_db_custom_stmt(cb_db *db, enum cb_custom_slot slot, const char *sql)
{
    sqlite3_stmt **st = &db->custom[slot];
    if (*st) {
        sqlite3_reset(*st);
        sqlite3_clear_bindings(*st);
        return *st;
    }
    if (sqlite3_prepare_v3(db->handle, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK) {
        y_log_message(Y_LOG_LEVEL_ERROR, "db: prepare custom %d: %s", (int)slot,
                      sqlite3_errmsg(db->handle));
        *st = NULL;
    }
    return *st;
}

int cb_db_exec_id(cb_db *db, const char *sql, int64_t id)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->handle, sql, -1, &st, NULL) != SQLITE_OK) {
        y_log_message(Y_LOG_LEVEL_ERROR, "db: prepare: %s", sqlite3_errmsg(db->handle));
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    if (rc)
        y_log_message(Y_LOG_LEVEL_ERROR, "db: %s", sqlite3_errmsg(db->handle));
    sqlite3_finalize(st);
    return rc;
}

sqlite3_stmt *cb_db_stmt(cb_db *db, int id)
{
    if (id < 0 || id >= db->n_stmts) {
        y_log_message(Y_LOG_LEVEL_ERROR, "db: no statement with id %d", id);
        return NULL;
    }
    sqlite3_stmt *st = db->stmts[id];
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
        return st;
    }
    int rc = sqlite3_prepare_v3(db->handle, cb_stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                &st, NULL);
    if (rc != SQLITE_OK) {
        y_log_message(Y_LOG_LEVEL_ERROR, "db: prepare statement %d: %s", id,
                      sqlite3_errmsg(db->handle));
        sqlite3_finalize(st);
        return NULL;
    }
    db->stmts[id] = st;
    return st;
}

cb_rc cb_db_rc(cb_db *db, int sqlite_rc)
{
    switch (sqlite_rc) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return CB_OK;
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
        return CB_CONFLICT;
    }
    switch (sqlite_rc & 0xff) {
    case SQLITE_CONSTRAINT:
        return CB_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return CB_BUSY;
    case SQLITE_TOOBIG:
        return CB_TOOBIG;
    }
    y_log_message(Y_LOG_LEVEL_ERROR, "db: %s (%s)", sqlite3_errmsg(db->handle),
                  sqlite3_errstr(sqlite_rc));
    return CB_ERROR;
}

static cb_rc exec_rc(cb_db *db, const char *sql)
{
    return cb_db_rc(db, sqlite3_exec(db->handle, sql, NULL, NULL, NULL));
}

cb_rc cb_db_begin(cb_db *db)
{
    return exec_rc(db, "BEGIN IMMEDIATE");
}

cb_rc cb_db_commit(cb_db *db)
{
    return exec_rc(db, "COMMIT");
}

void cb_db_rollback(cb_db *db)
{
    /* After some errors SQLite has already rolled back by itself; a second
       ROLLBACK would only log a spurious "no transaction is active". */
    if (!sqlite3_get_autocommit(db->handle))
        exec_rc(db, "ROLLBACK");
}

/* --- the pool ------------------------------------------------------------ */

static struct {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    bool cond_ready;        /* the condition variable outlives shutdowns */
    cb_db **idle;           /* stack of connections ready for checkout */
    int size, n_idle;       /* size: connections open, idle or checked out */
    bool open;
} pool = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Called with the lock held; the first pool_init of the process. */
static void pool_cond_init(void)
{
    if (pool.cond_ready)
        return;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pool.freed, &attr);
    pthread_condattr_destroy(&attr);
    pool.cond_ready = true;
}

int cb_pool_init(const char *path, int size)
{
    if (size < 1)
        return -1;
    cb_db **conns = cb_xcalloc((size_t)size, sizeof *conns);
    for (int i = 0; i < size; i++) {
        conns[i] = cb_db_open(path);
        if (!conns[i]) {
            while (i-- > 0)
                cb_db_close(conns[i]);
            free(conns);
            return -1;
        }
    }
    pthread_mutex_lock(&pool.lock);
    if (pool.open || pool.size > 0) {
        pthread_mutex_unlock(&pool.lock);
        for (int i = 0; i < size; i++)
            cb_db_close(conns[i]);
        free(conns);
        return -1;
    }
    pool_cond_init();
    pool.idle = conns;
    pool.size = pool.n_idle = size;
    pool.open = true;
    pthread_mutex_unlock(&pool.lock);
    return 0;
}

static void deadline_after(int timeout_ms, struct timespec *ts)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* A negative timeout waits for as long as it takes. NULL after the timeout
   or once the pool is shut down. */
cb_db *cb_pool_get(int timeout_ms)
{
    struct timespec deadline;
    if (timeout_ms >= 0)
        deadline_after(timeout_ms, &deadline);
    pthread_mutex_lock(&pool.lock);
    while (pool.open && pool.n_idle == 0) {
        int rc = timeout_ms >= 0 ? pthread_cond_timedwait(&pool.freed, &pool.lock, &deadline)
                                 : pthread_cond_wait(&pool.freed, &pool.lock);
        if (rc == ETIMEDOUT)
            break;
    }
    cb_db *db = NULL;
    if (pool.open && pool.n_idle > 0)
        db = pool.idle[--pool.n_idle];
    pthread_mutex_unlock(&pool.lock);
    return db;
}

void cb_pool_put(cb_db *db)
{
    if (!db)
        return;
    /* A request that failed half-way must not hand its transaction on. */
    cb_db_rollback(db);
    pthread_mutex_lock(&pool.lock);
    if (pool.open) {
        pool.idle[pool.n_idle++] = db;
        pthread_cond_signal(&pool.freed);
    } else {
        /* Returned after shutdown: the last one out frees the stack. */
        cb_db_close(db);
        if (--pool.size == 0) {
            free(pool.idle);
            pool.idle = NULL;
        }
    }
    pthread_mutex_unlock(&pool.lock);
}

/* Closes every idle connection at once and each checked-out one as it comes
   back; threads blocked in cb_pool_get get NULL. */
void cb_pool_shutdown(void)
{
    pthread_mutex_lock(&pool.lock);
    if (!pool.open) {
        pthread_mutex_unlock(&pool.lock);
        return;
    }
    pool.open = false;
    while (pool.n_idle > 0) {
        cb_db_close(pool.idle[--pool.n_idle]);
        pool.size--;
    }
    if (pool.size == 0) {
        free(pool.idle);
        pool.idle = NULL;
    }
    pthread_cond_broadcast(&pool.freed);
    pthread_mutex_unlock(&pool.lock);
}
