/* queue.c — the moderators' side: review queue, claims with leases,
 * decisions (one or a wave) and the decisions feed.
 *
 * Each operation is one Lua script, so a crash never leaves half of it done:
 * a decision sets the item, acknowledges and removes its review-stream entry,
 * appends to the decisions feed (which the webhook delivers from) and bumps
 * the per-rule counters together. Claims use the stream's consumer group
 * "moderators": XREADGROUP hands out entries no one holds, and each claim's
 * deadline (its lease) is kept in raqib:{S}:leases; an entry whose lease
 * passed is re-claimed with XCLAIM by the next moderator, and one delivered
 * max_deliveries times goes to the dead-letter stream raqib:{S}:dead. The
 * per-claim lease is why XCLAIM is used rather than XAUTOCLAIM, whose single
 * idle threshold cannot honour a lease chosen per claim. */
#include "raqib/queue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "raqib/feed.h"
#include "raqib/http.h"
#include "raqib/id.h"
#include "raqib/learner.h"
#include "raqib/log.h"
#include "raqib/metrics.h"
#include "raqib/reader.h"
#include "raqib/rules.h"
#include "raqib/runtime.h"
#include "raqib/store.h"
#include "raqib/webhook.h"

#define DEFAULT_LIMIT 50
#define MAX_LIMIT 500
#define MAX_WAVE 1000
#define MAX_REASON 1000

/* KEYS: 1 review stream, 2 leases. ARGV: 1 item key prefix, 2 count,
 * 3 start id, 4 now ms. Returns {entry, {field, value, ...}, holder} for
 * each queued item, oldest first; holder is {moderator, lease deadline ms}
 * while a claim's lease runs, else empty (so a console can mark what another
 * moderator holds). Only entries with a running lease cost an XPENDING. */
static const char list_script[] =
    "local entries = redis.call('XRANGE', KEYS[1], ARGV[3], '+', 'COUNT', tonumber(ARGV[2]))\n"
    "local now = tonumber(ARGV[4])\n"
    "local out = {}\n"
    "for _, e in ipairs(entries) do\n"
    "  local h = redis.call('HGETALL', ARGV[1] .. e[2][2])\n"
    "  if #h > 0 then\n"
    "    local holder = {}\n"
    "    local deadline = tonumber(redis.call('HGET', KEYS[2], e[1]) or '0')\n"
    "    if deadline > now then\n"
    "      local ok, p = pcall(redis.call, 'XPENDING', KEYS[1], 'moderators', e[1], e[1], 1)\n"
    "      if ok and p[1] then holder = {p[1][2], tostring(deadline)} end\n"
    "    end\n"
    "    out[#out + 1] = {e[1], h, holder}\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS: 1 spam zset. ARGV: 1 item key prefix, 2 count. Newest first;
 * entries whose item expired are dropped on the way. */
static const char spam_script[] =
    "local ids = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)\n"
    "local out = {}\n"
    "for _, id in ipairs(ids) do\n"
    "  local h = redis.call('HGETALL', ARGV[1] .. id)\n"
    "  if #h > 0 then out[#out + 1] = {id, h} else redis.call('ZREM', KEYS[1], id) end\n"
    "end\n"
    "return out\n";

/* KEYS: 1 review, 2 leases, 3 dead letters. ARGV: 1 consumer, 2 limit,
 * 3 lease ms, 4 now ms, 5 max deliveries, 6 item key prefix.
 * Returns {entry, deliveries, lease deadline, {item hash}} per claimed item. */
static const char claim_script[] =
    "pcall(redis.call, 'XGROUP', 'CREATE', KEYS[1], 'moderators', '0', 'MKSTREAM')\n"
    "local limit, lease, now, maxd = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])\n"
    "local got = {}\n"
    "local pel = redis.call('XPENDING', KEYS[1], 'moderators', '-', '+', 1000)\n"
    "for _, p in ipairs(pel) do\n"
    "  if #got >= limit then break end\n"
    "  local eid, deliveries = p[1], tonumber(p[4])\n"
    "  local deadline = tonumber(redis.call('HGET', KEYS[2], eid) or '0')\n"
    "  if deadline <= now then\n"
    "    if deliveries >= maxd then\n"
    "      local e = redis.call('XRANGE', KEYS[1], eid, eid)\n"
    "      local id = e[1] and e[1][2][2] or ''\n"
    "      redis.call('XADD', KEYS[3], '*', 'id', id, 'entry', eid, 'deliveries', deliveries)\n"
    "      redis.call('XACK', KEYS[1], 'moderators', eid)\n"
    "      redis.call('XDEL', KEYS[1], eid)\n"
    "      redis.call('HDEL', KEYS[2], eid)\n"
    "    else\n"
    "      local c = redis.call('XCLAIM', KEYS[1], 'moderators', ARGV[1], 0, eid)\n"
    "      if c[1] then got[#got + 1] = {c[1][1], c[1][2][2], deliveries + 1} end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "if #got < limit then\n"
    "  local r = redis.call('XREADGROUP', 'GROUP', 'moderators', ARGV[1], 'COUNT', limit - #got, 'STREAMS', KEYS[1], '>')\n"
    "  if r and r[1] then for _, e in ipairs(r[1][2]) do got[#got + 1] = {e[1], e[2][2], 1} end end\n"
    "end\n"
    "local out = {}\n"
    "for _, g in ipairs(got) do\n"
    "  redis.call('HSET', KEYS[2], g[1], now + lease)\n"
    "  out[#out + 1] = {g[1], tostring(g[3]), tostring(now + lease), redis.call('HGETALL', ARGV[6] .. g[2])}\n"
    "end\n"
    "return out\n";

