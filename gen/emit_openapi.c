/*
 * emit_openapi.c — writes openapi.json (OpenAPI 3.1) and openapi.c/.h, the
 * same bytes as a C string the server answers /api/v1/openapi.json with.
 *
 * The document describes what the runtime actually does with the tables of
 * emit_models.c and emit_api.c: the same accepted fields, required fields,
 * limits, status codes and problem+json errors. It is built as a jansson
 * tree (insertion order is kept, so output is deterministic) and dumped
 * once; openapi.c embeds that dump, so the two can never disagree.
 */
#include "emit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

#define PROBLEM_TYPE "application/problem+json"

/* --- jansson with allocation failure as an abort ----------------------------- */

static json_t *must(json_t *v)
{
    if (!v) {
        fprintf(stderr, "chatbot-gen: out of memory\n");
        abort();
    }
    return v;
}

static json_t *jobj(void)
{
    return must(json_object());
}

static json_t *jarr(void)
{
    return must(json_array());
}

/* Schema text (summaries, paths) is passed through as written. */
static json_t *jstr(const char *s)
{
    return must(json_string_nocheck(s));
}

static json_t *jint(int64_t i)
{
    return must(json_integer(i));
}

static void jset(json_t *o, const char *key, json_t *v_take)
{
    if (json_object_set_new_nocheck(o, key, must(v_take)) != 0)
        must(NULL);
}

static void jpush(json_t *a, json_t *v_take)
{
    if (json_array_append_new(a, must(v_take)) != 0)
        must(NULL);
}

static json_t *jref(const char *kind, const char *name)
{
    char ref[GEN_NAME_MAX + 32];
    snprintf(ref, sizeof ref, "#/components/%s/%s", kind, name);
    json_t *o = jobj();
    jset(o, "$ref", jstr(ref));
    return o;
}

/* { "<type>": { "schema": schema } } */
static json_t *content(const char *type, json_t *schema_take)
{
    json_t *media = jobj(), *c = jobj();
    jset(media, "schema", schema_take);
    jset(c, type, media);
    return c;
}

/* --- schemas ------------------------------------------------------------------- */

static const char *schema_type(gen_type t)
{
    switch (t) {
    case GT_ID:
    case GT_INT:
    case GT_REF:
        return "integer";
    case GT_BOOL:
        return "boolean";
    case GT_JSON:
    case GT_MANY:
        return NULL;
    default:
        return "string";
    }
}

static json_t *default_value(const gen_field *f)
{
    switch (f->def.kind) {
    case GD_INT:
        if (f->type == GT_TIMESTAMP) {
            gen_buf b = {0};
            gen_put_rfc3339(&b, f->def.i);
            json_t *v = jstr(gen_cstr(&b));
            gen_buf_free(&b);
            return v;
        }
        return jint(f->def.i);
    case GD_BOOL:
        return must(json_boolean(f->def.i));
    case GD_STRING:
        if (f->type == GT_JSON)
            return json_loads(f->def.s, JSON_DECODE_ANY, NULL);
        return jstr(f->def.s);
    case GD_IDENT:
        return jstr(f->def.s);
    case GD_NOW:
    case GD_NONE:
        break;
    }
    return NULL;
}

static json_t *field_schema(const gen_field *f)
{
    json_t *o = jobj();
    const char *type = schema_type(f->type);
    if (type && f->optional) {
        json_t *types = jarr();
        jpush(types, jstr(type));
        jpush(types, jstr("null"));
        jset(o, "type", types);
    } else if (type) {
        jset(o, "type", jstr(type));
    }
    switch (f->type) {
    case GT_ID:
    case GT_REF:
        jset(o, "format", jstr("int64"));
        break;
    case GT_INT:
        jset(o, "format", jstr("int64"));
        if (f->has_min)
            jset(o, "minimum", jint(f->min));
        if (f->has_max)
            jset(o, "maximum", jint(f->max));
        break;
    case GT_TEXT:
        if (f->has_min)
            jset(o, "minLength", jint(f->min));
        jset(o, "maxLength", jint(f->text_max));
        break;
    case GT_EMAIL:
        jset(o, "format", jstr("email"));
        jset(o, "maxLength", jint(f->text_max));
        break;
    case GT_TIMESTAMP:
        jset(o, "format", jstr("date-time"));
        break;
    case GT_ENUM: {
        json_t *values = jarr();
        for (size_t i = 0; i < f->n_enum_values; i++)
            jpush(values, jstr(f->enum_values[i]));
        if (f->optional)
            jpush(values, must(json_null()));
        jset(o, "enum", values);
        break;
    }
    case GT_BOOL:
    case GT_JSON:
    case GT_MANY:
        break;
    }
    json_t *def = default_value(f);
    if (def)
        jset(o, "default", def);
    return o;
}

