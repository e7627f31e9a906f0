/*
 * auth.c — identifying the caller.
 *
 * Accounts, sessions and API tokens arrive with issue 3 (src/auth/); until
 * then there is no way to sign in, so every request is anonymous and the
 * generic endpoints answer 401 for `auth user` and `auth admin` resources.
 * This file is where the session cookie and bearer token will be resolved,
 * once, for every request.
 */
#include "http/auth.h"

void cb_auth_identify(cb_ctx *ctx)
{
    ctx->user_id = 0;
    ctx->is_admin = false;
    ctx->via_token = false;
}

void cb_auth_release(cb_ctx *ctx)
{
    ctx->auth_data = NULL;
}
