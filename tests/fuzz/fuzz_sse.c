/*
 * fuzz_sse.c — libFuzzer target for src/bot/sse.c: any bytes go through the
 * event-stream parser (with a small line bound, so the bound is reached),
 * every event through the chunk interpreter and the one-line helper. The
 * parser must give the same events whether the input comes whole or cut
 * into the pieces the first input byte chooses; a difference aborts.
 * Build and run: scripts/fuzz.sh [SECONDS]; seeds: tests/fuzz/corpus_sse/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bot/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Records each event (name, data, what the chunk was) for the comparison. */
static int on_event(void *arg, const char *event, const char *d, size_t len)
{
    cb_buf *log = arg;
    cb_chunk c;
    cb_chunk_kind k = cb_chunk_parse(d, len, &c);
    if (k == CB_CHUNK_CONTENT && cb_utf8_whole_len(c.text, c.len) != c.len)
        abort();                        /* a chunk's text is whole characters */
    char line[64];
    cb_one_line(line, sizeof line, d, len);
    if (strlen(line) >= sizeof line)
        abort();
    cb_buf_puts(log, event);
    cb_buf_putc(log, '\0');
    cb_buf_put(log, d, len);
    cb_buf_putc(log, (char)('0' + k));
    cb_buf_put(log, c.text, c.len);
    cb_chunk_clear(&c);
    return k == CB_CHUNK_DONE;          /* like the provider: stop at [DONE] */
}

static cb_sse_status run(const uint8_t *data, size_t size, size_t piece, cb_buf *log)
{
    cb_sse p;
    cb_sse_init(&p, 256, on_event, log);
    for (size_t i = 0; i < size; i += piece)
        cb_sse_feed(&p, (const char *)data + i, size - i < piece ? size - i : piece);
    cb_sse_status st = cb_sse_end(&p);
    cb_sse_free(&p);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    size_t piece = data[0] % 16 + 1;
    data++, size--;
    cb_buf whole = {0}, cut = {0};
    cb_sse_status a = run(data, size, size ? size : 1, &whole);
    cb_sse_status b = run(data, size, piece, &cut);
    if (a != b || whole.len != cut.len || (whole.len && memcmp(whole.data, cut.data, whole.len)))
        abort();
    cb_buf_free(&whole);
    cb_buf_free(&cut);
    return 0;
}
