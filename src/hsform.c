/* hsform.c — the Hyperscan form of a PCRE2 rule pattern (hsform.h).
 *
 * The pattern is parsed into a small tree (alternations, sequences, groups,
 * lookarounds, assertions, atoms), then printed back with the rewrites of
 * hsform.h. The one rule that keeps the result a superset: an assertion
 * becomes a consumed character only at the very start (or end) of the
 * match, where the character it looks at lies outside the match, and then
 * at most one per branch end; every other assertion is dropped. Pure
 * module. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "raqib/hsform.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

enum kind { K_ALT, K_SEQ, K_GROUP, K_LOOK, K_WORDB, K_NWORDB, K_ANCHOR, K_SKIP, K_ATOM };
/* What the first (or last) character a node consumes surely is: a word
 * character (\p{L}, \p{N}, _), surely not one (not L, N, M or Pc), or unknown. */
enum cls { C_UNKNOWN = 0, C_WORD, C_NONWORD };

struct node {
    enum kind kind;
    const char *s;          /* ATOM, ANCHOR: its text; GROUP: the opener printed */
    size_t n;
    int behind, neg;        /* LOOK */
    const char *q;          /* the quantifier as written (possessive + left out), or NULL */
    size_t qn;
    int optional, repeats;  /* the quantifier allows 0, or more than 1 */
    enum cls cls;           /* ATOM */
    int child, next;        /* first child, next sibling: indexes into the pool, -1 none */
};

struct parser {
    const char *p, *end;
    struct node *pool;
    size_t npool, cap;
    int depth, bad;
};

struct out {
    char *s;
    size_t n, cap;
    int oom;
};

#define MAX_DEPTH 100
/* Classes printed for Hyperscan. Unicode properties such as \P{L} make its
 * compile tens of times slower (thousands of ranges in UTF-8), so the
 * classes here are cheap supersets: "not a letter" excludes only the ASCII
 * and Arabic letters, which surely are letters; "maybe a word character"
 * excludes only ASCII punctuation and controls. hsform_sets_are_sure (a
 * test) checks the sets against Unicode. */
#define L_SET "a-zA-Z\\x{621}-\\x{64a}"                   /* surely \p{L} */
#define N_SET "0-9\\x{660}-\\x{669}\\x{6f0}-\\x{6f9}"      /* surely \p{Nd} */
#define WORD_CLASS    "[^\\x{0}-\\x{2f}\\x{3a}-\\x{40}\\x{5b}-\\x{5e}\\x{60}\\x{7b}-\\x{7f}]"
#define NONWORD_CLASS "[^" L_SET N_SET "_]"

static int new_node(struct parser *P, enum kind k)
{
    if (P->npool == P->cap) {
        P->bad = 1;
        return -1;
    }
    P->pool[P->npool] = (struct node){ .kind = k, .child = -1, .next = -1 };
    return (int)P->npool++;
}

static void append(struct parser *P, int parent, int *last, int kid)
{
    if (*last < 0)
        P->pool[parent].child = kid;
    else
        P->pool[*last].next = kid;
    *last = kid;
}

/* A code point: surely a word character, surely not, or unknown. */
static enum cls cp_class(utf8proc_int32_t cp)
{
    if (cp == '_')
        return C_WORD;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return C_WORD;
    case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_PC:
        return C_UNKNOWN;
    default:
        return C_NONWORD;
    }
}

/* Read one UTF-8 character at P->p; -1 when invalid. */
static utf8proc_int32_t read_cp(struct parser *P)
{
    utf8proc_int32_t cp = -1;
    utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)P->p, P->end - P->p, &cp);
    if (k < 1) {
        P->bad = 1;
        return -1;
    }
    P->p += k;
    return cp;
}

