/* raqib.c — the operators' command-line tool.
 *
 * `raqib fold` shows what a view of some text looks like, `raqib rules lint`
 * checks a rules folder the way the daemon loads it, and `raqib rules test`
 * scores JSON-lines comments with the same engine the daemon uses and, when
 * the lines carry labels, measures each rule. Links only the pure modules. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "raqib/comment.h"
#include "raqib/decided.h"
#include "raqib/engine.h"
#include "raqib/learn.h"
#include "raqib/lint.h"
#include "raqib/normalize.h"
#include "raqib/rules.h"

#define DEFAULT_RULES "rules"
#define LINT_PROBE_MS 50.0   /* a pattern slower than this on one probe is reported */

static const char usage[] =
    "usage: raqib fold [--view VIEW] < text\n"
    "       raqib rules lint [--strict] [DIR]\n"
    "       raqib rules test [--json] [--quiet] [--diff OTHER] [DIR] < comments.jsonl\n"
    "       raqib rules train [--positive L,…] [--negative L,…] [--field F] [--min-count N]\n"
    "                         [--char-ngrams] [--add] MODEL < labeled.jsonl\n"
    "       raqib rules train --redis URL --site S [--include-automatic] [options] MODEL\n"
    "       raqib replay [--rules DIR] [--window N] [--site S] [--decide-first PCT] < labeled.jsonl\n"
    "       raqib --help\n"
    "\n"
    "fold        print each input line folded to VIEW (raw, norm, squash, rasm,\n"
    "            skel; default norm): what rules written for that view see.\n"
    "rules lint  load every *.rules file of DIR (default: rules) or one file;\n"
    "            print \"file:line: problem\" and exit 1 on any error; else\n"
    "            \"file:line: warning: …\" for patterns that hit the match limit\n"
    "            on adversarial input (ReDoS), escapes the view makes impossible,\n"
    "            literals under 6 letters in squash/skel, list entries the\n"
    "            fold rewrites and entries of 3 letters or fewer in a `words …\n"
    "            clitics` list, then \"N rules OK, W warnings\"; exit 0 (1 with\n"
    "            --strict when there are warnings).\n"
    "rules test  score one JSON object per input line: content (or text),\n"
    "            author, email, url, ip, user_agent, referrer, post_id; the\n"
    "            optional booleans honeypot and too_fast set the submission\n"
    "            signals. Prints one line per input:\n"
    "                DECISION<TAB>SCORE<TAB>RULE1,RULE2   (\"-\" when no rule hit)\n"
    "            or with --json: {\"decision\":…,\"score\":…,\"rules\":[…],\"limit_hits\":N}.\n"
    "            When lines carry \"label\" (spam/abusive positive, ham/clean\n"
    "            negative) a summary follows, each line starting with '#':\n"
    "            positives caught as spam, negatives marked spam, positives and\n"
    "            negatives flagged (some rule with score > 0 hit), and per rule\n"
    "            its hits among positives and negatives (count, share of the\n"
    "            class, S/O = pos%/(pos%+neg%)), and the confusion table of\n"
    "            label by decision. --quiet prints only the summary.\n"
    "            --diff OTHER also scores each line with the rules of OTHER and\n"
    "            prints, instead of every line, only those whose decision differs:\n"
    "                LINE<TAB>LABEL<TAB>DEC SCORE -> DEC SCORE<TAB>RULES -> RULES<TAB>TEXT\n"
    "            then how many changed, toward or away from the label.\n"
    "            Exit 1 when a line could not be read or scored.\n"
    "rules train build the token-statistics MODEL that `learned` rules read,\n"
    "            from one JSON object per line with \"label\" (or \"status\")\n"
    "            and the field (default content, or text): labels in\n"
    "            --positive (default spam) count as positives, labels in\n"
    "            --negative (default ham,approved) as negatives, other lines\n"
    "            are skipped. Only tokens seen in at least --min-count (2)\n"
    "            comments are kept. --char-ngrams also counts each word's\n"
    "            character 3- to 5-grams (kept in MODEL's header).\n"
    "            --add adds to the counts MODEL holds.\n"
    "            With --redis, learns instead from site S's decided comments\n"
    "            (their status is the label: approved, spam, rejected),\n"
    "            moderators' decisions only unless --include-automatic; with\n"
    "            --add, only the decisions made since MODEL last learned from S.\n"
    "            The file is replaced whole (POST /v1/rules/reload to use it).\n"
    "replay      read labeled comments (text or content; label spam, ham,\n"
    "            abusive or clean) in order as one site's (--site, default\n"
    "            replay) and score each as a fresh site and as a site whose\n"
    "            moderators decided every held comment so far by its label,\n"
    "            learned as the daemon learns (`learned … site` rules of\n"
    "            --rules DIR). Prints per --window N comments (500) spam\n"
    "            caught, ham as spam, abuse flagged, clean flagged, fresh ->\n"
    "            learning; --decide-first PCT lets the moderators decide only\n"
    "            the first PCT percent and adds a row for the rest.\n";

