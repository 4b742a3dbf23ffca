/* replay.c — `raqib replay`: a site's learning curve from a labeled stream.
 *
 * Reads labeled comments (JSON lines: `text` or `content`, `label` spam,
 * ham, abusive or clean), in order, as the comments of one site, and scores
 * each twice with the daemon's engine: as a fresh site (the shipped models
 * alone) and as the site whose moderators decided every held comment so
 * far by its label (spam → spam, abusive → rejected, ham/clean → approved;
 * a spam-folder item whose label is ham or clean is rescued, one that is
 * spam stays where the rules put it, unlearned, as in the daemon). The
 * decisions are learned with live_learn, the arithmetic the daemon applies
 * from Redis. A line with an `email` is known by it: the learning site
 * keeps its commenters' records as the daemon does (reputation.h; counts
 * of the moderators' decisions, shown to the rules in `flags`), so a clean
 * regular's comment may be approved without review. Prints, per window of
 * N comments, spam caught, ham marked spam, abuse flagged, clean flagged,
 * the moderator load (comments held for a moderator) and the spam or abuse
 * approved without review, fresh → learning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "raqib/live.h"
#include "raqib/reputation.h"
#include "raqib/rules.h"

/* One labeled comment of the stream. */
struct item {
    json_t *obj;
    int label;              /* +1 positive, -1 negative */
    int abuse;              /* the label is abusive/clean (else spam/ham) */
};

/* Counts of one window (or a total), for one way of scoring. */
struct counts {
    size_t spam, spam_caught, ham, ham_spam, abusive, abusive_flagged, clean, clean_flagged;
    size_t all, held, bad_approved;     /* comments; pending (a moderator's work); spam/abuse approved */
};

struct replay_opts {
    const char *rules, *site;
    size_t window;
    double decide_first;    /* share of the stream the moderators decide */
};

static int parse_replay(int argc, char **argv, struct replay_opts *o)
{
    *o = (struct replay_opts){ .rules = "rules", .site = "replay", .window = 500, .decide_first = 100 };
    for (int i = 0; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (strcmp(argv[i], "--rules") == 0 && next)
            o->rules = argv[++i];
        else if (strcmp(argv[i], "--site") == 0 && next)
            o->site = argv[++i];
        else if (strcmp(argv[i], "--window") == 0 && next) {
            long n = strtol(argv[++i], &end, 10);
            if (*end || n < 1)
                return usage_error("replay --window takes a count of comments, 1 or more");
            o->window = (size_t)n;
        } else if (strcmp(argv[i], "--decide-first") == 0 && next) {
            o->decide_first = strtod(argv[++i], &end);
            if (*end || o->decide_first < 0 || o->decide_first > 100)
                return usage_error("replay --decide-first takes a percentage from 0 to 100");
        } else
            return usage_error("unknown option for replay");
    }
    return 0;
}

/* Read every labeled line; lines without a known label are left out.
 * NULL with *bad set after a line that is not a JSON object (named on
 * stderr), or when out of memory. */
static struct item *read_stream(size_t *n, int *bad)
{
    struct item *items = NULL;
    size_t cap = 0, lineno = 0;
    char *line = NULL;
    size_t linecap = 0;
    *n = 0;
    while (getline(&line, &linecap, stdin) >= 0) {
        lineno++;
        json_t *obj = json_line(line, lineno);
        if (!obj) {
            *bad = 1;
            goto fail;
        }
        const char *l = json_string_value(json_object_get(obj, "label"));
        int label = !l ? 0 : !strcmp(l, "spam") || !strcmp(l, "abusive") ? 1
                  : !strcmp(l, "ham") || !strcmp(l, "clean") ? -1 : 0;
        if (!label) {
            json_decref(obj);
            continue;
        }
        if (*n == cap) {
            struct item *grown = realloc(items, (cap = cap ? 2 * cap : 1024) * sizeof *grown);
            if (!grown) {
                json_decref(obj);
                goto fail;
            }
            items = grown;
        }
        items[(*n)++] = (struct item){ obj, label, !strcmp(l, "abusive") || !strcmp(l, "clean") };
    }
    free(line);
    return items;
fail:
    free(line);
    for (size_t i = 0; i < *n; i++)
        json_decref(items[i].obj);
    free(items);
    *n = 0;
    return NULL;
}

