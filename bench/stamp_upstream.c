/*
 * stamp_upstream.c — the language model server of bench/chat.sh (a) in C:
 * an OpenAI-compatible chat-completions server that streams stamped tokens,
 * as tests/fake_upstream.py does in its `stamp` scenario, for a fraction of
 * the CPU (the Python one takes half of one of this VM's two cores at
 * 20,000 tokens/s, CPU the server under test then lacks).
 *
 *   GET  /v1/models            the one model, --model
 *   POST /v1/chat/completions  "stream": true: an SSE stream of --tokens
 *        chat.completion.chunk events in fake_upstream.py's format (the
 *        role, then one per token whose content is the CLOCK_REALTIME ns at
 *        which it was written and a space, then finish_reason "stop", then
 *        [DONE]); token k is due at the request's arrival + k / --rate.
 *        Otherwise a chat.completion with a short fixed text (the title
 *        chatbot asks for on a conversation's first message).
 *
 * One thread, one epoll set, non-blocking sockets: streams wait in one
 * min-heap by the time their next token is due, and epoll_wait sleeps
 * until the earliest. Every token is its own write, as a real server's.
 * HTTP/1.1 with keep-alive; streamed answers are chunked, as
 * fake_upstream.py's (HTTP/1.0 clients get a close-delimited stream).
 * Request bodies need a Content-Length (libcurl sends one for the
 * CURLOPT_POSTFIELDS of src/bot/openai_req.c); chunked ones get 400.
 *
 * Usage: bench-stamp-upstream [--port N] [--port-file F] [--tokens N]
 *                             [--rate R] [--model NAME]
 *   (defaults 0 = any free port, no file, 200 tokens, 20 tokens/s,
 *   fake-small). Listens on 127.0.0.1; runs until SIGTERM/SIGINT, then
 *   prints `upstream_… value` lines on stdout and exits 0.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_HEAD (64 * 1024)            /* request line and headers */
#define MAX_BODY (4 * 1024 * 1024)
#define MAX_MODEL 200                   /* keeps every event within EVENT_MAX */
#define EVENT_MAX 1024
#define BACKLOG 4096                    /* the kernel caps it at somaxconn */
#define NOT_QUEUED SIZE_MAX
#define TITLE "Weather on the coast"

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

typedef enum route { RT_MODELS, RT_CHAT, RT_NOT_FOUND } route;

typedef enum phase {
    PH_HEAD,        /* reading a request's head */
    PH_BODY,        /* reading its Content-Length body */
    PH_STREAM,      /* streaming; pipelined requests wait in `in` */
    PH_CLOSING,     /* the last answer is queued: write it, then close */
} phase;

typedef struct conn {
    int fd;
    phase phase;
    bool dead;                  /* to be closed by settle(), its only closer */
    bool eof;                   /* the client has closed its side */
    bool shut;                  /* our side is shut down (PH_CLOSING) */
    uint32_t events;            /* the epoll interest set now */
    buf in;                     /* bytes read, not yet consumed as requests */
    buf out;                    /* bytes the socket did not take yet */
    /* The request being read. */
    size_t head_len, body_len;
    route route;
    bool keep;                  /* keep the connection after the answer */
    bool http10;
    /* The stream being sent (PH_STREAM). */
    char *prefix;               /* every chunk's text up to "delta": */
    bool chunked;
    int64_t start_ns;           /* CLOCK_MONOTONIC at the request's arrival */
    long next;                  /* the next token's index */
    int64_t due;                /* ... and when it is due */
    size_t heap_i;              /* its place in the heap, or NOT_QUEUED */
    struct conn *prev, *next_conn;  /* every open connection, for the exit */
} conn;

static struct {
    int port;
    const char *port_file;
    long tokens;
    double rate;
    const char *model;
} opt = {0, NULL, 200, 20.0, "fake-small"};

static struct {
    int epfd;
    conn *all;
    conn **heap;                /* streams, a min-heap on `due` */
    size_t n, cap;
    long requests, streams, finished, tokens_sent, disconnected;
} g;

