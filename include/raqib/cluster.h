/* cluster.h — the Redis Cluster part of the store (redis-cluster:// URLs),
 * written from the Redis Cluster specification: the slot map read with
 * CLUSTER SLOTS from any node that answers (the URL's seeds first), one
 * hiredis async connection per master, MOVED (the map is re-read) and ASK
 * (ASKING, once) redirections, and a node that is lost reconnected with
 * backoff while the map is read again (a replica may have taken over).
 *
 * store.c owns the commands (their deadlines, retries and callbacks); this
 * module owns the connections and the map, and says which connection a
 * slot's command goes to. Everything runs on the caller's event loop: one
 * cluster per worker, like the store itself. */
#ifndef RAQIB_CLUSTER_H
#define RAQIB_CLUSTER_H

struct event_base;
struct redis_target;
struct redisAsyncContext;
struct cluster;

/* Called on the loop each time a master connection is set up (AUTH and
 * SCRIPT LOAD answered): the store's outage spool replays from there. */
typedef void (*cluster_ready_fn)(void *arg);

/* Connect to the seeds of t (copied) and read the map. script is loaded on
 * every master as it is connected (it must outlive the cluster). NULL on
 * out of memory. */
struct cluster *cluster_new(struct event_base *base, const struct redis_target *t, const char *script,
                            cluster_ready_fn on_ready, void *arg);

/* Close every connection (pending commands are called back with NULL). */
void cluster_free(struct cluster *c);

/* 1 when the map covers all 16384 slots and every master is set up. */
int cluster_is_ready(const struct cluster *c);

/* The set-up connection to the master owning slot, or for slot < 0 any
 * set-up master; NULL when there is none right now. */
struct redisAsyncContext *cluster_conn(struct cluster *c, int slot);

/* A "MOVED slot host:port" or "ASK slot host:port" error answered on from:
 * the connection to resend on (connecting if new; the map is updated and
 * re-read for MOVED), *asking set for ASK. NULL when error is neither or
 * the node cannot be reached. */
struct redisAsyncContext *cluster_redirect(struct cluster *c, const struct redisAsyncContext *from, const char *error,
                                           int *asking);

/* The masters, in the order of the first slot each serves (for SCAN, which
 * walks one node at a time): the count, and the i-th's set-up connection or
 * NULL. */
int cluster_masters(const struct cluster *c);
struct redisAsyncContext *cluster_master_conn(struct cluster *c, int i);

#endif
