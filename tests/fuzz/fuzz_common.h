/* fuzz_common.h — what the intake fuzzers share: the starter rules, loaded
 * once (PCRE2 only: the Hyperscan build thread would only slow the fuzzer),
 * and validate + score of a parsed comment. */
#ifndef RAQIB_FUZZ_COMMON_H
#define RAQIB_FUZZ_COMMON_H

#include <stdio.h>
#include <stdlib.h>

#include "raqib/comment.h"
#include "raqib/engine.h"
#include "raqib/rules.h"
#include "raqib/validate.h"

static struct ruleset *fuzz_rules;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[1024];
    setenv("RAQIB_NO_HYPERSCAN", "1", 1);
    const char *dir = getenv("RAQIB_FUZZ_RULES");
    fuzz_rules = ruleset_load(dir ? dir : "rules", err, sizeof err);
    if (!fuzz_rules) {
        fprintf(stderr, "fuzz: rules: %s (run from the repository root or set RAQIB_FUZZ_RULES)\n", err);
        exit(1);
    }
    return 0;
}

static void fuzz_validate_and_score(const struct comment *c)
{
    struct validation v;
    char err[256];
    if (validate_comment(c, &v) > 0)
        return;
    struct engine_signals sig = { .honeypot = c->honeypot_filled };
    struct verdict out;
    if (engine_score(fuzz_rules, c, &sig, &out, err, sizeof err) == 0)
        verdict_free(&out);
}

#endif
