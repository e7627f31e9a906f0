/*
 * title.c — with an LLM, a new conversation's title becomes a one-line
 * summary written by the model. The heuristic title (messages.c) is set
 * at once; a background thread asks the model and replaces it only if the
 * title is still that heuristic one (a rename by the user wins). Threads
 * are counted so the server's stop waits for them (each is bounded by its
 * timeout) before the connection pool closes.
 */
#include "chat/chat.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yder.h>

#include "bot/openai.h"
#include "db/db.h"
#include "server/config.h"
#include "util/mem.h"

#define TITLE_TIMEOUT_S 20
#define TITLE_MAX_CHARS 60
#define PROMPT_MAX_BYTES 2000

static atomic_int titles_running;

typedef struct title_job {
    int64_t conversation_id;
    char *model, *first_message, *heuristic;
} title_job;

/* The model's answer as a title: its first non-empty line, without
   quotes, Markdown emphasis or a trailing period, at most 60 characters. */
static char *clean_title(const char *answer)
{
    while (*answer && strchr(" \t\r\n\"'*#`", *answer))
        answer++;
    size_t len = strcspn(answer, "\r\n");
    size_t chars = 0, cut = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)answer[i] & 0xC0) != 0x80 && chars++ == TITLE_MAX_CHARS)
            break;
        else
            cut = i + 1;
    while (cut > 0 && strchr(" \t\"'*`.", answer[cut - 1]))
        cut--;
    if (cut == 0)
        return NULL;
    char *title = cb_xmalloc(cut + 1);
    memcpy(title, answer, cut);
    title[cut] = '\0';
    return title;
}

static void store_title(const title_job *t, const char *title)
{
    cb_db *db = cb_pool_get(5000);
    if (!db)
        return;
    sqlite3_stmt *q;
    if (sqlite3_prepare_v2(db->handle,
                           "UPDATE conversations SET title = ?1 WHERE id = ?2 AND title = ?3", -1,
                           &q, NULL) == SQLITE_OK) {
        sqlite3_bind_text(q, 1, title, -1, SQLITE_STATIC);
        sqlite3_bind_int64(q, 2, t->conversation_id);
        sqlite3_bind_text(q, 3, t->heuristic, -1, SQLITE_STATIC);
        sqlite3_step(q);
        sqlite3_finalize(q);
    }
    cb_pool_put(db);
}

static void *title_thread(void *arg)
{
    title_job *t = arg;
    cb_bot_turn turns[] = {
        {"system", "Write a title of at most six words for a conversation that starts with the "
                   "user's message below. Answer with the title only, no quotes."},
        {"user", t->first_message}};
    char detail[256];
    char *answer = cb_openai_complete(t->model, turns, 2, TITLE_TIMEOUT_S, detail, sizeof detail);
    char *title = answer ? clean_title(answer) : NULL;
    if (title)
        store_title(t, title);
    else
        y_log_message(Y_LOG_LEVEL_WARNING, "chat: no title from the model: %s",
                      answer ? "an empty answer" : detail);
    free(title);
    free(answer);
    free(t->model);
    free(t->first_message);
    free(t->heuristic);
    free(t);
    atomic_fetch_sub(&titles_running, 1);
    return NULL;
}

void cb_chat_title_later(int64_t conversation_id, const char *model, const char *first_message,
                         const char *heuristic)
{
    if (!cb_cfg->llm_titles)
        return;
    title_job *t = cb_xcalloc(1, sizeof *t);
    t->conversation_id = conversation_id;
    t->model = cb_xstrdup(model);
    size_t len = strlen(first_message);
    if (len > PROMPT_MAX_BYTES)
        len = PROMPT_MAX_BYTES;
    while (len > 0 && ((unsigned char)first_message[len] & 0xC0) == 0x80)
        len--;                          /* end on a character boundary */
    t->first_message = cb_xmalloc(len + 1);
    memcpy(t->first_message, first_message, len);
    t->first_message[len] = '\0';
    t->heuristic = cb_xstrdup(heuristic);
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    atomic_fetch_add(&titles_running, 1);
    if (pthread_create(&th, &attr, title_thread, t) != 0) {
        atomic_fetch_sub(&titles_running, 1);
        free(t->model);
        free(t->first_message);
        free(t->heuristic);
        free(t);
    }
    pthread_attr_destroy(&attr);
}

void cb_chat_titles_wait(void)
{
    for (int i = 0; atomic_load(&titles_running) > 0 && i < (TITLE_TIMEOUT_S + 5) * 20; i++)
        usleep(50 * 1000);
}
