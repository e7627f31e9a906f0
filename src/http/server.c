/*
 * server.c — starts Ulfius 2.7.13 / libmicrohttpd the way this application
 * needs (thread per connection with poll, because streams block; explicit
 * TLS priorities, limits and timeouts; docs/architecture.md says why),
 * registers the route table in priority tiers, and stops gracefully.
 *
 * Tiers: 0 — a middleware on every request (per-request cb_ctx, client
 * address, security headers, the body limit's 413, the caller's identity);
 * 1 — the generated routes, the OpenAPI document, static files, and the
 * pages that cb_app_register_pages() adds (src/web/); 2 — 405 with Allow
 * for a known path with another method (and the pages' own fallbacks); 3 — a 404
 * catch-all (Ulfius 2.7.13 otherwise answers an empty 200 when only
 * middleware matched). The cb_ctx is freed, and the access log line
 * written, by the response's shared-data destructor: the one place every
 * request passes through at its end.
 */
#include "http/server.h"
#include "db/db.h"
#include "http/api.h"
#include "http/auth.h"
#include "http/internal.h"
#include "server/tls.h"
#include "util/mem.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <yder.h>

extern const char cb_openapi_json[];
extern const unsigned long cb_openapi_json_len;

static atomic_int requests_in_flight;

/* The Allow header values of the 405 endpoints, freed after the server stops. */
static char **allow_values;
static int n_allow_values;

/* --- request bookkeeping wrapped around Ulfius's own MHD callbacks -------- */

/* The peer's address as text, captured for the request this connection's
   thread is about to handle. Ulfius copies only sizeof(struct sockaddr)
   bytes of the peer address into the request, which cuts an IPv6 address
   short, so it is read here from libmicrohttpd instead. Thread-local is
   exact because every connection has its own thread and every callback
   of one request runs on it. */
static _Thread_local char peer_addr[INET6_ADDRSTRLEN];
/* The connection's socket, for the same reason: cb_client_gone(). */
static _Thread_local int peer_fd = -1;

static void remember_peer(struct MHD_Connection *con)
{
    const union MHD_ConnectionInfo *ci =
        con ? MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS) : NULL;
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    peer_addr[0] = '\0';
    const union MHD_ConnectionInfo *fi =
        con ? MHD_get_connection_info(con, MHD_CONNECTION_INFO_CONNECTION_FD) : NULL;
    peer_fd = fi ? fi->connect_fd : -1;
    if (sa && sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, peer_addr,
                  sizeof peer_addr);
    else if (sa && sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        /* An IPv4 peer on a dual-stack socket: written as IPv4, so that
           trusted_proxies and logs name it the same on either socket. */
        if (IN6_IS_ADDR_V4MAPPED(a))
            inet_ntop(AF_INET, &a->s6_addr[12], peer_addr, sizeof peer_addr);
        else
            inet_ntop(AF_INET6, a, peer_addr, sizeof peer_addr);
    }
}

bool cb_client_gone(void)
{
    if (peer_fd < 0)
        return false;
    struct pollfd p = {.fd = peer_fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *con)
{
    atomic_fetch_add(&requests_in_flight, 1);
    remember_peer(con);
    return ulfius_uri_logger(cls, uri);
}

static void request_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    mhd_request_completed(cls, c, con_cls, toe);
    atomic_fetch_sub(&requests_in_flight, 1);
}

/* --- tier 0: the per-request context ------------------------------------- */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void ctx_free(void *p)
{
    cb_ctx *ctx = p;
    if (ctx->db)
        cb_pool_put(ctx->db);
    cb_auth_release(ctx);
    y_log_message(Y_LOG_LEVEL_INFO, "%s %s %ld %.1fms %s", ctx->method, ctx->path,
                  ctx->resp ? ctx->resp->status : 0L, now_ms() - ctx->started_ms, ctx->client_addr);
    free(ctx->method);
    free(ctx->path);
    free(ctx);
}

/* Is `addr` one of the comma-separated addresses in `list`? */
static bool listed(const char *list, const char *addr)
{
    size_t n = strlen(addr);
    for (const char *p = list; *p;) {
        p += strspn(p, " ,");
        size_t len = strcspn(p, " ,");
        if (len == n && strncmp(p, addr, n) == 0)
            return true;
        p += len;
    }
    return false;
}

/* The peer's address, or X-Forwarded-For's last hop when the peer is a
   configured trusted proxy (never otherwise: clients could pick their own
   address and dodge throttling). A last hop that is not an address is
   ignored. */
static void client_address(const struct _u_request *req, char *out, size_t size)
{
    snprintf(out, size, "%s", peer_addr);
    const char *xff = u_map_get_case(req->map_header, "X-Forwarded-For");
    if (!xff || !out[0] || !listed(cb_cfg->trusted_proxies, out))
        return;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    last += strspn(last, " \t");
    char hop[INET6_ADDRSTRLEN];
    unsigned char bin[sizeof(struct in6_addr)];
    size_t len = strcspn(last, " \t");
    if (len >= sizeof hop)
        return;
    memcpy(hop, last, len);
    hop[len] = '\0';
    if (inet_pton(AF_INET, hop, bin) == 1 || inet_pton(AF_INET6, hop, bin) == 1)
        snprintf(out, size, "%s", hop);
}

