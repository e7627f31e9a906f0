/*
 * validate.h — the text checks behind request validation: UTF-8 well-formedness,
 * embedded NUL characters, length in Unicode code points, and the shape of
 * an email address.
 *
 * These work on (pointer, byte length) spans because JSON strings may carry
 * "\u0000": a C string length would silently cut them short. Nothing here
 * allocates; cb_row_from_json (src/db/json.c) turns the answers into
 * per-field messages.
 */
#ifndef CB_DB_VALIDATE_H
#define CB_DB_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

/* Default and hard upper bounds for email addresses (RFC 5321 sizes). */
#define CB_EMAIL_MAX 254
#define CB_EMAIL_LOCAL_MAX 64

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
bool cb_utf8_valid(const char *s, size_t len);

/* Number of code points in valid UTF-8 (a combining accent counts as one,
   an emoji as one, a ZWJ sequence as each of its parts). */
size_t cb_utf8_count(const char *s, size_t len);

/* True when the span contains a NUL byte. */
bool cb_has_nul(const char *s, size_t len);

/* Narrows the span to exclude leading and trailing ASCII whitespace. */
void cb_trim_span(const char **s, size_t *len);

/* The shape check for an already trimmed address: local@domain.tld, one
   '@', no whitespace or control characters, local part 1..64 characters
   without leading, trailing or doubled dots, domain of two or more
   non-empty labels of letters, digits, '-' or non-ASCII (IDN) characters,
   at most `max_chars` characters in all. UTF-8 is allowed and must be valid. */
bool cb_email_valid(const char *s, size_t len, size_t max_chars);

#endif
