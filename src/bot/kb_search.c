/*
 * kb_search.c — BM25 search over the knowledge base's passages.
 *
 * A question is a user's raw text, never FTS5 syntax. It is cut into words
 * at every ASCII character that is not a letter or digit (so quotes, *, ^,
 * parentheses, `body:` and `NEAR(` are separators, never operators); words
 * in the stop list and one-letter words go; the rest become quoted phrases.
 * A passage must share enough of them to be about the question: all of
 * up to three terms ("reverse a list in python" must not find "reverse
 * proxy" and "listing"), all but one of four to six (a question rarely
 * shares *every* word with its answer), any of more (a pasted paragraph);
 * BM25 ranks passages that share more, and rarer, words higher. English
 * plurals and -ed/-ing forms are folded to a quoted prefix ("chang"*
 * matches change, changed, changing). At most CB_KB_MAX_TERMS distinct
 * terms are taken, so 100 KB of text costs no more than a short question.
 */
#include "bot/kb.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"
#include "db/validate.h"
#include "util/buf.h"
#include "util/mem.h"

#define MAX_TERM_BYTES 64
#define MAX_K 50
#define HEADING_WEIGHT "4.0"        /* a word in the heading path counts 4 times one in the body */

static const char search_sql[] =
    "SELECT p.id, p.document_id, d.title, p.heading, p.body, "
    "-bm25(passages_fts, " HEADING_WEIGHT ", 1.0) "
    "FROM passages_fts JOIN passages p ON p.id = passages_fts.rowid "
    "JOIN documents d ON d.id = p.document_id "
    "WHERE passages_fts MATCH ?1 "
    "ORDER BY bm25(passages_fts, " HEADING_WEIGHT ", 1.0), p.id LIMIT ?2";

/* Words that carry no topic in a question (lower-case ASCII). */
static const char *const stop_words[] = {
    "a", "about", "above", "after", "again", "all", "also", "am", "an", "and", "any", "are",
    "as", "at", "be", "because", "been", "before", "being", "between", "both", "but", "by",
    "can", "cannot", "could", "did", "do", "does", "doing", "done", "don", "each", "else",
    "even", "ever", "every", "explain", "few", "for", "from", "further", "get", "gets",
    "getting", "give", "go", "going", "got", "had", "has", "have", "having", "he", "hello",
    "help", "her", "here", "hers", "hey", "hi", "him", "his", "how", "i", "if", "in", "into",
    "is", "it", "its", "just", "know", "let", "like", "ll", "long", "many", "me", "might",
    "more", "most", "much", "must", "my", "myself", "need", "no", "nor", "not", "now", "of", "off", "on",
    "once", "one", "only", "or", "other", "our", "ours", "out", "over", "own", "please",
    "possible", "re", "really", "s", "same", "say", "shall", "she", "should", "show", "so",
    "some", "such", "t", "tell", "than", "thank", "thanks", "that", "the", "their", "them",
    "then", "there", "these", "they", "thing", "things", "this", "those", "through", "to",
    "too", "under", "until", "up", "us", "use", "used", "uses", "using", "ve", "very", "want", "was", "way", "we", "were",
    "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would",
    "you", "your", "yours", "yourself",
};

static bool is_stop_word(const char *w)
{
    for (size_t i = 0; i < sizeof stop_words / sizeof *stop_words; i++)
        if (strcmp(w, stop_words[i]) == 0)
            return true;
    return false;
}

static bool ends_with(const char *w, size_t len, const char *suffix)
{
    size_t n = strlen(suffix);
    return len > n && memcmp(w + len - n, suffix, n) == 0;
}

/* Folds an English inflection off a lower-case ASCII word: returns the
   stem length, or 0 when the word is kept whole. A final e goes too, so
   change, changed and changing share "chang"; so does a doubled final
   consonant left behind (chatting → chat). */
static size_t stem(const char *w, size_t len)
{
    static const char *const suffixes[] = {"ing", "ies", "ed", "es", "s", "e"};
    for (size_t i = 0; i < sizeof suffixes / sizeof *suffixes; i++) {
        size_t s = strlen(suffixes[i]);
        size_t min = suffixes[i][0] == 'e' && s == 1 ? 4 : 3;   /* change → chang, not us → u */
        if (!ends_with(w, len, suffixes[i]) || ends_with(w, len, "ss") || len - s < min)
            continue;
        size_t n = len - s;
        if (n >= 4 && w[n - 1] == w[n - 2] && !strchr("aeiouls", w[n - 1]))
            n--;
        return n;
    }
    return 0;
}

