/*
 * list.c — keyset pagination (cb_list_page) and its opaque cursors.
 *
 * A cursor is base64url (no padding) of a compact JSON array holding the
 * last row's sort key values in sort order: ints as numbers, text as
 * strings. Clients can read it but gain nothing by forging one: it only
 * selects a starting point inside the rows the query's scope already
 * allows, and it is decoded strictly, so anything we did not produce is
 * CB_INVALID rather than an SQL error.
 */
#include "db/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "util/mem.h"

/* Longer than any cursor we produce for the schema's sort keys. */
#define CB_CURSOR_MAX 4096

static bool is_text_type(cb_type t)
{
    return t == CB_T_TEXT || t == CB_T_EMAIL || t == CB_T_ENUM || t == CB_T_JSON;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char *b64url_encode(const unsigned char *in, size_t n)
{
    char *out = cb_xmalloc((n + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        if (i + 1 < n)
            out[o++] = b64url[v >> 6 & 63];
        if (i + 2 < n)
            out[o++] = b64url[v & 63];
    }
    out[o] = '\0';
    return out;
}

static int b64url_value(char c)
{
    const char *p = c ? strchr(b64url, c) : NULL;
    return p ? (int)(p - b64url) : -1;
}

/* Strict: alphabet only, no padding, no dangling bits. NULL when invalid;
   *n receives the decoded length. */
static unsigned char *b64url_decode(const char *s, size_t *n)
{
    size_t len = strlen(s);
    if (len % 4 == 1)
        return NULL;
    unsigned char *out = cb_xmalloc(len / 4 * 3 + 3);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64url_value(s[i]);
        if (v < 0) {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) {     /* the unused low bits of the last character */
        free(out);
        return NULL;
    }
    *n = o;
    return out;
}

static char *cursor_encode(const cb_model *m, const cb_list_query *q, const void *row)
{
    const cb_row *hdr = row;
    json_t *arr = json_array();
    for (unsigned k = 0; k < q->n_sort; k++) {
        unsigned f = (unsigned)q->sort[k].field;
        json_t *v;
        if (hdr->null & (UINT64_C(1) << f))
            v = json_null();
        else if (is_text_type(m->fields[f].type))
            v = json_string(cb_row_text(m, row, f));    /* NULL only if not UTF-8 */
        else
            v = json_integer(cb_row_int(m, row, f));
        json_array_append_new(arr, v ? v : json_null());
    }
    char *text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    if (!text) {
        fprintf(stderr, "chatbot: out of memory encoding a cursor\n");
        abort();
    }
    char *out = b64url_encode((const unsigned char *)text, strlen(text));
    free(text);
    return out;
}

/* The cursor's values, checked against the sort keys' types; NULL when it
   is not one of ours. */
static json_t *cursor_decode(const cb_model *m, const cb_list_query *q, const char *cursor)
{
    if (strlen(cursor) > CB_CURSOR_MAX)
        return NULL;
    size_t n;
    unsigned char *raw = b64url_decode(cursor, &n);
    if (!raw)
        return NULL;
    json_t *arr = json_loadb((const char *)raw, n, 0, NULL);
    free(raw);
    if (!json_is_array(arr) || json_array_size(arr) != q->n_sort) {
        json_decref(arr);
        return NULL;
    }
    for (unsigned k = 0; k < q->n_sort; k++) {
        const cb_field *f = &m->fields[q->sort[k].field];
        json_t *v = json_array_get(arr, k);
        bool ok = json_is_null(v) ? (f->flags & CB_F_OPTIONAL) != 0
                  : is_text_type(f->type) ? json_is_string(v)
                                          : json_is_integer(v);
        if (!ok) {
            json_decref(arr);
            return NULL;
        }
    }
    return arr;
}

static void bind_json(sqlite3_stmt *st, int idx, const json_t *v)
{
    if (json_is_string(v))
        sqlite3_bind_text(st, idx, json_string_value(v), (int)json_string_length(v),
                          SQLITE_TRANSIENT);
    else if (json_is_integer(v))
        sqlite3_bind_int64(st, idx, json_integer_value(v));
    else
        sqlite3_bind_null(st, idx);
}

/* Binds ?1..?3 where the statement has them: SQL for a resource without an
   owner or parent never mentions ?1 or ?2, and SQLite sizes the parameter
   list by the highest index used. */
static void bind_common(sqlite3_stmt *st, const cb_list_query *q)
{
    int np = sqlite3_bind_parameter_count(st);
    if (np >= 1) {
        if (q->has_scope)
            sqlite3_bind_int64(st, 1, q->scope);
        else
            sqlite3_bind_null(st, 1);
    }
    if (np >= 2) {
        if (q->has_parent)
            sqlite3_bind_int64(st, 2, q->parent);
        else
            sqlite3_bind_null(st, 2);
    }
    sqlite3_bind_int64(st, 3, (int64_t)q->limit + 1);
}

cb_rc cb_list_page(cb_db *db, const cb_model *m, const cb_list_query *q, cb_rows *out,
                   cb_errors *errs)
{
    memset(out, 0, sizeof *out);
    out->model = m;
    if (q->limit < 1) {
        cb_errors_add(errs, "limit", "must be at least 1");
        return CB_INVALID;
    }
    json_t *after = NULL;
    if (q->cursor) {
        after = cursor_decode(m, q, q->cursor);
        if (!after) {
            cb_errors_add(errs, "cursor", "invalid cursor");
            return CB_INVALID;
        }
    }
    sqlite3_stmt *st = cb_db_stmt(db, after ? q->stmt_after : q->stmt_first);
    if (!st) {
        json_decref(after);
        return CB_ERROR;
    }
    bind_common(st, q);
    for (unsigned k = 0; after && k < q->n_sort; k++)
        bind_json(st, (int)(4 + k), json_array_get(after, k));
    json_decref(after);

    /* One row more than the page tells whether another page follows. */
    size_t want = (size_t)q->limit + 1;
    out->rows = cb_xcalloc(want, m->size);
    int rc = SQLITE_DONE;
    while (out->n < want && (rc = sqlite3_step(st)) == SQLITE_ROW)
        cb_row_from_stmt(m, st, 0, (char *)out->rows + out->n++ * m->size);
    if (out->n == want)
        rc = SQLITE_DONE;
    cb_rc res = cb_db_rc(db, rc);
    sqlite3_reset(st);
    if (res != CB_OK) {
        cb_rows_free(out);
        return res;
    }
    if (out->n == want) {
        cb_row_clear(m, (char *)out->rows + --out->n * m->size);
        out->next_cursor = cursor_encode(m, q, (char *)out->rows + (out->n - 1) * m->size);
    }
    return CB_OK;
}
