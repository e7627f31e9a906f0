/*
 * messages.c — POST …/messages, …/regenerate and …/stop.
 *
 * Order matters for durability: the user's message and an empty reply row
 * ("streaming") are committed in one transaction before any bot work
 * starts, so neither a failing model nor a crash can lose what the user
 * wrote. One reply runs per conversation (job.h); a second one is a 409.
 */
#include "chat/chat.h"

#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/validate.h"
#include "server/config.h"
#include "util/buf.h"
#include "util/mem.h"

#define LAST_MESSAGE_SQL \
    "SELECT id, role, content FROM messages WHERE conversation_id = ?1 ORDER BY id DESC LIMIT 1"
#define TOUCH_SQL "UPDATE conversations SET updated_at = ?2 WHERE id = ?1"

static const char DEFAULT_TITLE[] = "New chat";

/* --- the request ---------------------------------------------------------- */

static bool is_blank(const char *s)
{
    for (; *s; s++)
        if (!strchr(" \t\r\n\f\v", *s))
            return false;
    return true;
}

/* {content, stream?}: the content into msg, `stream` into *stream. */
static cb_rc parse_message(json_t *body, cb_message *msg, json_t **stream, cb_errors *errs)
{
    *stream = json_incref(json_object_get(body, "stream"));
    if (*stream) {
        if (!json_is_boolean(*stream))
            cb_errors_add(errs, "stream", "must be true or false");
        json_object_del(body, "stream");
    }
    cb_rc rc = cb_message_from_json(body, CB_MESSAGE_F_CONTENT, true, msg, errs);
    /* content has a column default, so the row reader does not require it. */
    if (rc == CB_OK && !msg->content)
        cb_errors_add(errs, "content", "is required");
    else if (rc == CB_OK && is_blank(msg->content))
        cb_errors_add(errs, "content", "must not be empty");
    else if (rc == CB_OK &&
             cb_utf8_count(msg->content, strlen(msg->content)) > (size_t)cb_cfg->max_message_chars)
        cb_errors_add(errs, "content", "must be at most %d characters", cb_cfg->max_message_chars);
    return rc == CB_OK && errs->fields ? CB_INVALID : rc;
}

/* {stream?} for regenerate. */
static cb_rc parse_regenerate(json_t *body, json_t **stream, cb_errors *errs)
{
    const char *key;
    json_t *v;
    *stream = NULL;
    json_object_foreach(body, key, v) {
        if (strcmp(key, "stream") != 0)
            cb_errors_add(errs, key, "unknown field");
        else if (!json_is_boolean(v))
            cb_errors_add(errs, "stream", "must be true or false");
        else
            *stream = json_incref(v);
    }
    return errs->fields ? CB_INVALID : CB_OK;
}

bool cb_chat_wants_stream(cb_ctx *ctx, const json_t *stream_field)
{
    if (stream_field)
        return json_is_true(stream_field);
    const char *accept = u_map_get_case(ctx->req->map_header, "Accept");
    return accept && strstr(accept, "text/event-stream");
}

/* --- shared with the other chat endpoints ---------------------------------- */

cb_rc cb_chat_load_conversation(cb_ctx *ctx, const char *param, cb_conversation *out)
{
    int64_t id;
    if (!cb_parse_id(u_map_get(ctx->req->map_url, param), &id))
        return CB_NOTFOUND;
    cb_db *db = cb_ctx_db(ctx);
    if (!db)
        return CB_BUSY;
    cb_rc rc = cb_conversation_get(db, id, out);
    if (rc == CB_OK && out->user_id != ctx->user_id)
        rc = CB_NOTFOUND;
    return rc;
}

const char *cb_chat_model_of(const cb_conversation *c)
{
    return c->model && c->model[0] ? c->model : cb_bot_default_model();
}

/* --- writing the rows ----------------------------------------------------- */

/* A title from the first message: its first line, whitespace collapsed,
   cut at a word boundary near 60 characters. */
