/* webhook.h — deliver every decision to the site as a signed HTTP POST.
 *
 * The decisions feed stream of each site (raqib:{S}:decisions) is the
 * outbox: a cursor per site in Redis (raqib:{S}:webhook) names the last
 * entry the site acknowledged with a 2xx, so pending deliveries survive a
 * restart and are sent in order, at least once, retried with exponential
 * backoff. Each body is signed: X-Raqib-Signature: sha256=<hex HMAC-SHA256
 * of the exact body under webhook_secret>; X-Raqib-Delivery carries the feed
 * cursor so a receiver can drop repeats. One deliverer runs per daemon, on
 * worker 0; with several daemons on one Redis, a per-site lease
 * (raqib:{S}:webhook:lease, 3 s, renewed) lets one of them deliver a site at a
 * time, and another takes over when the holder dies. */
#ifndef RAQIB_WEBHOOK_H
#define RAQIB_WEBHOOK_H

#include <stddef.h>

struct event_base;
struct store;
struct config;
struct webhook;

/* Start delivering (NULL with err when webhook_url is bad; NULL and err ""
 * when no webhook is configured). */
struct webhook *webhook_start(struct event_base *base, struct store *st, const struct config *cfg, char *err,
                              size_t errlen);
/* Stop: no new deliveries, HTTP requests in flight dropped (their entries
 * stay pending in Redis). Store callbacks may still arrive: free with
 * webhook_free only after the store is freed. */
void webhook_stop(struct webhook *wh);
void webhook_free(struct webhook *wh);

/* Tell the deliverer a site exists (from any thread; cheap when known). */
void webhook_note_site(const char *site);

/* Hex HMAC-SHA256 of body under key into out (65 bytes). */
void webhook_sign(const char *key, const char *body, size_t len, char out[65]);

#endif
