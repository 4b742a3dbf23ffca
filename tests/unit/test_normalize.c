/* test_normalize.c — the Arabic-aware fold (arabic.md S0–S11) against tables.
 *
 * A fold case is one line: a name, the view, whether S1 (HTML) is on, the
 * input and the exact expected output. Every fold case runs as its own cmocka
 * test, and again to check that folding the norm view twice changes nothing
 * (the rule compiler folds pattern literals with the same code). Flag cases
 * name one field of struct norm_flags and the count it must reach. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <utf8proc.h>

#include "raqib/normalize.h"

struct fold_case {
    const char *name;
    enum norm_view view;
    int html;
    const char *in;
    const char *want;
};

#define NORM VIEW_NORM
#define SENTENCE "شـــيخ رُوحَانِي لـجـلـب الـحـبـيـب و ا ت س ا ب ۰۰۹۶۶٥٥١٢٣٤٥٦٧"
#define SENTENCE_PLAIN "شيخ روحاني لجلب الحبيب و ا ت س ا ب 00966551234567"

static const struct fold_case fold_cases[] = {
    /* S0 decode: raw keeps everything but broken bytes and controls */
    { "raw: invalid byte -> U+FFFD", VIEW_RAW, 0, "a\xff" "b", "a\xEF\xBF\xBD" "b" },
    { "raw: overlong is 3 bad sequences", VIEW_RAW, 0, "\xE0\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
    { "raw: truncated sequence", VIEW_RAW, 0, "x\xE2\x82", "x\xEF\xBF\xBD" },
    { "raw: surrogate", VIEW_RAW, 0, "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" },
    { "raw: CRLF and CR -> LF", VIEW_RAW, 0, "a\r\nb\rc", "a\nb\nc" },
    /* S3 composition: Hangul syllables decompose to jamo and compose back */
    { "norm: Hangul syllables survive NFKC", VIEW_NORM, 0, "\xED\x95\x9C\xEA\xB5\xAD", "\xED\x95\x9C\xEA\xB5\xAD" },
    { "norm: conjoining jamo compose", VIEW_NORM, 0, "\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB", "\xED\x95\x9C" },
    /* the Arabic block's cached fold equals utf8proc's: hamza forms, presentation-free letters */
    { "norm: cached Arabic block (hamza, alef madda, yeh hamza)", VIEW_NORM, 0, "\xD8\xA3\xD8\xA2\xD8\xA6\xD8\xA4", "\xD8\xA7\xD8\xA7\xD9\x8A\xD9\x88" },
    { "raw: controls dropped, TAB kept", VIEW_RAW, 0, "a\x01\tb\x7f\xC2\x85" "c", "a\tbc" },
    { "raw: harakat and tatweel kept", VIEW_RAW, 0, "وَاتـــساب", "وَاتـــساب" },
    { "raw: no HTML decoding", VIEW_RAW, 1, "&amp;<b>x</b>", "&amp;<b>x</b>" },
    { "norm: NUL dropped", NORM, 0, "ab\0" "cd", "abcd" },
    /* S1 HTML */
    { "html: decimal reference", NORM, 1, "&#1608;اتساب", "واتساب" },
    { "html: hex reference", NORM, 1, "&#x648;&#X627;تساب", "واتساب" },
    { "html: named references", NORM, 1, "a &amp; b &lt;3 &quot;x&quot; &apos;y&#39;", "a & b <3 \"x\" 'y'" },
    { "html: nbsp is a space", NORM, 1, "a&nbsp;&nbsp;b", "a b" },
    { "html: unknown name kept", NORM, 1, "&bogus; &amp", "&bogus; &amp" },
    { "html: cp1252 range", NORM, 1, "a&#150;b", "a-b" },
    { "html: inline tags glue", NORM, 1, "<b>وا</b>ت<span class=x>ساب</span>", "واتساب" },
    { "html: block tags separate", NORM, 1, "one<br>two<p>three</p>", "one two three" },
    { "html: comment dropped", NORM, 1, "a<!-- x > y -->b", "ab" },
    { "html: escaped tag is text", NORM, 1, "&lt;b&gt;", "<b>" },
    { "html: lone < kept", NORM, 1, "a < b, c<d", "a < b, c<d" },
    { "html: off leaves references", NORM, 0, "&#1608; &amp;", "&#1608; &amp;" },
    { "html: reference to a bidi control", NORM, 1, "a&#x202E;b", "ab" },
    /* S2 pre-map */
    { "tatweel removed", NORM, 0, "واتـــساب", "واتساب" },
    { "isolated harakat forms deleted, not spaces", NORM, 0, "كتا\uFE76ب \uFE70\uFE72", "كتاب" },
    { "medial shadda forms deleted", NORM, 0, "م\uFC60ن", "من" },
    { "Arabic-Indic digits", NORM, 0, "٠١٢٣٤٥٦٧٨٩", "0123456789" },
    { "Persian digits", NORM, 0, "۰۰۹۶۶", "00966" },
    { "dingbat and circled digits", NORM, 0, "❶❷➀➊⓵⓿⓪", "1211100" },
    { "other Nd digits", NORM, 0, "१२३ ໑ ᠑", "123 1 1" },
    { "braille blank is a space", NORM, 0, "a\u2800b", "a b" },
    { "Arabic punctuation", NORM, 0, "نعم، لا؛ ماذا؟ ٥٪ ٣٫٥ ١٬٠٠٠ ٭ تم۔", "نعم, لا; ماذا? 5% 3.5 1,000 * تم." },
    { "Arabic signs deleted", NORM, 0, "\u0600١\u06DDب\u06DE\u06E9\u08E2", "1ب" },
    /* S2b context */
    { "tatweel-split word rejoined", NORM, 0, "واتـ ـساب", "واتساب" },
    { "tatweel + spaces + word kept apart", NORM, 0, "واتـ ساب", "وات ساب" },
    { "zakhrafa filler removed", NORM, 0, "حہٰٖبہٰٖيب", "حبيب" },
    { "word-final heh goa kept and folded", NORM, 0, "واللہ الجنہ", "والله الجنه" },
    { "basmala ligature expanded", NORM, 0, "\uFDFD", "بسم الله الرحمن الرحيم" },
    { "ten and more expanded", NORM, 0, "❿ ➉ ➓ ⓾ ⓫ ⓴", "10 10 10 10 11 20" },
    /* S3 NFKC_Casefold */
    { "presentation lam-alef", NORM, 0, "\uFEFB", "لا" },
    { "presentation letters", NORM, 0, "\uFEED\uFE8E\uFE97\uFEB4\uFE8E\uFE8F", "واتساب" },
    { "salla ligature expands", NORM, 0, "\uFDFA", "صلي الله عليه وسلم" },
    { "Latin case fold", NORM, 0, "WhatsApp STRASSE Straße", "whatsapp strasse strasse" },
    { "fullwidth and math letters", NORM, 0, "ＷＨＡＴＳ \U0001D41A\U0001D41B 𝟘", "whats ab 0" },
    { "zero-width controls removed", NORM, 0, "وا\u200Bت\u200Cس\u200Dا\uFEFFب\u00AD", "واتساب" },
    { "bidi controls removed", NORM, 0, "\u202Eabc\u202C \u2066x\u2069 \u061Cy\u200E\u200F", "abc x y" },
    { "variation selector removed", NORM, 0, "a\uFE0Fb", "ab" },
    /* S4 marks */
    { "harakat stripped", NORM, 0, "وَاتْسَاب", "واتساب" },
    { "shadda and dagger alef", NORM, 0, "الرَّحْمٰن", "الرحمن" },
    { "hamza on alef", NORM, 0, "أحمد إسلام آمن", "احمد اسلام امن" },
    { "hamza on waw", NORM, 0, "مؤمن", "مومن" },
    { "hamza on yeh", NORM, 0, "سائل", "سايل" },
    { "bare hamza stays", NORM, 0, "سماء", "سماء" },
    { "Latin accents", NORM, 0, "café NAÏVE", "cafe naive" },
    { "Qur'anic marks", NORM, 0, "ذٰلِكَ\u06D6", "ذلك" },
    /* S6 letters */
    { "alef maqsura", NORM, 0, "على", "علي" },
    { "teh marbuta", NORM, 0, "مدرسة", "مدرسه" },
    { "alef wasla", NORM, 0, "ٱلله", "الله" },
    { "Persian keheh", NORM, 0, "کتاب", "كتاب" },
    { "Persian yeh", NORM, 0, "فارسی", "فارسي" },
    { "Persian gaf", NORM, 0, "گل", "كل" },
    { "Persian peh, tcheh, jeh, veh", NORM, 0, "پ چ ژ ڤ", "ب ج ز ف" },
    { "Urdu heh and yeh barree", NORM, 0, "ھ ہ ۃ ے", "ه ه ه ي" },
    { "dotless beh and qaf", NORM, 0, "ٮ ٯ", "ب ق" },
    { "small high letters deleted", NORM, 0, "ب\u06E5ت\u06E6", "بت" },
    /* S8 white space */
    { "spaces collapsed and trimmed", NORM, 0, "  a \t b  ", "a b" },
    { "LF runs collapse", NORM, 0, "a\r\n\r\n\r\nb", "a\nb" },
    { "spaces around LF", NORM, 0, "a \n \n b\n", "a\nb" },
    { "VT and FF are spaces", NORM, 0, "buy\fpills\vnow", "buy pills now" },
    { "unicode spaces", NORM, 0, "a\u00A0\u2003\u3000\u1680b\u2028c", "a b c" },
    /* S9 punctuation */
    { "dashes lumped", NORM, 0, "a\u2014b\u2013c\u2212d\u2010e", "a-b-c-d-e" },
    { "quotes lumped", NORM, 0, "\u201Cx\u201D \u00ABy\u00BB \u2018z\u2019 it\u02BCs", "\"x\" \"y\" 'z' it's" },
    { "slashes lumped", NORM, 0, "1\u20442 a\u2215b", "1/2 a/b" },
    /* S10 elongation */
    { "Arabic elongation to one", NORM, 0, "بدووووون", "بدون" },
    { "two Arabic letters kept", NORM, 0, "الله", "الله" },
    { "Latin elongation to two", NORM, 0, "fuuuuck", "fuuck" },
    { "double letter untouched", NORM, 0, "cool", "cool" },
    { "digits never collapsed", NORM, 0, "0000 1111", "0000 1111" },
    { "symbols to two", NORM, 0, "$$$$ ^^^ \U0001F602\U0001F602\U0001F602\U0001F602", "$$ ^^ \U0001F602\U0001F602" },
    { "punctuation kept", NORM, 0, "wow!!!!! wait\u2026 ....", "wow!!!!! wait... ...." },
    /* full sentence */
    { "decorated sentence", NORM, 0, SENTENCE, SENTENCE_PLAIN },
    { "plain sentence", NORM, 0, SENTENCE_PLAIN, SENTENCE_PLAIN },
    { "sentence squash", VIEW_SQUASH, 0, SENTENCE, "شيخروحانيلجلبالحبيبواتساب00966551234567" },
    /* S11 squash */
    { "squash spaced letters", VIEW_SQUASH, 0, "و ا ت س ا ب", "واتساب" },
    { "squash dotted letters", VIEW_SQUASH, 0, "w.h.a.t.s.a.p.p", "whatsap" },
    { "squash split phone", VIEW_SQUASH, 0, "05 0\u200B1 23-45", "05012345" },
    { "squash keeps digit runs", VIEW_SQUASH, 0, "00 9 66", "00966" },
    /* S11 rasm */
    { "rasm of a dot swap", VIEW_RASM, 0, "التاربخي", "الٮارٮحٮ" },
    { "rasm of the real word", VIEW_RASM, 0, "التاريخي", "الٮارٮحٮ" },
    { "rasm of qaf look-alike", VIEW_RASM, 0, "ڦيامه", "ڡٮامه" },
    { "rasm of qaf", VIEW_RASM, 0, "قيامه", "ڡٮامه" },
    { "rasm keeps spaces and Latin", VIEW_RASM, 0, "بيت cool", "ٮ cool" },
    /* S11 skel */
    { "skel of leet", VIEW_SKEL, 0, "vi4gr4", "viagra" },
    { "skel of Cyrillic a", VIEW_SKEL, 0, "vi\u0430gra", "viagra" },
    { "skel of Greek and upper Cyrillic", VIEW_SKEL, 0, "\u0412UY \u03BDIAGRA", "buyviagra" },
    { "skel of symbols", VIEW_SKEL, 0, "ca$h fr33 @ccess", "cashfreaces" },
    { "skel leaves digit-only words", VIEW_SKEL, 0, "call 0555 now", "cal0555now" },
    { "skel leaves Arabic words", VIEW_SKEL, 0, "فياجرا 4", "فياجرا4" },
    /* edges */
    { "empty", NORM, 0, "", "" },
    { "only ignorables", NORM, 0, "\u200B\u200C \u202E", "" },
    { "unclosed tags", NORM, 1, "<a<a<a x", "<a<a<a x" },
};

