/* cluster.c — connections and slot map for redis-cluster:// (see cluster.h),
 * from the Redis Cluster specification's client part.
 *
 * The map is re-read (CLUSTER SLOTS) at start, after a MOVED, and when a
 * master's connection is lost; one read at a time, each with a deadline,
 * asked of a set-up node when there is one, else of the URL's seeds and
 * the known nodes in turn. Nodes are never forgotten (at most MAX_NODES
 * addresses): one that serves no slot any more is disconnected and not
 * reconnected. */
#include "raqib/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "raqib/cluster_slot.h"
#include "raqib/config.h"
#include "raqib/log.h"
#include "raqib/metrics.h"

#define MAX_NODES 64
#define REFRESH_TIMEOUT_MS 1000
#define REFRESH_RETRY_MS 200
#define BACKOFF_MAX_MS 5000

struct node {
    struct cluster *c;
    char host[256];
    int port;
    redisAsyncContext *ac;
    int ready;             /* AUTH and SCRIPT LOAD answered */
    int master;            /* serves slots in the current map */
    long backoff_ms;
    struct event *reconnect;
};

struct cluster {
    struct event_base *base;
    struct redis_target t;
    const char *script;
    cluster_ready_fn on_ready;
    void *arg;
    struct node *nodes[MAX_NODES];
    int nnodes;
    short slot_node[CLUSTER_SLOTS];   /* index into nodes, -1: nobody */
    int covered;                      /* every slot has a master */
    int order[MAX_NODES];             /* masters by their first slot */
    int nmasters;
    struct node *asked;               /* the node reading the map, NULL when idle */
    unsigned ask_next;                /* round robin over seeds and nodes */
    struct event *refresh_deadline;
    struct event *refresh_later;
    int closing;
};

static void node_connect(struct node *n);
static void refresh_now(struct cluster *c);

static struct node *node_find(struct cluster *c, const char *host, int port)
{
    for (int i = 0; i < c->nnodes; i++)
        if (c->nodes[i]->port == port && strcmp(c->nodes[i]->host, host) == 0)
            return c->nodes[i];
    return NULL;
}

static void on_node_reconnect(evutil_socket_t fd, short what, void *arg);

/* The node at host:port, added when new; NULL when the table is full or OOM. */
static struct node *node_get(struct cluster *c, const char *host, int port)
{
    struct node *n = node_find(c, host, port);
    if (n || c->nnodes == MAX_NODES)
        return n;
    n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->c = c;
    snprintf(n->host, sizeof n->host, "%s", host);
    n->port = port;
    n->backoff_ms = 100;
    n->reconnect = evtimer_new(c->base, on_node_reconnect, n);
    if (!n->reconnect) {
        free(n);
        return NULL;
    }
    c->nodes[c->nnodes++] = n;
    return n;
}

static int node_index(const struct cluster *c, const struct node *n)
{
    for (int i = 0; i < c->nnodes; i++)
        if (c->nodes[i] == n)
            return i;
    return -1;
}

/* --- the slot map ------------------------------------------------------ */

static void refresh_soon(struct cluster *c)
{
    if (c->closing || c->asked || event_pending(c->refresh_later, EV_TIMEOUT, NULL))
        return;
    struct timeval tv = { 0, REFRESH_RETRY_MS * 1000 };
    event_add(c->refresh_later, &tv);
}

/* Masters in the order of their first slot; a node serving no slot is
 * disconnected (pending replies still arrive) and not reconnected. */
static void index_masters(struct cluster *c)
{
    int seen[MAX_NODES] = { 0 };
    c->nmasters = 0;
    c->covered = 1;
    for (int s = 0; s < CLUSTER_SLOTS; s++) {
        int i = c->slot_node[s];
        if (i < 0) {
            c->covered = 0;
        } else if (!seen[i]) {
            seen[i] = 1;
            c->order[c->nmasters++] = i;
        }
    }
    for (int i = 0; i < c->nnodes; i++) {
        struct node *n = c->nodes[i];
        n->master = seen[i];
        if (n->master && !n->ac && !event_pending(n->reconnect, EV_TIMEOUT, NULL))
            node_connect(n);
        else if (!n->master && n->ac)
            redisAsyncDisconnect(n->ac);
    }
}

/* One CLUSTER SLOTS entry: [start, end, [host, port, ...], replicas...]. */
static int slots_entry(const redisReply *e, long long *start, long long *end, const char **host, long long *port)
{
    if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->element[0]->type != REDIS_REPLY_INTEGER ||
        e->element[1]->type != REDIS_REPLY_INTEGER || e->element[2]->type != REDIS_REPLY_ARRAY ||
        e->element[2]->elements < 2 || e->element[2]->element[0]->type != REDIS_REPLY_STRING ||
        e->element[2]->element[1]->type != REDIS_REPLY_INTEGER)
        return -1;
    *start = e->element[0]->integer;
    *end = e->element[1]->integer;
    *host = e->element[2]->element[0]->str;
    *port = e->element[2]->element[1]->integer;
    return *start >= 0 && *start <= *end && *end < CLUSTER_SLOTS && *port > 0 && *port < 65536 ? 0 : -1;
}

