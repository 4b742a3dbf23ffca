/* test_email.c — email_problem() against a table of addresses.
 *
 * A case is one line: the address, and NULL when it must be accepted or a
 * fragment of the sentence that must explain why it is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "raqib/email.h"

#define A10 "aaaaaaaaaa"
#define LOCAL64 A10 A10 A10 A10 A10 A10 "aaaa"
#define LOCAL65 LOCAL64 "a"
#define LABEL63 A10 A10 A10 A10 A10 A10 "aaa"
#define LABEL64 LABEL63 "a"
/* 3 * (63 + 1) + 61 = 253 bytes, and one more. */
#define DOMAIN253 LABEL63 "." LABEL63 "." LABEL63 "." A10 A10 A10 A10 A10 A10 "a"
#define DOMAIN254 LABEL63 "." LABEL63 "." LABEL63 "." A10 A10 A10 A10 A10 A10 "aa"

struct email_case {
    const char *addr;
    size_t len;          /* 0: strlen(addr) */
    const char *problem; /* NULL: accepted; else a fragment of the sentence */
};

static const struct email_case cases[] = {
    /* accepted */
    { "layla@example.com", 0, NULL },
    { "a@b.co", 0, NULL },
    { "first.last@example.com", 0, NULL },
    { "user+tag@example.com", 0, NULL },
    { "o'brien@example.ie", 0, NULL },
    { "!#$%&'*+/=?^_`{|}~-@example.org", 0, NULL },
    { "user@sub.mail.example.co.uk", 0, NULL },
    { "user@my-host.example", 0, NULL },
    { "USER@EXAMPLE.COM", 0, NULL },
    { "user@123.example", 0, NULL },
    { "user@example.c0m", 0, NULL },
    { "user@مثال.السعودية", 0, NULL },
    { "user@xn--mgbh0fb.xn--mgberp4a5d4ar", 0, NULL },
    { "ليلى@مثال.السعودية", 0, NULL },
    { "müller@bücher.de", 0, NULL },
    { "用户@例子.广告", 0, NULL },
    { LOCAL64 "@example.com", 0, NULL },
    { "user@" LABEL63 ".com", 0, NULL },
    { "u@" DOMAIN253, 0, NULL },
    /* refused */
    { "", 0, "empty" },
    { "layla.example.com", 0, "no @" },
    { "a@b@example.com", 0, "more than one @" },
    { "@example.com", 0, "before @ is empty" },
    { "user@", 0, "after @ is empty" },
    { LOCAL65 "@example.com", 0, "longer than 64" },
    { "user@" LABEL64 ".com", 0, "longer than 63" },
    { "u@" DOMAIN254, 0, "longer than 253" },
    { "user@-example.com", 0, "starts with a hyphen" },
    { "user@example-.com", 0, "ends with a hyphen" },
    { "user@example.-com", 0, "starts with a hyphen" },
    { "first..last@example.com", 0, "two dots in a row" },
    { ".user@example.com", 0, "starts with a dot" },
    { "user.@example.com", 0, "ends with a dot" },
    { "user@example..com", 0, "empty part" },
    { "user@example.com.", 0, "ends with a dot" },
    { "user@.example.com", 0, "starts with a dot" },
    { "\"john doe\"@example.com", 0, "quoted" },
    { "\"john\"@example.com", 0, "quoted" },
    { "user@[192.168.0.1]", 0, "IP-address literals" },
    { "user@[IPv6:::1]", 0, "IP-address literals" },
    { "user@localhost", 0, "no top-level part" },
    { "user@example", 0, "no top-level part" },
    { "user@192.168.0.1", 0, "all digits" },
    { "user@example.123", 0, "all digits" },
    { "user name@example.com", 0, "space" },
    { " user@example.com", 0, "space" },
    { "user@example.com ", 0, "space" },
    { "user@example.com\n", 0, "control" },
    { "user\t@example.com", 0, "control" },
    { "user\xc2\xa0@example.com", 0, "space" },          /* U+00A0 */
    { "user@exa\xe2\x80\x8bmple.com", 0, "not allowed" },  /* U+200B in domain */
    { "us\xe2\x80\xae" "er@example.com", 0, "not allowed" },  /* U+202E in local */
    { "user(comment)@example.com", 0, "comments" },
    { "user@exa_mple.com", 0, "not allowed" },
    { "user@example.com,other@example.com", 0, "more than one @" },
    { "us,er@example.com", 0, "not allowed" },
    { "user;@example.com", 0, "not allowed" },
    { "user\\@example.com", 0, "not allowed" },
    { "<user@example.com>", 0, "not allowed" },
    { "user@exam!ple.com", 0, "not allowed" },
    { "user@مثال!.السعودية", 0, "not allowed" },
    { "user@مثال.السعودية\xd9\x80\xd8", 0, "UTF-8" },        /* truncated */
    { "us\xc0\xaf" "r@example.com", 0, "UTF-8" },           /* overlong '/' */
    { "us\xed\xa0\x80" "r@example.com", 0, "UTF-8" },       /* surrogate */
    { "us\xff" "r@example.com", 0, "UTF-8" },
    { "user@xn--.com", 0, "ends with a hyphen" },
    { "user@\xf0\x9f\x98\x80.com", 0, "not allowed" },   /* emoji label */
    { "user\0@example.com", 18, "control" },
};

static void test_email_table(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct email_case *t = &cases[i];
        size_t len = t->len ? t->len : strlen(t->addr);
        const char *got = email_problem(t->addr, len);
        int ok = t->problem == NULL ? got == NULL
                                    : got != NULL && strstr(got, t->problem) != NULL;
        if (!ok) {
            print_error("case %zu \"%s\": expected %s%s%s, got %s%s%s\n", i, t->addr,
                        t->problem ? "\"" : "", t->problem ? t->problem : "accepted",
                        t->problem ? "\"" : "", got ? "\"" : "", got ? got : "accepted",
                        got ? "\"" : "");
            failures++;
        }
    }
    assert_int_equal(failures, 0);
}

/* The address is a byte range, not a C string: bytes after len are ignored. */
static void test_email_len_bounds(void **state)
{
    (void)state;
    const char buf[] = "user@example.com trailing junk";
    assert_null(email_problem(buf, 16));
    assert_non_null(email_problem(buf, 17));
    assert_non_null(email_problem(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email_table),
        cmocka_unit_test(test_email_len_bounds),
    };
    return cmocka_run_group_tests_name("email", tests, NULL, NULL);
}
