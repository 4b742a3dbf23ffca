/* sentinel.c — the Sentinel client part of the store: master discovery
 * and the +switch-master subscription, written from the Redis Sentinel
 * clients guide.
 *
 * Resolution connects to one sentinel at a time with a deadline of its own
 * (hiredis 0.14 has no connect timeout). s->ask is the one live asking
 * context: a callback from any other (one being freed after a failure or
 * the deadline) is stale and ignored. The URL's password is the data
 * servers' (as Lettuce reads it): sentinels are asked without AUTH. */
#include "raqib/sentinel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include "raqib/config.h"
#include "raqib/log.h"

#define ASK_TIMEOUT_MS 1000
#define SUBSCRIBE_RETRY_MS 1000

struct sentinel {
    struct event_base *base;
    struct redis_target t;        /* nodes[] are the sentinels, best first */
    void (*on_switch)(void *arg);
    void *arg;
    /* resolution in progress */
    sentinel_addr_fn cb;
    void *cb_arg;
    int asking;                   /* index of the sentinel asked, -1 when idle */
    redisAsyncContext *ask;
    struct event *ask_deadline;
    /* the subscription */
    redisAsyncContext *sub;
    int sub_index;
    struct event *sub_retry;
    int closing;
};

static void ask_next(struct sentinel *s, int index);

/* Report to the caller once; the sentinel that answered goes first. */
static void resolved(struct sentinel *s, int index, const char *host, int port, const char *why)
{
    sentinel_addr_fn cb = s->cb;
    void *arg = s->cb_arg;
    s->cb = NULL;
    s->asking = -1;
    event_del(s->ask_deadline);
    if (host && index > 0) {
        struct redis_node first = s->t.nodes[index];
        memmove(&s->t.nodes[1], &s->t.nodes[0], (size_t)index * sizeof first);
        s->t.nodes[0] = first;
    }
    if (cb)
        cb(arg, host, port, why);
}

static void on_master_addr(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct sentinel *s = privdata;
    redisReply *r = reply;
    if (ac != s->ask || s->closing)
        return;
    int index = s->asking;
    s->ask = NULL;
    event_del(s->ask_deadline);
    if (r)
        redisAsyncDisconnect(ac);   /* after this callback; NULL: hiredis is freeing it */
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING &&
        r->element[1]->type == REDIS_REPLY_STRING) {
        char host[256];
        snprintf(host, sizeof host, "%s", r->element[0]->str);
        resolved(s, index, host, atoi(r->element[1]->str), NULL);
        return;
    }
    log_warn("sentinel %s:%d does not know master '%s' (%s)", s->t.nodes[index].host, s->t.nodes[index].port,
             s->t.master, r && r->type == REDIS_REPLY_ERROR ? r->str : r ? "no address" : "connection lost");
    ask_next(s, index + 1);
}

static void on_ask_connect(const redisAsyncContext *ac, int status)
{
    struct sentinel *s = ac->data;
    if (status == REDIS_OK || s->closing || ac != s->ask)
        return;
    int index = s->asking;
    s->ask = NULL;    /* hiredis frees it after this callback */
    event_del(s->ask_deadline);
    log_warn("sentinel %s:%d unreachable: %s", s->t.nodes[index].host, s->t.nodes[index].port, ac->errstr);
    ask_next(s, index + 1);
}

static void on_ask_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sentinel *s = arg;
    redisAsyncContext *ac = s->ask;
    int index = s->asking;
    if (!ac)
        return;
    s->ask = NULL;                /* its NULL reply from the free is stale */
    redisAsyncFree(ac);
    log_warn("sentinel %s:%d did not answer in %d ms", s->t.nodes[index].host, s->t.nodes[index].port,
             ASK_TIMEOUT_MS);
    ask_next(s, index + 1);
}

