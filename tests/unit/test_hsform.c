/* test_hsform.c — the Hyperscan form of a pattern matches wherever it does.
 *
 * hsform_superset must give a pattern that matches every text the original
 * matches (PCRE2 confirms Hyperscan's candidates, so more is only slower,
 * less would change verdicts). The form is valid PCRE2 too, so PCRE2 alone
 * checks that over many generated texts, without Hyperscan; a few exact
 * rewrites and refusals are pinned as text. hsform_factors likewise: every
 * text PCRE2 matches must hold, for one branch, a literal of each of its
 * groups at the edges given. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <pcre2.h>

#include "raqib/hsform.h"

static void rewrites_to(const char *pattern, unsigned options, const char *want)
{
    char *got = hsform_superset(pattern, options);
    if (!want) {
        if (got)
            fail_msg("%s: expected no form, got %s", pattern, got);
        return;
    }
    if (!got)
        fail_msg("%s: expected %s, got no form", pattern, want);
    assert_string_equal(got, want);
    free(got);
}

#define NOT_L  "[^a-zA-Z\\x{621}-\\x{64a}]"
#define NOT_LN "[^a-zA-Z\\x{621}-\\x{64a}0-9\\x{660}-\\x{669}\\x{6f0}-\\x{6f9}]"
#define NOT_W  "[^a-zA-Z\\x{621}-\\x{64a}0-9\\x{660}-\\x{669}\\x{6f0}-\\x{6f9}_]"
#define MAYBE_W "[^\\x{0}-\\x{2f}\\x{3a}-\\x{40}\\x{5b}-\\x{5e}\\x{60}\\x{7b}-\\x{7f}]"

static void test_forms(void **state)
{
    (void)state;
    /* whole words: the edge assertions become the character they look at */
    rewrites_to("(?<!\\p{L})(?:ال)?قرض(?!\\p{L})", 0, "(?:^|" NOT_L ")(?:ال)?قرض(?:" NOT_L "|$)");
    rewrites_to("(?<![\\p{L}\\p{N}])(?:a b|c)(?![\\p{L}\\p{N}])", 0,
                "(?:^|" NOT_LN ")(?:a b|c)(?:" NOT_LN "|$)");
    rewrites_to("\\b(?:casino|loan)s?\\b", PCRE2_CASELESS,
                "(?:^|" NOT_W ")(?:casino|loan)s?");   /* s? may be absent: the end \b goes */
    rewrites_to("\\bfoo\\b", 0, "(?:^|" NOT_W ")foo(?:" NOT_W "|$)");
    rewrites_to("\\b\\$\\d", 0, MAYBE_W "\\$\\d");  /* \b before a non-word */
    rewrites_to("(?<![\\d+])7", 0, "(?:^|[^0-9\\x{660}-\\x{669}\\x{6f0}-\\x{6f9}\\x{2b}])7");
    rewrites_to("(?<![a-cé])7", 0, "(?:^|[^\\x{61}-\\x{63}\\x{e9}])7");
    /* in the middle, or of unknown sides: dropped */
    rewrites_to("foo\\b.\\bbar", 0, "foo.bar");
    rewrites_to("\\b.x", 0, ".x");
    rewrites_to("a(?=b)c(?<!x)d", 0, "acd");
    rewrites_to("(?<!\\s)x", 0, "x");
    rewrites_to("(?<![^a])x", 0, "x");
    /* only one assertion per edge becomes a character */
    rewrites_to("\\b(?<!x)foo", 0, "(?:^|[^\\x{78}])foo");
    rewrites_to("(?:(?<!x)ab)+", 0, "(?:ab)+");   /* a repeated group is not at the edge */
    rewrites_to("(?>ab)c*+(?<n>d)\\Ke", 0, "(?:ab)c*(?:d)e");
    rewrites_to("x(?i)y\\z", 0, NULL);            /* nothing to change */
    /* left alone */
    rewrites_to("(\\w)\\1(?!x)", 0, NULL);
    rewrites_to("\\Qa.b\\E(?!x)", 0, NULL);
    rewrites_to("(?x) a (?!b)", 0, NULL);
    rewrites_to("a(?!b)", PCRE2_EXTENDED, NULL);
    rewrites_to("(?(1)a|b)(?!x)", 0, NULL);
    rewrites_to("[a\\x{41}-\\x{5A}](?!x)", 0, NULL);   /* a range after an escape */
}

/* The cheap classes printed for Hyperscan leave out only characters that
 * surely are letters (or digits, or _), and "maybe a word character" only
 * characters that surely are not: each claim holds for every code point. */
