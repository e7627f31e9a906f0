/*
 * password.c — milliseconds per password hash and verification with the
 * parameters chatbot uses (argon2id m=19 MiB, t=2, p=1, after NFKD and the
 * HMAC pepper), and the dummy verification used for unknown accounts.
 * Usage: bench-password [ROUNDS]   (default 20; prints medians)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/password.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 20;
    if (rounds < 1 || rounds > 1000)
        rounds = 20;
    cb_password_policy p = {.min_chars = 8};
    memset(p.pepper, 1, sizeof p.pepper);
    const char *problem;
    char *pw = cb_password_normalize(&p, "correct horse battery staple", 28, &problem);
    char hash[CB_PASSWORD_HASH_MAX];
    double *t = malloc(sizeof *t * (size_t)rounds * 3);
    for (int i = 0; i < rounds; i++) {
        double s = now_ms();
        cb_password_hash(&p, pw, hash);
        t[i] = now_ms() - s;
        s = now_ms();
        cb_password_verify(&p, hash, pw);
        t[rounds + i] = now_ms() - s;
        s = now_ms();
        cb_password_verify(&p, NULL, pw);
        t[2 * rounds + i] = now_ms() - s;
    }
    const char *names[] = {"hash", "verify (right password)", "verify (unknown account: dummy)"};
    for (int k = 0; k < 3; k++) {
        qsort(t + k * rounds, (size_t)rounds, sizeof *t, cmp);
        printf("%-34s median %.1f ms, min %.1f ms, max %.1f ms (%d rounds)\n", names[k],
               t[k * rounds + rounds / 2], t[k * rounds], t[k * rounds + rounds - 1], rounds);
    }
    free(t);
    free(pw);
    return 0;
}
