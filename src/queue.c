/* queue.c — review queue, claims, decisions (in progress). */
#include "raqib/queue.h"

#include "raqib/server.h"

static void not_yet(struct request_ctx *ctx)
{
    http_reply_error(ctx, 501, "not_implemented", "the moderation API is not implemented yet");
}

void queue_list(struct request_ctx *ctx) { not_yet(ctx); }
void queue_claim(struct request_ctx *ctx) { not_yet(ctx); }
void queue_decide(struct request_ctx *ctx) { not_yet(ctx); }
void queue_decide_many(struct request_ctx *ctx) { not_yet(ctx); }
void feed_list(struct request_ctx *ctx) { not_yet(ctx); }

int queue_record_decision(struct store *st, const char *site, const char *id, const char *status,
                          const char *reason, const char *decided_by, queue_decided_fn cb, void *arg)
{
    (void)st; (void)site; (void)id; (void)status; (void)reason; (void)decided_by; (void)cb; (void)arg;
    return -1;
}
