/* learner.c — live learning from moderators' decisions (learner.h).
 *
 * Two halves. Teaching: the arguments and the Lua that make a decision
 * move its comment's tokens in the site's counts, inside the decision's
 * own script, so a decision is learned exactly when it is recorded, and a
 * correction takes back what the earlier decision counted (the item keeps
 * the status it was learned as). Tailing: each daemon polls, on one
 * worker's loop, the learn logs of the sites that learned something and
 * applies their entries to its in-memory counts; a sequence number in
 * every entry tells it when it missed some (the log is capped, or it just
 * started), and it then loads the site's counts whole. */
#include "raqib/learner.h"

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raqib/id.h"
#include "raqib/learn.h"
#include "raqib/live.h"
#include "raqib/log.h"
#include "raqib/reputation.h"
#include "raqib/rules.h"
#include "raqib/store.h"

#define MAX_MODELS 8
#define LOG_BATCH "200"          /* log entries read per site and poll */
#define SITE_MAX 64

/* ---- teaching ---------------------------------------------------------- */

/* The Lua is LEARNER_TEACH_LUA in learner.h, so queue.c can join it to its
 * decision script at compile time. */

/* The argument strings of one model, owned by the teach. */
struct teach_model {
    char kinds[2];
    char *blob;
};

struct teach_owned {
    struct teach_model m[MAX_MODELS];
    size_t n;
};

void learner_teach_free(struct learner_teach *t)
{
    struct teach_owned *o = t->owned;
    for (size_t i = 0; o && i < o->n; i++)
        free(o->m[i].blob);
    free(o);
    free(t->argv);
    free(t->lens);
    *t = (struct learner_teach){ 0 };
}

/* Tokens as 8 little-endian bytes each: what the script and the tailer cut. */
static char *token_blob(const uint64_t *tokens, size_t n)
{
    char *blob = malloc(n * 8 + 1);
    for (size_t i = 0; blob && i < n; i++)
        for (int b = 0; b < 8; b++)
            blob[i * 8 + (size_t)b] = (char)(tokens[i] >> (8 * b));
    return blob;
}

static void teach_arg(struct learner_teach *t, const char *s, size_t len)
{
    t->argv[t->argc] = s;
    t->lens[t->argc++] = len;
}

int learner_teach_build(const struct ruleset *rs, const char *content, size_t len, struct learner_teach *out)
{
    struct live_model_ref refs[MAX_MODELS];
    size_t n = ruleset_live_models(rs, refs, MAX_MODELS);
    *out = (struct learner_teach){ 0 };
    if (!n)
        return 0;
    struct teach_owned *o = calloc(1, sizeof *o);
    out->owned = o;
    out->argv = calloc(n * 5, sizeof *out->argv);
    out->lens = calloc(n * 5, sizeof *out->lens);
    if (!o || !out->argv || !out->lens)
        return -1;
    for (size_t i = 0; i < n; i++) {
        uint64_t *tokens;
        long k = live_content_tokens(refs[i].model, content, len, &tokens);
        struct teach_model *m = &o->m[o->n];
        m->blob = k < 0 ? NULL : token_blob(tokens, (size_t)k);
        free(tokens);
        if (!m->blob)
            return -1;
        o->n++;
        m->kinds[0] = learn_model_get_tokens(refs[i].model) == LEARN_TOKENS_CHARS ? 'c' : 'w';
        teach_arg(out, refs[i].name, strlen(refs[i].name));
        teach_arg(out, learn_model_labels(refs[i].model, 1), strlen(learn_model_labels(refs[i].model, 1)));
        teach_arg(out, learn_model_labels(refs[i].model, 0), strlen(learn_model_labels(refs[i].model, 0)));
        teach_arg(out, m->kinds, 1);
        teach_arg(out, m->blob, (size_t)k * 8);
    }
    return 0;
}

/* ---- tailing ----------------------------------------------------------- */