int usage_error(const char *what)
{
    fprintf(stderr, "raqib: %s\n%s", what, usage);
    return 2;
}

/* `raqib fold [--view VIEW]` */
static int cmd_fold(int argc, char **argv)
{
    enum norm_view view = VIEW_NORM;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--view") == 0 && i + 1 < argc) {
            if (norm_view_parse(argv[++i], &view) < 0)
                return usage_error("unknown view (expected raw, norm, squash, rasm or skel)");
        } else {
            return usage_error("fold takes only --view VIEW");
        }
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        if (n && line[n - 1] == '\n')
            line[--n] = '\0';
        size_t outlen;
        char *out = norm_fold(line, (size_t)n, view, &outlen);
        if (!out) {
            fprintf(stderr, "raqib: out of memory\n");
            rc = 1;
            break;
        }
        fwrite(out, 1, outlen, stdout);
        putchar('\n');
        free(out);
    }
    free(line);
    return rc;
}

static void print_warning(void *arg, const char *file, int line, const char *message)
{
    (void)arg;
    printf("%s:%d: warning: %s\n", file, line, message);
}

/* `raqib rules lint [--strict] [DIR]`: errors (the load) exit 1; warnings
 * exit 0 unless --strict. */
static int cmd_lint(int argc, char **argv)
{
    const char *dir = DEFAULT_RULES;
    int strict = 0, ndirs = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--strict") == 0)
            strict = 1;
        else if (argv[i][0] == '-')
            return usage_error("unknown option for rules lint");
        else if (ndirs++)
            return usage_error("rules lint takes at most one DIR");
        else
            dir = argv[i];
    }
    char err[1024];
    struct ruleset *rs = ruleset_load(dir, err, sizeof err);
    if (!rs) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    long warnings = rules_lint(rs, dir, LINT_PROBE_MS, print_warning, NULL);
    int rc = 0;
    if (warnings < 0) {
        fprintf(stderr, "raqib: %s: cannot read the rule files again for the warnings\n", dir);
        rc = 1;
    } else {
        printf("%zu rules OK, %ld warning%s\n", ruleset_size(rs), warnings, warnings == 1 ? "" : "s");
        rc = strict && warnings > 0;
    }
    ruleset_release(rs);
    return rc;
}

/* Per-rule and overall counts for labeled input. by[l][d]: label (0
 * positive, 1 negative) by decision (enum decision). */
struct tally {
    size_t pos, neg, pos_spam, neg_spam, pos_flagged, neg_flagged;
    size_t by[2][3];
    unsigned long limit_hits;
    size_t *rule_pos, *rule_neg;
};

/* One input line as a JSON object; NULL after naming the line on stderr.
 * `rules test` and `rules train` read their input the same way. */
json_t *json_line(const char *line, size_t lineno)
{
    json_error_t jerr;
    json_t *obj = json_loads(line, 0, &jerr);
    if (json_is_object(obj))
        return obj;
    fprintf(stderr, "raqib: line %zu: not a JSON object%s%s\n", lineno, obj ? "" : ": ", obj ? "" : jerr.text);
    json_decref(obj);
    return NULL;
}

/* Member name of obj; `content` falls back to `text`, the datasets' name. */
static json_t *member(json_t *obj, const char *name)
{
    json_t *v = json_object_get(obj, name);
    return v || strcmp(name, "content") != 0 ? v : json_object_get(obj, "text");
}

/* Copy the string member name of obj into field f of c (non-strings: numbers
 * are printed, so "post_id": 5 works). Returns 0, or -1 on allocation failure. */
