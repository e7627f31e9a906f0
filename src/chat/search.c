/*
 * search.c — GET /api/v1/search?q=&limit=: full-text search over the
 * signed-in user's own messages and conversation titles.
 *
 * One statement asks both FTS5 tables (messages_fts, conversations_fts),
 * scoped to the caller inside FTS5 (the tables index user_id) and again on
 * the rows through the owning conversation, so another user's rows and the
 * messages of a deleted conversation can never come back. Hits are ranked together by BM25; a title hit has message_id null
 * and the title as its snippet. Snippets are computed only for the hits
 * returned, and answered as plain text with [start, end) code-point
 * offsets of the matches (db/search.h) — never HTML.
 *
 * The user's text reaches FTS5 only through cb_fts_query: every term is a
 * quoted phrase, so no input is a syntax error; the last term, while still
 * being typed, matches as a prefix. This file must never build SQL or an
 * FTS5 expression from request text any other way.
 */
#include "chat/query.h"
#include "db/db.h"
#include "db/search.h"
#include "db/validate.h"
#include "hooks.h"
#include "util/buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEARCH_LIMIT_DEFAULT 20
#define SEARCH_LIMIT_MAX 50
#define SEARCH_Q_MAX 500 /* characters */
/* A shorter last term stays a whole word: "a"* would match a large part
   of the index for every keystroke. */
#define SEARCH_PREFIX_MIN 3

/* Up to this many of the caller's matches in a table are ranked by BM25.
   A word in more of the caller's messages (the, get, …) lists them newest
   first instead: FTS5 walks its doclists in rowid order without sorting,
   while BM25 would score every match and count the word's documents over
   the whole index first (30 ms for "the" in a million messages); see
   bench/RESULTS.md. */
#define SEARCH_RANKED_MAX 2000

/* The MATCH texts. The caller's own rows only: the FTS tables index
   user_id beside the text, so FTS5 intersects the caller's doclist with
   the words' instead of looking every user's matches up in the table.
   ?2 is bound as an integer and cast again, so only digits reach FTS5;
   the user's phrases (?1) are confined to the text column, so no input
   can address user_id, and snippet() is asked for the text column only. */
#define SCOPED(col) "'user_id : \"' || CAST(?2 AS INTEGER) || '\" AND {" col "} : (' || ?1 || ')'"

/* ?1 = FTS5 query, ?2 = the caller, ?3 = limit, ?4 = SEARCH_RANKED_MAX.
   m_n counts the caller's message matches up to ?4; below it every match
   is scored by BM25, at ?4 the newest ?4 are taken with score 0 (bm25()
   is never called, so its whole-index statistics are never gathered) and
   the newest come first. Each side keeps its own best `limit` hits before
   they are merged. snippet() runs only for the hits answered, in one pass
   per FTS table over the rowid range they span (m_snip, c_snip): a MATCH
   per hit would look a prefix term up once per hit. MATERIALIZED and the
   `+` keep SQLite from turning them back into one FTS query per hit.
   Owner scoping is checked twice: by the FTS filter, and on the rows: a
   message counts only if it and its conversation are the caller's (a
   deleted conversation's messages are gone with it, by cascade, from the
   table and through the triggers from the index). Ties: title hits first,
   then newest. */
