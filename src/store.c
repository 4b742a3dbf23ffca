/* store.c — hiredis async on the worker's libevent loop, one Lua call per
 * submission, our own deadline on every command, reconnect with backoff.
 *
 * An operation (struct op) outlives either of its two possible endings: the
 * Redis reply, or our deadline. Whichever comes first calls the user's
 * callback; the op is freed once hiredis no longer holds it (hiredis always
 * calls back, with NULL on disconnect), so a late reply never touches a
 * request that was already answered.
 *
 * With a redis-sentinel:// URL the address comes from the sentinels before
 * each (re)connect, the server's ROLE must be master, and a +switch-master
 * or a READONLY answer (a demoted master) drops the connection so the next
 * one goes to the new master; submissions meanwhile go to the spool.
 *
 * With a redis-cluster:// URL the connections belong to cluster.c: each op
 * goes to the master of its first key's slot and follows MOVED and ASK (at
 * most MAX_REDIRECTS in a row). On TRYAGAIN (a slot being migrated, a
 * script's keys split between two nodes) or CLUSTERDOWN (a node rejoining,
 * a failover under way) it is resent every TRYAGAIN_MS until its deadline;
 * past it a submission goes to the spool like any failure. SCAN walks the
 * masters one after the other behind a cursor of our own, "NODE:CURSOR". */
#include "raqib/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include "raqib/cluster.h"
#include "raqib/cluster_slot.h"
#include "raqib/config.h"
#include "raqib/log.h"
#include "raqib/metrics.h"
#include "raqib/sentinel.h"

/* KEYS: 1 item, 2 review stream, 3 idempotency, 4 duplicate, 5 flood ip,
 *       6 flood email, 7 spam folder, 8 decisions feed.
 * ARGV: 1 id, 2 status, 3 flood_ms, 4 dup_ttl, 5 idem_ttl, 6 spam_ttl,
 *       7 now_ms, 8 answer, 9 use idem, 10 use flood ip, 11 use flood email,
 *       12.. field/value pairs of the item hash.
 * Returns {"ok"}, {"idem", answer}, {"dup", id} or {"flood", ms}.
 *
 * It is Redis's cost per submission (docs/performance.md), so the usual
 * case does the fewest calls: one EXISTS over every key a check reads (the
 * item, the duplicate key, and the Idempotency-Key and flood keys in use)
 * answers 0 for nearly every comment, and only when it does not are the
 * checks made one by one, in the order their answers take precedence:
 * item, idempotency, duplicate, flood. tests/redis/submit-script.t runs it
 * against the script before this change (tests/bench/submit-before.lua) on
 * random colliding submissions: the same answers and the same keys.
 * The item is written by one HSET (with the review entry when pending, the
 * stream entry added first inside the script: no one sees between) and the
 * fields are passed straight from ARGV, no Lua table copied.
 * An id whose item already exists answers {"ok"} and writes nothing: the
 * outage spool (spool.c) replays submissions whose first try may have
 * landed after our deadline, and a replay must never queue an item twice. */
