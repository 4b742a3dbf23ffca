/* rules_api.c — GET /v1/rules and POST /v1/rules/reload (admin).
 *
 * Reload builds a new ruleset aside with ruleset_load (the same call SIGHUP
 * makes in server.c) and swaps it in with runtime_rules_swap only when the
 * whole folder loaded; requests already scoring keep the set they retained.
 * A file that does not parse or compile is refused whole: 422 with the
 * "file:line: what is wrong" message, and the running rules stay.
 *
 * The load runs on the worker thread that received the request, so that
 * worker's other connections wait while the rule files are read and every
 * pattern is compiled and JIT-compiled (tens of milliseconds for the shipped
 * set). Reloads are rare operator actions, so this is accepted rather than
 * handed to a thread of its own. Two reloads at once are serialized.
 *
 * The listing shows each rule of the live set with its hit count since start
 * (metrics.c, by name, so counts survive reloads) and how moderators decided
 * the items it hit, read from the hash raqib:{S}:rulestats that the decision
 * script in queue.c keeps: fields RULE:approved, RULE:rejected, RULE:spam and
 * RULE:overruled. */
#include "raqib/rules_api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>
#include <jansson.h>

#include "raqib/feed.h"
#include "raqib/fleet.h"
#include "raqib/http.h"
#include "raqib/id.h"
#include "raqib/learn.h"
#include "raqib/live.h"
#include "raqib/log.h"
#include "raqib/metrics.h"
#include "raqib/reputation.h"
#include "raqib/rules.h"
#include "raqib/runtime.h"
#include "raqib/store.h"

static pthread_mutex_t reload_lock = PTHREAD_MUTEX_INITIALIZER;

/* Split a ruleset_load error "file:line: message" into file and line.
 * Returns 1 when err has that shape, else 0 (e.g. "dir: cannot open"). */
static int error_location(const char *err, char *file, size_t filelen, long *line)
{
    for (const char *p = strchr(err, ':'); p; p = strchr(p + 1, ':')) {
        size_t digits = strspn(p + 1, "0123456789");
        if (digits == 0 || p[1 + digits] != ':')
            continue;
        size_t n = (size_t)(p - err);
        if (n == 0 || n >= filelen)
            return 0;
        memcpy(file, err, n);
        file[n] = '\0';
        *line = strtol(p + 1, NULL, 10);
        return 1;
    }
    return 0;
}

void rules_api_reload(struct request_ctx *ctx)
{
    const char *path = runtime_config()->rules;
    char err[1024];
    pthread_mutex_lock(&reload_lock);
    struct ruleset *rs = ruleset_load(path, err, sizeof err);
    if (!rs) {
        pthread_mutex_unlock(&reload_lock);
        log_error("rule reload refused, the running rules stay: %s", err);
        char file[512];
        long line = 0;
        json_t *body = json_pack("{s:s, s:s}", "error", "rules_invalid", "message", err);
        if (body && error_location(err, file, sizeof file, &line)) {
            json_object_set_new(body, "file", json_string(file));
            json_object_set_new(body, "line", json_integer(line));
        } else if (body) {
            json_object_set_new(body, "file", json_string(path));
            json_object_set_new(body, "line", json_null());
        }
        http_reply_json(ctx, 422, body);
        return;
    }
    size_t n = ruleset_size(rs);
    runtime_rules_swap(rs);
    pthread_mutex_unlock(&reload_lock);
    fleet_announce();   /* the other daemons of the service follow */
    log_info("rules reloaded from %s: %zu rules", path, n);
    http_reply_json(ctx, 200, json_pack("{s:s, s:I, s:s}", "status", "reloaded", "rules", (json_int_t)n,
                                        "path", path));
}

/* --- GET /v1/rules ------------------------------------------------------- */

struct listing {
    struct request_ctx *ctx;
    json_t *body;      /* the answer being built */
    json_t *rules;     /* borrowed from body: the array of rule objects */
};

/* The service-wide rules version and whether this daemon followed the last
 * reload another daemon announced (a broken set here is refused, and said). */
