/* test_log.c — batched log lines: info lines wait for log_flush, a warning
 * writes the batch and itself at once (order kept), and without a batch
 * every line is written as it comes. stderr is pointed at a temporary file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "raqib/log.h"

static char path[64];
static int saved_stderr = -1;

/* Everything written to stderr so far (static buffer). */
static const char *written(void)
{
    static char buf[65536];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int setup(void **state)
{
    (void)state;
    strcpy(path, "/tmp/raqib-log-XXXXXX");
    int fd = mkstemp(path);
    saved_stderr = dup(STDERR_FILENO);
    if (fd < 0 || saved_stderr < 0 || dup2(fd, STDERR_FILENO) < 0)
        return -1;
    close(fd);
    log_set_level(LOG_INFO);
    return 0;
}

/* Put stderr back and pass on what was not a log line (cmocka's own
 * failure messages went to the file too). */
static int teardown(void **state)
{
    (void)state;
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    FILE *f = fopen(path, "r");
    char line[2048];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "20", 2) != 0 && strncmp(line, "xxxx", 4) != 0)
            fputs(line, stderr);
    if (f)
        fclose(f);
    unlink(path);
    return 0;
}

static void test_unbatched_lines_go_at_once(void **state)
{
    (void)state;
    log_info("first %d", 1);
    assert_non_null(strstr(written(), "info  first 1\n"));
}

static void test_batch_waits_for_flush(void **state)
{
    (void)state;
    log_batch_begin();
    log_info("held %s", "a");
    log_info("held %s", "b");
    assert_null(strstr(written(), "held a"));
    log_flush();
    const char *w = written();
    const char *a = strstr(w, "held a\n"), *b = strstr(w, "held b\n");
    assert_non_null(a);
    assert_non_null(b);
    assert_true(a < b);
    log_batch_end();
}

static void test_warning_keeps_order(void **state)
{
    (void)state;
    log_batch_begin();
    log_info("before the warning");
    log_warn("the warning");
    const char *w = written();
    const char *info = strstr(w, "before the warning"), *warn = strstr(w, "warn  the warning");
    assert_non_null(info);
    assert_non_null(warn);
    assert_true(info < warn);
    log_info("after");
    assert_null(strstr(written(), "after"));
    log_batch_end();        /* flushes */
    assert_non_null(strstr(written(), "info  after\n"));
}

static void test_full_batch_is_written(void **state)
{
    (void)state;
    char big[1000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    log_batch_begin();
    for (int i = 0; i < 40; i++)    /* 40 KB: more than the 16 KB batch */
        log_info("line %d %s", i, big);
    assert_non_null(strstr(written(), "line 0 x"));
    assert_null(strstr(written(), "line 39 x"));
    log_batch_end();
    assert_non_null(strstr(written(), "line 39 x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unbatched_lines_go_at_once),
        cmocka_unit_test(test_batch_waits_for_flush),
        cmocka_unit_test(test_warning_keeps_order),
        cmocka_unit_test(test_full_batch_is_written),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
