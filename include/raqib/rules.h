/* rules.h — rule files: parse, compile, hold.
 *
 * Reads every *.rules file of a folder in name order (or one file) with the
 * grammar of shared/design/rules.md (rule, match, words, links, score,
 * describe, approve, threshold) and compiles each pattern once with PCRE2 (UTF, UCP,
 * JIT). A struct ruleset is immutable once loaded and reference-counted, so a
 * reload can build a new one aside and swap it in while requests finish on
 * the old one. Pure module. */
#ifndef RAQIB_RULES_H
#define RAQIB_RULES_H

#include <stddef.h>

#include "raqib/rule_cond.h"

struct ruleset;
struct learn_model;

/* What a rule is, for listings, matches and metrics. Pointers live as long
 * as the ruleset. */
struct rule_info {
    const char *name;
    const char *description;  /* "" when the rule has none */
    const char *file;         /* file name relative to the rules folder */
    int line;                 /* line of the `rule` keyword */
    double score;
    int approve;              /* `approve`: approves when no positive-score rule hit */
    const char *kind;         /* "match", "words", "links" or "learned" */
    const char *field;        /* "content", "any", "flags", … */
    const char *view;         /* "norm", "raw", … */
    const struct learn_model *model;  /* kind "learned": its model, else NULL */
    const char *model_file;   /* kind "learned": the MODEL as written in the rule */
};

/* Load every *.rules file under path (a folder, or one file) into a new
 * ruleset with a reference count of 1. On failure returns NULL and writes
 * "file:line: what is wrong" into err; nothing else is touched. */
struct ruleset *ruleset_load(const char *path, char *err, size_t errlen);

/* Reference counting (atomic): retain returns rs; release frees at zero. */
struct ruleset *ruleset_retain(struct ruleset *rs);
void ruleset_release(struct ruleset *rs);

size_t ruleset_size(const struct ruleset *rs);

/* Where a `words FIELD FILE` list lives: FILE if absolute, else under dir
 * (the rules folder). The loader and the linter read the same file. */
void rules_words_path(const char *dir, const char *name, char *buf, size_t len);
void ruleset_rule_info(const struct ruleset *rs, size_t i, struct rule_info *out);

/* Index of the rule called name, or -1. */
long ruleset_find(const struct ruleset *rs, const char *name);

/* `threshold spam N` (default 10) and `threshold approve N` (absent unless
 * set: ruleset_approve_threshold then returns 0, else 1 and *out). */
double ruleset_spam_threshold(const struct ruleset *rs);
int ruleset_approve_threshold(const struct ruleset *rs, double *out);

/* The conditions of rule i (*out points into the ruleset); returns how many. */
size_t ruleset_rule_conds(const struct ruleset *rs, size_t i, const struct rule_cond **out);

/* The Hyperscan databases of rs (prefilter.h). ruleset_load starts building
 * them in a background thread (a large rule set takes seconds to minutes);
 * until they are published this returns NULL and PCRE2 runs every pattern,
 * with the same verdicts. NULL also when there are none. */
struct prefilter;
const struct prefilter *ruleset_prefilter(const struct ruleset *rs);

/* Wait up to seconds for that build to finish (published or given up);
 * 0 when it has, -1 on timeout. For tests, benchmarks and the CLI. */
int ruleset_prefilter_wait(const struct ruleset *rs, double seconds);

/* The views (bits 1u << enum norm_view) that some condition reads from
 * comment field `field`, plus NORM_WANT_FLAGS on content and author when a
 * rule reads the flags pseudo-field; 0 when nothing is read. */
unsigned ruleset_field_views(const struct ruleset *rs, int field);

/* The tokens (LEARN_TOKENS_* bits) some learned model of the rules counts:
 * the engine lists a text's tokens once for all of them. */
unsigned ruleset_learn_kinds(const struct ruleset *rs);

/* The models some `learned … site` rule reads: their names as the rules
 * write them (the key a site's counts are kept under) and the models.
 * Fills up to cap, each model once; returns how many. */
struct live_model_ref {
    const char *name;
    const struct learn_model *model;
};
size_t ruleset_live_models(const struct ruleset *rs, struct live_model_ref *out, size_t cap);

/* Name of a rule field ("content", "any", "flags", …). */
const char *rule_field_name(int field);

#endif
