/*
 * identify.c — who is calling, resolved once per request before any
 * handler: the session cookie (hashed, looked up, expiry checked, the user
 * still active, the CSRF header compared in constant time). Overrides the
 * runtime's anonymous default (src/http/auth.c).
 */
#include "auth/session.h"
#include "auth/tokens.h"
#include "auth/users.h"
#include "db/db.h"
#include "http/auth.h"
#include "models.h"

#include <stdlib.h>
#include <string.h>

/* Sessions are touched at most once a minute: a write per request would
   serialise every reader on SQLite's write lock. */
#define TOUCH_EVERY_MS (60 * 1000)

/* Session, account and admin role in one statement: this runs on every
   request that carries a cookie. */
static const char identity_sql[] =
    "SELECT s.id, s.csrf_token, s.remember, s.last_seen_at, s.expires_at, u.id, u.active,"
    CB_SQL_IDENTITY_COLUMNS
    " FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1";

static void touch(cb_db *db, int64_t session_id, int64_t now)
{
    cb_session t;
    cb_session_init(&t);
    cb_row_set_int(&cb_model_session, &t, CB_SESSION_ID, session_id);
    cb_row_set_int(&cb_model_session, &t, CB_SESSION_LAST_SEEN_AT, now);
    cb_session_update(db, &t);
    cb_session_clear(&t);
}

void cb_auth_identify(cb_ctx *ctx)
{
    ctx->user_id = 0;
    ctx->is_admin = ctx->via_token = ctx->csrf_ok = false;
    /* A request that brings a bearer token is judged by it alone. */
    const char *authorization = u_map_get_case(ctx->req->map_header, "Authorization");
    if (authorization) {
        cb_token_identify(ctx, authorization);
        return;
    }
    const char *cookie = u_map_get(ctx->req->map_cookie, cb_session_cookie_name());
    if (!cookie || strlen(cookie) != 43)
        return;
    char hash[65];
    cb_sha256_hex(cookie, hash);
    cb_db *db = cb_ctx_db(ctx);
    sqlite3_stmt *q = db ? cb_db_custom_stmt(db, CB_Q_SESSION_IDENTITY, identity_sql) : NULL;
    if (!q)
        return;
    sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
    if (sqlite3_step(q) != SQLITE_ROW) {
        sqlite3_reset(q);
        return;
    }
    int64_t now = cb_now_ms(), session_id = sqlite3_column_int64(q, 0);
    bool remember = sqlite3_column_int(q, 2);
    int64_t last_seen = sqlite3_column_int64(q, 3), expires = sqlite3_column_int64(q, 4);
    int64_t idle = remember ? CB_REMEMBER_IDLE_MS : CB_SESSION_IDLE_MS;
    bool alive = now < expires && now - last_seen < idle;
    if (alive && sqlite3_column_int(q, 6)) {
        cb_auth_state *st = cb_auth_state_new(ctx, (const char *)sqlite3_column_text(q, 8),
                                              (const char *)sqlite3_column_text(q, 10),
                                              sqlite3_column_int64(q, 9));
        st->session_id = session_id;
        snprintf(st->csrf_token, sizeof st->csrf_token, "%s", sqlite3_column_text(q, 1));
        ctx->user_id = sqlite3_column_int64(q, 5);
        ctx->is_admin = sqlite3_column_int(q, 7);
        const char *header = u_map_get_case(ctx->req->map_header, "X-CSRF-Token");
        ctx->csrf_ok = header && cb_equal_constant_time(header, st->csrf_token);
    }
    sqlite3_reset(q);
    if (!alive)
        cb_session_delete(db, session_id);
    else if (now - last_seen >= TOUCH_EVERY_MS)
        touch(db, session_id, now);
}

cb_auth_state *cb_auth_state_new(cb_ctx *ctx, const char *email, const char *roles,
                                 int64_t created_at)
{
    cb_auth_state *st = calloc(1, sizeof *st);
    char *copy = strdup(email ? email : ""), *role_copy = strdup(roles ? roles : "");
    if (!st || !copy || !role_copy)
        abort();
    st->email = copy;
    st->roles = role_copy;
    st->created_at = created_at;
    cb_auth_release(ctx);
    ctx->auth_data = st;
    return st;
}

void cb_auth_release(cb_ctx *ctx)
{
    cb_auth_state *st = ctx->auth_data;
    if (st) {
        free(st->email);
        free(st->roles);
    }
    free(st);
    ctx->auth_data = NULL;
}
