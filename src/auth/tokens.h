/*
 * tokens.h — resolving a bearer token for identify.c.
 */
#ifndef CB_AUTH_TOKENS_H
#define CB_AUTH_TOKENS_H

#include <stdbool.h>
#include "http/api.h"

/* `Authorization` header value "Bearer cbt_…": when it names a live token
   of an active account, fills ctx (user_id, is_admin, via_token) and
   returns true. */
bool cb_token_identify(cb_ctx *ctx, const char *authorization);

#endif
