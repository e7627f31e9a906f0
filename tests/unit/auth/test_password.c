/*
 * test_password.c — password rules (NFKD, length in characters, UTF-8,
 * NUL), argon2id hashing with the pepper, verification, and the pepper's
 * load-or-create in the instance directory.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "auth/password.h"
#include "auth/secret.h"
#include "check.h"

static cb_password_policy policy = {.min_chars = 8};

static char *norm(const char *pw, const char **problem)
{
    return cb_password_normalize(&policy, pw, strlen(pw), problem);
}

static void test_rules(void)
{
    const char *problem;
    char *n;
    CHECK((n = norm("1234567", &problem)) == NULL && strcmp(problem, "is too short") == 0);
    CHECK((n = norm("12345678", &problem)) != NULL && problem == NULL);
    free(n);
    char max[129], over[130];
    memset(max, 'a', 128), max[128] = '\0';
    memset(over, 'a', 129), over[129] = '\0';
    CHECK((n = norm(max, &problem)) != NULL);
    free(n);
    CHECK(norm(over, &problem) == NULL && strstr(problem, "128"));
    /* 8 emoji are 8 characters (32 bytes): long enough */
    CHECK((n = norm("\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80"
                    "\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80\xF0\x9F\x98\x80", &problem)));
    free(n);
    /* Precomposed é and e + combining acute normalise to the same bytes. */
    char *a = norm("caf\xC3\xA9-password", &problem), *b = norm("cafe\xCC\x81-password", &problem);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
    /* Fullwidth letters (compatibility forms) become ASCII under NFKD. */
    char *fw = norm("\xEF\xBD\x90\xEF\xBD\x81\xEF\xBD\x93\xEF\xBD\x93\xEF\xBD\x97\xEF\xBD\x8F"
                    "\xEF\xBD\x92\xEF\xBD\x84", &problem);
    CHECK_STR(fw, "password");
    free(fw);
    CHECK(norm("bad \xFF\xFE utf-8 text", &problem) == NULL && strstr(problem, "UTF-8"));
    CHECK(cb_password_normalize(&policy, "nul\0inside!", 11, &problem) == NULL);
}

static void test_hashing(void)
{
    const char *problem;
    char *pw = norm("correct horse battery staple", &problem);
    char h1[CB_PASSWORD_HASH_MAX], h2[CB_PASSWORD_HASH_MAX];
    CHECK(cb_password_hash(&policy, pw, h1) == 0);
    CHECK(cb_password_hash(&policy, pw, h2) == 0);
    CHECK(strncmp(h1, "$argon2id$v=19$m=19456,t=2,p=1$", 31) == 0);
    CHECK(strcmp(h1, h2) != 0);                         /* a fresh salt each time */
    CHECK(cb_password_verify(&policy, h1, pw));
    CHECK(cb_password_verify(&policy, h2, pw));
    CHECK(!cb_password_verify(&policy, h1, "correct horse battery stapler"));
    CHECK(!cb_password_verify(&policy, NULL, pw));      /* the dummy never matches */
    CHECK(!cb_password_verify(&policy, "not a hash", pw));
    cb_password_policy other = policy;
    other.pepper[0] ^= 1;
    CHECK(!cb_password_verify(&other, h1, pw));         /* the pepper is part of the hash */
    free(pw);
}

static void test_secret(void)
{
    char dir[] = "/tmp/chatbot-secret-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    unsigned char a[32], b[32];
    CHECK(cb_secret_load(dir, "pepper", a, sizeof a) == 0);
    CHECK(cb_secret_load(dir, "pepper", b, sizeof b) == 0);
    CHECK(memcmp(a, b, sizeof a) == 0);
    char path[128];
    snprintf(path, sizeof path, "%s/secrets/pepper", dir);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    FILE *f = fopen(path, "ab");                        /* corrupt it: one byte too many */
    fputc('x', f);
    fclose(f);
    CHECK(cb_secret_load(dir, "pepper", b, sizeof b) == -1);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void)
{
    memset(policy.pepper, 7, sizeof policy.pepper);
    test_rules();
    test_hashing();
    test_secret();
    return check_done("test_password");
}
