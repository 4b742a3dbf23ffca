/* learn.c — token statistics learned from labeled comments (learn.h).
 *
 * The model is one open-addressing table from token hash to two counts.
 * Scoring follows Gary Robinson's "A statistical approach to the spam
 * problem" as SpamBayes implements it: each token's probability is pulled
 * toward 0.5 by how rarely it was seen, tokens within 0.1 of 0.5 say
 * nothing, and the 150 strongest are combined by Fisher's method into a
 * spam-likeness S and a ham-likeness H, giving (1 + S - H) / 2. That
 * combination stays near 0.5 on mixed evidence instead of jumping to 0 or 1
 * as a naive Bayes product does, which is what lets an operator put a
 * threshold on it. Pure module. */
#include "raqib/learn.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utf8proc.h>

#define UNKNOWN_STRENGTH 0.45   /* Robinson's s: weight of the 0.5 prior */
#define UNKNOWN_PROB     0.5    /* Robinson's x */
#define MIN_STRENGTH     0.1    /* |f - 0.5| below this is no clue */
#define MAX_CLUES        150
#define MAX_DOC_TOKENS   4096   /* distinct tokens looked at per comment */
#define DIGIT_RUN_TOKEN  5      /* digit runs this long become "#digits:N" */
#define STACK_SET        1024   /* per-comment set slots kept on the stack */
#define CHAR_DOC_TOKENS  16384  /* MAX_DOC_TOKENS with character n-grams */
#define PREFETCH        32         /* model lookups started ahead of use: in a busy server
                                   the clue index is out of cache, and 8 ahead left
                                   most of each lookup's wait */

struct slot {
    uint64_t key;               /* 0: empty */
    uint32_t pos, neg;
};

/* A token that can be a clue, with its probability (see build_clue_index). */
struct clue_slot {
    uint64_t key;               /* 0: empty */
    double f;
};

struct learn_model {
    struct slot *t;
    size_t cap, n;              /* cap a power of two */
    struct clue_slot *clue;     /* NULL: score from the counts */
    size_t clue_cap;            /* a power of two */
    unsigned clue_shift;        /* 64 - log2(clue_cap): see clue_start */
    unsigned long docs[2];      /* [0] negative, [1] positive comments */
    unsigned kinds;             /* LEARN_TOKENS_* */
    char feed_site[65];         /* "": not trained from a decisions feed */
    char feed_cursor[64];
    char labels[2][64];         /* decisions counted [0] negative, [1] positive: "approved,rejected" */
    unsigned long serial;       /* this model among all made in the process (learn_model_serial) */
};

static atomic_ulong serials = 1;

/* ---- hashing and tokens ----------------------------------------------- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x ? x : 1;           /* 0 marks an empty slot */
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_STEP(h, byte) (((h) ^ (unsigned char)(byte)) * 0x100000001b3ULL)
#define STEM_SALT  0x7374656d73746d31ULL   /* a stem's hash differs from the same word's */

static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = FNV_OFFSET;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return mix(h);
}

static uint64_t hash_pair(uint64_t a, uint64_t b)
{
    return mix(a ^ (b * 0x9e3779b97f4a7c15ULL) ^ 0x5bd1e9955bd1e995ULL);
}

/* Letters, marks and digits make words; everything else separates them.
 * ASCII and the Arabic letters, which most comments are made of, are
 * decided without the Unicode tables. */
static int is_word_char(utf8proc_int32_t cp)
{
    if (cp < 0x80)
        return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9');
    if ((cp >= 0x0621 && cp <= 0x063a) || (cp >= 0x0641 && cp <= 0x064a))
        return 1;
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
        return 1;
    default:
        return 0;
    }
}

/* The hash of one word: long digit runs stand for their length only, so
 * every 10-digit phone number is the same token. */
static uint64_t word_hash(const char *s, size_t n, size_t chars, int all_digits)
{
    if (all_digits && chars >= DIGIT_RUN_TOKEN) {
        char shape[32];
        int k = snprintf(shape, sizeof shape, "#digits:%zu", chars > 20 ? (size_t)20 : chars);
        return hash_bytes(shape, (size_t)k);
    }
    return hash_bytes(s, n);
}

struct affix { const char *s; size_t len; };
#define AFFIX(text) { text, sizeof text - 1 }

/* Arabic words carry clitics: و/ف "and", ال "the", ب/ل/ك before it, and
 * pronoun or plural endings after. The light stem (longest listed prefix
 * and suffix cut, at least three letters left) lets الكلاب, وكلب and كلبهم
 * share evidence. Tried in this order; the first that fits is cut. */
static const struct affix prefixes[] = {
    AFFIX("وال"), AFFIX("بال"), AFFIX("كال"), AFFIX("فال"), AFFIX("لل"), AFFIX("ال"), AFFIX("و"), AFFIX("ف"),
};
static const struct affix suffixes[] = {
    AFFIX("هما"), AFFIX("كما"), AFFIX("هم"), AFFIX("هن"), AFFIX("كم"), AFFIX("كن"), AFFIX("نا"), AFFIX("ها"),
    AFFIX("ين"), AFFIX("ون"), AFFIX("ات"), AFFIX("ان"), AFFIX("يه"), AFFIX("ه"), AFFIX("ك"), AFFIX("ي"),
};
#define NPREFIXES (sizeof prefixes / sizeof prefixes[0])
#define NSUFFIXES (sizeof suffixes / sizeof suffixes[0])
#define STEM_MIN  (3 * 2)       /* three Arabic letters, two bytes each */

/* An affix as the 8 bytes at a word's start (prefix) or end (suffix) hold
 * it: one load, a mask and a compare instead of a loop per affix (the
 * affix tests were a quarter of the tokenizer). Built from the bytes
 * themselves, so the byte order does not matter. */
struct affix_bits {
    uint64_t val, mask;
    size_t len;
};
static struct affix_bits prefix_bits[NPREFIXES], suffix_bits[NSUFFIXES];   /* tokenizer_tables */
/* Which affixes (bit i: the i-th) begin (prefixes) or end (suffixes) with
 * each letter of U+0600..U+067F: a word is tested against those of its
 * first and last letter alone, in list order, so the first that fits is
 * the same one. */
static uint16_t prefixes_by_letter[0x80], suffixes_by_letter[0x80];

