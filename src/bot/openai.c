/*
 * openai.c — the openai provider: streamed replies from an OpenAI-compatible
 * /chat/completions server (docs/llm.md).
 *
 * One background thread owns a libcurl multi handle and drives every
 * upstream request from epoll (multi_loop.c), so a thousand open replies
 * cost a thousand sockets and small buffers, not a thousand threads, and a
 * token costs the same however many are open. start() (any thread)
 * prepares an easy handle and queues it under the mutex, then wakes the
 * thread; from then on only the thread touches the transfer. The thread
 * sweeps its transfers every 200 ms, and at once on wake(): it drops those
 * whose job was cancelled, which closes their upstream connections. Every transfer ends
 * in exactly one cb_bot_job_finish: at [DONE], at the end of its response,
 * on a cancel, or at shutdown.
 */
#include "bot/multi_loop.h"
#include "bot/openai.h"
#include "bot/openai_req.h"
#include "bot/sse.h"
#include "server/config.h"
#include "util/buf.h"
#include "util/mem.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yder.h>

#define POLL_MS 200
#define ERROR_BODY_MAX (64 * 1024)          /* kept of a non-200 answer */
#define JSON_BODY_MAX (8 * 1024 * 1024)     /* a whole (non-streamed) 200 answer */

typedef enum { X_NEW, X_STREAM, X_BODY } xfer_mode;

typedef struct xfer {
    struct xfer *prev, *next;   /* the queue, then the thread's active list */
    CURL *easy;
    cb_bot_job *job;            /* NULL once finished */
    struct curl_slist *headers;
    char *body;                 /* the request body (libcurl does not copy it) */
    char *model;
    xfer_mode mode;             /* decided by the first bytes of the answer */
    long status;
    cb_sse sse;
    int events;
    bool finish_seen;           /* a chunk had a finish_reason */
    bool failed;
    char detail[CB_OAI_DETAIL];
    cb_buf answer;              /* X_BODY: the answer's bytes, bounded */
    char carry[4];              /* an incomplete UTF-8 character held back */
    size_t carry_len;
    double last_byte;           /* monotonic seconds: the start, then each write */
} xfer;

static struct {
    pthread_mutex_t mu;
    CURLM *multi;               /* created by init, freed by shutdown after the join */
    cb_multi_loop *loop;        /* the same */
    pthread_t thread;
    bool running;               /* start() may queue */
    bool stopping;
    xfer *queue;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

static xfer *active;            /* the thread's own */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void finish(xfer *x, bool ok, const char *detail)
{
    if (!x->job)
        return;
    if (!ok)
        y_log_message(Y_LOG_LEVEL_WARNING, "openai: reply from %s failed: %s", x->model, detail);
    cb_bot_job_finish(x->job, ok, detail);
    x->job = NULL;
}

static void fail(xfer *x, const char *detail)
{
    if (!x->failed)
        snprintf(x->detail, sizeof x->detail, "%s", detail);
    x->failed = true;
}

static void xfer_free(xfer *x)
{
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->headers);
    free(x->body);
    free(x->model);
    cb_sse_free(&x->sse);
    cb_buf_free(&x->answer);
    free(x);
}

/* --- the answer's bytes ------------------------------------------------------ */

/* Passes text on in whole UTF-8 characters (the job's contract). */
static void emit(xfer *x, const char *s, size_t n)
{
    if (x->carry_len) {
        unsigned lead = (unsigned char)x->carry[0];
        size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
        while (x->carry_len < want && n && ((unsigned char)*s & 0xC0) == 0x80) {
            x->carry[x->carry_len++] = *s++;
            n--;
        }
        if (x->carry_len < want && n == 0)
            return;
        cb_bot_job_delta(x->job, x->carry, x->carry_len);
        x->carry_len = 0;
    }
    size_t whole = cb_utf8_whole_len(s, n);
    if (whole)
        cb_bot_job_delta(x->job, s, whole);
    memcpy(x->carry, s + whole, n - whole);
    x->carry_len = n - whole;
}

static int on_event(void *arg, const char *event, const char *data, size_t len)
{
    xfer *x = arg;
    x->events++;
    char msg[200], detail[CB_OAI_DETAIL];
    cb_chunk c;
    cb_chunk_kind kind = cb_chunk_parse(data, len, &c);
    if (strcmp(event, "error") == 0 && kind != CB_CHUNK_ERROR) {
        /* event: error with a body that is not an OpenAI error object. */
        cb_one_line(msg, sizeof msg, data, len);
        snprintf(c.message, sizeof c.message, "%s", msg[0] ? msg : "unknown error");
        kind = CB_CHUNK_ERROR;
    }
    int stop = 1;
    switch (kind) {
    case CB_CHUNK_CONTENT:
        if (c.len)
            emit(x, c.text, c.len);
        x->finish_seen |= c.finished;
        stop = 0;
        break;
    case CB_CHUNK_DONE:
        finish(x, true, NULL);          /* at once; the rest of the body is drained */
        break;
    case CB_CHUNK_ERROR:
        snprintf(detail, sizeof detail, "the language model server reported an error: %s",
                 c.message);
        fail(x, detail);
        break;
    case CB_CHUNK_MALFORMED:
        y_log_message(Y_LOG_LEVEL_DEBUG, "openai: malformed chunk: %s", c.message);
        fail(x, CB_OAI_MALFORMED);
        break;
    }
    cb_chunk_clear(&c);
    return stop;
}

