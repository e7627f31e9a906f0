/*
 * buf.c — the growable buffer of buf.h.
 */
#include "util/buf.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

static void reserve(cb_buf *b, size_t n)
{
    if (b->len + n + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 1024;
    while (cap < b->len + n + 1)
        cap *= 2;
    b->data = cb_xrealloc(b->data, cap);
    b->cap = cap;
}

void cb_buf_put(cb_buf *b, const char *s, size_t n)
{
    reserve(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void cb_buf_puts(cb_buf *b, const char *s)
{
    cb_buf_put(b, s, strlen(s));
}

void cb_buf_putc(cb_buf *b, char c)
{
    cb_buf_put(b, &c, 1);
}

char *cb_buf_take(cb_buf *b, size_t *len)
{
    if (!b->data)
        cb_buf_put(b, "", 0);
    char *data = b->data;
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = b->cap = 0;
    return data;
}

void cb_buf_free(cb_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