static const char submit_script[] =
    "local flood_ms = tonumber(ARGV[3])\n"
    "local idem, ip, email = ARGV[9] == '1', flood_ms > 0 and ARGV[10] == '1', flood_ms > 0 and ARGV[11] == '1'\n"
    "local probe = {KEYS[1], KEYS[4]}\n"
    "if idem then probe[#probe + 1] = KEYS[3] end\n"
    "if ip then probe[#probe + 1] = KEYS[5] end\n"
    "if email then probe[#probe + 1] = KEYS[6] end\n"
    "if redis.call('EXISTS', unpack(probe)) > 0 then\n"
    "  if redis.call('EXISTS', KEYS[1]) == 1 then return {'ok'} end\n"
    "  if idem then\n"
    "    local prev = redis.call('GET', KEYS[3])\n"
    "    if prev then return {'idem', prev} end\n"
    "  end\n"
    "  local dup = redis.call('GET', KEYS[4])\n"
    "  if dup then return {'dup', dup} end\n"
    "  local wait = 0\n"
    "  if ip then local t = redis.call('PTTL', KEYS[5]); if t > wait then wait = t end end\n"
    "  if email then local t = redis.call('PTTL', KEYS[6]); if t > wait then wait = t end end\n"
    "  if wait > 0 then return {'flood', tostring(wait)} end\n"
    "end\n"
    "local status = ARGV[2]\n"
    "if status == 'pending' then\n"
    "  local entry = redis.call('XADD', KEYS[2], '*', 'id', ARGV[1])\n"
    "  redis.call('HSET', KEYS[1], 'entry', entry, unpack(ARGV, 12))\n"
    "else\n"
    "  redis.call('HSET', KEYS[1], unpack(ARGV, 12))\n"
    "  if status == 'spam' then\n"
    "    local ttl, now = tonumber(ARGV[6]), tonumber(ARGV[7])\n"
    "    redis.call('EXPIRE', KEYS[1], ttl)\n"
    "    redis.call('ZADD', KEYS[7], now, ARGV[1])\n"
    "    redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now - ttl * 1000)\n"
    "  end\n"
    "  redis.call('XADD', KEYS[8], '*', 'id', ARGV[1], 'status', status, 'decided_by', 'rules', 'decided_at', ARGV[7])\n"
    "end\n"
    "local dup_ttl = tonumber(ARGV[4])\n"
    "if dup_ttl > 0 then redis.call('SET', KEYS[4], ARGV[1], 'EX', dup_ttl) end\n"
    "if ip then redis.call('SET', KEYS[5], '1', 'PX', flood_ms) end\n"
    "if email then redis.call('SET', KEYS[6], '1', 'PX', flood_ms) end\n"
    "if idem then redis.call('SET', KEYS[3], ARGV[8], 'EX', tonumber(ARGV[5])) end\n"
    "return {'ok'}\n";

enum op_kind { OP_SUBMIT, OP_HASH, OP_RAW };

#define MAX_REDIRECTS 8
#define TRYAGAIN_MS 20

struct op {
    struct store *st;
    enum op_kind kind;
    union {
        store_submit_fn submit;
        store_hash_fn hash;
        store_reply_fn raw;
    } cb;
    const char *script;  /* OP_RAW via store_eval: resent with EVAL on NOSCRIPT */
    void *arg;
    struct event *deadline;
    int finished;       /* the user's callback has run */
    int in_hiredis;     /* hiredis still holds a callback for this op */
    /* Cluster only. */
    int slot;           /* of the first key; -1: any master */
    int scan_node;      /* SCAN: the master walked (cluster_masters order), else -1 */
    int redirects;
    int warned;         /* CLUSTERDOWN logged once */
    struct event *retry;   /* TRYAGAIN, CLUSTERDOWN: resend when it fires */
    int retrying;          /* retry is pending: the op is held like in_hiredis */
    struct op *prev, *next;   /* st->retrying, so store_free finds them */
    /* Kept for a NOSCRIPT retry with EVAL. */
    int argc;
    char **argv;
    size_t *argvlen;
};

struct store {
    struct event_base *base;
    redisAsyncContext *ac;
    struct redis_target target;   /* host/port: the server we (re)connect to */
    struct sentinel *sentinel;    /* redis-sentinel:// only */
    struct cluster *cluster;      /* redis-cluster:// only: the connections are its */
    struct op *retrying;          /* ops waiting to resend after TRYAGAIN */
    long timeout_ms;
    long flood_ms, dup_ttl, idem_ttl, spam_ttl;
    int connected;      /* TCP up */
    int ready;          /* AUTH/SELECT done and script loaded */
    int closing;
    long backoff_ms;
    struct event *reconnect;
    char sha[41];
    void (*on_ready)(void *arg);   /* store_on_ready */
    void *on_ready_arg;
};

static void connect_now(struct store *st);

static void op_free(struct op *op)
{
    if (op->deadline)
        event_free(op->deadline);
    if (op->retry)
        event_free(op->retry);
    for (int i = 0; i < op->argc; i++)
        free(op->argv[i]);
    free(op->argv);
    free(op->argvlen);
    free(op);
}

/* Free when neither hiredis nor a pending user callback needs it. */
static void op_release(struct op *op)
{
    if (op->finished && !op->in_hiredis && !op->retrying)
        op_free(op);
}

