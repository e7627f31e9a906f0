/*
 * static.c — files under static_dir at /static/<path>: CSS, JS, the icon
 * sprite, fonts. Refuses anything that could leave the directory ("..",
 * backslashes, symlinks pointing outside: realpath must stay inside),
 * answers conditional requests with 304, and marks versioned URLs
 * (?v=<hash>) immutable for a year.
 *
 * Text files can have a gzip sibling (<file>.gz, made by scripts/assets.sh
 * and checked by its --check). It is sent, with Content-Encoding: gzip and
 * an ETag of its own, to a client that accepts gzip, and only while its
 * trailer (CRC-32 and length of the uncompressed bytes) matches the file:
 * a .gz left stale by an edit is ignored and the file goes out as it is.
 */
#include "http/internal.h"
#include "server/config.h"
#include "util/mem.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const struct {
    const char *ext, *type;
} mime_types[] = {
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".txt", "text/plain; charset=utf-8"},
    {".html", "text/html; charset=utf-8"},
    {".map", "application/json"},
};

/* Types worth a gzip sibling: text. */
static bool compressible(const char *type)
{
    return strncmp(type, "text/", 5) == 0 || strstr(type, "json") || strstr(type, "svg");
}

static const char *mime_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    for (size_t i = 0; dot && i < sizeof mime_types / sizeof mime_types[0]; i++)
        if (strcmp(dot, mime_types[i].ext) == 0)
            return mime_types[i].type;
    return "application/octet-stream";
}

/* A relative path made only of ordinary segments. Ulfius hands over the
   path still percent-encoded; our asset names never need encoding, so a
   '%' is refused rather than decoded (decoding is where traversal tricks
   like %2e%2e live). */
static bool safe_relative(const char *rel)
{
    if (!*rel || *rel == '/' || strpbrk(rel, "\\%"))
        return false;
    for (const char *seg = rel; seg;) {
        const char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
            return false;
        seg = end ? end + 1 : NULL;
    }
    return true;
}

/* The file's real path when it is a regular file inside the static
   directory, else NULL. Malloc'd. */
static char *resolve(const char *rel)
{
    char root[PATH_MAX], real[PATH_MAX];
    if (!realpath(cb_cfg->static_dir, root))
        return NULL;
    char *joined = cb_xasprintf("%s/%s", root, rel);
    char *found = realpath(joined, real) ? real : NULL;
    free(joined);
    size_t n = strlen(root);
    struct stat st;
    if (!found || strncmp(found, root, n) != 0 || found[n] != '/' || stat(found, &st) != 0 ||
        !S_ISREG(st.st_mode))
        return NULL;
    return cb_xstrdup(found);
}

static int not_found(cb_ctx *ctx)
{
    return cb_reply_problem(ctx, 404, "no such file", NULL);
}

/* Does an Accept-Encoding value allow gzip? An explicit gzip (or x-gzip)
   decides; otherwise "*" does; "q=0" refuses. */
static bool accepts_gzip(const char *ae)
{
    int gzip = -1, star = -1;
    for (const char *p = ae; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        const char *tok = p;
        while (tok < p + n && (*tok == ' ' || *tok == '\t'))
            tok++;
        size_t tn = strcspn(tok, ";, \t");
        const char *q = memchr(p, ';', n);
        q = q ? strstr(q, "q=") : NULL;
        bool ok = !(q && q < p + n && strtod(q + 2, NULL) <= 0.0);
        if ((tn == 4 && strncasecmp(tok, "gzip", 4) == 0) ||
            (tn == 6 && strncasecmp(tok, "x-gzip", 6) == 0))
            gzip = ok;
        else if (tn == 1 && *tok == '*')
            star = ok;
        p = end ? end + 1 : NULL;
    }
    return gzip >= 0 ? gzip == 1 : star == 1;
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    pthread_once(&crc_once, crc_init);
    uint32_t c = 0xffffffffU;
    while (n--)
        c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffU;
}

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The whole file, malloc'd, with its length; NULL when it cannot be read. */
static char *slurp(const char *path, size_t size, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *body = cb_xmalloc(size + 1);
    *len = fread(body, 1, size, f);
    fclose(f);
    return body;
}

/* The file's gzip sibling when it exists and holds exactly `plain`: a gzip
   member ends with the CRC-32 and the length (mod 2^32) of what it holds.
   Malloc'd; its length and stat in *len and *gst. */
static char *current_gzip(const char *rel, const char *plain, size_t plain_len, size_t *len,
                          struct stat *gst)
{
    char *grel = cb_xasprintf("%s.gz", rel);
    char *gpath = resolve(grel);
    free(grel);
    char *gz = NULL;
    if (gpath && stat(gpath, gst) == 0 && gst->st_size >= 18 && gst->st_size <= (64 << 20))
        gz = slurp(gpath, (size_t)gst->st_size, len);
    free(gpath);
    if (gz && (*len != (size_t)gst->st_size || (unsigned char)gz[0] != 0x1f ||
               (unsigned char)gz[1] != 0x8b ||
               le32((unsigned char *)gz + *len - 4) != (uint32_t)plain_len ||
               le32((unsigned char *)gz + *len - 8) !=
                   crc32_of((const unsigned char *)plain, plain_len))) {
        free(gz);
        gz = NULL;
    }
    return gz;
}

int cb_static_file(const struct _u_request *req, struct _u_response *resp, void *data)
{
    cb_ctx *ctx = cb_ctx_of(req, resp);
    const char *rel = req->url_path + strlen("/static/");
    if (strncmp(req->url_path, "/static/", 8) != 0 || !safe_relative(rel))
        return not_found(ctx);
    char *path = resolve(rel);
    struct stat st;
    if (!path || stat(path, &st) != 0 || st.st_size > (64 << 20)) {
        free(path);
        return not_found(ctx);
    }
    size_t n = 0;
    char *body = slurp(path, (size_t)st.st_size, &n);
    free(path);
    if (!body)
        return not_found(ctx);
    const char *type = mime_type(rel);
    bool gzip = false;
    if (compressible(type)) {
        u_map_put(resp->map_header, "Vary", "Accept-Encoding");
        size_t gn = 0;
        struct stat gst;
        char *gz = accepts_gzip(u_map_get_case(req->map_header, "Accept-Encoding"))
                       ? current_gzip(rel, body, n, &gn, &gst)
                       : NULL;
        if (gz) {
            free(body);
            body = gz;
            n = gn;
            st = gst;
            gzip = true;
        }
    }
    /* Each representation has its own validator: the gzip one is the .gz
       file's size and time, marked so that it never equals the plain one. */
    char etag[80];
    snprintf(etag, sizeof etag, "\"%llx-%llx%s\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)st.st_mtim.tv_nsec,
             gzip ? "-gz" : "");
    u_map_put(resp->map_header, "ETag", etag);
    u_map_put(resp->map_header, "Cache-Control",
              u_map_has_key(req->map_url, "v") ? "public, max-age=31536000, immutable"
                                               : "no-cache");
    const char *inm = u_map_get_case(req->map_header, "If-None-Match");
    if (inm && strstr(inm, etag)) {
        free(body);
        return cb_reply_empty(ctx, 304);
    }
    if (gzip)
        u_map_put(resp->map_header, "Content-Encoding", "gzip");
    ulfius_set_binary_body_response(resp, 200, body, n);
    free(body);
    u_map_put(resp->map_header, "Content-Type", mime_type(rel));
    return U_CALLBACK_COMPLETE;
}
