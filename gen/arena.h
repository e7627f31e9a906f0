/*
 * arena.h — the schema's memory: every AST node and string is carved out
 * of one arena and released at once by gen_schema_free(). Allocation
 * failure aborts (the generator has nothing useful to do without memory).
 */
#ifndef GEN_ARENA_H
#define GEN_ARENA_H

#include <stddef.h>

typedef struct gen_arena gen_arena;

gen_arena *gen_arena_new(void);
void gen_arena_free(gen_arena *a);
void *gen_alloc(gen_arena *a, size_t n);                  /* zeroed */
char *gen_strndup(gen_arena *a, const char *s, size_t n);
/* Makes room for one more element in an arena array of n elements of size
   `size` and returns the (possibly moved) array; the new slot is zeroed.
   Capacity doubles at powers of two, so no capacity needs storing. */
void *gen_grow(gen_arena *a, void *array, size_t n, size_t size);

/* Heap helpers for the rest of the generator. */
void *gen_xmalloc(size_t n);
void *gen_xrealloc(void *p, size_t n);
char *gen_xstrdup(const char *s);

#endif
