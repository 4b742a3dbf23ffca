/* rules.c — rule files: parse, fold, compile, hold.
 *
 * Reads the operators' rule files (shared/design/rules.md) line by line into
 * an immutable, reference-counted struct ruleset. Each `match` pattern is
 * rewritten for its view before PCRE2 compiles it: the literal text of the
 * pattern goes through norm_fold() for that view, PCRE2 syntax is left alone,
 * so an operator writes `شيخ روحاني` and the rasm or squash rendering of the
 * text still matches. `words` lists become one whole-word alternation. Any
 * error rejects the whole load with "file:line: what is wrong". Pure module;
 * engine.c runs the compiled conditions.
 *
 * Beyond rules.md (to be copied into README.md):
 *   - a rule may hold several `match`/`words`/`links` lines: all must hold;
 *   - `unless FIELD[:VIEW] /PATTERN/FLAGS` — the rule does not hit when this
 *     matches (e.g. `match /قرض/` … `unless /قرض حسن/`);
 *   - `words FIELD[:VIEW] FILE` takes a view too; in squash/skel (no spaces)
 *     phrases match anywhere, elsewhere as whole words;
 *   - `words FIELD[:VIEW] FILE clitics` — a listed word also matches behind
 *     the Arabic proclitics ال و ف ب ك ل and their combinations (بال، وال،
 *     لل، فب …), still ending where the word ends (docs/rules.md);
 *   - fields `referrer` and `flags` (raw only: "honeypot too_fast
 *     tatweel_runs=3 …", see engine.c);
 *   - a later file's `threshold` overrides an earlier one; approve must stay
 *     below spam;
 *   - the closing `/` of a pattern is the first unescaped `/` followed only by
 *     flags and an optional `# comment`, so `/https?://x/` needs no escapes;
 *   - in `describe`, a comment starts at " # " so "#1" stays in the text;
 *   - `learned FIELD MODEL OP P` — the score in [0, 1] of a model trained
 *     by `raqib rules train` (learn.h) on the field's norm view, compared
 *     with P; MODEL is a path relative to the rules folder, read once per
 *     load however many rules name it. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "raqib/rules.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "raqib/comment.h"
#include "raqib/learn.h"
#include "raqib/normalize.h"
#include "raqib/prefilter.h"

#define SPAM_THRESHOLD_DEFAULT 10.0

struct rule {
    char *name;
    char *description;          /* "" when absent */
    const char *file;           /* points into ruleset.files */
    int line;
    double score;
    int has_score;
    int approve;                /* `approve`: vouches for the comment (engine.h) */
    struct rule_cond *conds;
    size_t nconds;
};

struct ruleset {
    atomic_int refs;
    struct rule *rules;
    size_t n, cap;
    char **files;               /* display names, owned */
    size_t nfiles;
    double spam;
    double approve;
    int has_approve;
    const char *approve_file;   /* where `threshold approve` was set, for errors */
    int approve_line;
    /* Hyperscan in front of the patterns (prefilter.c): built in the
     * background after the load, published once; NULL until then or when
     * there is none. Either way the verdicts are the same. */
    _Atomic(struct prefilter *) pf;
    atomic_int pf_done;
    /* What the prefilter is built from: every rule's conditions. */
    struct rule_table table;
    /* Per comment field, the views (1u << enum norm_view) some condition
     * reads: the engine folds only those. */
    unsigned views[CF_COUNT];
    unsigned learn_kinds;       /* the union of the learned models' tokens */
    /* The models `learned` conditions read, each loaded once. */
    struct loaded_model { char *path, *name; struct learn_model *model; } *models;
    size_t nmodels;
};

/* Parser state for one file. */
struct parser {
    struct ruleset *rs;
    const char *dir;            /* the rules folder: words files are relative to it */
    const char *file;           /* display name used in messages */
    int line;
    long cur;                   /* index of the rule being filled, or -1 */
    char *err;
    size_t errlen;
};

/* Text fields a rule may name, with their comment_field. */
static const struct { const char *name; int field; } field_names[] = {
    { "content", CF_CONTENT }, { "author", CF_AUTHOR }, { "email", CF_EMAIL },
    { "url", CF_URL }, { "ip", CF_IP }, { "user_agent", CF_USER_AGENT },
    { "referrer", CF_REFERRER }, { "any", RULE_FIELD_ANY }, { "flags", RULE_FIELD_FLAGS },
};

const char *rule_field_name(int field)
{
    for (size_t i = 0; i < sizeof field_names / sizeof field_names[0]; i++)
        if (field_names[i].field == field)
            return field_names[i].name;
    return "?";
}

/* Write "file:line: message" into the parser's error buffer; returns -1. */
static int perr(struct parser *p, const char *fmt, ...)
{
    int n = snprintf(p->err, p->errlen, "%s:%d: ", p->file, p->line);
    if (n < 0 || (size_t)n >= p->errlen)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- a growable byte buffer ---- */

struct buf {
    char *s;
    size_t len, cap;
    int oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void buf_addc(struct buf *b, char c) { buf_add(b, &c, 1); }

/* Append folded text as pattern literals: ASCII punctuation is escaped so
 * a fold can never introduce syntax (NFKC turns … into "..."), and so is a
 * space under the x flag. */
static void buf_add_literal(struct buf *b, const char *s, size_t n, int extended)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c < 0x80 && ispunct(c)) || (extended && isspace(c)))
            buf_addc(b, '\\');
        buf_addc(b, (char)c);
    }
}

/* ---- pattern folding ----
 *
 * The pattern is walked once. Escapes, classes' syntax, group openers,
 * quantifiers and metacharacters are copied as they are; each run of literal
 * characters (non-ASCII, alphanumerics, spaces unless `x`, and punctuation
 * that is not syntax) is replaced by norm_fold() of the run for the view.
 * Two refinements keep the meaning: a run followed by a quantifier has its
 * last character folded on its own (wrapped in (?:…), or (?:) when it folds
 * to nothing) so the quantifier still binds to it; and in norm/rasm the
 * spaces at the run's edges are kept, since norm_fold trims them. Inside
 * [...] each character is folded on its own; characters that fold to nothing
 * are dropped and range endpoints are folded only when each stays one
 * character. Known limits: folding does not see across runs, so squash's
 * repeat collapse and norm's elongation cut apply within a run only. */

static int is_syntax(unsigned char c)
{
    return c != 0 && strchr("\\[](){}^$.|*+?", c) != NULL;
}

static int is_literal(unsigned char c, int extended)
{
    if (c >= 0x80 || isalnum(c))
        return 1;
    if (extended && (isspace(c) || c == '#'))
        return 0;
    return c == ' ' || (ispunct(c) && !is_syntax(c));
}