/* Fold c->in with norm_text_build and compare the one view. */
static void run_fold_case(void **state)
{
    const struct fold_case *c = *state;
    struct norm_text t;
    size_t len = strlen(c->in);
    if (strcmp(c->name, "norm: NUL dropped") == 0)
        len = 5;
    assert_int_equal(norm_text_build(&t, c->in, len, c->html), 0);
    for (int v = 0; v < VIEW_COUNT; v++) {
        assert_non_null(t.view[v]);
        assert_int_equal(strlen(t.view[v]), t.len[v]);
        assert_true(utf8_valid(t.view[v], t.len[v]));
    }
    int same = strcmp(t.view[c->view], c->want) == 0;
    if (!same)
        print_error("%s: got \"%s\", want \"%s\"\n", c->name, t.view[c->view], c->want);
    norm_text_free(&t);
    assert_true(same);
}

/* norm_fold gives the same view as norm_text_build (without HTML), and norm
 * is a fixed point of itself. */
static void test_fold_matches_build(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof fold_cases / sizeof fold_cases[0]; i++) {
        const struct fold_case *c = &fold_cases[i];
        struct norm_text t;
        assert_int_equal(norm_text_build(&t, c->in, strlen(c->in), 0), 0);
        for (int v = 0; v < VIEW_COUNT; v++) {
            size_t n = 0;
            char *s = norm_fold(c->in, strlen(c->in), (enum norm_view)v, &n);
            assert_non_null(s);
            assert_string_equal(s, t.view[v]);
            assert_int_equal(n, t.len[v]);
            free(s);
        }
        char *again = norm_fold(t.view[VIEW_NORM], t.len[VIEW_NORM], VIEW_NORM, NULL);
        assert_non_null(again);
        if (strcmp(again, t.view[VIEW_NORM]) != 0)
            print_error("%s: norm not idempotent: \"%s\" -> \"%s\"\n", c->name,
                        t.view[VIEW_NORM], again);
        assert_string_equal(again, t.view[VIEW_NORM]);
        free(again);
        norm_text_free(&t);
    }
}

