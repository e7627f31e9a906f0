/*
 * builtin.c — the offline bot: answers from the knowledge base (kb.h).
 *
 * start() runs synchronously on the request's connection: it searches the
 * knowledge base for the user's last message, quotes the best passages as
 * Markdown blockquotes under their source ("From **Title › Heading**:"),
 * or says plainly that it does not know and what it can help with. Small
 * talk (hi, thanks, bye) gets a short friendly answer without a search.
 * The answer goes out in small deltas of a few words, each whole UTF-8
 * characters, then finish. Same database, same question: same answer,
 * byte for byte (tests compare). It never stores anything.
 */
#include "bot/bot.h"
#include "bot/kb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "util/buf.h"
#include "util/mem.h"

#define MODEL_ID "builtin"
#define TOP_K 3
#define BEST_CHARS 900              /* the best passage is quoted up to this */
#define OTHER_CHARS 450             /* the others, shorter */
#define RELEVANT_SHARE 0.5          /* others must score at least this share of the best */
#define WORDS_PER_DELTA 4
#define MAX_DELTA_BYTES 96
#define MAX_TOPICS 8

/* --- small talk ---------------------------------------------------------- */

enum talk { TALK_NONE, TALK_HELLO, TALK_THANKS, TALK_BYE };

static bool in_list(const char *w, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(w, *list) == 0)
            return true;
    return false;
}

