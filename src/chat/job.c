/*
 * job.c — reply jobs and the per-conversation registry (see job.h).
 *
 * One mutex and condition variable per job: the provider appends under it
 * and signals; the consumer waits on it with a timeout. A provider with a
 * pump (bot.h) is instead driven by the consumer's waits, in its thread.
 * The registry is a list under one global lock: it is touched only when a
 * reply starts, stops or ends, never per delta.
 */
#include "chat/job.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bot/sse.h"
#include "util/buf.h"
#include "util/mem.h"

struct cb_bot_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;
    int64_t conversation_id;
    const cb_bot_provider *provider;
    cb_buf text;
    cb_job_state state;
    bool cancelled;
    cb_bot_pump_fn pump;        /* set: waiting means pumping (bot.h) */
    void *pump_arg;
    char detail[256];
    cb_bot_job *next;           /* registry list, under registry_mu */
    bool registered;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static cb_bot_job *registry;

static void job_free(cb_bot_job *job)
{
    pthread_mutex_destroy(&job->mu);
    pthread_cond_destroy(&job->cv);
    cb_buf_free(&job->text);
    free(job);
}

cb_bot_job *cb_job_claim(int64_t conversation_id)
{
    pthread_mutex_lock(&registry_mu);
    for (cb_bot_job *j = registry; j; j = j->next)
        if (j->conversation_id == conversation_id) {
            pthread_mutex_unlock(&registry_mu);
            return NULL;
        }
    cb_bot_job *job = cb_xcalloc(1, sizeof *job);
    pthread_mutex_init(&job->mu, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&job->cv, &attr);
    pthread_condattr_destroy(&attr);
    job->refs = 2;
    job->conversation_id = conversation_id;
    job->state = CB_JOB_RUNNING;
    job->registered = true;
    job->next = registry;
    registry = job;
    pthread_mutex_unlock(&registry_mu);
    return job;
}

void cb_job_set_provider(cb_bot_job *job, const cb_bot_provider *provider)
{
    pthread_mutex_lock(&job->mu);
    job->provider = provider;
    pthread_mutex_unlock(&job->mu);
}

void cb_job_ref(cb_bot_job *job)
{
    pthread_mutex_lock(&job->mu);
    job->refs++;
    pthread_mutex_unlock(&job->mu);
}

void cb_job_unref(cb_bot_job *job)
{
    pthread_mutex_lock(&job->mu);
    bool last = --job->refs == 0;
    pthread_mutex_unlock(&job->mu);
    if (last)
        job_free(job);
}

void cb_job_unregister(cb_bot_job *job)
{
    pthread_mutex_lock(&registry_mu);
    for (cb_bot_job **p = &registry; *p; p = &(*p)->next)
        if (*p == job) {
            *p = job->next;
            job->registered = false;
            pthread_mutex_unlock(&registry_mu);
            cb_job_unref(job);
            return;
        }
    pthread_mutex_unlock(&registry_mu);
}

/* --- the provider's side (bot/bot.h) -------------------------------------- */

/* The consumer is woken after the unlock: woken under the lock, it would
   at once block on the mutex again, a second context switch per token. */
void cb_bot_job_delta(cb_bot_job *job, const char *text, size_t len)
{
    pthread_mutex_lock(&job->mu);
    bool added = job->state == CB_JOB_RUNNING && !job->cancelled;
    if (added) {
        size_t room = CB_REPLY_MAX_BYTES - job->text.len;
        if (len > room) {
            /* Past the stored limit: keep what fits and stop the provider. */
            len = cb_utf8_whole_len(text, room);
            job->cancelled = true;
        }
        cb_buf_put(&job->text, text, len);
    }
    pthread_mutex_unlock(&job->mu);
    if (added)
        pthread_cond_broadcast(&job->cv);
}

void cb_bot_job_finish(cb_bot_job *job, bool ok, const char *detail)
{
    pthread_mutex_lock(&job->mu);
    if (job->state == CB_JOB_RUNNING) {
        if (!ok) {
            job->state = CB_JOB_ERROR;
            snprintf(job->detail, sizeof job->detail, "%s", detail ? detail : "the reply failed");
        } else {
            job->state = job->cancelled ? CB_JOB_STOPPED : CB_JOB_COMPLETE;
        }
    }
    job->pump = NULL;
    pthread_mutex_unlock(&job->mu);
    pthread_cond_broadcast(&job->cv);   /* still ours: the reference goes below */
    cb_job_unref(job);
}