static char *title_from(const char *content)
{
    cb_buf b = {0};
    size_t n_chars = 0;
    bool space = false;
    for (const char *p = content; *p && *p != '\n'; p++) {
        unsigned char c = (unsigned char)*p;
        if (strchr(" \t\r\f\v", c)) {
            space = b.len > 0;
            continue;
        }
        bool starts_char = (c & 0xC0) != 0x80;
        if (starts_char && n_chars >= 60)
            break;
        if (space && starts_char) {
            if (n_chars >= 45)
                break;              /* end on a whole word */
            cb_buf_putc(&b, ' ');
            n_chars++;
        }
        space = false;
        cb_buf_putc(&b, (char)c);
        n_chars += starts_char;
    }
    if (b.len == 0)
        cb_buf_puts(&b, DEFAULT_TITLE);
    else if (strlen(content) > b.len)
        cb_buf_puts(&b, "…");
    size_t len;
    return cb_buf_take(&b, &len);
}

static cb_rc touch_conversation(cb_db *db, cb_conversation *c, bool first_message,
                                const char *content)
{
    if (first_message && strcmp(c->title, DEFAULT_TITLE) == 0) {
        free(c->title);
        c->title = title_from(content);
        c->hdr.set = CB_CONVERSATION_F_TITLE;
        return cb_conversation_update(db, c);
    }
    sqlite3_stmt *q = cb_db_custom_stmt(db, CB_Q_CONVERSATION_TOUCH, TOUCH_SQL);
    if (!q)
        return CB_ERROR;
    sqlite3_bind_int64(q, 1, c->id);
    sqlite3_bind_int64(q, 2, cb_now_ms());
    cb_rc rc = cb_db_rc(db, sqlite3_step(q));
    sqlite3_reset(q);
    return rc;
}

static void reply_row(cb_message *reply, const cb_conversation *c, int64_t user_id,
                      const char *model)
{
    cb_message_init(reply);
    reply->conversation_id = c->id;
    reply->user_id = user_id;
    reply->role = cb_xstrdup("assistant");
    reply->content = cb_xstrdup("");
    reply->status = cb_xstrdup("streaming");
    reply->model = cb_xstrdup(model);
    reply->hdr.set = CB_MESSAGE_F_CONVERSATION_ID | CB_MESSAGE_F_USER_ID | CB_MESSAGE_F_ROLE |
                     CB_MESSAGE_F_CONTENT | CB_MESSAGE_F_STATUS | CB_MESSAGE_F_MODEL;
}

/* The id of the conversation's newest message and whether it is a reply
   (with its content, for nothing else than the caller's checks). */
static cb_rc last_message(cb_db *db, int64_t conversation_id, int64_t *id, bool *is_reply)
{
    sqlite3_stmt *q = cb_db_custom_stmt(db, CB_Q_LAST_MESSAGE, LAST_MESSAGE_SQL);
    if (!q)
        return CB_ERROR;
    sqlite3_bind_int64(q, 1, conversation_id);
    int rc = sqlite3_step(q);
    *id = 0;
    *is_reply = false;
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(q, 0);
        *is_reply = strcmp((const char *)sqlite3_column_text(q, 1), "assistant") == 0;
    }
    cb_rc res = rc == SQLITE_ROW || rc == SQLITE_DONE ? CB_OK : cb_db_rc(db, rc);
    sqlite3_reset(q);
    return res;
}

/* --- running the reply ------------------------------------------------------ */

/* Builds the model's request from the stored history and hands over to
   reply.c. Takes `job` and `user_json`. */
static int start_reply(cb_ctx *ctx, cb_conversation *c, const cb_bot_provider *provider,
                       cb_bot_job *job, int64_t reply_id, char *user_json, bool stream)
{
    cb_history h;
    cb_rc rc = cb_chat_history(ctx->db, c, reply_id, &h);
    if (rc != CB_OK || h.n == 0) {
        /* The rows are stored; the reply is marked failed, not left running. */
        cb_job_ref(job);
        cb_bot_job_finish(job, false, "the conversation history could not be read");
    }
    const char *query = h.n ? h.turns[h.n - 1].content : "";
    if (rc == CB_OK && h.n > 0 && provider != &cb_bot_builtin)
        cb_history_add_knowledge(&h, ctx->db, query);
    cb_bot_request req = {.model = cb_chat_model_of(c), .turns = h.turns, .n_turns = h.n,
                          .query = query, .db = ctx->db};
    cb_reply_start start = {.job = job, .provider = provider, .request = &req,
                            .reply_id = reply_id, .user_message_json = user_json,
                            .stream = stream};
    int ret = cb_chat_reply(ctx, &start);
    cb_history_free(&h);
    return ret;
}

