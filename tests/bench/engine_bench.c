/* engine_bench.c — the rule engine and the fold alone, for `make bench`.
 *
 *   engine_bench gen N DIR      write N generated rules into DIR/bench.rules
 *   engine_bench comment        print the 1.2 KB benchmark comment (JSON string)
 *   engine_bench hyperscan DIR SECS   the first half of run alone (profiles)
 *   engine_bench run DIR SECS   comments/s per core scoring the benchmark
 *                               comment, Hyperscan then PCRE2 alone, and the
 *                               fold in MB/s, and the shipped learned model
 *                               (rules/models/spam.model) scoring its norm
 *                               view; prints `key=value` lines
 *   engine_bench parts DIR SECS the shipped rules' cost split: µs per comment
 *                               for the whole engine, the content fold into
 *                               the views the rules read, and each model,
 *                               alone and with a site's live-learned counts
 *                               (scored from the counts, and from the joint
 *                               index the learner builds)
 *
 * The generated rules are what a news site's operators write: Arabic and
 * English keyword alternations, phone patterns in Gulf and Egyptian formats,
 * whole-word English terms with \b (Hyperscan prefilters those), and
 * rspamd-style `word\s*N\w{0,3}` patterns; each rule has its own literals so
 * none is a copy of another. Links only the pure modules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raqib/comment.h"
#include "raqib/engine.h"
#include "raqib/learn.h"
#include "raqib/normalize.h"
#include "raqib/prefilter.h"
#include "raqib/rules.h"

static const char *const ar[] = {
    "واتساب", "روحاني", "جلب الحبيب", "قرض", "سحر", "كازينو", "بيتكوين", "تمويل", "رقيه", "فك السحر",
    "مراهنات", "خصم", "متابعين", "تخسيس", "شهادات", "ارباح", "توصيل", "حجز", "استثمار", "عروض",
};
static const char *const en[] = {
    "viagra", "casino", "bitcoin", "loan", "free money", "click here", "crypto", "forex", "payday",
    "backlinks", "escort", "replica", "promo", "followers", "giveaway", "jackpot", "poker", "pills",
    "essay", "betting",
};

/* A comment of about 1.2 KB: Arabic news prose with some English, no spam. */
static const char comment_text[] =
    "كشفت مصادر دبلوماسية مصرية، الأربعاء، أن هناك رغبة لدى القاهرة لاستعادة جزء من العلاقات "
    "مع حكومة الوفاق الوطني الليبية، المعترف بها دوليا، وذلك بعد الخسائر الفادحة التي تكبدها "
    "الجنرال. This is a comment in English too, nothing to see here. "
    "وأضافت المصادر أن الاتصالات بين الجانبين لم تنقطع خلال الأشهر الماضية، وأن هناك ترتيبات "
    "لعقد لقاءات على مستوى أعلى في الأسابيع المقبلة، مع مراعاة مصالح جميع الأطراف وحماية الحدود "
    "الغربية. I read the article twice and I think the analysis is fair and balanced. "
    "شكرا للكاتب على هذا المقال الرائع، وأتمنى أن تستمر الجريدة في نشر مثل هذه التحليلات "
    "المفيدة للقراء في كل مكان. ونتمنى أن يعود الهدوء إلى المنطقة قريبا، وأن تنجح الجهود "
    "الدبلوماسية في إنهاء الأزمة.";

static void gen(long n, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/bench.rules", dir);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    for (long i = 0; i < n; i++) {
        const char *a = ar[i % 20], *b = ar[(i / 20 + 7) % 20], *e = en[i % 20], *g = en[(i / 20 + 3) % 20];
        fprintf(f, "rule BENCH_%ld\n", i);
        switch (i % 5) {
        case 0:  /* Arabic and English keyword alternation, unique per rule */
            fprintf(f, "  match content /(?:%s|%s)\\s*%ld|%s\\s+%s\\s*%ld/i\n", a, e, i, b, g, i);
            break;
        case 1:  /* a phone number with this rule's own prefix */
            fprintf(f, "  match content /(?:\\+|00)\\s?9[67]%ld(?:[\\s.\\-]?[0-9]){7,9}/\n", i % 1000);
            break;
        case 2:  /* whole English words: \b under UCP, prefiltered */
            fprintf(f, "  match content /\\b(?:%s|%s)%ld\\b/i\n", e, g, i);
            break;
        case 3:  /* rspamd-style */
            fprintf(f, "  match content /%s\\s*%ld\\w{0,3}/i\n", a, i);
            break;
        default: /* Arabic phrase, whole word, with an exception */
            fprintf(f, "  match content /(?<!\\p{L})%s\\s+%s%ld(?!\\p{L})/\n  unless content /%s %ld حسن/\n",
                    a, b, i, a, i);
            break;
        }
        fprintf(f, "  score %ld\n  describe generated rule %ld\n", 1 + i % 5, i);
    }
    fprintf(f, "threshold spam 10\n");
    fclose(f);
}

