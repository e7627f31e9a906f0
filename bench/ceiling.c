/*
 * ceiling.c — the framework's ceiling on this machine: a minimal Ulfius
 * server started with the same libmicrohttpd options as chatbot (thread per
 * connection, poll, TLS 1.2+). bench/run.sh loads its constant JSON answer
 * beside the real server; bench/chat.sh (ceiling) streams from it with
 * bench-stream-clients exactly as from chatbot in part (a).
 *
 *   GET  /api/v1/health                     a constant JSON body
 *   POST /api/v1/conversations/:id/messages an SSE stream of stamped tokens
 *        (body, cookies and CSRF ignored): ": ok", then per token
 *        `event: delta` {"content":"<CLOCK_REALTIME ns> "}, then `event: done`.
 *
 * The stream does the least the real server's architecture allows: one
 * ticker thread (the real server's one upstream thread) queues each
 * stream's tokens on its schedule, arrival + k / rate (k = 0, 1, …, as the
 * fake upstream), into the stream's buffer under its mutex, and wakes its
 * connection thread, which blocks in its stream callback on the stream's
 * condition variable (as src/chat/job.c and reply.c).
 *
 * Usage: bench-ceiling PORT CERT.pem KEY.pem [--stream-tokens N] [--stream-rate R]
 *   (default 200 tokens at 20 tokens/s; runs until SIGINT/SIGTERM, then
 *   prints `ceiling_… value` lines: tokens sent and the ticker's own cost).
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <ulfius.h>

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

typedef enum phase { PH_HEAD, PH_BODY, PH_END } phase;

typedef struct stream {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;                   /* the connection's and the ticker's; under mu */
    bool gone;                  /* the connection has let go: no more tokens */
    bool finished;              /* every token is queued */
    buf text;                   /* stamps queued, not yet taken by the connection */
    /* The ticker's, under sched.mu. */
    int64_t due;                /* CLOCK_MONOTONIC ns of the next token */
    long sent;
    /* The connection thread's alone. */
    phase phase;
    buf out;                    /* SSE bytes not yet handed to MHD */
    size_t out_pos;
} stream;

static struct {
    long tokens;
    int64_t period_ns;
} cfg = {200, 50000000};

/* The ticker's schedule: a min-heap on `due` of the streams it still feeds. */
static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;          /* a new stream may be due before the top */
    stream **heap;
    size_t n, cap;
    /* Statistics, printed at exit: tokens queued, and how late the ticker
       woke for them (the stamp is taken after, so this is not in the
       latency measured, but it shows whether one ticker keeps up). */
    long streams, tokens, late_over_1ms;
    int64_t late_max_ns, cpu_ns;
} sched = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Set under sched.mu (the ticker reads it there), then every stream's
   condition variable is broadcast: connection threads read it under their
   stream's mutex (see stop_streams). */
static atomic_bool stopping;

static int64_t now_ns(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void put(buf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2 + 64;
        b->data = realloc(b->data, b->cap);
        if (!b->data)
            abort();
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void puts_buf(buf *b, const char *s)
{
    put(b, s, strlen(s));
}

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *data = malloc((size_t)n + 1);
    if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    if (data)
        data[n] = '\0';
    fclose(f);
    return data;
}

static int constant(const struct _u_request *req, struct _u_response *resp, void *data)
{
    static const char body[] = "{\"status\":\"ok\",\"db\":\"ok\",\"version\":\"ceiling\"}";
    ulfius_set_string_body_response(resp, 200, body);
    u_map_put(resp->map_header, "Content-Type", "application/json");
    return U_CALLBACK_COMPLETE;
}

/* --- streams ---------------------------------------------------------------- */

static stream *stream_new(void)
{
    stream *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->refs = 2;
    return s;
}

static void stream_unref(stream *s)
{
    pthread_mutex_lock(&s->mu);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&s->mu);
    if (!last)
        return;
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    free(s->text.data);
    free(s->out.data);
    free(s);
}

/* The connection has let go (after END, an error or a failed write): the
   ticker drops the stream at its next token. */
static void stream_free(void *cls)
{
    stream *s = cls;
    pthread_mutex_lock(&s->mu);
    s->gone = true;
    pthread_mutex_unlock(&s->mu);
    stream_unref(s);
}

/* Fills s->out with the next bytes, blocking until there are some: the
   first comment (the headers leave with it), then every stamp queued since
   the last call in one delta (chatbot coalesces the same way), then done.
   False at the end. */
