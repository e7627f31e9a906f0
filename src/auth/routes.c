/*
 * routes.c — POST /api/v1/auth/register, /login, /logout and GET /me.
 *
 * Login failures are one generic 401 whether the account is unknown,
 * deactivated or the password wrong, and cost the same (an unknown account
 * is verified against a dummy hash). Every answer here is Cache-Control:
 * no-store. Malformed requests are 400s with per-field errors.
 */
#include "auth/session.h"
#include "auth/throttle.h"
#include "auth/users.h"
#include "db/db.h"
#include "db/validate.h"
#include "hooks.h"

#include <stdlib.h>
#include <string.h>

static void no_store(cb_ctx *ctx)
{
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
}

/* Only the listed keys; every other key is an "unknown field" error. */
static void refuse_unknown(const json_t *body, const char *const *allowed, cb_errors *errs)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok |= strcmp(*a, key) == 0;
        if (!ok)
            cb_errors_add(errs, key, "unknown field");
    }
}

/* The trimmed email, or NULL with an error. */
static char *email_field(const json_t *body, cb_errors *errs)
{
    json_t *v = json_object_get(body, "email");
    if (!v) {
        cb_errors_add(errs, "email", "is required");
        return NULL;
    }
    const char *s = json_string_value(v);
    size_t len = s ? json_string_length(v) : 0;
    if (!s) {
        cb_errors_add(errs, "email", "must be a string");
        return NULL;
    }
    while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
        s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
                   s[len - 1] == '\r'))
        len--;
    if (cb_has_nul(s, len) || !cb_email_valid(s, len, 254)) {
        cb_errors_add(errs, "email", "must be a valid email address");
        return NULL;
    }
    return strndup(s, len);
}

/* The raw password string, or NULL with an error. */
static const char *password_field(const json_t *body, const char *name, cb_errors *errs,
                                  size_t *len)
{
    json_t *v = json_object_get(body, name);
    if (!v || !json_is_string(v)) {
        cb_errors_add(errs, name, v ? "must be a string" : "is required");
        return NULL;
    }
    *len = json_string_length(v);
    return json_string_value(v);
}

static int reply_user(cb_ctx *ctx, int status, cb_db *db, const cb_user *u, const char *csrf)
{
    json_t *user = cb_user_public_json(db, u);
    json_t *body = csrf ? json_pack("{s:o, s:s}", "user", user, "csrf_token", csrf)
                        : json_pack("{s:o}", "user", user);
    no_store(ctx);
    return cb_reply_json(ctx, status, body);
}

static cb_rc create_user(cb_db *db, const char *email, const char *hash, cb_user *u)
{
    char *key = cb_email_key(email);
    if (!key)
        return CB_INVALID;
    cb_row_set_text(&cb_model_user, u, CB_USER_EMAIL, email);
    cb_row_set_text(&cb_model_user, u, CB_USER_EMAIL_KEY, key);
    cb_row_set_text(&cb_model_user, u, CB_USER_PASSWORD_HASH, hash);
    free(key);
    cb_rc rc = cb_db_begin(db);
    if (rc == CB_OK)
        rc = cb_user_insert(db, u);
    if (rc == CB_OK)
        rc = cb_user_add_role(db, u->id, "user");
    if (rc == CB_OK)
        rc = cb_db_commit(db);
    if (rc != CB_OK)
        cb_db_rollback(db);
    return rc;
}

/* 429 with Retry-After in whole seconds (rounded up). */
static int reply_throttled(cb_ctx *ctx, int64_t wait_ms, const char *what)
{
    char seconds[24], detail[128];
    long long s = (wait_ms + 999) / 1000;
    snprintf(seconds, sizeof seconds, "%lld", s);
    snprintf(detail, sizeof detail, "too many %s; try again in %lld seconds", what, s);
    u_map_put(ctx->resp->map_header, "Retry-After", seconds);
    return cb_reply_problem(ctx, 429, detail, NULL);
}

