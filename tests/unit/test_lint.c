/* test_lint.c — rules_lint() and load errors against a table of rule files.
 *
 * A case is one rules file (and optionally one list file) written into a
 * fresh folder: either the exact "file:line: …" prefix ruleset_load must
 * refuse it with, or the warning the linter must give ("LINE: substring"),
 * or NULL for a clean file with no warnings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "raqib/lint.h"
#include "raqib/rules.h"

struct lint_case {
    const char *rules;      /* text of t.rules */
    const char *list;       /* text of w.txt, or NULL */
    const char *error;      /* load must fail with this prefix, or NULL */
    const char *warning;    /* "file:line: substring" of the first warning, or NULL for none */
};

static const struct lint_case cases[] = {
    /* load errors carry file and line */
    { "rule A\n  match content /(x/\n  score 1\n", NULL, "t.rules:2: missing closing parenthesis", NULL },
    { "rule A\n  score 1\n", NULL, "t.rules:1: rule A has no match", NULL },
    { "rule A\n  match nowhere /x/\n  score 1\n", NULL, "t.rules:2: unknown field 'nowhere'", NULL },
    { "\n\nrule A\n  match content /x/\n  score x\n", NULL, "t.rules:5: bad number 'x'", NULL },
    { "rule A\n  words content missing.txt\n  score 1\n", NULL, "t.rules:2: cannot read words file", NULL },
    /* clean */
    { "rule A\n  match content /شيخ روحاني/\n  score 1\n", NULL, NULL, NULL },
    { "rule A\n  match content:squash /واتساب|whatsapp/\n  score 1\n", NULL, NULL, NULL },
    { "rule A\n  match content:squash /(?:ab|cd)xyzuvw/\n  score 1\n", NULL, NULL, NULL },
    { "rule A\n  match content /a\\s*b/\n  score 1\n", NULL, NULL, NULL },
    /* ReDoS */
    { "rule A\n  match content:raw /(a+)+$/\n  score 1\n", NULL, NULL, "t.rules:2: pattern hits the match limit" },
    { "rule A\n  match content /(\\w+\\s?)+$/\n  score 1\n", NULL, NULL, "t.rules:2: pattern hits the match limit" },
    /* norm cuts "aaaa" to "aa", so the same pattern is harmless there */
    { "rule A\n  match content /(a+)+$/\n  score 1\n", NULL, NULL, NULL },
    { "rule A\n  match content:raw /^(\\w+\\s?)*$/\n  score 1\n", NULL, NULL, "t.rules:2: pattern hits" },
    /* escapes the view removes */
    { "rule A\n  match content:squash /what\\s+app/\n  score 1\n", NULL, NULL, "t.rules:2: '\\s' can never match in the squash view" },
    { "rule A\n  match content /x\\x{640}y/\n  score 1\n", NULL, NULL, "t.rules:2: '\\x{640}' can never match in the norm view" },
    { "rule A\n  match content:raw /x\\x{640}y/\n  score 1\n", NULL, NULL, NULL },
    /* short literals in squash */
    { "rule A\n  match content:squash /واتساب|وتس/\n  score 1\n", NULL, NULL, "t.rules:2: 'وتس' is 3 letters in the squash view" },
    /* list entries the fold rewrites */
    { "rule A\n  words content w.txt\n  score 1\n", "ساحر\nالزئبق الأحمر\n", NULL,
      "w.txt:2: entry 'الزئبق الأحمر' is matched as 'الزيبق الاحمر'" },
    /* clitics: entries of three letters or fewer warn (ب+كس in بكس), longer
     * ones and short ones without the option do not */
    { "rule A\n  words content w.txt clitics\n  score 1\n", "رمان\nكس\n", NULL,
      "w.txt:2: entry 'كس' is 2 letters: with clitics" },
    { "rule A\n  words content w.txt clitics\n  score 1\n", "خرا\n", NULL, "w.txt:1: entry 'خرا' is 3 letters" },
    { "rule A\n  words content:raw w.txt clitics\n  score 1\n", "زب\n", NULL, "w.txt:1: entry 'زب' is 2 letters" },
    { "rule A\n  words content w.txt clitics\n  score 1\n", "رمان\nيا كلب\n", NULL, NULL },
    { "rule A\n  words content w.txt\n  score 1\n", "كس\n", NULL, NULL },
    /* learned models (written to w.txt): one that has seen little, and a
     * learned line before a match line, which must still be paired right */
    { "rule A\n  learned content w.txt >= 0.9\n  score 1\n", "raqib-learned 1\ndocs 3 4\n", NULL,
      "t.rules:2: the model has learned from 3 positive and 4 negative comments" },
    { "rule A\n  learned content w.txt >= 0.9\n  score 1\n", "raqib-learned 1\ndocs 50 60\n", NULL, NULL },
    { "rule A\n  learned content w.txt >= 0.9\n  match content:squash /what\\s+app/\n  score 1\n",
      "raqib-learned 1\ndocs 50 60\n", NULL, "t.rules:3: '\\s' can never match in the squash view" },
};

struct seen {
    char first[1024];
    int n;
};

static void collect(void *arg, const char *file, int line, const char *message)
{
    struct seen *s = arg;
    if (s->n++ == 0)
        snprintf(s->first, sizeof s->first, "%s:%d: %s", file, line, message);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_cases(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct lint_case *c = &cases[i];
        char dir[] = "/tmp/raqib-lint-XXXXXX";
        assert_non_null(mkdtemp(dir));
        write_file(dir, "t.rules", c->rules);
        if (c->list)
            write_file(dir, "w.txt", c->list);
        char err[1024] = "";
        struct ruleset *rs = ruleset_load(dir, err, sizeof err);
        if (c->error) {
            if (rs || strncmp(err, c->error, strlen(c->error)) != 0)
                fail_msg("case %zu: expected error '%s', got '%s'", i, c->error, rs ? "(loaded)" : err);
        } else {
            if (!rs)
                fail_msg("case %zu: load failed: %s", i, err);
            struct seen s = { "", 0 };
            long n = rules_lint(rs, dir, 50.0, collect, &s);
            assert_int_equal(n, s.n);
            if (!c->warning && n != 0)
                fail_msg("case %zu: expected no warning, got '%s'", i, s.first);
            if (c->warning && (n == 0 || strncmp(s.first, c->warning, strlen(c->warning)) != 0))
                fail_msg("case %zu: expected warning '%s', got '%s'", i, c->warning, n ? s.first : "(none)");
            ruleset_release(rs);
        }
        char path[512];
        snprintf(path, sizeof path, "%s/t.rules", dir);
        unlink(path);
        snprintf(path, sizeof path, "%s/w.txt", dir);
        unlink(path);
        rmdir(dir);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_cases) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
