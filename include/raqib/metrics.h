/* metrics.h — counters any thread can bump, printed as Prometheus text.
 *
 * One place operators look (as memcached's `stats` and Redis's INFO): requests
 * by route and status with a latency histogram, decisions by status, hits by
 * rule, store errors and reconnects. Pure module: the server renders the text
 * into its response. */
#ifndef RAQIB_METRICS_H
#define RAQIB_METRICS_H

#include <stddef.h>

/* route is a static label such as "POST /v1/comments". */
void metrics_request(const char *route, int status, double seconds);
void metrics_decision(const char *status);
void metrics_rule_hit(const char *rule);
/* How many times rule hit since start (counts survive reloads, by name). */
unsigned long long metrics_rule_hit_count(const char *rule);
void metrics_store_error(void);
void metrics_store_reconnect(void);
void metrics_set_store_up(int up);
void metrics_limit_hits(unsigned n);
/* The outage spool: appends, replays, and the records waiting now. */
void metrics_spool_append(void);
void metrics_spool_replayed(void);
void metrics_spool_depth(long depth);

/* The whole exposition as malloc'd text (caller frees), or NULL on OOM. */
char *metrics_render(size_t *len);

#endif
