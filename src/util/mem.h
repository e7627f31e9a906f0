/*
 * mem.h — allocation that cannot fail.
 *
 * Policy (docs/architecture.md): running out of memory aborts the process
 * with a message; every other failure is returned. So callers of these never
 * check for NULL, and ownership is the only thing to think about.
 */
#ifndef CB_UTIL_MEM_H
#define CB_UTIL_MEM_H

#include <stddef.h>

void *cb_xmalloc(size_t n);
void *cb_xcalloc(size_t count, size_t size);
void *cb_xrealloc(void *p, size_t n);
char *cb_xstrdup(const char *s);
char *cb_xstrndup(const char *s, size_t n);
char *cb_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
