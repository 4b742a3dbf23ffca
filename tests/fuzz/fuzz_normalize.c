/* fuzz_normalize — the Arabic/Unicode fold: every view with and without
 * HTML references, and norm_fold of each view (how rule literals fold).
 * Differential too: every view and flag of the default build (which may take
 * the one-pass plain fold) must equal those of the general fold. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "raqib/normalize.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    struct norm_text t;
    for (int html = 0; html <= 1; html++) {
        memset(&t, 0, sizeof t);
        unsigned every = ((1u << VIEW_COUNT) - 1) | NORM_WANT_FLAGS;
        if (norm_text_build_views(&t, text, size, html, every | NORM_GENERAL_PATH) == 0) {
            for (int v = 0; v < VIEW_COUNT; v++)
                if (!t.view[v] || strlen(t.view[v]) != t.len[v])
                    abort();   /* views are NUL-terminated with no NUL inside */
            struct norm_text some;
            if (norm_text_build_views(&some, text, size, html, every) == 0) {
                for (int v = 0; v < VIEW_COUNT; v++)
                    if (some.len[v] != t.len[v] || memcmp(some.view[v], t.view[v], t.len[v]) != 0)
                        abort();
                if (memcmp(&some.flags, &t.flags, sizeof t.flags) != 0)
                    abort();
            }
            norm_text_free(&some);
        }
        norm_text_free(&t);
    }
    for (int v = 0; v < VIEW_COUNT; v++) {
        size_t n;
        char *f = norm_fold(text, size, (enum norm_view)v, &n);
        free(f);
    }
    utf8_length(text, size);
    free(text);
    return 0;
}
