/*
 * openai_req.c — requests to the OpenAI-compatible server and the words for
 * its failures (openai_req.h). Knows URLs, headers, bodies, status codes
 * and curl's error codes; never runs a transfer itself. The API key goes
 * into a request header and nowhere else: never into a detail or a log.
 */
#include "bot/openai_req.h"
#include "bot/sse.h"
#include "server/config.h"
#include "util/buf.h"
#include "util/mem.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool cb_oai_configured(void)
{
    return cb_cfg && cb_cfg->llm_url && cb_cfg->llm_url[0];
}

const char *cb_oai_model(const char *model)
{
    if (model && model[0])
        return model;
    return cb_cfg && cb_cfg->llm_model ? cb_cfg->llm_model : "";
}

/* {llm_url}/{path}, with exactly one slash between them. */
static char *url_of(const char *path)
{
    const char *base = cb_cfg->llm_url;
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--;
    return cb_xasprintf("%.*s/%s", (int)n, base, path);
}

/* llm_url as users may see it: no "user:password@", no query. */
static void public_url(char *out, size_t size)
{
    const char *u = cb_oai_configured() ? cb_cfg->llm_url : "";
    const char *host = strstr(u, "://");
    host = host ? host + 3 : u;
    size_t end = strcspn(host, "/?#");
    const char *at = memchr(host, '@', end);
    size_t scheme = (size_t)(host - u);
    const char *rest = at ? at + 1 : host;
    snprintf(out, size, "%.*s%.*s", (int)scheme, u, (int)strcspn(rest, "?#"), rest);
}

static struct curl_slist *add_header(struct curl_slist *h, const char *line)
{
    struct curl_slist *n = curl_slist_append(h, line);
    if (!n) {
        fprintf(stderr, "chatbot: out of memory (curl_slist_append)\n");
        abort();
    }
    return n;
}

static struct curl_slist *headers_for(bool json_body, bool stream)
{
    struct curl_slist *h = NULL;
    if (json_body)
        h = add_header(h, "Content-Type: application/json");
    h = add_header(h, stream ? "Accept: text/event-stream" : "Accept: application/json");
    h = add_header(h, "Expect:");           /* no 100-continue round trip for big histories */
    if (cb_cfg->llm_api_key && cb_cfg->llm_api_key[0]) {
        char *auth = cb_xasprintf("Authorization: Bearer %s", cb_cfg->llm_api_key);
        h = add_header(h, auth);
        memset(auth, 0, strlen(auth));
        free(auth);
    }
    return h;
}

static CURL *new_handle(const char *path, struct curl_slist *headers, long connect_s,
                        long stall_s, long total_s)
{
    CURL *e = curl_easy_init();
    if (!e)
        return NULL;
    char *url = url_of(path);
    curl_easy_setopt(e, CURLOPT_URL, url);         /* copied by libcurl */
    free(url);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "chatbot/" CHATBOT_VERSION);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, connect_s);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, stall_s);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, total_s);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    return e;
}

/* The JSON request body, or NULL when a turn is not valid UTF-8. */
static char *completion_body(const char *model, const cb_bot_turn *turns, size_t n, bool stream)
{
    json_t *messages = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_pack("{s:s, s:s}", "role", turns[i].role ? turns[i].role : "user",
                              "content", turns[i].content ? turns[i].content : "");
        if (!m) {
            json_decref(messages);
            return NULL;
        }
        json_array_append_new(messages, m);
    }
    json_t *body = json_pack("{s:s, s:o, s:b}", "model", model, "messages", messages,
                             "stream", stream);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    return text;
}

CURL *cb_oai_completion(const char *model, const cb_bot_turn *turns, size_t n, bool stream,
                        long total_s, struct curl_slist **headers, char **body,
                        char *detail, size_t size)
{
    *headers = NULL;
    *body = completion_body(model, turns, n, stream);
    if (!*body) {
        snprintf(detail, size, "the conversation cannot be sent to the language model "
                               "(text that is not UTF-8)");
        return NULL;
    }
    *headers = headers_for(true, stream);
    CURL *e = new_handle("chat/completions", *headers, cb_cfg->llm_connect_timeout_s,
                         cb_cfg->llm_stall_timeout_s, total_s);
    if (!e) {
        snprintf(detail, size, "cannot prepare a request to the language model");
        return NULL;
    }
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, *body);
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(*body));
    return e;
}

