/*
 * config.c — defaults, the instance config file, .env and CHATBOT_*
 * environment variables, in that order (see config.h). Parsing is strict:
 * the point of a config file is lost if a typo is silently ignored.
 */
#include "server/config.h"
#include "util/mem.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

const cb_config *cb_cfg;

typedef enum { K_STRING, K_INT, K_BOOL } kind;

typedef struct key {
    const char *name;
    kind kind;
    size_t offset;
    long min, max;
} key;

#define S(f) K_STRING, offsetof(cb_config, f), 0, 0
#define I(f, lo, hi) K_INT, offsetof(cb_config, f), lo, hi
static const key keys[] = {
    {"bind", S(bind)},
    {"port", I(port, 1, 65535)},
    {"http", K_BOOL, offsetof(cb_config, http), 0, 0},
    {"database", S(database)},
    {"tls_cert", S(tls_cert)},
    {"tls_key", S(tls_key)},
    {"static_dir", S(static_dir)},
    {"max_body_bytes", K_INT, offsetof(cb_config, max_body_bytes), 1024, 1L << 30},
    {"max_connections", I(max_connections, 1, 100000)},
    {"connection_timeout_s", I(connection_timeout_s, 1, 86400)},
    {"db_pool_size", I(db_pool_size, 1, 256)},
    {"log_level", S(log_level)},
    {"trusted_proxies", S(trusted_proxies)},
    {"llm_url", S(llm_url)},
    {"llm_api_key", S(llm_api_key)},
    {"llm_model", S(llm_model)},
    {"llm_connect_timeout_s", I(llm_connect_timeout_s, 1, 600)},
    {"llm_stall_timeout_s", I(llm_stall_timeout_s, 1, 3600)},
    {"llm_total_timeout_s", I(llm_total_timeout_s, 1, 86400)},
    {"llm_titles", K_BOOL, offsetof(cb_config, llm_titles), 0, 0},
    {"context_budget_chars", I(context_budget_chars, 1000, 10000000)},
    {"max_message_chars", I(max_message_chars, 1, 100000)},
    {"max_document_bytes", I(max_document_bytes, 1, 1000000)},
    {"login_free_failures_account", I(login_free_failures_account, 1, 100)},
    {"login_free_failures_address", I(login_free_failures_address, 1, 10000)},
    {"login_max_lock_s", I(login_max_lock_s, 1, 86400)},
    {"registrations_per_hour", I(registrations_per_hour, 1, 100000)},
    {"min_password_chars", I(min_password_chars, 8, 128)},
};
#undef S
#undef I

static void set_string(char **slot, const char *value)
{
    free(*slot);
    *slot = cb_xstrdup(value);
}

static int parse_long(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || !isdigit((unsigned char)s[0]))
        return -1;
    *out = v;
    return 0;
}

static bool is_ip_literal(const char *s, size_t n)
{
    char buf[INET6_ADDRSTRLEN];
    unsigned char addr[sizeof(struct in6_addr)];
    if (n == 0 || n >= sizeof buf)
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

/* Checks the string keys whose values have a shape; NULL when fine, else
   what was expected. */
static const char *bad_string(const char *name, const char *value)
{
    if (strcmp(name, "log_level") == 0 && strcmp(value, "error") && strcmp(value, "warning") &&
        strcmp(value, "info") && strcmp(value, "debug"))
        return "error, warning, info or debug";
    if (strcmp(name, "bind") == 0 && !is_ip_literal(value, strlen(value)))
        return "an IPv4 or IPv6 address such as 127.0.0.1 or ::1";
    if (strcmp(name, "trusted_proxies") == 0) {
        for (const char *p = value + strspn(value, " "); *p;) {
            size_t n = strcspn(p, ", ");
            if (!is_ip_literal(p, n))
                return "comma-separated IPv4 or IPv6 addresses";
            p += n + strspn(p + n, " ");
            if (*p == ',') {
                p++;
                p += strspn(p, " ");
                if (!*p)
                    return "comma-separated IPv4 or IPv6 addresses";
            } else if (*p) {
                return "comma-separated IPv4 or IPv6 addresses";
            }
        }
    }
    if ((strcmp(name, "database") == 0 || strcmp(name, "tls_cert") == 0 ||
         strcmp(name, "tls_key") == 0 || strcmp(name, "static_dir") == 0) &&
        !*value)
        return "a path";
    return NULL;
}

static const key *find_key(const char *name)
{
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(keys[i].name, name) == 0)
            return &keys[i];
    return NULL;
}