struct flag_case {
    const char *in;
    int html;
    size_t field;       /* offsetof(struct norm_flags, …) */
    unsigned want;
};

#define F(name) offsetof(struct norm_flags, name)

static const struct flag_case flag_cases[] = {
    { "واتـــساب", 0, F(tatweel), 3 },
    { "واتـــساب", 0, F(tatweel_runs), 1 },
    { "واتـساب", 0, F(tatweel_runs), 0 },
    { "واتـ ـساب", 0, F(tatweel_runs), 1 },
    { "واتــَـساب لـــجـــلـــب", 0, F(tatweel_runs), 4 },
    { "ســـ", 0, F(tatweel_runs), 0 },
    { "ب\u0301ا\u0308ب", 0, F(foreign_marks), 2 },
    { "بَابُ", 0, F(foreign_marks), 0 },
    { "cafe\u0301", 0, F(foreign_marks), 0 },
    { "حہٰٖبيب", 0, F(foreign_marks), 1 },
    { "\u202Eabc\u202C \u2067x\u2069", 0, F(bidi), 4 },
    { "a\u200Eb\u061Cc", 0, F(bidi), 2 },
    { "a&#x202E;b", 1, F(bidi), 1 },
    { "a\u200Bb\u200Dc\uFEFF", 0, F(ignorables), 3 },
    { "\u202Eabc", 0, F(ignorables), 0 },
    { "سکس", 0, F(persian), 1 },
    { "سکس گل", 0, F(persian), 2 },
    { "كتاب", 0, F(persian), 0 },
    { "گچ", 0, F(persian), 0 },
    { "vi\u0430gra", 0, F(mixed_script), 1 },
    { "viagra", 0, F(mixed_script), 0 },
    { "واتسapp and واتساب app", 0, F(mixed_script), 1 },
    { "\u03BDiagra", 0, F(mixed_script), 1 },
    { "a\xff" "b\xc0", 0, F(bad_utf8), 2 },
    { "valid", 0, F(bad_utf8), 0 },
    { "و ا ت س ا ب", 0, F(spaced_letters), 1 },
    { "w.h.a.t.s.a.p.p", 0, F(spaced_letters), 1 },
    { "a b c", 0, F(spaced_letters), 0 },
    { "a b c d, e f g h", 0, F(spaced_letters), 2 },
    { "I am a b", 0, F(spaced_letters), 0 },
};

