/*
 * tls.h — the server's certificate: a self-signed one made with the GnuTLS
 * API on first start when none is configured, and loading PEM files.
 */
#ifndef CB_SERVER_TLS_H
#define CB_SERVER_TLS_H

/* Creates cert_path and key_path (key mode 0600, directories 0700) with a
   self-signed ECDSA P-256 certificate for localhost, 127.0.0.1 and ::1
   when neither file exists. 0 or -1 (printed). */
int cb_tls_ensure(const char *cert_path, const char *key_path);

/* A whole file as a NUL-terminated string (malloc'd), or NULL (printed). */
char *cb_read_text_file(const char *path, long max_bytes);

#endif
