/*
 * users.h — accounts as the API shows them, and the facts about them the
 * auth code needs (roles, the case-insensitive email key).
 */
#ifndef CB_AUTH_USERS_H
#define CB_AUTH_USERS_H

#include <stdbool.h>
#include <stdint.h>

#include "http/api.h"
#include "models.h"

/* The names of a user's roles, sorted: ?1 = user id. */
#define CB_SQL_USER_ROLE_NAMES                                                                    \
    "SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = ?1 " \
    "ORDER BY r.name"

/* {id, email, roles, active, created_at}: a new reference. */
json_t *cb_user_public_json(cb_db *db, const cb_user *u);
bool cb_user_has_role(cb_db *db, int64_t user_id, const char *role);
/* Adds a role by name (creating the admin and user roles on first use). */
cb_rc cb_user_add_role(cb_db *db, int64_t user_id, const char *role);
/* The uniqueness key of an email: NFKC, lower-cased (Unicode). malloc'd. */
char *cb_email_key(const char *email);

#endif