/* Length of the UTF-8 sequence starting with byte c (1 for stray bytes). */
static size_t u8len(unsigned char c)
{
    if (c >= 0xF0) return 4;
    if (c >= 0xE0) return 3;
    if (c >= 0xC0) return 2;
    return 1;
}

/* Copy the escape at p[i] (a backslash) verbatim; returns the index after it.
 * \Q…\E is handled by the caller. */
static size_t escape_end(const char *p, size_t n, size_t i)
{
    size_t j = i + 1;
    if (j >= n)
        return n;
    unsigned char c = (unsigned char)p[j];
    if (c >= 0x80)
        return j + u8len(c) > n ? n : j + u8len(c);
    if (strchr("pPxogkNu", c) && j + 1 < n && p[j + 1] == '{') {
        const char *e = memchr(p + j, '}', n - j);
        return e ? (size_t)(e - p) + 1 : n;
    }
    if ((c == 'k' || c == 'g') && j + 1 < n && (p[j + 1] == '<' || p[j + 1] == '\'')) {
        const char *e = memchr(p + j + 2, p[j + 1] == '<' ? '>' : '\'', n - j - 2);
        return e ? (size_t)(e - p) + 1 : n;
    }
    if (c == 'c')
        return j + 2 > n ? n : j + 2;
    if (c == 'x') {
        size_t k = j + 1;
        while (k < n && k < j + 3 && isxdigit((unsigned char)p[k]))
            k++;
        return k;
    }
    if (isdigit(c)) {
        size_t k = j;
        while (k < n && isdigit((unsigned char)p[k]))
            k++;
        return k;
    }
    return j + 1;
}

/* A quantifier {n}, {n,}, {n,m} or {,m} starts at p[i]: its end index, else 0. */
static size_t quantifier_end(const char *p, size_t n, size_t i)
{
    size_t j = i + 1, digits = 0;
    while (j < n && isdigit((unsigned char)p[j]))
        j++, digits++;
    if (j < n && p[j] == ',') {
        j++;
        while (j < n && isdigit((unsigned char)p[j]))
            j++, digits++;
    }
    return (j < n && p[j] == '}' && digits > 0) ? j + 1 : 0;
}

/* Fold s[0..len) to view; NULL on allocation failure. */
static char *fold(const char *s, size_t len, enum norm_view view, size_t *outlen)
{
    return norm_fold(s, len, view, outlen);
}

/* Emit a literal run folded for view (see the block comment above). */
static int emit_run(struct buf *b, const char *s, size_t len, enum norm_view view,
                    int extended, int quantified)
{
    int squashing = (view == VIEW_SQUASH || view == VIEW_SKEL);
    size_t last = len;
    if (quantified) {
        last = len - 1;
        while (last > 0 && ((unsigned char)s[last] & 0xC0) == 0x80)
            last--;
    }
    /* Leading and trailing spaces of the unquantified part. */
    size_t a = 0, z = last;
    while (a < z && s[a] == ' ')
        a++;
    while (z > a && s[z - 1] == ' ')
        z--;
    if (!squashing)
        buf_add(b, s, a);
    if (z > a) {
        size_t fl;
        char *f = fold(s + a, z - a, view, &fl);
        if (!f)
            return -1;
        buf_add_literal(b, f, fl, extended);
        free(f);
    }
    if (!squashing)
        buf_add(b, s + z, last - z);
    if (quantified) {
        size_t fl = 0;
        char *f = NULL;
        if (s[last] == ' ') {
            f = strdup(squashing ? "" : " ");
            fl = f ? strlen(f) : 0;
        } else {
            f = fold(s + last, len - last, view, &fl);
        }
        if (!f)
            return -1;
        buf_add(b, "(?:", 3);
        buf_add_literal(b, f, fl, extended);
        buf_addc(b, ')');
        free(f);
    }
    return 0;
}

/* Fold the single code point at p[i]; stores it in *f (malloc'd) and its
 * length. Returns the index after the code point, or 0 on allocation failure. */
static size_t fold_cp(const char *p, size_t n, size_t i, enum norm_view view,
                      char **f, size_t *fl)
{
    size_t l = u8len((unsigned char)p[i]);
    if (i + l > n)
        l = n - i;
    unsigned char c = (unsigned char)p[i];
    if (c < 0x80 && !isalpha(c)) {
        *f = strndup(p + i, 1);  /* ASCII punctuation, digits and space stay */
        *fl = 1;
    } else {
        *f = fold(p + i, l, view, fl);
    }
    return *f ? i + l : 0;
}

/* Count code points in s[0..len). */
static size_t cp_count(const char *s, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            k++;
    return k;
}

/* Copy a character class starting at p[i] ('['), folding its literal members.
 * Returns the index after the closing ']', or 0 on allocation failure. */
static size_t emit_class(struct buf *b, const char *p, size_t n, size_t i, enum norm_view view)
{
    size_t start = b->len;
    int negated = 0, members = 0;
    buf_addc(b, '[');
    i++;
    if (i < n && p[i] == '^') {
        negated = 1;
        buf_addc(b, '^');
        i++;
    }
    int first = 1;
    while (i < n && (p[i] != ']' || first)) {
        first = 0;
        unsigned char c = (unsigned char)p[i];
        if (c == '\\') {
            size_t e = escape_end(p, n, i);
            buf_add(b, p + i, e - i);
            members++;
            i = e;
        } else if (c == '[' && i + 1 < n && p[i + 1] == ':') {
            const char *e = strstr(p + i, ":]");
            size_t end = e ? (size_t)(e - p) + 2 : n;
            buf_add(b, p + i, end - i);
            members++;
            i = end;
        } else {
            char *f;
            size_t fl, next = fold_cp(p, n, i, view, &f, &fl);
            if (!next)
                return 0;
            if (next + 1 < n && p[next] == '-' && p[next + 1] != ']') {
                /* A range: fold both ends only when each stays one character. */
                char *g;
                size_t gl, after;
                if (p[next + 1] == '\\') {
                    after = escape_end(p, n, next + 1);
                    g = NULL;
                    gl = 0;
                } else {
                    after = fold_cp(p, n, next + 1, view, &g, &gl);
                    if (!after) {
                        free(f);
                        return 0;
                    }
                }
                if (g && cp_count(f, fl) == 1 && cp_count(g, gl) == 1 && strcmp(f, g) <= 0) {
                    buf_add_literal(b, f, fl, 0);
                    buf_addc(b, '-');
                    buf_add_literal(b, g, gl, 0);
                } else {
                    buf_add(b, p + i, after - i);
                }
                free(g);
                i = after;
            } else {
                buf_add_literal(b, f, fl, 0);
                i = next;
            }
            if (fl)
                members++;
            free(f);
        }
    }
    if (members == 0) {
        /* Every member folded away: the class keeps its meaning as "nothing"
         * (or "anything" when negated). */
        b->len = start;
        if (b->s)
            b->s[start] = '\0';
        buf_add(b, negated ? "(?s:.)" : "(?!)", negated ? 6 : 4);
    } else {
        buf_addc(b, ']');
    }
    return i < n ? i + 1 : n;
}