static void count(struct counts *k, const struct item *it, const struct verdict *v)
{
    int spam = v->status == DECISION_SPAM, flag = flagged(v);
    k->all++;
    k->held += v->status == DECISION_PENDING;
    k->bad_approved += v->status == DECISION_APPROVED && it->label > 0;
    if (!it->abuse && it->label > 0)
        k->spam++, k->spam_caught += spam;
    else if (!it->abuse)
        k->ham++, k->ham_spam += spam;
    else if (it->label > 0)
        k->abusive++, k->abusive_flagged += flag;
    else
        k->clean++, k->clean_flagged += flag;
}

static void add(struct counts *into, const struct counts *k)
{
    into->spam += k->spam, into->spam_caught += k->spam_caught, into->ham += k->ham;
    into->ham_spam += k->ham_spam, into->abusive += k->abusive, into->abusive_flagged += k->abusive_flagged;
    into->clean += k->clean, into->clean_flagged += k->clean_flagged;
    into->all += k->all, into->held += k->held, into->bad_approved += k->bad_approved;
}

/* "  41.0→ 63.2" for part of whole under both scorings; "      –     " when none. */
static void print_rate(size_t a, size_t b, size_t whole)
{
    if (!whole)
        printf(" %13s", "–");
    else
        printf(" %5.1f → %5.1f", 100.0 * (double)a / (double)whole, 100.0 * (double)b / (double)whole);
}

static void print_row(const char *what, const struct counts *fresh, const struct counts *learn)
{
    printf("%-16s", what);
    print_rate(fresh->spam_caught, learn->spam_caught, fresh->spam);
    print_rate(fresh->ham_spam, learn->ham_spam, fresh->ham);
    print_rate(fresh->abusive_flagged, learn->abusive_flagged, fresh->abusive);
    print_rate(fresh->clean_flagged, learn->clean_flagged, fresh->clean);
    print_rate(fresh->held, learn->held, fresh->all);
    printf(" %5zu → %5zu\n", fresh->bad_approved, learn->bad_approved);
}

/* The moderator's decision on a comment the learning site scored v, or
 * NULL when no moderator sees it (spam the rules set aside that is spam,
 * or a comment approved without review: published). */
static const char *moderator_decision(const struct item *it, const struct verdict *v)
{
    if ((v->status == DECISION_SPAM && it->label > 0) || v->status == DECISION_APPROVED)
        return NULL;
    if (it->label < 0)
        return "approved";
    return it->abuse ? "rejected" : "spam";
}

/* The commenter's 64-bit name: FNV-1a of the lowercased e-mail (the daemon
 * keys an HMAC; here nothing leaves memory). 0: no e-mail. */
static uint64_t author_of(const struct comment *c)
{
    uint64_t h = 0xcbf29ce484222325ull;
    if (!c->field[CF_EMAIL] || !c->len[CF_EMAIL])
        return 0;
    for (size_t i = 0; i < c->len[CF_EMAIL]; i++) {
        unsigned char b = (unsigned char)c->field[CF_EMAIL][i];
        h = (h ^ (b >= 'A' && b <= 'Z' ? b + 32 : b)) * 0x100000001b3ull;
    }
    return h ? h : 1;
}

