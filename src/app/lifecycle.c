/*
 * lifecycle.c — what the application does around serving: the hooks the
 * runtime calls at start (cli/serve.c), when asked to stop
 * (http/server.c, before requests in flight drain) and after it stopped.
 */
#include "auth/session.h"
#include "bot/bot.h"
#include "bot/kb.h"
#include "chat/chat.h"
#include "chat/job.h"
#include "server/config.h"

int cb_app_start(void)
{
    if (!cb_auth_policy())              /* loads the pepper */
        return -1;
    cb_chat_recover(cb_cfg->database);  /* logged, never fatal */
    cb_kb_seed_file(cb_cfg->database);  /* the user guide, once per database; never fatal */
    return cb_bot_init();
}

/* Running replies end now, as "stopped", so their streams finish. */
void cb_app_stopping(void)
{
    cb_job_cancel_all();
}

void cb_app_stop(void)
{
    cb_chat_titles_wait();
    cb_bot_shutdown();
    cb_progress_shutdown();
}