/* Copy a group opener at p[i] ('(') verbatim; returns the index after it. */
static size_t group_end(const char *p, size_t n, size_t i)
{
    if (i + 1 >= n || (p[i + 1] != '?' && p[i + 1] != '*'))
        return i + 1;
    if (p[i + 1] == '*') {
        for (size_t j = i + 2; j < n; j++)
            if (p[j] == ':' || p[j] == ')')
                return j + 1;
        return n;
    }
    size_t j = i + 2;
    if (j >= n)
        return n;
    char c = p[j];
    const char *e;
    if (c == '#' || ((c == 'P') && j + 1 < n && (p[j + 1] == '=' || p[j + 1] == '>'))) {
        e = memchr(p + j, ')', n - j);
        return e ? (size_t)(e - p) + 1 : n;
    }
    if (c == '<' && j + 1 < n && (p[j + 1] == '=' || p[j + 1] == '!'))
        return j + 2;
    if (c == '<' || c == '\'' || (c == 'P' && j + 1 < n && p[j + 1] == '<')) {
        char close = c == '\'' ? '\'' : '>';
        e = memchr(p + j + 1, close, n - j - 1);
        return e ? (size_t)(e - p) + 1 : n;
    }
    if (strchr(":=!>|", c))
        return j + 1;
    if (c == '(') {   /* conditional: an assertion condition is a group of its own */
        if (j + 1 < n && (p[j + 1] == '?' || p[j + 1] == '*'))
            return j;
        e = memchr(p + j, ')', n - j);
        return e ? (size_t)(e - p) + 1 : n;
    }
    /* Options (?i) (?x:…), recursion (?R) (?1) (?&name), callouts (?C1). */
    while (j < n && p[j] != ')' && p[j] != ':')
        j++;
    return j < n ? j + 1 : n;
}

/* Rewrite pattern pat for view; returns a malloc'd pattern or NULL on
 * allocation failure. The raw view is returned unchanged. */
static char *fold_pattern(const char *pat, size_t n, enum norm_view view, int extended)
{
    struct buf b = { 0 };
    buf_add(&b, "", 0);
    if (view == VIEW_RAW) {
        buf_add(&b, pat, n);
        return b.oom ? (free(b.s), NULL) : b.s;
    }
    size_t i = 0;
    while (i < n && !b.oom) {
        unsigned char c = (unsigned char)pat[i];
        size_t e;
        if (c == '\\' && i + 1 < n && pat[i + 1] == 'Q') {
            const char *q = strstr(pat + i + 2, "\\E");
            size_t end = q ? (size_t)(q - pat) : n;
            size_t fl;
            char *f = fold(pat + i + 2, end - i - 2, view, &fl);
            if (!f)
                goto oom;
            buf_add(&b, "(?:", 3);
            buf_add_literal(&b, f, fl, 1);
            buf_addc(&b, ')');
            free(f);
            i = q ? end + 2 : n;
        } else if (c == '\\') {
            e = escape_end(pat, n, i);
            buf_add(&b, pat + i, e - i);
            i = e;
        } else if (c == '[') {
            e = emit_class(&b, pat, n, i, view);
            if (!e)
                goto oom;
            i = e;
        } else if (c == '(') {
            e = group_end(pat, n, i);
            buf_add(&b, pat + i, e - i);
            i = e;
        } else if (c == '{' && (e = quantifier_end(pat, n, i)) != 0) {
            buf_add(&b, pat + i, e - i);
            i = e;
        } else if (extended && c == '#') {
            const char *nl = memchr(pat + i, '\n', n - i);
            e = nl ? (size_t)(nl - pat) : n;
            buf_add(&b, pat + i, e - i);
            i = e;
        } else if (is_literal(c, extended)) {
            size_t j = i;
            while (j < n && is_literal((unsigned char)pat[j], extended))
                j++;
            int quantified = j < n && (pat[j] == '*' || pat[j] == '+' || pat[j] == '?' ||
                                       (pat[j] == '{' && quantifier_end(pat, n, j)));
            if (emit_run(&b, pat + i, j - i, view, extended, quantified) < 0)
                goto oom;
            i = j;
        } else {
            buf_addc(&b, (char)c);
            i++;
        }
    }
    if (b.oom)
        goto oom;
    return b.s;
oom:
    free(b.s);
    return NULL;
}

/* ---- compiling ---- */

/* Compile pattern (already folded) into *out; on error fills err via p. */
static int compile(struct parser *p, const char *pat, size_t len, uint32_t options,
                   const char *original, enum norm_view view, pcre2_code **out)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, len, options | PCRE2_UTF | PCRE2_UCP,
                                   &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        if (original && strcmp(original, pat) != 0)
            return perr(p, "%s at offset %zu in pattern (as folded for view %s: %s)",
                        (char *)msg, (size_t)off, norm_view_name(view), pat);
        return perr(p, "%s at offset %zu in pattern", (char *)msg, (size_t)off);
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  /* interpreter when JIT fails */
    *out = re;
    return 0;
}

/* ---- the ruleset ---- */

static struct rule *current(struct parser *p)
{
    return p->cur < 0 ? NULL : &p->rs->rules[p->cur];
}

static void rule_free(struct rule *r)
{
    free(r->name);
    free(r->description);
    for (size_t i = 0; i < r->nconds; i++) {
        pcre2_code_free((pcre2_code *)r->conds[i].code);
        free((char *)r->conds[i].pattern);
        free((char *)r->conds[i].phrases);
        free((char *)r->conds[i].proclitics);
    }
    free(r->conds);
}

static void ruleset_free(struct ruleset *rs)
{
    if (!rs)
        return;
    prefilter_free(atomic_load(&rs->pf));
    free((void *)rs->table.conds);
    free((void *)rs->table.nconds);
    for (size_t i = 0; i < rs->n; i++)
        rule_free(&rs->rules[i]);
    free(rs->rules);
    for (size_t i = 0; i < rs->nfiles; i++)
        free(rs->files[i]);
    free(rs->files);
    for (size_t i = 0; i < rs->nmodels; i++) {
        free(rs->models[i].path);
        free(rs->models[i].name);
        learn_model_free(rs->models[i].model);
    }
    free(rs->models);
    free(rs);
}