struct tailed_site {
    char name[SITE_MAX + 1];
    char last_id[64];           /* log entry applied last */
    long long seq;              /* its sequence number */
    int busy;                   /* a load or read is in flight */
    int loaded;
};

struct learner {
    struct event_base *base;
    struct store *st;
    struct live *lv;
    struct reputation *rep;
    struct event *tick;
    struct timeval every;
    struct tailed_site *sites;
    size_t nsites;
    int stopping;
    int listing;                /* SMEMBERS in flight */
};

/* One call in flight for a site; the site is found again by name when it
 * answers (the array may have grown meanwhile). */
struct site_call {
    struct learner *l;
    char site[SITE_MAX + 1];
};

static struct tailed_site *tailed(struct learner *l, const char *site)
{
    for (size_t i = 0; i < l->nsites; i++)
        if (strcmp(l->sites[i].name, site) == 0)
            return &l->sites[i];
    return NULL;
}

static unsigned kinds_of(char k)
{
    return k == 'c' ? LEARN_TOKENS_CHARS : LEARN_TOKENS_WORDS;
}

static uint64_t token_at(const char *p)
{
    uint64_t t = 0;
    for (int b = 7; b >= 0; b--)
        t = (t << 8) | (unsigned char)p[b];
    return t;
}

static const redisReply *hash_get(const redisReply *h, const char *field)
{
    for (size_t i = 0; i + 1 < h->elements; i += 2)
        if (h->element[i]->type == REDIS_REPLY_STRING && strcmp(h->element[i]->str, field) == 0)
            return h->element[i + 1];
    return NULL;
}

static unsigned long hash_num(const redisReply *h, const char *field)
{
    const redisReply *v = hash_get(h, field);
    long long n = v && v->type == REDIS_REPLY_STRING ? atoll(v->str) : 0;
    return n > 0 ? (unsigned long)n : 0;
}

/* One model's stored counts (HGETALL of raqib:{S}:learned:MODEL) into lv. */
static int load_model(struct learner *l, const char *site, const char *name, const redisReply *docs,
                      const redisReply *counts)
{
    char field[300];
    snprintf(field, sizeof field, "%s:k", name);
    const redisReply *k = hash_get(docs, field);
    unsigned kinds = kinds_of(k && k->type == REDIS_REPLY_STRING && k->len ? k->str[0] : 'w');
    snprintf(field, sizeof field, "%s:p", name);
    unsigned long dp = hash_num(docs, field);
    snprintf(field, sizeof field, "%s:n", name);
    unsigned long dn = hash_num(docs, field);
    size_t n = counts->elements / 2, used = 0;
    uint64_t *tokens = malloc((n ? n : 1) * sizeof *tokens);
    unsigned long *pos = calloc(n ? n : 1, sizeof *pos), *neg = calloc(n ? n : 1, sizeof *neg);
    int rc = -1;
    if (tokens && pos && neg) {
        for (size_t i = 0; i < n; i++) {
            const redisReply *f = counts->element[2 * i], *v = counts->element[2 * i + 1];
            if (f->type != REDIS_REPLY_STRING || f->len != 9 || v->type != REDIS_REPLY_STRING)
                continue;
            long long c = atoll(v->str);
            if (c <= 0)
                continue;
            tokens[used] = token_at(f->str);
            pos[used] = f->str[8] == 'p' ? (unsigned long)c : 0;
            neg[used] = f->str[8] == 'n' ? (unsigned long)c : 0;
            used++;
        }
        rc = live_add_counts(l->lv, site, name, kinds, tokens, pos, neg, used, dp, dn);
    }
    free(tokens);
    free(pos);
    free(neg);
    return rc;
}

/* The authors hash (HGETALL of raqib:{S}:authors: HASH:approved,
 * HASH:rejected, HASH:spam, HASH:t, HASH:m) into rep, whole. */
