/*
 * conversations.c — the hooks of the generic conversation endpoints: a new
 * conversation without a model gets the server's default one, and a model
 * must be one the server offers (GET /api/v1/models).
 */
#include "chat/chat.h"

#include <stdlib.h>

#include "util/mem.h"

static cb_rc check_model(const char *model, cb_errors *errs)
{
    if (cb_bot_for_model(model))
        return CB_OK;
    cb_errors_add(errs, "model", "unknown model; GET /api/v1/models lists the models on offer");
    return CB_INVALID;
}

cb_rc cb_hook_conversation_defaults(cb_ctx *ctx, cb_conversation *row, cb_errors *errs)
{
    (void)ctx;
    if (!row->model || !row->model[0]) {
        free(row->model);
        row->model = cb_xstrdup(cb_bot_default_model());
        row->hdr.set |= CB_CONVERSATION_F_MODEL;
        return CB_OK;
    }
    return check_model(row->model, errs);
}

cb_rc cb_hook_conversation_check(cb_ctx *ctx, cb_conversation *row, cb_errors *errs)
{
    (void)ctx;
    if (!(row->hdr.set & CB_CONVERSATION_F_MODEL))
        return CB_OK;
    if (!row->model[0]) {
        free(row->model);
        row->model = cb_xstrdup(cb_bot_default_model());
        return CB_OK;
    }
    return check_model(row->model, errs);
}