static uint64_t load8(const void *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* a's bytes at the start (at_end 0) or the end of 8. */
static struct affix_bits affix_bits_of(const struct affix *a, int at_end)
{
    unsigned char v[8] = { 0 }, m[8] = { 0 };
    size_t at = at_end ? 8 - a->len : 0;
    memcpy(v + at, a->s, a->len);
    memset(m + at, 0xff, a->len);
    return (struct affix_bits){ load8(v), load8(m), a->len };
}

/* The letter of U+0600..U+067F the two bytes at p are, as 0..0x7f, or -1. */
static int arabic_letter(const char *p)
{
    unsigned char b0 = (unsigned char)p[0], b1 = (unsigned char)p[1];
    if ((b0 != 0xd8 && b0 != 0xd9) || (b1 & 0xc0) != 0x80)
        return -1;
    return (int)((((b0 & 0x1fu) << 6) | (b1 & 0x3fu)) - 0x600);
}

static void affix_bits_build(void)
{
    for (size_t i = 0; i < NPREFIXES; i++) {
        prefix_bits[i] = affix_bits_of(&prefixes[i], 0);
        prefixes_by_letter[arabic_letter(prefixes[i].s)] |= (uint16_t)(1u << i);
    }
    for (size_t i = 0; i < NSUFFIXES; i++) {
        suffix_bits[i] = affix_bits_of(&suffixes[i], 1);
        suffixes_by_letter[arabic_letter(suffixes[i].s + suffixes[i].len - 2)] |= (uint16_t)(1u << i);
    }
}

/* Where the light stem of s[0..n) starts (*a) and ends (*b): the first
 * listed prefix, then suffix, that leaves three letters. 0 when the word
 * has no such affix (or is not Arabic). Only after tokenizer_tables. */
static int stem_cut(const char *s, size_t n, size_t *a, size_t *b)
{
    *a = 0, *b = n;
    if ((unsigned char)s[0] < 0x80 || n < STEM_MIN + 2)
        return 0;
    uint64_t head = load8(s), tail = load8(s + n - 8);  /* n >= 8 */
    int first = arabic_letter(s), last = arabic_letter(s + n - 2);
    for (unsigned m = first < 0 ? 0 : prefixes_by_letter[first]; m; m &= m - 1) {
        size_t i = (size_t)__builtin_ctz(m);
        if ((head & prefix_bits[i].mask) == prefix_bits[i].val && n - prefix_bits[i].len >= STEM_MIN) {
            *a = prefix_bits[i].len;
            break;
        }
    }
    /* a suffix within s[a..n) leaving three letters: its bytes are the tail's */
    for (unsigned m = last < 0 ? 0 : suffixes_by_letter[last]; m; m &= m - 1) {
        size_t i = (size_t)__builtin_ctz(m);
        if (n - *a >= STEM_MIN + suffix_bits[i].len && (tail & suffix_bits[i].mask) == suffix_bits[i].val) {
            *b = n - suffix_bits[i].len;
            break;
        }
    }
    return *a != 0 || *b != n;
}

/* The hash of one word, and in *stem its light stem's (0: none). Long
 * digit runs stand for their length only, so every 10-digit phone number
 * is the same token, and have no stem. When the stem is the word's
 * beginning (no prefix cut) its FNV chain is the word's, taken on the
 * way. */
static uint64_t word_and_stem(const char *s, size_t n, size_t chars, int all_digits, uint64_t *stem)
{
    size_t a, b, i = 0;
    uint64_t h = FNV_OFFSET;
    *stem = 0;
    if (all_digits)
        return word_hash(s, n, chars, all_digits);
    if (stem_cut(s, n, &a, &b)) {
        if (a == 0) {
            for (; i < b; i++)
                h = FNV_STEP(h, s[i]);
            *stem = mix(mix(h) ^ STEM_SALT);
        } else {
            *stem = mix(hash_bytes(s + a, b - a) ^ STEM_SALT);
        }
    }
    for (; i < n; i++)
        h = FNV_STEP(h, s[i]);
    return mix(h);
}

/* The code point at s[0..n): 1- and 2-byte sequences (ASCII, Arabic) here,
 * the rest through utf8proc. Sets *step; *cp is -1 on invalid UTF-8. */
static utf8proc_int32_t next_cp(const char *s, size_t n, utf8proc_ssize_t *step)
{
    unsigned char b = (unsigned char)s[0];
    if (b < 0x80) {
        *step = 1;
        return b;
    }
    if ((b & 0xe0) == 0xc0 && b >= 0xc2 && n >= 2 && ((unsigned char)s[1] & 0xc0) == 0x80) {
        *step = 2;
        return (utf8proc_int32_t)(((b & 0x1fu) << 6) | ((unsigned char)s[1] & 0x3fu));
    }
    utf8proc_int32_t cp = -1;
    *step = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)n, &cp);
    if (*step < 1) {
        *step = 1;
        cp = -1;
    }
    return cp;
}

#define NGRAM_MIN   3         /* character n-grams of --char-ngrams models */
#define NGRAM_MAX   5
#define NGRAM_WORD  40        /* n-grams come from a word's first 40 characters */

/* Where the tokens go: to fn, or, when list is set, appended to it (the
 * scorer's list, filled without a call per token) until cap, when full
 * is set and tokenizing stops. */
struct sink {
    learn_token_fn fn;
    void *arg;
    uint64_t *list;
    size_t n, cap;
    int full;
    uint64_t *words;            /* with list: the word tokens alone as well, or NULL */
    size_t nwords, words_cap;
    int words_full;             /* words overflowed (the list goes on) */
    struct seen_word *seen;     /* with list: the words met, or NULL */
    size_t seen_cap, nseen;     /* seen_cap a power of two */
};

/* A word already tokenized in this comment. */
struct seen_word {
    const char *w;              /* NULL: empty */
    size_t n;
    uint64_t h;
};

/* 1 when the n bytes at w were a word earlier in the comment (their
 * n-grams then are all repeats: only a token's first occurrence counts,
 * so the scorer's list can do without them); else remembers them. The
 * bytes are compared, not only the hashes. 0 without a table, or when
 * it is half full. */
static int seen_before(struct sink *k, const char *w, size_t n, uint64_t h)
{
    if (!k->seen || k->nseen >= k->seen_cap / 2)
        return 0;
    size_t mask = k->seen_cap - 1, i = h & mask;
    for (; k->seen[i].w; i = (i + 1) & mask)
        if (k->seen[i].h == h && k->seen[i].n == n && memcmp(k->seen[i].w, w, n) == 0)
            return 1;
    k->seen[i] = (struct seen_word){ w, n, h };
    k->nseen++;
    return 0;
}

/* Pass one token on; non-zero to stop. */
static inline int emit(struct sink *k, uint64_t key)
{
    if (!k->list)
        return k->fn(key, k->arg);
    if (k->n == k->cap) {
        k->full = 1;
        return 1;
    }
    k->list[k->n++] = key;
    return 0;
}

/* Pass one word-level token (a word, its stem, a pair) on, and keep it in
 * the words list too when there is one. */
static inline int emit_word(struct sink *k, uint64_t key)
{
    if (k->words) {
        if (k->nwords == k->words_cap)
            k->words_full = 1;
        else
            k->words[k->nwords++] = key;
    }
    return emit(k, key);
}

/* The length of the UTF-8 sequence b leads. Only for the bytes of a word:
 * learn_tokens_of makes words of valid sequences alone. */
static size_t seq_len(unsigned char b)
{
    return b < 0x80 ? 1 : b < 0xe0 ? 2 : b < 0xf0 ? 3 : 4;
}

/* A word's first NGRAM_WORD characters between a start mark (0x01) and an
 * end mark (0x02), with where each padded position starts and ends
 * (at[p] to at[p + 1]). Returns the number of positions. */
static size_t pad_word(const char *w, size_t n, unsigned char *buf, size_t *at)
{
    size_t k = 0, i = 0;
    buf[0] = 0x01;
    at[k++] = 0;
    while (i < n && k <= NGRAM_WORD) {
        size_t step = seq_len((unsigned char)w[i]);
        at[k++] = i + 1;
        i += step;
    }
    i = i < n ? i : n;          /* a sequence cut by the word's end (none from learn_tokens_of) */
    memcpy(buf + 1, w, i);
    buf[i + 1] = 0x02;
    at[k] = i + 1;
    at[k + 1] = i + 2;
    return k + 1;
}

/* The character 3- to 5-grams of one word, padded with a start and an end
 * mark, as scikit-learn's char_wb analyzer makes them: they let a model
 * trained on كلب recognize كلاب, يا_كلب and misspellings no stem list
 * covers. Each n-gram is hashed as a leading 0x1f (no word holds control
 * characters, so n-grams and words never share a hash), 0x01 for the
 * start mark, the bytes, 0x02 for the end mark; the n-grams starting at one
 * position share their prefix's hash: one chain per start position, going
 * out by start position and size. (Advancing all starts' chains side by
 * side, a character at a time, cost more in loop bookkeeping than the
 * chains' overlap saved.) Returns emit's non-zero. */
