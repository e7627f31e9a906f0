/*
 * stream_clients.c — many concurrent streamed chat replies, measured from
 * the client's side: bench/chat.sh (a) runs it against chatbot with the
 * fake upstream in its `stamp` scenario, where every token's text is the
 * CLOCK_REALTIME nanosecond at which the upstream sent it. The latency a
 * token gained on its way through chatbot is then the time this client
 * read it minus its stamp (same machine, same clock).
 *
 * One thread and one libcurl multi handle drive every stream, from epoll
 * through bench/multi_loop.c (curl_multi_socket_action), so the client costs a
 * small, known share of a core (and the same per token however many
 * streams run) instead of a thousand threads competing with the server.
 *
 * Usage: bench-stream-clients BASE_URL CAFILE JOBS_FILE CONTENT TIMEOUT_S
 *   JOBS_FILE: one line per stream, "CONVERSATION_ID COOKIE CSRF_TOKEN";
 *   each line becomes POST BASE_URL/api/v1/conversations/ID/messages
 *   {"content": CONTENT, "stream": true}, all started at once (but see
 *   $STREAM_CLIENTS_RAMP_S).
 * Every connection is opened (and its TLS handshake done) before the
 * streams start: see warm_up().
 * $STREAM_CLIENTS_RAMP_S (default 0) spreads the starts evenly over that
 * many seconds instead: N users pressing Enter within a second rather than
 * in the same instant.
 * Prints `key value` lines: `streams_starting N` when the POSTs go out,
 * then the results (see report()). $STREAM_CLIENTS_DUMP, when set, names a
 * file that gets one line per token: stream, read time, latency (ns).
 */
#include "multi_loop.h"

#include <curl/curl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct stream {
    CURL *easy;
    struct curl_slist *headers;
    char *buf;                  /* SSE bytes not yet split into events */
    size_t len, cap;
    long conv;                  /* the conversation id */
    long tokens;
    bool done, error;
} stream;

static struct {
    FILE *dump;                 /* $STREAM_CLIENTS_DUMP: one line per token */
    int64_t *lat;               /* ns, one per stamped token */
    int64_t *at;                /* ... and when it was read */
    size_t n, cap;
    int64_t first_ns, last_ns;  /* receive times of the first and last token */
    long bad_events;
    int64_t perform_max_ns;     /* the client's own longest turn */
    long perform_slow;          /* turns over 20 ms */
} g;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        perror("bench-stream-clients");
        exit(1);
    }
    return p;
}

static void add_latency(int64_t ns, int64_t at)
{
    if (g.n == g.cap) {
        g.cap = g.cap ? g.cap * 2 : 1 << 16;
        g.lat = xrealloc(g.lat, g.cap * sizeof *g.lat);
        g.at = xrealloc(g.at, g.cap * sizeof *g.at);
    }
    g.at[g.n] = at;
    g.lat[g.n++] = ns;
    if (!g.first_ns)
        g.first_ns = at;
    g.last_ns = at;
}

/* A delta's data is {"content":"<ns> <ns> "}: several tokens may share one
   delta when the server coalesces, so every run of digits is a stamp. */
static void on_delta(stream *s, const char *data, size_t n, int64_t at)
{
    const char *p = memchr(data, ':', n), *end = data + n;
    if (!p) {
        g.bad_events++;
        return;
    }
    while (p < end) {
        if (*p < '0' || *p > '9') {
            p++;
            continue;
        }
        int64_t v = 0;
        const char *start = p;
        while (p < end && *p >= '0' && *p <= '9')
            v = v * 10 + (*p++ - '0');
        if (p - start < 15) {   /* not a nanosecond clock reading */
            g.bad_events++;
            continue;
        }
        add_latency(at - v, at);
        if (g.dump)
            fprintf(g.dump, "%p %" PRId64 " %" PRId64 "\n", (void *)s, at, at - v);
        s->tokens++;
    }
}

