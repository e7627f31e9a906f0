/*
 * recover.c — after a crash, replies that were being written are marked
 * "stopped": their text is what the last once-a-second write stored, and
 * no job exists any more to finish them.
 */
#include "chat/chat.h"

#include <sqlite3.h>
#include <yder.h>

int cb_chat_recover(const char *path)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, "UPDATE messages SET status = 'stopped' WHERE status = 'streaming'",
                          NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK)
        y_log_message(Y_LOG_LEVEL_ERROR, "chat: marking interrupted replies failed: %s",
                      sqlite3_errmsg(db));
    else if (sqlite3_changes(db) > 0)
        y_log_message(Y_LOG_LEVEL_WARNING, "chat: %d interrupted replies marked stopped",
                      sqlite3_changes(db));
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}
