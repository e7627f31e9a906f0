/*
 * test_openai.c — the openai provider (src/bot/openai*.c) against
 * tests/fake_upstream.py over real HTTP: a normal stream, a stream cut into
 * 1-7 byte pieces, HTTP errors and their details, cut, malformed, garbage
 * and stalled streams, a cancel that must close the upstream connection
 * within 2 s, 50 concurrent replies, shutdown with replies in flight, the
 * model list and the one-shot completion. The job is a stand-in that
 * records deltas and the finish. Exit 77 (skipped) when the fake cannot run.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bot/openai.h"
#include "bot/openai_req.h"
#include "bot/sse.h"
#include "check.h"
#include "server/config.h"
#include "util/buf.h"
#include "util/mem.h"

/* --- a job that records ------------------------------------------------------ */

struct cb_bot_job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    cb_buf text;
    int finishes;
    bool ok, split_char;
    char detail[512];
    atomic_bool cancelled;
    cb_bot_pump_fn pump;
    void *pump_arg;
};

void cb_bot_job_delta(cb_bot_job *job, const char *text, size_t len)
{
    pthread_mutex_lock(&job->mu);
    if (cb_utf8_whole_len(text, len) != len || (len && ((unsigned char)text[0] & 0xC0) == 0x80))
        job->split_char = true;
    cb_buf_put(&job->text, text, len);
    pthread_cond_broadcast(&job->cv);
    pthread_mutex_unlock(&job->mu);
}

void cb_bot_job_finish(cb_bot_job *job, bool ok, const char *detail)
{
    pthread_mutex_lock(&job->mu);
    job->finishes++;
    job->ok = ok;
    snprintf(job->detail, sizeof job->detail, "%s", detail ? detail : "");
    job->pump = NULL;
    pthread_cond_broadcast(&job->cv);
    pthread_mutex_unlock(&job->mu);
}

void cb_bot_job_set_pump(cb_bot_job *job, cb_bot_pump_fn pump, void *arg)
{
    pthread_mutex_lock(&job->mu);
    job->pump = pump;
    job->pump_arg = arg;
    pthread_mutex_unlock(&job->mu);
}

bool cb_bot_job_cancelled(const cb_bot_job *job)
{
    return atomic_load(&((cb_bot_job *)job)->cancelled);
}

static cb_bot_job *job_new(void)
{
    cb_bot_job *j = cb_xcalloc(1, sizeof *j);
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->cv, NULL);
    return j;
}

static void job_free(cb_bot_job *j)
{
    cb_buf_free(&j->text);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->cv);
    free(j);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Waits until the job finished (or has `bytes` of text, when > 0), as the
   server's consumer does: pumping in slices of 250 ms. */
static bool job_wait(cb_bot_job *j, double seconds, size_t bytes)
{
    double until = now() + seconds;
    pthread_mutex_lock(&j->mu);
    while (!j->finishes && !(bytes && j->text.len >= bytes) && now() < until) {
        cb_bot_pump_fn pump = j->pump;
        void *arg = j->pump_arg;
        pthread_mutex_unlock(&j->mu);
        if (pump)
            pump(arg, 250);
        else
            usleep(5000);
        pthread_mutex_lock(&j->mu);
    }
    bool done = j->finishes || (bytes && j->text.len >= bytes);
    pthread_mutex_unlock(&j->mu);
    return done;
}

/* --- the fake upstream --------------------------------------------------------- */

static pid_t fake_pid;
static int fake_port;
static cb_config cfg;

