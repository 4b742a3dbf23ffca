/* live.h — what each site's moderators have taught the learned models, in
 * memory, for scoring.
 *
 * A `learned … site` rule reads a shipped model (the prior) plus the counts
 * of one site's own moderator decisions. Those counts live in Redis (the
 * learner module keeps them there and tails them); every daemon mirrors
 * them here, per site and model, so scoring a comment costs no Redis read.
 * Worker threads score under a read lock; the learner applies decisions
 * under the write lock (decisions come at a human pace). A site with no
 * learned decision scores exactly as the prior alone. Memory is bounded
 * per site and model by max_tokens (learn_model_apply). Pure module. */
#ifndef RAQIB_LIVE_H
#define RAQIB_LIVE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct learn_model;
struct live;

/* An empty registry; max_tokens bounds each site's model (0: unbounded).
 * NULL when out of memory. */
struct live *live_new(size_t max_tokens);
void live_free(struct live *lv);

/* The score of prior on norm with site's counts for model (the model's name
 * as rules write it) added: learn_model_score_site. lv NULL, or a site or
 * model with no counts: prior's own score. */
double live_score(const struct live *lv, const char *site, const char *model, const struct learn_model *prior,
                  const char *norm, size_t len);

/* Bring every site's joint indexes (learn_model_joint_index: its counts
 * and the prior together, which score a moderating site as cheaply as the
 * prior alone) up to date for the priors of refs, at most LIVE_JOINT_MAX in
 * all. live_score uses one only while the counts it was made from are the
 * counts held and the prior is the one scoring; else it scores from the
 * counts, to the same bit. Takes milliseconds per index and no lock while
 * building: for a background thread (the learner's). Returns how many it
 * built. The priors must stay alive until it returns. Stops between two
 * builds once *stop (when not NULL) is set: a daemon shutting down does not
 * wait for every site's. */
struct live_model_ref;
size_t live_refresh_joint(struct live *lv, const struct live_model_ref *refs, size_t n, const atomic_int *stop);

/* live_score of a text already listed (learn_text_list), so that the models
 * scoring one comment share one tokenization. */
struct learn_text;
double live_score_text(const struct live *lv, const char *site, const char *model, const struct learn_model *prior,
                       const struct learn_text *text);

/* Move one comment's tokens for site and model from side `from` to side
 * `to` (1 positive, 0 negative, -1 not counted): a first decision counts
 * them, a correction takes them back from one side and counts them on the
 * other, so nothing counts twice. kinds is the model's tokens (learn.h).
 * 0, or -1 when out of memory or kinds differs from what the site's counts
 * for model already hold. */
int live_apply(struct live *lv, const char *site, const char *model, unsigned kinds, const uint64_t *tokens,
               size_t n, int from, int to);

/* The tokens model counts for a comment's content, folded as the engine
 * folds content (HTML references decoded, norm view), in a malloc'd array
 * in *out the caller frees. How many, or -1 when out of memory. */
long live_content_tokens(const struct learn_model *model, const char *content, size_t len, uint64_t **out);

/* Learn, in lv alone, a moderator's decision on one comment of site: for
 * every model a `learned … site` rule of rs reads, its tokens move from the
 * side status `from` counted on (NULL: none yet) to the side of `to`, by
 * the model's labels. What `raqib replay` and the tests use; the daemon
 * does the same through Redis (learner.h). 0, or -1 when out of memory. */
struct ruleset;
int live_learn(struct live *lv, const struct ruleset *rs, const char *site, const char *content, size_t len,
               const char *from, const char *to, long long at_ms);

/* Add stored counts to site's counts for model (loading a snapshot after
 * live_forget_site): tokens[i] with pos[i], neg[i], and the comments.
 * 0, or -1 as live_apply. */
int live_add_counts(struct live *lv, const char *site, const char *model, unsigned kinds, const uint64_t *tokens,
                    const unsigned long *pos, const unsigned long *neg, size_t n, unsigned long docs_pos,
                    unsigned long docs_neg);

/* Note that one decision on site was learned at at_ms (for /v1/rules);
 * live_set_decisions sets the count and time as stored. */
void live_note_decision(struct live *lv, const char *site, long long at_ms);
void live_set_decisions(struct live *lv, const char *site, unsigned long decisions, long long last_ms);

/* Forget everything about site (before its counts are loaded afresh). */
void live_forget_site(struct live *lv, const char *site);

/* What is known of one site's learning, for operators. */
struct live_model_stats {
    char model[256];
    unsigned long positive, negative;   /* comments counted on each side */
    size_t tokens;
};
struct live_site_stats {
    unsigned long decisions;            /* decisions learned (all daemons, as stored) */
    long long last_ms;                  /* when the last was learned (0: none) */
    size_t nmodels;
    struct live_model_stats models[8];
};

/* Fill out for site; 0, or -1 when nothing is known of it. */
int live_site_stats(const struct live *lv, const char *site, struct live_site_stats *out);

/* Bytes held by all sites' counts (an estimate: table slots). */
size_t live_memory(const struct live *lv);

#endif
