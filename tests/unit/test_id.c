/* test_id.c — ids are well formed, ordered by time and never repeat, also
 * across the refills of the per-thread random pool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "raqib/id.h"

#define COUNT 5000   /* about a dozen refills of the 4 KB pool */

static int compare_ids(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

static void test_unique_and_valid(void **state)
{
    (void)state;
    char (*ids)[ID_LEN + 1] = calloc(COUNT, sizeof *ids);
    assert_non_null(ids);
    for (int i = 0; i < COUNT; i++) {
        assert_int_equal(id_new(ids[i], 1700000000000LL), 0);
        assert_true(id_valid(ids[i]));
    }
    qsort(ids, COUNT, sizeof *ids, compare_ids);
    for (int i = 1; i < COUNT; i++)
        assert_string_not_equal(ids[i - 1], ids[i]);
    free(ids);
}

static void test_time_order(void **state)
{
    (void)state;
    char a[ID_LEN + 1], b[ID_LEN + 1];
    assert_int_equal(id_new(a, 1700000000000LL), 0);
    assert_int_equal(id_new(b, 1700000000001LL), 0);
    assert_true(strcmp(a, b) < 0);
    assert_memory_equal(a, "01HF", 4);  /* 48 bits of milliseconds lead */
    assert_false(id_valid("01HF"));
    assert_false(id_valid("01HFXXXXXXXXXXXXXXXXXXXXXU"));  /* U is not Crockford base32 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unique_and_valid),
        cmocka_unit_test(test_time_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