static int take(struct comment *c, enum comment_field f, json_t *obj, const char *name)
{
    json_t *v = member(obj, name);
    char num[64];
    if (json_is_string(v))
        return comment_set(c, f, json_string_value(v), json_string_length(v));
    if (json_is_integer(v)) {
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        return comment_set(c, f, num, strlen(num));
    }
    return 0;
}

/* Fill c and sig from one JSON object; label is set to +1, -1 or 0. */
int read_comment(json_t *obj, struct comment *c, struct engine_signals *sig, int *label)
{
    static const struct { enum comment_field f; const char *name; } names[] = {
        { CF_AUTHOR, "author" }, { CF_EMAIL, "email" }, { CF_URL, "url" },
        { CF_IP, "ip" }, { CF_USER_AGENT, "user_agent" }, { CF_REFERRER, "referrer" },
        { CF_POST_ID, "post_id" }, { CF_SITE, "site" }, { CF_LANG, "lang" },
    };
    if (take(c, CF_CONTENT, obj, "content") < 0)
        return -1;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (take(c, names[i].f, obj, names[i].name) < 0)
            return -1;
    sig->honeypot = json_is_true(json_object_get(obj, "honeypot"));
    sig->too_fast = json_is_true(json_object_get(obj, "too_fast"));
    const char *l = json_string_value(json_object_get(obj, "label"));
    *label = 0;
    if (l && (strcmp(l, "spam") == 0 || strcmp(l, "abusive") == 0))
        *label = 1;
    else if (l && (strcmp(l, "ham") == 0 || strcmp(l, "clean") == 0))
        *label = -1;
    return 0;
}

static void print_verdict(const struct verdict *v, int as_json)
{
    if (as_json) {
        printf("{\"decision\":\"%s\",\"score\":%g,\"rules\":[", decision_name(v->status), v->score);
        for (size_t i = 0; i < v->nmatches; i++)
            printf("%s\"%s\"", i ? "," : "", v->matches[i].rule);
        printf("],\"limit_hits\":%u}\n", v->limit_hits);
        return;
    }
    printf("%s\t%g\t", decision_name(v->status), v->score);
    for (size_t i = 0; i < v->nmatches; i++)
        printf("%s%s", i ? "," : "", v->matches[i].rule);
    printf("%s\n", v->nmatches ? "" : "-");
}

/* "Flagged": some rule with a positive score hit, so the item reaches the
 * moderator with a visible reason (or goes to the spam folder). */
int flagged(const struct verdict *v)
{
    for (size_t i = 0; i < v->nmatches; i++)
        if (v->matches[i].score > 0)
            return 1;
    return 0;
}

static void count(struct tally *t, const struct verdict *v, int label)
{
    for (size_t i = 0; i < v->nmatches; i++) {
        if (label > 0)
            t->rule_pos[v->matches[i].rule_index]++;
        else
            t->rule_neg[v->matches[i].rule_index]++;
    }
    int spam = v->status == DECISION_SPAM, flag = flagged(v);
    t->by[label > 0 ? 0 : 1][v->status]++;
    if (label > 0) {
        t->pos++;
        t->pos_spam += (size_t)spam;
        t->pos_flagged += (size_t)flag;
    } else {
        t->neg++;
        t->neg_spam += (size_t)spam;
        t->neg_flagged += (size_t)flag;
    }
}

static double pct(size_t a, size_t b)
{
    return b ? 100.0 * (double)a / (double)b : 0.0;
}

static void print_totals(const struct tally *t, const char *who)
{
    printf("#%s positives caught as spam: %zu (%.1f%%)   negatives marked spam: %zu (%.1f%%)\n", who,
           t->pos_spam, pct(t->pos_spam, t->pos), t->neg_spam, pct(t->neg_spam, t->neg));
    printf("#%s positives flagged: %zu (%.1f%%)   negatives flagged: %zu (%.1f%%)\n", who,
           t->pos_flagged, pct(t->pos_flagged, t->pos), t->neg_flagged, pct(t->neg_flagged, t->neg));
}

/* The summary, after SpamAssassin's mass-check / hit-frequencies: totals, the
 * confusion table (label by decision), and per rule its hits among positives
 * and negatives, as counts and as a share of each class, with
 * S/O = pos% / (pos% + neg%): 1.0 hits only positives, 0.0 only negatives. */
