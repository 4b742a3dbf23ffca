/* test_learn.c — the token-statistics model (learn.h) and `learned` rules.
 *
 * Tokens: which words make tokens, that phone numbers share one, that
 * Arabic clitics share a stem. Model: trained on two small made-up classes
 * it must score their own kind near 1 or 0 and the unknown at 0.5; a saved
 * model must load back with the same scores; a broken file is refused with
 * its line. Character n-grams: what they add, that they reach unseen forms
 * of a word, and that the "tokens" header keeps old files scoring as before.
 * Engine: a `learned` rule hits by the model's score. */
#include <pthread.h>
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
#include "raqib/rules.h"

struct collected {
    uint64_t h[64];
    size_t n;
};

static int collect(uint64_t hash, void *arg)
{
    struct collected *c = arg;
    if (c->n < 64)
        c->h[c->n++] = hash;
    return 0;
}

static struct collected tokens_of(const char *s)
{
    struct collected c = { .n = 0 };
    learn_tokens(s, strlen(s), collect, &c);
    return c;
}

static struct collected ngram_tokens_of(const char *s)
{
    struct collected c = { .n = 0 };
    learn_tokens_of(s, strlen(s), LEARN_TOKENS_CHARS, collect, &c);
    return c;
}

static int count_token(uint64_t hash, void *arg)
{
    (void)hash;
    ++*(size_t *)arg;
    return 0;
}

static int shares_token(const struct collected *a, const struct collected *b)
{
    for (size_t i = 0; i < a->n; i++)
        for (size_t j = 0; j < b->n; j++)
            if (a->h[i] == b->h[j])
                return 1;
    return 0;
}

static void test_tokens(void **state)
{
    (void)state;
    /* two words and their pair; single letters and punctuation make none */
    assert_int_equal(tokens_of("ab, cd!").n, 3);
    assert_int_equal(tokens_of("a b c . ; 7").n, 0);
    assert_int_equal(tokens_of("").n, 0);
    /* every 10-digit number is one token; short numbers stay themselves */
    struct collected p1 = tokens_of("0551234567"), p2 = tokens_of("0559876543");
    assert_int_equal(p1.n, 1);
    assert_true(p1.h[0] == p2.h[0]);
    assert_false(tokens_of("12").h[0] == tokens_of("34").h[0]);
    assert_false(p1.h[0] == tokens_of("05512345678").h[0]);
    /* an Arabic word with clitics adds its stem: وكلب and الكلب share it,
     * without sharing the word itself */
    struct collected a = tokens_of("وكلب"), b = tokens_of("الكلب"), c = tokens_of("كلب");
    assert_int_equal(a.n, 2);
    assert_int_equal(b.n, 2);
    assert_int_equal(c.n, 1);
    assert_true(a.h[0] != b.h[0]);
    assert_true(shares_token(&a, &b));
    /* a stem keeps three letters: ولد is not cut to لد */
    assert_int_equal(tokens_of("ولد").n, 1);
}

static const char *positives[] = {
    "buy cheap pills now", "cheap pills delivered fast", "call now for cheap loans",
    "cheap casino bonus now", "pills and loans, call now", "free casino spins now",
};
static const char *negatives[] = {
    "great article, thanks", "thanks for the report", "the minister spoke today",
    "i disagree with the article", "a good report about the minister", "thanks, well written",
};

static struct learn_model *trained(void)
{
    struct learn_model *m = learn_model_new();
    assert_non_null(m);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof positives / sizeof positives[0]; i++)
            assert_int_equal(learn_model_add(m, positives[i], strlen(positives[i]), 1), 0);
        for (size_t i = 0; i < sizeof negatives / sizeof negatives[0]; i++)
            assert_int_equal(learn_model_add(m, negatives[i], strlen(negatives[i]), 0), 0);
    }
    return m;
}

static double score(const struct learn_model *m, const char *s)
{
    return learn_model_score(m, s, strlen(s));
}

static void test_score(void **state)
{
    (void)state;
    struct learn_model *empty = learn_model_new();
    assert_true(score(empty, "cheap pills now") == 0.5);   /* knows nothing */
    learn_model_free(empty);
    struct learn_model *m = trained();
    assert_int_equal(learn_model_docs(m, 1), 18);
    assert_int_equal(learn_model_docs(m, 0), 18);
    assert_true(score(m, "cheap pills, call now") > 0.95);
    assert_true(score(m, "thanks for the article") < 0.05);
    assert_true(score(m, "zebra umbrella") == 0.5);         /* no known token */
    double mixed = score(m, "thanks, cheap pills");
    assert_true(mixed > 0.05 && mixed < 0.95);              /* evidence both ways */
    /* a token counted once per comment however often it is repeated */
    assert_true(score(m, "cheap cheap cheap cheap") == score(m, "cheap"));
    learn_model_free(m);
}

