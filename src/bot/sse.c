/*
 * sse.c — the event-stream parser, the chunk interpreter and the text
 * helpers of sse.h. Bytes are copied only when a line straddles two feeds;
 * a line that arrives whole is interpreted where it lies.
 */
#include "bot/sse.h"

#include <stdio.h>
#include <string.h>

void cb_sse_init(cb_sse *p, size_t max_line, cb_sse_event_fn on_event, void *arg)
{
    memset(p, 0, sizeof *p);
    p->on_event = on_event;
    p->arg = arg;
    p->max_line = max_line ? max_line : CB_SSE_MAX_LINE;
}

void cb_sse_free(cb_sse *p)
{
    cb_buf_free(&p->line);
    cb_buf_free(&p->data);
    cb_buf_free(&p->event);
}

static void dispatch(cb_sse *p)
{
    /* An event without data lines only resets the name (the standard). */
    if (p->data.len == 0) {
        p->event.len = 0;
        return;
    }
    size_t len = p->data.len - 1;       /* the last line's "\n" */
    p->data.data[len] = '\0';
    const char *name = p->event.len ? p->event.data : "message";
    int stop = p->on_event(p->arg, name, p->data.data, len);
    p->data.len = 0;
    p->event.len = 0;
    if (stop)
        p->status = CB_SSE_STOPPED;
}

static void set_event_name(cb_sse *p, const char *v, size_t n)
{
    p->event.len = 0;
    cb_buf_put(&p->event, v, n);
    /* An empty name still counts as set-and-empty, which means "message". */
}

/* One complete line (without its end). */
static void process_line(cb_sse *p, const char *l, size_t n)
{
    if (n == 0) {
        dispatch(p);
        return;
    }
    if (l[0] == ':')
        return;
    const char *colon = memchr(l, ':', n);
    size_t flen = colon ? (size_t)(colon - l) : n;
    const char *v = colon ? colon + 1 : l + n;
    size_t vlen = n - (size_t)(v - l);
    if (vlen && *v == ' ') {
        v++;
        vlen--;
    }
    if (flen == 4 && memcmp(l, "data", 4) == 0) {
        if (p->data.len + vlen + 1 > p->max_line) {
            p->status = CB_SSE_TOOLONG;
            return;
        }
        cb_buf_put(&p->data, v, vlen);
        cb_buf_putc(&p->data, '\n');
    } else if (flen == 5 && memcmp(l, "event", 5) == 0) {
        set_event_name(p, v, vlen);
    }
    /* id, retry and unknown fields: nothing a chat client needs. */
}

/* Swallows a leading UTF-8 byte-order mark, even one split across feeds;
   returns how many bytes of `s` it took. */
static size_t skip_bom(cb_sse *p, const char *s, size_t n)
{
    static const char bom[3] = "\xEF\xBB\xBF";
    size_t i = 0;
    while (!p->started && i < n) {
        if (s[i] == bom[p->bom_seen]) {
            i++;
            if (++p->bom_seen == 3)
                p->started = true;
            continue;
        }
        p->started = true;
        /* Not a BOM after all: what matched so far is text of the line. */
        cb_buf_put(&p->line, bom, p->bom_seen);
    }
    return i;
}

cb_sse_status cb_sse_feed(cb_sse *p, const char *s, size_t n)
{
    size_t i = skip_bom(p, s, n);
    while (i < n && p->status == CB_SSE_OK) {
        if (p->after_cr) {
            p->after_cr = false;
            if (s[i] == '\n') {
                i++;
                continue;
            }
        }
        size_t j = i;
        while (j < n && s[j] != '\n' && s[j] != '\r')
            j++;
        if (p->line.len + (j - i) > p->max_line) {
            p->status = CB_SSE_TOOLONG;
            break;
        }
        if (j == n) {
            cb_buf_put(&p->line, s + i, j - i);
            break;
        }
        p->after_cr = s[j] == '\r';
        if (p->line.len == 0) {
            process_line(p, s + i, j - i);
        } else {
            cb_buf_put(&p->line, s + i, j - i);
            process_line(p, p->line.data, p->line.len);
            p->line.len = 0;
        }
        i = j + 1;
    }
    return p->status;
}

cb_sse_status cb_sse_end(cb_sse *p)
{
    if (p->status != CB_SSE_OK)
        return p->status;
    if (p->line.len) {
        process_line(p, p->line.data, p->line.len);
        p->line.len = 0;
    }
    if (p->status == CB_SSE_OK)
        dispatch(p);
    return p->status;
}

/* --- chunks ------------------------------------------------------------------ */

static cb_chunk_kind malformed(cb_chunk *c, const char *why)
{
    c->kind = CB_CHUNK_MALFORMED;
    snprintf(c->message, sizeof c->message, "%s", why);
    c->text = "";
    c->len = 0;
    return c->kind;
}

