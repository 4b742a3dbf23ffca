/* authors.c — moderators act on a commenter (authors.h): trust, block,
 * clear, list, erase.
 *
 * Everything names the commenter by a comment of theirs or by the keyed
 * hash the listing shows, so no moderator types or sees an e-mail here.
 * Each action is one Lua call: the record and the marks list change and a
 * learn log entry tells every daemon (learner.c applies it to memory). */
#include "raqib/authors.h"

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
#include "raqib/reputation.h"
#include "raqib/runtime.h"
#include "raqib/store.h"

#define MAX_REASON 1000
#define MAX_LISTED 1000

/* Read the record of author a: {a, {approved, rejected, spam, t, m}, mark JSON}. */
#define RECORD_LUA \
    "local function rec(x)\n" \
    "  return {x, redis.call('HMGET', KEYS[2], x .. ':approved', x .. ':rejected', x .. ':spam', x .. ':t', x .. ':m'),\n" \
    "          redis.call('HGET', KEYS[3], x) or ''}\n" \
    "end\n" \
    "local function author_of(item)\n" \
    "  if redis.call('EXISTS', item) == 0 then return nil, 'not_found' end\n" \
    "  local a = redis.call('HGET', item, 'author_hash')\n" \
    "  if not a then return nil, 'no_author' end\n" \
    "  return a\n" \
    "end\n"

/* KEYS: 1 item (by comment), 2 authors, 3 marks, 4 learned, 5 learn log.
 * ARGV: 1 author hash ('' = the item's), 2 mark (trusted, blocked, none,
 * erased), 3 now ms, 4 moderator, 5 comment id, 6 reason, 7 max listed. */
static const char act_script[] =
    RECORD_LUA
    "local a, why = ARGV[1], nil\n"
    "if a == '' then a, why = author_of(KEYS[1]) end\n"
    "if not a then return {why} end\n"
    "local mark = ARGV[2]\n"
    "if mark == 'erased' then\n"
    "  redis.call('HDEL', KEYS[2], a .. ':approved', a .. ':rejected', a .. ':spam', a .. ':t', a .. ':m')\n"
    "  redis.call('HDEL', KEYS[3], a)\n"
    "  if ARGV[1] == '' then redis.call('HDEL', KEYS[1], 'author_hash', 'author_as') end\n"
    "elseif mark == 'none' then\n"
    "  redis.call('HDEL', KEYS[2], a .. ':m')\n"
    "  redis.call('HDEL', KEYS[3], a)\n"
    "else\n"
    "  if redis.call('HLEN', KEYS[3]) >= tonumber(ARGV[7]) and redis.call('HEXISTS', KEYS[3], a) == 0 then return {'full'} end\n"
    "  local name = ARGV[1] == '' and redis.call('HGET', KEYS[1], 'author') or ''\n"
    "  redis.call('HSET', KEYS[2], a .. ':m', mark)\n"
    "  redis.call('HSET', KEYS[3], a, cjson.encode({mark = mark, by = ARGV[4], at = tonumber(ARGV[3]),\n"
    "    comment_id = ARGV[5], name = name, reason = ARGV[6]}))\n"
    "end\n"
    "local seq = redis.call('HINCRBY', KEYS[4], 'seq', 1)\n"
    "redis.call('XADD', KEYS[5], 'MAXLEN', '~', 1000, '*', 'seq', seq, 'at', ARGV[3], 'id', ARGV[5], 'mark', a .. ' ' .. mark)\n"
    "return {'ok', rec(a)}\n";

/* KEYS: 1 item (by comment), 2 authors, 3 marks. ARGV: 1 author hash, 2
 * '1' to read the item's author, 3 max listed. One record, or every
 * marked author's. */
static const char list_script[] =
    RECORD_LUA
    "local a, why = ARGV[1], nil\n"
    "if ARGV[2] == '1' then a, why = author_of(KEYS[1]) end\n"
    "if not a then return {why} end\n"
    "if a ~= '' then return {'ok', rec(a)} end\n"
    "local out = {'ok'}\n"
    "for i, x in ipairs(redis.call('HKEYS', KEYS[3])) do\n"
    "  if i > tonumber(ARGV[3]) then break end\n"
    "  out[#out + 1] = rec(x)\n"
    "end\n"
    "return out\n";