static void print_summary(const struct tally *t, const struct ruleset *rs)
{
    printf("# labeled: %zu positive (spam/abusive), %zu negative (ham/clean)\n", t->pos, t->neg);
    print_totals(t, "");
    printf("# confusion (label by decision): %10s %10s %10s\n", "spam", "pending", "approved");
    printf("#   positive (spam/abusive)      %10zu %10zu %10zu\n", t->by[0][DECISION_SPAM],
           t->by[0][DECISION_PENDING], t->by[0][DECISION_APPROVED]);
    printf("#   negative (ham/clean)         %10zu %10zu %10zu\n", t->by[1][DECISION_SPAM],
           t->by[1][DECISION_PENDING], t->by[1][DECISION_APPROVED]);
    printf("# patterns stopped by the match limit: %lu\n", t->limit_hits);
    printf("# %-32s %7s %6s %7s %6s %5s %6s\n", "rule", "pos", "pos%", "neg", "neg%", "S/O", "score");
    for (size_t i = 0; i < ruleset_size(rs); i++) {
        struct rule_info info;
        ruleset_rule_info(rs, i, &info);
        double pp = pct(t->rule_pos[i], t->pos), np = pct(t->rule_neg[i], t->neg);
        if (pp + np > 0)
            printf("# %-32s %7zu %6.2f %7zu %6.2f %5.2f %6g\n", info.name, t->rule_pos[i], pp, t->rule_neg[i], np,
                   pp / (pp + np), info.score);
        else
            printf("# %-32s %7zu %6.2f %7zu %6.2f %5s %6g\n", info.name, t->rule_pos[i], pp, t->rule_neg[i], np,
                   "-", info.score);
    }
}

static const char *label_name(int label)
{
    return label > 0 ? "pos" : label < 0 ? "neg" : "-";
}

static void print_rules(const struct verdict *v)
{
    for (size_t i = 0; i < v->nmatches; i++)
        printf("%s%s", i ? "," : "", v->matches[i].rule);
    if (!v->nmatches)
        putchar('-');
}

/* One comment whose decision differs between the two sets:
 * LINE<TAB>LABEL<TAB>DEC SCORE -> DEC SCORE<TAB>RULES -> RULES<TAB>TEXT */
static void print_change(size_t lineno, int label, const struct verdict *a, const struct verdict *b,
                         const struct comment *c)
{
    printf("%zu\t%s\t%s %g -> %s %g\t", lineno, label_name(label), decision_name(a->status), a->score,
           decision_name(b->status), b->score);
    print_rules(a);
    printf(" -> ");
    print_rules(b);
    putchar('\t');
    const char *text = c->field[CF_CONTENT] ? c->field[CF_CONTENT] : "";
    size_t n = 0, cps = 0;
    while (text[n] && cps < 80) {   /* the first 80 code points, on one line */
        n++;
        while (((unsigned char)text[n] & 0xC0) == 0x80)
            n++;
        cps++;
    }
    for (size_t i = 0; i < n; i++)
        putchar(text[i] == '\n' || text[i] == '\t' || text[i] == '\r' ? ' ' : text[i]);
    printf("%s\n", text[n] ? "…" : "");
}

static int tally_init(struct tally *t, const struct ruleset *rs)
{
    size_t n = ruleset_size(rs) ? ruleset_size(rs) : 1;
    memset(t, 0, sizeof *t);
    t->rule_pos = calloc(n, sizeof *t->rule_pos);
    t->rule_neg = calloc(n, sizeof *t->rule_neg);
    return t->rule_pos && t->rule_neg ? 0 : -1;
}

static void tally_free(struct tally *t)
{
    free(t->rule_pos);
    free(t->rule_neg);
}

