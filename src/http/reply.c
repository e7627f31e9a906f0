/*
 * reply.c — reading JSON requests and sending every kind of answer. Each
 * function here sends exactly one answer and returns U_CALLBACK_COMPLETE,
 * so a handler ends with `return cb_reply_...(ctx, ...)`: errors are turned
 * into HTTP once, at the edge (problem+json, RFC 9457).
 */
#include "http/internal.h"
#include "server/config.h"

#include <string.h>

cb_ctx *cb_ctx_of(const struct _u_request *req, struct _u_response *resp)
{
    cb_ctx *ctx = resp->shared_data;
    ctx->req = req;
    ctx->resp = resp;
    return ctx;
}

void cb_set_security_headers(struct _u_response *resp, bool tls)
{
    struct _u_map *h = resp->map_header;
    u_map_put(h, "Content-Security-Policy",
              "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
              "connect-src 'self'; frame-ancestors 'none'; "
              "base-uri 'none'; form-action 'self'");
    u_map_put(h, "X-Content-Type-Options", "nosniff");
    u_map_put(h, "Referrer-Policy", "strict-origin-when-cross-origin");
    u_map_put(h, "X-Frame-Options", "DENY");
    u_map_put(h, "Cross-Origin-Opener-Policy", "same-origin");
    u_map_put(h, "Cross-Origin-Resource-Policy", "same-origin");
    if (tls)
        u_map_put(h, "Strict-Transport-Security", "max-age=63072000; includeSubDomains");
}

static const char *reason(int status)
{
    switch (status) {
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Content Too Large";
    case 415:
        return "Unsupported Media Type";
    case 410:
        return "Gone";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 500:
        return "Internal Server Error";
    case 502:
        return "Bad Gateway";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return status >= 500 ? "Internal Server Error" : "Error";
    }
}

int cb_reply_json(cb_ctx *ctx, int status, json_t *body_take)
{
    char *text = json_dumps(body_take, JSON_COMPACT | JSON_ENCODE_ANY);
    json_decref(body_take);
    ulfius_set_string_body_response(ctx->resp, (unsigned)status, text ? text : "null");
    free(text);
    u_map_put(ctx->resp->map_header, "Content-Type", "application/json");
    return U_CALLBACK_COMPLETE;
}

int cb_reply_json_text_take(cb_ctx *ctx, int status, char *text, size_t len)
{
    /* Hand the buffer to Ulfius instead of copying it: it frees the body. */
    free(ctx->resp->binary_body);
    ctx->resp->binary_body = text;
    ctx->resp->binary_body_length = len;
    ctx->resp->status = status;
    u_map_put(ctx->resp->map_header, "Content-Type", "application/json");
    return U_CALLBACK_COMPLETE;
}

int cb_reply_empty(cb_ctx *ctx, int status)
{
    ctx->resp->status = status;
    return U_CALLBACK_COMPLETE;
}

int cb_reply_problem(cb_ctx *ctx, int status, const char *detail, json_t *errors_take)
{
    json_t *extra = json_object();
    if (detail)
        json_object_set_new(extra, "detail", json_string(detail));
    if (errors_take)
        json_object_set_new(extra, "errors", errors_take);
    return cb_reply_problem_with(ctx, status, extra);
}

int cb_reply_problem_with(cb_ctx *ctx, int status, json_t *members_take)
{
    json_t *doc = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title", reason(status),
                            "status", status, "detail", reason(status));
    json_object_update(doc, members_take);
    json_decref(members_take);
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    ulfius_set_string_body_response(ctx->resp, (unsigned)status, text);
    free(text);
    u_map_put(ctx->resp->map_header, "Content-Type", "application/problem+json");
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
    return U_CALLBACK_COMPLETE;
}

int cb_reply_rc(cb_ctx *ctx, cb_rc rc, cb_errors *errs)
{
    json_t *fields = errs ? errs->fields : NULL;
    if (errs)
        errs->fields = NULL;
    switch (rc) {
    case CB_NOTFOUND:
        json_decref(fields);
        return cb_reply_problem(ctx, 404, "no such resource", NULL);
    case CB_INVALID:
        return cb_reply_problem(ctx, 400, "the request has invalid fields", fields);
    case CB_CONFLICT:
        return cb_reply_problem(ctx, 409, "conflicts with an existing resource", fields);
    case CB_CONSTRAINT:
        return cb_reply_problem(ctx, 409, "conflicts with related data", fields);
    case CB_TOOBIG:
        json_decref(fields);
        return cb_reply_problem(ctx, 413, "too large", NULL);
    case CB_BUSY:
        json_decref(fields);
        u_map_put(ctx->resp->map_header, "Retry-After", "1");
        return cb_reply_problem(ctx, 503, "the database is busy; retry shortly", NULL);
    default:
        json_decref(fields);
        return cb_reply_problem(ctx, 500, "internal error (logged)", NULL);
    }
}

static bool is_json_type(const char *ct)
{
    static const char want[] = "application/json";
    if (!ct || strncasecmp(ct, want, sizeof want - 1) != 0)
        return false;
    char next = ct[sizeof want - 1];
    return next == '\0' || next == ';' || next == ' ';
}

json_t *cb_request_json_or_reply(cb_ctx *ctx)
{
    const struct _u_request *req = ctx->req;
    if (req->binary_body_length > (size_t)cb_cfg->max_body_bytes) {
        char detail[96];
        snprintf(detail, sizeof detail, "the body is larger than %ld bytes",
                 cb_cfg->max_body_bytes);
        cb_reply_problem(ctx, 413, detail, NULL);
        return NULL;
    }
    if (req->binary_body_length == 0)
        return json_object();
    if (!is_json_type(u_map_get_case(req->map_header, "Content-Type"))) {
        cb_reply_problem(ctx, 415, "send the body as application/json", NULL);
        return NULL;
    }
    json_error_t err;
    json_t *body = json_loadb(req->binary_body, req->binary_body_length,
                              JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &err);
    if (!body) {
        char detail[256];
        snprintf(detail, sizeof detail, "malformed JSON at line %d, column %d: %s", err.line,
                 err.column, err.text);
        cb_reply_problem(ctx, 400, detail, NULL);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        cb_reply_problem(ctx, 400, "the body must be a JSON object", NULL);
        return NULL;
    }
    return body;
}
