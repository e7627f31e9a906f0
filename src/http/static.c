/*
 * static.c — files under static_dir at /static/<path>: CSS, JS, the icon
 * sprite, fonts. Refuses anything that could leave the directory ("..",
 * backslashes, symlinks pointing outside: realpath must stay inside),
 * answers conditional requests with 304, and marks versioned URLs
 * (?v=<hash>) immutable for a year.
 */
#include "http/internal.h"
#include "server/config.h"
#include "util/mem.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec * 1000000000ULL +
                 (unsigned long long)st.st_mtim.tv_nsec);
    u_map_put(resp->map_header, "ETag", etag);
    u_map_put(resp->map_header, "Cache-Control",
              u_map_has_key(req->map_url, "v") ? "public, max-age=31536000, immutable"
                                               : "no-cache");
    const char *inm = u_map_get_case(req->map_header, "If-None-Match");
    if (inm && strstr(inm, etag)) {
        free(path);
        return cb_reply_empty(ctx, 304);
    }
    FILE *f = fopen(path, "rb");
    free(path);
    if (!f)
        return not_found(ctx);
    char *body = cb_xmalloc((size_t)st.st_size + 1);
    size_t n = fread(body, 1, (size_t)st.st_size, f);
    fclose(f);
    ulfius_set_binary_body_response(resp, 200, body, n);
    free(body);
    u_map_put(resp->map_header, "Content-Type", mime_type(rel));
    return U_CALLBACK_COMPLETE;
}
