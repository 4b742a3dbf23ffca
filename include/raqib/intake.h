/* intake.h — POST /v1/comments and POST /v1/check, and the pieces other
 * front doors (the Akismet API) reuse: score a parsed comment, then store it
 * with the idempotency, duplicate and flood checks in one Redis call. */
#ifndef RAQIB_INTAKE_H
#define RAQIB_INTAKE_H

#include <stddef.h>
#include <stdint.h>

#include "raqib/engine.h"

struct request_ctx;
struct comment;
struct store_result;

/* A scored comment on its way to the store. */
struct scored {
    struct request_ctx *ctx;
    struct ruleset *rules;      /* retained: the verdict points into it */
    struct verdict verdict;
    char *answer;               /* JSON of the 202 body (kept for idempotent replays) */
    char *matches;              /* JSON array of the matches */
    long long created_ms;
    char site[65];              /* set by intake_store */
    char author_hex[17];        /* the commenter's keyed hash ("" when none): reputation.h */
    /* Called once with the store's answer instead of the /v1/comments
     * answers; it must answer the request. The scored is freed after. */
    void (*done)(struct scored *s, const struct store_result *res);
    void *arg;
};

void intake_handle(struct request_ctx *ctx);
void intake_check(struct request_ctx *ctx);

/* Score c (bot signals included) and give ctx a fresh id. NULL on failure
 * (nothing answered). */
struct scored *intake_score(struct request_ctx *ctx, const struct comment *c);

/* Store s (ownership passes on success: 0, and the answer follows from the
 * store callback). When Redis cannot take it (down, timeout, error) it goes
 * to the outage spool and is answered as stored; only when the spool fails
 * too does the callback see STORE_FAILED. -1 (out of memory): the caller
 * answers and frees. */
int intake_store(struct scored *s, const struct comment *c, const char *site, const char *ip, const char *idem_key);

void intake_scored_free(struct scored *s);

/* Hex SHA-256 of post_id, author and content, each followed by a NUL byte
 * (absent fields as ""): the store keeps raqib:{S}:dup:<hex> -> the id of
 * the first comment with them, so a later report (Akismet's submit-spam)
 * can find the item again. */
void intake_duplicate_hash(const struct comment *c, char hex[65]);

/* The keyed hash a commenter is known by (reputation.h): the first 64
 * bits of HMAC-SHA256 under the author_key directive of the e-mail with
 * surrounding blanks cut and letters lowercased. 1 and *out, or 0 when
 * there is no key or no address. */
int intake_author_hash(const char *email, size_t len, uint64_t *out);

/* 503 for a store that is not connected. */
void intake_reply_store_down(struct request_ctx *ctx);

/* The client's IP per the trust rules (README "The client IP"). */
void intake_client_ip(struct request_ctx *ctx, const struct comment *c, char *out, size_t len);

#endif