static void test_sets_are_sure(void **state)
{
    (void)state;
    static const struct { const char *set; int want; } sets[] = {
        { "[a-zA-Z\\x{621}-\\x{64a}]", 'L' },
        { "[0-9\\x{660}-\\x{669}\\x{6f0}-\\x{6f9}]", 'N' },
        { "[\\x{0}-\\x{2f}\\x{3a}-\\x{40}\\x{5b}-\\x{5e}\\x{60}\\x{7b}-\\x{7f}]", '-' },
    };
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *letter = pcre2_compile((PCRE2_SPTR) "\\p{L}", PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    pcre2_code *digit = pcre2_compile((PCRE2_SPTR) "\\p{Nd}", PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    pcre2_code *word = pcre2_compile((PCRE2_SPTR) "\\w", PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &eo, NULL);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    for (size_t k = 0; k < sizeof sets / sizeof sets[0]; k++) {
        pcre2_code *in = pcre2_compile((PCRE2_SPTR)sets[k].set, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &ec, &eo,
                                       NULL);
        assert_non_null(in);
        size_t members = 0;
        for (uint32_t cp = 1; cp < 0x800; cp++) {   /* every set lies below U+0800 */
            char u[4];
            size_t n = cp < 0x80 ? (u[0] = (char)cp, 1)
                                 : (u[0] = (char)(0xc0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3f)), 2);
            if (pcre2_match(in, (PCRE2_SPTR)u, n, 0, PCRE2_ANCHORED, md, NULL) < 0)
                continue;
            members++;
            pcre2_code *must = sets[k].want == 'L' ? letter : sets[k].want == 'N' ? digit : word;
            int is = pcre2_match(must, (PCRE2_SPTR)u, n, 0, PCRE2_ANCHORED, md, NULL) >= 0;
            if (is != (sets[k].want != '-'))
                fail_msg("U+%04X in %s is %s", (unsigned)cp, sets[k].set, is ? "a word character" : "not one");
        }
        assert_true(members >= 10);
        pcre2_code_free(in);
    }
    pcre2_match_data_free(md);
    pcre2_code_free(letter);
    pcre2_code_free(digit);
    pcre2_code_free(word);
}

/* Pieces the texts are made of, around the patterns' words. */
static const char *const pieces[] = {
    "foo", "bar", "ab", "x", "b", "c", "d", "e", "casino", "loans", "loan", "LOAN", "قرض", "القرض",
    "ينقرض", "a b", "7", "+", "٣", "É", "ac", "$5", "5", "_", "-", " ", "\n", "ّ", "é", "١٢", "،", "s", "ـ", "xyz", "ab ab",
};
#define NPIECES (sizeof pieces / sizeof pieces[0])

/* Patterns whose forms are checked against PCRE2 on every text. */
static const struct { const char *p; unsigned o; } patterns[] = {
    { "(?<!\\p{L})(?:ال)?قرض(?!\\p{L})", 0 },
    { "(?<![\\p{L}\\p{N}])(?:a b|c|loan)(?![\\p{L}\\p{N}])", PCRE2_CASELESS },
    { "\\b(?:casino|loan)s?\\b", PCRE2_CASELESS },
    { "\\bfoo\\b|\\bbar", 0 },
    { "\\b\\$\\d", 0 },
    { "\\b\\d+\\b", 0 },
    { "foo\\b.\\bbar", 0 },
    { "\\b(?<!x)foo(?!x)\\b", 0 },
    { "(?:(?<!x)ab)+(?!c)", 0 },
    { "(?<=x)foo|bar(?=x)", 0 },
    { "(?<!\\d)\\d(?!\\d)", 0 },
    { "(?<!\\w)ab(?!\\w)", 0 },
    { "(?<![^a-z])b(?![^a-z])", 0 },
    { "^(?<!x)ab", PCRE2_MULTILINE },
    { "(?:\\bfoo)?bar\\b", 0 },
    { "(?<!ـ)قرض(?!ّ)", 0 },
    { "(?i)(?<!\\p{L})LOAN\\b", 0 },
    { "x(?:y|\\bab\\b)", 0 },
    { "\\b_\\b|\\bé", 0 },
    { "(?<![\\d+])7|(?<![a-cé])5", 0 },
    { "(?<!\\w)(?:é|ab)(?![\\p{L}\\p{N}])", PCRE2_CASELESS },
};

static int matches(const char *pattern, unsigned options, const char *s, size_t n)
{
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options | PCRE2_UTF | PCRE2_UCP,
                                   &ec, &eo, NULL);
    if (!re)
        fail_msg("PCRE2 refuses %s at %zu", pattern, (size_t)eo);
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    int rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return rc >= 0;
}

static uint32_t rng = 2024;
static uint32_t next(void)
{
    rng = rng * 1103515245u + 12345u;
    return (rng >> 8) & 0xffffff;
}

