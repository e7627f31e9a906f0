/*
 * pages.c — the page routes. Each page is a template filled with the
 * signed-in user's address, roles and CSRF token (so the page's script can
 * call the API at once); everything else the page shows comes from the
 * REST API in the browser. The identity comes from the tier-0 middleware
 * (ctx->user_id, ctx->is_admin, the auth state), exactly as for the API.
 *
 * Access is checked here, on the server, not only in JS: signed out, /,
 * /settings and /admin redirect (303) to /login?next=<this path>; a
 * signed-in non-admin gets a 403 page at /admin. Pages are never cached
 * (they carry the CSRF token).
 *
 * The chat page also carries its first data (data-boot on <body>, escaped
 * like every template value): the first page of the caller's conversations
 * and the model list, so the sidebar and the model picker are filled before
 * the first paint instead of after two requests (see chat_boot).
 *
 * The pages' import map (templates/_head.html: every module's URL to its
 * versioned one, so an import and its preload are one cached fetch) is the
 * one inline script: the page's CSP allows exactly it, by its SHA-256.
 */
#include "web/pages.h"
#include "api.h"
#include "auth/session.h"
#include "bot/bot.h"
#include "http/api.h"
#include "http/internal.h"
#include "server/config.h"
#include "util/buf.h"
#include "util/mem.h"
#include "web/template.h"

#include <gnutls/crypto.h>
#include <orcania.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum page_access { PAGE_PUBLIC, PAGE_USER, PAGE_ADMIN } page_access;

typedef struct page {
    const char *path;
    const char *tpl;
    const char *title;
    page_access access;
} page;

static const page pages[] = {
    {"/", "chat", "Chat", PAGE_USER},
    {"/settings", "settings", "Settings", PAGE_USER},
    {"/admin", "admin", "Administration", PAGE_ADMIN},
    {"/login", "login", "Sign in", PAGE_PUBLIC},
    {"/register", "register", "Create an account", PAGE_PUBLIC},
};

const char *cb_safe_next(const char *next)
{
    if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > 512)
        return "/";
    for (const unsigned char *p = (const unsigned char *)next; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '\\')
            return "/";
    return next;
}

static void html_headers(cb_ctx *ctx)
{
    u_map_put(ctx->resp->map_header, "Content-Type", "text/html; charset=utf-8");
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
}

#define IMPORT_MAP_OPEN "<script type=\"importmap\">"

/* Adds the page's import map, by hash, to the script-src the security
   headers set; a page without one keeps the policy as it is. */
static void allow_import_map(cb_ctx *ctx, const char *html, size_t len)
{
    const char *open = memmem(html, len, IMPORT_MAP_OPEN, strlen(IMPORT_MAP_OPEN));
    const char *body = open ? open + strlen(IMPORT_MAP_OPEN) : NULL;
    const char *close = body ? memmem(body, len - (size_t)(body - html), "</script>", 9) : NULL;
    const char *csp = u_map_get(ctx->resp->map_header, "Content-Security-Policy");
    const char *src = csp ? strstr(csp, "script-src 'self'") : NULL;
    if (!close || !src)
        return;
    unsigned char digest[32], b64[64];
    size_t b64_len = 0;
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, body, (size_t)(close - body), digest) != 0 ||
        !o_base64_encode(digest, sizeof digest, b64, &b64_len))
        return;
    size_t at = (size_t)(src - csp) + strlen("script-src 'self'");
    char *policy = cb_xasprintf("%.*s 'sha256-%.*s'%s", (int)at, csp, (int)b64_len, (char *)b64,
                                csp + at);
    u_map_put(ctx->resp->map_header, "Content-Security-Policy", policy);
    free(policy);
}

/* Sends a rendered template, or a plain 500 when it cannot be read. */
static int reply_page(cb_ctx *ctx, int status, const char *tpl, const cb_tpl_var *vars, size_t n)
{
    size_t len = 0;
    char *html = cb_template_render(tpl, vars, n, &len);
    if (!html)
        return cb_reply_problem(ctx, 500, "the page's template is missing (logged)", NULL);
    allow_import_map(ctx, html, len);
    ulfius_set_binary_body_response(ctx->resp, (unsigned)status, html, len);
    free(html);
    html_headers(ctx);
    return U_CALLBACK_COMPLETE;
}

/* The 403 and 404 pages share one template. */
static int reply_error_page(cb_ctx *ctx, int status, const char *heading, const char *detail)
{
    char code[8];
    snprintf(code, sizeof code, "%d", status);
    const char *email = "";
    if (ctx->auth_data)
        email = ((cb_auth_state *)ctx->auth_data)->email;
    cb_tpl_var vars[] = {{"title", heading}, {"status", code},  {"heading", heading},
                         {"detail", detail}, {"email", email}, {"page", "error"}};
    return reply_page(ctx, status, "error", vars, sizeof vars / sizeof vars[0]);
}

static void put_pct_encoded(cb_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("-._~/?=", *p))
            cb_buf_putc(b, (char)*p);
        else {
            cb_buf_putc(b, '%');
            cb_buf_putc(b, hex[*p >> 4]);
            cb_buf_putc(b, hex[*p & 15]);
        }
    }
}

static int redirect(cb_ctx *ctx, const char *location)
{
    u_map_put(ctx->resp->map_header, "Location", location);
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
    return cb_reply_empty(ctx, 303);
}