/* What the runtime serialises: every column but the hidden ones, always
   present (null when unset and optional). */
static json_t *model_schema(const gen_model *m)
{
    json_t *o = jobj(), *props = jobj(), *req = jarr();
    jset(o, "type", jstr("object"));
    for (size_t i = 0; i < m->n_fields; i++) {
        const gen_field *f = &m->fields[i];
        if (f->hidden || f->type == GT_MANY)
            continue;
        jset(props, f->name, field_schema(f));
        jpush(req, jstr(f->name));
    }
    jset(o, "properties", props);
    jset(o, "required", req);
    return o;
}

/* A request body over `fields` of m; with `require` (create) the fields
   that are neither optional nor defaulted must be present. */
static json_t *body_schema(const gen_model *m, const char *const *fields, size_t n, bool require)
{
    json_t *o = jobj(), *props = jobj(), *req = jarr();
    jset(o, "type", jstr("object"));
    for (size_t i = 0; i < n; i++) {
        const gen_field *f = gen_find_field(m, fields[i]);
        if (!f || f->hidden || f->type == GT_MANY)
            continue;
        jset(props, f->name, field_schema(f));
        if (require && !f->optional && f->def.kind == GD_NONE)
            jpush(req, jstr(f->name));
    }
    jset(o, "properties", props);
    if (json_array_size(req))
        jset(o, "required", req);
    else
        json_decref(req);
    jset(o, "additionalProperties", must(json_false()));
    return o;
}

static json_t *page_schema(const gen_model *m)
{
    json_t *o = jobj(), *props = jobj(), *items = jobj(), *cursor = jobj(), *types = jarr();
    json_t *req = jarr();
    gen_name M = gen_camel(m->name);
    jset(o, "type", jstr("object"));
    jset(items, "type", jstr("array"));
    jset(items, "items", jref("schemas", M.s));
    jset(props, "items", items);
    jpush(types, jstr("string"));
    jpush(types, jstr("null"));
    jset(cursor, "type", types);
    jset(cursor, "description", jstr("Pass as `cursor` for the next page; null on the last page."));
    jset(props, "next_cursor", cursor);
    jset(o, "properties", props);
    jpush(req, jstr("items"));
    jpush(req, jstr("next_cursor"));
    jset(o, "required", req);
    return o;
}

static json_t *problem_schema(void)
{
    static const char *const strings[] = {"type", "title", "detail"};
    json_t *o = jobj(), *props = jobj(), *req = jarr(), *errors = jobj(), *msg = jobj();
    jset(o, "type", jstr("object"));
    for (size_t i = 0; i < 3; i++) {
        json_t *p = jobj();
        jset(p, "type", jstr("string"));
        jset(props, strings[i], p);
        if (i == 1) {
            json_t *st = jobj();
            jset(st, "type", jstr("integer"));
            jset(props, "status", st);
        }
    }
    jset(errors, "type", jstr("object"));
    jset(msg, "type", jstr("string"));
    jset(errors, "additionalProperties", msg);
    jset(errors, "description", jstr("Per-field messages: {\"field\": \"message\"}."));
    jset(props, "errors", errors);
    jset(o, "properties", props);
    static const char *const required[] = {"type", "title", "status", "detail"};
    for (size_t i = 0; i < 4; i++)
        jpush(req, jstr(required[i]));
    jset(o, "required", req);
    return o;
}

/* Adds a named schema; a second one of the same name is an error. */
static int add_schema(json_t *schemas, const char *name, json_t *schema_take, gen_pos pos)
{
    if (json_object_get(schemas, name)) {
        fprintf(stderr, "%s:%d:%d: OpenAPI schema name '%s' is used twice\n", pos.file, pos.line,
                pos.col, name);
        json_decref(schema_take);
        return 1;
    }
    jset(schemas, name, schema_take);
    return 0;
}

