/*
 * test_json.c — rows to and from JSON through a hand-written descriptor of
 * tests/fixtures/notes.schema's `note` (every field type), plus the RFC 3339
 * helpers: formatting, parsing, offsets and invalid dates.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "db/db.h"
#include "db/migrate.h"

#include "note_fixture.h"

#define BIT(f) (UINT64_C(1) << (f))
/* accept create (title, body, priority, done, kind, contact, extra, due_at) */
static const uint64_t ACCEPT = BIT(F_TITLE) | BIT(F_BODY) | BIT(F_PRIORITY) | BIT(F_DONE) |
                               BIT(F_KIND) | BIT(F_CONTACT) | BIT(F_EXTRA) | BIT(F_DUE_AT);

/* Decodes `text` (a JSON object) with the create rules; the errors stay in
   *errs for the caller to inspect. */
static cb_rc decode(const char *text, bool require, note *n, cb_errors *errs)
{
    json_error_t jerr;
    cb_row_init(&note_model, n);
    /* JSON_ALLOW_NUL: the runtime must hold even if the HTTP layer lets
       "\u0000" through. */
    json_t *obj = json_loads(text, JSON_ALLOW_NUL, &jerr);
    if (!obj) {
        fprintf(stderr, "bad test JSON %s: %s\n", text, jerr.text);
        return CB_ERROR;
    }
    cb_rc rc = cb_row_from_json(&note_model, obj, ACCEPT, require, n, errs);
    json_decref(obj);
    return rc;
}

static const char *err_of(const cb_errors *errs, const char *field)
{
    return errs->fields ? json_string_value(json_object_get(errs->fields, field)) : NULL;
}

/* The message one bad field value gets (NULL when it is accepted). */
static char *field_error(const char *field, const char *value_json)
{
    static char msg[256];
    char text[1024];
    snprintf(text, sizeof text, "{\"%s\": %s}", field, value_json);
    cb_errors errs = {0};
    note n;
    cb_rc rc = decode(text, false, &n, &errs);
    const char *m = err_of(&errs, field);
    char *out = NULL;
    if (rc != CB_OK && m) {
        snprintf(msg, sizeof msg, "%s", m);
        out = msg;
    }
    cb_errors_clear(&errs);
    cb_row_clear(&note_model, &n);
    return out;
}

static void test_valid_create(void)
{
    cb_errors errs = {0};
    note n;
    cb_rc rc = decode("{\"title\": \"  Hello \", \"priority\": 7, \"done\": true, "
                      "\"kind\": \"bug\", \"contact\": \"  me@example.com \", "
                      "\"extra\": {\"b\": [1, 2.5, null], \"a\": \"x\"}, "
                      "\"due_at\": \"2026-12-04T19:00:25.5+01:00\"}", true, &n, &errs);
    CHECK(rc == CB_OK);
    CHECK(errs.fields == NULL);
    CHECK_STR(n.title, "  Hello ");             /* text is kept as typed */
    CHECK(n.priority == 7 && n.done == 1);
    CHECK_STR(n.kind, "bug");
    CHECK_STR(n.contact, "me@example.com");     /* email is trimmed */
    CHECK_STR(n.extra, "{\"b\":[1,2.5,null],\"a\":\"x\"}");
    char buf[32];
    cb_format_time(n.due_at, buf);
    CHECK_STR(buf, "2026-12-04T18:00:25.500Z");
    CHECK(n.row.set == (ACCEPT & ~BIT(F_BODY)));
    CHECK(n.row.null == 0);
    cb_row_clear(&note_model, &n);

    /* Nulls on optional fields are set-and-null. */
    rc = decode("{\"title\": \"t\", \"contact\": null, \"extra\": null, \"due_at\": null}", true,
                &n, &errs);
    CHECK(rc == CB_OK);
    CHECK(n.row.null == (BIT(F_CONTACT) | BIT(F_EXTRA) | BIT(F_DUE_AT)));
    CHECK(n.contact == NULL && n.extra == NULL && n.due_at == 0);
    cb_row_clear(&note_model, &n);
    cb_errors_clear(&errs);
}