static void test_superset(void **state)
{
    (void)state;
    size_t checked = 0, hits = 0;
    for (size_t k = 0; k < sizeof patterns / sizeof patterns[0]; k++) {
        char *form = hsform_superset(patterns[k].p, patterns[k].o);
        assert_non_null(form);
        for (int t = 0; t < 3000; t++) {
            char text[256];
            size_t n = 0, count = 1 + next() % 5;
            for (size_t i = 0; i < count; i++)
                n += (size_t)snprintf(text + n, sizeof text - n, "%s", pieces[next() % NPIECES]);
            int a = matches(patterns[k].p, patterns[k].o, text, n);
            if (a && !matches(form, patterns[k].o, text, n))
                fail_msg("%s matches \"%s\" but its form %s does not", patterns[k].p, text, form);
            hits += a;
            checked++;
        }
        free(form);
    }
    /* the texts hit the patterns often enough to say something */
    assert_true(hits > checked / 20);
}

/* ---- required literals ---------------------------------------------------- */

/* The literals of pattern, written as "<<lit> bit/need …": < and > for an
 * edge before and after (<< >> for letter-or-number ones). */
static void factors_are(const char *pattern, size_t min, const char *want)
{
    struct hsform_lits l;
    char got[2048] = "";
    size_t n = 0;
    if (hsform_factors(pattern, 0, min, NULL, &l) < 0) {
        if (want)
            fail_msg("%s: expected %s, got no literals", pattern, want);
        return;
    }
    for (size_t i = 0; i < l.n; i++)
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%s%s%s%s %u/%llx", i ? " " : "",
                              l.v[i].before == HSFORM_EDGE_LN ? "<<" : l.v[i].before ? "<" : "", l.v[i].s,
                              l.v[i].after == HSFORM_EDGE_LN ? ">>" : l.v[i].after ? ">" : "", "",
                              (unsigned)l.v[i].bit, (unsigned long long)l.v[i].need);
    hsform_lits_free(&l);
    if (!want)
        fail_msg("%s: expected no literals, got %s", pattern, got);
    assert_string_equal(got, want);
}

static void test_factors(void **state)
{
    (void)state;
    factors_are("(?<!\\p{L})(?:ال)?(?:كود|كوبون)(?!\\p{L})", 4, "<الكود> 0/1 <الكوبون> 0/1 <كود> 0/1 <كوبون> 0/1");
    /* a run broken by \s+: both sides required, in one branch */
    factors_are("(?<!\\p{L})(?:قرض|قروض)\\s+(?:فوري|سريع)(?!\\p{L})", 4, "<قرض 0/3 <قروض 0/3 فوري> 1/3 سريع> 1/3");
    /* top-level branches: either one's groups */
    factors_are("\\bfoo\\s+bar\\b|casino", 3, "<<foo 0/3 bar>> 1/3 casino 2/4");
    /* \b is an edge only beside a word character */
    factors_are("\\b\\$\\d+", 1, "$ 0/1");
    /* how a repeated or optional item starts and ends keeps its neighbours' edges */
    factors_are("(?<!\\p{L})(?:كسمك|اير\\s+ب)(?!\\p{L})", 3,
                "<كسمك 0/7 <اير 0/7 كسمك 1/7 اير 1/7 كسمك> 2/7 ب> 2/7");
    /* common words, single letters, caseless or flagged patterns: none */
    factors_are("(?<!\\p{L})(?:في|من)(?!\\p{L})", 4, NULL);
    factors_are("a\\s+b", 1, NULL);
    factors_are("(?i)casino", 1, NULL);
    factors_are("(?i:casino)", 1, NULL);
    factors_are("(a)\\1casino", 1, NULL);
    factors_are("casino|x", 4, NULL);
    struct hsform_lits l;
    assert_int_equal(hsform_factors("casino", PCRE2_CASELESS, 1, NULL, &l), -1);
}

/* Does the code point before (after) s[at] let an edge of this kind stand
 * there, as PCRE2 itself reads \p{L} and \p{N}? */
static int edge_ok(const char *s, size_t n, size_t at, int after, unsigned char edge)
{
    if (edge == HSFORM_EDGE_NONE || (after ? at >= n : at == 0))
        return 1;
    size_t i = at;
    if (!after)
        for (i = at - 1; i > 0 && ((unsigned char)s[i] & 0xc0) == 0x80; i--)
            ;
    size_t e = i + 1;
    while (e < n && ((unsigned char)s[e] & 0xc0) == 0x80)
        e++;
    char one[8] = { 0 };
    memcpy(one, s + i, e - i < 7 ? e - i : 7);
    return !matches(edge == HSFORM_EDGE_L ? "^\\p{L}" : "^[\\p{L}\\p{N}]", 0, one, strlen(one));
}

/* Would the literal database let text through: for one branch, every
 * group's bit seen at a place its edges allow? */
