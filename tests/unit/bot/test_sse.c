/*
 * test_sse.c — the event-stream parser and the chunk interpreter of
 * src/bot/sse.c: one OpenAI stream split at every byte position, in 1-byte
 * pieces, with LF, CRLF and lone-CR line ends, must give the same text;
 * fields, comments, BOM, bounds, [DONE], error and malformed chunks; the
 * one-line and UTF-8 helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "bot/sse.h"
#include "check.h"

/* --- a collector: what a provider would do with the events ---------------- */

typedef struct got {
    cb_buf text;            /* every content piece, concatenated */
    cb_buf raw;             /* "name=data|" per event */
    int events, done, errors, malformed, finished;
    char message[256];
} got;

static int on_chunk(void *arg, const char *event, const char *data, size_t len)
{
    got *g = arg;
    g->events++;
    cb_chunk c;
    int stop = 0;
    switch (cb_chunk_parse(data, len, &c)) {
    case CB_CHUNK_CONTENT:
        cb_buf_put(&g->text, c.text, c.len);
        g->finished += c.finished;
        break;
    case CB_CHUNK_DONE:
        g->done++;
        stop = 1;
        break;
    case CB_CHUNK_ERROR:
        g->errors++;
        snprintf(g->message, sizeof g->message, "%s", c.message);
        stop = 1;
        break;
    case CB_CHUNK_MALFORMED:
        g->malformed++;
        snprintf(g->message, sizeof g->message, "%s", c.message);
        stop = 1;
        break;
    }
    cb_chunk_clear(&c);
    return stop;
}

static int on_raw(void *arg, const char *event, const char *data, size_t len)
{
    got *g = arg;
    g->events++;
    cb_buf_puts(&g->raw, event);
    cb_buf_putc(&g->raw, '=');
    cb_buf_put(&g->raw, data, len);
    cb_buf_putc(&g->raw, '|');
    return 0;
}

static void got_free(got *g)
{
    cb_buf_free(&g->text);
    cb_buf_free(&g->raw);
    memset(g, 0, sizeof *g);
}

/* Feeds `s` in pieces: cut at `at` (0 = whole), or in `piece`-byte steps. */
static cb_sse_status feed(cb_sse_event_fn fn, got *g, const char *s, size_t n,
                          size_t at, size_t piece)
{
    cb_sse p;
    cb_sse_init(&p, 0, fn, g);
    cb_sse_status st = CB_SSE_OK;
    if (piece) {
        for (size_t i = 0; i < n; i += piece)
            st = cb_sse_feed(&p, s + i, n - i < piece ? n - i : piece);
    } else {
        st = cb_sse_feed(&p, s, at);
        st = cb_sse_feed(&p, s + at, n - at);
    }
    st = cb_sse_end(&p);
    cb_sse_free(&p);
    return st;
}

static const char *raw_of(const char *s)
{
    static char out[1024];
    got g = {0};
    feed(on_raw, &g, s, strlen(s), 0, 0);
    snprintf(out, sizeof out, "%s", g.raw.data ? g.raw.data : "");
    got_free(&g);
    return out;
}

/* --- a realistic stream ---------------------------------------------------- */

#define PRE "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
static const char *const EVENTS[] = {
    ": keep-alive comment",
    PRE "{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}",
    PRE "{\"content\":\"Hello\"},\"finish_reason\":null}]}",
    PRE "{\"content\":\", w\\u00f6rld\"},\"finish_reason\":null}]}",
    PRE "{\"content\":\" \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89\"},\"finish_reason\":null}]}",
    "event: message\n" PRE "{\"content\":null},\"finish_reason\":null}]}",
    PRE "{\"content\":\"\\n\\\"quoted\\\"\"},\"finish_reason\":null}]}",
    PRE "{},\"finish_reason\":\"stop\"}]}",
    "data: {\"choices\":[],\"usage\":{\"total_tokens\":9}}",
    "data: [DONE]",
};
static const char WHOLE[] = "Hello, w\xc3\xb6rld \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89\n\"quoted\"";

