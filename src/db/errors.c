/*
 * errors.c — cb_errors, the per-field validation messages that become the
 * "errors" member of a problem+json answer.
 *
 * A field keeps its first message: the checks run from the most basic (type)
 * to the most specific (range), and the basic complaint is the useful one.
 */
#include "db/model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>


static void errors_oom(void)
{
    fprintf(stderr, "chatbot: out of memory recording a validation error\n");
    abort();
}

void cb_errors_add(cb_errors *e, const char *field, const char *fmt, ...)
{
    if (!e->fields) {
        e->fields = json_object();
        if (!e->fields)
            errors_oom();
    }
    if (json_object_get(e->fields, field))
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = NULL;
    int n = vasprintf(&msg, fmt, ap);
    va_end(ap);
    if (n < 0)
        errors_oom();
    json_t *v = json_string(msg);
    free(msg);
    if (!v) {
        /* Only a message quoting client text can be invalid UTF-8; the
           field still gets a complaint. */
        v = json_string("is invalid");
        if (!v)
            errors_oom();
    }
    /* Keys come from schema names or from a parsed JSON object, so they are
       valid UTF-8 and a failure can only be exhaustion. */
    if (json_object_set_new(e->fields, field, v) != 0)
        errors_oom();
}

void cb_errors_clear(cb_errors *e)
{
    json_decref(e->fields);
    e->fields = NULL;
}