/* Classifies a message made only of greeting / thanks / farewell words. */
static enum talk small_talk(const char *q)
{
    static const char *const hello[] = {"hi", "hello", "hey", "hiya", "howdy", "yo", "greetings",
                                        "good", "morning", "afternoon", "evening", "there",
                                        "bot", "all", NULL};
    static const char *const thanks[] = {"thanks", "thank", "you", "thx", "ty", "cheers", "much",
                                         "very", "a", "lot", "so", "great", "ok", "okay",
                                         "cool", "nice", "perfect", "awesome", "many", NULL};
    static const char *const bye[] = {"bye", "goodbye", "see", "you", "later", "cya", "good",
                                      "night", "ciao", NULL};
    bool all_hello = true, all_thanks = true, all_bye = true, thanked = false;
    int words = 0;
    const char *p = q;
    while (*p && words <= 8) {
        if ((unsigned char)*p < 0x80 && !((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')) {
            if (*p >= '0' && *p <= '9')
                return TALK_NONE;
            p++;
            continue;
        }
        char w[24];
        size_t n = 0;
        for (; *p && ((unsigned char)*p >= 0x80 || ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z')); p++)
            if (n < sizeof w - 1)
                w[n++] = (char)(*p | 0x20);
        w[n] = '\0';
        words++;
        all_hello = all_hello && in_list(w, hello);
        all_thanks = all_thanks && in_list(w, thanks);
        all_bye = all_bye && in_list(w, bye);
        thanked = thanked || in_list(w, (const char *const[]){"thanks", "thank", "thx", "ty",
                                                              "cheers", NULL});
    }
    if (words == 0 || words > 8)
        return TALK_NONE;
    if (all_thanks && thanked)
        return TALK_THANKS;
    if (all_hello)
        return TALK_HELLO;
    return all_bye ? TALK_BYE : TALK_NONE;
}

static const char hello_text[] =
    "Hello! I am the built-in assistant. I answer from this server's knowledge base — "
    "ask me, for example, *How do I change my password?*, *How do I create an API token?* "
    "or *How do I connect an LLM?*";
static const char thanks_text[] = "You're welcome! Ask me anything else whenever you like.";
static const char bye_text[] = "Goodbye! Come back any time.";

/* --- quoting passages ---------------------------------------------------- */

/* Bold label text: Markdown's active characters escaped. */
static void put_escaped(cb_buf *b, const char *s)
{
    for (; *s; s++) {
        if (strchr("\\`*_[]<>#|", *s))
            cb_buf_putc(b, '\\');
        cb_buf_putc(b, *s);
    }
}

/* "Title › Heading", or the heading alone when it already starts with the
   title (a guide file's own "# Title" heads its path), or the title. */
static void put_source(cb_buf *b, const cb_kb_hit *h)
{
    size_t tl = strlen(h->title);
    cb_buf_puts(b, "**");
    if (!h->heading[0]) {
        put_escaped(b, h->title);
    } else if (strncmp(h->heading, h->title, tl) == 0 &&
               (h->heading[tl] == '\0' || strncmp(h->heading + tl, " › ", 5) == 0)) {
        put_escaped(b, h->heading);
    } else {
        put_escaped(b, h->title);
        cb_buf_puts(b, " › ");
        put_escaped(b, h->heading);
    }
    cb_buf_puts(b, "**");
}

/* Byte length of the first `n` characters of s. */
static size_t prefix_bytes(const char *s, size_t n)
{
    size_t i = 0;
    while (s[i] && n > 0) {
        i++;
        while (s[i] && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        n--;
    }
    return i;
}

/* Where to end an excerpt of at most `limit` characters: the last
   paragraph break, else line break, else sentence end, else space in the
   second half of the window. */
static size_t excerpt_end(const char *s, size_t limit)
{
    size_t max = prefix_bytes(s, limit);
    if (s[max] == '\0')
        return max;
    size_t half = prefix_bytes(s, limit / 2);
    static const char *const breaks[] = {"\n\n", "\n", ". ", " "};
    for (size_t k = 0; k < sizeof breaks / sizeof *breaks; k++) {
        size_t bl = strlen(breaks[k]);
        for (size_t i = max; i >= half + bl; i--)
            if (memcmp(s + i - bl, breaks[k], bl) == 0)
                return i - (breaks[k][0] == '.' ? 1 : bl);
    }
    return max;
}

/* The excerpt as a blockquote; a code fence the cut left open is closed. */
static void put_quote(cb_buf *b, const char *body, size_t limit)
{
    size_t end = excerpt_end(body, limit);
    bool cut = body[end] != '\0';
    char fence[8] = "";
    const char *p = body, *stop = body + end;
    while (p < stop) {
        const char *nl = memchr(p, '\n', (size_t)(stop - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(stop - p);
        const char *t = p + strspn(p, " ");
        if (t < p + len && (strncmp(t, "```", 3) == 0 || strncmp(t, "~~~", 3) == 0)) {
            if (fence[0] && strncmp(t, fence, 3) == 0)
                fence[0] = '\0';
            else if (!fence[0])
                snprintf(fence, sizeof fence, "%.3s", t);
        }
        cb_buf_puts(b, len ? "> " : ">");
        cb_buf_put(b, p, len);
        cb_buf_putc(b, '\n');
        p += len + (nl ? 1 : 0);
    }
    if (fence[0]) {
        cb_buf_puts(b, "> ");
        cb_buf_puts(b, fence);
        cb_buf_putc(b, '\n');
    }
    if (cut)
        cb_buf_puts(b, fence[0] ? "> …\n" : ">\n> …\n");
}

/* The titles of the first documents, for "what I can help with". */
static void put_topics(cb_buf *b, cb_db *db)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->handle, "SELECT title FROM documents ORDER BY id LIMIT ?1", -1, &st,
                           NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int(st, 1, MAX_TOPICS + 1);
    int n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (n == MAX_TOPICS) {
            cb_buf_puts(b, ", and more");
            break;
        }
        cb_buf_puts(b, n == 0 ? "\n\nI can help with what its documents cover: " : ", ");
        cb_buf_puts(b, "*");
        put_escaped(b, t ? t : "");
        cb_buf_puts(b, "*");
        n++;
    }
    sqlite3_finalize(st);
    cb_buf_puts(b, n ? ". Try asking with other words, for example *How do I change my "
                       "password?*"
                     : "\n\nThe knowledge base is empty: an administrator can add documents "
                       "to it.");
}

/* The whole answer for `query` (malloc'd) or an error from the search. */
static cb_rc compose(cb_db *db, const char *query, char **out)
{
    cb_buf b = {0};
    enum talk t = small_talk(query);
    if (t != TALK_NONE) {
        cb_buf_puts(&b, t == TALK_HELLO ? hello_text : t == TALK_THANKS ? thanks_text : bye_text);
        *out = cb_buf_take(&b, NULL);
        return CB_OK;
    }
    cb_kb_hit *hits;
    size_t n;
    cb_rc rc = cb_kb_search(db, query, TOP_K, &hits, &n);
    if (rc != CB_OK)
        return rc;
    if (n == 0) {
        cb_buf_puts(&b, "I don't know: I found nothing about that in the knowledge base.");
        put_topics(&b, db);
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && hits[i].score < hits[0].score * RELEVANT_SHARE)
            break;
        cb_buf_puts(&b, i == 0 ? "From " : "\nAlso from ");
        put_source(&b, &hits[i]);
        cb_buf_puts(&b, ":\n\n");
        put_quote(&b, hits[i].body, i == 0 ? BEST_CHARS : OTHER_CHARS);
    }
    cb_kb_hits_free(hits, n);
    size_t len;
    *out = cb_buf_take(&b, &len);
    while (len > 0 && (*out)[len - 1] == '\n')
        (*out)[--len] = '\0';
    return CB_OK;
}

/* --- the provider ---------------------------------------------------------- */

/* Sends `text` in pieces of a few words (cut after whitespace, so never
   inside a UTF-8 character; an overlong word is cut at a character start). */
static void stream(cb_bot_job *job, const char *text)
{
    const char *p = text;
    while (*p && !cb_bot_job_cancelled(job)) {
        size_t i = 0;
        int words = 0;
        while (p[i] && words < WORDS_PER_DELTA && i < MAX_DELTA_BYTES) {
            while (p[i] && !strchr(" \n", p[i]) && i < MAX_DELTA_BYTES)
                i++;
            while (p[i] == ' ' || p[i] == '\n')
                i++;
            words++;
        }
        while (p[i] && ((unsigned char)p[i] & 0xC0) == 0x80)
            i--;                        /* back to the start of a character */
        if (i == 0)
            i = prefix_bytes(p, 1);
        cb_bot_job_delta(job, p, i);
        p += i;
    }
}

static cb_rc builtin_start(const cb_bot_request *req, cb_bot_job *job, char *detail,
                           size_t detail_size)
{
    char *answer = NULL;
    cb_rc rc = req->db ? compose(req->db, req->query ? req->query : "", &answer) : CB_BUSY;
    if (rc != CB_OK) {
        snprintf(detail, detail_size, "the knowledge base is unavailable right now");
        return rc;
    }
    stream(job, answer);
    free(answer);
    cb_bot_job_finish(job, true, NULL);
    return CB_OK;
}

static void builtin_models(json_t *items)
{
    json_array_append_new(items, json_pack("{s:s, s:s, s:s}", "id", MODEL_ID, "name",
                                           "Built-in knowledge base", "provider", "builtin"));
}

static bool builtin_has_model(const char *model)
{
    return model && strcmp(model, MODEL_ID) == 0;
}

const cb_bot_provider cb_bot_builtin = {
    .name = "builtin",
    .start = builtin_start,
    .wake = NULL,
    .models = builtin_models,
    .has_model = builtin_has_model,
};
