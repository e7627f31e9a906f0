/*
 * openai.c — the openai provider: streamed replies from an OpenAI-compatible
 * /chat/completions server (docs/llm.md).
 *
 * A reply's upstream request runs in its consumer's thread (the request's
 * own thread, chat/reply.c): start() puts the transfer on a libcurl multi
 * handle of its own and gives the job a pump, and the consumer's waits
 * drive it. A token wakes only the thread that sends it on. (It used to be
 * read by one thread for every reply and handed over with a futex wake:
 * at 1,000 streams that thread used 0.87 of a core, and every token
 * waited for it.) The pump notices a cancel or a stall within its timeout
 * and ends the transfer, which closes its upstream connection. Every
 * transfer ends in exactly one cb_bot_job_finish: at [DONE], at the end of
 * its response, on a cancel or a stall.
 *
 * Finished replies' multi handles are kept (up to IDLE_MULTI_MAX), and
 * with them their keep-alive connections to the LLM server, for the next
 * replies. All transfers share DNS answers and TLS sessions through one
 * share handle; not connections, which libcurl documents as unsafe to
 * share across threads.
 */
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

#define ERROR_BODY_MAX (64 * 1024)          /* kept of a non-200 answer */
#define IDLE_MULTI_MAX 32                   /* multi handles kept for the next replies */
#define DONE_GRACE_S 0.2                    /* after [DONE], for the end of the response */
#define JSON_BODY_MAX (8 * 1024 * 1024)     /* a whole (non-streamed) 200 answer */

typedef enum { X_NEW, X_STREAM, X_BODY } xfer_mode;

typedef struct xfer {
    CURLM *multi;               /* its own while it runs: driven by the consumer's pump */
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
    double done_at;             /* when [DONE] came, or 0 */
    bool shared;                /* holds a place on the share handle */
} xfer;

static struct {
    pthread_mutex_t mu;
    bool running;               /* start() may begin transfers */
    CURLSH *share;              /* freed when stopped and no transfer uses it */
    int live;                   /* transfers using the share */
    CURLM *idle[IDLE_MULTI_MAX]; /* finished replies' multi handles */
    int n_idle;
} g = {.mu = PTHREAD_MUTEX_INITIALIZER};

static pthread_mutex_t share_locks[CURL_LOCK_DATA_LAST];

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

static void share_release(void)
{
    pthread_mutex_lock(&g.mu);
    g.live--;
    if (!g.running && g.live == 0 && g.share) {
        curl_share_cleanup(g.share);
        g.share = NULL;
    }
    pthread_mutex_unlock(&g.mu);
}

/* A multi handle keeps the connections of its finished transfers, so a
   reply that takes a used one reuses its keep-alive connection to the
   LLM server. One thread at a time uses a multi handle, which is all
   libcurl asks. */
static CURLM *multi_take(void)
{
    CURLM *m = NULL;
    pthread_mutex_lock(&g.mu);
    if (g.n_idle)
        m = g.idle[--g.n_idle];
    pthread_mutex_unlock(&g.mu);
    return m ? m : curl_multi_init();
}

static void multi_give(CURLM *m)
{
    pthread_mutex_lock(&g.mu);
    if (g.running && g.n_idle < IDLE_MULTI_MAX) {
        g.idle[g.n_idle++] = m;
        m = NULL;
    }
    pthread_mutex_unlock(&g.mu);
    if (m)
        curl_multi_cleanup(m);
}