static int begin_request(const struct _u_request *req, struct _u_response *resp, void *data)
{
    cb_ctx *ctx = cb_xcalloc(1, sizeof *ctx);
    ctx->req = req;
    ctx->resp = resp;
    ctx->started_ms = now_ms();
    ctx->method = cb_xstrdup(req->http_verb ? req->http_verb : "?");
    ctx->path = cb_xstrdup(req->url_path ? req->url_path : "?"); /* no query: it may hold secrets */
    client_address(req, ctx->client_addr, sizeof ctx->client_addr);
    ulfius_set_response_shared_data(resp, ctx, ctx_free);
    cb_set_security_headers(resp, !cb_cfg->http);
    /* Ulfius truncates a body over max_post_body_size (limit + 1) and runs
       the callbacks anyway: refuse it here, for every route at once. */
    if (req->binary_body_length > (size_t)cb_cfg->max_body_bytes) {
        char detail[96];
        snprintf(detail, sizeof detail, "the body is larger than %ld bytes",
                 cb_cfg->max_body_bytes);
        return cb_reply_problem(ctx, 413, detail, NULL);
    }
    cb_auth_identify(ctx);
    return U_CALLBACK_CONTINUE;
}

/* --- tiers 1 to 3 ------------------------------------------------------------ */

static int serve_openapi(const struct _u_request *req, struct _u_response *resp, void *data)
{
    ulfius_set_binary_body_response(resp, 200, cb_openapi_json, cb_openapi_json_len);
    u_map_put(resp->map_header, "Content-Type", "application/json");
    u_map_put(resp->map_header, "Cache-Control", "no-cache");
    return U_CALLBACK_COMPLETE;
}

static int method_not_allowed(const struct _u_request *req, struct _u_response *resp, void *allow)
{
    cb_ctx *ctx = cb_ctx_of(req, resp);
    u_map_put(resp->map_header, "Allow", allow);
    char detail[160];
    snprintf(detail, sizeof detail, "%s is not allowed here; allowed: %s", req->http_verb,
             (const char *)allow);
    return cb_reply_problem(ctx, 405, detail, NULL);
}

static int not_found(const struct _u_request *req, struct _u_response *resp, void *data)
{
    return cb_reply_problem(cb_ctx_of(req, resp), 404, "no such resource", NULL);
}

/* Do two Ulfius patterns match the same URLs? ":a" and ":b" segments are
   alike: "/x/:id" and "/x/:x_id" are one path for the 405 answer. */
static bool same_pattern(const char *a, const char *b)
{
    while (*a && *b) {
        size_t na = strcspn(a, "/"), nb = strcspn(b, "/");
        bool params = *a == ':' && *b == ':';
        if (!params && (na != nb || strncmp(a, b, na) != 0))
            return false;
        a += na;
        b += nb;
        if (*a != *b)
            return false;
        a += *a == '/';
        b += *b == '/';
    }
    return *a == *b;
}

/* One 405 endpoint per distinct path pattern, with every method the route
   table serves there. The Allow strings live until the server stops. */
static void add_method_fallbacks(struct _u_instance *u)
{
    allow_values = cb_xcalloc((size_t)cb_n_routes + 1, sizeof *allow_values);
    for (int i = 0; i < cb_n_routes; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++)
            seen |= same_pattern(cb_routes[j].path, cb_routes[i].path);
        if (seen)
            continue;
        char allow[128] = "";
        for (int j = i; j < cb_n_routes; j++)
            if (same_pattern(cb_routes[j].path, cb_routes[i].path) &&
                !strstr(allow, cb_routes[j].method)) {
                size_t n = strlen(allow);
                snprintf(allow + n, sizeof allow - n, "%s%s", n ? ", " : "", cb_routes[j].method);
            }
        allow_values[n_allow_values] = cb_xstrdup(allow);
        ulfius_add_endpoint_by_val(u, "*", NULL, cb_routes[i].path, 2, method_not_allowed,
                                   allow_values[n_allow_values++]);
    }
    ulfius_add_endpoint_by_val(u, "*", NULL, "/api/v1/openapi.json", 2, method_not_allowed, "GET");
    ulfius_add_endpoint_by_val(u, "*", NULL, "/static/*", 2, method_not_allowed, "GET, HEAD");
}

/* The application's pages (src/web/pages.c defines the strong version).
   Called after the API routes and before the 405/404 tiers, so it may
   register page routes at priority 1 and page fallbacks at priority 2.
   Programs without pages (the test fixture) link this empty default.
   Returns U_OK or an Ulfius error. */
__attribute__((weak)) int cb_app_register_pages(struct _u_instance *u)
{
    return U_OK;
}