static void start_fake(void)
{
    const char *script = "tests/fake_upstream.py";
    if (access("/usr/bin/python3", X_OK) != 0 || access(script, R_OK) != 0) {
        fprintf(stderr, "test_openai: skipped (no /usr/bin/python3 or %s)\n", script);
        exit(77);
    }
    char port_file[] = "/tmp/cb_fake_port_XXXXXX";
    int fd = mkstemp(port_file);
    close(fd);
    unlink(port_file);
    fake_pid = fork();
    if (fake_pid == 0) {
        execl("/usr/bin/python3", "python3", script, "--port", "0", "--port-file", port_file,
              "--api-key", "sekrit-key", (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500 && !fake_port; i++) {
        FILE *f = fopen(port_file, "r");
        if (f) {
            if (fscanf(f, "%d", &fake_port) != 1)
                fake_port = 0;
            fclose(f);
        }
        if (!fake_port)
            usleep(20000);
    }
    unlink(port_file);
    if (!fake_port) {
        fprintf(stderr, "test_openai: skipped (the fake upstream did not start)\n");
        kill(fake_pid, SIGTERM);
        exit(77);
    }
}

static void stop_fake(void)
{
    kill(fake_pid, SIGTERM);
    waitpid(fake_pid, NULL, 0);
}

static size_t to_buf(char *p, size_t size, size_t nmemb, void *arg)
{
    cb_buf_put(arg, p, size * nmemb);
    return size * nmemb;
}

/* A request to the fake's /_control/ API; returns the status, the body in
   *out (when out is given; the caller frees). */
static long control(const char *path, const char *post, cb_buf *out)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/_control/%s", fake_port, path);
    CURL *e = curl_easy_init();
    cb_buf sink = {0};
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, to_buf);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out ? out : &sink);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 20L);
    if (post)
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, post);
    long status = 0;
    if (curl_easy_perform(e) == CURLE_OK)
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(e);
    cb_buf_free(&sink);
    return status;
}

/* Resets the fake's log and sets the scenario. */
static void scenario(const char *json)
{
    CHECK(control("reset", "", NULL) == 200);
    CHECK(control("scenario", json, NULL) == 200);
}

/* --- replies ------------------------------------------------------------------ */

static const cb_bot_turn TURNS[] = {
    {"system", "You are terse."},
    {"user", "Say hello \xc3\xa9\xe6\x97\xa5"},
};

static cb_bot_job *reply_start(const char *model)
{
    cb_bot_request req = {.model = model, .turns = TURNS, .n_turns = 2, .query = "hello"};
    cb_bot_job *j = job_new();
    char detail[256] = "";
    cb_rc rc = cb_bot_openai.start(&req, j, detail, sizeof detail);
    CHECK(rc == CB_OK);
    if (rc != CB_OK) {
        fprintf(stderr, "start: %s\n", detail);
        j->finishes = -1;
    }
    return j;
}

/* Runs one reply to its end; the caller frees the job. */
static cb_bot_job *reply(const char *model)
{
    cb_bot_job *j = reply_start(model);
    CHECK(job_wait(j, 15, 0));
    return j;
}

static bool starts_with(const char *s, const char *prefix)
{
    bool ok = strncmp(s, prefix, strlen(prefix)) == 0;
    if (!ok)
        fprintf(stderr, "expected \"%s...\", got \"%s\"\n", prefix, s);
    return ok;
}

#define TEXT "Hello w\xc3\xb6rld, \xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xf0\x9f\x8e\x89 and more words to go."