bool cb_chunk_error_message(const json_t *root, char *out, size_t size)
{
    const json_t *err = json_object_get(root, "error");
    const json_t *msg = NULL;
    if (json_is_string(err))
        msg = err;                                      /* Ollama: {"error": "…"} */
    else if (json_is_object(err))
        msg = json_object_get(err, "message");          /* OpenAI, llama.cpp */
    if (!json_is_string(msg))
        msg = json_object_get(root, "message");         /* vLLM: {"object":"error","message":…} */
    if (!json_is_string(msg))
        msg = json_object_get(root, "detail");          /* FastAPI-style servers */
    if (!json_is_string(msg) || json_string_length(msg) == 0)
        return false;
    cb_one_line(out, size, json_string_value(msg), json_string_length(msg));
    return out[0] != '\0';
}

/* "[DONE]", ignoring surrounding whitespace. */
static bool is_done(const char *d, size_t n)
{
    while (n && (*d == ' ' || *d == '\t'))
        d++, n--;
    while (n && (d[n - 1] == ' ' || d[n - 1] == '\t' || d[n - 1] == '\n'))
        n--;
    return n == 6 && memcmp(d, "[DONE]", 6) == 0;
}

cb_chunk_kind cb_chunk_parse(const char *data, size_t len, cb_chunk *c)
{
    memset(c, 0, sizeof *c);
    c->text = "";
    if (is_done(data, len))
        return c->kind = CB_CHUNK_DONE;
    json_error_t jerr;
    c->json = json_loadb(data, len, 0, &jerr);
    if (!json_is_object(c->json))
        return malformed(c, c->json ? "the chunk is not a JSON object" : "the chunk is not JSON");
    const json_t *err = json_object_get(c->json, "error");
    if (err && !json_is_null(err)) {
        c->kind = CB_CHUNK_ERROR;
        if (!cb_chunk_error_message(c->json, c->message, sizeof c->message))
            snprintf(c->message, sizeof c->message, "unknown error");
        return c->kind;
    }
    const json_t *choices = json_object_get(c->json, "choices");
    if (!json_is_array(choices))
        return malformed(c, "the chunk has no choices array");
    if (json_array_size(choices) == 0)       /* usage-only and filter-result chunks */
        return c->kind = CB_CHUNK_CONTENT;
    const json_t *choice = json_array_get(choices, 0);
    if (!json_is_object(choice))
        return malformed(c, "choices[0] is not an object");
    const json_t *delta = json_object_get(choice, "delta");
    if (delta && !json_is_null(delta)) {
        if (!json_is_object(delta))
            return malformed(c, "choices[0].delta is not an object");
        const json_t *content = json_object_get(delta, "content");
        if (content && !json_is_null(content)) {
            if (!json_is_string(content))
                return malformed(c, "choices[0].delta.content is not a string");
            c->text = json_string_value(content);
            c->len = json_string_length(content);
        }
    }
    const json_t *reason = json_object_get(choice, "finish_reason");
    if (reason && !json_is_null(reason)) {
        if (!json_is_string(reason))
            return malformed(c, "choices[0].finish_reason is not a string");
        c->finished = true;
    }
    return c->kind = CB_CHUNK_CONTENT;
}

void cb_chunk_clear(cb_chunk *c)
{
    json_decref(c->json);
    c->json = NULL;
    c->text = "";
    c->len = 0;
}

/* --- text ----------------------------------------------------------------- */

/* The length of the valid UTF-8 character at s (n > 0 bytes left), or 0
   when it is not one (bad lead, bad continuation, overlong, surrogate,
   beyond U+10FFFF, or cut short). */
static size_t utf8_char_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned lo = 0x80, hi = 0xBF;          /* the second byte's range */
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

void cb_one_line(char *out, size_t size, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t o = 0, i = 0;
    bool space = false, cut = false;
    while (i < n) {
        size_t len = utf8_char_len(s + i, n - i);
        if (len == 0) {                     /* invalid bytes are dropped */
            i++;
            continue;
        }
        if (len == 1 && (s[i] <= ' ' || s[i] == 0x7F)) {
            space = o > 0;
            i++;
            continue;
        }
        if (o + space + len > size - 1) {
            cut = true;
            break;
        }
        if (space)
            out[o++] = ' ';
        space = false;
        memcpy(out + o, s + i, len);
        o += len;
        i += len;
    }
    if (cut && size - 1 > 3) {  /* room for the ellipsis and some text */
        static const char ellipsis[] = "\xE2\x80\xA6";
        while (o > 0 && (o + 3 > size - 1 || out[o - 1] == ' ')) {
            do
                o--;
            while (o > 0 && ((unsigned char)out[o] & 0xC0) == 0x80);
        }
        if (o + 3 <= size - 1) {
            memcpy(out + o, ellipsis, 3);
            o += 3;
        }
    }
    out[o] = '\0';
}

size_t cb_utf8_whole_len(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t k = 0;                           /* continuation bytes at the end */
    while (k < 3 && k < n && (s[n - 1 - k] & 0xC0) == 0x80)
        k++;
    if (k == n)
        return n;
    unsigned lead = s[n - 1 - k];
    size_t want = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
    return want > k + 1 ? n - (k + 1) : n;
}