static void ask_next(struct sentinel *s, int index)
{
    if (s->closing)
        return;
    if (index >= s->t.nnodes) {
        resolved(s, 0, NULL, 0, "no sentinel answered with the master's address");
        return;
    }
    s->asking = index;
    redisAsyncContext *ac = redisAsyncConnect(s->t.nodes[index].host, s->t.nodes[index].port);
    if (!ac || ac->err) {
        if (ac)
            redisAsyncFree(ac);
        ask_next(s, index + 1);
        return;
    }
    ac->data = s;
    s->ask = ac;
    redisLibeventAttach(ac, s->base);
    redisAsyncSetConnectCallback(ac, on_ask_connect);
    redisAsyncCommand(ac, on_master_addr, s, "SENTINEL get-master-addr-by-name %s", s->t.master);
    struct timeval tv = { 0, ASK_TIMEOUT_MS * 1000 };
    event_add(s->ask_deadline, &tv);
}

int sentinel_resolve(struct sentinel *s, sentinel_addr_fn cb, void *arg)
{
    if (s->cb)
        return -1;
    s->cb = cb;
    s->cb_arg = arg;
    ask_next(s, 0);
    return 0;
}

/* --- +switch-master ---------------------------------------------------- */

static void subscribe_later(struct sentinel *s)
{
    if (s->closing)
        return;
    struct timeval tv = { 0, SUBSCRIBE_RETRY_MS * 1000 };
    event_add(s->sub_retry, &tv);
}

/* Messages are ["message", "+switch-master", "NAME OLDIP OLDPORT NEWIP NEWPORT"]. */
static void on_switch_message(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct sentinel *s = privdata;
    redisReply *r = reply;
    if (!r || s->closing || r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[2]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0)
        return;
    size_t n = strlen(s->t.master);
    const char *text = r->element[2]->str;
    if (strncmp(text, s->t.master, n) == 0 && text[n] == ' ') {
        log_warn("sentinel: failover of '%s': %s", s->t.master, text + n + 1);
        s->on_switch(s->arg);
    }
}

static void on_sub_disconnect(const redisAsyncContext *ac, int status)
{
    (void)status;
    struct sentinel *s = ac->data;
    s->sub = NULL;
    if (s->closing)
        return;
    s->sub_index = (s->sub_index + 1) % s->t.nnodes;   /* try the next one */
    subscribe_later(s);
}

static void on_sub_connect(const redisAsyncContext *ac, int status)
{
    if (status != REDIS_OK)
        on_sub_disconnect(ac, status);
}

static void subscribe_now(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct sentinel *s = arg;
    const struct redis_node *n = &s->t.nodes[s->sub_index];
    redisAsyncContext *ac = redisAsyncConnect(n->host, n->port);
    if (!ac || ac->err) {
        if (ac)
            redisAsyncFree(ac);
        s->sub_index = (s->sub_index + 1) % s->t.nnodes;
        subscribe_later(s);
        return;
    }
    ac->data = s;
    s->sub = ac;
    redisLibeventAttach(ac, s->base);
    redisAsyncSetConnectCallback(ac, on_sub_connect);
    redisAsyncSetDisconnectCallback(ac, on_sub_disconnect);
    redisAsyncCommand(ac, on_switch_message, s, "SUBSCRIBE +switch-master");
}

struct sentinel *sentinel_new(struct event_base *base, const struct redis_target *t, void (*on_switch)(void *arg),
                              void *arg)
{
    struct sentinel *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->base = base;
    s->t = *t;
    s->on_switch = on_switch;
    s->arg = arg;
    s->asking = -1;
    s->ask_deadline = evtimer_new(base, on_ask_deadline, s);
    s->sub_retry = evtimer_new(base, subscribe_now, s);
    if (!s->ask_deadline || !s->sub_retry) {
        sentinel_free(s);
        return NULL;
    }
    subscribe_now(-1, 0, s);
    return s;
}

void sentinel_free(struct sentinel *s)
{
    if (!s)
        return;
    s->closing = 1;
    if (s->ask)
        redisAsyncFree(s->ask);
    if (s->sub)
        redisAsyncFree(s->sub);
    if (s->ask_deadline)
        event_free(s->ask_deadline);
    if (s->sub_retry)
        event_free(s->sub_retry);
    free(s);
}
