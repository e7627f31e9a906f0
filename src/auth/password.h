/*
 * password.h — password rules and hashing (DESIGN.md, security model).
 *
 * A password is normalised to NFKD (the same password typed on another
 * keyboard or OS still matches), counted in Unicode characters
 * (8..128 by default), mixed with the server's pepper by HMAC-SHA256 and
 * hashed with argon2id (m = 19 MiB, t = 2, p = 1: OWASP's minimum) and a
 * random 16-byte salt. Hashes are PHC strings ("$argon2id$v=19$m=...").
 */
#ifndef CB_AUTH_PASSWORD_H
#define CB_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define CB_PEPPER_BYTES 32
#define CB_PASSWORD_MAX_CHARS 128
#define CB_PASSWORD_HASH_MAX 160

typedef struct cb_password_policy {
    size_t min_chars;                       /* default 8 */
    unsigned char pepper[CB_PEPPER_BYTES];
} cb_password_policy;

/* The NFKD form of a password (malloc'd) when it is valid UTF-8 without
   NUL and between min_chars and 128 characters; else NULL and *problem
   says why in words fit for a field error. */
char *cb_password_normalize(const cb_password_policy *p, const char *pw, size_t len,
                            const char **problem);

/* Hashes a normalised password into out (a PHC string). 0 or -1. */
int cb_password_hash(const cb_password_policy *p, const char *normalized, char out[CB_PASSWORD_HASH_MAX]);

/* Checks a normalised password against a stored hash in constant time.
   With encoded == NULL it verifies against a fixed dummy hash and returns
   false, so an unknown account costs the same time as a wrong password. */
bool cb_password_verify(const cb_password_policy *p, const char *encoded, const char *normalized);

#endif
