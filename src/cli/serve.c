/*
 * serve.c — `chatbot serve`: configuration, logging, the database (created
 * and migrated unless --no-migrate), then the server until a signal.
 */
#include "cli/cli.h"
#include "db/db.h"
#include "db/migrate.h"
#include "http/server.h"
#include "server/config.h"
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>
#include <ulfius.h>
#include <yder.h>

static unsigned long log_level(const char *name)
{
    if (strcmp(name, "error") == 0)
        return Y_LOG_LEVEL_ERROR;
    if (strcmp(name, "warning") == 0)
        return Y_LOG_LEVEL_WARNING;
    if (strcmp(name, "debug") == 0)
        return Y_LOG_LEVEL_DEBUG;
    return Y_LOG_LEVEL_INFO;
}

static int parse_flags(cb_config *cfg, int argc, char **argv, bool *no_migrate)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--http") == 0) {
            cfg->http = true;
        } else if (strcmp(a, "--no-migrate") == 0) {
            *no_migrate = true;
        } else if (strcmp(a, "--bind") == 0 || strcmp(a, "--port") == 0) {
            if (i + 1 >= argc)
                return cb_usage_error("missing value for option", a);
            if (cb_config_set(cfg, a + 2, argv[++i], a, stderr)) {
                cb_print_usage(stderr);
                return 2;
            }
        } else {
            return cb_usage_error("unknown option for serve", a);
        }
    }
    return 0;
}

/* Brings the database to the binary's schema, or checks it is there. */
static int prepare_database(const cb_config *cfg, bool no_migrate)
{
    cb_db *db = cb_db_open(cfg->database);
    if (!db)
        return 1;
    cb_migration_list history = cb_migrations_embedded();
    int rc = 0;
    if (no_migrate) {
        int current = cb_migrate_is_current(db, &history);
        if (current != 1) {
            fprintf(stderr,
                    "chatbot: the database is %s this binary's migrations; run "
                    "`chatbot db upgrade` or start without --no-migrate\n",
                    current == 0 ? "behind" : "ahead of (or unreadable by)");
            rc = 1;
        }
    } else if (cb_migrate_upgrade(db, &history, -1, NULL) != CB_OK) {
        fprintf(stderr, "chatbot: the database could not be migrated (see above)\n");
        rc = 1;
    }
    cb_db_close(db);
    return rc;
}

/* What the application prepares before serving (its secrets); programs
   without any (the test fixture) keep this weak default. 0 or -1. */
__attribute__((weak)) int cb_app_start(void)
{
    return 0;
}

/* What the application tears down after the server stopped (threads of
   its own); the weak default does nothing. */
__attribute__((weak)) void cb_app_stop(void)
{
}

int cb_cmd_serve(const char *instance, int argc, char **argv)
{
    cb_config cfg;
    if (cb_config_load(&cfg, instance, stderr)) {
        cb_config_free(&cfg);
        return 2;
    }
    bool no_migrate = false;
    int rc = parse_flags(&cfg, argc, argv, &no_migrate);
    if (rc) {
        cb_config_free(&cfg);
        return rc;
    }
    cb_cfg = &cfg;
    y_init_logs("chatbot", Y_LOG_MODE_CONSOLE, log_level(cfg.log_level), NULL, "chatbot starting");
    rc = prepare_database(&cfg, no_migrate);
    if (rc == 0 && cb_app_start() != 0)
        rc = 1;
    if (rc == 0 && cb_pool_init(cfg.database, cfg.db_pool_size) != 0) {
        fprintf(stderr, "chatbot: cannot open %s\n", cfg.database);
        rc = 1;
    }
    if (rc == 0) {
        ulfius_global_init();
        rc = cb_server_run(&cfg) == 0 ? 0 : 1;
        cb_app_stop();
        ulfius_global_close();
        cb_pool_shutdown();
    }
    y_close_logs();
    cb_cfg = NULL;
    cb_config_free(&cfg);
    return rc;
}
