/* test_validate.c — validate_comment() against a table of comments.
 *
 * Every case starts from a valid comment and changes some fields; a case is
 * one line: the changed fields (ABSENT removes one), optionally one field
 * filled with a character repeated n times, and the expected errors written as
 * "field:code field:code" in report order ("" = valid). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "raqib/validate.h"

static const char absent_marker[] = "(absent)";
#define ABSENT absent_marker

struct repeat {
    int field;          /* -1: none */
    const char *unit;   /* appended `times` times */
    size_t times;
};

struct validate_case {
    const char *set[CF_COUNT];
    struct repeat rep;
    const char *want;
};

#define NOREP { -1, NULL, 0 }
#define REP(f, unit, n) { f, unit, n }

static const struct validate_case cases[] = {
    /* valid */
    { { 0 }, NOREP, "" },
    { { [CF_AUTHOR] = "ليلى", [CF_CONTENT] = "مقال رائع، شكرا", [CF_LANG] = "ar" }, NOREP, "" },
    { { [CF_SITE] = "blog-ar_2", [CF_PARENT_ID] = "wp:7.1-a_b", [CF_POST_ID] = "POST_42" }, NOREP, "" },
    { { [CF_URL] = "https://layla.example/about?x=1#top" }, NOREP, "" },
    { { [CF_URL] = "HTTP://user:pw@layla.example:8080" }, NOREP, "" },
    { { [CF_URL] = "http://[2001:db8::1]:80/" }, NOREP, "" },
    { { [CF_URL] = "https://مثال.السعودية/صفحة" }, NOREP, "" },
    { { [CF_URL] = "" }, NOREP, "" },
    { { [CF_URL] = "  " }, NOREP, "" },
    { { [CF_PARENT_ID] = "" }, NOREP, "" },
    { { [CF_IP] = "203.0.113.5" }, NOREP, "" },
    { { [CF_IP] = "2001:db8::1" }, NOREP, "" },
    { { [CF_IP] = "::ffff:192.0.2.1" }, NOREP, "" },
    { { [CF_USER_AGENT] = "", [CF_REFERRER] = "not a url", [CF_LANG] = "" }, NOREP, "" },
    { { [CF_EMAIL] = "layla@مثال.السعودية" }, NOREP, "" },
    { { 0 }, REP(CF_AUTHOR, "ل", 245), "" },
    { { 0 }, REP(CF_AUTHOR, "a", 245), "" },
    { { 0 }, REP(CF_CONTENT, "x", 65525), "" },
    { { 0 }, REP(CF_URL, "a", 180), "" },          /* 20-char prefix added: 200 */
    { { 0 }, REP(CF_POST_ID, "9", 64), "" },
    { { 0 }, REP(CF_SITE, "s", 64), "" },
    /* required */
    { { [CF_POST_ID] = ABSENT }, NOREP, "post_id:required" },
    { { [CF_POST_ID] = "" }, NOREP, "post_id:required" },
    { { [CF_AUTHOR] = ABSENT }, NOREP, "author:required" },
    { { [CF_AUTHOR] = " \t\n" }, NOREP, "author:required" },
    { { [CF_AUTHOR] = "\xe2\x80\x8b\xc2\xa0\xe3\x80\x80" }, NOREP, "author:required" }, /* ZWSP NBSP ideographic space */
    { { [CF_EMAIL] = "" }, NOREP, "email:required" },
    { { [CF_CONTENT] = ABSENT }, NOREP, "content:required" },
    { { [CF_CONTENT] = "\r\n\r\n" }, NOREP, "content:required" },
    /* too long */
    { { 0 }, REP(CF_AUTHOR, "ل", 246), "author:too_long" },
    { { 0 }, REP(CF_AUTHOR, "a", 246), "author:too_long" },
    { { 0 }, REP(CF_CONTENT, "x", 65526), "content:too_long" },
    { { 0 }, REP(CF_CONTENT, "ل", 32763), "content:too_long" },  /* 65,526 bytes */
    { { 0 }, REP(CF_URL, "a", 181), "url:too_long" },
    { { [CF_EMAIL] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.com" }, NOREP, "email:too_long" },
    /* invalid */
    { { [CF_EMAIL] = "layla.example.com" }, NOREP, "email:invalid" },
    { { [CF_EMAIL] = "layla@localhost" }, NOREP, "email:invalid" },
    { { [CF_URL] = "layla.example" }, NOREP, "url:invalid" },
    { { [CF_URL] = "ftp://layla.example/" }, NOREP, "url:invalid" },
    { { [CF_URL] = "javascript:alert(1)" }, NOREP, "url:invalid" },
    { { [CF_URL] = "http://" }, NOREP, "url:invalid" },
    { { [CF_URL] = "https:///path" }, NOREP, "url:invalid" },
    { { [CF_URL] = "http://user@:80/" }, NOREP, "url:invalid" },
    { { [CF_URL] = "http://layla .example/" }, NOREP, "url:invalid" },
    { { [CF_URL] = "http://layla.example/\x01" }, NOREP, "url:invalid" },
    { { [CF_URL] = "http://layla.example:http/" }, NOREP, "url:invalid" },
    { { [CF_URL] = "http://[::1/" }, NOREP, "url:invalid" },
    { { [CF_POST_ID] = "42 OR 1=1" }, NOREP, "post_id:invalid" },
    { { [CF_POST_ID] = "مقال" }, NOREP, "post_id:invalid" },
    { { 0 }, REP(CF_POST_ID, "9", 65), "post_id:invalid" },
    { { [CF_PARENT_ID] = "7/8" }, NOREP, "parent_id:invalid" },
    { { [CF_SITE] = "Blog" }, NOREP, "site:invalid" },
    { { [CF_SITE] = "my blog" }, NOREP, "site:invalid" },
    { { [CF_SITE] = "a:b" }, NOREP, "site:invalid" },
    { { [CF_SITE] = "" }, NOREP, "site:invalid" },
    { { 0 }, REP(CF_SITE, "s", 65), "site:invalid" },
    { { [CF_IP] = "256.1.1.1" }, NOREP, "ip:invalid" },
    { { [CF_IP] = "localhost" }, NOREP, "ip:invalid" },
    { { [CF_IP] = "" }, NOREP, "ip:invalid" },
    { { [CF_IP] = "2001:db8::1/64" }, NOREP, "ip:invalid" },
    /* several at once, in field order */
    { { [CF_SITE] = "A B", [CF_POST_ID] = ABSENT, [CF_AUTHOR] = "", [CF_EMAIL] = "nope", [CF_URL] = "www.x", [CF_CONTENT] = " ", [CF_IP] = "1.2.3" }, NOREP,
      "site:invalid post_id:required author:required email:invalid url:invalid content:required ip:invalid" },
    { { [CF_POST_ID] = "1 2", [CF_PARENT_ID] = "x y", [CF_EMAIL] = ABSENT }, REP(CF_AUTHOR, "ل", 300),
      "post_id:invalid parent_id:invalid author:too_long email:required" },
};

/* Fill c with the base comment and the case's changes; returns 0 or -1. */
static int build(struct comment *c, const struct validate_case *t)
{
    static const char *const base[CF_COUNT] = {
        [CF_POST_ID] = "42", [CF_AUTHOR] = "Layla",
        [CF_EMAIL] = "layla@example.com", [CF_CONTENT] = "Nice post, thanks.",
    };
    memset(c, 0, sizeof *c);
    for (int f = 0; f < CF_COUNT; f++) {
        const char *s = t->set[f] ? t->set[f] : base[f];
        if (s != NULL && s != ABSENT && comment_set(c, f, s, strlen(s)) != 0)
            return -1;
    }
    if (t->rep.field >= 0) {
        const char *prefix = t->rep.field == CF_URL ? "https://example.com/" : "";
        size_t plen = strlen(prefix), ulen = strlen(t->rep.unit);
        size_t total = plen + ulen * t->rep.times;
        char *buf = malloc(total + 1);
        if (buf == NULL)
            return -1;
        memcpy(buf, prefix, plen);
        for (size_t i = 0; i < t->rep.times; i++)
            memcpy(buf + plen + i * ulen, t->rep.unit, ulen);
        int rc = comment_set(c, t->rep.field, buf, total);
        free(buf);
        return rc;
    }
    return 0;
}

/* "field:code field:code" for what v reports. */
static void describe(const struct validation *v, char *out, size_t outlen)
{
    out[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < v->count && used < outlen; i++)
        used += (size_t)snprintf(out + used, outlen - used, "%s%s:%s", i ? " " : "",
                                 v->errors[i].field, v->errors[i].code);
}

static void test_validate_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct comment c;
        struct validation v;
        char got[512];
        assert_int_equal(build(&c, &cases[i]), 0);
        int n = validate_comment(&c, &v);
        describe(&v, got, sizeof got);
        int details_ok = 1;
        for (int k = 0; k < v.count; k++)
            if (v.errors[k].detail == NULL || v.errors[k].detail[0] == '\0')
                details_ok = 0;
        if (n != v.count || strcmp(got, cases[i].want) != 0 || !details_ok) {
            print_error("case %zu: got \"%s\", want \"%s\"\n", i, got, cases[i].want);
            failures++;
        }
        comment_free(&c);
    }
    assert_int_equal(failures, 0);
}

/* The e-mail error carries email.c's sentence; the too-long one says the limit. */
static void test_details(void **state)
{
    (void)state;
    struct comment c;
    struct validation v;
    const struct validate_case t = { { [CF_EMAIL] = "a@b", [CF_POST_ID] = ABSENT }, NOREP, NULL };
    assert_int_equal(build(&c, &t), 0);
    assert_int_equal(validate_comment(&c, &v), 2);
    assert_string_equal(v.errors[0].field, "post_id");
    assert_string_equal(v.errors[0].code, "required");
    assert_string_equal(v.errors[1].field, "email");
    assert_string_equal(v.errors[1].code, "invalid");
    assert_non_null(strstr(v.errors[1].detail, "top-level"));
    comment_free(&c);

    const struct validate_case t2 = { { 0 }, REP(CF_AUTHOR, "ل", 246), NULL };
    assert_int_equal(build(&c, &t2), 0);
    assert_int_equal(validate_comment(&c, &v), 1);
    assert_non_null(strstr(v.errors[0].detail, "245"));
    comment_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validate_table),
        cmocka_unit_test(test_details),
    };
    return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