CURL *cb_oai_models_request(struct curl_slist **headers)
{
    long connect_s = cb_cfg->llm_connect_timeout_s < 2 ? cb_cfg->llm_connect_timeout_s : 2;
    *headers = headers_for(false, false);
    CURL *e = new_handle("models", *headers, connect_s, 3, 3);
    if (e)
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    return e;
}

/* The server's own message from an error body: JSON error objects, or the
   first line of a short text/plain body (Ollama's "404 page not found"). */
static bool upstream_message(CURL *e, const char *body, size_t len, char *out, size_t size)
{
    if (!body || !len)
        return false;
    json_t *root = json_loadb(body, len, 0, NULL);
    bool got = root && cb_chunk_error_message(root, out, size);
    json_decref(root);
    if (got || root)
        return got;
    const char *type = NULL;
    curl_easy_getinfo(e, CURLINFO_CONTENT_TYPE, &type);
    if (!type || strncmp(type, "text/plain", 10) != 0)
        return false;
    cb_one_line(out, size, body, strcspn(body, "\n") < len ? strcspn(body, "\n") : len);
    return out[0] != '\0';
}

void cb_oai_status_detail(CURL *e, long status, const char *model, const char *body, size_t len,
                          char *out, size_t size)
{
    if (status == 401 || status == 403) {
        snprintf(out, size, "the language model server refused the API key");
    } else if (status == 404) {
        char shown[80];
        cb_one_line(shown, sizeof shown, model, strlen(model));
        snprintf(out, size, "the language model server does not know model %s", shown);
    } else if (status == 429) {
        curl_off_t wait = 0;
        curl_easy_getinfo(e, CURLINFO_RETRY_AFTER, &wait);
        if (wait > 0 && wait < 86400)
            snprintf(out, size, "the language model server is rate-limiting requests; "
                                "try again in %ld s", (long)wait);
        else
            snprintf(out, size, "the language model server is rate-limiting requests; "
                                "try again later");
    } else if (status >= 500) {
        snprintf(out, size, "the language model server failed (HTTP %ld)", status);
    } else {
        snprintf(out, size, "the language model server answered HTTP %ld", status);
    }
    char msg[160];
    size_t used = strlen(out);
    if (used + 3 < size && upstream_message(e, body, len, msg, sizeof msg)) {
        /* Cut the message, never the explanation, when space is short. */
        char fit[160];
        cb_one_line(fit, size - used - 2 < sizeof fit ? size - used - 2 : sizeof fit,
                    msg, strlen(msg));
        if (fit[0])
            snprintf(out + used, size - used, ": %s", fit);
    }
}

void cb_oai_curl_detail(CURL *e, CURLcode rc, long total_s, char *out, size_t size)
{
    char url[200];
    public_url(url, sizeof url);
    /* Not CONNECT_TIME: it is 0 on a reused connection. */
    curl_off_t connected = 0, elapsed = 0, received = 0;
    curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &connected);
    curl_easy_getinfo(e, CURLINFO_TOTAL_TIME_T, &elapsed);
    curl_easy_getinfo(e, CURLINFO_SIZE_DOWNLOAD_T, &received);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        snprintf(out, size, "cannot find the language model server %s (unknown host)", url);
        return;
    case CURLE_COULDNT_CONNECT:
        snprintf(out, size, "cannot connect to the language model server at %s", url);
        return;
    case CURLE_OPERATION_TIMEDOUT:
        if (connected == 0)
            snprintf(out, size, "timed out connecting to the language model server at %s", url);
        else if (elapsed >= (curl_off_t)total_s * 1000000 - 500000)
            snprintf(out, size, "the language model took longer than %ld s to reply", total_s);
        else
            snprintf(out, size, CB_OAI_STALLED);
        return;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
        snprintf(out, size, "cannot make a secure connection to the language model server "
                            "at %s (%s)", url, curl_easy_strerror(rc));
        return;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(out, size, "the language model URL %s is not valid", url);
        return;
    case CURLE_GOT_NOTHING:
        snprintf(out, size, "the language model server at %s closed the connection "
                            "without answering", url);
        return;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        snprintf(out, size, "%s", received > 0 ? CB_OAI_CUT
                                               : "the language model server dropped the connection");
        return;
    default:
        snprintf(out, size, "the request to the language model failed: %s",
                 curl_easy_strerror(rc));
    }
}
