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
    CHECK(f && f->type == GT_ENUM && f->n_enum_values == 3 && strcmp(f->enum_values[2], "bug") == 0);
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

int main(void)
{
    test_fixture();
    test_app();
    test_route_options();
    return check_done("test_parser");
}
