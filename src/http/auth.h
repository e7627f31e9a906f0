/*
 * auth.h — who is calling. cb_auth_identify() runs once per request,
 * before any handler, and fills ctx->user_id / is_admin / via_token;
 * cb_auth_release() frees what it attached.
 */
#ifndef CB_HTTP_AUTH_H
#define CB_HTTP_AUTH_H

#include "http/api.h"

void cb_auth_identify(cb_ctx *ctx);
void cb_auth_release(cb_ctx *ctx);

#endif
