/* sentinel.h — find the master through Redis Sentinel, and hear when it
 * changes (the client side of https://redis.io/docs/reference/sentinel-clients/).
 *
 * sentinel_resolve asks the sentinels of a redis-sentinel:// URL in turn
 * for the master's address (SENTINEL get-master-addr-by-name); the first that
 * answers moves to the front of the list. A subscription to +switch-master
 * on one sentinel (re-made on another when it drops) calls on_switch when a
 * failover names a new master; the store then reconnects and checks the
 * new server's ROLE. Everything runs on the caller's event loop. */
#ifndef RAQIB_SENTINEL_H
#define RAQIB_SENTINEL_H

struct event_base;
struct redis_target;
struct sentinel;

/* The master's address, or host NULL and why when no sentinel knew it. */
typedef void (*sentinel_addr_fn)(void *arg, const char *host, int port, const char *why);

/* NULL on out of memory. t is copied. */
struct sentinel *sentinel_new(struct event_base *base, const struct redis_target *t, void (*on_switch)(void *arg),
                              void *arg);
/* Ask for the master; cb is called once, later, on the loop. -1 when a
 * resolution is already running (its cb will come). */
int sentinel_resolve(struct sentinel *s, sentinel_addr_fn cb, void *arg);
/* Close every connection (no callback is called after this). */
void sentinel_free(struct sentinel *s);

#endif
