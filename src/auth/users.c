/*
 * users.c — the user object of the API ({id, email, roles, active,
 * created_at}, never hashes or login details), roles by name, and the
 * email key that makes addresses unique case-insensitively.
 */
#include "auth/users.h"
#include "db/db.h"

#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>

char *cb_email_key(const char *email)
{
    size_t n = 0;
    uint8_t *lower = u8_tolower((const uint8_t *)email, strlen(email), NULL, UNINORM_NFKC, NULL, &n);
    if (!lower)
        return NULL;
    char *out = realloc(lower, n + 1);
    if (!out)
        abort();
    out[n] = '\0';
    return out;
}

json_t *cb_user_public_json(cb_db *db, const cb_user *u)
{
    json_t *roles = json_array();
    sqlite3_stmt *q = cb_db_custom_stmt(db, CB_Q_USER_ROLE_NAMES, CB_SQL_USER_ROLE_NAMES);
    if (q) {
        sqlite3_bind_int64(q, 1, u->id);
        while (sqlite3_step(q) == SQLITE_ROW)
            json_array_append_new(roles, json_string((const char *)sqlite3_column_text(q, 0)));
        sqlite3_reset(q);
    }
    char created[32];
    cb_format_time(u->created_at, created);
    return json_pack("{s:I, s:s, s:o, s:b, s:s}", "id", (json_int_t)u->id, "email", u->email,
                     "roles", roles, "active", (int)u->active, "created_at", created);
}

bool cb_user_has_role(cb_db *db, int64_t user_id, const char *role)
{
    cb_role r;
    cb_role_init(&r);
    bool has = false;
    if (cb_role_get_by_name(db, role, &r) == CB_OK) {
        int64_t *ids = NULL;
        size_t n = 0;
        if (cb_user_roles_list(db, user_id, &ids, &n) == CB_OK)
            for (size_t i = 0; i < n; i++)
                has |= ids[i] == r.id;
        free(ids);
    }
    cb_role_clear(&r);
    return has;
}

cb_rc cb_user_add_role(cb_db *db, int64_t user_id, const char *role)
{
    /* The two roles exist from the first account on. */
    sqlite3_exec(db->handle, "INSERT OR IGNORE INTO roles (name, description) VALUES "
                 "('user', 'Every account'), ('admin', 'Administrators')", NULL, NULL, NULL);
    cb_role r;
    cb_role_init(&r);
    cb_rc rc = cb_role_get_by_name(db, role, &r);
    if (rc == CB_OK)
        rc = cb_user_roles_add(db, user_id, r.id);
    cb_role_clear(&r);
    return rc;
}

/* The generic admin list and get of users: the role names join the row
   (they live in user_roles, which the row itself does not carry). */
void cb_api_row_extra(cb_ctx *ctx, const cb_resource *res, const void *row, cb_buf *out)
{
    if (res->model != &cb_model_user || !ctx->db)
        return;
    sqlite3_stmt *q = cb_db_custom_stmt(ctx->db, CB_Q_USER_ROLE_NAMES, CB_SQL_USER_ROLE_NAMES);
    if (!q)
        return;
    sqlite3_bind_int64(q, 1, ((const cb_user *)row)->id);
    cb_buf_puts(out, ",\"roles\":[");
    for (int i = 0; sqlite3_step(q) == SQLITE_ROW; i++) {
        if (i)
            cb_buf_putc(out, ',');
        const char *name = (const char *)sqlite3_column_text(q, 0);
        cb_json_write_string(out, name, strlen(name));
    }
    sqlite3_reset(q);
    cb_buf_putc(out, ']');
}
