/*
 * query.c — the query-string checks of query.h.
 */
#include "chat/query.h"
#include "db/validate.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

static int hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decodes n bytes of form-encoded text (%XX, '+' for space) into out
   (room for n + 1); returns the decoded length. A malformed escape is kept
   as it is, as MHD does. */
static size_t decode(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out[o++] = (char)(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else {
            out[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    out[o] = '\0';
    return o;
}

static bool known_key(const char *key, const char *const *known)
{
    for (; *known; known++)
        if (strcmp(key, *known) == 0)
            return true;
    return false;
}

/* Checks one raw "key=value" pair of `n` bytes. */
static bool check_pair(const char *pair, size_t n, cb_errors *errs)
{
    const char *eq = memchr(pair, '=', n);
    size_t klen = eq ? (size_t)(eq - pair) : n;
    char *key = cb_xmalloc(klen + 1), *value = cb_xmalloc(n - klen + 1);
    size_t kn = decode(pair, klen, key);
    size_t vn = eq ? decode(eq + 1, n - klen - 1, value) : 0;
    const char *problem = NULL;
    if (cb_has_nul(key, kn) || cb_has_nul(value, vn))
        problem = "must not contain NUL characters";
    else if (!cb_utf8_valid(key, kn) || !cb_utf8_valid(value, vn))
        problem = "must be valid UTF-8";
    if (problem) /* the key up to a NUL, or "query" when it is no name at all */
        cb_errors_add(errs, key[0] && cb_utf8_valid(key, strlen(key)) ? key : "query", "%s",
                      problem);
    free(key);
    free(value);
    return problem == NULL;
}

bool cb_query_check(const struct _u_request *req, const char *const *known, cb_errors *errs)
{
    bool ok = true;
    const char **keys = u_map_enum_keys(req->map_url);
    for (int i = 0; keys && keys[i]; i++) {
        if (!known_key(keys[i], known)) {
            cb_errors_add(errs, keys[i], "unknown query parameter");
            ok = false;
        }
    }
    const char *q = req->http_url ? strchr(req->http_url, '?') : NULL;
    while (q && *q) {
        q++;
        size_t n = strcspn(q, "&#");
        if (n > 0 && !check_pair(q, n, errs))
            ok = false;
        q += n;
        if (*q == '#')
            break;
    }
    return ok;
}
