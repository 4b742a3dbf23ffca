/* lint.c — warnings about rule files that load but misbehave.
 *
 * ruleset_load (rules.c) refuses what cannot work; this finds what works
 * badly: patterns an attacker can drive into PCRE2's match limit (each one
 * then counts as "no match" on every comment shaped like the attack),
 * escapes for characters the rule's view has already removed, alternatives
 * too short for the space-less squash view, list entries the fold
 * rewrites, short entries of a `clitics` list, and learned models that have seen too few comments. It re-reads
 * the files for the pattern text and the line of every condition and pairs
 * them, in order, with the compiled conditions of the ruleset loaded from
 * the same path. Pure module. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "raqib/lint.h"

#include <ctype.h>
#include <dirent.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raqib/engine.h"
#include "raqib/learn.h"
#include "raqib/normalize.h"
#include "raqib/rules.h"

#define SHORT_LITERAL 6
#define CLITICS_SHORT 3         /* entries this short want no proclitics */
#define LINT_MODEL_MIN_DOCS 50  /* comments of each kind a model wants */
#define PROBE_BYTES 6000

struct lint {
    const struct ruleset *rs;
    const char *dir;
    double probe_ms;
    lint_warn_fn cb;
    void *arg;
    long warnings;
    char *probes[VIEW_COUNT][16];   /* adversarial inputs, folded per view */
    size_t probe_len[VIEW_COUNT][16];
    size_t nprobes;
    pcre2_match_data *md;
    pcre2_match_context *mctx;
};

__attribute__((format(printf, 4, 5)))
static void warn(struct lint *l, const char *file, int line, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    l->cb(l->arg, file, line, msg);
    l->warnings++;
}

/* ---- ReDoS probe ---- */

/* Inputs that make backtracking patterns explode: long runs of one
 * character, repeated two-character alternations, a run ended by a
 * character that spoils the match at the very end. */
static int build_probes(struct lint *l)
{
    static const struct { const char *unit, *tail; } shapes[] = {
        { "a", "!" }, { "ab", "!" }, { "a ", "!" }, { "1", "x" }, { "1 ", "x" }, { "ا", "!" },
        { "و ", "!" }, { "a.", "!" }, { " ", "x" }, { "-", "x" }, { "www.a", "!" }, { "aa", "" },
        { "http://a", "!" }, { "0 ", "!" },
    };
    l->nprobes = sizeof shapes / sizeof shapes[0];
    for (size_t i = 0; i < l->nprobes; i++) {
        size_t ul = strlen(shapes[i].unit), tl = strlen(shapes[i].tail), n = 0;
        char *s = malloc(PROBE_BYTES + ul + tl + 1);
        if (!s)
            return -1;
        while (n + ul <= PROBE_BYTES) {
            memcpy(s + n, shapes[i].unit, ul);
            n += ul;
        }
        memcpy(s + n, shapes[i].tail, tl);
        n += tl;
        s[n] = '\0';
        for (int v = 0; v < VIEW_COUNT; v++) {
            l->probes[v][i] = norm_fold(s, n, (enum norm_view)v, &l->probe_len[v][i]);
            if (!l->probes[v][i]) {
                free(s);
                return -1;
            }
        }
        free(s);
    }
    return 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void probe(struct lint *l, const struct rule_cond *c, const char *file, int line)
{
    if (!c->code || c->field == RULE_FIELD_FLAGS)
        return;
    const pcre2_code *re = (const pcre2_code *)c->code;
    for (size_t i = 0; i < l->nprobes; i++) {
        double t0 = now_ms();
        int rc = pcre2_match(re, (PCRE2_SPTR)l->probes[c->view][i], l->probe_len[c->view][i], 0, 0, l->md, l->mctx);
        double ms = now_ms() - t0;
        if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || ms > l->probe_ms) {
            char shown[24];
            snprintf(shown, sizeof shown, "%.16s", l->probes[c->view][i]);
            warn(l, file, line, "pattern %s on an adversarial input ('%s…', %zu bytes): it can be made to fail "
                 "on any comment (ReDoS); avoid nested or adjacent quantifiers over the same characters",
                 rc == PCRE2_ERROR_MATCHLIMIT ? "hits the match limit"
                 : rc == PCRE2_ERROR_DEPTHLIMIT ? "hits the depth limit" : "runs slowly",
                 shown, l->probe_len[c->view][i]);
            return;
        }
    }
}

