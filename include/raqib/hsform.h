/* hsform.h — the Hyperscan form of a PCRE2 rule pattern.
 *
 * Hyperscan rejects lookarounds, and \b under UCP, so most rule patterns
 * (whole words: (?<!\p{L})…(?!\p{L}), \b…\b) only go in as prefilters, whose
 * loose matches send nearly every comment to PCRE2. PCRE2 confirms every
 * Hyperscan candidate anyway, so Hyperscan may match more than the pattern,
 * never less. hsform_superset rewrites a pattern into one Hyperscan takes
 * whole and that matches wherever the original does (a superset, as
 * existence of a match):
 *   - a lookaround, \b or \B at the very start of a match becomes the one
 *     character it looks at, consumed: (?<!\p{L})X -> (?:^|\P{L})X, and
 *     \bword -> (?:^|[^\p{L}\p{N}_])word when word surely starts with a word
 *     character; at the end likewise (X(?!\p{L}) -> X(?:\P{L}|$));
 *   - anywhere else it is dropped (a condition less);
 *   - atomic groups and possessive quantifiers become plain ones, captures
 *     become (?:…), \K and comments go.
 * Anything it does not understand (backreferences, conditionals, \Q, the x
 * flag, …) leaves the pattern as it was. hsform_factors gives instead the
 * literals every match contains, for a literal database. Pure module, no
 * Hyperscan needed. */
#ifndef RAQIB_HSFORM_H
#define RAQIB_HSFORM_H

#include <stddef.h>
#include <stdint.h>

/* The superset form of pattern (compiled with the PCRE2 options, which
 * must include UTF and UCP), malloc'd; NULL when the pattern needs no
 * rewrite, cannot be rewritten, or on allocation failure. */
char *hsform_superset(const char *pattern, unsigned pcre2_options);

/* Word edges a literal must stand between: none, not after (or before) a
 * letter, not after a letter or number, as the pattern's (?<!\p{L}),
 * (?<![\p{L}\p{N}]), their lookahead twins, or \b beside a word character
 * have it. */
enum { HSFORM_EDGE_NONE = 0, HSFORM_EDGE_L, HSFORM_EDGE_LN };

/* 1 when cp surely is what an edge of this kind may not have beside it:
 * the ASCII and Arabic letters (\p{L}), and for HSFORM_EDGE_LN also the
 * ASCII and Arabic digits (\p{N}) — hsform.c's L_SET and N_SET, which its
 * unit test checks against Unicode. Anything else may stand at an edge. */
int hsform_blocks_edge(int32_t cp, unsigned char edge);

#define HSFORM_GROUPS_MAX 8      /* groups one branch of a pattern requires */

struct hsform_lit {
    const char *s;              /* NUL-terminated, len bytes (in hsform_lits.bytes) */
    size_t len;
    unsigned char before, after;   /* HSFORM_EDGE_* */
    unsigned char bit;          /* its group's bit (0 to 63) */
    uint64_t need;              /* the bits of every group its branch requires */
};

/* Literals that find every text a pattern can match: the pattern's top-level
 * alternatives (branches) each require a literal of each of their groups, at
 * the edges given, so a text may match only when, for one branch, a literal
 * of every group of it stands there (the `need` bits all seen). A Hyperscan
 * literal database of them costs a fraction of what the pattern costs as a
 * prefilter (docs/performance.md). */
struct hsform_lits {
    struct hsform_lit *v;
    size_t n;
    char *bytes;                /* the literals' text, owned */
};

/* What hsform_factors works in; one kept across a rule set's patterns
 * spares the heap thousands of large allocations (hsform.c). */
struct hsform_scratch;
struct hsform_scratch *hsform_scratch_new(void);   /* NULL when out of memory */
void hsform_scratch_free(struct hsform_scratch *s);

/* The required literals of pattern (PCRE2 options as for hsform_superset;
 * caseless and extended patterns have none), when the strongest group of
 * each branch has min_strength or more (a group's strength: its weakest
 * literal's characters plus one for each edge it must stand at), worked out
 * in scratch (NULL: a scratch of its own). 0 and *out filled (free with
 * hsform_lits_free), or -1: none found, too weak, or out of memory. */
int hsform_factors(const char *pattern, unsigned pcre2_options, size_t min_strength,
                   struct hsform_scratch *scratch, struct hsform_lits *out);
void hsform_lits_free(struct hsform_lits *l);

#endif
