/*
 * reply.c — runs a reply to its end and answers the request: the one
 * consumer of a job (job.h).
 *
 * The consumer owns the reply row. While the provider writes, one batch
 * writer (progress.c) stores the partial text of every running reply once
 * a second (a crash loses at most a second of a partial reply; the user's
 * message was committed before the job began);
 * at the end it gets its final text and status, and only then is the
 * conversation free for the next reply. The consumer never holds a
 * database connection while it waits.
 *
 * A client that goes away is noticed within a wait slice (250 ms) by
 * polling its socket (cb_client_gone), not only by a failed write, so the
 * upstream request is cancelled well within the two seconds promised.
 */
#include "chat/chat.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yder.h>

#include "db/db.h"
#include "util/buf.h"
#include "util/mem.h"

#define SLICE_MS 250            /* longest wait between checks of the client */
#define PING_EVERY_MS 15000     /* an SSE comment keeps idle proxies open */
#define FINAL_WAIT_MS 3000      /* after a cancel, how long the provider gets */

#define STORE_SQL "UPDATE messages SET content = ?1, status = ?2 WHERE id = ?3"

typedef enum phase { PH_HEAD, PH_BODY, PH_END } phase;

typedef struct run {
    cb_bot_job *job;
    int64_t reply_id;
    char *user_message_json;
    size_t sent;                /* bytes of text the client has (or waited for) */
    cb_progress *progress;      /* the partial text's writes */
    double wrote_ms, checked_ms; /* last write to the client, last look at its socket */
    bool finalized;
    phase phase;
    cb_buf out;                 /* SSE bytes not yet handed to MHD */
    size_t out_pos;
} run;

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *state_name(cb_job_state s)
{
    return s == CB_JOB_COMPLETE ? "complete"
           : s == CB_JOB_ERROR  ? "error"
           : s == CB_JOB_STOPPED ? "stopped"
                                 : "streaming";
}

/* Writes the reply's final text and status, and reads back its JSON
   object (malloc'd) into *json. */
static cb_rc store(run *r, const char *text, size_t len, cb_job_state state, char **json)
{
    cb_db *db = cb_pool_get(30000);
    if (!db)
        return CB_BUSY;
    cb_rc rc = CB_ERROR;
    sqlite3_stmt *q = cb_db_custom_stmt(db, CB_Q_REPLY_STORE, STORE_SQL);
    if (q) {
        sqlite3_bind_text(q, 1, text, (int)len, SQLITE_STATIC);
        sqlite3_bind_text(q, 2, state_name(state), -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 3, r->reply_id);
        rc = cb_db_rc(db, sqlite3_step(q));
        sqlite3_reset(q);
    }
    if (rc == CB_OK) {
        cb_message m;
        cb_message_init(&m);
        rc = cb_message_get(db, r->reply_id, &m);
        if (rc == CB_OK) {
            cb_buf b = {0};
            cb_row_write_json(&b, &cb_model_message, &m);
            *json = cb_buf_take(&b, &len);
        }
        cb_message_clear(&m);
    }
    cb_pool_put(db);
    if (rc != CB_OK)
        y_log_message(Y_LOG_LEVEL_ERROR, "chat: storing reply %lld failed", (long long)r->reply_id);
    return rc;
}

/* The end of a run: the final row, the conversation freed. Returns the
   final state; *json is the stored reply (or NULL if it could not be read). */
static cb_job_state finalize(run *r, char **json)
{
    *json = NULL;
    char *ignored;
    size_t n;
    cb_job_state state = cb_job_wait(r->job, SIZE_MAX, 0, &ignored, &n);
    double deadline = now_ms() + FINAL_WAIT_MS;
    while (state == CB_JOB_RUNNING && now_ms() < deadline)
        state = cb_job_wait(r->job, SIZE_MAX, SLICE_MS, &ignored, &n);
    if (state == CB_JOB_RUNNING)
        state = CB_JOB_STOPPED;   /* the provider did not answer the cancel */
    cb_progress_close(r->progress);     /* no partial write may follow the final one */
    r->progress = NULL;
    size_t len;
    char *text = cb_job_text(r->job, &len);
    store(r, text, len, state, json);
    free(text);
    r->finalized = true;
    cb_job_unregister(r->job);
    return state;
}