/* epoll_data.ptr of the two descriptors that are not connections. */
static char listen_tag, signal_tag;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench-stamp-upstream: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p)
        die("out of memory");
    return p;
}

/* --- buffers ------------------------------------------------------------------ */

static void buf_add(buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = b->len + n > 2 * b->cap ? b->len + n : 2 * b->cap;
        b->data = xrealloc(b->data, b->cap);
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

/* Removes the first n bytes. */
static void buf_drop(buf *b, size_t n)
{
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

static void buf_free(buf *b)
{
    free(b->data);
    *b = (buf){0};
}

/* --- the heap of streams by due time ---------------------------------------- */

static void heap_set(size_t i, conn *c)
{
    g.heap[i] = c;
    c->heap_i = i;
}

static void heap_up(size_t i)
{
    conn *c = g.heap[i];
    while (i > 0 && g.heap[(i - 1) / 2]->due > c->due) {
        heap_set(i, g.heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(i, c);
}

static void heap_down(size_t i)
{
    conn *c = g.heap[i];
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= g.n)
            break;
        if (k + 1 < g.n && g.heap[k + 1]->due < g.heap[k]->due)
            k++;
        if (g.heap[k]->due >= c->due)
            break;
        heap_set(i, g.heap[k]);
        i = k;
    }
    heap_set(i, c);
}

static void heap_push(conn *c)
{
    if (g.n == g.cap) {
        g.cap = g.cap ? 2 * g.cap : 256;
        g.heap = xrealloc(g.heap, g.cap * sizeof *g.heap);
    }
    heap_set(g.n++, c);
    heap_up(g.n - 1);
}

static void heap_remove(conn *c)
{
    size_t i = c->heap_i;
    c->heap_i = NOT_QUEUED;
    if (i == --g.n)
        return;
    conn *moved = g.heap[g.n];
    heap_set(i, moved);
    heap_up(i);
    heap_down(moved->heap_i);
}

/* --- connections: writing, interest, closing ------------------------------- */

/* Writes what the socket takes now; a client that left marks c dead. */
static size_t write_some(conn *c, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t w = send(c->fd, p + done, n - done, MSG_NOSIGNAL);
        if (w > 0)
            done += (size_t)w;
        else if (w < 0 && errno == EINTR)
            continue;
        else {
            if (w == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                c->dead = true;         /* EPIPE, ECONNRESET */
            break;
        }
    }
    return done;
}

/* Sends n bytes after whatever is still waiting; keeps what would block. */
static void put(conn *c, const char *p, size_t n)
{
    if (c->dead)
        return;
    size_t done = c->out.len ? 0 : write_some(c, p, n);
    if (!c->dead && done < n)
        buf_add(&c->out, p + done, n - done);
}

static void flush(conn *c)
{
    if (c->out.len)
        buf_drop(&c->out, write_some(c, c->out.data, c->out.len));
}

static void conn_new(int fd)
{
    conn *c = calloc(1, sizeof *c);
    if (!c)
        die("out of memory");
    c->fd = fd;
    c->heap_i = NOT_QUEUED;
    c->events = EPOLLIN | EPOLLRDHUP;
    c->next_conn = g.all;
    if (g.all)
        g.all->prev = c;
    g.all = c;
    struct epoll_event ev = {.events = c->events, .data.ptr = c};
    if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
}

/* Closes c; a stream still in the heap is a client that left mid-stream. */
static void conn_free(conn *c)
{
    if (c->heap_i != NOT_QUEUED) {
        heap_remove(c);
        g.disconnected++;
    }
    close(c->fd);                       /* also leaves the epoll set */
    if (c->prev)
        c->prev->next_conn = c->next_conn;
    else
        g.all = c->next_conn;
    if (c->next_conn)
        c->next_conn->prev = c->prev;
    buf_free(&c->in);
    buf_free(&c->out);
    free(c->prefix);
    free(c);
}

/* After anything happened to c: close it if it is done for, or make epoll
   watch what c waits for (no EPOLLIN after the client's EOF: level-triggered,
   it would fire on every turn while an answer drains). */
static void settle(conn *c)
{
    if (!c->dead && c->phase == PH_CLOSING && c->out.len == 0) {
        if (c->eof)
            c->dead = true;
        else if (!c->shut) {
            /* Half-close, then read until the client's EOF: closing with
               unread request bytes would reset the connection and could
               destroy the answer before the client reads it. */
            shutdown(c->fd, SHUT_WR);
            c->shut = true;
        }
    }
    if (c->dead) {
        conn_free(c);
        return;
    }
    uint32_t want = (c->eof ? 0 : EPOLLIN | EPOLLRDHUP) | (c->out.len ? EPOLLOUT : 0);
    if (want != c->events) {
        struct epoll_event ev = {.events = want, .data.ptr = c};
        if (epoll_ctl(g.epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
            die("epoll_ctl: %s", strerror(errno));
        c->events = want;
    }
}

/* --- whole answers ------------------------------------------------------------ */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 413: return "Payload Too Large";
    default: return "Status";
    }
}

/* A whole answer with a Content-Length, in one write. */
static void respond(conn *c, int status, const char *body)
{
    char head[256];
    size_t n = strlen(body);
    int h = snprintf(head, sizeof head,
                     "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
                     status, reason(status), n, c->keep ? "keep-alive" : "close");
    buf b = {0};
    buf_add(&b, head, (size_t)h);
    buf_add(&b, body, n);
    put(c, b.data, b.len);
    buf_free(&b);
    if (!c->keep)
        c->phase = PH_CLOSING;
}

/* respond() with a JSON document, which it takes. */
static void respond_json(conn *c, int status, json_t *doc)
{
    char *text = json_dumps(doc, JSON_COMPACT);
    if (!text)
        die("out of memory");
    respond(c, status, text);
    free(text);
    json_decref(doc);
}

/* An OpenAI error object. */
static void respond_error(conn *c, int status, const char *message, const char *code)
{
    respond_json(c, status, json_pack("{s:{s:s, s:s, s:n, s:s?}}", "error", "message", message,
                                      "type", "invalid_request_error", "param", "code", code));
}

/* Refuses a request that cannot be read, and closes after the answer. */
static void refuse(conn *c, int status, const char *message)
{
    c->keep = false;
    respond_error(c, status, message, NULL);
}

static void models(conn *c)
{
    respond_json(c, 200, json_pack("{s:s, s:[{s:s, s:s, s:i, s:s}]}", "object", "list", "data",
                                   "id", opt.model, "object", "model", "created", 0,
                                   "owned_by", "bench"));
}

static void title(conn *c, const char *id, json_int_t created)
{
    respond_json(c, 200, json_pack(
        "{s:s, s:s, s:I, s:s, s:[{s:i, s:{s:s, s:s}, s:s}], s:{s:i, s:i, s:i}}",
        "id", id, "object", "chat.completion", "created", created, "model", opt.model,
        "choices", "index", 0, "message", "role", "assistant", "content", TITLE,
        "finish_reason", "stop", "usage", "prompt_tokens", 0, "completion_tokens", 4,
        "total_tokens", 4));
}

/* --- streams -------------------------------------------------------------------- */

/* One SSE event, in an HTTP chunk when the stream is chunked. */
static void put_event(conn *c, const char *line)
{
    char ev[EVENT_MAX + 32];
    int n = c->chunked ? snprintf(ev, sizeof ev, "%zx\r\n%s\n\n\r\n", strlen(line) + 2, line)
                       : snprintf(ev, sizeof ev, "%s\n\n", line);
    put(c, ev, (size_t)n);
}

static int64_t due_of(const conn *c)
{
    return c->start_ns + (int64_t)((double)c->next * 1e9 / opt.rate);
}

/* The head and the role chunk; the heap does the rest. */
static void start_stream(conn *c, const char *id, json_int_t created)
{
    g.streams++;
    c->chunked = !c->http10;            /* HTTP/1.0 has no chunks: close-delimited */
    if (c->http10)
        c->keep = false;
    char head[256], line[EVENT_MAX];
    snprintf(head, sizeof head,
             "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
             "%sConnection: %s\r\n\r\n",
             c->chunked ? "Transfer-Encoding: chunked\r\n" : "", c->keep ? "keep-alive" : "close");
    put(c, head, strlen(head));
    /* The model is --model (the request's must be it), at most MAX_MODEL
       bytes and plain enough to quote without escapes: see options(). */
    int n = snprintf(line, sizeof line,
                     "data: {\"id\":\"%s\",\"object\":\"chat.completion.chunk\",\"created\":%"
                     JSON_INTEGER_FORMAT ",\"model\":\"%s\",\"choices\":[{\"index\":0,\"delta\":",
                     id, created, opt.model);
    c->prefix = strdup(line);
    if (!c->prefix)
        die("out of memory");
    snprintf(line + n, sizeof line - (size_t)n,
             "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}");
    put_event(c, line);
    c->phase = PH_STREAM;
    c->start_ns = clock_ns(CLOCK_MONOTONIC);
    c->next = 0;
    c->due = c->start_ns;
    heap_push(c);
}

/* Token c->next, stamped now. */
static void put_token(conn *c)
{
    char line[EVENT_MAX];
    snprintf(line, sizeof line, "%s{\"content\":\"%" PRId64 " \"},\"finish_reason\":null}]}",
             c->prefix, clock_ns(CLOCK_REALTIME));
    put_event(c, line);
    c->next++;
    if (!c->dead)
        g.tokens_sent++;
}

static void serve(conn *c);

/* finish_reason, [DONE] and the last chunk in one write; then the next
   request, if the client has pipelined one. */
static void end_stream(conn *c)
{
    char line[EVENT_MAX];
    snprintf(line, sizeof line, "%s{},\"finish_reason\":\"stop\"}]}", c->prefix);
    char ev[2 * EVENT_MAX + 64];
    int n = c->chunked
                ? snprintf(ev, sizeof ev, "%zx\r\n%s\n\n\r\n%zx\r\ndata: [DONE]\n\n\r\n0\r\n\r\n",
                           strlen(line) + 2, line, strlen("data: [DONE]\n\n"))
                : snprintf(ev, sizeof ev, "%s\n\ndata: [DONE]\n\n", line);
    put(c, ev, (size_t)n);
    heap_remove(c);
    free(c->prefix);
    c->prefix = NULL;
    if (c->dead)
        return;
    g.finished++;
    c->phase = c->keep ? PH_HEAD : PH_CLOSING;
    serve(c);
}

/* Sends every token due by now, one write each. */
static void run_due(void)
{
    int64_t now = clock_ns(CLOCK_MONOTONIC);
    while (g.n && g.heap[0]->due <= now) {
        conn *c = g.heap[0];
        if (c->next < opt.tokens)
            put_token(c);
        if (!c->dead && c->next == opt.tokens) {
            end_stream(c);
        } else if (!c->dead) {
            c->due = due_of(c);
            heap_down(0);
        }
        settle(c);                      /* a dead stream leaves the heap here */
    }
}

/* epoll_wait's timeout: until the earliest token, rounded up so as not to
   wake before it. */
static int timeout_ms(void)
{
    if (!g.n)
        return -1;
    int64_t left = g.heap[0]->due - clock_ns(CLOCK_MONOTONIC);
    if (left > (int64_t)3600 * 1000000000)
        return 3600 * 1000;             /* a slow --rate: wake up and look again */
    return left <= 0 ? 0 : (int)((left + 999999) / 1000000);
}

/* --- requests ------------------------------------------------------------------ */

/* Whether the comma-separated header value v (n bytes) holds token t. */
static bool has_token(const char *v, size_t n, const char *t)
{
    size_t tn = strlen(t);
    for (size_t i = 0; i < n;) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        size_t end = j;
        while (end > i && (v[end - 1] == ' ' || v[end - 1] == '\t'))
            end--;
        if (end - i == tn && strncasecmp(v + i, t, tn) == 0)
            return true;
        i = j;
    }
    return false;
}

static bool is_name(const char *n, size_t len, const char *want)
{
    return len == strlen(want) && strncasecmp(n, want, len) == 0;
}

static bool is(const char *s, size_t len, const char *want)
{
    return len == strlen(want) && memcmp(s, want, len) == 0;
}

typedef struct head_flags {
    bool has_length, chunked, expect, close, keep_alive;
} head_flags;

/* One header line; false when it is malformed. */
static bool header(conn *c, head_flags *h, const char *p, size_t n)
{
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p)
        return false;
    size_t name = (size_t)(colon - p);
    for (size_t i = 0; i < name; i++)
        if (p[i] <= ' ' || p[i] == 0x7f)
            return false;               /* also obs-fold: a line starting with a space */
    const char *v = colon + 1, *end = p + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    size_t vn = (size_t)(end - v);
    if (is_name(p, name, "content-length")) {
        size_t len = 0;
        if (h->has_length || vn == 0 || vn > 12)
            return false;               /* a repeated one is a smuggling hazard */
        for (size_t i = 0; i < vn; i++) {
            if (v[i] < '0' || v[i] > '9')
                return false;
            len = len * 10 + (size_t)(v[i] - '0');
        }
        h->has_length = true;
        c->body_len = len;
    } else if (is_name(p, name, "transfer-encoding")) {
        h->chunked = true;              /* any coding: the body's length is unknown */
    } else if (is_name(p, name, "expect")) {
        h->expect = has_token(v, vn, "100-continue");
    } else if (is_name(p, name, "connection")) {
        h->close = has_token(v, vn, "close");
        h->keep_alive = has_token(v, vn, "keep-alive");
    }
    return true;
}