static void test_flags(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof flag_cases / sizeof flag_cases[0]; i++) {
        const struct flag_case *c = &flag_cases[i];
        struct norm_text t;
        assert_int_equal(norm_text_build(&t, c->in, strlen(c->in), c->html), 0);
        unsigned got;
        memcpy(&got, (const char *)&t.flags + c->field, sizeof got);
        if (got != c->want)
            print_error("flags case %zu \"%s\": got %u, want %u\n", i, c->in, got, c->want);
        assert_int_equal(got, c->want);
        norm_text_free(&t);
    }
}

/* norm_text_build_views encodes only the views asked for, with the same
 * text as the full build, and the same flags when they are asked for. */
static void test_some_views(void **state)
{
    (void)state;
    const char *in = "اتصل واتـــساب ٠٥٥١٢٣ h\u0430ck \u200b";
    struct norm_text all, some;
    assert_int_equal(norm_text_build(&all, in, strlen(in), 1), 0);
    for (unsigned want = 1; want < (NORM_WANT_FLAGS << 1); want++) {
        assert_int_equal(norm_text_build_views(&some, in, strlen(in), 1, want), 0);
        for (int v = 0; v < VIEW_COUNT; v++) {
            if (want & (1u << v)) {
                assert_non_null(some.view[v]);
                assert_string_equal(some.view[v], all.view[v]);
                assert_int_equal(some.len[v], all.len[v]);
            } else {
                assert_null(some.view[v]);
            }
        }
        if ((want & NORM_WANT_FLAGS) && (want & ((1u << VIEW_COUNT) - 1) & ~(1u << VIEW_RAW)))
            assert_memory_equal(&some.flags, &all.flags, sizeof all.flags);
        else if (!(want & NORM_WANT_FLAGS))
            assert_int_equal(some.flags.tatweel + some.flags.tatweel_runs + some.flags.mixed_script +
                             some.flags.ignorables + some.flags.persian, 0);
        norm_text_free(&some);
    }
    norm_text_free(&all);
}