static int register_routes(struct _u_instance *u)
{
    int rc = ulfius_add_endpoint_by_val(u, "*", NULL, "*", 0, begin_request, NULL);
    for (int i = 0; rc == U_OK && i < cb_n_routes; i++)
        rc = ulfius_add_endpoint_by_val(u, cb_routes[i].method, NULL, cb_routes[i].path, 1,
                                        cb_routes[i].callback, (void *)cb_routes[i].data);
    if (rc == U_OK)
        rc = ulfius_add_endpoint_by_val(u, "GET", NULL, "/api/v1/openapi.json", 1, serve_openapi,
                                        NULL);
    if (rc == U_OK)
        rc = ulfius_add_endpoint_by_val(u, "GET", NULL, "/static/*", 1, cb_static_file, NULL);
    if (rc == U_OK)
        rc = ulfius_add_endpoint_by_val(u, "HEAD", NULL, "/static/*", 1, cb_static_file, NULL);
    if (rc == U_OK)
        rc = cb_app_register_pages(u);
    if (rc == U_OK)
        add_method_fallbacks(u);
    if (rc == U_OK)
        rc = ulfius_add_endpoint_by_val(u, "*", NULL, "*", 3, not_found, NULL);
    return rc == U_OK ? 0 : -1;
}

/* --- start and stop ------------------------------------------------------------ */

static int bind_address(const cb_config *cfg, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    if (inet_pton(AF_INET, cfg->bind, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)cfg->port);
        return 0;
    }
    if (inet_pton(AF_INET6, cfg->bind, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)cfg->port);
        /* "::" means every address, IPv4 included, as it does elsewhere. */
        return IN6_IS_ADDR_UNSPECIFIED(&v6->sin6_addr) ? MHD_USE_DUAL_STACK : MHD_USE_IPv6;
    }
    fprintf(stderr, "chatbot: bind address '%s' is not an IPv4 or IPv6 address\n", cfg->bind);
    return -1;
}

static int start(struct _u_instance *u, const cb_config *cfg, char *cert, char *key)
{
    struct sockaddr_storage addr;
    int family_flag = bind_address(cfg, &addr);
    if (family_flag < 0)
        return -1;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_ITC | (unsigned)family_flag;
    struct MHD_OptionItem ops[16];
    int n = 0;
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)request_completed, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)uri_logger, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &addr};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections, NULL};
    ops[n++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, cfg->connection_timeout_s, NULL};
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_THREAD_STACK_SIZE, 256 * 1024, NULL};
    if (!cfg->http) {
        flags |= MHD_USE_TLS;
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0, key};
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0, cert};
        ops[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_PRIORITIES, 0,
                                           (void *)"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"};
    }
    ops[n++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    if (ulfius_start_framework_with_mhd_options(u, flags, ops) != U_OK) {
        fprintf(stderr, "chatbot: cannot listen on %s port %d (in use, or not allowed?)\n",
                cfg->bind, cfg->port);
        return -1;
    }
    return 0;
}

/* What the application does when asked to stop, before requests in flight
   are drained (it ends its streams); the weak default does nothing. */
__attribute__((weak)) void cb_app_stopping(void)
{
}

/* Stops accepting, lets requests in flight finish (30 s at most), stops. */
static void drain_and_stop(struct _u_instance *u)
{
    MHD_socket listen_fd = MHD_quiesce_daemon(u->mhd_daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    cb_app_stopping();
    double deadline = now_ms() + 30000;
    while (atomic_load(&requests_in_flight) > 0 && now_ms() < deadline)
        usleep(20 * 1000);
    ulfius_stop_framework(u);
}

static void raise_file_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int cb_server_run(const cb_config *cfg)
{
    char *cert = NULL, *key = NULL;
    if (!cfg->http) {
        if (cb_tls_ensure(cfg->tls_cert, cfg->tls_key) ||
            !(cert = cb_read_text_file(cfg->tls_cert, 1 << 20)) ||
            !(key = cb_read_text_file(cfg->tls_key, 1 << 20))) {
            free(cert);
            return -1;
        }
    }
    raise_file_limit();
    /* Signals go to sigwait below, not to whichever thread MHD runs. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct _u_instance u;
    int rc = -1;
    if (ulfius_init_instance(&u, (unsigned)cfg->port, NULL, NULL) == U_OK) {
        u.max_post_body_size = (size_t)cfg->max_body_bytes + 1;
        if (register_routes(&u) == 0 && start(&u, cfg, cert, key) == 0) {
            bool v6 = strchr(cfg->bind, ':') != NULL;
            printf("chatbot: serving %s://%s%s%s:%d\n", cfg->http ? "http" : "https", v6 ? "[" : "",
                   cfg->bind, v6 ? "]" : "", cfg->port);
            fflush(stdout);
            int sig;
            sigwait(&stop, &sig);
            y_log_message(Y_LOG_LEVEL_INFO, "%s received, finishing requests in flight",
                          sig == SIGINT ? "SIGINT" : "SIGTERM");
            drain_and_stop(&u);
            rc = 0;
        }
        ulfius_clean_instance(&u);
    }
    while (n_allow_values > 0)
        free(allow_values[--n_allow_values]);
    free(allow_values);
    allow_values = NULL;
    free(cert);
    free(key);
    return rc;
}