static void reply_invalid(struct request_ctx *ctx, const char *field, const char *message)
{
    http_reply_json(ctx, 422, json_pack("{s:s, s:s, s:{s:s}}", "error", "validation_failed", "message", message,
                                        "fields", field, "invalid"));
}

static void reply_store_error(struct request_ctx *ctx, const char *error)
{
    log_error("%s: store failed: %s", ctx->route, error ? error : "unknown");
    http_add_header(ctx, "Retry-After", "1");
    http_reply_json(ctx, 503, json_pack("{s:s, s:s, s:i}", "error", "unavailable", "message",
                                        "the store did not answer; retry shortly", "retry_after", 1));
}

static json_t *count_json(const redisReply *v)
{
    return json_integer(v && v->type == REDIS_REPLY_STRING ? atoll(v->str) : 0);
}

/* {a, {approved, rejected, spam, t, m}, mark JSON} as the API shows an author. */
static json_t *record_json(const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_ARRAY || r->element[1]->elements != 5)
        return NULL;
    const redisReply *const *f = (const redisReply *const *)r->element[1]->element;
    json_t *o = json_pack("{s:s, s:o, s:o, s:o}", "author", r->element[0]->str, "approved", count_json(f[0]),
                          "rejected", count_json(f[1]), "spam", count_json(f[2]));
    char when[64];
    if (f[3]->type == REDIS_REPLY_STRING)
        feed_format_time(f[3]->str, when, sizeof when);
    json_object_set_new(o, "last_decided_at", f[3]->type == REDIS_REPLY_STRING ? json_string(when) : json_null());
    json_object_set_new(o, "mark", f[4]->type == REDIS_REPLY_STRING ? json_string(f[4]->str) : json_null());
    json_t *m = r->element[2]->type == REDIS_REPLY_STRING && r->element[2]->len
                    ? json_loadb(r->element[2]->str, r->element[2]->len, 0, NULL) : NULL;
    if (m && json_is_object(m)) {
        json_t *at = json_object_get(m, "at");
        char ms[32];
        snprintf(ms, sizeof ms, "%lld", (long long)json_number_value(at));
        feed_format_time(ms, when, sizeof when);
        json_object_set_new(m, "at", json_string(when));
        json_object_set_new(o, "marked", m);
    } else {
        json_decref(m);
    }
    return o;
}

/* Answer a script's {why} refusals; 1 when it did. */
static int reply_refusal(struct request_ctx *ctx, const redisReply *r)
{
    const char *tag = r->element[0]->type == REDIS_REPLY_STRING ? r->element[0]->str : "";
    if (!strcmp(tag, "not_found"))
        http_reply_error(ctx, 404, "not_found", "no comment with this comment_id on this site");
    else if (!strcmp(tag, "no_author"))
        http_reply_json(ctx, 422, json_pack("{s:s, s:s, s:{s:s}}", "error", "no_author", "message",
                                            "this comment carries no author hash (no e-mail, reputation off when it "
                                            "came, or the author was erased)", "fields", "comment_id", "no_author"));
    else if (!strcmp(tag, "full"))
        http_reply_json(ctx, 409, json_pack("{s:s, s:s}", "error", "too_many_marks", "message",
                                            "this site already marks the most authors allowed; clear some first"));
    else
        return 0;
    return 1;
}

/* Who is meant: a comment (comment_id) or a hash from the listing (author).
 * Fills item (the item's key, or a placeholder in the site's slot) and hex
 * ("" when by comment). -1 after answering 422 naming the field. */
static int pick_author(struct request_ctx *ctx, const char *site, const char *comment_id, const char *author,
                       char *item, size_t itemlen, char hex[17])
{
    uint64_t a;
    hex[0] = '\0';
    if (!id_site_valid(site)) {
        reply_invalid(ctx, "site", "site must be [a-z0-9_-]{1,64}");
        return -1;
    }
    if ((comment_id != NULL) == (author != NULL)) {
        reply_invalid(ctx, comment_id ? "author" : "comment_id",
                      "name the commenter by one of their comments (comment_id) or by the author hash a listing "
                      "shows (author), not both");
        return -1;
    }
    if (comment_id && !id_valid(comment_id)) {
        reply_invalid(ctx, "comment_id", "comment_id is not a comment id");
        return -1;
    }
    if (author && reputation_parse_hex(author, &a) < 0) {
        reply_invalid(ctx, "author", "author must be the 16 hex digits a listing shows");
        return -1;
    }
    if (author)
        snprintf(hex, 17, "%s", author);
    snprintf(item, itemlen, "raqib:{%s}:c:%s", site, comment_id ? comment_id : "-");
    return 0;
}

