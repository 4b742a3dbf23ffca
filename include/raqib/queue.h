/* queue.h — the moderators' side: the review queue with claims and leases,
 * decisions (one or a wave), and the decisions feed the site reads.
 * Contract: the queue, decision and feed sections of api.md. */
#ifndef RAQIB_QUEUE_H
#define RAQIB_QUEUE_H

struct request_ctx;

void queue_list(struct request_ctx *ctx);        /* GET /v1/queue */
void queue_claim(struct request_ctx *ctx);       /* POST /v1/queue/claim */
void queue_decide(struct request_ctx *ctx);      /* POST /v1/comments/{id}/decision */
void queue_decide_many(struct request_ctx *ctx); /* POST /v1/decisions */
void feed_list(struct request_ctx *ctx);         /* GET /v1/decisions */

#endif