/* KEYS: 1 review, 2 leases. ARGV: 1 consumer, 2 lease ms, 3 now ms, 4 item
 * key prefix. Every item this moderator still holds (its lease has not
 * passed; decided ones left the group, released ones have a passed lease)
 * gets a new deadline; returned
 * in the claim's shape. The console renews while its moderator works, and a
 * reloaded page finds its claims again this way. */
static const char renew_script[] =
    "local ok, pel = pcall(redis.call, 'XPENDING', KEYS[1], 'moderators', '-', '+', 1000, ARGV[1])\n"
    "local out = {}\n"
    "if not ok then return out end\n"
    "local now = tonumber(ARGV[3])\n"
    "local until_ms = now + tonumber(ARGV[2])\n"
    "for _, p in ipairs(pel) do\n"
    "  local e = redis.call('XRANGE', KEYS[1], p[1], p[1])\n"
    "  if e[1] and tonumber(redis.call('HGET', KEYS[2], p[1]) or '0') > now then\n"
    "    redis.call('HSET', KEYS[2], p[1], until_ms)\n"
    "    out[#out + 1] = {p[1], tostring(p[4]), tostring(until_ms), redis.call('HGETALL', ARGV[4] .. e[1][2][2])}\n"
    "  end\n"
    "end\n"
    "return out\n";

/* KEYS: 1 review, 2 leases. ARGV: 1 consumer. Hand back every item this
 * moderator holds: the lease ends now, and the delivery the claim counted is
 * taken back (a release is not a failed review, so it must not push the item
 * towards the dead letters). Returns how many were released. */
static const char release_script[] =
    "local ok, pel = pcall(redis.call, 'XPENDING', KEYS[1], 'moderators', '-', '+', 1000, ARGV[1])\n"
    "if not ok then return 0 end\n"
    "for _, p in ipairs(pel) do\n"
    "  redis.call('XCLAIM', KEYS[1], 'moderators', ARGV[1], 0, p[1], 'RETRYCOUNT', math.max(tonumber(p[4]) - 1, 0), 'JUSTID')\n"
    "  redis.call('HSET', KEYS[2], p[1], 0)\n"
    "end\n"
    "return #pel\n";

static int status_ok(const char *s)
{
    return s && (strcmp(s, "approved") == 0 || strcmp(s, "rejected") == 0 || strcmp(s, "spam") == 0);
}

/* Who decides: the token's name, never the request body. */
static const char *moderator_name(const struct request_ctx *ctx)
{
    return ctx->token ? ctx->token->name : "dev";
}

static void reply_store_error(struct request_ctx *ctx, const char *error)
{
    log_error("%s: store failed: %s", ctx->route, error ? error : "unknown");
    http_add_header(ctx, "Retry-After", "1");
    http_reply_json(ctx, 503, json_pack("{s:s, s:s, s:i}", "error", "unavailable", "message",
                                        "the store did not answer; retry shortly", "retry_after", 1));
}

/* Parse "limit" (query or JSON) within 1..MAX_LIMIT; -1 when out of range. */
static long parse_limit(const char *text, long fallback)
{
    if (!text || !*text)
        return fallback;
    char *end;
    long v = strtol(text, &end, 10);
    return *end || v < 1 || v > MAX_LIMIT ? -1 : v;
}

/* A Redis field/value array shown as an item, via reader_item_json. */
static json_t *item_from_reply(const redisReply *h, enum role role)
{
    size_t n = h->elements / 2;
    const char **names = calloc(n + 1, sizeof *names);
    const char **values = calloc(n + 1, sizeof *values);
    size_t *lens = calloc(n + 1, sizeof *lens);
    json_t *item = NULL;
    if (names && values && lens) {
        for (size_t i = 0; i < n; i++) {
            names[i] = h->element[2 * i]->str;
            values[i] = h->element[2 * i + 1]->str;
            lens[i] = h->element[2 * i + 1]->len;
        }
        struct store_hash sh = { .n = n, .names = names, .values = values, .lens = lens };
        item = reader_item_json(&sh, role);
    }
    free(names);
    free(values);
    free(lens);
    return item;
}