/* One call in flight: the request, its site (to list it for the learner)
 * and, for a listing, whether one record was asked for. */
struct author_call {
    struct request_ctx *ctx;
    char site[65];
    int one;
};

static void on_site_noted(void *arg, const redisReply *r, const char *error)
{
    (void)arg;
    (void)r;
    if (error)
        log_warn("reputation: could not list the site for the other daemons: %s", error);
}

static void on_acted(void *arg, const redisReply *r, const char *error)
{
    struct author_call *call = arg;
    struct request_ctx *ctx = call->ctx;
    json_t *rec = NULL;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
        reply_store_error(ctx, error ? error : "unexpected reply");
    } else if (!reply_refusal(ctx, r)) {
        if (r->elements == 2 && (rec = record_json(r->element[1]))) {
            const char *argv[] = { "SADD", LEARNER_SITES_KEY, call->site };
            store_command(request_store(ctx), 3, argv, NULL, on_site_noted, NULL);
            http_reply_json(ctx, 200, rec);
        } else {
            reply_store_error(ctx, "unexpected reply");
        }
    }
    free(call);
}

/* Run act_script for mark on the commenter named; answers. */
static void act(struct request_ctx *ctx, const char *site, const char *comment_id, const char *author,
                const char *mark, const char *reason)
{
    char item[600], authors[600], marks[600], learned[600], learnlog[600], hex[17], now[32], max[16];
    struct author_call *call;
    if (pick_author(ctx, site, comment_id, author, item, sizeof item, hex) < 0)
        return;
    if (!(call = malloc(sizeof *call))) {
        http_reply_error(ctx, 500, "internal", "out of memory");
        return;
    }
    *call = (struct author_call){ .ctx = ctx };
    snprintf(call->site, sizeof call->site, "%s", site);
    store_key(authors, sizeof authors, site, "authors");
    store_key(marks, sizeof marks, site, "authormarks");
    store_key(learned, sizeof learned, site, "learned");
    store_key(learnlog, sizeof learnlog, site, "learnlog");
    snprintf(now, sizeof now, "%lld", id_clock_ms());
    snprintf(max, sizeof max, "%d", MAX_LISTED);
    const char *argv[] = { "5", item, authors, marks, learned, learnlog, hex, mark, now,
                           ctx->token ? ctx->token->name : "dev", comment_id ? comment_id : "", reason, max };
    http_begin_wait(ctx);
    if (store_eval(request_store(ctx), act_script, 13, argv, NULL, on_acted, call) < 0) {
        free(call);
        reply_store_error(ctx, "not connected");
    }
}

static json_t *json_body(struct request_ctx *ctx)
{
    size_t len;
    const char *body = http_body(ctx, &len);
    json_t *root = body ? json_loadb(body, len, 0, NULL) : NULL;
    if (!root || !json_is_object(root)) {
        json_decref(root);
        http_reply_json(ctx, 400, json_pack("{s:s, s:s}", "error", "malformed_body", "message",
                                            "the body must be a JSON object"));
        return NULL;
    }
    return root;
}

/* An optional string member; -1 (after answering 422) when present and not a string. */
static int opt_string(struct request_ctx *ctx, json_t *root, const char *name, const char **out)
{
    json_t *v = json_object_get(root, name);
    *out = json_is_string(v) ? json_string_value(v) : NULL;
    if (!v || json_is_null(v) || json_is_string(v))
        return 0;
    char msg[80];
    snprintf(msg, sizeof msg, "%s must be a string", name);
    reply_invalid(ctx, name, msg);
    return -1;
}

