/*
 * query.h — the query-string checks of hand-written GET routes: only the
 * parameters a route knows, and values that are what Ulfius says they are.
 *
 * Ulfius hands routes the decoded query as C strings: a value with %00 in
 * it arrives cut short at the NUL, and a value that is not UTF-8 is dropped
 * without a word. Both would make a route act on something other than what
 * the client sent, so the raw query is checked too and such values are a
 * 400 naming the parameter.
 */
#ifndef CB_CHAT_QUERY_H
#define CB_CHAT_QUERY_H

#include <stdbool.h>
#include <ulfius.h>
#include "db/model.h"

/* Adds an error per parameter that is not in `known` (NULL-terminated; list
   the route's :params too, they share the map) and per raw value holding a
   NUL or invalid UTF-8. True when the query is fine. */
bool cb_query_check(const struct _u_request *req, const char *const *known, cb_errors *errs);

#endif
