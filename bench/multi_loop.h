/*
 * multi_loop.h — drives a libcurl multi handle from epoll: the benchmark
 * client's loop (bench/stream_clients.c), one thread for a thousand streams.
 *
 * curl_multi_perform + curl_multi_poll look at every transfer on every
 * wake-up: with a thousand streams open, each token would cost a poll()
 * over a thousand sockets. Here libcurl tells us which sockets it
 * wants (CURLMOPT_SOCKETFUNCTION, CURLMOPT_TIMERFUNCTION) and is told only
 * about the sockets that are ready (curl_multi_socket_action), so a token
 * costs the same whatever the number of open replies. An eventfd in the
 * same epoll set lets other threads wake the loop.
 */
#ifndef CB_BENCH_MULTI_LOOP_H
#define CB_BENCH_MULTI_LOOP_H

#include <curl/curl.h>
#include <stdbool.h>

typedef struct cb_multi_loop cb_multi_loop;

/* Takes over m's socket and timer callbacks; NULL when epoll or eventfd
   cannot be had. The loop does not own m. */
cb_multi_loop *cb_multi_loop_new(CURLM *m);
void cb_multi_loop_free(cb_multi_loop *loop);

/* Any thread: makes the next (or the current) cb_multi_loop_wait return
   true at once. */
void cb_multi_loop_wake(cb_multi_loop *loop);

/* The loop's thread: waits at most max_ms for ready sockets, libcurl's
   timer or a wake, and lets libcurl act on what happened (finished
   transfers are then in curl_multi_info_read). Returns true when woken. */
bool cb_multi_loop_wait(cb_multi_loop *loop, int max_ms);

/* How long the last cb_multi_loop_wait worked once epoll_wait returned (ns). */
long long cb_multi_loop_work_ns(const cb_multi_loop *loop);

#endif