/* CPU time of this process, not the wall clock: the rates are per core
 * busy, so a machine shared with other work still measures the engine
 * (the Hyperscan build thread has finished before any rate is taken). */
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Score the comment for about secs; comments per second. */
static double score_rate(const struct ruleset *rs, const struct comment *c, double secs)
{
    long n = 0;
    double t0 = now(), t;
    char err[256];
    do {
        for (int k = 0; k < 20; k++) {
            struct verdict v;
            if (engine_score(rs, c, NULL, &v, err, sizeof err) < 0) {
                fprintf(stderr, "%s\n", err);
                exit(1);
            }
            verdict_free(&v);
            n++;
        }
        t = now();
    } while (t - t0 < secs);
    return (double)n / (t - t0);
}

static struct ruleset *load(const char *dir, int hyperscan)
{
    char err[1024];
    if (hyperscan)
        unsetenv("RAQIB_NO_HYPERSCAN");
    else
        setenv("RAQIB_NO_HYPERSCAN", "1", 1);
    double t0 = now();
    struct ruleset *rs = ruleset_load(dir, err, sizeof err);
    if (!rs) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    ruleset_prefilter_wait(rs, 3600);
    if (hyperscan) {
        struct prefilter_counts pc;
        prefilter_counts(ruleset_prefilter(rs), &pc);
        printf("load_seconds=%.2f exact=%zu prefiltered=%zu direct=%zu\n", now() - t0, pc.exact,
               pc.prefiltered, pc.direct);
    }
    return rs;
}

/* MB/s of folding the comment into the views of want (~0u: every view and
 * the flags, as norm_text_build does). */
static double fold_rate(double secs, unsigned want)
{
    long n = 0;
    double t0 = now(), t;
    do {
        struct norm_text nt;
        if (want == ~0u)
            norm_text_build(&nt, comment_text, strlen(comment_text), 1);
        else
            norm_text_build_views(&nt, comment_text, strlen(comment_text), 1, want);
        norm_text_free(&nt);
        n++;
        t = now();
    } while (t - t0 < secs);
    return (double)n * (double)strlen(comment_text) / (t - t0) / 1e6;
}

/* Comments/s of the learned model scoring the comment's norm view (the
 * fold is counted above, not here). */
static double learned_rate(const struct learn_model *m, double secs)
{
    struct norm_text nt;
    norm_text_build_views(&nt, comment_text, strlen(comment_text), 1, 1u << VIEW_NORM);
    long n = 0;
    double t0 = now(), t, sink = 0;
    do {
        sink += learn_model_score(m, nt.view[VIEW_NORM], nt.len[VIEW_NORM]);
        n++;
        t = now();
    } while (t - t0 < secs);
    norm_text_free(&nt);
    return sink >= 0 ? (double)n / (t - t0) : 0;
}

/* µs per call of fn(arg), timed for about secs. */
static double micros(void (*fn)(void *), void *arg, double secs)
{
    long n = 0;
    double t0 = now(), t;
    do {
        for (int k = 0; k < 20; k++, n++)
            fn(arg);
        t = now();
    } while (t - t0 < secs);
    return (t - t0) / (double)n * 1e6;
}

struct parts_arg {
    const struct ruleset *rs;
    const struct comment *c;
    const struct learn_model *model, *site, *joint;
    struct norm_text nt;
    unsigned want;
    double sink;
};

static void part_engine(void *p)
{
    struct parts_arg *a = p;
    struct verdict v;
    char err[256];
    if (engine_score(a->rs, a->c, NULL, &v, err, sizeof err) == 0)
        verdict_free(&v);
}

static void part_fold(void *p)
{
    struct parts_arg *a = p;
    struct norm_text nt;
    norm_text_build_views(&nt, comment_text, strlen(comment_text), 1, a->want);
    norm_text_free(&nt);
}

static void part_model(void *p)
{
    struct parts_arg *a = p;
    struct learn_text t;
    learn_text_list(&t, a->nt.view[VIEW_NORM], a->nt.len[VIEW_NORM], learn_model_get_tokens(a->model));
    a->sink += learn_text_score_joint(&t, a->model, a->site, a->joint);
    learn_text_free(&t);
}

/* A site's counts as live learning holds them after 40 moderator
 * decisions (half each way) on comments made of the generated rules'
 * words and the bench comment's halves. */
static struct learn_model *site_counts(const struct learn_model *m)
{
    struct learn_model *site = learn_model_new();
    if (!site || learn_model_set_tokens(site, learn_model_get_tokens(m)) < 0)
        exit(1);
    size_t half = strlen(comment_text) / 2;
    for (int i = 0; i < 40; i++) {
        char text[4096];
        snprintf(text, sizeof text, "%s %s %s %.*s", ar[i % 20], en[(i * 7) % 20], ar[(i * 3) % 20],
                 (int)half, comment_text + (i % 2 ? half : 0));
        struct norm_text nt;
        uint64_t *tokens;
        norm_text_build_views(&nt, text, strlen(text), 1, 1u << VIEW_NORM);
        long n = learn_doc_tokens(learn_model_get_tokens(m), nt.view[VIEW_NORM], nt.len[VIEW_NORM], &tokens);
        if (n < 0 || learn_model_apply(site, tokens, (size_t)n, i % 2, 1, 0) < 0)
            exit(1);
        free(tokens);
        norm_text_free(&nt);
    }
    return site;
}

