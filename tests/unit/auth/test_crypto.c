/*
 * test_crypto.c — session and token primitives: random tokens (length,
 * alphabet, no repeats), SHA-256 hex against known vectors, and the
 * constant-time comparison's answers.
 */
#include <stdlib.h>

#include "auth/crypto.h"
#include "check.h"

int main(void)
{
    char a[44], b[44];
    CHECK(cb_random_token(a) == 0 && cb_random_token(b) == 0);
    CHECK(strlen(a) == 43 && strlen(b) == 43 && strcmp(a, b) != 0);
    CHECK(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == 43);
    /* 1,000 tokens, no two alike (256 bits each: a repeat means a broken generator) */
    char (*many)[44] = calloc(1000, sizeof *many);
    for (int i = 0; i < 1000; i++)
        cb_random_token(many[i]);
    int repeats = 0;
    for (int i = 0; i < 1000; i++)
        for (int j = 0; j < i; j++)
            repeats += strcmp(many[i], many[j]) == 0;
    CHECK(repeats == 0);
    free(many);

    char hex[65];
    cb_sha256_hex("", hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    cb_sha256_hex("abc", hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");

    CHECK(cb_equal_constant_time("same token", "same token"));
    CHECK(!cb_equal_constant_time("same token", "same tokeN"));
    CHECK(!cb_equal_constant_time("short", "short but longer"));
    CHECK(!cb_equal_constant_time("", "x"));
    CHECK(cb_equal_constant_time("", ""));
    return check_done("test_crypto");
}