static json_t *fleet_json(void)
{
    struct fleet_status fs;
    fleet_status(&fs);
    json_t *o = json_pack("{s:s, s:I}", "instance", fleet_instance_id(), "rules_version", (json_int_t)fs.version);
    if (o && fs.reloaded)
        json_object_set_new(o, "last_follow", fs.ok ? json_pack("{s:s}", "status", "reloaded")
                                                    : json_pack("{s:s, s:s}", "status", "refused", "error", fs.error));
    return o;
}

static json_t *number(double v)
{
    return v == (double)(long long)v ? json_integer((json_int_t)v) : json_real(v);
}

/* One rule's entry, with its live hit count; the moderators' figures are
 * filled in (zero until the store answers). */
static json_t *rule_json(const struct rule_info *info)
{
    json_t *o = json_pack("{s:s, s:s, s:i, s:o, s:s, s:s, s:s, s:s, s:I}", "name", info->name, "file", info->file,
                          "line", info->line, "score", number(info->score), "description", info->description,
                          "kind", info->kind, "field", info->field, "view", info->view, "hits",
                          (json_int_t)metrics_rule_hit_count(info->name));
    if (o)
        json_object_set_new(o, "decisions", json_pack("{s:i, s:i, s:i, s:i}", "approved", 0, "rejected", 0,
                                                      "spam", 0, "overruled", 0));
    if (o && info->approve)   /* vouches for a comment no positive rule hit */
        json_object_set_new(o, "approve", json_true());
    if (o && info->model)   /* what the model has learned from */
        json_object_set_new(o, "model", json_pack("{s:s, s:I, s:I, s:I}", "file", info->model_file, "positive",
                                                  (json_int_t)learn_model_docs(info->model, 1), "negative",
                                                  (json_int_t)learn_model_docs(info->model, 0), "tokens",
                                                  (json_int_t)learn_model_tokens(info->model)));
    return o;
}

/* Add one rulestats field "RULE:what" = value to its rule's entry. */
static void apply_stat(json_t *rules, const char *field, size_t flen, const char *value, size_t vlen)
{
    const char *colon = memrchr(field, ':', flen);
    if (!colon)
        return;
    size_t nlen = (size_t)(colon - field);
    char what[32], num[32];
    size_t wlen = flen - nlen - 1;
    if (wlen == 0 || wlen >= sizeof what || vlen >= sizeof num)
        return;
    memcpy(what, colon + 1, wlen);
    what[wlen] = '\0';
    memcpy(num, value, vlen);
    num[vlen] = '\0';
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r) {
        const char *name = json_string_value(json_object_get(r, "name"));
        if (name && strlen(name) == nlen && memcmp(name, field, nlen) == 0) {
            json_t *d = json_object_get(r, "decisions");
            if (json_object_get(d, what))
                json_object_set_new(d, what, json_integer(strtoll(num, NULL, 10)));
            return;
        }
    }
}

/* What the site's moderators have taught its models (live.h), as this
 * daemon holds it: decisions learned, when the last was, and per model the
 * comments counted on each side and the tokens held; and the commenters
 * it knows (reputation.h): held for this site, bytes for all, and how many
 * were not held because a site's table was full. */
static json_t *learning_json(const char *site)
{
    struct live_site_stats st;
    json_t *models = json_array();
    if (!runtime_live() || live_site_stats(runtime_live(), site, &st) < 0)
        st = (struct live_site_stats){ 0 };
    for (size_t i = 0; i < st.nmodels; i++)
        json_array_append_new(models, json_pack("{s:s, s:I, s:I, s:I}", "model", st.models[i].model, "positive",
                                                (json_int_t)st.models[i].positive, "negative",
                                                (json_int_t)st.models[i].negative, "tokens",
                                                (json_int_t)st.models[i].tokens));
    char when[40], ms[32];
    snprintf(ms, sizeof ms, "%lld", st.last_ms);
    feed_format_time(ms, when, sizeof when);
    struct reputation *rep = runtime_reputation();
    json_t *authors = json_pack("{s:I, s:I, s:I}", "known", (json_int_t)(rep ? reputation_authors(rep, site) : 0),
                                "memory_bytes", (json_int_t)(rep ? reputation_memory(rep) : 0), "not_held",
                                (json_int_t)(rep ? reputation_dropped(rep) : 0));
    return json_pack("{s:I, s:o, s:o, s:o}", "decisions", (json_int_t)st.decisions, "last_learned_at",
                     st.last_ms ? json_string(when) : json_null(), "models", models, "authors", authors);
}

