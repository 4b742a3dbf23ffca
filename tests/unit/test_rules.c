/* test_rules.c — ruleset_load() against tables of rule files.
 *
 * A load case is one line: up to three files written into a fresh temporary
 * folder, and NULL when the load must succeed (with that many rules) or the
 * exact "file:line: message" prefix it must fail with. A view case is one
 * rule line and a text it must (or must not) match, proving the pattern's
 * literals are folded to the rule's view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "raqib/engine.h"
#include "raqib/normalize.h"
#include "raqib/rules.h"

struct file { const char *name, *text; };

struct load_case {
    struct file files[3];
    const char *error;   /* NULL: must load; else the start of the message */
    size_t rules;        /* rule count when it loads */
};

#define R(name, body) "rule " name "\n" body
#define OK_RULE(name) R(name, "  match content /x/\n  score 1\n")
#define MODEL "raqib-learned 1\n# a comment\ndocs 3 4\n00000000000000a1 2 0\n00000000000000b2 0 3\n"

static const struct load_case load_cases[] = {
    /* loads */
    { { { "a.rules", OK_RULE("FOO") } }, NULL, 1 },
    { { { "a.rules", "# only a comment\n\n" OK_RULE("A") "\n" OK_RULE("B") } }, NULL, 2 },
    { { { "a.rules", R("A", "  match content /a\\/b/i   # comment with a / slash\n  score -2.5\n"
                         "  describe Vouches # not a comment\n") } }, NULL, 1 },
    { { { "a.rules", R("A", "  match content /https?://x/\n  score 1\n") } }, NULL, 1 },
    { { { "a.rules", R("A", "  links content >= 3\n  score 3\n") } }, NULL, 1 },
    { { { "a.rules", R("A", "  words content w.txt\n  score 3\n") }, { "w.txt", "# c\nجلب الحبيب\nfoo.bar\n" } }, NULL, 1 },
    { { { "a.rules", R("A", "  words content w.txt clitics  # comment\n  score 3\n") }, { "w.txt", "رمان\n" } }, NULL, 1 },
    { { { "a.rules", R("A", "  match flags /honeypot/\n  score 10\n") } }, NULL, 1 },
    { { { "a.rules", R("A", "  match content /x/\n  unless email /y/\n  score 1\n") } }, NULL, 1 },
    { { { "a.rules", OK_RULE("A") }, { "README.txt", "not rules" }, { "b.rules", OK_RULE("B") } }, NULL, 2 },
    { { { "a.rules", OK_RULE("A") "threshold spam 8\nthreshold approve -1\n" } }, NULL, 1 },
    /* refused */
    { { { "a.rules", R("FOO", "  match content /x/\n") } }, "a.rules:1: rule FOO has no score", 0 },
    { { { "a.rules", R("FOO", "  score 1\n") } }, "a.rules:1: rule FOO has no match, words, links or learned", 0 },
    { { { "a.rules", R("FOO", "  unless content /x/\n  score 1\n") } }, "a.rules:1: rule FOO has no match", 0 },
    { { { "a.rules", R("FOO", "  match bogus /x/\n  score 1\n") } }, "a.rules:2: unknown field 'bogus'", 0 },
    { { { "a.rules", R("FOO", "  match content:fancy /x/\n  score 1\n") } }, "a.rules:2: unknown view 'fancy'", 0 },
    { { { "a.rules", R("FOO", "  match flags:norm /x/\n  score 1\n") } }, "a.rules:2: the flags field has only the raw view", 0 },
    { { { "a.rules", R("FOO", "  match content /(ab/\n  score 1\n") } }, "a.rules:2: missing closing parenthesis at offset 3 in pattern", 0 },
    { { { "a.rules", R("FOO", "  match content /ab\n  score 1\n") } }, "a.rules:2: pattern has no closing /", 0 },
    { { { "a.rules", R("FOO", "  match content /ab/q\n  score 1\n") } }, "a.rules:2: pattern has no closing /", 0 },
    { { { "a.rules", R("FOO", "  match content ab\n  score 1\n") } }, "a.rules:2: expected /pattern/", 0 },
    { { { "10-a.rules", OK_RULE("FOO") }, { "20-b.rules", "\n\n" OK_RULE("FOO") } },
      "20-b.rules:3: duplicate rule name FOO (first defined at 10-a.rules:1)", 0 },
    { { { "a.rules", "score 3\n" } }, "a.rules:1: score outside a rule", 0 },
    { { { "a.rules", OK_RULE("A") "threshold spam 5\n  describe late\n" } }, "a.rules:5: describe outside a rule", 0 },
    { { { "a.rules", R("FOO", "  match content /x/\n  score abc\n") } }, "a.rules:3: bad number 'abc'", 0 },
    { { { "a.rules", R("FOO", "  match content /x/\n  score 1\n  score 2\n") } }, "a.rules:4: rule FOO has two scores", 0 },
    { { { "a.rules", R("FOO", "  match content /x/\n  score 0x10\n") } }, "a.rules:3: bad number '0x10'", 0 },
    { { { "a.rules", R("FOO", "  words content nope.txt\n  score 1\n") } }, "a.rules:2: cannot read words file nope.txt", 0 },
    { { { "a.rules", R("FOO", "  words content w.txt\n  score 1\n") }, { "w.txt", "# nothing\n\n" } },
      "a.rules:2: words file w.txt has no phrases", 0 },
    { { { "a.rules", R("FOO", "  words content w.txt clitic\n  score 1\n") }, { "w.txt", "x\n" } },
      "a.rules:2: unknown words option 'clitic' (the only one is clitics)", 0 },
    { { { "a.rules", R("FOO", "  words content w.txt clitics more\n  score 1\n") }, { "w.txt", "x\n" } },
      "a.rules:2: words needs a field, one list file and optionally clitics", 0 },
    { { { "a.rules", R("FOO", "  words content:squash w.txt clitics\n  score 1\n") }, { "w.txt", "x\n" } },
      "a.rules:2: clitics needs word edges: the squash view has none", 0 },
    { { { "a.rules", "rule foo\n" } }, "a.rules:1: bad rule name 'foo'", 0 },
    { { { "a.rules", R("FOO", "  colour red\n") } }, "a.rules:2: unknown key 'colour'", 0 },
    { { { "a.rules", R("FOO", "  links content => 3\n  score 1\n") } }, "a.rules:2: unknown operator '=>'", 0 },
    { { { "a.rules", R("FOO", "  links content >= many\n  score 1\n") } }, "a.rules:2: bad number 'many'", 0 },
    { { { "a.rules", OK_RULE("A") "threshold approve 10\n" } },
      "a.rules:4: approve threshold 10 must be below the spam threshold 10", 0 },
    { { { "a.rules", OK_RULE("A") "threshold reject 3\n" } }, "a.rules:4: unknown threshold 'reject'", 0 },
    { { { "README.txt", "no rules here" } }, "no *.rules files", 0 },
    /* learned: a model file beside the rules */
    { { { "a.rules", R("A", "  learned content m.model >= 0.9\n  score 5\n") R("B", "  learned author m.model < 0.1\n  score -1\n") },
        { "m.model", MODEL } }, NULL, 2 },
    { { { "a.rules", R("FOO", "  learned content nope.model >= 0.9\n  score 1\n") } },
      "a.rules:2: model nope.model: ", 0 },
    { { { "a.rules", R("FOO", "  learned content m.model >= 0.9\n  score 1\n") }, { "m.model", "raqib-learned 1\njunk\n" } },
      "a.rules:2: model m.model: ", 0 },
    { { { "a.rules", R("FOO", "  learned content m.model >= 1.5\n  score 1\n") }, { "m.model", MODEL } },
      "a.rules:2: bad probability '1.5'", 0 },
    { { { "a.rules", R("FOO", "  learned any m.model >= 0.5\n  score 1\n") }, { "m.model", MODEL } },
      "a.rules:2: learned reads one text field's norm view", 0 },
    { { { "a.rules", R("FOO", "  learned content:squash m.model >= 0.5\n  score 1\n") }, { "m.model", MODEL } },
      "a.rules:2: learned reads one text field's norm view", 0 },
    { { { "a.rules", R("FOO", "  learned content m.model\n  score 1\n") }, { "m.model", MODEL } },
      "a.rules:2: learned needs a field, a model file, an operator and a probability", 0 },
};