static void test_all_errors_collected(void)
{
    cb_errors errs = {0};
    note n;
    cb_rc rc = decode("{\"id\": 5, \"secret\": \"s\", \"created_at\": \"2026-01-01T00:00:00Z\", "
                      "\"bogus\": 1, \"priority\": 11, \"done\": 1, \"kind\": \"other\", "
                      "\"contact\": \"nope\", \"due_at\": \"yesterday\", \"body\": null}",
                      true, &n, &errs);
    CHECK(rc == CB_INVALID);
    CHECK_STR(err_of(&errs, "id"), "unknown field");
    CHECK_STR(err_of(&errs, "secret"), "unknown field");        /* hidden */
    CHECK_STR(err_of(&errs, "created_at"), "unknown field");    /* not accepted */
    CHECK_STR(err_of(&errs, "bogus"), "unknown field");
    CHECK_STR(err_of(&errs, "priority"), "must be between 0 and 10");
    CHECK_STR(err_of(&errs, "done"), "must be true or false");
    CHECK_STR(err_of(&errs, "kind"), "must be one of: idea, task, bug");
    CHECK_STR(err_of(&errs, "contact"), "must be a valid email address");
    CHECK_STR(err_of(&errs, "due_at"), "must be an RFC 3339 timestamp");
    CHECK_STR(err_of(&errs, "body"), "must not be null");
    CHECK_STR(err_of(&errs, "title"), "is required");
    CHECK(json_object_size(errs.fields) == 11);
    cb_row_clear(&note_model, &n);
    cb_errors_clear(&errs);

    /* Partial update: absent fields are fine and stay unset. */
    rc = decode("{\"priority\": 0}", false, &n, &errs);
    CHECK(rc == CB_OK);
    CHECK(n.row.set == BIT(F_PRIORITY));
    cb_row_clear(&note_model, &n);
    rc = decode("{}", false, &n, &errs);
    CHECK(rc == CB_OK && n.row.set == 0);
    cb_row_clear(&note_model, &n);

    /* A body that is not an object. */
    json_t *arr = json_array();
    rc = cb_row_from_json(&note_model, arr, ACCEPT, false, &n, &errs);
    CHECK(rc == CB_INVALID && errs.fields);
    json_decref(arr);
    cb_errors_clear(&errs);
}

