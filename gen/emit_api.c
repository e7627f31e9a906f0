/*
 * emit_api.c — writes api.h, api.c and hooks.h: one cb_resource descriptor
 * per resource, the route table the server registers, and the prototypes of
 * the hand-written hooks and route handlers.
 *
 * The runtime (src/http/api.c) does all the work of an endpoint; what is
 * written here is data (src/http/api.h) plus one trampoline per hook that
 * hands the hand-written function its typed row. hooks.h only declares: a
 * hook or handler the schema names but src/ does not define is a link
 * error, never a silent default.
 */
#include "emit.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

static const char *const hook_events[GH_COUNT] = {
    "before_create", "after_create", "before_update",
    "after_update", "before_delete", "after_delete",
};

static const char *auth_name(gen_auth a)
{
    switch (a) {
    case GA_PUBLIC: return "CB_AUTH_PUBLIC";
    case GA_ADMIN: return "CB_AUTH_ADMIN";
    case GA_USER: break;
    }
    return "CB_AUTH_USER";
}

static gen_auth route_auth(const gen_resource *r, const gen_route *rt)
{
    return rt->auth_given ? rt->auth : r->auth;
}

/* The first resource hook calling fn, at or before (ri, hi). */
static bool hook_seen_before(const gen_schema *s, size_t ri, size_t hi, const char *fn)
{
    for (size_t i = 0; i <= ri; i++) {
        const gen_resource *r = &s->resources[i];
        size_t end = i == ri ? hi : r->n_hooks;
        for (size_t k = 0; k < end; k++)
            if (strcmp(r->hooks[k].function, fn) == 0)
                return true;
    }
    return false;
}

static bool handler_seen_before(const gen_schema *s, size_t ri, size_t ti, const char *fn)
{
    for (size_t i = 0; i <= ri; i++) {
        const gen_resource *r = &s->resources[i];
        size_t end = i == ri ? ti : r->n_routes;
        for (size_t k = 0; k < end; k++)
            if (strcmp(r->routes[k].handler, fn) == 0)
                return true;
    }
    return false;
}

static bool uses_hook(const gen_resource *r, const char *fn)
{
    for (size_t k = 0; k < r->n_hooks; k++)
        if (strcmp(r->hooks[k].function, fn) == 0)
            return true;
    return false;
}

/* A hook function has one prototype, so every resource naming it must
   share its model. */
static int check_hooks(const gen_schema *s)
{
    int errors = 0;
    for (size_t i = 0; i < s->n_resources; i++) {
        const gen_resource *r = &s->resources[i];
        for (size_t k = 0; k < r->n_hooks; k++) {
            const gen_hook *h = &r->hooks[k];
            if (!r->model) {
                fprintf(stderr, "%s:%d:%d: hook '%s' on resource '%s', which has no model\n",
                        h->pos.file, h->pos.line, h->pos.col, h->function, r->name);
                errors++;
                continue;
            }
            for (size_t j = 0; j < i; j++) {
                const gen_resource *o = &s->resources[j];
                if (o->model && o->model != r->model && uses_hook(o, h->function)) {
                    fprintf(stderr, "%s:%d:%d: hook '%s' is used for models '%s' and '%s';"
                            " one function can take only one row type\n",
                            h->pos.file, h->pos.line, h->pos.col, h->function,
                            o->model->name, r->model->name);
                    errors++;
                    break;
                }
            }
        }
    }
    return errors;
}

/* Text inside a C comment: a "*" followed by "/" would end it early. */
static void put_comment_text(gen_buf *b, const char *s)
{
    for (; *s; s++) {
        gen_buf_putn(b, s, 1);
        if (s[0] == '*' && s[1] == '/')
            gen_buf_put(b, " ");
    }
}

/* --- hooks.h ------------------------------------------------------------------ */

