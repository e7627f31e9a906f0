/*
 * cli_users.c — `chatbot users create EMAIL [--admin] [--password-stdin] |
 * list | set-roles EMAIL ROLE... | deactivate EMAIL`: administration from
 * the server's shell, where the first administrator is made.
 *
 * Passwords come from standard input (--password-stdin, first line) or a
 * prompt with echo off; never from the command line, where `ps` shows them.
 */
#include "auth/session.h"
#include "auth/users.h"
#include "cli/cli.h"
#include "db/db.h"
#include "db/migrate.h"
#include "db/validate.h"
#include "models.h"
#include "server/config.h"

#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

bool cb_app_has_command(const char *name)
{
    return strcmp(name, "users") == 0;
}

static char *read_password(bool from_stdin)
{
    struct termios saved, quiet;
    bool tty = !from_stdin && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        fputs("Password: ", stderr);
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = getline(&line, &cap, stdin);
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    }
    if (n < 0) {
        free(line);
        return NULL;
    }
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    return line;
}

static cb_rc find_user(cb_db *db, const char *email, cb_user *u)
{
    char *key = cb_email_key(email);
    cb_rc rc = key ? cb_user_get_by_email_key(db, key, u) : CB_NOTFOUND;
    free(key);
    if (rc == CB_NOTFOUND)
        fprintf(stderr, "chatbot: no account with the email %s\n", email);
    return rc;
}

static int create(cb_db *db, int argc, char **argv)
{
    const char *email = NULL;
    bool admin = false, from_stdin = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--admin") == 0)
            admin = true;
        else if (strcmp(argv[i], "--password-stdin") == 0)
            from_stdin = true;
        else if (argv[i][0] == '-' || email)
            return cb_usage_error("unexpected argument for users create", argv[i]);
        else
            email = argv[i];
    }
    if (!email)
        return cb_usage_error("users create needs an EMAIL", NULL);
    size_t len = strlen(email);
    if (!cb_email_valid(email, len, 254))
        return cb_usage_error("not a valid email address", email);
    const cb_password_policy *policy = cb_auth_policy();
    char *raw = read_password(from_stdin);
    const char *problem = "is missing";
    char *pw = raw && policy ? cb_password_normalize(policy, raw, strlen(raw), &problem) : NULL;
    free(raw);
    if (!pw) {
        fprintf(stderr, "chatbot: the password %s (8 to 128 characters)\n", problem);
        return 1;
    }
    char hash[CB_PASSWORD_HASH_MAX], *key = cb_email_key(email);
    cb_user u;
    cb_user_init(&u);
    cb_row_set_text(&cb_model_user, &u, CB_USER_EMAIL, email);
    cb_row_set_text(&cb_model_user, &u, CB_USER_EMAIL_KEY, key);
    cb_rc rc = cb_password_hash(policy, pw, hash) ? CB_ERROR : cb_db_begin(db);
    if (rc == CB_OK) {
        cb_row_set_text(&cb_model_user, &u, CB_USER_PASSWORD_HASH, hash);
        rc = cb_user_insert(db, &u);
    }
    if (rc == CB_OK)
        rc = cb_user_add_role(db, u.id, "user");
    if (rc == CB_OK && admin)
        rc = cb_user_add_role(db, u.id, "admin");
    rc = rc == CB_OK ? cb_db_commit(db) : (cb_db_rollback(db), rc);
    if (rc == CB_OK)
        printf("created %s (id %lld)%s\n", email, (long long)u.id, admin ? " as an administrator" : "");
    else
        fprintf(stderr, "chatbot: %s\n", rc == CB_CONFLICT ? "that email is already registered"
                                                          : "the account could not be created");
    cb_user_clear(&u);
    free(key);
    free(pw);
    return rc == CB_OK ? 0 : 1;
}

