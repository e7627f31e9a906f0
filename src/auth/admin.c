/*
 * admin.c — PATCH /api/v1/admin/users/{id} {active?, roles?}: what an
 * administrator may change about an account. Deactivating ends the
 * account's sessions and tokens at once; role changes apply on the user's
 * next request. An administrator cannot deactivate or demote themselves
 * (the last way back in would be the shell).
 */
#include "auth/users.h"
#include "db/db.h"
#include "hooks.h"

#include <stdlib.h>
#include <string.h>

typedef struct change {
    int active;                 /* -1: unchanged */
    bool set_roles, admin, user;
} change;

static void parse_change(const json_t *body, change *c, cb_errors *errs)
{
    const char *key;
    json_t *v;
    c->active = -1;
    json_object_foreach((json_t *)body, key, v) {
        if (strcmp(key, "active") == 0) {
            if (json_is_boolean(v))
                c->active = json_is_true(v);
            else
                cb_errors_add(errs, "active", "must be true or false");
        } else if (strcmp(key, "roles") == 0) {
            c->set_roles = true;
            size_t i;
            json_t *r;
            if (!json_is_array(v))
                cb_errors_add(errs, "roles", "must be a list of role names");
            json_array_foreach(v, i, r) {
                const char *name = json_string_value(r);
                if (name && strcmp(name, "admin") == 0)
                    c->admin = true;
                else if (name && strcmp(name, "user") == 0)
                    c->user = true;
                else
                    cb_errors_add(errs, "roles", "roles are \"admin\" and \"user\"");
            }
        } else {
            cb_errors_add(errs, key, "unknown field");
        }
    }
}

static cb_rc apply(cb_db *db, int64_t id, const change *c)
{
    cb_rc rc = cb_db_begin(db);
    if (rc == CB_OK && c->active == 0 &&
        (cb_db_exec_id(db, "UPDATE users SET active = 0 WHERE id = ?1", id) ||
         cb_db_exec_id(db, "DELETE FROM sessions WHERE user_id = ?1", id) ||
         cb_db_exec_id(db, "DELETE FROM api_tokens WHERE user_id = ?1", id)))
        rc = CB_ERROR;
    if (rc == CB_OK && c->active == 1 && cb_db_exec_id(db, "UPDATE users SET active = 1 WHERE id = ?1", id))
        rc = CB_ERROR;
    if (rc == CB_OK && c->set_roles && cb_db_exec_id(db, "DELETE FROM user_roles WHERE user_id = ?1", id))
        rc = CB_ERROR;
    if (rc == CB_OK && c->set_roles && c->admin)
        rc = cb_user_add_role(db, id, "admin");
    if (rc == CB_OK && c->set_roles && c->user)
        rc = cb_user_add_role(db, id, "user");
    if (rc == CB_OK)
        rc = cb_db_commit(db);
    else
        cb_db_rollback(db);
    return rc;
}

int cb_route_admin_user_update(cb_ctx *ctx)
{
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
    int64_t id = 0;
    bool id_ok = cb_parse_id(u_map_get(ctx->req->map_url, "id"), &id);
    cb_db *db = cb_ctx_db(ctx);
    cb_user u;
    cb_user_init(&u);
    if (!db)
        return cb_reply_rc(ctx, CB_BUSY, NULL);
    if (!id_ok || cb_user_get(db, id, &u) != CB_OK)
        return cb_reply_rc(ctx, CB_NOTFOUND, NULL);
    json_t *body = cb_request_json_or_reply(ctx);
    int ret = U_CALLBACK_COMPLETE;
    if (body) {
        cb_errors errs = {0};
        change c = {0};
        parse_change(body, &c, &errs);
        if (id == ctx->user_id && (c.active == 0 || (c.set_roles && !c.admin)))
            cb_errors_add(&errs, c.active == 0 ? "active" : "roles",
                          "you cannot deactivate or demote yourself");
        cb_rc rc = errs.fields ? CB_INVALID : apply(db, id, &c);
        cb_user_clear(&u);
        cb_user_init(&u);
        if (rc == CB_OK)
            rc = cb_user_get(db, id, &u);
        ret = rc == CB_OK ? cb_reply_json(ctx, 200, cb_user_public_json(db, &u))
                          : cb_reply_rc(ctx, rc, &errs);
        cb_errors_clear(&errs);
        json_decref(body);
    }
    cb_user_clear(&u);
    return ret;
}