static void emit_hooks_h(const gen_schema *s, const char *source, gen_outset *o)
{
    gen_buf *b = gen_out_file(o, "hooks.h");
    gen_buf_header(b, "c", source);
    gen_buf_put(b,
        "/*\n"
        " * hooks.h — the functions the schema names and src/ must define: hooks\n"
        " * (see cb_hook_fn in http/api.h for when they run and what they may\n"
        " * return) and route handlers (each answers its request itself).\n"
        " */\n"
        "#ifndef CB_GEN_HOOKS_H\n"
        "#define CB_GEN_HOOKS_H\n"
        "\n"
        "#include \"http/api.h\"\n"
        "#include \"models.h\"\n");
    for (size_t i = 0; i < s->n_resources; i++) {
        const gen_resource *r = &s->resources[i];
        for (size_t k = 0; k < r->n_hooks; k++) {
            const gen_hook *h = &r->hooks[k];
            if (hook_seen_before(s, i, k, h->function))
                continue;
            const char *sep = " ";
            gen_buf_put(b, "\n/* Hook for");
            for (size_t j = i; j < s->n_resources; j++)
                for (size_t l = 0; l < s->resources[j].n_hooks; l++)
                    if (strcmp(s->resources[j].hooks[l].function, h->function) == 0) {
                        gen_buf_printf(b, "%s%s %s", sep, s->resources[j].name,
                                       hook_events[s->resources[j].hooks[l].event]);
                        sep = ", ";
                    }
            gen_buf_printf(b, ". */\ncb_rc cb_hook_%s(cb_ctx *ctx, cb_%s *row, cb_errors *errs);\n",
                           h->function, r->model->name);
        }
    }
    for (size_t i = 0; i < s->n_resources; i++) {
        const gen_resource *r = &s->resources[i];
        for (size_t k = 0; k < r->n_routes; k++) {
            const gen_route *rt = &r->routes[k];
            if (handler_seen_before(s, i, k, rt->handler))
                continue;
            gen_buf_printf(b, "\n/* Route: %s ", rt->method);
            put_comment_text(b, r->path);
            put_comment_text(b, rt->subpath);
            if (rt->summary) {
                gen_buf_put(b, " (");
                put_comment_text(b, rt->summary);
                gen_buf_put(b, ")");
            }
            gen_buf_printf(b, ". */\nint cb_route_%s(cb_ctx *ctx);\n", rt->handler);
        }
    }
    gen_buf_put(b, "\n#endif\n");
}

/* --- api.h ---------------------------------------------------------------------- */

static void emit_api_h(const gen_schema *s, const char *source, gen_outset *o)
{
    gen_buf *b = gen_out_file(o, "api.h");
    gen_buf_header(b, "c", source);
    gen_buf_put(b,
        "/*\n"
        " * api.h — the resource descriptors and the route table (see\n"
        " * src/http/api.h for what the runtime does with them).\n"
        " */\n"
        "#ifndef CB_GEN_API_H\n"
        "#define CB_GEN_API_H\n"
        "\n"
        "#include \"http/api.h\"\n"
        "\n");
    for (size_t i = 0; i < s->n_resources; i++)
        gen_buf_printf(b, "extern const cb_resource cb_res_%s;\n", s->resources[i].name);
    gen_buf_put(b,
        "\n"
        "/* Every method + path, in schema order, followed by a NULL row. */\n"
        "extern const cb_route cb_routes[];\n"
        "extern const int cb_n_routes;\n"
        "\n"
        "#endif\n");
}

/* --- api.c ---------------------------------------------------------------------- */

static void put_trampolines(gen_buf *b, const gen_schema *s)
{
    for (size_t i = 0; i < s->n_resources; i++) {
        const gen_resource *r = &s->resources[i];
        for (size_t k = 0; k < r->n_hooks; k++) {
            const char *fn = r->hooks[k].function;
            if (hook_seen_before(s, i, k, fn))
                continue;
            gen_buf_printf(b, "static cb_rc hook_%s(cb_ctx *ctx, void *row, cb_errors *errs)\n{\n"
                              "    return cb_hook_%s(ctx, row, errs);\n}\n\n", fn, fn);
        }
    }
}

static void put_field_index(gen_buf *b, const gen_model *m, const char *field)
{
    if (field)
        gen_buf_printf(b, "CB_%s_%s", gen_upper(m->name).s, gen_upper(field).s);
    else
        gen_buf_put(b, "-1");
}

static void put_actions(gen_buf *b, unsigned actions)
{
    static const char *const names[] = {
        "CB_ACT_LIST", "CB_ACT_GET", "CB_ACT_CREATE", "CB_ACT_UPDATE", "CB_ACT_DELETE",
    };
    const char *sep = "";
    gen_buf_put(b, "    .actions = ");
    for (int i = 0; i < 5; i++)
        if (actions & (1u << i)) {
            gen_buf_printf(b, "%s(1u << %s)", sep, names[i]);
            sep = "\n        | ";
        }
    gen_buf_printf(b, "%s,\n", *sep ? "" : "0");
}

