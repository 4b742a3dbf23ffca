/* prefilter.h — Hyperscan in front of the PCRE2 rule patterns.
 *
 * At load, every `match`, `unless` and `words` pattern of a ruleset joins one
 * Hyperscan database per (field, view): exact where Hyperscan supports the
 * pattern or its superset form (hsform.h: whole-word lookarounds and \b made
 * characters), HS_FLAG_PREFILTER where it does not (a superset too),
 * always UTF8 + UCP + SINGLEMATCH. A pattern Hyperscan rejects outright is
 * left out and PCRE2 runs it on every comment, as before. While scoring, the
 * engine scans each (field, view) text once and asks for every condition
 * whether it is a candidate; only candidates reach PCRE2, which stays the
 * judge, so verdicts are those of PCRE2 alone.
 *
 * Built without Hyperscan (no RAQIB_HAVE_HYPERSCAN), prefilter_build makes
 * nothing and every condition is a candidate. RAQIB_NO_HYPERSCAN=1 in the
 * environment does the same at load time (for comparisons and as an escape
 * hatch). Pure module. */
#ifndef RAQIB_PREFILTER_H
#define RAQIB_PREFILTER_H

#include <stddef.h>
#include <stdint.h>

struct rule_table;
struct prefilter;   /* immutable once built; lives in the ruleset */

/* Build the databases for a rule set's conditions (rule_cond.h). Returns 0
 * with *out set, or with *out NULL when there is nothing to build (no
 * Hyperscan, disabled, no patterns); -1 when out of memory, with err filled. */
int prefilter_build(const struct rule_table *t, struct prefilter **out, char *err, size_t errlen);
void prefilter_free(struct prefilter *pf);

/* Build in a detached background thread and hand the result (NULL when there
 * is nothing, or on failure, which is logged) to done(arg, pf), from that
 * thread. When there is nothing to build, done runs at once in the caller.
 * Returns 0 when done will run (or ran), -1 when no thread could be started
 * (done will not run). t, and the conditions it points to, must stay alive
 * until done runs. */
int prefilter_build_async(const struct rule_table *t,
                          void (*done)(void *arg, struct prefilter *pf), void *arg);

/* How the patterns were placed: exact in a database, in prefilter mode, or
 * left to PCRE2 alone. pf may be NULL (all zero). */
struct prefilter_counts {
    size_t exact, prefiltered, direct, databases;
    size_t rewritten;   /* of exact: their superset form (hsform.h) */
    size_t literal;     /* `words` lists and `match` patterns found by literals, edges checked after */
};
void prefilter_counts(const struct prefilter *pf, struct prefilter_counts *out);

/* 1 when this binary was built with Hyperscan. */
int prefilter_available(void);

/* The state of one scoring call. pf may be NULL (everything a candidate). */
struct prefilter_run {
    const struct prefilter *pf;
    uint64_t *cand;          /* one bit per slot, per-thread buffer */
    uint32_t scanned[16];    /* per field slot: bit per view scanned */
    uint32_t failed[16];     /* per field slot: bit per view whose scan failed */
    unsigned long call;      /* this call's number, for the literal groups seen */
};

void prefilter_begin(struct prefilter_run *run, const struct prefilter *pf);

/* May condition `cond` of rule `rule` match field `field` (a comment_field,
 * or RULE_FIELD_FLAGS) whose text in the condition's view is s[0..len)?
 * Returns 0 only when it certainly cannot; 1 when PCRE2 must decide. Scans
 * the text on the first question about its (field, view). */
int prefilter_candidate(struct prefilter_run *run, size_t rule, size_t cond, int field,
                        const char *s, size_t len);

/* Visiting only the rules that can hit. A rule's gate is its first
 * condition that is positive, reads one named field (or flags) and is in a
 * database; a rule whose gate is no candidate cannot hit. The engine asks
 * for the i-th text holding gates (0 when i is past the last, or without
 * databases), scans each with prefilter_scan, then prefilter_rules gives one
 * bit per rule to visit: every candidate's rule and every rule without a
 * gate. NULL means visit them all (no databases, a gate text left unscanned,
 * a failed scan, no memory). The bits are per-thread, valid until the next
 * call. */
int prefilter_gate_text(const struct prefilter_run *run, size_t i, int *field, int *view);
void prefilter_scan(struct prefilter_run *run, int field, int view, const char *s, size_t len);
const uint64_t *prefilter_rules(struct prefilter_run *run);

/* Keep compiled databases in dir (created if missing; NULL or "" = no
 * cache), so a start or reload with rules compiled before skips the compile,
 * which takes seconds to minutes. Call once, before any load. */
void prefilter_set_cache_dir(const char *dir);

/* Free the calling thread's Hyperscan scratch (engine_thread_done calls it). */
void prefilter_thread_done(void);

#endif