static void test_save_load(void **state)
{
    (void)state;
    char path[] = "/tmp/raqib-learn-XXXXXX", err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct learn_model *m = trained();
    long kept = learn_model_save(m, path, 1, err, sizeof err);
    assert_int_equal(kept, (long)learn_model_tokens(m));
    struct learn_model *back = learn_model_load(path, err, sizeof err);
    assert_non_null(back);
    const char *probes[] = { "cheap pills, call now", "thanks for the article", "thanks, cheap pills" };
    for (size_t i = 0; i < 3; i++)
        assert_true(score(m, probes[i]) == score(back, probes[i]));
    assert_null(learn_model_feed_cursor(back, "news"));   /* not trained from a feed */
    learn_model_free(back);
    /* the feed cursor travels with the model */
    assert_int_equal(learn_model_set_feed_cursor(m, "news", "1795949426011-0"), 0);
    assert_int_equal(learn_model_set_feed_cursor(m, "two words", "1-0"), -1);
    assert_true(learn_model_save(m, path, 1, err, sizeof err) > 0);
    back = learn_model_load(path, err, sizeof err);
    assert_non_null(back);
    assert_string_equal(learn_model_feed_cursor(back, "news"), "1795949426011-0");
    assert_null(learn_model_feed_cursor(back, "other"));
    learn_model_free(back);
    /* min_count 6 keeps only tokens of six or more comments (cheap, now,
     * thanks…); one-off pairs go */
    kept = learn_model_save(m, path, 6, err, sizeof err);
    assert_true(kept > 0 && kept < (long)learn_model_tokens(m));
    learn_model_free(m);
    unlink(path);
}