/* Make a fresh folder holding the case's files; returns its path (static). */
static const char *make_dir(const struct file *files, size_t n)
{
    static char dir[64];
    strcpy(dir, "/tmp/raqib-rules-XXXXXX");
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < n && files[i].name; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(files[i].text, f);
        fclose(f);
    }
    return dir;
}

static void remove_dir(const char *dir, const struct file *files, size_t n)
{
    for (size_t i = 0; i < n && files[i].name; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
        unlink(path);
    }
    rmdir(dir);
}

static void test_load_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof load_cases / sizeof load_cases[0]; i++) {
        const struct load_case *c = &load_cases[i];
        const char *dir = make_dir(c->files, 3);
        char err[512] = "";
        struct ruleset *rs = ruleset_load(dir, err, sizeof err);
        if (c->error) {
            if (rs || !strstr(err, c->error))
                fail_msg("case %zu: expected error \"%s\", got %s \"%s\"", i, c->error,
                         rs ? "a ruleset" : "error", err);
            if (strncmp(c->error, "no *.rules", 10) != 0 && strncmp(err, c->error, strlen(c->error)) != 0)
                fail_msg("case %zu: error must start with \"%s\", got \"%s\"", i, c->error, err);
        } else {
            if (!rs)
                fail_msg("case %zu: expected to load, got \"%s\"", i, err);
            assert_int_equal(ruleset_size(rs), c->rules);
            ruleset_release(rs);
        }
        remove_dir(dir, c->files, 3);
    }
}