/* --- responses ------------------------------------------------------------------ */

static const struct {
    const char *status, *name, *description;
} problems[] = {
    {"400", "BadRequest", "The request is malformed or a field is invalid (see errors)."},
    {"401", "Unauthorized", "Not signed in (no valid session cookie or bearer token)."},
    {"403", "Forbidden", "Signed in without the rights this needs, or a failed CSRF check."},
    {"404", "NotFound", "No such object, or not the caller's."},
    {"409", "Conflict", "A unique field's value is taken."},
    {"413", "PayloadTooLarge", "The body is over the size limit."},
    {"415", "UnsupportedMediaType", "The body is not application/json."},
};

enum { P400, P401, P403, P404, P409, P413, P415, N_PROBLEMS };

static json_t *problem_responses(void)
{
    json_t *o = jobj();
    for (size_t i = 0; i < N_PROBLEMS; i++) {
        json_t *r = jobj();
        jset(r, "description", jstr(problems[i].description));
        jset(r, "content", content(PROBLEM_TYPE, jref("schemas", "Problem")));
        jset(o, problems[i].name, r);
    }
    return o;
}

/* --- operations ----------------------------------------------------------------- */

typedef struct op_spec {
    json_t *used_ids;           /* operationIds so far, as keys */
    const gen_resource *res;
    const char *id_suffix;      /* action or handler name */
    const char *summary;
    gen_auth auth;
    json_t *params;             /* query parameters, or NULL; taken */
    json_t *body;               /* request body schema, or NULL; taken */
    int status;
    const char *description;
    json_t *result;             /* success body schema, or NULL; taken */
    bool not_found, conflict;
} op_spec;

static json_t *operation(const op_spec *op)
{
    json_t *o = jobj(), *tags = jarr(), *resp = jobj();
    char id[2 * GEN_NAME_MAX];
    snprintf(id, sizeof id, "%s_%s", op->res->name, op->id_suffix);
    /* One handler may serve several routes; operationIds must be unique. */
    size_t base = strlen(id);
    for (int n = 2; json_object_get(op->used_ids, id); n++)
        snprintf(id + base, sizeof id - base, "_%d", n);
    jset(op->used_ids, id, must(json_true()));
    jset(o, "operationId", jstr(id));
    jset(o, "summary", jstr(op->summary));
    jpush(tags, jstr(op->res->name));
    jset(o, "tags", tags);
    if (op->params)
        jset(o, "parameters", op->params);
    if (op->body) {
        json_t *rb = jobj();
        jset(rb, "required", must(json_true()));
        jset(rb, "content", content("application/json", op->body));
        jset(o, "requestBody", rb);
    }
    json_t *ok = jobj();
    jset(ok, "description", jstr(op->description));
    if (op->result)
        jset(ok, "content", content("application/json", op->result));
    char status[16];
    snprintf(status, sizeof status, "%d", op->status);
    jset(resp, status, ok);
    bool want[N_PROBLEMS] = {
        [P400] = true,
        [P401] = op->auth != GA_PUBLIC,
        [P403] = op->auth == GA_ADMIN,
        [P404] = op->not_found,
        [P409] = op->conflict,
        [P413] = op->body != NULL,
        [P415] = op->body != NULL,
    };
    for (size_t i = 0; i < N_PROBLEMS; i++)
        if (want[i])
            jset(resp, problems[i].status, jref("responses", problems[i].name));
    jset(o, "responses", resp);
    if (op->auth != GA_PUBLIC) {
        json_t *sec = jarr(), *cookie = jobj(), *bearer = jobj();
        jset(cookie, "cookie", jarr());
        jset(bearer, "bearer", jarr());
        jpush(sec, cookie);
        jpush(sec, bearer);
        jset(o, "security", sec);
    }
    return o;
}

/* The path item of an Ulfius path (created with its path parameters on
   first use): "id" and the resource's parent field are integers. */
