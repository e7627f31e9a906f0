/*
 * session.c — creating, finding and ending sessions (see session.h). The
 * cookie value is never stored: a stolen database yields no usable session.
 */
#include "auth/session.h"
#include "auth/secret.h"
#include "cli/cli.h"
#include "db/db.h"
#include "models.h"
#include "server/config.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static cb_password_policy policy;
static bool policy_ok;
static pthread_once_t policy_once = PTHREAD_ONCE_INIT;

static void load_policy(void)
{
    policy.min_chars = (size_t)cb_cfg->min_password_chars;
    policy_ok = cb_secret_load(cb_cfg->instance, "pepper", policy.pepper, CB_PEPPER_BYTES) == 0;
}

const cb_password_policy *cb_auth_policy(void)
{
    pthread_once(&policy_once, load_policy);
    return policy_ok ? &policy : NULL;
}

/* Secrets are made on the first start, not on the first login, so a fresh
   instance is complete (and a damaged pepper stops the server at once). */
const char *cb_session_cookie_name(void)
{
    return cb_cfg->http ? "chatbot_session" : "__Host-chatbot_session";
}

static void set_cookie(cb_ctx *ctx, const char *value, unsigned max_age, bool clear)
{
    ulfius_add_same_site_cookie_to_response(ctx->resp, cb_session_cookie_name(), value,
                                            clear ? "Thu, 01 Jan 1970 00:00:00 GMT" : NULL,
                                            max_age, NULL, "/", !cb_cfg->http, 1,
                                            U_COOKIE_SAME_SITE_LAX);
}

cb_rc cb_session_start(cb_ctx *ctx, int64_t user_id, bool remember, cb_auth_state *state)
{
    char token[44], hash[65];
    if (cb_random_token(token) || cb_random_token(state->csrf_token))
        return CB_ERROR;
    cb_sha256_hex(token, hash);
    cb_db *db = cb_ctx_db(ctx);
    if (!db)
        return CB_BUSY;
    cb_session s;
    cb_session_init(&s);
    int64_t now = cb_now_ms();
    cb_row_set_int(&cb_model_session, &s, CB_SESSION_USER_ID, user_id);
    cb_row_set_text(&cb_model_session, &s, CB_SESSION_TOKEN_HASH, hash);
    cb_row_set_text(&cb_model_session, &s, CB_SESSION_CSRF_TOKEN, state->csrf_token);
    cb_row_set_int(&cb_model_session, &s, CB_SESSION_REMEMBER, remember);
    cb_row_set_int(&cb_model_session, &s, CB_SESSION_EXPIRES_AT,
                   now + (remember ? CB_REMEMBER_ABSOLUTE_MS : CB_SESSION_ABSOLUTE_MS));
    if (ctx->client_addr[0])
        cb_row_set_text(&cb_model_session, &s, CB_SESSION_IP, ctx->client_addr);
    const char *agent = u_map_get_case(ctx->req->map_header, "User-Agent");
    if (agent) {
        char cut[256];                  /* the column holds 255 */
        snprintf(cut, sizeof cut, "%s", agent);
        cb_row_set_text(&cb_model_session, &s, CB_SESSION_USER_AGENT, cut);
    }
    cb_rc rc = cb_session_insert(db, &s);
    if (rc == CB_OK) {
        state->session_id = s.id;
        set_cookie(ctx, token, remember ? (unsigned)(CB_REMEMBER_ABSOLUTE_MS / 1000) : 0, false);
    }
    cb_session_clear(&s);
    return rc;
}

void cb_session_end(cb_ctx *ctx)
{
    cb_auth_state *st = ctx->auth_data;
    cb_db *db = cb_ctx_db(ctx);
    if (st && st->session_id && db)
        cb_session_delete(db, st->session_id);
    set_cookie(ctx, "", 0, true);
}