/* A CHATBOT_<KEY> variable (from .env or the environment) applied as key. */
static int set_variable(cb_config *c, const char *var, const char *value, const char *where,
                        FILE *err)
{
    char lower[128];
    snprintf(lower, sizeof lower, "%s", var + strlen("CHATBOT_"));
    for (char *p = lower; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    if (!find_key(lower) || strlen(var) >= sizeof lower) {
        fprintf(err, "chatbot: %s: unknown configuration key '%s'\n", where, var);
        return -1;
    }
    return cb_config_set(c, lower, value, where, err);
}

int cb_config_set(cb_config *c, const char *name, const char *value, const char *where, FILE *err)
{
    const key *k = find_key(name);
    if (!k) {
        fprintf(err, "chatbot: %s: unknown configuration key '%s'\n", where, name);
        return -1;
    }
    char *base = (char *)c;
    if (k->kind == K_STRING) {
        const char *expected = bad_string(name, value);
        if (expected) {
            fprintf(err, "chatbot: %s: invalid value for '%s': '%s' (%s)\n", where, name, value,
                    expected);
            return -1;
        }
        set_string((char **)(base + k->offset), value);
    } else if (k->kind == K_BOOL) {
        bool v;
        if (!strcmp(value, "true") || !strcmp(value, "1") || !strcmp(value, "yes"))
            v = true;
        else if (!strcmp(value, "false") || !strcmp(value, "0") || !strcmp(value, "no"))
            v = false;
        else {
            fprintf(err, "chatbot: %s: invalid value for '%s': '%s' (true or false)\n", where, name,
                    value);
            return -1;
        }
        *(bool *)(base + k->offset) = v;
    } else {
        long v;
        if (parse_long(value, &v) || v < k->min || v > k->max) {
            fprintf(err, "chatbot: %s: invalid value for '%s': '%s' (an integer from %ld to %ld)\n",
                    where, name, value, k->min, k->max);
            return -1;
        }
        if (k->offset == offsetof(cb_config, max_body_bytes))
            c->max_body_bytes = v;
        else
            *(int *)(base + k->offset) = (int)v;
    }
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Reads `key = value` lines. In .env files (env_style) keys are CHATBOT_*
   variable names and other variables are skipped. */
static int load_file(cb_config *c, const char *path, bool env_style, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : (fprintf(err, "chatbot: %s: %s\n", path, strerror(errno)), -1);
    char line[4096];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char where[PATH_MAX + 32];
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        char *s = trim(line);
        if (*s == '\0' || *s == '#')
            continue;
        if (env_style && strncmp(s, "export ", 7) == 0)
            s = trim(s + 7);
        char *eq = strchr(s, '=');
        if (!eq) {
            fprintf(err, "chatbot: %s: expected 'key = value'\n", where);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *name = trim(s), *value = trim(eq + 1);
        size_t n = strlen(value);
        if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0]) {
            value[n - 1] = '\0';
            value++;
        }
        if (env_style) {
            if (strncmp(name, "CHATBOT_", 8) != 0 || strcmp(name, "CHATBOT_INSTANCE") == 0)
                continue;
            rc = set_variable(c, name, value, where, err);
        } else {
            rc = cb_config_set(c, name, value, where, err);
        }
    }
    fclose(f);
    return rc;
}

extern char **environ;

static int load_environment(cb_config *c, FILE *err)
{
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, "CHATBOT_", 8) != 0)
            continue;
        const char *eq = strchr(*e, '=');
        if (!eq)
            continue;
        char name[128];
        snprintf(name, sizeof name, "%.*s", (int)(eq - *e), *e);
        if (strcmp(name, "CHATBOT_INSTANCE") == 0 || strcmp(name, "CHATBOT_BUILD") == 0 ||
            strcmp(name, "CHATBOT_SANITIZED") == 0 || strcmp(name, "CHATBOT_SKIP_ASAN") == 0)
            continue; /* read by the CLI and the test scripts, not settings */
        char where[160];
        snprintf(where, sizeof where, "environment %s", name);
        if (set_variable(c, name, eq + 1, where, err))
            return -1;
    }
    return 0;
}

int cb_config_load(cb_config *c, const char *instance, FILE *err)
{
    memset(c, 0, sizeof *c);
    c->instance = cb_xstrdup(instance);
    c->bind = cb_xstrdup("127.0.0.1");
    c->port = 8443;
    c->database = cb_xasprintf("%s/chatbot.db", instance);
    c->tls_cert = cb_xasprintf("%s/tls/cert.pem", instance);
    c->tls_key = cb_xasprintf("%s/tls/key.pem", instance);
    c->static_dir = cb_xstrdup("static");
    c->max_body_bytes = 1048576;
    c->max_connections = 1024;
    c->connection_timeout_s = 60;
    c->db_pool_size = 8;
    c->log_level = cb_xstrdup("info");
    c->trusted_proxies = cb_xstrdup("");
    c->llm_url = cb_xstrdup("");
    c->llm_api_key = cb_xstrdup("");
    c->llm_model = cb_xstrdup("");
    c->llm_connect_timeout_s = 10;
    c->llm_stall_timeout_s = 60;
    c->llm_total_timeout_s = 600;
    c->llm_titles = true;
    c->context_budget_chars = 24000;
    c->max_message_chars = 100000;
    c->max_document_bytes = 1000000;
    c->login_free_failures_account = 5;
    c->login_free_failures_address = 20;
    c->login_max_lock_s = 900;
    c->registrations_per_hour = 10;
    c->min_password_chars = 8;
    char *file = cb_xasprintf("%s/config", instance);
    int rc = load_file(c, file, false, err);
    free(file);
    if (rc == 0)
        rc = load_file(c, ".env", true, err);
    if (rc == 0)
        rc = load_environment(c, err);
    return rc;
}

void cb_config_free(cb_config *c)
{
    char **strings[] = {&c->instance, &c->bind,        &c->database,  &c->tls_cert,
                        &c->tls_key,  &c->static_dir,  &c->log_level, &c->trusted_proxies,
                        &c->llm_url,  &c->llm_api_key, &c->llm_model};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
        free(*strings[i]);
        *strings[i] = NULL;
    }
}