/* ---- escapes the view makes impossible ---- */

/* Code points norm (and the views built on it) never contain. */
static int folded_away(unsigned long cp)
{
    return cp == 0x640 || (cp >= 0x64B && cp <= 0x652) || cp == 0x670 || (cp >= 0x200B && cp <= 0x200F) ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x660 && cp <= 0x669) || (cp >= 0x6F0 && cp <= 0x6F9) ||
           (cp >= 'A' && cp <= 'Z') || cp == 0x622 || cp == 0x623 || cp == 0x625 || cp == 0x629 || cp == 0x649 ||
           cp == 0xFEFF;
}

/* Look at each escape of pattern text p written for view; warn on the first
 * one the view makes impossible (unless it is optional: followed by * or ?
 * or {0,). */
static void check_escapes(struct lint *l, const char *p, enum norm_view view, const char *file, int line)
{
    if (view == VIEW_RAW)
        return;
    int squashed = view == VIEW_SQUASH || view == VIEW_SKEL;
    for (size_t i = 0; p[i]; i++) {
        if (p[i] != '\\' || !p[i + 1])
            continue;
        const char *e = p + i + 1;
        size_t len = 1;
        const char *why = NULL;
        if (*e == 'x' && e[1] == '{') {
            unsigned long cp = strtoul(e + 2, NULL, 16);
            const char *close = strchr(e, '}');
            len = close ? (size_t)(close - e) + 1 : 1;
            if (folded_away(cp))
                why = "the fold removes or rewrites that character (tatweel, harakat, hamza forms, ة, ى, "
                      "non-ASCII digits, upper case, invisible characters)";
            else if (squashed && cp < 0x80 && !isalnum((int)cp))
                why = "this view keeps letters and digits only";
        } else if (*e == 'p' && e[1] == '{') {
            const char *close = strchr(e, '}');
            len = close ? (size_t)(close - e) + 1 : 1;
            if (strncmp(e, "p{Lu}", 5) == 0 || strncmp(e, "p{Mn}", 5) == 0 || strncmp(e, "p{M}", 4) == 0 ||
                strncmp(e, "p{Cf}", 5) == 0)
                why = "the fold removes marks and format characters and lower-cases letters";
            else if (squashed && (strncmp(e, "p{P", 3) == 0 || strncmp(e, "p{Z", 3) == 0 || strncmp(e, "p{S", 3) == 0))
                why = "this view keeps letters and digits only";
        } else if (squashed && (strchr("shvnRtW", *e) || (ispunct((unsigned char)*e) && !strchr("\\[](){}^$|*+?", *e)) || *e == ' ')) {
            why = "this view keeps letters and digits only (no spaces or punctuation)";
        } else if (strchr("t", *e)) {
            why = "the fold turns tabs into spaces";
        }
        const char *after = e + len;
        if (why && *after != '*' && *after != '?' && strncmp(after, "{0", 2) != 0) {
            warn(l, file, line, "'\\%.*s' can never match in the %s view: %s", (int)len, e, norm_view_name(view), why);
            return;
        }
        i += len;
    }
}

/* ---- literals too short for squash ---- */

/* Each top-level '|' branch of p that is a plain literal (no groups,
 * escapes, classes or quantifiers) and folds to fewer than 6 characters in
 * view: one warning naming it. Branches with syntax are left alone. */
