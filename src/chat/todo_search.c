/* TEMPORARY scaffolding so the tree links while the real handlers are written; deleted by their author. */
#include "hooks.h"
int cb_route_search_messages(cb_ctx *ctx) { return cb_reply_problem(ctx, 501, "not implemented yet", NULL); }
int cb_route_conversation_export(cb_ctx *ctx) { return cb_reply_problem(ctx, 501, "not implemented yet", NULL); }
