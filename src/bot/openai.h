/*
 * openai.h — the openai provider's process-wide life cycle and its one-shot
 * completion (docs/llm.md). The provider itself is cb_bot_openai (bot.h).
 *
 * Configuration (cb_cfg): llm_url is the server's base URL, the one that
 * "/chat/completions" and "/models" are appended to (with or without a
 * trailing slash), e.g. http://127.0.0.1:11434/v1; llm_api_key is sent as
 * "Authorization: Bearer …" when set and never logged; llm_model is the
 * default model; llm_connect_timeout_s, llm_stall_timeout_s and
 * llm_total_timeout_s bound connecting, silence inside a reply, and a whole
 * reply.
 */
#ifndef CB_BOT_OPENAI_H
#define CB_BOT_OPENAI_H

#include <stddef.h>

#include "bot/bot.h"

/* Sets up what replies share (libcurl's share handle for DNS answers and
   TLS sessions). Needs cb_cfg and curl_global_init; does nothing when
   llm_url is empty. Returns 0, or -1 when it cannot. Calling it again
   while running is harmless. */
int cb_openai_init(void);

/* A start() after this fails, and the pool of idle connections is closed.
   Replies still running belong to their consumers: they go on until they
   end or are cancelled (the server cancels them all first), and the share
   handle is freed after the last. Forgets the cached model list. Safe when
   init did nothing. */
void cb_openai_shutdown(void);

/* A blocking, non-streaming completion (stream:false) of `turns` with
   `model` (NULL or "": llm_model), for short jobs such as titles: at most
   `timeout_s` seconds in all. Returns the reply text (malloc'd, the
   caller's), or NULL with a one-line reason in `detail`. Usable without
   cb_openai_init; callable from any thread. */
char *cb_openai_complete(const char *model, const cb_bot_turn *turns, size_t n, int timeout_s,
                         char *detail, size_t detail_size);

#endif
