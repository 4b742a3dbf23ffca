/* test_live.c — a site's learned counts on top of a model (learn.h's
 * score_site, apply and labels; live.h).
 *
 * The arithmetic the daemon relies on: a site with no counts scores as the
 * model alone, to the bit; a model plus a site's counts scores as one model
 * trained on both sets of comments, to the bit; a decision counts once, a
 * repeat not again, a correction moves the counts from one side to the other
 * and never counts twice; memory stops growing at the bound; sites never
 * share counts; labels round-trip through the file; `learned … site` rules
 * need them and read the comment's site. */
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
#include "raqib/learn.h"
#include "raqib/live.h"
#include "raqib/rules.h"

static const char *prior_pos[] = { "cheap pills call now", "casino bonus call now", "win money casino now",
                                   "cheap loans approved now" };
static const char *prior_neg[] = { "thanks for the article", "the minister spoke today", "great match today",
                                   "the article on water was good" };
static const char *site_pos[] = { "zorblax gummies now", "zorblax offer today", "gummies zorblax free" };
static const char *site_neg[] = { "the council met today", "thanks for the match report" };

static void add_all(struct learn_model *m, const char **texts, size_t n, int positive)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(learn_model_add(m, texts[i], strlen(texts[i]), positive), 0);
}

static struct learn_model *prior_model(unsigned kinds)
{
    struct learn_model *m = learn_model_new();
    assert_non_null(m);
    learn_model_set_tokens(m, kinds);
    add_all(m, prior_pos, 4, 1);
    add_all(m, prior_neg, 4, 0);
    assert_int_equal(learn_model_set_labels(m, "spam", "approved,rejected"), 0);
    return m;
}

/* The tokens of text as one comment counts them. */
static size_t doc_tokens(const char *text, unsigned kinds, uint64_t **out)
{
    long n = learn_doc_tokens(kinds, text, strlen(text), out);
    assert_true(n > 0);
    return (size_t)n;
}

static void apply_text(struct learn_model *site, const char *text, int positive, int delta)
{
    uint64_t *t;
    size_t n = doc_tokens(text, learn_model_get_tokens(site), &t);
    assert_int_equal(learn_model_apply(site, t, n, positive, delta, 0), 0);
    free(t);
}

static void test_no_counts_scores_as_model(void **state)
{
    (void)state;
    struct learn_model *m = prior_model(LEARN_TOKENS_WORDS), *empty = learn_model_new();
    const char *probe = "cheap casino offer for the article";
    double a = learn_model_score(m, probe, strlen(probe));
    assert_true(learn_model_score_site(m, NULL, probe, strlen(probe)) == a);
    assert_true(learn_model_score_site(m, empty, probe, strlen(probe)) == a);
    struct live *lv = live_new(0);
    assert_true(live_score(lv, "news", "spam.model", m, probe, strlen(probe)) == a);
    assert_true(live_score(NULL, "news", "spam.model", m, probe, strlen(probe)) == a);
    live_free(lv);
    learn_model_free(empty);
    learn_model_free(m);
}

/* prior + site counts == one model trained on all of it, for both kinds. */
static void test_sum_is_joint_training(void **state)
{
    (void)state;
    const unsigned kinds[] = { LEARN_TOKENS_WORDS, LEARN_TOKENS_CHARS };
    for (size_t k = 0; k < 2; k++) {
        struct learn_model *prior = prior_model(kinds[k]), *site = learn_model_new(), *joint = prior_model(kinds[k]);
        learn_model_set_tokens(site, kinds[k]);
        for (size_t i = 0; i < 3; i++)
            apply_text(site, site_pos[i], 1, +1);
        for (size_t i = 0; i < 2; i++)
            apply_text(site, site_neg[i], 0, +1);
        add_all(joint, site_pos, 3, 1);
        add_all(joint, site_neg, 2, 0);
        const char *probes[] = { "zorblax gummies today", "the council report", "cheap zorblax casino" };
        for (size_t i = 0; i < 3; i++) {
            double a = learn_model_score_site(prior, site, probes[i], strlen(probes[i]));
            double b = learn_model_score(joint, probes[i], strlen(probes[i]));
            assert_true(a == b);
        }
        /* and the site's evidence moves the campaign's score up */
        const char *campaign = "zorblax gummies today";
        assert_true(learn_model_score_site(prior, site, campaign, strlen(campaign)) >
                    learn_model_score(prior, campaign, strlen(campaign)) + 0.2);
        learn_model_free(prior);
        learn_model_free(site);
        learn_model_free(joint);
    }
}

