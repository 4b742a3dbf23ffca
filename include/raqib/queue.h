/* queue.h — the moderators' side: the review queue with claims and leases,
 * decisions (one or a wave), and the decisions feed the site reads.
 * Contract: the queue, decision and feed sections of api.md.
 *
 * Redis layout (beside store.h's): raqib:{S}:review is a stream read by the
 * consumer group "moderators"; raqib:{S}:decisions is the feed stream;
 * raqib:{S}:rulestats is a hash with fields "RULE:approved", "RULE:rejected",
 * "RULE:spam" counting how moderators decided the items each rule hit, and
 * "RULE:overruled" counting automatic decisions moderators reversed. */
#ifndef RAQIB_QUEUE_H
#define RAQIB_QUEUE_H

#include <jansson.h>

struct request_ctx;
struct store;
struct redisReply;

void queue_list(struct request_ctx *ctx);        /* GET /v1/queue */
void queue_claim(struct request_ctx *ctx);       /* POST /v1/queue/claim */
void queue_renew(struct request_ctx *ctx);       /* POST /v1/queue/renew: extend and list my claims */
void queue_release(struct request_ctx *ctx);     /* POST /v1/queue/release: hand my claims back */
void queue_decide(struct request_ctx *ctx);      /* POST /v1/comments/{id}/decision */
void queue_decide_many(struct request_ctx *ctx); /* POST /v1/decisions */
void feed_list(struct request_ctx *ctx);         /* GET /v1/decisions */

enum decide_outcome {
    DECIDE_OK = 0,      /* recorded */
    DECIDE_SAME,        /* the same decision was already recorded: harmless */
    DECIDE_CONFLICT,    /* a moderator already decided otherwise (current holds it) */
    DECIDE_NOT_FOUND,
    DECIDE_FAILED       /* the store did not answer */
};

/* Called once, on the worker's loop; current is the item's status now. */
typedef void (*queue_decided_fn)(void *arg, enum decide_outcome outcome, const char *current);

/* Record a decision ("approved", "rejected", "spam") on site/id by
 * decided_by, in one Lua call: the item, the queue ack, the feed entry, the
 * per-rule counters and the webhook delivery. Automatic decisions ("rules")
 * may be overruled; a moderator's may not. Returns 0 (cb will be called) or
 * -1 when the store is down. The Akismet submit calls use it too. */
int queue_record_decision(struct store *st, const char *site, const char *id, const char *status,
                          const char *reason, const char *decided_by, queue_decided_fn cb, void *arg);


#endif