/* Append a condition to the current rule; takes ownership of code. */
static int add_cond(struct parser *p, struct rule_cond *c)
{
    struct rule *r = current(p);
    struct rule_cond *nc = realloc(r->conds, (r->nconds + 1) * sizeof *nc);
    if (!nc) {
        pcre2_code_free((pcre2_code *)c->code);
        free((char *)c->pattern);
        free((char *)c->phrases);
        free((char *)c->proclitics);
        return perr(p, "out of memory");
    }
    r->conds = nc;
    r->conds[r->nconds++] = *c;
    return 0;
}

/* Check the rule being filled is complete and stop filling it. */
static int close_rule(struct parser *p)
{
    struct rule *r = current(p);
    if (!r)
        return 0;
    int saved = p->line, positive = 0;
    p->line = r->line;
    p->cur = -1;
    for (size_t i = 0; i < r->nconds; i++)
        positive += !r->conds[i].negate;
    if (!positive)
        return perr(p, "rule %s has no match, words, links or learned line", r->name);
    if (!r->has_score)
        return perr(p, "rule %s has no score", r->name);
    p->line = saved;
    return 0;
}

/* Parse a decimal number (sign and fraction allowed) filling the whole token. */
static int parse_number(const char *s, double *out)
{
    if (!*s || strspn(s, "+-0123456789.") != strlen(s))
        return -1;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* Split "FIELD[:VIEW]" into field and view; the default view is norm (raw
 * for flags, which has no other). */
static int parse_field(struct parser *p, const char *tok, int *field, int *view)
{
    char name[64];
    const char *colon = strchr(tok, ':');
    size_t n = colon ? (size_t)(colon - tok) : strlen(tok);
    if (n >= sizeof name)
        return perr(p, "unknown field '%.*s'", (int)n, tok);
    memcpy(name, tok, n);
    name[n] = '\0';
    size_t i;
    for (i = 0; i < sizeof field_names / sizeof field_names[0]; i++)
        if (strcmp(field_names[i].name, name) == 0)
            break;
    if (i == sizeof field_names / sizeof field_names[0])
        return perr(p, "unknown field '%s' (expected content, author, email, url, ip, "
                    "user_agent, referrer, any or flags)", name);
    *field = field_names[i].field;
    enum norm_view v = *field == RULE_FIELD_FLAGS ? VIEW_RAW : VIEW_NORM;
    if (colon && norm_view_parse(colon + 1, &v) < 0)
        return perr(p, "unknown view '%s' (expected raw, norm, squash, rasm or skel)", colon + 1);
    if (*field == RULE_FIELD_FLAGS && v != VIEW_RAW)
        return perr(p, "the flags field has only the raw view");
    *view = (int)v;
    return 0;
}

/* Next whitespace-separated token of *s into tok (NUL-terminated in place). */
static char *next_token(char **s)
{
    char *t = *s;
    while (*t && isspace((unsigned char)*t))
        t++;
    if (!*t)
        return NULL;
    char *e = t;
    while (*e && !isspace((unsigned char)*e))
        e++;
    if (*e)
        *e++ = '\0';
    *s = e;
    return t;
}

/* Cut a trailing comment: '#' at the start or after white space. */
static void strip_comment(char *s)
{
    for (char *q = s; *q; q++)
        if (*q == '#' && (q == s || isspace((unsigned char)q[-1]))) {
            *q = '\0';
            break;
        }
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
}

/* True when s is "[imsx]*" then optional white space and an optional comment. */
static int is_flags_tail(const char *s)
{
    s += strspn(s, "imsx");
    s += strspn(s, " \t\r");
    return *s == '\0' || *s == '#';
}

/* `match`/`unless` FIELD[:VIEW] /PATTERN/FLAGS */
static int parse_match(struct parser *p, char *rest, int negate)
{
    char *tok = next_token(&rest);
    struct rule_cond c = { .kind = RULE_COND_MATCH, .negate = negate };
    if (!tok)
        return perr(p, "%s needs a field and a /pattern/", negate ? "unless" : "match");
    if (parse_field(p, tok, &c.field, &c.view) < 0)
        return -1;
    while (*rest && isspace((unsigned char)*rest))
        rest++;
    if (*rest != '/')
        return perr(p, "expected /pattern/ after the field");
    /* The pattern ends at the first unescaped '/' that is followed only by
     * flags and an optional comment, so '/' may appear unescaped inside. */
    char *pat = rest + 1, *close = NULL;
    for (char *q = pat; *q; q++) {
        if (*q == '\\' && q[1]) {
            q++;
            continue;
        }
        if (*q == '/' && is_flags_tail(q + 1)) {
            close = q;
            break;
        }
    }
    if (!close)
        return perr(p, "pattern has no closing / (or unknown flags after it; flags are i, m, s, x)");
    uint32_t opts = 0;
    for (char *f = close + 1; *f && strchr("imsx", *f); f++)
        opts |= *f == 'i' ? PCRE2_CASELESS : *f == 'm' ? PCRE2_MULTILINE
              : *f == 's' ? PCRE2_DOTALL : PCRE2_EXTENDED;
    *close = '\0';
    size_t len = (size_t)(close - pat);
    if (len == 0)
        return perr(p, "empty pattern");
    char *folded = fold_pattern(pat, len, (enum norm_view)c.view, (opts & PCRE2_EXTENDED) != 0);
    if (!folded)
        return perr(p, "out of memory");
    pcre2_code *re = NULL;
    int rc = compile(p, folded, strlen(folded), opts, pat, (enum norm_view)c.view, &re);
    if (rc < 0) {
        free(folded);
        return -1;
    }
    c.code = re;
    c.pattern = folded;   /* kept for the Hyperscan databases */
    c.options = opts;
    return add_cond(p, &c);
}

void rules_words_path(const char *dir, const char *name, char *buf, size_t len)
{
    if (name[0] == '/')
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "%s/%s", dir, name);
}

/* One Arabic letter (a string literal) folded for view into out (at most
 * 8 bytes); raw keeps it as typed. 0, or -1 when the fold fails. */
