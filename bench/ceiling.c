/*
 * ceiling.c — the framework's ceiling on this machine: a minimal Ulfius
 * server that answers a constant JSON body, started with the same
 * libmicrohttpd options as chatbot (thread per connection, poll, TLS 1.2+).
 * bench/run.sh loads it beside the real server so their numbers compare.
 *
 * Usage: bench-ceiling PORT CERT.pem KEY.pem   (runs until SIGINT/SIGTERM)
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <ulfius.h>

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        buf[n] = '\0';
    fclose(f);
    return buf;
}

static int constant(const struct _u_request *req, struct _u_response *resp, void *data)
{
    static const char body[] = "{\"status\":\"ok\",\"db\":\"ok\",\"version\":\"ceiling\"}";
    ulfius_set_string_body_response(resp, 200, body);
    u_map_put(resp->map_header, "Content-Type", "application/json");
    return U_CALLBACK_COMPLETE;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s PORT CERT.pem KEY.pem\n", argv[0]);
        return 2;
    }
    char *cert = read_file(argv[2]), *key = read_file(argv[3]);
    if (!cert || !key) {
        fprintf(stderr, "bench-ceiling: cannot read the certificate or key\n");
        return 1;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct _u_instance u;
    if (ulfius_init_instance(&u, (unsigned)atoi(argv[1]), &addr, NULL) != U_OK)
        return 1;
    ulfius_add_endpoint_by_val(&u, "GET", "/api/v1/health", NULL, 0, constant, NULL);
    struct MHD_OptionItem ops[] = {
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)mhd_request_completed, NULL},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)ulfius_uri_logger, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, key},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, cert},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"},
        {MHD_OPTION_CONNECTION_LIMIT, 4096, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, 60, NULL},
        {MHD_OPTION_THREAD_STACK_SIZE, 256 * 1024, NULL},
        {MHD_OPTION_END, 0, NULL}};
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ERROR_LOG | MHD_USE_TLS;
    if (ulfius_start_framework_with_mhd_options(&u, flags, ops) != U_OK) {
        fprintf(stderr, "bench-ceiling: cannot start\n");
        return 1;
    }
    printf("bench-ceiling: serving on %s\n", argv[1]);
    fflush(stdout);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    int sig;
    sigwait(&set, &sig);
    ulfius_stop_framework(&u);
    ulfius_clean_instance(&u);
    free(cert);
    free(key);
    return 0;
}