/* The stream with `nl` as every line end. */
static char *stream_with(const char *nl)
{
    cb_buf b = {0};
    for (size_t i = 0; i < sizeof EVENTS / sizeof *EVENTS; i++) {
        for (const char *e = EVENTS[i]; *e; e++) {
            if (*e == '\n')
                cb_buf_puts(&b, nl);
            else
                cb_buf_putc(&b, *e);
        }
        cb_buf_puts(&b, nl);
        cb_buf_puts(&b, nl);
    }
    return cb_buf_take(&b, NULL);
}

static bool same_reply(const char *s, size_t n, size_t at, size_t piece)
{
    got g = {0};
    cb_sse_status st = feed(on_chunk, &g, s, n, at, piece);
    bool ok = st == CB_SSE_STOPPED && g.done == 1 && g.finished == 1 && g.errors == 0 &&
              g.malformed == 0 && g.text.data && strcmp(g.text.data, WHOLE) == 0;
    if (!ok)
        fprintf(stderr, "split at %zu piece %zu: st %d done %d text \"%s\"\n", at, piece, st,
                g.done, g.text.data ? g.text.data : "");
    got_free(&g);
    return ok;
}

static void test_splits(const char *nl)
{
    char *s = stream_with(nl);
    size_t n = strlen(s);
    size_t bad = 0;
    for (size_t at = 0; at <= n; at++)
        bad += !same_reply(s, n, at, 0);
    CHECK(bad == 0);
    for (size_t piece = 1; piece <= 7; piece++)
        CHECK(same_reply(s, n, 0, piece));
    free(s);
}

/* --- the parser's fields ----------------------------------------------------- */

static void test_fields(void)
{
    CHECK_STR(raw_of("data: a\ndata: b\n\n"), "message=a\nb|");
    CHECK_STR(raw_of("data:x\n\n"), "message=x|");
    CHECK_STR(raw_of("data:  two spaces\n\n"), "message= two spaces|");
    CHECK_STR(raw_of("data\n\n"), "message=|");
    CHECK_STR(raw_of("data:\ndata:\n\n"), "message=\n|");
    CHECK_STR(raw_of(": comment\n:\ndata: x\n\n"), "message=x|");
    CHECK_STR(raw_of("event: delta\ndata: x\n\ndata: y\n\n"), "delta=x|message=y|");
    CHECK_STR(raw_of("event: lonely\n\ndata: y\n\n"), "message=y|");     /* no data: no event */
    CHECK_STR(raw_of("id: 7\nretry: 100\nfoo: bar\ndata: z\n\n"), "message=z|");
    CHECK_STR(raw_of("\n\n\n"), "");
    CHECK_STR(raw_of("data: a\r\n\r\ndata: b\r\rdata: c\n\n"), "message=a|message=b|message=c|");
    CHECK_STR(raw_of("data: a:b: c\n\n"), "message=a:b: c|");
    CHECK_STR(raw_of("\xEF\xBB\xBF" "data: bom\n\n"), "message=bom|");
    CHECK_STR(raw_of("\xEF\xBB" "data: x\n\n"), "");                    /* field "\xEF\xBBdata" */
    CHECK_STR(raw_of("data: \xEF\xBB\xBF" "kept\n\n"), "message=\xEF\xBB\xBFkept|");
    /* The end of the stream dispatches what is pending (lenient). */
    CHECK_STR(raw_of("data: last"), "message=last|");
    CHECK_STR(raw_of("data: a\ndata: b\n"), "message=a\nb|");

    /* A BOM split across feeds, and "\r" | "\n" across feeds. */
    got g = {0};
    cb_sse p;
    cb_sse_init(&p, 0, on_raw, &g);
    cb_sse_feed(&p, "\xEF", 1);
    cb_sse_feed(&p, "\xBB\xBF" "data: a\r", 10);
    cb_sse_feed(&p, "\n", 1);
    cb_sse_feed(&p, "\r", 1);
    cb_sse_feed(&p, "\ndata: b\r", 9);
    cb_sse_feed(&p, "\r", 1);
    CHECK_STR(g.raw.data, "message=a|message=b|");
    CHECK(g.events == 2);
    cb_sse_free(&p);
    got_free(&g);
}

