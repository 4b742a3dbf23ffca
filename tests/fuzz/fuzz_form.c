/* fuzz_form — intake's pure body path for application/x-www-form-urlencoded
 * (WordPress field names included): parse, validate, score. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct comment c = { 0 };
    struct parse_error pe = { 0 };
    if (comment_parse_form(&c, (const char *)data, size, "website2", &pe) == 0)
        fuzz_validate_and_score(&c);
    comment_free(&c);
    return 0;
}