static void check_short(struct lint *l, const char *p, enum norm_view view, const char *file, int line)
{
    if (view != VIEW_SQUASH && view != VIEW_SKEL)
        return;
    const char *start = p;
    int depth = 0;
    for (const char *q = p;; q++) {
        if (*q == '\\' && q[1]) {
            q++;
            continue;
        }
        if (*q == '(')
            depth++;
        else if (*q == ')')
            depth--;
        if (*q && (*q != '|' || depth != 0))
            continue;
        size_t n = (size_t)(q - start);
        if (n > 0 && n < 512 && strcspn(start, "\\[](){}.*+?^$|") >= n) {
            size_t fl;
            char *f = norm_fold(start, n, view, &fl);
            size_t cps = f ? utf8_length(f, fl) : 0;
            if (cps > 0 && cps < SHORT_LITERAL)
                warn(l, file, line, "'%s' is %zu letters in the %s view (fewer than %d): with no spaces there it "
                     "also matches inside longer words", f, cps, norm_view_name(view), SHORT_LITERAL);
            free(f);
        }
        if (!*q)
            break;
        start = q + 1;
    }
}

/* ---- words lists ---- */

/* A model that has seen few comments of either kind scores nearly
 * everything 0.5: its rule is there but will seldom hit. */
static void check_model(struct lint *l, const struct rule_cond *c, const char *file, int line)
{
    unsigned long pos = learn_model_docs(c->model, 1), neg = learn_model_docs(c->model, 0);
    if (pos < LINT_MODEL_MIN_DOCS || neg < LINT_MODEL_MIN_DOCS)
        warn(l, file, line, "the model has learned from %lu positive and %lu negative comments; "
             "it says little before %d of each (raqib rules train)", pos, neg, LINT_MODEL_MIN_DOCS);
}

/* Letters (code points that are not spaces) of folded text. */
static size_t letters_in(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80 && !isspace((unsigned char)*s))
            n++;
    return n;
}

/* Each list entry the fold rewrites; with clitics, each entry of three
 * letters or fewer: a proclitic in front of a short root makes another
 * word of it (ب+كس is the بكس of ستار بكس, ف+خرا is فخرا, "proudly"). */
static void check_words(struct lint *l, const char *name, enum norm_view view, int clitics)
{
    if (view == VIEW_RAW && !clitics)
        return;
    char path[4096];
    rules_words_path(l->dir, name, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f)
        return;   /* ruleset_load already read it */
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        for (char *q = line; *q; q++)
            if (*q == '#' && (q == line || isspace((unsigned char)q[-1]))) {
                *q = '\0';
                break;
            }
        char *s = line + strspn(line, " \t\r\n");
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            s[--n] = '\0';
        if (!n)
            continue;
        size_t fl;
        char *folded = view == VIEW_RAW ? strdup(s) : norm_fold(s, n, view, &fl);
        if (folded && strcmp(folded, s) != 0)
            warn(l, name, lineno, "entry '%s' is matched as '%s'", s, folded);
        if (folded && clitics && letters_in(folded) <= CLITICS_SHORT)
            warn(l, name, lineno, "entry '%s' is %zu letters: with clitics a proclitic before it makes "
                 "other words of it (ب+كس is the بكس of ستار بكس); list its prefixed forms instead",
                 s, letters_in(folded));
        free(folded);
    }
    free(line);
    fclose(f);
}

/* ---- walking the files ---- */

static char *token(char **s)
{
    char *t = *s + strspn(*s, " \t\r\n");
    if (!*t)
        return NULL;
    char *e = t + strcspn(t, " \t\r\n");
    if (*e)
        *e++ = '\0';
    *s = e;
    return t;
}

/* The pattern text between the slashes of "/PATTERN/FLAGS # comment", cut
 * in place (as rules.c finds it), or NULL. */
static char *pattern_text(char *rest)
{
    rest += strspn(rest, " \t");
    if (*rest != '/')
        return NULL;
    char *pat = rest + 1;
    for (char *q = pat; *q; q++) {
        if (*q == '\\' && q[1]) {
            q++;
            continue;
        }
        if (*q == '/') {
            const char *t = q + 1 + strspn(q + 1, "imsx");
            t += strspn(t, " \t\r\n");
            if (*t == '\0' || *t == '#') {
                *q = '\0';
                return pat;
            }
        }
    }
    return NULL;
}