/* The first bytes of the answer: its status and type decide how to read it. */
static void begin(xfer *x)
{
    const char *type = NULL;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &x->status);
    curl_easy_getinfo(x->easy, CURLINFO_CONTENT_TYPE, &type);
    /* A 200 in JSON: the server ignored stream:true and sent the whole reply. */
    if (x->status == 200 && !(type && strncmp(type, "application/json", 16) == 0))
        x->mode = X_STREAM;
    else
        x->mode = X_BODY;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    xfer *x = arg;
    size_t n = size * nmemb;
    x->last_byte = now_s();
    if (!x->job)
        return n;                       /* finished at [DONE]: drain */
    if (cb_bot_job_cancelled(x->job))
        return 0;                       /* aborts the transfer */
    if (x->mode == X_NEW)
        begin(x);
    if (x->mode == X_BODY) {
        size_t max = x->status == 200 ? JSON_BODY_MAX : ERROR_BODY_MAX;
        if (x->answer.len + n > max) {
            if (x->status != 200)
                return n;               /* enough of an error page */
            fail(x, CB_OAI_MALFORMED);
            return 0;
        }
        cb_buf_put(&x->answer, p, n);
        return n;
    }
    if (cb_sse_feed(&x->sse, p, n) == CB_SSE_TOOLONG)
        fail(x, CB_OAI_MALFORMED);
    return x->failed ? 0 : n;
}

/* --- the end of a transfer -------------------------------------------------- */

/* A 200 answer in one JSON document (stream:false honoured by accident). */
static void conclude_whole(xfer *x)
{
    json_t *root = json_loadb(x->answer.data ? x->answer.data : "", x->answer.len, 0, NULL);
    json_t *msg = json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message");
    json_t *content = json_object_get(msg, "content");
    if (json_is_string(content)) {
        emit(x, json_string_value(content), json_string_length(content));
        finish(x, true, NULL);
    } else {
        finish(x, false, CB_OAI_MALFORMED);
    }
    json_decref(root);
}

static void conclude(xfer *x, CURLcode rc)
{
    if (!x->job)
        return;
    if (cb_bot_job_cancelled(x->job)) {
        finish(x, true, NULL);
        return;
    }
    if (x->failed) {
        finish(x, false, x->detail);
        return;
    }
    long status = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    char detail[CB_OAI_DETAIL];
    if (status != 0 && status != 200) {
        cb_oai_status_detail(x->easy, status, x->model, x->answer.data, x->answer.len, detail,
                             sizeof detail);
        finish(x, false, detail);
        return;
    }
    if (rc == CURLE_OK && x->mode == X_BODY) {
        conclude_whole(x);
        return;
    }
    if (rc == CURLE_OK && x->mode == X_STREAM) {
        cb_sse_end(&x->sse);            /* a last event without its blank line */
        if (x->failed || !x->job) {
            finish(x, !x->failed, x->detail);
            return;
        }
    }
    if (x->finish_seen)
        finish(x, true, NULL);          /* finish_reason, then no [DONE]: complete */
    else if (rc == CURLE_OK)
        finish(x, false, x->events ? CB_OAI_CUT : CB_OAI_MALFORMED);
    else if (x->events && rc != CURLE_OPERATION_TIMEDOUT)
        finish(x, false, CB_OAI_CUT);
    else {
        cb_oai_curl_detail(x->easy, rc, cb_cfg->llm_total_timeout_s, detail, sizeof detail);
        finish(x, false, detail);
    }
}

/* --- the thread ------------------------------------------------------------ */

static void link_active(xfer *x)
{
    x->prev = NULL;
    x->next = active;
    if (active)
        active->prev = x;
    active = x;
}

/* Takes x off the multi handle and the active list, and frees it. */
static void drop(CURLM *m, xfer *x)
{
    curl_multi_remove_handle(m, x->easy);
    if (x->prev)
        x->prev->next = x->next;
    else
        active = x->next;
    if (x->next)
        x->next->prev = x->prev;
    xfer_free(x);
}

static void reap(CURLM *m)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        xfer *x = NULL;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        CURLcode rc = msg->data.result;     /* msg is invalid after the removal */
        conclude(x, rc);
        drop(m, x);
    }
}

/* Connected, and silent for longer than llm_stall_timeout_s. Checked here
   because libcurl's low-speed limit averages over a window of seconds and
   fires up to five seconds late; it stays set as a backstop. */
