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
 * started), and it then loads the site's counts anew: in chunks (HSCAN)
 * made consistent with the log, so a large site never stalls Redis (see
 * "loading a site's counts" below). */
#include "raqib/learner.h"

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "raqib/id.h"
#include "raqib/learn.h"
#include "raqib/live.h"
#include "raqib/log.h"
#include "raqib/reputation.h"
#include "raqib/rules.h"
#include "raqib/runtime.h"
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
    /* The joint indexes (live_refresh_joint) are built on a thread of
     * their own, woken when counts change: a build takes milliseconds,
     * which the event loop the learner shares with a worker must not. */
    pthread_t indexer;
    int indexer_running;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int counts_changed;         /* under mu */
    atomic_int indexer_stop;    /* read by live_refresh_joint between builds, without mu */
};

#define INDEX_SETTLE_MS 250     /* decisions come in bursts: build once they pause */
#define INDEX_EVERY_MS  5000    /* and look anyway this often: a reload makes new models */

/* The wall-clock time ms from now, for pthread_cond_timedwait. */
static struct timespec in_ms(long ms)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    t.tv_nsec += ms % 1000 * 1000000L;
    t.tv_sec += ms / 1000 + t.tv_nsec / 1000000000L;
    t.tv_nsec %= 1000000000L;
    return t;
}

/* The indexer thread: after counts change (and a short pause for more),
 * or every INDEX_EVERY_MS, bring the joint indexes up to date for the live
 * rule set's models (live_refresh_joint builds only what is out of date). */
static void *indexer_main(void *arg)
{
    struct learner *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->indexer_stop) {
        if (!l->counts_changed) {
            struct timespec until = in_ms(INDEX_EVERY_MS);
            if (pthread_cond_timedwait(&l->wake, &l->mu, &until) == 0)
                continue;       /* woken: counts changed, or stop */
        }
        l->counts_changed = 0;
        struct timespec until = in_ms(INDEX_SETTLE_MS);
        while (!l->indexer_stop && pthread_cond_timedwait(&l->wake, &l->mu, &until) == 0)
            ;
        if (l->indexer_stop)
            break;
        pthread_mutex_unlock(&l->mu);
        struct ruleset *rs = runtime_rules_acquire();     /* keeps the priors alive while building */
        if (rs) {
            struct live_model_ref refs[MAX_MODELS];
            live_refresh_joint(l->lv, refs, ruleset_live_models(rs, refs, MAX_MODELS), &l->indexer_stop);
            ruleset_release(rs);
        }
        pthread_mutex_lock(&l->mu);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* Counts changed: wake the indexer. */
static void counts_changed(struct learner *l)
{
    pthread_mutex_lock(&l->mu);
    l->counts_changed = 1;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->mu);
}

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

/* ---- loading a site's counts: a snapshot in chunks --------------------- *
 *
 * A site's counts can be large (learn_max_tokens per model: up to 300,000
 * tokens, two hash fields each), and reading them in one script would stall
 * Redis for every other client while it ran. So a load reads them in
 * chunks and makes the chunks consistent with the learn log:
 *
 *   1. begin: one short script notes the learn log's numbering (seq0) and
 *      last entry id (id0), and the site's learned hash (the models);
 *   2. HSCAN … COUNT 2000 through the authors hash and each model's hash,
 *      staging every field (nothing is applied yet: scoring keeps the old
 *      counts meanwhile);
 *   3. finish: one short script reads the log entries after id0, and reads
 *      afresh, at this one instant, every field those entries touched (each
 *      token of each model, each author's five fields), with the learned
 *      hash and the last entry id.
 *
 * Every change to these hashes comes with a log entry (LEARNER_TEACH_LUA,
 * LEARNER_AUTHOR_LUA, authors.c), so a field no entry after id0 touched
 * held one value during the whole scan, and HSCAN returns every field that
 * exists throughout (maybe twice: duplicates are dropped); every field an
 * entry touched is taken from the finish read. So the staged counts are the
 * counts exactly as of the finish read's last entry, and tailing goes on
 * from it: no count is applied twice or lost. When the log no longer holds
 * every entry after id0 (it is capped: a burst of over ~1,000 decisions
 * during a scan), the load starts over; after three such tries it falls
 * back to the one-script load (snapshot_script), which stalls but always
 * finishes. */

#define SCAN_COUNT "2000"
#ifndef SNAP_TRIES
#define SNAP_TRIES 3            /* chunked loads the log may outrun before the one-script load */
#endif