/* ---- GET /v1/queue ----------------------------------------------------- */

/* A pending item another moderator (or this one) holds: who, and until when
 * (api.md extension: held_by, lease_until). holder is the list script's
 * {moderator, deadline ms}, empty when no lease runs. */
static void add_holder(json_t *item, const redisReply *holder)
{
    if (!item || holder->type != REDIS_REPLY_ARRAY || holder->elements != 2 ||
        holder->element[0]->type != REDIS_REPLY_STRING || holder->element[1]->type != REDIS_REPLY_STRING)
        return;
    char until[64];
    feed_format_time(holder->element[1]->str, until, sizeof until);
    json_object_set_new(item, "held_by", json_stringn(holder->element[0]->str, holder->element[0]->len));
    json_object_set_new(item, "lease_until", json_string(until));
}

static void on_listed(void *arg, const redisReply *r, const char *error)
{
    struct request_ctx *ctx = arg;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        reply_store_error(ctx, error ? error : "unexpected reply");
        return;
    }
    json_t *items = json_array();
    const char *last = NULL;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 2)
            continue;
        json_t *item = item_from_reply(e->element[1], ctx->role);
        if (e->elements == 3)
            add_holder(item, e->element[2]);
        json_array_append_new(items, item);
        last = e->element[0]->str;
    }
    json_t *body = json_pack("{s:o}", "items", items);
    json_object_set_new(body, "next", last ? json_string(last) : json_null());
    http_reply_json(ctx, 200, body);
}

void queue_list(struct request_ctx *ctx)
{
    char *site = http_query(ctx, "site"), *status = http_query(ctx, "status");
    char *limit_s = http_query(ctx, "limit"), *after = http_query(ctx, "after");
    const char *s = site && *site ? site : "default";
    long limit = parse_limit(limit_s, DEFAULT_LIMIT);
    char stream[600], leases[600], prefix[600], start[80], count[32], now[32];
    int spam = status && strcmp(status, "spam") == 0;
    if (!id_site_valid(s) || limit < 0 || (status && !spam && strcmp(status, "pending") != 0) ||
        (after && (strlen(after) > 40 || strspn(after, "0123456789-") != strlen(after)))) {
        http_reply_json(ctx, 400, json_pack("{s:s, s:s}", "error", "bad_request", "message",
                                            "site must be [a-z0-9_-]{1,64}, status pending or spam, limit 1..500, "
                                            "after a cursor from 'next'"));
        goto out;
    }
    snprintf(count, sizeof count, "%ld", limit);
    snprintf(start, sizeof start, "%s%s", after ? "(" : "-", after ? after : "");
    store_key(prefix, sizeof prefix, s, "c:");
    store_key(stream, sizeof stream, s, spam ? "spam" : "review");
    store_key(leases, sizeof leases, s, "leases");
    snprintf(now, sizeof now, "%lld", id_clock_ms());
    const char *spam_argv[] = { "1", stream, prefix, count };
    const char *list_argv[] = { "2", stream, leases, prefix, count, start, now };
    http_begin_wait(ctx);
    if (store_eval(request_store(ctx), spam ? spam_script : list_script, spam ? 4 : 7, spam ? spam_argv : list_argv, NULL,
                   on_listed, ctx) < 0)
        reply_store_error(ctx, "not connected");
out:
    free(site);
    free(status);
    free(limit_s);
    free(after);
}

/* ---- POST /v1/queue/claim ---------------------------------------------- */

static void on_claimed(void *arg, const redisReply *r, const char *error)
{
    struct request_ctx *ctx = arg;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        reply_store_error(ctx, error ? error : "unexpected reply");
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 4)
            continue;
        json_t *item = item_from_reply(e->element[3], ctx->role);
        char until[64];
        feed_format_time(e->element[2]->str, until, sizeof until);
        json_object_set_new(item, "lease_until", json_string(until));
        json_object_set_new(item, "deliveries", json_integer(atoi(e->element[1]->str)));
        json_array_append_new(items, item);
    }
    http_reply_json(ctx, 200, json_pack("{s:o, s:s}", "items", items, "claimed_by", moderator_name(ctx)));
}

/* Read the JSON object body; answers 400 and returns NULL when it is not one. */
static json_t *json_body(struct request_ctx *ctx)
{
    size_t len;
    const char *body = http_body(ctx, &len);
    json_error_t jerr;
    json_t *root = body ? json_loadb(body, len, 0, &jerr) : NULL;
    if (!root || !json_is_object(root)) {
        char msg[300];
        snprintf(msg, sizeof msg, "the body must be a JSON object%s%s", root ? "" : ": ", root ? "" : jerr.text);
        json_decref(root);
        http_reply_json(ctx, 400, json_pack("{s:s, s:s}", "error", "malformed_body", "message", msg));
        return NULL;
    }
    return root;
}

