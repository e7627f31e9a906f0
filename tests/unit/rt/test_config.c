/*
 * test_config.c — src/server/config.c: the defaults, the layering order
 * (defaults < <instance>/config < ./.env < CHATBOT_* environment), the file
 * syntax (comments, blank lines, quotes, `export`), and that unknown keys
 * and unparsable values are errors naming their file:line or variable.
 *
 * Each case runs in a fresh temporary directory that is also the working
 * directory, so the .env read is the test's own.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "server/config.h"

static char dir[] = "/tmp/cb-test-config-XXXXXX";

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(name, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

extern char **environ;

/* Clears the files and every CHATBOT_* variable (a previous case's, or the
   caller's own settings) so each case starts from the defaults. */
static void reset(void)
{
    unlink("inst/config");
    unlink(".env");
    for (bool found = true; found;) {
        found = false;
        for (char **e = environ; *e && !found; e++) {
            if (strncmp(*e, "CHATBOT_", 8) != 0 || !strchr(*e, '='))
                continue;
            char *name = strndup(*e, (size_t)(strchr(*e, '=') - *e));
            unsetenv(name);
            free(name);
            found = true;
        }
    }
}

/* Loads inst/ and returns 0 or -1; the error text lands in msg. */
static int load(cb_config *c, char *msg, size_t size)
{
    char *text = NULL;
    size_t len = 0;
    FILE *err = open_memstream(&text, &len);
    int rc = cb_config_load(c, "inst", err);
    fclose(err);
    snprintf(msg, size, "%s", text ? text : "");
    free(text);
    return rc;
}

static void test_defaults(void)
{
    reset();
    cb_config c;
    char msg[512];
    CHECK(load(&c, msg, sizeof msg) == 0);
    CHECK_STR(msg, "");
    CHECK_STR(c.bind, "127.0.0.1");
    CHECK(c.port == 8443);
    CHECK(!c.http);
    CHECK_STR(c.database, "inst/chatbot.db");
    CHECK_STR(c.tls_cert, "inst/tls/cert.pem");
    CHECK_STR(c.tls_key, "inst/tls/key.pem");
    CHECK_STR(c.static_dir, "static");
    CHECK(c.max_body_bytes == 1048576);
    CHECK(c.max_connections == 1024);
    CHECK(c.connection_timeout_s == 60);
    CHECK(c.db_pool_size == 8);
    CHECK_STR(c.log_level, "info");
    CHECK_STR(c.trusted_proxies, "");
    CHECK_STR(c.llm_url, "");
    cb_config_free(&c);
}

static void test_layering(void)
{
    reset();
    write_file("inst/config",
               "# a comment\n"
               "\n"
               "port = 9000\n"
               "bind = \"0.0.0.0\"\n"
               "  log_level=debug  \n"
               "llm_model = \"from file\"\n"
               "db_pool_size = 3\n");
    write_file(".env",
               "PATH=/not/ours\n"
               "OTHER_APP_PORT = x\n"
               "CHATBOT_PORT=9100\n"
               "export CHATBOT_LLM_MODEL=\"from env file\"\n");
    setenv("CHATBOT_PORT", "9200", 1);
    cb_config c;
    char msg[512];
    CHECK(load(&c, msg, sizeof msg) == 0);
    CHECK_STR(msg, "");
    CHECK(c.port == 9200);                      /* environment beats .env and the file */
    CHECK_STR(c.llm_model, "from env file");    /* .env beats the file, quotes stripped */
    CHECK_STR(c.bind, "0.0.0.0");               /* the file beats the defaults */
    CHECK_STR(c.log_level, "debug");
    CHECK(c.db_pool_size == 3);
    CHECK(c.max_connections == 1024);           /* untouched: the default */
    /* Command-line flags go through cb_config_set last and win. */
    CHECK(cb_config_set(&c, "port", "9300", "--port", stderr) == 0);
    CHECK(c.port == 9300);
    cb_config_free(&c);
}

/* Loads with `file` as inst/config and checks the error message. */
static void expect_file_error(const char *file, const char *message)
{
    reset();
    write_file("inst/config", file);
    cb_config c;
    char msg[512];
    CHECK(load(&c, msg, sizeof msg) == -1);
    CHECK_STR(msg, message);
    cb_config_free(&c);
}

