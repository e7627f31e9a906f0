/*
 * main.c — `chatbot`'s command line (DESIGN.md's table): serve, db,
 * version. Usage errors exit 2 with one line naming the problem; runtime
 * failures exit 1.
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
    "  version\n"
    "--instance (default ./instance, or CHATBOT_INSTANCE) holds the configuration,\n"
    "the database, the TLS certificate and secrets.\n";

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

static int make_instance(const char *dir)
{
    if (mkdir(dir, 0700) == 0 || errno == EEXIST)
        return 0;
    fprintf(stderr, "chatbot: cannot create the instance directory %s: %s\n", dir, strerror(errno));
    return -1;
}

int main(int argc, char **argv)
{
    const char *instance = getenv("CHATBOT_INSTANCE");
    if (!instance || !*instance)
        instance = "instance";
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--instance") == 0) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return cb_usage_error("--instance needs a directory", NULL);
            instance = argv[++i];
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            return cb_usage_error("unknown option", argv[i]);
        }
    }
    if (i >= argc)
        return cb_usage_error("a command is missing", NULL);
    const char *cmd = argv[i];
    int rest = argc - i - 1;
    char **args = argv + i + 1;
    if (strcmp(cmd, "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0)
        return cb_cmd_version();
    if (strcmp(cmd, "serve") != 0 && strcmp(cmd, "db") != 0)
        return cb_usage_error("unknown command", cmd);
    if (make_instance(instance))
        return 1;
    return strcmp(cmd, "serve") == 0 ? cb_cmd_serve(instance, rest, args)
                                      : cb_cmd_db(instance, rest, args);
}