/* The common start of the auth handlers: no-store, the password policy
   (503 without the pepper), the JSON body. NULL after replying. */
static json_t *auth_body_or_reply(cb_ctx *ctx, const cb_password_policy **policy, int *ret)
{
    no_store(ctx);
    *ret = U_CALLBACK_COMPLETE;
    *policy = cb_auth_policy();
    if (!*policy) {
        *ret = cb_reply_problem(ctx, 503, "the server's secrets are unavailable", NULL);
        return NULL;
    }
    return cb_request_json_or_reply(ctx);
}

int cb_route_auth_register(cb_ctx *ctx)
{
    static const char *const allowed[] = {"email", "password", NULL};
    const cb_password_policy *policy;
    int ret;
    json_t *body = auth_body_or_reply(ctx, &policy, &ret);
    if (!body)
        return ret;
    cb_errors errs = {0};
    refuse_unknown(body, allowed, &errs);
    char *email = email_field(body, &errs);
    size_t len = 0;
    const char *raw = password_field(body, "password", &errs, &len);
    const char *problem = NULL;
    char *pw = raw ? cb_password_normalize(policy, raw, len, &problem) : NULL;
    if (problem)
        cb_errors_add(&errs, "password", "%s (8 to 128 characters)", problem);
    if (errs.fields) {
        ret = cb_reply_rc(ctx, CB_INVALID, &errs);
    } else {
        char hash[CB_PASSWORD_HASH_MAX];
        cb_db *db = cb_ctx_db(ctx);
        cb_user u;
        cb_user_init(&u);
        int64_t wait = db ? cb_throttle_registration(db, ctx->client_addr) : 0;
        if (wait > 0) {
            ret = reply_throttled(ctx, wait, "registrations from this address");
        } else {
            cb_rc rc = !db ? CB_BUSY
                     : cb_password_hash(policy, pw, hash) ? CB_ERROR
                                                          : create_user(db, email, hash, &u);
            if (rc == CB_CONFLICT) {
                cb_errors_add(&errs, "email", "is already registered");
                rc = CB_INVALID;
            }
            ret = rc == CB_OK ? reply_user(ctx, 201, db, &u, NULL) : cb_reply_rc(ctx, rc, &errs);
        }
        cb_user_clear(&u);
    }
    cb_errors_clear(&errs);
    free(email);
    free(pw);
    json_decref(body);
    return ret;
}

/* The account for these credentials, or false (after the same work). */
static bool check_credentials(cb_db *db, const cb_password_policy *policy, const char *key,
                              const char *pw, cb_user *u)
{
    bool found = key && cb_user_get_by_email_key(db, key, u) == CB_OK;
    bool ok = cb_password_verify(policy, found ? u->password_hash : NULL, pw);
    return ok && found && u->active;
}

static void record_login(cb_ctx *ctx, cb_db *db, const cb_user *u)
{
    cb_user upd;
    cb_user_init(&upd);
    cb_row_set_int(&cb_model_user, &upd, CB_USER_ID, u->id);
    cb_row_set_int(&cb_model_user, &upd, CB_USER_LAST_LOGIN_AT, cb_now_ms());
    cb_row_set_int(&cb_model_user, &upd, CB_USER_LOGIN_COUNT, u->login_count + 1);
    if (ctx->client_addr[0])
        cb_row_set_text(&cb_model_user, &upd, CB_USER_LAST_LOGIN_IP, ctx->client_addr);
    cb_user_update(db, &upd);
    cb_user_clear(&upd);
}

