/* lint.h — warnings about rule files that load but will not do what the
 * operator meant (`raqib rules lint`).
 *
 * Run after ruleset_load succeeded on the same path: it re-reads the files
 * for the text and line of each condition and probes the compiled patterns.
 * Pure module. */
#ifndef RAQIB_LINT_H
#define RAQIB_LINT_H

#include <stddef.h>

struct ruleset;

/* Called once per warning; file is the rule (or list) file's display name. */
typedef void (*lint_warn_fn)(void *arg, const char *file, int line, const char *message);

/* Warn, for every rule of rs loaded from path, about:
 *   - patterns that hit the PCRE2 match or depth limit, or run longer than
 *     probe_ms, on adversarial inputs (long runs of one character, repeated
 *     alternations, "aaaa…!"), folded to the pattern's view (ReDoS);
 *   - escapes that name characters the view never contains (\s or \. in
 *     squash, \x{640} tatweel or harakat outside raw), which make that part
 *     of the pattern impossible;
 *   - alternatives shorter than 6 letters in squash/skel, which match inside
 *     unrelated words there;
 *   - words-list entries that folding changes ("entry 'X' is matched as 'Y'").
 * Returns the number of warnings, or -1 when a file could not be read. */
long rules_lint(const struct ruleset *rs, const char *path, double probe_ms, lint_warn_fn cb, void *arg);

#endif
