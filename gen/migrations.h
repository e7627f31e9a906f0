/*
 * migrations.h — the migration files of a schema (`<dir>/NNNN_slug.sql`):
 * loading and checking them, for embedding (emit_migrations.c), for
 * diffing (migrate.c) and for tests that replay a history.
 *
 * File format:
 *     -- chatbot migration NNNN: <message>
 *     -- (comments)
 *     -- +up
 *     <SQL>
 *     -- +down
 *     <SQL>
 */
#ifndef GEN_MIGRATIONS_H
#define GEN_MIGRATIONS_H

#include <stdio.h>

typedef struct gen_mig {
    int version;
    char *name;         /* the slug after NNNN_ */
    char *path;
    char *up, *down;    /* SQL, may be empty strings */
} gen_mig;

typedef struct gen_mig_set {
    gen_mig *items;     /* ordered by version: 1, 2, ... */
    size_t n;
} gen_mig_set;

/* Loads every *.sql of dir. A missing directory is an empty history.
   Returns the number of errors (printed as `file:line: message`). */
int gen_migrations_load(const char *dir, gen_mig_set *out, FILE *diag);
void gen_migrations_free(gen_mig_set *set);

#endif