static int literals_pass(const struct hsform_lits *l, const char *s, size_t n)
{
    uint64_t seen = 0;
    for (size_t i = 0; i < l->n; i++)
        for (const char *p = s; l->v[i].len && (p = memmem(p, n - (size_t)(p - s), l->v[i].s, l->v[i].len));
             p++) {
            size_t at = (size_t)(p - s);
            if (edge_ok(s, n, at, 0, l->v[i].before) && edge_ok(s, n, at + l->v[i].len, 1, l->v[i].after)) {
                seen |= (uint64_t)1 << l->v[i].bit;
                break;
            }
        }
    for (size_t i = 0; i < l->n; i++)
        if ((seen & l->v[i].need) == l->v[i].need)
            return 1;
    return 0;
}

/* hsform_blocks_edge (what the literal databases' edge checks reject)
 * rejects only what PCRE2 itself reads as \p{L}, or \p{L}\p{N} for _LN. */
static void test_blocks_edge_is_sure(void **state)
{
    (void)state;
    size_t blocked = 0;
    for (int32_t cp = 1; cp < 0x800; cp++) {
        char u[3];
        size_t n = cp < 0x80 ? 1 : 2;
        if (n == 1)
            u[0] = (char)cp;
        else
            u[0] = (char)(0xc0 | (cp >> 6)), u[1] = (char)(0x80 | (cp & 0x3f));
        assert_false(hsform_blocks_edge(cp, HSFORM_EDGE_NONE));
        if (hsform_blocks_edge(cp, HSFORM_EDGE_L) && !matches("^\\p{L}", 0, u, n))
            fail_msg("U+%04X is blocked at a letter edge but is not \\p{L}", (unsigned)cp);
        if (hsform_blocks_edge(cp, HSFORM_EDGE_LN) && !matches("^[\\p{L}\\p{N}]", 0, u, n))
            fail_msg("U+%04X is blocked at a letter-or-number edge but is neither", (unsigned)cp);
        blocked += hsform_blocks_edge(cp, HSFORM_EDGE_LN);
    }
    assert_true(blocked > 100);   /* the ASCII and Arabic letters and digits */
}

static void test_factors_superset(void **state)
{
    (void)state;
    static const char *const pats[] = {
        "(?<!\\p{L})(?:ال)?(?:قرض|loan)(?!\\p{L})",
        "(?<!\\p{L})(?:قرض|loans?)\\s+(?:foo|bar)(?!\\p{L})",
        "\\b(?:casino|loan)s?\\b",
        "(?<!\\p{L})(?:foo|bar\\s*xyz|casino)(?!\\p{L})|\\bloans\\b",
        "(?:foo|bar)+casino",
        "(?<![\\p{L}\\p{N}])(?:a b|loan)(?![\\p{L}\\p{N}])",
        "x(?:y|\\bab\\b)casino",
        "foo\\b.\\bbar",
        "(?<!\\p{L})قرض\\s+(?:\\S+\\s+){0,2}foo(?!\\p{L})",
        "\\bfoo\\b|\\bbar",
        "(?:\\bfoo)?bar\\b",
        "(?<!\\d)\\d+\\s*casino",
        "(?<!\\p{L})(?:ab|ac)(?:\\s+ab)?(?!\\p{L})xyz",
    };
    static const char *const bits[] = {
        "foo", "bar", "casino", "loan", "loans", "قرض", "القرض", "ينقرض", "a b", "ab", "ac", "xyz", "x", "y",
        " ", " ", "  ", "\n", "7", "$", "é", "ـ", "_", "-", "١٢", "،", "s", "foo bar", "قرض ", "ّ",
    };
    size_t checked = 0, hits = 0;
    struct hsform_scratch *scratch = hsform_scratch_new();   /* one for all, as prefilter_build */
    assert_non_null(scratch);
    for (size_t k = 0; k < sizeof pats / sizeof pats[0]; k++) {
        struct hsform_lits l;
        if (hsform_factors(pats[k], 0, 1, scratch, &l) < 0)
            fail_msg("%s: no literals", pats[k]);
        for (int t = 0; t < 3000; t++) {
            char text[256];
            size_t n = 0, count = 1 + next() % 8;
            for (size_t i = 0; i < count; i++)
                n += (size_t)snprintf(text + n, sizeof text - n, "%s", bits[next() % (sizeof bits / sizeof bits[0])]);
            int a = matches(pats[k], 0, text, n);
            if (a && !literals_pass(&l, text, n))
                fail_msg("%s matches \"%s\" but its literals do not let it through", pats[k], text);
            hits += a;
            checked++;
        }
        hsform_lits_free(&l);
    }
    hsform_scratch_free(scratch);
    assert_true(hits > checked / 20);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms),
        cmocka_unit_test(test_sets_are_sure),
        cmocka_unit_test(test_superset),
        cmocka_unit_test(test_factors),
        cmocka_unit_test(test_blocks_edge_is_sure),
        cmocka_unit_test(test_factors_superset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
