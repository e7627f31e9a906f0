/*
 * parser.c — recursive descent over docs/schema.md's grammar, building the
 * AST of ast.h in the schema's arena.
 *
 * Keywords are contextual: a word is a keyword only where the grammar
 * expects one, so fields may be called `model` or `status`. The parser stops
 * at the first syntax error (longjmp back to gen_parse: every allocation is
 * in the arena, so nothing leaks); semantic checks live in check.c.
 */
#include "parser.h"
#include "arena.h"
#include "lexer.h"

#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
    gen_lexer lx;
    gen_token tok;
    gen_schema *s;
    gen_arena *arena;
    FILE *diag;
    jmp_buf fail;
} parser;

static const char *const type_words[] = {"id",   "int",  "bool", "text", "email", "timestamp",
                                         "enum", "json", "ref",  "many", NULL};

static void next(parser *p)
{
    p->tok = gen_lex_next(&p->lx);
}

static gen_token peek(parser *p)
{
    gen_lexer copy = p->lx;
    return gen_lex_next(&copy);
}

static _Noreturn __attribute__((format(printf, 3, 4))) void fail_at(parser *p, gen_pos pos,
                                                                    const char *fmt, ...)
{
    va_list ap;
    fprintf(p->diag, "%s:%d:%d: ", pos.file, pos.line, pos.col);
    va_start(ap, fmt);
    vfprintf(p->diag, fmt, ap);
    va_end(ap);
    fputc('\n', p->diag);
    longjmp(p->fail, 1);
}

static _Noreturn void expected(parser *p, const char *what)
{
    char buf[64];
    if (p->tok.kind == TK_ERROR)
        fail_at(p, p->tok.pos, "%.*s", (int)p->tok.len, p->tok.text);
    if (p->tok.kind == TK_EOF && strcmp(what, "'}'") == 0)
        fail_at(p, p->tok.pos, "unexpected end of file: missing '}'");
    fail_at(p, p->tok.pos, "expected %s, found %s", what,
            gen_tok_describe(&p->tok, buf, sizeof buf));
}

static bool is_word(const parser *p, const char *w)
{
    return p->tok.kind == TK_IDENT && p->tok.len == strlen(w) &&
           memcmp(p->tok.text, w, p->tok.len) == 0;
}

static bool tok_is(const gen_token *t, const char *w)
{
    return t->kind == TK_IDENT && t->len == strlen(w) && memcmp(t->text, w, t->len) == 0;
}

static bool in_list(const parser *p, const char *const *words)
{
    for (; *words; words++)
        if (is_word(p, *words))
            return true;
    return false;
}

static void expect(parser *p, gen_tok_kind kind, const char *what)
{
    if (p->tok.kind != kind)
        expected(p, what);
    next(p);
}

static void expect_word(parser *p, const char *w)
{
    char what[48];
    snprintf(what, sizeof what, "'%s'", w);
    if (!is_word(p, w))
        expected(p, what);
    next(p);
}

/* An identifier's text, copied into the arena. */
static const char *name(parser *p, const char *what, gen_pos *pos)
{
    if (p->tok.kind != TK_IDENT)
        expected(p, what);
    if (pos)
        *pos = p->tok.pos;
    const char *s = gen_strndup(p->arena, p->tok.text, p->tok.len);
    next(p);
    return s;
}

static const char *string(parser *p, const char *what)
{
    if (p->tok.kind != TK_STRING)
        expected(p, what);
    char *s = gen_alloc(p->arena, p->tok.len);
    gen_lex_string(&p->tok, s);
    next(p);
    return s;
}

static int64_t integer(parser *p, const char *what)
{
    if (p->tok.kind != TK_INT)
        expected(p, what);
    char buf[32];
    if (p->tok.len >= sizeof buf)
        fail_at(p, p->tok.pos, "integer out of range");
    memcpy(buf, p->tok.text, p->tok.len);
    buf[p->tok.len] = '\0';
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE)
        fail_at(p, p->tok.pos, "integer out of range");
    next(p);
    return v;
}

/* ( NAME { , NAME } ) into an arena array. */
static const char **name_list(parser *p, size_t *n, const char *what)
{
    const char **list = NULL;
    *n = 0;
    expect(p, TK_LPAREN, "'('");
    for (;;) {
        list = gen_grow(p->arena, list, *n, sizeof *list);
        list[(*n)++] = name(p, what, NULL);
        if (p->tok.kind != TK_COMMA)
            break;
        next(p);
    }
    expect(p, TK_RPAREN, "',' or ')'");
    return list;
}