/* `raqib rules test [--json] [--quiet] [--diff OTHER] [DIR]` */
static int cmd_test(int argc, char **argv)
{
    const char *dir = DEFAULT_RULES, *other = NULL;
    int as_json = 0, quiet = 0, ndirs = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0)
            as_json = 1;
        else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
            quiet = 1;
        else if (strcmp(argv[i], "--diff") == 0 && i + 1 < argc)
            other = argv[++i];
        else if (argv[i][0] == '-')
            return usage_error("unknown option for rules test");
        else if (ndirs++)
            return usage_error("rules test takes at most one DIR");
        else
            dir = argv[i];
    }
    char err[1024];
    struct ruleset *rs = ruleset_load(dir, err, sizeof err), *rs2 = NULL;
    if (!rs) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (other && !(rs2 = ruleset_load(other, err, sizeof err))) {
        fprintf(stderr, "%s\n", err);
        ruleset_release(rs);
        return 1;
    }
    struct tally t, t2;
    char *line = NULL;
    size_t cap = 0, lineno = 0, labeled = 0, changed = 0, toward = 0, away = 0;
    int rc = 0;
    int ok1 = tally_init(&t, rs), ok2 = tally_init(&t2, rs2 ? rs2 : rs);
    if (ok1 < 0 || ok2 < 0) {
        fprintf(stderr, "raqib: out of memory\n");
        rc = 1;
        goto out;
    }
    while (getline(&line, &cap, stdin) >= 0) {
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        json_t *obj = json_line(line, lineno);
        if (!obj) {
            rc = 1;
            continue;
        }
        struct comment c = { 0 };
        struct engine_signals sig = { 0 };
        struct verdict v = { 0 }, v2 = { 0 };
        int label = 0;
        if (read_comment(obj, &c, &sig, &label) < 0 ||
            engine_score(rs, &c, &sig, &v, err, sizeof err) < 0 ||
            (rs2 && engine_score(rs2, &c, &sig, &v2, err, sizeof err) < 0)) {
            fprintf(stderr, "raqib: line %zu: %s\n", lineno, "out of memory");
            rc = 1;
        } else {
            if (rs2 && v.status != v2.status) {
                changed++;
                /* Toward the label: a positive now caught as spam, or a
                 * negative no longer marked spam. */
                if (label && (v2.status == DECISION_SPAM) == (label > 0))
                    toward++;
                else if (label && (v.status == DECISION_SPAM) == (label > 0))
                    away++;
                if (!quiet)
                    print_change(lineno, label, &v, &v2, &c);
            } else if (!rs2 && !quiet) {
                print_verdict(&v, as_json);
            }
            t.limit_hits += v.limit_hits;
            t2.limit_hits += v2.limit_hits;
            if (label) {
                labeled++;
                count(&t, &v, label);
                if (rs2)
                    count(&t2, &v2, label);
            }
        }
        verdict_free(&v);
        verdict_free(&v2);
        comment_free(&c);
        json_decref(obj);
    }
    if (labeled)
        print_summary(&t, rs);
    if (rs2) {
        printf("# --diff %s: decision changed on %zu of %zu comments", other, changed, lineno);
        if (labeled)
            printf(" (%zu toward the label, %zu away from it)", toward, away);
        printf("\n");
        if (labeled)
            print_totals(&t2, " with --diff set:");
    }
out:
    free(line);
    tally_free(&t);
    tally_free(&t2);
    ruleset_release(rs);
    if (rs2)
        ruleset_release(rs2);
    engine_thread_done();
    return rc;
}

/* 1 when label is one of the comma-separated names in list. */
static int label_in(const char *label, const char *list)
{
    size_t n = strlen(label);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, label, n) == 0)
            return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

/* Options of `rules train`. */
struct train_opts {
    const char *model, *positive, *negative, *field;
    const char *redis, *site;
    unsigned min_count;
    int add, include_automatic, char_ngrams;
};

static int parse_train(int argc, char **argv, struct train_opts *o)
{
    *o = (struct train_opts){ .positive = "spam", .negative = "ham,approved", .field = "content",
                              .min_count = 2 };
    for (int i = 0; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--positive") == 0 && next)
            o->positive = argv[++i];
        else if (strcmp(argv[i], "--negative") == 0 && next)
            o->negative = argv[++i];
        else if (strcmp(argv[i], "--field") == 0 && next)
            o->field = argv[++i];
        else if (strcmp(argv[i], "--min-count") == 0 && next)
            o->min_count = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--redis") == 0 && next)
            o->redis = argv[++i];
        else if (strcmp(argv[i], "--site") == 0 && next)
            o->site = argv[++i];
        else if (strcmp(argv[i], "--include-automatic") == 0)
            o->include_automatic = 1;
        else if (strcmp(argv[i], "--add") == 0)
            o->add = 1;
        else if (strcmp(argv[i], "--char-ngrams") == 0)
            o->char_ngrams = 1;
        else if (argv[i][0] == '-' || o->model)
            return usage_error("rules train takes options and one MODEL path");
        else
            o->model = argv[i];
    }
    if (!o->model)
        return usage_error("rules train needs the MODEL file to write");
    if (!o->redis != !o->site)
        return usage_error("rules train --redis URL needs --site S (and --site needs --redis)");
    if (o->redis && strcmp(o->field, "content") != 0)
        return usage_error("rules train --redis learns from content only");
    return 0;
}

