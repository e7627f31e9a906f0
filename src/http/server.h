/*
 * server.h — the HTTP(S) server: libmicrohttpd through Ulfius, one thread
 * per connection (streams may block), every route of the generated table,
 * security headers, the access log, and a graceful stop.
 */
#ifndef CB_HTTP_SERVER_H
#define CB_HTTP_SERVER_H

#include "server/config.h"

/* Serves until SIGINT or SIGTERM, then finishes requests in flight (up to
   30 s) and returns 0; -1 when the server could not start (printed). The
   database pool must be initialised. */
int cb_server_run(const cb_config *cfg);

#endif
