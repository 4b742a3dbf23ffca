/* test_reputation.c — commenters' records (reputation.h) and the rules
 * that read them (flags words, the `approve` key).
 *
 * The table: a decision counts once, a correction moves the count, sites
 * never share records, marks set and clear, an erased author is gone, the
 * bound holds, and thousands of inserts and erasures in random order leave
 * every remaining author findable (the back-shift deletion). The engine: an
 * `approve` rule approves only when no rule with a positive score hit, and
 * the shipped 15-authors.rules approve a clean regular, catch a regular's
 * spam, send a blocked author to spam and score a spammer toward spam. */
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
#include "raqib/reputation.h"
#include "raqib/rules.h"

static void test_counts_move(void **state)
{
    (void)state;
    struct reputation *rep = reputation_new(0);
    struct author_counts c;
    assert_non_null(rep);
    assert_int_equal(reputation_get(rep, "news", 42, &c), 0);
    assert_int_equal(reputation_move(rep, "news", 42, NULL, "approved", 1000), 0);
    assert_int_equal(reputation_move(rep, "news", 42, "pending", "approved", 2000), 0);
    assert_int_equal(reputation_get(rep, "news", 42, &c), 1);
    assert_int_equal(c.approved, 2);
    assert_int_equal(c.last_ms, 2000);
    /* a correction moves one count, never adds */
    assert_int_equal(reputation_move(rep, "news", 42, "approved", "spam", 3000), 0);
    reputation_get(rep, "news", 42, &c);
    assert_int_equal(c.approved, 1);
    assert_int_equal(c.spam, 1);
    assert_int_equal(c.rejected, 0);
    /* the same status twice moves nothing */
    assert_int_equal(reputation_move(rep, "news", 42, "spam", "spam", 4000), 0);
    reputation_get(rep, "news", 42, &c);
    assert_int_equal(c.spam, 1);
    /* another site knows nothing of it */
    assert_int_equal(reputation_get(rep, "sport", 42, &c), 0);
    assert_int_equal(reputation_authors(rep, "news"), 1);
    reputation_free(rep);
}

static void test_marks_and_erase(void **state)
{
    (void)state;
    struct reputation *rep = reputation_new(0);
    struct author_counts c;
    assert_int_equal(reputation_mark(rep, "news", 7, AUTHOR_BLOCKED), 0);
    assert_int_equal(reputation_get(rep, "news", 7, &c), 1);
    assert_int_equal(c.mark, AUTHOR_BLOCKED);
    /* clearing the only thing known removes the record */
    assert_int_equal(reputation_mark(rep, "news", 7, AUTHOR_UNMARKED), 0);
    assert_int_equal(reputation_get(rep, "news", 7, &c), 0);
    reputation_move(rep, "news", 7, NULL, "rejected", 1);
    reputation_mark(rep, "news", 7, AUTHOR_TRUSTED);
    reputation_erase(rep, "news", 7);
    assert_int_equal(reputation_get(rep, "news", 7, &c), 0);
    struct author_counts set = { 3, 1, 0, 99, AUTHOR_TRUSTED };
    assert_int_equal(reputation_set(rep, "news", 8, &set), 0);
    reputation_get(rep, "news", 8, &c);
    assert_int_equal(c.approved, 3);
    assert_int_equal(c.rejected, 1);
    assert_int_equal(c.spam, 0);
    assert_int_equal(c.last_ms, 99);
    assert_int_equal(c.mark, AUTHOR_TRUSTED);
    reputation_forget_site(rep, "news");
    assert_int_equal(reputation_get(rep, "news", 8, &c), 0);
    reputation_free(rep);
}

static void test_bound(void **state)
{
    (void)state;
    struct reputation *rep = reputation_new(100);
    for (uint64_t a = 1; a <= 100; a++)
        assert_int_equal(reputation_move(rep, "news", a, NULL, "approved", 1), 0);
    assert_int_equal(reputation_move(rep, "news", 1000, NULL, "approved", 1), -1);
    assert_int_equal(reputation_dropped(rep), 1);
    assert_int_equal(reputation_move(rep, "news", 50, NULL, "approved", 1), 0);   /* known ones still count */
    assert_int_equal(reputation_authors(rep, "news"), 100);
    assert_true(reputation_memory(rep) < 100 * 64 + 4096);
    reputation_free(rep);
}

/* Random inserts and erasures against a plain array: every author left is
 * found with its count, every erased one is not. */
static void test_many_erasures(void **state)
{
    (void)state;
    enum { N = 5000 };
    static unsigned present[N];
    struct reputation *rep = reputation_new(0);
    struct author_counts c;
    srand(19);
    for (int round = 0; round < 40000; round++) {
        int i = rand() % N;
        uint64_t a = (uint64_t)i * 0x100000001ull + 1;   /* clustered homes on purpose */
        if (rand() % 3) {
            assert_int_equal(reputation_move(rep, "s", a, NULL, "approved", round), 0);
            present[i]++;
        } else {
            reputation_erase(rep, "s", a);
            present[i] = 0;
        }
    }
    size_t held = 0;
    for (int i = 0; i < N; i++) {
        uint64_t a = (uint64_t)i * 0x100000001ull + 1;
        int known = reputation_get(rep, "s", a, &c);
        assert_int_equal(known, present[i] > 0);
        if (known)
            assert_int_equal(c.approved, present[i]);
        held += present[i] > 0;
    }
    assert_int_equal(reputation_authors(rep, "s"), held);
    reputation_free(rep);
}