/* The moderator decision a training label stands for: a file's labels
 * (ham, clean, abusive) and the decision statuses alike. NULL: none. */
static const char *decision_of_label(const char *label, size_t n)
{
    static const struct { const char *label, *status; } map[] = {
        { "spam", "spam" }, { "approved", "approved" }, { "ham", "approved" }, { "clean", "approved" },
        { "rejected", "rejected" }, { "abusive", "rejected" },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strlen(map[i].label) == n && strncmp(map[i].label, label, n) == 0)
            return map[i].status;
    return NULL;
}

/* The decision statuses a comma list of labels stands for, as a comma list
 * in out (each once, in the order approved, rejected, spam). */
static void decisions_of(const char *labels, char *out, size_t len)
{
    static const char *order[] = { "approved", "rejected", "spam" };
    int has[3] = { 0 };
    for (const char *p = labels; *p;) {
        size_t k = strcspn(p, ",");
        const char *st = decision_of_label(p, k);
        for (size_t i = 0; st && i < 3; i++)
            has[i] |= strcmp(st, order[i]) == 0;
        p += k + (p[k] == ',');
    }
    out[0] = '\0';
    for (size_t i = 0; i < 3; i++)
        if (has[i])
            snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? "," : "", order[i]);
}

/* Record in the model which moderator decisions it counts (its "labels"
 * line), so a daemon can keep learning it per site from live decisions:
 * --positive spam --negative ham,clean,abusive is "spam approved,rejected". */
static void set_decision_labels(struct learn_model *m, const struct train_opts *o)
{
    char pos[64], neg[64];
    decisions_of(o->positive, pos, sizeof pos);
    decisions_of(o->negative, neg, sizeof neg);
    if (pos[0] && neg[0])
        learn_model_set_labels(m, pos, neg);
}

/* A training run: the model, what counts as which, and the tally. */
struct trainer {
    struct learn_model *m;
    const struct train_opts *o;
    size_t skipped;
    int failed;
};

/* Fold text to the norm view as the engine does (HTML decoded in content)
 * and count it when label is in one of the lists. 0, or -1 out of memory. */
static int train_text(struct trainer *t, const char *label, const char *text, size_t len, int html)
{
    int pos = label && label_in(label, t->o->positive), neg = label && label_in(label, t->o->negative);
    if (!text || !(pos || neg)) {
        t->skipped++;
        return 0;
    }
    struct norm_text nt;
    int rc = norm_text_build_views(&nt, text, len, html, 1u << VIEW_NORM);
    if (rc == 0)
        rc = learn_model_add(t->m, nt.view[VIEW_NORM] ? nt.view[VIEW_NORM] : "", nt.len[VIEW_NORM], pos);
    norm_text_free(&nt);
    return rc;
}

/* decided_fn: one comment from Redis; its status is the label. */
static int train_decided(const char *status, const char *content, size_t len, void *arg)
{
    struct trainer *t = arg;
    if (train_text(t, status, content, len, 1) < 0)
        t->failed = 1;
    return t->failed;
}

/* One JSON line: label (or status) and the field (content falls back to text). */
static int train_line(struct trainer *t, const char *line, size_t lineno)
{
    json_t *obj = json_line(line, lineno);
    if (!obj)
        return 1;
    const char *label = json_string_value(json_object_get(obj, "label"));
    if (!label)
        label = json_string_value(json_object_get(obj, "status"));
    json_t *v = member(obj, t->o->field);
    int rc = train_text(t, label, json_string_value(v), json_string_length(v),
                        strcmp(t->o->field, "content") == 0);
    json_decref(obj);
    return rc;
}

/* Feed every line of stdin to the trainer (blank lines aside). 0, or 1
 * after a message: a line that is not a JSON object is named, and then no
 * model is written, since the input is not what it was meant to be. */
