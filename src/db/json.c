/*
 * json.c — a row to and from its JSON object, driven by the model descriptor.
 *
 * This is where request bodies are validated: every type, length, range,
 * enum and email rule of the schema is checked here, and every problem is
 * collected (not just the first) so a form can show them all at once.
 * Hidden fields never leave or enter through JSON. The row side of the
 * conversion stores values exactly as the database does: timestamps as
 * milliseconds, bools as 0/1, json fields as compact JSON text.
 */
#include "db/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/validate.h"
#include "util/mem.h"

/* Largest compact JSON text a json field may hold. */
#define CB_JSON_FIELD_MAX 65536

static json_t *json_or_die(json_t *v)
{
    if (!v) {
        fprintf(stderr, "chatbot: out of memory building JSON\n");
        abort();
    }
    return v;
}

static bool is_text_type(cb_type t)
{
    return t == CB_T_TEXT || t == CB_T_EMAIL || t == CB_T_ENUM || t == CB_T_JSON;
}

/* Text from the database is valid UTF-8 whenever it came through this
   file; anything else written behind our back is repaired with U+FFFD
   rather than turned into a failed response. */
static json_t *text_value(const char *s)
{
    size_t len = strlen(s);
    if (cb_utf8_valid(s, len))
        return json_or_die(json_stringn_nocheck(s, len));
    char *fixed = cb_xmalloc(len * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        size_t n = 1;
        while (n <= 4 && i + n <= len && !cb_utf8_valid(s + i, n))
            n++;
        if (n <= 4 && i + n <= len) {
            memcpy(fixed + o, s + i, n);
            o += n;
            i += n;
        } else {
            memcpy(fixed + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    json_t *v = json_or_die(json_stringn_nocheck(fixed, o));
    free(fixed);
    return v;
}

static json_t *field_to_json(const cb_model *m, const void *row, unsigned i)
{
    const cb_field *f = &m->fields[i];
    const cb_row *hdr = row;
    if (hdr->null & (UINT64_C(1) << i))
        return json_null();
    if (is_text_type(f->type)) {
        const char *s = cb_row_text(m, row, i);
        if (!s)
            return json_null();
        if (f->type == CB_T_JSON) {
            json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);
            return v ? v : json_null();
        }
        return text_value(s);
    }
    int64_t v = cb_row_int(m, row, i);
    if (f->type == CB_T_BOOL)
        return json_boolean(v != 0);
    if (f->type == CB_T_TIMESTAMP) {
        char buf[32];
        cb_format_time(v, buf);
        return json_or_die(json_string(buf));
    }
    return json_or_die(json_integer(v));
}

json_t *cb_row_to_json(const cb_model *m, const void *row)
{
    const cb_row *hdr = row;
    json_t *obj = json_or_die(json_object());
    for (unsigned i = 0; i < m->n_fields; i++) {
        if (!(hdr->set & (UINT64_C(1) << i)) || (m->fields[i].flags & CB_F_HIDDEN))
            continue;
        if (json_object_set_new_nocheck(obj, m->fields[i].name, field_to_json(m, row, i)) != 0)
            json_or_die(NULL);
    }
    return obj;
}

/* --- decoding ------------------------------------------------------------ */

/* By length too: a key may carry "\u0000" and must not match its prefix. */
static int find_field(const cb_model *m, const char *name, size_t len)
{
    for (unsigned i = 0; i < m->n_fields; i++)
        if (strlen(m->fields[i].name) == len && memcmp(m->fields[i].name, name, len) == 0)
            return (int)i;
    return -1;
}

static const char *plural(int64_t n)
{
    return n == 1 ? "" : "s";
}

/* A JSON string without NUL, in valid UTF-8; reports and returns false
   otherwise. */
static bool string_arg(const cb_field *f, const json_t *v, cb_errors *errs)
{
    if (!json_is_string(v)) {
        cb_errors_add(errs, f->name, "must be a string");
        return false;
    }
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (cb_has_nul(s, len)) {
        cb_errors_add(errs, f->name, "must not contain NUL characters");
        return false;
    }
    if (!cb_utf8_valid(s, len)) {
        cb_errors_add(errs, f->name, "must be valid UTF-8");
        return false;
    }
    return true;
}

static bool decode_text(const cb_model *m, unsigned i, const json_t *v, void *row,
                        cb_errors *errs)
{
    const cb_field *f = &m->fields[i];
    if (!string_arg(f, v, errs))
        return false;
    const char *s = json_string_value(v);
    int64_t n = (int64_t)cb_utf8_count(s, json_string_length(v));
    /* text(N) always has a maximum; the flags also cover a descriptor that
       states the range with them alone. */
    bool has_max = (f->flags & CB_F_HAS_MAX) || f->max > 0;
    bool has_min = (f->flags & CB_F_HAS_MIN) || f->min > 0;
    if (has_max && n > f->max) {
        cb_errors_add(errs, f->name, "must be at most %lld character%s", (long long)f->max,
                      plural(f->max));
        return false;
    }
    if (has_min && n < f->min) {
        cb_errors_add(errs, f->name, "must be at least %lld character%s", (long long)f->min,
                      plural(f->min));
        return false;
    }
    cb_row_set_text(m, row, i, s);
    return true;
}

static bool decode_email(const cb_model *m, unsigned i, const json_t *v, void *row,
                         cb_errors *errs)
{
    const cb_field *f = &m->fields[i];
    if (!string_arg(f, v, errs))
        return false;
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    cb_trim_span(&s, &len);
    size_t max = f->max > 0 && f->max < CB_EMAIL_MAX ? (size_t)f->max : CB_EMAIL_MAX;
    if (!cb_email_valid(s, len, max)) {
        cb_errors_add(errs, f->name, "must be a valid email address");
        return false;
    }
    char *trimmed = cb_xstrndup(s, len);
    cb_row_set_text(m, row, i, trimmed);
    free(trimmed);
    return true;
}

static bool decode_enum(const cb_model *m, unsigned i, const json_t *v, void *row,
                        cb_errors *errs)
{
    const cb_field *f = &m->fields[i];
    if (json_is_string(v) && f->enum_values) {
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        for (const char *const *e = f->enum_values; *e; e++) {
            if (strlen(*e) == len && memcmp(*e, s, len) == 0) {
                cb_row_set_text(m, row, i, *e);
                return true;
            }
        }
    }
    /* Build "must be one of: a, b, c" from the descriptor. */
    size_t cap = 32;
    for (const char *const *e = f->enum_values; e && *e; e++)
        cap += strlen(*e) + 2;
    char *list = cb_xmalloc(cap);
    list[0] = '\0';
    for (const char *const *e = f->enum_values; e && *e; e++) {
        if (e != f->enum_values)
            strcat(list, ", ");
        strcat(list, *e);
    }
    cb_errors_add(errs, f->name, "must be one of: %s", list);
    free(list);
    return false;
}

static bool decode_int(const cb_model *m, unsigned i, const json_t *v, void *row,
                       cb_errors *errs)
{
    const cb_field *f = &m->fields[i];
    /* jansson keeps integers and reals apart (1 vs 1.0) and refuses
       integers outside json_int_t on load, so this is exactly "a JSON
       integer within int64". */
    if (!json_is_integer(v)) {
        cb_errors_add(errs, f->name, "must be an integer");
        return false;
    }
    int64_t n = json_integer_value(v);
    bool has_min = f->flags & CB_F_HAS_MIN, has_max = f->flags & CB_F_HAS_MAX;
    if (f->type == CB_T_REF && n < 1) {
        cb_errors_add(errs, f->name, "must be a positive integer");
        return false;
    }
    if ((has_min && n < f->min) || (has_max && n > f->max)) {
        if (has_min && has_max)
            cb_errors_add(errs, f->name, "must be between %lld and %lld", (long long)f->min,
                          (long long)f->max);
        else if (has_min)
            cb_errors_add(errs, f->name, "must be at least %lld", (long long)f->min);
        else
            cb_errors_add(errs, f->name, "must be at most %lld", (long long)f->max);
        return false;
    }
    cb_row_set_int(m, row, i, n);
    return true;
}

static bool decode_bool(const cb_model *m, unsigned i, const json_t *v, void *row,
                        cb_errors *errs)
{
    if (!json_is_boolean(v)) {
        cb_errors_add(errs, m->fields[i].name, "must be true or false");
        return false;
    }
    cb_row_set_int(m, row, i, json_is_true(v) ? 1 : 0);
    return true;
}

static bool decode_time(const cb_model *m, unsigned i, const json_t *v, void *row,
                        cb_errors *errs)
{
    int64_t ms;
    if (!json_is_string(v) || cb_has_nul(json_string_value(v), json_string_length(v)) ||
        !cb_parse_time(json_string_value(v), &ms)) {
        cb_errors_add(errs, m->fields[i].name, "must be an RFC 3339 timestamp");
        return false;
    }
    cb_row_set_int(m, row, i, ms);
    return true;
}

static bool decode_json(const cb_model *m, unsigned i, const json_t *v, void *row,
                        cb_errors *errs)
{
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        json_or_die(NULL);
    if (strlen(text) > CB_JSON_FIELD_MAX) {
        free(text);
        cb_errors_add(errs, m->fields[i].name, "must be at most %d bytes of JSON",
                      CB_JSON_FIELD_MAX);
        return false;
    }
    cb_row_set_text(m, row, i, text);
    free(text);
    return true;
}

static bool decode_field(const cb_model *m, unsigned i, const json_t *v, void *row,
                         cb_errors *errs)
{
    const cb_field *f = &m->fields[i];
    if (json_is_null(v)) {
        if (!(f->flags & CB_F_OPTIONAL)) {
            cb_errors_add(errs, f->name, "must not be null");
            return false;
        }
        cb_row_set_null(m, row, i);
        return true;
    }
    switch (f->type) {
    case CB_T_TEXT:
        return decode_text(m, i, v, row, errs);
    case CB_T_EMAIL:
        return decode_email(m, i, v, row, errs);
    case CB_T_ENUM:
        return decode_enum(m, i, v, row, errs);
    case CB_T_INT:
    case CB_T_REF:
        return decode_int(m, i, v, row, errs);
    case CB_T_BOOL:
        return decode_bool(m, i, v, row, errs);
    case CB_T_TIMESTAMP:
        return decode_time(m, i, v, row, errs);
    case CB_T_JSON:
        return decode_json(m, i, v, row, errs);
    case CB_T_ID:
        break;
    }
    cb_errors_add(errs, f->name, "unknown field");
    return false;
}

static bool is_required(const cb_field *f)
{
    return !(f->flags & (CB_F_OPTIONAL | CB_F_DEFAULT | CB_F_DEFAULT_NOW | CB_F_HIDDEN)) &&
           f->type != CB_T_ID;
}

cb_rc cb_row_from_json(const cb_model *m, const json_t *obj, uint64_t accepted,
                       bool require, void *row, cb_errors *errs)
{
    if (!json_is_object(obj)) {
        cb_errors_add(errs, "body", "must be a JSON object");
        return CB_INVALID;
    }
    bool ok = true;
    uint64_t seen = 0;
    const char *key;
    size_t key_len;
    json_t *v;
    json_object_keylen_foreach((json_t *)obj, key, key_len, v) {
        int i = find_field(m, key, key_len);
        const cb_field *f = i >= 0 ? &m->fields[i] : NULL;
        if (!f || f->type == CB_T_ID || (f->flags & CB_F_HIDDEN) ||
            !(accepted & (UINT64_C(1) << i))) {
            cb_errors_add(errs, key, "unknown field");
            ok = false;
            continue;
        }
        seen |= UINT64_C(1) << i;
        if (!decode_field(m, (unsigned)i, v, row, errs))
            ok = false;
    }
    for (unsigned i = 0; require && i < m->n_fields; i++) {
        uint64_t bit = UINT64_C(1) << i;
        if ((accepted & bit) && !(seen & bit) && is_required(&m->fields[i])) {
            cb_errors_add(errs, m->fields[i].name, "is required");
            ok = false;
        }
    }
    return ok ? CB_OK : CB_INVALID;
}