static void test_apply_and_take_back(void **state)
{
    (void)state;
    struct learn_model *site = learn_model_new();
    uint64_t *t;
    size_t n = doc_tokens("zorblax gummies now", LEARN_TOKENS_WORDS, &t);
    assert_int_equal(learn_model_apply(site, t, n, 1, +1, 0), 0);
    assert_int_equal(learn_model_docs(site, 1), 1);
    assert_int_equal(learn_model_docs(site, 0), 0);
    assert_int_equal(learn_model_tokens(site), n);
    /* taking back what was counted leaves nothing counted */
    assert_int_equal(learn_model_apply(site, t, n, 1, -1, 0), 0);
    assert_int_equal(learn_model_docs(site, 1), 0);
    /* taking back again never goes below zero */
    assert_int_equal(learn_model_apply(site, t, n, 1, -1, 0), 0);
    assert_int_equal(learn_model_docs(site, 1), 0);
    const char *probe = "zorblax gummies now";
    struct learn_model *prior = prior_model(LEARN_TOKENS_WORDS);
    assert_true(learn_model_score_site(prior, site, probe, strlen(probe)) ==
                learn_model_score(prior, probe, strlen(probe)));
    free(t);
    learn_model_free(prior);
    learn_model_free(site);
}

/* A correction (spam -> approved) moves the comment to the other side; a
 * repeat of the same side moves nothing. */
static void test_correction_never_counts_twice(void **state)
{
    (void)state;
    struct live *lv = live_new(0);
    struct learn_model *prior = prior_model(LEARN_TOKENS_WORDS), *want = learn_model_new();
    uint64_t *t;
    size_t n = doc_tokens("zorblax gummies now", LEARN_TOKENS_WORDS, &t);
    assert_int_equal(live_apply(lv, "news", "spam.model", LEARN_TOKENS_WORDS, t, n, -1, 1), 0);
    assert_int_equal(live_apply(lv, "news", "spam.model", LEARN_TOKENS_WORDS, t, n, 1, 1), 0);   /* repeat */
    assert_int_equal(live_apply(lv, "news", "spam.model", LEARN_TOKENS_WORDS, t, n, 1, 0), 0);   /* correction */
    struct live_site_stats st;
    assert_int_equal(live_site_stats(lv, "news", &st), 0);
    assert_int_equal(st.nmodels, 1);
    assert_int_equal(st.models[0].positive, 0);
    assert_int_equal(st.models[0].negative, 1);
    /* the same as a site that only ever approved it */
    assert_int_equal(learn_model_apply(want, t, n, 0, +1, 0), 0);
    const char *probe = "zorblax gummies";
    assert_true(live_score(lv, "news", "spam.model", prior, probe, strlen(probe)) ==
                learn_model_score_site(prior, want, probe, strlen(probe)));
    /* a decision that no model counts (-1 to -1) changes nothing */
    assert_int_equal(live_apply(lv, "news", "spam.model", LEARN_TOKENS_WORDS, t, n, -1, -1), 0);
    assert_int_equal(live_site_stats(lv, "news", &st), 0);
    assert_int_equal(st.models[0].negative, 1);
    /* sites never share counts */
    assert_int_equal(live_site_stats(lv, "sports", &st), -1);
    assert_true(live_score(lv, "sports", "spam.model", prior, probe, strlen(probe)) ==
                learn_model_score(prior, probe, strlen(probe)));
    /* other token kinds for the same model name are refused */
    assert_int_equal(live_apply(lv, "news", "spam.model", LEARN_TOKENS_CHARS, t, n, -1, 1), -1);
    free(t);
    learn_model_free(want);
    learn_model_free(prior);
    live_free(lv);
}

/* A joint index (the prior's counts and the site's together) scores as
 * the counts do, to the bit, for words and n-gram models; it is used only
 * while the counts it was made from are held (a decision after it makes
 * live_score read the counts again, still to the bit) and the prior is the
 * one it was made with; a refresh brings it back. */