static void put_accept(gen_buf *b, const gen_resource *r)
{
    static const struct { int index; const char *name; } acts[] = {
        {2, "CB_ACT_CREATE"}, {3, "CB_ACT_UPDATE"},
    };
    gen_name M = gen_upper(r->model->name);
    bool any = false;
    for (size_t a = 0; a < 2; a++)
        any = any || r->n_accept[acts[a].index] > 0;
    if (!any)
        return;
    gen_buf_put(b, "    .accept = {\n");
    for (size_t a = 0; a < 2; a++) {
        int ai = acts[a].index;
        if (r->n_accept[ai] == 0)
            continue;
        gen_buf_printf(b, "        [%s] =", acts[a].name);
        for (size_t k = 0; k < r->n_accept[ai]; k++)
            gen_buf_printf(b, "%s CB_%s_F_%s", k ? "\n            |" : "", M.s,
                           gen_upper(r->accept[ai][k]).s);
        gen_buf_put(b, ",\n");
    }
    gen_buf_put(b, "    },\n");
}

static void put_sort(gen_buf *b, const gen_resource *r)
{
    gen_name M = gen_upper(r->model->name);
    gen_buf_printf(b, "static const cb_sort_key res_%s_sort[] = {\n", r->name);
    for (size_t i = 0; i < gen_sort_count(r); i++) {
        gen_sort_key k = gen_sort_at(r, i);
        gen_buf_printf(b, "    {CB_%s_%s, %s},\n", M.s, gen_upper(k.field).s,
                       k.desc ? "true" : "false");
    }
    gen_buf_put(b, "};\n\n");
}

static void put_resource(gen_buf *b, const gen_resource *r)
{
    const gen_model *m = r->model;
    bool list = m && (r->actions & GACT_LIST);
    gen_buf_printf(b, "/* --- %s: ", r->name);
    put_comment_text(b, r->path);
    gen_buf_put(b, " */\n\n");
    if (list)
        put_sort(b, r);
    for (size_t k = 0; k < r->n_routes; k++) {
        const gen_route *rt = &r->routes[k];
        gen_buf_printf(b, "static const cb_route_desc res_%s_route_%zu = {\"%s\", %s, cb_route_%s};\n\n",
                       r->name, k, rt->handler, auth_name(route_auth(r, rt)), rt->handler);
    }
    gen_buf_printf(b, "const cb_resource cb_res_%s = {\n", r->name);
    gen_buf_printf(b, "    .name = \"%s\",\n    .path = ", r->name);
    gen_put_c_literal(b, r->path, "", 0);
    gen_buf_put(b, ",\n");
    if (m)
        gen_buf_printf(b, "    .model = &cb_model_%s,\n", m->name);
    else
        gen_buf_put(b, "    .model = NULL,\n");
    gen_buf_printf(b, "    .auth = %s,\n", auth_name(r->auth));
    gen_buf_put(b, "    .owner_field = ");
    put_field_index(b, m, m ? r->owner : NULL);
    gen_buf_put(b, ",\n    .parent_field = ");
    put_field_index(b, m, m ? r->parent_field : NULL);
    gen_buf_put(b, ",\n");
    if (r->parent)
        gen_buf_printf(b, "    .parent = &cb_res_%s,\n", r->parent->name);
    else
        gen_buf_put(b, "    .parent = NULL,\n");
    put_actions(b, m ? r->actions : 0);
    if (m)
        put_accept(b, r);
    if (list) {
        gen_name R = gen_upper(r->name);
        gen_buf_printf(b,
            "    .sort = res_%s_sort,\n"
            "    .n_sort = %zu,\n"
            "    .sql_list_first = cb_sql_%s_list_first,\n"
            "    .sql_list_after = cb_sql_%s_list_after,\n"
            "    .stmt_list_first = CB_STMT_%s_LIST_FIRST,\n"
            "    .stmt_list_after = CB_STMT_%s_LIST_AFTER,\n"
            "    .stmt_list_first_rev = CB_STMT_%s_LIST_FIRST_REV,\n"
            "    .stmt_list_after_rev = CB_STMT_%s_LIST_AFTER_REV,\n",
            r->name, gen_sort_count(r), r->name, r->name, R.s, R.s, R.s, R.s);
    } else {
        gen_buf_put(b,
            "    .sort = NULL,\n"
            "    .n_sort = 0,\n"
            "    .sql_list_first = NULL,\n"
            "    .sql_list_after = NULL,\n"
            "    .stmt_list_first = -1,\n"
            "    .stmt_list_after = -1,\n"
            "    .stmt_list_first_rev = -1,\n"
            "    .stmt_list_after_rev = -1,\n");
    }
    gen_buf_printf(b, "    .page_default = %" PRId64 ",\n    .page_max = %" PRId64 ",\n",
                   r->page_default, r->page_max);
    if (m && r->n_hooks) {
        gen_buf_put(b, "    .hooks = {\n");
        for (size_t k = 0; k < r->n_hooks; k++) {
            gen_name E = gen_upper(hook_events[r->hooks[k].event]);
            gen_buf_printf(b, "        [CB_HOOK_%s] = hook_%s,\n", E.s, r->hooks[k].function);
        }
        gen_buf_put(b, "    },\n");
    }
    gen_buf_put(b, "};\n\n");
}