static int stop_at_first(void *arg, const char *event, const char *data, size_t len)
{
    (*(int *)arg)++;
    return 1;
}

static void test_stop(void)
{
    int calls = 0;
    cb_sse p;
    cb_sse_init(&p, 0, stop_at_first, &calls);
    CHECK(cb_sse_feed(&p, "data: 1\n\ndata: 2\n\n", 18) == CB_SSE_STOPPED);
    CHECK(cb_sse_feed(&p, "data: 3\n\n", 9) == CB_SSE_STOPPED);
    CHECK(cb_sse_end(&p) == CB_SSE_STOPPED);
    CHECK(calls == 1);
    cb_sse_free(&p);
}

static void test_bounds(void)
{
    got g = {0};
    cb_sse p;
    cb_sse_init(&p, 64, on_raw, &g);
    char line[100];
    memset(line, 'x', sizeof line);
    CHECK(cb_sse_feed(&p, "data: ok\n\n", 10) == CB_SSE_OK);
    CHECK(cb_sse_feed(&p, line, 40) == CB_SSE_OK);
    CHECK(cb_sse_feed(&p, line, 40) == CB_SSE_TOOLONG);
    CHECK(cb_sse_feed(&p, "\n\ndata: more\n\n", 14) == CB_SSE_TOOLONG);
    CHECK(cb_sse_end(&p) == CB_SSE_TOOLONG);
    CHECK(g.events == 1);
    cb_sse_free(&p);
    got_free(&g);

    /* Exactly the bound is fine; one more is not, also when the line
       arrives whole in one feed. */
    cb_sse_init(&p, 64, on_raw, &g);
    char ok[66];
    memset(ok, 'y', 64);
    ok[64] = '\n';
    CHECK(cb_sse_feed(&p, ok, 65) == CB_SSE_OK);
    cb_sse_free(&p);
    cb_sse_init(&p, 64, on_raw, &g);
    char over[66];
    memset(over, 'y', 65);
    over[65] = '\n';
    CHECK(cb_sse_feed(&p, over, 66) == CB_SSE_TOOLONG);
    cb_sse_free(&p);

    /* Many short data lines cannot grow one event past the bound either. */
    cb_sse_init(&p, 64, on_raw, &g);
    cb_sse_status st = CB_SSE_OK;
    for (int i = 0; i < 20 && st == CB_SSE_OK; i++)
        st = cb_sse_feed(&p, "data: 0123456789\n", 17);
    CHECK(st == CB_SSE_TOOLONG);
    cb_sse_free(&p);
    got_free(&g);

    /* The default bound: 1 MiB + 1 bytes of one line, fed in 4 KiB pieces,
       is refused, and the buffer never grew past twice the bound. */
    cb_sse_init(&p, 0, on_raw, &g);
    char *big = malloc(4096);
    memset(big, 'z', 4096);
    st = cb_sse_feed(&p, "data: ", 6);
    size_t fed = 6;
    while (st == CB_SSE_OK && fed <= CB_SSE_MAX_LINE) {
        st = cb_sse_feed(&p, big, 4096);
        fed += 4096;
    }
    CHECK(st == CB_SSE_TOOLONG);
    CHECK(fed > CB_SSE_MAX_LINE && fed <= CB_SSE_MAX_LINE + 4096 + 6);
    CHECK(p.line.cap <= 2 * CB_SSE_MAX_LINE);
    cb_sse_free(&p);
    free(big);
    got_free(&g);
}