static int word_ngrams(const char *w, size_t n, struct sink *k)
{
    unsigned char buf[NGRAM_WORD * 4 + 2];
    size_t at[NGRAM_WORD + 3];
    size_t padded = pad_word(w, n, buf, at);
    if (padded < NGRAM_MIN)
        return 0;
    for (size_t p = 0; p + NGRAM_MIN <= padded; p++) {
        uint64_t h = FNV_STEP(FNV_OFFSET, 0x1f);
        const unsigned char *b = buf + at[p];
        for (size_t j = NGRAM_MIN - 1; j < NGRAM_MAX && p + j < padded; j++) {
            for (const unsigned char *e = buf + at[p + j + 1]; b < e; b++)
                h = FNV_STEP(h, *b);
            if (emit(k, mix(h)))
                return 1;
        }
    }
    return 0;
}

/* The tokens of one word of two or more characters; prev is the word
 * before it (0: none), and becomes this one. Returns fn's non-zero. */
static int word_tokens(const char *w, size_t n, size_t chars, int all_digits, unsigned kinds, uint64_t *prev,
                       struct sink *k)
{
    uint64_t stem, h = word_and_stem(w, n, chars, all_digits, &stem);
    if (emit_word(k, h) || (stem && emit_word(k, stem)) || (*prev && emit_word(k, hash_pair(*prev, h))))
        return 1;
    *prev = h;
    return (kinds & LEARN_TOKENS_CHARS) && !all_digits && !seen_before(k, w, n, h) && word_ngrams(w, n, k);
}

/* is_word_char of every code point of one or two UTF-8 bytes (U+0000 to
 * U+07FF: ASCII, Latin, Greek, Cyrillic, Hebrew, Arabic), one bit each,
 * so the tokenizer's loop reads a bit instead of range tests and the
 * Unicode tables. Built once from is_word_char itself. */
static unsigned char short_word_bits[0x800 / 8];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

/* The tokenizer's tables: the word bits, the affixes' (stem_cut). */
static void tokenizer_tables(void)
{
    for (utf8proc_int32_t cp = 0; cp < 0x800; cp++)
        if (is_word_char(cp))
            short_word_bits[cp >> 3] |= (unsigned char)(1u << (cp & 7));
    affix_bits_build();
}

static int short_word(unsigned cp)
{
    return short_word_bits[cp >> 3] >> (cp & 7) & 1;
}

/* learn_tokens_of into a sink. Reads each code point as next_cp does,
 * with its one- and two-byte cases (nearly every byte of a comment) here. */
static void tokenize(const char *norm, size_t len, unsigned kinds, struct sink *k)
{
    size_t i = 0, start = 0, chars = 0;
    int all_digits = 1;
    uint64_t prev = 0;
    pthread_once(&tables_once, tokenizer_tables);
    while (i <= len) {
        utf8proc_ssize_t step = 1;
        int word = 0, digit = 0;
        if (i < len) {
            unsigned char b = (unsigned char)norm[i], c;
            if (b < 0x80) {
                word = short_word(b);
                digit = b >= '0' && b <= '9';
            } else if (b >= 0xc2 && b < 0xe0 && i + 1 < len && ((c = (unsigned char)norm[i + 1]) & 0xc0) == 0x80) {
                word = short_word(((b & 0x1fu) << 6) | (c & 0x3fu));
                step = 2;
            } else {
                utf8proc_int32_t cp = next_cp(norm + i, len - i, &step);
                word = cp >= 0 && is_word_char(cp);
            }
        }
        if (word) {
            if (!chars)
                start = i, all_digits = 1;
            chars++;
            all_digits &= digit;
        } else if (chars) {
            /* one letter alone says nothing */
            if (chars >= 2 && word_tokens(norm + start, i - start, chars, all_digits, kinds, &prev, k))
                return;
            chars = 0;
        }
        i += (size_t)step;
    }
}

void learn_tokens_of(const char *norm, size_t len, unsigned kinds, learn_token_fn fn, void *arg)
{
    struct sink k = { .fn = fn, .arg = arg };
    tokenize(norm, len, kinds, &k);
}

void learn_tokens(const char *norm, size_t len, learn_token_fn fn, void *arg)
{
    learn_tokens_of(norm, len, LEARN_TOKENS_WORDS, fn, arg);
}

/* ---- the table ---------------------------------------------------------- */

struct learn_model *learn_model_new(void)
{
    struct learn_model *m = calloc(1, sizeof *m);
    if (m && !(m->t = calloc(m->cap = 1024, sizeof *m->t))) {
        free(m);
        return NULL;
    }
    if (m)
        m->serial = atomic_fetch_add(&serials, 1);
    return m;
}

unsigned long learn_model_serial(const struct learn_model *m)
{
    return m ? m->serial : 0;
}

struct learn_model *learn_model_copy(const struct learn_model *m)
{
    struct learn_model *c = malloc(sizeof *c);
    if (!c)
        return NULL;
    *c = *m;
    c->clue = NULL;
    c->clue_cap = 0;
    c->serial = atomic_fetch_add(&serials, 1);
    if (!(c->t = malloc(m->cap * sizeof *c->t))) {
        free(c);
        return NULL;
    }
    memcpy(c->t, m->t, m->cap * sizeof *c->t);
    return c;
}

void learn_model_free(struct learn_model *m)
{
    if (!m)
        return;
    free(m->clue);
    free(m->t);
    free(m);
}

/* Forget the clue index (build_clue_index), as when the counts change. */
static void drop_clue_index(struct learn_model *m)
{
    free(m->clue);
    m->clue = NULL;
    m->clue_cap = 0;
}

static struct slot *find(const struct learn_model *m, uint64_t key)
{
    size_t mask = m->cap - 1;
    for (size_t i = key & mask;; i = (i + 1) & mask)
        if (m->t[i].key == key || m->t[i].key == 0)
            return &m->t[i];
}

/* Double the table when it is 70 % full. */
static int grow(struct learn_model *m)
{
    if (m->n * 10 < m->cap * 7)
        return 0;
    struct learn_model bigger = { .cap = m->cap * 2 };
    if (!(bigger.t = calloc(bigger.cap, sizeof *bigger.t)))
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->t[i].key)
            *find(&bigger, m->t[i].key) = m->t[i];
    free(m->t);
    m->t = bigger.t;
    m->cap = bigger.cap;
    return 0;
}

/* Insert or find key; NULL when out of memory. */
static struct slot *upsert(struct learn_model *m, uint64_t key)
{
    if (grow(m) < 0)
        return NULL;
    struct slot *s = find(m, key);
    if (!s->key) {
        s->key = key;
        m->n++;
    }
    return s;
}

/* ---- one comment's distinct tokens -------------------------------------- */

struct doc {
    uint64_t *set;              /* open addressing, 0 empty */
    size_t cap, n, max;         /* max: distinct tokens looked at */
    uint64_t stack[STACK_SET];
    void (*each)(struct doc *d, uint64_t key);  /* called once per new token */
    const struct learn_model *model;
    const struct learn_model *site;     /* scoring: counts added to model's, or NULL */
    struct learn_model *train;
    uint64_t *out;                      /* learn_doc_tokens: where the tokens go */
    int positive, failed;
    double *clues;              /* scoring: strongest token probabilities */
    size_t nclues, nlisted;     /* nlisted: n-gram models list tokens first */
    double clue_stack[STACK_SET / 2];
};

/* Set up the per-comment set, sized for the tokens len bytes can hold,
 * and room for a clue per token when scoring (training keeps no clues). */