static void test_field_rules(void)
{
    /* Strings */
    CHECK_STR(field_error("title", "5"), "must be a string");
    CHECK_STR(field_error("title", "\"\""), "must be at least 1 character");
    CHECK_STR(field_error("title", "\"a\\u0000b\""), "must not contain NUL characters");
    CHECK_STR(field_error("body", "\"\\u0000\""), "must not contain NUL characters");
    CHECK(field_error("title", "\"x\"") == NULL);

    /* Lengths in code points: 100 emoji (400 bytes) fit text(100), 101 do not. */
    char big[2048], json[2100];
    big[0] = '\0';
    for (int i = 0; i < 100; i++)
        strcat(big, "\xF0\x9F\x98\x80");
    snprintf(json, sizeof json, "\"%s\"", big);
    CHECK(field_error("title", json) == NULL);
    strcat(big, "\xF0\x9F\x98\x80");
    snprintf(json, sizeof json, "\"%s\"", big);
    CHECK_STR(field_error("title", json), "must be at most 100 characters");
    /* 50 e + combining accent = 100 code points: fits; one more does not. */
    big[0] = '\0';
    for (int i = 0; i < 50; i++)
        strcat(big, "e\xCC\x81");
    snprintf(json, sizeof json, "\"%s\"", big);
    CHECK(field_error("title", json) == NULL);
    strcat(big, "e");
    snprintf(json, sizeof json, "\"%s\"", big);
    CHECK_STR(field_error("title", json), "must be at most 100 characters");

    /* Integers */
    CHECK(field_error("priority", "0") == NULL);
    CHECK(field_error("priority", "10") == NULL);
    CHECK_STR(field_error("priority", "-1"), "must be between 0 and 10");
    CHECK_STR(field_error("priority", "11"), "must be between 0 and 10");
    CHECK_STR(field_error("priority", "5.0"), "must be an integer");
    CHECK_STR(field_error("priority", "5.5"), "must be an integer");
    CHECK_STR(field_error("priority", "true"), "must be an integer");
    CHECK_STR(field_error("priority", "\"5\""), "must be an integer");
    CHECK_STR(field_error("priority", "9223372036854775807"), "must be between 0 and 10");
    CHECK_STR(field_error("priority", "-9223372036854775808"), "must be between 0 and 10");

    /* Booleans, enums */
    CHECK(field_error("done", "false") == NULL);
    CHECK_STR(field_error("done", "0"), "must be true or false");
    CHECK_STR(field_error("done", "\"true\""), "must be true or false");
    CHECK(field_error("kind", "\"task\"") == NULL);
    CHECK_STR(field_error("kind", "\"Task\""), "must be one of: idea, task, bug");
    CHECK_STR(field_error("kind", "\"task\\u0000\""), "must be one of: idea, task, bug");
    CHECK_STR(field_error("kind", "1"), "must be one of: idea, task, bug");

    /* Emails */
    CHECK(field_error("contact", "\"a@b.co\"") == NULL);
    CHECK(field_error("contact", "\"\\u00fcser@b\\u00fccher.de\"") == NULL);
    CHECK_STR(field_error("contact", "\"a b@c.de\""), "must be a valid email address");
    CHECK_STR(field_error("contact", "\"a@b\""), "must be a valid email address");
    CHECK_STR(field_error("contact", "\"a@b.co\\u0000\""), "must not contain NUL characters");
    CHECK_STR(field_error("contact", "[]"), "must be a string");

    /* Timestamps */
    CHECK(field_error("due_at", "\"2026-02-28T23:59:59Z\"") == NULL);
    CHECK_STR(field_error("due_at", "\"2026-02-29T00:00:00Z\""), "must be an RFC 3339 timestamp");
    CHECK_STR(field_error("due_at", "1764871225000"), "must be an RFC 3339 timestamp");

    /* JSON: any value, kept compact; bounded */
    CHECK(field_error("extra", "[1, {\"a\": true}]") == NULL);
    CHECK(field_error("extra", "\"just a string\"") == NULL);
    char *huge = malloc(70000);
    memset(huge, 0, 70000);
    strcpy(huge, "{\"extra\": \"");
    memset(huge + strlen(huge), 'x', 66000);
    strcat(huge, "\"}");
    cb_errors errs = {0};
    note n;
    CHECK(decode(huge, false, &n, &errs) == CB_INVALID);
    CHECK_STR(err_of(&errs, "extra"), "must be at most 65536 bytes of JSON");
    cb_errors_clear(&errs);
    cb_row_clear(&note_model, &n);
    free(huge);
}

static void test_to_json(void)
{
    note n;
    cb_row_init(&note_model, &n);
    cb_row_set_int(&note_model, &n, F_ID, 42);
    cb_row_set_text(&note_model, &n, F_TITLE, "caf\xC3\xA9 \xF0\x9F\x98\x80");
    cb_row_set_int(&note_model, &n, F_PRIORITY, 3);
    cb_row_set_int(&note_model, &n, F_DONE, 0);
    cb_row_set_null(&note_model, &n, F_CONTACT);
    cb_row_set_text(&note_model, &n, F_EXTRA, "{\"k\":[1,2]}");
    cb_row_set_text(&note_model, &n, F_SECRET, "never shown");
    cb_row_set_int(&note_model, &n, F_CREATED_AT, 1764871225123);
    json_t *j = cb_row_to_json(&note_model, &n);
    char *text = json_dumps(j, JSON_COMPACT);
    CHECK_STR(text, "{\"id\":42,\"title\":\"caf\xC3\xA9 \xF0\x9F\x98\x80\",\"priority\":3,"
                    "\"done\":false,\"contact\":null,\"extra\":{\"k\":[1,2]},"
                    "\"created_at\":\"2025-12-04T18:00:25.123Z\"}");
    free(text);

    /* Round trip: what to_json writes, from_json accepts unchanged. */
    json_object_del(j, "id");
    json_object_del(j, "created_at");
    note back;
    cb_row_init(&note_model, &back);
    cb_errors errs = {0};
    CHECK(cb_row_from_json(&note_model, j, ACCEPT, true, &back, &errs) == CB_OK);
    CHECK_STR(back.title, n.title);
    CHECK_STR(back.extra, n.extra);
    CHECK(back.priority == 3 && back.done == 0 && (back.row.null & BIT(F_CONTACT)));
    json_decref(j);
    cb_errors_clear(&errs);
    cb_row_clear(&note_model, &back);

    /* Text that is not UTF-8 (written behind the runtime's back) is repaired. */
    cb_row_set_text(&note_model, &n, F_TITLE, "bad \xFF byte");
    j = cb_row_to_json(&note_model, &n);
    CHECK_STR(json_string_value(json_object_get(j, "title")), "bad \xEF\xBF\xBD byte");
    json_decref(j);
    cb_row_clear(&note_model, &n);
    CHECK(n.title == NULL && n.row.set == 0);
}