/* One staged hash field: a model's token count (side 'p' or 'n'), or an
 * author's field (what: approved, rejected, spam, t, m). fresh: from the
 * finish read, which wins over what the scan saw. */
struct staged_count {
    uint64_t key;
    long long value;
    char what;
    unsigned char fresh;
};

struct staged {
    struct staged_count *v;
    size_t n, cap;
};

struct snap_model {
    char name[256];
    struct staged counts;
};

struct snapshot {
    struct learner *l;
    char site[SITE_MAX + 1];
    char id0[64];                   /* the log's last entry when the load began */
    long long seq0;
    int tries;
    struct staged authors;
    struct snap_model *models;
    size_t nmodels;
    size_t key;                     /* scanning: 0 the authors, i the models[i - 1] */
    char cursor[32];
    size_t chunks;
    size_t fresh;                   /* fields the finish read afresh */
};

static void staged_free(struct staged *s)
{
    free(s->v);
    *s = (struct staged){ 0 };
}

static void snapshot_free(struct snapshot *sn)
{
    if (!sn)
        return;
    staged_free(&sn->authors);
    for (size_t i = 0; i < sn->nmodels; i++)
        staged_free(&sn->models[i].counts);
    free(sn->models);
    free(sn);
}

static int stage(struct staged *s, uint64_t key, char what, long long value, int fresh)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        struct staged_count *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return -1;
        s->v = v, s->cap = cap;
    }
    s->v[s->n++] = (struct staged_count){ key, value, what, (unsigned char)fresh };
    return 0;
}

/* Order by key and what, the fresh one first: then the first of each run
 * is the value to keep (a duplicate from the scan, or a stale one, follows). */
static int staged_cmp(const void *pa, const void *pb)
{
    const struct staged_count *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    if (a->what != b->what)
        return a->what < b->what ? -1 : 1;
    return (int)b->fresh - (int)a->fresh;
}

/* Sort and keep one value per field; returns how many remain. */
static size_t staged_settle(struct staged *s)
{
    if (!s->n)
        return 0;
    qsort(s->v, s->n, sizeof *s->v, staged_cmp);
    size_t out = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!out || s->v[i].key != s->v[out - 1].key || s->v[i].what != s->v[out - 1].what)
            s->v[out++] = s->v[i];
    return s->n = out;
}

