/* normalize.c — the Arabic-aware text fold that rules match against.
 *
 * Implements shared/design/arabic.md S0–S11. Raw UTF-8 is decoded once into a
 * UTF-32 buffer; every later stage rewrites that buffer (in place where the
 * stage can only shrink it, into one new buffer otherwise) and the views are
 * encoded back to UTF-8 at the end. NFKC_Casefold and mark stripping (S3–S4)
 * come from utf8proc: the same utf8proc_decompose_char + utf8proc_normalize_utf32
 * calls utf8proc_map_custom makes, driven from our own loop so the S2 pre-map
 * and the flag counting see each code point without a UTF-8 round trip.
 * Evasion signals are counted into struct norm_flags on the way, when asked
 * for. Plain text (ASCII and the Arabic block, no tatweel or markup) takes a
 * one-pass fold from a table of these same steps instead (fold_plain); the
 * unit tests and fuzz_normalize hold the two paths to the same output. */
#include "raqib/normalize.h"

#include <stdint.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <utf8proc.h>

#define CP_DELETE (-1)
#define TATWEEL 0x0640
#define REPLACEMENT 0xFFFD

/* Options of S3–S4: NFKC, full case fold, default-ignorables removed, and
 * every Mn/Mc/Me dropped after decomposition (STRIPMARK needs COMPOSE). */
#define FOLD_OPTIONS (UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT | \
                      UTF8PROC_CASEFOLD | UTF8PROC_IGNORE | UTF8PROC_STRIPMARK)

/* ------------------------------------------------------------------------ */
/* Character classes                                                         */

/* The Arabic block's categories and ignorable bits, filled once with the
 * fold cache below (fill_arabic_cache): the fold asks for them several times
 * per code point. */
static unsigned char arabic_category[0x100];
static unsigned char arabic_ignorable[0x100];

static int category(int32_t cp)
{
    if (cp >= 0x0600 && cp <= 0x06FF)
        return arabic_category[cp - 0x0600];
    return (int)utf8proc_category(cp);
}

static int is_letter_slow(int32_t cp)
{
    if (cp < 0x80)
        return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    int c = category(cp);
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO;
}

static int is_mark_slow(int32_t cp)
{
    if (cp < 0x300)
        return 0;
    int c = category(cp);
    return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC ||
           c == UTF8PROC_CATEGORY_ME;
}

static int is_number_slow(int32_t cp)
{
    if (cp < 0x80)
        return cp >= '0' && cp <= '9';
    int c = category(cp);
    return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL ||
           c == UTF8PROC_CATEGORY_NO;
}

static int in_arabic_blocks(int32_t cp)
{
    return (cp >= 0x0600 && cp <= 0x06FF) || (cp >= 0x0750 && cp <= 0x077F) ||
           (cp >= 0x0870 && cp <= 0x08FF) || (cp >= 0xFB50 && cp <= 0xFDFF) ||
           (cp >= 0xFE70 && cp <= 0xFEFF);
}

/* An Arabic-script letter (Lo), presentation forms included; not tatweel. */
static int is_arabic_letter_slow(int32_t cp)
{
    return cp >= 0x0600 && in_arabic_blocks(cp) &&
           category(cp) == UTF8PROC_CATEGORY_LO;
}

/* Combining marks that belong to the Arabic script (harakat, Qur'anic signs). */
static int is_arabic_mark(int32_t cp)
{
    return (cp >= 0x0610 && cp <= 0x061A) || (cp >= 0x064B && cp <= 0x065F) ||
           cp == 0x0670 || (cp >= 0x06D6 && cp <= 0x06ED) ||
           (cp >= 0x0898 && cp <= 0x089F) || (cp >= 0x08CA && cp <= 0x08FF);
}

static int is_bidi_control(int32_t cp)
{
    return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
           cp == 0x200E || cp == 0x200F || cp == 0x061C;
}

/* The 28 letters of the Arabic alphabet plus hamza, ة and ى. */
static int is_core_arabic(int32_t cp)
{
    return (cp >= 0x0621 && cp <= 0x063A) || (cp >= 0x0641 && cp <= 0x064A);
}

/* Persian, Urdu, Kurdish and other extended letters that S6 folds away. */
static int is_persian_letter(int32_t cp)
{
    return ((cp >= 0x0676 && cp <= 0x06D3) || (cp >= 0x063B && cp <= 0x063F) ||
            (cp >= 0x06EE && cp <= 0x06EF) || (cp >= 0x06FA && cp <= 0x06FF)) &&
           category(cp) == UTF8PROC_CATEGORY_LO;
}

static int is_latin_letter_slow(int32_t cp)
{
    if (cp < 0x80)
        return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
    return ((cp >= 0x00C0 && cp <= 0x02AF) || (cp >= 0x1E00 && cp <= 0x1EFF)) &&
           is_letter_slow(cp);
}

static int is_cyrillic_or_greek_letter_slow(int32_t cp)
{
    return ((cp >= 0x0370 && cp <= 0x052F) || (cp >= 0x1F00 && cp <= 0x1FFF)) &&
           is_letter_slow(cp);
}

/* The same classes for U+0000–U+06FF (ASCII, Latin, Greek, Cyrillic, the
 * Arabic block: nearly every code point of our comments) from one table,
 * filled once by fill_arabic_cache from the _slow functions above. The fold
 * asks several of these per code point in several passes. */
#define CLASS_TABLE_END 0x0700
enum {
    CLASS_LETTER = 1, CLASS_NUMBER = 2, CLASS_MARK = 4, CLASS_ARABIC_LETTER = 8,
    CLASS_LATIN = 16, CLASS_CYRGREEK = 32,
};
static unsigned char class_table[CLASS_TABLE_END];

static void fill_class_table(void)
{
    for (int32_t cp = 0; cp < CLASS_TABLE_END; cp++)
        class_table[cp] = (unsigned char)((is_letter_slow(cp) ? CLASS_LETTER : 0) |
                                          (is_number_slow(cp) ? CLASS_NUMBER : 0) |
                                          (is_mark_slow(cp) ? CLASS_MARK : 0) |
                                          (is_arabic_letter_slow(cp) ? CLASS_ARABIC_LETTER : 0) |
                                          (is_latin_letter_slow(cp) ? CLASS_LATIN : 0) |
                                          (is_cyrillic_or_greek_letter_slow(cp) ? CLASS_CYRGREEK : 0));
}

static inline int has_class(int32_t cp, unsigned bit, int (*slow)(int32_t))
{
    if (cp >= 0 && cp < CLASS_TABLE_END)
        return (class_table[cp] & bit) != 0;
    return slow(cp);
}

static int is_letter(int32_t cp) { return has_class(cp, CLASS_LETTER, is_letter_slow); }
static int is_number(int32_t cp) { return has_class(cp, CLASS_NUMBER, is_number_slow); }
static int is_mark(int32_t cp) { return has_class(cp, CLASS_MARK, is_mark_slow); }
static int is_arabic_letter(int32_t cp) { return has_class(cp, CLASS_ARABIC_LETTER, is_arabic_letter_slow); }
static int is_latin_letter(int32_t cp) { return has_class(cp, CLASS_LATIN, is_latin_letter_slow); }
static int is_cyrillic_or_greek_letter(int32_t cp)
{
    return has_class(cp, CLASS_CYRGREEK, is_cyrillic_or_greek_letter_slow);
}

/* ------------------------------------------------------------------------ */
/* Decimal digits                                                            */

/* First code point of every run of ten Nd digits (0–9) in Unicode 15.0, the
 * version utf8proc 2.8 implements. Every Nd sits in such a run (a Unicode
 * stability guarantee); tests/unit/test_normalize.c checks the table against
 * utf8proc so an upgrade that adds digits fails loudly. */
static const int32_t nd_run_start[] = {
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6,
    0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0,
    0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50,
    0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0,
    0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0,
    0x11F50, 0x16A60, 0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC,
    0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950, 0x1FBF0,
};

