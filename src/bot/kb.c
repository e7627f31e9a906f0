/*
 * kb.c — adding documents to the knowledge base and seeding the user
 * guide (see kb.h; splitting is kb_split.c, search kb_search.c).
 *
 * A document and all its passages are written in one transaction: a
 * failure at any passage leaves no trace. The guide is seeded once per
 * database, recorded in PRAGMA user_version (docs/knowledge-base.md says
 * why), so a guide document an administrator deleted stays deleted.
 */
#include "bot/kb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yder.h>

#include "db/db.h"
#include "db/validate.h"
#include "models.h"
#include "server/config.h"
#include "util/mem.h"

#define DEFAULT_MAX_BYTES 1000000
#define SEEDED_VERSION 1            /* PRAGMA user_version once the guide was seeded */

static long max_document_bytes(void)
{
    return cb_cfg ? cb_cfg->max_document_bytes : DEFAULT_MAX_BYTES;
}

/* The first control character in s (C0 but the allowed ones, DEL, C1), or
   NULL. s is valid UTF-8: C1 controls are encoded as C2 80..C2 9F. */
static const char *find_control(const char *s, size_t len, const char *allowed)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x20 && !strchr(allowed, c)) || c == 0x7f)
            return s + i;
        if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] >= 0x80 &&
            (unsigned char)s[i + 1] <= 0x9F)
            return s + i;
    }
    return NULL;
}

static void validate_title(const char *t, size_t len, cb_errors *errs)
{
    if (cb_has_nul(t, len)) {
        cb_errors_add(errs, "title", "must be text without NUL characters");
        return;
    }
    if (!cb_utf8_valid(t, len)) {
        cb_errors_add(errs, "title", "must be valid UTF-8");
        return;
    }
    cb_trim_span(&t, &len);
    size_t n = cb_utf8_count(t, len);
    if (n < 1 || n > CB_KB_TITLE_CHARS)
        cb_errors_add(errs, "title", "must be 1 to %d characters", CB_KB_TITLE_CHARS);
    else if (find_control(t, len, ""))
        cb_errors_add(errs, "title", "must not contain control characters or line breaks");
}

static void validate_content(const char *c, size_t len, cb_errors *errs)
{
    long max = max_document_bytes();
    if (cb_has_nul(c, len))
        cb_errors_add(errs, "content", "must be text without NUL characters");
    else if (!cb_utf8_valid(c, len))
        cb_errors_add(errs, "content", "must be valid UTF-8");
    else if ((long)len > max)
        cb_errors_add(errs, "content", "must be at most %ld bytes (it has %zu)", max, len);
    else if (find_control(c, len, "\t\n\r"))
        cb_errors_add(errs, "content",
                      "must not contain control characters other than tabs and line breaks");
    else {
        const char *t = c;
        size_t n = len;
        cb_trim_span(&t, &n);
        if (n == 0)
            cb_errors_add(errs, "content", "must not be empty");
    }
}

void cb_kb_validate(const char *title, size_t title_len, const char *content,
                    size_t content_len, cb_errors *errs)
{
    if (title)
        validate_title(title, title_len, errs);
    if (content)
        validate_content(content, content_len, errs);
}

/* Writes the document and its passages; the caller holds the transaction. */
static cb_rc insert_all(cb_db *db, const char *title, size_t title_len, const char *content,
                        int64_t created_by, const cb_kb_passage *p, size_t n, int64_t *id_out)
{
    cb_document d;
    cb_document_init(&d);
    char *t = cb_xstrndup(title, title_len);
    cb_row_set_text(&cb_model_document, &d, CB_DOCUMENT_TITLE, t);
    free(t);
    cb_row_set_text(&cb_model_document, &d, CB_DOCUMENT_CONTENT, content);
    cb_row_set_int(&cb_model_document, &d, CB_DOCUMENT_BYTES, (int64_t)strlen(content));
    cb_row_set_int(&cb_model_document, &d, CB_DOCUMENT_PASSAGES, (int64_t)n);
    if (created_by > 0)
        cb_row_set_int(&cb_model_document, &d, CB_DOCUMENT_CREATED_BY, created_by);
    cb_rc rc = cb_document_insert(db, &d);
    int64_t id = d.id;
    cb_document_clear(&d);
    for (size_t i = 0; rc == CB_OK && i < n; i++) {
        cb_passage row;
        cb_passage_init(&row);
        cb_row_set_int(&cb_model_passage, &row, CB_PASSAGE_DOCUMENT_ID, id);
        cb_row_set_int(&cb_model_passage, &row, CB_PASSAGE_POSITION, (int64_t)i);
        cb_row_set_text(&cb_model_passage, &row, CB_PASSAGE_HEADING, p[i].heading);
        cb_row_set_text(&cb_model_passage, &row, CB_PASSAGE_BODY, p[i].body);
        rc = cb_passage_insert(db, &row);
        cb_passage_clear(&row);
    }
    if (rc == CB_OK && id_out)
        *id_out = id;
    return rc;
}

