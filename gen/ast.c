/*
 * ast.c — the arena behind the AST and the lookups every stage shares.
 */
#include "arena.h"
#include "ast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gen_arena {
    struct block *head;
};

struct block {
    struct block *next;
    size_t used, cap;
    max_align_t data[];
};

static void *oom(void)
{
    fputs("chatbot-gen: out of memory\n", stderr);
    abort();
}

void *gen_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    return p ? p : oom();
}

void *gen_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    return q ? q : oom();
}

char *gen_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(gen_xmalloc(n), s, n);
}

gen_arena *gen_arena_new(void)
{
    gen_arena *a = gen_xmalloc(sizeof *a);
    a->head = NULL;
    return a;
}

void gen_arena_free(gen_arena *a)
{
    if (!a)
        return;
    for (struct block *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    free(a);
}

void *gen_alloc(gen_arena *a, size_t n)
{
    const size_t align = sizeof(max_align_t);
    n = (n + align - 1) / align * align;
    struct block *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > 16384 ? n : 16384;
        b = gen_xmalloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        b->next = a->head;
        a->head = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return memset(p, 0, n);
}

char *gen_strndup(gen_arena *a, const char *s, size_t n)
{
    char *p = gen_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void *gen_grow(gen_arena *a, void *array, size_t n, size_t size)
{
    /* Capacity is 4 for n < 4, else the next power of two above n - 1, so
       the array is full exactly when n is 0 or a power of two ≥ 4. */
    bool full = n == 0 || (n >= 4 && (n & (n - 1)) == 0);
    if (!full)
        return array;
    size_t cap = n == 0 ? 4 : n * 2;
    void *bigger = gen_alloc(a, cap * size);
    if (n)
        memcpy(bigger, array, n * size);
    return bigger;
}

void gen_schema_free(gen_schema *s)
{
    gen_arena_free(s->arena);
    memset(s, 0, sizeof *s);
}

gen_model *gen_find_model(const gen_schema *s, const char *name)
{
    for (size_t i = 0; i < s->n_models; i++)
        if (strcmp(s->models[i].name, name) == 0)
            return &s->models[i];
    return NULL;
}

gen_field *gen_find_field(const gen_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_fields; i++)
        if (strcmp(m->fields[i].name, name) == 0)
            return &m->fields[i];
    return NULL;
}

gen_resource *gen_find_resource(const gen_schema *s, const char *name)
{
    for (size_t i = 0; i < s->n_resources; i++)
        if (strcmp(s->resources[i].name, name) == 0)
            return &s->resources[i];
    return NULL;
}