/* A single file may be loaded; its words files are relative to its folder. */
static void test_single_file(void **state)
{
    (void)state;
    struct file files[] = {
        { "one.rules", R("W", "  words author:raw w.txt\n  score 2\n  describe Listed\n")
                       "threshold spam 7\nthreshold approve -1\n" },
        { "w.txt", "BadName\n" },
    };
    const char *dir = make_dir(files, 2);
    char path[256], err[256];
    snprintf(path, sizeof path, "%s/one.rules", dir);
    struct ruleset *rs = ruleset_load(path, err, sizeof err);
    if (!rs)
        fail_msg("%s", err);
    struct rule_info info;
    ruleset_rule_info(rs, 0, &info);
    assert_string_equal(info.name, "W");
    assert_string_equal(info.file, "one.rules");
    assert_int_equal(info.line, 1);
    assert_string_equal(info.kind, "words");
    assert_string_equal(info.field, "author");
    assert_string_equal(info.view, "raw");
    assert_string_equal(info.description, "Listed");
    assert_true(info.score == 2);
    assert_true(ruleset_spam_threshold(rs) == 7);
    double approve = 0;
    assert_int_equal(ruleset_approve_threshold(rs, &approve), 1);
    assert_true(approve == -1);
    assert_int_equal(ruleset_find(rs, "W"), 0);
    assert_int_equal(ruleset_find(rs, "NOPE"), -1);
    assert_ptr_equal(ruleset_retain(rs), rs);
    ruleset_release(rs);
    ruleset_release(rs);
    remove_dir(dir, files, 2);
}

static void test_defaults(void **state)
{
    (void)state;
    struct file files[] = { { "a.rules", OK_RULE("A") } };
    const char *dir = make_dir(files, 1);
    char err[256];
    struct ruleset *rs = ruleset_load(dir, err, sizeof err);
    assert_non_null(rs);
    assert_true(ruleset_spam_threshold(rs) == 10);
    assert_int_equal(ruleset_approve_threshold(rs, NULL), 0);
    struct rule_info info;
    ruleset_rule_info(rs, 0, &info);
    assert_string_equal(info.description, "");
    assert_string_equal(info.view, "norm");
    ruleset_release(rs);
    remove_dir(dir, files, 1);
}