/* "METHOD TARGET HTTP/1.x"; false when it is not that. */
static bool request_line(conn *c, const char *p, size_t n)
{
    const char *sp1 = memchr(p, ' ', n);
    const char *sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t)(p + n - sp1 - 1)) : NULL;
    if (!sp1 || !sp2 || sp1 == p || sp2 == sp1 + 1 || p + n - sp2 - 1 != 8)
        return false;
    const char *version = sp2 + 1;
    if (memcmp(version, "HTTP/1.", 7) != 0 || (version[7] != '0' && version[7] != '1'))
        return false;
    c->http10 = version[7] == '0';
    size_t mlen = (size_t)(sp1 - p), tlen = (size_t)(sp2 - sp1 - 1);
    const char *target = sp1 + 1;
    const char *q = memchr(target, '?', tlen);
    size_t plen = q ? (size_t)(q - target) : tlen;
    if (is(p, mlen, "GET") && is(target, plen, "/v1/models"))
        c->route = RT_MODELS;
    else if (is(p, mlen, "POST") && is(target, plen, "/v1/chat/completions"))
        c->route = RT_CHAT;
    else
        c->route = RT_NOT_FOUND;
    return true;
}

/* Parses the head at the start of c->in (head_len bytes, through the empty
   line); NULL, or why the request is refused with *status. */