/* Validates and splits; CB_INVALID with errs, else the passages to write. */
static cb_rc prepare(const char *title, const char *content, cb_errors *errs,
                     cb_kb_passage **p, size_t *n)
{
    *p = NULL;
    *n = 0;
    cb_errors local = {0};
    cb_errors *e = errs ? errs : &local;
    if (!title || !content) {
        if (!title)
            cb_errors_add(e, "title", "is required");
        if (!content)
            cb_errors_add(e, "content", "is required");
        cb_errors_clear(&local);
        return CB_INVALID;
    }
    json_t *before = e->fields;
    size_t had = before ? json_object_size(before) : 0;
    cb_kb_validate(title, strlen(title), content, strlen(content), e);
    bool bad = e->fields && json_object_size(e->fields) > had;
    if (!bad) {
        *n = cb_kb_split(content, strlen(content), p);
        if (*n == 0) {
            cb_errors_add(e, "content", "must contain some text besides headings");
            bad = true;
        }
    }
    cb_errors_clear(&local);
    return bad ? CB_INVALID : CB_OK;
}

/* Writes a prepared document (title trimmed); the caller holds the
   transaction. */
static cb_rc write_document(cb_db *db, const char *title, const char *content, int64_t created_by,
                            const cb_kb_passage *p, size_t n, int64_t *id_out)
{
    const char *t = title;
    size_t tlen = strlen(title);
    cb_trim_span(&t, &tlen);
    return insert_all(db, t, tlen, content, created_by, p, n, id_out);
}

cb_rc cb_kb_add_document(cb_db *db, const char *title, const char *content,
                         int64_t created_by, int64_t *id_out, cb_errors *errs)
{
    cb_kb_passage *p;
    size_t n;
    cb_rc rc = prepare(title, content, errs, &p, &n);   /* before taking the write lock */
    if (rc == CB_OK)
        rc = cb_db_begin(db);
    if (rc == CB_OK) {
        rc = write_document(db, title, content, created_by, p, n, id_out);
        if (rc == CB_OK)
            rc = cb_db_commit(db);
        if (rc != CB_OK)
            cb_db_rollback(db);
    }
    cb_kb_passages_free(p, n);
    return rc;
}

/* --- seeding the guide ------------------------------------------------- */

/* The guide file's title: the text of its first "# " line, else its name. */
static char *guide_title(const char *text, const char *name)
{
    for (const char *line = text; *line;) {
        size_t len = strcspn(line, "\r\n");
        if (line[0] == '#' && line[1] == ' ') {
            const char *t = line + 2;
            size_t tlen = len - 2;
            cb_trim_span(&t, &tlen);
            if (tlen)
                return cb_xstrndup(t, tlen);
        }
        line += len;
        line += strspn(line, "\r\n");
    }
    return cb_xstrdup(name);
}

static int query_int(cb_db *db, const char *sql, const char *text, int *out)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->handle, sql, -1, &st, NULL) != SQLITE_OK) {
        y_log_message(Y_LOG_LEVEL_ERROR, "knowledge base: %s", sqlite3_errmsg(db->handle));
        return -1;
    }
    if (text)
        sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    *out = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* Adds every guide file whose title no document has yet. Count or -1. */
static int seed_missing(cb_db *db)
{
    int added = 0;
    for (size_t i = 0; i < cb_kb_guide_count; i++) {
        char *title = guide_title(cb_kb_guide_files[i], cb_kb_guide_names[i]);
        int exists = 0;
        cb_errors errs = {0};
        int rc = query_int(db, "SELECT count(*) FROM documents WHERE title = ?1", title, &exists);
        if (rc == 0 && !exists) {
            cb_kb_passage *p;
            size_t n;
            cb_rc r = prepare(title, cb_kb_guide_files[i], &errs, &p, &n);
            if (r == CB_OK)
                r = write_document(db, title, cb_kb_guide_files[i], 0, p, n, NULL);
            cb_kb_passages_free(p, n);
            if (r == CB_INVALID)        /* our own file: skip it, say so, seed the rest */
                y_log_message(Y_LOG_LEVEL_ERROR, "knowledge base: guide file %s is invalid",
                              cb_kb_guide_names[i]);
            else if (r != CB_OK)
                rc = -1;
            else
                added++;
        }
        cb_errors_clear(&errs);
        free(title);
        if (rc)
            return -1;
    }
    return added;
}

int cb_kb_seed(cb_db *db)
{
    if (cb_db_begin(db) != CB_OK)
        return -1;
    int version = 0, added = 0;
    if (query_int(db, "PRAGMA user_version", NULL, &version))
        added = -1;
    else if (version < SEEDED_VERSION) {
        added = seed_missing(db);
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", SEEDED_VERSION);
        if (added >= 0 && sqlite3_exec(db->handle, sql, NULL, NULL, NULL) != SQLITE_OK)
            added = -1;
    }
    if (added >= 0 && cb_db_commit(db) != CB_OK)
        added = -1;
    if (added < 0)
        cb_db_rollback(db);
    return added;
}

void cb_kb_seed_file(const char *path)
{
    cb_db *db = cb_db_open(path);
    int added = db ? cb_kb_seed(db) : -1;
    if (added < 0)
        y_log_message(Y_LOG_LEVEL_WARNING,
                      "knowledge base: the user guide could not be seeded (serving without it)");
    else if (added > 0)
        y_log_message(Y_LOG_LEVEL_INFO, "knowledge base: seeded %d user guide documents", added);
    cb_db_close(db);
}
