/*
 * check.h — the unit tests' whole framework: CHECK records a failure and
 * goes on; the test's main returns check_done(), which prints one line
 * "<name>: N passed, M failed" and gives ctest the exit status.
 */
#ifndef CB_TEST_CHECK_H
#define CB_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) do { \
        if (cond) check_passed++; \
        else { check_failed++; fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } \
    } while (0)

#define CHECK_STR(a, b) do { \
        const char *check_a_ = (a), *check_b_ = (b); \
        if (check_a_ && check_b_ && strcmp(check_a_, check_b_) == 0) check_passed++; \
        else { check_failed++; fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, \
                                        check_b_ ? check_b_ : "(null)", check_a_ ? check_a_ : "(null)"); } \
    } while (0)

static inline int check_done(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed ? 1 : 0;
}

#endif
