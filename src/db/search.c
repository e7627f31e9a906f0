/*
 * search.c — full-text search over a model's FTS5 table.
 *
 * The user's text never reaches FTS5's query parser as syntax: it is split
 * on whitespace and every term becomes a quoted phrase ("a""b" for a"b), so
 * NEAR, AND, *, ^, parentheses and column filters are just words, and no
 * input can be a syntax error. Terms are joined by spaces: FTS5's implicit
 * AND. The snippet FTS5 returns marks matches with \x02 ... \x03; these are
 * stripped and turned into [start, end) code-point offsets so clients build
 * their highlighting from plain text.
 */
#include "db/search.h"

#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/validate.h"
#include "util/mem.h"

static bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* See search.h. A term of k bytes becomes at most 2k + 2 bytes (quotes
   doubled, two around it) plus a separating space, and all but the first
   follow at least one byte of whitespace: 4 bytes per input byte bound it,
   plus the '*' and the NUL. */
char *cb_fts_query(const char *text, size_t min_prefix)
{
    size_t len = strlen(text), last_chars = 0;
    char *q = cb_xmalloc(len * 4 + 2);
    size_t o = 0;
    const char *p = text;
    while (*p) {
        while (is_space((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (o > 0)
            q[o++] = ' ';
        q[o++] = '"';
        for (last_chars = 0; *p && !is_space((unsigned char)*p); p++) {
            if (*p == '"')
                q[o++] = '"';
            if (((unsigned char)*p & 0xC0) != 0x80)
                last_chars++;
            q[o++] = *p;
        }
        q[o++] = '"';
    }
    if (o == 0) {
        free(q);
        return NULL;
    }
    if (min_prefix > 0 && last_chars >= min_prefix && !is_space((unsigned char)text[len - 1]))
        q[o++] = '*';
    q[o] = '\0';
    return q;
}

/* See search.h. A stray closing marker is dropped; an unclosed span ends
   with the snippet. */
void cb_search_snippet(const char *raw, cb_search_hit *hit)
{
    size_t len = strlen(raw), o = 0, chars = 0, start = 0, cap = 0;
    bool open = false;
    char *text = cb_xmalloc(len + 1);
    for (size_t i = 0; i <= len; i++) {
        char c = raw[i];
        bool close = c == '\x03' || (c == '\0' && open);
        if (c == '\x02' && !open) {
            open = true;
            start = chars;
        } else if (close && open) {
            open = false;
            if (chars > start) {
                if (hit->n_highlights == cap) {
                    cap = cap ? cap * 2 : 4;
                    hit->highlights = cb_xrealloc(hit->highlights, cap * sizeof *hit->highlights);
                }
                hit->highlights[hit->n_highlights][0] = start;
                hit->highlights[hit->n_highlights][1] = chars;
                hit->n_highlights++;
            }
        } else if (c != '\x02' && c != '\x03' && c != '\0') {
            if (((unsigned char)c & 0xC0) != 0x80)
                chars++;
            text[o++] = c;
        }
    }
    text[o] = '\0';
    hit->snippet = text;
}

cb_rc cb_row_search(cb_db *db, const cb_model *m, const char *query, int64_t scope,
                    int limit, cb_search_result *out)
{
    memset(out, 0, sizeof *out);
    out->rows.model = m;
    if (!m->sql_search || m->stmt_search < 0)
        return CB_ERROR;
    if (limit < 1 || !cb_utf8_valid(query, strlen(query)))
        return CB_INVALID;
    char *match = cb_fts_query(query, 0);
    if (!match)
        return CB_INVALID;
    /* A scoped model without a scope finds nothing rather than everybody's
       rows (its SQL would not even run: the MATCH text would be NULL). */
    if (m->search_scope_field >= 0 && scope < 0) {
        free(match);
        return CB_OK;
    }
    sqlite3_stmt *st = cb_db_stmt(db, m->stmt_search);
    if (!st) {
        free(match);
        return CB_ERROR;
    }
    sqlite3_bind_text(st, 1, match, -1, free);
    /* The SQL puts the scope into the MATCH text itself (a column filter
       on the FTS table's copy of the scope column) and checks it again on
       the rows it returns. */
    if (m->search_scope_field >= 0)
        sqlite3_bind_int64(st, 2, scope);
    sqlite3_bind_int(st, 3, limit);

    size_t cap = 0;
    int rc;
    int snippet_col = (int)m->n_fields, rank_col = snippet_col + 1;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (out->rows.n == cap) {
            cap = cap ? cap * 2 : 8;
            out->rows.rows = cb_xrealloc(out->rows.rows, cap * m->size);
            out->hits = cb_xrealloc(out->hits, cap * sizeof *out->hits);
        }
        void *row = (char *)out->rows.rows + out->rows.n * m->size;
        cb_search_hit *hit = &out->hits[out->rows.n];
        cb_row_init(m, row);
        memset(hit, 0, sizeof *hit);
        out->rows.n++;
        cb_row_from_stmt(m, st, 0, row);
        const unsigned char *snip = sqlite3_column_text(st, snippet_col);
        cb_search_snippet(snip ? (const char *)snip : "", hit);
        hit->rank = sqlite3_column_double(st, rank_col);
    }
    cb_rc res = cb_db_rc(db, rc);
    sqlite3_reset(st);
    if (res != CB_OK)
        cb_search_result_free(out);
    return res;
}

void cb_search_result_free(cb_search_result *r)
{
    for (size_t i = 0; r->hits && i < r->rows.n; i++) {
        free(r->hits[i].snippet);
        free(r->hits[i].highlights);
    }
    free(r->hits);
    r->hits = NULL;
    cb_rows_free(&r->rows);
}