void queue_claim(struct request_ctx *ctx)
{
    json_t *root = json_body(ctx);
    if (!root)
        return;
    json_t *jsite = json_object_get(root, "site"), *jlimit = json_object_get(root, "limit");
    json_t *jlease = json_object_get(root, "lease_seconds");
    const char *site = json_is_string(jsite) ? json_string_value(jsite) : "default";
    json_int_t limit = json_is_integer(jlimit) ? json_integer_value(jlimit) : 10;
    json_int_t lease = json_is_integer(jlease) ? json_integer_value(jlease) : 300;
    if ((jsite && !json_is_string(jsite)) || !id_site_valid(site) || (jlimit && !json_is_integer(jlimit)) || limit < 1 ||
        limit > MAX_LIMIT || (jlease && !json_is_integer(jlease)) || lease < 1 || lease > 86400) {
        json_decref(root);
        http_reply_json(ctx, 422, json_pack("{s:s, s:s}", "error", "validation_failed", "message",
                                            "site must be [a-z0-9_-]{1,64}, limit 1..500, lease_seconds 1..86400"));
        return;
    }
    char review[600], leases[600], dead[600], prefix[600], slimit[32], slease[32], now[32], maxd[32];
    store_key(review, sizeof review, site, "review");
    store_key(leases, sizeof leases, site, "leases");
    store_key(dead, sizeof dead, site, "dead");
    store_key(prefix, sizeof prefix, site, "c:");
    snprintf(slimit, sizeof slimit, "%lld", (long long)limit);
    snprintf(slease, sizeof slease, "%lld", (long long)lease * 1000);
    snprintf(now, sizeof now, "%lld", id_clock_ms());
    snprintf(maxd, sizeof maxd, "%ld", runtime_config()->max_deliveries);
    const char *argv[] = { "3", review, leases, dead, moderator_name(ctx), slimit, slease, now, maxd, prefix };
    json_decref(root);
    http_begin_wait(ctx);
    if (store_eval(request_store(ctx), claim_script, 10, argv, NULL, on_claimed, ctx) < 0)
        reply_store_error(ctx, "not connected");
}

/* ---- POST /v1/queue/renew and /v1/queue/release ------------------------ */

/* The site and lease of a renew or release body; answers 422 naming the
 * field and returns -1 when one is wrong. */
static int held_params(struct request_ctx *ctx, json_t *root, const char **site, json_int_t *lease)
{
    json_t *jsite = json_object_get(root, "site"), *jlease = json_object_get(root, "lease_seconds");
    *site = json_is_string(jsite) ? json_string_value(jsite) : "default";
    *lease = json_is_integer(jlease) ? json_integer_value(jlease) : 300;
    const char *field = (jsite && !json_is_string(jsite)) || !id_site_valid(*site) ? "site"
                      : (jlease && !json_is_integer(jlease)) || *lease < 1 || *lease > 86400 ? "lease_seconds"
                      : NULL;
    if (!field)
        return 0;
    http_reply_json(ctx, 422, json_pack("{s:s, s:s, s:{s:s}}", "error", "validation_failed", "message",
                                        "site must be [a-z0-9_-]{1,64}, lease_seconds 1..86400", "fields", field,
                                        "invalid"));
    return -1;
}

/* The body of a renew or release, checked; NULL once answered (400/422). */
static json_t *held_request(struct request_ctx *ctx, const char **site, json_int_t *lease)
{
    json_t *root = json_body(ctx);
    if (root && held_params(ctx, root, site, lease) < 0) {
        json_decref(root);
        return NULL;
    }
    return root;
}

void queue_renew(struct request_ctx *ctx)
{
    const char *site;
    json_int_t lease;
    json_t *root = held_request(ctx, &site, &lease);
    if (!root)
        return;
    char review[600], leases[600], prefix[600], slease[32], now[32];
    store_key(review, sizeof review, site, "review");
    store_key(leases, sizeof leases, site, "leases");
    store_key(prefix, sizeof prefix, site, "c:");
    snprintf(slease, sizeof slease, "%lld", (long long)lease * 1000);
    snprintf(now, sizeof now, "%lld", id_clock_ms());
    const char *argv[] = { "2", review, leases, moderator_name(ctx), slease, now, prefix };
    json_decref(root);
    http_begin_wait(ctx);
    if (store_eval(request_store(ctx), renew_script, 7, argv, NULL, on_claimed, ctx) < 0)
        reply_store_error(ctx, "not connected");
}

static void on_released(void *arg, const redisReply *r, const char *error)
{
    struct request_ctx *ctx = arg;
    if (!r || r->type != REDIS_REPLY_INTEGER) {
        reply_store_error(ctx, error ? error : "unexpected reply");
        return;
    }
    http_reply_json(ctx, 200, json_pack("{s:I, s:s}", "released", (json_int_t)r->integer, "released_by",
                                        moderator_name(ctx)));
}

