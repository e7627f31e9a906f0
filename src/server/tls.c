/*
 * tls.c — a self-signed certificate made in-process with GnuTLS (no shell-
 * out to openssl), so `chatbot serve` is HTTPS from its very first start.
 * Browsers will warn about it; production deployments configure tls_cert
 * and tls_key or run with --http behind a TLS-terminating proxy.
 */
#include "server/tls.h"
#include "util/mem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *cb_read_text_file(const char *path, long max_bytes)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "chatbot: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *buf = cb_xmalloc((size_t)max_bytes + 1);
    size_t n = fread(buf, 1, (size_t)max_bytes + 1, f);
    fclose(f);
    if (n > (size_t)max_bytes) {
        fprintf(stderr, "chatbot: %s: larger than %ld bytes\n", path, max_bytes);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static int make_parent_dir(const char *path)
{
    char *copy = cb_xstrdup(path);
    char *dir = dirname(copy);
    int rc = mkdir(dir, 0700) == 0 || errno == EEXIST ? 0 : -1;
    if (rc)
        fprintf(stderr, "chatbot: cannot create %s: %s\n", dir, strerror(errno));
    free(copy);
    return rc;
}

static int write_new_file(const char *path, const gnutls_datum_t *d, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    if (fd < 0) {
        fprintf(stderr, "chatbot: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    ssize_t n = write(fd, d->data, d->size);
    int rc = (n == (ssize_t)d->size && close(fd) == 0) ? 0 : -1;
    if (rc) {
        fprintf(stderr, "chatbot: cannot write %s\n", path);
        unlink(path);
    }
    return rc;
}

/* Fills the certificate's fields: subject, validity, names, usages. */
static int describe(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key)
{
    unsigned char serial[16];
    unsigned char v4[4], v6[16];
    time_t now = time(NULL);
    int rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof serial);
    serial[0] &= 0x7f; /* a positive serial */
    inet_pton(AF_INET, "127.0.0.1", v4);
    inet_pton(AF_INET6, "::1", v6);
    if (rc == 0)
        rc = gnutls_x509_crt_set_version(crt, 3);
    if (rc == 0)
        rc = gnutls_x509_crt_set_serial(crt, serial, sizeof serial);
    if (rc == 0)
        rc = gnutls_x509_crt_set_activation_time(crt, now - 3600);
    if (rc == 0)
        rc = gnutls_x509_crt_set_expiration_time(crt, now + 825L * 86400);
    if (rc == 0)
        rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "localhost", 9);
    if (rc == 0)
        rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
                                           "chatbot (self-signed)", 21);
    if (rc == 0)
        rc = gnutls_x509_crt_set_key(crt, key);
    if (rc == 0)
        rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
                                                  GNUTLS_FSAN_APPEND);
    if (rc == 0)
        rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v4, sizeof v4,
                                                  GNUTLS_FSAN_APPEND);
    if (rc == 0)
        rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, v6, sizeof v6,
                                                  GNUTLS_FSAN_APPEND);
    /* A CA:TRUE self-signed certificate lets clients pin it as their trust anchor. */
    if (rc == 0)
        rc = gnutls_x509_crt_set_basic_constraints(crt, 1, 0);
    if (rc == 0)
        rc = gnutls_x509_crt_set_key_usage(crt,
                                           GNUTLS_KEY_DIGITAL_SIGNATURE | GNUTLS_KEY_KEY_CERT_SIGN);
    if (rc == 0)
        rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
    return rc;
}

int cb_tls_ensure(const char *cert_path, const char *key_path)
{
    bool have_cert = access(cert_path, F_OK) == 0, have_key = access(key_path, F_OK) == 0;
    if (have_cert && have_key)
        return 0;
    if (have_cert != have_key) {
        fprintf(stderr, "chatbot: %s exists but %s does not: configure both or neither\n",
                have_cert ? cert_path : key_path, have_cert ? key_path : cert_path);
        return -1;
    }
    if (make_parent_dir(cert_path) || make_parent_dir(key_path))
        return -1;
    gnutls_x509_privkey_t key = NULL;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t key_pem = {NULL, 0}, crt_pem = {NULL, 0};
    int rc = gnutls_x509_privkey_init(&key);
    if (rc == 0)
        rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
                                          GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
    if (rc == 0)
        rc = gnutls_x509_crt_init(&crt);
    if (rc == 0)
        rc = describe(crt, key);
    if (rc == 0)
        rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
    if (rc == 0)
        rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &key_pem);
    if (rc == 0)
        rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &crt_pem);
    if (rc != 0)
        fprintf(stderr, "chatbot: cannot make a certificate: %s\n", gnutls_strerror(rc));
    else if (write_new_file(key_path, &key_pem, 0600))
        rc = -1;
    else if (write_new_file(cert_path, &crt_pem, 0644)) {
        unlink(key_path); /* half a pair would block every later start */
        rc = -1;
    }
    else
        fprintf(stderr, "chatbot: created a self-signed certificate in %s\n", cert_path);
    gnutls_free(key_pem.data);
    gnutls_free(crt_pem.data);
    if (crt)
        gnutls_x509_crt_deinit(crt);
    if (key)
        gnutls_x509_privkey_deinit(key);
    return rc == 0 ? 0 : -1;
}