/* --- models ----------------------------------------------------------- */

static void parse_type(parser *p, gen_field *f)
{
    static const gen_type types[] = {GT_ID,        GT_INT,  GT_BOOL, GT_TEXT, GT_EMAIL,
                                     GT_TIMESTAMP, GT_ENUM, GT_JSON, GT_REF,  GT_MANY};
    char buf[64];
    f->type_pos = p->tok.pos;
    if (p->tok.kind != TK_IDENT)
        fail_at(p, p->tok.pos, "expected a type after field '%s', found %s", f->name,
                gen_tok_describe(&p->tok, buf, sizeof buf));
    size_t t = 0;
    while (type_words[t] && !is_word(p, type_words[t]))
        t++;
    if (!type_words[t])
        fail_at(p, p->tok.pos,
                "unknown type '%.*s' (types: id int bool text(N) email timestamp "
                "enum(...) json ref(model) many(model))",
                (int)p->tok.len, p->tok.text);
    f->type = types[t];
    next(p);
    switch (f->type) {
    case GT_TEXT:
        if (p->tok.kind != TK_LPAREN)
            fail_at(p, f->type_pos, "text needs a maximum length: text(N)");
        next(p);
        f->text_max = integer(p, "a maximum length");
        expect(p, TK_RPAREN, "')'");
        break;
    case GT_EMAIL:
        f->text_max = 254;
        break;
    case GT_ENUM:
        if (p->tok.kind == TK_LPAREN && peek(p).kind == TK_RPAREN)
            fail_at(p, f->type_pos, "empty enum: field '%s' needs at least one value", f->name);
        f->enum_values = name_list(p, &f->n_enum_values, "an enum value");
        break;
    case GT_REF:
        expect(p, TK_LPAREN, "'(' after ref");
        f->ref_name = name(p, "a model name", NULL);
        expect(p, TK_RPAREN, "')'");
        break;
    case GT_MANY:
        expect(p, TK_LPAREN, "'(' after many");
        f->ref_name = name(p, "a model name", NULL);
        expect(p, TK_RPAREN, "')'");
        expect_word(p, "through");
        expect(p, TK_LPAREN, "'(' after through");
        f->through = name(p, "a join table name", NULL);
        expect(p, TK_RPAREN, "')'");
        break;
    default:
        break;
    }
}

static void parse_default(parser *p, gen_field *f)
{
    gen_default *d = &f->def;
    expect(p, TK_LPAREN, "'(' after default");
    d->pos = p->tok.pos;
    if (p->tok.kind == TK_INT) {
        d->kind = GD_INT;
        d->i = integer(p, "a value");
    } else if (p->tok.kind == TK_STRING) {
        d->kind = GD_STRING;
        d->s = string(p, "a value");
    } else if (is_word(p, "true") || is_word(p, "false")) {
        d->kind = GD_BOOL;
        d->i = is_word(p, "true");
        next(p);
    } else if (is_word(p, "now")) {
        d->kind = GD_NOW;
        next(p);
    } else if (p->tok.kind == TK_IDENT) {
        d->kind = GD_IDENT;
        d->s = name(p, "a value", NULL);
    } else {
        expected(p, "a default value");
    }
    expect(p, TK_RPAREN, "')'");
}

static const char *const modifier_words[] = {"optional",     "unique", "hidden",    "default",
                                             "min",          "max",    "on_delete", "on_update",
                                             "renamed_from", NULL};

/* A modifier word followed by what starts a field (a type) is a field that
   was given a reserved name, not a modifier: say so instead of misparsing. */
static bool is_modifier(parser *p)
{
    if (!in_list(p, modifier_words))
        return false;
    gen_token after = peek(p);
    bool takes_parens = !is_word(p, "optional") && !is_word(p, "unique") && !is_word(p, "hidden");
    bool looks_like_field = takes_parens ? after.kind != TK_LPAREN : false;
    for (size_t i = 0; !takes_parens && type_words[i]; i++)
        if (tok_is(&after, type_words[i]))
            looks_like_field = true;
    if (looks_like_field)
        fail_at(p, p->tok.pos, "'%.*s' is a reserved word and cannot be a field name",
                (int)p->tok.len, p->tok.text);
    return true;
}

