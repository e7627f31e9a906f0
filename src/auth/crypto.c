/*
 * crypto.c — the small primitives sessions, CSRF and API tokens share:
 * random tokens from GnuTLS's generator, SHA-256 in hex (what the database
 * stores instead of a secret), and a comparison whose time does not
 * depend on where two strings differ.
 */
#include "auth/crypto.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int cb_random_token(char out[44])
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char raw[33] = {0};
    if (gnutls_rnd(GNUTLS_RND_KEY, raw, 32) != 0)
        return -1;
    int o = 0;
    for (int i = 0; i < 33; i += 3) {
        uint32_t v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 | raw[i + 2];
        for (int k = 0; k < 4 && o < 43; k++)
            out[o++] = b64[(v >> (18 - 6 * k)) & 63];
    }
    out[43] = '\0';
    return 0;
}

void cb_sha256_hex(const char *s, char out[65])
{
    unsigned char digest[32];
    gnutls_hash_fast(GNUTLS_DIG_SHA256, s, strlen(s), digest);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

bool cb_equal_constant_time(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    unsigned char diff = na != nb;
    for (size_t i = 0; i < na && i < nb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