/* Write text to a fresh file; returns its path (static). */
static const char *file_with(const char *text)
{
    static char path[64];
    strcpy(path, "/tmp/raqib-model-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static void expect_refused(const char *text, const char *suffix)
{
    char err[512];
    const char *path = file_with(text);
    assert_null(learn_model_load(path, err, sizeof err));
    char want[256];
    snprintf(want, sizeof want, "%s%s", path, suffix);
    if (strncmp(err, want, strlen(want)) != 0)
        fail_msg("expected \"%s…\", got \"%s\"", want, err);
    unlink(path);
}

/* Character n-grams: what they add to the words, and that they carry
 * evidence to forms of a word the model never saw. */
static void test_char_ngrams(void **state)
{
    (void)state;
    /* "ab": the word, then <ab, ab>, <ab> (3- and 4-grams with the marks) */
    struct collected ab = ngram_tokens_of("ab");
    assert_int_equal(ab.n, 4);
    assert_true(ab.h[0] == tokens_of("ab").h[0]);
    /* "abcdef": padded to 8 positions, 6 + 5 + 4 n-grams of 3, 4, 5 */
    assert_int_equal(ngram_tokens_of("abcdef").n, 1 + 15);
    /* digit runs stay one token; single letters still make none */
    assert_int_equal(ngram_tokens_of("0551234567 x").n, 1);
    /* كلب and كلاب share no word and no stem, but n-grams (<كل) */
    struct collected w1 = tokens_of("كلب"), w2 = tokens_of("كلاب");
    struct collected n1 = ngram_tokens_of("كلب"), n2 = ngram_tokens_of("كلاب");
    assert_false(shares_token(&w1, &w2));
    assert_true(shares_token(&n1, &n2));

    /* trained on the same comments, only the n-gram model knows an unseen
     * inflection of the positives' word */
    static const char *pos[] = { "you stupid man", "so stupid again", "stupid stupid" };
    static const char *neg[] = { "a fine man", "so fine again", "fine work" };
    struct learn_model *words = learn_model_new(), *chars = learn_model_new();
    assert_non_null(words);
    assert_non_null(chars);
    assert_int_equal(learn_model_set_tokens(chars, LEARN_TOKENS_CHARS), 0);
    for (int round = 0; round < 4; round++)
        for (size_t i = 0; i < 3; i++) {
            assert_int_equal(learn_model_add(words, pos[i], strlen(pos[i]), 1), 0);
            assert_int_equal(learn_model_add(words, neg[i], strlen(neg[i]), 0), 0);
            assert_int_equal(learn_model_add(chars, pos[i], strlen(pos[i]), 1), 0);
            assert_int_equal(learn_model_add(chars, neg[i], strlen(neg[i]), 0), 0);
        }
    assert_true(score(words, "stupidest") == 0.5);
    assert_true(score(chars, "stupidest") > 0.9);
    assert_true(score(chars, "finest") < 0.1);
    /* the kind of tokens is fixed once a model holds counts */
    assert_int_equal(learn_model_set_tokens(chars, LEARN_TOKENS_WORDS), -1);
    assert_int_equal(learn_model_set_tokens(words, LEARN_TOKENS_CHARS), -1);
    learn_model_free(words);
    learn_model_free(chars);
}

/* The word, light-stem and pair hashes the shipped models were counted
 * with, pinned: a prefix cut (والكلاب, بالسحر), a suffix alone (كلبهم: the
 * stem's hash taken on the way through the word's), both (وكتبها), and a
 * word without a stem. */
static void test_word_hashes_pinned(void **state)
{
    (void)state;
    static const uint64_t want[] = {
        0x786a2ec8e219e4faULL, 0x63c1f5d7ec5aa11eULL, 0xddbab6e2c24e0f44ULL, 0x10a672aa5056d925ULL,
        0x3b39a17e8d51b555ULL, 0xba2fc9c313842b58ULL, 0xb9b0fea0936d42e4ULL, 0xb75e3cfbb7d2727dULL,
        0x98b6db9d8a94ad3dULL, 0x46f9f24aa30770a0ULL, 0xaffd6ceb10ddceccULL, 0x21b6a99143eed064ULL,
        0x093b379bb49850f9ULL,
    };
    struct collected c = tokens_of("والكلاب كلبهم بالسحر وكتبها ab7");
    assert_int_equal(c.n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < c.n; i++)
        if (c.h[i] != want[i])
            fail_msg("token %zu: %#llx, pinned %#llx", i, (unsigned long long)c.h[i], (unsigned long long)want[i]);
}

/* The n-gram hashes the shipped abuse.model was counted with, pinned: a
 * faster tokenizer must make these very tokens, in this order. */
static void test_ngram_hashes_pinned(void **state)
{
    (void)state;
    static const uint64_t kilab[] = {
        0x5392fa66bc89645fULL, 0x23650da187fb6856ULL, 0xa67e8b736c96e461ULL, 0xb0284abf5239472aULL,
        0x2aa0b72433c30c58ULL, 0x1bcd685fe19a7a1aULL, 0x1213fe5dfd1e6a90ULL, 0xec8c744576cba7e8ULL,
        0xff12cc9ff9308146ULL, 0xaa163a8be3216763ULL,
    };
    static const uint64_t ab[] = {
        0x9ffe50a657e4a147ULL, 0xd6fdde331b191fcaULL, 0x40c9b66cf11ea6c2ULL, 0xdb962ae7817c848bULL,
    };
    struct collected k = ngram_tokens_of("كلاب"), a = ngram_tokens_of("ab");
    assert_int_equal(k.n, 10);
    for (size_t i = 0; i < k.n; i++)
        assert_true(k.h[i] == kilab[i]);
    assert_int_equal(a.n, 4);
    for (size_t i = 0; i < a.n; i++)
        assert_true(a.h[i] == ab[i]);
    /* a word's n-grams come from its first 40 characters: 42 positions */
    char longw[64];
    memset(longw, 'x', 50);
    longw[50] = '\0';
    size_t n = 0;
    learn_tokens_of(longw, 50, LEARN_TOKENS_CHARS, count_token, &n);
    assert_int_equal(n, 1 + 40 + 39 + 38);
}

/* Many made-up words, as one comment: word i of a set is "pa%03d" or
 * "na%03d", with an Arabic one now and then. */
static void made_up(char *buf, size_t cap, char kind, int from, int count, int stride)
{
    size_t off = 0;
    for (int i = from; i < from + count && off + 32 < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%c%c%03d %s", kind, 'a' + i % 7, (i * stride) % 1000,
                                i % 5 ? "" : "والكلاب ");
    buf[off] = '\0';
}

/* An n-gram model trained on rounds pairs of made-up comments (text is
 * the caller's buffer of cap bytes). */
static struct learn_model *ngram_trained(char *text, size_t cap, int rounds)
{
    struct learn_model *m = learn_model_new();
    assert_non_null(m);
    assert_int_equal(learn_model_set_tokens(m, LEARN_TOKENS_CHARS), 0);
    for (int i = 0; i < rounds; i++) {
        made_up(text, cap, 'p', i * 20, 30, 7);
        assert_int_equal(learn_model_add(m, text, strlen(text), 1), 0);
        made_up(text, cap, 'n', i * 20, 30, 11);
        assert_int_equal(learn_model_add(m, text, strlen(text), 0), 0);
    }
    return m;
}

/* A loaded n-gram model scores through its clue index and a list of the
 * comment's tokens; a model built in memory through the counts. They must
 * agree to the last bit: on comments with hundreds of clues (the 150
 * strongest are selected), repeated words, long words, and on one with
 * more tokens than are looked at. After learn_model_add the loaded model
 * must score by its new counts. */
static void test_loaded_scores_same(void **state)
{
    (void)state;
    static char text[200000];
    char path[] = "/tmp/raqib-learn-XXXXXX", err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct learn_model *m = ngram_trained(text, sizeof text, 40);
    assert_true(learn_model_save(m, path, 1, err, sizeof err) > 0);
    struct learn_model *back = learn_model_load(path, err, sizeof err);
    assert_non_null(back);
    const struct { char kind; int from, count, stride; } probes[] = {
        { 'p', 0, 400, 7 }, { 'n', 100, 300, 3 }, { 'p', 5, 40, 11 }, { 'n', 0, 12000, 13 },
    };
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        made_up(text, sizeof text, probes[i].kind, probes[i].from, probes[i].count, probes[i].stride);
        strcat(text, " Stupid-وكلبهم pa007 pa007 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        double want = score(m, text), got = score(back, text);
        if (got != want)
            fail_msg("probe %zu: loaded %.17g, in memory %.17g", i, got, want);
    }
    made_up(text, sizeof text, 'n', 0, 60, 7);
    assert_int_equal(learn_model_add(m, text, strlen(text), 1), 0);
    assert_int_equal(learn_model_add(back, text, strlen(text), 1), 0);
    made_up(text, sizeof text, 'p', 0, 400, 7);
    assert_true(score(back, text) == score(m, text));
    learn_model_free(back);
    learn_model_free(m);
    unlink(path);
}

/* Every score is taken from a list of the text's tokens, and from the text
 * itself when the list runs out of room. Both must agree to the last bit:
 * a comment repeated until it overflows the list (so it is scored from the
 * text) against the same comment once with its last word's pair closed
 * (the same distinct tokens in the same order, listed). Also, one listing
 * with n-grams serves a words model as its own listing does, with and
 * without a site's counts. */
static void test_listed_scores_same(void **state)
{
    (void)state;
    static char once[4096], repeated[300000];
    struct learn_model *words = trained(), *chars = ngram_trained(once, sizeof once, 30), *site[2];
    for (int k = 0; k < 2; k++) {
        assert_non_null(site[k] = learn_model_new());
        assert_int_equal(learn_model_set_tokens(site[k], k ? LEARN_TOKENS_CHARS : LEARN_TOKENS_WORDS), 0);
        made_up(once, sizeof once, 'p', 3, 40, 5);
        assert_int_equal(learn_model_add(site[k], once, strlen(once), 1), 0);
        assert_int_equal(learn_model_add(site[k], positives[0], strlen(positives[0]), 0), 0);
    }
    const struct learn_model *models[2] = { words, chars };
    made_up(once, sizeof once, 'p', 0, 120, 7);
    strcat(once, " cheap pills now ");
    size_t unit = strlen(once), n = 0;
    while (n + unit < sizeof repeated - 1) {
        memcpy(repeated + n, once, unit);
        n += unit;
    }
    repeated[n] = '\0';
    const char *first = "pa000";     /* the word after the last: closes the same pair */
    strcat(once, first);
    for (int k = 0; k < 2; k++) {
        struct learn_text t;
        assert_int_equal(learn_text_list(&t, repeated, n, learn_model_get_tokens(models[k])), 0);
        assert_true(k ? t.all_full : t.words_full);       /* scored from the text */
        learn_text_free(&t);
        for (int with_site = 0; with_site < 2; with_site++) {
            const struct learn_model *st = with_site ? site[k] : NULL;
            double from_text = learn_model_score_site(models[k], st, repeated, n);
            double listed = learn_model_score_site(models[k], st, once, strlen(once));
            if (from_text != listed)
                fail_msg("model %d site %d: from the text %.17g, listed %.17g", k, with_site, from_text, listed);
            assert_true(listed != 0.5);
        }
    }
    /* one listing with n-grams serves the words model too */
    struct learn_text both;
    assert_int_equal(learn_text_list(&both, once, strlen(once), LEARN_TOKENS_CHARS), 0);
    assert_false(both.all_full || both.words_full);
    assert_true(both.nall > both.nwords);
    for (int with_site = 0; with_site < 2; with_site++) {
        assert_true(learn_text_score(&both, words, with_site ? site[0] : NULL) ==
                    learn_model_score_site(words, with_site ? site[0] : NULL, once, strlen(once)));
        assert_true(learn_text_score(&both, chars, with_site ? site[1] : NULL) ==
                    learn_model_score_site(chars, with_site ? site[1] : NULL, once, strlen(once)));
    }
    learn_text_free(&both);
    for (int k = 0; k < 2; k++)
        learn_model_free(site[k]);
    learn_model_free(chars);
    learn_model_free(words);
}

/* Threads scoring at once, as raqibd's workers do: each keeps its own
 * scratch (learn.c) between comments, and must score as the main thread
 * does, a long comment (its scratch grown, then given back) between short
 * ones; the scratch is freed when the thread ends (LSan checks it under
 * SAN=1). */
struct scorer {
    const struct learn_model *models[2];
    const char *texts[3];
    double got[2][3];
};

static void *score_all(void *arg)
{
    struct scorer *w = arg;
    for (int round = 0; round < 3; round++)
        for (int k = 0; k < 2; k++)
            for (int i = 0; i < 3; i++)
                w->got[k][i] = learn_model_score(w->models[k], w->texts[i], strlen(w->texts[i]));
    return NULL;
}

static void test_threads_score_same(void **state)
{
    (void)state;
    static char text[4096], longer[60000];
    struct learn_model *chars = ngram_trained(text, sizeof text, 20), *words = trained();
    made_up(text, sizeof text, 'p', 0, 200, 7);
    made_up(longer, sizeof longer, 'n', 0, 4000, 3);
    struct scorer them[3], mine = { .models = { words, chars },
                                    .texts = { text, longer, "cheap pills now pa007 na010" } };
    score_all(&mine);
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        them[i] = mine;
        memset(them[i].got, 0, sizeof them[i].got);
        assert_int_equal(pthread_create(&th[i], NULL, score_all, &them[i]), 0);
    }
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        for (int k = 0; k < 2; k++)
            for (int j = 0; j < 3; j++)
                if (memcmp(&them[i].got[k][j], &mine.got[k][j], sizeof(double)) != 0)
                    fail_msg("thread %d model %d text %d: %.17g, main thread %.17g", i, k, j, them[i].got[k][j],
                             mine.got[k][j]);
    }
    assert_true(mine.got[1][0] != 0.5 && mine.got[1][1] != 0.5);
    learn_model_free(words);
    learn_model_free(chars);
}

