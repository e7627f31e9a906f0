/*
 * tokens.c — personal API tokens: POST /api/v1/tokens (listing and
 * deleting are the generated endpoints) and resolving
 * `Authorization: Bearer cbt_…` for identify.c.
 *
 * The secret is "cbt_" + 256 random bits (base64url), shown once; only its
 * SHA-256 is stored, with a short prefix for people to recognise it.
 * Tokens are never read from a query string (they would end up in logs and
 * browser history).
 */
#include "auth/session.h"
#include "auth/tokens.h"
#include "db/db.h"
#include "db/validate.h"
#include "hooks.h"

#include <stdlib.h>
#include <string.h>

#define TOKEN_PREFIX "cbt_"
#define MAX_DAYS 3650

static const char identity_sql[] =
    "SELECT t.id, t.expires_at, t.last_used_at, u.id, u.active," CB_SQL_IDENTITY_COLUMNS
    " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?1";

bool cb_token_identify(cb_ctx *ctx, const char *authorization)
{
    static const char scheme[] = "Bearer ";
    if (strncmp(authorization, scheme, sizeof scheme - 1) != 0)
        return false;
    const char *secret = authorization + sizeof scheme - 1;
    if (strncmp(secret, TOKEN_PREFIX, 4) != 0 || strlen(secret) != 47)
        return false;
    char hash[65];
    cb_sha256_hex(secret, hash);
    cb_db *db = cb_ctx_db(ctx);
    sqlite3_stmt *q = db ? cb_db_custom_stmt(db, CB_Q_TOKEN_IDENTITY, identity_sql) : NULL;
    if (!q)
        return false;
    sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
    bool ok = false;
    int64_t now = cb_now_ms(), token_id = 0, last_used = 0;
    if (sqlite3_step(q) == SQLITE_ROW) {
        bool expired = sqlite3_column_type(q, 1) != SQLITE_NULL && sqlite3_column_int64(q, 1) <= now;
        token_id = sqlite3_column_int64(q, 0);
        last_used = sqlite3_column_type(q, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(q, 2);
        if (!expired && sqlite3_column_int(q, 4)) {
            ok = true;
            ctx->user_id = sqlite3_column_int64(q, 3);
            ctx->is_admin = sqlite3_column_int(q, 5);
            ctx->via_token = true;
            cb_auth_state_new(ctx, (const char *)sqlite3_column_text(q, 6),
                              (const char *)sqlite3_column_text(q, 8), sqlite3_column_int64(q, 7));
        }
    }
    sqlite3_reset(q);
    /* last_used_at is written at most once a minute (it is advice, not audit). */
    if (ok && now - last_used >= 60 * 1000) {
        sqlite3_stmt *t = cb_db_custom_stmt(db, CB_Q_TOKEN_TOUCH,
                                            "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1");
        if (t) {
            sqlite3_bind_int64(t, 1, token_id);
            sqlite3_bind_int64(t, 2, now);
            sqlite3_step(t);
            sqlite3_reset(t);
        }
    }
    return ok;
}

/* {name, expires_in_days?}: every problem into errs. */
static void parse_request(const json_t *body, char **name, int64_t *days, cb_errors *errs)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        if (strcmp(key, "name") && strcmp(key, "expires_in_days"))
            cb_errors_add(errs, key, "unknown field");
    }
    json_t *n = json_object_get(body, "name");
    const char *s = json_string_value(n);
    size_t len = s ? json_string_length(n) : 0;
    if (!n)
        cb_errors_add(errs, "name", "is required");
    else if (!s)
        cb_errors_add(errs, "name", "must be a string");
    else if (cb_has_nul(s, len) || !cb_utf8_valid(s, len))
        cb_errors_add(errs, "name", "must be text without NUL characters");
    else if (cb_utf8_count(s, len) < 1 || cb_utf8_count(s, len) > 100)
        cb_errors_add(errs, "name", "must be 1 to 100 characters");
    else
        *name = strndup(s, len);
    json_t *d = json_object_get(body, "expires_in_days");
    *days = 0;
    if (d && !json_is_null(d)) {
        if (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > MAX_DAYS)
            cb_errors_add(errs, "expires_in_days", "must be an integer from 1 to %d", MAX_DAYS);
        else
            *days = json_integer_value(d);
    }
}

int cb_route_token_create(cb_ctx *ctx)
{
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
    json_t *body = cb_request_json_or_reply(ctx);
    if (!body)
        return U_CALLBACK_COMPLETE;
    cb_errors errs = {0};
    char *name = NULL;
    int64_t days;
    parse_request(body, &name, &days, &errs);
    json_decref(body);
    if (errs.fields) {
        free(name);
        return cb_reply_rc(ctx, CB_INVALID, &errs);
    }
    char random[44], secret[48], hash[65], prefix[9];
    cb_db *db = cb_ctx_db(ctx);
    cb_api_token t;
    cb_api_token_init(&t);
    cb_rc rc = !db ? CB_BUSY : cb_random_token(random) ? CB_ERROR : CB_OK;
    if (rc == CB_OK) {
        snprintf(secret, sizeof secret, TOKEN_PREFIX "%s", random);
        memcpy(prefix, secret, 8);                 /* "cbt_" + 4: enough to recognise it */
        prefix[8] = '\0';
        cb_sha256_hex(secret, hash);
        cb_row_set_int(&cb_model_api_token, &t, CB_API_TOKEN_USER_ID, ctx->user_id);
        cb_row_set_text(&cb_model_api_token, &t, CB_API_TOKEN_NAME, name);
        cb_row_set_text(&cb_model_api_token, &t, CB_API_TOKEN_TOKEN_HASH, hash);
        cb_row_set_text(&cb_model_api_token, &t, CB_API_TOKEN_PREFIX, prefix);
        if (days)
            cb_row_set_int(&cb_model_api_token, &t, CB_API_TOKEN_EXPIRES_AT,
                           cb_now_ms() + days * 86400000LL);
        rc = cb_api_token_insert(db, &t);
    }
    int ret;
    if (rc == CB_OK) {
        json_t *out = cb_api_token_to_json(&t);
        json_object_set_new(out, "token", json_string(secret));  /* shown this once */
        ret = cb_reply_json(ctx, 201, out);
    } else {
        ret = cb_reply_rc(ctx, rc, NULL);
    }
    cb_api_token_clear(&t);
    free(name);
    return ret;
}