/* One event block (lines up to the blank line). */
static void on_event(stream *s, char *block, size_t n, int64_t at)
{
    const char *name = "message", *data = NULL;
    size_t name_len = 7, data_len = 0;
    char *line = block, *end = block + n;
    while (line < end) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        size_t ll = nl ? (size_t)(nl - line) : (size_t)(end - line);
        if (ll > 7 && memcmp(line, "event: ", 7) == 0) {
            name = line + 7;
            name_len = ll - 7;
        } else if (ll > 6 && memcmp(line, "data: ", 6) == 0) {
            data = line + 6;
            data_len = ll - 6;
        }
        line += ll + 1;
    }
    if (!data)
        return;                 /* a comment (": ok", ": ping") */
    if (name_len == 5 && memcmp(name, "delta", 5) == 0)
        on_delta(s, data, data_len, at);
    else if (name_len == 4 && memcmp(name, "done", 4) == 0)
        s->done = true;
    else if (name_len == 5 && memcmp(name, "error", 5) == 0) {
        s->error = true;
        fprintf(stderr, "error event: %.*s\n", (int)(data_len > 300 ? 300 : data_len), data);
    }
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    int64_t at = now_ns();      /* before any parsing: the read time */
    stream *s = arg;
    size_t n = size * nmemb;
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2;
        s->buf = xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, ptr, n);
    s->len += n;
    size_t pos = 0;
    for (;;) {
        char *sep = NULL;
        for (size_t i = pos; i + 1 < s->len; i++)
            if (s->buf[i] == '\n' && s->buf[i + 1] == '\n') {
                sep = s->buf + i;
                break;
            }
        if (!sep)
            break;
        on_event(s, s->buf + pos, (size_t)(sep - (s->buf + pos)), at);
        pos = (size_t)(sep - s->buf) + 2;
    }
    memmove(s->buf, s->buf + pos, s->len - pos);
    s->len -= pos;
    return n;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile of n sorted latencies, in ms. */
static double pct_ms(const int64_t *sorted, size_t n, double p)
{
    if (!n)
        return 0;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return (double)sorted[i] / 1e6;
}

/* The latencies of the tokens read after the first second and before the
   last one: the steady state, without the streams' start (1,000 POSTs
   handled at once) and end (1,000 final writes). Sorted. */