/* Read a whole small file into buf. */
static void slurp(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, cap - 1, f);
    buf[n] = '\0';
    fclose(f);
}

/* The "tokens" header: written only for n-gram models, so a words model's
 * file is what it always was, and an old file (no such line) loads as words
 * and scores as before; an n-gram model comes back with its n-grams. */
static void test_tokens_header(void **state)
{
    (void)state;
    char path[] = "/tmp/raqib-learn-XXXXXX", err[512], text[65536];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct learn_model *m = trained();
    assert_true(learn_model_save(m, path, 1, err, sizeof err) > 0);
    slurp(path, text, sizeof text);
    assert_null(strstr(text, "tokens"));
    assert_int_equal(strncmp(text, "raqib-learned 1\n", 16), 0);
    struct learn_model *back = learn_model_load(path, err, sizeof err);
    assert_non_null(back);
    assert_int_equal(learn_model_get_tokens(back), LEARN_TOKENS_WORDS);
    assert_true(score(back, "cheap pills, call now") == score(m, "cheap pills, call now"));
    assert_true(score(back, "cheapest pill") == score(m, "cheapest pill"));
    learn_model_free(back);
    learn_model_free(m);

    struct learn_model *c = learn_model_new();
    assert_non_null(c);
    assert_int_equal(learn_model_set_tokens(c, LEARN_TOKENS_CHARS), 0);
    for (size_t i = 0; i < sizeof positives / sizeof positives[0]; i++) {
        assert_int_equal(learn_model_add(c, positives[i], strlen(positives[i]), 1), 0);
        assert_int_equal(learn_model_add(c, negatives[i], strlen(negatives[i]), 0), 0);
    }
    assert_true(learn_model_save(c, path, 1, err, sizeof err) > 0);
    slurp(path, text, sizeof text);
    assert_non_null(strstr(text, "\ntokens words+chars\n"));
    back = learn_model_load(path, err, sizeof err);
    assert_non_null(back);
    assert_int_equal(learn_model_get_tokens(back), LEARN_TOKENS_CHARS);
    const char *probes[] = { "cheapest pill", "thanks for the article", "zebra" };
    for (size_t i = 0; i < 3; i++)
        assert_true(score(back, probes[i]) == score(c, probes[i]));
    assert_true(score(back, "cheapest pill") > 0.9);
    learn_model_free(back);
    learn_model_free(c);
    unlink(path);
}