/* Waits one slice for news; cancels the job when the client left (its
   socket is looked at once a slice, not per token: a poll() per token
   was a measurable share of a busy server's time). */
static cb_job_state step(run *r, char **text, size_t *len)
{
    double now = now_ms();
    if (now - r->checked_ms >= SLICE_MS) {
        r->checked_ms = now;
        if (cb_client_gone())
            cb_job_cancel(r->job);
    }
    cb_job_state state = cb_job_wait(r->job, r->sent, SLICE_MS, text, len);
    r->sent += *len;
    return state;
}

static void run_free(run *r)
{
    if (!r->finalized) {
        cb_job_cancel(r->job);
        char *json;
        finalize(r, &json);
        free(json);
    }
    cb_job_unref(r->job);
    free(r->user_message_json);
    cb_buf_free(&r->out);
    free(r);
}

/* --- SSE ------------------------------------------------------------------ */

static void event(run *r, const char *name, const char *json)
{
    cb_buf_puts(&r->out, "event: ");
    cb_buf_puts(&r->out, name);
    cb_buf_puts(&r->out, "\ndata: ");
    cb_buf_puts(&r->out, json);
    cb_buf_puts(&r->out, "\n\n");
}

static void delta_event(run *r, const char *text, size_t len)
{
    cb_buf b = {0};
    cb_buf_puts(&b, "{\"content\":");
    cb_json_write_string(&b, text, len);
    cb_buf_putc(&b, '}');
    event(r, "delta", b.data);
    cb_buf_free(&b);
}

static void end_events(run *r, cb_job_state state)
{
    char *json;
    state = finalize(r, &json);
    cb_buf b = {0};
    if (state == CB_JOB_ERROR) {
        char detail[256];
        cb_job_detail(r->job, detail, sizeof detail);
        cb_buf_puts(&b, "{\"detail\":");
        cb_json_write_string(&b, detail, strlen(detail));
        cb_buf_puts(&b, ",\"message\":");
    } else {
        cb_buf_puts(&b, "{\"message\":");
    }
    cb_buf_puts(&b, json ? json : "null");
    cb_buf_putc(&b, '}');
    event(r, state == CB_JOB_ERROR ? "error" : "done", b.data);
    cb_buf_free(&b);
    free(json);
    r->phase = PH_END;
}

/* Fills r->out with the next bytes to send; false at the end. */
static bool produce(run *r)
{
    r->out.len = 0;
    r->out_pos = 0;
    if (r->phase == PH_END)
        return false;
    if (r->phase == PH_HEAD) {
        /* The headers leave with the first bytes: send them at once. */
        cb_buf_puts(&r->out, ": ok\n\n");
        if (r->user_message_json)
            event(r, "user_message", r->user_message_json);
        r->phase = PH_BODY;
        return true;
    }
    while (r->out.len == 0) {
        char *text;
        size_t len;
        cb_job_state state = step(r, &text, &len);
        if (text)
            delta_event(r, text, len);
        free(text);
        /* The last text goes out before the final store, not after it:
           when a thousand replies end together, the stores queue. */
        if (state != CB_JOB_RUNNING && r->out.len == 0)
            end_events(r, state);
        else if (r->out.len == 0 && now_ms() - r->wrote_ms >= PING_EVERY_MS)
            cb_buf_puts(&r->out, ": ping\n\n");
    }
    return true;
}

/* While it waits for a reply, the request's thread is SCHED_BATCH: then
   the wake-up for a token (its upstream socket's) does not preempt the
   thread that is running, another reply in the middle of writing its own
   token or the batch writer; the replies' threads take their turns
   instead of a context switch per token on top of the one that wakes
   them. With the former hand-off thread this halved p50 at 1,000 streams
   (bench/RESULTS.md). Failing to change it only loses that. */