static bool produce(stream *s)
{
    s->out.len = s->out_pos = 0;
    if (s->phase == PH_END)
        return false;
    if (s->phase == PH_HEAD) {
        puts_buf(&s->out, ": ok\n\n");
        s->phase = PH_BODY;
        return true;
    }
    pthread_mutex_lock(&s->mu);
    while (!s->text.len && !s->finished && !atomic_load(&stopping))
        pthread_cond_wait(&s->cv, &s->mu);
    if (s->text.len) {
        puts_buf(&s->out, "event: delta\ndata: {\"content\":\"");
        put(&s->out, s->text.data, s->text.len);
        puts_buf(&s->out, "\"}\n\n");
        s->text.len = 0;
    }
    if (s->finished) {
        puts_buf(&s->out, "event: done\ndata: {}\n\n");
        s->phase = PH_END;
    } else if (atomic_load(&stopping)) {
        s->phase = PH_END;
    }
    pthread_mutex_unlock(&s->mu);
    return s->out.len > 0;
}

/* Never returns 0 (MHD would call again at once): produce() blocks. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
    stream *s = cls;
    if (s->out_pos == s->out.len && !produce(s))
        return U_STREAM_END;
    size_t n = s->out.len - s->out_pos;
    if (n > max)
        n = max;
    memcpy(out, s->out.data + s->out_pos, n);
    s->out_pos += n;
    return (ssize_t)n;
}

/* --- the ticker ---------------------------------------------------------------- */

static void heap_swap(size_t i, size_t j)
{
    stream *t = sched.heap[i];
    sched.heap[i] = sched.heap[j];
    sched.heap[j] = t;
}

static void heap_push(stream *s)
{
    if (sched.n == sched.cap) {
        sched.cap = sched.cap ? sched.cap * 2 : 1024;
        sched.heap = realloc(sched.heap, sched.cap * sizeof *sched.heap);
        if (!sched.heap)
            abort();
    }
    size_t i = sched.n++;
    sched.heap[i] = s;
    for (; i > 0 && sched.heap[(i - 1) / 2]->due > sched.heap[i]->due; i = (i - 1) / 2)
        heap_swap(i, (i - 1) / 2);
}

static stream *heap_pop(void)
{
    stream *top = sched.heap[0];
    sched.heap[0] = sched.heap[--sched.n];
    for (size_t i = 0;;) {
        size_t m = i, l = 2 * i + 1, r = l + 1;
        if (l < sched.n && sched.heap[l]->due < sched.heap[m]->due)
            m = l;
        if (r < sched.n && sched.heap[r]->due < sched.heap[m]->due)
            m = r;
        if (m == i)
            break;
        heap_swap(i, m);
        i = m;
    }
    return top;
}

/* Queues s's next token, stamped now. False when s needs no more. The
   connection is woken after the unlock (as job.c: woken under the lock it
   would block on the mutex at once); the ticker's reference keeps s alive. */
static bool deliver(stream *s)
{
    char stamp[32];
    int n = snprintf(stamp, sizeof stamp, "%lld ", (long long)now_ns(CLOCK_REALTIME));
    pthread_mutex_lock(&s->mu);
    bool queued = !s->gone;
    if (queued) {
        put(&s->text, stamp, (size_t)n);
        s->finished = ++s->sent == cfg.tokens;
    }
    bool more = queued && !s->finished;
    pthread_mutex_unlock(&s->mu);
    if (queued) {
        pthread_cond_broadcast(&s->cv);
        sched.tokens++;         /* the ticker's alone until it is joined */
    }
    return more;
}

static void wait_until(int64_t due)
{
    struct timespec ts = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
    pthread_cond_timedwait(&sched.cv, &sched.mu, &ts);
}

/* Sleeps until the earliest due token, queues it, reschedules its stream. */
static void *ticker(void *arg)
{
    pthread_mutex_lock(&sched.mu);
    while (!atomic_load(&stopping)) {
        if (!sched.n) {
            pthread_cond_wait(&sched.cv, &sched.mu);
            continue;
        }
        int64_t now = now_ns(CLOCK_MONOTONIC);
        if (sched.heap[0]->due > now) {
            wait_until(sched.heap[0]->due);
            continue;
        }
        stream *s = heap_pop();
        int64_t late = now - s->due;
        sched.late_max_ns = late > sched.late_max_ns ? late : sched.late_max_ns;
        sched.late_over_1ms += late > 1000000;
        pthread_mutex_unlock(&sched.mu);    /* new streams come in meanwhile */
        bool more = deliver(s);
        if (!more)
            stream_unref(s);
        pthread_mutex_lock(&sched.mu);
        if (more) {
            s->due += cfg.period_ns;
            heap_push(s);
        }
    }
    sched.cpu_ns = now_ns(CLOCK_THREAD_CPUTIME_ID);
    pthread_mutex_unlock(&sched.mu);
    return NULL;
}