static struct snap_model *snap_model(struct snapshot *sn, const char *name, size_t len)
{
    for (size_t i = 0; i < sn->nmodels; i++)
        if (strlen(sn->models[i].name) == len && memcmp(sn->models[i].name, name, len) == 0)
            return &sn->models[i];
    if (len >= sizeof sn->models[0].name)
        return NULL;
    struct snap_model *grown = realloc(sn->models, (sn->nmodels + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    sn->models = grown;
    struct snap_model *m = &sn->models[sn->nmodels++];
    *m = (struct snap_model){ 0 };
    memcpy(m->name, name, len);
    return m;
}

/* The models the learned hash names (a MODEL:k field each). */
static int snap_models_of(struct snapshot *sn, const redisReply *docs)
{
    for (size_t i = 0; i + 1 < docs->elements; i += 2) {
        const redisReply *f = docs->element[i];
        if (f->type == REDIS_REPLY_STRING && f->len > 2 && memcmp(f->str + f->len - 2, ":k", 2) == 0 &&
            !snap_model(sn, f->str, f->len - 2))
            return -1;
    }
    return 0;
}

/* A model hash's field (8-byte token + 'p' or 'n') and its count. */
static int stage_token(struct staged *s, const redisReply *f, const redisReply *v, int fresh)
{
    if (f->type != REDIS_REPLY_STRING || f->len != 9 || (f->str[8] != 'p' && f->str[8] != 'n'))
        return 0;
    long long c = v->type == REDIS_REPLY_STRING ? atoll(v->str) : 0;
    return stage(s, token_at(f->str), f->str[8], c, fresh);
}

/* An authors hash field (HASH:approved|rejected|spam|t|m) and its value;
 * what is 0, 1, 2 (the statuses), 't' or 'm'. */
static int stage_author(struct staged *s, const redisReply *f, const redisReply *v, int fresh)
{
    char hex[17];
    uint64_t a;
    if (f->type != REDIS_REPLY_STRING || f->len < 18 || f->str[16] != ':')
        return 0;
    memcpy(hex, f->str, 16);
    hex[16] = '\0';
    if (reputation_parse_hex(hex, &a) < 0)
        return 0;
    const char *what = f->str + 17, *val = v->type == REDIS_REPLY_STRING ? v->str : "";
    if (!strcmp(what, "m"))
        return stage(s, a, 'm', !strcmp(val, "trusted") ? AUTHOR_TRUSTED : !strcmp(val, "blocked") ? AUTHOR_BLOCKED
                                : AUTHOR_UNMARKED, fresh);
    int k = !strcmp(what, "t") ? 't' : reputation_status_index(what);
    return k < 0 ? 0 : stage(s, a, (char)k, atoll(val), fresh);
}

/* Stage a field/value array (HGETALL, HSCAN's, or the finish read's). */
static int stage_pairs(struct staged *s, const redisReply *pairs, int authors, int fresh)
{
    for (size_t i = 0; i + 1 < pairs->elements; i += 2) {
        const redisReply *f = pairs->element[i], *v = pairs->element[i + 1];
        if ((authors ? stage_author : stage_token)(s, f, v, fresh) < 0)
            return -1;
    }
    return 0;
}

/* The staged authors into rep, replacing what it held of the site. */
/* Stage the (model name, field/value pairs) entries of r from element
 * `from` on into the snapshot's models (fresh as stage_pairs takes it).
 * Returns how many fields were staged, or -1 when out of memory or an
 * entry is not a model's. */
static long stage_models(struct snapshot *sn, const redisReply *r, size_t from, int fresh)
{
    long fields = 0;
    for (size_t i = from; i + 1 < r->elements; i += 2) {
        const redisReply *name = r->element[i], *pairs = r->element[i + 1];
        struct snap_model *m = name->type == REDIS_REPLY_STRING ? snap_model(sn, name->str, name->len) : NULL;
        if (!m || pairs->type != REDIS_REPLY_ARRAY || stage_pairs(&m->counts, pairs, 0, fresh) < 0)
            return -1;
        fields += (long)(pairs->elements / 2);
    }
    return fields;
}

static void commit_authors(struct learner *l, const char *site, struct staged *s)
{
    reputation_forget_site(l->rep, site);
    size_t n = staged_settle(s);
    for (size_t i = 0; i < n;) {
        struct author_counts c = { 0 };
        uint64_t a = s->v[i].key;
        for (; i < n && s->v[i].key == a; i++) {
            long long v = s->v[i].value > 0 ? s->v[i].value : 0;
            switch (s->v[i].what) {
            case 0: c.approved = (unsigned long)v; break;
            case 1: c.rejected = (unsigned long)v; break;
            case 2: c.spam = (unsigned long)v; break;
            case 't': c.last_ms = v; break;
            case 'm': c.mark = (enum author_mark)v; break;
            }
        }
        if (!c.approved && !c.rejected && !c.spam && c.mark == AUTHOR_UNMARKED)
            continue;           /* erased during the scan, or nothing left */
        if (reputation_set(l->rep, site, a, &c) < 0) {
            log_warn("reputation: site %s holds reputation_max_authors authors (or memory ran out): "
                     "the others look new", site);
            return;
        }
    }
}

/* One model's staged counts into lv; docs (the learned hash) gives its
 * token kinds and how many comments each side counted. */
static int commit_model(struct learner *l, const char *site, struct snap_model *m, const redisReply *docs)
{
    char field[300];
    snprintf(field, sizeof field, "%s:k", m->name);
    const redisReply *k = hash_get(docs, field);
    unsigned kinds = kinds_of(k && k->type == REDIS_REPLY_STRING && k->len ? k->str[0] : 'w');
    snprintf(field, sizeof field, "%s:p", m->name);
    unsigned long dp = hash_num(docs, field);
    snprintf(field, sizeof field, "%s:n", m->name);
    unsigned long dn = hash_num(docs, field);
    size_t n = staged_settle(&m->counts), used = 0;
    uint64_t *tokens = malloc((n ? n : 1) * sizeof *tokens);
    unsigned long *pos = calloc(n ? n : 1, sizeof *pos), *neg = calloc(n ? n : 1, sizeof *neg);
    int rc = -1;
    if (tokens && pos && neg) {
        for (size_t i = 0; i < n; i++) {
            const struct staged_count *c = &m->counts.v[i];
            if (c->value <= 0)
                continue;       /* a field at 0 is deleted: the token left that side */
            tokens[used] = c->key;
            pos[used] = c->what == 'p' ? (unsigned long)c->value : 0;
            neg[used] = c->what == 'n' ? (unsigned long)c->value : 0;
            used++;
        }
        rc = live_add_counts(l->lv, site, m->name, kinds, tokens, pos, neg, used, dp, dn);
    }
    free(tokens);
    free(pos);
    free(neg);
    return rc;
}

/* Replace the site's counts in memory with the snapshot, as of log entry
 * last (docs: the learned hash read at that same instant). */
static void commit(struct snapshot *sn, struct tailed_site *s, const redisReply *docs, const char *last)
{
    struct learner *l = sn->l;
    live_forget_site(l->lv, sn->site);
    commit_authors(l, sn->site, &sn->authors);
    for (size_t i = 0; i < sn->nmodels; i++)
        if (commit_model(l, sn->site, &sn->models[i], docs) < 0)
            log_warn("learning: site %s, model %s: out of memory or other tokens", sn->site, sn->models[i].name);
    s->seq = (long long)hash_num(docs, "seq");
    live_set_decisions(l->lv, sn->site, hash_num(docs, "decisions"), (long long)hash_num(docs, "last_ms"));
    snprintf(s->last_id, sizeof s->last_id, "%s", last);
    s->loaded = 1;
    counts_changed(l);
    log_info("learning: site %s loaded, %lld log entries, %zu authors (%zu chunks, %zu fields read afresh, try %d)",
             sn->site, s->seq, reputation_authors(l->rep, sn->site), sn->chunks, sn->fresh, sn->tries);
    log_flush();    /* the worker batches info lines until a request's round: this one is no request's */
}

/* The site the snapshot is for, still tailed and not stopping; NULL frees
 * the snapshot (and the caller returns). */
static struct tailed_site *snap_site(struct snapshot *sn)
{
    struct tailed_site *s = sn->l->stopping ? NULL : tailed(sn->l, sn->site);
    if (!s)
        snapshot_free(sn);
    return s;
}

static void snap_failed(struct snapshot *sn, struct tailed_site *s, const char *what, const char *error)
{
    log_warn("learning: loading site %s's counts failed (%s): %s", sn->site, what, error ? error : "odd reply");
    s->busy = 0;
    snapshot_free(sn);
}

static void snap_begin(struct learner *l, struct tailed_site *s, int tries);
static void snap_scan(struct snapshot *sn, struct tailed_site *s);

/* ---- the one-script load: the fallback ---- */

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

/* Reply: {docs hash, last log id, authors hash, name, counts, name, counts, …}. */
static void on_whole(void *arg, const redisReply *r, const char *error)
{
    struct snapshot *sn = arg;
    struct tailed_site *s = snap_site(sn);
    if (!s)
        return;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3 || r->element[0]->type != REDIS_REPLY_ARRAY ||
        r->element[1]->type != REDIS_REPLY_STRING || r->element[2]->type != REDIS_REPLY_ARRAY ||
        stage_pairs(&sn->authors, r->element[2], 1, 0) < 0) {
        snap_failed(sn, s, "whole", error);
        return;
    }
    if (stage_models(sn, r, 3, 0) < 0) {
        snap_failed(sn, s, "whole", "out of memory or an odd model");
        return;
    }
    s->busy = 0;
    commit(sn, s, r->element[0], r->element[1]->str);
    snapshot_free(sn);
}

static void snap_whole(struct snapshot *sn, struct tailed_site *s)
{
    char docs[128], logk[128], prefix[128], authors[128];
    store_key(docs, sizeof docs, sn->site, "learned");
    store_key(authors, sizeof authors, sn->site, "authors");
    store_key(logk, sizeof logk, sn->site, "learnlog");
    store_key(prefix, sizeof prefix, sn->site, "learned:");
    const char *argv[] = { "3", docs, logk, authors, prefix };
    log_warn("learning: site %s: the learn log moved too fast for a chunked load %d times; loading it in one script",
             sn->site, sn->tries);
    if (store_eval(sn->l->st, snapshot_script, 5, argv, NULL, on_whole, sn) < 0) {
        s->busy = 0;
        snapshot_free(sn);
    }
}

/* ---- 3. finish: the fields the log touched meanwhile, read afresh ---- */

/* KEYS: 1 learned hash, 2 learn log, 3 authors. ARGV: 1 model key prefix,
 * 2 id0, 3 seq0. {'gap'} when the log lacks an entry after id0; else
 * {'ok', learned hash, last id, {author field, value, …}, model, {field,
 * value, …}, …} with every field the entries after id0 touched, its
 * value now (nil: deleted). */
static const char finish_script[] =
    "local docs = redis.call('HGETALL', KEYS[1])\n"
    "local seq = 0\n"
    "for i = 1, #docs, 2 do if docs[i] == 'seq' then seq = tonumber(docs[i + 1]) end end\n"
    "local entries = redis.call('XRANGE', KEYS[2], '(' .. ARGV[2], '+')\n"
    "local seq0 = tonumber(ARGV[3])\n"
    "if #entries ~= seq - seq0 then return {'gap'} end\n"
    "local models, authors, last = {}, {}, ARGV[2]\n"
    "for _, e in ipairs(entries) do\n"
    "  local f = e[2]\n"
    "  last = e[1]\n"
    "  for i = 1, #f, 2 do\n"
    "    local k, v = f[i], f[i + 1]\n"
    "    if k == 'seq' and tonumber(v) ~= seq0 + 1 then return {'gap'} end\n"
    "    if k == 'seq' then seq0 = seq0 + 1\n"
    "    elseif k == 'author' or k == 'mark' then\n"
    "      local a = string.match(v, '^(%x+) ')\n"
    "      if a then authors[a] = true end\n"
    "    elseif k ~= 'at' and k ~= 'id' then\n"
    "      local set = models[k] or {}\n"
    "      models[k] = set\n"
    "      for j = 4, #v - 7, 8 do set[string.sub(v, j, j + 7)] = true end\n"
    "    end\n"
    "  end\n"
    "end\n"
    "local av = {}\n"
    "for a in pairs(authors) do\n"
    "  for _, w in ipairs({'approved', 'rejected', 'spam', 't', 'm'}) do\n"
    "    av[#av + 1] = a .. ':' .. w\n"
    "    av[#av + 1] = redis.call('HGET', KEYS[3], a .. ':' .. w)\n"
    "  end\n"
    "end\n"
    "local out = {'ok', docs, last, av}\n"
    "for name, set in pairs(models) do\n"
    "  local mv = {}\n"
    "  for t in pairs(set) do\n"
    "    for _, side in ipairs({'p', 'n'}) do\n"
    "      mv[#mv + 1] = t .. side\n"
    "      mv[#mv + 1] = redis.call('HGET', ARGV[1] .. name, t .. side)\n"
    "    end\n"
    "  end\n"
    "  out[#out + 1] = name\n"
    "  out[#out + 1] = mv\n"
    "end\n"
    "return out\n";

static void on_finish(void *arg, const redisReply *r, const char *error)
{
    struct snapshot *sn = arg;
    struct learner *l = sn->l;
    struct tailed_site *s = snap_site(sn);
    if (!s)
        return;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->type == REDIS_REPLY_STRING &&
        !strcmp(r->element[0]->str, "gap")) {
        int tries = sn->tries;
        snapshot_free(sn);
        snap_begin(l, s, tries + 1);
        return;
    }
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 4 || r->element[1]->type != REDIS_REPLY_ARRAY ||
        r->element[2]->type != REDIS_REPLY_STRING || r->element[3]->type != REDIS_REPLY_ARRAY ||
        stage_pairs(&sn->authors, r->element[3], 1, 1) < 0) {
        snap_failed(sn, s, "finish", error);
        return;
    }
    long fresh = stage_models(sn, r, 4, 1);
    if (fresh < 0) {
        snap_failed(sn, s, "finish", "out of memory or an odd model");
        return;
    }
    sn->fresh += (size_t)fresh;
    sn->fresh += r->element[3]->elements / 2;
    s->busy = 0;
    commit(sn, s, r->element[1], r->element[2]->str);
    snapshot_free(sn);
}

