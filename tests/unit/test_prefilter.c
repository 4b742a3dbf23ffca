/* test_prefilter.c — Hyperscan in front of PCRE2 changes no verdict.
 *
 * A generated rule set (keyword alternations in Arabic and English, phone
 * patterns, \b and lookarounds that Hyperscan only prefilters, a
 * backreference, recursion and an empty-matching pattern it rejects, every
 * field, view and flag, `unless`, `words`) is loaded twice: once with
 * RAQIB_NO_HYPERSCAN=1 (PCRE2 alone) and once with Hyperscan. Generated
 * comments, many built to hit, must get identical verdicts from both: the same
 * status, score, rules and fields. Without Hyperscan in the build both loads
 * are PCRE2 and the test still runs (and says so). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "raqib/comment.h"
#include "raqib/engine.h"
#include "raqib/normalize.h"
#include "raqib/prefilter.h"
#include "raqib/rules.h"

/* Words the rules and the comments share, so that many comments hit. */
static const char *const words[] = {
    "whatsapp", "WhatsApp", "واتساب", "واتـــساب", "و ا ت س ا ب", "casino", "كازينو", "قرض",
    "ينقرض", "loan", "LOANS", "viagra", "vi4gr4", "شيخ", "روحاني", "جلب", "الحبيب", "bitcoin",
    "بيتكوين", "free", "money", "click", "here", "سحر", "مقال", "رائع", "شكرا", "the", "news",
    "telegram", "تلغرام", "00966551234567", "+1 800 555 1234", "۰۵۵۱۲۳۴۵۶۷", "http://x.example/a",
    "www.spam.example", "aaaa", "abab", "((x))", "ڤياجرا", "ﻛﺎﺯﻳﻨﻮ", "honeypot", "\n", "!", "،",
    "بالكازينو", "والكازينوهات", "لجلب الحبيب", "وكازينو", "فالكازينو", "للكازينو", "كازينو٢", "freemoney",
    "moneys", "ف", "ال", "وبال", "كازينو،", "_كازينو",
};
#define NWORDS (sizeof words / sizeof words[0])

/* Rule bodies (FIELD[:VIEW] /PATTERN/FLAGS) beyond the generated keyword rules. */
static const char *const fixed_rules[] = {
    "match content /\\b(?:casino|loan)s?\\b/i",                       /* \b under UCP: prefilter */
    "match content /(?<!\\p{L})(?:ال)?(?:قرض|قروض)(?!\\p{L})/",        /* lookarounds: prefilter */
    "match content /(?<![\\d+])(?:\\+|00)\\s?9[6-7][0-9](?:[\\s.\\-]?\\d){7,11}(?!\\d)/",
    "match content /(\\w)\\1/",                                        /* backreference */
    "match content:raw /(a)\\1/",
    "match content /\\((?:[^()]|(?R))*\\)/",                           /* recursion: rejected */
    "match any /x*/",                                                  /* matches empty: rejected */
    "match any:raw /^the/m",
    "match content:raw /here$/",
    "match content:raw /click.here/s",
    "match content /free \\s money # comment/x",
    "match content:squash /واتساب|whatsap/",
    "match content:skel /viagra/",
    "match content:rasm /سحر/",
    "match author /شيخ|sheikh/i",
    "match email /@(?:spam|x)\\.example$/",
    "match url /^https?:/",
    "match flags /\\bhoneypot\\b/",
    "match flags /spaced_letters=/",
    "match any /bitcoin|بيتكوين/",
    "words content w.txt",
    "words content:raw w.txt",
    "words content:squash w.txt",
    "words content w.txt clitics",
    "words content:rasm w.txt clitics",
    "match content /قرض/\n  unless content /ينقرض/",
    "match content /loan/i\n  match author /^[a-z]/",
    "links content >= 1\n  match content /free/",
    "match content:raw /(?i)ٌ?whats\\s*app\\b/",
};

static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) & 0xffffff;
}

static char dir[64];

/* A fresh rule folder in dir. */
static void make_rules_dir(void)
{
    strcpy(dir, "/tmp/raqib-prefilter-XXXXXX");
    assert_non_null(mkdtemp(dir));
}

/* Open file name of the rule folder for writing. */
static FILE *open_in_dir(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    return f;
}