static void test_flags_and_hex(void **state)
{
    (void)state;
    char buf[128], hex[17];
    struct author_counts c = { 2, 0, 1, 0, AUTHOR_TRUSTED };
    reputation_flags(&c, buf, sizeof buf);
    assert_string_equal(buf, "author_approved=2 author_spam=1 author_trusted");
    struct author_counts none = { 0 };
    assert_int_equal(reputation_flags(&none, buf, sizeof buf), 0);
    assert_string_equal(buf, "");
    uint64_t back;
    reputation_hex(0x0123456789abcdefull, hex);
    assert_string_equal(hex, "0123456789abcdef");
    assert_int_equal(reputation_parse_hex(hex, &back), 0);
    assert_true(back == 0x0123456789abcdefull);
    assert_int_equal(reputation_parse_hex("0123456789ABCDEF", &back), -1);
    assert_int_equal(reputation_parse_hex("0000000000000000", &back), -1);
    assert_int_equal(reputation_parse_hex("12", &back), -1);
}

/* ---- rules ---- */

static struct ruleset *load_text(const char *text, char *err, size_t errlen)
{
    char dir[64], path[128];
    strcpy(dir, "/tmp/raqib-rep-XXXXXX");
    if (!mkdtemp(dir))
        return NULL;
    snprintf(path, sizeof path, "%s/t.rules", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return NULL;
    fputs(text, f);
    fclose(f);
    struct ruleset *rs = ruleset_load(dir, err, errlen);
    unlink(path);
    rmdir(dir);
    return rs;
}

static enum decision score(const struct ruleset *rs, const char *content, const struct author_counts *a,
                           double *total)
{
    struct comment c = { 0 };
    c.field[CF_CONTENT] = (char *)content;
    c.len[CF_CONTENT] = strlen(content);
    struct engine_signals sig = { .author = a };
    struct verdict v;
    char err[256];
    assert_int_equal(engine_score(rs, &c, &sig, &v, err, sizeof err), 0);
    enum decision d = v.status;
    if (total)
        *total = v.score;
    verdict_free(&v);
    return d;
}

static void test_approve_rule(void **state)
{
    (void)state;
    char err[512];
    struct ruleset *rs = load_text("rule REG\n  match flags /\\bauthor_approved=(?:[2-9]|[1-9][0-9]+)\\b/\n"
                                   "  unless flags /\\bauthor_(?:rejected|spam)=/\n  score 0\n  approve\n"
                                   "rule BAD\n  match content /bad/\n  score 1\n"
                                   "rule NICE\n  match content /nice/\n  score -1\n",
                                   err, sizeof err);
    if (!rs)
        fail_msg("%s", err);
    struct author_counts regular = { 2, 0, 0, 0, 0 }, once = { 1, 0, 0, 0, 0 }, rejected = { 5, 1, 0, 0, 0 };
    assert_int_equal(score(rs, "hello", &regular, NULL), DECISION_APPROVED);
    assert_int_equal(score(rs, "hello nice", &regular, NULL), DECISION_APPROVED);  /* vouching rules don't stop it */
    assert_int_equal(score(rs, "hello bad", &regular, NULL), DECISION_PENDING);    /* a positive rule wins */
    assert_int_equal(score(rs, "hello", &once, NULL), DECISION_PENDING);
    assert_int_equal(score(rs, "hello", &rejected, NULL), DECISION_PENDING);
    assert_int_equal(score(rs, "hello", NULL, NULL), DECISION_PENDING);
    struct rule_info info;
    ruleset_rule_info(rs, 0, &info);
    assert_int_equal(info.approve, 1);
    ruleset_rule_info(rs, 1, &info);
    assert_int_equal(info.approve, 0);
    ruleset_release(rs);
    assert_null(load_text("rule X\n  match content /x/\n  score 0\n  approve now\n", err, sizeof err));
    assert_non_null(strstr(err, "approve takes nothing"));
}

static void test_shipped_author_rules(void **state)
{
    (void)state;
    const char *path = getenv("RULES") ? getenv("RULES") : "rules";
    char err[512];
    struct ruleset *rs = ruleset_load(path, err, sizeof err);
    if (!rs)
        fail_msg("shipped rules: %s", err);
    const char *clean = "مقال رائع، شكرا للكاتب على هذا التحليل";
    const char *ad = "شيخ روحاني لجلب الحبيب واتساب 00966551234567";
    struct author_counts regular = { 3, 0, 0, 0, 0 }, blocked = { 0, 0, 0, 0, AUTHOR_BLOCKED };
    struct author_counts spammer = { 0, 0, 1, 0, 0 }, trusted = { 0, 0, 0, 0, AUTHOR_TRUSTED };
    struct author_counts offender = { 4, 1, 0, 0, 0 };
    double s;
    assert_int_equal(score(rs, clean, NULL, NULL), DECISION_PENDING);
    assert_int_equal(score(rs, clean, &regular, NULL), DECISION_APPROVED);
    assert_int_equal(score(rs, clean, &trusted, NULL), DECISION_APPROVED);
    assert_int_equal(score(rs, clean, &offender, NULL), DECISION_PENDING);
    assert_int_equal(score(rs, ad, &regular, NULL), DECISION_SPAM);
    assert_int_equal(score(rs, clean, &blocked, NULL), DECISION_SPAM);
    assert_int_equal(score(rs, clean, &spammer, &s), DECISION_PENDING);
    assert_true(s >= 4);
    ruleset_release(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_move),
        cmocka_unit_test(test_marks_and_erase),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_many_erasures),
        cmocka_unit_test(test_flags_and_hex),
        cmocka_unit_test(test_approve_rule),
        cmocka_unit_test(test_shipped_author_rules),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    engine_thread_done();
    return rc;
}