/* ---- views: the pattern's literals are folded like the text ---- */

struct view_case {
    const char *cond;   /* one condition line */
    const char *words;  /* contents of w.txt, or NULL */
    const char *text;   /* the comment's content */
    int hit;
};

static const struct view_case view_cases[] = {
    /* norm: harakat, tatweel, hamza forms, ة and digits fold on both sides */
    { "match content /شيخ روحاني/", NULL, "شـــيخ رُوحَانِي", 1 },
    { "match content /مدرسة/", NULL, "مدرسه", 1 },
    { "match content /أحمد/", NULL, "احمد", 1 },
    { "match content /رقم ٠٥٥/", NULL, "رقم 055", 1 },
    { "match content /HELLO/", NULL, "hello", 1 },
    { "match content /colou?r/", NULL, "color", 1 },
    { "match content /colou?r/", NULL, "colour", 1 },
    { "match content /[A-C]at/", NULL, "Bat", 1 },
    { "match content /مدرس[ةى]/", NULL, "مدرسه", 1 },
    { "match content /\\bcat\\b/", NULL, "a cat sat", 1 },
    { "match content /\\bcat\\b/", NULL, "concatenate", 0 },
    { "match content /شيخ\\s+روحاني/x", NULL, "شيخ روحاني", 1 },
    { "match content /(?:شيخ|معالج) روحاني/", NULL, "معالج روحاني", 1 },
    /* raw: nothing folded */
    { "match content:raw /شيخ/", NULL, "شـيخ", 0 },
    { "match content:raw /HELLO/", NULL, "hello", 0 },
    { "match content:raw /HELLO/i", NULL, "hello", 1 },
    /* squash: spaces and dots gone, the pattern's spaces too */
    { "match content:squash /واتساب/", NULL, "و ا ت س ا ب", 1 },
    { "match content:squash /واتس اب/", NULL, "و.ا.ت.س.ا.ب", 1 },
    { "match content:squash /whatsapp/", NULL, "w h a t s a p p", 1 },
    /* rasm: dot-swapped letters */
    { "match content:rasm /قيامة/", NULL, "ڦيامه", 1 },
    /* skel: look-alikes and leet digits */
    { "match content:skel /viagra/", NULL, "v1agra", 1 },
    { "match content:skel /viagra/", NULL, "vі agra", 1 },
    /* words: whole words, folded */
    { "words content w.txt", "جلب الحبيب\n", "جَلْب الحبيب الآن", 1 },
    { "words content w.txt", "جلب الحبيب\n", "لجلب الحبيب", 0 },
    { "words content w.txt", "cat\n", "Cat!", 1 },
    { "words content w.txt", "cat\n", "concat", 0 },
    { "words content w.txt", "a.b\n", "axb", 0 },
    { "words content w.txt", "a.b\n", "see a.b now", 1 },
    { "words content:squash w.txt", "واتساب\n", "و ا ت س ا ب", 1 },
    /* words … clitics: behind ال و ف ب ك ل and their combinations, still
     * whole words; without the option only the bare word */
    { "words content w.txt clitics", "رمان\n", "رمان", 1 },
    { "words content w.txt clitics", "رمان\n", "الرمان", 1 },
    { "words content w.txt clitics", "رمان\n", "بالرمان طازج", 1 },
    { "words content w.txt clitics", "رمان\n", "والرمان", 1 },
    { "words content w.txt clitics", "رمان\n", "فالرمان", 1 },
    { "words content w.txt clitics", "رمان\n", "كالرمان", 1 },
    { "words content w.txt clitics", "رمان\n", "للرمان", 1 },
    { "words content w.txt clitics", "رمان\n", "وبالرمان", 1 },
    { "words content w.txt clitics", "رمان\n", "فلرمان", 1 },
    { "words content w.txt clitics", "رمان\n", "ولرمان", 1 },
    { "words content w.txt clitics", "رمان\n", "وبرمان", 1 },
    { "words content w.txt clitics", "رمان\n", "برمان", 1 },
    { "words content w.txt clitics", "رمان\n", "الرُّمّان", 1 },
    { "words content w.txt clitics", "رمان\n", "الرمانة", 0 },
    { "words content w.txt clitics", "رمان\n", "والرمانات", 0 },
    { "words content w.txt clitics", "رمان\n", "سالرمان", 0 },
    { "words content w.txt clitics", "رمان\n", "مرمان", 0 },
    { "words content w.txt clitics", "رمان\n", "ووالرمان", 0 },
    { "words content w.txt clitics", "رمان\n", "لالرمان", 0 },
    { "words content w.txt clitics", "جلب الحبيب\n", "لجلب الحبيب", 1 },
    { "words content w.txt clitics", "جلب الحبيب\n", "لجلب الحبيبه", 0 },
    { "words content w.txt", "رمان\n", "الرمان", 0 },
    { "words content w.txt", "رمان\n", "بالرمان", 0 },
    /* raw keeps the proclitics as typed; rasm folds them to its skeleton */
    { "words content:raw w.txt clitics", "رمان\n", "والرمان", 1 },
    { "words content:rasm w.txt clitics", "رمان\n", "بالرمان", 1 },
    { "words content:rasm w.txt clitics", "رمان\n", "الرمانه", 0 },
};