static int list(cb_db *db)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db->handle,
        "SELECT u.id, u.email, u.active, u.created_at, coalesce((SELECT group_concat(name, ',')"
        " FROM (SELECT r.name FROM user_roles ur JOIN roles r ON r.id = ur.role_id"
        " WHERE ur.user_id = u.id ORDER BY r.name)), '') FROM users u ORDER BY u.id", -1, &st, NULL);
    printf("%-6s %-40s %-12s %-8s %s\n", "id", "email", "roles", "active", "created");
    while (sqlite3_step(st) == SQLITE_ROW) {
        char created[32];
        cb_format_time(sqlite3_column_int64(st, 3), created);
        printf("%-6lld %-40s %-12s %-8s %s\n", (long long)sqlite3_column_int64(st, 0),
               sqlite3_column_text(st, 1), sqlite3_column_text(st, 4),
               sqlite3_column_int(st, 2) ? "yes" : "no", created);
    }
    sqlite3_finalize(st);
    return 0;
}

static int set_roles(cb_db *db, int argc, char **argv)
{
    if (argc < 2)
        return cb_usage_error("users set-roles needs an EMAIL and at least one ROLE", NULL);
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "admin") != 0 && strcmp(argv[i], "user") != 0)
            return cb_usage_error("roles are admin and user, not", argv[i]);
    cb_user u;
    cb_user_init(&u);
    cb_rc rc = find_user(db, argv[0], &u);
    if (rc == CB_OK)
        rc = cb_db_begin(db);
    if (rc == CB_OK && cb_db_exec_id(db, "DELETE FROM user_roles WHERE user_id = ?1", u.id))
        rc = CB_ERROR;
    for (int i = 1; rc == CB_OK && i < argc; i++)
        rc = cb_user_add_role(db, u.id, argv[i]);
    if (rc == CB_OK)
        rc = cb_db_commit(db);
    else
        cb_db_rollback(db);
    cb_user_clear(&u);
    return rc == CB_OK ? 0 : 1;
}

static int deactivate(cb_db *db, int argc, char **argv)
{
    if (argc != 1)
        return cb_usage_error("users deactivate needs exactly one EMAIL", NULL);
    cb_user u;
    cb_user_init(&u);
    cb_rc rc = find_user(db, argv[0], &u);
    if (rc == CB_OK)
        rc = cb_db_begin(db);
    /* Deactivation is immediate: the account's sessions and tokens go too. */
    if (rc == CB_OK && (cb_db_exec_id(db, "UPDATE users SET active = 0 WHERE id = ?1", u.id) ||
                        cb_db_exec_id(db, "DELETE FROM sessions WHERE user_id = ?1", u.id) ||
                        cb_db_exec_id(db, "DELETE FROM api_tokens WHERE user_id = ?1", u.id)))
        rc = CB_ERROR;
    rc = rc == CB_OK ? cb_db_commit(db) : (cb_db_rollback(db), rc);
    if (rc == CB_OK)
        printf("deactivated %s; its sessions and tokens are revoked\n", argv[0]);
    cb_user_clear(&u);
    return rc == CB_OK ? 0 : 1;
}

int cb_app_command(const char *instance, const char *name, int argc, char **argv)
{
    if (argc < 1)
        return cb_usage_error("users needs a subcommand (create, list, set-roles, deactivate)", NULL);
    const char *sub = argv[0];
    if (strcmp(sub, "create") && strcmp(sub, "list") && strcmp(sub, "set-roles") &&
        strcmp(sub, "deactivate"))
        return cb_usage_error("unknown users subcommand", sub);
    cb_config cfg;
    if (cb_config_load(&cfg, instance, stderr)) {
        cb_config_free(&cfg);
        return 2;
    }
    cb_cfg = &cfg;
    cb_db *db = cb_db_open(cfg.database);
    cb_migration_list history = cb_migrations_embedded();
    int rc = 1;
    if (db && cb_migrate_is_current(db, &history) != 1)
        fprintf(stderr, "chatbot: the database is not at this binary's schema: run `chatbot db "
                "upgrade` first\n");
    else if (db && strcmp(sub, "create") == 0)
        rc = create(db, argc - 1, argv + 1);
    else if (db && strcmp(sub, "list") == 0)
        rc = argc == 1 ? list(db) : cb_usage_error("users list takes no arguments", argv[1]);
    else if (db && strcmp(sub, "set-roles") == 0)
        rc = set_roles(db, argc - 1, argv + 1);
    else if (db)
        rc = deactivate(db, argc - 1, argv + 1);
    cb_db_close(db);
    cb_cfg = NULL;
    cb_config_free(&cfg);
    (void)name;
    return rc;
}
