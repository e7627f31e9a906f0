/*
 * export.c — GET /api/v1/conversations/{id}/export?format=json|md: one of
 * the caller's conversations as a download.
 *
 * JSON is {conversation, messages} in exactly the shapes the generic
 * endpoints answer (cb_row_write_json over the generated descriptors, so
 * they cannot drift); Markdown is for people. Messages are stepped from the
 * generated list statement straight into one buffer, one row alive at a
 * time, so a long conversation costs its text and not a tree of objects.
 *
 * Another user's conversation answers the same 404 as a missing one. The
 * download name is built from the title: an ASCII slug in filename= and,
 * when the title has letters beyond ASCII, an RFC 6266 filename*= that is
 * percent-encoded byte by byte — nothing from the title reaches the header
 * unencoded.
 */
#include "chat/query.h"
#include "db/db.h"
#include "hooks.h"
#include "util/buf.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#define SLUG_MAX 50 /* characters */

/* --- the download's name ---------------------------------------------------- */

/* Appends code point `uc` (lower-cased) to the slug, a '-' first when
   `gap`; false once the slug is full. */
static bool slug_add(cb_buf *b, size_t *chars, bool gap, ucs4_t uc)
{
    if (*chars + (gap && *chars ? 2 : 1) > SLUG_MAX)
        return false;
    if (gap && *chars) {
        cb_buf_putc(b, '-');
        (*chars)++;
    }
    uint8_t enc[6];
    int n = u8_uctomb(enc, uc_tolower(uc), sizeof enc);
    if (n > 0)
        cb_buf_put(b, (const char *)enc, (size_t)n);
    (*chars)++;
    return true;
}

/* The title's letters and digits, lower-cased, runs joined by single '-',
   at most SLUG_MAX characters, "conversation" when none. With `ascii` only
   a-z and 0-9 count, after NFKD so that "Café" gives "cafe" (the
   combining accents it splits off are skipped, not separators); otherwise
   any Unicode letter, digit or combining mark does. */
static void slug(const char *title, bool ascii, cb_buf *b)
{
    size_t len = strlen(title), n = len;
    uint8_t *nfkd =
        ascii ? u8_normalize(UNINORM_NFKD, (const uint8_t *)title, len, NULL, &n) : NULL;
    const uint8_t *p = nfkd ? nfkd : (const uint8_t *)title, *end = p + (nfkd ? n : len);
    size_t chars = 0;
    bool gap = false;
    while (p < end) {
        ucs4_t uc;
        int k = u8_mbtouc(&uc, p, (size_t)(end - p)); /* U+FFFD when invalid */
        p += k > 0 ? k : 1;
        bool mark = uc_is_general_category(uc, UC_CATEGORY_M);
        bool word = ascii ? uc < 0x80 && uc_is_alnum(uc) : uc_is_alnum(uc) || mark;
        if (ascii && mark)
            continue;
        if (!word)
            gap = true;
        else if (!slug_add(b, &chars, gap, uc))
            break;
        else
            gap = false;
    }
    free(nfkd);
    if (chars == 0)
        cb_buf_puts(b, "conversation");
}