static size_t steady(int64_t **out)
{
    int64_t *v = xrealloc(NULL, (g.n ? g.n : 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < g.n; i++)
        if (g.at[i] >= g.first_ns + 1000000000 && g.at[i] <= g.last_ns - 1000000000)
            v[k++] = g.lat[i];
    qsort(v, k, sizeof *v, cmp64);
    *out = v;
    return k;
}

static void report(stream *st, size_t n, double wall_s)
{
    long ok = 0, done = 0, errors = 0, failed = 0, tokens = 0, min_tok = -1, max_tok = 0;
    for (size_t i = 0; i < n; i++) {
        long code = 0;
        curl_easy_getinfo(st[i].easy, CURLINFO_RESPONSE_CODE, &code);
        ok += code == 200;
        done += st[i].done;
        errors += st[i].error;
        failed += !st[i].done && !st[i].error;
        tokens += st[i].tokens;
        if (min_tok < 0 || st[i].tokens < min_tok)
            min_tok = st[i].tokens;
        if (st[i].tokens > max_tok)
            max_tok = st[i].tokens;
    }
    int64_t *mid;
    size_t n_mid = steady(&mid);
    qsort(g.lat, g.n, sizeof *g.lat, cmp64);
    printf("streams %zu\nhttp_200 %ld\ndone %ld\nerror_events %ld\nunfinished %ld\n", n, ok, done,
           errors, failed);
    printf("tokens %ld\ntokens_per_stream_min %ld\ntokens_per_stream_max %ld\n", tokens, min_tok,
           max_tok);
    printf("client_turn_max_ms %.1f\nclient_turns_over_20ms %ld\n", (double)g.perform_max_ns / 1e6,
           g.perform_slow);
    printf("bad_events %ld\nwall_s %.2f\ntoken_span_s %.2f\n", g.bad_events, wall_s,
           g.n ? (double)(g.last_ns - g.first_ns) / 1e9 : 0.0);
    printf("latency_ms_p50 %.3f\nlatency_ms_p90 %.3f\nlatency_ms_p99 %.3f\n", pct_ms(g.lat, g.n, 50),
           pct_ms(g.lat, g.n, 90), pct_ms(g.lat, g.n, 99));
    printf("latency_ms_p999 %.3f\nlatency_ms_max %.3f\nlatency_ms_min %.3f\n",
           pct_ms(g.lat, g.n, 99.9), pct_ms(g.lat, g.n, 100), pct_ms(g.lat, g.n, 0));
    printf("steady_tokens %zu\nsteady_latency_ms_p50 %.3f\nsteady_latency_ms_p99 %.3f\n", n_mid,
           pct_ms(mid, n_mid, 50), pct_ms(mid, n_mid, 99));
    printf("steady_latency_ms_max %.3f\n", pct_ms(mid, n_mid, 100));
    free(mid);
}

static char *body_for(const char *content)
{
    /* CONTENT is the script's own text: only quotes and backslashes need escaping. */
    size_t n = strlen(content);
    char *b = xrealloc(NULL, 2 * n + 64), *p = b;
    p += sprintf(p, "{\"content\":\"");
    for (const char *c = content; *c; c++) {
        if (*c == '"' || *c == '\\')
            *p++ = '\\';
        *p++ = *c;
    }
    strcpy(p, "\",\"stream\":true}");
    return b;
}

/* The streams' start: stream i is added at t0 + i * ramp / n, so all at
   once when ramp is 0. */
typedef struct starts {
    stream *st;
    size_t n, started;
    int64_t t0, ramp_ns;
} starts;

/* Adds the streams now due; true while some are still to come. */
static bool start_due(CURLM *multi, starts *s)
{
    int64_t now = now_ns();
    while (s->started < s->n &&
           s->t0 + s->ramp_ns * (int64_t)s->started / (int64_t)s->n <= now)
        curl_multi_add_handle(multi, s->st[s->started++].easy);
    return s->started < s->n;
}

/* Runs the multi handle until `count` transfers have ended, adding the
   transfers of `pending` (when given) as they come due. */
static void drive(CURLM *multi, cb_multi_loop *loop, size_t count, bool timed, starts *pending)
{
    int running;
    bool ramping = pending && start_due(multi, pending);
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
    size_t ended = 0;
    while (ended < count) {
        cb_multi_loop_wait(loop, ramping ? 1 : 1000);
        if (ramping)
            ramping = start_due(multi, pending);
        int64_t took = cb_multi_loop_work_ns(loop);
        if (timed && took > g.perform_max_ns)
            g.perform_max_ns = took;
        if (timed && took > 20000000)
            g.perform_slow++;
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            ended++;
            if (m->data.result != CURLE_OK)
                fprintf(stderr, "transfer failed: %s\n", curl_easy_strerror(m->data.result));
        }
    }
}

static size_t discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
    (void)ptr;
    (void)arg;
    return size * nmemb;
}

/* Opens every connection first (GET /api/v1/health on each handle), so
   the TLS handshakes, which cost the client a few seconds of its one
   thread, are over before the streams start; the streams then reuse
   these connections from the multi handle's cache. Returns how many
   answered 200. */
