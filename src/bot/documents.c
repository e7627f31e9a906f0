/*
 * documents.c — POST /api/v1/admin/documents {title, content}: adds a
 * document to the knowledge base (listing, getting and deleting are the
 * generated endpoints; deleting cascades to the passages).
 *
 * Admin authentication and CSRF are checked before this runs. Every
 * problem with the body is reported at once, per field, as a 400; the
 * document and its passages are written in one transaction (kb.c), so a
 * refused or failed request leaves no row behind.
 */
#include "bot/kb.h"
#include "hooks.h"

#include <stdlib.h>
#include <string.h>

/* Checks the shape of {title, content}; the strings' spans into t / c. */
static void parse_request(const json_t *body, const char **t, size_t *tlen, const char **c,
                          size_t *clen, cb_errors *errs)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)body, key, v) {
        if (strcmp(key, "title") && strcmp(key, "content"))
            cb_errors_add(errs, key, "unknown field");
    }
    static const char *const fields[] = {"title", "content"};
    const char **out[] = {t, c};
    size_t *lens[] = {tlen, clen};
    for (int i = 0; i < 2; i++) {
        json_t *f = json_object_get(body, fields[i]);
        *out[i] = NULL;
        if (!f)
            cb_errors_add(errs, fields[i], "is required");
        else if (!json_is_string(f))
            cb_errors_add(errs, fields[i], "must be a string");
        else {
            *out[i] = json_string_value(f);
            *lens[i] = json_string_length(f);
        }
    }
    cb_kb_validate(*t, *tlen, *c, *clen, errs);
}

static int reply_document(cb_ctx *ctx, cb_db *db, int64_t id)
{
    cb_document d;
    cb_document_init(&d);
    cb_rc rc = cb_document_get(db, id, &d);
    int ret = rc == CB_OK ? cb_reply_json(ctx, 201, cb_document_to_json(&d))
                          : cb_reply_rc(ctx, rc, NULL);
    cb_document_clear(&d);
    return ret;
}

int cb_route_document_create(cb_ctx *ctx)
{
    json_t *body = cb_request_json_or_reply(ctx);
    if (!body)
        return U_CALLBACK_COMPLETE;
    cb_errors errs = {0};
    const char *title = NULL, *content = NULL;
    size_t tlen = 0, clen = 0;
    parse_request(body, &title, &tlen, &content, &clen, &errs);
    if (errs.fields) {
        json_decref(body);
        return cb_reply_rc(ctx, CB_INVALID, &errs);
    }
    cb_db *db = cb_ctx_db(ctx);
    int64_t id = 0;
    cb_rc rc = db ? cb_kb_add_document(db, title, content, ctx->user_id, &id, &errs) : CB_BUSY;
    json_decref(body);
    if (rc != CB_OK)
        return cb_reply_rc(ctx, rc, &errs);
    cb_errors_clear(&errs);
    return reply_document(ctx, db, id);
}