static void load_authors(struct learner *l, const char *site, const redisReply *h)
{
    reputation_forget_site(l->rep, site);
    struct author_counts c = { 0 };
    uint64_t cur = 0, a;
    for (size_t i = 0; i + 1 < h->elements; i += 2) {
        const redisReply *f = h->element[i], *v = h->element[i + 1];
        char hex[17];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || f->len < 18 || f->str[16] != ':')
            continue;
        memcpy(hex, f->str, 16);
        hex[16] = '\0';
        if (reputation_parse_hex(hex, &a) < 0)
            continue;
        /* Fields of one author need not come together: merge into what rep holds. */
        if (a != cur) {
            reputation_get(l->rep, site, a, &c);
            cur = a;
        }
        const char *what = f->str + 17;
        long long n = atoll(v->str);
        if (!strcmp(what, "t"))
            c.last_ms = n;
        else if (!strcmp(what, "m"))
            c.mark = !strcmp(v->str, "trusted") ? AUTHOR_TRUSTED : !strcmp(v->str, "blocked") ? AUTHOR_BLOCKED
                   : AUTHOR_UNMARKED;
        else if (reputation_status_index(what) == 0)
            c.approved = n > 0 ? (unsigned long)n : 0;
        else if (reputation_status_index(what) == 1)
            c.rejected = n > 0 ? (unsigned long)n : 0;
        else if (reputation_status_index(what) == 2)
            c.spam = n > 0 ? (unsigned long)n : 0;
        if (reputation_set(l->rep, site, a, &c) < 0) {
            log_warn("reputation: site %s holds reputation_max_authors authors (or memory ran out): "
                     "the others look new", site);
            return;
        }
    }
}

/* Snapshot reply: {docs hash, last log id, authors hash, name, counts, name, counts, …}. */
static void on_snapshot(void *arg, const redisReply *r, const char *error)
{
    struct site_call *c = arg;
    struct learner *l = c->l;
    struct tailed_site *s = l->stopping ? NULL : tailed(l, c->site);
    if (s) {
        s->busy = 0;
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_ARRAY ||
            r->element[2]->type != REDIS_REPLY_ARRAY) {
            log_warn("learning: loading site %s's counts failed: %s", c->site, error ? error : "odd reply");
        } else {
            const redisReply *docs = r->element[0];
            live_forget_site(l->lv, c->site);
            load_authors(l, c->site, r->element[2]);
            for (size_t i = 3; i + 1 < r->elements; i += 2)
                if (r->element[i]->type == REDIS_REPLY_STRING && r->element[i + 1]->type == REDIS_REPLY_ARRAY &&
                    load_model(l, c->site, r->element[i]->str, docs, r->element[i + 1]) < 0)
                    log_warn("learning: site %s, model %s: out of memory or other tokens", c->site,
                             r->element[i]->str);
            s->seq = (long long)hash_num(docs, "seq");
            live_set_decisions(l->lv, c->site, hash_num(docs, "decisions"), (long long)hash_num(docs, "last_ms"));
            snprintf(s->last_id, sizeof s->last_id, "%s",
                     r->element[1]->type == REDIS_REPLY_STRING ? r->element[1]->str : "0-0");
            s->loaded = 1;
            log_info("learning: site %s loaded, %lld log entries, %zu authors", c->site, s->seq,
                     reputation_authors(l->rep, c->site));
        }
    }
    free(c);
}

static const char snapshot_script[] =
    "local docs = redis.call('HGETALL', KEYS[1])\n"
    "local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)\n"
    "local out = {docs, last[1] and last[1][1] or '0-0', redis.call('HGETALL', KEYS[3])}\n"
    "for i = 1, #docs, 2 do\n"
    "  local f = docs[i]\n"
    "  if string.sub(f, -2) == ':k' then\n"
    "    local name = string.sub(f, 1, -3)\n"
    "    out[#out + 1] = name\n"
    "    out[#out + 1] = redis.call('HGETALL', ARGV[1] .. name)\n"
    "  end\n"
    "end\n"
    "return out\n";

static struct site_call *site_call(struct learner *l, const char *site)
{
    struct site_call *c = malloc(sizeof *c);
    if (c) {
        c->l = l;
        snprintf(c->site, sizeof c->site, "%s", site);
    }
    return c;
}