static void test_file_errors(void)
{
    expect_file_error("port = 1\n# fine\n\ncolour = red\n",
                      "chatbot: inst/config:4: unknown configuration key 'colour'\n");
    expect_file_error("port = abc\n",
                      "chatbot: inst/config:1: invalid value for 'port': 'abc' "
                      "(an integer from 1 to 65535)\n");
    expect_file_error("\nport = 70000\n",
                      "chatbot: inst/config:2: invalid value for 'port': '70000' "
                      "(an integer from 1 to 65535)\n");
    expect_file_error("port = \n",
                      "chatbot: inst/config:1: invalid value for 'port': '' "
                      "(an integer from 1 to 65535)\n");
    expect_file_error("http = maybe\n",
                      "chatbot: inst/config:1: invalid value for 'http': 'maybe' "
                      "(true or false)\n");
    expect_file_error("log_level = loud\n",
                      "chatbot: inst/config:1: invalid value for 'log_level': 'loud' "
                      "(error, warning, info or debug)\n");
    expect_file_error("bind = localhost\n",
                      "chatbot: inst/config:1: invalid value for 'bind': 'localhost' "
                      "(an IPv4 or IPv6 address such as 127.0.0.1 or ::1)\n");
    expect_file_error("trusted_proxies = 10.0.0.1, proxy.local\n",
                      "chatbot: inst/config:1: invalid value for 'trusted_proxies': "
                      "'10.0.0.1, proxy.local' (comma-separated IPv4 or IPv6 addresses)\n");
    expect_file_error("just words\n", "chatbot: inst/config:1: expected 'key = value'\n");
}

static void test_good_values(void)
{
    reset();
    write_file("inst/config",
               "http = true\n"
               "bind = ::1\n"
               "trusted_proxies = 10.0.0.1, ::1,192.168.1.2\n"
               "max_body_bytes = 2048\n"
               "connection_timeout_s = 5\n");
    cb_config c;
    char msg[512];
    CHECK(load(&c, msg, sizeof msg) == 0);
    CHECK_STR(msg, "");
    CHECK(c.http);
    CHECK_STR(c.bind, "::1");
    CHECK_STR(c.trusted_proxies, "10.0.0.1, ::1,192.168.1.2");
    CHECK(c.max_body_bytes == 2048);
    CHECK(c.connection_timeout_s == 5);
    cb_config_free(&c);
}

static void test_env_errors(void)
{
    cb_config c;
    char msg[512];

    reset();
    write_file(".env", "HOME=/x\nCHATBOT_COLOUR=red\n");
    CHECK(load(&c, msg, sizeof msg) == -1);
    CHECK_STR(msg, "chatbot: .env:2: unknown configuration key 'CHATBOT_COLOUR'\n");
    cb_config_free(&c);

    reset();
    setenv("CHATBOT_PORT", "abc", 1);
    CHECK(load(&c, msg, sizeof msg) == -1);
    CHECK_STR(msg, "chatbot: environment CHATBOT_PORT: invalid value for 'port': 'abc' "
                   "(an integer from 1 to 65535)\n");
    cb_config_free(&c);

    reset();
    setenv("CHATBOT_COLOUR", "red", 1);
    CHECK(load(&c, msg, sizeof msg) == -1);
    CHECK_STR(msg, "chatbot: environment CHATBOT_COLOUR: unknown configuration key "
                   "'CHATBOT_COLOUR'\n");
    cb_config_free(&c);

    reset();
    setenv("CHATBOT_HTTP", "maybe", 1);
    CHECK(load(&c, msg, sizeof msg) == -1);
    CHECK_STR(msg, "chatbot: environment CHATBOT_HTTP: invalid value for 'http': 'maybe' "
                   "(true or false)\n");
    cb_config_free(&c);
}

int main(void)
{
    if (!mkdtemp(dir) || chdir(dir) != 0 || mkdir("inst", 0700) != 0) {
        perror("test_config: temporary directory");
        return 1;
    }
    test_defaults();
    test_layering();
    test_file_errors();
    test_good_values();
    test_env_errors();
    reset();
    rmdir("inst");
    if (chdir("/") == 0)
        rmdir(dir);
    return check_done("test_config");
}
