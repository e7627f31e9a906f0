/*
 * cli.h — the command families of `chatbot` (one file each).
 */
#ifndef CB_CLI_CLI_H
#define CB_CLI_CLI_H

#include <stdbool.h>
#include <stdio.h>

int cb_usage_error(const char *what, const char *arg); /* prints, returns 2 */
void cb_print_usage(FILE *out);
bool cb_parse_count(const char *s, int *out); /* a non-negative integer */

int cb_cmd_serve(const char *instance, int argc, char **argv);
int cb_cmd_db(const char *instance, int argc, char **argv);
int cb_cmd_version(void);

/* Commands the application adds (e.g. `users`); weak defaults: none. */
bool cb_app_has_command(const char *name);
int cb_app_command(const char *instance, const char *name, int argc, char **argv);
/* Called by `serve` once configured, before listening (weak default: 0). */
int cb_app_start(void);

#endif
