/* hsform.c — the Hyperscan form of a PCRE2 rule pattern (hsform.h).
 *
 * The pattern is parsed into a small tree (alternations, sequences, groups,
 * lookarounds, assertions, atoms), then printed back with the rewrites of
 * hsform.h. The one rule that keeps the result a superset: an assertion
 * becomes a consumed character only at the very start (or end) of the
 * match, where the character it looks at lies outside the match, and then
 * at most one per branch end; every other assertion is dropped. The same
 * tree gives hsform_factors the literals every match contains (the last
 * part of this file). Pure module. */
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

/* The one unquantified atom a lookaround holds (one branch of one item),
 * or NULL. */
static const struct node *lone_atom(const struct parser *P, const struct node *look)
{
    if (look->child < 0)
        return NULL;
    const struct node *alt = &P->pool[look->child];
    if (alt->child < 0 || P->pool[alt->child].next >= 0)
        return NULL;
    const struct node *seq = &P->pool[alt->child];
    if (seq->child < 0 || P->pool[seq->child].next >= 0)
        return NULL;
    const struct node *a = &P->pool[seq->child];
    return a->kind == K_ATOM && !a->q ? a : NULL;
}

/* The one character a lookaround looks at, negated when neg: into o, 1;
 * 0 when the lookaround is not one plain character or class. */
