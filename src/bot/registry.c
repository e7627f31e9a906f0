/*
 * registry.c — which provider serves which model, the model list, the
 * server's default model, and the bot side of starting and stopping.
 *
 * "builtin" is always offered. With llm_url set, every model the
 * OpenAI-compatible server lists (or at least llm_model) is offered too,
 * and llm_model becomes the default for new conversations.
 */
#include "bot/bot.h"

#include <curl/curl.h>
#include <string.h>

#include "bot/openai.h"
#include "bot/openai_req.h"
#include "chat/job.h"
#include "hooks.h"
#include "server/config.h"

static bool llm_configured(void)
{
    return cb_cfg && cb_cfg->llm_url && cb_cfg->llm_url[0];
}

int cb_bot_init(void)
{
    /* Reference-counted by libcurl; safe before any thread starts. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    return llm_configured() ? cb_openai_init() : 0;
}

void cb_bot_shutdown(void)
{
    cb_job_cancel_all();
    if (llm_configured())
        cb_openai_shutdown();
    curl_global_cleanup();
}

const char *cb_bot_default_model(void)
{
    return llm_configured() && cb_cfg->llm_model[0] ? cb_cfg->llm_model : "builtin";
}

const cb_bot_provider *cb_bot_for_model(const char *model)
{
    if (cb_bot_builtin.has_model(model))
        return &cb_bot_builtin;
    if (llm_configured() && cb_bot_openai.has_model(model))
        return &cb_bot_openai;
    return NULL;
}

json_t *cb_bot_models_json(bool may_ask)
{
    json_t *items = json_array();
    cb_bot_builtin.models(items);
    if (llm_configured()) {
        if (may_ask) {
            cb_bot_openai.models(items);
        } else if (!cb_openai_models_cached(items)) {
            json_decref(items);
            return NULL;
        }
    }
    return json_pack("{s:o, s:s}", "items", items, "default", cb_bot_default_model());
}

int cb_route_models_list(cb_ctx *ctx)
{
    return cb_reply_json(ctx, 200, cb_bot_models_json(true));
}