/* Plain text (ASCII and the Arabic block) takes a one-pass fold; random
 * mixes of the characters on both sides of its limits must give exactly the
 * views and flags of the general path, with and without the flags. */
static void test_plain_fold_agrees(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        "a", "Z", " ", "  ", "\n", "\t", "\r\n", "&amp;", "<b>", ".", "!!!", "\x7f", "\x01",
        "ا", "أ", "إ", "آ", "ى", "ي", "ة", "ه", "ؤ", "ئ", "ء", "ك", "ی", "ک", "ٱ", "ٵ", "ٶ",
        "ـ", "ہ", "ھ", "ۀ", "َ", "ً", "ّ", "ٰ", "ۖ", "؟", "،", "؛", "٪", "٫", "٬", "٭", "۔",
        "٠", "٣", "۴", "۹", "\xd8\x80", "\xd8\x9c", "\xdb\x9d", "\xd8", "\xd8" "A", "é", "ß", "€",
        "😀", "ﻻ", "قرض", "وااااتساب", "lllooove", "$$$", "٥٥٥٥", "پ", "گ", "ژ", "چ", "واتسapp",
        "x y z w ", "ق ر ض ك ", "a.b.c.d.", "7", "\xd8\x80\xd8\x81", "\xd9\x8b", "\xd9\x95", "\xdb\x9f",
    };
    const size_t npieces = sizeof pieces / sizeof pieces[0];
    unsigned long rng = 12345;
    char text[512];
    for (int round = 0; round < 20000; round++) {
        size_t n = 0, count = 1 + round % 12;
        for (size_t k = 0; k < count; k++) {
            rng = rng * 6364136223846793005UL + 1442695040888963407UL;
            const char *piece = pieces[(rng >> 33) % npieces];
            memcpy(text + n, piece, strlen(piece));
            n += strlen(piece);
        }
        for (int html = 0; html <= 1; html++)
            for (int flags = 0; flags <= 1; flags++) {
                struct norm_text all, some;
                unsigned want = ((1u << VIEW_COUNT) - 1) | (flags ? NORM_WANT_FLAGS : 0);
                assert_int_equal(norm_text_build_views(&all, text, n, html, want | NORM_GENERAL_PATH), 0);
                assert_int_equal(norm_text_build_views(&some, text, n, html, want), 0);
                for (int v = 0; v < VIEW_COUNT; v++)
                    if (some.len[v] != all.len[v] || memcmp(some.view[v], all.view[v], all.len[v]) != 0)
                        fail_msg("view %d of \"%.*s\" (html %d): \"%s\" but the general fold gives \"%s\"",
                                 v, (int)n, text, html, some.view[v], all.view[v]);
                if (memcmp(&some.flags, &all.flags, sizeof all.flags) != 0)
                    fail_msg("the flags of \"%.*s\" (html %d, flags %d) differ from the general fold's",
                             (int)n, text, html, flags);
                norm_text_free(&all);
                norm_text_free(&some);
            }
    }
}

