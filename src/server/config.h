/*
 * config.h — the server's settings and where they come from.
 *
 * Layers, later wins: built-in defaults < <instance>/config < ./.env <
 * environment (CHATBOT_<KEY>) < command-line flags. Every key is listed in
 * docs/configuration.md. An unknown key or a bad value is an error naming
 * its source (file:line or the variable), never silently ignored.
 */
#ifndef CB_SERVER_CONFIG_H
#define CB_SERVER_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

typedef struct cb_config {
    char *instance;
    char *bind;
    int port;
    bool http;
    char *database;
    char *tls_cert, *tls_key;
    char *static_dir;
    long max_body_bytes;
    int max_connections;
    int connection_timeout_s;
    int db_pool_size;
    char *log_level;       /* error, warning, info, debug */
    char *trusted_proxies; /* comma-separated addresses */
    char *llm_url, *llm_api_key, *llm_model;
    int llm_connect_timeout_s;          /* connecting to the LLM server */
    int llm_stall_timeout_s;            /* longest silence inside a reply */
    int llm_total_timeout_s;            /* longest reply */
    bool llm_titles;                    /* an LLM names new conversations */
    int context_budget_chars;           /* history sent to an LLM, in characters */
    int max_message_chars;              /* a user's message, in characters */
    int max_document_bytes;             /* a knowledge-base document */
    int login_free_failures_account;    /* failed logins per account before back-off */
    int login_free_failures_address;    /* ... per client address */
    int login_max_lock_s;               /* the longest back-off */
    int registrations_per_hour;         /* per client address */
    int min_password_chars;
} cb_config;

/* Fills defaults for `instance`, then applies the file, .env and the
   environment. Returns 0, or -1 after printing the error to `err`. */
int cb_config_load(cb_config *c, const char *instance, FILE *err);

/* Applies one "key = value" setting; `where` names its source for errors. */
int cb_config_set(cb_config *c, const char *key, const char *value, const char *where, FILE *err);

void cb_config_free(cb_config *c);

/* The process-wide configuration, set once by the CLI before serving. */
extern const cb_config *cb_cfg;

#endif
