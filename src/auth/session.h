/*
 * session.h — server-side sessions: a 256-bit random id in the cookie,
 * only its SHA-256 in the database, a CSRF token bound to it, idle and
 * absolute expiry. Also the small crypto helpers the auth code shares.
 */
#ifndef CB_AUTH_SESSION_H
#define CB_AUTH_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/crypto.h"
#include "auth/password.h"
#include "http/api.h"

/* Expiry (ms). A "remember me" session outlives the browser. */
#define CB_SESSION_IDLE_MS (2LL * 3600 * 1000)
#define CB_SESSION_ABSOLUTE_MS (24LL * 3600 * 1000)
#define CB_REMEMBER_IDLE_MS (7LL * 86400 * 1000)
#define CB_REMEMBER_ABSOLUTE_MS (30LL * 86400 * 1000)


/* The password policy with the instance's pepper, loaded once. NULL when
   the secret cannot be read or made (logged). */
const cb_password_policy *cb_auth_policy(void);

/* What identify() attaches to ctx->auth_data. */
typedef struct cb_auth_state {
    int64_t session_id;         /* 0 when authenticated by a bearer token */
    char csrf_token[44];        /* "" for bearer tokens */
    char *email;                /* the account's, as identify read it (malloc'd) */
    char *roles;                /* its role names, sorted, comma-separated (malloc'd) */
    int64_t created_at;
} cb_auth_state;

/* Attaches a new state to ctx (freed by cb_auth_release). */
cb_auth_state *cb_auth_state_new(cb_ctx *ctx, const char *email, const char *roles,
                                 int64_t created_at);

/* The columns identify's statements end with: admin?, email, created_at,
   role names. `u` is the users table's alias. */
#define CB_SQL_IDENTITY_COLUMNS                                                                   \
    " EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id"                      \
    "         WHERE ur.user_id = u.id AND r.name = 'admin'), u.email, u.created_at,"              \
    " (SELECT group_concat(name, ',') FROM (SELECT r.name FROM user_roles ur JOIN roles r"        \
    "   ON r.id = ur.role_id WHERE ur.user_id = u.id ORDER BY r.name))"

/* Starts a session for user_id: inserts it, sets the cookie on the
   response and fills state. CB_OK or a database error. */
cb_rc cb_session_start(cb_ctx *ctx, int64_t user_id, bool remember, cb_auth_state *state);
/* Ends the caller's session (if any) and clears the cookie. */
void cb_session_end(cb_ctx *ctx);
/* The cookie's name: __Host-chatbot_session under TLS, else chatbot_session. */
const char *cb_session_cookie_name(void);

#endif