static const char *parse_head(conn *c, int *status)
{
    const char *p = c->in.data, *end = p + c->head_len - 2;   /* without the last CRLF */
    const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
    *status = 400;
    if (!request_line(c, p, (size_t)(eol - p)))
        return "the request line is not METHOD TARGET HTTP/1.x";
    head_flags h = {0};
    c->body_len = 0;
    for (p = eol + 2; p < end; p = eol + 2) {
        eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!header(c, &h, p, (size_t)(eol - p)))
            return "a header line is malformed";
    }
    if (h.chunked)
        return "request bodies need a Content-Length (no Transfer-Encoding)";
    *status = 413;
    if (c->body_len > MAX_BODY)
        return "the request body is too large";
    c->keep = c->http10 ? h.keep_alive && !h.close : !h.close;
    if (h.expect && c->in.len < c->head_len + c->body_len)
        put(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    return NULL;
}

/* Reads a head when one is there; false when more bytes are needed. */
static bool read_head(conn *c)
{
    if (!c->in.len)
        return false;
    char *end = memmem(c->in.data, c->in.len, "\r\n\r\n", 4);
    if (!end || end - c->in.data + 4 > MAX_HEAD) {
        if (c->in.len > MAX_HEAD)
            refuse(c, 400, "the request head is too large");
        return false;
    }
    c->head_len = (size_t)(end - c->in.data) + 4;
    int status;
    const char *problem = parse_head(c, &status);
    if (problem)
        refuse(c, status, problem);
    else
        c->phase = PH_BODY;
    return !problem;
}

