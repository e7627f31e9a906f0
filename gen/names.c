/*
 * names.c — the spelling rules of names.h. Pure string functions: no
 * allocation beyond the caller's buffer, no state.
 */
#include "names.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The lexer caps names at 63 characters, so an overflow here is a bug in
   the generator, not bad input. */
static void check_fits(size_t n)
{
    if (n >= GEN_NAME_MAX) {
        fprintf(stderr, "chatbot-gen: internal error: name longer than %d bytes\n",
                GEN_NAME_MAX - 1);
        abort();
    }
}

static char ascii_upper(char c)
{
    return c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

static int is_ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

gen_name gen_upper(const char *s)
{
    gen_name n;
    size_t len = strlen(s);
    check_fits(len);
    for (size_t i = 0; i < len; i++)
        n.s[i] = ascii_upper(s[i]);
    n.s[len] = '\0';
    return n;
}

gen_name gen_camel(const char *s)
{
    gen_name n;
    size_t j = 0;
    int start = 1;
    check_fits(strlen(s));
    for (; *s; s++) {
        if (*s == '_') {
            start = 1;
            continue;
        }
        n.s[j++] = start ? ascii_upper(*s) : *s;
        start = 0;
    }
    n.s[j] = '\0';
    return n;
}

void gen_put_c_ident(gen_buf *b, const char *s)
{
    if (*s >= '0' && *s <= '9')
        gen_buf_put(b, "_");
    for (; *s; s++)
        gen_buf_putn(b, is_ident_char(*s) ? s : "_", 1);
}

static gen_name suffixed(const char *base, const char *suffix)
{
    gen_name n;
    size_t a = strlen(base), c = strlen(suffix);
    check_fits(a + c);
    memcpy(n.s, base, a);
    memcpy(n.s + a, suffix, c + 1);
    return n;
}

gen_name gen_fts_table(const gen_model *m)
{
    return suffixed(m->table, "_fts");
}

gen_name gen_join_column(const gen_model *model)
{
    return suffixed(model->name, "_id");
}

static bool ends_with_id(const gen_resource *r)
{
    return r->n_sort > 0 && strcmp(r->sort[r->n_sort - 1].field, "id") == 0;
}

size_t gen_sort_count(const gen_resource *r)
{
    return r->n_sort + (ends_with_id(r) ? 0 : 1);
}

gen_sort_key gen_sort_at(const gen_resource *r, size_t i)
{
    if (i < r->n_sort)
        return r->sort[i];
    gen_sort_key id = {.field = "id", .desc = r->n_sort > 0 && r->sort[r->n_sort - 1].desc};
    return id;
}

const char *gen_path_param(const char *p, size_t *len)
{
    const char *colon = strchr(p, ':');
    if (!colon)
        return NULL;
    const char *name = colon + 1;
    *len = strcspn(name, "/");
    return name;
}

void gen_put_openapi_path(gen_buf *b, const char *path)
{
    const char *p = path, *name;
    size_t len;
    while ((name = gen_path_param(p, &len)) != NULL) {
        gen_buf_putn(b, p, (size_t)(name - 1 - p));
        gen_buf_put(b, "{");
        gen_buf_putn(b, name, len);
        gen_buf_put(b, "}");
        p = name + len;
    }
    gen_buf_put(b, p);
}

void gen_put_c_literal(gen_buf *b, const char *s, const char *indent, size_t width)
{
    gen_buf piece = {0};
    size_t start = 0, i = 0, n = strlen(s);
    gen_buf_put(b, "\"");
    while (i < n) {
        bool cut = s[i] == '\n' || (width > 0 && s[i] == ' ' && i - start >= width);
        i++;
        if (cut && i < n) {
            piece.len = 0;
            gen_buf_putn(&piece, s + start, i - start);
            gen_buf_c_escape(b, gen_cstr(&piece));
            gen_buf_printf(b, "\"\n%s\"", indent);
            start = i;
        }
    }
    piece.len = 0;
    gen_buf_putn(&piece, s + start, n - start);
    gen_buf_c_escape(b, gen_cstr(&piece));
    gen_buf_put(b, "\"");
    gen_buf_free(&piece);
}

void gen_put_rfc3339(gen_buf *b, int64_t ms)
{
    int64_t sec = ms / 1000, frac = ms % 1000;
    if (frac < 0) {
        frac += 1000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    gen_buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                   tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
}

const char *gen_cstr(gen_buf *b)
{
    gen_buf_putn(b, "", 1);
    b->len--;
    return b->data;
}
