/*
 * test_parser.c — both real schemas parse and check cleanly, and the AST
 * holds what the text says.
 */
#include <stdlib.h>

#include "check.h"
#include "parser.h"

static int parse_and_check(const char *path, gen_schema *s)
{
    int errors = gen_parse_file(path, s, stderr);
    return errors ? errors : gen_check(s, stderr);
}

static void test_fixture(void)
{
    gen_schema s;
    CHECK(parse_and_check("tests/fixtures/notes.schema", &s) == 0);
    gen_model *note = gen_find_model(&s, "note");
    CHECK(note != NULL && strcmp(note->table, "notes") == 0);
    gen_field *f = note ? gen_find_field(note, "priority") : NULL;
    CHECK(f && f->type == GT_INT && f->has_min && f->min == 0 && f->has_max && f->max == 10);
    CHECK(f && f->def.kind == GD_INT && f->def.i == 5);
    f = note ? gen_find_field(note, "kind") : NULL;
    CHECK(f && f->type == GT_ENUM && f->n_enum_values == 3 &&
          strcmp(f->enum_values[2], "bug") == 0);
    CHECK(f && f->def.kind == GD_IDENT && strcmp(f->def.s, "idea") == 0);
    f = note ? gen_find_field(note, "secret") : NULL;
    CHECK(f && f->hidden && f->def.kind == GD_STRING && strcmp(f->def.s, "hidden") == 0);
    f = note ? gen_find_field(note, "updated_at") : NULL;
    CHECK(f && f->type == GT_TIMESTAMP && f->on_update_now && f->def.kind == GD_NOW);
    CHECK(note && note->n_search_fields == 2 && note->n_indexes == 2);
    CHECK(note && note->n_indexes == 2 && strcmp(note->indexes[1].fields[0], "priority") == 0 &&
          note->indexes[1].n_fields == 2 && !note->indexes[1].unique);
    gen_model *tag = gen_find_model(&s, "tag");
    f = tag ? gen_find_field(tag, "note_id") : NULL;
    CHECK(f && f->type == GT_REF && f->ref == note && f->on_delete == GOD_CASCADE);
    CHECK(tag && tag->n_indexes == 1 && tag->indexes[0].unique);

    gen_resource *r = gen_find_resource(&s, "notes");
    CHECK(r && r->model == note && r->auth == GA_PUBLIC);
    CHECK(r && r->actions == (GACT_LIST | GACT_GET | GACT_CREATE | GACT_UPDATE | GACT_DELETE));
    CHECK(r && r->n_accept[2] == 8 && r->n_accept[3] == 8);
    CHECK(r && r->n_sort == 2 && r->sort[0].desc && strcmp(r->sort[1].field, "created_at") == 0);
    CHECK(r && r->page_default == 3 && r->page_max == 10);
    CHECK(r && r->n_hooks == 1 && r->hooks[0].event == GH_BEFORE_CREATE &&
          strcmp(r->hooks[0].function, "note_before_create") == 0);
    gen_resource *tags = gen_find_resource(&s, "tags");
    CHECK(tags && tags->parent == r && strcmp(tags->parent_field, "note_id") == 0);
    CHECK(tags && tags->auth == GA_PUBLIC && tags->page_default == 50 && tags->page_max == 200);
    gen_resource *h = gen_find_resource(&s, "health");
    CHECK(h && !h->model && h->n_routes == 1 && strcmp(h->routes[0].method, "GET") == 0);
    CHECK(h && h->routes[0].subpath[0] == '\0' && h->routes[0].auth == GA_PUBLIC);
    gen_schema_free(&s);
}

