/*
 * openai_sync.c — the openai provider's blocking calls: the model list
 * (GET {llm_url}/models, at most 3 s, cached) and the one-shot completion
 * used for titles. Both run on the caller's thread with their own easy
 * handle; neither touches the streaming thread of openai.c.
 */
#include "bot/openai.h"
#include "bot/openai_req.h"
#include "server/config.h"
#include "util/buf.h"
#include "util/mem.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <yder.h>

#define MODELS_TTL_S 60         /* a list the server gave */
#define MODELS_RETRY_S 10       /* after the server could not be asked */
#define MODELS_BODY_MAX (1024 * 1024)
#define COMPLETE_BODY_MAX (8 * 1024 * 1024)

typedef struct bounded {
    cb_buf b;
    size_t max;
    bool over;
} bounded;

static size_t collect(char *p, size_t size, size_t nmemb, void *arg)
{
    bounded *out = arg;
    size_t n = size * nmemb;
    if (out->b.len + n > out->max) {
        out->over = true;
        return 0;
    }
    cb_buf_put(&out->b, p, n);
    return n;
}

static CURLcode perform(CURL *e, bounded *out, long *status)
{
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    CURLcode rc = curl_easy_perform(e);
    *status = 0;
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, status);
    return rc;
}

/* --- models ------------------------------------------------------------------ */

static struct {
    pthread_mutex_t mu;
    json_t *ids;                /* array of strings, or NULL before the first ask */
    bool ok;                    /* the server answered */
    time_t at;                  /* monotonic seconds of the last ask */
} cache = {.mu = PTHREAD_MUTEX_INITIALIZER};

static time_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Asks the server; NULL when it cannot be asked or answers nonsense. */
static json_t *fetch_ids(void)
{
    struct curl_slist *headers;
    CURL *e = cb_oai_models_request(&headers);
    if (!e) {
        curl_slist_free_all(headers);
        return NULL;
    }
    bounded out = {.max = MODELS_BODY_MAX};
    long status;
    CURLcode rc = perform(e, &out, &status);
    json_t *ids = NULL;
    json_t *root = rc == CURLE_OK && status == 200
                       ? json_loadb(out.b.data ? out.b.data : "", out.b.len, 0, NULL) : NULL;
    json_t *data = json_object_get(root, "data");
    if (json_is_array(data)) {
        ids = json_array();
        size_t i;
        json_t *m;
        json_array_foreach(data, i, m) {
            json_t *id = json_object_get(m, "id");
            if (json_is_string(id) && json_string_length(id) > 0 &&
                strcmp(json_string_value(id), "builtin") != 0)
                json_array_append(ids, id);
        }
    } else {
        y_log_message(Y_LOG_LEVEL_WARNING, "openai: cannot list the models (%s, HTTP %ld)",
                      curl_easy_strerror(rc), status);
    }
    json_decref(root);
    cb_buf_free(&out.b);
    curl_easy_cleanup(e);
    curl_slist_free_all(headers);
    return ids;
}

/* The server's model ids (a new reference; an empty array when it cannot be
   asked). The lock is held while asking, so a crowd of callers after the
   cache expires makes one request, not one each. */
static json_t *model_ids(void)
{
    pthread_mutex_lock(&cache.mu);
    time_t now = now_s();
    if (!cache.ids || now - cache.at >= (cache.ok ? MODELS_TTL_S : MODELS_RETRY_S)) {
        json_t *ids = fetch_ids();
        cache.ok = ids != NULL;
        json_decref(cache.ids);
        cache.ids = ids ? ids : json_array();
        cache.at = now_s();
    }
    json_t *ids = json_incref(cache.ids);
    pthread_mutex_unlock(&cache.mu);
    return ids;
}

void cb_openai_models_forget(void)
{
    pthread_mutex_lock(&cache.mu);
    json_decref(cache.ids);
    cache.ids = NULL;
    pthread_mutex_unlock(&cache.mu);
}

static void add_model(json_t *items, const char *id)
{
    json_array_append_new(items, json_pack("{s:s, s:s, s:s}", "id", id, "name", id,
                                           "provider", "openai"));
}

/* llm_model first (the server may serve it under a name it does not list,
   like Ollama's "llama3.2" for "llama3.2:latest"), then what it lists. */
static void add_models(json_t *items, json_t *ids)
{
    const char *def = cb_cfg->llm_model;
    if (def[0] && strcmp(def, "builtin") != 0)
        add_model(items, def);
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        if (strcmp(json_string_value(id), def) != 0)
            add_model(items, json_string_value(id));
    }
}

void cb_openai_models(json_t *items)
{
    if (!cb_oai_configured())
        return;
    json_t *ids = model_ids();
    add_models(items, ids);
    json_decref(ids);
}

bool cb_openai_models_cached(json_t *items)
{
    if (!cb_oai_configured())
        return true;
    if (pthread_mutex_trylock(&cache.mu) != 0)
        return false;                   /* being asked for right now */
    bool fresh = cache.ids && now_s() - cache.at < (cache.ok ? MODELS_TTL_S : MODELS_RETRY_S);
    json_t *ids = fresh ? json_incref(cache.ids) : NULL;
    pthread_mutex_unlock(&cache.mu);
    if (ids) {
        add_models(items, ids);
        json_decref(ids);
    }
    return fresh;
}

bool cb_openai_has_model(const char *model)
{
    if (!cb_oai_configured() || !model || !model[0] || strcmp(model, "builtin") == 0)
        return false;
    if (strcmp(model, cb_cfg->llm_model) == 0)
        return true;
    json_t *ids = model_ids();
    bool found = false;
    size_t i;
    json_t *id;
    json_array_foreach(ids, i, id) {
        if (strcmp(json_string_value(id), model) == 0) {
            found = true;
            break;
        }
    }
    json_decref(ids);
    return found;
}

/* --- one-shot completion ------------------------------------------------------ */

static char *reply_text(const bounded *out, char *detail, size_t size)
{
    json_t *root = json_loadb(out->b.data ? out->b.data : "", out->b.len, 0, NULL);
    json_t *msg = json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message");
    json_t *content = json_object_get(msg, "content");
    char *text = json_is_string(content) ? cb_xstrdup(json_string_value(content)) : NULL;
    if (!text)
        snprintf(detail, size, CB_OAI_MALFORMED);
    json_decref(root);
    return text;
}

char *cb_openai_complete(const char *model, const cb_bot_turn *turns, size_t n, int timeout_s,
                         char *detail, size_t detail_size)
{
    model = cb_oai_model(model);
    if (!cb_oai_configured() || !model[0]) {
        snprintf(detail, detail_size, "no language model is configured");
        return NULL;
    }
    struct curl_slist *headers;
    char *body;
    long total = timeout_s > 0 ? timeout_s : cb_cfg->llm_total_timeout_s;
    CURL *e = cb_oai_completion(model, turns, n, false, total, &headers, &body, detail,
                                detail_size);
    char *text = NULL;
    if (e) {
        bounded out = {.max = COMPLETE_BODY_MAX};
        long status;
        CURLcode rc = perform(e, &out, &status);
        if (status != 0 && status != 200)
            cb_oai_status_detail(e, status, model, out.b.data, out.b.len, detail, detail_size);
        else if (out.over)
            snprintf(detail, detail_size, CB_OAI_MALFORMED);
        else if (rc != CURLE_OK)
            cb_oai_curl_detail(e, rc, total, detail, detail_size);
        else
            text = reply_text(&out, detail, detail_size);
        cb_buf_free(&out.b);
        curl_easy_cleanup(e);
    }
    curl_slist_free_all(headers);
    free(body);
    return text;
}