static bool all_alpha(const char *w, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (!isalpha((unsigned char)w[i]))
            return false;
    return true;
}

typedef char term[MAX_TERM_BYTES + 4];      /* "word"* and its NUL */

/* Adds one term as a quoted phrase (a prefix query for a long enough
   English word) unless it is already there. */
static void add_term(term *terms, int *n, char *w, size_t len)
{
    size_t n_stem = all_alpha(w, len) ? stem(w, len) : 0;
    bool prefix = n_stem > 0 || (all_alpha(w, len) && len >= 3);
    if (n_stem)
        len = n_stem;
    term t;
    /* No '"' can be in a word: it is a separator. */
    snprintf(t, sizeof t, "\"%.*s\"%s", (int)len, w, prefix ? "*" : "");
    for (int i = 0; i < *n; i++)
        if (strcmp(terms[i], t) == 0)
            return;
    memcpy(terms[(*n)++], t, sizeof t);
}

/* The terms joined by the quorum rule (see the top of the file). */
static void join_terms(cb_buf *q, const term *terms, int n)
{
    if (n <= 3 || n > 6) {
        for (int i = 0; i < n; i++) {
            if (i)
                cb_buf_puts(q, n <= 3 ? " AND " : " OR ");
            cb_buf_puts(q, terms[i]);
        }
        return;
    }
    for (int skip = 0; skip < n; skip++) {
        cb_buf_puts(q, skip ? " OR (" : "(");
        for (int i = 0, first = 1; i < n; i++) {
            if (i == skip)
                continue;
            if (!first)
                cb_buf_puts(q, " AND ");
            cb_buf_puts(q, terms[i]);
            first = 0;
        }
        cb_buf_putc(q, ')');
    }
}

char *cb_kb_fts_query(const char *query)
{
    size_t len = strlen(query);
    if (!cb_utf8_valid(query, len))
        return NULL;
    term terms[CB_KB_MAX_TERMS];
    int n = 0;
    for (size_t i = 0; i < len && n < CB_KB_MAX_TERMS;) {
        unsigned char c = (unsigned char)query[i];
        if (c < 0x80 && !isalnum(c)) {
            i++;
            continue;
        }
        size_t start = i;
        while (i < len && ((unsigned char)query[i] >= 0x80 || isalnum((unsigned char)query[i])))
            i++;
        size_t wlen = i - start;
        if (wlen > MAX_TERM_BYTES || (wlen == 1 && c < 0x80))
            continue;                   /* noise (hashes, base64) or a lone letter */
        char w[MAX_TERM_BYTES + 1];
        for (size_t k = 0; k < wlen; k++) {
            char ch = query[start + k];
            w[k] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
        }
        w[wlen] = '\0';
        if (!is_stop_word(w))
            add_term(terms, &n, w, wlen);
    }
    if (n == 0)
        return NULL;
    cb_buf q = {0};
    join_terms(&q, terms, n);
    return cb_buf_take(&q, NULL);
}

static char *column_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return cb_xstrdup(t ? (const char *)t : "");
}

cb_rc cb_kb_search(cb_db *db, const char *query, int k, cb_kb_hit **hits, size_t *n)
{
    *hits = NULL;
    *n = 0;
    char *match = query ? cb_kb_fts_query(query) : NULL;
    if (!match)
        return CB_OK;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->handle, search_sql, -1, &st, NULL) != SQLITE_OK) {
        cb_rc rc = cb_db_rc(db, sqlite3_errcode(db->handle));
        free(match);
        return rc == CB_OK ? CB_ERROR : rc;
    }
    sqlite3_bind_text(st, 1, match, -1, free);
    sqlite3_bind_int(st, 2, k < 1 ? 1 : k > MAX_K ? MAX_K : k);
    int rc;
    size_t cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            *hits = cb_xrealloc(*hits, cap * sizeof **hits);
        }
        cb_kb_hit *h = &(*hits)[(*n)++];
        h->passage_id = sqlite3_column_int64(st, 0);
        h->document_id = sqlite3_column_int64(st, 1);
        h->title = column_text(st, 2);
        h->heading = column_text(st, 3);
        h->body = column_text(st, 4);
        h->score = sqlite3_column_double(st, 5);
    }
    cb_rc res = cb_db_rc(db, rc);
    sqlite3_finalize(st);
    if (res != CB_OK) {
        cb_kb_hits_free(*hits, *n);
        *hits = NULL;
        *n = 0;
    }
    return res;
}

void cb_kb_hits_free(cb_kb_hit *hits, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(hits[i].title);
        free(hits[i].heading);
        free(hits[i].body);
    }
    free(hits);
}
