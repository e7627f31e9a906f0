/*
 * sse.h — reading an OpenAI-compatible streaming reply: an incremental
 * Server-Sent-Events parser, the interpreter of one chat-completion chunk,
 * and a UTF-8 helper for cutting text on character boundaries.
 *
 * No I/O here and nothing that knows about jobs or curl: the openai
 * provider (openai.c) feeds received bytes in, the unit tests and the
 * fuzzer (tests/fuzz/fuzz_sse.c) feed byte strings split anywhere.
 *
 * The parser follows the event-stream format of the HTML standard: lines end
 * in "\r\n", "\n" or a lone "\r" (a chunk may end between "\r" and "\n");
 * a leading byte-order mark is skipped; "data:" lines (one optional space
 * after the colon) are joined with "\n"; "event:" names the event; ":"
 * starts a comment; "id:" and "retry:" are ignored; a blank line dispatches.
 * Memory is two buffers that grow geometrically up to `max_line` bytes: a
 * longer line, or an event whose data grows past that, is an error, never
 * unbounded growth.
 */
#ifndef CB_BOT_SSE_H
#define CB_BOT_SSE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

/* The default bound on one line and on one event's data. */
#define CB_SSE_MAX_LINE ((size_t)1 << 20)

/* Called once per dispatched event. `event` is the event name ("message"
   when the stream named none); `data` is NUL-terminated, `len` excludes the
   NUL (the data may contain other NULs). Return 0 to go on, anything else
   to stop the parser (cb_sse_feed then answers CB_SSE_STOPPED). */
typedef int (*cb_sse_event_fn)(void *arg, const char *event, const char *data, size_t len);

typedef enum cb_sse_status {
    CB_SSE_OK = 0,
    CB_SSE_STOPPED,     /* the callback asked to stop; later input is ignored */
    CB_SSE_TOOLONG      /* a line or an event was over max_line; later input is ignored */
} cb_sse_status;

typedef struct cb_sse {
    cb_sse_event_fn on_event;
    void *arg;
    size_t max_line;
    cb_buf line;        /* the line being read, without its end */
    cb_buf data;        /* the event's data lines, each followed by "\n" */
    cb_buf event;       /* the event's name ("" until an event: line) */
    bool after_cr;      /* the last byte was "\r": a "\n" next belongs to it */
    bool started;       /* past the first byte (where a BOM may sit) */
    size_t bom_seen;    /* bytes of a leading BOM matched so far */
    cb_sse_status status;
} cb_sse;

/* Sets up an empty parser; `max_line` 0 means CB_SSE_MAX_LINE. */
void cb_sse_init(cb_sse *p, size_t max_line, cb_sse_event_fn on_event, void *arg);

/* Consumes `n` bytes, dispatching every event they complete. */
cb_sse_status cb_sse_feed(cb_sse *p, const char *bytes, size_t n);

/* The stream is over. The standard drops an unterminated last event; this
   is lenient and dispatches it (a last line without its end included), as
   some servers omit the final blank line. */
cb_sse_status cb_sse_end(cb_sse *p);

void cb_sse_free(cb_sse *p);

/* --- one chunk of an OpenAI-compatible chat completion stream ------------- */

typedef enum cb_chunk_kind {
    CB_CHUNK_CONTENT,   /* text (possibly empty) and/or a finish_reason */
    CB_CHUNK_DONE,      /* "[DONE]": the stream is over */
    CB_CHUNK_ERROR,     /* {"error": …}: the server gave up mid-stream */
    CB_CHUNK_MALFORMED  /* not JSON, or JSON of the wrong shape */
} cb_chunk_kind;

typedef struct cb_chunk {
    cb_chunk_kind kind;
    const char *text;   /* CONTENT: choices[0].delta.content (UTF-8, whole
                           characters), "" when absent or null; points into
                           `json`, valid until cb_chunk_clear */
    size_t len;
    bool finished;      /* CONTENT: choices[0].finish_reason is a string */
    char message[256];  /* ERROR: the error's message, one line;
                           MALFORMED: what was wrong (for logs) */
    json_t *json;       /* owned */
} cb_chunk;

/* Interprets the data of one event. Always fills `c`; call cb_chunk_clear
   afterwards. Strings containing "\u0000" make the chunk malformed. */
cb_chunk_kind cb_chunk_parse(const char *data, size_t len, cb_chunk *c);
void cb_chunk_clear(cb_chunk *c);

/* The error message in a server's JSON error body or chunk, written to
   `out` as cb_one_line does: error.message (OpenAI, llama.cpp), error as a
   string (Ollama), message (vLLM) or detail. False when there is none. */
bool cb_chunk_error_message(const json_t *root, char *out, size_t size);

/* Copies `s` to `out` (size > 0) as one short line for a user to read:
   control characters become spaces, runs of spaces collapse, both ends are
   trimmed, and a text longer than the buffer is cut on a character boundary
   and ends in "…". Never leaves a partial UTF-8 character. */
void cb_one_line(char *out, size_t size, const char *s, size_t n);

/* --- UTF-8 ------------------------------------------------------------------ */

/* The length of the longest prefix of `s` that does not end inside a UTF-8
   character: n minus the bytes of an incomplete last sequence (0 to 3). */
size_t cb_utf8_whole_len(const char *s, size_t n);

#endif
