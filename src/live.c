/* live.c — each site's learned counts in memory, for scoring (live.h).
 *
 * A small array of sites, each with a small array of models: a news group
 * runs a handful of sites and a rule set reads two or three models, so a
 * linear look-up by name costs less than the hashing. One read-write lock
 * guards it all: scoring reads (workers in parallel), applying a decision
 * writes for the microseconds its tokens take. A moderating site's counts
 * change every token's probability, so each (site, model) may also hold a
 * joint index of the prior and its counts (learn_model_joint_index), built
 * off the lock by the learner's thread and used only while current. Pure
 * module. */
#include "raqib/live.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "raqib/learn.h"
#include "raqib/normalize.h"
#include "raqib/rules.h"

#define SITE_NAME_MAX 65
#define MODELS_PER_SITE 8
#define LIVE_JOINT_MAX  64      /* joint indexes held at once (sites × models): ≈ 4 MB each for
                                   the shipped n-gram model, ≈ 1 MB for the words model */

struct live_model {
    char name[256];
    struct learn_model *counts;
    unsigned long version;              /* moved by every change of counts */
    struct learn_model *joint;          /* learn_model_joint_index of a prior and counts, or NULL */
    unsigned long joint_version;        /* the counts' version it was made from */
    unsigned long joint_prior;          /* and the prior's learn_model_serial */
};

struct live_site {
    char name[SITE_NAME_MAX];
    struct live_model models[MODELS_PER_SITE];
    size_t nmodels;
    unsigned long decisions;
    long long last_ms;
};

struct live {
    pthread_rwlock_t lock;
    struct live_site **sites;
    size_t nsites;
    size_t max_tokens;
};

struct live *live_new(size_t max_tokens)
{
    struct live *lv = calloc(1, sizeof *lv);
    if (!lv)
        return NULL;
    if (pthread_rwlock_init(&lv->lock, NULL) != 0) {
        free(lv);
        return NULL;
    }
    lv->max_tokens = max_tokens;
    return lv;
}

static void site_free(struct live_site *s)
{
    for (size_t i = 0; i < s->nmodels; i++) {
        learn_model_free(s->models[i].counts);
        learn_model_free(s->models[i].joint);
    }
    free(s);
}

void live_free(struct live *lv)
{
    if (!lv)
        return;
    for (size_t i = 0; i < lv->nsites; i++)
        site_free(lv->sites[i]);
    free(lv->sites);
    pthread_rwlock_destroy(&lv->lock);
    free(lv);
}

static struct live_site *find_site(const struct live *lv, const char *site)
{
    for (size_t i = 0; i < lv->nsites; i++)
        if (strcmp(lv->sites[i]->name, site) == 0)
            return lv->sites[i];
    return NULL;
}

static struct live_model *find_model(struct live_site *s, const char *model)
{
    for (size_t i = 0; s && i < s->nmodels; i++)
        if (strcmp(s->models[i].name, model) == 0)
            return &s->models[i];
    return NULL;
}

/* Is m's joint index made from the counts it holds and for prior? */
static int joint_current(const struct live_model *m, const struct learn_model *prior)
{
    return m->joint && m->joint_version == m->version && m->joint_prior == learn_model_serial(prior);
}

double live_score_text(const struct live *lv, const char *site, const char *model, const struct learn_model *prior,
                       const struct learn_text *text)
{
    if (!lv)
        return learn_text_score(text, prior, NULL);
    pthread_rwlock_rdlock((pthread_rwlock_t *)&lv->lock);
    const struct live_model *m = find_model(find_site(lv, site), model);
    const struct learn_model *joint = m && joint_current(m, prior) ? m->joint : NULL;
    double p = learn_text_score_joint(text, prior, m ? m->counts : NULL, joint);
    pthread_rwlock_unlock((pthread_rwlock_t *)&lv->lock);
    return p;
}

double live_score(const struct live *lv, const char *site, const char *model, const struct learn_model *prior,
                  const char *norm, size_t len)
{
    struct learn_text text;
    learn_text_list(&text, norm, len, prior ? learn_model_get_tokens(prior) : LEARN_TOKENS_WORDS);
    double p = live_score_text(lv, site, model, prior, &text);
    learn_text_free(&text);
    return p;
}

