/*
 * db.c — `chatbot db upgrade [N] | downgrade [N] | current | history |
 * check` over the migrations embedded in the binary.
 */
#include "cli/cli.h"
#include "db/db.h"
#include "db/migrate.h"
#include "server/config.h"

#include <string.h>
#include <yder.h>

static int name_of(const cb_migration_list *h, int version, const char **name)
{
    *name = version == 0 ? "(empty)" : "(unknown to this binary)";
    for (int i = 0; i < h->n; i++)
        if (h->items[i].version == version)
            *name = h->items[i].name;
    return version;
}

static int history(cb_db *db, const cb_migration_list *h)
{
    int current = cb_migrate_current(db);
    for (int i = 0; i < h->n; i++)
        printf("%04d %s%s%s\n", h->items[i].version, h->items[i].name,
               h->items[i].version <= current ? " (applied)" : "",
               h->items[i].version == current ? " <- current" : "");
    if (h->n == 0)
        printf("no migrations\n");
    if (current == 0)
        printf("current: 0 (empty database, nothing applied)\n");
    return current < 0;
}

static int check(cb_db *db, const cb_migration_list *h)
{
    int state = cb_migrate_is_current(db, h);
    int current = cb_migrate_current(db);
    if (state == 1) {
        printf("up to date at %04d\n", current);
        return 0;
    }
    if (state == 0) {
        printf("pending migrations:\n");
        for (int i = 0; i < h->n; i++)
            if (h->items[i].version > current)
                printf("  %04d %s\n", h->items[i].version, h->items[i].name);
        return 1;
    }
    fprintf(stderr, "chatbot: the database is at version %d, newer than this binary knows\n",
            current);
    return 1;
}

/* Checks the arguments of `db sub` before anything is opened (a usage
   error must not create a database file). 0, or 2 after the usage error. */
static int parse_args(const char *sub, int argc, char **argv, int *target)
{
    bool takes_version = strcmp(sub, "upgrade") == 0 || strcmp(sub, "downgrade") == 0;
    if (argc > (takes_version ? 1 : 0)) {
        char what[64];
        snprintf(what, sizeof what, "too many arguments for db %s", sub);
        return cb_usage_error(what, argv[takes_version ? 1 : 0]);
    }
    *target = -1;
    if (argc == 1 && !cb_parse_count(argv[0], target))
        return cb_usage_error("the version must be a non-negative integer", argv[0]);
    return 0;
}

static int run(cb_db *db, const char *sub, int target)
{
    cb_migration_list h = cb_migrations_embedded();
    if (strcmp(sub, "current") == 0) {
        const char *name;
        int v = name_of(&h, cb_migrate_current(db), &name);
        printf("%d %s\n", v, name);
        return v < 0;
    }
    if (strcmp(sub, "history") == 0)
        return history(db, &h);
    if (strcmp(sub, "check") == 0)
        return check(db, &h);
    if (strcmp(sub, "upgrade") == 0)
        return cb_migrate_upgrade(db, &h, target, stderr) == CB_OK ? 0 : 1;
    if (target < 0) {
        int current = cb_migrate_current(db);
        target = current > 0 ? current - 1 : 0;
    }
    return cb_migrate_downgrade(db, &h, target, stderr) == CB_OK ? 0 : 1;
}

int cb_cmd_db(const char *instance, int argc, char **argv)
{
    static const char *const subs[] = {"upgrade", "downgrade", "current", "history", "check"};
    if (argc < 1)
        return cb_usage_error("db needs a subcommand", NULL);
    bool known = false;
    for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++)
        known |= strcmp(argv[0], subs[i]) == 0;
    if (!known)
        return cb_usage_error("unknown db subcommand", argv[0]);
    int target;
    if (parse_args(argv[0], argc - 1, argv + 1, &target))
        return 2;
    cb_config cfg;
    if (cb_config_load(&cfg, instance, stderr)) {
        cb_config_free(&cfg);
        return 2;
    }
    /* The database layer reports its failures through yder: show them. */
    y_init_logs("chatbot", Y_LOG_MODE_CONSOLE, Y_LOG_LEVEL_WARNING, NULL, "chatbot db");
    cb_db *db = cb_db_open(cfg.database);
    int rc = db ? run(db, argv[0], target) : 1;
    if (db)
        cb_db_close(db);
    y_close_logs();
    cb_config_free(&cfg);
    return rc;
}
