/* fuzz_json — intake's pure body path for JSON: parse (comment.c), validate
 * (validate.c, email.c) and score against the starter rules (engine.c,
 * normalize.c), as POST /v1/comments does before it reaches the store.
 * Also differential: whatever the fast JSON path reads, the jansson reader
 * must read the same way (it aborts otherwise). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

/* The fast path never accepts what jansson refuses, nor reads it differently. */
static void check_fast_path(const char *body, size_t size)
{
    struct comment fast = { 0 }, ref = { 0 };
    struct parse_error pe;
    if (comment_parse_json_fast(&fast, body, size, "website2")) {
        if (comment_parse_json_jansson(&ref, body, size, "website2", &pe) != 0)
            abort();
        for (int f = 0; f < CF_COUNT; f++)
            if (!fast.field[f] != !ref.field[f] ||
                (fast.field[f] && (fast.len[f] != ref.len[f] || memcmp(fast.field[f], ref.field[f], fast.len[f]))))
                abort();
        if (fast.honeypot_filled != ref.honeypot_filled || fast.has_form_rendered_at != ref.has_form_rendered_at ||
            fast.form_rendered_at != ref.form_rendered_at)
            abort();
    }
    comment_free(&fast);
    comment_free(&ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_fast_path((const char *)data, size);
    struct comment c = { 0 };
    struct parse_error pe = { 0 };
    if (comment_parse_json(&c, (const char *)data, size, "website2", &pe) == 0)
        fuzz_validate_and_score(&c);
    comment_free(&c);
    return 0;
}
