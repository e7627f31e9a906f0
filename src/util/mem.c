/*
 * mem.c — allocation that aborts on exhaustion (see mem.h for the policy).
 */
#include "util/mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *cb_oom(size_t n)
{
    fprintf(stderr, "chatbot: out of memory allocating %zu bytes\n", n);
    abort();
}

void *cb_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    return p ? p : cb_oom(n);
}

void *cb_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    return p ? p : cb_oom(count * size);
}

void *cb_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    return q ? q : cb_oom(n);
}

char *cb_xstrdup(const char *s)
{
    return cb_xstrndup(s, strlen(s));
}

char *cb_xstrndup(const char *s, size_t n)
{
    char *p = cb_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cb_xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0)
        cb_oom((size_t)0);
    return out;
}