static size_t doc_max(unsigned kinds)
{
    return kinds & LEARN_TOKENS_CHARS ? CHAR_DOC_TOKENS : MAX_DOC_TOKENS;
}

static size_t doc_cap(size_t len, unsigned kinds)
{
    /* a word of k bytes makes at most 3k n-grams besides its own tokens */
    size_t want = 2 * (len + 2) * (kinds & LEARN_TOKENS_CHARS ? 4 : 1), cap = 64;
    while (cap < want && cap < 2 * doc_max(kinds))
        cap *= 2;
    return cap;
}

/* How many distinct tokens of a comment of len bytes are looked at (see
 * doc_token): those past it are not. */
static size_t doc_limit(size_t len, unsigned kinds)
{
    size_t half = doc_cap(len, kinds) / 2;
    return half < doc_max(kinds) ? half : doc_max(kinds);
}

static int doc_init(struct doc *d, size_t len, unsigned kinds, int scoring)
{
    size_t cap = doc_cap(len, kinds);
    d->max = doc_max(kinds);
    d->cap = cap;
    d->n = 0;
    d->set = d->stack;
    d->clues = scoring ? d->clue_stack : NULL;
    if (cap > STACK_SET) {
        d->set = malloc(cap * sizeof *d->set);
        d->clues = scoring ? malloc(cap / 2 * sizeof *d->clues) : NULL;
        if (!d->set || (scoring && !d->clues)) {
            free(d->set);
            free(d->clues);
            return -1;
        }
    }
    memset(d->set, 0, cap * sizeof *d->set);
    return 0;
}

static void doc_done(struct doc *d)
{
    if (d->set != d->stack) {
        free(d->set);
        free(d->clues);
    }
}

/* learn_tokens callback: pass each token once to d->each. */
static int doc_token(uint64_t key, void *arg)
{
    struct doc *d = arg;
    size_t mask = d->cap - 1, i = key & mask;
    while (d->set[i] && d->set[i] != key)
        i = (i + 1) & mask;
    if (d->set[i])
        return 0;
    if (d->n >= d->cap / 2 || d->n >= d->max)
        return 1;  /* enough tokens seen: stop */
    d->set[i] = key;
    d->n++;
    d->each(d, key);
    return d->failed;
}

static void count_token(struct doc *d, uint64_t key)
{
    struct slot *s = upsert(d->train, key);
    if (!s) {
        d->failed = 1;
        return;
    }
    if (d->positive)
        s->pos++;
    else
        s->neg++;
}

int learn_model_add(struct learn_model *m, const char *norm, size_t len, int positive)
{
    drop_clue_index(m);         /* the counts change: the probabilities too */
    struct doc d = { .each = count_token, .train = m, .positive = positive != 0 };
    if (doc_init(&d, len, m->kinds, 0) < 0)
        return -1;
    learn_tokens_of(norm, len, m->kinds, doc_token, &d);
    doc_done(&d);
    if (d.failed)
        return -1;
    m->docs[positive != 0]++;
    return 0;
}

/* ---- scoring ------------------------------------------------------------ */

/* Robinson's probability that a comment holding this token is positive. */
static double prob_of(unsigned long pos, unsigned long neg, unsigned long docs_pos, unsigned long docs_neg)
{
    double pr = (double)pos / (double)docs_pos;
    double nr = (double)neg / (double)docs_neg;
    double raw = pr / (pr + nr), seen = (double)pos + (double)neg;
    return (UNKNOWN_STRENGTH * UNKNOWN_PROB + seen * raw) / (UNKNOWN_STRENGTH + seen);
}

static double token_prob(const struct learn_model *m, const struct slot *s)
{
    return prob_of(s->pos, s->neg, m->docs[1], m->docs[0]);
}

static int is_clue(double f)
{
    return fabs(f - 0.5) >= MIN_STRENGTH;
}

/* Where key's search starts in m's clue index (clue_cap slots, a power of
 * two, 64 or more; the shift kept with it): the top bits of key times the
 * golden ratio, not the key's low bits, because indexes are filled by
 * walking a count table in slot order, that is in the order of the keys'
 * low bits, and probing by those into a smaller index piles every key onto
 * the slots already taken (a joint index of a site holding 300,000 tokens
 * took seconds instead of tens of milliseconds). The product also spreads
 * keys whose low bits say little. */
static inline size_t clue_start(const struct learn_model *m, uint64_t key)
{
    return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> m->clue_shift);
}

/* Give m's clue index cap slots (a power of two, 64 or more). */
static void set_clue_cap(struct learn_model *m, size_t cap)
{
    m->clue_cap = cap;
    m->clue_shift = 64u - (unsigned)__builtin_ctzll((unsigned long long)cap);
}
static struct clue_slot *clue_find(const struct learn_model *m, uint64_t key)
{
    size_t mask = m->clue_cap - 1;
    for (size_t i = clue_start(m, key);; i = (i + 1) & mask)
        if (m->clue[i].key == key || m->clue[i].key == 0)
            return &m->clue[i];
}

/* Index the tokens that can be clues, with their probabilities, once a
 * loaded model's counts are final: scoring then skips the tokens that say
 * nothing and the arithmetic of the rest, and the index, holding only those
 * tokens at most half full, is smaller than the counts. The probability is
 * token_prob's very value, so scores stay the same to the last bit. Out of
 * memory, scoring reads the counts as before. */
static void build_clue_index(struct learn_model *m)
{
    size_t strong = 0, cap = 64;
    drop_clue_index(m);
    if (!m->docs[0] || !m->docs[1])
        return;
    for (size_t i = 0; i < m->cap; i++)
        strong += m->t[i].key && is_clue(token_prob(m, &m->t[i]));
    while (cap < 2 * strong)
        cap *= 2;
    if (!(m->clue = calloc(cap, sizeof *m->clue)))
        return;
    set_clue_cap(m, cap);
    for (size_t i = 0; i < m->cap; i++) {
        double f = m->t[i].key ? token_prob(m, &m->t[i]) : 0.5;
        if (is_clue(f))
            *clue_find(m, m->t[i].key) = (struct clue_slot){ m->t[i].key, f };
    }
}

/* The probability of a token from its counts a (the model's) and b (a
 * site's), summed, as are the comment totals; 0.5 (no clue) when neither
 * counted it. */
static double joint_prob(const struct learn_model *m, const struct learn_model *site, const struct slot *a,
                         const struct slot *b)
{
    unsigned long pos = (unsigned long)a->pos + b->pos, neg = (unsigned long)a->neg + b->neg;
    if (!pos && !neg)
        return 0.5;
    return prob_of(pos, neg, m->docs[1] + site->docs[1], m->docs[0] + site->docs[0]);
}

/* A clue from the model's counts plus a site's (learn_model_score_site):
 * the probability from the summed counts and documents, so a site's
 * decisions weigh exactly as many comments of the training set would. */
static void add_site_clue(struct doc *d, uint64_t key)
{
    double f = joint_prob(d->model, d->site, find(d->model, key), find(d->site, key));
    if (is_clue(f))
        d->clues[d->nclues++] = f;
}

/* Call fn on each token of m or site that is a clue with their counts
 * summed, with its probability: every token of m, then the site's that m
 * lacks. */
static void each_joint_clue(const struct learn_model *m, const struct learn_model *site,
                            void (*fn)(struct learn_model *j, uint64_t key, double f), struct learn_model *j)
{
    static const struct slot none;
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->t[i].key)
            continue;
        const struct slot *b = find(site, m->t[i].key);
        double f = joint_prob(m, site, &m->t[i], b->key ? b : &none);
        if (is_clue(f))
            fn(j, m->t[i].key, f);
    }
    for (size_t i = 0; i < site->cap; i++) {
        if (!site->t[i].key || find(m, site->t[i].key)->key)
            continue;
        double f = joint_prob(m, site, &none, &site->t[i]);
        if (is_clue(f))
            fn(j, site->t[i].key, f);
    }
}