/* Write the rule folder: the fixed rules, then n generated keyword rules. */
static void write_rules(size_t n)
{
    make_rules_dir();
    FILE *f = open_in_dir("w.txt");
    fputs("جلب الحبيب\nfree money\nكازينو\n", f);
    fclose(f);
    f = open_in_dir("t.rules");
    size_t k = 0;
    for (size_t i = 0; i < sizeof fixed_rules / sizeof fixed_rules[0]; i++)
        fprintf(f, "rule R%zu\n  %s\n  score %zu\n", k++, fixed_rules[i], 1 + i % 5);
    static const char *const views[] = { "", ":raw", ":squash", ":rasm", ":skel" };
    static const char *const fields[] = { "content", "content", "content", "any", "author" };
    for (size_t i = 0; i < n; i++) {
        const char *a = words[next() % NWORDS], *b = words[next() % NWORDS];
        if (strchr(a, '\n') || strchr(b, '\n') || strchr(a, '(') || strchr(b, '(') || strchr(a, '+') ||
            strchr(b, '+') || strcmp(a, "!") == 0 || strcmp(b, "!") == 0)
            continue;
        switch (next() % 6) {
        case 0:
            fprintf(f, "rule R%zu\n  match %s%s /%s|%s/%s\n  score 1\n", k++, fields[next() % 5],
                    views[next() % 5], a, b, next() % 2 ? "i" : "");
            break;
        case 1:
            fprintf(f, "rule R%zu\n  match %s%s /\\b%s\\s*%s\\b/i\n  score 2\n", k++, fields[next() % 5],
                    views[next() % 2], a, b);
            break;
        case 2:
            fprintf(f, "rule R%zu\n  match content%s /%s\\s*\\d{1,3}\\w{0,3}/\n  score 3\n", k++,
                    views[next() % 5], a);
            break;
        case 3:
            fprintf(f, "rule R%zu\n  match content /(?<!\\p{L})%s(?!\\p{L})/\n  unless content /%s/\n"
                    "  score -1\n", k++, a, b);
            break;
        case 4:     /* the gate is not the first condition */
            fprintf(f, "rule R%zu\n  unless content%s /%s/\n  match author /%s/i\n  score 2\n", k++,
                    views[next() % 5], b, a);
            break;
        default:    /* links first; the gate is on flags or content */
            fprintf(f, "rule R%zu\n  links content >= 1\n  match %s /%s/\n  score 1\n", k++,
                    next() % 2 ? "flags" : "content", next() % 2 ? "tatweel" : a);
            break;
        }
    }
    fclose(f);
}

