/* akismet.c — Akismet-compatible endpoints.
 * Placeholder until the Akismet issue lands: answers 501. */
#include "raqib/akismet.h"

#include "raqib/server.h"

static void not_yet(struct request_ctx *ctx)
{
    http_reply_error(ctx, 501, "not_implemented", "the Akismet-compatible API is not implemented yet");
}

void akismet_verify_key(struct request_ctx *ctx) { not_yet(ctx); }
void akismet_comment_check(struct request_ctx *ctx) { not_yet(ctx); }
void akismet_submit_spam(struct request_ctx *ctx) { not_yet(ctx); }
void akismet_submit_ham(struct request_ctx *ctx) { not_yet(ctx); }