static void test_views(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof view_cases / sizeof view_cases[0]; i++) {
        const struct view_case *c = &view_cases[i];
        char text[512];
        snprintf(text, sizeof text, "rule T\n  %s\n  score 1\n", c->cond);
        struct file files[] = { { "a.rules", text }, { c->words ? "w.txt" : NULL, c->words } };
        const char *dir = make_dir(files, 2);
        char err[512];
        struct ruleset *rs = ruleset_load(dir, err, sizeof err);
        if (!rs)
            fail_msg("case %zu (%s): %s", i, c->cond, err);
        struct comment cm = { 0 };
        cm.field[CF_CONTENT] = (char *)c->text;
        cm.len[CF_CONTENT] = strlen(c->text);
        struct verdict v;
        assert_int_equal(engine_score(rs, &cm, NULL, &v, err, sizeof err), 0);
        if ((int)v.nmatches != c->hit)
            fail_msg("case %zu: %s on \"%s\": expected %s", i, c->cond, c->text,
                     c->hit ? "a match" : "no match");
        verdict_free(&v);
        ruleset_release(rs);
        remove_dir(dir, files, 2);
    }
    engine_thread_done();
}

/* ruleset_field_views names the views the conditions read, per field:
 * `any` reads every field, `flags` needs the fold of content and author,
 * links read no view. */
static void test_field_views(void **state)
{
    (void)state;
    struct file files[] = { { "a.rules",
        "rule A\n  match content:squash /x/\n  score 1\n"
        "rule B\n  match author /y/\n  unless content:rasm /z/\n  score 1\n"
        "rule C\n  match flags /tatweel/\n  score 1\n"
        "rule D\n  links url >= 1\n  score 1\n"
        "rule E\n  match any:skel /w/\n  score 1\n" } };
    const char *dir = make_dir(files, 1);
    char err[512];
    struct ruleset *rs = ruleset_load(dir, err, sizeof err);
    if (!rs)
        fail_msg("%s", err);
    unsigned skel = 1u << VIEW_SKEL, norm = 1u << VIEW_NORM;
    assert_int_equal(ruleset_field_views(rs, CF_CONTENT),
                     (1u << VIEW_SQUASH) | (1u << VIEW_RASM) | norm | skel | NORM_WANT_FLAGS);
    assert_int_equal(ruleset_field_views(rs, CF_AUTHOR), norm | skel | NORM_WANT_FLAGS);
    assert_int_equal(ruleset_field_views(rs, CF_URL), skel);
    assert_int_equal(ruleset_field_views(rs, CF_EMAIL), skel);
    assert_int_equal(ruleset_field_views(rs, -1), 0);
    ruleset_release(rs);
    remove_dir(dir, files, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_table),
        cmocka_unit_test(test_single_file),
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_field_views),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
