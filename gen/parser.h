/*
 * parser.h — the front end of chatbot-gen: lexer, parser, checker.
 *
 * Every problem is printed to `diag` as `file:line:col: message` (one line
 * each); the functions return the number of errors, 0 on success. The parser
 * stops at the first syntax error (the rest of the file cannot be trusted);
 * the checker reports every semantic error it finds.
 */
#ifndef GEN_PARSER_H
#define GEN_PARSER_H

#include <stdio.h>
#include "ast.h"

/* Parses `src` (len bytes, need not be NUL-terminated) named `file`. */
int gen_parse(const char *file, const char *src, size_t len, gen_schema *out, FILE *diag);

/* Reads and parses a file; a read error is reported as `file: message`. */
int gen_parse_file(const char *path, gen_schema *out, FILE *diag);

/* Validates names, types, defaults, references, resources; resolves
   gen_field.ref, gen_resource.model and gen_resource.parent. */
int gen_check(gen_schema *s, FILE *diag);

#endif
