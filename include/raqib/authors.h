/* authors.h — moderators act on a commenter: trust, block, undo, erase.
 * Contract: the authors section of docs/api.md.
 *
 * Moderators name a commenter by one of their comments (comment_id), never
 * by e-mail: the item holds the keyed hash the commenter is known by
 * (author_hash, reputation.h). Each action is one Lua call that writes the
 * site's authors hash and marks list and appends a `mark` entry to the
 * site's learn log, so every daemon applies it (learner.h).
 *
 * Redis: raqib:{S}:authors (HASH:m = trusted|blocked, beside the counts),
 * raqib:{S}:authormarks (hash HASH -> JSON {mark, by, at, comment_id,
 * name, reason}: what the listing shows). */
#ifndef RAQIB_AUTHORS_H
#define RAQIB_AUTHORS_H

#include <jansson.h>

struct request_ctx;
struct store_hash;

void authors_decide(struct request_ctx *ctx);  /* POST /v1/authors/decision (moderate) */
void authors_list(struct request_ctx *ctx);    /* GET /v1/authors (moderate) */
void authors_erase(struct request_ctx *ctx);   /* DELETE /v1/authors (admin) */

/* The author's record as moderators see it beside a comment ("author_history":
 * {approved, rejected, spam, mark, author}), from the daemon's memory; NULL
 * when the item has no author hash or reputation is off. */
json_t *authors_item_record(const char *site, const char *author_hex);

#endif