static void test_stream(void)
{
    scenario("{\"text\": \"" TEXT "\", \"rate\": 0}");
    cb_bot_job *j = reply(NULL);
    CHECK(j->finishes == 1 && j->ok);
    CHECK_STR(j->text.data, TEXT);
    CHECK(!j->split_char);
    job_free(j);

    /* The request: the model, the turns, stream:true, the key. */
    cb_buf log = {0};
    CHECK(control("log", NULL, &log) == 200);
    CHECK(log.data && strstr(log.data, "\"model\": \"fake-small\""));
    CHECK(log.data && strstr(log.data, "\"stream\": true"));
    CHECK(log.data && strstr(log.data, "\"authorization\": \"Bearer sekrit-key\""));
    CHECK(log.data && strstr(log.data, "You are terse."));
    cb_buf_free(&log);

    /* Every byte in its own write, CRLF line ends, characters cut. */
    scenario("{\"text\": \"" TEXT " " TEXT "\", \"mode\": \"split\", \"rate\": 0}");
    j = reply("fake-large");
    CHECK(j->finishes == 1 && j->ok);
    CHECK_STR(j->text.data, TEXT " " TEXT);
    CHECK(!j->split_char);
    job_free(j);

    /* The next reply reuses the last one's keep-alive connection. */
    j = reply(NULL);
    CHECK(j->finishes == 1 && j->ok);
    job_free(j);
    j = reply(NULL);
    CHECK(j->finishes == 1 && j->ok);
    job_free(j);
    cb_buf all = {0};
    CHECK(control("log", NULL, &all) == 200);
    json_t *logged = json_loadb(all.data ? all.data : "", all.len, 0, NULL);
    json_t *reqs = json_object_get(logged, "requests");
    size_t n = json_array_size(reqs);
    json_int_t port[2] = {-1, -2};
    for (size_t i = 0; i < 2 && n >= 2; i++)
        port[i] = json_integer_value(json_object_get(json_array_get(reqs, n - 2 + i), "client_port"));
    json_decref(logged);
    cb_buf_free(&all);
    CHECK(port[0] > 0 && port[0] == port[1]);

    /* [DONE], then a response that does not end: complete, and soon. */
    scenario("{\"text\": \"lingering on\", \"rate\": 0, \"linger\": 5}");
    double t0 = now();
    j = reply(NULL);
    CHECK(j->finishes == 1 && j->ok);
    CHECK_STR(j->text.data, "lingering on");
    CHECK(now() - t0 < 1.0);
    job_free(j);

    /* finish_reason without [DONE] is a complete reply. */
    scenario("{\"text\": \"no done here\", \"mode\": \"no_done\", \"rate\": 0}");
    j = reply(NULL);
    CHECK(j->finishes == 1 && j->ok);
    CHECK_STR(j->text.data, "no done here");
    job_free(j);
}

static void test_statuses(void)
{
    cb_bot_job *j;
    scenario("{\"mode\": \"status\", \"status\": 401}");
    j = reply(NULL);
    CHECK(j->finishes == 1 && !j->ok);
    CHECK_STR(j->detail, "the language model server refused the API key: Invalid API key");
    job_free(j);

    char *key = cfg.llm_api_key;
    cfg.llm_api_key = "wrong";
    scenario("{}");
    j = reply(NULL);
    CHECK(!j->ok && starts_with(j->detail, "the language model server refused the API key"));
    job_free(j);
    cfg.llm_api_key = key;

    j = reply("no-such-model");
    CHECK(!j->ok && starts_with(j->detail,
                                "the language model server does not know model no-such-model: "));
    job_free(j);

    scenario("{\"mode\": \"status\", \"status\": 429, \"retry_after\": 7}");
    j = reply(NULL);
    CHECK(!j->ok && starts_with(j->detail, "the language model server is rate-limiting "
                                           "requests; try again in 7 s: Rate limit"));
    job_free(j);

    scenario("{\"mode\": \"status\", \"status\": 500, \"message\": \"GPU\\non fire\"}");
    j = reply(NULL);
    CHECK(!j->ok);
    CHECK_STR(j->detail, "the language model server failed (HTTP 500): GPU on fire");
    job_free(j);

    scenario("{\"mode\": \"status\", \"status\": 503}");
    j = reply(NULL);
    CHECK(!j->ok && starts_with(j->detail, "the language model server failed (HTTP 503)"));
    job_free(j);
}

static void test_broken(void)
{
    cb_bot_job *j;
    scenario("{\"text\": \"one two three four five\", \"mode\": \"cut\", \"cut_after\": 3, "
             "\"rate\": 0}");
    j = reply(NULL);
    CHECK(j->finishes == 1 && !j->ok);
    CHECK_STR(j->detail, CB_OAI_CUT);
    CHECK_STR(j->text.data, "one two three");
    job_free(j);

    scenario("{\"text\": \"one two three\", \"mode\": \"cut\", \"cut_after\": 2, \"rate\": 0, "
             "\"transfer\": \"close\"}");
    j = reply(NULL);
    CHECK(!j->ok);
    CHECK_STR(j->detail, CB_OAI_CUT);
    job_free(j);

    scenario("{\"text\": \"one two three\", \"mode\": \"malformed\", \"malformed_after\": 1, "
             "\"rate\": 0}");
    j = reply(NULL);
    CHECK(!j->ok);
    CHECK_STR(j->detail, CB_OAI_MALFORMED);
    CHECK_STR(j->text.data, "one");
    job_free(j);

    scenario("{\"mode\": \"garbage\"}");
    j = reply(NULL);
    CHECK(!j->ok);
    CHECK_STR(j->detail, CB_OAI_MALFORMED);
    job_free(j);

    /* Silence longer than llm_stall_timeout_s (1 s here). */
    scenario("{\"text\": \"a b c d\", \"mode\": \"stall\", \"stall_after\": 2, \"rate\": 0}");
    double t0 = now();
    j = reply(NULL);
    double took = now() - t0;
    CHECK(!j->ok);
    CHECK_STR(j->detail, CB_OAI_STALLED);
    CHECK_STR(j->text.data, "a b");
    CHECK(took >= 0.9 && took < 2.5);
    if (took < 0.9 || took >= 2.5)
        fprintf(stderr, "the stall took %.2f s\n", took);
    job_free(j);
    CHECK(control("wait?n=1&disconnected=1&timeout=5", NULL, NULL) == 200);
}