static json_t *path_item(json_t *paths, const gen_resource *r, const char *path)
{
    gen_buf key = {0};
    gen_put_openapi_path(&key, path);
    json_t *item = json_object_get(paths, gen_cstr(&key));
    if (!item) {
        item = jobj();
        json_t *params = jarr();
        const char *p = path, *name;
        size_t len;
        while ((name = gen_path_param(p, &len)) != NULL) {
            json_t *param = jobj(), *schema = jobj();
            bool integer = (len == 2 && strncmp(name, "id", 2) == 0) ||
                           (r->parent_field && strlen(r->parent_field) == len &&
                            strncmp(name, r->parent_field, len) == 0);
            jset(param, "name", must(json_stringn_nocheck(name, len)));
            jset(param, "in", jstr("path"));
            jset(param, "required", must(json_true()));
            jset(schema, "type", jstr(integer ? "integer" : "string"));
            if (integer)
                jset(schema, "format", jstr("int64"));
            jset(param, "schema", schema);
            jpush(params, param);
            p = name + len;
        }
        if (json_array_size(params))
            jset(item, "parameters", params);
        else
            json_decref(params);
        jset(paths, gen_cstr(&key), item);
    }
    gen_buf_free(&key);
    return item;
}

static int add_operation(json_t *paths, const gen_resource *r, const char *path,
                         const char *method, json_t *op_take, gen_pos pos)
{
    json_t *item = path_item(paths, r, path);
    char lower[16];
    size_t i = 0;
    for (; method[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)(method[i] >= 'A' && method[i] <= 'Z' ? method[i] - 'A' + 'a' : method[i]);
    lower[i] = '\0';
    if (json_object_get(item, lower)) {
        fprintf(stderr, "%s:%d:%d: %s %s is defined twice\n", pos.file, pos.line, pos.col, method,
                path);
        json_decref(op_take);
        return 1;
    }
    jset(item, lower, op_take);
    return 0;
}

static json_t *list_params(const gen_resource *r)
{
    json_t *params = jarr(), *limit = jobj(), *ls = jobj(), *cursor = jobj(), *cs = jobj();
    jset(limit, "name", jstr("limit"));
    jset(limit, "in", jstr("query"));
    jset(limit, "required", must(json_false()));
    jset(ls, "type", jstr("integer"));
    jset(ls, "minimum", jint(1));
    jset(ls, "maximum", jint(r->page_max));
    jset(ls, "default", jint(r->page_default));
    jset(limit, "schema", ls);
    jpush(params, limit);
    jset(cursor, "name", jstr("cursor"));
    jset(cursor, "in", jstr("query"));
    jset(cursor, "required", must(json_false()));
    jset(cursor, "description", jstr("next_cursor of the previous page."));
    jset(cs, "type", jstr("string"));
    jset(cursor, "schema", cs);
    jpush(params, cursor);
    json_t *reverse = jobj(), *rs = jobj();
    jset(reverse, "name", jstr("reverse"));
    jset(reverse, "in", jstr("query"));
    jset(reverse, "required", must(json_false()));
    jset(reverse, "description",
         jstr("true: the list's order backwards (e.g. a conversation's newest messages "
              "first); cursors then page backwards too."));
    jset(rs, "type", jstr("boolean"));
    jset(rs, "default", must(json_false()));
    jset(reverse, "schema", rs);
    jpush(params, reverse);
    return params;
}

static bool any_unique(const gen_model *m, const char *const *fields, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const gen_field *f = gen_find_field(m, fields[i]);
        if (f && f->unique)
            return true;
    }
    return false;
}

/* "api_token" -> "api token", for summaries. */
static gen_name words(const char *s)
{
    gen_name n = gen_upper(s);
    for (size_t i = 0; s[i]; i++)
        n.s[i] = s[i] == '_' ? ' ' : s[i];
    return n;
}

