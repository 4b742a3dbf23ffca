/* engine.h — score one comment against a ruleset.
 *
 * Folds each field into the views its rules need (normalize.c), runs every
 * rule with PCRE2 under match and depth limits, sums the scores and decides:
 * spam at or above the spam threshold, approved at or below the approve
 * threshold when one is set, else pending. Pure module: the daemon and the
 * `raqib` CLI share it, so both score a comment the same way. */
#ifndef RAQIB_ENGINE_H
#define RAQIB_ENGINE_H

#include <stddef.h>

#include "raqib/comment.h"
#include "raqib/rules.h"

struct live;
struct author_counts;

enum decision { DECISION_PENDING = 0, DECISION_APPROVED, DECISION_SPAM };

/* Facts about the submission that are not in its text; they appear to rules
 * in the pseudo-field `flags` as words ("honeypot", "too_fast"), beside the
 * evasion counts normalization found ("tatweel_runs=3"). */
struct engine_signals {
    int honeypot;   /* the honeypot field was filled */
    int too_fast;   /* submitted sooner after form_rendered_at than allowed */
    /* The sites' own learned counts `learned … site` rules add to their
     * models (live.h); NULL: the models alone. */
    const struct live *live;
    /* What moderators decided about this commenter on this site
     * (reputation.h): it adds author_approved=N author_rejected=N
     * author_spam=N author_trusted author_blocked to `flags`. NULL: an
     * author not known (or reputation off). */
    const struct author_counts *author;
};

/* One rule that hit. Strings point into the ruleset: keep it retained while
 * the verdict is used. */
struct match {
    size_t rule_index;
    const char *rule;
    const char *description;
    const char *field;   /* the field that matched ("content", "flags", …) */
    double score;
    /* What the rule's first pattern matched, as it reads the text (a folded
     * view: no diacritics, unified letters), cut at a character boundary
     * below 64 bytes; "" when no pattern decided (learned, links, flags).
     * The console marks these words in the comment. */
    char matched[64];
};

struct verdict {
    enum decision status;
    double score;
    struct match *matches;  /* malloc'd, in rule order */
    size_t nmatches;
    unsigned limit_hits;    /* patterns stopped by the match/depth limit */
};

/* Status: spam at or above the spam threshold; approved at or below the
 * approve threshold, or when an `approve` rule hit and no rule with a
 * positive score did (a rule hit always wins over trust); else pending. */

/* Score c. Returns 0 and fills out (free with verdict_free), or -1 on
 * allocation failure with err filled. sig may be NULL. */
int engine_score(const struct ruleset *rs, const struct comment *c,
                 const struct engine_signals *sig, struct verdict *out,
                 char *err, size_t errlen);

void verdict_free(struct verdict *v);

const char *decision_name(enum decision d);

/* engine_score keeps per-thread PCRE2 scratch (match data, match context with
 * the limits, JIT stack) so the shared ruleset stays read-only. A thread that
 * scored comments calls this before it exits to free that scratch. */
void engine_thread_done(void);

/* Limits every pattern runs under (PCRE2 match and depth limits). */
#define ENGINE_MATCH_LIMIT 100000u
#define ENGINE_DEPTH_LIMIT 10000u

#endif