void queue_release(struct request_ctx *ctx)
{
    const char *site;
    json_int_t lease;
    json_t *root = held_request(ctx, &site, &lease);
    if (!root)
        return;
    char review[600], leases[600];
    store_key(review, sizeof review, site, "review");
    store_key(leases, sizeof leases, site, "leases");
    const char *argv[] = { "2", review, leases, moderator_name(ctx) };
    json_decref(root);
    http_begin_wait(ctx);
    if (store_eval(request_store(ctx), release_script, 4, argv, NULL, on_released, ctx) < 0)
        reply_store_error(ctx, "not connected");
}

/* ---- decisions ----------------------------------------------------------- */

/* KEYS: 1 item, 2 review, 3 decisions feed, 4 rule stats, 5 leases, 6 spam,
 * 7 the site's learned counts, 8 its learn log, 9 its authors' records.
 * ARGV: 1 id, 2 status, 3 reason, 4 decided_by, 5 now ms, 6 learned-model
 * key prefix, 7 number of models the decision teaches, then their
 * arguments (learner.h).
 * A moderator's decision stands: repeating it is "same", contradicting it
 * "conflict". An automatic one ("rules") may be overruled, and then counts
 * against the rules that hit the item. A moderator's decision also teaches
 * the site's learned models (teach) and counts on its author's record
 * (count_author): automatic ones never do. The third element of the answer
 * is 1 when the learn log got an entry. */
static const char decide_script[] =
    LEARNER_TEACH_LUA
    LEARNER_AUTHOR_LUA
    "local cur = redis.call('HMGET', KEYS[1], 'status', 'decided_by', 'entry', 'matches', 'learned', 'author_hash', 'author_as')\n"
    "if not cur[1] then return {'not_found'} end\n"
    "local status, by = ARGV[2], ARGV[4]\n"
    "if cur[2] and cur[2] ~= 'rules' then\n"
    "  if cur[1] == status then return {'same', cur[1]} end\n"
    "  return {'conflict', cur[1]}\n"
    "end\n"
    "local prev, auto = cur[1], cur[2] == 'rules'\n"
    "redis.call('HSET', KEYS[1], 'status', status, 'decided_by', by, 'decided_at', ARGV[5], 'reason', ARGV[3])\n"
    "redis.call('PERSIST', KEYS[1])\n"
    "if prev == 'spam' and status ~= 'spam' then redis.call('ZREM', KEYS[6], ARGV[1]) end\n"
    "if cur[3] then\n"
    "  pcall(redis.call, 'XACK', KEYS[2], 'moderators', cur[3])\n"
    "  redis.call('XDEL', KEYS[2], cur[3])\n"
    "  redis.call('HDEL', KEYS[5], cur[3])\n"
    "  redis.call('HDEL', KEYS[1], 'entry')\n"
    "end\n"
    "redis.call('XADD', KEYS[3], '*', 'id', ARGV[1], 'status', status, 'decided_by', by, 'decided_at', ARGV[5], 'reason', ARGV[3])\n"
    "local ok, matches = pcall(cjson.decode, cur[4] or '[]')\n"
    "if ok and type(matches) == 'table' then\n"
    "  for _, m in ipairs(matches) do\n"
    "    if type(m) == 'table' and m.rule then\n"
    "      redis.call('HINCRBY', KEYS[4], m.rule .. ':' .. status, 1)\n"
    "      if auto and prev ~= status then redis.call('HINCRBY', KEYS[4], m.rule .. ':overruled', 1) end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local logged = false\n"
    "if by ~= 'rules' then logged = teach(cur[5], status, count_author(cur[6], cur[7], status)) end\n"
    "return {'ok', status, logged and 1 or 0}\n";

/* One decision on its way: read the comment (when the rules learn per
 * site), then the decision script. */
struct decide_call {
    queue_decided_fn cb;
    void *arg;
    struct store *st;
    struct ruleset *rules;      /* retained while the comment is read: what it teaches */
    char site[65], id[64], status[16], decided_by[128];
    char *reason;
};

static void decide_call_free(struct decide_call *call)
{
    ruleset_release(call->rules);
    free(call->reason);
    free(call);
}

static void on_site_noted(void *arg, const redisReply *r, const char *error)
{
    (void)arg;
    (void)r;
    if (error)
        log_warn("learning: could not list the site for the other daemons: %s", error);
}

/* Tell every daemon (learner.c) this site has learned counts to follow. */
static void note_learning_site(struct store *st, const char *site)
{
    const char *argv[] = { "SADD", LEARNER_SITES_KEY, site };
    store_command(st, 3, argv, NULL, on_site_noted, NULL);
}