/* Every Nd code point utf8proc knows folds to its ASCII digit: Nd digits come
 * in runs of ten, 0 to 9. Fails when a utf8proc upgrade adds digits. */
static void test_every_decimal_digit(void **state)
{
    (void)state;
    int32_t prev = -2, run_start = 0;
    unsigned seen = 0;
    for (int32_t cp = 0; cp < 0x110000; cp++) {
        if (utf8proc_category(cp) != UTF8PROC_CATEGORY_ND)
            continue;
        if (cp != prev + 1 || (cp - run_start) == 10)
            run_start = cp;
        prev = cp;
        unsigned char buf[4];
        utf8proc_ssize_t n = utf8proc_encode_char(cp, buf);
        size_t outlen;
        char *s = norm_fold((const char *)buf, (size_t)n, VIEW_NORM, &outlen);
        assert_non_null(s);
        if (outlen != 1 || s[0] != '0' + (cp - run_start))
            print_error("U+%04X folds to \"%s\"\n", (unsigned)cp, s);
        assert_int_equal(outlen, 1);
        assert_int_equal(s[0], '0' + (cp - run_start));
        free(s);
        seen++;
    }
    assert_true(seen >= 680);
}

struct utf8_case {
    const char *s;
    size_t len;         /* 0: strlen(s) */
    int valid;
    size_t length;      /* code points (invalid sequences count one each) */
};

