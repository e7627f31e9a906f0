/*
 * template.c — reads a page template and fills its placeholders
 * (template.h lists them). Owns nothing beyond one render: templates are
 * read from disk on every render (a few KiB; the page cache keeps them),
 * so an edited template shows on the next request and no cache needs a
 * lock. It must never emit a variable's value unescaped.
 */
#include "web/template.h"
#include "server/config.h"
#include "util/buf.h"
#include "util/mem.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <yder.h>

#define MAX_TEMPLATE_BYTES (256 * 1024)

/* templates/ sits beside the static folder (both default to the working
   directory), so one setting, static_dir, locates the whole front end. */
static char *template_path(const char *name)
{
    const char *dir = cb_cfg ? cb_cfg->static_dir : "static";
    const char *slash = strrchr(dir, '/');
    if (!slash)
        return cb_xasprintf("templates/%s.html", name);
    return cb_xasprintf("%.*s/templates/%s.html", (int)(slash - dir), dir, name);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    cb_buf b = {0};
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= MAX_TEMPLATE_BYTES)
        cb_buf_put(&b, chunk, n);
    fclose(f);
    if (b.len > MAX_TEMPLATE_BYTES) {
        cb_buf_free(&b);
        return NULL;
    }
    return cb_buf_take(&b, len);
}

/* Only characters that need no escaping in a URL or an attribute. */
static bool plain_name(const char *s, size_t n, bool path)
{
    if (n == 0 || n > 100)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                  (path && ((c >= 'A' && c <= 'Z') || c == '.' || c == '/'));
        if (!ok || (path && c == '.' && i + 1 < n && s[i + 1] == '.'))
            return false;
    }
    return s[0] != '/' && s[0] != '.';
}

static void put_escaped(cb_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            cb_buf_puts(b, "&amp;");
            break;
        case '<':
            cb_buf_puts(b, "&lt;");
            break;
        case '>':
            cb_buf_puts(b, "&gt;");
            break;
        case '"':
            cb_buf_puts(b, "&quot;");
            break;
        case '\'':
            cb_buf_puts(b, "&#39;");
            break;
        default:
            cb_buf_putc(b, *s);
        }
    }
}

void cb_asset_version(const char *path, char *out, size_t size)
{
    char *full = cb_xasprintf("%s/%s", cb_cfg ? cb_cfg->static_dir : "static", path);
    struct stat st;
    int rc = stat(full, &st);
    free(full);
    if (rc != 0) {
        snprintf(out, size, "0");
        return;
    }
    /* FNV-1a over what the static ETag is made of: the same change moves both. */
    uint64_t h = 1469598103934665603ULL;
    uint64_t parts[3] = {(uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
                         (uint64_t)st.st_mtim.tv_nsec};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 8; k++) {
            h ^= (parts[i] >> (8 * k)) & 0xff;
            h *= 1099511628211ULL;
        }
    snprintf(out, size, "%012llx", (unsigned long long)(h & 0xffffffffffffULL));
}

static void put_asset(cb_buf *b, const char *path)
{
    char v[32];
    cb_asset_version(path, v, sizeof v);
    cb_buf_puts(b, "/static/");
    cb_buf_puts(b, path);
    cb_buf_puts(b, "?v=");
    cb_buf_puts(b, v);
}

typedef struct render {
    cb_buf out;
    const cb_tpl_var *vars;
    size_t n_vars;
    const char *name;           /* the template, for error messages */
    char sprite_v[32];          /* icons.svg's version, looked up once */
} render;

static void put_icon(render *r, const char *name, size_t n)
{
    if (!r->sprite_v[0])
        cb_asset_version("icons.svg", r->sprite_v, sizeof r->sprite_v);
    cb_buf_puts(&r->out, "<svg class=\"icon\" aria-hidden=\"true\" focusable=\"false\">"
                         "<use href=\"/static/icons.svg?v=");
    cb_buf_puts(&r->out, r->sprite_v);
    cb_buf_putc(&r->out, '#');
    cb_buf_put(&r->out, name, n);
    cb_buf_puts(&r->out, "\"/></svg>");
}

static void fill(render *r, const char *text, size_t len, int depth);

static void put_include(render *r, const char *name, size_t n, int depth)
{
    char *nm = cb_xstrndup(name, n);
    char *path = template_path(nm);
    size_t len = 0;
    char *text = depth == 0 ? read_file(path, &len) : NULL;
    if (text)
        fill(r, text, len, depth + 1);
    else
        y_log_message(Y_LOG_LEVEL_ERROR, "template %s: cannot include '%s'", r->name, nm);
    free(text);
    free(path);
    free(nm);
}

/* One placeholder's inside (between the braces, trimmed). */
static void put_placeholder(render *r, const char *p, size_t n, int depth)
{
    if (n > 5 && strncmp(p, "icon:", 5) == 0 && plain_name(p + 5, n - 5, false)) {
        put_icon(r, p + 5, n - 5);
        return;
    }
    if (n > 6 && strncmp(p, "asset:", 6) == 0 && plain_name(p + 6, n - 6, true)) {
        char *path = cb_xstrndup(p + 6, n - 6);
        put_asset(&r->out, path);
        free(path);
        return;
    }
    if (n > 2 && p[0] == '>' && p[1] == ' ' && plain_name(p + 2, n - 2, false)) {
        put_include(r, p + 2, n - 2, depth);
        return;
    }
    for (size_t i = 0; i < r->n_vars; i++)
        if (strlen(r->vars[i].name) == n && strncmp(r->vars[i].name, p, n) == 0) {
            put_escaped(&r->out, r->vars[i].value);
            return;
        }
    y_log_message(Y_LOG_LEVEL_ERROR, "template %s: unknown placeholder {{%.*s}}", r->name, (int)n,
                  p);
}

static void fill(render *r, const char *text, size_t len, int depth)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *open = memmem(p, (size_t)(end - p), "{{", 2);
        const char *close = open ? memmem(open + 2, (size_t)(end - open - 2), "}}", 2) : NULL;
        if (!open || !close) {
            cb_buf_put(&r->out, p, (size_t)(end - p));
            return;
        }
        cb_buf_put(&r->out, p, (size_t)(open - p));
        const char *in = open + 2, *in_end = close;
        while (in < in_end && *in == ' ')
            in++;
        while (in_end > in && in_end[-1] == ' ')
            in_end--;
        put_placeholder(r, in, (size_t)(in_end - in), depth);
        p = close + 2;
    }
}

char *cb_template_render(const char *name, const cb_tpl_var *vars, size_t n_vars, size_t *len)
{
    char *path = template_path(name);
    size_t tlen = 0;
    char *text = read_file(path, &tlen);
    if (!text) {
        y_log_message(Y_LOG_LEVEL_ERROR, "template %s: cannot read %s", name, path);
        free(path);
        return NULL;
    }
    free(path);
    render r = {.vars = vars, .n_vars = n_vars, .name = name};
    fill(&r, text, tlen, 0);
    free(text);
    return cb_buf_take(&r.out, len);
}