static void on_decide_reply(void *arg, const redisReply *r, const char *error)
{
    struct decide_call *call = arg;
    enum decide_outcome outcome = DECIDE_FAILED;
    const char *current = NULL;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements >= 1 && r->element[0]->type == REDIS_REPLY_STRING) {
        const char *tag = r->element[0]->str;
        current = r->elements >= 2 ? r->element[1]->str : NULL;
        outcome = strcmp(tag, "ok") == 0 ? DECIDE_OK : strcmp(tag, "same") == 0 ? DECIDE_SAME
                : strcmp(tag, "conflict") == 0 ? DECIDE_CONFLICT : strcmp(tag, "not_found") == 0 ? DECIDE_NOT_FOUND
                : DECIDE_FAILED;
    } else if (error) {
        log_error("decision not recorded: %s", error);
    }
    if (outcome == DECIDE_OK && current) {
        metrics_decision(current);
        webhook_note_site(call->site);
        if (r->elements >= 3 && r->element[2]->type == REDIS_REPLY_INTEGER && r->element[2]->integer == 1)
            note_learning_site(call->st, call->site);
    }
    call->cb(call->arg, outcome, current);
    decide_call_free(call);
}

/* Run the decision script, teaching with t (NULL: nothing to learn). */
static int send_decision(struct decide_call *call, const struct learner_teach *t)
{
    char item[600], review[600], feed[600], stats[600], leases[600], spam[600], learned[600], learnlog[600];
    char authors[600], prefix[600], now[32], nmodels[16];
    snprintf(item, sizeof item, "raqib:{%s}:c:%s", call->site, call->id);
    store_key(review, sizeof review, call->site, "review");
    store_key(feed, sizeof feed, call->site, "decisions");
    store_key(stats, sizeof stats, call->site, "rulestats");
    store_key(leases, sizeof leases, call->site, "leases");
    store_key(spam, sizeof spam, call->site, "spam");
    store_key(learned, sizeof learned, call->site, "learned");
    store_key(learnlog, sizeof learnlog, call->site, "learnlog");
    store_key(authors, sizeof authors, call->site, "authors");
    store_key(prefix, sizeof prefix, call->site, "learned:");
    snprintf(now, sizeof now, "%lld", id_clock_ms());
    int extra = t ? t->argc : 0;
    snprintf(nmodels, sizeof nmodels, "%d", extra / 5);
    const char *fixed[] = { "9", item, review, feed, stats, leases, spam, learned, learnlog, authors, call->id, call->status,
                            call->reason, call->decided_by, now, prefix, nmodels };
    enum { NFIXED = sizeof fixed / sizeof fixed[0] };
    const char *argv[NFIXED + 5 * 8];
    size_t lens[NFIXED + 5 * 8];
    if (extra > 5 * 8)
        return -1;
    for (int i = 0; i < NFIXED; i++)
        argv[i] = fixed[i], lens[i] = strlen(fixed[i]);
    for (int i = 0; i < extra; i++)
        argv[NFIXED + i] = t->argv[i], lens[NFIXED + i] = t->lens[i];
    return store_eval(call->st, decide_script, NFIXED + extra, argv, lens, on_decide_reply, call);
}

/* The comment's content (HGET), to learn from it, then the decision. */
static void on_content(void *arg, const redisReply *r, const char *error)
{
    struct decide_call *call = arg;
    struct learner_teach t = { 0 };
    int built = -1;
    if (r && r->type == REDIS_REPLY_STRING)
        built = learner_teach_build(call->rules, r->str, r->len, &t);
    else if (r && r->type == REDIS_REPLY_NIL)
        built = 0;              /* no such comment: the script says not_found */
    if (!r)
        log_error("decision not recorded: reading the comment failed: %s", error ? error : "no answer");
    else if (built < 0)
        log_error("decision on %s/%s: out of memory preparing what it teaches", call->site, call->id);
    if (!r || built < 0 || send_decision(call, &t) < 0) {
        call->cb(call->arg, DECIDE_FAILED, NULL);
        decide_call_free(call);
    }
    learner_teach_free(&t);
}

int queue_record_decision(struct store *st, const char *site, const char *id, const char *status,
                          const char *reason, const char *decided_by, queue_decided_fn cb, void *arg)
{
    struct decide_call *call = calloc(1, sizeof *call);
    if (!call || strlen(site) >= sizeof call->site || strlen(id) >= sizeof call->id ||
        strlen(status) >= sizeof call->status || !(call->reason = strdup(reason ? reason : ""))) {
        free(call);
        return -1;
    }
    call->cb = cb, call->arg = arg, call->st = st;
    snprintf(call->site, sizeof call->site, "%s", site);
    snprintf(call->id, sizeof call->id, "%s", id);
    snprintf(call->status, sizeof call->status, "%s", status);
    snprintf(call->decided_by, sizeof call->decided_by, "%s", decided_by);
    struct live_model_ref refs[1];
    call->rules = strcmp(decided_by, "rules") != 0 ? runtime_rules_acquire() : NULL;
    int rc;
    if (call->rules && ruleset_live_models(call->rules, refs, 1) > 0) {
        char item[600];
        snprintf(item, sizeof item, "raqib:{%s}:c:%s", site, id);
        const char *argv[] = { "HGET", item, "content" };
        rc = store_command(st, 3, argv, NULL, on_content, call);
    } else {
        rc = send_decision(call, NULL);
    }
    if (rc < 0)
        decide_call_free(call);
    return rc;
}

