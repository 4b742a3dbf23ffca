/* decided.c — read a site's decided comments from Redis (decided.h).
 *
 * Two passes: the decisions feed (XRANGE in pages) gives the ids, then one
 * pipelined HMGET per page of ids gives each comment's current status, who
 * decided it and its text. Key names follow README.md's table of Redis
 * keys (raqib:{SITE}:decisions, raqib:{SITE}:c:ID). One site's keys share
 * its {SITE} slot, so on a redis-cluster:// URL one connection to the master
 * serving that slot (asked of the seeds with CLUSTER SLOTS) reads them all. */
#include "raqib/decided.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raqib/cluster_slot.h"
#include "raqib/config.h"

#define PAGE 1000

struct ids {
    char **v;
    size_t n, cap;
};

static void ids_free(struct ids *ids)
{
    for (size_t i = 0; i < ids->n; i++)
        free(ids->v[i]);
    free(ids->v);
}

static int ids_add(struct ids *ids, const char *id, size_t len)
{
    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 1024;
        char **nv = realloc(ids->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        ids->v = nv;
        ids->cap = cap;
    }
    if (!(ids->v[ids->n] = strndup(id, len)))
        return -1;
    ids->n++;
    return 0;
}

static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort and drop repeats: a comment decided twice is learned once. */
static void ids_unique(struct ids *ids)
{
    if (ids->n < 2)
        return;   /* nothing to sort, and qsort must not be given NULL */
    qsort(ids->v, ids->n, sizeof *ids->v, by_string);
    size_t k = 0;
    for (size_t i = 0; i < ids->n; i++) {
        if (k && strcmp(ids->v[k - 1], ids->v[i]) == 0)
            free(ids->v[i]);
        else
            ids->v[k++] = ids->v[i];
    }
    ids->n = k;
}

/* redis-sentinel:// URLs: ask the sentinels in turn for the master's
 * address and put it in t->host/port. -1 with err when none knows it. */
static int ask_sentinels(struct redis_target *t, char *err, size_t errlen)
{
    for (int i = 0; i < t->nnodes; i++) {
        redisContext *s = redisConnectWithTimeout(t->nodes[i].host, t->nodes[i].port, (struct timeval){ 2, 0 });
        redisReply *r = s && !s->err ? redisCommand(s, "SENTINEL get-master-addr-by-name %s", t->master) : NULL;
        int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_STRING &&
                 r->element[1]->type == REDIS_REPLY_STRING;
        if (ok) {
            snprintf(t->host, sizeof t->host, "%s", r->element[0]->str);
            t->port = atoi(r->element[1]->str);
        }
        freeReplyObject(r);
        redisFree(s);
        if (ok)
            return 0;
    }
    snprintf(err, errlen, "no sentinel of the URL knows master '%s'", t->master);
    return -1;
}

/* The master serving slot in one CLUSTER SLOTS reply into t; 0 when found. */
static int slot_owner(const redisReply *r, int slot, const char *asked, struct redis_target *t)
{
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 || e->element[0]->integer > slot ||
            e->element[1]->integer < slot || e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2 ||
            e->element[2]->element[0]->type != REDIS_REPLY_STRING)
            continue;
        const char *host = e->element[2]->element[0]->str;
        snprintf(t->host, sizeof t->host, "%s", host[0] && strcmp(host, "?") != 0 ? host : asked);
        t->port = (int)e->element[2]->element[1]->integer;
        return 0;
    }
    return -1;
}

/* redis-cluster:// URLs: ask the seeds in turn which master serves the
 * site's slot (all its keys carry the {site} tag) and put it in t. */
static int ask_cluster(struct redis_target *t, const char *site, char *err, size_t errlen)
{
    char tag[80];
    int n = snprintf(tag, sizeof tag, "{%s}", site);
    int slot = cluster_key_slot(tag, (size_t)n);
    for (int i = 0; i < t->nnodes; i++) {
        redisContext *c = redisConnectWithTimeout(t->nodes[i].host, t->nodes[i].port, (struct timeval){ 2, 0 });
        redisReply *a = c && !c->err && t->password[0] ? redisCommand(c, "AUTH %s", t->password) : NULL;
        redisReply *r = c && !c->err ? redisCommand(c, "CLUSTER SLOTS") : NULL;
        int ok = slot_owner(r, slot, t->nodes[i].host, t) == 0;
        freeReplyObject(a);
        freeReplyObject(r);
        redisFree(c);
        if (ok)
            return 0;
    }
    snprintf(err, errlen, "no seed node of the URL said which master serves slot %d (site '%s')", slot, site);
    return -1;
}