static void snap_finish(struct snapshot *sn, struct tailed_site *s)
{
    char docs[128], logk[128], prefix[128], authors[128], seq0[32];
    store_key(docs, sizeof docs, sn->site, "learned");
    store_key(authors, sizeof authors, sn->site, "authors");
    store_key(logk, sizeof logk, sn->site, "learnlog");
    store_key(prefix, sizeof prefix, sn->site, "learned:");
    snprintf(seq0, sizeof seq0, "%lld", sn->seq0);
    const char *argv[] = { "3", docs, logk, authors, prefix, sn->id0, seq0 };
    if (store_eval(sn->l->st, finish_script, 7, argv, NULL, on_finish, sn) < 0) {
        s->busy = 0;
        snapshot_free(sn);
    }
}

/* ---- 2. the chunks ---- */

/* HSCAN reply: {cursor, {field, value, …}}. */
static void on_chunk(void *arg, const redisReply *r, const char *error)
{
    struct snapshot *sn = arg;
    struct tailed_site *s = snap_site(sn);
    if (!s)
        return;
    int authors = sn->key == 0;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING ||
        r->element[1]->type != REDIS_REPLY_ARRAY ||
        stage_pairs(authors ? &sn->authors : &sn->models[sn->key - 1].counts, r->element[1], authors, 0) < 0) {
        snap_failed(sn, s, "scan", error ? error : "odd reply or out of memory");
        return;
    }
    sn->chunks++;
    snprintf(sn->cursor, sizeof sn->cursor, "%s", r->element[0]->str);
    if (!strcmp(sn->cursor, "0"))
        sn->key++;
    if (sn->key > sn->nmodels)
        snap_finish(sn, s);
    else
        snap_scan(sn, s);
}

