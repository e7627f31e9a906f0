/*
 * names.h — how schema names are spelled in the generated C, SQL and
 * OpenAPI, shared by every emitter so that one name never has two spellings
 * (an enum constant in sql.h and its use in api.c, a join table's columns in
 * the DDL and in the DAO statements, an FTS table in its triggers and in the
 * search query).
 *
 * Schema names are [a-z][a-z0-9_]* of at most 63 characters (the lexer
 * enforces it), so the gen_name results below always fit; they are returned
 * by value so they can be used inline as printf arguments:
 *     gen_buf_printf(b, "CB_STMT_%s_INSERT", gen_upper(m->name).s);
 */
#ifndef GEN_NAMES_H
#define GEN_NAMES_H

#include <stddef.h>
#include <stdint.h>
#include "ast.h"
#include "out.h"

#define GEN_NAME_MAX 160

typedef struct gen_name {
    char s[GEN_NAME_MAX];
} gen_name;

/* "api_token" -> "API_TOKEN" (enum constants, macros). */
gen_name gen_upper(const char *s);
/* "api_token" -> "ApiToken" (OpenAPI component names). */
gen_name gen_camel(const char *s);
/* Appends any text as a C identifier: bytes outside [A-Za-z0-9_] become
   '_', and a leading digit gets a '_' in front ("0001_init.sql" ->
   "_0001_init_sql"). */
void gen_put_c_ident(gen_buf *b, const char *s);

/* The FTS5 table of a model with search(...): "<table>_fts". Its rowid is
   the model's id. */
gen_name gen_fts_table(const gen_model *m);
/* The column of a many() join table that holds the id of `model`:
   "<model>_id" (user roles many(role) through(user_roles) gives
   user_roles(user_id, role_id)). */
gen_name gen_join_column(const gen_model *model);

/* The sort keys a list query really uses: the schema's, then "id" in the
   last key's direction (ascending when no sort is given) unless the schema
   already ends with id, so the order is total and a cursor is exact. */
size_t gen_sort_count(const gen_resource *r);
gen_sort_key gen_sort_at(const gen_resource *r, size_t i);

/* Appends an Ulfius path in OpenAPI form: ":id" becomes "{id}". */
void gen_put_openapi_path(gen_buf *b, const char *path);
/* Finds the next ":param" of an Ulfius path at or after p: returns the
   start of its name and sets *len, or returns NULL when there is none.
   Continue the walk from the returned pointer + *len. */
const char *gen_path_param(const char *p, size_t *len);

/* Appends s as adjacent C string literals, one per line, the lines after
   the first starting with `indent`. A line ends after each '\n' of s and,
   when `width` > 0, at the first space past `width` bytes, so UTF-8
   sequences are never split. An empty s gives "". */
void gen_put_c_literal(gen_buf *b, const char *s, const char *indent, size_t width);

/* Appends milliseconds since the epoch as RFC 3339 UTC with milliseconds,
   the form the API uses ("1970-01-01T00:00:00.000Z"). */
void gen_put_rfc3339(gen_buf *b, int64_t ms);

/* The buffer's bytes as a NUL-terminated string (the NUL is kept just past
   b->len, so appending later overwrites it). */
const char *gen_cstr(gen_buf *b);

#endif
