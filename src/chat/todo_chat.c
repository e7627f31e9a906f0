/* TEMPORARY scaffolding so the tree links while the real handlers are written; deleted by their author. */
#include "hooks.h"
int cb_route_conversation_regenerate(cb_ctx *ctx) { return cb_reply_problem(ctx, 501, "not implemented yet", NULL); }
int cb_route_conversation_stop(cb_ctx *ctx) { return cb_reply_problem(ctx, 501, "not implemented yet", NULL); }
int cb_route_message_create(cb_ctx *ctx) { return cb_reply_problem(ctx, 501, "not implemented yet", NULL); }
int cb_route_models_list(cb_ctx *ctx) { return cb_reply_problem(ctx, 501, "not implemented yet", NULL); }