/* A cancel from another thread, as POST …/stop does it. */
static void *cancel_later(void *arg)
{
    usleep(100000);
    atomic_store(&((cb_bot_job *)arg)->cancelled, true);
    return NULL;
}

static void test_cancel(void)
{
    /* Cancelled between two waits: the next pump ends it at once. */
    scenario("{\"tokens\": 100000, \"rate\": 20}");
    cb_bot_job *j = reply_start(NULL);
    CHECK(job_wait(j, 5, 10));
    CHECK(!j->finishes);
    double t0 = now();
    atomic_store(&j->cancelled, true);
    CHECK(job_wait(j, 2, 0));
    CHECK(j->finishes == 1 && j->ok);
    CHECK(now() - t0 < 0.1);
    cb_buf entry = {0};
    CHECK(control("wait?n=1&disconnected=1&timeout=5", NULL, &entry) == 200);
    CHECK(now() - t0 < 2.0);
    cb_buf_free(&entry);
    usleep(100000);
    CHECK(j->finishes == 1);
    job_free(j);

    /* Cancelled while the consumer waits in the pump: noticed within a
       slice, although the upstream sends nothing more (a stall far longer
       than the test). */
    scenario("{\"text\": \"a b c d e f\", \"mode\": \"stall\", \"stall_after\": 3}");
    j = reply_start(NULL);
    CHECK(job_wait(j, 5, 3));
    pthread_t canceller;
    pthread_create(&canceller, NULL, cancel_later, j);
    t0 = now();
    CHECK(job_wait(j, 2, 0));
    pthread_join(canceller, NULL);
    CHECK(j->finishes == 1 && j->ok);
    CHECK(now() - t0 < 0.5);
    CHECK(control("wait?n=1&disconnected=1&timeout=5", NULL, NULL) == 200);
    CHECK(now() - t0 < 2.0);
    job_free(j);
}

/* Fifty consumers at once, each in its own thread, as in the server. */
static void *consume(void *arg)
{
    job_wait(arg, 20, 0);
    return NULL;
}

static void test_concurrent(void)
{
    enum { N = 50 };
    scenario("{\"text\": \"" TEXT "\", \"rate\": 100}");
    cb_bot_job *jobs[N];
    pthread_t threads[N];
    double t0 = now();
    for (int i = 0; i < N; i++) {
        jobs[i] = reply_start(i % 2 ? "fake-small" : "fake-large");
        pthread_create(&threads[i], NULL, consume, jobs[i]);
    }
    int good = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(threads[i], NULL);
        good += jobs[i]->finishes == 1 && jobs[i]->ok && jobs[i]->text.data &&
                strcmp(jobs[i]->text.data, TEXT) == 0 && !jobs[i]->split_char;
        job_free(jobs[i]);
    }
    CHECK(good == N);
    /* Concurrent, not one after another (each reply takes ~0.2 s). */
    CHECK(now() - t0 < 5.0);
}

static void test_models(void)
{
    json_t *items = json_array();
    cb_bot_openai.models(items);
    char *s = json_dumps(items, JSON_COMPACT);
    CHECK_STR(s, "[{\"id\":\"fake-small\",\"name\":\"fake-small\",\"provider\":\"openai\"},"
                 "{\"id\":\"fake-large\",\"name\":\"fake-large\",\"provider\":\"openai\"}]");
    free(s);
    json_decref(items);
    CHECK(cb_bot_openai.has_model("fake-small"));
    CHECK(cb_bot_openai.has_model("fake-large"));
    CHECK(!cb_bot_openai.has_model("fake-medium"));
    CHECK(!cb_bot_openai.has_model("builtin"));
    CHECK(!cb_bot_openai.has_model(""));
}

