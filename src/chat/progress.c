/*
 * progress.c — the partial text of running replies reaches the database
 * in batches: one writer thread stores every reply that grew, in one
 * transaction, once a second, reading the text straight from the job. A thousand streams then cost two write
 * transactions a second instead of a thousand, and no stream thread
 * waits for SQLite's write lock while it has tokens to send.
 *
 * Ordering: a reply's final write (reply.c) happens after
 * cb_progress_close(), which waits for a batch in flight, so a progress
 * write can never land after the final one; the UPDATE also only touches
 * rows still "streaming".
 */
#include "chat/chat.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yder.h>

#include "db/db.h"
#include "util/mem.h"

#define FLUSH_EVERY_MS 1000

#define PROGRESS_SQL "UPDATE messages SET content = ?1 WHERE id = ?2 AND status = 'streaming'"

struct cb_progress {
    int64_t reply_id;
    cb_bot_job *job;            /* a reference of its own */
    size_t written;             /* bytes of text stored so far */
    cb_progress *prev, *next;
};

typedef struct pending {
    int64_t reply_id;
    char *text;
    size_t len;
} pending;

static pthread_mutex_t cells_mu = PTHREAD_MUTEX_INITIALIZER;   /* the list, every cell's text */
static pthread_mutex_t write_mu = PTHREAD_MUTEX_INITIALIZER;   /* held while a batch is written */
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static cb_progress *cells;
static size_t n_cells;
static bool running, stopping;
static pthread_t writer;

/* The text of every reply that grew since its last write (the caller
   frees the array and the texts). */
static pending *take_batch(size_t *n)
{
    pending *batch = cells ? cb_xcalloc(n_cells, sizeof *batch) : NULL;
    *n = 0;
    for (cb_progress *c = cells; c; c = c->next) {
        size_t len;
        char *text = cb_job_text(c->job, &len);
        if (len == c->written) {
            free(text);
            continue;
        }
        batch[(*n)++] = (pending){c->reply_id, text, len};
        c->written = len;
    }
    return batch;
}

static void write_batch(pending *batch, size_t n)
{
    cb_db *db = n ? cb_pool_get(10000) : NULL;
    if (n && !db)
        y_log_message(Y_LOG_LEVEL_WARNING, "chat: %zu partial replies not stored (pool busy)", n);
    if (db && cb_db_begin(db) == CB_OK) {
        sqlite3_stmt *q = cb_db_custom_stmt(db, CB_Q_REPLY_PROGRESS, PROGRESS_SQL);
        for (size_t i = 0; q && i < n; i++) {
            sqlite3_bind_text(q, 1, batch[i].text, (int)batch[i].len, SQLITE_STATIC);
            sqlite3_bind_int64(q, 2, batch[i].reply_id);
            sqlite3_step(q);
            sqlite3_reset(q);
        }
        if (!q || cb_db_commit(db) != CB_OK)
            cb_db_rollback(db);
    }
    if (db)
        cb_pool_put(db);
    for (size_t i = 0; i < n; i++)
        free(batch[i].text);
    free(batch);
}

static void *writer_main(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&cells_mu);
    while (!stopping) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += FLUSH_EVERY_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wake, &cells_mu, &until);
        size_t n;
        pending *batch = take_batch(&n);
        /* write_mu is taken before cells_mu is let go, so a close() that
           follows cannot slip in before this batch is written. */
        pthread_mutex_lock(&write_mu);
        pthread_mutex_unlock(&cells_mu);
        write_batch(batch, n);
        pthread_mutex_unlock(&write_mu);
        pthread_mutex_lock(&cells_mu);
    }
    pthread_mutex_unlock(&cells_mu);
    return NULL;
}

cb_progress *cb_progress_open(int64_t reply_id, cb_bot_job *job)
{
    cb_progress *p = cb_xcalloc(1, sizeof *p);
    p->reply_id = reply_id;
    p->job = job;
    cb_job_ref(job);
    pthread_mutex_lock(&cells_mu);
    if (!running && !stopping)
        running = pthread_create(&writer, NULL, writer_main, NULL) == 0;
    p->next = cells;
    if (cells)
        cells->prev = p;
    cells = p;
    n_cells++;
    pthread_mutex_unlock(&cells_mu);
    return p;
}

void cb_progress_close(cb_progress *p)
{
    pthread_mutex_lock(&cells_mu);
    if (p->prev)
        p->prev->next = p->next;
    else
        cells = p->next;
    if (p->next)
        p->next->prev = p->prev;
    n_cells--;
    pthread_mutex_unlock(&cells_mu);
    /* A batch taken before the unlink may still be writing this reply. */
    pthread_mutex_lock(&write_mu);
    pthread_mutex_unlock(&write_mu);
    cb_job_unref(p->job);
    free(p);
}

void cb_progress_shutdown(void)
{
    pthread_mutex_lock(&cells_mu);
    stopping = true;
    pthread_cond_signal(&wake);
    bool join = running;
    running = false;
    pthread_mutex_unlock(&cells_mu);
    if (join)
        pthread_join(writer, NULL);
}