static void test_load_errors(void **state)
{
    (void)state;
    expect_refused("", ":1: empty file");
    expect_refused("bayes 2\n", ":1: not a learned model");
    expect_refused("raqib-learned 1\nhello\n", ":2: expected \"docs POSITIVE NEGATIVE\"");
    expect_refused("raqib-learned 1\ndocs 1 1\n00000000000000a1 1\n", ":3: expected \"HASH POSITIVE NEGATIVE\"");
    expect_refused("raqib-learned 1\ndocs 1 1\nzz 1 1\n", ":3: expected \"HASH");
    expect_refused("raqib-learned 1\n# only comments\n", ":2: no \"docs\" line");
    expect_refused("raqib-learned 1\ndocs 1 1\nfeed onlysite\n", ":3: expected \"feed SITE CURSOR\"");
    expect_refused("raqib-learned 1\ndocs 1 1\ntokens words+bytes\n", ":3: expected \"tokens words\" or");
    expect_refused("raqib-learned 1\ndocs 1 1\ntokens\n", ":3: expected \"tokens words\" or");
    expect_refused("raqib-learned 1\ndocs 1 1\n00000000000000a1 1 1\ntokens words+chars\n",
                   ":4: \"tokens\" must come before the counts");
    char err[512];
    assert_null(learn_model_load("/nonexistent/x.model", err, sizeof err));
    assert_non_null(strstr(err, "No such file"));
}