static int add_crud(json_t *paths, json_t *used, const gen_resource *r)
{
    const gen_model *m = r->model;
    gen_name M = gen_camel(m->name), R = gen_camel(r->name), w = words(m->name);
    char name[GEN_NAME_MAX + 16], summary[GEN_NAME_MAX + 32];
    gen_buf item = {0};
    gen_buf_printf(&item, "%s/:id", r->path);
    const char *item_path = gen_cstr(&item);
    bool parent = r->parent_field != NULL;
    int errors = 0;

    if (r->actions & GACT_LIST) {
        snprintf(name, sizeof name, "%sPage", R.s);
        snprintf(summary, sizeof summary, "List %s", words(r->name).s);
        op_spec op = {used, r, "list", summary, r->auth, list_params(r), NULL, 200,
                      "One page, in the resource's sort order.", jref("schemas", name),
                      parent, false};
        errors += add_operation(paths, r, r->path, "GET", operation(&op), r->pos);
    }
    if (r->actions & GACT_CREATE) {
        snprintf(name, sizeof name, "%sCreate", R.s);
        snprintf(summary, sizeof summary, "Create one %s", w.s);
        op_spec op = {used, r, "create", summary, r->auth, NULL, jref("schemas", name), 201,
                      "Created: the stored object.", jref("schemas", M.s), parent,
                      any_unique(m, r->accept[2], r->n_accept[2])};
        errors += add_operation(paths, r, r->path, "POST", operation(&op), r->pos);
    }
    if (r->actions & GACT_GET) {
        snprintf(summary, sizeof summary, "Get one %s", w.s);
        op_spec op = {used, r, "get", summary, r->auth, NULL, NULL, 200, "The object.",
                      jref("schemas", M.s), true, false};
        errors += add_operation(paths, r, item_path, "GET", operation(&op), r->pos);
    }
    if (r->actions & GACT_UPDATE) {
        snprintf(name, sizeof name, "%sUpdate", R.s);
        snprintf(summary, sizeof summary, "Update one %s", w.s);
        op_spec op = {used, r, "update", summary, r->auth, NULL, jref("schemas", name), 200,
                      "Updated: the stored object.", jref("schemas", M.s), true,
                      any_unique(m, r->accept[3], r->n_accept[3])};
        errors += add_operation(paths, r, item_path, "PATCH", operation(&op), r->pos);
    }
    if (r->actions & GACT_DELETE) {
        snprintf(summary, sizeof summary, "Delete one %s", w.s);
        op_spec op = {used, r, "delete", summary, r->auth, NULL, NULL, 204, "Deleted.", NULL, true,
                      false};
        errors += add_operation(paths, r, item_path, "DELETE", operation(&op), r->pos);
    }
    gen_buf_free(&item);
    return errors;
}

static int add_route(json_t *paths, json_t *used, const gen_schema *s, const gen_resource *r,
                     const gen_route *rt)
{
    gen_buf path = {0};
    gen_buf_printf(&path, "%s%s", r->path, rt->subpath);
    const char *full = gen_cstr(&path);
    const gen_model *body_m = rt->body_model ? gen_find_model(s, rt->body_model) : NULL;
    const gen_model *ret_m = rt->returns_model ? gen_find_model(s, rt->returns_model) : NULL;
    char summary[GEN_NAME_MAX + 32];
    snprintf(summary, sizeof summary, "%s", rt->handler);
    size_t len;
    op_spec op = {
        .used_ids = used,
        .res = r,
        .id_suffix = rt->handler,
        .summary = rt->summary ? rt->summary : summary,
        .auth = rt->auth_given ? rt->auth : r->auth,
        .body = body_m ? body_schema(body_m, rt->body_fields, rt->n_body_fields, true) : NULL,
        .status = rt->status ? rt->status : 200,
        .description = rt->summary ? rt->summary : "Success.",
        .not_found = gen_path_param(full, &len) != NULL,
        .conflict = body_m && any_unique(body_m, rt->body_fields, rt->n_body_fields),
    };
    if (ret_m && op.status != 204)
        op.result = jref("schemas", gen_camel(ret_m->name).s);
    int errors = add_operation(paths, r, full, rt->method, operation(&op), rt->pos);
    gen_buf_free(&path);
    return errors;
}

/* --- the document --------------------------------------------------------------- */