static void finish_failed(struct op *op, const char *why)
{
    if (op->finished)
        return;
    op->finished = 1;
    event_del(op->deadline);
    metrics_store_error();
    if (op->kind == OP_SUBMIT) {
        struct store_result res = { .outcome = STORE_FAILED, .error = why };
        op->cb.submit(op->arg, &res);
    } else if (op->kind == OP_RAW) {
        op->cb.raw(op->arg, NULL, why);
    } else {
        struct store_hash h = { .failed = 1, .error = why };
        op->cb.hash(op->arg, &h);
    }
}

/* Take op off the TRYAGAIN wait (it stays allocated). */
static void retry_cancel(struct op *op)
{
    if (!op->retrying)
        return;
    event_del(op->retry);
    op->retrying = 0;
    if (op->prev)
        op->prev->next = op->next;
    else
        op->st->retrying = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
}

static int send_op(struct op *op);

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct op *op = arg;
    retry_cancel(op);
    op->redirects = 0;   /* a fresh try: the slot may ASK again on its way */
    if (!op->finished && send_op(op) < 0)
        finish_failed(op, "redis cluster: no connection to the slot's master");
    op_release(op);
}

/* TRYAGAIN (the slot is being migrated and the keys are split for a
 * moment) or CLUSTERDOWN: resend in TRYAGAIN_MS, held on st->retrying. */
static int retry_later(struct op *op)
{
    if (!op->retry && !(op->retry = evtimer_new(op->st->base, on_retry, op)))
        return -1;
    struct timeval tv = { 0, TRYAGAIN_MS * 1000 };
    event_add(op->retry, &tv);
    op->retrying = 1;
    op->next = op->st->retrying;
    if (op->next)
        op->next->prev = op;
    op->st->retrying = op;
    return 0;
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct op *op = arg;
    log_warn("redis command timed out after %ld ms", op->st->timeout_ms);
    retry_cancel(op);
    finish_failed(op, "redis timed out");
    op_release(op);
}

/* Turn an EVALSHA reply into a submission result. */
static void finish_submit(struct op *op, redisReply *r)
{
    struct store_result res = { .outcome = STORE_FAILED, .error = "unexpected reply from the submit script" };
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->type == REDIS_REPLY_STRING) {
        const char *tag = r->element[0]->str;
        const char *val = r->elements >= 2 && r->element[1]->type == REDIS_REPLY_STRING ? r->element[1]->str : NULL;
        if (strcmp(tag, "ok") == 0)
            res = (struct store_result){ .outcome = STORE_STORED };
        else if (strcmp(tag, "idem") == 0 && val)
            res = (struct store_result){ .outcome = STORE_REPLAYED, .answer = val };
        else if (strcmp(tag, "dup") == 0 && val)
            res = (struct store_result){ .outcome = STORE_DUPLICATE, .existing_id = val };
        else if (strcmp(tag, "flood") == 0 && val)
            res = (struct store_result){ .outcome = STORE_FLOOD, .retry_after = (atol(val) + 999) / 1000 };
    }
    if (res.outcome == STORE_FAILED)
        metrics_store_error();
    op->cb.submit(op->arg, &res);
}

static void finish_hash(struct op *op, redisReply *r)
{
    if (r->type == REDIS_REPLY_STATUS) {   /* PING */
        struct store_hash h = { 0 };
        op->cb.hash(op->arg, &h);
        return;
    }
    if (r->type != REDIS_REPLY_ARRAY || r->elements % 2) {
        struct store_hash h = { .failed = 1, .error = "unexpected reply" };
        metrics_store_error();
        op->cb.hash(op->arg, &h);
        return;
    }
    size_t n = r->elements / 2;
    const char **names = calloc(n + 1, sizeof *names);
    const char **values = calloc(n + 1, sizeof *values);
    size_t *lens = calloc(n + 1, sizeof *lens);
    struct store_hash h = { .n = n, .names = names, .values = values, .lens = lens };
    if (!names || !values || !lens) {
        h = (struct store_hash){ .failed = 1, .error = "out of memory" };
    } else {
        for (size_t i = 0; i < n; i++) {
            names[i] = r->element[2 * i]->str;
            values[i] = r->element[2 * i + 1]->str;
            lens[i] = r->element[2 * i + 1]->len;
        }
    }
    op->cb.hash(op->arg, &h);
    free(names);
    free(values);
    free(lens);
}