static void remove_rules(void)
{
    char path[128];
    snprintf(path, sizeof path, "%s/t.rules", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/w.txt", dir);
    unlink(path);
    rmdir(dir);
}

static struct ruleset *load(int hyperscan)
{
    char err[1024];
    if (hyperscan)
        unsetenv("RAQIB_NO_HYPERSCAN");
    else
        setenv("RAQIB_NO_HYPERSCAN", "1", 1);
    struct ruleset *rs = ruleset_load(dir, err, sizeof err);
    if (!rs)
        fail_msg("%s", err);
    assert_int_equal(ruleset_prefilter_wait(rs, 600), 0);
    unsetenv("RAQIB_NO_HYPERSCAN");
    return rs;
}

/* A comment of 1..40 random words; sometimes an author, e-mail, url. */
static void make_comment(struct comment *c)
{
    char buf[4096];
    size_t n = 0, count = 1 + next() % 40;
    memset(c, 0, sizeof *c);
    for (size_t i = 0; i < count && n < sizeof buf - 200; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? (next() % 3 ? " " : "") : "",
                              words[next() % NWORDS]);
    assert_int_equal(comment_set(c, CF_CONTENT, buf, n), 0);
    if (next() % 2) {
        const char *a = words[next() % NWORDS];
        assert_int_equal(comment_set(c, CF_AUTHOR, a, strlen(a)), 0);
    }
    if (next() % 2) {
        const char *e = next() % 2 ? "a@spam.example" : "layla@example.com";
        assert_int_equal(comment_set(c, CF_EMAIL, e, strlen(e)), 0);
    }
    if (next() % 3 == 0) {
        const char *u = next() % 2 ? "https://casino.example/" : "http://news.example/loan";
        assert_int_equal(comment_set(c, CF_URL, u, strlen(u)), 0);
    }
    c->honeypot_filled = next() % 10 == 0;
}

static void same_verdicts(size_t nrules, size_t ncomments)
{
    write_rules(nrules);
    struct ruleset *plain = load(0), *hs = load(1);
    remove_rules();
    assert_null(ruleset_prefilter(plain));
    struct prefilter_counts pc;
    prefilter_counts(ruleset_prefilter(hs), &pc);
    if (prefilter_available()) {
        /* Every placement is exercised. */
        assert_non_null(ruleset_prefilter(hs));
        assert_true(pc.exact > 0);
        assert_true(pc.prefiltered > 0);
        assert_true(pc.direct >= 2);   /* recursion and x* at least */
        assert_true(pc.literal >= 3);  /* the words lists on folded views */
    } else {
        print_message("built without Hyperscan: both loads are PCRE2 alone\n");
    }
    size_t hits = 0;
    for (size_t i = 0; i < ncomments; i++) {
        struct comment c;
        struct verdict a, b;
        char err[256];
        make_comment(&c);
        struct engine_signals sig = { .honeypot = 0, .too_fast = (int)(i % 7 == 0) };
        assert_int_equal(engine_score(plain, &c, &sig, &a, err, sizeof err), 0);
        assert_int_equal(engine_score(hs, &c, &sig, &b, err, sizeof err), 0);
        if (a.nmatches != b.nmatches || a.status != b.status || a.score != b.score)
            fail_msg("comment %zu (%s): %zu vs %zu matches", i, c.field[CF_CONTENT], a.nmatches,
                     b.nmatches);
        for (size_t m = 0; m < a.nmatches; m++) {
            assert_string_equal(a.matches[m].rule, b.matches[m].rule);
            assert_string_equal(a.matches[m].field, b.matches[m].field);
        }
        hits += a.nmatches;
        verdict_free(&a);
        verdict_free(&b);
        comment_free(&c);
    }
    assert_true(hits > ncomments);  /* the comments do exercise the rules */
    ruleset_release(plain);
    ruleset_release(hs);
}

static void test_same_verdicts_small(void **state)
{
    (void)state;
    same_verdicts(40, 3000);
}

static void test_same_verdicts_many_rules(void **state)
{
    (void)state;
    same_verdicts(400, 500);
}

/* Patterns Hyperscan cannot take at all still judge every comment. */
static void test_rejected_pattern_still_runs(void **state)
{
    (void)state;
    write_rules(0);
    struct ruleset *hs = load(1);
    remove_rules();
    struct comment c = { 0 };
    struct verdict v;
    char err[256];
    assert_int_equal(comment_set(&c, CF_CONTENT, "say (a(b)c) now", 15), 0);
    assert_int_equal(engine_score(hs, &c, NULL, &v, err, sizeof err), 0);
    int recursion = 0, empty = 0;
    for (size_t m = 0; m < v.nmatches; m++) {
        recursion |= strcmp(v.matches[m].rule, "R5") == 0;
        empty |= strcmp(v.matches[m].rule, "R6") == 0;
    }
    assert_true(recursion);
    assert_true(empty);
    verdict_free(&v);
    comment_free(&c);
    ruleset_release(hs);
}

/* With Hyperscan the engine visits only the rules that can hit: here the
 * rule whose gate matched and the rule without a gate (links only). */
static void test_visits_candidates_only(void **state)
{
    (void)state;
    make_rules_dir();
    FILE *f = open_in_dir("t.rules");
    fputs("rule A\n  match content /foo/\n  score 1\n"
          "rule B\n  match content /bar/\n  score 1\n"
          "rule C\n  links content >= 1\n  score 1\n"
          "rule D\n  unless content /zzz/\n  match content /qux/\n  score 1\n", f);
    fclose(f);
    fclose(open_in_dir("w.txt"));
    struct ruleset *rs = load(1);
    remove_rules();
    struct prefilter_run run;
    prefilter_begin(&run, ruleset_prefilter(rs));
    int field, view;
    struct norm_text t;
    const char *text = "foo and more";
    assert_int_equal(norm_text_build(&t, text, strlen(text), 1), 0);
    for (size_t i = 0; prefilter_gate_text(&run, i, &field, &view); i++) {
        assert_int_equal(field, CF_CONTENT);
        prefilter_scan(&run, field, view, t.view[view], t.len[view]);
    }
    const uint64_t *visit = prefilter_rules(&run);
    if (!prefilter_available()) {
        assert_null(visit);
    } else {
        assert_non_null(visit);
        assert_int_equal(visit[0] & 0xF, 0x1 | 0x4);   /* A and C; not B, not D */
    }
    norm_text_free(&t);
    ruleset_release(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_verdicts_small),
        cmocka_unit_test(test_same_verdicts_many_rules),
        cmocka_unit_test(test_rejected_pattern_still_runs),
        cmocka_unit_test(test_visits_candidates_only),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    engine_thread_done();
    return rc;
}
