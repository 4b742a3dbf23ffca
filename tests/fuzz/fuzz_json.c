/* fuzz_json — intake's pure body path for JSON: parse (comment.c), validate
 * (validate.c, email.c) and score against the starter rules (engine.c,
 * normalize.c), as POST /v1/comments does before it reaches the store. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct comment c = { 0 };
    struct parse_error pe = { 0 };
    if (comment_parse_json(&c, (const char *)data, size, "website2", &pe) == 0)
        fuzz_validate_and_score(&c);
    comment_free(&c);
    return 0;
}