/* RFC 5987 attr-char: sent as is; every other byte is %XX. */
static bool attr_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$&+-.^_`|~", c) != NULL;
}

static void set_disposition(cb_ctx *ctx, const char *title, int64_t id, const char *ext)
{
    cb_buf ascii = {0}, wide = {0}, header = {0};
    char tail[40];
    snprintf(tail, sizeof tail, "-%" PRId64 ".%s", id, ext);
    slug(title, true, &ascii);
    slug(title, false, &wide);
    cb_buf_puts(&header, "attachment; filename=\"");
    cb_buf_puts(&header, ascii.data);
    cb_buf_puts(&header, tail);
    cb_buf_putc(&header, '"');
    if (strcmp(ascii.data, wide.data) != 0) {
        cb_buf_puts(&header, "; filename*=UTF-8''");
        for (const unsigned char *s = (const unsigned char *)wide.data; *s; s++) {
            char esc[4];
            snprintf(esc, sizeof esc, "%%%02X", *s);
            if (attr_char(*s))
                cb_buf_putc(&header, (char)*s);
            else
                cb_buf_puts(&header, esc);
        }
        cb_buf_puts(&header, tail);
    }
    u_map_put(ctx->resp->map_header, "Content-Disposition", header.data);
    cb_buf_free(&ascii);
    cb_buf_free(&wide);
    cb_buf_free(&header);
}

/* --- Markdown ---------------------------------------------------------------- */

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* Writes s with every line break (CR, LF) as a space: for one-line spots. */
static void put_one_line(cb_buf *b, const char *s)
{
    for (; *s; s++)
        cb_buf_putc(b, *s == '\n' || *s == '\r' ? ' ' : *s);
}

static void md_head(cb_buf *b, const cb_conversation *c)
{
    char when[32];
    cb_format_time(c->created_at, when);
    const char *title = or_empty(c->title);
    cb_buf_puts(b, "# ");
    put_one_line(b, title[0] ? title : "Untitled conversation");
    cb_buf_puts(b, "\n\nModel: ");
    const char *model = or_empty(c->model);
    put_one_line(b, model[0] ? model : "default");
    cb_buf_puts(b, " · Created: ");
    cb_buf_puts(b, when);
    cb_buf_puts(b, "\n");
    const char *prompt = or_empty(c->system_prompt);
    if (!prompt[0])
        return;
    /* The system prompt as a quoted block: "> " before every line. */
    cb_buf_puts(b, "\n> **System prompt**\n>\n> ");
    for (const char *p = prompt; *p; p++) {
        if (*p == '\r' && p[1] == '\n')
            continue;
        cb_buf_putc(b, *p == '\r' ? '\n' : *p);
        if (*p == '\n' || *p == '\r')
            cb_buf_puts(b, p[1] ? "> " : "");
    }
    cb_buf_puts(b, "\n");
}

static void md_message(cb_buf *b, const cb_message *m)
{
    const char *role = or_empty(m->role), *status = or_empty(m->status);
    cb_buf_puts(b, strcmp(role, "user") == 0        ? "\n## You"
                   : strcmp(role, "assistant") == 0 ? "\n## Assistant"
                                                    : "\n## System");
    if (status[0] && strcmp(status, "complete") != 0) {
        cb_buf_puts(b, " (");
        cb_buf_puts(b, status);
        cb_buf_putc(b, ')');
    }
    cb_buf_puts(b, "\n\n");
    const char *content = or_empty(m->content);
    size_t len = strlen(content);
    cb_buf_put(b, content, len);
    if (len == 0 || content[len - 1] != '\n')
        cb_buf_putc(b, '\n');
}

/* --- the export -------------------------------------------------------------- */

/* Writes the whole export of `c` into b: the conversation, then every
   message oldest first, one row in memory at a time. */
static cb_rc write_export(cb_db *db, const cb_conversation *c, bool md, cb_buf *b)
{
    if (md) {
        md_head(b, c);
    } else {
        cb_buf_puts(b, "{\"conversation\":");
        cb_row_write_json(b, &cb_model_conversation, c);
        cb_buf_puts(b, ",\"messages\":[");
    }
    /* The generic message list's own statement (same columns, same order,
       same owner filter), with no limit: LIMIT -1 means none in SQLite. */
    sqlite3_stmt *st = cb_db_stmt(db, CB_STMT_MESSAGES_LIST_FIRST);
    if (!st)
        return CB_ERROR;
    sqlite3_bind_int64(st, 1, c->user_id);
    sqlite3_bind_int64(st, 2, c->id);
    sqlite3_bind_int(st, 3, -1);
    cb_message m;
    cb_message_init(&m);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        cb_row_from_stmt(&cb_model_message, st, 0, &m);
        if (md) {
            md_message(b, &m);
        } else {
            if (n++)
                cb_buf_putc(b, ',');
            cb_row_write_json(b, &cb_model_message, &m);
        }
        cb_message_clear(&m);
    }
    cb_rc res = cb_db_rc(db, rc);
    sqlite3_reset(st);
    if (!md)
        cb_buf_puts(b, "]}");
    return res;
}

/* format: absent → json; "json" or "md"; anything else is a 400. */
static bool parse_format(const struct _u_request *req, bool *md, cb_errors *errs)
{
    const char *f = u_map_get(req->map_url, "format");
    *md = f && strcmp(f, "md") == 0;
    if (!f || *md || strcmp(f, "json") == 0)
        return true;
    cb_errors_add(errs, "format", "must be \"json\" or \"md\"");
    return false;
}

int cb_route_conversation_export(cb_ctx *ctx)
{
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
    int64_t id;
    /* Ulfius cuts a decoded path segment at %00: "12%00x" must not be 12. */
    const char *path = ctx->req->url_path ? ctx->req->url_path : "";
    if (!cb_parse_id(u_map_get(ctx->req->map_url, "id"), &id) || strstr(path, "%00"))
        return cb_reply_rc(ctx, CB_NOTFOUND, NULL);
    static const char *const known[] = {"id", "format", NULL};
    cb_errors errs = {0};
    bool md = false;
    if (!cb_query_check(ctx->req, known, &errs) || !parse_format(ctx->req, &md, &errs))
        return cb_reply_rc(ctx, CB_INVALID, &errs);
    cb_db *db = cb_ctx_db(ctx);
    if (!db)
        return cb_reply_rc(ctx, CB_BUSY, NULL);

    cb_conversation c;
    cb_conversation_init(&c);
    cb_rc rc = cb_conversation_get(db, id, &c);
    if (rc == CB_OK && c.user_id != ctx->user_id)
        rc = CB_NOTFOUND;
    cb_buf out = {0};
    if (rc == CB_OK)
        rc = write_export(db, &c, md, &out);
    if (rc != CB_OK) {
        cb_conversation_clear(&c);
        cb_buf_free(&out);
        return cb_reply_rc(ctx, rc, NULL);
    }
    set_disposition(ctx, or_empty(c.title), id, md ? "md" : "json");
    cb_conversation_clear(&c);
    size_t len;
    char *text = cb_buf_take(&out, &len);
    int ret = cb_reply_json_text_take(ctx, 200, text, len);
    if (md) /* the helper hands the buffer over and sets JSON's type */
        u_map_put(ctx->resp->map_header, "Content-Type", "text/markdown; charset=utf-8");
    return ret;
}
