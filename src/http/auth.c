/*
 * auth.c — identifying the caller: the runtime's default, for programs
 * without accounts (the test fixture), where every request is anonymous.
 * The application defines the strong versions in src/auth/identify.c
 * (session cookie, CSRF); the linker prefers them over these weak ones.
 */
#include "http/auth.h"

__attribute__((weak)) void cb_auth_identify(cb_ctx *ctx)
{
    ctx->user_id = 0;
    ctx->is_admin = false;
    ctx->via_token = false;
}

__attribute__((weak)) void cb_auth_release(cb_ctx *ctx)
{
    ctx->auth_data = NULL;
}