/* The site, added when new; NULL when out of memory or the name is too long. */
static struct live_site *site_for(struct live *lv, const char *site)
{
    struct live_site *s = find_site(lv, site);
    if (s || strlen(site) >= SITE_NAME_MAX)
        return s;
    struct live_site **grown = realloc(lv->sites, (lv->nsites + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    lv->sites = grown;
    if (!(s = calloc(1, sizeof *s)))
        return NULL;
    strcpy(s->name, site);
    lv->sites[lv->nsites++] = s;
    return s;
}

/* The site's counts for model, made for tokens of kinds when new; NULL when
 * out of memory, too many models, or kinds differs from the counts held. */
static struct live_model *model_for(struct live_site *s, const char *model, unsigned kinds)
{
    struct live_model *m = find_model(s, model);
    if (m)
        return learn_model_get_tokens(m->counts) == kinds ? m : NULL;
    if (s->nmodels == MODELS_PER_SITE || strlen(model) >= sizeof m->name)
        return NULL;
    m = &s->models[s->nmodels];
    if (!(m->counts = learn_model_new()))
        return NULL;
    learn_model_set_tokens(m->counts, kinds);
    strcpy(m->name, model);
    s->nmodels++;
    return m;
}

/* site's counts for model, both made when new; the write lock held. */
static struct live_model *site_model(struct live *lv, const char *site, const char *model, unsigned kinds)
{
    struct live_site *s = site_for(lv, site);
    return s ? model_for(s, model, kinds) : NULL;
}

int live_apply(struct live *lv, const char *site, const char *model, unsigned kinds, const uint64_t *tokens,
               size_t n, int from, int to)
{
    if (from == to)
        return 0;
    int rc = -1;
    pthread_rwlock_wrlock(&lv->lock);
    struct live_model *m = site_model(lv, site, model, kinds);
    if (m) {
        rc = 0;
        if (from >= 0)
            rc = learn_model_apply(m->counts, tokens, n, from, -1, lv->max_tokens);
        if (rc == 0 && to >= 0)
            rc = learn_model_apply(m->counts, tokens, n, to, +1, lv->max_tokens);
        m->version++;
    }
    pthread_rwlock_unlock(&lv->lock);
    return rc;
}

int live_add_counts(struct live *lv, const char *site, const char *model, unsigned kinds, const uint64_t *tokens,
                    const unsigned long *pos, const unsigned long *neg, size_t n, unsigned long docs_pos,
                    unsigned long docs_neg)
{
    int rc = -1;
    pthread_rwlock_wrlock(&lv->lock);
    struct live_model *m = site_model(lv, site, model, kinds);
    if (m) {
        rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++) {
            if (lv->max_tokens && learn_model_tokens(m->counts) >= lv->max_tokens)
                break;
            rc = learn_model_add_counts(m->counts, tokens[i], pos[i], neg[i]);
        }
        learn_model_add_docs(m->counts, docs_pos, docs_neg);
        m->version++;
    }
    pthread_rwlock_unlock(&lv->lock);
    return rc;
}

void live_set_decisions(struct live *lv, const char *site, unsigned long decisions, long long last_ms)
{
    pthread_rwlock_wrlock(&lv->lock);
    struct live_site *s = site_for(lv, site);
    if (s) {
        s->decisions = decisions;
        s->last_ms = last_ms;
    }
    pthread_rwlock_unlock(&lv->lock);
}

void live_note_decision(struct live *lv, const char *site, long long at_ms)
{
    pthread_rwlock_wrlock(&lv->lock);
    struct live_site *s = site_for(lv, site);
    if (s) {
        s->decisions++;
        if (at_ms > s->last_ms)
            s->last_ms = at_ms;
    }
    pthread_rwlock_unlock(&lv->lock);
}

void live_forget_site(struct live *lv, const char *site)
{
    pthread_rwlock_wrlock(&lv->lock);
    for (size_t i = 0; i < lv->nsites; i++) {
        if (strcmp(lv->sites[i]->name, site) == 0) {
            site_free(lv->sites[i]);
            lv->sites[i] = lv->sites[--lv->nsites];
            break;
        }
    }
    pthread_rwlock_unlock(&lv->lock);
}

/* Whether (site, model) wants a joint index built for prior: it has counts
 * of the prior's kind of tokens, none is current, and the bound on how
 * many are held leaves room. The read lock held. */
static int wants_joint(const struct live *lv, const struct live_model *m, const struct learn_model *prior)
{
    size_t held = 0;
    for (size_t i = 0; i < lv->nsites; i++)
        for (size_t k = 0; k < lv->sites[i]->nmodels; k++)
            held += lv->sites[i]->models[k].joint != NULL;
    return m && (learn_model_docs(m->counts, 0) || learn_model_docs(m->counts, 1)) &&
           learn_model_get_tokens(m->counts) == learn_model_get_tokens(prior) &&
           !joint_current(m, prior) &&
           (m->joint || held < LIVE_JOINT_MAX);
}

/* Build (site, model)'s joint index for prior when it wants one: from a
 * copy of the counts taken under the read lock, with no lock held while
 * it builds (milliseconds: the learner, which writes, must not wait), put
 * in place under the write lock unless the counts moved meanwhile. 1 when
 * one was put in place. */
static int refresh_one(struct live *lv, const char *site, const char *model, const struct learn_model *prior)
{
    pthread_rwlock_rdlock(&lv->lock);
    struct live_model *m = find_model(find_site(lv, site), model);
    struct learn_model *copy = wants_joint(lv, m, prior) ? learn_model_copy(m->counts) : NULL;
    unsigned long version = m ? m->version : 0;
    pthread_rwlock_unlock(&lv->lock);
    if (!copy)
        return 0;
    struct learn_model *joint = learn_model_joint_index(prior, copy);
    learn_model_free(copy);
    int placed = 0;
    pthread_rwlock_wrlock(&lv->lock);
    m = find_model(find_site(lv, site), model);
    if (joint && m && m->version == version) {
        struct learn_model *old = m->joint;
        m->joint = joint;
        m->joint_version = version;
        m->joint_prior = learn_model_serial(prior);
        joint = old;
        placed = 1;
    }
    pthread_rwlock_unlock(&lv->lock);
    learn_model_free(joint);
    return placed;
}

size_t live_refresh_joint(struct live *lv, const struct live_model_ref *refs, size_t n, const atomic_int *stop)
{
    char (*names)[SITE_NAME_MAX] = NULL;
    size_t nsites = 0, placed = 0;
    pthread_rwlock_rdlock(&lv->lock);
    if ((names = malloc((lv->nsites ? lv->nsites : 1) * sizeof *names)))
        for (nsites = 0; nsites < lv->nsites; nsites++)
            strcpy(names[nsites], lv->sites[nsites]->name);
    pthread_rwlock_unlock(&lv->lock);
    for (size_t i = 0; i < nsites && !(stop && atomic_load(stop)); i++)
        for (size_t k = 0; k < n && !(stop && atomic_load(stop)); k++)
            placed += (size_t)refresh_one(lv, names[i], refs[k].name, refs[k].model);
    free(names);
    return placed;
}

int live_site_stats(const struct live *lv, const char *site, struct live_site_stats *out)
{
    memset(out, 0, sizeof *out);
    pthread_rwlock_rdlock((pthread_rwlock_t *)&lv->lock);
    struct live_site *s = find_site(lv, site);
    if (s) {
        out->decisions = s->decisions;
        out->last_ms = s->last_ms;
        out->nmodels = s->nmodels;
        for (size_t i = 0; i < s->nmodels; i++) {
            struct live_model_stats *st = &out->models[i];
            strcpy(st->model, s->models[i].name);
            st->positive = learn_model_docs(s->models[i].counts, 1);
            st->negative = learn_model_docs(s->models[i].counts, 0);
            st->tokens = learn_model_tokens(s->models[i].counts);
        }
    }
    pthread_rwlock_unlock((pthread_rwlock_t *)&lv->lock);
    return s ? 0 : -1;
}

size_t live_memory(const struct live *lv)
{
    size_t bytes = sizeof *lv;
    pthread_rwlock_rdlock((pthread_rwlock_t *)&lv->lock);
    for (size_t i = 0; i < lv->nsites; i++) {
        bytes += sizeof *lv->sites[i];
        for (size_t k = 0; k < lv->sites[i]->nmodels; k++)
            bytes += learn_model_bytes(lv->sites[i]->models[k].counts) +
                     learn_model_bytes(lv->sites[i]->models[k].joint);
    }
    pthread_rwlock_unlock((pthread_rwlock_t *)&lv->lock);
    return bytes;
}

long live_content_tokens(const struct learn_model *model, const char *content, size_t len, uint64_t **out)
{
    struct norm_text nt;
    *out = NULL;
    if (norm_text_build_views(&nt, content, len, 1, 1u << VIEW_NORM) < 0) {
        norm_text_free(&nt);
        return -1;
    }
    const char *norm = nt.view[VIEW_NORM] ? nt.view[VIEW_NORM] : "";
    long n = learn_doc_tokens(learn_model_get_tokens(model), norm, nt.len[VIEW_NORM], out);
    norm_text_free(&nt);
    return n;
}

int live_learn(struct live *lv, const struct ruleset *rs, const char *site, const char *content, size_t len,
               const char *from, const char *to, long long at_ms)
{
    struct live_model_ref refs[MODELS_PER_SITE];
    size_t n = ruleset_live_models(rs, refs, MODELS_PER_SITE);
    for (size_t i = 0; i < n; i++) {
        int a = from ? learn_model_label_side(refs[i].model, from) : -1;
        int b = learn_model_label_side(refs[i].model, to);
        if (a == b)
            continue;
        uint64_t *tokens;
        long k = live_content_tokens(refs[i].model, content, len, &tokens);
        int rc = k < 0 ? -1
               : live_apply(lv, site, refs[i].name, learn_model_get_tokens(refs[i].model), tokens, (size_t)k, a, b);
        free(tokens);
        if (rc < 0)
            return -1;
    }
    live_note_decision(lv, site, at_ms);
    return 0;
}