static void test_app(void)
{
    gen_schema s;
    CHECK(parse_and_check("schema/chatbot.schema", &s) == 0);
    gen_model *user = gen_find_model(&s, "user");
    gen_field *roles = user ? gen_find_field(user, "roles") : NULL;
    CHECK(roles && roles->type == GT_MANY && strcmp(roles->through, "user_roles") == 0 &&
          roles->ref == gen_find_model(&s, "role"));
    gen_model *msg = gen_find_model(&s, "message");
    CHECK(msg && msg->n_search_fields == 1 && strcmp(msg->search_scope, "user_id") == 0);
    gen_resource *conv = gen_find_resource(&s, "conversations");
    CHECK(conv && strcmp(conv->owner, "user_id") == 0 && conv->auth == GA_USER);
    gen_resource *admin = gen_find_resource(&s, "admin_users");
    CHECK(admin && admin->auth == GA_ADMIN);
    CHECK(admin && admin->n_routes == 1 && strcmp(admin->routes[0].subpath, "/:id") == 0 &&
          admin->routes[0].auth == GA_ADMIN && admin->routes[0].n_body_fields == 1);

    gen_resource *auth = gen_find_resource(&s, "auth");
    CHECK(auth && !auth->model && auth->auth == GA_PUBLIC && auth->n_routes == 5);
    if (auth && auth->n_routes == 5) {
        gen_route *reg = &auth->routes[0], *logout = &auth->routes[2];
        CHECK_STR(reg->method, "POST");
        CHECK_STR(reg->subpath, "/register");
        CHECK_STR(reg->handler, "auth_register");
        CHECK(reg->status == 201 && reg->auth == GA_PUBLIC && !reg->auth_given);
        CHECK_STR(reg->body_model, "user");
        CHECK(reg->n_body_fields == 1 && strcmp(reg->body_fields[0], "email") == 0);
        CHECK_STR(reg->returns_model, "user");
        CHECK(logout->auth == GA_USER && logout->auth_given && logout->status == 204);
        CHECK_STR(logout->summary, "End this session");
    }

    gen_resource *msgs = gen_find_resource(&s, "messages");
    CHECK(msgs && msgs->parent == conv && msgs->actions == GACT_LIST);
    CHECK(msgs && msgs->n_sort == 1 && !msgs->sort[0].desc);
    CHECK(conv && conv->n_sort == 2 && conv->sort[0].desc && conv->sort[1].desc &&
          strcmp(conv->sort[0].field, "pinned") == 0);
    CHECK(conv && conv->n_accept[2] == 3 && conv->n_accept[3] == 4 &&
          strcmp(conv->accept[3][3], "pinned") == 0);

    gen_model *role = gen_find_model(&s, "role");
    CHECK(role && strcmp(role->table, "roles") == 0 && role->n_fields == 3);
    gen_field *f = user ? gen_find_field(user, "email") : NULL;
    CHECK(f && f->type == GT_EMAIL && f->unique && f->text_max == 254);
    gen_model *doc = gen_find_model(&s, "document");
    f = doc ? gen_find_field(doc, "created_by") : NULL;
    CHECK(f && f->optional && f->hidden && f->on_delete == GOD_SET_NULL && f->ref == user);
    gen_model *msg_m = gen_find_model(&s, "message");
    f = msg_m ? gen_find_field(msg_m, "status") : NULL;
    CHECK(f && f->type == GT_ENUM && f->n_enum_values == 4 && f->def.kind == GD_IDENT);
    CHECK(f && f->pos.line > 0 && f->type_pos.col > f->pos.col);
    gen_schema_free(&s);
}

static void test_route_options(void)
{
    const char *src =
        "model m {\n id id\n name text(10)\n}\n"
        "resource r {\n path \"/api/r\"\n auth admin\n"
        " route POST \"/go\" do_go auth(user) summary(\"Go \\\"now\\\"\") body(m: name) "
        "returns(m) status(201)\n"
        " route GET \"\" do_list\n}\n";
    gen_schema s;
    CHECK(gen_parse("mem", src, strlen(src), &s, stderr) == 0 && gen_check(&s, stderr) == 0);
    gen_resource *r = &s.resources[0];
    CHECK(r->n_routes == 2);
    gen_route *go = &r->routes[0];
    CHECK(go->auth == GA_USER && go->auth_given && go->status == 201);
    CHECK_STR(go->summary, "Go \"now\"");
    CHECK(go->n_body_fields == 1 && strcmp(go->body_model, "m") == 0);
    CHECK_STR(go->returns_model, "m");
    CHECK(r->routes[1].auth == GA_ADMIN && !r->routes[1].auth_given && r->routes[1].status == 200);
    gen_schema_free(&s);
}

/* A model without a table statement keeps its name as the table; a
   resource without auth/page gets user and page(50, 200). */
static void test_defaults(void)
{
    const char *src = "model thing renamed_from(old_things) { id id label text(5) "
                      "renamed_from(name) }\n"
                      "resource things { path \"/api/things\" model thing actions list }";
    gen_schema s;
    CHECK(gen_parse("mem", src, strlen(src), &s, stderr) == 0 && gen_check(&s, stderr) == 0);
    CHECK(s.n_models == 1 && strcmp(s.models[0].table, "thing") == 0);
    CHECK_STR(s.models[0].renamed_from, "old_things");
    CHECK(s.n_models == 1 && s.models[0].n_fields == 2);
    CHECK_STR(s.models[0].fields[1].renamed_from, "name");
    CHECK(s.n_resources == 1 && s.resources[0].auth == GA_USER);
    CHECK(s.resources[0].page_default == 50 && s.resources[0].page_max == 200);
    CHECK(s.resources[0].model == &s.models[0]);
    gen_schema_free(&s);
}

/* The checker reports every mistake, not just the first. */
static void test_all_errors_reported(void)
{
    const char *src = "model a { id id x text(0) y int max(1) min(2) }\n"
                      "model a { id id }\n"
                      "resource r { path \"/nope\" model ghost }\n";
    gen_schema s;
    char *text = NULL;
    size_t len = 0;
    FILE *diag = open_memstream(&text, &len);
    CHECK(gen_parse("mem", src, strlen(src), &s, diag) == 0);
    int errors = gen_check(&s, diag);
    fclose(diag);
    CHECK(errors == 5);
    CHECK(strstr(text, "mem:1:19: text length") != NULL);
    CHECK(strstr(text, "mem:1:27: min(2) is greater than max(1)") != NULL);
    CHECK(strstr(text, "mem:2:7: duplicate model 'a'") != NULL);
    CHECK(strstr(text, "mem:3:19: path \"/nope\"") != NULL);
    CHECK(strstr(text, "mem:3:33: resource 'r' names unknown model 'ghost'") != NULL);
    free(text);
    gen_schema_free(&s);
}

int main(void)
{
    test_defaults();
    test_all_errors_reported();
    test_fixture();
    test_app();
    test_route_options();
    return check_done("test_parser");
}
