/*
 * identify.c — who is calling, resolved once per request before any
 * handler: the session cookie (hashed, looked up, expiry checked, the user
 * still active, the CSRF header compared in constant time). Overrides the
 * runtime's anonymous default (src/http/auth.c).
 */
#include "auth/session.h"
#include "auth/users.h"
#include "db/db.h"
#include "http/auth.h"
#include "models.h"

#include <stdlib.h>
#include <string.h>

/* Sessions are touched at most once a minute: a write per request would
   serialise every reader on SQLite's write lock. */
#define TOUCH_EVERY_MS (60 * 1000)

static bool session_alive(const cb_session *s, int64_t now)
{
    int64_t idle = s->remember ? CB_REMEMBER_IDLE_MS : CB_SESSION_IDLE_MS;
    return now < s->expires_at && now - s->last_seen_at < idle;
}

static void adopt(cb_ctx *ctx, cb_db *db, const cb_session *s, const cb_user *u, int64_t now)
{
    cb_auth_state *st = calloc(1, sizeof *st);
    if (!st)
        abort();
    st->session_id = s->id;
    snprintf(st->csrf_token, sizeof st->csrf_token, "%s", s->csrf_token);
    ctx->auth_data = st;
    ctx->user_id = u->id;
    ctx->is_admin = cb_user_has_role(db, u->id, "admin");
    const char *header = u_map_get_case(ctx->req->map_header, "X-CSRF-Token");
    ctx->csrf_ok = header && cb_equal_constant_time(header, st->csrf_token);
    if (now - s->last_seen_at >= TOUCH_EVERY_MS) {
        cb_session touch;
        cb_session_init(&touch);
        cb_row_set_int(&cb_model_session, &touch, CB_SESSION_ID, s->id);
        cb_row_set_int(&cb_model_session, &touch, CB_SESSION_LAST_SEEN_AT, now);
        cb_session_update(db, &touch);
        cb_session_clear(&touch);
    }
}

void cb_auth_identify(cb_ctx *ctx)
{
    ctx->user_id = 0;
    ctx->is_admin = ctx->via_token = ctx->csrf_ok = false;
    const char *cookie = u_map_get(ctx->req->map_cookie, cb_session_cookie_name());
    if (!cookie || strlen(cookie) != 43)
        return;
    char hash[65];
    cb_sha256_hex(cookie, hash);
    cb_db *db = cb_ctx_db(ctx);
    if (!db)
        return;
    cb_session s;
    cb_user u;
    cb_session_init(&s);
    cb_user_init(&u);
    int64_t now = cb_now_ms();
    if (cb_session_get_by_token_hash(db, hash, &s) == CB_OK) {
        if (!session_alive(&s, now))
            cb_session_delete(db, s.id);
        else if (cb_user_get(db, s.user_id, &u) == CB_OK && u.active)
            adopt(ctx, db, &s, &u, now);
    }
    cb_session_clear(&s);
    cb_user_clear(&u);
}

void cb_auth_release(cb_ctx *ctx)
{
    free(ctx->auth_data);
    ctx->auth_data = NULL;
}