/* Replace the map with the reply of from; -1 (map kept) when it does not parse. */
static int apply_slots(struct cluster *c, const struct node *from, const redisReply *r)
{
    long long start, end, port;
    const char *host;
    if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
        return -1;
    for (size_t i = 0; i < r->elements; i++)
        if (slots_entry(r->element[i], &start, &end, &host, &port) < 0)
            return -1;
    int before = c->nmasters, covered_before = c->covered;
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        c->slot_node[s] = -1;
    for (size_t i = 0; i < r->elements; i++) {
        slots_entry(r->element[i], &start, &end, &host, &port);
        if (!host[0] || strcmp(host, "?") == 0)   /* the node does not know its address: the one we asked */
            host = from->host;
        struct node *n = node_get(c, host, (int)port);
        if (!n) {
            log_error("redis cluster: more than %d node addresses; %s:%lld left out", MAX_NODES, host, port);
            continue;
        }
        short idx = (short)node_index(c, n);
        for (long long s = start; s <= end; s++)
            c->slot_node[s] = idx;
    }
    index_masters(c);
    if (c->nmasters != before || c->covered != covered_before)
        log_info("redis cluster: %d master(s), %s (map from %s:%d)", c->nmasters,
                 c->covered ? "all 16384 slots served" : "some slots served by nobody", from->host, from->port);
    return 0;
}

static void on_slots(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct node *n = privdata;
    struct cluster *c = n->c;
    redisReply *r = reply;
    if (c->closing || c->asked != n)
        return;   /* stale: its deadline passed and another node was asked */
    c->asked = NULL;
    event_del(c->refresh_deadline);
    if (r && apply_slots(c, n, r) == 0)
        return;
    log_warn("redis cluster: %s:%d gave no slot map (%s)", n->host, n->port,
             !r ? "connection lost" : r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    refresh_soon(c);
}

static void on_refresh_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct cluster *c = arg;
    if (!c->asked)
        return;
    log_warn("redis cluster: %s:%d did not give the slot map in %d ms", c->asked->host, c->asked->port,
             REFRESH_TIMEOUT_MS);
    c->asked = NULL;
    refresh_now(c);
}

static void on_refresh_later(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    refresh_now(arg);
}

/* The node to ask for the map: a set-up one, else the next seed or known node. */
static struct node *pick_node(struct cluster *c)
{
    for (int k = 0; k < c->nnodes; k++) {
        struct node *n = c->nodes[(c->ask_next + (unsigned)k) % (unsigned)c->nnodes];
        if (n->ready) {
            c->ask_next++;
            return n;
        }
    }
    unsigned total = (unsigned)(c->t.nnodes + c->nnodes);
    unsigned k = c->ask_next++ % total;
    if (k < (unsigned)c->t.nnodes)
        return node_get(c, c->t.nodes[k].host, c->t.nodes[k].port);
    return c->nodes[k - (unsigned)c->t.nnodes];
}

static void refresh_now(struct cluster *c)
{
    if (c->closing || c->asked)
        return;
    event_del(c->refresh_later);
    struct node *n = pick_node(c);
    if (n && !n->ac)
        node_connect(n);
    if (!n || !n->ac || redisAsyncCommand(n->ac, on_slots, n, "CLUSTER SLOTS") != REDIS_OK) {
        refresh_soon(c);
        return;
    }
    c->asked = n;
    struct timeval tv = { 0, REFRESH_TIMEOUT_MS * 1000 };
    event_add(c->refresh_deadline, &tv);
}

/* --- node connections ---------------------------------------------------- */

static void node_lost(struct node *n)
{
    struct cluster *c = n->c;
    n->ac = NULL;
    n->ready = 0;
    if (c->closing || !n->master)
        return;
    metrics_store_error();
    struct timeval tv = { n->backoff_ms / 1000, (n->backoff_ms % 1000) * 1000 };
    event_add(n->reconnect, &tv);
    n->backoff_ms = n->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : n->backoff_ms * 2;
    refresh_soon(c);   /* a replica may be taking over its slots */
}

static void on_node_reconnect(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct node *n = arg;
    if (n->master && !n->ac && !n->c->closing) {
        metrics_store_reconnect();
        node_connect(n);
    }
}

static void on_node_connect(const redisAsyncContext *ac, int status)
{
    struct node *n = ac->data;
    if (status == REDIS_OK)
        return;
    log_warn("redis cluster node %s:%d unreachable: %s", n->host, n->port, ac->errstr);
    node_lost(n);   /* hiredis frees the context after this callback */
}

static void on_node_disconnect(const redisAsyncContext *ac, int status)
{
    struct node *n = ac->data;
    if (!n->c->closing && n->master)
        log_warn("redis cluster node %s:%d lost (%s); reconnecting", n->host, n->port,
                 status == REDIS_OK ? "closed" : ac->errstr);
    node_lost(n);
}