static void parse_modifier(parser *p, gen_field *f)
{
    gen_pos pos = p->tok.pos;
    char word[16];
    snprintf(word, sizeof word, "%.*s", (int)p->tok.len, p->tok.text);
    next(p);
    if (strcmp(word, "optional") == 0) {
        f->optional = true;
    } else if (strcmp(word, "unique") == 0) {
        f->unique = true;
    } else if (strcmp(word, "hidden") == 0) {
        f->hidden = true;
    } else if (strcmp(word, "default") == 0) {
        if (f->def.kind != GD_NONE)
            fail_at(p, pos, "default given twice for field '%s'", f->name);
        parse_default(p, f);
    } else if (strcmp(word, "min") == 0 || strcmp(word, "max") == 0) {
        bool is_min = word[1] == 'i';
        expect(p, TK_LPAREN, "'('");
        int64_t v = integer(p, "an integer");
        expect(p, TK_RPAREN, "')'");
        if (is_min) {
            f->has_min = true;
            f->min = v;
        } else {
            f->has_max = true;
            f->max = v;
        }
    } else if (strcmp(word, "on_delete") == 0) {
        expect(p, TK_LPAREN, "'('");
        if (is_word(p, "cascade"))
            f->on_delete = GOD_CASCADE;
        else if (is_word(p, "restrict"))
            f->on_delete = GOD_RESTRICT;
        else if (is_word(p, "set_null"))
            f->on_delete = GOD_SET_NULL;
        else
            expected(p, "cascade, restrict or set_null");
        next(p);
        expect(p, TK_RPAREN, "')'");
    } else if (strcmp(word, "on_update") == 0) {
        expect(p, TK_LPAREN, "'('");
        expect_word(p, "now");
        expect(p, TK_RPAREN, "')'");
        f->on_update_now = true;
    } else { /* renamed_from */
        expect(p, TK_LPAREN, "'('");
        f->renamed_from = name(p, "the old field name", &f->renamed_pos);
        expect(p, TK_RPAREN, "')'");
    }
}

static void parse_field(parser *p, gen_model *m)
{
    m->fields = gen_grow(p->arena, m->fields, m->n_fields, sizeof *m->fields);
    gen_field *f = &m->fields[m->n_fields++];
    f->name = name(p, "a field name or '}'", &f->pos);
    parse_type(p, f);
    while (p->tok.kind == TK_IDENT && is_modifier(p))
        parse_modifier(p, f);
}

static void parse_model_item(parser *p, gen_model *m)
{
    gen_token after = peek(p);
    if (is_word(p, "table") && after.kind == TK_IDENT) {
        if (m->table)
            fail_at(p, p->tok.pos, "table given twice in model '%s'", m->name);
        next(p);
        m->table = name(p, "a table name", NULL);
    } else if (is_word(p, "index") && after.kind == TK_LPAREN) {
        m->indexes = gen_grow(p->arena, m->indexes, m->n_indexes, sizeof *m->indexes);
        gen_index *ix = &m->indexes[m->n_indexes++];
        ix->pos = p->tok.pos;
        next(p);
        ix->fields = name_list(p, &ix->n_fields, "a field name");
        if (is_word(p, "unique")) {
            ix->unique = true;
            next(p);
        }
    } else if (is_word(p, "search") && after.kind == TK_LPAREN) {
        if (m->n_search_fields)
            fail_at(p, p->tok.pos, "model '%s' has more than one search(...)", m->name);
        m->search_pos = p->tok.pos;
        next(p);
        m->search_fields = name_list(p, &m->n_search_fields, "a field name");
        if (is_word(p, "scope")) {
            next(p);
            m->search_scope = name(p, "the scope field", NULL);
        }
    } else {
        parse_field(p, m);
    }
}

static void parse_model(parser *p)
{
    p->s->models = gen_grow(p->arena, p->s->models, p->s->n_models, sizeof *p->s->models);
    gen_model *m = &p->s->models[p->s->n_models++];
    m->pos = p->tok.pos;
    next(p);
    m->name = name(p, "a model name", &m->pos);
    if (is_word(p, "renamed_from")) {
        next(p);
        expect(p, TK_LPAREN, "'('");
        m->renamed_from = name(p, "the old table name", NULL);
        expect(p, TK_RPAREN, "')'");
    }
    expect(p, TK_LBRACE, "'{'");
    while (p->tok.kind != TK_RBRACE) {
        if (p->tok.kind == TK_EOF)
            expected(p, "'}'");
        parse_model_item(p, m);
    }
    next(p);
    if (!m->table)
        m->table = m->name;
}

/* --- resources --------------------------------------------------------- */

