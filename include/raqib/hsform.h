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
 * flag, …) leaves the pattern as it was. Pure module, no Hyperscan needed. */
#ifndef RAQIB_HSFORM_H
#define RAQIB_HSFORM_H

#include <stddef.h>

/* The superset form of pattern (compiled with the PCRE2 options, which
 * must include UTF and UCP), malloc'd; NULL when the pattern needs no
 * rewrite, cannot be rewritten, or on allocation failure. */
char *hsform_superset(const char *pattern, unsigned pcre2_options);

#endif