/* Decimal value of an Nd code point, or -1 when cp is in no known run. */
static int nd_value(int32_t cp)
{
    size_t lo = 0, hi = sizeof nd_run_start / sizeof nd_run_start[0];
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (nd_run_start[mid] <= cp)
            lo = mid;
        else
            hi = mid;
    }
    int32_t d = cp - nd_run_start[lo];
    return d >= 0 && d <= 9 ? (int)d : -1;
}

/* ------------------------------------------------------------------------ */
/* UTF-8                                                                     */

/* Decode one code point from s[0..len), len >= 1. Returns the bytes consumed
 * (always >= 1) and sets *cp, or -1 for an invalid sequence, in which case the
 * bytes consumed are its maximal valid prefix (Unicode's "maximal subpart"),
 * so each bad sequence becomes exactly one U+FFFD. */
static inline size_t utf8_decode_one(const unsigned char *s, size_t len, int32_t *cp)
{
    unsigned char b = s[0];
    size_t need;
    int32_t v;
    unsigned char lo = 0x80, hi = 0xBF;

    if (b < 0x80) {
        *cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        need = 1;
        v = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        need = 2;
        v = b & 0x0F;
        if (b == 0xE0)
            lo = 0xA0;      /* no overlongs */
        else if (b == 0xED)
            hi = 0x9F;      /* no surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        need = 3;
        v = b & 0x07;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;      /* nothing above U+10FFFF */
    } else {
        *cp = -1;
        return 1;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= len || s[i] < lo || s[i] > hi) {
            *cp = -1;
            return i;
        }
        v = (v << 6) | (s[i] & 0x3F);
        lo = 0x80;
        hi = 0xBF;
    }
    *cp = v;
    return need + 1;
}

size_t utf8_length(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0, i = 0;
    int32_t cp;

    while (i < len) {
        i += utf8_decode_one(p + i, len - i, &cp);
        n++;
    }
    return n;
}

int utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int32_t cp;

    while (i < len) {
        i += utf8_decode_one(p + i, len - i, &cp);
        if (cp < 0)
            return 0;
    }
    return 1;
}


