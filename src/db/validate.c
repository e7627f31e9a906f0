/*
 * validate.c — UTF-8, NUL, length and email-shape checks (see validate.h).
 *
 * Pure functions over byte spans: no allocation, no locale, no global state,
 * so the HTTP threads can call them freely.
 */
#include "db/validate.h"

#include <string.h>

/* Length of the sequence starting with lead byte c, 0 when c cannot lead. */
static size_t utf8_seq_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return 2;
    if (c >= 0xE0 && c <= 0xEF)
        return 3;
    if (c >= 0xF0 && c <= 0xF4)
        return 4;
    return 0;
}

bool cb_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_seq_len(p[i]);
        if (n == 0 || n > len - i)
            return false;
        for (size_t k = 1; k < n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
        /* The second byte's range rules out overlong forms, surrogates
           (ED A0..BF) and code points above U+10FFFF (F4 90..). */
        if (n >= 3) {
            unsigned char c0 = p[i], c1 = p[i + 1];
            if ((c0 == 0xE0 && c1 < 0xA0) || (c0 == 0xED && c1 > 0x9F) ||
                (c0 == 0xF0 && c1 < 0x90) || (c0 == 0xF4 && c1 > 0x8F))
                return false;
        }
        i += n;
    }
    return true;
}

size_t cb_utf8_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

bool cb_has_nul(const char *s, size_t len)
{
    return memchr(s, '\0', len) != NULL;
}

static bool is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

void cb_trim_span(const char **s, size_t *len)
{
    const char *p = *s;
    size_t n = *len;
    while (n > 0 && is_ascii_space((unsigned char)p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_ascii_space((unsigned char)p[n - 1]))
        n--;
    *s = p;
    *len = n;
}

/* Characters that RFC 5322 allows in a local part only inside quotes; we
   accept no quoted local parts, so they never appear. */
static bool is_local_special(unsigned char c)
{
    return c != '\0' && strchr("()<>[]\\,;:\"@", c) != NULL;
}

static bool email_local_ok(const unsigned char *p, size_t n)
{
    if (n == 0 || p[0] == '.' || p[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] <= 0x20 || p[i] == 0x7F || is_local_special(p[i]))
            return false;
        if (p[i] == '.' && i + 1 < n && p[i + 1] == '.')
            return false;
    }
    return cb_utf8_count((const char *)p, n) <= CB_EMAIL_LOCAL_MAX;
}

static bool is_label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c >= 0x80;
}

static bool email_domain_ok(const unsigned char *p, size_t n)
{
    size_t labels = 0, start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && p[i] != '.') {
            if (!is_label_char(p[i]))
                return false;
            continue;
        }
        /* A label ends at i: non-empty, no hyphen at either end. */
        if (i == start || p[start] == '-' || p[i - 1] == '-')
            return false;
        labels++;
        start = i + 1;
    }
    return labels >= 2;
}

bool cb_email_valid(const char *s, size_t len, size_t max_chars)
{
    if (max_chars == 0 || max_chars > CB_EMAIL_MAX)
        max_chars = CB_EMAIL_MAX;
    if (len == 0 || !cb_utf8_valid(s, len) || cb_utf8_count(s, len) > max_chars)
        return false;
    const char *at = memchr(s, '@', len);
    if (!at || memchr(at + 1, '@', len - (size_t)(at + 1 - s)))
        return false;
    const unsigned char *p = (const unsigned char *)s;
    size_t local_len = (size_t)(at - s);
    return email_local_ok(p, local_len) &&
           email_domain_ok(p + local_len + 1, len - local_len - 1);
}
