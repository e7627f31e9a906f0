/*
 * lexer.h — tokens of the schema language (docs/schema.md, "Lexical rules").
 *
 * The lexer never allocates: a token points into the source text. Strings
 * keep their quotes and escapes; gen_lex_string() decodes them.
 */
#ifndef GEN_LEXER_H
#define GEN_LEXER_H

#include <stddef.h>
#include <stdint.h>
#include "ast.h"

typedef enum gen_tok_kind {
    TK_EOF,
    TK_IDENT,  /* [A-Za-z_][A-Za-z0-9_]* */
    TK_INT,    /* -?[0-9]+ */
    TK_STRING, /* "..." */
    TK_LBRACE,
    TK_RBRACE,
    TK_LPAREN,
    TK_RPAREN,
    TK_COMMA,
    TK_COLON,
    TK_ERROR /* text: the message; pos: where */
} gen_tok_kind;

typedef struct gen_token {
    gen_tok_kind kind;
    const char *text; /* start in the source (TK_ERROR: a static message) */
    size_t len;
    gen_pos pos;
} gen_token;

typedef struct gen_lexer {
    const char *file;
    const char *src, *end, *p;
    int line, col;
} gen_lexer;

void gen_lex_init(gen_lexer *lx, const char *file, const char *src, size_t len);
gen_token gen_lex_next(gen_lexer *lx);

/* A readable name of a token for "expected X, found Y" messages. */
const char *gen_tok_describe(const gen_token *t, char *buf, size_t size);

/* Decodes a TK_STRING's body into out (size ≥ t->len). */
void gen_lex_string(const gen_token *t, char *out);

#endif