/* Skip a {…} after \p, \x and the like; 0, or -1 when unclosed. */
static int skip_braces(struct parser *P)
{
    if (P->p < P->end && *P->p == '{') {
        const char *close = memchr(P->p, '}', (size_t)(P->end - P->p));
        if (!close)
            return -1;
        P->p = close + 1;
    }
    return 0;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* The class of \p{NAME} or \pX written at s (n bytes, after the \p). */
static enum cls prop_class(const char *s, size_t n)
{
    static const char *const word[] = { "L", "Lu", "Ll", "Lt", "Lm", "Lo", "L&", "N", "Nd", "Nl", "No" };
    if (n && s[0] == '{')
        s++, n -= n >= 2 ? 2 : 1;
    for (size_t i = 0; i < sizeof word / sizeof word[0]; i++)
        if (strlen(word[i]) == n && memcmp(word[i], s, n) == 0)
            return C_WORD;
    return C_UNKNOWN;
}

/* One escape after the backslash (P->p past it). Sets *kind (ATOM or an
 * assertion) and *cls; -1 on what this module leaves alone. */
static int parse_escape(struct parser *P, enum kind *kind, enum cls *cls)
{
    if (P->p >= P->end)
        return -1;
    unsigned char e = (unsigned char)*P->p;
    *kind = K_ATOM;
    *cls = C_UNKNOWN;
    if (e >= 0x80) {
        utf8proc_int32_t cp = read_cp(P);
        *cls = cp < 0 ? C_UNKNOWN : cp_class(cp);
        return cp < 0 ? -1 : 0;
    }
    P->p++;
    switch (e) {
    case 'b': *kind = K_WORDB; return 0;
    case 'B': *kind = K_NWORDB; return 0;
    case 'A': case 'z': case 'Z': *kind = K_ANCHOR; return 0;
    case 'K': *kind = K_SKIP; return 0;
    case 'd': case 'w': *cls = C_WORD; return 0;
    case 's': case 'h': case 'v': case 'R': case 't': case 'n': case 'r': case 'f': case 'e': case 'a':
        *cls = C_NONWORD;
        return 0;
    case 'D': case 'W': case 'S': case 'H': case 'V': case 'N': return 0;
    case 'p': case 'P': {
        const char *s = P->p;
        if (P->p < P->end && *P->p == '{') {
            if (skip_braces(P) < 0)
                return -1;
        } else if (P->p < P->end) {
            P->p++;
        } else {
            return -1;
        }
        *cls = e == 'p' ? prop_class(s, (size_t)(P->p - s)) : C_UNKNOWN;
        return 0;
    }
    case 'x': {
        char hex[9] = { 0 };
        size_t k = 0;
        if (P->p < P->end && *P->p == '{') {
            const char *s = P->p + 1;
            if (skip_braces(P) < 0)
                return -1;
            for (; s < P->p - 1 && k < 8; s++)
                hex[k++] = *s;
        } else {
            while (k < 2 && P->p < P->end && is_hex(*P->p))
                hex[k++] = *P->p++;
        }
        for (size_t i = 0; i < k; i++)
            if (!is_hex(hex[i]))
                return -1;
        *cls = k ? cp_class((utf8proc_int32_t)strtol(hex, NULL, 16)) : C_UNKNOWN;
        return 0;
    }
    default:
        /* letters and digits not listed are back-references, \Q, \c, \g,
         * \k, \o, \G, … : left alone */
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9'))
            return -1;
        *cls = cp_class(e);
        return 0;
    }
}

/* Fold the class of one more member of a character class into *acc (the
 * first member sets it). */
static void class_member(enum cls *acc, int *first, enum cls c)
{
    if (*first)
        *acc = c, *first = 0;
    else if (*acc != c)
        *acc = C_UNKNOWN;
}

/* A character class, P->p past its '['. *cls: WORD or NONWORD when every
 * member surely is (a negated class is UNKNOWN). -1 when unclosed or odd. */
static int parse_class(struct parser *P, enum cls *cls)
{
    int neg = P->p < P->end && *P->p == '^', first = 1;
    enum cls acc = C_UNKNOWN;
    utf8proc_int32_t prev = -1;
    if (neg)
        P->p++;
    if (P->p < P->end && *P->p == ']') {   /* a ']' first is a member */
        P->p++;
        class_member(&acc, &first, C_NONWORD);
    }
    for (;;) {
        if (P->p >= P->end)
            return -1;
        char c = *P->p;
        if (c == ']') {
            P->p++;
            break;
        }
        if (c == '[' && P->p + 1 < P->end && P->p[1] == ':') {   /* [:alpha:] */
            const char *close = strstr(P->p, ":]");
            if (!close || close >= P->end)
                return -1;
            P->p = close + 2;
            class_member(&acc, &first, C_UNKNOWN);
            if (P->p + 1 < P->end && P->p[0] == '-' && P->p[1] != ']')
                return -1;
            prev = -1;
            continue;
        }
        if (c == '-' && prev >= 0 && P->p + 1 < P->end && P->p[1] != ']') {   /* a range */
            P->p++;
            if (*P->p == '\\')
                return -1;
            utf8proc_int32_t hi = read_cp(P);
            if (hi < prev || hi - prev > 0x3000)
                return -1;
            for (utf8proc_int32_t cp = prev; cp <= hi; cp++)
                class_member(&acc, &first, cp_class(cp));
            prev = -1;
            continue;
        }
        if (c == '\\') {
            enum kind k;
            enum cls ec;
            const char *at = ++P->p;
            if (P->p < P->end && *P->p == 'b') {   /* \b in a class is a backspace */
                P->p++;
                class_member(&acc, &first, C_NONWORD);
                if (P->p + 1 < P->end && P->p[0] == '-' && P->p[1] != ']')
                    return -1;
                prev = -1;
                continue;
            }
            if (parse_escape(P, &k, &ec) < 0 || k != K_ATOM)
                return -1;
            class_member(&acc, &first, ec);
            /* a single escaped punctuation character may start a range;
             * after any other escape a '-' range is not read: leave it */
            prev = (P->p - at == 1 && !((*at | 0x20) >= 'a' && (*at | 0x20) <= 'z')) ? (unsigned char)*at : -1;
            if (prev < 0 && P->p + 1 < P->end && P->p[0] == '-' && P->p[1] != ']')
                return -1;
            continue;
        }
        prev = read_cp(P);
        if (prev < 0)
            return -1;
        class_member(&acc, &first, cp_class(prev));
    }
    *cls = neg || first ? C_UNKNOWN : acc;
    return 0;
}

/* A quantifier after node k, if any. */
static int parse_quant(struct parser *P, int k)
{
    struct node *x = &P->pool[k];
    const char *s = P->p;
    if (P->p >= P->end)
        return 0;
    char c = *P->p;
    if (c == '*' || c == '+' || c == '?') {
        P->p++;
        x->optional = c != '+';
        x->repeats = c != '?';
    } else if (c == '{') {
        const char *q = P->p + 1;
        unsigned long lo = 0, hi = 0;
        int digits = 0, comma = 0, hidigits = 0;
        while (q < P->end && *q >= '0' && *q <= '9')
            lo = lo * 10 + (unsigned long)(*q++ - '0'), digits++;
        if (q < P->end && *q == ',') {
            comma = 1, q++;
            while (q < P->end && *q >= '0' && *q <= '9')
                hi = hi * 10 + (unsigned long)(*q++ - '0'), hidigits++;
        }
        if (!digits || q >= P->end || *q != '}')
            return 0;   /* not a quantifier: a literal '{', read as an atom next */
        P->p = q + 1;
        x->optional = lo == 0;
        x->repeats = comma ? (!hidigits || hi > 1) : lo > 1;
    } else {
        return 0;
    }
    x->q = s;
    x->qn = (size_t)(P->p - s);
    if (P->p < P->end && *P->p == '?') {   /* lazy: kept */
        P->p++;
        x->qn++;
    } else if (P->p < P->end && *P->p == '+') {   /* possessive: dropped */
        P->p++;
    }
    if (x->kind != K_ATOM && x->kind != K_GROUP)
        P->bad = 1;   /* a quantified assertion */
    return 0;
}

static int parse_alt(struct parser *P);

/* A group, P->p at its '('. */
static int parse_group(struct parser *P)
{
    const char *s = P->p;
    int k;
    P->p++;
    if (P->p < P->end && *P->p == '*') {   /* (*VERB) */
        P->bad = 1;
        return -1;
    }
    if (P->p + 1 < P->end && P->p[0] == '?' && P->p[1] == '#') {   /* a comment */
        const char *close = memchr(P->p, ')', (size_t)(P->end - P->p));
        if (!close)
            return P->bad = 1, -1;
        P->p = close + 1;
        return new_node(P, K_SKIP);
    }
    int look = 0, behind = 0, neg = 0;
    const char *opener = "(?:";
    size_t openn = 3;
    if (P->p < P->end && *P->p == '?') {
        const char *q = P->p + 1;
        if (q < P->end && (*q == '=' || *q == '!')) {
            look = 1, neg = *q == '!', P->p = q + 1;
        } else if (q + 1 < P->end && *q == '<' && (q[1] == '=' || q[1] == '!')) {
            look = 1, behind = 1, neg = q[1] == '!', P->p = q + 2;
        } else if (q < P->end && (*q == ':' || *q == '>' || *q == '|')) {
            P->p = q + 1;
        } else if (q < P->end && (*q == '<' || *q == '\'' || *q == 'P')) {   /* a named group */
            char close = *q == '\'' ? '\'' : '>';
            const char *e = memchr(q, close, (size_t)(P->end - q));
            if (!e || (*q == 'P' && (q + 1 >= P->end || q[1] != '<')))
                return P->bad = 1, -1;
            P->p = e + 1;
        } else {   /* flags: (?i) (?-i) (?i: …) with i, m, s only */
            while (q < P->end && (*q == 'i' || *q == 'm' || *q == 's' || *q == '-'))
                q++;
            if (q >= P->end || (*q != ')' && *q != ':'))
                return P->bad = 1, -1;
            if (*q == ')') {
                k = new_node(P, K_ANCHOR);
                if (k >= 0)
                    P->pool[k].s = s, P->pool[k].n = (size_t)(q + 1 - s);
                P->p = q + 1;
                return k;
            }
            opener = s, openn = (size_t)(q + 1 - s);
            P->p = q + 1;
        }
    }
    k = new_node(P, look ? K_LOOK : K_GROUP);
    if (k < 0)
        return -1;
    P->pool[k].s = opener;
    P->pool[k].n = openn;
    P->pool[k].behind = behind;
    P->pool[k].neg = neg;
    int inner = parse_alt(P);
    if (inner < 0 || P->p >= P->end || *P->p != ')')
        return P->bad = 1, -1;
    P->p++;
    P->pool[k].child = inner;
    return k;
}

/* One item of a sequence with its quantifier. */
static int parse_item(struct parser *P)
{
    const char *s = P->p;
    char c = *P->p;
    int k;
    if (c == '(') {
        k = parse_group(P);
    } else if (c == '^' || c == '$') {
        P->p++;
        k = new_node(P, K_ANCHOR);
    } else if (c == '[') {
        enum cls cls;
        P->p++;
        if (parse_class(P, &cls) < 0)
            return P->bad = 1, -1;
        if ((k = new_node(P, K_ATOM)) >= 0)
            P->pool[k].cls = cls;
    } else if (c == '\\') {
        enum kind kind;
        enum cls cls;
        P->p++;
        if (parse_escape(P, &kind, &cls) < 0)
            return P->bad = 1, -1;
        if ((k = new_node(P, kind)) >= 0)
            P->pool[k].cls = cls;
    } else if (c == '.') {
        P->p++;
        k = new_node(P, K_ATOM);
    } else if (c == '*' || c == '+' || c == '?') {
        return P->bad = 1, -1;
    } else {
        utf8proc_int32_t cp = read_cp(P);
        if (cp < 0)
            return -1;
        if ((k = new_node(P, K_ATOM)) >= 0)
            P->pool[k].cls = cp_class(cp);
    }
    if (k < 0)
        return -1;
    if (P->pool[k].kind != K_GROUP && P->pool[k].kind != K_LOOK) {
        P->pool[k].s = s;
        P->pool[k].n = (size_t)(P->p - s);
    }
    parse_quant(P, k);
    return P->bad ? -1 : k;
}

static int parse_seq(struct parser *P)
{
    int seq = new_node(P, K_SEQ), last = -1;
    if (seq < 0)
        return -1;
    while (P->p < P->end && *P->p != '|' && *P->p != ')') {
        int k = parse_item(P);
        if (k < 0)
            return -1;
        append(P, seq, &last, k);
    }
    return seq;
}

static int parse_alt(struct parser *P)
{
    if (++P->depth > MAX_DEPTH)
        return P->bad = 1, -1;
    int alt = new_node(P, K_ALT), last = -1;
    if (alt < 0)
        return -1;
    for (;;) {
        int seq = parse_seq(P);
        if (seq < 0)
            return -1;
        append(P, alt, &last, seq);
        if (P->p < P->end && *P->p == '|')
            P->p++;
        else
            break;
    }
    P->depth--;
    return alt;
}

/* ---- what a node surely starts and ends with ------------------------------ */

static int zero_width(const struct node *x)
{
    return x->kind == K_LOOK || x->kind == K_WORDB || x->kind == K_NWORDB || x->kind == K_ANCHOR ||
           x->kind == K_SKIP;
}

static enum cls edge_class(const struct parser *P, int k, int last);

/* The class of the first (last) character the items from k on consume
 * (last: the items up to k, k being the last one of the list given). */
static enum cls seq_edge(const struct parser *P, int k, int last)
{
    int pick = -1;
    for (; k >= 0; k = P->pool[k].next)
        if (!zero_width(&P->pool[k])) {
            pick = k;
            if (!last)
                break;
        }
    if (pick < 0 || P->pool[pick].optional)
        return C_UNKNOWN;
    return edge_class(P, pick, last);
}

static enum cls edge_class(const struct parser *P, int k, int last)
{
    const struct node *x = &P->pool[k];
    switch (x->kind) {
    case K_ATOM:
        return x->cls;
    case K_GROUP:
        return edge_class(P, x->child, last);
    case K_SEQ:
        return seq_edge(P, x->child, last);
    case K_ALT: {
        enum cls c = C_UNKNOWN;
        for (int b = x->child; b >= 0; b = P->pool[b].next) {
            enum cls bc = edge_class(P, b, last);
            if (bc == C_UNKNOWN || (b != x->child && bc != c))
                return C_UNKNOWN;
            c = bc;
        }
        return c;
    }
    default:
        return C_UNKNOWN;
    }
}

/* ---- printing ------------------------------------------------------------- */

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->n + n + 1 > o->cap) {
        size_t cap = (o->n + n + 1) * 2;
        char *ns = realloc(o->s, cap);
        if (!ns) {
            o->oom = 1;
            return;
        }
        o->s = ns, o->cap = cap;
    }
    memcpy(o->s + o->n, s, n);
    o->n += n;
    o->s[o->n] = '\0';
}