static void load_site(struct learner *l, struct tailed_site *s)
{
    char docs[128], logk[128], prefix[128], authors[128];
    store_key(docs, sizeof docs, s->name, "learned");
    store_key(authors, sizeof authors, s->name, "authors");
    store_key(logk, sizeof logk, s->name, "learnlog");
    store_key(prefix, sizeof prefix, s->name, "learned:");
    struct site_call *c = site_call(l, s->name);
    const char *argv[] = { "3", docs, logk, authors, prefix };
    if (!c)
        return;
    s->busy = 1;
    if (store_eval(l->st, snapshot_script, 5, argv, NULL, on_snapshot, c) < 0) {
        s->busy = 0;
        free(c);
    }
}

/* An entry's `author` ("HASH FROM TO": a decision moved its counts) or
 * `mark` ("HASH trusted|blocked|none|erased": the authors API) field. */
static void apply_author(struct learner *l, const char *site, const char *field, const char *value, long long at)
{
    char hex[17], a[16], b[16];
    uint64_t author;
    int n = sscanf(value, "%16s %15s %15s", hex, a, b);
    if (n < 2 || reputation_parse_hex(hex, &author) < 0)
        return;
    int rc = 0;
    if (!strcmp(field, "author") && n == 3)
        rc = reputation_move(l->rep, site, author, a, b, at);
    else if (!strcmp(field, "mark") && !strcmp(a, "erased"))
        reputation_erase(l->rep, site, author);
    else if (!strcmp(field, "mark"))
        rc = reputation_mark(l->rep, site, author, !strcmp(a, "trusted") ? AUTHOR_TRUSTED
                                                   : !strcmp(a, "blocked") ? AUTHOR_BLOCKED : AUTHOR_UNMARKED);
    if (rc < 0)
        log_warn("reputation: site %s holds reputation_max_authors authors (or memory ran out): "
                 "author %s looks new", site, hex);
}

/* Apply one log entry: models (name -> from, to, kinds, tokens) and the
 * author's record. */
static void apply_entry(struct learner *l, const char *site, const redisReply *fields, long long at)
{
    for (size_t i = 0; i + 1 < fields->elements; i += 2) {
        const redisReply *f = fields->element[i], *v = fields->element[i + 1];
        if (f->type != REDIS_REPLY_STRING || v->type != REDIS_REPLY_STRING || v->len < 3 ||
            !strcmp(f->str, "seq") || !strcmp(f->str, "at") || !strcmp(f->str, "id"))
            continue;
        if (!strcmp(f->str, "author") || !strcmp(f->str, "mark")) {
            apply_author(l, site, f->str, v->str, at);
            continue;
        }
        size_t n = (v->len - 3) / 8;
        uint64_t *tokens = malloc((n ? n : 1) * sizeof *tokens);
        if (!tokens)
            continue;
        for (size_t k = 0; k < n; k++)
            tokens[k] = token_at(v->str + 3 + 8 * k);
        int from = v->str[0] == 'p' ? 1 : v->str[0] == 'n' ? 0 : -1;
        int to = v->str[1] == 'p' ? 1 : v->str[1] == 'n' ? 0 : -1;
        if (live_apply(l->lv, site, f->str, kinds_of(v->str[2]), tokens, n, from, to) < 0)
            log_warn("learning: site %s, model %s: out of memory or other tokens", site, f->str);
        free(tokens);
    }
}

/* XRANGE reply: entries after last_id, in order. A gap in seq (entries
 * trimmed before this daemon read them) means loading the site anew. */