/* --- chunks ---------------------------------------------------------------- */

static cb_chunk_kind kind_of(const char *data, char *message)
{
    cb_chunk c;
    cb_chunk_kind k = cb_chunk_parse(data, strlen(data), &c);
    if (message)
        strcpy(message, c.message);
    cb_chunk_clear(&c);
    return k;
}

static void test_chunks(void)
{
    char msg[256];
    CHECK(kind_of("[DONE]", NULL) == CB_CHUNK_DONE);
    CHECK(kind_of(" [DONE] ", NULL) == CB_CHUNK_DONE);
    CHECK(kind_of("[DONE]x", NULL) == CB_CHUNK_MALFORMED);

    cb_chunk c;
    const char *d = "{\"choices\":[{\"delta\":{\"content\":\"hi \\u00e9\"},\"finish_reason\":null}]}";
    CHECK(cb_chunk_parse(d, strlen(d), &c) == CB_CHUNK_CONTENT);
    CHECK(c.len == 5 && memcmp(c.text, "hi \xc3\xa9", 5) == 0);
    CHECK(!c.finished);
    cb_chunk_clear(&c);
    d = "{\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}";
    CHECK(cb_chunk_parse(d, strlen(d), &c) == CB_CHUNK_CONTENT);
    CHECK(c.len == 0 && strcmp(c.text, "") == 0);
    cb_chunk_clear(&c);
    d = "{\"choices\":[{\"finish_reason\":\"length\"}]}";
    CHECK(cb_chunk_parse(d, strlen(d), &c) == CB_CHUNK_CONTENT);
    CHECK(c.finished && c.len == 0);
    cb_chunk_clear(&c);
    d = "{\"choices\":[{\"delta\":null,\"finish_reason\":null}]}";
    CHECK(cb_chunk_parse(d, strlen(d), &c) == CB_CHUNK_CONTENT && !c.finished);
    cb_chunk_clear(&c);

    CHECK(kind_of("{\"error\":{\"message\":\"model\\noverloaded\\t now\",\"type\":\"x\"}}", msg)
          == CB_CHUNK_ERROR);
    CHECK_STR(msg, "model overloaded now");
    CHECK(kind_of("{\"error\":\"model 'x' not found\"}", msg) == CB_CHUNK_ERROR);
    CHECK_STR(msg, "model 'x' not found");
    CHECK(kind_of("{\"error\":{\"code\":500}}", msg) == CB_CHUNK_ERROR);
    CHECK_STR(msg, "unknown error");
    CHECK(kind_of("{\"error\":null,\"choices\":[]}", NULL) == CB_CHUNK_CONTENT);

    CHECK(kind_of("{\"choices\": [ {not json", NULL) == CB_CHUNK_MALFORMED);
    CHECK(kind_of("", NULL) == CB_CHUNK_MALFORMED);
    CHECK(kind_of("<html>", NULL) == CB_CHUNK_MALFORMED);
    CHECK(kind_of("[1,2]", NULL) == CB_CHUNK_MALFORMED);
    CHECK(kind_of("\"text\"", NULL) == CB_CHUNK_MALFORMED);
    CHECK(kind_of("{}", NULL) == CB_CHUNK_MALFORMED);
    CHECK(kind_of("{\"choices\":{}}", NULL) == CB_CHUNK_MALFORMED);
    CHECK(kind_of("{\"choices\":[1]}", NULL) == CB_CHUNK_MALFORMED);
    CHECK(kind_of("{\"choices\":[{\"delta\":\"x\"}]}", NULL) == CB_CHUNK_MALFORMED);
    CHECK(kind_of("{\"choices\":[{\"delta\":{\"content\":7}}]}", msg) == CB_CHUNK_MALFORMED);
    CHECK_STR(msg, "choices[0].delta.content is not a string");
    CHECK(kind_of("{\"choices\":[{\"delta\":{},\"finish_reason\":1}]}", NULL) == CB_CHUNK_MALFORMED);
    CHECK(kind_of("{\"choices\":[{\"delta\":{\"content\":\"a\\u0000b\"}}]}", NULL)
          == CB_CHUNK_MALFORMED);
    CHECK(kind_of("{\"choices\":[]} trailing", NULL) == CB_CHUNK_MALFORMED);

    /* In a stream: the error stops it with its message, garbage is malformed. */
    got g = {0};
    const char *s = PRE "{\"content\":\"partial\"}}]}\n\n"
                    "data: {\"error\":{\"message\":\"out of memory\"}}\n\n" PRE "{\"content\":\"x\"}}]}\n\n";
    CHECK(feed(on_chunk, &g, s, strlen(s), 0, 1) == CB_SSE_STOPPED);
    CHECK(g.errors == 1 && g.done == 0);
    CHECK_STR(g.text.data, "partial");
    CHECK_STR(g.message, "out of memory");
    got_free(&g);
    s = "<!DOCTYPE html>\n<html><body>It works!</body></html>\n";
    CHECK(feed(on_chunk, &g, s, strlen(s), 0, 0) == CB_SSE_OK);
    CHECK(g.events == 0);       /* the provider calls this "not a stream" */
    got_free(&g);
    s = PRE "{\"content\":\"a\"}}]}\n\ndata: {\"choices\": [ {not json\n\n";
    CHECK(feed(on_chunk, &g, s, strlen(s), 0, 0) == CB_SSE_STOPPED);
    CHECK(g.malformed == 1);
    CHECK_STR(g.text.data, "a");
    got_free(&g);
}