static long warm_up(CURLM *multi, cb_multi_loop *loop, stream *st, size_t n, const char *base)
{
    char url[512];
    snprintf(url, sizeof url, "%s/api/v1/health", base);
    for (size_t i = 0; i < n; i++) {
        curl_easy_setopt(st[i].easy, CURLOPT_URL, url);
        curl_easy_setopt(st[i].easy, CURLOPT_WRITEFUNCTION, discard);
        curl_multi_add_handle(multi, st[i].easy);
    }
    drive(multi, loop, n, false, NULL);
    long ok = 0;
    for (size_t i = 0; i < n; i++) {
        long code = 0;
        curl_easy_getinfo(st[i].easy, CURLINFO_RESPONSE_CODE, &code);
        ok += code == 200;
        curl_multi_remove_handle(multi, st[i].easy);
    }
    return ok;
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s BASE_URL CAFILE JOBS_FILE CONTENT TIMEOUT_S\n", argv[0]);
        return 2;
    }
    FILE *jobs = fopen(argv[3], "r");
    if (!jobs) {
        perror(argv[3]);
        return 1;
    }
    const char *ramp = getenv("STREAM_CLIENTS_RAMP_S");
    int64_t ramp_ns = ramp && *ramp ? (int64_t)(atof(ramp) * 1e9) : 0;
    if (ramp_ns < 0) {
        fprintf(stderr, "STREAM_CLIENTS_RAMP_S must be 0 or more seconds\n");
        return 2;
    }
    const char *dump = getenv("STREAM_CLIENTS_DUMP");
    if (dump && *dump && !(g.dump = fopen(dump, "w"))) {
        perror(dump);
        return 1;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    cb_multi_loop *loop = cb_multi_loop_new(multi);
    if (!loop)
        return 1;
    char *body = body_for(argv[4]);
    stream *st = NULL;
    size_t n = 0;
    long conv;
    char cookie[512], csrf[256];
    while (fscanf(jobs, "%ld %511s %255s", &conv, cookie, csrf) == 3) {
        st = xrealloc(st, (n + 1) * sizeof *st);
        stream *s = &st[n++];
        memset(s, 0, sizeof *s);
        s->conv = conv;
        char h[600];
        s->headers = curl_slist_append(NULL, "Content-Type: application/json");
        s->headers = curl_slist_append(s->headers, "Accept: text/event-stream");
        snprintf(h, sizeof h, "Cookie: %s", cookie);
        s->headers = curl_slist_append(s->headers, h);
        snprintf(h, sizeof h, "X-CSRF-Token: %s", csrf);
        s->headers = curl_slist_append(s->headers, h);
        s->easy = curl_easy_init();
        curl_easy_setopt(s->easy, CURLOPT_CAINFO, argv[2]);
        curl_easy_setopt(s->easy, CURLOPT_CAPATH, NULL);   /* the one certificate, not /etc/ssl */
        curl_easy_setopt(s->easy, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(s->easy, CURLOPT_TIMEOUT, atol(argv[5]));
        curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
    }
    fclose(jobs);
    long warm = warm_up(multi, loop, st, n, argv[1]);
    /* Pointers into st are stable from here on. */
    for (size_t i = 0; i < n; i++) {
        char url[512];
        snprintf(url, sizeof url, "%s/api/v1/conversations/%ld/messages", argv[1], st[i].conv);
        curl_easy_setopt(st[i].easy, CURLOPT_URL, url);
        curl_easy_setopt(st[i].easy, CURLOPT_HTTPHEADER, st[i].headers);
        curl_easy_setopt(st[i].easy, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(st[i].easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(st[i].easy, CURLOPT_WRITEDATA, &st[i]);
    }
    printf("streams_starting %ld\n", (long)n);    /* bench/chat.sh starts sampling here */
    fflush(stdout);
    int64_t t0 = now_ns();
    starts pending = {.st = st, .n = n, .t0 = t0, .ramp_ns = ramp_ns};
    drive(multi, loop, n, true, &pending);
    double wall = (double)(now_ns() - t0) / 1e9;
    long reconnects = 0;
    for (size_t i = 0; i < n; i++) {
        long c = 0;
        curl_easy_getinfo(st[i].easy, CURLINFO_NUM_CONNECTS, &c);
        reconnects += c;
    }
    printf("warm_connections_200 %ld\nnew_connections_for_streams %ld\n", warm, reconnects);
    report(st, n, wall);
    for (size_t i = 0; i < n; i++) {
        curl_multi_remove_handle(multi, st[i].easy);
        curl_easy_cleanup(st[i].easy);
        curl_slist_free_all(st[i].headers);
        free(st[i].buf);
    }
    free(st);
    free(body);
    free(g.lat);
    free(g.at);
    if (g.dump)
        fclose(g.dump);
    curl_multi_cleanup(multi);
    cb_multi_loop_free(loop);
    curl_global_cleanup();
    return 0;
}
