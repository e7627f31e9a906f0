/*
 * emit.h — the emitters. Each reads a checked schema and appends its files
 * to the output set; none writes to disk, none depends on the clock, the
 * environment or hash order, so output is byte-for-byte deterministic.
 *
 * `source` is the schema path as given on the command line (it goes into
 * the DO NOT EDIT line).
 */
#ifndef GEN_EMIT_H
#define GEN_EMIT_H

#include <stdio.h>
#include "ast.h"
#include "out.h"

/* models.h, models.c, sql.h, sql.c: structs, descriptors, DAO wrappers,
   the statement table. */
int gen_emit_models(const gen_schema *s, const char *source, gen_outset *o);
/* api.h, api.c, hooks.h: resource descriptors, the route table, hook and
   handler prototypes. */
int gen_emit_api(const gen_schema *s, const char *source, gen_outset *o);
/* openapi.json and openapi.c (the same document as a C string). */
int gen_emit_openapi(const gen_schema *s, const char *source, gen_outset *o);
/* migrations.c: every file of `migrations_dir` embedded. Errors (a
   malformed migration file) go to diag. */
int gen_emit_migrations(const char *migrations_dir, gen_outset *o, FILE *diag);

/* The DDL of a schema: CREATE TABLE / INDEX / VIRTUAL TABLE / TRIGGER
   statements, each ending with ";\n", in dependency order. Used by the
   initial migration and by the diff. */
void gen_sql_ddl(const gen_schema *s, gen_buf *out);

/* `chatbot-gen migration -m MESSAGE`: diffs the schema against the state the
   existing migrations produce and writes the next numbered file into
   migrations_dir. Returns 0, 1 on a schema/diff error (printed), or 2 when
   there is nothing to migrate (printed as a note, nothing written). */
int gen_migration_new(const gen_schema *s, const char *migrations_dir, const char *message,
                      FILE *diag);

#endif
