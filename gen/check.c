/*
 * check.c — everything about a schema that the grammar cannot say: names,
 * types, defaults, references, resources and routes. Reports every error
 * (not just the first) as `file:line:col: message` and resolves the names
 * emitters follow as pointers (gen_field.ref, gen_resource.model/parent).
 *
 * The rules guard the generated code as much as the user: a name that is a
 * C or SQL keyword, or that collides with the runtime's own identifiers,
 * would turn into a compile error far from its cause.
 */
#include "parser.h"
#include "arena.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct checker {
    gen_schema *s;
    FILE *diag;
    int errors;
} checker;

static __attribute__((format(printf, 3, 4))) void err(checker *c, gen_pos pos, const char *fmt, ...)
{
    va_list ap;
    fprintf(c->diag, "%s:%d:%d: ", pos.file ? pos.file : c->s->file, pos.line, pos.col);
    va_start(ap, fmt);
    vfprintf(c->diag, fmt, ap);
    va_end(ap);
    fputc('\n', c->diag);
    c->errors++;
}

static bool in(const char *const *words, const char *w)
{
    for (; *words; words++)
        if (strcmp(*words, w) == 0)
            return true;
    return false;
}

/* Whether w is one of the space-separated words of list. */
static bool in_words(const char *list, const char *w)
{
    size_t n = strlen(w);
    if (n == 0)
        return false;
    for (const char *p = list; (p = strstr(p, w)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}

/* C keywords, SQL keywords (SQLite's, the ones PostgreSQL adds that we
   would trip on later) and the schema's own modifier words. */
static const char reserved[] =
    "auto break case char const continue default do double else enum extern float for goto "
    "if inline int long register restrict return short signed sizeof static struct switch "
    "typedef union unsigned void volatile while bool true false errno abort add all alter "
    "analyze and as asc attach autoincrement before begin between by cascade cast check "
    "collate column commit conflict constraint create cross current_date current_time "
    "current_timestamp database deferrable deferred delete desc detach distinct drop each "
    "end escape except exclusive exists explain fail foreign from full glob group having "
    "ignore immediate in index indexed initially inner insert instead intersect into is "
    "isnull join key left like limit match natural not notnull null offset on or order outer "
    "pragma primary raise recursive references regexp reindex release rename replace right "
    "rollback rowid savepoint select set table temp temporary then to transaction trigger "
    "unique update using vacuum values view virtual when where with without window returning "
    "analyse grant optional hidden min max on_delete on_update renamed_from";

/* Model names whose generated identifiers (cb_<model>, cb_<model>_insert,
   ...) would collide with the runtime's. */
static const char runtime_names[] =
    "db model field row rows errors ctx rc type resource route route_desc route_fn hook_fn "
    "hook_event migration migrations migration_list migrate sort_key list list_query "
    "list_page search_hit search_result auth auth_level action api join pool reply request "
    "stmt res now format parse hook openapi";

static void check_name(checker *c, const char *name, gen_pos pos, const char *what)
{
    if (strlen(name) > 63)
        err(c, pos, "%s name '%.20s…' is longer than 63 characters", what, name);
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_') ||
            (p == name && (*p == '_' || (*p >= '0' && *p <= '9')))) {
            err(c, pos,
                "%s name '%s' must be lower-case letters, digits and '_', starting "
                "with a letter",
                what, name);
            return;
        }
    if (in_words(reserved, name))
        err(c, pos, "'%s' is a reserved word and cannot be a %s name", name, what);
}

/* --- fields ------------------------------------------------------------ */

static bool is_text_like(gen_type t)
{
    return t == GT_TEXT || t == GT_EMAIL;
}

static const char *type_name(gen_type t)
{
    static const char *const names[] = {"id",        "int",  "bool", "text", "email",
                                        "timestamp", "enum", "json", "ref",  "many"};
    return names[t];
}

static size_t utf8_chars(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

static void check_default(checker *c, const gen_field *f)
{
    const gen_default *d = &f->def;
    const char *want = NULL;
    switch (f->type) {
    case GT_INT:
        if (d->kind != GD_INT)
            want = "an integer";
        else if ((f->has_min && d->i < f->min) || (f->has_max && d->i > f->max))
            err(c, d->pos, "default %lld of field '%s' is outside its min/max range",
                (long long)d->i, f->name);
        break;
    case GT_BOOL:
        if (d->kind != GD_BOOL)
            want = "true or false";
        break;
    case GT_TEXT:
    case GT_EMAIL:
        if (d->kind != GD_STRING)
            want = "a string";
        else if ((int64_t)utf8_chars(d->s) > f->text_max)
            err(c, d->pos, "default of field '%s' is longer than its maximum of %lld characters",
                f->name, (long long)f->text_max);
        else if (f->has_min && (int64_t)utf8_chars(d->s) < f->min)
            err(c, d->pos, "default of field '%s' is shorter than its min(%lld)", f->name,
                (long long)f->min);
        break;
    case GT_TIMESTAMP:
        if (d->kind != GD_NOW && d->kind != GD_INT)
            want = "now or milliseconds since the epoch";
        break;
    case GT_ENUM:
        if (d->kind != GD_IDENT) {
            want = "one of the enum's values";
        } else {
            bool found = false;
            for (size_t i = 0; i < f->n_enum_values; i++)
                found |= strcmp(f->enum_values[i], d->s) == 0;
            if (!found)
                err(c, d->pos, "default '%s' is not a value of field '%s''s enum", d->s, f->name);
        }
        break;
    case GT_JSON:
        if (d->kind != GD_STRING) {
            want = "a string holding JSON";
        } else {
            json_t *v = json_loads(d->s, JSON_DECODE_ANY, NULL);
            if (!v)
                err(c, d->pos, "default of json field '%s' is not valid JSON", f->name);
            json_decref(v);
        }
        break;
    case GT_REF:
        if (d->kind != GD_INT)
            want = "an id";
        break;
    default:
        err(c, d->pos, "a %s field cannot have a default", type_name(f->type));
        return;
    }
    if (want)
        err(c, d->pos, "bad default for %s field '%s': expected %s", type_name(f->type), f->name,
            want);
}

/* What the type itself says: the id's shape, text lengths, enum values,
   ref()/many() targets (resolved here) and join tables. */
static void check_field_type(checker *c, gen_model *m, gen_field *f)
{
    if (f->type == GT_ID) {
        if (strcmp(f->name, "id") != 0)
            err(c, f->type_pos, "the id-typed field must be named 'id', not '%s'", f->name);
        if (f->optional || f->unique || f->hidden || f->def.kind != GD_NONE || f->has_min ||
            f->has_max || f->on_update_now)
            err(c, f->pos, "the id field takes no modifiers");
    } else if (strcmp(f->name, "id") == 0) {
        err(c, f->type_pos, "field 'id' must have type id");
    }
    if (f->type == GT_TEXT && (f->text_max <= 0 || f->text_max > 10000000))
        err(c, f->type_pos, "text length must be between 1 and 10000000, not %lld",
            (long long)f->text_max);
    if (f->type == GT_ENUM) {
        for (size_t i = 0; i < f->n_enum_values; i++) {
            check_name(c, f->enum_values[i], f->type_pos, "enum value");
            for (size_t j = 0; j < i; j++)
                if (strcmp(f->enum_values[i], f->enum_values[j]) == 0)
                    err(c, f->type_pos, "duplicate enum value '%s' in field '%s'",
                        f->enum_values[i], f->name);
        }
    }
    if (f->type == GT_REF || f->type == GT_MANY) {
        f->ref = gen_find_model(c->s, f->ref_name);
        if (!f->ref)
            err(c, f->type_pos, "field '%s' refers to unknown model '%s'", f->name, f->ref_name);
    }
    if (f->type == GT_MANY) {
        check_name(c, f->through, f->type_pos, "join table");
        if (f->ref == m)
            err(c, f->type_pos, "many() cannot join a model to itself");
        if (f->optional || f->unique || f->hidden || f->def.kind != GD_NONE)
            err(c, f->pos, "a many() field takes no column modifiers");
        for (size_t i = 0; i < c->s->n_models; i++)
            if (strcmp(c->s->models[i].table, f->through) == 0)
                err(c, f->type_pos, "join table '%s' has the name of model '%s''s table",
                    f->through, c->s->models[i].name);
    }
}

/* Modifiers only where they mean something, and consistent with each other. */
static void check_field_modifiers(checker *c, gen_model *m, gen_field *f)
{
    if ((f->has_min || f->has_max) && f->type != GT_INT && !(f->type == GT_TEXT && !f->has_max))
        err(c, f->pos, "%s on a %s field: min() and max() apply to int (and min() to text)",
            f->has_max ? "max()" : "min()", type_name(f->type));
    if (f->has_min && f->has_max && f->min > f->max)
        err(c, f->pos, "min(%lld) is greater than max(%lld)", (long long)f->min, (long long)f->max);
    if (f->type == GT_TEXT && f->has_min && (f->min < 0 || f->min > f->text_max))
        err(c, f->pos, "min(%lld) must be between 0 and the text's length", (long long)f->min);
    if (f->on_delete != GOD_NONE && f->type != GT_REF)
        err(c, f->pos, "on_delete on field '%s', which is not a ref", f->name);
    if (f->on_delete == GOD_SET_NULL && !f->optional)
        err(c, f->pos, "on_delete(set_null) needs an optional ref: add 'optional' to '%s'",
            f->name);
    if (f->on_update_now && f->type != GT_TIMESTAMP)
        err(c, f->pos, "on_update(now) on field '%s', which is not a timestamp", f->name);
    if (f->unique && (f->type == GT_BOOL || f->type == GT_JSON))
        err(c, f->pos, "unique on a %s field", type_name(f->type));
    if (f->def.kind != GD_NONE)
        check_default(c, f);
    if (f->renamed_from) {
        check_name(c, f->renamed_from, f->renamed_pos, "field");
        if (gen_find_field(m, f->renamed_from))
            err(c, f->renamed_pos, "renamed_from(%s): model '%s' still has a field '%s'",
                f->renamed_from, m->name, f->renamed_from);
    }
}

static void check_field(checker *c, gen_model *m, gen_field *f)
{
    check_name(c, f->name, f->pos, "field");
    if (strcmp(f->name, "hdr") == 0)
        err(c, f->pos, "'hdr' is reserved for the generated struct's header");
    for (gen_field *g = m->fields; g < f; g++)
        if (strcmp(g->name, f->name) == 0)
            err(c, f->pos, "duplicate field '%s' in model '%s' (first at line %d)", f->name,
                m->name, g->pos.line);
    check_field_type(c, m, f);
    check_field_modifiers(c, m, f);
}

/* A field that exists and has a column (not many()), or an error. */
static gen_field *column(checker *c, gen_model *m, const char *name, gen_pos pos, const char *use)
{
    gen_field *f = gen_find_field(m, name);
    if (!f)
        err(c, pos, "%s names unknown field '%s' of model '%s'", use, name, m->name);
    else if (f->type == GT_MANY)
        err(c, pos, "%s names '%s', a many() field with no column", use, name);
    return f && f->type != GT_MANY ? f : NULL;
}

static void check_indexes(checker *c, gen_model *m)
{
    for (size_t i = 0; i < m->n_indexes; i++) {
        gen_index *ix = &m->indexes[i];
        for (size_t k = 0; k < ix->n_fields; k++) {
            column(c, m, ix->fields[k], ix->pos, "index");
            for (size_t j = 0; j < k; j++)
                if (strcmp(ix->fields[j], ix->fields[k]) == 0)
                    err(c, ix->pos, "index names field '%s' twice", ix->fields[k]);
        }
        for (size_t j = 0; j < i; j++) {
            gen_index *other = &m->indexes[j];
            bool same = other->n_fields == ix->n_fields;
            for (size_t k = 0; same && k < ix->n_fields; k++)
                same = strcmp(other->fields[k], ix->fields[k]) == 0;
            if (same)
                err(c, ix->pos, "duplicate index on the same fields (first at line %d)",
                    other->pos.line);
        }
    }
}

static void check_search(checker *c, gen_model *m)
{
    for (size_t i = 0; i < m->n_search_fields; i++) {
        gen_field *f = column(c, m, m->search_fields[i], m->search_pos, "search");
        if (f && !is_text_like(f->type))
            err(c, m->search_pos, "search on field '%s': only text fields can be searched",
                f->name);
    }
    if (m->search_scope) {
        gen_field *f = gen_find_field(m, m->search_scope);
        if (!f)
            err(c, m->search_pos, "search scope names unknown field '%s'", m->search_scope);
        else if (f->type != GT_REF && f->type != GT_INT)
            err(c, m->search_pos, "search scope '%s' must be a ref or int field", f->name);
        /* The FTS index holds the scope's digits: -5 would be found as 5. */
        else if (f->type == GT_INT && (!f->has_min || f->min < 0))
            err(c, m->search_pos, "search scope '%s' may be negative: give it min(0)", f->name);
    }
}

static void check_model(checker *c, gen_model *m)
{
    check_name(c, m->name, m->pos, "model");
    if (in_words(runtime_names, m->name))
        err(c, m->pos, "model name '%s' collides with the runtime's cb_%s", m->name, m->name);
    check_name(c, m->table, m->pos, "table");
    if (m->renamed_from) {
        check_name(c, m->renamed_from, m->pos, "table");
        for (size_t i = 0; i < c->s->n_models; i++)
            if (strcmp(c->s->models[i].table, m->renamed_from) == 0)
                err(c, m->pos, "renamed_from(%s): table '%s' still exists (model '%s')",
                    m->renamed_from, m->renamed_from, c->s->models[i].name);
    }
    for (gen_model *o = c->s->models; o < m; o++) {
        if (strcmp(o->name, m->name) == 0)
            err(c, m->pos, "duplicate model '%s' (first at line %d)", m->name, o->pos.line);
        else if (strcmp(o->table, m->table) == 0)
            err(c, m->pos, "model '%s' uses table '%s', already the table of model '%s'", m->name,
                m->table, o->name);
    }
    size_t ids = 0, columns = 0;
    for (size_t i = 0; i < m->n_fields; i++) {
        gen_field *f = &m->fields[i];
        check_field(c, m, f);
        columns += f->type != GT_MANY;
        if (f->type == GT_ID && ids++ > 0)
            err(c, f->type_pos, "model '%s' has more than one id field", m->name);
    }
    if (ids == 0)
        err(c, m->pos, "model '%s' has no id field (add: id id)", m->name);
    else if (ids == 1 && m->fields[0].type != GT_ID)
        err(c, m->fields[0].pos, "the id field must come first in model '%s'", m->name);
    if (columns > 64)
        err(c, m->pos, "model '%s' has %zu fields; at most 64 are supported", m->name, columns);
    check_indexes(c, m);
    check_search(c, m);
}

/* --- resources --------------------------------------------------------- */

static const char *const action_names[] = {"list", "get", "create", "update", "delete"};

static void check_route(checker *c, gen_resource *r, gen_route *rt)
{
    static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", NULL};
    if (!in(methods, rt->method))
        err(c, rt->pos, "unknown HTTP method '%s' (GET, POST, PUT, PATCH or DELETE)", rt->method);
    if (rt->subpath[0] != '\0' && rt->subpath[0] != '/')
        err(c, rt->pos, "route sub-path \"%s\" must be empty or start with '/'", rt->subpath);
    if (strstr(rt->subpath, "//") ||
        (rt->subpath[0] && rt->subpath[strlen(rt->subpath) - 1] == '/'))
        err(c, rt->pos, "route sub-path \"%s\" has an empty segment", rt->subpath);
    check_name(c, rt->handler, rt->pos, "handler");
    if (rt->body_model) {
        gen_model *bm = gen_find_model(c->s, rt->body_model);
        if (!bm)
            err(c, rt->pos, "body names unknown model '%s'", rt->body_model);
        for (size_t i = 0; bm && i < rt->n_body_fields; i++)
            column(c, bm, rt->body_fields[i], rt->pos, "body");
    }
    if (rt->returns_model && !gen_find_model(c->s, rt->returns_model))
        err(c, rt->pos, "returns names unknown model '%s'", rt->returns_model);
}

/* Everything a resource says that only makes sense with a model. */
static void check_needs_model(checker *c, gen_resource *r)
{
    if (r->actions)
        err(c, r->actions_pos, "actions on a resource without a model");
    for (int a = 0; a < 5; a++)
        if (r->accept[a])
            err(c, r->accept_pos[a], "accept on a resource without a model");
    if (r->n_sort)
        err(c, r->sort[0].pos, "sort on a resource without a model");
    if (r->owner)
        err(c, r->owner_pos, "owner on a resource without a model");
    if (r->parent_field)
        err(c, r->parent_pos, "parent on a resource without a model");
    if (r->n_hooks)
        err(c, r->hooks[0].pos, "hook on a resource without a model");
    if (r->page_pos.line)
        err(c, r->page_pos, "page on a resource without a model");
}

static void check_accept(checker *c, gen_resource *r, int a)
{
    if (!r->accept[a])
        return;
    if (!(r->actions & (1u << a)))
        err(c, r->accept_pos[a], "accept %s, but '%s' is not in the resource's actions",
            action_names[a], action_names[a]);
    for (size_t i = 0; i < r->n_accept[a]; i++) {
        gen_field *f = column(c, r->model, r->accept[a][i], r->accept_pos[a], "accept");
        if (f && (f->type == GT_ID || f->hidden))
            err(c, r->accept_pos[a],
                "accept names '%s', which is %s and can never come from a "
                "request",
                f->name, f->type == GT_ID ? "the id" : "hidden");
        if (f && r->owner && strcmp(f->name, r->owner) == 0)
            err(c, r->accept_pos[a], "accept names the owner field '%s'", f->name);
    }
}

static void check_parent(checker *c, gen_resource *r)
{
    gen_field *f = column(c, r->model, r->parent_field, r->parent_pos, "parent");
    r->parent = gen_find_resource(c->s, r->parent_resource);
    if (!r->parent) {
        err(c, r->parent_pos, "parent names unknown resource '%s'", r->parent_resource);
        return;
    }
    if (r->parent == r)
        err(c, r->parent_pos, "a resource cannot be its own parent");
    if (f &&
        (f->type != GT_REF || !r->parent->model || strcmp(f->ref_name, r->parent->model_name) != 0))
        err(c, r->parent_pos, "parent field '%s' must be a ref to resource '%s''s model", f->name,
            r->parent_resource);
    char param[80];
    snprintf(param, sizeof param, ":%s", r->parent_field);
    const char *at = r->path ? strstr(r->path, param) : NULL;
    size_t n = strlen(param);
    if (r->path && (!at || (at[n] != '/' && at[n] != '\0')))
        err(c, r->path_pos, "path must contain '%s' for parent field '%s'", param, r->parent_field);
}

static void check_model_items(checker *c, gen_resource *r)
{
    check_accept(c, r, 2);
    check_accept(c, r, 3);
    if (r->owner) {
        gen_field *f = column(c, r->model, r->owner, r->owner_pos, "owner");
        if (f && f->type != GT_REF)
            err(c, r->owner_pos, "owner field '%s' must be a ref to the users' model", f->name);
    }
    if (r->parent_field)
        check_parent(c, r);
    for (size_t i = 0; i < r->n_sort; i++) {
        gen_field *f = column(c, r->model, r->sort[i].field, r->sort[i].pos, "sort");
        if (f && f->optional)
            err(c, r->sort[i].pos,
                "sort on optional field '%s': keyset pagination cannot order "
                "NULLs",
                f->name);
        if (f && (f->type == GT_JSON))
            err(c, r->sort[i].pos, "sort on json field '%s'", f->name);
    }
    if (r->page_default <= 0 || r->page_default > r->page_max)
        err(c, r->page_pos.line ? r->page_pos : r->pos,
            "page(%lld, %lld): the default must be between 1 and the maximum",
            (long long)r->page_default, (long long)r->page_max);
    for (size_t i = 0; i < r->n_hooks; i++) {
        check_name(c, r->hooks[i].function, r->hooks[i].pos, "hook function");
        for (size_t j = 0; j < i; j++)
            if (r->hooks[j].event == r->hooks[i].event)
                err(c, r->hooks[i].pos, "the same hook event is given twice");
    }
}

static void check_resource(checker *c, gen_resource *r)
{
    check_name(c, r->name, r->pos, "resource");
    for (gen_resource *o = c->s->resources; o < r; o++)
        if (strcmp(o->name, r->name) == 0)
            err(c, r->pos, "duplicate resource '%s' (first at line %d)", r->name, o->pos.line);
    if (!r->path)
        err(c, r->pos, "resource '%s' has no path", r->name);
    else if (strncmp(r->path, "/api/", 5) != 0)
        err(c, r->path_pos, "path \"%s\" must start with \"/api/\"", r->path);
    else if (r->path[strlen(r->path) - 1] == '/')
        err(c, r->path_pos, "path \"%s\" must not end with '/'", r->path);
    if (r->model_name) {
        r->model = gen_find_model(c->s, r->model_name);
        if (!r->model)
            err(c, r->model_pos, "resource '%s' names unknown model '%s'", r->name, r->model_name);
    }
    if (!r->model_name)
        check_needs_model(c, r);
    else if (r->model)
        check_model_items(c, r);
    if (!r->model_name && r->n_routes == 0)
        err(c, r->pos, "resource '%s' has neither a model nor routes", r->name);
    for (size_t i = 0; i < r->n_routes; i++)
        check_route(c, r, &r->routes[i]);
}

/* --- endpoints ---------------------------------------------------------- */

/* One method + path the server will answer, from an action or a route. */
typedef struct endpoint {
    const char *method;
    char *path; /* as written, for messages */
    char *key;  /* parameters normalised to ":" */
    const gen_resource *r;
    char what[80]; /* "action get", "route health_get" */
    gen_pos pos;
} endpoint;

/* "/api/a/:id/x" -> "/api/a/:/x": two paths that differ only in parameter
   names match the same requests. */
static char *normalise_path(const char *path)
{
    char *key = gen_xstrdup(path), *out = key;
    for (const char *p = path; *p;) {
        bool param = *p == ':' && (p == path || p[-1] == '/');
        *out++ = *p++;
        if (param)
            while (*p && *p != '/')
                p++;
    }
    *out = '\0';
    return key;
}

static void add_endpoint(endpoint **list, size_t *n, const char *method, const char *sub,
                         const gen_resource *r, const char *kind, const char *name, gen_pos pos)
{
    *list = gen_xrealloc(*list, (*n + 1) * sizeof **list);
    endpoint *e = &(*list)[(*n)++];
    size_t len = strlen(r->path) + strlen(sub) + 1;
    *e = (endpoint){.method = method, .path = gen_xmalloc(len), .r = r, .pos = pos};
    snprintf(e->path, len, "%s%s", r->path, sub);
    e->key = normalise_path(e->path);
    snprintf(e->what, sizeof e->what, "%s %s", kind, name);
}

static void collect_endpoints(const gen_resource *r, endpoint **list, size_t *n)
{
    static const char *const methods[] = {"GET", "GET", "POST", "PATCH", "DELETE"};
    static const char *const actions[] = {"list", "get", "create", "update", "delete"};
    for (int a = 0; a < 5; a++)
        if (r->actions & (1u << a)) {
            bool by_id = a == 1 || a == 3 || a == 4;
            add_endpoint(list, n, methods[a], by_id ? "/:id" : "", r, "action", actions[a],
                         r->actions_pos);
        }
    for (size_t i = 0; i < r->n_routes; i++) {
        const gen_route *rt = &r->routes[i];
        add_endpoint(list, n, rt->method, rt->subpath, r, "route", rt->handler, rt->pos);
    }
}

/* No two actions or routes, in one resource or across resources, may claim
   the same method + path: the router would silently pick one of them. */
static void check_endpoint_clashes(checker *c)
{
    endpoint *list = NULL;
    size_t n = 0;
    for (size_t i = 0; i < c->s->n_resources; i++)
        if (c->s->resources[i].path)
            collect_endpoints(&c->s->resources[i], &list, &n);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            const endpoint *a = &list[j], *b = &list[i];
            if (strcmp(a->method, b->method) != 0 || strcmp(a->key, b->key) != 0)
                continue;
            err(c, b->pos,
                "%s %s is claimed twice: by %s of resource '%s' (line %d) and by %s "
                "of resource '%s'",
                b->method, b->path, a->what, a->r->name, a->pos.line, b->what, b->r->name);
            break;
        }
    for (size_t i = 0; i < n; i++) {
        free(list[i].path);
        free(list[i].key);
    }
    free(list);
}

int gen_check(gen_schema *s, FILE *diag)
{
    checker c = {s, diag, 0};
    for (size_t i = 0; i < s->n_models; i++)
        check_model(&c, &s->models[i]);
    for (size_t i = 0; i < s->n_resources; i++)
        check_resource(&c, &s->resources[i]);
    check_endpoint_clashes(&c);
    return c.errors;
}