static int train_from_stdin(struct trainer *t)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0, bad = 0;
    int rc = 0;
    while (rc == 0 && getline(&line, &cap, stdin) >= 0) {
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        int r = train_line(t, line, lineno);
        if (r < 0) {
            fprintf(stderr, "raqib: line %zu: out of memory\n", lineno);
            rc = 1;
        }
        bad += r > 0;
    }
    free(line);
    if (rc == 0 && bad) {
        fprintf(stderr, "raqib: %zu of %zu lines could not be read; %s not written\n", bad, lineno, t->o->model);
        rc = 1;
    }
    return rc;
}

/* Feed the site's decided comments to the trainer. 0, or 1 after a message. */
static int train_from_redis(struct trainer *t)
{
    char err[1024], cursor[64] = "", from[64] = "";
    const char *kept = learn_model_feed_cursor(t->m, t->o->site);   /* --add: go on from there */
    snprintf(from, sizeof from, "%s", kept ? kept : "");
    snprintf(cursor, sizeof cursor, "%s", from);
    struct decided_counts n;
    if (decided_each(t->o->redis, t->o->site, t->o->include_automatic, cursor, sizeof cursor, train_decided, t, &n,
                     err, sizeof err) < 0 || t->failed) {
        fprintf(stderr, "raqib: %s\n", t->failed ? "out of memory" : err);
        return 1;
    }
    if (cursor[0] && learn_model_set_feed_cursor(t->m, t->o->site, cursor) < 0) {
        fprintf(stderr, "raqib: feed cursor '%s' of site '%s' cannot be kept in the model\n", cursor, t->o->site);
        return 1;
    }
    printf("%s: %zu decisions%s%s, %zu decided comments read; left out: %zu decided by the rules, "
           "%zu no longer stored\n", t->o->site, n.decisions, from[0] ? " after " : "", from, n.comments,
           n.automatic, n.gone);
    return 0;
}

static int cmd_train(int argc, char **argv)
{
    struct train_opts o;
    int rc = parse_train(argc, argv, &o);
    if (rc)
        return rc;
    char err[4200];
    struct learn_model *m = o.add ? learn_model_load(o.model, err, sizeof err) : learn_model_new();
    if (!m) {
        fprintf(stderr, "raqib: %s\n", o.add ? err : "out of memory");
        return 1;
    }
    if (o.char_ngrams && !o.add)
        learn_model_set_tokens(m, LEARN_TOKENS_CHARS);   /* a new model: cannot fail */
    if (o.add && o.char_ngrams != (learn_model_get_tokens(m) == LEARN_TOKENS_CHARS)) {
        fprintf(stderr, "raqib: %s was trained %s character n-grams; --add %s --char-ngrams\n", o.model,
                o.char_ngrams ? "without" : "with", o.char_ngrams ? "cannot add" : "needs");
        learn_model_free(m);
        return 1;
    }
    if (!o.add || !learn_model_labels(m, 1))
        set_decision_labels(m, &o);
    struct trainer t = { .m = m, .o = &o };
    rc = o.redis ? train_from_redis(&t) : train_from_stdin(&t);
    long kept = rc == 0 ? learn_model_save(m, o.model, o.min_count, err, sizeof err) : -1;
    if (rc == 0 && kept < 0) {
        fprintf(stderr, "raqib: %s\n", err);
        rc = 1;
    }
    if (rc == 0)
        printf("%s: %lu positive and %lu negative comments; %zu tokens, %ld kept (seen in >= %u); "
               "%zu skipped (no text, or a label in neither list)\n", o.model, learn_model_docs(m, 1),
               learn_model_docs(m, 0), learn_model_tokens(m), kept, o.min_count, t.skipped);
    learn_model_free(m);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("missing command");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "fold") == 0)
        return cmd_fold(argc - 2, argv + 2);
    if (strcmp(argv[1], "replay") == 0)
        return cmd_replay(argc - 2, argv + 2);
    if (strcmp(argv[1], "rules") == 0) {
        if (argc < 3)
            return usage_error("rules needs lint, test or train");
        if (strcmp(argv[2], "lint") == 0)
            return cmd_lint(argc - 3, argv + 3);
        if (strcmp(argv[2], "test") == 0)
            return cmd_test(argc - 3, argv + 3);
        if (strcmp(argv[2], "train") == 0)
            return cmd_train(argc - 3, argv + 3);
        return usage_error("unknown rules command (expected lint, test or train)");
    }
    return usage_error("unknown command");
}
