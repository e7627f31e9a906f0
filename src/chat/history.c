/*
 * history.c — what a model is shown of a conversation.
 *
 * The context-budget rule: the system prompt (if any) always; the newest
 * user message always, whole; then older messages newest first while the
 * running total of characters (code points) stays within
 * context_budget_chars. Failed replies with no text are skipped (they
 * carry nothing the model said); stopped and failed replies with text are
 * kept (the user saw them). At most 500 messages are looked at: no budget reaches further.
 */
#include "chat/chat.h"

#include <stdlib.h>
#include <string.h>

#include "bot/kb.h"
#include "db/db.h"
#include "db/validate.h"
#include "util/buf.h"
#include "server/config.h"
#include "util/mem.h"

#define HISTORY_SQL                                                                     \
    "SELECT role, content FROM messages WHERE conversation_id = ?1 AND id < ?2 " \
    "ORDER BY id DESC LIMIT 500"

static char *own(cb_history *h, const char *s)
{
    h->owned = cb_xrealloc(h->owned, (h->n_owned + 1) * sizeof *h->owned);
    return h->owned[h->n_owned++] = cb_xstrdup(s);
}

/* Messages newest first into `newest` (reversed later), within budget. */
static cb_rc collect(cb_db *db, const cb_conversation *c, int64_t reply_id, size_t budget,
                     cb_history *h, cb_bot_turn **newest, size_t *n_newest)
{
    sqlite3_stmt *q = cb_db_custom_stmt(db, CB_Q_CHAT_HISTORY, HISTORY_SQL);
    if (!q)
        return CB_ERROR;
    sqlite3_bind_int64(q, 1, c->id);
    sqlite3_bind_int64(q, 2, reply_id);
    size_t used = 0;
    int rc;
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char *role = (const char *)sqlite3_column_text(q, 0);
        const char *content = (const char *)sqlite3_column_text(q, 1);
        if (!content[0])
            continue;
        size_t len = cb_utf8_count(content, strlen(content));
        if (*n_newest > 0 && used + len > budget)
            break;
        used += len;
        *newest = cb_xrealloc(*newest, (*n_newest + 1) * sizeof **newest);
        (*newest)[(*n_newest)++] = (cb_bot_turn){own(h, role), own(h, content)};
    }
    cb_rc res = rc == SQLITE_ROW || rc == SQLITE_DONE ? CB_OK : cb_db_rc(db, rc);
    sqlite3_reset(q);
    return res;
}

cb_rc cb_chat_history(cb_db *db, const cb_conversation *c, int64_t reply_id, cb_history *out)
{
    memset(out, 0, sizeof *out);
    size_t budget = (size_t)cb_cfg->context_budget_chars;
    size_t system_len = cb_utf8_count(c->system_prompt, strlen(c->system_prompt));
    budget = budget > system_len ? budget - system_len : 0;
    cb_bot_turn *newest = NULL;
    size_t n_newest = 0;
    cb_rc rc = collect(db, c, reply_id, budget, out, &newest, &n_newest);
    if (rc == CB_OK) {
        out->turns = cb_xcalloc(n_newest + 1, sizeof *out->turns);
        if (system_len)
            out->turns[out->n++] = (cb_bot_turn){"system", own(out, c->system_prompt)};
        for (size_t i = n_newest; i > 0; i--)
            out->turns[out->n++] = newest[i - 1];
    }
    free(newest);
    if (rc != CB_OK)
        cb_history_free(out);
    return rc;
}

void cb_history_free(cb_history *h)
{
    for (size_t i = 0; i < h->n_owned; i++)
        free(h->owned[i]);
    free(h->owned);
    free(h->turns);
    memset(h, 0, sizeof *h);
}

/* --- retrieval for a language model (RAG) -------------------------------- */

#define KNOWLEDGE_HITS 3
#define KNOWLEDGE_SHARE 0.5         /* a hit must score this share of the best */

void cb_history_add_knowledge(cb_history *h, cb_db *db, const char *query)
{
    cb_kb_hit *hits = NULL;
    size_t n = 0;
    if (cb_kb_search(db, query, KNOWLEDGE_HITS, &hits, &n) != CB_OK || n == 0) {
        cb_kb_hits_free(hits, n);
        return;
    }
    cb_buf b = {0};
    bool has_system = h->n > 0 && strcmp(h->turns[0].role, "system") == 0;
    if (has_system) {
        cb_buf_puts(&b, h->turns[0].content);
        cb_buf_puts(&b, "\n\n");
    }
    cb_buf_puts(&b, "Excerpts from this service's knowledge base that may help. When you use "
                    "one, name its source; if they do not answer the question, ignore them.");
    for (size_t i = 0; i < n; i++) {
        if (hits[i].score < hits[0].score * KNOWLEDGE_SHARE)
            break;
        cb_buf_puts(&b, "\n\n[Source: ");
        cb_buf_puts(&b, hits[i].title);
        if (hits[i].heading[0]) {
            cb_buf_puts(&b, " › ");
            cb_buf_puts(&b, hits[i].heading);
        }
        cb_buf_puts(&b, "]\n");
        cb_buf_puts(&b, hits[i].body);
    }
    cb_kb_hits_free(hits, n);
    size_t len;
    char *text = cb_buf_take(&b, &len);
    h->owned = cb_xrealloc(h->owned, (h->n_owned + 1) * sizeof *h->owned);
    h->owned[h->n_owned++] = text;
    if (!has_system) {
        h->turns = cb_xrealloc(h->turns, (h->n + 1) * sizeof *h->turns);
        memmove(h->turns + 1, h->turns, h->n * sizeof *h->turns);
        h->n++;
    }
    h->turns[0] = (cb_bot_turn){"system", text};
}