static gen_auth parse_level(parser *p)
{
    gen_auth a;
    if (is_word(p, "public"))
        a = GA_PUBLIC;
    else if (is_word(p, "user"))
        a = GA_USER;
    else if (is_word(p, "admin"))
        a = GA_ADMIN;
    else
        expected(p, "an auth level (public, user or admin)");
    next(p);
    return a;
}

static const char *const action_words[] = {"list", "get", "create", "update", "delete", NULL};
static const char *const event_words[] = {"before_create",
                                          "after_create",
                                          "before_update",
                                          "after_update",
                                          "before_delete",
                                          "after_delete",
                                          NULL};

static unsigned action_index(parser *p)
{
    for (unsigned i = 0; action_words[i]; i++)
        if (is_word(p, action_words[i]))
            return i;
    expected(p, "an action (list, get, create, update or delete)");
}

static void parse_route_option(parser *p, gen_route *rt)
{
    gen_pos pos = p->tok.pos;
    bool is_auth = is_word(p, "auth"), is_summary = is_word(p, "summary");
    bool is_body = is_word(p, "body"), is_returns = is_word(p, "returns");
    next(p);
    expect(p, TK_LPAREN, "'('");
    if (is_auth) {
        rt->auth = parse_level(p);
        rt->auth_given = true;
    } else if (is_summary) {
        rt->summary = string(p, "a summary string");
    } else if (is_body) {
        rt->body_model = name(p, "a model name", NULL);
        expect(p, TK_COLON, "':' after the body's model");
        for (;;) {
            rt->body_fields =
                gen_grow(p->arena, rt->body_fields, rt->n_body_fields, sizeof *rt->body_fields);
            rt->body_fields[rt->n_body_fields++] = name(p, "a field name", NULL);
            if (p->tok.kind != TK_COMMA)
                break;
            next(p);
        }
    } else if (is_returns) {
        rt->returns_model = name(p, "a model name", NULL);
    } else {
        int64_t status = integer(p, "an HTTP status");
        if (status < 100 || status > 599)
            fail_at(p, pos, "status must be between 100 and 599");
        rt->status = (int)status;
    }
    expect(p, TK_RPAREN, "')'");
}

static void parse_route(parser *p, gen_resource *r)
{
    static const char *const options[] = {"auth", "summary", "body", "returns", "status", NULL};
    r->routes = gen_grow(p->arena, r->routes, r->n_routes, sizeof *r->routes);
    gen_route *rt = &r->routes[r->n_routes++];
    rt->pos = p->tok.pos;
    rt->auth = r->auth;
    rt->status = 200;
    next(p);
    rt->method = name(p, "an HTTP method", NULL);
    rt->subpath = string(p, "the route's sub-path (a string, \"\" for the resource path)");
    rt->handler = name(p, "the handler function's name", NULL);
    while (in_list(p, options) && peek(p).kind == TK_LPAREN)
        parse_route_option(p, rt);
}