/* precision = (rejected + spam) / (approved + rejected + spam), null when no
 * moderator decided an item the rule hit. */
static void add_precision(json_t *rules)
{
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r) {
        json_t *d = json_object_get(r, "decisions");
        json_int_t a = json_integer_value(json_object_get(d, "approved"));
        json_int_t bad = json_integer_value(json_object_get(d, "rejected")) +
                         json_integer_value(json_object_get(d, "spam"));
        json_object_set_new(r, "precision", a + bad > 0 ? json_real((double)bad / (double)(a + bad)) : json_null());
    }
}

static void on_rulestats(void *arg, const struct redisReply *reply, const char *error)
{
    struct listing *l = arg;
    if (!reply || reply->type != REDIS_REPLY_ARRAY) {
        /* The rules and their hits are still worth showing. */
        json_object_set_new(l->body, "decisions_available", json_false());
        json_object_set_new(l->body, "decisions_error", json_string(error ? error : "unexpected reply"));
    } else {
        json_object_set_new(l->body, "decisions_available", json_true());
        for (size_t i = 0; i + 1 < reply->elements; i += 2) {
            const redisReply *k = reply->element[i], *v = reply->element[i + 1];
            if (k->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING)
                apply_stat(l->rules, k->str, k->len, v->str, v->len);
        }
    }
    add_precision(l->rules);
    http_reply_json(l->ctx, 200, l->body);
    free(l);
}

void rules_api_list(struct request_ctx *ctx)
{
    char *site = http_query(ctx, "site");
    const char *s = site && site[0] ? site : "default";
    if (!id_site_valid(s)) {
        free(site);
        http_reply_json(ctx, 422, json_pack("{s:s, s:s, s:{s:s}}", "error", "validation_failed", "message",
                                            "site must be 1-64 of a-z, 0-9, _ and -", "fields", "site",
                                            "invalid"));
        return;
    }
    struct listing *l = calloc(1, sizeof *l);
    struct ruleset *rs = runtime_rules_acquire();
    char key[128];
    if (!l || !rs || store_key(key, sizeof key, s, "rulestats") < 0)
        goto oom;
    l->ctx = ctx;
    l->rules = json_array();
    double approve;
    l->body = json_pack("{s:s, s:I, s:{s:o, s:o}, s:o}", "site", s, "count", (json_int_t)ruleset_size(rs),
                        "thresholds", "spam", number(ruleset_spam_threshold(rs)), "approve",
                        ruleset_approve_threshold(rs, &approve) ? number(approve) : json_null(), "rules",
                        l->rules);
    if (!l->body || json_object_set_new(l->body, "learning", learning_json(s)) < 0)
        goto oom;
    json_object_set_new(l->body, "fleet", fleet_json());
    for (size_t i = 0; i < ruleset_size(rs); i++) {
        struct rule_info info;
        ruleset_rule_info(rs, i, &info);
        json_array_append_new(l->rules, rule_json(&info));
    }
    ruleset_release(rs);
    rs = NULL;
    free(site);
    site = NULL;
    const char *argv[] = { "HGETALL", key };
    http_begin_wait(ctx);
    if (store_command(request_store(ctx), 2, argv, NULL, on_rulestats, l) < 0)
        on_rulestats(l, NULL, "the store is not connected");
    return;
oom:
    if (l)
        json_decref(l->body);
    free(l);
    if (rs)
        ruleset_release(rs);
    free(site);
    http_reply_error(ctx, 500, "internal", "out of memory");
}