static int messages(const struct _u_request *req, struct _u_response *resp, void *data)
{
    stream *s = stream_new();
    u_map_put(resp->map_header, "Content-Type", "text/event-stream; charset=utf-8");
    u_map_put(resp->map_header, "Cache-Control", "no-store");
    u_map_put(resp->map_header, "X-Accel-Buffering", "no");
    if (ulfius_set_stream_response(resp, 200, stream_read, stream_free, U_STREAM_SIZE_UNKNOWN,
                                   16 * 1024, s) != U_OK) {
        stream_unref(s);
        stream_unref(s);        /* both references: the ticker never saw it */
        return U_CALLBACK_ERROR;
    }
    pthread_mutex_lock(&sched.mu);
    s->due = now_ns(CLOCK_MONOTONIC);       /* the first token at once, as the fake upstream */
    heap_push(s);
    sched.streams++;
    if (sched.heap[0] == s)
        pthread_cond_signal(&sched.cv);
    pthread_mutex_unlock(&sched.mu);
    return U_CALLBACK_COMPLETE;
}

/* Stops the ticker and wakes every blocked stream callback, which
   ulfius_stop_framework waits for. Streams the ticker let go of are
   finished and do not block. */
static void stop_streams(pthread_t tick)
{
    pthread_mutex_lock(&sched.mu);
    atomic_store(&stopping, true);
    pthread_cond_signal(&sched.cv);
    pthread_mutex_unlock(&sched.mu);
    pthread_join(tick, NULL);
    pthread_mutex_lock(&sched.mu);
    for (size_t i = 0; i < sched.n; i++) {
        stream *s = sched.heap[i];
        pthread_mutex_lock(&s->mu);     /* no callback between its check and its wait */
        pthread_mutex_unlock(&s->mu);
        pthread_cond_broadcast(&s->cv);
    }
    pthread_mutex_unlock(&sched.mu);
}

/* After the framework stopped: the ticker's references, and the figures. */
static void drop_streams(void)
{
    while (sched.n)
        stream_unref(heap_pop());
    free(sched.heap);
    printf("ceiling_streams %ld\nceiling_tokens_sent %ld\n", sched.streams, sched.tokens);
    printf("ceiling_ticker_cpu_s %.3f\nceiling_ticker_late_ms_max %.3f\n",
           (double)sched.cpu_ns / 1e9, (double)sched.late_max_ns / 1e6);
    printf("ceiling_ticker_late_over_1ms %ld\n", sched.late_over_1ms);
}

/* --- main ----------------------------------------------------------------- */

static bool parse_options(int argc, char **argv)
{
    if (argc < 4 || argc % 2)
        return false;
    for (int i = 4; i < argc; i += 2) {
        char *end;
        double v = strtod(argv[i + 1], &end);
        if (*end || v <= 0)
            return false;
        if (strcmp(argv[i], "--stream-tokens") == 0 && v == (long)v)
            cfg.tokens = (long)v;
        else if (strcmp(argv[i], "--stream-rate") == 0)
            cfg.period_ns = (int64_t)(1e9 / v);
        else
            return false;
    }
    return true;
}

static int serve(struct _u_instance *u, struct sockaddr_in *addr, char *cert, char *key)
{
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, addr},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_CONNECTION_LIMIT, 4096, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
        {MHD_OPTION_THREAD_STACK_SIZE, 256 * 1024, NULL},
        {MHD_OPTION_END, 0, NULL}};
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_TLS;
    return ulfius_start_framework_with_mhd_options(u, flags, ops) == U_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (!parse_options(argc, argv)) {
        fprintf(stderr, "usage: %s PORT CERT.pem KEY.pem [--stream-tokens N] [--stream-rate R]\n",
                argv[0]);
        return 2;
    }
    char *cert = read_file(argv[2]), *key = read_file(argv[3]);
    if (!cert || !key) {
        fprintf(stderr, "bench-ceiling: cannot read the certificate or key\n");
        return 1;
    }
    /* Signals go to sigwait below, not to the framework's threads. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&sched.cv, &attr);
    pthread_condattr_destroy(&attr);
    pthread_t tick;
    pthread_create(&tick, NULL, ticker, NULL);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct _u_instance u;
    if (ulfius_init_instance(&u, (unsigned)atoi(argv[1]), &addr, NULL) != U_OK)
        return 1;
    ulfius_add_endpoint_by_val(&u, "GET", "/api/v1/health", NULL, 0, constant, NULL);
    ulfius_add_endpoint_by_val(&u, "POST", "/api/v1/conversations/:id/messages", NULL, 0,
                               messages, NULL);
    if (serve(&u, &addr, cert, key) != 0) {
        fprintf(stderr, "bench-ceiling: cannot start\n");
        return 1;
    }
    printf("bench-ceiling: serving on %s\n", argv[1]);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    stop_streams(tick);
    ulfius_stop_framework(&u);
    ulfius_clean_instance(&u);
    drop_streams();
    pthread_cond_destroy(&sched.cv);
    free(cert);
    free(key);
    return 0;
}
