/*
 * chat.h — what the chat endpoints share: loading a conversation the
 * caller owns, the history sent to a model, and running a reply to its end.
 */
#ifndef CB_CHAT_CHAT_H
#define CB_CHAT_CHAT_H

#include <stdbool.h>
#include <stdint.h>
#include "bot/bot.h"
#include "chat/job.h"
#include "http/api.h"
#include "models.h"

/* The conversation named by the route parameter `param` if the caller owns
   it: CB_NOTFOUND for a malformed id, a missing row and another user's row
   alike. */
cb_rc cb_chat_load_conversation(cb_ctx *ctx, const char *param, cb_conversation *out);

/* The model a conversation uses ("" means the server's default). */
const char *cb_chat_model_of(const cb_conversation *c);

/* The turns sent to the model for the reply `reply_id`: the system prompt,
   then as many of the messages before the reply as fit the context budget
   (newest kept first), the newest user message always. */
typedef struct cb_history {
    cb_bot_turn *turns;
    size_t n;
    char **owned;               /* strings the turns point into */
    size_t n_owned;
} cb_history;
cb_rc cb_chat_history(cb_db *db, const cb_conversation *c, int64_t reply_id, cb_history *out);
void cb_history_free(cb_history *h);

/* RAG: the best knowledge-base passages for `query`, with their sources,
   joined to the system turn (one is added when there is none). */
void cb_history_add_knowledge(cb_history *h, cb_db *db, const char *query);

/* Does the request want an SSE stream? The body's `stream` (when present)
   wins over Accept: text/event-stream. */
bool cb_chat_wants_stream(cb_ctx *ctx, const json_t *stream_field);

/* Starts `provider` on the job and answers the request: an SSE stream, or
   JSON once the reply is over (`status` 201 with {user_message, reply}
   when user_message_json is set, else 200 with the bare reply). Takes the
   caller's job reference and user_message_json; the reply row must exist
   with status "streaming". */
typedef struct cb_reply_start {
    cb_bot_job *job;
    const cb_bot_provider *provider;
    const cb_bot_request *request;
    int64_t reply_id;
    char *user_message_json;    /* NULL for regenerate */
    bool stream;
} cb_reply_start;
int cb_chat_reply(cb_ctx *ctx, cb_reply_start *start);

/* The partial text of a running reply, stored once a second by one batch
   writer (progress.c) that reads it from the job: open when the reply
   starts, close before the final write (it waits for a batch in flight). */
typedef struct cb_progress cb_progress;
cb_progress *cb_progress_open(int64_t reply_id, cb_bot_job *job);
void cb_progress_close(cb_progress *p);
/* Stops the writer thread (server stop, after every reply ended). */
void cb_progress_shutdown(void);

/* With an LLM (and llm_titles on), asks the model for a one-line title in
   the background; it replaces `heuristic` unless the title changed. */
void cb_chat_title_later(int64_t conversation_id, const char *model, const char *first_message,
                         const char *heuristic);
/* Waits (bounded) for title requests still running (server stop). */
void cb_chat_titles_wait(void);

/* Marks replies left "streaming" by a crash as "stopped" (server start,
   before any request). 0, or -1 (logged). */
int cb_chat_recover(const char *path);

#endif