/* Where a comment's time goes with the rules of dir: the whole engine, the
 * content fold into the views the rules read (with the flags when a rule
 * reads them), each learned model on the norm view; prints µs lines. */
static void parts(const char *dir, const struct comment *c, double secs)
{
    struct parts_arg a = { .c = c };
    a.rs = load(dir, 1);
    printf("engine_us=%.2f\n", micros(part_engine, &a, secs));
    a.want = ruleset_field_views(a.rs, CF_CONTENT) | NORM_WANT_FLAGS;
    printf("fold_content_us=%.2f views=0x%x\n", micros(part_fold, &a, secs), a.want);
    norm_text_build_views(&a.nt, comment_text, strlen(comment_text), 1, 1u << VIEW_NORM);
    const char *models[] = { "spam", "abuse" };
    for (size_t i = 0; i < 2; i++) {
        char path[512], err[512];
        snprintf(path, sizeof path, "%s/models/%s.model", dir, models[i]);
        struct learn_model *m = learn_model_load(path, err, sizeof err);
        if (!m)
            continue;
        a.model = m;
        a.site = NULL;
        printf("model_%s_us=%.2f\n", models[i], micros(part_model, &a, secs));
        struct learn_model *site = site_counts(m), *joint = learn_model_joint_index(m, site);
        a.site = site;
        printf("model_%s_site_us=%.2f\n", models[i], micros(part_model, &a, secs));
        a.joint = joint;     /* as a moderating site scores once the learner's indexer has run */
        printf("model_%s_joint_us=%.2f\n", models[i], micros(part_model, &a, secs));
        a.joint = NULL;
        learn_model_free(joint);
        learn_model_free(site);
        learn_model_free(m);
    }
    norm_text_free(&a.nt);
    ruleset_release((struct ruleset *)a.rs);
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "gen") == 0) {
        gen(atol(argv[2]), argv[3]);
        return 0;
    }
    if (argc == 2 && strcmp(argv[1], "comment") == 0) {
        fputs(comment_text, stdout);
        return 0;
    }
    int hs_only = argc == 4 && strcmp(argv[1], "hyperscan") == 0;
    if (argc != 4 || (strcmp(argv[1], "run") != 0 && strcmp(argv[1], "parts") != 0 && !hs_only)) {
        fprintf(stderr, "usage: engine_bench gen N DIR | comment | run|hyperscan|parts DIR SECONDS\n");
        return 2;
    }
    double secs = atof(argv[3]);
    /* raqibd's own cache (hyperscan_cache) when the bench names it: the
     * shipped rules' compile takes tens of seconds on a small machine. */
    if (getenv("ENGINE_BENCH_HS_CACHE"))
        prefilter_set_cache_dir(getenv("ENGINE_BENCH_HS_CACHE"));
    struct comment c = { 0 };
    comment_set(&c, CF_CONTENT, comment_text, strlen(comment_text));
    comment_set(&c, CF_AUTHOR, "Layla", 5);
    comment_set(&c, CF_EMAIL, "layla@example.com", 17);

    if (strcmp(argv[1], "parts") == 0) {
        parts(argv[2], &c, secs);
        comment_free(&c);
        engine_thread_done();
        return 0;
    }
    struct ruleset *hs = load(argv[2], 1);
    printf("hyperscan_per_s=%.0f\n", score_rate(hs, &c, secs));
    ruleset_release(hs);
    if (hs_only) {   /* for profiles: the engine with Hyperscan alone */
        comment_free(&c);
        engine_thread_done();
        return 0;
    }
    struct ruleset *plain = load(argv[2], 0);
    printf("pcre2_per_s=%.0f\n", score_rate(plain, &c, secs));
    ruleset_release(plain);

    /* The fold alone: every view of the content with the flags (the general
     * path), then the norm view alone (what the generated rules read; plain
     * text takes the one-pass fold). */
    printf("fold_mb_per_s=%.1f comment_bytes=%zu\n", fold_rate(secs, ~0u), strlen(comment_text));
    printf("fold_norm_mb_per_s=%.1f\n", fold_rate(secs, 1u << VIEW_NORM));
    char err[512];
    struct learn_model *m = learn_model_load("rules/models/spam.model", err, sizeof err);
    if (m) {
        printf("learned_per_s=%.0f model_tokens=%zu\n", learned_rate(m, secs), learn_model_tokens(m));
        learn_model_free(m);
    }
    /* the abuse model counts character n-grams too: its own, slower rate */
    if ((m = learn_model_load("rules/models/abuse.model", err, sizeof err))) {
        printf("learned_abuse_per_s=%.0f model_tokens=%zu\n", learned_rate(m, secs), learn_model_tokens(m));
        learn_model_free(m);
    }
    comment_free(&c);
    engine_thread_done();
    return 0;
}
