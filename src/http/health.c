/*
 * health.c — GET /api/v1/health: liveness plus a real round trip to the
 * database, for load balancers and monitoring. Public, cheap, no secrets.
 */
#include "db/db.h"
#include "http/api.h"

int cb_route_health_get(cb_ctx *ctx);

int cb_route_health_get(cb_ctx *ctx)
{
    cb_db *db = cb_ctx_db(ctx);
    bool ok = false;
    sqlite3_stmt *st = NULL;
    if (db && sqlite3_prepare_v2(db->handle, "SELECT 1", -1, &st, NULL) == SQLITE_OK)
        ok = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    u_map_put(ctx->resp->map_header, "Cache-Control", "no-store");
    return cb_reply_json(ctx, ok ? 200 : 503,
                         json_pack("{s:s, s:s, s:s}", "status", ok ? "ok" : "degraded", "db",
                                   ok ? "ok" : "error", "version", CHATBOT_VERSION));
}
