/* test_log.c — batched log lines: info lines wait for log_flush, a warning
 * writes the batch and itself at once (order kept), and without a batch
 * every line is written as it comes; log_format json: every line one JSON
 * object, escaped, with the request's fields. stderr is pointed at a
 * temporary file. */
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
    static char line[16384];
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "20", 2) != 0 && strncmp(line, "xxxx", 4) != 0 && strncmp(line, "{\"time\"", 7) != 0)
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

/* The last line written (static buffer). */
static const char *last_line(void)
{
    static char line[16384];
    const char *w = written();
    size_t len = strlen(w);
    if (len && w[len - 1] == '\n')
        len--;
    const char *start = w + len;
    while (start > w && start[-1] != '\n')
        start--;
    snprintf(line, sizeof line, "%.*s", (int)(w + len - start), start);
    return line;
}

/* The text format's access line is unchanged by the log_request call. */
static void test_text_request_line(void **state)
{
    (void)state;
    struct log_request r = { "POST", "/v1/comments", 202, 1512, "01M8JW3V6C", 0 };
    log_request(&r);
    const char *l = last_line();
    assert_int_equal(strlen(l), strlen("2026-11-29T05:16:44.431Z info  POST /v1/comments 202 1.512ms id=01M8JW3V6C"));
    assert_string_equal(l + 24, " info  POST /v1/comments 202 1.512ms id=01M8JW3V6C");
}

struct json_case {
    const char *message;    /* what log_msg is given */
    const char *want;       /* the line from "level" on */
};

/* Quotes, backslashes, control characters and bytes that are not UTF-8 are
 * escaped, Arabic passes as it is: every line is one JSON object. */
static void test_json_lines(void **state)
{
    (void)state;
    static const struct json_case cases[] = {
        { "plain", "\"level\":\"warn\",\"message\":\"plain\"}" },
        { "say \"hi\" \\ now", "\"level\":\"warn\",\"message\":\"say \\\"hi\\\" \\\\ now\"}" },
        { "tab\there\nnew\x01" "end", "\"level\":\"warn\",\"message\":\"tab\\there\\nnew\\u0001end\"}" },
        { "مقال رائع", "\"level\":\"warn\",\"message\":\"مقال رائع\"}" },
        { "bad \xff\xc3 utf8 \xed\xa0\x80!", "\"level\":\"warn\",\"message\":\"bad \\ufffd\\ufffd utf8 \\ufffd\\ufffd\\ufffd!\"}" },
    };
    log_set_format(LOG_FORMAT_JSON);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        log_warn("%s", cases[i].message);
        const char *l = last_line();
        assert_memory_equal(l, "{\"time\":\"20", 11);
        assert_int_equal(l[33], '"');    /* "YYYY-MM-DDTHH:MM:SS.mmmZ" */
        assert_int_equal(l[32], 'Z');
        assert_string_equal(l + 35, cases[i].want);
    }
    log_set_format(LOG_FORMAT_TEXT);
}

static void test_json_request_fields(void **state)
{
    (void)state;
    log_set_format(LOG_FORMAT_JSON);
    struct log_request r = { "POST", "/v1/comments?x=\"1\"", 202, 1512, "01M8JW3V6C", 0 };
    log_request(&r);
    assert_string_equal(last_line() + 35,
                        "\"level\":\"info\",\"message\":\"POST /v1/comments?x=\\\"1\\\" 202 1.512ms id=01M8JW3V6C\","
                        "\"method\":\"POST\",\"path\":\"/v1/comments?x=\\\"1\\\"\",\"status\":202,"
                        "\"duration_ms\":1.512,\"id\":\"01M8JW3V6C\"}");
    struct log_request gone = { "GET", "/v1/queue", 499, 20, "", 1 };
    log_request(&gone);
    assert_string_equal(last_line() + 35,
                        "\"level\":\"info\",\"message\":\"GET /v1/queue 499 0.020ms (client gone)\","
                        "\"method\":\"GET\",\"path\":\"/v1/queue\",\"status\":499,\"duration_ms\":0.020,"
                        "\"client_gone\":true}");
    log_set_level(LOG_WARN);    /* below the level: nothing */
    struct log_request quiet = { "GET", "/quiet", 200, 1, NULL, 0 };
    log_request(&quiet);
    assert_null(strstr(written(), "/quiet"));
    log_set_level(LOG_INFO);
    log_set_format(LOG_FORMAT_TEXT);
}

/* A message longer than the line still ends as a closed JSON object. */
static void test_json_long_message(void **state)
{
    (void)state;
    static char big[6000];
    memset(big, '"', sizeof big - 1);
    log_set_format(LOG_FORMAT_JSON);
    log_warn("%s", big);
    const char *l = last_line();
    size_t len = strlen(l);
    assert_true(len > 4000);
    assert_memory_equal(l + len - 4, "\\\"\"}", 4);     /* a whole \" escape, then "} */
    log_set_format(LOG_FORMAT_TEXT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unbatched_lines_go_at_once),
        cmocka_unit_test(test_batch_waits_for_flush),
        cmocka_unit_test(test_warning_keeps_order),
        cmocka_unit_test(test_full_batch_is_written),
        cmocka_unit_test(test_text_request_line),
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_json_request_fields),
        cmocka_unit_test(test_json_long_message),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
