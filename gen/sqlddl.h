/*
 * sqlddl.h — pieces of the DDL (emit_sql.c) that the migration diff
 * (migrate.c) reuses to write ADD COLUMN statements and to compare a table
 * with the schema's version of it.
 */
#ifndef GEN_SQLDDL_H
#define GEN_SQLDDL_H

#include <stdint.h>
#include "ast.h"
#include "out.h"

/* One column definition ("title TEXT NOT NULL CHECK (...)"). */
void gen_sql_column(gen_buf *b, const gen_field *f);
/* CREATE TABLE for a model under `name` (NULL: its table) with only the
   columns whose bit is set in `columns` (bit i = i-th column, many()
   fields not counted; UINT64_MAX: every column, however many). */
void gen_sql_table(gen_buf *b, const gen_model *m, const char *name, uint64_t columns);
void gen_sql_indexes(gen_buf *b, const gen_model *m);
void gen_sql_fts(gen_buf *b, const gen_model *m);
void gen_sql_fts_triggers(gen_buf *b, const gen_model *m);
size_t gen_sql_model_order(const gen_schema *s, const gen_model **out);

#endif
