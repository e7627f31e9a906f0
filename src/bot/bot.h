/*
 * bot.h — the bot provider interface and the reply job it writes into.
 *
 * A provider turns a conversation (system prompt + recent turns) into a
 * reply, delta by delta. It never talks to HTTP clients or stores rows: it
 * writes into a cb_bot_job (src/chat/job.c), which buffers the deltas for
 * whoever consumes them (an SSE stream, a waiting JSON request) and which
 * that consumer persists. Providers:
 *   builtin  — the offline knowledge-base bot (src/bot/builtin.c): answers
 *              synchronously inside start();
 *   openai   — any OpenAI-compatible /v1/chat/completions server
 *              (src/bot/openai.c): the upstream request runs in the
 *              consumer's own thread, through the job's pump.
 *
 * Threading: cb_bot_job_* may be called from any thread. A provider whose
 * start() returned CB_OK calls cb_bot_job_finish() exactly once, also
 * after a cancel (it then checks cb_bot_job_cancelled() and stops soon:
 * the contract is within two seconds).
 */
#ifndef CB_BOT_BOT_H
#define CB_BOT_BOT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include "db/model.h"

/* One turn of the conversation as sent to a model. */
typedef struct cb_bot_turn {
    const char *role;           /* "system", "user" or "assistant" */
    const char *content;
} cb_bot_turn;

typedef struct cb_bot_request {
    const char *model;          /* the conversation's model id */
    const cb_bot_turn *turns;   /* system first (if any), oldest → newest; ends with the user's turn */
    size_t n_turns;
    const char *query;          /* the user's last message: what retrieval searches for */
    cb_db *db;                  /* usable only during start() */
} cb_bot_request;

/* The job a provider writes into (opaque; src/chat/job.c). */
typedef struct cb_bot_job cb_bot_job;

/* Appends reply text (UTF-8; a provider may split a character across
   calls only if it never does: deltas are whole characters). */
void cb_bot_job_delta(cb_bot_job *job, const char *text, size_t len);

/* The reply is over: ok (complete, or stopped when cancelled) or failed
   with a one-line, user-presentable `detail` (copied). Drops the
   provider's reference to the job. */
void cb_bot_job_finish(cb_bot_job *job, bool ok, const char *detail);

/* True once the user pressed stop, the client went away, or the server is
   shutting down. */
bool cb_bot_job_cancelled(const cb_bot_job *job);

/* A provider that works in the consumer's thread gives its job a pump
   (before start() returns): while the consumer waits for news it calls
   pump(arg, timeout_ms) instead of sleeping. The pump returns once it
   wrote into the job, finished it, or timeout_ms passed; it must notice a
   cancel within its timeout. cb_bot_job_finish drops the pump, so it is
   never called after the finish (the provider may free `arg` then). */
typedef void (*cb_bot_pump_fn)(void *arg, int timeout_ms);
void cb_bot_job_set_pump(cb_bot_job *job, cb_bot_pump_fn pump, void *arg);

typedef struct cb_bot_provider {
    const char *name;           /* "builtin", "openai" */
    /* Starts the reply. CB_OK: the provider holds the job until it calls
       cb_bot_job_finish (possibly before start returns). Anything else:
       nothing was started, no finish will come, and `detail` says why in
       one line. The request's strings live only during the call. */
    cb_rc (*start)(const cb_bot_request *req, cb_bot_job *job, char *detail, size_t detail_size);
    /* Wakes the provider so it notices a cancel promptly (may be NULL). */
    void (*wake)(void);
    /* Appends the models it offers to `items`, each {id, name, provider}. */
    void (*models)(json_t *items);
    /* True when `model` is one of its models. */
    bool (*has_model)(const char *model);
} cb_bot_provider;

extern const cb_bot_provider cb_bot_builtin;
extern const cb_bot_provider cb_bot_openai;

/* Process-wide set-up and tear-down (after the configuration is loaded;
   shutdown cancels what is running and joins threads). */
int cb_bot_init(void);
void cb_bot_shutdown(void);

/* The provider that serves `model`, or NULL when no provider offers it. */
const cb_bot_provider *cb_bot_for_model(const char *model);

/* The model of a conversation that names none: llm_model when an LLM is
   configured, else "builtin". */
const char *cb_bot_default_model(void);

/* GET /api/v1/models's answer, {items, default}: every provider's models.
   may_ask false: NULL rather than ask the LLM server for its list (when it
   is not cached), for callers that must not wait on another server. */
json_t *cb_bot_models_json(bool may_ask);

#endif
