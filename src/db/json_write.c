/*
 * json_write.c — rows written straight into a buffer as compact JSON.
 *
 * The same bytes cb_row_to_json + json_dumps(JSON_COMPACT) produce, without
 * a jansson tree per row: lists are the hot path, and profiling showed
 * their time going to allocating and freeing those trees (bench/RESULTS.md).
 * json fields, rare and arbitrary, still go through jansson.
 */
#include "db/model.h"
#include "db/validate.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Escapes like jansson's dump: \" \\ \b \f \n \r \t, other controls as
   \uXXXX; invalid UTF-8 (written behind our back) becomes U+FFFD. */
void cb_json_write_string(cb_buf *b, const char *s, size_t len)
{
    cb_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char hex[8];
        size_t n = 1;
        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20) {
            snprintf(hex, sizeof hex, "\\u%04X", c);
            esc = hex;
        } else if (c >= 0x80) {
            n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (i + n > len || !cb_utf8_valid(s + i, n))
                esc = "\xEF\xBF\xBD", n = 1;
        }
        if (esc) {
            cb_buf_put(b, s + i - run, run);
            run = 0;
            cb_buf_puts(b, esc);
            i += n;
        } else {
            run += n;
            i += n;
        }
    }
    cb_buf_put(b, s + len - run, run);
    cb_buf_putc(b, '"');
}

static void write_field(cb_buf *b, const cb_model *m, const void *row, unsigned i)
{
    const cb_field *f = &m->fields[i];
    if (((const cb_row *)row)->null & (UINT64_C(1) << i)) {
        cb_buf_puts(b, "null");
        return;
    }
    if (f->type == CB_T_TEXT || f->type == CB_T_EMAIL || f->type == CB_T_ENUM) {
        const char *s = cb_row_text(m, row, i);
        if (s)
            cb_json_write_string(b, s, strlen(s));
        else
            cb_buf_puts(b, "null");
        return;
    }
    if (f->type == CB_T_JSON) {
        const char *s = cb_row_text(m, row, i);
        json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
        char *text = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        cb_buf_puts(b, text ? text : "null");
        free(text);
        json_decref(v);
        return;
    }
    int64_t v = cb_row_int(m, row, i);
    char num[32];
    if (f->type == CB_T_BOOL) {
        cb_buf_puts(b, v ? "true" : "false");
    } else if (f->type == CB_T_TIMESTAMP) {
        cb_format_time(v, num);
        cb_json_write_string(b, num, strlen(num));
    } else {
        int n = snprintf(num, sizeof num, "%" PRId64, v);
        cb_buf_put(b, num, (size_t)n);
    }
}

void cb_row_write_json(cb_buf *b, const cb_model *m, const void *row)
{
    const cb_row *hdr = row;
    char sep = '{';
    for (unsigned i = 0; i < m->n_fields; i++) {
        if (!(hdr->set & (UINT64_C(1) << i)) || (m->fields[i].flags & CB_F_HIDDEN))
            continue;
        cb_buf_putc(b, sep);
        sep = ',';
        cb_json_write_string(b, m->fields[i].name, strlen(m->fields[i].name));
        cb_buf_putc(b, ':');
        write_field(b, m, row, i);
    }
    if (sep == '{')
        cb_buf_putc(b, '{');
    cb_buf_putc(b, '}');
}