void authors_decide(struct request_ctx *ctx)
{
    json_t *root = json_body(ctx);
    const char *site, *comment_id, *author, *action, *reason;
    if (!root)
        return;
    if (opt_string(ctx, root, "site", &site) == 0 && opt_string(ctx, root, "comment_id", &comment_id) == 0 &&
        opt_string(ctx, root, "author", &author) == 0 && opt_string(ctx, root, "action", &action) == 0 &&
        opt_string(ctx, root, "reason", &reason) == 0) {
        const char *mark = !action ? NULL : !strcmp(action, "trust") ? "trusted" : !strcmp(action, "block") ? "blocked"
                         : !strcmp(action, "clear") ? "none" : NULL;
        if (!mark)
            reply_invalid(ctx, "action", "action must be trust, block or clear");
        else if (reason && strlen(reason) > MAX_REASON)
            reply_invalid(ctx, "reason", "reason is longer than 1000 bytes");
        else
            act(ctx, site ? site : "default", comment_id, author, mark, reason ? reason : "");
    }
    json_decref(root);
}

void authors_erase(struct request_ctx *ctx)
{
    char *site = http_query(ctx, "site"), *comment_id = http_query(ctx, "comment_id");
    char *author = http_query(ctx, "author");
    act(ctx, site && *site ? site : "default", comment_id, author, "erased", "");
    free(site);
    free(comment_id);
    free(author);
}

static void on_listed(void *arg, const redisReply *r, const char *error)
{
    struct author_call *call = arg;
    struct request_ctx *ctx = call->ctx;
    int one = call->one;
    free(call);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 1) {
        reply_store_error(ctx, error ? error : "unexpected reply");
        return;
    }
    if (reply_refusal(ctx, r))
        return;
    if (one) {
        json_t *rec = r->elements == 2 ? record_json(r->element[1]) : NULL;
        if (rec)
            http_reply_json(ctx, 200, rec);
        else
            reply_store_error(ctx, "unexpected reply");
        return;
    }
    json_t *list = json_array();
    for (size_t i = 1; i < r->elements; i++) {
        json_t *rec = record_json(r->element[i]);
        if (rec)
            json_array_append_new(list, rec);
    }
    http_reply_json(ctx, 200, json_pack("{s:o}", "authors", list));
}

/* GET /v1/authors?site=S: every trusted or blocked author; with
 * comment_id= or author=, that one author's record. */
void authors_list(struct request_ctx *ctx)
{
    char *site = http_query(ctx, "site"), *comment_id = http_query(ctx, "comment_id");
    char *author = http_query(ctx, "author");
    const char *s = site && *site ? site : "default";
    char item[600], authors[600], marks[600], hex[17], max[16];
    int one = comment_id || author;
    struct author_call *call = NULL;
    if (!one && !id_site_valid(s))
        reply_invalid(ctx, "site", "site must be [a-z0-9_-]{1,64}");
    else if (one && pick_author(ctx, s, comment_id, author, item, sizeof item, hex) < 0)
        ;
    else if (!(call = malloc(sizeof *call)))
        http_reply_error(ctx, 500, "internal", "out of memory");
    else {
        if (!one)
            snprintf(item, sizeof item, "raqib:{%s}:c:-", s), hex[0] = '\0';
        *call = (struct author_call){ .ctx = ctx, .one = one };
        snprintf(call->site, sizeof call->site, "%s", s);
        store_key(authors, sizeof authors, s, "authors");
        store_key(marks, sizeof marks, s, "authormarks");
        snprintf(max, sizeof max, "%d", MAX_LISTED);
        const char *argv[] = { "3", item, authors, marks, hex, comment_id ? "1" : "0", max };
        http_begin_wait(ctx);
        if (store_eval(request_store(ctx), list_script, 7, argv, NULL, on_listed, call) < 0) {
            free(call);
            reply_store_error(ctx, "not connected");
        }
    }
    free(site);
    free(comment_id);
    free(author);
}

json_t *authors_item_record(const char *site, const char *author_hex)
{
    uint64_t a;
    struct author_counts c;
    if (!site || !author_hex || !runtime_reputation() || reputation_parse_hex(author_hex, &a) < 0)
        return NULL;
    reputation_get(runtime_reputation(), site, a, &c);
    return json_pack("{s:s, s:I, s:I, s:I, s:s?}", "author", author_hex, "approved", (json_int_t)c.approved,
                     "rejected", (json_int_t)c.rejected, "spam", (json_int_t)c.spam, "mark",
                     c.mark == AUTHOR_TRUSTED ? "trusted" : c.mark == AUTHOR_BLOCKED ? "blocked" : NULL);
}