int cb_route_auth_login(cb_ctx *ctx)
{
    static const char *const allowed[] = {"email", "password", "remember", NULL};
    const cb_password_policy *policy;
    int ret;
    json_t *body = auth_body_or_reply(ctx, &policy, &ret);
    if (!body)
        return ret;
    cb_errors errs = {0};
    refuse_unknown(body, allowed, &errs);
    char *email = email_field(body, &errs);
    size_t len = 0;
    const char *raw = password_field(body, "password", &errs, &len);
    json_t *remember = json_object_get(body, "remember");
    if (remember && !json_is_boolean(remember))
        cb_errors_add(&errs, "remember", "must be true or false");
    cb_db *db = errs.fields ? NULL : cb_ctx_db(ctx);
    if (errs.fields) {
        ret = cb_reply_rc(ctx, CB_INVALID, &errs);
    } else if (!db) {
        ret = cb_reply_rc(ctx, CB_BUSY, NULL);
    } else {
        /* A password that breaks the rules cannot be right: verify anyway, for the timing. */
        const char *problem;
        char *pw = cb_password_normalize(policy, raw, len, &problem);
        cb_user u;
        cb_user_init(&u);
        cb_auth_state fresh = {0};
        char *key = cb_email_key(email);
        int64_t wait = key ? cb_throttle_wait(db, key, ctx->client_addr) : 0;
        if (wait > 0) {
            ret = reply_throttled(ctx, wait, "failed logins");
        } else if (!check_credentials(db, policy, key, pw ? pw : "", &u) || !pw) {
            if (key)
                cb_throttle_failed(db, key, ctx->client_addr);
            ret = cb_reply_problem(ctx, 401, "invalid email or password", NULL);
        } else {
            cb_throttle_succeeded(db, key);
            cb_session_end(ctx);            /* a new id at every login: no fixation */
            cb_rc rc = cb_session_start(ctx, u.id, json_is_true(remember), &fresh);
            if (rc == CB_OK)
                record_login(ctx, db, &u);
            ret = rc == CB_OK ? reply_user(ctx, 200, db, &u, fresh.csrf_token)
                              : cb_reply_rc(ctx, rc, NULL);
        }
        cb_user_clear(&u);
        free(key);
        free(pw);
    }
    cb_errors_clear(&errs);
    free(email);
    json_decref(body);
    return ret;
}

int cb_route_auth_logout(cb_ctx *ctx)
{
    cb_session_end(ctx);
    no_store(ctx);
    u_map_put(ctx->resp->map_header, "Clear-Site-Data", "\"cookies\"");
    return cb_reply_empty(ctx, 204);
}

/* Answered from what identify already read, written straight into one
   buffer: no statement of its own, and it runs on every page load. */
int cb_route_auth_me(cb_ctx *ctx)
{
    const cb_auth_state *st = ctx->auth_data;
    if (!st)
        return cb_reply_rc(ctx, CB_NOTFOUND, NULL);
    char num[32];
    cb_buf b = {0};
    snprintf(num, sizeof num, "%lld", (long long)ctx->user_id);
    cb_buf_puts(&b, "{\"user\":{\"id\":");
    cb_buf_puts(&b, num);
    cb_buf_puts(&b, ",\"email\":");
    cb_json_write_string(&b, st->email, strlen(st->email));
    cb_buf_puts(&b, ",\"roles\":[");
    for (const char *r = st->roles; *r;) {
        size_t n = strcspn(r, ",");
        if (r != st->roles)
            cb_buf_putc(&b, ',');
        cb_json_write_string(&b, r, n);
        r += n + (r[n] == ',');
    }
    cb_format_time(st->created_at, num);
    cb_buf_puts(&b, "],\"active\":true,\"created_at\":");
    cb_json_write_string(&b, num, strlen(num));
    cb_buf_puts(&b, "},\"csrf_token\":");
    cb_json_write_string(&b, st->csrf_token, strlen(st->csrf_token));
    cb_buf_putc(&b, '}');
    no_store(ctx);
    size_t len;
    char *text = cb_buf_take(&b, &len);
    return cb_reply_json_text_take(ctx, 200, text, len);
}

/* Ends every other session and every token of the user: whoever knew the
   old password may have used it to make either. */