static int send_on(struct op *op, redisAsyncContext *ac, int asking);

/* Cluster errors that are not failures: MOVED and ASK (resend where they
 * say), TRYAGAIN and CLUSTERDOWN (resend shortly). 1 when op was resent or
 * will be. */
static int cluster_reroute(struct op *op, redisAsyncContext *ac, const char *error)
{
    struct store *st = op->st;
    if (!st->cluster)
        return 0;
    if (strncmp(error, "TRYAGAIN", 8) == 0)   /* as long as the deadline allows */
        return retry_later(op) == 0;
    if (strncmp(error, "CLUSTERDOWN", 11) == 0) {   /* a node (re)joining, a failover: likewise */
        if (!op->warned++)
            log_warn("redis cluster: %s; retrying until the deadline", error);
        return retry_later(op) == 0;
    }
    if (op->redirects >= MAX_REDIRECTS)
        return 0;
    int asking = 0;
    redisAsyncContext *to = cluster_redirect(st->cluster, ac, error, &asking);
    if (!to)
        return 0;
    op->redirects++;
    log_debug("redis cluster: %s", error);
    return send_on(op, to, asking) == 0;
}

/* The cursor a cluster SCAN answers: "NODE:CURSOR" of the next call, "0"
 * once the last master is walked. */
static void scan_cursor_out(struct op *op, redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING)
        return;
    redisReply *cur = r->element[0];
    char out[64];
    int done = strcmp(cur->str, "0") == 0;
    if (done && op->scan_node + 1 >= cluster_masters(op->st->cluster))
        snprintf(out, sizeof out, "0");
    else
        snprintf(out, sizeof out, "%d:%.40s", op->scan_node + done, done ? "0" : cur->str);
    char *copy = strdup(out);
    if (!copy)
        return;
    free(cur->str);   /* hiredis 0.14 frees replies with free() */
    cur->str = copy;
    cur->len = strlen(copy);
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct op *op = privdata;
    redisReply *r = reply;
    op->in_hiredis = 0;
    if (!op->finished) {
        if (!r) {
            finish_failed(op, "redis connection lost");
        } else if (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0 &&
                   strcmp(op->argv[0], "EVALSHA") == 0) {
            /* The script cache was flushed (restart, SCRIPT FLUSH): send it whole once. */
            const char *script = op->kind == OP_SUBMIT ? submit_script : op->script;
            free(op->argv[0]);
            free(op->argv[1]);
            op->argv[0] = strdup("EVAL");
            op->argv[1] = strdup(script);
            op->argvlen[0] = 4;
            op->argvlen[1] = strlen(script);
            if (op->argv[0] && op->argv[1] && (op->st->cluster ? send_on(op, ac, 0) : send_op(op)) == 0)
                return;
            finish_failed(op, "could not resend the submit script");
        } else if (r->type == REDIS_REPLY_ERROR && cluster_reroute(op, ac, r->str)) {
            return;
        } else if (r->type == REDIS_REPLY_ERROR) {
            log_error("redis error: %s", r->str);
            if (strncmp(r->str, "READONLY", 8) == 0 && op->st->sentinel && op->st->ac == ac && op->st->connected)
                redisAsyncDisconnect(ac);   /* our master was demoted: ask the sentinels again */
            finish_failed(op, r->str);
        } else {
            op->finished = 1;
            event_del(op->deadline);
            if (op->kind == OP_SUBMIT)
                finish_submit(op, r);
            else if (op->kind == OP_RAW) {
                if (op->scan_node >= 0)
                    scan_cursor_out(op, r);
                op->cb.raw(op->arg, r, NULL);
            }
            else
                finish_hash(op, r);
        }
    }
    op_release(op);
}

/* Send op on ac, after ASKING when an ASK redirection said so. */
static int send_on(struct op *op, redisAsyncContext *ac, int asking)
{
    if (!ac)
        return -1;
    if (asking && redisAsyncCommand(ac, NULL, NULL, "ASKING") != REDIS_OK)
        return -1;
    if (redisAsyncCommandArgv(ac, on_reply, op, op->argc, (const char **)op->argv, op->argvlen) != REDIS_OK)
        return -1;
    op->in_hiredis = 1;
    return 0;
}