/* POST /v1/chat/completions with its body. */
static void chat(conn *c, const char *body, size_t n)
{
    g.requests++;
    json_t *req = json_loadb(body, n, 0, NULL);
    json_t *model = json_object_get(req, "model"), *messages = json_object_get(req, "messages");
    char id[32];
    snprintf(id, sizeof id, "chatcmpl-%ld", g.requests);
    json_int_t created = (json_int_t)time(NULL);
    if (!json_is_object(req))
        respond_error(c, 400, "We could not parse the JSON body of your request", NULL);
    else if (!json_is_string(model) || !json_is_array(messages) || !json_array_size(messages))
        respond_error(c, 400, "a model and a non-empty array of messages are required", NULL);
    else if (strcmp(json_string_value(model), opt.model) != 0)
        respond_error(c, 404, "The model does not exist", "model_not_found");
    else if (json_is_true(json_object_get(req, "stream")))
        start_stream(c, id, created);
    else
        title(c, id, created);
    json_decref(req);
}

/* Answers every complete request in c->in, until a stream starts. */
static void serve(conn *c)
{
    while (!c->dead) {
        if (c->phase == PH_HEAD) {
            if (!read_head(c))
                return;
        } else if (c->phase == PH_BODY) {
            if (c->in.len < c->head_len + c->body_len)
                return;
            const char *body = c->in.data + c->head_len;
            if (c->route == RT_CHAT)
                chat(c, body, c->body_len);
            else if (c->route == RT_MODELS)
                models(c);
            else
                respond_error(c, 404, "Unknown request URL", "unknown_url");
            buf_drop(&c->in, c->head_len + c->body_len);
            if (c->phase == PH_BODY)
                c->phase = PH_HEAD;
        } else {
            return;
        }
    }
}