/* Encode cp[0..n) as a malloc'd NUL-terminated UTF-8 string; NULL on ENOMEM. */
static char *utf8_encode(const int32_t *cp, size_t n, size_t *outlen)
{
    /* One pass into the worst case (4 bytes a code point), then give back
     * what a large text did not use. */
    if (n > (SIZE_MAX - 1) / 4)
        return NULL;
    unsigned char *out = malloc(4 * n + 1);
    if (!out)
        return NULL;
    unsigned char *p = out;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = (uint32_t)cp[i];
        if (c < 0x80) {
            *p++ = (unsigned char)c;
        } else if (c < 0x800) {
            *p++ = (unsigned char)(0xC0 | (c >> 6));
            *p++ = (unsigned char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            *p++ = (unsigned char)(0xE0 | (c >> 12));
            *p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *p++ = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            *p++ = (unsigned char)(0xF0 | (c >> 18));
            *p++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            *p++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *p++ = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    *p = '\0';
    size_t size = (size_t)(p - out);
    if (4 * n - size > 4096) {
        unsigned char *shrunk = realloc(out, size + 1);
        if (shrunk)
            out = shrunk;
    }
    if (outlen)
        *outlen = size;
    return (char *)out;
}

/* ------------------------------------------------------------------------ */
/* S0 decode                                                                 */

/* C0/C1 controls other than TAB, LF, CR, VT and FF (and DEL) are deleted in
 * S0. VT and FF separate words, so they become SPACE as S8 asks: deleting
 * them first would glue `buy\fpills` into one word. */
static int is_dropped_control(int32_t cp)
{
    return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r' &&
            cp != '\v' && cp != '\f') ||
           (cp >= 0x7F && cp <= 0x9F);
}

/* Tatweel and the ہ/ھ zakhrafa fillers: S2b looks at their neighbours, so
 * their fold is never decided by the code point alone. */
static int is_s2b_letter(int32_t cp)
{
    return cp == TATWEEL || cp == 0x06C1 || cp == 0x06BE;
}

/* What s0_decode saw, so that later passes with nothing to do are skipped:
 * most comments have no markup, no tatweel and nothing above U+10FF. */
struct s0_seen {
    int markup;         /* '&' or '<': S1 may change something */
    int s2b;            /* tatweel, ہ/ھ, or a code point S2b expands */
    int32_t max_cp;     /* below U+1100 nothing decomposes to Hangul jamo */
};

/* S0: text -> code points in out (room for len of them). Invalid UTF-8 becomes
 * U+FFFD, controls go (VT and FF become SPACE), CR LF and CR become LF.
 * Returns the count. */
static size_t s0_decode(const char *text, size_t len, int32_t *out,
                        struct norm_flags *flags, struct s0_seen *seen)
{
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0, n = 0;
    int32_t cp, max_cp = 0;

    while (i < len) {
        if (p[i] >= 0x20 && p[i] < 0x7F) {     /* printable ASCII: as it is */
            cp = p[i++];
            seen->markup |= cp == '&' || cp == '<';
            out[n++] = cp;
            continue;
        }
        i += utf8_decode_one(p + i, len - i, &cp);
        if (cp < 0) {
            flags->bad_utf8++;
            cp = REPLACEMENT;
        } else if (cp == '\r') {
            if (i < len && p[i] == '\n')
                i++;
            cp = '\n';
        } else if (cp == '\v' || cp == '\f') {
            cp = ' ';
        } else if (is_dropped_control(cp)) {
            continue;
        }
        if (cp > max_cp)
            max_cp = cp;
        seen->s2b |= is_s2b_letter(cp) || cp >= 0x24EB;
        out[n++] = cp;
    }
    seen->max_cp = max_cp;
    return n;
}

/* ------------------------------------------------------------------------ */
/* S1 HTML                                                                   */

struct named_ref {
    const char *name;
    int32_t cp;
};

/* The named references comments actually carry; names are case-sensitive. */
static const struct named_ref named_refs[] = {
    { "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
    { "apos", '\'' }, { "nbsp", 0xA0 }, { "shy", 0xAD }, { "copy", 0xA9 },
    { "reg", 0xAE }, { "trade", 0x2122 }, { "hellip", 0x2026 },
    { "mdash", 0x2014 }, { "ndash", 0x2013 }, { "lsquo", 0x2018 },
    { "rsquo", 0x2019 }, { "sbquo", 0x201A }, { "ldquo", 0x201C },
    { "rdquo", 0x201D }, { "bdquo", 0x201E }, { "laquo", 0xAB },
    { "raquo", 0xBB }, { "times", 0xD7 }, { "divide", 0xF7 }, { "deg", 0xB0 },
    { "middot", 0xB7 }, { "bull", 0x2022 }, { "euro", 0x20AC },
    { "pound", 0xA3 }, { "yen", 0xA5 }, { "cent", 0xA2 }, { "sect", 0xA7 },
    { "para", 0xB6 }, { "zwj", 0x200D }, { "zwnj", 0x200C }, { "lrm", 0x200E },
    { "rlm", 0x200F }, { "ensp", 0x2002 }, { "emsp", 0x2003 },
    { "thinsp", 0x2009 },
};

/* HTML5 reads &#128;–&#159; as Windows-1252 (0 = undefined there). */
static const int32_t cp1252_c1[32] = {
    0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
    0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0,
};

static int hex_value(int32_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 0x20;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int is_ascii_alpha(int32_t c)
{
    return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* Numeric reference at buf[i] == '&', buf[i+1] == '#'. Returns the code points
 * consumed (0: not a reference) and the value in *cp (CP_DELETE for controls). */
static size_t parse_numeric_ref(const int32_t *buf, size_t n, size_t i, int32_t *cp)
{
    size_t j = i + 2;
    int base = 10;
    uint32_t v = 0;
    size_t digits = 0;

    if (j < n && (buf[j] | 0x20) == 'x') {
        base = 16;
        j++;
    }
    for (; j < n; j++) {
        int d = base == 16 ? hex_value(buf[j]) : (buf[j] >= '0' && buf[j] <= '9' ? buf[j] - '0' : -1);
        if (d < 0)
            break;
        if (v <= 0x10FFFF)
            v = v * (uint32_t)base + (uint32_t)d;
        digits++;
    }
    if (digits == 0)
        return 0;
    if (j < n && buf[j] == ';')
        j++;
    if (v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
        *cp = REPLACEMENT;
    else if (v >= 0x80 && v <= 0x9F)
        *cp = cp1252_c1[v - 0x80] ? cp1252_c1[v - 0x80] : CP_DELETE;
    else if (v == '\r')
        *cp = '\n';
    else if (v == '\v' || v == '\f')
        *cp = ' ';
    else if (is_dropped_control((int32_t)v))
        *cp = CP_DELETE;
    else
        *cp = (int32_t)v;
    return j - i;
}

/* Named reference "&name;" at buf[i]. Returns code points consumed or 0. */
static size_t parse_named_ref(const int32_t *buf, size_t n, size_t i, int32_t *cp)
{
    char name[8];
    size_t k = 0, j = i + 1;

    while (j < n && k < sizeof name - 1 && is_ascii_alpha(buf[j]))
        name[k++] = (char)buf[j++];
    if (k == 0 || j >= n || buf[j] != ';')
        return 0;
    name[k] = '\0';
    for (size_t r = 0; r < sizeof named_refs / sizeof named_refs[0]; r++) {
        if (strcmp(named_refs[r].name, name) == 0) {
            *cp = named_refs[r].cp;
            return j + 1 - i;
        }
    }
    return 0;
}

/* Tags whose removal must not glue the words on either side together. */
static int is_block_tag(const char *name)
{
    static const char *const block[] = {
        "br", "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "tr", "td", "th",
        "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr", "pre",
        "section", "article", "header", "footer",
    };
    for (size_t i = 0; i < sizeof block / sizeof block[0]; i++)
        if (strcmp(block[i], name) == 0)
            return 1;
    return 0;
}

/* Positions found once per text so that unclosed '<' cannot make tag
 * scanning quadratic. */
struct html_scan {
    size_t last_gt;          /* index of the last '>', or SIZE_MAX */
    size_t last_comment_end; /* index of the last "-->", or SIZE_MAX */
};

/* Tag (or comment) starting at buf[i] == '<'. Returns the code points it spans
 * (0: not a tag, keep the '<') and sets *block for tags that separate words. */
static size_t parse_tag(const int32_t *buf, size_t n, size_t i,
                        const struct html_scan *scan, int *block)
{
    size_t j = i + 1;
    char name[16];
    size_t k = 0;

    *block = 0;
    if (scan->last_gt == SIZE_MAX || scan->last_gt < i || j >= n)
        return 0;
    if (j + 2 < n && buf[j] == '!' && buf[j + 1] == '-' && buf[j + 2] == '-' &&
        scan->last_comment_end != SIZE_MAX && scan->last_comment_end > i) {
        for (size_t e = j + 1; e + 2 < n; e++)
            if (buf[e] == '-' && buf[e + 1] == '-' && buf[e + 2] == '>')
                return e + 3 - i;
    }
    if (buf[j] == '/')
        j++;
    if (j < n && is_ascii_alpha(buf[j])) {
        while (j < n && k < sizeof name - 1 &&
               (is_ascii_alpha(buf[j]) || (buf[j] >= '0' && buf[j] <= '9')))
            name[k++] = (char)(buf[j++] | 0x20);
        name[k] = '\0';
    } else if (buf[i + 1] != '!' && buf[i + 1] != '?') {
        return 0;
    }
    while (buf[j] != '>')   /* a '>' exists at or before last_gt */
        j++;
    *block = k > 0 && is_block_tag(name);
    return j + 1 - i;
}

/* S1, in place (references and tags only shrink the text): decode character
 * references and drop tags, keeping their text. Returns the new count. */
static size_t s1_html(int32_t *buf, size_t n)
{
    struct html_scan scan = { SIZE_MAX, SIZE_MAX };
    for (size_t i = n; i-- > 0;) {
        if (buf[i] == '>') {
            if (scan.last_gt == SIZE_MAX)
                scan.last_gt = i;
            if (i >= 2 && buf[i - 1] == '-' && buf[i - 2] == '-') {
                scan.last_comment_end = i - 2;
                break;
            }
        }
    }

    size_t w = 0, i = 0;
    while (i < n) {
        int32_t cp = buf[i];
        size_t used = 0;
        if (cp == '&' && i + 1 < n) {
            if (buf[i + 1] == '#')
                used = parse_numeric_ref(buf, n, i, &cp);
            else
                used = parse_named_ref(buf, n, i, &cp);
        } else if (cp == '<') {
            int block;
            used = parse_tag(buf, n, i, &scan, &block);
            cp = block ? ' ' : CP_DELETE;
        }
        if (used == 0) {
            buf[w++] = buf[i++];
            continue;
        }
        if (cp != CP_DELETE)
            buf[w++] = cp;
        i += used;
    }
    return w;
}

/* ------------------------------------------------------------------------ */
/* S2b context pre-pass                                                      */

static const int32_t basmala[] = {
    0x0628, 0x0633, 0x0645, ' ', 0x0627, 0x0644, 0x0644, 0x0647, ' ',
    0x0627, 0x0644, 0x0631, 0x062D, 0x0645, 0x0646, ' ',
    0x0627, 0x0644, 0x0631, 0x062D, 0x064A, 0x0645,
};

/* The 1:N expansions of S2b. Returns how many code points cp becomes (1 when
 * it is not expanded) and writes them to out when out is not NULL. */
static size_t expand(int32_t cp, int32_t *out)
{
    int value = 0;
    if (cp == 0xFDFD) {
        if (out)
            memcpy(out, basmala, sizeof basmala);
        return sizeof basmala / sizeof basmala[0];
    }
    if (cp == 0x277F || cp == 0x2789 || cp == 0x2793 || cp == 0x24FE)
        value = 10;
    else if (cp >= 0x24EB && cp <= 0x24F4)
        value = 11 + (cp - 0x24EB);
    if (value == 0) {
        if (out)
            out[0] = cp;
        return 1;
    }
    if (out) {
        out[0] = '0' + value / 10;
        out[1] = '0' + value % 10;
    }
    return 2;
}

static size_t s2b_size(const int32_t *in, size_t n)
{
    size_t size = 0;
    for (size_t i = 0; i < n; i++)
        size += in[i] < 0x24EB ? 1 : expand(in[i], NULL);
    return size;
}

/* True when the output so far ends in an Arabic letter, ignoring marks and
 * tatweel after it. */
static int follows_arabic_letter(const int32_t *out, size_t w)
{
    while (w > 0 && (out[w - 1] == TATWEEL || is_mark(out[w - 1])))
        w--;
    return w > 0 && is_arabic_letter(out[w - 1]);
}

/* True when in[i+1..] is one or more combining marks (tatweel allowed among
 * them) and then an Arabic letter: the tail of the zakhrafa filler ہٰٖ. */
static int marks_then_arabic_letter(const int32_t *in, size_t n, size_t i)
{
    size_t marks = 0, j = i + 1;
    for (; j < n; j++) {
        if (is_mark(in[j]))
            marks++;
        else if (in[j] != TATWEEL)
            break;
    }
    return marks > 0 && j < n && is_arabic_letter(in[j]);
}

/* S2b: rejoin tatweel-split words, drop the ہ/ھ zakhrafa filler and apply the
 * 1:N expansions. out may alias in when s2b_size(in) == n (it then only
 * shrinks). Returns the new count; fillers removed are added to *fillers. */
static size_t s2b_context(const int32_t *in, size_t n, int32_t *out,
                          unsigned *fillers)
{
    size_t w = 0, i = 0;
    while (i < n) {
        int32_t cp = in[i];
        if (w > 0 && out[w - 1] == TATWEEL && category(cp) == UTF8PROC_CATEGORY_ZS) {
            size_t j = i;
            while (j < n && category(in[j]) == UTF8PROC_CATEGORY_ZS)
                j++;
            if (j < n && in[j] == TATWEEL) {
                i = j;          /* `ـ ـ` -> `ــ` */
                continue;
            }
            while (i < j)
                out[w++] = in[i++];
            continue;
        }
        if ((cp == 0x06C1 || cp == 0x06BE) && follows_arabic_letter(out, w) &&
            marks_then_arabic_letter(in, n, i)) {
            (*fillers)++;
            i++;
            while (i < n && (is_mark(in[i]) || in[i] == TATWEEL))
                i++;
            continue;
        }
        if (cp < 0x24EB)
            out[w++] = cp;
        else
            w += expand(cp, out + w);
        i++;
    }
    return w;
}

/* ------------------------------------------------------------------------ */
/* S2 pre-map and S3–S5 (utf8proc)                                           */

/* S2: the 1:1 pre-map applied before decomposition. Returns the replacement
 * code point, or CP_DELETE. */
static int32_t premap(int32_t cp)
{
    if (cp < 0x80 || (cp >= 0x0621 && cp <= 0x064A && cp != TATWEEL))
        return cp;          /* ASCII and the Arabic letters: most of a comment */
    if (cp == TATWEEL)
        return CP_DELETE;
    if ((cp >= 0xFE70 && cp <= 0xFE7F) || (cp >= 0xFC5E && cp <= 0xFC63) ||
        (cp >= 0xFCF2 && cp <= 0xFCF4))
        return CP_DELETE;   /* NFKC would make these SPACE + mark */
    if (cp >= 0x0660 && cp <= 0x0669)
        return '0' + (cp - 0x0660);
    if (cp >= 0x06F0 && cp <= 0x06F9)
        return '0' + (cp - 0x06F0);
    if (cp == 0x24FF || cp == 0x24EA)
        return '0';
    if (cp >= 0x2776 && cp <= 0x277E)
        return '1' + (cp - 0x2776);
    if (cp >= 0x2780 && cp <= 0x2788)
        return '1' + (cp - 0x2780);
    if (cp >= 0x278A && cp <= 0x2792)
        return '1' + (cp - 0x278A);
    if (cp >= 0x24F5 && cp <= 0x24FD)
        return '1' + (cp - 0x24F5);
    if ((cp >= 0x0600 && cp <= 0x0605) || cp == 0x06DD || cp == 0x06DE ||
        cp == 0x06E9 || cp == 0x08E2)
        return CP_DELETE;   /* Arabic signs with no letter value */
    switch (cp) {
    case 0x2800: return ' ';
    case 0x060C: return ',';
    case 0x061B: return ';';
    case 0x061F: return '?';
    case 0x066A: return '%';
    case 0x066B: return '.';
    case 0x066C: return ',';
    case 0x066D: return '*';
    case 0x06D4: return '.';
    }
    if (category(cp) == UTF8PROC_CATEGORY_ND) {
        int d = nd_value(cp);
        if (d >= 0)
            return '0' + d;
    }
    return cp;
}

/* A growable UTF-32 buffer: one allocation, doubled when full. */
struct cpbuf {
    int32_t *cp;
    size_t len, cap;
};

static int cpbuf_reserve(struct cpbuf *b, size_t more)
{
    if (b->cap - b->len >= more)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < more) {
        if (cap > SIZE_MAX / 2 / sizeof(int32_t))
            return -1;
        cap *= 2;
    }
    int32_t *p = realloc(b->cp, cap * sizeof(int32_t));
    if (!p)
        return -1;
    b->cp = p;
    b->cap = cap;
    return 0;
}

/* Flag state carried across the S2 scan. */
struct scan_state {
    int32_t last_base;      /* last code point that is not a mark/ignorable */
    unsigned tatweel_run;   /* tatweel in the current run */
    int run_after_letter;   /* the run started right after a letter */
};

/* Count the S2–S3 flags for one code point before anything is removed. */
static void count_flags(struct scan_state *st, int32_t cp, struct norm_flags *f)
{
    if (cp < 0x80) {
        if (st->tatweel_run >= 2 && st->run_after_letter && is_letter(cp))
            f->tatweel_runs++;
        st->tatweel_run = 0;
        st->last_base = cp;
        return;
    }
    int in_block = cp >= 0x0600 && cp <= 0x06FF;
    const utf8proc_property_t *prop = in_block ? NULL : utf8proc_get_property(cp);
    if (is_bidi_control(cp)) {
        f->bidi++;
        return;
    }
    if (in_block ? arabic_ignorable[cp - 0x0600] : prop->ignorable) {
        f->ignorables++;
        return;
    }
    if (cp == TATWEEL) {
        f->tatweel++;
        if (st->tatweel_run++ == 0)
            st->run_after_letter = st->last_base != TATWEEL && is_letter(st->last_base);
        st->last_base = cp;
        return;
    }
    int c = in_block ? arabic_category[cp - 0x0600] : prop->category;
    if (c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC ||
        c == UTF8PROC_CATEGORY_ME) {
        if (!is_arabic_mark(cp) &&
            (st->last_base == TATWEEL || is_arabic_letter(st->last_base)))
            f->foreign_marks++;
        return;
    }
    if (st->tatweel_run >= 2 && st->run_after_letter &&
        c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO)
        f->tatweel_runs++;
    st->tatweel_run = 0;
    st->last_base = cp;
}

/* S3–S4 of the Arabic block, computed once: most of an Arabic comment is
 * U+0600–U+06FF, and utf8proc's per-code-point decomposition was the
 * largest single cost of the fold. Each entry holds what
 * utf8proc_decompose_char gives with FOLD_OPTIONS (0 to 2 code points), or
 * n = 3 for "longer: ask utf8proc". FOLD_OPTIONS has no CHARBOUND, so the
 * result does not depend on the neighbours. */
#define ARABIC_CACHE_LO 0x0600
#define ARABIC_CACHE_HI 0x06FF
struct folded {
    unsigned char n;
    int32_t cp[2];
};
static struct folded arabic_cache[ARABIC_CACHE_HI - ARABIC_CACHE_LO + 1];
static pthread_once_t arabic_cache_once = PTHREAD_ONCE_INIT;

static void fill_plain_table(void);

static void fill_arabic_cache(void)
{
    for (int32_t cp = 0x0600; cp <= 0x06FF; cp++) {
        const utf8proc_property_t *prop = utf8proc_get_property(cp);
        arabic_category[cp - 0x0600] = (unsigned char)prop->category;
        arabic_ignorable[cp - 0x0600] = (unsigned char)prop->ignorable;
    }
    fill_class_table();     /* after arabic_category: the _slow functions read it */
    for (int32_t cp = ARABIC_CACHE_LO; cp <= ARABIC_CACHE_HI; cp++) {
        int32_t buf[8];
        int boundclass = UTF8PROC_BOUNDCLASS_START;
        utf8proc_ssize_t r = utf8proc_decompose_char(cp, buf, 8, FOLD_OPTIONS, &boundclass);
        struct folded *e = &arabic_cache[cp - ARABIC_CACHE_LO];
        if (r < 0 || r > 2) {
            e->n = 3;
            continue;
        }
        e->n = (unsigned char)r;
        for (utf8proc_ssize_t k = 0; k < r; k++)
            e->cp[k] = buf[k];
    }
    fill_plain_table();     /* from the cache above */
}

/* 1 when cp[0..n) holds a Hangul jamo that canonical composition could join. */
static int has_hangul_jamo(const int32_t *cp, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((cp[i] >= 0x1100 && cp[i] <= 0x11FF) || (cp[i] >= 0xA960 && cp[i] <= 0xA97F) ||
            (cp[i] >= 0xD7B0 && cp[i] <= 0xD7FF))
            return 1;
    return 0;
}

/* S2–S4: pre-map, then NFKC_Casefold with ignorables and marks removed, into
 * out (which starts empty). Returns 0 or -1 on allocation failure. */
static int s2_s4_fold(const int32_t *in, size_t n, struct cpbuf *out,
                      struct norm_flags *f, int maybe_hangul)
{
    struct scan_state st = { ' ', 0, 0 };
    int boundclass = UTF8PROC_BOUNDCLASS_START;

    if (cpbuf_reserve(out, n + n / 4 + 16) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (f)
            count_flags(&st, in[i], f);
        int32_t cp = premap(in[i]);
        if (cp == CP_DELETE)
            continue;
        if (cp < 0x80) {        /* ASCII: case folding is all NFKC_Casefold does */
            if (cpbuf_reserve(out, 1) < 0)
                return -1;
            out->cp[out->len++] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
            continue;
        }
        if (cp >= ARABIC_CACHE_LO && cp <= ARABIC_CACHE_HI && arabic_cache[cp - ARABIC_CACHE_LO].n < 3) {
            const struct folded *e = &arabic_cache[cp - ARABIC_CACHE_LO];
            if (cpbuf_reserve(out, 2) < 0)
                return -1;
            for (unsigned k = 0; k < e->n; k++)
                out->cp[out->len++] = e->cp[k];
            continue;
        }
        for (;;) {
            utf8proc_ssize_t room = (utf8proc_ssize_t)(out->cap - out->len);
            utf8proc_ssize_t r = utf8proc_decompose_char(cp, out->cp + out->len, room,
                                                         FOLD_OPTIONS, &boundclass);
            if (r < 0) {            /* cannot happen after S0; keep the text */
                out->cp[out->len++] = REPLACEMENT;
                break;
            }
            if (r <= room) {
                out->len += (size_t)r;
                break;
            }
            if (cpbuf_reserve(out, (size_t)r) < 0)
                return -1;
        }
    }
    /* Every code point with a combining class > 0 is a mark and was stripped,
     * so canonical ordering is a no-op; only composition of Hangul jamo
     * (which decomposition produced from syllables) remains: skip the pass
     * when there are none, as in every Arabic or Latin comment. */
    if (!maybe_hangul || !has_hangul_jamo(out->cp, out->len))
        return 0;
    utf8proc_ssize_t len = utf8proc_normalize_utf32(out->cp, (utf8proc_ssize_t)out->len,
                                                    UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (len >= 0)
        out->len = (size_t)len;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* S6 Arabic letter fold, S7 digits, S8 white space, S9 punctuation          */

struct letter_fold {
    int32_t lo, hi, to;     /* to == 0: delete */
};

/* S6, in arabic.md's order. */
static const struct letter_fold arabic_fold_table[] = {
    { 0x0671, 0x0673, 0x0627 }, { 0x0675, 0x0675, 0x0627 },
    { 0x0649, 0x0649, 0x064A },
    { 0x0629, 0x0629, 0x0647 }, { 0x06C3, 0x06C3, 0x0647 },
    { 0x06CC, 0x06CE, 0x064A }, { 0x06D0, 0x06D2, 0x064A },
    { 0x063D, 0x063F, 0x064A }, { 0x0678, 0x0678, 0x064A },
    { 0x06A9, 0x06B4, 0x0643 }, { 0x063B, 0x063C, 0x0643 },
    { 0x06BE, 0x06BE, 0x0647 }, { 0x06C0, 0x06C2, 0x0647 },
    { 0x06D5, 0x06D5, 0x0647 }, { 0x06FF, 0x06FF, 0x0647 },
    { 0x066E, 0x066E, 0x0628 }, { 0x067B, 0x067B, 0x0628 },
    { 0x067E, 0x067E, 0x0628 }, { 0x0680, 0x0680, 0x0628 },
    { 0x0679, 0x067A, 0x062A }, { 0x067C, 0x067C, 0x062A },
    { 0x067F, 0x067F, 0x062A },
    { 0x067D, 0x067D, 0x062B },
    { 0x0681, 0x0682, 0x062E }, { 0x0685, 0x0685, 0x062E },
    { 0x0683, 0x0684, 0x062C }, { 0x0686, 0x0687, 0x062C },
    { 0x06BF, 0x06BF, 0x062C },
    { 0x0688, 0x0690, 0x062F }, { 0x06EE, 0x06EE, 0x062F },
    { 0x0691, 0x0696, 0x0631 }, { 0x06EF, 0x06EF, 0x0631 },
    { 0x0697, 0x0699, 0x0632 },
    { 0x069A, 0x069B, 0x0633 },
    { 0x069C, 0x069C, 0x0634 }, { 0x06FA, 0x06FA, 0x0634 },
    { 0x069D, 0x069D, 0x0635 }, { 0x06FB, 0x06FB, 0x0635 },
    { 0x069E, 0x069E, 0x0636 }, { 0x06FC, 0x06FC, 0x0636 },
    { 0x069F, 0x069F, 0x0638 },
    { 0x06A0, 0x06A0, 0x063A },
    { 0x06A1, 0x06A6, 0x0641 },
    { 0x06A7, 0x06A8, 0x0642 }, { 0x066F, 0x066F, 0x0642 },
    { 0x06B5, 0x06B8, 0x0644 },
    { 0x06B9, 0x06BD, 0x0646 },
    { 0x06C4, 0x06CB, 0x0648 }, { 0x06CF, 0x06CF, 0x0648 },
    { 0x0676, 0x0677, 0x0648 },
    { 0x06FD, 0x06FD, 0x0621 },
    { 0x06FE, 0x06FE, 0x0645 },
    { 0x0674, 0x0674, 0 }, { 0x06E5, 0x06E6, 0 },
};

/* S6 for one code point in U+0600–U+06FF: the folded letter or CP_DELETE. */
static int32_t arabic_fold(int32_t cp)
{
    if (cp >= 0x0621 && cp <= 0x0648 && cp != 0x0629)
        return cp;          /* the common letters stay */
    for (size_t i = 0; i < sizeof arabic_fold_table / sizeof arabic_fold_table[0]; i++) {
        const struct letter_fold *e = &arabic_fold_table[i];
        if (cp >= e->lo && cp <= e->hi)
            return e->to ? e->to : CP_DELETE;
    }
    return cp;
}

/* S7–S9 for one non-ASCII code point outside the Arabic block. */
static int32_t map_other(int32_t cp)
{
    int c = category(cp);
    if (c == UTF8PROC_CATEGORY_ND) {
        int d = nd_value(cp);
        return d >= 0 ? '0' + d : cp;
    }
    if (c == UTF8PROC_CATEGORY_ZS || cp == 0x2028 || cp == 0x2029)
        return ' ';
    if (c == UTF8PROC_CATEGORY_PD || cp == 0x2212)
        return '-';
    switch (cp) {
    case 0x2018: case 0x2019: case 0x201A: case 0x201B: case 0x2032: case 0x02BC:
        return '\'';
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0x00AB: case 0x00BB:
    case 0x2033:
        return '"';
    case 0x2044: case 0x2215:
        return '/';
    }
    return cp;
}

/* Persian-letter bookkeeping for the word being read in s5_s9_map. */
struct word_tally {
    unsigned core;      /* letters of the Arabic alphabet */
    unsigned persian;   /* extended letters */
};

static void word_end(struct word_tally *w, struct norm_flags *f)
{
    if (w->core > 0)
        f->persian += w->persian;
    w->core = w->persian = 0;
}

/* S5–S9 in place: delete tatweel, fold Arabic letters, map digits, white
 * space and punctuation; count Persian letters in Arabic words on the way.
 * Returns the new count. */
static size_t s5_s9_map(int32_t *buf, size_t n, struct norm_flags *f)
{
    struct word_tally word = { 0, 0 };
    size_t w = 0;

    for (size_t i = 0; i < n; i++) {
        int32_t cp = buf[i];
        if (cp < 0x80) {
            if (!is_letter(cp))
                word_end(&word, f);
            buf[w++] = cp == '\t' ? ' ' : cp;
            continue;
        }
        if (cp == TATWEEL) {
            f->tatweel++;
            continue;
        }
        if (cp >= 0x0600 && cp <= 0x06FF) {
            if (is_persian_letter(cp))
                word.persian++;
            else if (is_core_arabic(cp))
                word.core++;
            else if (!is_letter(cp))
                word_end(&word, f);
            cp = arabic_fold(cp);
            if (cp == CP_DELETE)
                continue;
            buf[w++] = cp;
            continue;
        }
        if (!is_letter(cp))
            word_end(&word, f);
        buf[w++] = map_other(cp);
    }
    word_end(&word, f);
    return w;
}

/* ------------------------------------------------------------------------ */
/* S8 collapse and S10 elongation                                            */

/* True for code points S10 shortens: letters and symbols (L*, S*). Digits
 * are never shortened (phone numbers), nor is punctuation, so the `...` NFKC
 * makes of U+2026 survives. */
static int is_elongatable(int32_t cp)
{
    if (cp < 0x80)
        return is_letter(cp) || cp == '$' || cp == '+' || cp == '<' ||
               cp == '=' || cp == '>' || cp == '^' || cp == '`' || cp == '|' ||
               cp == '~';
    int c = category(cp);
    return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO) ||
           (c >= UTF8PROC_CATEGORY_SM && c <= UTF8PROC_CATEGORY_SO);
}

/* S8 and S10 as the code points arrive: white-space runs become one SPACE
 * (one LF when they hold a line break) and are trimmed at both ends; runs of
 * 3+ of one Arabic letter become 1, of another letter or symbol 2. The
 * previous code point and its run length are all it keeps, so fold_plain
 * feeds it straight from the bytes and s8_s10_collapse from a buffer. */
struct collapse {
    int32_t *start, *w;
    int32_t prev;       /* the previous code point, -1 after white space */
    size_t run;         /* how many of prev in a row */
    int space;          /* pending white space: 1 SPACE, 2 holds an LF */
};

static inline void collapse_push(struct collapse *c, int32_t cp)
{
    if (cp == ' ' || cp == '\n') {
        c->space |= cp == '\n' ? 2 : 1;
        c->prev = -1;
        return;
    }
    if (c->space) {
        if (c->w > c->start)
            *c->w++ = c->space & 2 ? '\n' : ' ';
        c->space = 0;
    }
    if (cp == c->prev) {
        if (++c->run >= 3 && is_elongatable(cp)) {
            if (c->run == 3 && is_arabic_letter(cp))
                c->w--;         /* the second one goes too: 3+ become 1 */
            return;
        }
    } else {
        c->prev = cp;
        c->run = 1;
    }
    *c->w++ = cp;
}

/* S8 and S10 in place over buf[0..n); returns the new count (the writer
 * never passes the reader). */
static size_t s8_s10_collapse(int32_t *buf, size_t n)
{
    struct collapse c = { buf, buf, -1, 0, 0 };
    for (size_t i = 0; i < n; i++)
        collapse_push(&c, buf[i]);
    return (size_t)(c.w - buf);
}

/* ------------------------------------------------------------------------ */
/* Flags read off the norm view                                              */

/* Words (runs of letters and digits) that mix Latin with Cyrillic/Greek or
 * Arabic with Latin. */
static unsigned count_mixed_script(const int32_t *buf, size_t n)
{
    unsigned mixed = 0;
    int latin = 0, cyrgreek = 0, arabic = 0;
    for (size_t i = 0; i <= n; i++) {
        int32_t cp = i < n ? buf[i] : ' ';
        if (i < n && (is_letter(cp) || is_number(cp))) {
            latin |= is_latin_letter(cp);
            cyrgreek |= is_cyrillic_or_greek_letter(cp);
            arabic |= in_arabic_blocks(cp) && is_letter(cp);
            continue;
        }
        if (latin && (cyrgreek || arabic))
            mixed++;
        latin = cyrgreek = arabic = 0;
    }
    return mixed;
}

/* Runs of 4+ one-letter words separated only by spaces and dots. */
static unsigned count_spaced_letters(const int32_t *buf, size_t n)
{
    unsigned runs = 0, singles = 0;
    int sep_ok = 1;     /* only spaces/dots since the last word */
    size_t i = 0;
    while (i < n) {
        if (!is_letter(buf[i])) {
            if (buf[i] != ' ' && buf[i] != '.')
                sep_ok = 0;
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && is_letter(buf[j]))
            j++;
        if (j - i == 1)
            singles = sep_ok ? singles + 1 : 1;
        else
            singles = 0;
        if (singles == 4)
            runs++;
        sep_ok = 1;
        i = j;
    }
    return runs;
}

/* ------------------------------------------------------------------------ */
/* S11 views                                                                 */

/* squash: letters and digits only, runs of one letter collapsed to 1. */
static size_t view_squash(const int32_t *in, size_t n, int32_t *out)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t cp = in[i];
        if (is_letter(cp)) {
            if (w == 0 || out[w - 1] != cp)
                out[w++] = cp;
        } else if (is_number(cp)) {
            out[w++] = cp;
        }
    }
    return w;
}

/* The dotless skeleton of a (folded) Arabic letter; other code points as is. */
static int32_t rasm_letter(int32_t cp)
{
    switch (cp) {
    case 0x0628: case 0x062A: case 0x062B: case 0x0646: case 0x064A:
    case 0x0649: case 0x0626: case 0x067E: case 0x0679: case 0x0680:
    case 0x067F: case 0x06D0: case 0x06CC:
        return 0x066E;                  /* ٮ */
    case 0x062C: case 0x062E: case 0x0686: case 0x0682:
        return 0x062D;                  /* ح */
    case 0x0630:
        return 0x062F;                  /* د */
    case 0x0632: case 0x0698: case 0x0695: case 0x0694:
        return 0x0631;                  /* ر */
    case 0x0634: case 0x069B: case 0x069C:
        return 0x0633;                  /* س */
    case 0x0636:
        return 0x0635;                  /* ص */
    case 0x0638:
        return 0x0637;                  /* ط */
    case 0x063A: case 0x06A0:
        return 0x0639;                  /* ع */
    case 0x0641: case 0x0642: case 0x06A4: case 0x06A6: case 0x06A8:
    case 0x066F:
        return 0x06A1;                  /* ڡ */
    case 0x06A9: case 0x06AF:
        return 0x0643;                  /* ك */
    case 0x06B5: case 0x06B8:
        return 0x0644;                  /* ل */
    case 0x0629: case 0x06BE: case 0x06C1: case 0x06C3:
        return 0x0647;                  /* ه */
    case 0x0624: case 0x06C6: case 0x06C4:
        return 0x0648;                  /* و */
    case 0x0623: case 0x0625: case 0x0622: case 0x0671:
        return 0x0627;                  /* ا */
    }
    return cp;
}

/* rasm: norm with Arabic letters reduced to their skeletons and runs of one
 * skeleton letter collapsed to 1; everything else is kept. */
static size_t view_rasm(const int32_t *in, size_t n, int32_t *out)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t cp = in[i];
        if (cp >= 0x0600 && cp <= 0x06FF) {
            cp = rasm_letter(cp);
            if (w > 0 && out[w - 1] == cp && is_arabic_letter(cp))
                continue;
        }
        out[w++] = cp;
    }
    return w;
}

/* skel's Latin look-alike for one (case-folded) code point, in words that hold
 * a Latin letter: Cyrillic/Greek/IPA confusables (a UTS #39 subset) and leet. */
static int32_t skel_char(int32_t cp)
{
    switch (cp) {
    case '0': return 'o';
    case '1': return 'i';
    case '3': return 'e';
    case '4': return 'a';
    case '5': return 's';
    case '7': return 't';
    case '$': return 's';
    case '@': return 'a';
    /* Cyrillic (upper case folds to these) */
    case 0x0430: return 'a';
    case 0x0432: return 'b';
    case 0x0435: return 'e';
    case 0x043A: return 'k';
    case 0x043C: return 'm';
    case 0x043D: return 'h';
    case 0x043E: return 'o';
    case 0x0440: return 'p';
    case 0x0441: return 'c';
    case 0x0442: return 't';
    case 0x0443: return 'y';
    case 0x0445: return 'x';
    case 0x044F: return 'r';
    case 0x0455: return 's';
    case 0x0456: return 'i';
    case 0x0458: return 'j';
    case 0x04AF: return 'y';
    case 0x04BB: return 'h';
    case 0x04CF: return 'l';
    case 0x0501: return 'd';
    case 0x051B: return 'q';
    case 0x051D: return 'w';
    /* Greek */
    case 0x03B1: return 'a';
    case 0x03B3: return 'y';
    case 0x03B5: return 'e';
    case 0x03B7: return 'n';
    case 0x03B9: return 'i';
    case 0x03BA: return 'k';
    case 0x03BD: return 'v';
    case 0x03BF: return 'o';
    case 0x03C1: return 'p';
    case 0x03C3: return 'o';
    case 0x03C4: return 't';
    case 0x03C5: return 'u';
    case 0x03C7: return 'x';
    case 0x03C9: return 'w';
    /* Latin/IPA */
    case 0x0131: return 'i';
    case 0x0237: return 'j';
    case 0x0251: return 'a';
    case 0x0261: return 'g';
    case 0x0269: return 'i';
    case 0x2113: return 'l';
    }
    return cp;
}

/* skel: like squash, after mapping look-alikes inside every white-space
 * separated word of norm that contains a Latin letter. */
static size_t view_skel(const int32_t *in, size_t n, int32_t *out)
{
    size_t w = 0, i = 0;
    while (i < n) {
        size_t end = i;
        int latin = 0;
        while (end < n && in[end] != ' ' && in[end] != '\n')
            latin |= is_latin_letter(in[end++]);
        for (; i < end; i++) {
            int32_t cp = latin ? skel_char(in[i]) : in[i];
            if (is_letter(cp)) {
                if (w == 0 || out[w - 1] != cp)
                    out[w++] = cp;
            } else if (is_number(cp)) {
                out[w++] = cp;
            }
        }
        i = end + 1;
    }
    return w;
}

/* ------------------------------------------------------------------------ */
/* Building the views                                                        */

static int set_view(struct norm_text *t, enum norm_view v, const int32_t *cp, size_t n)
{
    t->view[v] = utf8_encode(cp, n, &t->len[v]);
    return t->view[v] ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* The fast fold for plain text                                              */

/* What S2–S9 make of each code point of U+0600–U+06FF on its own: 0 to 2
 * code points, or n = -1 where the general fold must look (tatweel and the
 * S2b letters, which depend on their neighbours, and anything utf8proc
 * would expand further). Filled once by fill_arabic_cache from the very
 * functions the general fold calls. */
struct plain_map {
    signed char n;
    unsigned char flagged;  /* the general fold may count a flag on it */
    int32_t cp[2];
};
static struct plain_map plain_table[0x100];

/* 1 when the general fold could count an evasion flag on cp (U+0600–U+06FF)
 * other than mixed_script and spaced_letters, which are read off the norm
 * view: a bidi control, an ignorable, a mark of another script (counted
 * after an Arabic letter), or a Persian letter among S3–S4's outputs (counted
 * in a word with Arabic letters). Conservative: the plain fold declines such
 * text when the flags are wanted, and the general fold counts them. */
static int may_count_flags(int32_t cp)
{
    int c = arabic_category[cp - 0x0600];
    if (is_bidi_control(cp) || arabic_ignorable[cp - 0x0600] || cp == TATWEEL ||
        ((c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME) &&
         !is_arabic_mark(cp)))
        return 1;
    int32_t pre = premap(cp);
    if (pre == CP_DELETE || pre < ARABIC_CACHE_LO || pre > ARABIC_CACHE_HI)
        return is_persian_letter(pre);
    const struct folded *e = &arabic_cache[pre - ARABIC_CACHE_LO];
    for (unsigned k = 0; k < e->n && k < 2; k++)
        if (is_persian_letter(e->cp[k]))
            return 1;
    return is_persian_letter(pre);
}

static void fill_plain_table(void)
{
    for (int32_t cp = 0x0600; cp <= 0x06FF; cp++) {
        struct plain_map *m = &plain_table[cp - 0x0600];
        m->n = -1;
        if (is_s2b_letter(cp))
            continue;
        m->flagged = may_count_flags(cp);
        int32_t pre = premap(cp);
        if (pre == CP_DELETE) {
            m->n = 0;
            continue;
        }
        if (pre < 0x80) {
            m->n = 1;
            m->cp[0] = pre;
            continue;
        }
        if (pre < ARABIC_CACHE_LO || pre > ARABIC_CACHE_HI || arabic_cache[pre - ARABIC_CACHE_LO].n > 2)
            continue;
        const struct folded *e = &arabic_cache[pre - ARABIC_CACHE_LO];
        int n = 0, ok = 1;
        for (unsigned k = 0; k < e->n; k++) {
            int32_t f = e->cp[k];
            if (f < 0x0600 || f > 0x06FF || f == TATWEEL) {
                ok = 0;
                break;
            }
            f = arabic_fold(f);
            if (f != CP_DELETE)
                m->cp[n++] = f;
        }
        if (ok)
            m->n = (signed char)n;
    }
}

/* S0–S10 in one pass over the bytes, for the text most comments are:
 * printable ASCII, LF, TAB and U+0600–U+06FF without tatweel or ہ/ھ (the S2b
 * context letters). Each code point goes through the same steps as in the
 * general fold (S2 premap, the S3–S4 cache, S6 arabic_fold, S7–S9 for ASCII:
 * plain_table holds their outcome), with nothing to look at around it but
 * the S8/S10 runs (collapse_push). Writes the norm code points into out and
 * returns 1, or returns 0 (out's content then undefined) for anything else,
 * and norm_build takes the general path: bad UTF-8, other scripts, controls,
 * CR, markup when html, and, when the evasion flags are wanted (flags set),
 * any code point the general fold could count one on (may_count_flags): on
 * the text it folds, every count but mixed_script and spaced_letters is 0.
 * The raw view of such text is the text itself. normalize's unit test and
 * fuzz target check that both paths agree. */
static int fold_plain(const char *text, size_t len, int html, int flags, struct cpbuf *out)
{
    const unsigned char *p = (const unsigned char *)text;
    if (cpbuf_reserve(out, len + 1) < 0)
        return 0;
    struct collapse c = { out->cp, out->cp, -1, 0, 0 };
    for (size_t i = 0; i < len; i++) {
        unsigned char b = p[i];
        if (b < 0x80) {
            if (b >= 'A' && b <= 'Z')
                collapse_push(&c, b + 32);
            else if ((b >= 0x20 && b < 0x7F && !(html && (b == '&' || b == '<'))) || b == '\n')
                collapse_push(&c, b);
            else if (b == '\t')
                collapse_push(&c, ' ');
            else
                return 0;
            continue;
        }
        if (b < 0xD8 || b > 0xDB || i + 1 >= len || (p[i + 1] & 0xC0) != 0x80)
            return 0;
        const struct plain_map *e = &plain_table[(((b & 0x1F) << 6) | (p[++i] & 0x3F)) - 0x0600];
        if (e->n < 0 || (flags && e->flagged))
            return 0;
        for (int k = 0; k < e->n; k++)
            collapse_push(&c, e->cp[k]);
    }
    out->len = (size_t)(c.w - out->cp);
    return 1;
}

/* The code-point buffers of one fold, kept per thread between folds: three
 * large malloc/free pairs per comment were a visible share of a request.
 * Freed by the thread-specific-data destructor when the thread ends; a
 * buffer grown past SCRATCH_KEEP is given back after the fold. */
#define SCRATCH_KEEP (256 * 1024)
struct fold_scratch {
    struct cpbuf decoded, expanded, folded, view;
};
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void scratch_destroy(void *p)
{
    struct fold_scratch *s = p;
    free(s->decoded.cp);
    free(s->expanded.cp);
    free(s->folded.cp);
    free(s->view.cp);
    free(s);
}

static void scratch_key_create(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_destroy) == 0;
}

/* The calling thread's buffers, empty (len 0); NULL when out of memory. */
static struct fold_scratch *scratch_take(void)
{
    pthread_once(&scratch_once, scratch_key_create);
    if (!scratch_key_ok)
        return NULL;
    struct fold_scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s || pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    s->decoded.len = s->expanded.len = s->folded.len = s->view.len = 0;
    return s;
}

static void scratch_trim(struct cpbuf *b)
{
    if (b->cap * sizeof(int32_t) > SCRATCH_KEEP) {
        free(b->cp);
        b->cp = NULL;
        b->cap = 0;
    }
}

static void scratch_give_back(struct fold_scratch *s)
{
    scratch_trim(&s->decoded);
    scratch_trim(&s->expanded);
    scratch_trim(&s->folded);
    scratch_trim(&s->view);
}

/* Encode the folded views of want from sc->folded (n code points of norm). */
static int encode_views(struct norm_text *out, unsigned want, struct fold_scratch *sc, size_t n)
{
    const int32_t *norm = sc->folded.cp;
    if ((want & (1u << VIEW_NORM)) && set_view(out, VIEW_NORM, norm, n) < 0)
        return -1;
    if (!(want & ((1u << VIEW_SQUASH) | (1u << VIEW_RASM) | (1u << VIEW_SKEL))))
        return 0;
    if (cpbuf_reserve(&sc->view, n + 1) < 0)
        return -1;
    int32_t *scratch = sc->view.cp;
    if ((want & (1u << VIEW_SQUASH)) && set_view(out, VIEW_SQUASH, scratch, view_squash(norm, n, scratch)) < 0)
        return -1;
    if ((want & (1u << VIEW_RASM)) && set_view(out, VIEW_RASM, scratch, view_rasm(norm, n, scratch)) < 0)
        return -1;
    if ((want & (1u << VIEW_SKEL)) && set_view(out, VIEW_SKEL, scratch, view_skel(norm, n, scratch)) < 0)
        return -1;
    return 0;
}

/* The views of want (and the flags when wanted) of text that fold_plain
 * folded into sc->folded: its raw view is the text as it is (S0 changes
 * nothing in it), and its only flags are those read off the norm view. */
static int encode_plain(struct norm_text *out, const char *text, size_t len, unsigned want,
                        struct fold_scratch *sc)
{
    if (want & (1u << VIEW_RAW)) {
        if (!(out->view[VIEW_RAW] = malloc(len + 1)))
            return -1;
        memcpy(out->view[VIEW_RAW], text, len);
        out->view[VIEW_RAW][len] = '\0';
        out->len[VIEW_RAW] = len;
    }
    if (want & NORM_WANT_FLAGS) {
        out->flags.mixed_script = count_mixed_script(sc->folded.cp, sc->folded.len);
        out->flags.spaced_letters = count_spaced_letters(sc->folded.cp, sc->folded.len);
    }
    return encode_views(out, want, sc, sc->folded.len);
}

/* Fold text into the views whose bit is set in want (1u << view). Returns 0,
 * or -1 on allocation failure with out emptied. */
static int norm_build(struct norm_text *out, const char *text, size_t len,
                      int html, unsigned want)
{
    int rc = -1;

    pthread_once(&arabic_cache_once, fill_arabic_cache);
    memset(out, 0, sizeof *out);
    struct fold_scratch *sc = scratch_take();
    if (!sc || len >= SIZE_MAX / sizeof(int32_t) - 1)
        goto out;

    int flags = (want & NORM_WANT_FLAGS) != 0;
    struct cpbuf *folded = &sc->folded;
    if (!(want & NORM_GENERAL_PATH) && (want & ~(1u << VIEW_RAW) & ((1u << VIEW_COUNT) - 1)) &&
        fold_plain(text, len, html, flags, folded)) {
        rc = encode_plain(out, text, len, want, sc);
        goto out;
    }
    folded->len = 0;

    if (cpbuf_reserve(&sc->decoded, len + 1) < 0)
        goto out;
    int32_t *decoded = sc->decoded.cp;
    struct s0_seen seen = { 0, 0, 0 };
    size_t n = s0_decode(text, len, decoded, &out->flags, &seen);
    if ((want & (1u << VIEW_RAW)) && set_view(out, VIEW_RAW, decoded, n) < 0)
        goto out;
    if (!(want & ~(1u << VIEW_RAW))) {
        rc = 0;
        goto out;
    }

    if (html && seen.markup) {
        n = s1_html(decoded, n);
        seen.s2b = 1;               /* a reference may have made anything */
        seen.max_cp = 0x10FFFF;
    }

    int32_t *pre = decoded;
    size_t m = n;
    if (seen.s2b) {
        m = s2b_size(decoded, n);
        if (m != n) {
            if (cpbuf_reserve(&sc->expanded, m) < 0)
                goto out;
            pre = sc->expanded.cp;
        }
        unsigned fillers = 0;
        m = s2b_context(decoded, n, pre, &fillers);
        out->flags.foreign_marks += fillers;
    }

    if (s2_s4_fold(pre, m, folded, flags ? &out->flags : NULL, seen.max_cp >= 0x1100) < 0)
        goto out;

    struct norm_flags unwanted = { 0 };     /* counts nobody asked for */
    n = s5_s9_map(folded->cp, folded->len, flags ? &out->flags : &unwanted);
    n = s8_s10_collapse(folded->cp, n);
    if (flags) {
        out->flags.mixed_script = count_mixed_script(folded->cp, n);
        out->flags.spaced_letters = count_spaced_letters(folded->cp, n);
    }
    if (encode_views(out, want, sc, n) < 0)
        goto out;
    rc = 0;
out:
    if (sc)
        scratch_give_back(sc);
    if (rc < 0)
        norm_text_free(out);
    return rc;
}

int norm_text_build(struct norm_text *out, const char *text, size_t len, int html)
{
    return norm_build(out, text, len, html, ((1u << VIEW_COUNT) - 1) | NORM_WANT_FLAGS);
}

int norm_text_build_views(struct norm_text *out, const char *text, size_t len, int html,
                          unsigned want)
{
    return norm_build(out, text, len, html, want & (((1u << VIEW_COUNT) - 1) | NORM_WANT_FLAGS | NORM_GENERAL_PATH));
}

void norm_text_free(struct norm_text *t)
{
    for (int v = 0; v < VIEW_COUNT; v++)
        free(t->view[v]);
    memset(t, 0, sizeof *t);
}

char *norm_fold(const char *text, size_t len, enum norm_view view, size_t *outlen)
{
    struct norm_text t;
    if ((unsigned)view >= VIEW_COUNT)
        return NULL;
    if (norm_build(&t, text, len, 0, 1u << view) < 0)
        return NULL;
    char *s = t.view[view];
    if (outlen)
        *outlen = t.len[view];
    t.view[view] = NULL;
    norm_text_free(&t);
    return s;
}

static const char *const view_names[VIEW_COUNT] = {
    [VIEW_RAW] = "raw", [VIEW_NORM] = "norm", [VIEW_SQUASH] = "squash",
    [VIEW_RASM] = "rasm", [VIEW_SKEL] = "skel",
};

int norm_view_parse(const char *name, enum norm_view *out)
{
    for (int v = 0; v < VIEW_COUNT; v++) {
        if (strcmp(name, view_names[v]) == 0) {
            *out = (enum norm_view)v;
            return 0;
        }
    }
    return -1;
}

const char *norm_view_name(enum norm_view view)
{
    return (unsigned)view < VIEW_COUNT ? view_names[view] : NULL;
}