static void snap_scan(struct snapshot *sn, struct tailed_site *s)
{
    char key[400];
    if (sn->key == 0)
        store_key(key, sizeof key, sn->site, "authors");
    else {
        char suffix[300];
        snprintf(suffix, sizeof suffix, "learned:%s", sn->models[sn->key - 1].name);
        store_key(key, sizeof key, sn->site, suffix);
    }
    const char *argv[] = { "HSCAN", key, sn->cursor, "COUNT", SCAN_COUNT };
    if (store_command(sn->l->st, 5, argv, NULL, on_chunk, sn) < 0) {
        s->busy = 0;
        snapshot_free(sn);
    }
}

/* ---- 1. begin ---- */

/* KEYS: 1 learned hash, 2 learn log. {learned hash, last log id}. */
static const char begin_script[] =
    "local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)\n"
    "return {redis.call('HGETALL', KEYS[1]), last[1] and last[1][1] or '0-0'}\n";

static void on_begin(void *arg, const redisReply *r, const char *error)
{
    struct snapshot *sn = arg;
    struct tailed_site *s = snap_site(sn);
    if (!s)
        return;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_ARRAY ||
        r->element[1]->type != REDIS_REPLY_STRING || snap_models_of(sn, r->element[0]) < 0) {
        snap_failed(sn, s, "begin", error);
        return;
    }
    sn->seq0 = (long long)hash_num(r->element[0], "seq");
    snprintf(sn->id0, sizeof sn->id0, "%s", r->element[1]->str);
    snap_scan(sn, s);
}