static void on_node_setup(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct node *n = privdata;
    redisReply *r = reply;
    if (!r || n->c->closing)
        return;
    if (r->type == REDIS_REPLY_STRING && r->len == 40) {
        n->ready = 1;
        n->backoff_ms = 100;
        log_info("redis cluster node %s:%d ready", n->host, n->port);
        if (n->c->on_ready)
            n->c->on_ready(n->c->arg);
    } else {
        log_error("redis cluster node %s:%d refused the setup (AUTH or SCRIPT LOAD): %s", n->host, n->port,
                  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        redisAsyncDisconnect(ac);
    }
}

static void on_auth(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct node *n = privdata;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR)
        log_error("redis cluster node %s:%d: AUTH failed: %s", n->host, n->port, r->str);
}

/* Connect, authenticate and load the script; commands sent meanwhile queue
 * behind these (hiredis keeps the order). */
static void node_connect(struct node *n)
{
    redisAsyncContext *ac = redisAsyncConnect(n->host, n->port);
    if (!ac || ac->err) {
        log_warn("redis cluster node %s:%d: %s", n->host, n->port, ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        node_lost(n);
        return;
    }
    ac->data = n;
    n->ac = ac;
    n->ready = 0;
    redisLibeventAttach(ac, n->c->base);
    redisAsyncSetConnectCallback(ac, on_node_connect);
    redisAsyncSetDisconnectCallback(ac, on_node_disconnect);
    if (n->c->t.password[0])
        redisAsyncCommand(ac, on_auth, n, "AUTH %s", n->c->t.password);
    redisAsyncCommand(ac, on_node_setup, n, "SCRIPT LOAD %s", n->c->script);
}

/* --- the public part --------------------------------------------------- */

struct cluster *cluster_new(struct event_base *base, const struct redis_target *t, const char *script,
                            cluster_ready_fn on_ready, void *arg)
{
    struct cluster *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->base = base;
    c->t = *t;
    c->script = script;
    c->on_ready = on_ready;
    c->arg = arg;
    for (int s = 0; s < CLUSTER_SLOTS; s++)
        c->slot_node[s] = -1;
    c->refresh_deadline = evtimer_new(base, on_refresh_deadline, c);
    c->refresh_later = evtimer_new(base, on_refresh_later, c);
    if (!c->refresh_deadline || !c->refresh_later) {
        cluster_free(c);
        return NULL;
    }
    refresh_now(c);
    return c;
}

void cluster_free(struct cluster *c)
{
    if (!c)
        return;
    c->closing = 1;
    for (int i = 0; i < c->nnodes; i++)
        if (c->nodes[i]->ac)
            redisAsyncFree(c->nodes[i]->ac);   /* pending callbacks get NULL */
    for (int i = 0; i < c->nnodes; i++) {
        event_free(c->nodes[i]->reconnect);
        free(c->nodes[i]);
    }
    if (c->refresh_deadline)
        event_free(c->refresh_deadline);
    if (c->refresh_later)
        event_free(c->refresh_later);
    free(c);
}

int cluster_is_ready(const struct cluster *c)
{
    if (!c->covered)
        return 0;
    for (int i = 0; i < c->nmasters; i++)
        if (!c->nodes[c->order[i]]->ready)
            return 0;
    return 1;
}

struct redisAsyncContext *cluster_conn(struct cluster *c, int slot)
{
    if (slot < 0) {
        for (int i = 0; i < c->nmasters; i++)
            if (c->nodes[c->order[i]]->ready)
                return c->nodes[c->order[i]]->ac;
        return NULL;
    }
    int i = c->slot_node[slot % CLUSTER_SLOTS];
    return i >= 0 && c->nodes[i]->ready ? c->nodes[i]->ac : NULL;
}

struct redisAsyncContext *cluster_redirect(struct cluster *c, const struct redisAsyncContext *from, const char *error,
                                           int *asking)
{
    int slot, port;
    char host[256];
    enum cluster_redirect_kind kind = cluster_parse_redirect(error, &slot, host, sizeof host, &port);
    if (kind == CLUSTER_NO_REDIRECT)
        return NULL;
    int moved = kind == CLUSTER_MOVED;
    const struct node *src = from ? from->data : NULL;
    if (!host[0] && src)   /* "MOVED 1 :7001": the node does not know its own address */
        snprintf(host, sizeof host, "%s", src->host);
    struct node *n = node_get(c, host, port);
    if (!n)
        return NULL;
    *asking = !moved;
    if (moved) {
        log_debug("redis cluster: slot %d moved to %s:%d", slot, host, port);
        c->slot_node[slot] = (short)node_index(c, n);
        index_masters(c);
        refresh_soon(c);
    }
    if (!n->ac && !event_pending(n->reconnect, EV_TIMEOUT, NULL))
        node_connect(n);
    return n->ac;
}

int cluster_masters(const struct cluster *c) { return c->nmasters; }

struct redisAsyncContext *cluster_master_conn(struct cluster *c, int i)
{
    if (i < 0 || i >= c->nmasters)
        return NULL;
    struct node *n = c->nodes[c->order[i]];
    return n->ready ? n->ac : NULL;
}