/* Reads what the client sent (a closing client's answers are dropped),
   then answers it. */
static void on_input(conn *c)
{
    static char chunk[65536];           /* one thread: one read buffer */
    while (c->in.len <= MAX_HEAD + MAX_BODY) {
        ssize_t r = read(c->fd, chunk, sizeof chunk);
        if (r > 0) {
            if (c->phase != PH_CLOSING)     /* closing: only waiting for EOF */
                buf_add(&c->in, chunk, (size_t)r);
        } else if (r == 0) {
            c->eof = true;
            break;
        } else if (errno == EINTR) {
            continue;
        } else {
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                c->dead = true;             /* ECONNRESET */
            break;
        }
    }
    serve(c);
    if (c->phase != PH_CLOSING && c->in.len > MAX_HEAD + MAX_BODY)
        c->dead = true;                 /* pipelining that much while streaming */
    if (c->eof && (c->phase == PH_STREAM || c->out.len == 0))
        c->dead = true;                 /* a stream's client left */
    else if (c->eof)
        c->phase = PH_CLOSING;          /* write the answers, then close */
}

/* --- the listening socket, signals, the loop -------------------------------- */

static void on_accept(int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                fprintf(stderr, "bench-stamp-upstream: accept: %s\n", strerror(errno));
            return;
        }
        int one = 1;                    /* a token must not wait for the last one's ACK */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_new(fd);
    }
}

static int listen_on(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, BACKLOG) < 0)
        die("cannot listen on 127.0.0.1:%d: %s", port, strerror(errno));
    return fd;
}