static void parse_resource_item(parser *p, gen_resource *r)
{
    gen_pos pos = p->tok.pos;
    if (is_word(p, "path")) {
        if (r->path)
            fail_at(p, pos, "path given twice");
        next(p);
        r->path_pos = p->tok.pos;
        r->path = string(p, "the path (a string)");
    } else if (is_word(p, "model")) {
        if (r->model_name)
            fail_at(p, pos, "model given twice");
        next(p);
        r->model_name = name(p, "a model name", &r->model_pos);
    } else if (is_word(p, "auth")) {
        next(p);
        r->auth = parse_level(p);
        for (size_t i = 0; i < r->n_routes; i++)
            if (!r->routes[i].auth_given)
                r->routes[i].auth = r->auth;
    } else if (is_word(p, "owner")) {
        if (r->owner)
            fail_at(p, pos, "owner given twice");
        next(p);
        r->owner = name(p, "the owner field", &r->owner_pos);
    } else if (is_word(p, "parent")) {
        if (r->parent_field)
            fail_at(p, pos, "parent given twice");
        next(p);
        r->parent_field = name(p, "the parent field", &r->parent_pos);
        r->parent_resource = name(p, "the parent resource", NULL);
    } else if (is_word(p, "actions")) {
        r->actions_pos = pos;
        next(p);
        do
            r->actions |= 1u << action_index(p);
        while ((next(p), in_list(p, action_words)));
    } else if (is_word(p, "accept")) {
        next(p);
        unsigned a = action_index(p);
        if (a != 2 && a != 3)
            fail_at(p, p->tok.pos, "accept applies to create or update only");
        if (r->accept[a])
            fail_at(p, pos, "accept %s given twice", action_words[a]);
        r->accept_pos[a] = pos;
        next(p);
        r->accept[a] = name_list(p, &r->n_accept[a], "a field name");
    } else if (is_word(p, "sort")) {
        if (r->n_sort)
            fail_at(p, pos, "sort given twice: list every key in one sort");
        next(p);
        for (;;) {
            r->sort = gen_grow(p->arena, r->sort, r->n_sort, sizeof *r->sort);
            gen_sort_key *k = &r->sort[r->n_sort++];
            k->field = name(p, "a field name", &k->pos);
            if (is_word(p, "asc") || is_word(p, "desc")) {
                k->desc = is_word(p, "desc");
                next(p);
            }
            if (p->tok.kind != TK_COMMA)
                break;
            next(p);
        }
    } else if (is_word(p, "page")) {
        if (r->page_pos.line)
            fail_at(p, pos, "page given twice");
        r->page_pos = pos;
        next(p);
        expect(p, TK_LPAREN, "'('");
        r->page_default = integer(p, "the default page size");
        expect(p, TK_COMMA, "','");
        r->page_max = integer(p, "the maximum page size");
        expect(p, TK_RPAREN, "')'");
    } else if (is_word(p, "hook")) {
        next(p);
        r->hooks = gen_grow(p->arena, r->hooks, r->n_hooks, sizeof *r->hooks);
        gen_hook *h = &r->hooks[r->n_hooks++];
        h->pos = pos;
        unsigned e = 0;
        while (event_words[e] && !is_word(p, event_words[e]))
            e++;
        if (!event_words[e])
            expected(p, "a hook event (before_create, after_create, before_update, after_update, "
                        "before_delete or after_delete)");
        h->event = (gen_hook_event)e;
        next(p);
        h->function = name(p, "the hook function's name", NULL);
    } else if (is_word(p, "route")) {
        parse_route(p, r);
    } else {
        expected(p, "a resource item (path, model, auth, owner, parent, actions, accept, sort, "
                    "page, hook or route) or '}'");
    }
}

static void parse_resource(parser *p)
{
    p->s->resources =
        gen_grow(p->arena, p->s->resources, p->s->n_resources, sizeof *p->s->resources);
    gen_resource *r = &p->s->resources[p->s->n_resources++];
    next(p);
    r->name = name(p, "a resource name", &r->pos);
    r->auth = GA_USER;
    r->page_default = 50;
    r->page_max = 200;
    expect(p, TK_LBRACE, "'{'");
    while (p->tok.kind != TK_RBRACE) {
        if (p->tok.kind == TK_EOF)
            expected(p, "'}'");
        parse_resource_item(p, r);
    }
    next(p);
}

int gen_parse(const char *file, const char *src, size_t len, gen_schema *out, FILE *diag)
{
    memset(out, 0, sizeof *out);
    out->file = file;
    out->arena = gen_arena_new();
    parser p = {.s = out, .arena = out->arena, .diag = diag};
    gen_lex_init(&p.lx, file, src, len);
    if (memchr(src, '\0', len)) {
        fprintf(diag, "%s: the schema contains a NUL byte\n", file);
        return 1;
    }
    if (setjmp(p.fail))
        return 1;
    next(&p);
    while (p.tok.kind != TK_EOF) {
        if (is_word(&p, "model"))
            parse_model(&p);
        else if (is_word(&p, "resource"))
            parse_resource(&p);
        else if (p.tok.kind == TK_IDENT)
            fail_at(&p, p.tok.pos,
                    "unknown top-level keyword '%.*s': expected 'model' or "
                    "'resource'",
                    (int)p.tok.len, p.tok.text);
        else
            expected(&p, "'model' or 'resource'");
    }
    return 0;
}

int gen_parse_file(const char *path, gen_schema *out, FILE *diag)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(diag, "%s: %s\n", path, strerror(errno));
        return 1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    do {
        if (cap - len < 4096)
            buf = gen_xrealloc(buf, cap = cap * 2 + 4096);
        n = fread(buf + len, 1, cap - len, f);
        len += n;
    } while (n > 0 && len < (64u << 20));
    int read_error = ferror(f);
    fclose(f);
    if (read_error || len >= (64u << 20)) {
        fprintf(diag, "%s: %s\n", path, read_error ? "read error" : "file too large");
        free(buf);
        return 1;
    }
    int errors = gen_parse(path, buf, len, out, diag);
    /* Token texts point into buf, but the AST holds only arena copies. */
    free(buf);
    return errors;
}
