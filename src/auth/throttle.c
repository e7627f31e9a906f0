/*
 * throttle.c — see throttle.h. Counters live in the login_attempts table:
 * (scope, subject) unique, a failure count within a one-hour window and a
 * lock deadline.
 */
#include "auth/throttle.h"
#include "db/db.h"
#include "server/config.h"

#include <string.h>

#define WINDOW_MS (3600LL * 1000)

static int64_t step_int(sqlite3_stmt *q)
{
    int64_t v = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
    sqlite3_reset(q);
    return v;
}

int64_t cb_throttle_wait(cb_db *db, const char *account, const char *address)
{
    sqlite3_stmt *q = cb_db_custom_stmt(db, CB_Q_THROTTLE_LOCKED,
        "SELECT coalesce(max(locked_until), 0) FROM login_attempts WHERE "
        "(scope = 'account' AND subject = ?1) OR (scope = 'address' AND subject = ?2)");
    if (!q)
        return 0;
    sqlite3_bind_text(q, 1, account, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, address, -1, SQLITE_STATIC);
    int64_t until = step_int(q), now = cb_now_ms();
    return until > now ? until - now : 0;
}

/* Counts one event for (scope, subject) in the current window; returns the
   count so far and, when asked, when the window started. */
static int64_t count_event(cb_db *db, const char *scope, const char *subject, int64_t now,
                           int64_t *window_start)
{
    sqlite3_stmt *q = cb_db_custom_stmt(db, CB_Q_THROTTLE_FAIL,
        "INSERT INTO login_attempts (scope, subject, failures, window_start) VALUES (?1, ?2, 1, ?3) "
        "ON CONFLICT (scope, subject) DO UPDATE SET "
        "failures = CASE WHEN window_start <= ?3 - ?4 THEN 1 ELSE failures + 1 END, "
        "window_start = CASE WHEN window_start <= ?3 - ?4 THEN ?3 ELSE window_start END "
        "RETURNING failures, window_start");
    if (!q)
        return 0;
    sqlite3_bind_text(q, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, now);
    sqlite3_bind_int64(q, 4, WINDOW_MS);
    int64_t n = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        n = sqlite3_column_int64(q, 0);
        if (window_start)
            *window_start = sqlite3_column_int64(q, 1);
    }
    sqlite3_reset(q);
    return n;
}

static void lock(cb_db *db, const char *scope, const char *subject, int64_t until)
{
    sqlite3_stmt *q = cb_db_custom_stmt(db, CB_Q_THROTTLE_LOCK,
        "UPDATE login_attempts SET locked_until = ?3 WHERE scope = ?1 AND subject = ?2");
    if (!q)
        return;
    sqlite3_bind_text(q, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_text(q, 2, subject, -1, SQLITE_STATIC);
    sqlite3_bind_int64(q, 3, until);
    step_int(q);
}

static void fail_one(cb_db *db, const char *scope, const char *subject, int free_failures)
{
    if (!subject || !*subject)
        return;
    int64_t now = cb_now_ms(), n = count_event(db, scope, subject, now, NULL);
    if (n <= free_failures)
        return;
    int64_t over = n - free_failures, seconds = 1;
    while (over-- > 0 && seconds < cb_cfg->login_max_lock_s)
        seconds *= 2;
    if (seconds > cb_cfg->login_max_lock_s)
        seconds = cb_cfg->login_max_lock_s;
    lock(db, scope, subject, now + seconds * 1000);
}

void cb_throttle_failed(cb_db *db, const char *account, const char *address)
{
    fail_one(db, "account", account, cb_cfg->login_free_failures_account);
    fail_one(db, "address", address, cb_cfg->login_free_failures_address);
}

void cb_throttle_succeeded(cb_db *db, const char *account)
{
    sqlite3_stmt *q = cb_db_custom_stmt(db, CB_Q_THROTTLE_RESET,
        "DELETE FROM login_attempts WHERE scope = 'account' AND subject = ?1");
    if (!q)
        return;
    sqlite3_bind_text(q, 1, account, -1, SQLITE_STATIC);
    step_int(q);
}

int64_t cb_throttle_registration(cb_db *db, const char *address)
{
    char subject[96];
    snprintf(subject, sizeof subject, "register %s", address);
    int64_t start = 0, now = cb_now_ms(), n = count_event(db, "address", subject, now, &start);
    /* Over the limit: wait until this hour's window closes. */
    return n > cb_cfg->registrations_per_hour ? start + WINDOW_MS - now : 0;
}