static redisContext *connect_to(const char *url, const char *site, char *err, size_t errlen)
{
    struct redis_target t;
    if (config_parse_redis_url(url, &t, err, errlen) < 0)
        return NULL;
    if (t.mode == REDIS_CLUSTER && ask_cluster(&t, site, err, errlen) < 0)
        return NULL;
    if (t.mode == REDIS_SENTINEL && ask_sentinels(&t, err, errlen) < 0)
        return NULL;
    redisContext *c = redisConnectWithTimeout(t.host, t.port, (struct timeval){ 5, 0 });
    if (!c || c->err) {
        snprintf(err, errlen, "redis %s:%d: %s", t.host, t.port, c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    redisReply *r = NULL;
    if (t.password[0] && (!(r = redisCommand(c, "AUTH %s", t.password)) || r->type == REDIS_REPLY_ERROR))
        goto refused;
    freeReplyObject(r);
    r = NULL;
    if (t.db && (!(r = redisCommand(c, "SELECT %d", t.db)) || r->type == REDIS_REPLY_ERROR))
        goto refused;
    freeReplyObject(r);
    return c;
refused:
    snprintf(err, errlen, "redis %s:%d: %s", t.host, t.port, r ? r->str : c->errstr);
    freeReplyObject(r);
    redisFree(c);
    return NULL;
}

/* Every id in the feed after the cursor after ("" from the oldest entry
 * on), which is moved to the last entry read. */
static int read_feed(redisContext *c, const char *site, struct ids *ids, size_t *entries, char *after,
                     size_t after_len, char *err, size_t errlen)
{
    char key[600], start[80] = "-";
    if (after && after[0])
        snprintf(start, sizeof start, "(%s", after);
    snprintf(key, sizeof key, "raqib:{%s}:decisions", site);
    for (;;) {
        redisReply *r = redisCommand(c, "XRANGE %s %s + COUNT %d", key, start, PAGE);
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            snprintf(err, errlen, "XRANGE %s: %s", key, r && r->str ? r->str : c->errstr);
            freeReplyObject(r);
            return -1;
        }
        for (size_t i = 0; i < r->elements; i++) {
            redisReply *entry = r->element[i], *fields = entry->element[1];
            snprintf(start, sizeof start, "(%s", entry->element[0]->str);
            if (after)
                snprintf(after, after_len, "%s", entry->element[0]->str);
            (*entries)++;
            for (size_t f = 0; f + 1 < fields->elements; f += 2)
                if (strcmp(fields->element[f]->str, "id") == 0 &&
                    ids_add(ids, fields->element[f + 1]->str, fields->element[f + 1]->len) < 0) {
                    freeReplyObject(r);
                    snprintf(err, errlen, "out of memory");
                    return -1;
                }
        }
        size_t got = r->elements;
        freeReplyObject(r);
        if (got < PAGE)
            return 0;
    }
}

/* One page of ids: pipelined HMGET status decided_by content, then fn. */
static int read_page(redisContext *c, const char *site, char **ids, size_t n, int include_automatic,
                     decided_fn fn, void *arg, struct decided_counts *counts, char *err, size_t errlen)
{
    char key[600];
    for (size_t i = 0; i < n; i++) {
        snprintf(key, sizeof key, "raqib:{%s}:c:%s", site, ids[i]);
        redisAppendCommand(c, "HMGET %s status decided_by content", key);
    }
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r || r->type != REDIS_REPLY_ARRAY || r->elements != 3) {
            if (!rc)
                snprintf(err, errlen, "HMGET: %s", r && r->str ? r->str : c->errstr);
            freeReplyObject(r);
            if (!r)
                return -1;  /* the connection is gone: no more replies to read */
            rc = -1;
            continue;
        }
        redisReply *status = r->element[0], *by = r->element[1], *text = r->element[2];
        if (rc == 0) {
            if (status->type != REDIS_REPLY_STRING || text->type != REDIS_REPLY_STRING)
                counts->gone++;
            else if (!include_automatic && by->type == REDIS_REPLY_STRING && strcmp(by->str, "rules") == 0)
                counts->automatic++;
            else if (strcmp(status->str, "pending") != 0) {
                counts->comments++;
                if (fn(status->str, text->str, text->len, arg))
                    rc = 1;
            }
        }
        freeReplyObject(r);
    }
    return rc;
}

int decided_each(const char *url, const char *site, int include_automatic, char *after, size_t after_len,
                 decided_fn fn, void *arg, struct decided_counts *counts, char *err, size_t errlen)
{
    struct ids ids = { 0 };
    memset(counts, 0, sizeof *counts);
    redisContext *c = connect_to(url, site, err, errlen);
    if (!c)
        return -1;
    int rc = read_feed(c, site, &ids, &counts->decisions, after, after_len, err, errlen);
    if (rc == 0) {
        ids_unique(&ids);
        for (size_t i = 0; rc == 0 && i < ids.n; i += PAGE)
            rc = read_page(c, site, ids.v + i, ids.n - i < PAGE ? ids.n - i : PAGE, include_automatic, fn, arg,
                           counts, err, errlen);
    }
    ids_free(&ids);
    redisFree(c);
    return rc < 0 ? -1 : 0;
}
