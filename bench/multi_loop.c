/*
 * multi_loop.c — a libcurl multi handle driven by epoll (multi_loop.h says
 * why). The usual pairing of libcurl's "multi_socket" interface with
 * epoll: libcurl reports the sockets it wants watched and its next timeout,
 * we report the sockets that became ready.
 */
#include "multi_loop.h"
#include "util/mem.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <yder.h>

#define MAX_EVENTS 128

struct cb_multi_loop {
    CURLM *multi;
    int epoll_fd;
    int wake_fd;
    long long deadline_ms;      /* libcurl's timer (monotonic ms); -1: none */
    long long work_ns;          /* the last wait's time after epoll_wait returned */
};

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static long long now_ms(void)
{
    return now_ns() / 1000000;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    (void)easy;
    (void)socketp;
    cb_multi_loop *loop = userp;
    if (what == CURL_POLL_REMOVE) {
        /* A socket closed before this is already gone from the set. */
        epoll_ctl(loop->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
        return 0;
    }
    struct epoll_event ev = {.data.fd = fd};
    if (what & CURL_POLL_IN)
        ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev.events |= EPOLLOUT;
    if (epoll_ctl(loop->epoll_fd, EPOLL_CTL_MOD, fd, &ev) == 0)
        return 0;
    if (errno == ENOENT && epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0)
        return 0;
    y_log_message(Y_LOG_LEVEL_ERROR, "curl loop: cannot watch socket %d: %s", (int)fd,
                  strerror(errno));
    return -1;                          /* libcurl fails that transfer */
}

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    cb_multi_loop *loop = userp;
    loop->deadline_ms = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    return 0;
}

cb_multi_loop *cb_multi_loop_new(CURLM *m)
{
    cb_multi_loop *loop = cb_xcalloc(1, sizeof *loop);
    loop->multi = m;
    loop->deadline_ms = -1;
    loop->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    loop->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = loop->wake_fd};
    if (loop->epoll_fd < 0 || loop->wake_fd < 0 ||
        epoll_ctl(loop->epoll_fd, EPOLL_CTL_ADD, loop->wake_fd, &ev) != 0) {
        y_log_message(Y_LOG_LEVEL_ERROR, "curl loop: cannot set up epoll: %s", strerror(errno));
        cb_multi_loop_free(loop);
        return NULL;
    }
    curl_multi_setopt(m, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(m, CURLMOPT_SOCKETDATA, loop);
    curl_multi_setopt(m, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(m, CURLMOPT_TIMERDATA, loop);
    return loop;
}

void cb_multi_loop_free(cb_multi_loop *loop)
{
    if (!loop)
        return;
    if (loop->epoll_fd >= 0)
        close(loop->epoll_fd);
    if (loop->wake_fd >= 0)
        close(loop->wake_fd);
    free(loop);
}

void cb_multi_loop_wake(cb_multi_loop *loop)
{
    uint64_t one = 1;
    /* EAGAIN means the counter is already set: the loop wakes anyway. */
    if (write(loop->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN)
        y_log_message(Y_LOG_LEVEL_ERROR, "curl loop: cannot wake its thread: %s",
                      strerror(errno));
}

static int curl_flags(uint32_t events)
{
    int flags = 0;
    if (events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
    return flags;
}

bool cb_multi_loop_wait(cb_multi_loop *loop, int max_ms)
{
    int running;
    long long now = now_ms();
    if (loop->deadline_ms >= 0 && loop->deadline_ms <= now) {
        loop->deadline_ms = -1;
        curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    int wait_ms = max_ms;
    if (loop->deadline_ms >= 0 && loop->deadline_ms - now < wait_ms)
        wait_ms = (int)(loop->deadline_ms > now ? loop->deadline_ms - now : 0);
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(loop->epoll_fd, evs, MAX_EVENTS, wait_ms);
    long long work_start = now_ns();
    bool woken = false;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.fd == loop->wake_fd) {
            uint64_t count;
            if (read(loop->wake_fd, &count, sizeof count) < 0 && errno != EAGAIN)
                y_log_message(Y_LOG_LEVEL_ERROR, "curl loop: cannot read its wake-up: %s",
                              strerror(errno));
            woken = true;
            continue;
        }
        curl_multi_socket_action(loop->multi, evs[i].data.fd, curl_flags(evs[i].events),
                                 &running);
    }
    if (loop->deadline_ms >= 0 && loop->deadline_ms <= now_ms()) {
        loop->deadline_ms = -1;
        curl_multi_socket_action(loop->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    loop->work_ns = now_ns() - work_start;
    return woken;
}

long long cb_multi_loop_work_ns(const cb_multi_loop *loop)
{
    return loop->work_ns;
}