/* Send op where it belongs: the one connection, or its slot's master. */
static int send_op(struct op *op)
{
    struct store *st = op->st;
    if (!st->cluster)
        return send_on(op, st->ac, 0);
    if (op->scan_node >= 0)
        return send_on(op, cluster_master_conn(st->cluster, op->scan_node), 0);
    return send_on(op, cluster_conn(st->cluster, op->slot), 0);
}

/* Cluster: the slot of the command's first key, -1 for one without keys. */
static int command_slot(int argc, const char **argv, const size_t *lens)
{
    int k = cluster_command_key(argc, argv, lens);
    return k < 0 ? -1 : cluster_key_slot(argv[k], lens ? lens[k] : strlen(argv[k]));
}

/* A cluster SCAN's cursor ("0" or our "NODE:CURSOR") into the master to
 * walk and that node's own cursor; -1 when it is not one of ours. */
static int scan_cursor_in(struct op *op)
{
    char *cur = op->argv[1], *end;
    long node = 0;
    const char *own = cur;
    if (strcmp(cur, "0") != 0) {
        node = strtol(cur, &end, 10);
        if (end == cur || *end != ':' || node < 0 || node >= cluster_masters(op->st->cluster))
            return -1;
        own = end + 1;
    }
    char *copy = strdup(own);
    if (!copy)
        return -1;
    free(op->argv[1]);
    op->argv[1] = copy;
    op->argvlen[1] = strlen(copy);
    op->scan_node = (int)node;
    return 0;
}

/* Build an op from argv (copied), send it and arm the deadline. */
static struct op *start_op(struct store *st, enum op_kind kind, int argc, const char **argv, const size_t *lens, void *arg)
{
    if (!st->cluster && (!st->ready || !st->ac))
        return NULL;
    struct op *op = calloc(1, sizeof *op);
    if (!op)
        return NULL;
    op->st = st;
    op->kind = kind;
    op->scan_node = -1;
    op->arg = arg;
    op->argc = argc;
    op->argv = calloc((size_t)argc, sizeof *op->argv);
    op->argvlen = calloc((size_t)argc, sizeof *op->argvlen);
    op->deadline = evtimer_new(st->base, on_deadline, op);
    if (!op->argv || !op->argvlen || !op->deadline)
        goto fail;
    for (int i = 0; i < argc; i++) {
        op->argvlen[i] = lens ? lens[i] : strlen(argv[i]);
        op->argv[i] = malloc(op->argvlen[i] + 1);
        if (!op->argv[i])
            goto fail;
        memcpy(op->argv[i], argv[i], op->argvlen[i]);
        op->argv[i][op->argvlen[i]] = '\0';
    }
    op->slot = st->cluster ? command_slot(argc, (const char **)op->argv, op->argvlen) : -1;
    if (st->cluster && argc >= 2 && strcasecmp(op->argv[0], "SCAN") == 0 && scan_cursor_in(op) < 0)
        goto fail;
    if (send_op(op) < 0)
        goto fail;
    struct timeval tv = { st->timeout_ms / 1000, (st->timeout_ms % 1000) * 1000 };
    event_add(op->deadline, &tv);
    return op;
fail:
    op_free(op);
    return NULL;
}

static int key(char *buf, size_t len, const char *site, const char *suffix, const char *name)
{
    int n = snprintf(buf, len, "raqib:{%s}:%s%s", site, suffix, name ? name : "");
    return n > 0 && (size_t)n < len ? 0 : -1;
}