/* Signed out: to the login page, which brings the user back here. The
   request's own path and query are the way back (checked again when the
   login page reads them). */
static int redirect_to_login(cb_ctx *ctx)
{
    const char *here = cb_safe_next(ctx->req->http_url);
    cb_buf b = {0};
    cb_buf_puts(&b, "/login");
    if (strcmp(here, "/") != 0) {
        cb_buf_puts(&b, "?next=");
        put_pct_encoded(&b, here);
    }
    int rc = redirect(ctx, b.data);
    cb_buf_free(&b);
    return rc;
}

/* {"conversations": the first page GET /api/v1/conversations?limit=50
   answers, "models": GET /api/v1/models's answer}; either is null when it
   cannot be had at once (the model list when the LLM server would have to
   be asked: chat.js then asks for it itself). The 50 is chat.js's page. */
static char *chat_boot(cb_ctx *ctx)
{
    cb_buf b = {0};
    cb_buf_puts(&b, "{\"conversations\":");
    cb_list_request lr = {.limit = 50};
    cb_errors errs = {0};
    char *list;
    size_t len;
    if (cb_api_list_json(ctx, &cb_res_conversations, &lr, &list, &len, &errs) == CB_OK) {
        cb_buf_put(&b, list, len);
        free(list);
    } else {
        cb_buf_puts(&b, "null");
    }
    cb_errors_clear(&errs);
    cb_buf_puts(&b, ",\"models\":");
    json_t *models = cb_bot_models_json(false);
    char *text = models ? json_dumps(models, JSON_COMPACT) : NULL;
    cb_buf_puts(&b, text ? text : "null");
    free(text);
    json_decref(models);
    cb_buf_putc(&b, '}');
    return cb_buf_take(&b, NULL);
}

static int serve_page(const struct _u_request *req, struct _u_response *resp, void *data)
{
    cb_ctx *ctx = cb_ctx_of(req, resp);
    const page *pg = data;
    if (pg->access != PAGE_PUBLIC && ctx->user_id == 0)
        return redirect_to_login(ctx);
    if (pg->access == PAGE_ADMIN && !ctx->is_admin)
        return reply_error_page(ctx, 403, "Administrators only",
                                "This page is for administrators. Ask one to give your account "
                                "the admin role if you need it.");
    const char *next = cb_safe_next(u_map_get(req->map_url, "next"));
    /* Already signed in: the sign-in pages have nothing to offer. */
    if (pg->access == PAGE_PUBLIC && ctx->user_id != 0)
        return redirect(ctx, next);
    const cb_auth_state *st = ctx->auth_data;
    char min_pw[16];
    snprintf(min_pw, sizeof min_pw, "%d", cb_cfg ? cb_cfg->min_password_chars : 8);
    cb_tpl_var vars[] = {
        {"title", pg->title},
        {"page", pg->tpl},
        {"email", st ? st->email : ""},
        {"roles", st ? st->roles : ""},
        {"csrf", st ? st->csrf_token : ""},
        {"is_admin", ctx->is_admin ? "true" : "false"},
        {"next", next},
        {"min_password", min_pw},
        {"boot", NULL},
    };
    char *boot = strcmp(pg->tpl, "chat") == 0 ? chat_boot(ctx) : NULL;
    vars[sizeof vars / sizeof vars[0] - 1].value = boot;
    int rc = reply_page(ctx, 200, pg->tpl, vars, sizeof vars / sizeof vars[0]);
    free(boot);
    return rc;
}

static int page_method_not_allowed(const struct _u_request *req, struct _u_response *resp,
                                   void *data)
{
    cb_ctx *ctx = cb_ctx_of(req, resp);
    u_map_put(resp->map_header, "Allow", "GET, HEAD");
    return cb_reply_problem(ctx, 405, "a page only answers GET and HEAD", NULL);
}

/* An unknown path a browser asked for: an HTML 404 (no single-page
   fallback). API and static paths keep their problem+json answers. */
static int page_not_found(const struct _u_request *req, struct _u_response *resp, void *data)
{
    const char *path = req->url_path ? req->url_path : "";
    if (strncmp(path, "/api/", 5) == 0 || strcmp(path, "/api") == 0 ||
        strncmp(path, "/static/", 8) == 0)
        return U_CALLBACK_CONTINUE;
    return reply_error_page(cb_ctx_of(req, resp), 404, "Page not found",
                            "There is nothing at this address.");
}

int cb_app_register_pages(struct _u_instance *u)
{
    int rc = U_OK;
    for (size_t i = 0; rc == U_OK && i < sizeof pages / sizeof pages[0]; i++) {
        void *pg = (void *)&pages[i];
        rc = ulfius_add_endpoint_by_val(u, "GET", NULL, pages[i].path, 1, serve_page, pg);
        if (rc == U_OK)
            rc = ulfius_add_endpoint_by_val(u, "HEAD", NULL, pages[i].path, 1, serve_page, pg);
        if (rc == U_OK)
            rc = ulfius_add_endpoint_by_val(u, "*", NULL, pages[i].path, 2,
                                            page_method_not_allowed, NULL);
    }
    if (rc == U_OK)
        rc = ulfius_add_endpoint_by_val(u, "GET", NULL, "*", 2, page_not_found, NULL);
    if (rc == U_OK)
        rc = ulfius_add_endpoint_by_val(u, "HEAD", NULL, "*", 2, page_not_found, NULL);
    return rc;
}