/* One row of cb_routes: data is "&cb_res_x" or "&res_x_route_N". */
static void put_route_row(gen_buf *b, const char *method, const char *path, const char *suffix,
                          const char *callback, const char *data)
{
    gen_buf full = {0};
    gen_buf_put(&full, path);
    gen_buf_put(&full, suffix);
    gen_buf_printf(b, "    {\"%s\", ", method);
    gen_put_c_literal(b, gen_cstr(&full), "", 0);
    gen_buf_printf(b, ", %s, %s},\n", callback, data);
    gen_buf_free(&full);
}

static void put_routes(gen_buf *b, const gen_schema *s)
{
    static const struct { unsigned act; const char *method, *suffix, *callback; } crud[] = {
        {GACT_LIST, "GET", "", "cb_api_list"},
        {GACT_CREATE, "POST", "", "cb_api_create"},
        {GACT_GET, "GET", "/:id", "cb_api_get"},
        {GACT_UPDATE, "PATCH", "/:id", "cb_api_update"},
        {GACT_DELETE, "DELETE", "/:id", "cb_api_delete"},
    };
    char data[GEN_NAME_MAX + 32];
    gen_buf_put(b, "const cb_route cb_routes[] = {\n");
    for (size_t i = 0; i < s->n_resources; i++) {
        const gen_resource *r = &s->resources[i];
        snprintf(data, sizeof data, "&cb_res_%s", r->name);
        for (size_t a = 0; a < sizeof crud / sizeof crud[0]; a++)
            if (r->model && (r->actions & crud[a].act))
                put_route_row(b, crud[a].method, r->path, crud[a].suffix, crud[a].callback, data);
        for (size_t k = 0; k < r->n_routes; k++) {
            snprintf(data, sizeof data, "&res_%s_route_%zu", r->name, k);
            put_route_row(b, r->routes[k].method, r->path, r->routes[k].subpath, "cb_api_route",
                          data);
        }
    }
    gen_buf_put(b, "    {NULL, NULL, NULL, NULL},\n};\n\n"
                   "const int cb_n_routes = (int)(sizeof cb_routes / sizeof cb_routes[0]) - 1;\n");
}

static void emit_api_c(const gen_schema *s, const char *source, gen_outset *o)
{
    gen_buf *b = gen_out_file(o, "api.c");
    gen_buf_header(b, "c", source);
    gen_buf_put(b,
        "/*\n"
        " * api.c — the resource descriptors and the route table. Hooks are reached\n"
        " * through trampolines that give the hand-written function its typed row.\n"
        " */\n"
        "#include \"api.h\"\n"
        "\n"
        "#include <stdbool.h>\n"
        "#include <stddef.h>\n"
        "\n"
        "#include \"hooks.h\"\n"
        "#include \"models.h\"\n"
        "\n");
    put_trampolines(b, s);
    for (size_t i = 0; i < s->n_resources; i++)
        put_resource(b, &s->resources[i]);
    put_routes(b, s);
}

int gen_emit_api(const gen_schema *s, const char *source, gen_outset *o)
{
    int errors = check_hooks(s);
    if (errors)
        return errors;
    emit_api_h(s, source, o);
    emit_api_c(s, source, o);
    emit_hooks_h(s, source, o);
    return 0;
}