static const char search_sql[] =
    "WITH m_n AS ("
    " SELECT count(*) AS n FROM (SELECT 1 FROM messages_fts"
    "  WHERE messages_fts MATCH " SCOPED("content") " ORDER BY rowid DESC LIMIT ?4)"
    "), m_win AS ("
    " SELECT rowid AS mid, CASE WHEN (SELECT n FROM m_n) < ?4"
    "  THEN bm25(messages_fts, 1.0, 0.0) ELSE 0.0 END AS score"
    " FROM messages_fts WHERE messages_fts MATCH " SCOPED("content")
    " ORDER BY rowid DESC LIMIT ?4"
    "), m_hits AS ("
    " SELECT 1 AS kind, m.id AS mid, m.conversation_id AS cid, w.score, m.created_at AS at"
    " FROM m_win w"
    " JOIN messages m ON m.id = w.mid AND m.user_id = ?2"
    " JOIN conversations c ON c.id = m.conversation_id AND c.user_id = ?2"
    " ORDER BY w.score, m.id DESC LIMIT ?3"
    "), c_win AS ("
    " SELECT rowid AS cid, bm25(conversations_fts, 1.0, 0.0) AS score"
    " FROM conversations_fts WHERE conversations_fts MATCH " SCOPED("title")
    " ORDER BY rowid DESC LIMIT ?4"
    "), c_hits AS ("
    " SELECT 0 AS kind, NULL AS mid, c.id AS cid, w.score, c.created_at AS at"
    " FROM c_win w JOIN conversations c ON c.id = w.cid AND c.user_id = ?2"
    " ORDER BY w.score, c.id DESC LIMIT ?3"
    "), top AS ("
    " SELECT * FROM m_hits UNION ALL SELECT * FROM c_hits"
    " ORDER BY score, kind, at DESC, cid, mid LIMIT ?3"
    "), m_snip AS MATERIALIZED ("
    " SELECT rowid AS mid, snippet(messages_fts, 0, char(2), char(3), '…', 16) AS snippet"
    " FROM messages_fts WHERE messages_fts MATCH " SCOPED("content")
    " AND rowid BETWEEN (SELECT min(mid) FROM top) AND (SELECT max(mid) FROM top)"
    " AND +rowid IN (SELECT mid FROM top)"
    "), c_snip AS MATERIALIZED ("
    " SELECT rowid AS cid, snippet(conversations_fts, 0, char(2), char(3), '…', 16) AS snippet"
    " FROM conversations_fts WHERE conversations_fts MATCH " SCOPED("title")
    " AND rowid BETWEEN (SELECT min(cid) FROM top WHERE kind = 0)"
    "  AND (SELECT max(cid) FROM top WHERE kind = 0)"
    " AND +rowid IN (SELECT cid FROM top WHERE kind = 0)"
    ")"
    " SELECT top.cid, top.mid, c.title,"
    "  CASE top.kind WHEN 0 THEN cs.snippet ELSE ms.snippet END, top.at"
    " FROM top JOIN conversations c ON c.id = top.cid AND c.user_id = ?2"
    " LEFT JOIN m_snip ms ON top.kind = 1 AND ms.mid = top.mid"
    " LEFT JOIN c_snip cs ON top.kind = 0 AND cs.cid = top.cid"
    " ORDER BY top.score, top.kind, top.at DESC, top.cid, top.mid";

/* q: present, not blank, at most SEARCH_Q_MAX characters (NUL and invalid
   UTF-8 were refused from the raw query by cb_query_check). NULL after
   adding the error. */
static const char *parse_q(const struct _u_request *req, cb_errors *errs)
{
    const char *q = u_map_get(req->map_url, "q");
    if (!q) {
        cb_errors_add(errs, "q", "is required");
        return NULL;
    }
    size_t len = strlen(q);
    if (!cb_utf8_valid(q, len)) {
        cb_errors_add(errs, "q", "must be valid UTF-8");
        return NULL;
    }
    if (cb_utf8_count(q, len) > SEARCH_Q_MAX) {
        cb_errors_add(errs, "q", "must be at most %d characters", SEARCH_Q_MAX);
        return NULL;
    }
    const char *s = q;
    cb_trim_span(&s, &len);
    if (len == 0) {
        cb_errors_add(errs, "q", "must not be empty");
        return NULL;
    }
    return q;
}

/* limit: a decimal integer 1..SEARCH_LIMIT_MAX without sign or leading zeros. */
static bool parse_limit(const char *s, int *limit, cb_errors *errs)
{
    *limit = SEARCH_LIMIT_DEFAULT;
    if (!s)
        return true;
    size_t n = strspn(s, "0123456789");
    bool ok = n >= 1 && n <= 9 && s[n] == '\0' && s[0] != '0';
    if (ok)
        *limit = atoi(s);
    if (!ok || *limit > SEARCH_LIMIT_MAX) {
        cb_errors_add(errs, "limit", "must be an integer from 1 to %d", SEARCH_LIMIT_MAX);
        return false;
    }
    return true;
}

