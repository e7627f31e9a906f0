/*
 * test_lexer.c — tokens, their positions, strings and comments.
 */
#include "check.h"
#include "lexer.h"

static gen_token lex_one(const char *src)
{
    gen_lexer lx;
    gen_lex_init(&lx, "t", src, strlen(src));
    return gen_lex_next(&lx);
}

/* Columns count bytes from 1 and survive comments, strings and tabs; every
   escape decodes; errors point at the token that went wrong. */
static void test_positions_and_escapes(void)
{
    const char *src = "# header\n\tx \"t\\tb\\\\\" y # tail\n\n  ( \"bad";
    gen_lexer lx;
    gen_lex_init(&lx, "p", src, strlen(src));
    gen_token x = gen_lex_next(&lx), str = gen_lex_next(&lx), y = gen_lex_next(&lx);
    gen_token lp = gen_lex_next(&lx), bad = gen_lex_next(&lx);
    CHECK(x.kind == TK_IDENT && x.pos.line == 2 && x.pos.col == 2);
    CHECK(str.kind == TK_STRING && str.pos.line == 2 && str.pos.col == 4);
    char decoded[16];
    gen_lex_string(&str, decoded);
    CHECK_STR(decoded, "t\tb\\");
    CHECK(y.kind == TK_IDENT && y.pos.col == 4 + (int)str.len + 1);
    CHECK(lp.kind == TK_LPAREN && lp.pos.line == 4 && lp.pos.col == 3);
    CHECK(bad.kind == TK_ERROR && bad.pos.line == 4 && bad.pos.col == 5);
    CHECK(strcmp(bad.text, "unterminated string") == 0);

    char buf[64];
    CHECK_STR(gen_tok_describe(&x, buf, sizeof buf), "'x'");
    CHECK_STR(gen_tok_describe(&str, buf, sizeof buf), "a string");
    gen_token eof = gen_lex_next(&lx);
    CHECK(eof.kind == TK_EOF);
    CHECK_STR(gen_tok_describe(&eof, buf, sizeof buf), "end of file");
}

int main(void)
{
    const char *src = "model x { # comment\n  n int(5), -12 \"a\\\"b\\n\" : }";
    gen_lexer lx;
    gen_lex_init(&lx, "t.schema", src, strlen(src));
    gen_tok_kind want[] = {TK_IDENT,  TK_IDENT, TK_LBRACE, TK_IDENT,  TK_IDENT, TK_LPAREN, TK_INT,
                           TK_RPAREN, TK_COMMA, TK_INT,    TK_STRING, TK_COLON, TK_RBRACE, TK_EOF};
    gen_token toks[14];
    for (int i = 0; i < 14; i++) {
        toks[i] = gen_lex_next(&lx);
        CHECK(toks[i].kind == want[i]);
    }
    CHECK(toks[3].pos.line == 2 && toks[3].pos.col == 3); /* n */
    CHECK(toks[0].pos.line == 1 && toks[0].pos.col == 1);
    CHECK(toks[2].pos.col == 9);
    CHECK(toks[9].len == 3 && strncmp(toks[9].text, "-12", 3) == 0);
    char decoded[32];
    gen_lex_string(&toks[10], decoded);
    CHECK_STR(decoded, "a\"b\n");
    CHECK(strcmp(toks[0].pos.file, "t.schema") == 0);

    CHECK(lex_one("\"open").kind == TK_ERROR);
    CHECK(lex_one("\"line\nbreak\"").kind == TK_ERROR);
    CHECK(lex_one("\"bad \\q escape\"").kind == TK_ERROR);
    CHECK(lex_one(";").kind == TK_ERROR);
    CHECK(lex_one("@").kind == TK_ERROR);
    CHECK(lex_one("12abc").kind == TK_ERROR);
    CHECK(lex_one("   # only a comment").kind == TK_EOF);
    CHECK(lex_one("").kind == TK_EOF);
    gen_token t = lex_one("\xc3\xa9"); /* UTF-8 outside a string */
    CHECK(t.kind == TK_ERROR && strcmp(t.text, "invalid character") == 0);
    test_positions_and_escapes();
    return check_done("test_lexer");
}
