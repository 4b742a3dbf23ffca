/* test_config.c — the directive table: defaults, flags over file, RAQIB_*
 * variables between them, errors with file:line, redis URLs, listen
 * addresses and trusted proxy nets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "raqib/config.h"

static void test_defaults(void **state)
{
    (void)state;
    struct config cfg;
    assert_int_equal(config_init(&cfg), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:8080");
    assert_int_equal(cfg.max_body, 262144);
    assert_int_equal(cfg.flood_seconds, 15);
    assert_string_equal(cfg.honeypot_field, "website2");
    assert_int_equal(cfg.ntokens, 0);
    config_free(&cfg);
}

static char *write_temp(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/raqib-config-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void test_file_then_flags(void **state)
{
    (void)state;
    char *path = write_temp("# comment\nlisten 127.0.0.1:9000\nthreads 3   # trailing\n"
                            "token moderate layla s3cr3t\ntoken admin ops t0p\n");
    char *argv[] = { "raqibd", "--config", path, "--threads", "5", "--log_level=debug", NULL };
    struct config cfg;
    char err[256];
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_parse_args(&cfg, 6, argv, err, sizeof err), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:9000");
    assert_int_equal(cfg.threads, 5);   /* the flag wins */
    assert_string_equal(cfg.log_level, "debug");
    assert_int_equal(cfg.ntokens, 2);
    assert_int_equal(cfg.tokens[0].role, ROLE_MODERATE);
    assert_string_equal(cfg.tokens[0].name, "layla");
    assert_string_equal(cfg.tokens[1].secret, "t0p");
    config_free(&cfg);
    unlink(path);
}

/* The environment wins over the file, flags over both; repeatable
 * directives split on ';' and newlines; unknown RAQIB_* names are ignored. */
static void test_environment(void **state)
{
    (void)state;
    char *path = write_temp("listen 127.0.0.1:9000\nthreads 3\nlog_level warn\ntoken admin ops t0p\n");
    char *argv[] = { "raqibd", "--config", path, "--threads", "5", NULL };
    setenv("RAQIB_THREADS", "4", 1);
    setenv("RAQIB_LOG_LEVEL", "error", 1);
    setenv("RAQIB_LOG_FORMAT", "json", 1);
    setenv("RAQIB_TOKEN", "submit site s1; moderate layla s2\nadmin root s3;", 1);
    setenv("RAQIB_TRUSTED_PROXY", "10.0.0.0/8;192.168.1.1", 1);
    setenv("RAQIB_NO_SUCH_DIRECTIVE", "whatever", 1);
    struct config cfg;
    char err[256];
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_parse_args(&cfg, 5, argv, err, sizeof err), 0);
    assert_string_equal(cfg.listen, "127.0.0.1:9000");  /* file, no variable */
    assert_int_equal(cfg.threads, 5);                   /* flag over variable over file */
    assert_string_equal(cfg.log_level, "error");        /* variable over file */
    assert_string_equal(cfg.log_format, "json");
    assert_int_equal(cfg.ntokens, 4);
    assert_int_equal(cfg.ntokens_file, 1);
    assert_string_equal(cfg.tokens[1].name, "site");
    assert_int_equal(cfg.tokens[3].role, ROLE_ADMIN);
    assert_string_equal(cfg.tokens[3].secret, "s3");
    assert_int_equal(cfg.ntrusted, 2);
    assert_true(config_is_trusted_proxy(&cfg, "10.2.3.4"));
    assert_int_equal(config_check(&cfg, err, sizeof err), 0);
    config_free(&cfg);

    setenv("RAQIB_MAX_BODY", "12", 1);      /* a bad value names the variable */
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_parse_args(&cfg, 1, argv, err, sizeof err), -1);
    assert_non_null(strstr(err, "RAQIB_MAX_BODY: max_body wants a whole number"));
    config_free(&cfg);
    unsetenv("RAQIB_MAX_BODY");
    setenv("RAQIB_TOKEN", "reader x y", 1);
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_parse_args(&cfg, 1, argv, err, sizeof err), -1);
    assert_non_null(strstr(err, "RAQIB_TOKEN: token role 'reader'"));
    config_free(&cfg);
    setenv("RAQIB_TOKEN", "", 1);
    setenv("RAQIB_LOG_FORMAT", "xml", 1);
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_parse_args(&cfg, 1, argv, err, sizeof err), 0);
    assert_int_equal(cfg.ntokens, 0);
    assert_int_equal(config_check(&cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "log_format 'xml' is not text or json"));
    config_free(&cfg);
    const char *vars[] = { "RAQIB_THREADS", "RAQIB_LOG_LEVEL", "RAQIB_LOG_FORMAT", "RAQIB_TOKEN",
                           "RAQIB_TRUSTED_PROXY", "RAQIB_NO_SUCH_DIRECTIVE" };
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
        unsetenv(vars[i]);
    unlink(path);
}

struct bad_case {
    const char *file;
    const char *want;   /* substring of the error */
};