void cb_bot_job_set_pump(cb_bot_job *job, cb_bot_pump_fn pump, void *arg)
{
    pthread_mutex_lock(&job->mu);
    job->pump = pump;
    job->pump_arg = arg;
    pthread_mutex_unlock(&job->mu);
}

bool cb_bot_job_cancelled(const cb_bot_job *job)
{
    cb_bot_job *j = (cb_bot_job *)job;
    pthread_mutex_lock(&j->mu);
    bool c = j->cancelled;
    pthread_mutex_unlock(&j->mu);
    return c;
}

/* --- the consumer's side -------------------------------------------------- */

static int ms_until(const struct timespec *until)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long ms = (until->tv_sec - now.tv_sec) * 1000L + (until->tv_nsec - now.tv_nsec) / 1000000L;
    return ms > 0 ? (int)ms : 0;
}

/* Sleeps on the condition variable, or runs the provider's pump: one turn
   of either, until `until`. Called and returns with job->mu held; false
   once the time is up. */
static bool wait_turn(cb_bot_job *job, const struct timespec *until)
{
    if (!job->pump)
        return pthread_cond_timedwait(&job->cv, &job->mu, until) == 0;
    cb_bot_pump_fn pump = job->pump;
    void *arg = job->pump_arg;
    int left = ms_until(until);
    pthread_mutex_unlock(&job->mu);
    pump(arg, left);                    /* writes into the job: not under its lock */
    pthread_mutex_lock(&job->mu);
    return ms_until(until) > 0;
}

cb_job_state cb_job_wait(cb_bot_job *job, size_t have, int timeout_ms, char **text, size_t *len)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&job->mu);
    while (job->state == CB_JOB_RUNNING && job->text.len <= have)
        if (!wait_turn(job, &until))
            break;
    *text = NULL;
    *len = 0;
    if (job->text.len > have) {
        *len = job->text.len - have;
        *text = cb_xmalloc(*len + 1);
        memcpy(*text, job->text.data + have, *len);
        (*text)[*len] = '\0';
    }
    cb_job_state state = job->state;
    pthread_mutex_unlock(&job->mu);
    return state;
}

char *cb_job_text(cb_bot_job *job, size_t *len)
{
    pthread_mutex_lock(&job->mu);
    *len = job->text.len;
    char *copy = cb_xmalloc(*len + 1);
    memcpy(copy, job->text.data ? job->text.data : "", *len);
    copy[*len] = '\0';
    pthread_mutex_unlock(&job->mu);
    return copy;
}

void cb_job_detail(cb_bot_job *job, char *out, size_t size)
{
    pthread_mutex_lock(&job->mu);
    snprintf(out, size, "%s", job->detail);
    pthread_mutex_unlock(&job->mu);
}

void cb_job_cancel(cb_bot_job *job)
{
    pthread_mutex_lock(&job->mu);
    job->cancelled = true;
    const cb_bot_provider *p = job->provider;
    pthread_cond_broadcast(&job->cv);
    pthread_mutex_unlock(&job->mu);
    if (p && p->wake)
        p->wake();
}

bool cb_job_stop_conversation(int64_t conversation_id)
{
    pthread_mutex_lock(&registry_mu);
    cb_bot_job *found = NULL;
    for (cb_bot_job *j = registry; j && !found; j = j->next)
        if (j->conversation_id == conversation_id)
            found = j;
    if (found)
        cb_job_ref(found);
    pthread_mutex_unlock(&registry_mu);
    if (!found)
        return false;
    cb_job_cancel(found);
    cb_job_unref(found);
    return true;
}

void cb_job_cancel_all(void)
{
    pthread_mutex_lock(&registry_mu);
    for (cb_bot_job *j = registry; j; j = j->next)
        cb_job_cancel(j);
    pthread_mutex_unlock(&registry_mu);
}
