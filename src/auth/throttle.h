/*
 * throttle.h — failed-login back-off per account and per client address,
 * and registrations per address, kept in login_attempts so every server
 * process (and a restart) sees the same counts.
 *
 * Within an hour, the first login_free_failures_account failures of an
 * account (login_free_failures_address of an address) cost nothing; each
 * further one locks the key for 2^(n - free) seconds, at most
 * login_max_lock_s. A locked key refuses even the right password (429 +
 * Retry-After), so guessing gains nothing by waiting out the answer.
 */
#ifndef CB_AUTH_THROTTLE_H
#define CB_AUTH_THROTTLE_H

#include <stdint.h>
#include "db/model.h"

/* Milliseconds until the account or address may try again; 0 when free. */
int64_t cb_throttle_wait(cb_db *db, const char *account, const char *address);
/* Records a failed login for both keys. */
void cb_throttle_failed(cb_db *db, const char *account, const char *address);
/* A successful login clears the account's count. */
void cb_throttle_succeeded(cb_db *db, const char *account);
/* Counts a registration from address; the wait (ms) when over the hourly limit. */
int64_t cb_throttle_registration(cb_db *db, const char *address);

#endif