static int fold_letter(const char *letter, enum norm_view view, char out[9])
{
    if (view == VIEW_RAW) {
        snprintf(out, 9, "%s", letter);
        return 0;
    }
    size_t fl;
    char *f = fold(letter, strlen(letter), view, &fl);
    if (!f || fl == 0 || fl > 8) {
        free(f);
        return -1;
    }
    memcpy(out, f, fl + 1);
    free(f);
    return 0;
}

/* The optional proclitic group of a `clitics` list, its letters folded for
 * view (rasm turns ب into ٮ and ف into ڡ): the article ال, the prepositions
 * ب ك ل, and the conjunctions و ف in front of either — ال بال كال لل ب ك ل
 * و ف وال فال وبال فكال ولل فلل وب ول فك … — as
 * "(?:[وف]?(?:[بك]?ال|لل|[بكل])|[وف])?". لل is ل+ال with the alef
 * dropped, as Arabic writes it. */
static int add_proclitics(struct buf *b, enum norm_view view)
{
    static const char *letters[] = { "و", "ف", "ب", "ك", "ل", "ا" };
    char f[6][9];
    for (int i = 0; i < 6; i++)
        if (fold_letter(letters[i], view, f[i]) < 0)
            return -1;
    const char *w = f[0], *fa = f[1], *ba = f[2], *ka = f[3], *la = f[4], *al = f[5];
    char g[256];
    int n = snprintf(g, sizeof g, "(?:[%s%s]?(?:[%s%s]?%s%s|%s%s|[%s%s%s])|[%s%s])?",
                     w, fa, ba, ka, al, la, la, la, ba, ka, la, w, fa);
    if (n < 0 || (size_t)n >= sizeof g)
        return -1;
    buf_add(b, g, (size_t)n);
    return 0;
}

/* The strings the proclitic group of add_proclitics matches, but the empty
 * one, each ending in NUL, the last followed by another NUL: و ف, and
 * [وف]? before ال بال كال لل ب ك ل, folded for view. The prefilter checks a
 * listed phrase's left edge in front of each (prefilter.c). Must match
 * add_proclitics: the unit test of the prefilter compares with PCRE2. NULL
 * when out of memory or a letter does not fold. */
static char *proclitic_list(enum norm_view view)
{
    static const char *letters[] = { "و", "ف", "ب", "ك", "ل", "ا" };
    char f[6][9];
    for (int i = 0; i < 6; i++)
        if (fold_letter(letters[i], view, f[i]) < 0)
            return NULL;
    const char *conj[] = { "", f[0], f[1] };
    char art[7][32];
    snprintf(art[0], sizeof art[0], "%s%s", f[5], f[4]);            /* ال */
    snprintf(art[1], sizeof art[1], "%s%s%s", f[2], f[5], f[4]);    /* بال */
    snprintf(art[2], sizeof art[2], "%s%s%s", f[3], f[5], f[4]);    /* كال */
    snprintf(art[3], sizeof art[3], "%s%s", f[4], f[4]);            /* لل */
    snprintf(art[4], sizeof art[4], "%s", f[2]);
    snprintf(art[5], sizeof art[5], "%s", f[3]);
    snprintf(art[6], sizeof art[6], "%s", f[4]);
    struct buf b = { 0 };
    buf_add(&b, f[0], strlen(f[0]) + 1);
    buf_add(&b, f[1], strlen(f[1]) + 1);
    for (int c = 0; c < 3; c++)
        for (int a = 0; a < 7; a++) {
            buf_add(&b, conj[c], strlen(conj[c]));
            buf_add(&b, art[a], strlen(art[a]) + 1);
        }
    buf_addc(&b, '\0');
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s;
}

/* Build "(?<![\p{L}\p{N}])(?:a|b|…)(?![\p{L}\p{N}])" from a list file, each
 * phrase folded to view; with clitics the proclitic group goes between the
 * left edge and the alternation, so a word still ends where it ended.
 * squash and skel have no word boundaries, so there the alternation stands
 * alone. Returns a malloc'd pattern, or NULL with the error set. */
static char *words_pattern(struct parser *p, const char *name, enum norm_view view, int clitics, char **phrases)
{
    struct buf list = { 0 };     /* the phrases, for *phrases */
    *phrases = NULL;
    char path[4096];
    rules_words_path(p->dir, name, path, sizeof path);
    FILE *f = fopen(path, "r");
    if (!f) {
        perr(p, "cannot read words file %s: %s", name, strerror(errno));
        return NULL;
    }
    int bounded = !(view == VIEW_SQUASH || view == VIEW_SKEL);
    struct buf b = { 0 };
    if (bounded)
        buf_add(&b, "(?<![\\p{L}\\p{N}])", 17);
    if (clitics && add_proclitics(&b, view) < 0)
        b.oom = 1;
    buf_add(&b, "(?:", 3);
    char *line = NULL;
    size_t cap = 0, count = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) >= 0) {
        strip_comment(line);
        char *s = line + strspn(line, " \t\r\n");
        if (!*s)
            continue;
        size_t fl;
        char *folded = view == VIEW_RAW ? strdup(s) : fold(s, strlen(s), view, &fl);
        if (!folded) {
            b.oom = 1;
            break;
        }
        if (*folded) {
            if (count++)
                buf_addc(&b, '|');
            buf_add_literal(&b, folded, strlen(folded), 0);
            buf_add(&list, folded, strlen(folded) + 1);
        }
        free(folded);
    }
    int read_error = ferror(f);
    free(line);
    fclose(f);
    buf_addc(&list, '\0');
    if (list.oom)
        b.oom = 1;
    if (b.oom || read_error || count == 0) {
        free(b.s);
        free(list.s);
        if (read_error)
            perr(p, "cannot read words file %s", name);
        else if (count == 0 && !b.oom)
            perr(p, "words file %s has no phrases", name);
        else
            perr(p, "out of memory");
        return NULL;
    }
    buf_add(&b, bounded ? ")(?![\\p{L}\\p{N}])" : ")", bounded ? 18 : 1);
    if (b.oom) {
        free(b.s);
        free(list.s);
        perr(p, "out of memory");
        return NULL;
    }
    *phrases = list.s;
    return b.s;
}