/* As fake_upstream.py: written whole (a rename), so a reader never sees half. */
static void write_port_file(const char *path, int port)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0)
        die("cannot write %s: %s", path, strerror(errno));
}

static void add_fd(int fd, void *tag)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = tag};
    if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
}

/* SIGTERM and SIGINT arrive as a readable descriptor in the epoll set. */
static int signal_fd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    int fd = signalfd(-1, &set, SFD_CLOEXEC);
    if (fd < 0)
        die("signalfd: %s", strerror(errno));
    return fd;
}

static void raise_fd_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
        r.rlim_cur = r.rlim_max;
        setrlimit(RLIMIT_NOFILE, &r);
    }
}

static void loop(int lfd)
{
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(g.epfd, evs, 256, timeout_ms());
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            void *tag = evs[i].data.ptr;
            if (tag == &signal_tag)
                return;
            if (tag == &listen_tag) {
                on_accept(lfd);
                continue;
            }
            conn *c = tag;
            if (evs[i].events & EPOLLOUT)
                flush(c);
            if (evs[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
                on_input(c);
            settle(c);
        }
        run_due();
    }
}

static void report(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
                 ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
    printf("upstream_requests %ld\nupstream_streams %ld\nupstream_finished %ld\n"
           "upstream_tokens_sent %ld\nupstream_client_disconnected %ld\nupstream_cpu_s %.3f\n",
           g.requests, g.streams, g.finished, g.tokens_sent, g.disconnected, cpu);
    fflush(stdout);
}

static long number(const char *name, const char *v, long max)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end || n < 0 || n > max)
        die("%s: not a number from 0 to %ld: %s", name, max, v);
    return n;
}

static void options(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            die("usage: bench-stamp-upstream [--port N] [--port-file F] [--tokens N] "
                "[--rate R] [--model NAME]");
        if (strcmp(a, "--port") == 0)
            opt.port = (int)number(a, v, 65535);
        else if (strcmp(a, "--port-file") == 0)
            opt.port_file = v;
        else if (strcmp(a, "--tokens") == 0)
            opt.tokens = number(a, v, 10000000);
        else if (strcmp(a, "--rate") == 0) {
            char *end;
            opt.rate = strtod(v, &end);
            if (end == v || *end || !(opt.rate > 0 && opt.rate <= 1e6))
                die("--rate: tokens per second, more than 0: %s", v);
        } else if (strcmp(a, "--model") == 0) {
            opt.model = v;
            /* Quoted as is into every event: no escapes needed, none made. */
            bool plain = *v && strlen(v) <= MAX_MODEL;
            for (const char *p = v; *p; p++)
                plain = plain && *p > ' ' && *p < 0x7f && *p != '"' && *p != '\\';
            if (!plain)
                die("--model: 1 to %d printable ASCII characters, no space, quote or "
                    "backslash", MAX_MODEL);
        } else
            die("unknown option %s", a);
        i++;
    }
}

int main(int argc, char **argv)
{
    options(argc, argv);
    raise_fd_limit();
    signal(SIGPIPE, SIG_IGN);           /* send() has MSG_NOSIGNAL; this is for the rest */
    g.epfd = epoll_create1(EPOLL_CLOEXEC);
    if (g.epfd < 0)
        die("epoll_create1: %s", strerror(errno));
    int sfd = signal_fd(), lfd = listen_on(opt.port);
    add_fd(sfd, &signal_tag);
    add_fd(lfd, &listen_tag);
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    getsockname(lfd, (struct sockaddr *)&a, &alen);
    int port = ntohs(a.sin_port);
    if (opt.port_file)
        write_port_file(opt.port_file, port);
    printf("listening on %d\n", port);
    fflush(stdout);

    loop(lfd);

    report();
    while (g.all) {                     /* not client disconnects: counted already */
        g.all->heap_i = NOT_QUEUED;
        conn_free(g.all);
    }
    free(g.heap);
    close(lfd);
    close(sfd);
    close(g.epfd);
    return 0;
}