/* Also ends the transfer when it still runs: that closes its connection. */
static void xfer_free(xfer *x)
{
    if (x->multi && x->easy)
        curl_multi_remove_handle(x->multi, x->easy);
    if (x->easy)
        curl_easy_cleanup(x->easy);
    if (x->multi)
        multi_give(x->multi);
    if (x->shared)
        share_release();
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
        /* The reply is whole. It ends with the response (normally at
           once), so that the connection can be kept for the next reply;
           or after DONE_GRACE_S without it. */
        x->done_at = now_s();
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
    if (!x->job || x->done_at)
        return n;                       /* after [DONE]: drain */
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
    if (cb_bot_job_cancelled(x->job) || x->done_at) {
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

/* --- the pump ----------------------------------------------------------------- */

/* Connected, and silent for longer than llm_stall_timeout_s. Checked here
   because libcurl's low-speed limit averages over a window of seconds and
   fires up to five seconds late; it stays set as a backstop. Looked at
   after the pump read what was waiting, so a consumer that was busy
   writing is not taken for a silent upstream. */
static bool stalled(xfer *x, double now)
{
    if (now - x->last_byte < cb_cfg->llm_stall_timeout_s)
        return false;
    curl_off_t connected = 0;           /* 0 while connecting: CONNECTTIMEOUT's job */
    curl_easy_getinfo(x->easy, CURLINFO_PRETRANSFER_TIME_T, &connected);
    return connected > 0;
}

/* Finishes a reply that is over without its response ending: cancelled,
   whole ([DONE] came some time ago), failed inside libcurl, or stalled. */
static void end_if_over(xfer *x, CURLMcode mc)
{
    double now = now_s();
    if (cb_bot_job_cancelled(x->job) || (x->done_at && now >= x->done_at + DONE_GRACE_S)) {
        finish(x, true, NULL);
    } else if (mc != CURLM_OK) {
        char detail[CB_OAI_DETAIL];
        snprintf(detail, sizeof detail, "the request to the language model failed: %s",
                 curl_multi_strerror(mc));
        finish(x, false, detail);
    } else if (stalled(x, now)) {
        finish(x, false, CB_OAI_STALLED);
    }
}

/* The consumer's thread (bot.h): waits at most timeout_ms for the
   upstream, lets libcurl act on what came, and ends the transfer when the
   reply is over, cancelled or stalled. */
static void pump(void *arg, int timeout_ms)
{
    xfer *x = arg;
    CURLMcode mc = CURLM_OK;
    if (x->done_at) {                   /* wait no longer than the grace */
        int grace_ms = (int)((x->done_at + DONE_GRACE_S - now_s()) * 1000) + 1;
        if (grace_ms < timeout_ms)
            timeout_ms = grace_ms > 0 ? grace_ms : 0;
    }
    if (!cb_bot_job_cancelled(x->job)) {
        int running;
        mc = curl_multi_poll(x->multi, NULL, 0, timeout_ms, NULL);
        if (mc == CURLM_OK)
            mc = curl_multi_perform(x->multi, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(x->multi, &left)))
            if (msg->msg == CURLMSG_DONE)
                conclude(x, msg->data.result);
    }
    if (x->job)
        end_if_over(x, mc);
    if (!x->job)
        xfer_free(x);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
    (void)h, (void)access, (void)arg;
    pthread_mutex_lock(&share_locks[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
    (void)h, (void)arg;
    pthread_mutex_unlock(&share_locks[data]);
}

static void share_locks_init(void)
{
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&share_locks[i], NULL);
}

static CURLSH *share_new(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, share_locks_init);
    CURLSH *sh = curl_share_init();
    if (sh && (curl_share_setopt(sh, CURLSHOPT_LOCKFUNC, share_lock) != CURLSHE_OK ||
               curl_share_setopt(sh, CURLSHOPT_UNLOCKFUNC, share_unlock) != CURLSHE_OK ||
               curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS) != CURLSHE_OK ||
               curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK)) {
        curl_share_cleanup(sh);
        sh = NULL;
    }
    return sh;
}

int cb_openai_init(void)
{
    if (!cb_oai_configured())
        return 0;
    pthread_mutex_lock(&g.mu);
    if (!g.share)
        g.share = share_new();
    g.running = g.share != NULL;
    int rc = g.running ? 0 : -1;
    pthread_mutex_unlock(&g.mu);
    if (rc)
        y_log_message(Y_LOG_LEVEL_ERROR, "openai: cannot set up libcurl's share handle");
    return rc;
}

void cb_openai_shutdown(void)
{
    CURLM *idle[IDLE_MULTI_MAX];
    pthread_mutex_lock(&g.mu);
    g.running = false;
    int n_idle = g.n_idle;
    memcpy(idle, g.idle, sizeof idle);
    g.n_idle = 0;
    pthread_mutex_unlock(&g.mu);
    for (int i = 0; i < n_idle; i++)
        curl_multi_cleanup(idle[i]);
    pthread_mutex_lock(&g.mu);
    if (g.live == 0 && g.share) {
        curl_share_cleanup(g.share);
        g.share = NULL;
    }
    pthread_mutex_unlock(&g.mu);
    cb_openai_models_forget();
}

/* --- the provider ---------------------------------------------------------- */

/* Takes a place on the share handle; false once shut down. */
static bool share_take(CURL *easy)
{
    pthread_mutex_lock(&g.mu);
    bool ok = g.running;
    if (ok) {
        g.live++;
        curl_easy_setopt(easy, CURLOPT_SHARE, g.share);
    }
    pthread_mutex_unlock(&g.mu);
    return ok;
}

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
    x->shared = share_take(x->easy);
    if (!x->shared) {
        xfer_free(x);
        snprintf(detail, size, "the language model client is not running");
        return CB_ERROR;
    }
    cb_sse_init(&x->sse, 0, on_event, x);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    x->multi = multi_take();
    if (!x->multi || curl_multi_add_handle(x->multi, x->easy) != CURLM_OK) {
        xfer_free(x);
        snprintf(detail, size, "cannot start a request to the language model");
        return CB_ERROR;
    }
    x->job = job;
    x->last_byte = now_s();
    cb_bot_job_set_pump(job, pump, x);
    return CB_OK;
}

const cb_bot_provider cb_bot_openai = {
    .name = "openai",
    .start = start,
    .wake = NULL,                       /* the pump looks at the cancel itself */
    .models = cb_openai_models,
    .has_model = cb_openai_has_model,
};
