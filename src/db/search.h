/*
 * search.h — the two halves of full-text search that hand-written queries
 * share with the generic model search (cb_row_search): turning the user's
 * text into an FTS5 query that can never be a syntax error, and turning
 * FTS5's marked snippet into plain text plus character offsets.
 */
#ifndef CB_DB_SEARCH_H
#define CB_DB_SEARCH_H

#include <stddef.h>
#include "db/model.h"

/* The safe FTS5 MATCH text for the user's `text` (malloc'd), or NULL when it
   has no terms. Every whitespace-separated term becomes a quoted phrase
   (a"b → "a""b"), joined by spaces (implicit AND), so quotes, NEAR, OR, *,
   ^, parentheses and col: filters are plain words. When `min_prefix` > 0
   and the text does not end in whitespace, a last term of at least
   `min_prefix` code points also matches longer words ("pass"*): the user is
   still typing it. 0 turns prefix matching off. */
char *cb_fts_query(const char *text, size_t min_prefix);

/* Fills hit->snippet with `raw` (snippet() output marked with \x02 ... \x03)
   stripped of its markers, and hit->highlights with each marked span as
   [start, end) code-point offsets into it. hit must start zeroed; free
   the strings with free() (cb_search_result_free does). */
void cb_search_snippet(const char *raw, cb_search_hit *hit);

#endif