static cb_rc end_other_credentials(cb_db *db, int64_t user_id, int64_t keep_session)
{
    sqlite3_stmt *s = cb_db_custom_stmt(db, CB_Q_END_OTHER_SESSIONS,
                                        "DELETE FROM sessions WHERE user_id = ?1 AND id != ?2");
    sqlite3_stmt *t = cb_db_custom_stmt(db, CB_Q_END_TOKENS,
                                        "DELETE FROM api_tokens WHERE user_id = ?1");
    if (!s || !t)
        return CB_ERROR;
    sqlite3_bind_int64(s, 1, user_id);
    sqlite3_bind_int64(s, 2, keep_session);
    sqlite3_bind_int64(t, 1, user_id);
    int a = sqlite3_step(s), b = sqlite3_step(t);
    sqlite3_reset(s);
    sqlite3_reset(t);
    return a == SQLITE_DONE && b == SQLITE_DONE ? CB_OK : cb_db_rc(db, a != SQLITE_DONE ? a : b);
}

static cb_rc store_new_password(cb_db *db, const cb_user *u, const char *hash, int64_t keep)
{
    cb_user upd;
    cb_user_init(&upd);
    cb_row_set_int(&cb_model_user, &upd, CB_USER_ID, u->id);
    cb_row_set_text(&cb_model_user, &upd, CB_USER_PASSWORD_HASH, hash);
    cb_rc rc = cb_db_begin(db);
    if (rc == CB_OK)
        rc = cb_user_update(db, &upd);
    if (rc == CB_OK)
        rc = end_other_credentials(db, u->id, keep);
    if (rc == CB_OK)
        rc = cb_db_commit(db);
    if (rc != CB_OK)
        cb_db_rollback(db);
    cb_user_clear(&upd);
    return rc;
}

int cb_route_auth_password(cb_ctx *ctx)
{
    static const char *const allowed[] = {"current_password", "new_password", NULL};
    no_store(ctx);
    const cb_password_policy *policy = cb_auth_policy();
    cb_db *db = cb_ctx_db(ctx);
    if (!policy || !db)
        return cb_reply_problem(ctx, 503, "the server's secrets or database are unavailable", NULL);
    json_t *body = cb_request_json_or_reply(ctx);
    if (!body)
        return U_CALLBACK_COMPLETE;
    cb_errors errs = {0};
    refuse_unknown(body, allowed, &errs);
    size_t cur_len = 0, new_len = 0;
    const char *cur_raw = password_field(body, "current_password", &errs, &cur_len);
    const char *new_raw = password_field(body, "new_password", &errs, &new_len);
    const char *problem = NULL, *ignored;
    char *new_pw = new_raw ? cb_password_normalize(policy, new_raw, new_len, &problem) : NULL;
    char *cur_pw = cur_raw ? cb_password_normalize(policy, cur_raw, cur_len, &ignored) : NULL;
    if (problem)
        cb_errors_add(&errs, "new_password", "%s (8 to 128 characters)", problem);
    cb_user u;
    cb_user_init(&u);
    cb_rc rc = errs.fields ? CB_INVALID : cb_user_get(db, ctx->user_id, &u);
    if (rc == CB_OK && !cb_password_verify(policy, u.password_hash, cur_pw ? cur_pw : "")) {
        cb_errors_add(&errs, "current_password", "is not the current password");
        rc = CB_INVALID;
    }
    if (rc == CB_OK && strcmp(cur_pw, new_pw) == 0) {
        cb_errors_add(&errs, "new_password", "must differ from the current password");
        rc = CB_INVALID;
    }
    char hash[CB_PASSWORD_HASH_MAX];
    if (rc == CB_OK)
        rc = cb_password_hash(policy, new_pw, hash) ? CB_ERROR : CB_OK;
    if (rc == CB_OK) {
        const cb_auth_state *st = ctx->auth_data;
        rc = store_new_password(db, &u, hash, st ? st->session_id : 0);
    }
    int ret = rc == CB_OK ? cb_reply_empty(ctx, 204) : cb_reply_rc(ctx, rc, &errs);
    cb_errors_clear(&errs);
    cb_user_clear(&u);
    free(cur_pw);
    free(new_pw);
    json_decref(body);
    return ret;
}