static const struct utf8_case utf8_cases[] = {
    { "abc", 0, 1, 3 },
    { "واتساب", 0, 1, 6 },
    { "\xF0\x9F\x98\x80", 0, 1, 1 },
    { "\xF4\x8F\xBF\xBF", 0, 1, 1 },
    { "a\0b", 3, 1, 3 },
    { "", 0, 1, 0 },
    { "\xC0\x80", 0, 0, 2 },
    { "\xC1\xBF", 0, 0, 2 },
    { "\xE0\x9F\xBF", 0, 0, 3 },
    { "\xED\xA0\x80", 0, 0, 3 },
    { "\xED\xBF\xBF", 0, 0, 3 },
    { "\xF0\x8F\xBF\xBF", 0, 0, 4 },
    { "\xF4\x90\x80\x80", 0, 0, 4 },
    { "\xF5\x80\x80\x80", 0, 0, 4 },
    { "\xE2\x82", 0, 0, 1 },
    { "a\x80" "b", 0, 0, 3 },
    { "\xFF", 0, 0, 1 },
};

static void test_utf8(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof utf8_cases / sizeof utf8_cases[0]; i++) {
        const struct utf8_case *c = &utf8_cases[i];
        size_t len = c->len ? c->len : strlen(c->s);
        if (utf8_valid(c->s, len) != c->valid || utf8_length(c->s, len) != c->length)
            print_error("utf8 case %zu\n", i);
        assert_int_equal(utf8_valid(c->s, len), c->valid);
        assert_int_equal(utf8_length(c->s, len), c->length);
    }
}

static void test_view_names(void **state)
{
    (void)state;
    static const char *const names[VIEW_COUNT] = { "raw", "norm", "squash", "rasm", "skel" };
    for (int v = 0; v < VIEW_COUNT; v++) {
        enum norm_view got;
        assert_int_equal(norm_view_parse(names[v], &got), 0);
        assert_int_equal(got, v);
        assert_string_equal(norm_view_name((enum norm_view)v), names[v]);
    }
    enum norm_view got;
    assert_int_equal(norm_view_parse("NORM", &got), -1);
    assert_int_equal(norm_view_parse("", &got), -1);
    assert_null(norm_view_name(VIEW_COUNT));
    assert_null(norm_fold("x", 1, VIEW_COUNT, NULL));
}

/* Large and hostile inputs: long mark runs, unclosed tags, many expansions. */
static void test_large_inputs(void **state)
{
    (void)state;
    size_t n = 1 << 16;
    char *s = malloc(n * 3 + 1);
    assert_non_null(s);
    for (size_t i = 0; i < n; i++)
        memcpy(s + 3 * i, "\xEF\xB7\xBD", 3);       /* U+FDFD */
    s[3 * n] = '\0';
    struct norm_text t;
    assert_int_equal(norm_text_build(&t, s, 3 * n, 1), 0);
    assert_int_equal(utf8_length(t.view[VIEW_NORM], t.len[VIEW_NORM]), 22 * n);
    norm_text_free(&t);
    for (size_t i = 0; i < 3 * n; i++)
        s[i] = "<a&"[i % 3];
    assert_int_equal(norm_text_build(&t, s, 3 * n, 1), 0);
    assert_int_equal(t.len[VIEW_NORM], 3 * n);
    norm_text_free(&t);
    free(s);
}

int main(void)
{
    size_t ncase = sizeof fold_cases / sizeof fold_cases[0];
    struct CMUnitTest *cases = calloc(ncase, sizeof *cases);
    if (!cases)
        return 1;
    for (size_t i = 0; i < ncase; i++) {
        cases[i].name = fold_cases[i].name;
        cases[i].test_func = run_fold_case;
        cases[i].initial_state = (void *)&fold_cases[i];
    }
    const struct CMUnitTest others[] = {
        cmocka_unit_test(test_fold_matches_build),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_every_decimal_digit),
        cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_view_names),
        cmocka_unit_test(test_some_views),
        cmocka_unit_test(test_plain_fold_agrees),
        cmocka_unit_test(test_large_inputs),
    };
    int failed = _cmocka_run_group_tests("normalize_fold", cases, ncase, NULL, NULL);
    failed += cmocka_run_group_tests_name("normalize", others, NULL, NULL);
    free(cases);
    return failed ? 1 : 0;
}