static void test_errors(void)
{
    cb_errors errs = {0};
    cb_errors_add(&errs, "a", "first %d", 1);
    cb_errors_add(&errs, "a", "second");
    cb_errors_add(&errs, "b", "other");
    CHECK_STR(err_of(&errs, "a"), "first 1");
    CHECK(json_object_size(errs.fields) == 2);
    cb_errors_clear(&errs);
    CHECK(errs.fields == NULL);
}

static bool parses(const char *s, int64_t want)
{
    int64_t ms = -1;
    return cb_parse_time(s, &ms) && ms == want;
}

static bool rejects(const char *s)
{
    int64_t ms;
    return !cb_parse_time(s, &ms);
}

static void test_time(void)
{
    char buf[32];
    cb_format_time(0, buf);
    CHECK_STR(buf, "1970-01-01T00:00:00.000Z");
    cb_format_time(-1, buf);
    CHECK_STR(buf, "1969-12-31T23:59:59.999Z");
    cb_format_time(951782400000, buf);
    CHECK_STR(buf, "2000-02-29T00:00:00.000Z");
    cb_format_time(INT64_MAX, buf);
    CHECK_STR(buf, "9999-12-31T23:59:59.999Z");
    int64_t now = cb_now_ms();
    CHECK(now > 1700000000000);     /* after 2023 */
    cb_format_time(now, buf);
    int64_t back;
    CHECK(cb_parse_time(buf, &back) && back == now);

    CHECK(parses("1970-01-01T00:00:00Z", 0));
    CHECK(parses("1970-01-01T00:00:00.001Z", 1));
    CHECK(parses("1970-01-01T00:00:00.1Z", 100));
    CHECK(parses("1970-01-01T00:00:00.123456789Z", 123));
    CHECK(parses("1970-01-01t00:00:00z", 0));
    CHECK(parses("1970-01-01T01:00:00+01:00", 0));
    CHECK(parses("1969-12-31T19:00:00-05:00", 0));
    CHECK(parses("2000-02-29T12:00:00Z", 951825600000));
    CHECK(parses("1969-12-31T23:59:59.999Z", -1));
    CHECK(rejects(""));
    CHECK(rejects("2026-12-04"));
    CHECK(rejects("2026-12-04T18:00:25"));            /* no offset */
    CHECK(rejects("2026-12-04 18:00:25Z"));
    CHECK(rejects("2026-13-01T00:00:00Z"));
    CHECK(rejects("2026-00-01T00:00:00Z"));
    CHECK(rejects("2026-04-31T00:00:00Z"));
    CHECK(rejects("2100-02-29T00:00:00Z"));           /* not a leap year */
    CHECK(rejects("2026-12-04T24:00:00Z"));
    CHECK(rejects("2026-12-04T23:60:00Z"));
    CHECK(rejects("2026-12-04T23:59:60Z"));
    CHECK(rejects("2026-12-04T18:00:25.Z"));
    CHECK(rejects("2026-12-04T18:00:25+0100"));
    CHECK(rejects("2026-12-04T18:00:25+24:00"));
    CHECK(rejects("2026-12-04T18:00:25Z "));
    CHECK(rejects("26-12-04T18:00:25Z"));
    CHECK(rejects("2026-1-04T18:00:25Z"));
}

int main(void)
{
    test_valid_create();
    test_all_errors_collected();
    test_field_rules();
    test_to_json();
    test_errors();
    test_time();
    return check_done("test_json");
}
