/*
 * test_json_write.c — cb_row_write_json writes exactly the bytes that
 * json_dumps(cb_row_to_json(row), JSON_COMPACT) does, for rows with every
 * field type, NULLs, escapes, control characters, non-ASCII text, invalid
 * UTF-8 stored behind the API's back, and unset fields.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "db/db.h"
#include "db/migrate.h"

#include "note_fixture.h"

static void same_as_jansson(const note *n)
{
    json_t *tree = cb_row_to_json(&note_model, n);
    char *want = json_dumps(tree, JSON_COMPACT);
    json_decref(tree);
    cb_buf b = {0};
    cb_row_write_json(&b, &note_model, n);
    CHECK_STR(b.data, want);
    free(want);
    cb_buf_free(&b);
}

static void set_all(note *n, const char *title, const char *extra)
{
    cb_row_init(&note_model, n);
    cb_row_set_int(&note_model, n, F_ID, 42);
    cb_row_set_text(&note_model, n, F_TITLE, title);
    cb_row_set_text(&note_model, n, F_BODY, "line one\nline \"two\"\t\\ end\x01\x1f\x7f");
    cb_row_set_int(&note_model, n, F_PRIORITY, -9007199254740993LL);
    cb_row_set_int(&note_model, n, F_DONE, 1);
    cb_row_set_text(&note_model, n, F_KIND, "task");
    cb_row_set_null(&note_model, n, F_CONTACT);
    if (extra)
        cb_row_set_text(&note_model, n, F_EXTRA, extra);
    else
        cb_row_set_null(&note_model, n, F_EXTRA);
    cb_row_set_int(&note_model, n, F_DUE_AT, 1764872425123LL);
    cb_row_set_text(&note_model, n, F_SECRET, "never shown");
    cb_row_set_int(&note_model, n, F_CREATED_AT, 0);
    cb_row_set_int(&note_model, n, F_UPDATED_AT, -1);
}

int main(void)
{
    note n;
    set_all(&n, "plain", "{\"a\":[1,2.5,\"x\"],\"b\":null}");
    same_as_jansson(&n);
    cb_row_clear(&note_model, &n);
    set_all(&n, "caf\xc3\xa9 \xf0\x9f\x98\x80 \xe2\x80\xa8 </script>", NULL);
    same_as_jansson(&n);
    cb_row_clear(&note_model, &n);
    set_all(&n, "bad \xff\xfe utf-8 \xc3", "\"just a string\"");
    same_as_jansson(&n);
    cb_row_clear(&note_model, &n);

    cb_row_init(&note_model, &n);                 /* nothing set: {} */
    same_as_jansson(&n);
    cb_row_set_int(&note_model, &n, F_ID, 1);     /* one field */
    same_as_jansson(&n);
    cb_row_clear(&note_model, &n);

    cb_buf b = {0};
    cb_json_write_string(&b, "a\0b", 3);
    CHECK_STR(b.data, "\"a\\u0000b\"");
    cb_buf_free(&b);
    return check_done("test_json_write");
}