/* Score one item both ways and learn its decision; -1 on failure. */
static int replay_one(const struct ruleset *rs, struct live *lv, struct reputation *rep, const struct replay_opts *o,
                      const struct item *it, int decide, struct counts *fresh, struct counts *learn, long long at)
{
    struct author_counts who;
    struct comment c = { 0 };
    struct engine_signals sig = { 0 };
    struct verdict a = { 0 }, b = { 0 };
    char err[256];
    int label, rc = -1;
    if (read_comment(it->obj, &c, &sig, &label) < 0 || comment_set(&c, CF_SITE, o->site, strlen(o->site)) < 0 ||
        engine_score(rs, &c, &sig, &a, err, sizeof err) < 0)
        goto out;
    sig.live = lv;
    uint64_t author = author_of(&c);
    if (author && reputation_get(rep, o->site, author, &who))
        sig.author = &who;
    if (engine_score(rs, &c, &sig, &b, err, sizeof err) < 0)
        goto out;
    count(fresh, it, &a);
    count(learn, it, &b);
    const char *status = decide ? moderator_decision(it, &b) : NULL;
    const char *text = c.field[CF_CONTENT] ? c.field[CF_CONTENT] : "";
    rc = status ? live_learn(lv, rs, o->site, text, c.field[CF_CONTENT] ? c.len[CF_CONTENT] : 0, NULL, status, at)
                : 0;
    if (rc == 0 && status && author)
        rc = reputation_move(rep, o->site, author, NULL, status, at);
out:
    verdict_free(&a);
    verdict_free(&b);
    comment_free(&c);
    return rc;
}

static void print_header(const struct replay_opts *o, size_t n, const char *first)
{
    printf("# raqib replay: %zu labeled comments as site \"%s\", rules %s; moderators decide %s\n", n, o->site,
           o->rules, first);
    printf("# each cell: fresh site (the rules' models alone) → learning site (its moderators' decisions added), %%\n");
    printf("# held: comments left for a moderator; bad approved: spam or abuse approved without review (count)\n");
    printf("%-16s %13s %13s %13s %13s %13s %13s\n", "comments", "spam caught", "ham as spam", "abuse flagged",
           "clean flagged", "held", "bad approved");
}

int cmd_replay(int argc, char **argv)
{
    struct replay_opts o;
    int rc = parse_replay(argc, argv, &o);
    if (rc)
        return rc;
    char err[1024];
    struct ruleset *rs = ruleset_load(o.rules, err, sizeof err);
    if (!rs) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    ruleset_prefilter_wait(rs, 600);
    size_t n;
    int bad = 0;
    struct item *items = read_stream(&n, &bad);
    struct live *lv = live_new(0);
    struct reputation *rep = reputation_new(0);
    if (!items || !lv || !rep) {
        if (!bad)
            fprintf(stderr, "raqib: replay: %s\n", lv && rep ? "no labeled comment read (each line needs \"text\" or "
                    "\"content\" and a \"label\": spam, ham, abusive or clean)" : "out of memory");
        ruleset_release(rs);
        live_free(lv);
        reputation_free(rep);
        return 1;
    }
    size_t decided_upto = (size_t)((double)n * o.decide_first / 100.0 + 0.5);
    char first[96];
    snprintf(first, sizeof first, o.decide_first >= 100 ? "every held comment" : "the held comments of the first %g %%",
             o.decide_first);
    print_header(&o, n, first);
    struct counts fresh_w = { 0 }, learn_w = { 0 }, fresh_all = { 0 }, learn_all = { 0 };
    struct counts fresh_rest = { 0 }, learn_rest = { 0 };
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct counts f = { 0 }, l = { 0 };
        rc = replay_one(rs, lv, rep, &o, &items[i], i < decided_upto, &f, &l, (long long)i) < 0;
        add(&fresh_w, &f), add(&learn_w, &l), add(&fresh_all, &f), add(&learn_all, &l);
        if (i >= decided_upto)
            add(&fresh_rest, &f), add(&learn_rest, &l);
        if ((i + 1) % o.window == 0 || i + 1 == n) {
            char what[48];
            snprintf(what, sizeof what, "%zu-%zu", i - (i % o.window) + 1, i + 1);
            print_row(what, &fresh_w, &learn_w);
            fresh_w = learn_w = (struct counts){ 0 };
        }
    }
    print_row("all", &fresh_all, &learn_all);
    if (decided_upto < n && decided_upto > 0)
        print_row("undecided part", &fresh_rest, &learn_rest);
    if (rc)
        fprintf(stderr, "raqib: replay: out of memory or a comment could not be scored\n");
    for (size_t i = 0; i < n; i++)
        json_decref(items[i].obj);
    free(items);
    live_free(lv);
    reputation_free(rep);
    ruleset_release(rs);
    return rc;
}
