/*
 * buf.h — a growable byte buffer (always NUL-terminated), for building
 * answers without intermediate trees. Allocation failure aborts (mem.h).
 */
#ifndef CB_UTIL_BUF_H
#define CB_UTIL_BUF_H

#include <stddef.h>

typedef struct cb_buf {
    char *data;
    size_t len, cap;
} cb_buf;

void cb_buf_put(cb_buf *b, const char *s, size_t n);
void cb_buf_puts(cb_buf *b, const char *s);
void cb_buf_putc(cb_buf *b, char c);
/* Hands the bytes over (caller frees); the buffer is empty afterwards. */
char *cb_buf_take(cb_buf *b, size_t *len);
void cb_buf_free(cb_buf *b);

#endif