int store_submit(struct store *st, const struct store_submission *sub, store_submit_fn cb, void *arg)
{
    enum { NKEYS = 8, NFIXED = 11 };
    char keys[NKEYS][600];
    char nums[6][32];
    int rc = -1;
    int argc = 3 + NKEYS + NFIXED + 2 * (int)sub->nfields;
    const char **argv = calloc((size_t)argc, sizeof *argv);
    size_t *lens = calloc((size_t)argc, sizeof *lens);
    if (!argv || !lens)
        goto out;
    if (key(keys[0], sizeof keys[0], sub->site, "c:", sub->id) || key(keys[1], sizeof keys[1], sub->site, "review", NULL) ||
        key(keys[2], sizeof keys[2], sub->site, "idem:", sub->idempotency_key ? sub->idempotency_key : "-") ||
        key(keys[3], sizeof keys[3], sub->site, "dup:", sub->dup_hash) ||
        key(keys[4], sizeof keys[4], sub->site, "flood:ip:", sub->flood_ip ? sub->flood_ip : "-") ||
        key(keys[5], sizeof keys[5], sub->site, "flood:email:", sub->flood_email ? sub->flood_email : "-") ||
        key(keys[6], sizeof keys[6], sub->site, "spam", NULL) || key(keys[7], sizeof keys[7], sub->site, "decisions", NULL))
        goto out;
    snprintf(nums[0], sizeof nums[0], "%ld", st->flood_ms);
    snprintf(nums[1], sizeof nums[1], "%ld", st->dup_ttl);
    snprintf(nums[2], sizeof nums[2], "%ld", st->idem_ttl);
    snprintf(nums[3], sizeof nums[3], "%ld", st->spam_ttl);
    snprintf(nums[4], sizeof nums[4], "%lld", sub->now_ms);
    snprintf(nums[5], sizeof nums[5], "%d", NKEYS);
    int i = 0;
    argv[i++] = "EVALSHA";
    argv[i++] = st->sha;
    argv[i++] = nums[5];
    for (int k = 0; k < NKEYS; k++)
        argv[i++] = keys[k];
    argv[i++] = sub->id;
    argv[i++] = sub->status;
    argv[i++] = nums[0];
    argv[i++] = nums[1];
    argv[i++] = nums[2];
    argv[i++] = nums[3];
    argv[i++] = nums[4];
    argv[i++] = sub->answer;
    argv[i++] = sub->idempotency_key ? "1" : "0";
    argv[i++] = sub->flood_ip ? "1" : "0";
    argv[i++] = sub->flood_email ? "1" : "0";
    for (int k = 0; k < i; k++)
        lens[k] = strlen(argv[k]);
    for (size_t f = 0; f < sub->nfields; f++) {
        argv[i] = sub->fields[f].name;
        lens[i++] = strlen(sub->fields[f].name);
        argv[i] = sub->fields[f].value;
        lens[i++] = sub->fields[f].len;
    }
    struct op *op = start_op(st, OP_SUBMIT, argc, argv, lens, arg);
    if (op) {
        op->cb.submit = cb;
        rc = 0;
    }
out:
    free(argv);
    free(lens);
    return rc;
}

int store_get_comment(struct store *st, const char *site, const char *id, store_hash_fn cb, void *arg)
{
    char k[600];
    if (key(k, sizeof k, site, "c:", id) < 0)
        return -1;
    const char *argv[] = { "HGETALL", k };
    struct op *op = start_op(st, OP_HASH, 2, argv, NULL, arg);
    if (!op)
        return -1;
    op->cb.hash = cb;
    return 0;
}

int store_ping(struct store *st, store_hash_fn cb, void *arg)
{
    const char *argv[] = { "PING" };
    if (st->cluster && !cluster_is_ready(st->cluster))
        return -1;   /* a master away: its sites' comments go to the spool */
    struct op *op = start_op(st, OP_HASH, 1, argv, NULL, arg);
    if (!op)
        return -1;
    op->cb.hash = cb;
    return 0;
}

int store_command(struct store *st, int argc, const char **argv, const size_t *lens, store_reply_fn cb, void *arg)
{
    struct op *op = start_op(st, OP_RAW, argc, argv, lens, arg);
    if (!op)
        return -1;
    op->cb.raw = cb;
    return 0;
}