static void wait_as_batch(bool on)
{
    struct sched_param none = {0};
    pthread_setschedparam(pthread_self(), on ? SCHED_BATCH : SCHED_OTHER, &none);
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    run *r = cls;
    if (r->out_pos == r->out.len && !produce(r)) {
        wait_as_batch(false);   /* the connection may serve another request */
        return U_STREAM_END;
    }
    size_t n = r->out.len - r->out_pos;
    if (n > max)
        n = max;
    memcpy(buf, r->out.data + r->out_pos, n);
    r->out_pos += n;
    r->wrote_ms = now_ms();
    return (ssize_t)n;
}

static void stream_free(void *cls)
{
    run_free(cls);
}

/* --- JSON ----------------------------------------------------------------- */

static int answer_json(cb_ctx *ctx, run *r)
{
    cb_job_state state = CB_JOB_RUNNING;
    while (state == CB_JOB_RUNNING) {
        char *text;
        size_t len;
        state = step(r, &text, &len);
        free(text);
    }
    char *json;
    state = finalize(r, &json);
    if (!json)
        return cb_reply_rc(ctx, CB_ERROR, NULL);
    cb_buf b = {0};
    int status = r->user_message_json ? 201 : 200;
    if (state == CB_JOB_ERROR) {
        /* The user's message is stored; the reply failed upstream. */
        char detail[256];
        cb_job_detail(r->job, detail, sizeof detail);
        json_t *extra = json_pack("{s:s}", "detail", detail);
        json_object_set_new(extra, "reply", json_loads(json, 0, NULL));
        if (r->user_message_json)
            json_object_set_new(extra, "user_message", json_loads(r->user_message_json, 0, NULL));
        free(json);
        return cb_reply_problem_with(ctx, 502, extra);
    }
    if (r->user_message_json) {
        cb_buf_puts(&b, "{\"user_message\":");
        cb_buf_puts(&b, r->user_message_json);
        cb_buf_puts(&b, ",\"reply\":");
        cb_buf_puts(&b, json);
        cb_buf_putc(&b, '}');
    } else {
        cb_buf_puts(&b, json);
    }
    free(json);
    size_t len;
    char *body = cb_buf_take(&b, &len);
    return cb_reply_json_text_take(ctx, status, body, len);
}

/* --- start ---------------------------------------------------------------- */

int cb_chat_reply(cb_ctx *ctx, cb_reply_start *s)
{
    run *r = cb_xcalloc(1, sizeof *r);
    r->job = s->job;
    r->reply_id = s->reply_id;
    r->progress = cb_progress_open(s->reply_id, s->job);
    r->user_message_json = s->user_message_json;
    r->wrote_ms = r->checked_ms = now_ms();
    cb_job_set_provider(r->job, s->provider);
    char detail[256] = "";
    cb_job_ref(r->job);                 /* the provider's reference */
    if (s->provider->start(s->request, r->job, detail, sizeof detail) != CB_OK)
        cb_bot_job_finish(r->job, false, detail[0] ? detail : "the bot could not start");
    /* The request's connection goes back to the pool while the reply runs. */
    if (ctx->db) {
        cb_pool_put(ctx->db);
        ctx->db = NULL;
    }
    wait_as_batch(true);
    if (!s->stream) {
        int ret = answer_json(ctx, r);
        wait_as_batch(false);
        run_free(r);
        return ret;
    }
    u_map_put(ctx->resp->map_header, "Content-Type", "text/event-stream; charset=utf-8");
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
    u_map_put(ctx->resp->map_header, "X-Accel-Buffering", "no");
    if (ulfius_set_stream_response(ctx->resp, 200, stream_read, stream_free,
                                   U_STREAM_SIZE_UNKNOWN, 16 * 1024, r) != U_OK) {
        wait_as_batch(false);
        run_free(r);
        return cb_reply_rc(ctx, CB_ERROR, NULL);
    }
    return U_CALLBACK_COMPLETE;
}