static void test_complete(void)
{
    scenario("{\"text\": \"A Short Title\", \"rate\": 0}");
    char detail[256] = "";
    char *t = cb_openai_complete(NULL, TURNS, 2, 5, detail, sizeof detail);
    CHECK_STR(t, "A Short Title");
    free(t);
    cb_buf log = {0};
    CHECK(control("log", NULL, &log) == 200);
    CHECK(log.data && strstr(log.data, "\"stream\": false"));
    cb_buf_free(&log);

    scenario("{\"mode\": \"status\", \"status\": 500}");
    t = cb_openai_complete("fake-large", TURNS, 2, 5, detail, sizeof detail);
    CHECK(t == NULL);
    CHECK(starts_with(detail, "the language model server failed (HTTP 500)"));

    scenario("{\"text\": \"x y z\", \"mode\": \"stall\", \"stall_after\": 1}");
    double t0 = now();
    t = cb_openai_complete(NULL, TURNS, 2, 1, detail, sizeof detail);
    CHECK(t == NULL && now() - t0 < 4);
    CHECK(starts_with(detail, "the language model"));
}

/* Nothing listens on the port: a clear detail, and llm_model alone on offer. */
static void test_unreachable(void)
{
    char url[64];
    char *saved = cfg.llm_url;
    snprintf(url, sizeof url, "http://user:pw@127.0.0.1:1/v1");
    cfg.llm_url = url;
    cb_openai_models_forget();
    cb_bot_job *j = reply(NULL);
    CHECK(!j->ok);
    CHECK_STR(j->detail, "cannot connect to the language model server at http://127.0.0.1:1/v1");
    job_free(j);
    json_t *items = json_array();
    cb_bot_openai.models(items);
    CHECK(json_array_size(items) == 1);
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 0), "id")), "fake-small");
    json_decref(items);
    CHECK(cb_bot_openai.has_model("fake-small"));
    CHECK(!cb_bot_openai.has_model("fake-large"));
    cfg.llm_url = saved;
    cb_openai_models_forget();
}

/* A reply running at shutdown belongs to its consumer: it goes on until
   it is cancelled (the server cancels every reply first), and the share
   handle outlives it. Nothing starts after. */
static void test_shutdown(void)
{
    scenario("{\"tokens\": 100000, \"rate\": 20}");
    cb_bot_job *j = reply_start(NULL);
    CHECK(job_wait(j, 5, 5));
    cb_openai_shutdown();
    size_t had = j->text.len;
    CHECK(job_wait(j, 5, had + 3));
    CHECK(!j->finishes);
    atomic_store(&j->cancelled, true);
    CHECK(job_wait(j, 2, 0));
    CHECK(j->finishes == 1 && j->ok);
    CHECK(control("wait?n=1&disconnected=1&timeout=3", NULL, NULL) == 200);
    job_free(j);

    cb_bot_request req = {.turns = TURNS, .n_turns = 2};
    char detail[256] = "";
    j = job_new();
    CHECK(cb_bot_openai.start(&req, j, detail, sizeof detail) != CB_OK);
    CHECK(detail[0] != '\0');
    job_free(j);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    start_fake();
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1/", fake_port);   /* trailing slash */
    cfg.llm_url = url;
    cfg.llm_api_key = "sekrit-key";
    cfg.llm_model = "fake-small";
    cfg.llm_connect_timeout_s = 2;
    cfg.llm_stall_timeout_s = 1;
    cfg.llm_total_timeout_s = 30;
    cb_cfg = &cfg;
    CHECK(cb_openai_init() == 0);

    test_stream();
    test_statuses();
    test_broken();
    test_cancel();
    test_concurrent();
    test_models();
    test_complete();
    test_unreachable();
    test_shutdown();

    stop_fake();
    curl_global_cleanup();
    return check_done("test_openai");
}