static void count_joint(struct learn_model *j, uint64_t key, double f)
{
    (void)key, (void)f;
    j->n++;
}

static void put_joint(struct learn_model *j, uint64_t key, double f)
{
    *clue_find(j, key) = (struct clue_slot){ key, f };
}

struct learn_model *learn_model_joint_index(const struct learn_model *m, const struct learn_model *site)
{
    struct learn_model *j = calloc(1, sizeof *j);
    if (!j)
        return NULL;
    j->kinds = m->kinds;
    j->docs[0] = m->docs[0] + site->docs[0];
    j->docs[1] = m->docs[1] + site->docs[1];
    j->serial = atomic_fetch_add(&serials, 1);
    each_joint_clue(m, site, count_joint, j);
    size_t cap = 64;
    while (cap < 2 * j->n)
        cap *= 2;
    set_clue_cap(j, cap);
    if (!(j->clue = calloc(j->clue_cap, sizeof *j->clue))) {
        free(j);
        return NULL;
    }
    each_joint_clue(m, site, put_joint, j);
    return j;
}

static void add_clue(struct doc *d, uint64_t key)
{
    if (d->site) {
        add_site_clue(d, key);
        return;
    }
    if (d->model->clue) {
        const struct clue_slot *c = clue_find(d->model, key);
        if (c->key)
            d->clues[d->nclues++] = c->f;
        return;
    }
    const struct slot *s = find(d->model, key);
    if (!s->key)
        return;
    double f = token_prob(d->model, s);
    if (is_clue(f))
        d->clues[d->nclues++] = f;
}

static void strongest_first(double *c, size_t n, size_t k);

/* A clue with its strength |f - 0.5|, computed once. */
struct ranked {
    double strength, f;
};

/* Merge sort of r[0..n) by strength, strongest first, equal strengths in
 * their order (stable), through tmp (n entries). */
static void sort_stable(struct ranked *r, struct ranked *tmp, size_t n)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n, hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                tmp[k++] = r[b].strength > r[a].strength ? r[b++] : r[a++];
            while (a < mid)
                tmp[k++] = r[a++];
            while (b < hi)
                tmp[k++] = r[b++];
        }
        memcpy(r, tmp, n * sizeof *r);
    }
}

/* Put in clues[0..keep) the keep strongest of clues[0..n), keep < n, in
 * the order a stable sort of all n by strength (strongest first) would
 * put them: those stronger than the keep-th strength, and of those equal
 * to it the first in the comment, then sorted stably. This is the order
 * word models have always combined their clues in (a stable qsort of
 * every clue: glibc's merge sort), found without sorting hundreds of them.
 * -1 when out of memory (clues unchanged). */
static int strongest_in_order(double *clues, size_t n, size_t keep)
{
    struct ranked *r = malloc(2 * keep * sizeof *r);
    double *pick = malloc(n * sizeof *pick);
    if (!r || !pick) {
        free(r);
        free(pick);
        return -1;
    }
    memcpy(pick, clues, n * sizeof *pick);
    strongest_first(pick, n, keep);
    double cut = fabs(pick[0] - 0.5);
    size_t stronger = 0;
    for (size_t i = 1; i < keep; i++)
        if (fabs(pick[i] - 0.5) < cut)
            cut = fabs(pick[i] - 0.5);
    for (size_t i = 0; i < n; i++)
        stronger += fabs(clues[i] - 0.5) > cut;
    size_t ties = keep - stronger, m = 0;
    for (size_t i = 0; i < n && m < keep; i++) {
        double x = fabs(clues[i] - 0.5);
        if (x > cut || (x == cut && ties && ties--))
            r[m++] = (struct ranked){ x, clues[i] };
    }
    sort_stable(r, r + keep, m);
    for (size_t i = 0; i < m; i++)
        clues[i] = r[i].f;
    free(pick);
    free(r);
    return 0;
}

static int by_strength(const void *a, const void *b)
{
    double x = fabs(*(const double *)a - 0.5), y = fabs(*(const double *)b - 0.5);
    return (x < y) - (x > y);
}

/* P(chi-square with v degrees of freedom >= x2), v even: the series
 * e^-m (1 + m + m^2/2! + …) with m = x2/2, as SpamBayes computes it. Past
 * m = 700 e^-m underflows; with at most 150 clues (v/2 <= 150) the whole
 * sum is then below 1e-130, so 0 is the answer. */
static double chi2_q(double x2, size_t v)
{
    double m = x2 / 2.0;
    if (m <= 0)
        return 1.0;
    if (m > 700.0)
        return 0.0;
    double term = exp(-m), sum = term;
    for (size_t i = 1; i < v / 2; i++) {
        term *= m / (double)i;
        sum += term;
    }
    return sum < 1.0 ? sum : 1.0;
}

/* Move the k strongest of n clues to the front, in no order (three-way
 * quickselect): a character n-gram model finds thousands of clues in a long
 * comment, and sorting them all to keep 150 would cost more than the rest. */
static void strongest_first(double *c, size_t n, size_t k)
{
    size_t lo = 0, hi = n;
    while (hi - lo > 1) {
        double pivot = fabs(c[lo + (hi - lo) / 2] - 0.5), t;
        size_t lt = lo, i = lo, gt = hi;   /* [lo, lt) stronger, [gt, hi) weaker */
        while (i < gt) {
            double x = fabs(c[i] - 0.5);
            if (x > pivot)
                t = c[lt], c[lt++] = c[i], c[i++] = t;
            else if (x < pivot)
                t = c[--gt], c[gt] = c[i], c[i] = t;
            else
                i++;
        }
        if (k < lt)
            hi = lt;
        else if (k <= gt)
            return;
        else
            lo = gt;
    }
}

/* Fisher's combination of the clues into one score. Word models sort the
 * clues (their scores stay what they always were); n-gram models select. */
static double combine(double *clues, size_t n, int select)
{
    if (!n)
        return 0.5;
    if (n > MAX_CLUES) {
        if (select)
            strongest_first(clues, n, MAX_CLUES);
        else
            if (strongest_in_order(clues, n, MAX_CLUES) < 0)
                qsort(clues, n, sizeof *clues, by_strength);
        n = MAX_CLUES;
    }
    /* The products of f and of 1 - f, renormalized with frexp before they
     * underflow: two logs in all instead of two per clue. */
    double spam = 1.0, ham = 1.0;
    int spam_exp = 0, ham_exp = 0, e;
    for (size_t i = 0; i < n; i++) {
        spam *= 1.0 - clues[i];
        ham *= clues[i];
        if (spam < 1e-200) {
            spam = frexp(spam, &e);
            spam_exp += e;
        }
        if (ham < 1e-200) {
            ham = frexp(ham, &e);
            ham_exp += e;
        }
    }
    double ln_spam = log(spam) + spam_exp * M_LN2, ln_ham = log(ham) + ham_exp * M_LN2;
    double s = 1.0 - chi2_q(-2.0 * ln_spam, 2 * n);
    double h = 1.0 - chi2_q(-2.0 * ln_ham, 2 * n);
    return (s - h + 1.0) / 2.0;
}

/* doc callback of n-gram models: list the token, its 64 bits in the next
 * clue's place (a clue never outruns the token it comes from, so the list
 * and the clues share the array). */
static void list_token(struct doc *d, uint64_t key)
{
    memcpy(&d->clues[d->nlisted++], &key, sizeof key);
}

