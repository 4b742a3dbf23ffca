/* fuzz_email — the e-mail syntax checker on arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raqib/email.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Exactly size bytes, no terminator: reads past the end are caught. */
    char *addr = malloc(size ? size : 1);
    if (!addr)
        return 0;
    memcpy(addr, data, size);
    const char *why = email_problem(addr, size);
    if (why && !why[0])
        abort();   /* a problem must be a sentence */
    free(addr);
    return 0;
}