static void test_joint_index(void **state)
{
    (void)state;
    static const char *probes[] = { "zorblax gummies now", "cheap zorblax casino", "the council met about water",
                                    "thanks for the match report today", "gummies gummies pills call now" };
    for (unsigned kinds = LEARN_TOKENS_WORDS; kinds <= LEARN_TOKENS_CHARS; kinds++) {
        struct live *lv = live_new(0);
        struct learn_model *prior = prior_model(kinds), *other = prior_model(kinds), *want = learn_model_new();
        learn_model_set_tokens(want, kinds);
        struct live_model_ref ref = { "spam.model", prior }, other_ref = { "spam.model", other };
        for (size_t i = 0; i < 3; i++) {
            uint64_t *t;
            size_t n = doc_tokens(site_pos[i], kinds, &t);
            assert_int_equal(live_apply(lv, "news", "spam.model", kinds, t, n, -1, 1), 0);
            assert_int_equal(learn_model_apply(want, t, n, 1, +1, 0), 0);
            free(t);
        }
        size_t before = live_memory(lv);
        assert_int_equal(live_refresh_joint(lv, &ref, 1, NULL), 1);
        assert_true(live_memory(lv) > before);                  /* it holds an index now */
        assert_int_equal(live_refresh_joint(lv, &ref, 1, NULL), 0);   /* and it is current */
        for (int round = 0; round < 3; round++) {
            for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
                const char *p = probes[i];
                double got = live_score(lv, "news", "spam.model", prior, p, strlen(p));
                double exact = learn_model_score_site(prior, want, p, strlen(p));
                if (got != exact)
                    fail_msg("kinds %u round %d \"%s\": %a, from the counts %a", kinds, round, p, got, exact);
                /* another prior (a reload) never reads this one's index */
                assert_true(live_score(lv, "news", "spam.model", other, p, strlen(p)) ==
                            learn_model_score_site(other, want, p, strlen(p)));
            }
            if (round == 0) {   /* a decision after the index: the counts are read until a refresh */
                uint64_t *t;
                size_t n = doc_tokens(site_neg[0], kinds, &t);
                assert_int_equal(live_apply(lv, "news", "spam.model", kinds, t, n, -1, 0), 0);
                assert_int_equal(learn_model_apply(want, t, n, 0, +1, 0), 0);
                free(t);
            } else if (round == 1) {
                assert_int_equal(live_refresh_joint(lv, &ref, 1, NULL), 1);
                assert_int_equal(live_refresh_joint(lv, &other_ref, 1, NULL), 1);   /* for the other prior */
            }
        }
        learn_model_free(want);
        learn_model_free(other);
        learn_model_free(prior);
        live_free(lv);
    }
}

static void test_memory_bound(void **state)
{
    (void)state;
    struct live *lv = live_new(10);
    uint64_t *t;
    size_t n = doc_tokens("one two three four five six seven eight nine ten eleven twelve", LEARN_TOKENS_WORDS, &t);
    assert_true(n > 10);
    assert_int_equal(live_apply(lv, "news", "m", LEARN_TOKENS_WORDS, t, n, -1, 1), 0);
    struct live_site_stats st;
    assert_int_equal(live_site_stats(lv, "news", &st), 0);
    assert_true(st.models[0].tokens <= 10);
    assert_int_equal(st.models[0].positive, 1);
    size_t before = live_memory(lv);
    assert_int_equal(live_apply(lv, "news", "m", LEARN_TOKENS_WORDS, t, n, 1, 0), 0);
    assert_int_equal(live_memory(lv), before);
    live_forget_site(lv, "news");
    assert_int_equal(live_site_stats(lv, "news", &st), -1);
    free(t);
    live_free(lv);
}