/* The clues of the listed tokens, the model's slots fetched PREFETCH tokens
 * ahead: an n-gram model is megabytes, far more than the cache, and a
 * comment holds thousands of n-grams, so waiting on each lookup in turn
 * would be most of the time. */
static void add_listed_clues(struct doc *d)
{
    size_t mask = d->model->cap - 1;
    for (size_t i = 0; i < d->nlisted; i++) {
        uint64_t key, ahead;
        if (i + PREFETCH < d->nlisted) {
            memcpy(&ahead, &d->clues[i + PREFETCH], sizeof ahead);
            if (d->site) {      /* add_site_clue reads both count tables */
                __builtin_prefetch(&d->model->t[ahead & mask]);
                __builtin_prefetch(&d->site->t[ahead & (d->site->cap - 1)]);
            } else if (d->model->clue) {
                __builtin_prefetch(&d->model->clue[clue_start(d->model, ahead)]);
            } else {
                __builtin_prefetch(&d->model->t[ahead & mask]);
            }
        }
        memcpy(&key, &d->clues[i], sizeof key);
        add_clue(d, key);
    }
}

/* The tokens of list[0..n) the clue index holds, in order, into key with
 * their probabilities in f; the index slots are fetched PREFETCH tokens
 * ahead (see add_listed_clues). Returns how many. */
static size_t indexed_hits(const struct learn_model *m, const uint64_t *list, size_t n, uint64_t *key, double *f)
{
    size_t hits = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + PREFETCH < n)
            __builtin_prefetch(&m->clue[clue_start(m, list[i + PREFETCH])]);
        const struct clue_slot *c = clue_find(m, list[i]);
        if (c->key) {
            key[hits] = list[i];
            f[hits++] = c->f;
        }
    }
    return hits;
}

/* Add key to set (open addressing, mask + 1 slots, 0 empty); 1 when it
 * was not there yet. */
static int set_insert(uint64_t *set, size_t mask, uint64_t key)
{
    size_t j = key & mask;
    while (set[j] && set[j] != key)
        j = (j + 1) & mask;
    if (set[j])
        return 0;
    set[j] = key;
    return 1;
}

/* Keep the first occurrence of each of the n keys with its f, in order;
 * set (cap slots, a power of two over 2n, zeroed) remembers them. Returns
 * how many are kept. */
static size_t first_occurrences(const uint64_t *key, double *f, size_t n, uint64_t *set, size_t cap)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (set_insert(set, cap - 1, key[i]))
            f[kept++] = f[i];
    return kept;
}

/* ---- scoring from a listed text ----------------------------------------- */

/* The first occurrence of each key of list[0..n), in order, into keys; set
 * (cap slots, a power of two over 2n, zeroed) remembers them. Returns how
 * many. */
static size_t first_keys(const uint64_t *list, size_t n, uint64_t *keys, uint64_t *set, size_t cap)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (set_insert(set, cap - 1, list[i]))
            keys[kept++] = list[i];
    return kept;
}

/* add_clue for each of the n keys in turn, the tables it reads fetched
 * PREFETCH keys ahead (see add_listed_clues). */
static void clues_of(struct doc *d, const uint64_t *keys, size_t n)
{
    const struct learn_model *m = d->model;
    for (size_t i = 0; i < n; i++) {
        if (i + PREFETCH < n) {
            uint64_t ahead = keys[i + PREFETCH];
            if (d->site) {
                __builtin_prefetch(&m->t[ahead & (m->cap - 1)]);
                __builtin_prefetch(&d->site->t[ahead & (d->site->cap - 1)]);
            } else if (m->clue) {
                __builtin_prefetch(&m->clue[clue_start(m, ahead)]);
            } else {
                __builtin_prefetch(&m->t[ahead & (m->cap - 1)]);
            }
        }
        add_clue(d, keys[i]);
    }
}

/* ---- per-thread scratch ------------------------------------------------- */

/* One region per thread, kept between comments, for learn_text_list's table
 * of words met and then score_listed's arrays: a calloc of the table per
 * listing and two mallocs and a calloc per model per comment (and their
 * frees) were a visible share of a request. The two share the region as
 * they shared malloc's recently freed memory, so the arrays a score writes
 * are the bytes the listing just had in cache. Released by the
 * thread-specific-data destructor when the thread ends (the main thread's
 * stays reachable until exit); a region grown past SCRATCH_KEEP for a long
 * comment is given back after the call. */
#define SCRATCH_KEEP (256 * 1024)
struct scratch {
    void *buf;
    size_t room;                /* bytes */
};
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;

static void scratch_destroy(void *p)
{
    struct scratch *s = p;
    free(s->buf);
    free(s);
}

static void scratch_key_create(void)
{
    scratch_key_ok = pthread_key_create(&scratch_key, scratch_destroy) == 0;
}

/* The calling thread's region with room for bytes (contents not kept
 * from the last use); NULL when out of memory. */
static void *scratch_take(size_t bytes)
{
    pthread_once(&scratch_once, scratch_key_create);
    if (!scratch_key_ok)
        return NULL;
    struct scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            return NULL;
        if (pthread_setspecific(scratch_key, s) != 0) {
            free(s);
            return NULL;
        }
    }
    if (s->room < bytes) {
        size_t r = 4096;
        while (r < bytes)
            r *= 2;
        free(s->buf);
        s->room = (s->buf = malloc(r)) ? r : 0;
    }
    return s->buf;
}

/* Give back a region a long comment grew past SCRATCH_KEEP. */
static void scratch_trim(void)
{
    struct scratch *s = scratch_key_ok ? pthread_getspecific(scratch_key) : NULL;
    if (s && s->room > SCRATCH_KEEP) {
        free(s->buf);
        s->buf = NULL;
        s->room = 0;
    }
}

/* The score of m (plus site's counts when not NULL) from list[0..n): every
 * token of the text in order, repeats and all but a repeated word's
 * n-grams. The clues are those of the distinct tokens in the order they
 * first occur, as score_from_counts finds them, hence its score to the last
 * bit. With a clue index and no site the tokens the index lacks are dropped
 * before the repeats are, so the set holds the clues alone. The arrays are
 * the thread's scratch. -1 when out of memory. */
static int score_listed(const struct learn_model *m, const struct learn_model *site, const uint64_t *list,
                        size_t n, double *p)
{
    int ngrams = (m->kinds & LEARN_TOKENS_CHARS) != 0;
    size_t room = n ? n : 1, cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    /* keys, f, then the set (cap slots at most) */
    uint64_t *keys = scratch_take(room * (sizeof *keys + sizeof(double)) + cap * sizeof(uint64_t)), *set;
    if (!keys)
        return -1;
    double *f = (double *)(keys + room);
    set = (uint64_t *)(f + room);
    if (!site && m->clue) {     /* the set holds the hits alone */
        size_t hits = indexed_hits(m, list, n, keys, f);
        for (cap = 64; cap < 2 * hits;)
            cap *= 2;
        memset(set, 0, cap * sizeof *set);
        *p = combine(f, first_occurrences(keys, f, hits, set, cap), ngrams);
    } else {
        memset(set, 0, cap * sizeof *set);
        struct doc d = { .model = m, .site = site, .clues = f };
        clues_of(&d, keys, first_keys(list, n, keys, set, cap));
        *p = combine(f, d.nclues, ngrams);
    }
    scratch_trim();
    return 0;
}

/* The general path: every token of the text looked up in m's counts (plus
 * site's when not NULL), the clues combined. Taken when the text makes more
 * tokens than a list holds, or memory runs out. */