static void put_int(cb_buf *b, int64_t v)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%" PRId64, v);
    cb_buf_put(b, num, (size_t)n);
}

static void put_text(cb_buf *b, const unsigned char *s)
{
    const char *t = s ? (const char *)s : "";
    cb_json_write_string(b, t, strlen(t));
}

/* One item: {conversation_id, message_id, title, snippet, highlights, created_at}. */
static void write_hit(cb_buf *b, sqlite3_stmt *st)
{
    cb_buf_puts(b, "{\"conversation_id\":");
    put_int(b, sqlite3_column_int64(st, 0));
    cb_buf_puts(b, ",\"message_id\":");
    if (sqlite3_column_type(st, 1) == SQLITE_NULL)
        cb_buf_puts(b, "null");
    else
        put_int(b, sqlite3_column_int64(st, 1));
    cb_buf_puts(b, ",\"title\":");
    put_text(b, sqlite3_column_text(st, 2));

    cb_search_hit hit = {0};
    const unsigned char *raw = sqlite3_column_text(st, 3);
    cb_search_snippet(raw ? (const char *)raw : "", &hit);
    cb_buf_puts(b, ",\"snippet\":");
    cb_json_write_string(b, hit.snippet, strlen(hit.snippet));
    cb_buf_puts(b, ",\"highlights\":[");
    for (size_t i = 0; i < hit.n_highlights; i++) {
        cb_buf_puts(b, i ? ",[" : "[");
        put_int(b, (int64_t)hit.highlights[i][0]);
        cb_buf_putc(b, ',');
        put_int(b, (int64_t)hit.highlights[i][1]);
        cb_buf_putc(b, ']');
    }
    free(hit.snippet);
    free(hit.highlights);

    char when[32];
    cb_format_time(sqlite3_column_int64(st, 4), when);
    cb_buf_puts(b, "],\"created_at\":");
    cb_json_write_string(b, when, strlen(when));
    cb_buf_putc(b, '}');
}

/* Runs the search into `out` ({"items":[...]}). */
static cb_rc run_search(cb_db *db, const char *match, int64_t user_id, int limit, cb_buf *out)
{
    sqlite3_stmt *st = cb_db_custom_stmt(db, CB_Q_CHAT_SEARCH, search_sql);
    if (!st)
        return CB_ERROR;
    sqlite3_bind_text(st, 1, match, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, user_id);
    sqlite3_bind_int(st, 3, limit);
    sqlite3_bind_int(st, 4, SEARCH_RANKED_MAX);
    cb_buf_puts(out, "{\"items\":[");
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n++)
            cb_buf_putc(out, ',');
        write_hit(out, st);
    }
    cb_buf_puts(out, "]}");
    cb_rc res = cb_db_rc(db, rc);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st); /* `match` is freed by the caller */
    return res;
}

int cb_route_search_messages(cb_ctx *ctx)
{
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
    static const char *const known[] = {"q", "limit", NULL};
    cb_errors errs = {0};
    int limit;
    const char *q = NULL;
    bool bad = !cb_query_check(ctx->req, known, &errs);
    if (!bad) /* else q may be a value cut short at a NUL: say nothing of it */
        q = parse_q(ctx->req, &errs);
    bad |= !parse_limit(u_map_get(ctx->req->map_url, "limit"), &limit, &errs);
    if (bad || !q)
        return cb_reply_rc(ctx, CB_INVALID, &errs);
    cb_db *db = cb_ctx_db(ctx);
    if (!db)
        return cb_reply_rc(ctx, CB_BUSY, NULL);

    /* Terms made only of punctuation match nothing: an empty list, not an
       error (cb_fts_query gives NULL only for blank text, refused above). */
    char *match = cb_fts_query(q, SEARCH_PREFIX_MIN);
    cb_buf out = {0};
    cb_rc rc = match ? run_search(db, match, ctx->user_id, limit, &out) : CB_ERROR;
    free(match);
    if (rc != CB_OK) {
        cb_buf_free(&out);
        return cb_reply_rc(ctx, rc, NULL);
    }
    size_t len;
    char *text = cb_buf_take(&out, &len);
    return cb_reply_json_text_take(ctx, 200, text, len);
}