static void test_labels(void **state)
{
    (void)state;
    struct learn_model *m = prior_model(LEARN_TOKENS_WORDS);
    assert_int_equal(learn_model_label_side(m, "spam"), 1);
    assert_int_equal(learn_model_label_side(m, "approved"), 0);
    assert_int_equal(learn_model_label_side(m, "rejected"), 0);
    assert_int_equal(learn_model_label_side(m, "pending"), -1);
    assert_int_equal(learn_model_label_side(m, "appr"), -1);
    assert_int_equal(learn_model_set_labels(m, "Spam", "approved"), -1);
    assert_int_equal(learn_model_set_labels(m, "spam", "approved,,x"), -1);
    assert_int_equal(learn_model_set_labels(m, "spam", ""), -1);
    char dir[] = "/tmp/raqib-live-XXXXXX", path[128], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.model", dir);
    assert_true(learn_model_save(m, path, 1, err, sizeof err) > 0);
    struct learn_model *back = learn_model_load(path, err, sizeof err);
    assert_non_null(back);
    assert_string_equal(learn_model_labels(back, 1), "spam");
    assert_string_equal(learn_model_labels(back, 0), "approved,rejected");
    learn_model_free(back);
    FILE *f = fopen(path, "w");
    fputs("raqib-learned 1\ndocs 1 1\nlabels spam\n", f);
    fclose(f);
    assert_null(learn_model_load(path, err, sizeof err));
    assert_non_null(strstr(err, ":3: expected \"labels POSITIVE NEGATIVE\""));
    unlink(path);
    rmdir(dir);
    learn_model_free(m);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int learned_hit(const struct ruleset *rs, const struct live *lv, const char *site, const char *text)
{
    struct comment c = { 0 };
    struct engine_signals sig = { .live = lv };
    struct verdict v;
    char err[256];
    assert_int_equal(comment_set(&c, CF_CONTENT, text, strlen(text)), 0);
    if (site)
        assert_int_equal(comment_set(&c, CF_SITE, site, strlen(site)), 0);
    assert_int_equal(engine_score(rs, &c, &sig, &v, err, sizeof err), 0);
    int hit = v.nmatches > 0;
    verdict_free(&v);
    comment_free(&c);
    return hit;
}

/* `learned … site`: needs labels; reads the comment's site ("default"
 * when none); live_learn teaches by the labels. */
static void test_site_rules(void **state)
{
    (void)state;
    char dir[] = "/tmp/raqib-live-XXXXXX", path[160], err[512];
    assert_non_null(mkdtemp(dir));
    struct learn_model *m = prior_model(LEARN_TOKENS_WORDS);
    snprintf(path, sizeof path, "%s/spam.model", dir);
    assert_true(learn_model_save(m, path, 1, err, sizeof err) > 0);
    snprintf(path, sizeof path, "%s/a.rules", dir);
    write_text(path, "rule LEARNED\n  learned content spam.model >= 0.9 site\n  score 3\n");
    struct ruleset *rs = ruleset_load(dir, err, sizeof err);
    assert_non_null(rs);
    struct live_model_ref refs[4];
    assert_int_equal(ruleset_live_models(rs, refs, 4), 1);
    assert_string_equal(refs[0].name, "spam.model");
    struct live *lv = live_new(0);
    const char *campaign = "zorblax gummies today";
    assert_false(learned_hit(rs, lv, "news", campaign));
    for (int i = 0; i < 3; i++)
        assert_int_equal(live_learn(lv, rs, "news", site_pos[i], strlen(site_pos[i]), NULL, "spam", 1), 0);
    assert_int_equal(live_learn(lv, rs, "news", site_neg[0], strlen(site_neg[0]), NULL, "approved", 2), 0);
    assert_true(learned_hit(rs, lv, "news", campaign));
    assert_false(learned_hit(rs, lv, "sports", campaign));
    assert_false(learned_hit(rs, lv, NULL, campaign));           /* site "default" */
    assert_false(learned_hit(rs, NULL, "news", campaign));       /* no live counts: the model alone */
    struct live_site_stats st;
    assert_int_equal(live_site_stats(lv, "news", &st), 0);
    assert_int_equal(st.decisions, 4);
    assert_int_equal(st.last_ms, 2);
    ruleset_release(rs);
    /* a rule without `site` reads the model alone */
    write_text(path, "rule LEARNED\n  learned content spam.model >= 0.9\n  score 3\n");
    assert_non_null(rs = ruleset_load(dir, err, sizeof err));
    assert_int_equal(ruleset_live_models(rs, refs, 4), 0);
    assert_false(learned_hit(rs, lv, "news", campaign));
    ruleset_release(rs);
    /* a bad last word, and a model without labels, are refused */
    write_text(path, "rule LEARNED\n  learned content spam.model >= 0.9 sight\n  score 3\n");
    assert_null(ruleset_load(dir, err, sizeof err));
    assert_non_null(strstr(err, "a.rules:2: learned ends with its probability, or with the word site"));
    struct learn_model *bare = learn_model_new();
    add_all(bare, prior_pos, 4, 1);
    add_all(bare, prior_neg, 4, 0);
    snprintf(path, sizeof path, "%s/spam.model", dir);
    assert_true(learn_model_save(bare, path, 1, err, sizeof err) > 0);
    snprintf(path, sizeof path, "%s/a.rules", dir);
    write_text(path, "rule LEARNED\n  learned content spam.model >= 0.9 site\n  score 3\n");
    assert_null(ruleset_load(dir, err, sizeof err));
    assert_non_null(strstr(err, "model spam.model has no labels line"));
    unlink(path);
    snprintf(path, sizeof path, "%s/spam.model", dir);
    unlink(path);
    rmdir(dir);
    learn_model_free(bare);
    learn_model_free(m);
    live_free(lv);
    engine_thread_done();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_counts_scores_as_model),
        cmocka_unit_test(test_sum_is_joint_training),
        cmocka_unit_test(test_apply_and_take_back),
        cmocka_unit_test(test_correction_never_counts_twice),
        cmocka_unit_test(test_joint_index),
        cmocka_unit_test(test_memory_bound),
        cmocka_unit_test(test_labels),
        cmocka_unit_test(test_site_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