static double score_from_counts(const struct learn_model *m, const struct learn_model *site, const char *norm,
                                size_t len)
{
    int ngrams = (m->kinds & LEARN_TOKENS_CHARS) != 0;
    struct doc d = { .each = ngrams ? list_token : add_clue, .model = m, .site = site };
    if (doc_init(&d, len, m->kinds, 1) < 0)
        return 0.5;
    learn_tokens_of(norm, len, m->kinds, doc_token, &d);
    if (ngrams)
        add_listed_clues(&d);
    double p = combine(d.clues, d.nclues, ngrams);
    doc_done(&d);
    return p;
}

int learn_text_list(struct learn_text *t, const char *norm, size_t len, unsigned kinds)
{
    int chars = (kinds & LEARN_TOKENS_CHARS) != 0;
    memset(t, 0, sizeof *t);
    t->norm = norm;
    t->len = len;
    t->kinds = kinds;
    struct sink l = { .cap = doc_limit(len, kinds) };
    /* a word and a separator take 3 bytes at least, and each new word
     * lists a token */
    size_t words = len / 3 + 1 < l.cap ? len / 3 + 1 : l.cap;
    for (l.seen_cap = 64; chars && l.seen_cap < 2 * words;)
        l.seen_cap *= 2;
    l.words_cap = chars ? doc_limit(len, LEARN_TOKENS_WORDS) : 0;
    int rc = -1;
    if (!(l.list = malloc(l.cap * sizeof *l.list)) ||
        (chars && (!(l.seen = scratch_take(l.seen_cap * sizeof *l.seen)) ||
                   !(l.words = malloc(l.words_cap * sizeof *l.words))))) {
        free(l.list);
        free(l.words);
        l.list = l.words = NULL;
        goto out;
    }
    if (chars)
        memset(l.seen, 0, l.seen_cap * sizeof *l.seen);
    tokenize(norm, len, kinds, &l);
    rc = 0;
out:
    if (chars)
        scratch_trim();
    t->all = l.list;
    t->nall = l.n;
    t->all_full = !l.list || l.full;
    t->words = chars ? l.words : l.list;
    t->nwords = chars ? l.nwords : l.n;
    t->words_full = !t->words || l.full || l.words_full;
    return rc;
}

void learn_text_free(struct learn_text *t)
{
    if (t->words != t->all)
        free(t->words);
    free(t->all);
    memset(t, 0, sizeof *t);
}

double learn_text_score(const struct learn_text *t, const struct learn_model *m, const struct learn_model *site)
{
    if (site && !site->docs[0] && !site->docs[1])
        site = NULL;
    if (!m)
        return 0.5;
    if (site ? m->docs[0] + site->docs[0] == 0 || m->docs[1] + site->docs[1] == 0 : !m->docs[0] || !m->docs[1])
        return 0.5;
    int chars = (m->kinds & LEARN_TOKENS_CHARS) != 0;
    const uint64_t *list = chars ? t->all : t->words;
    size_t n = chars ? t->nall : t->nwords;
    int complete = chars ? !t->all_full && (t->kinds & LEARN_TOKENS_CHARS) : !t->words_full;
    double p;
    if (complete && score_listed(m, site, list, n, &p) == 0)
        return p;
    return score_from_counts(m, site, t->norm, t->len);
}

double learn_text_score_joint(const struct learn_text *t, const struct learn_model *m, const struct learn_model *site,
                              const struct learn_model *joint)
{
    if (!joint || !joint->clue || !m || !site || (!site->docs[0] && !site->docs[1]))
        return learn_text_score(t, m, site);
    if (m->docs[0] + site->docs[0] == 0 || m->docs[1] + site->docs[1] == 0)
        return 0.5;
    int chars = (m->kinds & LEARN_TOKENS_CHARS) != 0;
    int complete = chars ? !t->all_full && (t->kinds & LEARN_TOKENS_CHARS) : !t->words_full;
    double p;
    if (complete && score_listed(joint, NULL, chars ? t->all : t->words, chars ? t->nall : t->nwords, &p) == 0)
        return p;
    return learn_text_score(t, m, site);
}

double learn_model_score_site(const struct learn_model *m, const struct learn_model *site, const char *norm,
                              size_t len)
{
    struct learn_text t;
    learn_text_list(&t, norm, len, m ? m->kinds : LEARN_TOKENS_WORDS);
    double p = learn_text_score(&t, m, site);
    learn_text_free(&t);
    return p;
}

double learn_model_score(const struct learn_model *m, const char *norm, size_t len)
{
    return learn_model_score_site(m, NULL, norm, len);
}

/* learn_doc_tokens' doc callback: keep the token. */
static void keep_token(struct doc *d, uint64_t key)
{
    d->out[d->n - 1] = key;
}

long learn_doc_tokens(unsigned kinds, const char *norm, size_t len, uint64_t **out)
{
    struct doc d = { .each = keep_token };
    *out = NULL;
    if (doc_init(&d, len, kinds, 0) < 0)
        return -1;
    if (!(d.out = malloc((doc_limit(len, kinds) + 1) * sizeof *d.out))) {
        doc_done(&d);
        return -1;
    }
    learn_tokens_of(norm, len, kinds, doc_token, &d);
    doc_done(&d);
    *out = d.out;
    return (long)d.n;
}

int learn_model_apply(struct learn_model *m, const uint64_t *tokens, size_t n, int positive, int delta,
                      size_t max_tokens)
{
    int side = positive != 0;
    drop_clue_index(m);
    for (size_t i = 0; i < n; i++) {
        if (!tokens[i])
            continue;
        int room = !max_tokens || m->n < max_tokens;
        struct slot *s = delta > 0 && room ? upsert(m, tokens[i]) : find(m, tokens[i]);
        if (!s)
            return -1;
        if (!s->key)
            continue;           /* taking back what was never counted */
        uint32_t *c = side ? &s->pos : &s->neg;
        *c = delta > 0 ? *c + 1 : *c ? *c - 1 : 0;
    }
    if (delta > 0)
        m->docs[side]++;
    else if (m->docs[side])
        m->docs[side]--;
    return 0;
}

int learn_model_add_counts(struct learn_model *m, uint64_t token, unsigned long pos, unsigned long neg)
{
    drop_clue_index(m);
    struct slot *s = token ? upsert(m, token) : NULL;
    if (!s)
        return -1;
    s->pos += (uint32_t)pos;
    s->neg += (uint32_t)neg;
    return 0;
}

void learn_model_add_docs(struct learn_model *m, unsigned long pos, unsigned long neg)
{
    drop_clue_index(m);
    m->docs[1] += pos;
    m->docs[0] += neg;
}

/* A comma list of statuses: lowercase words. */
static int is_label_list(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (!n || n >= max || s[0] == ',' || s[n - 1] == ',')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '_' || (s[i] == ',' && s[i + 1] != ',')))
            return 0;
    return 1;
}

int learn_model_set_labels(struct learn_model *m, const char *positive, const char *negative)
{
    if (!is_label_list(positive, sizeof m->labels[1]) || !is_label_list(negative, sizeof m->labels[0]))
        return -1;
    snprintf(m->labels[1], sizeof m->labels[1], "%s", positive);
    snprintf(m->labels[0], sizeof m->labels[0], "%s", negative);
    return 0;
}

const char *learn_model_labels(const struct learn_model *m, int positive)
{
    return m->labels[positive != 0][0] ? m->labels[positive != 0] : NULL;
}

/* 1 when status is one of the comma list's words. */
static int in_list(const char *list, const char *status)
{
    size_t n = strlen(status);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && strncmp(p, status, n) == 0)
            return 1;
        p += k + (p[k] == ',');
    }
    return 0;
}

