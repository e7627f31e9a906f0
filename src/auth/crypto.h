/*
 * crypto.h — random tokens, SHA-256 hex, constant-time comparison.
 */
#ifndef CB_AUTH_CRYPTO_H
#define CB_AUTH_CRYPTO_H

#include <stdbool.h>

/* 32 random bytes as base64url without padding (43 characters + NUL). */
int cb_random_token(char out[44]);
/* Lower-case hex SHA-256 of s (64 characters + NUL). */
void cb_sha256_hex(const char *s, char out[65]);
/* Equal strings? Takes the same time wherever they differ. */
bool cb_equal_constant_time(const char *a, const char *b);

#endif
