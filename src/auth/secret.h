/*
 * secret.h — server-side secrets kept in the instance directory (the
 * password pepper, later signing keys): made on first use from GnuTLS's
 * random generator, stored 0600, never defaulted, never logged.
 */
#ifndef CB_AUTH_SECRET_H
#define CB_AUTH_SECRET_H

#include <stddef.h>

/* Reads <instance>/secrets/<name> (exactly `len` bytes) into out, creating
   it (directory 0700, file 0600) when missing. 0, or -1 (printed). */
int cb_secret_load(const char *instance, const char *name, unsigned char *out, size_t len);

#endif