/* A `learned` rule through ruleset_load and engine_score. */
static void test_learned_rule(void **state)
{
    (void)state;
    char dir[] = "/tmp/raqib-learned-XXXXXX", path[128], err[512];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/spam.model", dir);
    struct learn_model *m = trained();
    assert_true(learn_model_save(m, path, 1, err, sizeof err) > 0);
    learn_model_free(m);
    snprintf(path, sizeof path, "%s/a.rules", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("rule LEARNED_SPAM\n  learned content spam.model >= 0.9\n  score 10\n"
          "rule LEARNED_HAM\n  learned content spam.model <= 0.1\n  score -1\n", f);
    fclose(f);
    struct ruleset *rs = ruleset_load(dir, err, sizeof err);
    assert_non_null(rs);
    struct rule_info info;
    ruleset_rule_info(rs, 0, &info);
    assert_string_equal(info.kind, "learned");
    const char *texts[] = { "CHEAP pills — call NOW", "Thanks for the article" };
    const char *want[] = { "LEARNED_SPAM", "LEARNED_HAM" };
    for (size_t i = 0; i < 2; i++) {
        struct comment c = { 0 };
        struct verdict v;
        assert_int_equal(comment_set(&c, CF_CONTENT, texts[i], strlen(texts[i])), 0);
        assert_int_equal(engine_score(rs, &c, NULL, &v, err, sizeof err), 0);
        assert_int_equal(v.nmatches, 1);
        assert_string_equal(v.matches[0].rule, want[i]);
        assert_int_equal(v.status, i == 0 ? DECISION_SPAM : DECISION_PENDING);
        verdict_free(&v);
        comment_free(&c);
    }
    ruleset_release(rs);
    engine_thread_done();
    unlink(path);
    snprintf(path, sizeof path, "%s/spam.model", dir);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_score),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_char_ngrams),
        cmocka_unit_test(test_word_hashes_pinned),
        cmocka_unit_test(test_ngram_hashes_pinned),
        cmocka_unit_test(test_loaded_scores_same),
        cmocka_unit_test(test_listed_scores_same),
        cmocka_unit_test(test_threads_score_same),
        cmocka_unit_test(test_tokens_header),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_learned_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
