/*
 * test_builtin.c — the built-in bot (src/bot/builtin.c) over a real
 * database seeded with the user guide, writing into a fake reply job:
 * quoted answers with their sources, "I don't know", small talk, hostile
 * questions, deltas of whole UTF-8 characters, one finish, cancel, and the
 * same answer every time.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bot/bot.h"
#include "bot/kb.h"
#include "check.h"
#include "db/db.h"
#include "db/migrate.h"
#include "db/validate.h"
#include "util/buf.h"

/* --- a fake job: what src/chat/job.c would receive -------------------------- */

struct cb_bot_job {
    cb_buf text;
    int deltas, finished, cancel_after;
    bool ok, bad_delta;
    size_t longest;
};

void cb_bot_job_delta(cb_bot_job *job, const char *text, size_t len)
{
    if (len == 0 || !cb_utf8_valid(text, len) || job->finished)
        job->bad_delta = true;
    if (len > job->longest)
        job->longest = len;
    cb_buf_put(&job->text, text, len);
    job->deltas++;
}

void cb_bot_job_finish(cb_bot_job *job, bool ok, const char *detail)
{
    job->finished++;
    job->ok = ok;
}

bool cb_bot_job_cancelled(const cb_bot_job *job)
{
    return job->cancel_after && job->deltas >= job->cancel_after;
}

/* Asks `question`; returns the job (text owned by it) after checking the
   provider's side of the contract. */
static cb_bot_job ask(cb_db *db, const char *question)
{
    cb_bot_job job = {0};
    cb_bot_turn turn = {"user", question};
    cb_bot_request req = {"builtin", &turn, 1, question, db};
    char detail[128] = "";
    CHECK(cb_bot_builtin.start(&req, &job, detail, sizeof detail) == CB_OK);
    CHECK(job.finished == 1 && job.ok);
    CHECK(!job.bad_delta);
    CHECK(job.longest <= 96);
    CHECK(job.text.len > 0 && cb_utf8_valid(job.text.data, job.text.len));
    return job;
}

static void test_answers(cb_db *db)
{
    cb_bot_job j = ask(db, "How do I change my password?");
    CHECK(strncmp(j.text.data, "From **Account and password › Changing your password**:\n\n> ",
                  strlen("From **Account and password › Changing your password**:\n\n> ")) == 0);
    CHECK(strstr(j.text.data, "POST /api/v1/auth/password") != NULL);
    CHECK(j.deltas > 10);
    cb_bot_job again = ask(db, "How do I change my password?");
    CHECK_STR(again.text.data, j.text.data);               /* deterministic */
    CHECK(again.deltas == j.deltas);
    cb_buf_free(&j.text);
    cb_buf_free(&again.text);

    j = ask(db, "Which URL do I use for Ollama?");
    CHECK(strstr(j.text.data, "http://127.0.0.1:11434/v1") != NULL);
    CHECK(strstr(j.text.data, "**Connecting an LLM") != NULL);
    cb_buf_free(&j.text);

    j = ask(db, "What is the weather in Paris?");
    CHECK(strncmp(j.text.data, "I don't know", 12) == 0);
    CHECK(strstr(j.text.data, "*Getting started*") != NULL);
    cb_buf_free(&j.text);

    static const char *const talk[][2] = {
        {"hi", "Hello!"}, {"Hello there!", "Hello!"}, {"good morning", "Hello!"},
        {"thanks!", "You're welcome!"}, {"Thank you very much", "You're welcome!"},
        {"bye", "Goodbye!"},
    };
    for (size_t i = 0; i < sizeof talk / sizeof *talk; i++) {
        j = ask(db, talk[i][0]);
        CHECK(strncmp(j.text.data, talk[i][1], strlen(talk[i][1])) == 0);
        cb_buf_free(&j.text);
    }

    static const char *const hostile[] = {
        "", "\"", "NEAR(password token)", "body:password", "password*", "(((", "😀",
        "'; DROP TABLE passages; --", "\xff", "hi 😀 how do I create an API token?",
    };
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        j = ask(db, hostile[i]);
        cb_buf_free(&j.text);
    }
    j = ask(db, "hi, how do I create an API token?");        /* not small talk */
    CHECK(strstr(j.text.data, "**API tokens") != NULL);
    cb_buf_free(&j.text);
}

static void test_cancel_and_errors(cb_db *db)
{
    cb_bot_job job = {.cancel_after = 2};
    const char *q = "How do I change my password?";
    cb_bot_turn turn = {"user", q};
    cb_bot_request req = {"builtin", &turn, 1, q, db};
    char detail[128] = "";
    CHECK(cb_bot_builtin.start(&req, &job, detail, sizeof detail) == CB_OK);
    CHECK(job.deltas == 2 && job.finished == 1 && job.ok);
    cb_buf_free(&job.text);

    cb_bot_job none = {0};
    req.db = NULL;
    CHECK(cb_bot_builtin.start(&req, &none, detail, sizeof detail) != CB_OK);
    CHECK(none.finished == 0 && detail[0] != '\0');

    json_t *items = json_array();
    cb_bot_builtin.models(items);
    CHECK(json_array_size(items) == 1);
    json_t *m = json_array_get(items, 0);
    CHECK_STR(json_string_value(json_object_get(m, "id")), "builtin");
    CHECK_STR(json_string_value(json_object_get(m, "name")), "Built-in knowledge base");
    CHECK_STR(json_string_value(json_object_get(m, "provider")), "builtin");
    json_decref(items);
    CHECK(cb_bot_builtin.has_model("builtin"));
    CHECK(!cb_bot_builtin.has_model("llama3.2"));
    CHECK(!cb_bot_builtin.has_model(NULL));
    CHECK_STR(cb_bot_builtin.name, "builtin");
}

static void test_empty_kb(cb_db *db)
{
    sqlite3_exec(db->handle, "DELETE FROM documents", NULL, NULL, NULL);
    cb_bot_job j = ask(db, "How do I change my password?");
    CHECK(strncmp(j.text.data, "I don't know", 12) == 0);
    CHECK(strstr(j.text.data, "empty") != NULL);
    cb_buf_free(&j.text);
}

int main(void)
{
    char path[] = "/tmp/cb-test-builtin-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 2;
    close(fd);
    cb_db *db = cb_db_open(path);
    CHECK(db != NULL);
    if (!db)
        return check_done("test_builtin");
    cb_migration_list h = cb_migrations_embedded();
    CHECK(cb_migrate_upgrade(db, &h, -1, NULL) == CB_OK);
    CHECK(cb_kb_seed(db) > 0);
    test_answers(db);
    test_cancel_and_errors(db);
    test_empty_kb(db);
    cb_db_close(db);
    char side[64];
    unlink(path);
    snprintf(side, sizeof side, "%s-wal", path);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", path);
    unlink(side);
    return check_done("test_builtin");
}
