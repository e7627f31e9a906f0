/*
 * internal.h — what the HTTP layer's files share and nothing else needs.
 */
#ifndef CB_HTTP_INTERNAL_H
#define CB_HTTP_INTERNAL_H

#include <stdbool.h>
#include "http/api.h"

/* The request's context (made by the tier-0 middleware). */
cb_ctx *cb_ctx_of(const struct _u_request *req, struct _u_response *resp);

/* DESIGN.md's security headers; HSTS only under TLS. */
void cb_set_security_headers(struct _u_response *resp, bool tls);

/* GET/HEAD /static/<path> from the configured static directory. */
int cb_static_file(const struct _u_request *req, struct _u_response *resp, void *data);

#endif
