/*
 * pages.h — the browser pages of DESIGN.md: / (the chat app), /login,
 * /register, /settings, /admin, and HTML answers for 403 and 404. The
 * pages are shells: templates/ renders their markup, static/js/ fills
 * them from the REST API.
 */
#ifndef CB_WEB_PAGES_H
#define CB_WEB_PAGES_H

#include <ulfius.h>

/* Registers the pages (priority 1) and their fallbacks (priority 2: 405
   for another method on a page path, an HTML 404 for an unknown GET
   outside /api/ and /static/). Called by the server before its own 405
   and 404 tiers; overrides the weak default in src/http/server.c.
   Returns U_OK or an Ulfius error. */
int cb_app_register_pages(struct _u_instance *u);

/* `next` when it is a path on this site ("/…", not "//…", no backslash,
   no control character, at most 512 bytes), else "/". Never an open
   redirect. */
const char *cb_safe_next(const char *next);

#endif
