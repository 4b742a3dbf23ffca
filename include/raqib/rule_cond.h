/* rule_cond.h — one condition of a rule, as the loader (rules.c) makes it
 * and the scorers (engine.c, prefilter.c) read it; and the table of all of
 * a rule set's conditions that the prefilter is built from. A contract
 * header with no module behind it, so the prefilter needs nothing of
 * rules.c (which starts the prefilter's build) and the two do not depend on
 * each other. */
#ifndef RAQIB_RULE_COND_H
#define RAQIB_RULE_COND_H

#include <stddef.h>

struct learn_model;

/* How a rule is evaluated. A rule holds one or more conditions; it hits when every `match`, `words`
 * and `links` condition holds and no `unless` condition does. Conditions are
 * immutable and shared read-only between threads. */
enum rule_cond_kind { RULE_COND_MATCH = 0, RULE_COND_WORDS, RULE_COND_LINKS, RULE_COND_LEARNED };
enum rule_link_op { RULE_LINK_GE = 0, RULE_LINK_GT, RULE_LINK_EQ, RULE_LINK_LT, RULE_LINK_LE };

#define RULE_FIELD_ANY   (-1)  /* every text field but ip, first hit reported */
#define RULE_FIELD_FLAGS (-2)  /* the pseudo-field of signals, raw view only */

struct pcre2_real_code_8;      /* pcre2_code with PCRE2_CODE_UNIT_WIDTH 8 */

struct rule_cond {
    enum rule_cond_kind kind;
    int negate;                /* 1 for `unless`: the rule fails when it holds */
    int field;                 /* enum comment_field, RULE_FIELD_ANY or _FLAGS */
    int view;                  /* enum norm_view the pattern runs on */
    const struct pcre2_real_code_8 *code;  /* MATCH and WORDS */
    const char *pattern;       /* MATCH and WORDS: the pattern as compiled (folded for view) */
    unsigned options;          /* MATCH and WORDS: PCRE2 options besides UTF and UCP (i, m, s, x) */
    enum rule_link_op op;      /* LINKS: count OP n; LEARNED: score OP p */
    long n;
    const struct learn_model *model;  /* LEARNED: owned by the ruleset */
    const char *phrases;       /* WORDS: the list's phrases folded for view, each
                                  ending in NUL, the last followed by another NUL */
    const char *proclitics;    /* WORDS with clitics: the proclitics a phrase may
                                  follow (besides none), folded, listed the same way;
                                  else NULL */
    const char *model_file;    /* LEARNED: MODEL as written in the rule */
    int site;                  /* LEARNED: 1 when the site's own decisions add to the model (`site`) */
    double p;
};

/* Every rule's conditions, in rule order: rule i has nconds[i] conditions
 * at conds[i]. Built by rules.c, read by prefilter_build. */
struct rule_table {
    size_t nrules;
    const struct rule_cond *const *conds;
    const size_t *nconds;
};

#endif
