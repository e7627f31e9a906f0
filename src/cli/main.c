/*
 * main.c — `chatbot`'s command line (DESIGN.md's table): serve, db,
 * version, help. It owns the global option --instance (accepted before or
 * after the command), the instance directory's creation, and the usage
 * text. Usage errors exit 2 with one line naming the problem and the usage;
 * runtime failures exit 1.
 */
#include "cli/cli.h"
#include "util/mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char usage[] =
    "usage: chatbot [--instance DIR] COMMAND\n"
    "  serve [--bind ADDR] [--port N] [--http] [--no-migrate]\n"
    "  db upgrade [N] | downgrade [N] | current | history | check\n"
    "  users create EMAIL [--admin] [--password-stdin] | list | set-roles EMAIL ROLE... |\n"
    "        deactivate EMAIL                (the application only)\n"
    "  version\n"
    "  help\n"
    "--instance (default ./instance, or CHATBOT_INSTANCE) holds the configuration,\n"
    "the database, the TLS certificate and secrets.\n";

void cb_print_usage(FILE *out)
{
    fputs(usage, out);
}

/* Programs without commands of their own (the test fixture) have none;
   the application defines the strong versions (src/auth/cli_users.c). */
__attribute__((weak)) bool cb_app_has_command(const char *name)
{
    (void)name;
    return false;
}

__attribute__((weak)) int cb_app_command(const char *instance, const char *name, int argc,
                                         char **argv)
{
    (void)instance, (void)name, (void)argc, (void)argv;
    return 2;
}

int cb_usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "chatbot: %s%s%s\n%s", what, arg ? ": " : "", arg ? arg : "", usage);
    return 2;
}

bool cb_parse_count(const char *s, int *out)
{
    if (!s || !*s || strlen(s) > 9)
        return false;
    for (const char *p = s; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    *out = atoi(s);
    return true;
}

/* mkdir -p with mode 0700 for every directory it has to create. */
static int make_instance(const char *dir)
{
    char *path = cb_xstrdup(dir);
    int rc = 0;
    for (char *p = path + 1; rc == 0; p++) {
        bool end = *p == '\0';
        if (*p != '/' && !end)
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            rc = -1;
        if (end)
            break;
        *p = '/';
    }
    struct stat st;
    if (rc == 0 && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))) {
        errno = ENOTDIR;
        rc = -1;
    }
    if (rc)
        fprintf(stderr, "chatbot: cannot create the instance directory %s: %s\n", dir,
                strerror(errno));
    free(path);
    return rc;
}

/* Takes --instance DIR / --instance=DIR out of argv wherever it is, so
   `chatbot serve --instance X` works like `chatbot --instance X serve`.
   Returns the new argc, or -1 after a usage error. */
static int take_instance(int argc, char **argv, const char **instance)
{
    int out = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--instance") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0]) {
                cb_usage_error("--instance needs a directory", NULL);
                return -1;
            }
            *instance = argv[++i];
        } else if (strncmp(argv[i], "--instance=", 11) == 0) {
            if (!argv[i][11]) {
                cb_usage_error("--instance needs a directory", NULL);
                return -1;
            }
            *instance = argv[i] + 11;
        } else {
            argv[out++] = argv[i];
        }
    }
    argv[out] = NULL;
    return out;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return argc > 1 && strcmp(argv[1], "help") == 0;
}

int main(int argc, char **argv)
{
    const char *instance = getenv("CHATBOT_INSTANCE");
    if (!instance || !*instance)
        instance = "instance";
    if (wants_help(argc, argv)) {
        fputs(usage, stdout);
        return 0;
    }
    argc = take_instance(argc, argv, &instance);
    if (argc < 0)
        return 2;
    if (argc < 2)
        return cb_usage_error("a command is missing", NULL);
    const char *cmd = argv[1];
    if (cmd[0] == '-')
        return cb_usage_error("unknown option", cmd);
    int rest = argc - 2;
    char **args = argv + 2;
    if (strcmp(cmd, "version") == 0)
        return rest ? cb_usage_error("version takes no arguments", args[0]) : cb_cmd_version();
    bool builtin = strcmp(cmd, "serve") == 0 || strcmp(cmd, "db") == 0;
    if (!builtin && !cb_app_has_command(cmd))
        return cb_usage_error("unknown command", cmd);
    if (make_instance(instance))
        return 1;
    if (!builtin)
        return cb_app_command(instance, cmd, rest, args);
    return strcmp(cmd, "serve") == 0 ? cb_cmd_serve(instance, rest, args)
                                     : cb_cmd_db(instance, rest, args);
}