static int put_char_of(struct out *o, const struct parser *P, const struct node *look, int neg)
{
    const struct node *a = lone_atom(P, look);
    if (!a || a->n == 0 || (a->n == 1 && a->s[0] == '.'))
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

/* ---- required literals ------------------------------------------------------
 *
 * hsform_factors: groups of literals such that every match of the pattern
 * contains a literal of each group, each literal with the word edges the
 * pattern's lookarounds (and \b) put around it. Computed on the tree: a
 * node's "exact" set lists every string it can match when that language is
 * finite and small (edge assertions kept as mark bytes, other assertions as
 * the empty string); a sequence multiplies its items' exact sets into runs,
 * broken by any item that has none (a class, a repeat), where the run so far
 * followed by how that item starts is required and the next run begins with
 * how it ends; what a repeated item requires is required too. An inner
 * alternation requires the union of what its branches most strongly require;
 * the pattern's top-level branches are kept apart (a text must hold every
 * group of one of them). */

#define MARK_BEFORE_L  0x01     /* (?<!\p{L}) here */
#define MARK_BEFORE_LN 0x02     /* (?<![\p{L}\p{N}]) here */
#define MARK_AFTER_L   0x03     /* (?!\p{L}) here */
#define MARK_AFTER_LN  0x04     /* (?![\p{L}\p{N}]) here */
#define MARK_WORDB     0x05     /* \b here */
#define SET_MAX        512      /* strings in one exact set */
#define STR_MAX        512      /* bytes in one of them */
#define GROUP_MIN_STRENGTH 2    /* weaker groups are not kept */

struct str { char *s; size_t n; };
struct set { struct str *v; size_t n; };   /* v NULL: no such set */

/* What one node can match: its exact set; else sets every match starts
 * (prefix) and ends (suffix) with a string of, and sets it requires a string
 * of each of (the strongest HSFORM_GROUPS_MAX). */
struct facts {
    struct set exact, prefix, suffix;
    struct set req[HSFORM_GROUPS_MAX];
    size_t nreq;
};

/* Where the sets' strings live while one pattern is worked on: chunks freed
 * together, so the recursion owns nothing itself. */
struct arena {
    struct chunk { struct chunk *next; size_t used, cap; char data[]; } *head;
    int oom;
};

static void *arena_alloc(struct arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < n) {
        size_t cap = n > 65536 ? n : 65536;
        struct chunk *c = malloc(sizeof *c + cap);
        if (!c) {
            a->oom = 1;
            return NULL;
        }
        *c = (struct chunk){ a->head, 0, cap };
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += n;
    return p;
}

static void arena_free(struct arena *a)
{
    while (a->head) {
        struct chunk *next = a->head->next;
        free(a->head);
        a->head = next;
    }
}

/* Empty the arena for the next pattern, keeping its newest chunk. */
static void arena_reset(struct arena *a)
{
    if (a->head) {
        struct chunk *keep = a->head;
        a->head = keep->next;
        arena_free(a);
        keep->next = NULL;
        keep->used = 0;
        a->head = keep;
    }
    a->oom = 0;
}

static struct set set_of(struct arena *a, const char *s, size_t n)
{
    struct set r = { arena_alloc(a, sizeof *r.v), 1 };
    char *b = arena_alloc(a, n + 1);
    if (!r.v || !b)
        return (struct set){ 0 };
    memcpy(b, s, n);
    r.v[0] = (struct str){ b, n };
    return r;
}

/* Every string of x followed by every string of y; none when too many. */
static struct set set_product(struct arena *a, struct set x, struct set y)
{
    if (!x.v || !y.v || x.n * y.n > SET_MAX)
        return (struct set){ 0 };
    struct set r = { arena_alloc(a, x.n * y.n * sizeof *r.v), 0 };
    for (size_t i = 0; r.v && i < x.n; i++)
        for (size_t j = 0; j < y.n; j++) {
            size_t n = x.v[i].n + y.v[j].n;
            char *b = n <= STR_MAX ? arena_alloc(a, n + 1) : NULL;
            if (!b)
                return (struct set){ 0 };
            memcpy(b, x.v[i].s, x.v[i].n);
            memcpy(b + x.v[i].n, y.v[j].s, y.v[j].n);
            r.v[r.n++] = (struct str){ b, n };
        }
    return r;
}

static struct set set_union(struct arena *a, struct set x, struct set y)
{
    if (!x.v || !y.v || x.n + y.n > SET_MAX)
        return (struct set){ 0 };
    struct set r = { arena_alloc(a, (x.n + y.n) * sizeof *r.v), x.n + y.n };
    if (!r.v)
        return (struct set){ 0 };
    memcpy(r.v, x.v, x.n * sizeof *r.v);
    memcpy(r.v + x.n, y.v, y.n * sizeof *r.v);
    return r;
}

static int is_mark(unsigned char b)
{
    return b >= MARK_BEFORE_L && b <= MARK_WORDB;
}

/* Words in nearly every comment (Arabic as the folded views spell them):
 * a literal that is one of them narrows nothing, whatever its length. */
static const char *const common_words[] = {
    "في", "من", "علي", "الي", "عن", "مع", "ان", "ما", "لا", "لم", "لن", "هذا", "هذه", "ذلك", "تلك", "كل",
    "هو", "هي", "هم", "انا", "انت", "نحن", "كان", "قد", "او", "ثم", "بعد", "قبل", "عند", "حتي", "اذا", "لو",
    "بين", "كما", "الله", "يا", "ولا", "الذي", "التي", "فيه", "منه", "عليه", "به", "له", "لك", "الا",
    "the", "to", "of", "in", "on", "at", "for", "is", "are", "was", "be", "this", "that", "it", "and", "or",
    "but", "with", "you", "my", "me", "we", "our", "your", "they", "not", "no", "so", "if", "as", "by", "from",
    "have", "has", "do", "can", "will", "all", "just", "what", "there", "here",
};

/* Is s[0..n) (marks left out) a common word? */
static int is_common(const unsigned char *s, size_t n)
{
    char w[32];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (!is_mark(s[i])) {
            if (k == sizeof w - 1)
                return 0;
            w[k++] = (char)s[i];
        }
    w[k] = '\0';
    for (size_t i = 0; i < sizeof common_words / sizeof common_words[0]; i++)
        if (strcmp(w, common_words[i]) == 0)
            return 1;
    return 0;
}

/* How much a required set narrows the texts to look at: its weakest
 * literal's characters (marks left out) plus one per edge it checks; 0 when
 * a literal is empty (every text holds it) or a common word, or there is no
 * set. */
static size_t set_strength(struct set x)
{
    size_t weakest = (size_t)-1;
    for (size_t i = 0; x.v && i < x.n; i++) {
        size_t chars = 0, edges = 0;
        const unsigned char *s = (const unsigned char *)x.v[i].s;
        for (size_t k = 0; k < x.v[i].n; k++)
            if (is_mark(s[k]))
                edges += k == 0 || k + 1 == x.v[i].n;
            else
                chars += (s[k] & 0xc0) != 0x80;
        size_t w = chars && !is_common(s, x.v[i].n) ? chars + (edges > 2 ? 2 : edges) : 0;
        if (w < weakest)
            weakest = w;
    }
    return x.v && x.n ? weakest : 0;
}

/* Add a required set to f, keeping the strongest HSFORM_GROUPS_MAX
 * (dropping a requirement only lets more texts through). */
static void require(struct facts *f, struct set x)
{
    size_t s = set_strength(x);
    if (s < GROUP_MIN_STRENGTH)
        return;     /* a letter or two anywhere: found in every text, a cost for nothing */
    if (f->nreq < HSFORM_GROUPS_MAX) {
        f->req[f->nreq++] = x;
        return;
    }
    size_t weakest = 0;
    for (size_t i = 1; i < f->nreq; i++)
        if (set_strength(f->req[i]) < set_strength(f->req[weakest]))
            weakest = i;
    if (set_strength(f->req[weakest]) < s)
        f->req[weakest] = x;
}

/* The strongest of f's required sets (none: v NULL). */
static struct set strongest(const struct facts *f)
{
    struct set best = { 0 };
    for (size_t i = 0; i < f->nreq; i++)
        if (set_strength(f->req[i]) > set_strength(best) ||
            (set_strength(f->req[i]) == set_strength(best) && f->req[i].n < best.n))
            best = f->req[i];
    return best;
}

/* Which edge mark a lookaround is, or 0 (then it is dropped). */
static int look_mark(const struct parser *P, const struct node *x)
{
    const struct node *a = x->neg ? lone_atom(P, x) : NULL;
    if (!a)
        return 0;
    int l = a->n == 5 && memcmp(a->s, "\\p{L}", 5) == 0;
    int ln = a->n == 13 && memcmp(a->s, "[\\p{L}\\p{N}]", 13) == 0;
    if (!l && !ln)
        return 0;
    return x->behind ? (l ? MARK_BEFORE_L : MARK_BEFORE_LN) : (l ? MARK_AFTER_L : MARK_AFTER_LN);
}

/* The bytes an atom stands for when it is one literal character: itself,
 * or an escaped punctuation or non-ASCII character. 0 when it is a class. */
static size_t atom_literal(const struct node *x, const char **s)
{
    unsigned char c = (unsigned char)x->s[0];
    if (c == '.' || c == '[' || c <= MARK_WORDB)
        return 0;
    if (c != '\\') {
        *s = x->s;
        return x->n;
    }
    unsigned char e = x->n >= 2 ? (unsigned char)x->s[1] : 0;
    if (e >= 0x80 || (e > 0x20 && e < 0x7f && !((e | 0x20) >= 'a' && (e | 0x20) <= 'z') && !(e >= '0' && e <= '9'))) {
        *s = x->s + 1;
        return x->n - 1;
    }
    return 0;
}

static struct facts facts_of(struct arena *a, const struct parser *P, int k, int *bad);

/* Facts of a node that matches exactly the strings of x (which it then
 * also requires). */
static struct facts exactly(struct set x)
{
    struct facts f = { .exact = x, .prefix = x, .suffix = x };
    require(&f, x);
    return f;
}

/* x, or when there is none the set of the empty string (knowing nothing). */
static struct set or_empty(struct arena *a, struct set x)
{
    return x.v ? x : set_of(a, "", 0);
}

/* x followed by y, or x alone when that would be too many. */
static struct set then(struct arena *a, struct set x, struct set y)
{
    struct set r = set_product(a, x, or_empty(a, y));
    return r.v ? r : x;
}

/* A sequence: runs of exact items multiplied out; at an item with no exact
 * set the run so far, followed by how that item starts, is required, and the
 * next run begins with how it ends. */
static struct facts seq_facts(struct arena *a, const struct parser *P, int k, int *bad)
{
    struct facts all = { .exact = { 0 } };
    struct set run = set_of(a, "", 0);
    int broken = 0;
    for (; k >= 0; k = P->pool[k].next) {
        struct facts f = facts_of(a, P, k, bad);
        struct set next = f.exact.v ? set_product(a, run, f.exact) : (struct set){ 0 };
        if (next.v) {
            run = next;
            continue;
        }
        struct set head = then(a, run, f.prefix);
        require(&all, head);
        if (!broken)
            all.prefix = head;
        for (size_t i = 0; i < f.nreq; i++)
            require(&all, f.req[i]);
        run = f.exact.v ? f.exact : or_empty(a, f.suffix);
        broken = 1;
    }
    require(&all, run);
    if (!broken)
        return exactly(run);
    all.suffix = run;
    return all;
}

/* An alternation of two or more branches: the union of each set, or of
 * what the branches most strongly require. */
static struct facts alt_facts(struct arena *a, const struct parser *P, int k, int *bad)
{
    if (k >= 0 && P->pool[k].next < 0)
        return facts_of(a, P, k, bad);   /* one branch: all it requires */
    struct facts all = { .exact = set_of(a, "", 0) };
    struct set req = set_of(a, "", 0);
    all.prefix = all.suffix = all.exact;
    all.exact.n = all.prefix.n = all.suffix.n = req.n = 0;
    for (; k >= 0; k = P->pool[k].next) {
        struct facts f = facts_of(a, P, k, bad);
        all.exact = set_union(a, all.exact, f.exact);
        all.prefix = set_union(a, all.prefix, or_empty(a, f.prefix));
        all.suffix = set_union(a, all.suffix, or_empty(a, f.suffix));
        req = set_union(a, req, strongest(&f));
    }
    if (all.exact.v)
        return exactly(all.exact);
    require(&all, req);
    return all;
}

/* A node's facts before its quantifier. */
static struct facts node_facts(struct arena *a, const struct parser *P, const struct node *x, int *bad)
{
    const char *lit;
    size_t n;
    char mark;
    switch (x->kind) {
    case K_ALT:
        return alt_facts(a, P, x->child, bad);
    case K_SEQ:
        return seq_facts(a, P, x->child, bad);
    case K_GROUP:
        if (x->n != 3 || memcmp(x->s, "(?:", 3) != 0)
            *bad = 1;     /* (?i: …) and the like change what matches */
        return facts_of(a, P, x->child, bad);
    case K_LOOK:
        mark = (char)look_mark(P, x);
        return exactly(set_of(a, &mark, mark ? 1 : 0));
    case K_WORDB:
        mark = MARK_WORDB;
        return exactly(set_of(a, &mark, 1));
    case K_ANCHOR:
        if (x->s && x->s[0] == '(')
            *bad = 1;     /* (?i) */
        return exactly(set_of(a, "", 0));
    case K_ATOM:
        if ((n = atom_literal(x, &lit)) > 0)
            return exactly(set_of(a, lit, n));
        return (struct facts){ .exact = { 0 } };
    default:    /* \B, \K, a comment: take nothing */
        return exactly(set_of(a, "", 0));
    }
}

/* x or nothing: x's strings and the empty one. */
static struct set maybe(struct arena *a, struct set x)
{
    struct set r = set_union(a, or_empty(a, x), set_of(a, "", 0));
    return r.v ? r : set_of(a, "", 0);
}

static struct facts facts_of(struct arena *a, const struct parser *P, int k, int *bad)
{
    const struct node *x = &P->pool[k];
    struct facts f = node_facts(a, P, x, bad);
    if (!x->q)
        return f;
    if (x->optional && !x->repeats) {   /* ?: the exact set or nothing */
        struct facts r = { .exact = f.exact.v ? maybe(a, f.exact) : (struct set){ 0 } };
        r.prefix = maybe(a, f.prefix);
        r.suffix = maybe(a, f.suffix);
        return r;
    }
    if (x->optional)                    /* *, {0,n}: nothing known */
        return (struct facts){ .exact = { 0 } };
    struct facts once = { .prefix = f.prefix, .suffix = f.suffix };   /* +, {m,n}: all it requires */
    require(&once, f.exact);
    for (size_t i = 0; i < f.nreq; i++)
        require(&once, f.req[i]);
    return once;
}

int hsform_blocks_edge(int32_t cp, unsigned char edge)
{
    if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= 0x621 && cp <= 0x64a))
        return edge != HSFORM_EDGE_NONE;
    return edge == HSFORM_EDGE_LN &&
           ((cp >= '0' && cp <= '9') || (cp >= 0x660 && cp <= 0x669) || (cp >= 0x6f0 && cp <= 0x6f9));
}

