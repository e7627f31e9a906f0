/*
 * main.c — chatbot-gen's command line.
 *
 *   chatbot-gen [--check] [--schema FILE] [--out DIR] [--migrations DIR]
 *   chatbot-gen migration -m MESSAGE [--schema FILE] [--migrations DIR]
 *
 * Exit status: 0 success (also "nothing to migrate"); 1 any error: a usage
 * error, a schema error, a stale output directory (--check), a malformed
 * migration or an I/O error. Nothing is written unless every stage
 * succeeded.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "emit.h"
#include "parser.h"

typedef struct options {
    bool check;
    const char *command; /* NULL or "migration" */
    const char *schema, *out, *migrations, *message;
} options;

static const char usage[] =
    "usage: chatbot-gen [--check] [--schema FILE] [--out DIR] [--migrations DIR]\n"
    "       chatbot-gen migration -m MESSAGE [--schema FILE] [--migrations DIR]\n"
    "\n"
    "  (no command)     regenerate DIR (default generated/) from FILE\n"
    "                   (default schema/chatbot.schema)\n"
    "  --check          regenerate in memory; exit 1 naming every stale file\n"
    "  migration -m M   write the next migration from the schema's diff\n"
    "  --migrations DIR the migration files (default: migrations/ beside FILE)\n";

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "chatbot-gen: %s%s\n%s", what, arg, usage);
    return 1;
}

static int parse_args(int argc, char **argv, options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            exit(0);
        } else if (strcmp(a, "--check") == 0) {
            o->check = true;
        } else if (strcmp(a, "--schema") == 0) {
            slot = &o->schema;
        } else if (strcmp(a, "--out") == 0) {
            slot = &o->out;
        } else if (strcmp(a, "--migrations") == 0) {
            slot = &o->migrations;
        } else if (strcmp(a, "-m") == 0 || strcmp(a, "--message") == 0) {
            slot = &o->message;
        } else if (strcmp(a, "migration") == 0 && !o->command && i == 1) {
            o->command = "migration";
        } else {
            return usage_error("unknown argument: ", a);
        }
        if (slot) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0')
                return usage_error("a value is missing after ", a);
            *slot = argv[++i];
        }
    }
    if (o->command && o->check)
        return usage_error("--check does not apply to migration", "");
    if (o->command && !o->message)
        return usage_error("migration needs -m MESSAGE", "");
    if (!o->command && o->message)
        return usage_error("-m applies to the migration command only", "");
    return 0;
}

/* <dirname of schema>/migrations, malloc'd. */
static char *default_migrations(const char *schema)
{
    char *copy = gen_xstrdup(schema);
    const char *dir = dirname(copy);
    size_t n = strlen(dir) + sizeof "/migrations";
    char *path = gen_xmalloc(n);
    snprintf(path, n, "%s/migrations", dir);
    free(copy);
    return path;
}

static int generate(const gen_schema *s, const options *o, const char *migrations)
{
    gen_outset set = {0};
    int errors = gen_emit_models(s, o->schema, &set);
    errors += gen_emit_api(s, o->schema, &set);
    errors += gen_emit_openapi(s, o->schema, &set);
    errors += gen_emit_migrations(migrations, &set, stderr);
    int rc = 1;
    if (errors == 0) {
        if (o->check) {
            int stale = gen_outset_check(&set, o->out, stderr);
            if (stale)
                fprintf(stderr, "chatbot-gen: %d file%s in %s %s not match %s: run chatbot-gen\n",
                        stale, stale == 1 ? "" : "s", o->out, stale == 1 ? "does" : "do",
                        o->schema);
            rc = stale ? 1 : 0;
        } else {
            rc = gen_outset_write(&set, o->out, stderr) == 0 ? 0 : 1;
        }
    }
    gen_outset_free(&set);
    return rc;
}

int main(int argc, char **argv)
{
    options o = {.schema = "schema/chatbot.schema", .out = "generated"};
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc;
    char *migrations = o.migrations ? gen_xstrdup(o.migrations) : default_migrations(o.schema);

    gen_schema s;
    int errors = gen_parse_file(o.schema, &s, stderr);
    if (!errors)
        errors = gen_check(&s, stderr);
    if (errors) {
        fprintf(stderr, "chatbot-gen: %d error%s in %s; nothing written\n", errors,
                errors == 1 ? "" : "s", o.schema);
        rc = 1;
    } else if (o.command) {
        rc = gen_migration_new(&s, migrations, o.message, stderr);
        if (rc == 2)
            rc = 0; /* nothing to migrate is not a failure */
    } else {
        rc = generate(&s, &o, migrations);
    }
    gen_schema_free(&s);
    free(migrations);
    return rc;
}
