/*
 * openai_req.h — private to the openai provider (openai.c, openai_sync.c):
 * building requests to the configured OpenAI-compatible server and turning
 * its failures into one-line details a user can read.
 */
#ifndef CB_BOT_OPENAI_REQ_H
#define CB_BOT_OPENAI_REQ_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "bot/bot.h"

#define CB_OAI_MALFORMED "the language model sent a malformed reply"
#define CB_OAI_CUT "the language model's reply was cut off"
#define CB_OAI_STALLED "the language model stopped responding"
/* A failed reply's detail; long upstream messages are cut to fit. */
#define CB_OAI_DETAIL 320

/* True when llm_url is set. */
bool cb_oai_configured(void);

/* `model` unless NULL or "", else llm_model (possibly ""). */
const char *cb_oai_model(const char *model);

/* A handle for POST {llm_url}/chat/completions (stream or not) with the
   body, headers and timeouts set; `total_s` bounds the whole request. The
   caller owns the handle, *headers and *body (free them after cleanup).
   NULL with `detail` filled when the conversation cannot be encoded. */
CURL *cb_oai_completion(const char *model, const cb_bot_turn *turns, size_t n, bool stream,
                        long total_s, struct curl_slist **headers, char **body,
                        char *detail, size_t size);

/* A handle for GET {llm_url}/models with short timeouts (3 s in all). */
CURL *cb_oai_models_request(struct curl_slist **headers);

/* The detail for a non-200 answer: the status explained for a user, plus
   the server's own error message when its body carries one. */
void cb_oai_status_detail(CURL *e, long status, const char *model, const char *body, size_t len,
                          char *out, size_t size);

/* The detail for a transfer that ended with `rc`; `total_s` is the limit
   it ran under, to tell a stall from a reply that was too long. */
void cb_oai_curl_detail(CURL *e, CURLcode rc, long total_s, char *out, size_t size);

/* openai_sync.c: the provider's model list (cached 60 s), its membership
   test, and dropping the cache at shutdown. */
void cb_openai_models(json_t *items);

/* The same from the cache alone: false, items untouched, when the list
   would have to be asked for (not cached, expired, or being asked now). */
bool cb_openai_models_cached(json_t *items);
bool cb_openai_has_model(const char *model);
void cb_openai_models_forget(void);

#endif