static int lint_file(struct lint *l, const char *path, const char *display)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0;
    long rule = -1;
    size_t k = 0;
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        char *rest = line, *key = token(&rest);
        if (!key || key[0] == '#')
            continue;
        if (strcmp(key, "rule") == 0) {
            char *name = token(&rest);
            rule = name ? ruleset_find(l->rs, name) : -1;
            k = 0;
            continue;
        }
        int is_match = strcmp(key, "match") == 0 || strcmp(key, "unless") == 0;
        if (rule < 0 || !(is_match || strcmp(key, "words") == 0 || strcmp(key, "links") == 0 ||
                          strcmp(key, "learned") == 0))
            continue;
        const struct rule_cond *conds;
        size_t n = ruleset_rule_conds(l->rs, (size_t)rule, &conds);
        if (k >= n)
            continue;
        const struct rule_cond *c = &conds[k++];
        token(&rest);   /* FIELD[:VIEW]: the compiled condition knows it */
        if (is_match) {
            char *pat = pattern_text(rest);
            if (pat) {
                check_escapes(l, pat, (enum norm_view)c->view, display, lineno);
                check_short(l, pat, (enum norm_view)c->view, display, lineno);
            }
            probe(l, c, display, lineno);
        } else if (c->kind == RULE_COND_LEARNED) {
            check_model(l, c, display, lineno);
        } else if (c->kind == RULE_COND_WORDS) {
            char *name = token(&rest), *opt = name ? token(&rest) : NULL;
            if (name)
                check_words(l, name, (enum norm_view)c->view, opt && strcmp(opt, "clitics") == 0);
            probe(l, c, display, lineno);
        }
    }
    free(line);
    fclose(f);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

long rules_lint(const struct ruleset *rs, const char *path, double probe_ms, lint_warn_fn cb, void *arg)
{
    struct lint l = { .rs = rs, .probe_ms = probe_ms, .cb = cb, .arg = arg };
    char dir[4096], file[4096];
    char **names = NULL;
    size_t count = 0;
    long rc = -1;
    l.md = pcre2_match_data_create(1, NULL);
    l.mctx = pcre2_match_context_create(NULL);
    if (!l.md || !l.mctx || build_probes(&l) < 0)
        goto out;
    pcre2_set_match_limit(l.mctx, ENGINE_MATCH_LIMIT);
    pcre2_set_depth_limit(l.mctx, ENGINE_DEPTH_LIMIT);
    DIR *d = opendir(path);
    if (d) {
        snprintf(dir, sizeof dir, "%s", path);
        l.dir = dir;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t n = strlen(e->d_name);
            if (n <= 6 || strcmp(e->d_name + n - 6, ".rules") != 0 || e->d_name[0] == '.')
                continue;
            char **nn = realloc(names, (count + 1) * sizeof *nn);
            if (!nn)
                break;
            names = nn;
            if ((names[count] = strdup(e->d_name)) != NULL)
                count++;
        }
        closedir(d);
        if (count)
            qsort(names, count, sizeof *names, cmp_names);
        for (size_t i = 0; i < count; i++) {
            snprintf(file, sizeof file, "%s/%s", path, names[i]);
            if (lint_file(&l, file, names[i]) < 0)
                goto out;
        }
    } else {
        const char *slash = strrchr(path, '/');
        snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
        if (slash == path)
            snprintf(dir, sizeof dir, "/");
        l.dir = dir;
        if (lint_file(&l, path, slash ? slash + 1 : path) < 0)
            goto out;
    }
    rc = l.warnings;
out:
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    for (int v = 0; v < VIEW_COUNT; v++)
        for (size_t i = 0; i < l.nprobes; i++)
            free(l.probes[v][i]);
    pcre2_match_data_free(l.md);
    pcre2_match_context_free(l.mctx);
    return rc;
}
