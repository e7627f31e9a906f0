/*
 * kb.h — the knowledge base behind the built-in bot: documents split into
 * passages, BM25 search over them, and the user guide seeded at start.
 *
 * A document (Markdown or plain text) is stored whole in `documents` and
 * cut into `passages` (heading path + a body of at most
 * CB_KB_PASSAGE_CHARS characters) that the FTS5 table passages_fts indexes
 * through triggers. Search takes a user's raw question: it is never FTS5
 * syntax. See docs/knowledge-base.md.
 */
#ifndef CB_BOT_KB_H
#define CB_BOT_KB_H

#include <stddef.h>
#include <stdint.h>
#include "db/model.h"

#define CB_KB_PASSAGE_CHARS 1500    /* the longest passage body, in characters */
#define CB_KB_HEADING_CHARS 200     /* passages.heading holds 200 */
#define CB_KB_TITLE_CHARS 200
#define CB_KB_MAX_TERMS 32          /* search terms taken from one question */

/* One passage cut from a document (both strings malloc'd, owned by it). */
typedef struct cb_kb_passage {
    char *heading;              /* "Parent › Child", or "" before any heading */
    char *body;                 /* trimmed, never empty */
} cb_kb_passage;

/* Splits `len` bytes of valid UTF-8 into passages, in document order:
   at Markdown headings (outside fenced code), then at paragraph
   boundaries so no body exceeds CB_KB_PASSAGE_CHARS characters. A fenced
   code block is kept whole when it fits in one passage, else cut at line
   boundaries and re-fenced. Returns the count; *out is malloc'd (NULL when
   there are none) and freed with cb_kb_passages_free. */
size_t cb_kb_split(const char *text, size_t len, cb_kb_passage **out);
void cb_kb_passages_free(cb_kb_passage *p, size_t n);

/* Validates a document's fields into errs ("title", "content"); either
   pointer may be NULL to skip that field. Spans, not C strings: JSON may
   carry NUL characters. */
void cb_kb_validate(const char *title, size_t title_len, const char *content,
                    size_t content_len, cb_errors *errs);

/* Adds a document and its passages in one transaction: either all of it
   is written or none. created_by 0 means none (seeded). CB_INVALID with
   errs filled for bad input; CB_BUSY / CB_ERROR from the database. */
cb_rc cb_kb_add_document(cb_db *db, const char *title, const char *content,
                         int64_t created_by, int64_t *id_out, cb_errors *errs);

typedef struct cb_kb_hit {
    int64_t document_id, passage_id;
    char *title, *heading, *body;
    double score;               /* -bm25(): higher is better, always > 0 */
} cb_kb_hit;

/* The best `k` passages (1..50) for a user's question, best first. Any
   text is accepted: no match, no meaningful word, or invalid UTF-8 give
   CB_OK with *n = 0. Errors are the database's only. */
cb_rc cb_kb_search(cb_db *db, const char *query, int k, cb_kb_hit **hits, size_t *n);
void cb_kb_hits_free(cb_kb_hit *hits, size_t n);

/* The safe FTS5 query for a question (OR of quoted terms), or NULL when
   it has no meaningful word. Exposed for tests. */
char *cb_kb_fts_query(const char *query);

/* Seeds the user guide (docs/guide/<name>.md, embedded at build time) once per
   database: see docs/knowledge-base.md. Returns the number of documents
   added (0 when already seeded), or -1 on error (logged). */
int cb_kb_seed(cb_db *db);

/* cb_kb_seed on its own connection to the database file at `path`, for
   the server's start: failures are logged, never fatal. */
void cb_kb_seed_file(const char *path);

/* The embedded guide (generated into the build directory from
   docs/guide/<name>.md by scripts/embed-guide.cmake), in file-name order. */
extern const char *const cb_kb_guide_files[];
extern const char *const cb_kb_guide_names[];
extern const size_t cb_kb_guide_count;

#endif