/* Check one decision's fields; returns a sentence when something is wrong. */
static const char *decision_problem(const char *id, const char *status, const char *reason)
{
    if (!id || !id_valid(id))
        return "id is not a comment id";
    if (!status_ok(status))
        return "status must be approved, rejected or spam";
    if (reason && strlen(reason) > MAX_REASON)
        return "reason is longer than 1000 bytes";
    return NULL;
}

struct single {
    struct request_ctx *ctx;
    char id[ID_LEN + 1];
};

static void on_single_decided(void *arg, enum decide_outcome outcome, const char *current)
{
    struct single *one = arg;
    struct request_ctx *ctx = one->ctx;
    switch (outcome) {
    case DECIDE_OK:
    case DECIDE_SAME:
        http_reply_json(ctx, 200, json_pack("{s:s, s:s, s:s, s:b}", "id", one->id, "status", current, "decided_by",
                                            moderator_name(ctx), "repeated", outcome == DECIDE_SAME));
        break;
    case DECIDE_CONFLICT:
        http_reply_json(ctx, 409, json_pack("{s:s, s:s, s:s}", "error", "already_decided", "message",
                                            "a moderator already decided this comment otherwise", "status", current));
        break;
    case DECIDE_NOT_FOUND:
        http_reply_error(ctx, 404, "not_found", "no comment with this id on this site");
        break;
    case DECIDE_FAILED:
        reply_store_error(ctx, "decision script failed");
        break;
    }
    free(one);
}

void queue_decide(struct request_ctx *ctx)
{
    json_t *root = json_body(ctx);
    if (!root)
        return;
    char *qsite = http_query(ctx, "site");
    json_t *jsite = json_object_get(root, "site");
    const char *site = json_is_string(jsite) ? json_string_value(jsite) : qsite && *qsite ? qsite : "default";
    const char *status = json_string_value(json_object_get(root, "status"));
    json_t *jreason = json_object_get(root, "reason");
    const char *reason = json_is_string(jreason) ? json_string_value(jreason) : "";
    const char *problem = decision_problem(ctx->param, status, reason);
    if (!problem && !id_site_valid(site))
        problem = "site must be [a-z0-9_-]{1,64}";
    if (!problem && jreason && !json_is_string(jreason) && !json_is_null(jreason))
        problem = "reason must be a string";
    struct single *one = problem ? NULL : malloc(sizeof *one);
    if (problem || !one) {
        http_reply_json(ctx, problem && strstr(problem, "comment id") ? 404 : 422,
                        json_pack("{s:s, s:s}", "error", problem && strstr(problem, "comment id") ? "not_found"
                                  : "validation_failed", "message", problem ? problem : "out of memory"));
    } else {
        one->ctx = ctx;
        memcpy(one->id, ctx->param, ID_LEN + 1);
        memcpy(ctx->id, ctx->param, ID_LEN + 1);
        http_begin_wait(ctx);
        if (queue_record_decision(request_store(ctx), site, one->id, status, reason, moderator_name(ctx),
                                  on_single_decided, one) < 0) {
            free(one);
            reply_store_error(ctx, "not connected");
        }
    }
    json_decref(root);
    free(qsite);
}

/* A wave: every decision runs on its own; the answer waits for all. */
struct wave {
    struct request_ctx *ctx;
    json_t *results;     /* one slot per input, filled as answers come */
    size_t outstanding;
};

struct wave_item {
    struct wave *wave;
    size_t index;
    char id[ID_LEN + 1];
};

static void wave_done_one(struct wave *w)
{
    if (--w->outstanding > 0)
        return;
    http_reply_json(w->ctx, 200, json_pack("{s:o}", "results", w->results));
    free(w);
}

static void wave_set(struct wave *w, size_t index, const char *id, const char *error, const char *current)
{
    json_t *r = error ? json_pack("{s:s, s:b, s:s}", "id", id, "ok", 0, "error", error)
                      : json_pack("{s:s, s:b}", "id", id, "ok", 1);
    if (current)
        json_object_set_new(r, "status", json_string(current));
    json_array_set_new(w->results, index, r);
}

static void on_wave_decided(void *arg, enum decide_outcome outcome, const char *current)
{
    struct wave_item *it = arg;
    static const char *const errors[] = { NULL, NULL, "already_decided", "not_found", "unavailable" };
    wave_set(it->wave, it->index, it->id, errors[outcome], current);
    wave_done_one(it->wave);
    free(it);
}

