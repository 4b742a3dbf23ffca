/* fuzz_rules — the rule-file parser: the input is written to a temporary
 * file and loaded with ruleset_load, as raqibd and `raqib rules lint` do. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "raqib/rules.h"

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("RAQIB_NO_HYPERSCAN", "1", 1);
    snprintf(path, sizeof path, "/tmp/raqib-fuzz-rules-%d.rules", (int)getpid());
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    char err[1024];
    err[0] = '\0';
    struct ruleset *rs = ruleset_load(path, err, sizeof err);
    if (rs)
        ruleset_release(rs);
    else if (!err[0])
        abort();   /* a refused file must say why */
    return 0;
}
