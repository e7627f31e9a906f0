/*
 * version.c — `chatbot version`: ours and every library's, for bug reports.
 */
#include "cli/cli.h"

#include <curl/curl.h>
#include <gnutls/gnutls.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sqlite3.h>
#include <ulfius.h>

int cb_cmd_version(void)
{
    printf("chatbot %s\n", CHATBOT_VERSION);
    printf("ulfius %s\n", ULFIUS_VERSION_STR);
    printf("libmicrohttpd %s\n", MHD_get_version());
    printf("gnutls %s\n", gnutls_check_version(NULL));
    printf("sqlite %s\n", sqlite3_libversion());
    printf("jansson %s\n", jansson_version_str());
    printf("libcurl %s\n", curl_version_info(CURLVERSION_NOW)->version);
    return 0;
}