void queue_decide_many(struct request_ctx *ctx)
{
    json_t *root = json_body(ctx);
    if (!root)
        return;
    json_t *list = json_object_get(root, "decisions");
    json_t *jsite = json_object_get(root, "site");
    const char *site = json_is_string(jsite) ? json_string_value(jsite) : "default";
    size_t n = json_array_size(list);
    if (!json_is_array(list) || n == 0 || n > MAX_WAVE || !id_site_valid(site)) {
        json_decref(root);
        http_reply_json(ctx, 422, json_pack("{s:s, s:s}", "error", "validation_failed", "message",
                                            "decisions must be a list of 1 to 1000 {id, status, reason}; site [a-z0-9_-]{1,64}"));
        return;
    }
    struct wave *w = malloc(sizeof *w);
    if (!w) {
        json_decref(root);
        http_reply_error(ctx, 500, "internal", "out of memory");
        return;
    }
    *w = (struct wave){ ctx, json_array(), n + 1 };   /* +1: held until every call is sent */
    for (size_t i = 0; i < n; i++)
        json_array_append_new(w->results, json_null());
    http_begin_wait(ctx);
    for (size_t i = 0; i < n; i++) {
        json_t *d = json_array_get(list, i);
        const char *id = json_string_value(json_object_get(d, "id"));
        const char *status = json_string_value(json_object_get(d, "status"));
        json_t *jreason = json_object_get(d, "reason");
        const char *reason = json_is_string(jreason) ? json_string_value(jreason) : "";
        const char *problem = json_is_object(d) ? decision_problem(id, status, reason) : "not an object";
        struct wave_item *it = problem ? NULL : malloc(sizeof *it);
        if (!problem && it) {
            *it = (struct wave_item){ w, i, "" };
            memcpy(it->id, id, ID_LEN + 1);
            if (queue_record_decision(request_store(ctx), site, id, status, reason, moderator_name(ctx),
                                      on_wave_decided, it) == 0)
                continue;
            free(it);
            problem = "unavailable";
        }
        wave_set(w, i, id ? id : "", problem ? problem : "out of memory", NULL);
        w->outstanding--;
    }
    json_decref(root);
    wave_done_one(w);
}

/* ---- GET /v1/decisions --------------------------------------------------- */

static void on_feed(void *arg, const redisReply *r, const char *error)
{
    struct request_ctx *ctx = arg;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        reply_store_error(ctx, error ? error : "unexpected reply");
        return;
    }
    json_t *list = json_array();
    const char *last = NULL;
    for (size_t i = 0; i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[1]->type != REDIS_REPLY_ARRAY)
            continue;
        json_t *d = json_object();
        feed_fields_json(d, e->element[1]);
        json_object_set_new(d, "cursor", json_string(e->element[0]->str));
        json_array_append_new(list, d);
        last = e->element[0]->str;
    }
    char *after = http_query(ctx, "after");
    json_t *body = json_pack("{s:o, s:s}", "decisions", list, "next", last ? last : after && *after ? after : "0-0");
    free(after);
    http_reply_json(ctx, 200, body);
}

/* A feed cursor: a stream id as 'next' gives it. */
static int cursor_ok(const char *c)
{
    return c && *c && strlen(c) <= 40 && strspn(c, "0123456789-") == strlen(c);
}

/* GET /v1/decisions: the feed in the order made, from after; or, with
 * order=newest, the latest first (before=CURSOR pages further back), which
 * is what the console's history shows. */
void feed_list(struct request_ctx *ctx)
{
    char *site = http_query(ctx, "site"), *after = http_query(ctx, "after"), *limit_s = http_query(ctx, "limit");
    char *order = http_query(ctx, "order"), *before = http_query(ctx, "before");
    const char *s = site && *site ? site : "default";
    long limit = parse_limit(limit_s, 100);
    int newest = order && strcmp(order, "newest") == 0;
    char stream[600], start[80], count[32];
    if (!id_site_valid(s) || limit < 0 || (after && !cursor_ok(after)) || (before && !cursor_ok(before)) ||
        (order && !newest && strcmp(order, "oldest") != 0)) {
        http_reply_json(ctx, 400, json_pack("{s:s, s:s}", "error", "bad_request", "message",
                                            "site must be [a-z0-9_-]{1,64}, limit 1..500, after and before cursors "
                                            "from 'next', order oldest or newest"));
        goto out;
    }
    store_key(stream, sizeof stream, s, "decisions");
    if (newest)
        snprintf(start, sizeof start, "%s%s", before ? "(" : "+", before ? before : "");
    else
        snprintf(start, sizeof start, "(%s", after ? after : "0-0");
    snprintf(count, sizeof count, "%ld", limit);
    const char *argv[] = { newest ? "XREVRANGE" : "XRANGE", stream, start, newest ? "-" : "+", "COUNT", count };
    http_begin_wait(ctx);
    if (store_command(request_store(ctx), 6, argv, NULL, on_feed, ctx) < 0)
        reply_store_error(ctx, "not connected");
out:
    free(site);
    free(after);
    free(limit_s);
    free(order);
    free(before);
}