static void on_log(void *arg, const redisReply *r, const char *error)
{
    struct site_call *c = arg;
    struct learner *l = c->l;
    struct tailed_site *s = l->stopping ? NULL : tailed(l, c->site);
    if (s) {
        s->busy = 0;
        if (!r || r->type != REDIS_REPLY_ARRAY) {
            log_warn("learning: reading site %s's learn log failed: %s", c->site, error ? error : "odd reply");
        } else {
            for (size_t i = 0; i < r->elements; i++) {
                const redisReply *e = r->element[i];
                if (e->type != REDIS_REPLY_ARRAY || e->elements < 2 || e->element[1]->type != REDIS_REPLY_ARRAY)
                    continue;
                const redisReply *seq = hash_get(e->element[1], "seq"), *at = hash_get(e->element[1], "at");
                long long n = seq && seq->type == REDIS_REPLY_STRING ? atoll(seq->str) : 0;
                if (n != s->seq + 1) {
                    /* missed some (the log is capped), or the counts were
                     * reset (numbering starts again): load whole */
                    load_site(l, s);
                    break;
                } else {
                    long long when = at && at->type == REDIS_REPLY_STRING ? atoll(at->str) : 0;
                    apply_entry(l, c->site, e->element[1], when);
                    if (!hash_get(e->element[1], "mark"))   /* a mark on an author is no decision */
                        live_note_decision(l->lv, c->site, when);
                    s->seq = n;
                }
                snprintf(s->last_id, sizeof s->last_id, "%s", e->element[0]->str);
            }
        }
    }
    free(c);
}

static void read_log(struct learner *l, struct tailed_site *s)
{
    char logk[128], from[80];
    store_key(logk, sizeof logk, s->name, "learnlog");
    snprintf(from, sizeof from, "(%s", s->last_id);
    struct site_call *c = site_call(l, s->name);
    const char *argv[] = { "XRANGE", logk, from, "+", "COUNT", LOG_BATCH };
    if (!c)
        return;
    s->busy = 1;
    if (store_command(l->st, 6, argv, NULL, on_log, c) < 0) {
        s->busy = 0;
        free(c);
    }
}

static int site_name_ok(const redisReply *r)
{
    return r->type == REDIS_REPLY_STRING && strlen(r->str) == r->len && id_site_valid(r->str);
}

static void on_sites(void *arg, const redisReply *r, const char *error)
{
    struct learner *l = arg;
    (void)error;
    if (l->stopping)
        return;
    l->listing = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++) {
        if (!site_name_ok(r->element[i]) || tailed(l, r->element[i]->str))
            continue;
        struct tailed_site *grown = realloc(l->sites, (l->nsites + 1) * sizeof *grown);
        if (!grown)
            return;
        l->sites = grown;
        struct tailed_site *s = &l->sites[l->nsites++];
        *s = (struct tailed_site){ 0 };
        snprintf(s->name, sizeof s->name, "%s", r->element[i]->str);
        snprintf(s->last_id, sizeof s->last_id, "0-0");
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct learner *l = arg;
    if (store_is_ready(l->st)) {
        const char *argv[] = { "SMEMBERS", LEARNER_SITES_KEY };
        if (!l->listing && store_command(l->st, 2, argv, NULL, on_sites, l) == 0)
            l->listing = 1;
        for (size_t i = 0; i < l->nsites; i++) {
            if (l->sites[i].busy)
                continue;
            if (l->sites[i].loaded)
                read_log(l, &l->sites[i]);
            else
                load_site(l, &l->sites[i]);
        }
    }
    event_add(l->tick, &l->every);
}

struct learner *learner_start(struct event_base *base, struct store *st, struct live *lv, struct reputation *rep,
                              long poll_ms)
{
    struct learner *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    *l = (struct learner){ .base = base, .st = st, .lv = lv, .rep = rep,
                           .every = { poll_ms / 1000, (poll_ms % 1000) * 1000 } };
    if (!(l->tick = evtimer_new(base, on_tick, l))) {
        free(l);
        return NULL;
    }
    struct timeval now = { 0, 0 };
    event_add(l->tick, &now);
    return l;
}

void learner_stop(struct learner *l)
{
    if (!l)
        return;
    l->stopping = 1;
    event_del(l->tick);
}

void learner_free(struct learner *l)
{
    if (!l)
        return;
    event_free(l->tick);
    free(l->sites);
    free(l);
}
