/* TEMPORARY scaffolding so the tree links while the real hooks are written. */
#include "hooks.h"
cb_rc cb_hook_conversation_defaults(cb_ctx *ctx, cb_conversation *row, cb_errors *errs) { (void)ctx; (void)row; (void)errs; return CB_OK; }
cb_rc cb_hook_conversation_check(cb_ctx *ctx, cb_conversation *row, cb_errors *errs) { (void)ctx; (void)row; (void)errs; return CB_OK; }