static void puts_(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* Put characters that surely belong to the class escape or literal at
 * s[0..n) into o, as members of a class: 1, or 0 when it is not one this
 * module knows (\s, \P{…}, a negated class, …). */
static int sure_members(struct out *o, const char *s, size_t n)
{
    static const struct { const char *esc, *set; } known[] = {
        { "\\p{L}", L_SET }, { "\\pL", L_SET }, { "\\p{N}", N_SET }, { "\\pN", N_SET },
        { "\\p{Nd}", N_SET }, { "\\d", N_SET }, { "\\w", L_SET N_SET "_" },
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strlen(known[i].esc) == n && memcmp(known[i].esc, s, n) == 0) {
            puts_(o, known[i].set);
            return 1;
        }
    const char *c = s;
    if (s[0] == '\\') {   /* an escaped punctuation character */
        c = s + 1;
        if (n != 2 || ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z') || (*c >= '0' && *c <= '9'))
            return 0;
    }
    utf8proc_int32_t cp = -1;
    if (utf8proc_iterate((const utf8proc_uint8_t *)c, (utf8proc_ssize_t)(s + n - c), &cp) !=
            (utf8proc_ssize_t)(s + n - c) || cp < 0)
        return 0;
    char buf[24];
    snprintf(buf, sizeof buf, "\\x{%x}", (unsigned)cp);
    puts_(o, buf);
    return 1;
}

/* The members of the class body s[0..n) (between [ and ]) that surely
 * belong to it, as sure_members; 0 for a negated class or an unknown member. */
static int class_sure_members(struct out *o, const char *s, size_t n)
{
    const char *end = s + n;
    if (n == 0 || s[0] == '^' || s[0] == ']')
        return 0;
    while (s < end) {
        const char *m = s;
        if (*s == '\\') {
            s++;
            if (s < end && (*s == 'p' || *s == 'P') && s + 1 < end && s[1] == '{') {
                const char *close = memchr(s, '}', (size_t)(end - s));
                if (!close)
                    return 0;
                s = close + 1;
            } else if (s < end && (*s == 'p' || *s == 'P')) {
                s += 2;
            } else {
                s++;
            }
        } else {
            s += utf8proc_utf8class[(unsigned char)*s] > 0 ? (size_t)utf8proc_utf8class[(unsigned char)*s] : 1;
        }
        if (s > end)
            return 0;
        if (s < end && *s == '-' && s + 1 < end) {   /* a range: of plain characters only */
            const char *hi = s + 1;
            size_t hn = utf8proc_utf8class[(unsigned char)*hi] > 0 ? (size_t)utf8proc_utf8class[(unsigned char)*hi] : 1;
            if (*m == '\\' || *hi == '\\' || *hi == '[' || hi + hn > end)
                return 0;
            if (!sure_members(o, m, (size_t)(s - m)))
                return 0;
            put(o, "-", 1);
            if (!sure_members(o, hi, hn))
                return 0;
            s = hi + hn;
            continue;
        }
        if (*m == '[' || !sure_members(o, m, (size_t)(s - m)))
            return 0;
    }
    return 1;
}

/* The one character a lookaround looks at, negated when neg: into o, 1;
 * 0 when the lookaround is not one plain character or class. */
static int put_char_of(struct out *o, const struct parser *P, const struct node *look, int neg)
{
    const struct node *alt = &P->pool[look->child];
    if (alt->child < 0 || P->pool[alt->child].next >= 0)
        return 0;
    const struct node *seq = &P->pool[alt->child];
    if (seq->child < 0 || P->pool[seq->child].next >= 0)
        return 0;
    const struct node *a = &P->pool[seq->child];
    if (a->kind != K_ATOM || a->q || a->n == 0 || (a->n == 1 && a->s[0] == '.'))
        return 0;
    if (!neg) {
        put(o, a->s, a->n);
        return 1;
    }
    /* every character but some that surely are the lookaround's */
    struct out body = { 0 };
    int ok = a->s[0] == '[' ? class_sure_members(&body, a->s + 1, a->n - 2) : sure_members(&body, a->s, a->n);
    if (ok && body.n && !body.oom)
        puts_(o, "[^"), put(o, body.s, body.n), puts_(o, "]");
    free(body.s);
    return ok && body.n && !body.oom;
}

/* An assertion at the start (at_end 0) or end of a match, as the character
 * it looks at, consumed; next_cls is what the match surely starts (ends)
 * with. 1 when printed, 0 when it cannot be. */
static int put_edge(struct out *o, const struct parser *P, const struct node *x, int at_end, enum cls next_cls)
{
    struct out t = { 0 };
    int ok = 0;
    if (x->kind == K_LOOK && x->behind != at_end) {
        ok = put_char_of(&t, P, x, x->neg);
        if (ok && x->neg)
            at_end ? (puts_(o, "(?:"), put(o, t.s, t.n), puts_(o, "|$)"))
                   : (puts_(o, "(?:^|"), put(o, t.s, t.n), puts_(o, ")"));
        else if (ok)
            puts_(o, "(?:"), put(o, t.s, t.n), puts_(o, ")");
    } else if (x->kind == K_WORDB && next_cls == C_WORD) {
        puts_(o, at_end ? "(?:" NONWORD_CLASS "|$)" : "(?:^|" NONWORD_CLASS ")");
        ok = 1;
    } else if (x->kind == K_WORDB && next_cls == C_NONWORD) {
        puts_(o, WORD_CLASS);
        ok = 1;
    }
    free(t.s);
    return ok;
}

static void print_node(struct out *o, const struct parser *P, int k, int lead, int trail);

/* A sequence: of the assertions before its first consumed character (at
 * the start of the match), the last that can be is printed as a
 * character, the others dropped; the same at its end. */
static void print_seq(struct out *o, const struct parser *P, int first, int lead, int trail)
{
    size_t n = 0;
    for (int k = first; k >= 0; k = P->pool[k].next)
        n++;
    int *items = malloc((n ? n : 1) * sizeof *items);
    if (!items) {
        o->oom = 1;
        return;
    }
    n = 0;
    for (int k = first; k >= 0; k = P->pool[k].next)
        items[n++] = k;
    size_t a = 0, b = n;   /* [a, b): from the first to the last consuming item */
    while (a < n && zero_width(&P->pool[items[a]]))
        a++;
    while (b > a && zero_width(&P->pool[items[b - 1]]))
        b--;
    /* what the match surely starts and ends with, and which assertion
     * (if any) becomes a character there */
    enum cls start = a < n ? seq_edge(P, items[a], 0) : C_UNKNOWN;
    enum cls end = b > a && !P->pool[items[b - 1]].optional ? edge_class(P, items[b - 1], 1) : C_UNKNOWN;
    long lead_done = -1, trail_done = -1;
    for (size_t i = a; lead && a < n && i-- > 0 && lead_done < 0;) {
        struct out t = { 0 };
        if (put_edge(&t, P, &P->pool[items[i]], 0, start))
            lead_done = (long)i;
        free(t.s);
    }
    for (size_t i = b; trail && b > a && i < n && trail_done < 0; i++) {
        struct out t = { 0 };
        if (put_edge(&t, P, &P->pool[items[i]], 1, end))
            trail_done = (long)i;
        free(t.s);
    }
    for (size_t i = 0; i < n; i++) {
        const struct node *x = &P->pool[items[i]];
        if (zero_width(x)) {
            if ((long)i == lead_done)
                put_edge(o, P, x, 0, start);
            else if ((long)i == trail_done)
                put_edge(o, P, x, 1, end);
            else if (x->kind == K_ANCHOR)
                put(o, x->s, x->n);
            continue;
        }
        /* a consuming item is at the match's start when nothing consumed
         * comes before it and no assertion became a character */
        int l = lead && i == a && lead_done < 0, t = trail && i + 1 == b && trail_done < 0;
        print_node(o, P, items[i], l, t);
    }
    free(items);
}

static void print_node(struct out *o, const struct parser *P, int k, int lead, int trail)
{
    const struct node *x = &P->pool[k];
    switch (x->kind) {
    case K_ALT:
        for (int b = x->child; b >= 0; b = P->pool[b].next) {
            if (b != x->child)
                put(o, "|", 1);
            print_node(o, P, b, lead, trail);
        }
        return;
    case K_SEQ:
        print_seq(o, P, x->child, lead, trail);
        return;
    case K_GROUP:
        put(o, x->s, x->n);
        /* a repeated group's later rounds are not at the match's edge */
        print_node(o, P, x->child, lead && !x->repeats, trail && !x->repeats);
        put(o, ")", 1);
        break;
    case K_ATOM:
        put(o, x->s, x->n);
        break;
    default:
        return;
    }
    if (x->q)
        put(o, x->q, x->qn);
}

char *hsform_superset(const char *pattern, unsigned options)
{
    size_t len = strlen(pattern);
    if (options & PCRE2_EXTENDED)
        return NULL;
    struct parser P = { .p = pattern, .end = pattern + len, .cap = 3 * len + 8 };
    if (!(P.pool = malloc(P.cap * sizeof *P.pool)))
        return NULL;
    int root = parse_alt(&P);
    struct out o = { 0 };
    if (root >= 0 && !P.bad && P.p == P.end) {
        print_node(&o, &P, root, 1, 1);
        if (!o.oom && o.s && strcmp(o.s, pattern) == 0)
            o.oom = 1;   /* nothing changed */
    } else {
        o.oom = 1;
    }
    free(P.pool);
    if (o.oom) {
        free(o.s);
        return NULL;
    }
    return o.s;
}