/* SHA1 hex of a script, as Redis names it. */
static void script_sha(const char *script, char out[41])
{
    unsigned char digest[SHA_DIGEST_LENGTH];
    SHA1((const unsigned char *)script, strlen(script), digest);
    for (int i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(out + 2 * i, 3, "%02x", digest[i]);
}

int store_eval(struct store *st, const char *script, int argc, const char **argv, const size_t *lens,
               store_reply_fn cb, void *arg)
{
    char sha[41];
    int rc = -1;
    const char **all = calloc((size_t)argc + 2, sizeof *all);
    size_t *all_lens = calloc((size_t)argc + 2, sizeof *all_lens);
    if (!all || !all_lens)
        goto out;
    script_sha(script, sha);
    all[0] = "EVALSHA";
    all_lens[0] = 7;
    all[1] = sha;
    all_lens[1] = 40;
    for (int i = 0; i < argc; i++) {
        all[i + 2] = argv[i];
        all_lens[i + 2] = lens ? lens[i] : strlen(argv[i]);
    }
    struct op *op = start_op(st, OP_RAW, argc + 2, all, all_lens, arg);
    if (op) {
        op->cb.raw = cb;
        op->script = script;
        rc = 0;
    }
out:
    free(all);
    free(all_lens);
    return rc;
}

int store_key(char *buf, size_t len, const char *site, const char *suffix)
{
    return key(buf, len, site, suffix, NULL);
}

int store_is_ready(const struct store *st) { return st->cluster ? cluster_is_ready(st->cluster) : st->ready; }

void store_on_ready(struct store *st, void (*cb)(void *arg), void *arg)
{
    st->on_ready = cb;
    st->on_ready_arg = arg;
}

/* --- connection management ------------------------------------------- */

static void schedule_reconnect(struct store *st)
{
    if (st->closing)
        return;
    struct timeval tv = { st->backoff_ms / 1000, (st->backoff_ms % 1000) * 1000 };
    event_add(st->reconnect, &tv);
    st->backoff_ms = st->backoff_ms * 2 > 5000 ? 5000 : st->backoff_ms * 2;
}

static void on_script_loaded(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct store *st = privdata;
    redisReply *r = reply;
    if (!r)
        return;
    if (r->type == REDIS_REPLY_STRING && r->len == 40) {
        memcpy(st->sha, r->str, 41);
        st->ready = 1;
        st->backoff_ms = 100;
        log_info("redis %s:%d ready (db %d)", st->target.host, st->target.port, st->target.db);
        if (st->on_ready)
            st->on_ready(st->on_ready_arg);
    } else {
        log_error("redis refused the setup (AUTH, SELECT or SCRIPT LOAD): %s",
                  r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
        redisAsyncDisconnect(st->ac);
    }
}

/* Sentinel mode: the server we reached must still be the master (the
 * sentinels may have answered before a failover finished). */
static void on_role(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct store *st = privdata;
    redisReply *r = reply;
    if (!r)
        return;
    if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->type == REDIS_REPLY_STRING &&
        strcmp(r->element[0]->str, "master") == 0)
        return;
    log_warn("redis %s:%d is not the master (%s); asking the sentinels again", st->target.host, st->target.port,
             r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->type == REDIS_REPLY_STRING
                 ? r->element[0]->str
                 : "no ROLE answer");
    redisAsyncDisconnect(ac);
}

static void on_setup_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    (void)privdata;
    redisReply *r = reply;
    if (r && r->type == REDIS_REPLY_ERROR)
        log_error("redis setup command failed: %s", r->str);
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct store *st = ac->data;
    if (status != REDIS_OK) {
        log_warn("redis %s:%d unreachable: %s; retrying in %ld ms", st->target.host, st->target.port,
                 ac->errstr, st->backoff_ms);
        st->ac = NULL;   /* hiredis frees the context after this callback */
        metrics_store_error();
        schedule_reconnect(st);
        return;
    }
    st->connected = 1;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct store *st = ac->data;
    st->ac = NULL;
    st->connected = 0;
    st->ready = 0;
    if (st->closing)
        return;
    log_warn("redis connection lost (%s); reconnecting", status == REDIS_OK ? "closed" : ac->errstr);
    schedule_reconnect(st);
}

static void on_reconnect_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct store *st = arg;
    metrics_store_reconnect();
    connect_now(st);
}