/* `words` FIELD[:VIEW] FILE [clitics] */
static int parse_words(struct parser *p, char *rest)
{
    strip_comment(rest);
    char *tok = next_token(&rest), *file = next_token(&rest), *opt = next_token(&rest);
    struct rule_cond c = { .kind = RULE_COND_WORDS };
    if (!tok || !file || next_token(&rest))
        return perr(p, "words needs a field, one list file and optionally clitics");
    if (opt && strcmp(opt, "clitics") != 0)
        return perr(p, "unknown words option '%s' (the only one is clitics)", opt);
    if (parse_field(p, tok, &c.field, &c.view) < 0)
        return -1;
    if (opt && (c.view == VIEW_SQUASH || c.view == VIEW_SKEL))
        return perr(p, "clitics needs word edges: the %s view has none (use norm, rasm or raw)",
                    norm_view_name((enum norm_view)c.view));
    char *phrases = NULL;
    char *pat = words_pattern(p, file, (enum norm_view)c.view, opt != NULL, &phrases);
    if (!pat)
        return -1;
    char *proclitics = opt ? proclitic_list((enum norm_view)c.view) : NULL;
    if (opt && !proclitics) {
        free(pat);
        free(phrases);
        return perr(p, "out of memory");
    }
    pcre2_code *re = NULL;
    c.options = c.view == VIEW_RAW ? PCRE2_CASELESS : 0;
    int rc = compile(p, pat, strlen(pat), c.options, NULL, (enum norm_view)c.view, &re);
    if (rc < 0) {
        free(pat);
        free(phrases);
        free(proclitics);
        return -1;
    }
    c.phrases = phrases;
    c.proclitics = proclitics;
    c.code = re;
    c.pattern = pat;      /* kept for the Hyperscan databases */
    return add_cond(p, &c);
}

/* A comparison operator of `links` and `learned`. */
static int parse_op(struct parser *p, const char *op, enum rule_link_op *out)
{
    static const char *ops[] = { ">=", ">", "=", "<", "<=" };
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (strcmp(op, ops[i]) == 0) {
            *out = (enum rule_link_op)i;
            return 0;
        }
    }
    return perr(p, "unknown operator '%s' (expected >=, >, =, < or <=)", op);
}

/* `links` FIELD OP N */
static int parse_links(struct parser *p, char *rest)
{
    strip_comment(rest);
    char *tok = next_token(&rest), *op = next_token(&rest), *num = next_token(&rest);
    struct rule_cond c = { .kind = RULE_COND_LINKS };
    if (!tok || !op || !num || next_token(&rest))
        return perr(p, "links needs a field, an operator and a count (links content >= 3)");
    if (parse_field(p, tok, &c.field, &c.view) < 0)
        return -1;
    if (c.field == RULE_FIELD_FLAGS)
        return perr(p, "links cannot count the flags field");
    if (parse_op(p, op, &c.op) < 0)
        return -1;
    char *end;
    errno = 0;
    long n = strtol(num, &end, 10);
    if (*end || errno || n < 0 || !isdigit((unsigned char)num[0]))
        return perr(p, "bad number '%s' (expected a count, 0 or more)", num);
    c.n = n;
    return add_cond(p, &c);
}

/* The model at name (relative to the rules folder), loaded on first use
 * and kept by the ruleset; NULL after an error message. */
static const struct loaded_model *model_for(struct parser *p, const char *name)
{
    char path[4096], why[4200];
    rules_words_path(p->dir, name, path, sizeof path);
    struct ruleset *rs = p->rs;
    for (size_t i = 0; i < rs->nmodels; i++)
        if (strcmp(rs->models[i].path, path) == 0)
            return &rs->models[i];
    struct loaded_model *nm = realloc(rs->models, (rs->nmodels + 1) * sizeof *nm);
    if (!nm) {
        perr(p, "out of memory");
        return NULL;
    }
    rs->models = nm;
    struct learn_model *m = learn_model_load(path, why, sizeof why);
    if (!m) {
        perr(p, "model %s: %s (build one with: raqib rules train)", name, why);
        return NULL;
    }
    struct loaded_model *lm = &nm[rs->nmodels];
    lm->path = strdup(path);
    lm->name = strdup(name);
    lm->model = m;
    if (!lm->path || !lm->name) {
        free(lm->path);
        free(lm->name);
        learn_model_free(m);
        perr(p, "out of memory");
        return NULL;
    }
    rs->nmodels++;
    return lm;
}

/* `learned` FIELD MODEL OP P [site] */
static int parse_learned(struct parser *p, char *rest)
{
    strip_comment(rest);
    char *tok = next_token(&rest), *file = next_token(&rest), *op = next_token(&rest);
    char *num = next_token(&rest), *site = next_token(&rest);
    struct rule_cond c = { .kind = RULE_COND_LEARNED };
    if (!tok || !file || !op || !num || next_token(&rest))
        return perr(p, "learned needs a field, a model file, an operator and a probability "
                    "(learned content models/spam.model >= 0.99), and may end with site");
    if (site && strcmp(site, "site") != 0)
        return perr(p, "learned ends with its probability, or with the word site (the site's own "
                    "decisions added to the model), not '%s'", site);
    if (parse_field(p, tok, &c.field, &c.view) < 0)
        return -1;
    if (c.field < 0 || c.view != VIEW_NORM)
        return perr(p, "learned reads one text field's norm view (content, author, …), not '%s'", tok);
    if (parse_op(p, op, &c.op) < 0)
        return -1;
    if (parse_number(num, &c.p) < 0 || c.p < 0 || c.p > 1)
        return perr(p, "bad probability '%s' (expected a number from 0 to 1)", num);
    const struct loaded_model *lm = model_for(p, file);
    if (!lm)
        return -1;
    if (site && !learn_model_labels(lm->model, 1))
        return perr(p, "model %s has no labels line, so a site's decisions cannot be counted in it: add a "
                    "line \"labels spam approved,rejected\" (positive and negative decisions) or retrain it "
                    "with raqib rules train", file);
    c.model = lm->model;
    c.model_file = lm->name;
    c.site = site != NULL;
    return add_cond(p, &c);
}

/* Look for an earlier rule called name; its index or -1. */
static long find_rule(const struct ruleset *rs, const char *name, size_t upto)
{
    for (size_t i = 0; i < upto; i++)
        if (strcmp(rs->rules[i].name, name) == 0)
            return (long)i;
    return -1;
}

/* `rule` NAME */
static int parse_rule(struct parser *p, char *rest)
{
    if (close_rule(p) < 0)
        return -1;
    strip_comment(rest);
    char *name = next_token(&rest);
    if (!name || next_token(&rest))
        return perr(p, "rule needs one NAME");
    if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(name))
        return perr(p, "bad rule name '%s' (use A-Z, 0-9 and _)", name);
    struct ruleset *rs = p->rs;
    long dup = find_rule(rs, name, rs->n);
    if (dup >= 0)
        return perr(p, "duplicate rule name %s (first defined at %s:%d)", name,
                    rs->rules[dup].file, rs->rules[dup].line);
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 32;
        struct rule *nr = realloc(rs->rules, cap * sizeof *nr);
        if (!nr)
            return perr(p, "out of memory");
        rs->rules = nr;
        rs->cap = cap;
    }
    struct rule *r = &rs->rules[rs->n];
    memset(r, 0, sizeof *r);
    r->name = strdup(name);
    r->description = strdup("");
    if (!r->name || !r->description) {
        free(r->name);
        free(r->description);
        return perr(p, "out of memory");
    }
    r->file = p->rs->files[p->rs->nfiles - 1];
    r->line = p->line;
    p->cur = (long)rs->n++;
    return 0;
}

