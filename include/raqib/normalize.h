/* normalize.h — the Arabic-aware text fold that rules match against.
 *
 * Implements shared/design/arabic.md (S0–S11): raw UTF-8 in, one string per
 * view out. The raw text is stored and shown; the folded views are what rules
 * see. Pure module: no libevent, no hiredis. */
#ifndef RAQIB_NORMALIZE_H
#define RAQIB_NORMALIZE_H

#include <stddef.h>

enum norm_view {
    VIEW_RAW = 0, /* S0 only: invalid UTF-8 -> U+FFFD, controls dropped (VT, FF ->
                     SPACE), CRLF -> LF */
    VIEW_NORM,    /* S0–S10 */
    VIEW_SQUASH,  /* letters and digits only, repeats collapsed */
    VIEW_RASM,    /* norm with Arabic letters reduced to dotless skeletons */
    VIEW_SKEL,    /* squash with Latin look-alikes and leet digits mapped */
    VIEW_COUNT
};

/* Evasion signals counted while folding (arabic.md "Flags"). */
struct norm_flags {
    unsigned tatweel;         /* U+0640 removed */
    unsigned tatweel_runs;    /* runs of 2+ tatweel inside a word */
    unsigned foreign_marks;   /* non-Arabic combining marks on Arabic letters */
    unsigned bidi;            /* bidi controls U+202A–U+202E, U+2066–U+2069, U+200E/F, U+061C */
    unsigned ignorables;      /* other default-ignorables (zero width, BOM, …) */
    unsigned mixed_script;    /* words mixing Latin with Cyrillic/Greek, or Arabic with Latin */
    unsigned persian;         /* Persian/Urdu letters inside otherwise Arabic words */
    unsigned bad_utf8;        /* invalid UTF-8 sequences replaced by U+FFFD */
    unsigned spaced_letters;  /* runs of 4+ single letters separated by spaces/dots */
};

/* Every view of one text. Each view[i] is NUL-terminated, malloc'd, owned here. */
struct norm_text {
    char *view[VIEW_COUNT];
    size_t len[VIEW_COUNT];
    struct norm_flags flags;
};

/* Fold len bytes of text into every view. html != 0 also decodes character
 * references (S1) in the folded views. Returns 0, or -1 on allocation failure
 * (out is then empty and safe to free). */
int norm_text_build(struct norm_text *out, const char *text, size_t len, int html);

/* Like norm_text_build, but only the views whose bit (1u << view) is set in
 * want are encoded; the others stay NULL. The evasion flags are counted
 * only when want also holds NORM_WANT_FLAGS and a view other than raw
 * (they are counted along the fold); otherwise only bad_utf8 is. The engine
 * asks for what its rules read: each view is a UTF-8 encoding pass and an
 * allocation, and the flags three more passes. */
#define NORM_WANT_FLAGS (1u << VIEW_COUNT)
/* The general fold even for plain text, which otherwise takes a one-pass
 * fold: the tests compare the two. */
#define NORM_GENERAL_PATH (1u << (VIEW_COUNT + 1))
int norm_text_build_views(struct norm_text *out, const char *text, size_t len, int html,
                          unsigned want);

/* Release every view; out may be zeroed or partially built. */
void norm_text_free(struct norm_text *t);

/* Fold text into one view, without S1 (text is not HTML: this is also how rule
 * literals are folded). Returns a malloc'd NUL-terminated string the caller
 * frees (length in *outlen when not NULL), or NULL on allocation failure or an
 * unknown view. */
char *norm_fold(const char *text, size_t len, enum norm_view view, size_t *outlen);

/* "raw", "norm", … -> view; returns -1 for an unknown name. */
int norm_view_parse(const char *name, enum norm_view *out);
const char *norm_view_name(enum norm_view view);

/* Count code points of valid UTF-8 (used for WordPress's character limits). */
size_t utf8_length(const char *s, size_t len);

/* 1 when s[0..len) is valid UTF-8 (no overlongs, no surrogates), else 0. */
int utf8_valid(const char *s, size_t len);

#endif