/* Is the character s[0..n) starts with surely \w under UCP (a letter or
 * number hsform_blocks_edge knows)? */
static int surely_word_start(const unsigned char *s, size_t n)
{
    if (!n)
        return 0;
    if (s[0] < 0x80)
        return hsform_blocks_edge(s[0], HSFORM_EDGE_LN);
    if ((s[0] & 0xe0) != 0xc0 || n < 2)
        return 0;
    return hsform_blocks_edge((int32_t)(((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu)), HSFORM_EDGE_LN);
}

/* The start of the last character of s[0..n). */
static size_t last_char(const unsigned char *s, size_t n)
{
    size_t i = n - 1;
    while (i > 0 && (s[i] & 0xc0) == 0x80)
        i--;
    return i;
}

/* The edge a leading or trailing mark gives a literal whose edge character
 * is w bytes at c (\b is one only where that character is a word one). */
static unsigned char edge_of(unsigned char mark, const unsigned char *c, size_t w)
{
    if (mark == MARK_WORDB)
        return surely_word_start(c, w) ? HSFORM_EDGE_LN : HSFORM_EDGE_NONE;
    return mark == MARK_BEFORE_L || mark == MARK_AFTER_L ? HSFORM_EDGE_L : HSFORM_EDGE_LN;
}

static unsigned char stricter(unsigned char a, unsigned char b)
{
    return a > b ? a : b;
}

/* One literal of a required set, its edge marks read off into bytes. */
static void put_factor(struct hsform_lit *out, char *bytes, const struct str *x)
{
    const unsigned char *s = (const unsigned char *)x->s;
    size_t lo = 0, hi = x->n, n = 0;
    *out = (struct hsform_lit){ .s = bytes };
    while (lo < hi && is_mark(s[lo]))
        lo++;
    while (hi > lo && is_mark(s[hi - 1]))
        hi--;
    for (size_t k = lo; k < hi; k++)
        if (!is_mark(s[k]))
            bytes[n++] = (char)s[k];
    bytes[n] = '\0';
    out->len = n;
    if (!n)
        return;
    const unsigned char *b = (const unsigned char *)bytes;
    size_t last = last_char(b, n);
    for (size_t k = 0; k < lo; k++)
        if (s[k] <= MARK_BEFORE_LN || s[k] == MARK_WORDB)
            out->before = stricter(out->before, edge_of(s[k], b, n));
    for (size_t k = hi; k < x->n; k++)
        if ((s[k] >= MARK_AFTER_L && s[k] <= MARK_AFTER_LN) || s[k] == MARK_WORDB)
            out->after = stricter(out->after, edge_of(s[k], b + last, n - last));
}

/* The branches of a pattern (its top-level alternatives, or the whole of
 * it), each with the groups it requires. */
struct branches {
    struct facts f[64];
    size_t n;
};

/* The groups of the n branches, at most 64 in all (a branch keeps its
 * strongest), their literals copied out of the arena without repeats in a
 * group; each literal gets its group's bit and the bits of its branch. */
static int put_factors(struct hsform_lits *out, struct branches *br)
{
    size_t keep = 64 / br->n < HSFORM_GROUPS_MAX ? 64 / br->n : HSFORM_GROUPS_MAX, bytes = 0, n = 0;
    for (size_t b = 0; b < br->n; b++) {
        while (br->f[b].nreq > keep) {   /* drop the weakest */
            size_t weakest = 0;
            for (size_t g = 1; g < br->f[b].nreq; g++)
                if (set_strength(br->f[b].req[g]) < set_strength(br->f[b].req[weakest]))
                    weakest = g;
            br->f[b].req[weakest] = br->f[b].req[--br->f[b].nreq];
        }
        for (size_t g = 0; g < br->f[b].nreq; g++)
            for (size_t i = 0; i < br->f[b].req[g].n; i++)
                bytes += br->f[b].req[g].v[i].n + 1, n++;
    }
    out->v = malloc(n * sizeof *out->v);
    out->bytes = malloc(bytes);
    if (!out->v || !out->bytes) {
        hsform_lits_free(out);
        return -1;
    }
    char *text = out->bytes;
    unsigned bit = 0;
    for (size_t b = 0; b < br->n; b++) {
        uint64_t need = ((br->f[b].nreq == 64 ? 0 : (uint64_t)1 << br->f[b].nreq) - 1) << bit;
        for (size_t g = 0; g < br->f[b].nreq; g++, bit++) {
            size_t first = out->n;
            for (size_t i = 0; i < br->f[b].req[g].n; i++) {
                struct hsform_lit l;
                put_factor(&l, text, &br->f[b].req[g].v[i]);
                l.bit = (unsigned char)bit;
                l.need = need;
                int seen = 0;
                for (size_t j = first; j < out->n && !seen; j++)
                    seen = out->v[j].len == l.len && out->v[j].before == l.before && out->v[j].after == l.after &&
                           memcmp(out->v[j].s, l.s, l.len) == 0;
                if (!seen) {
                    out->v[out->n++] = l;
                    text += l.len + 1;
                }
            }
        }
    }
    return 0;
}

/* The facts of each top-level branch of the tree at root (an alternation),
 * or of the whole when it has more branches than bits; the weakest branch's
 * strongest group: what the whole may be trusted to narrow. */
static size_t branch_facts(struct arena *a, const struct parser *P, int root, int *bad, struct branches *br)
{
    size_t nb = 0, weakest = (size_t)-1;
    for (int k = P->pool[root].child; k >= 0; k = P->pool[k].next)
        nb++;
    br->n = 0;
    if (nb > 64) {
        br->f[br->n++] = facts_of(a, P, root, bad);
    } else {
        for (int k = P->pool[root].child; k >= 0; k = P->pool[k].next)
            br->f[br->n++] = facts_of(a, P, k, bad);
    }
    for (size_t b = 0; b < br->n; b++) {
        size_t s = set_strength(strongest(&br->f[b]));
        if (s < weakest)
            weakest = s;
    }
    return weakest;
}

/* What hsform_factors works in, kept from one pattern to the next: a rule
 * set's build calls it for thousands of patterns, and allocating and freeing
 * this much each time let the heap shrink and grow again between Hyperscan's
 * own large compiles, a page fault for every page each time (three times the
 * load time of 10,000 generated rules on this VM). */
struct hsform_scratch {
    struct arena a;
    struct node *pool;
    size_t pool_cap;
    struct branches br;
};

struct hsform_scratch *hsform_scratch_new(void)
{
    return calloc(1, sizeof(struct hsform_scratch));
}

void hsform_scratch_free(struct hsform_scratch *s)
{
    if (!s)
        return;
    arena_free(&s->a);
    free(s->pool);
    free(s);
}

static int factors_in(struct hsform_scratch *S, const char *pattern, unsigned options, size_t min_strength,
                      struct hsform_lits *out)
{
    size_t len = strlen(pattern);
    struct parser P = { .p = pattern, .end = pattern + len, .cap = 3 * len + 8 };
    if (S->pool_cap < P.cap) {
        struct node *pool = realloc(S->pool, P.cap * sizeof *pool);
        if (!pool)
            return -1;
        S->pool = pool;
        S->pool_cap = P.cap;
    }
    P.pool = S->pool;
    arena_reset(&S->a);
    int bad = 0, root = parse_alt(&P);
    (void)options;
    if (root < 0 || P.bad || P.p != P.end)
        return -1;
    size_t strength = branch_facts(&S->a, &P, root, &bad, &S->br);
    if (bad || S->a.oom || strength < min_strength || strength == 0)
        return -1;
    return put_factors(out, &S->br);
}

int hsform_factors(const char *pattern, unsigned options, size_t min_strength, struct hsform_scratch *scratch,
                   struct hsform_lits *out)
{
    memset(out, 0, sizeof *out);
    if (options & (PCRE2_EXTENDED | PCRE2_CASELESS))
        return -1;
    struct hsform_scratch *own = scratch ? NULL : hsform_scratch_new(), *S = scratch ? scratch : own;
    int rc = S ? factors_in(S, pattern, options, min_strength, out) : -1;
    hsform_scratch_free(own);
    return rc;
}

void hsform_lits_free(struct hsform_lits *l)
{
    free(l->v);
    free(l->bytes);
    memset(l, 0, sizeof *l);
}
