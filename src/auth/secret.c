/*
 * secret.c — load-or-create of instance secrets (see secret.h). A secret
 * file of the wrong size is an error, not regenerated: replacing the pepper
 * would silently lock every user out.
 */
#include "auth/secret.h"
#include "util/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int read_exact(const char *path, unsigned char *out, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 1;
    if (fd < 0) {
        fprintf(stderr, "chatbot: cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    unsigned char extra;
    ssize_t n = read(fd, out, len);
    ssize_t more = read(fd, &extra, 1);
    close(fd);
    if (n != (ssize_t)len || more != 0) {
        fprintf(stderr, "chatbot: %s is not a %zu-byte secret; restore it from a backup "
                "(replacing it invalidates every password)\n", path, len);
        return -1;
    }
    return 0;
}

static int create(const char *dir, const char *path, unsigned char *out, size_t len)
{
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "chatbot: cannot create %s: %s\n", dir, strerror(errno));
        return -1;
    }
    if (gnutls_rnd(GNUTLS_RND_KEY, out, len) != 0) {
        fprintf(stderr, "chatbot: the random generator failed\n");
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "chatbot: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    ssize_t n = write(fd, out, len);
    if (close(fd) != 0 || n != (ssize_t)len) {
        unlink(path);
        fprintf(stderr, "chatbot: cannot write %s\n", path);
        return -1;
    }
    return 0;
}

int cb_secret_load(const char *instance, const char *name, unsigned char *out, size_t len)
{
    char *dir = cb_xasprintf("%s/secrets", instance);
    char *path = cb_xasprintf("%s/%s", dir, name);
    int rc = read_exact(path, out, len);
    if (rc == 1) {
        rc = create(dir, path, out, len);
        /* Another process may have won the race to create it: use theirs. */
        if (rc != 0 && errno == EEXIST)
            rc = read_exact(path, out, len);
    }
    free(dir);
    free(path);
    return rc;
}
