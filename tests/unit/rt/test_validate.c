/*
 * test_validate.c — the text checks of src/db/validate.c: UTF-8
 * well-formedness, NUL detection, code-point counting, trimming and the
 * email shape, each against a table of good and bad inputs.
 */
#include <string.h>

#include "check.h"
#include "db/db.h"
#include "db/migrate.h"
#include "db/validate.h"

/* The runtime library expects the generated tables; this test has none. */
const int cb_stmt_count = 0;
const char *const cb_stmt_sql[] = {NULL};
const cb_migration cb_migrations[] = {{0, NULL, NULL, NULL}};
const int cb_migrations_count = 0;

static bool utf8(const char *s)
{
    return cb_utf8_valid(s, strlen(s));
}

static void test_utf8(void)
{
    CHECK(utf8(""));
    CHECK(utf8("plain ascii"));
    CHECK(utf8("caf\xC3\xA9"));                 /* é */
    CHECK(utf8("\xE2\x82\xAC"));                /* € */
    CHECK(utf8("\xF0\x9F\x98\x80"));            /* 😀 */
    CHECK(utf8("\xF4\x8F\xBF\xBF"));            /* U+10FFFF */
    CHECK(!utf8("\xC3"));                       /* truncated */
    CHECK(!utf8("\xC0\xAF"));                   /* overlong '/' */
    CHECK(!utf8("\xE0\x80\xAF"));               /* overlong, 3 bytes */
    CHECK(!utf8("\xF0\x80\x80\xAF"));           /* overlong, 4 bytes */
    CHECK(!utf8("\xED\xA0\x80"));               /* surrogate U+D800 */
    CHECK(!utf8("\xF4\x90\x80\x80"));           /* U+110000 */
    CHECK(!utf8("\xFF"));
    CHECK(!utf8("\x80"));                       /* lone continuation */
    CHECK(!utf8("a\xE2\x82"));                  /* truncated at the end */
    CHECK(!utf8("\xE2\x28\xA1"));               /* bad continuation */
    CHECK(cb_utf8_valid("a\0b", 3));            /* NUL is valid UTF-8 ... */
    CHECK(cb_has_nul("a\0b", 3));               /* ... and caught separately */
    CHECK(!cb_has_nul("abc", 3));
}

static void test_count(void)
{
    CHECK(cb_utf8_count("", 0) == 0);
    CHECK(cb_utf8_count("abc", 3) == 3);
    CHECK(cb_utf8_count("caf\xC3\xA9", 5) == 4);
    /* e + COMBINING ACUTE ACCENT: two code points, one glyph */
    CHECK(cb_utf8_count("e\xCC\x81", 3) == 2);
    CHECK(cb_utf8_count("\xF0\x9F\x98\x80", 4) == 1);
    /* 👍🏽: thumbs up + skin tone modifier */
    CHECK(cb_utf8_count("\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD", 8) == 2);
    /* 👩‍💻: woman, ZWJ, laptop */
    CHECK(cb_utf8_count("\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x92\xBB", 11) == 3);
}

static void test_trim(void)
{
    const char *s = "  \t a b \r\n";
    size_t n = strlen(s);
    cb_trim_span(&s, &n);
    CHECK(n == 3 && memcmp(s, "a b", 3) == 0);
    s = "   ";
    n = 3;
    cb_trim_span(&s, &n);
    CHECK(n == 0);
}

static bool email(const char *s)
{
    return cb_email_valid(s, strlen(s), CB_EMAIL_MAX);
}

static void test_email(void)
{
    static const char *const good[] = {
        "a@b.co",
        "user@example.com",
        "first.last@example.com",
        "user+tag@sub.example.org",
        "o'neil@example.ie",
        "x_y-z@ex-ample.com",
        "1234@123.45.com",
        "j\xC3\xBCrgen@m\xC3\xBC" "ller.de",           /* jürgen@müller.de */
        "\xE7\x94\xA8\xE6\x88\xB7@\xE4\xBE\x8B\xE5\xAD\x90.\xE5\xB9\xBF\xE5\x91\x8A",
        NULL,
    };
    static const char *const bad[] = {
        "",
        "plain",
        "@example.com",
        "user@",
        "user@localhost",               /* no dot in the domain */
        "user@.example.com",
        "user@example..com",
        "user@example.com.",
        "user@-example.com",
        "user@example-.com",
        "us er@example.com",
        "user@exa mple.com",
        "user@@example.com",
        "a@b@example.com",
        ".user@example.com",
        "user.@example.com",
        "us..er@example.com",
        "\"quoted\"@example.com",
        "user@exam_ple.com",
        "user@[127.0.0.1]",
        "user\t@example.com",
        "user@example.com\x7F",
        "<user@example.com>",
        "user\xC3@example.com",          /* invalid UTF-8 */
        NULL,
    };
    for (int i = 0; good[i]; i++) {
        if (!email(good[i]))
            fprintf(stderr, "rejected good address: %s\n", good[i]);
        CHECK(email(good[i]));
    }
    for (int i = 0; bad[i]; i++) {
        if (email(bad[i]))
            fprintf(stderr, "accepted bad address: %s\n", bad[i]);
        CHECK(!email(bad[i]));
    }
    CHECK(!cb_email_valid("a\0b@example.com", 15, CB_EMAIL_MAX));

    /* Lengths: local part 64, whole address 254 characters. */
    char buf[400];
    memset(buf, 'a', 64);
    strcpy(buf + 64, "@example.com");
    CHECK(email(buf));
    memset(buf, 'a', 65);
    strcpy(buf + 65, "@example.com");
    CHECK(!email(buf));
    /* 60 + '@' + N + ".com" characters, for N around the limit. */
    for (size_t total = 253; total <= 255; total++) {
        memset(buf, 'a', 60);
        buf[60] = '@';
        size_t dn = total - 65;
        memset(buf + 61, 'b', dn);
        strcpy(buf + 61 + dn, ".com");
        CHECK(strlen(buf) == total);
        CHECK(email(buf) == (total <= 254));
    }
    CHECK(!cb_email_valid("user@example.com", 16, 15));
    /* Counted in characters: 64 two-byte letters still fit the local part. */
    size_t n = 0;
    for (int i = 0; i < 64; i++, n += 2)
        memcpy(buf + n, "\xC3\xA9", 2);
    strcpy(buf + n, "@example.com");
    CHECK(email(buf));
}

int main(void)
{
    test_utf8();
    test_count();
    test_trim();
    test_email();
    return check_done("test_validate");
}