/* Start loading s (tries: how many chunked loads the log outran). */
static void snap_begin(struct learner *l, struct tailed_site *s, int tries)
{
    struct snapshot *sn = calloc(1, sizeof *sn);
    if (!sn) {
        s->busy = 0;
        return;
    }
    sn->l = l;
    sn->tries = tries;
    snprintf(sn->site, sizeof sn->site, "%s", s->name);
    snprintf(sn->cursor, sizeof sn->cursor, "0");
    s->busy = 1;
    if (tries >= SNAP_TRIES) {
        snap_whole(sn, s);
        return;
    }
    char docs[128], logk[128];
    store_key(docs, sizeof docs, s->name, "learned");
    store_key(logk, sizeof logk, s->name, "learnlog");
    const char *argv[] = { "2", docs, logk };
    if (store_eval(l->st, begin_script, 3, argv, NULL, on_begin, sn) < 0) {
        s->busy = 0;
        snapshot_free(sn);
    }
}

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
    snap_begin(l, s, 0);
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
                    counts_changed(l);
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
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->wake, NULL);
    l->indexer_running = pthread_create(&l->indexer, NULL, indexer_main, l) == 0;
    if (!l->indexer_running)
        log_warn("learning: no indexer thread: a moderating site scores from its counts (slower, same scores)");
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
    if (l->indexer_running) {
        pthread_mutex_lock(&l->mu);
        atomic_store(&l->indexer_stop, 1);
        pthread_cond_signal(&l->wake);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->indexer, NULL);
        l->indexer_running = 0;
    }
}

void learner_free(struct learner *l)
{
    if (!l)
        return;
    learner_stop(l);   /* joins the indexer when learner_stop was not called */
    event_free(l->tick);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->wake);
    free(l->sites);
    free(l);
}
