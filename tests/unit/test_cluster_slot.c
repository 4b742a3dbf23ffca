/* test_cluster_slot.c — the slot function against Redis's own answers: every
 * expected value below is what `CLUSTER KEYSLOT key` returned on a
 * cluster-enabled redis-server 7.0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "raqib/cluster_slot.h"

static void test_keyslot_matches_redis(void **state)
{
    (void)state;
    static const struct { const char *key; int slot; } cases[] = {
        { "123456789", 12739 },                  /* the CRC16 check value 0x31C3 */
        { "foo", 12182 },
        { "raqib:{default}:c:01ABC", 5718 },
        { "raqib:{news-site_2}:review", 6164 },
        { "{user1000}.following", 3443 },
        { "{}foo", 9500 },                       /* empty tag: whole key */
        { "foo{}{bar}", 8363 },                  /* the first '{' decides, and its tag is empty */
        { "foo{{bar}}zap", 4015 },               /* tag is "{bar" */
        { "foo{bar}{zap}", 5061 },               /* tag is "bar" */
        { "raqib:rules:version", 2114 },
        { "raqib:webhook:sites", 7543 },
        { "", 0 },
        { "{", 4092 },
        { "a}b{c}", 7365 },
        { "موقع", 5419 },                        /* UTF-8 bytes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = cluster_key_slot(cases[i].key, strlen(cases[i].key));
        if (got != cases[i].slot)
            fail_msg("CLUSTER KEYSLOT '%s': Redis says %d, we say %d", cases[i].key, cases[i].slot, got);
    }
}

static void test_a_sites_keys_share_one_slot(void **state)
{
    (void)state;
    const char *keys[] = { "raqib:{s1}:c:X", "raqib:{s1}:review", "raqib:{s1}:decisions", "raqib:{s1}:webhook:lease" };
    for (size_t i = 1; i < sizeof keys / sizeof keys[0]; i++)
        assert_int_equal(cluster_key_slot(keys[i], strlen(keys[i])), cluster_key_slot(keys[0], strlen(keys[0])));
}

static void test_command_key(void **state)
{
    (void)state;
    const char *evalsha[] = { "EVALSHA", "abc", "2", "raqib:{s}:a", "raqib:{s}:b", "arg" };
    assert_int_equal(cluster_command_key(6, evalsha, NULL), 3);
    const char *eval0[] = { "EVAL", "return 1", "0" };
    assert_int_equal(cluster_command_key(3, eval0, NULL), -1);
    const char *hget[] = { "HGETALL", "raqib:{s}:c:1" };
    assert_int_equal(cluster_command_key(2, hget, NULL), 1);
    const char *xrg[] = { "XREADGROUP", "GROUP", "g", "c", "COUNT", "5", "STREAMS", "raqib:{s}:review", ">" };
    assert_int_equal(cluster_command_key(9, xrg, NULL), 7);
    const char *scan[] = { "SCAN", "0", "MATCH", "x" };
    assert_int_equal(cluster_command_key(4, scan, NULL), -1);
    const char *ping[] = { "PING" };
    assert_int_equal(cluster_command_key(1, ping, NULL), -1);
}

static void test_redirect(void **state)
{
    (void)state;
    int slot = -1, port = -1;
    char host[64];
    assert_int_equal(cluster_parse_redirect("MOVED 3999 127.0.0.1:6381", &slot, host, sizeof host, &port), CLUSTER_MOVED);
    assert_int_equal(slot, 3999);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 6381);
    assert_int_equal(cluster_parse_redirect("ASK 16383 ::1:7002", &slot, host, sizeof host, &port), CLUSTER_ASK);
    assert_string_equal(host, "::1");
    assert_int_equal(slot, 16383);
    assert_int_equal(port, 7002);
    assert_int_equal(cluster_parse_redirect("MOVED 0 :7001", &slot, host, sizeof host, &port), CLUSTER_MOVED);
    assert_string_equal(host, "");   /* the node does not know its address: the caller uses the one it asked */
    const char *bad[] = { "TRYAGAIN Multiple keys request during rehashing of slot", "MOVED", "MOVED 16384 h:1",
                          "MOVED -1 h:1", "MOVED 5 h", "MOVED 5 h:0", "MOVED 5 h:70000", "MOVED 5 h:12x", "ASK x h:1",
                          "ERR unknown command" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cluster_parse_redirect(bad[i], &slot, host, sizeof host, &port) != CLUSTER_NO_REDIRECT)
            fail_msg("'%s' read as a redirection", bad[i]);
    char tiny[4];
    assert_int_equal(cluster_parse_redirect("MOVED 1 longhost:1", &slot, tiny, sizeof tiny, &port), CLUSTER_NO_REDIRECT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keyslot_matches_redis),
        cmocka_unit_test(test_a_sites_keys_share_one_slot),
        cmocka_unit_test(test_command_key),
        cmocka_unit_test(test_redirect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