/* Connect to st->target.host:port, authenticate, check the role, load the script. */
static void connect_to(struct store *st)
{
    redisAsyncContext *ac = redisAsyncConnect(st->target.host, st->target.port);
    if (!ac) {
        schedule_reconnect(st);
        return;
    }
    if (ac->err) {
        log_warn("redis connect: %s", ac->errstr);
        redisAsyncFree(ac);
        schedule_reconnect(st);
        return;
    }
    ac->data = st;
    st->ac = ac;
    redisLibeventAttach(ac, st->base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    /* Commands queue until the connection is up; replies come in order. */
    if (st->target.password[0])
        redisAsyncCommand(ac, on_setup_reply, st, "AUTH %s", st->target.password);
    if (st->target.db)
        redisAsyncCommand(ac, on_setup_reply, st, "SELECT %d", st->target.db);
    if (st->sentinel)
        redisAsyncCommand(ac, on_role, st, "ROLE");
    redisAsyncCommand(ac, on_script_loaded, st, "SCRIPT LOAD %s", submit_script);
}

static void on_master_found(void *arg, const char *host, int port, const char *why)
{
    struct store *st = arg;
    if (st->closing)
        return;
    if (!host) {
        log_warn("redis master '%s': %s; retrying in %ld ms", st->target.master, why, st->backoff_ms);
        metrics_store_error();
        schedule_reconnect(st);
        return;
    }
    if (strcmp(host, st->target.host) != 0 || port != st->target.port)
        log_info("redis master '%s' is %s:%d", st->target.master, host, port);
    snprintf(st->target.host, sizeof st->target.host, "%s", host);
    st->target.port = port;
    connect_to(st);
}

static void connect_now(struct store *st)
{
    if (!st->sentinel) {
        connect_to(st);
        return;
    }
    sentinel_resolve(st->sentinel, on_master_found, st);   /* -1: one is under way */
}

/* A sentinel announced a new master: leave the old one now rather than at
 * the next error, and reconnect without backoff. */
static void on_switch_master(void *arg)
{
    struct store *st = arg;
    st->backoff_ms = 100;
    if (st->ac && st->connected) {
        redisAsyncDisconnect(st->ac);   /* on_disconnect reconnects */
    } else if (!st->ac && event_pending(st->reconnect, EV_TIMEOUT, NULL)) {
        event_del(st->reconnect);
        connect_now(st);
    }
}

/* A cluster master was set up: the spool may replay. */
static void on_cluster_ready(void *arg)
{
    struct store *st = arg;
    if (st->on_ready)
        st->on_ready(st->on_ready_arg);
}

struct store *store_new(struct event_base *base, const struct config *cfg, char *err, size_t errlen)
{
    struct store *st = calloc(1, sizeof *st);
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (config_parse_redis_url(cfg->redis, &st->target, err, errlen) < 0) {
        free(st);
        return NULL;
    }
    st->base = base;
    st->timeout_ms = cfg->redis_timeout_ms;
    st->flood_ms = cfg->flood_seconds * 1000;
    st->dup_ttl = cfg->duplicate_ttl;
    st->idem_ttl = cfg->idempotency_ttl;
    st->spam_ttl = cfg->spam_ttl;
    st->backoff_ms = 100;
    st->reconnect = evtimer_new(base, on_reconnect_timer, st);
    if (st->target.mode == REDIS_SENTINEL)
        st->sentinel = sentinel_new(base, &st->target, on_switch_master, st);
    if (st->target.mode == REDIS_CLUSTER) {
        script_sha(submit_script, st->sha);   /* the same on every node */
        st->cluster = cluster_new(base, &st->target, submit_script, on_cluster_ready, st);
    }
    if (!st->reconnect || (st->target.mode == REDIS_SENTINEL && !st->sentinel) ||
        (st->target.mode == REDIS_CLUSTER && !st->cluster)) {
        if (st->reconnect)
            event_free(st->reconnect);
        sentinel_free(st->sentinel);
        cluster_free(st->cluster);
        free(st);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!st->cluster)
        connect_now(st);
    return st;
}

void store_free(struct store *st)
{
    if (!st)
        return;
    st->closing = 1;
    while (st->retrying) {   /* ops waiting out a TRYAGAIN: hiredis does not hold them */
        struct op *op = st->retrying;
        retry_cancel(op);
        finish_failed(op, "the store is closing");
        op_release(op);
    }
    cluster_free(st->cluster);
    if (st->ac)
        redisAsyncFree(st->ac);   /* calls every pending callback with NULL */
    sentinel_free(st->sentinel);
    event_free(st->reconnect);
    free(st);
}