/* The provider for the conversation's model, or a 409 naming the model. */
static const cb_bot_provider *provider_or_reply(cb_ctx *ctx, const cb_conversation *c, int *ret)
{
    const cb_bot_provider *p = cb_bot_for_model(cb_chat_model_of(c));
    if (!p) {
        char detail[200];
        snprintf(detail, sizeof detail,
                 "this conversation's model '%.100s' is not offered; choose one from "
                 "/api/v1/models",
                 cb_chat_model_of(c));
        *ret = cb_reply_problem(ctx, 409, detail, NULL);
    }
    return p;
}

static int reply_busy(cb_ctx *ctx)
{
    return cb_reply_problem(ctx, 409, "a reply is already being written in this conversation",
                            NULL);
}

/* Stores the user's message and an empty reply; their ids and JSON out,
   and *first: this was the first message and the title still the default. */
static cb_rc store_turn(cb_db *db, cb_ctx *ctx, cb_conversation *c, cb_message *msg,
                        cb_message *reply, char **user_json, bool *first)
{
    int64_t last_id;
    bool last_is_reply;
    cb_rc rc = cb_db_begin(db);
    if (rc == CB_OK)
        rc = last_message(db, c->id, &last_id, &last_is_reply);
    msg->conversation_id = c->id;
    msg->user_id = ctx->user_id;
    free(msg->role);
    msg->role = cb_xstrdup("user");
    msg->hdr.set |= CB_MESSAGE_F_CONVERSATION_ID | CB_MESSAGE_F_USER_ID | CB_MESSAGE_F_ROLE;
    if (rc == CB_OK)
        rc = cb_message_insert(db, msg);
    reply_row(reply, c, ctx->user_id, cb_chat_model_of(c));
    if (rc == CB_OK)
        rc = cb_message_insert(db, reply);
    *first = rc == CB_OK && last_id == 0 && strcmp(c->title, DEFAULT_TITLE) == 0;
    if (rc == CB_OK)
        rc = touch_conversation(db, c, last_id == 0, msg->content);
    if (rc == CB_OK)
        rc = cb_db_commit(db);
    else
        cb_db_rollback(db);
    if (rc == CB_OK) {
        cb_buf b = {0};
        size_t len;
        cb_row_write_json(&b, &cb_model_message, msg);
        *user_json = cb_buf_take(&b, &len);
    }
    return rc;
}

int cb_route_message_create(cb_ctx *ctx)
{
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
    cb_conversation c;
    cb_conversation_init(&c);
    cb_message msg, reply;
    cb_message_init(&msg);
    cb_message_init(&reply);
    cb_errors errs = {0};
    json_t *stream = NULL, *body = NULL;
    cb_bot_job *job = NULL;
    char *user_json = NULL;
    bool first = false;
    int ret;
    cb_rc rc = cb_chat_load_conversation(ctx, "conversation_id", &c);
    if (rc != CB_OK) {
        ret = cb_reply_rc(ctx, rc, NULL);
        goto out;
    }
    if (!(body = cb_request_json_or_reply(ctx))) {
        ret = U_CALLBACK_COMPLETE;
        goto out;
    }
    const cb_bot_provider *provider;
    if ((rc = parse_message(body, &msg, &stream, &errs)) != CB_OK)
        ret = cb_reply_rc(ctx, rc, &errs);
    else if (!(provider = provider_or_reply(ctx, &c, &ret)))
        ;
    else if (!(job = cb_job_claim(c.id)))
        ret = reply_busy(ctx);
    else if ((rc = store_turn(ctx->db, ctx, &c, &msg, &reply, &user_json, &first)) != CB_OK) {
        cb_job_unregister(job);
        cb_job_unref(job);
        ret = cb_reply_rc(ctx, rc, &errs);
    } else {
        if (first && provider == &cb_bot_openai)
            cb_chat_title_later(c.id, cb_chat_model_of(&c), msg.content, c.title);
        ret = start_reply(ctx, &c, provider, job, reply.id, user_json,
                          cb_chat_wants_stream(ctx, stream));
    }
out:
    cb_errors_clear(&errs);
    json_decref(stream);
    json_decref(body);
    cb_message_clear(&msg);
    cb_message_clear(&reply);
    cb_conversation_clear(&c);
    return ret;
}

