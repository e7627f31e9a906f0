/*
 * test_reply.c — src/http/reply.c without a server: request bodies read as
 * JSON (415 for anything but application/json, 413 over the limit, 400
 * with the parser's position for malformed JSON, duplicate keys and
 * non-objects, {} for an empty body) and the problem+json answers that
 * cb_reply_rc maps every cb_rc to.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "http/api.h"
#include "server/config.h"

static cb_config cfg = {.max_body_bytes = 64};

typedef struct exchange {
    struct _u_request req;
    struct _u_response resp;
    cb_ctx ctx;
} exchange;

static void start(exchange *x, const char *content_type, const char *body)
{
    memset(x, 0, sizeof *x);
    ulfius_init_request(&x->req);
    ulfius_init_response(&x->resp);
    if (content_type)
        u_map_put(x->req.map_header, "Content-Type", content_type);
    if (body) {
        x->req.binary_body = strdup(body);
        x->req.binary_body_length = strlen(body);
    }
    x->ctx.req = &x->req;
    x->ctx.resp = &x->resp;
}

static void finish(exchange *x)
{
    ulfius_clean_request(&x->req);
    ulfius_clean_response(&x->resp);
}

/* The answer's body as JSON (new reference), or NULL. */
static json_t *answer(exchange *x)
{
    return json_loadb(x->resp.binary_body, x->resp.binary_body_length, 0, NULL);
}

/* Reads a body that must be refused with `status`; checks the problem. */
static void expect_refused(const char *content_type, const char *body, long status,
                           const char *detail_part)
{
    exchange x;
    start(&x, content_type, body);
    CHECK(cb_request_json_or_reply(&x.ctx) == NULL);
    CHECK(x.resp.status == status);
    CHECK_STR(u_map_get(x.resp.map_header, "Content-Type"), "application/problem+json");
    CHECK_STR(u_map_get(x.resp.map_header, "Cache-Control"), "no-store");
    json_t *p = answer(&x);
    CHECK(p != NULL);
    CHECK(json_integer_value(json_object_get(p, "status")) == status);
    CHECK_STR(json_string_value(json_object_get(p, "type")), "about:blank");
    const char *detail = json_string_value(json_object_get(p, "detail"));
    CHECK(detail && strstr(detail, detail_part));
    if (!(detail && strstr(detail, detail_part)))
        fprintf(stderr, "  detail was: %s\n", detail ? detail : "(none)");
    json_decref(p);
    finish(&x);
}

static void test_bodies(void)
{
    exchange x;
    start(&x, "application/json", "{\"a\":1}");
    json_t *j = cb_request_json_or_reply(&x.ctx);
    CHECK(json_is_object(j) && json_integer_value(json_object_get(j, "a")) == 1);
    json_decref(j);
    finish(&x);

    start(&x, "Application/JSON; charset=utf-8", "{}");
    j = cb_request_json_or_reply(&x.ctx);
    CHECK(json_is_object(j));
    json_decref(j);
    finish(&x);

    start(&x, NULL, NULL);
    j = cb_request_json_or_reply(&x.ctx);
    CHECK(json_is_object(j) && json_object_size(j) == 0);
    json_decref(j);
    finish(&x);

    expect_refused("text/plain", "{}", 415, "application/json");
    expect_refused("application/x-www-form-urlencoded", "a=1", 415, "application/json");
    expect_refused("application/jsonp", "{}", 415, "application/json");
    expect_refused(NULL, "{}", 415, "application/json");
    expect_refused("application/json", "{\"a\": 1,}", 400, "line 1, column");
    expect_refused("application/json", "{\"a\":1,\"a\":2}", 400, "duplicate");
    expect_refused("application/json", "[1]", 400, "object");
    expect_refused("application/json", "\"x\"", 400, "");
    expect_refused("application/json", "{\"a\":\"\xff\"}", 400, "byte 0xff");
    expect_refused("application/json",
                   "{\"a\":\"0123456789012345678901234567890123456789012345678901234567\"}", 413,
                   "64 bytes");
}

static void expect_rc(cb_rc rc, long status, const char *error_field)
{
    exchange x;
    start(&x, NULL, NULL);
    cb_errors errs = {0};
    if (error_field)
        cb_errors_add(&errs, error_field, "is wrong");
    CHECK(cb_reply_rc(&x.ctx, rc, &errs) == U_CALLBACK_COMPLETE);
    CHECK(errs.fields == NULL);     /* taken by the answer */
    CHECK(x.resp.status == status);
    json_t *p = answer(&x);
    CHECK(json_integer_value(json_object_get(p, "status")) == status);
    CHECK(json_is_string(json_object_get(p, "title")));
    json_t *e = json_object_get(json_object_get(p, "errors"), error_field ? error_field : "-");
    CHECK(error_field ? json_is_string(e) : e == NULL);
    json_decref(p);
    finish(&x);
}

static void test_rc(void)
{
    expect_rc(CB_NOTFOUND, 404, NULL);
    expect_rc(CB_INVALID, 400, "title");
    expect_rc(CB_CONFLICT, 409, "email");
    expect_rc(CB_CONSTRAINT, 409, NULL);
    expect_rc(CB_TOOBIG, 413, NULL);
    expect_rc(CB_BUSY, 503, NULL);
    expect_rc(CB_ERROR, 500, NULL);

    exchange x;
    start(&x, NULL, NULL);
    cb_reply_problem(&x.ctx, 404, "gone fishing", NULL);
    json_t *p = answer(&x);
    CHECK_STR(json_string_value(json_object_get(p, "title")), "Not Found");
    CHECK_STR(json_string_value(json_object_get(p, "detail")), "gone fishing");
    CHECK(json_object_get(p, "errors") == NULL);
    json_decref(p);
    finish(&x);
}

static void test_json_replies(void)
{
    exchange x;
    start(&x, NULL, NULL);
    cb_reply_json(&x.ctx, 201, json_pack("{s:i}", "id", 7));
    CHECK(x.resp.status == 201);
    CHECK_STR(u_map_get(x.resp.map_header, "Content-Type"), "application/json");
    json_t *j = answer(&x);
    CHECK(json_integer_value(json_object_get(j, "id")) == 7);
    json_decref(j);
    finish(&x);

    start(&x, NULL, NULL);
    char *text = strdup("{\"items\":[]}");
    cb_reply_json_text_take(&x.ctx, 200, text, strlen(text));
    CHECK(x.resp.status == 200);
    CHECK(x.resp.binary_body_length == 12 && memcmp(x.resp.binary_body, "{\"items\":[]}", 12) == 0);
    finish(&x);

    start(&x, NULL, NULL);
    cb_reply_empty(&x.ctx, 204);
    CHECK(x.resp.status == 204 && x.resp.binary_body_length == 0);
    finish(&x);
}

int main(void)
{
    cb_cfg = &cfg;
    test_bodies();
    test_rc();
    test_json_replies();
    return check_done("test_reply");
}
