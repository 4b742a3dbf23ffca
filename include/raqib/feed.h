/* feed.h — how a decision of the decisions feed reads, for everyone who
 * shows one: GET /v1/decisions (queue.c), the webhook's deliveries
 * (webhook.c). Its own module so neither of those depends on the other,
 * nor on the HTTP front; jansson and hiredis's reply type only. */
#ifndef RAQIB_FEED_H
#define RAQIB_FEED_H

#include <jansson.h>

struct redisReply;

/* Copy the field/value array of a decisions-feed entry into obj, with
 * decided_at (unix ms in Redis) as RFC 3339: the feed and the webhook show
 * a decision the same way. */
void feed_fields_json(json_t *obj, const struct redisReply *fields);

/* "1764392400123" (ms) -> "2025-11-29T05:00:00.123Z" into buf. */
void feed_format_time(const char *ms, char *buf, unsigned long len);

#endif