int learn_model_label_side(const struct learn_model *m, const char *status)
{
    if (!status || !m->labels[1][0])
        return -1;
    return in_list(m->labels[1], status) ? 1 : in_list(m->labels[0], status) ? 0 : -1;
}

unsigned long learn_model_docs(const struct learn_model *m, int positive)
{
    return m->docs[positive != 0];
}

size_t learn_model_tokens(const struct learn_model *m)
{
    return m->n;
}

size_t learn_model_bytes(const struct learn_model *m)
{
    if (!m)
        return 0;
    return sizeof *m + m->cap * sizeof *m->t + m->clue_cap * sizeof *m->clue;
}

int learn_model_set_tokens(struct learn_model *m, unsigned kinds)
{
    if (m->n || m->docs[0] || m->docs[1] || (kinds & ~(unsigned)LEARN_TOKENS_CHARS))
        return -1;
    m->kinds = kinds;
    return 0;
}

unsigned learn_model_get_tokens(const struct learn_model *m)
{
    return m->kinds;
}

const char *learn_model_feed_cursor(const struct learn_model *m, const char *site)
{
    return m->feed_site[0] && strcmp(m->feed_site, site) == 0 ? m->feed_cursor : NULL;
}

/* Site names and cursors are single words (site [a-z0-9_-], cursors
 * "ms-seq"), so the file line stays "feed SITE CURSOR". */
static int is_word(const char *s, size_t max)
{
    size_t n = strlen(s);
    return n > 0 && n < max && strcspn(s, " \t\r\n") == n;
}

int learn_model_set_feed_cursor(struct learn_model *m, const char *site, const char *cursor)
{
    if (!is_word(site, sizeof m->feed_site) || !is_word(cursor, sizeof m->feed_cursor))
        return -1;
    snprintf(m->feed_site, sizeof m->feed_site, "%s", site);
    snprintf(m->feed_cursor, sizeof m->feed_cursor, "%s", cursor);
    return 0;
}

/* ---- the file ----------------------------------------------------------- */

#define MAGIC "raqib-learned 1"
#define TOKENS_CHARS "tokens words+chars"   /* absent: words only */

static int by_key(const void *a, const void *b)
{
    uint64_t x = ((const struct slot *)a)->key, y = ((const struct slot *)b)->key;
    return (x > y) - (x < y);
}

/* Write the kept slots, sorted so that two trainings on the same comments
 * give the same file. */
static long write_model(FILE *f, const struct learn_model *m, unsigned min_count)
{
    struct slot *kept = malloc((m->n ? m->n : 1) * sizeof *kept);
    size_t n = 0;
    if (!kept)
        return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->t[i].key && (unsigned long)m->t[i].pos + m->t[i].neg >= min_count)
            kept[n++] = m->t[i];
    qsort(kept, n, sizeof *kept, by_key);
    fprintf(f, "%s\n# token hashes with the number of positive and negative comments holding them\n"
            "docs %lu %lu\n", MAGIC, m->docs[1], m->docs[0]);
    if (m->kinds & LEARN_TOKENS_CHARS)
        fprintf(f, "%s\n", TOKENS_CHARS);
    if (m->feed_site[0])
        fprintf(f, "feed %s %s\n", m->feed_site, m->feed_cursor);
    if (m->labels[1][0])
        fprintf(f, "labels %s %s\n", m->labels[1], m->labels[0]);
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%016llx %u %u\n", (unsigned long long)kept[i].key, kept[i].pos, kept[i].neg);
    free(kept);
    return (long)n;
}

long learn_model_save(const struct learn_model *m, const char *path, unsigned min_count,
                      char *err, size_t errlen)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "w");
    if (!f) {
        snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
        return -1;
    }
    long rc = write_model(f, m, min_count);
    int saved = rc < 0 ? ENOMEM : 0;
    if (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)
        rc = -1, saved = errno;
    if (fclose(f) != 0)
        rc = -1;
    if (rc >= 0 && rename(tmp, path) != 0)
        rc = -1, saved = errno;
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(saved ? saved : EIO));
        unlink(tmp);
    }
    return rc;
}

/* One "HASH POS NEG" line into m; -1 when it is not one. */
static int read_count(struct learn_model *m, const char *line)
{
    unsigned long long key;
    unsigned pos, neg;
    char extra;
    if (sscanf(line, "%16llx %u %u %c", &key, &pos, &neg, &extra) != 3 || !key)
        return -1;
    struct slot *s = upsert(m, key);
    if (!s)
        return -1;
    s->pos += pos;
    s->neg += neg;
    return 0;
}

/* "SITE CURSOR" of a feed line into m; NULL, or what is wrong. */
static const char *read_feed(struct learn_model *m, const char *rest)
{
    char site[sizeof m->feed_site], cursor[sizeof m->feed_cursor], extra;
    if (sscanf(rest, "%64s %63s %c", site, cursor, &extra) != 2 || learn_model_set_feed_cursor(m, site, cursor) < 0)
        return "expected \"feed SITE CURSOR\"";
    return NULL;
}

/* "POSITIVE NEGATIVE" of a labels line into m; NULL, or what is wrong. */
static const char *read_labels(struct learn_model *m, const char *rest)
{
    char pos[sizeof m->labels[1]], neg[sizeof m->labels[0]], extra;
    if (sscanf(rest, "%63s %63s %c", pos, neg, &extra) != 2 || learn_model_set_labels(m, pos, neg) < 0)
        return "expected \"labels POSITIVE NEGATIVE\" (comma lists of statuses: labels spam approved,rejected)";
    return NULL;
}

/* A "tokens" line, before any count: which tokens the counts are of. NULL,
 * or what is wrong. */
static const char *read_tokens(struct learn_model *m, const char *line, int have_counts)
{
    if (strcmp(line, TOKENS_CHARS) != 0 && strcmp(line, "tokens words") != 0)
        return "expected \"tokens words\" or \"" TOKENS_CHARS "\"";
    if (have_counts)
        return "\"tokens\" must come before the counts";
    m->kinds = strcmp(line, TOKENS_CHARS) == 0 ? LEARN_TOKENS_CHARS : LEARN_TOKENS_WORDS;
    return NULL;
}

struct learn_model *learn_model_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct learn_model *m = learn_model_new();
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, have_docs = 0, have_counts = 0;
    const char *problem = m ? NULL : "out of memory";
    while (!problem && getline(&line, &cap, f) >= 0) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (lineno == 1)
            problem = strcmp(line, MAGIC) == 0 ? NULL : "not a learned model (expected \"" MAGIC "\")";
        else if (line[0] == '#' || line[0] == '\0')
            continue;
        else if (!have_docs && sscanf(line, "docs %lu %lu", &m->docs[1], &m->docs[0]) == 2)
            have_docs = 1;
        else if (!have_docs)
            problem = "expected \"docs POSITIVE NEGATIVE\"";
        else if (strncmp(line, "feed ", 5) == 0)
            problem = read_feed(m, line + 5);
        else if (strncmp(line, "labels ", 7) == 0)
            problem = read_labels(m, line + 7);
        else if (strncmp(line, "tokens", 6) == 0)
            problem = read_tokens(m, line, have_counts);
        else if (read_count(m, line) < 0)
            problem = "expected \"HASH POSITIVE NEGATIVE\" (16 hex digits and two counts)";
        else
            have_counts = 1;
    }
    if (!problem && !have_docs)
        problem = lineno ? "no \"docs\" line" : "empty file";
    if (problem)
        snprintf(err, errlen, "%s:%d: %s", path, lineno ? lineno : 1, problem);
    free(line);
    fclose(f);
    if (problem) {
        learn_model_free(m);
        return NULL;
    }
    build_clue_index(m);
    return m;
}
