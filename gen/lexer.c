/*
 * lexer.c — splits schema text into tokens, tracking line and column
 * (columns count bytes, 1-based) for every diagnostic downstream.
 */
#include "lexer.h"

#include <stdio.h>
#include <string.h>

void gen_lex_init(gen_lexer *lx, const char *file, const char *src, size_t len)
{
    lx->file = file;
    lx->src = lx->p = src;
    lx->end = src + len;
    lx->line = lx->col = 1;
}

static void advance(gen_lexer *lx)
{
    if (*lx->p == '\n') {
        lx->line++;
        lx->col = 1;
    } else {
        lx->col++;
    }
    lx->p++;
}

static void skip_space_and_comments(gen_lexer *lx)
{
    while (lx->p < lx->end) {
        char c = *lx->p;
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            advance(lx);
        } else if (c == '#') {
            while (lx->p < lx->end && *lx->p != '\n')
                advance(lx);
        } else {
            break;
        }
    }
}

static int is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static gen_token error_token(gen_token t, const char *msg)
{
    t.kind = TK_ERROR;
    t.text = msg;
    t.len = strlen(msg);
    return t;
}

static gen_token lex_string(gen_lexer *lx, gen_token t)
{
    advance(lx); /* opening quote */
    while (lx->p < lx->end && *lx->p != '"') {
        if (*lx->p == '\n')
            return error_token(t, "unterminated string");
        if (*lx->p == '\\') {
            advance(lx);
            if (lx->p >= lx->end)
                break;
            if (!strchr("\"\\nt", *lx->p)) {
                t.pos.line = lx->line;
                t.pos.col = lx->col - 1;
                return error_token(t, "unknown escape in string (use \\\" \\\\ \\n or \\t)");
            }
        } else if ((unsigned char)*lx->p < 0x20) {
            t.pos.line = lx->line;
            t.pos.col = lx->col;
            return error_token(t, "control character in string");
        }
        advance(lx);
    }
    if (lx->p >= lx->end)
        return error_token(t, "unterminated string");
    advance(lx); /* closing quote */
    t.kind = TK_STRING;
    t.len = (size_t)(lx->p - t.text);
    return t;
}

gen_token gen_lex_next(gen_lexer *lx)
{
    skip_space_and_comments(lx);
    gen_token t = {TK_EOF, lx->p, 0, {lx->file, lx->line, lx->col}};
    if (lx->p >= lx->end)
        return t;
    char c = *lx->p;
    if (is_ident_start(c)) {
        while (lx->p < lx->end && (is_ident_start(*lx->p) || is_digit(*lx->p)))
            advance(lx);
        t.kind = TK_IDENT;
    } else if (is_digit(c) || (c == '-' && lx->p + 1 < lx->end && is_digit(lx->p[1]))) {
        advance(lx);
        while (lx->p < lx->end && is_digit(*lx->p))
            advance(lx);
        if (lx->p < lx->end && is_ident_start(*lx->p))
            return error_token(t, "invalid number");
        t.kind = TK_INT;
    } else if (c == '"') {
        return lex_string(lx, t);
    } else {
        static const char punct[] = "{}(),:";
        static const gen_tok_kind kinds[] = {TK_LBRACE, TK_RBRACE, TK_LPAREN,
                                             TK_RPAREN, TK_COMMA,  TK_COLON};
        const char *at = c ? strchr(punct, c) : NULL;
        if (!at)
            return error_token(t, "invalid character");
        advance(lx);
        t.kind = kinds[at - punct];
    }
    t.len = (size_t)(lx->p - t.text);
    return t;
}

const char *gen_tok_describe(const gen_token *t, char *buf, size_t size)
{
    switch (t->kind) {
    case TK_EOF:
        return "end of file";
    case TK_STRING:
        return "a string";
    case TK_ERROR:
        return "an invalid token";
    default:
        snprintf(buf, size, "'%.*s'", (int)(t->len > 40 ? 40 : t->len), t->text);
        return buf;
    }
}

void gen_lex_string(const gen_token *t, char *out)
{
    const char *p = t->text + 1, *end = t->text + t->len - 1;
    while (p < end) {
        if (*p == '\\') {
            p++;
            *out++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
            p++;
        } else {
            *out++ = *p++;
        }
    }
    *out = '\0';
}
