/*
 * password.c — NFKD normalisation (libunistring), pepper (HMAC-SHA256 via
 * GnuTLS) and argon2id (libargon2). See password.h for the parameters and
 * why; this file must never log or keep a password beyond the call.
 */
#include "auth/password.h"
#include "db/validate.h"

#include <argon2.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <uninorm.h>
#include <unistr.h>

enum { T_COST = 2, M_COST_KIB = 19456, PARALLELISM = 1, SALT_BYTES = 16, HASH_BYTES = 32 };

char *cb_password_normalize(const cb_password_policy *p, const char *pw, size_t len,
                            const char **problem)
{
    if (!cb_utf8_valid(pw, len) || cb_has_nul(pw, len)) {
        *problem = "must be valid UTF-8 text without NUL characters";
        return NULL;
    }
    size_t n = 0;
    uint8_t *nfkd = u8_normalize(UNINORM_NFKD, (const uint8_t *)pw, len, NULL, &n);
    if (!nfkd) {
        *problem = "cannot be normalised";
        return NULL;
    }
    size_t chars = u8_mbsnlen(nfkd, n);
    if (chars < p->min_chars || chars > CB_PASSWORD_MAX_CHARS) {
        free(nfkd);
        *problem = chars < p->min_chars ? "is too short" : "must be at most 128 characters";
        return NULL;
    }
    char *out = realloc(nfkd, n + 1);
    if (!out)
        abort();
    out[n] = '\0';
    *problem = NULL;
    return out;
}

/* HMAC-SHA256(pepper, password): the hash is useless without the pepper,
   which lives outside the database. */
static int peppered(const cb_password_policy *p, const char *normalized, unsigned char out[32])
{
    return gnutls_hmac_fast(GNUTLS_MAC_SHA256, p->pepper, CB_PEPPER_BYTES, normalized,
                            strlen(normalized), out) == 0 ? 0 : -1;
}

int cb_password_hash(const cb_password_policy *p, const char *normalized,
                     char out[CB_PASSWORD_HASH_MAX])
{
    unsigned char mac[32], salt[SALT_BYTES];
    if (peppered(p, normalized, mac) || gnutls_rnd(GNUTLS_RND_NONCE, salt, sizeof salt))
        return -1;
    int rc = argon2id_hash_encoded(T_COST, M_COST_KIB, PARALLELISM, mac, sizeof mac, salt,
                                   sizeof salt, HASH_BYTES, out, CB_PASSWORD_HASH_MAX);
    gnutls_memset(mac, 0, sizeof mac);
    return rc == ARGON2_OK ? 0 : -1;
}

/* A real hash of a random password, made once: verifying against it costs
   what a real verification costs. */
static const char dummy_hash[] =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
    "WrJ3GPDoSCRgPHTRCcVKd1HoXwf04bgo2vx3GuO3N1c";

bool cb_password_verify(const cb_password_policy *p, const char *encoded, const char *normalized)
{
    unsigned char mac[32];
    if (peppered(p, normalized ? normalized : "", mac))
        return false;
    int rc = argon2id_verify(encoded ? encoded : dummy_hash, mac, sizeof mac);
    gnutls_memset(mac, 0, sizeof mac);
    return encoded && rc == ARGON2_OK;
}