static int add_components(json_t *components, const gen_schema *s)
{
    json_t *schemas = jobj();
    int errors = 0;
    gen_pos none = {s->file, 1, 1};
    for (size_t i = 0; i < s->n_models; i++) {
        const gen_model *m = &s->models[i];
        errors += add_schema(schemas, gen_camel(m->name).s, model_schema(m), m->pos);
    }
    for (size_t i = 0; i < s->n_resources; i++) {
        const gen_resource *r = &s->resources[i];
        const gen_model *m = r->model;
        if (!m)
            continue;
        gen_name R = gen_camel(r->name);
        char name[GEN_NAME_MAX + 16];
        if (r->actions & GACT_CREATE) {
            snprintf(name, sizeof name, "%sCreate", R.s);
            errors += add_schema(schemas, name, body_schema(m, r->accept[2], r->n_accept[2], true),
                                 r->pos);
        }
        if (r->actions & GACT_UPDATE) {
            snprintf(name, sizeof name, "%sUpdate", R.s);
            errors += add_schema(schemas, name,
                                 body_schema(m, r->accept[3], r->n_accept[3], false), r->pos);
        }
        if (r->actions & GACT_LIST) {
            snprintf(name, sizeof name, "%sPage", R.s);
            errors += add_schema(schemas, name, page_schema(m), r->pos);
        }
    }
    errors += add_schema(schemas, "Problem", problem_schema(), none);
    jset(components, "schemas", schemas);
    jset(components, "responses", problem_responses());

    json_t *sec = jobj(), *cookie = jobj(), *bearer = jobj();
    jset(cookie, "type", jstr("apiKey"));
    jset(cookie, "in", jstr("cookie"));
    jset(cookie, "name", jstr("__Host-chatbot_session"));
    jset(cookie, "description", jstr("The session cookie (chatbot_session when served over"
                                     " plain HTTP); unsafe methods also need X-CSRF-Token."));
    jset(bearer, "type", jstr("http"));
    jset(bearer, "scheme", jstr("bearer"));
    jset(bearer, "description", jstr("A personal API token."));
    jset(sec, "cookie", cookie);
    jset(sec, "bearer", bearer);
    jset(components, "securitySchemes", sec);
    return errors;
}

static json_t *document(const gen_schema *s, const char *source, int *errors)
{
    json_t *root = jobj(), *info = jobj(), *paths = jobj(), *components = jobj(), *used = jobj();
    gen_buf note = {0};
    gen_buf_printf(&note, "DO NOT EDIT: generated by chatbot-gen from %s.", source);
    jset(root, "x-generated", jstr(gen_cstr(&note)));
    gen_buf_free(&note);
    jset(root, "openapi", jstr("3.1.0"));
    jset(info, "title", jstr("chatbot"));
    jset(info, "version", jstr("1"));
    jset(root, "info", info);
    for (size_t i = 0; i < s->n_resources; i++) {
        const gen_resource *r = &s->resources[i];
        if (r->model)
            *errors += add_crud(paths, used, r);
        for (size_t k = 0; k < r->n_routes; k++)
            *errors += add_route(paths, used, s, r, &r->routes[k]);
    }
    json_decref(used);
    jset(root, "paths", paths);
    *errors += add_components(components, s);
    jset(root, "components", components);
    return root;
}

static void emit_openapi_c(const char *json, const char *source, gen_outset *o)
{
    gen_buf *h = gen_out_file(o, "openapi.h");
    gen_buf_header(h, "c", source);
    gen_buf_put(h,
        "/*\n"
        " * openapi.h — the OpenAPI document (openapi.json) built into the server.\n"
        " */\n"
        "#ifndef CB_GEN_OPENAPI_H\n"
        "#define CB_GEN_OPENAPI_H\n"
        "\n"
        "/* NUL-terminated; cb_openapi_json_len excludes the NUL. */\n"
        "extern const char cb_openapi_json[];\n"
        "extern const unsigned long cb_openapi_json_len;\n"
        "\n"
        "#endif\n");

    gen_buf *b = gen_out_file(o, "openapi.c");
    gen_buf_header(b, "c", source);
    gen_buf_put(b,
        "/*\n"
        " * openapi.c — openapi.json, byte for byte, as a C string.\n"
        " */\n"
        "#include \"openapi.h\"\n"
        "\n"
        "const char cb_openapi_json[] =\n    ");
    gen_put_c_literal(b, json, "    ", 0);
    gen_buf_put(b, ";\n\nconst unsigned long cb_openapi_json_len = sizeof cb_openapi_json - 1;\n");
}

int gen_emit_openapi(const gen_schema *s, const char *source, gen_outset *o)
{
    int errors = 0;
    json_t *root = document(s, source, &errors);
    if (errors) {
        json_decref(root);
        return errors;
    }
    char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    if (!text)
        must(NULL);
    gen_buf doc = {0};
    gen_buf_put(&doc, text);
    gen_buf_put(&doc, "\n");
    free(text);
    gen_buf_put(gen_out_file(o, "openapi.json"), gen_cstr(&doc));
    emit_openapi_c(gen_cstr(&doc), source, o);
    gen_buf_free(&doc);
    return 0;
}