/* --- text helpers ------------------------------------------------------------ */

static const char *one_line(const char *s, size_t size)
{
    static char out[300];
    cb_one_line(out, size, s, strlen(s));
    return out;
}

static void test_text(void)
{
    CHECK_STR(one_line("  a\r\n b\t\tc  ", 100), "a b c");
    CHECK_STR(one_line("", 100), "");
    CHECK_STR(one_line("\n\n", 100), "");
    CHECK_STR(one_line("bad \xff\xfe bytes \xc3", 100), "bad bytes");
    CHECK_STR(one_line("surrogate \xed\xa0\x80!", 100), "surrogate !");
    CHECK_STR(one_line("abcdefghij", 11), "abcdefghij");
    CHECK_STR(one_line("abcdefghijk", 11), "abcdefg\xe2\x80\xa6");
    CHECK_STR(one_line("abcde \xc3\xa9\xc3\xa9xyz", 11), "abcde\xe2\x80\xa6");
    CHECK_STR(one_line("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 10),
              "\xc3\xa9\xc3\xa9\xc3\xa9\xe2\x80\xa6");
    CHECK_STR(one_line("abcdef", 3), "ab");

    CHECK(cb_utf8_whole_len("", 0) == 0);
    CHECK(cb_utf8_whole_len("abc", 3) == 3);
    CHECK(cb_utf8_whole_len("a\xc3", 2) == 1);
    CHECK(cb_utf8_whole_len("a\xc3\xa9", 3) == 3);
    CHECK(cb_utf8_whole_len("a\xe6\x97", 3) == 1);
    CHECK(cb_utf8_whole_len("a\xe6\x97\xa5", 4) == 4);
    CHECK(cb_utf8_whole_len("\xf0\x9f\x8e", 3) == 0);
    CHECK(cb_utf8_whole_len("\xf0\x9f\x8e\x89", 4) == 4);
    CHECK(cb_utf8_whole_len("\x80\x80", 2) == 2);       /* nothing a character could complete */
}

int main(void)
{
    test_splits("\n");
    test_splits("\r\n");
    test_splits("\r");
    test_fields();
    test_stop();
    test_bounds();
    test_chunks();
    test_text();
    return check_done("test_sse");
}