/* --- regenerate and stop ---------------------------------------------------- */

/* Empties the newest message for a new reply if it is one. */
static cb_rc reset_last_reply(cb_db *db, const cb_conversation *c, int64_t *reply_id)
{
    bool is_reply;
    cb_rc rc = cb_db_begin(db);
    if (rc == CB_OK)
        rc = last_message(db, c->id, reply_id, &is_reply);
    if (rc == CB_OK && !is_reply)
        rc = CB_CONFLICT;
    cb_message m;
    cb_message_init(&m);
    if (rc == CB_OK)
        rc = cb_message_get(db, *reply_id, &m);
    if (rc == CB_OK) {
        free(m.content);
        free(m.status);
        free(m.model);
        m.content = cb_xstrdup("");
        m.status = cb_xstrdup("streaming");
        m.model = cb_xstrdup(cb_chat_model_of(c));
        m.hdr.set = CB_MESSAGE_F_CONTENT | CB_MESSAGE_F_STATUS | CB_MESSAGE_F_MODEL;
        rc = cb_message_update(db, &m);
    }
    cb_message_clear(&m);
    if (rc == CB_OK)
        rc = cb_db_commit(db);
    else
        cb_db_rollback(db);
    return rc;
}

int cb_route_conversation_regenerate(cb_ctx *ctx)
{
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
    cb_conversation c;
    cb_conversation_init(&c);
    cb_errors errs = {0};
    json_t *stream = NULL, *body = NULL;
    cb_bot_job *job = NULL;
    int64_t reply_id = 0;
    int ret;
    const cb_bot_provider *provider;
    cb_rc rc = cb_chat_load_conversation(ctx, "id", &c);
    if (rc != CB_OK)
        ret = cb_reply_rc(ctx, rc, NULL);
    else if (!(body = cb_request_json_or_reply(ctx)))
        ret = U_CALLBACK_COMPLETE;
    else if ((rc = parse_regenerate(body, &stream, &errs)) != CB_OK)
        ret = cb_reply_rc(ctx, rc, &errs);
    else if (!(provider = provider_or_reply(ctx, &c, &ret)))
        ;
    else if (!(job = cb_job_claim(c.id)))
        ret = reply_busy(ctx);
    else if ((rc = reset_last_reply(ctx->db, &c, &reply_id)) != CB_OK) {
        cb_job_unregister(job);
        cb_job_unref(job);
        ret = rc == CB_CONFLICT
                  ? cb_reply_problem(ctx, 409, "there is no reply to regenerate", NULL)
                  : cb_reply_rc(ctx, rc, NULL);
    } else {
        ret = start_reply(ctx, &c, provider, job, reply_id, NULL,
                          cb_chat_wants_stream(ctx, stream));
    }
    cb_errors_clear(&errs);
    json_decref(stream);
    json_decref(body);
    cb_conversation_clear(&c);
    return ret;
}

int cb_route_conversation_stop(cb_ctx *ctx)
{
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
    cb_conversation c;
    cb_conversation_init(&c);
    cb_rc rc = cb_chat_load_conversation(ctx, "id", &c);
    if (rc == CB_OK)
        cb_job_stop_conversation(c.id);
    cb_conversation_clear(&c);
    return rc == CB_OK ? cb_reply_empty(ctx, 204) : cb_reply_rc(ctx, rc, NULL);
}
