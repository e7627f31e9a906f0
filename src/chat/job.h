/*
 * job.h — a reply being generated: the meeting point of a bot provider
 * (which appends deltas and finishes it, see bot/bot.h) and the one
 * consumer that sends it to the client and stores it (chat/reply.c).
 *
 * Jobs are registered by conversation: at most one reply per conversation
 * runs at a time, and POST …/stop finds it there. A job is reference
 * counted (registry, provider, consumer); the consumer unregisters it once
 * the reply row holds its final state, so a new message cannot start
 * before the previous reply is stored.
 */
#ifndef CB_CHAT_JOB_H
#define CB_CHAT_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bot/bot.h"

/* The reply's final state, as stored in messages.status. */
typedef enum cb_job_state {
    CB_JOB_RUNNING, CB_JOB_COMPLETE, CB_JOB_STOPPED, CB_JOB_ERROR
} cb_job_state;

/* The most reply text kept (bytes): the messages.content limit. */
#define CB_REPLY_MAX_BYTES 100000

/* Claims `conversation_id` with a new job (references: the registry's and
   the caller's). NULL when a reply is already running there. */
cb_bot_job *cb_job_claim(int64_t conversation_id);

/* The provider working on the job, woken when it is cancelled. */
void cb_job_set_provider(cb_bot_job *job, const cb_bot_provider *provider);

/* A provider's reference (taken before provider->start; the provider's
   cb_bot_job_finish drops it). */
void cb_job_ref(cb_bot_job *job);
void cb_job_unref(cb_bot_job *job);

/* Waits until text beyond `have` bytes exists, the job ends, or
   `timeout_ms` passes (with a provider's pump, waiting is pumping).
   Copies the new text (malloc'd, NUL-terminated) into *text (NULL when
   none) and returns the state. */
cb_job_state cb_job_wait(cb_bot_job *job, size_t have, int timeout_ms, char **text, size_t *len);

/* The whole text so far (malloc'd) and the failure detail, if any. */
char *cb_job_text(cb_bot_job *job, size_t *len);
void cb_job_detail(cb_bot_job *job, char *out, size_t size);

/* Cancels: the provider stops, the state becomes STOPPED. */
void cb_job_cancel(cb_bot_job *job);

/* Cancels the job running in `conversation_id`, if any. */
bool cb_job_stop_conversation(int64_t conversation_id);

/* Cancels every running job (server shutdown). */
void cb_job_cancel_all(void);

/* Drops the registry's reference: the conversation is free again. */
void cb_job_unregister(cb_bot_job *job);

#endif