static bool stalled(xfer *x, double now)
{
    if (now - x->last_byte < cb_cfg->llm_stall_timeout_s)
        return false;
    curl_off_t connected = 0;           /* 0 while connecting: CONNECTTIMEOUT's job */
    curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &connected);
    return connected > 0;
}

/* A cancelled reply's transfer goes at once: that closes its connection.
   So does a stalled one's. */
static void sweep(CURLM *m)
{
    double now = now_s();
    for (xfer *x = active, *next; x; x = next) {
        next = x->next;
        if (x->job && cb_bot_job_cancelled(x->job))
            finish(x, true, NULL);
        else if (stalled(x, now))
            finish(x, false, CB_OAI_STALLED);
        else
            continue;
        drop(m, x);
    }
}

static void *loop(void *arg)
{
    CURLM *m = arg;
    double next_sweep = now_s() + POLL_MS / 1000.0;
    for (;;) {
        pthread_mutex_lock(&g.mu);
        xfer *q = g.queue;
        g.queue = NULL;
        bool stop = g.stopping;
        if (stop)
            g.running = false;          /* no start() queues after this */
        pthread_mutex_unlock(&g.mu);
        while (q) {
            xfer *x = q;
            q = q->next;
            x->last_byte = now_s();
            link_active(x);
            if (curl_multi_add_handle(m, x->easy) != CURLM_OK) {
                finish(x, false, "cannot start a request to the language model");
                drop(m, x);
            }
        }
        if (stop)
            break;
        double left = next_sweep - now_s();
        bool woken = cb_multi_loop_wait(g.loop, left > 0 ? (int)(left * 1000) + 1 : 0);
        reap(m);
        if (woken || now_s() >= next_sweep) {
            sweep(m);
            next_sweep = now_s() + POLL_MS / 1000.0;
        }
    }
    while (active) {
        finish(active, true, NULL);     /* the server is stopping: replies end as stopped */
        drop(m, active);
    }
    return NULL;
}

int cb_openai_init(void)
{
    if (!cb_oai_configured())
        return 0;
    pthread_mutex_lock(&g.mu);
    int rc = 0;
    if (!g.multi) {
        g.multi = curl_multi_init();
        g.loop = g.multi ? cb_multi_loop_new(g.multi) : NULL;
        g.stopping = false;
        g.running = g.loop && pthread_create(&g.thread, NULL, loop, g.multi) == 0;
        if (!g.running) {
            cb_multi_loop_free(g.loop);
            if (g.multi)
                curl_multi_cleanup(g.multi);
            g.multi = NULL;
            g.loop = NULL;
            rc = -1;
        }
    }
    pthread_mutex_unlock(&g.mu);
    if (rc)
        y_log_message(Y_LOG_LEVEL_ERROR, "openai: cannot start the request thread");
    return rc;
}

void cb_openai_shutdown(void)
{
    pthread_mutex_lock(&g.mu);
    CURLM *m = g.multi;
    if (m) {
        g.stopping = true;
        cb_multi_loop_wake(g.loop);
    }
    pthread_mutex_unlock(&g.mu);
    if (m) {
        pthread_join(g.thread, NULL);
        pthread_mutex_lock(&g.mu);
        cb_multi_loop *loop = g.loop;
        g.multi = NULL;
        g.loop = NULL;
        pthread_mutex_unlock(&g.mu);
        curl_multi_cleanup(m);
        cb_multi_loop_free(loop);
    }
    cb_openai_models_forget();
}

/* --- the provider ---------------------------------------------------------- */

static cb_rc start(const cb_bot_request *req, cb_bot_job *job, char *detail, size_t size)
{
    const char *model = cb_oai_model(req->model);
    if (!cb_oai_configured() || !model[0]) {
        snprintf(detail, size, "no language model is configured");
        return CB_ERROR;
    }
    xfer *x = cb_xcalloc(1, sizeof *x);
    x->model = cb_xstrdup(model);
    x->easy = cb_oai_completion(model, req->turns, req->n_turns, true,
                                cb_cfg->llm_total_timeout_s, &x->headers, &x->body, detail, size);
    if (!x->easy) {
        xfer_free(x);
        return CB_ERROR;
    }
    cb_sse_init(&x->sse, 0, on_event, x);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    x->job = job;
    pthread_mutex_lock(&g.mu);
    bool queued = g.running;
    if (queued) {
        x->next = g.queue;
        g.queue = x;
        cb_multi_loop_wake(g.loop);
    }
    pthread_mutex_unlock(&g.mu);
    if (!queued) {
        xfer_free(x);
        snprintf(detail, size, "the language model client is not running");
        return CB_ERROR;
    }
    return CB_OK;
}

static void wake(void)
{
    pthread_mutex_lock(&g.mu);
    if (g.loop)
        cb_multi_loop_wake(g.loop);
    pthread_mutex_unlock(&g.mu);
}

const cb_bot_provider cb_bot_openai = {
    .name = "openai",
    .start = start,
    .wake = wake,
    .models = cb_openai_models,
    .has_model = cb_openai_has_model,
};