static void test_bad_files(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        { "listen 127.0.0.1:1\nlissten x\n", ":2: unknown directive 'lissten'" },
        { "threads\n", ":1: 'threads' needs a value" },
        { "threads -1\n", ":1: threads wants a whole number from 0 to 256" },
        { "max_body 10\n", ":1: max_body wants a whole number" },
        { "token boss x y\n", ":1: token role 'boss' is not one of" },
        { "token admin onlyname\n", ":1: token wants ROLE NAME SECRET" },
        { "trusted_proxy 10.0.0.0/99\n", ":1: trusted_proxy '10.0.0.0/99'" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct config cfg;
        char err[256] = "";
        char *path = write_temp(cases[i].file);
        assert_int_equal(config_init(&cfg), 0);
        assert_int_equal(config_load_file(&cfg, path, err, sizeof err), -1);
        if (!strstr(err, cases[i].want))
            fail_msg("case %zu: '%s' does not contain '%s'", i, err, cases[i].want);
        config_free(&cfg);
        unlink(path);
    }
}

static void test_redis_urls(void **state)
{
    (void)state;
    struct redis_target t;
    char err[128];
    assert_int_equal(config_parse_redis_url("redis://:secret@10.1.2.3:6380/4", &t, err, sizeof err), 0);
    assert_string_equal(t.host, "10.1.2.3");
    assert_int_equal(t.port, 6380);
    assert_int_equal(t.db, 4);
    assert_string_equal(t.password, "secret");
    assert_int_equal(config_parse_redis_url("redis://localhost", &t, err, sizeof err), 0);
    assert_int_equal(t.port, 6379);
    assert_int_equal(t.db, 0);
    assert_string_equal(t.password, "");
    assert_int_equal(config_parse_redis_url("http://x", &t, err, sizeof err), -1);
    assert_int_equal(config_parse_redis_url("redis://h:99999", &t, err, sizeof err), -1);
    assert_int_equal(config_parse_redis_url("redis://h/x", &t, err, sizeof err), -1);
    assert_int_equal(config_parse_redis_url("redis://a:1,b:2", &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "redis-sentinel://"));
}

/* The Sentinel and Cluster forms (as Lettuce writes them). */
static void test_redis_topology_urls(void **state)
{
    (void)state;
    struct redis_target t;
    char err[256];
    assert_int_equal(config_parse_redis_url("redis-sentinel://:pw@10.0.0.1:26379,10.0.0.2,s3:26380/2#mymaster", &t, err,
                                            sizeof err), 0);
    assert_int_equal(t.mode, REDIS_SENTINEL);
    assert_int_equal(t.nnodes, 3);
    assert_string_equal(t.nodes[0].host, "10.0.0.1");
    assert_int_equal(t.nodes[1].port, 26379);   /* the sentinel default */
    assert_string_equal(t.nodes[2].host, "s3");
    assert_int_equal(t.nodes[2].port, 26380);
    assert_int_equal(t.db, 2);
    assert_string_equal(t.password, "pw");
    assert_string_equal(t.master, "mymaster");
    assert_int_equal(config_parse_redis_url("redis-sentinel://h:26379", &t, err, sizeof err), -1);
    assert_non_null(strstr(err, "#"));
    assert_int_equal(config_parse_redis_url("redis-cluster://n1:7000,n2:7001,n3", &t, err, sizeof err), 0);
    assert_int_equal(t.mode, REDIS_CLUSTER);
    assert_int_equal(t.nnodes, 3);
    assert_int_equal(t.nodes[2].port, 6379);
    assert_int_equal(config_parse_redis_url("redis-cluster://n1:7000/3", &t, err, sizeof err), -1);
    assert_int_equal(config_parse_redis_url("redis-cluster://n1:7000,,n2", &t, err, sizeof err), -1);
    assert_int_equal(config_parse_redis_url("redis://h#m", &t, err, sizeof err), -1);
}

static void test_listen_and_proxies(void **state)
{
    (void)state;
    char host[64];
    int port;
    assert_int_equal(config_split_listen("127.0.0.1:8080", host, sizeof host, &port), 0);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 8080);
    assert_int_equal(config_split_listen("[::1]:81", host, sizeof host, &port), 0);
    assert_string_equal(host, "::1");
    assert_int_equal(config_split_listen("nohost", host, sizeof host, &port), -1);

    struct config cfg;
    char err[128];
    assert_int_equal(config_init(&cfg), 0);
    assert_int_equal(config_set(&cfg, "trusted_proxy", "10.0.0.0/8", err, sizeof err), 0);
    assert_int_equal(config_set(&cfg, "trusted_proxy", "2001:db8::/32", err, sizeof err), 0);
    assert_int_equal(config_set(&cfg, "trusted_proxy", "192.168.1.5", err, sizeof err), 0);
    assert_true(config_is_trusted_proxy(&cfg, "10.200.3.4"));
    assert_false(config_is_trusted_proxy(&cfg, "11.0.0.1"));
    assert_true(config_is_trusted_proxy(&cfg, "2001:db8:1::5"));
    assert_false(config_is_trusted_proxy(&cfg, "2001:db9::1"));
    assert_true(config_is_trusted_proxy(&cfg, "192.168.1.5"));
    assert_false(config_is_trusted_proxy(&cfg, "192.168.1.6"));
    assert_false(config_is_trusted_proxy(&cfg, "garbage"));
    config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_then_flags),
        cmocka_unit_test(test_environment),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_redis_urls),
        cmocka_unit_test(test_redis_topology_urls),
        cmocka_unit_test(test_listen_and_proxies),
    };
    return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