/* `threshold spam N` / `threshold approve N` (a later file may override). */
static int parse_threshold(struct parser *p, char *rest)
{
    if (close_rule(p) < 0)
        return -1;
    strip_comment(rest);
    char *which = next_token(&rest), *num = next_token(&rest);
    double v;
    if (!which || !num || next_token(&rest))
        return perr(p, "threshold needs spam or approve and a number");
    if (parse_number(num, &v) < 0)
        return perr(p, "bad number '%s'", num);
    if (strcmp(which, "spam") == 0) {
        p->rs->spam = v;
    } else if (strcmp(which, "approve") == 0) {
        p->rs->approve = v;
        p->rs->has_approve = 1;
        p->rs->approve_file = p->rs->files[p->rs->nfiles - 1];
        p->rs->approve_line = p->line;
    } else {
        return perr(p, "unknown threshold '%s' (expected spam or approve)", which);
    }
    return 0;
}

/* One line of a rule file. */
static int parse_line(struct parser *p, char *line)
{
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    char *rest = line;
    char *key = next_token(&rest);
    if (!key || key[0] == '#')
        return 0;
    if (strcmp(key, "rule") == 0)
        return parse_rule(p, rest);
    if (strcmp(key, "threshold") == 0)
        return parse_threshold(p, rest);
    static const char *keys[] = { "match", "unless", "words", "links", "learned", "score", "describe", "approve" };
    size_t k;
    for (k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (strcmp(key, keys[k]) == 0)
            break;
    if (k == sizeof keys / sizeof keys[0])
        return perr(p, "unknown key '%s' (expected rule, match, unless, words, links, learned, "
                    "score, describe, approve or threshold)", key);
    struct rule *r = current(p);
    if (!r)
        return perr(p, "%s outside a rule (start one with: rule NAME)", key);
    switch (k) {
    case 0: return parse_match(p, rest, 0);
    case 1: return parse_match(p, rest, 1);
    case 2: return parse_words(p, rest);
    case 3: return parse_links(p, rest);
    case 4: return parse_learned(p, rest);
    case 7:
        /* approve: the rule approves the comment without review when no
         * rule with a positive score hit it (engine.h). No arguments. */
        strip_comment(rest);
        if (next_token(&rest))
            return perr(p, "approve takes nothing after it");
        r->approve = 1;
        return 0;
    case 5: {
        strip_comment(rest);
        char *num = next_token(&rest);
        if (r->has_score)
            return perr(p, "rule %s has two scores", r->name);
        if (!num || next_token(&rest) || parse_number(num, &r->score) < 0)
            return perr(p, "bad number '%s' for score", num ? num : "");
        r->has_score = 1;
        return 0;
    }
    default: {
        /* describe: the text runs to the end of the line; " # " starts a comment. */
        char *s = rest + strspn(rest, " \t");
        char *c = strstr(s, " # ");
        if (c)
            *c = '\0';
        size_t l = strlen(s);
        while (l && isspace((unsigned char)s[l - 1]))
            s[--l] = '\0';
        char *d = strdup(s);
        if (!d)
            return perr(p, "out of memory");
        free(r->description);
        r->description = d;
        return 0;
    }
    }
}

/* Parse one rule file; path is opened, display is used in messages. */
static int load_file(struct ruleset *rs, const char *dir, const char *path,
                     const char *display, char *err, size_t errlen)
{
    char **nf = realloc(rs->files, (rs->nfiles + 1) * sizeof *nf);
    if (!nf) {
        snprintf(err, errlen, "%s: out of memory", display);
        return -1;
    }
    rs->files = nf;
    if (!(rs->files[rs->nfiles] = strdup(display))) {
        snprintf(err, errlen, "%s: out of memory", display);
        return -1;
    }
    rs->nfiles++;
    struct parser p = { rs, dir, rs->files[rs->nfiles - 1], 0, -1, err, errlen };
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot read: %s", display, strerror(errno));
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    int rc = 0;
    while (getline(&line, &cap, f) >= 0) {
        p.line++;
        if ((rc = parse_line(&p, line)) < 0)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = perr(&p, "read error");
    if (rc == 0)
        rc = close_rule(&p);
    free(line);
    fclose(f);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.rules name in dir, sorted; returns the count or -1 with err set. */
static long list_rule_files(const char *dir, char ***out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: cannot open: %s", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l <= 6 || strcmp(e->d_name + l - 6, ".rules") != 0 || e->d_name[0] == '.')
            continue;
        char **nn = realloc(names, (n + 1) * sizeof *nn);
        if (!nn || !(nn[n] = strdup(e->d_name))) {
            names = nn ? nn : names;
            for (size_t i = 0; i < n; i++)
                free(names[i]);
            free(names);
            closedir(d);
            snprintf(err, errlen, "%s: out of memory", dir);
            return -1;
        }
        names = nn;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp_names);
    *out = names;
    return (long)n;
}

/* The background build is over: publish the databases (or NULL) and drop
 * the reference the build held. */
static void prefilter_ready(void *arg, struct prefilter *pf)
{
    struct ruleset *rs = arg;
    atomic_store_explicit(&rs->pf, pf, memory_order_release);
    atomic_store_explicit(&rs->pf_done, 1, memory_order_release);
    ruleset_release(rs);
}

/* The table of every rule's conditions the prefilter is built from (it
 * reads conditions, never the ruleset). 0, or -1 when out of memory. */
static int make_table(struct ruleset *rs)
{
    const struct rule_cond **conds = malloc((rs->n ? rs->n : 1) * sizeof *conds);
    size_t *nconds = malloc((rs->n ? rs->n : 1) * sizeof *nconds);
    if (!conds || !nconds) {
        free(conds);
        free(nconds);
        return -1;
    }
    for (size_t i = 0; i < rs->n; i++) {
        conds[i] = rs->rules[i].conds;
        nconds[i] = rs->rules[i].nconds;
    }
    rs->table = (struct rule_table){ rs->n, conds, nconds };
    return 0;
}

/* Record which views of which fields the conditions read (ruleset.views),
 * and which tokens the learned models count (ruleset.learn_kinds).
 * `any` reads every field; the flags pseudo-field needs the fold of content
 * and author with their counts (NORM_WANT_FLAGS); links read the raw bytes. */
static void note_views(struct ruleset *rs)
{
    for (size_t i = 0; i < rs->n; i++) {
        for (size_t k = 0; k < rs->rules[i].nconds; k++) {
            const struct rule_cond *c = &rs->rules[i].conds[k];
            if (c->kind == RULE_COND_LINKS)
                continue;
            if (c->kind == RULE_COND_LEARNED && c->model)
                rs->learn_kinds |= learn_model_get_tokens(c->model);
            if (c->field == RULE_FIELD_FLAGS) {
                rs->views[CF_CONTENT] |= (1u << VIEW_NORM) | NORM_WANT_FLAGS;
                rs->views[CF_AUTHOR] |= (1u << VIEW_NORM) | NORM_WANT_FLAGS;
            } else if (c->field == RULE_FIELD_ANY) {
                for (int f = 0; f < CF_COUNT; f++)
                    rs->views[f] |= 1u << c->view;
            } else if (c->field >= 0 && c->field < CF_COUNT) {
                rs->views[c->field] |= 1u << c->view;
            }
        }
    }
}

unsigned ruleset_field_views(const struct ruleset *rs, int field)
{
    return field >= 0 && field < CF_COUNT ? rs->views[field] : 0;
}

unsigned ruleset_learn_kinds(const struct ruleset *rs)
{
    return rs->learn_kinds;
}

struct ruleset *ruleset_load(const char *path, char *err, size_t errlen)
{
    struct ruleset *rs = calloc(1, sizeof *rs);
    char **names = NULL;
    long count = 0;
    char dir[4096], file[4096];
    if (!rs) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    atomic_init(&rs->refs, 1);
    rs->spam = SPAM_THRESHOLD_DEFAULT;
    DIR *d = opendir(path);
    if (d) {
        closedir(d);
        snprintf(dir, sizeof dir, "%s", path);
        if ((count = list_rule_files(path, &names, err, errlen)) < 0)
            goto fail;
        if (count == 0) {
            snprintf(err, errlen, "%s: no *.rules files in this folder", path);
            goto fail;
        }
        for (long i = 0; i < count; i++) {
            snprintf(file, sizeof file, "%s/%s", path, names[i]);
            if (load_file(rs, dir, file, names[i], err, errlen) < 0)
                goto fail;
        }
    } else {
        const char *slash = strrchr(path, '/');
        if (slash)
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
        else
            snprintf(dir, sizeof dir, ".");
        if (slash && slash == path)
            snprintf(dir, sizeof dir, "/");
        if (load_file(rs, dir, path, slash ? slash + 1 : path, err, errlen) < 0)
            goto fail;
    }
    if (rs->has_approve && rs->approve >= rs->spam) {
        snprintf(err, errlen, "%s:%d: approve threshold %g must be below the spam threshold %g",
                 rs->approve_file, rs->approve_line, rs->approve, rs->spam);
        goto fail;
    }
    note_views(rs);
    if (make_table(rs) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (prefilter_build_async(&rs->table, prefilter_ready, ruleset_retain(rs)) < 0) {
        ruleset_release(rs);  /* no thread: PCRE2 alone, as without Hyperscan */
        atomic_store(&rs->pf_done, 1);
    }
    for (long i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return rs;
fail:
    for (long i = 0; i < count; i++)
        free(names[i]);
    free(names);
    ruleset_free(rs);
    return NULL;
}

struct ruleset *ruleset_retain(struct ruleset *rs)
{
    if (rs)
        atomic_fetch_add_explicit(&rs->refs, 1, memory_order_relaxed);
    return rs;
}

void ruleset_release(struct ruleset *rs)
{
    if (rs && atomic_fetch_sub_explicit(&rs->refs, 1, memory_order_acq_rel) == 1)
        ruleset_free(rs);
}

const struct prefilter *ruleset_prefilter(const struct ruleset *rs)
{
    return atomic_load_explicit(&((struct ruleset *)rs)->pf, memory_order_acquire);
}

int ruleset_prefilter_wait(const struct ruleset *rs, double seconds)
{
    struct ruleset *w = (struct ruleset *)rs;
    for (double waited = 0; !atomic_load_explicit(&w->pf_done, memory_order_acquire); waited += 0.005) {
        if (waited >= seconds)
            return -1;
        nanosleep(&(struct timespec){ 0, 5000000 }, NULL);
    }
    return 0;
}

size_t ruleset_size(const struct ruleset *rs)
{
    return rs->n;
}

void ruleset_rule_info(const struct ruleset *rs, size_t i, struct rule_info *out)
{
    static const char *kinds[] = { "match", "words", "links", "learned" };
    const struct rule *r = &rs->rules[i];
    size_t c = 0;
    while (c + 1 < r->nconds && r->conds[c].negate)
        c++;  /* describe the rule by its first positive condition */
    out->name = r->name;
    out->description = r->description;
    out->file = r->file;
    out->line = r->line;
    out->score = r->score;
    out->approve = r->approve;
    out->kind = kinds[r->conds[c].kind];
    out->field = rule_field_name(r->conds[c].field);
    out->view = norm_view_name((enum norm_view)r->conds[c].view);
    out->model = r->conds[c].model;
    out->model_file = r->conds[c].model_file;
}

size_t ruleset_rule_conds(const struct ruleset *rs, size_t i, const struct rule_cond **out)
{
    *out = rs->rules[i].conds;
    return rs->rules[i].nconds;
}

long ruleset_find(const struct ruleset *rs, const char *name)
{
    return find_rule(rs, name, rs->n);
}

double ruleset_spam_threshold(const struct ruleset *rs)
{
    return rs->spam;
}

int ruleset_approve_threshold(const struct ruleset *rs, double *out)
{
    if (!rs->has_approve)
        return 0;
    if (out)
        *out = rs->approve;
    return 1;
}

size_t ruleset_live_models(const struct ruleset *rs, struct live_model_ref *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < rs->n; i++) {
        const struct rule_cond *c;
        size_t k = ruleset_rule_conds(rs, i, &c);
        for (size_t j = 0; j < k; j++) {
            if (c[j].kind != RULE_COND_LEARNED || !c[j].site)
                continue;
            size_t seen = 0;
            while (seen < n && out[seen].model != c[j].model)
                seen++;
            if (seen == n && n < cap)
                out[n++] = (struct live_model_ref){ c[j].model_file, c[j].model };
        }
    }
    return n;
}
