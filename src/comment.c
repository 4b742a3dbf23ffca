/* comment.c — turn a submitted body (JSON or a WordPress-style form) into a
 * struct comment.
 *
 * Parsing only: bytes become fields, and input that cannot be read as one
 * flat object of strings is refused with a status (malformed, bad UTF-8,
 * wrong type) and a sentence naming the field. Whether the values are
 * acceptable is validate.c's job. On any error the comment is left empty.
 * JSON goes first through a one-pass reader for the ordinary body, which
 * declines anything unusual; jansson reads the rest and every error, so the
 * answers are jansson's either way. Pure module: jansson only. */
#include "raqib/comment.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static const char *const field_names[CF_COUNT] = {
    [CF_SITE] = "site",
    [CF_POST_ID] = "post_id",
    [CF_PARENT_ID] = "parent_id",
    [CF_AUTHOR] = "author",
    [CF_EMAIL] = "email",
    [CF_URL] = "url",
    [CF_CONTENT] = "content",
    [CF_IP] = "ip",
    [CF_USER_AGENT] = "user_agent",
    [CF_REFERRER] = "referrer",
    [CF_LANG] = "lang",
};

#define FORM_RENDERED_AT "form_rendered_at"

/* WordPress comment-form names that differ from Raqib's. */
static const struct {
    const char *name;
    enum comment_field field;
} wp_names[] = {
    { "comment_post_ID", CF_POST_ID },
    { "comment_parent", CF_PARENT_ID },
    { "comment", CF_CONTENT },
};

const char *comment_field_name(enum comment_field f)
{
    if ((int)f < 0 || f >= CF_COUNT)
        return "";
    return field_names[f];
}

void comment_free(struct comment *c)
{
    if (c == NULL)
        return;
    for (int i = 0; i < CF_COUNT; i++)
        free(c->field[i]);
    memset(c, 0, sizeof *c);
}

int comment_set(struct comment *c, enum comment_field f, const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    if (len > 0)
        memcpy(copy, s, len);
    copy[len] = '\0';
    free(c->field[f]);
    c->field[f] = copy;
    c->len[f] = len;
    return 0;
}

/* Drop field f, as if it had never been sent. */
static void comment_unset(struct comment *c, enum comment_field f)
{
    free(c->field[f]);
    c->field[f] = NULL;
    c->len[f] = 0;
}

/* Bytes of the one strictly valid UTF-8 character at s[0..len) (no
 * overlongs, no surrogates, nothing above U+10FFFF), or 0 when there is
 * none. Kept here rather than borrowed from normalize.c so parsing stands
 * alone. */
static size_t utf8_char_length(const unsigned char *s, size_t len)
{
    unsigned char b = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;     /* allowed range of the 2nd byte */
    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        return len >= 2 && (s[1] & 0xC0) == 0x80 ? 2 : 0;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        if (b == 0xE0) lo = 0xA0;           /* overlong */
        if (b == 0xED) hi = 0x9F;           /* surrogates */
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        if (b == 0xF0) lo = 0x90;           /* overlong */
        if (b == 0xF4) hi = 0x8F;           /* above U+10FFFF */
    } else {
        return 0;
    }
    if (len < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Length of the strictly valid UTF-8 prefix of s: len itself when all of s
 * is valid. */
static size_t utf8_valid_prefix(const unsigned char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_char_length(s + i, len - i);
        if (n == 0)
            return i;
        i += n;
    }
    return len;
}

/* Replace each byte that is not part of valid UTF-8 with '?': a long name
 * cut to fit a buffer may end inside a character, and messages go out as JSON. */
static void repair_utf8(char *s)
{
    size_t len = strlen(s), i = 0;
    while ((i += utf8_valid_prefix((unsigned char *)s + i, len - i)) < len)
        s[i++] = '?';
}

/* Fill err and return -1, so error paths read `return fail(...)`. */
static int fail(struct parse_error *err, enum parse_status status, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct parse_error *err, enum parse_status status, const char *field,
                const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    err->status = status;
    snprintf(err->field, sizeof err->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    repair_utf8(err->field);
    repair_utf8(err->message);
    return -1;
}

static void clear_error(struct parse_error *err)
{
    if (err != NULL)
        memset(err, 0, sizeof *err);
}

/* The field a name maps to, or -1 for names Raqib does not know. When
 * wordpress is set the WordPress comment-form names are accepted as well. */
static int field_by_name(const char *name, size_t len, int wordpress)
{
    for (int i = 0; i < CF_COUNT; i++)
        if (strlen(field_names[i]) == len && memcmp(field_names[i], name, len) == 0)
            return i;
    if (wordpress)
        for (size_t i = 0; i < sizeof wp_names / sizeof wp_names[0]; i++)
            if (strlen(wp_names[i].name) == len && memcmp(wp_names[i].name, name, len) == 0)
                return (int)wp_names[i].field;
    return -1;
}

static int name_is(const char *name, size_t len, const char *want)
{
    return want != NULL && strlen(want) == len && memcmp(want, name, len) == 0;
}

/* Parse unix seconds from a string of decimal digits (optional leading '-').
 * Returns 0 and stores *out, or -1 when s is not such a number or overflows. */
static int parse_seconds(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    int negative = 0;
    if (len > 0 && s[0] == '-') {
        negative = 1;
        i = 1;
    }
    if (i == len || len - i > 18)
        return -1;
    int64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = negative ? -v : v;
    return 0;
}

/* Store a decoded string value (from JSON or a form) into field f after
 * checking it is valid UTF-8 without NUL bytes; name is what the client
 * called the field, for the message. */
static int store_text(struct comment *c, enum comment_field f, const char *name,
                      const char *s, size_t len, struct parse_error *err)
{
    if (memchr(s, '\0', len) != NULL)
        return fail(err, PARSE_BAD_UTF8, name, "field '%s' contains a NUL character", name);
    if (utf8_valid_prefix((const unsigned char *)s, len) != len)
        return fail(err, PARSE_BAD_UTF8, name, "field '%s' is not valid UTF-8", name);
    if (comment_set(c, f, s, len) != 0)
        return fail(err, PARSE_MALFORMED, name, "out of memory while reading field '%s'", name);
    return 0;
}

/* ---- JSON ---- */

static int hex_value(char ch);

/* Is a JSON honeypot value "filled"? Anything but null, false and "". */
static int json_value_filled(const json_t *v)
{
    if (json_is_null(v) || json_is_false(v))
        return 0;
    if (json_is_string(v))
        return json_string_length(v) > 0;
    return 1;
}

/* form_rendered_at: an integer, or a string of digits. */
static int json_take_rendered_at(struct comment *c, const json_t *v, struct parse_error *err)
{
    if (json_is_null(v))
        return 0;
    if (json_is_integer(v)) {
        c->form_rendered_at = (int64_t)json_integer_value(v);
        c->has_form_rendered_at = 1;
        return 0;
    }
    if (json_is_string(v)
        && parse_seconds(json_string_value(v), json_string_length(v), &c->form_rendered_at) == 0) {
        c->has_form_rendered_at = 1;
        return 0;
    }
    return fail(err, PARSE_BAD_TYPE, FORM_RENDERED_AT,
                "field '" FORM_RENDERED_AT "' must be an integer (unix seconds)");
}

/* One known text field from JSON: a string, null (absent), or for the two
 * ids an integer written out in decimal. */
static int json_take_field(struct comment *c, enum comment_field f, const json_t *v,
                           struct parse_error *err)
{
    const char *name = field_names[f];
    int id = f == CF_POST_ID || f == CF_PARENT_ID;
    if (json_is_null(v))
        return 0;
    if (json_is_string(v))
        return store_text(c, f, name, json_string_value(v), json_string_length(v), err);
    if (id && json_is_integer(v)) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return store_text(c, f, name, buf, (size_t)n, err);
    }
    if (id)
        return fail(err, PARSE_BAD_TYPE, name, "field '%s' must be a string or an integer", name);
    return fail(err, PARSE_BAD_TYPE, name, "field '%s' must be a string", name);
}

/* Walk the members of the root object in order; the first problem wins. */
static int json_take_object(struct comment *c, json_t *root, const char *honeypot,
                            struct parse_error *err)
{
    const char *key;
    size_t key_len;
    json_t *v;
    json_object_keylen_foreach(root, key, key_len, v) {
        if (json_is_object(v) || json_is_array(v))
            return fail(err, PARSE_BAD_TYPE, key,
                        "field '%s' must not be an object or an array", key);
        if (name_is(key, key_len, honeypot) && json_value_filled(v))
            c->honeypot_filled = 1;
        if (name_is(key, key_len, FORM_RENDERED_AT)) {
            if (json_take_rendered_at(c, v, err) != 0)
                return -1;
            continue;
        }
        int f = field_by_name(key, key_len, 0);
        if (f >= 0 && json_take_field(c, (enum comment_field)f, v, err) != 0)
            return -1;
    }
    return 0;
}

int comment_parse_json_jansson(struct comment *c, const char *body, size_t len,
                               const char *honeypot_field, struct parse_error *err)
{
    memset(c, 0, sizeof *c);
    clear_error(err);
    /* jansson would call bad UTF-8 a syntax error; say what it is instead. */
    size_t valid = utf8_valid_prefix((const unsigned char *)body, len);
    if (valid != len)
        return fail(err, PARSE_BAD_UTF8, "",
                    "body is not valid UTF-8 (bad byte at offset %zu)", valid);

    json_error_t jerr;
    /* NUL is let through to be reported against its field, and any root is
     * let through to be refused below with a clearer sentence. */
    json_t *root = json_loadb(body, len,
                              JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    if (root == NULL)
        return fail(err, PARSE_MALFORMED, "", "body is not valid JSON: %s at line %d column %d",
                    jerr.text, jerr.line, jerr.column);
    int rc = 0;
    if (!json_is_object(root))
        rc = fail(err, PARSE_MALFORMED, "", "body must be a JSON object ({...})");
    else
        rc = json_take_object(c, root, honeypot_field, err);
    json_decref(root);
    if (rc != 0)
        comment_free(c);
    return rc;
}

/* ---- The fast path for ordinary JSON bodies ----
 *
 * jansson reads a string byte by byte (about 20 ns a byte): for a 1.2 KB
 * comment that was a quarter of the cost of POST /v1/check. The fast path
 * reads the common body, one flat object whose values are strings, small
 * integers, true, false or null, in one pass over the bytes. It only ever
 * accepts: anything it is not sure of (nesting, floats, odd escapes, a
 * repeated key, an error of any kind) makes it decline, and jansson reads the
 * body from the start, so every answer and every error sentence stays
 * jansson's. tests/fuzz/fuzz_json.c checks the two agree on every input. */

#define FAST_MAX_KEYS 32

struct fast_reader {
    const char *p, *end;
    char *buf;              /* unescaped string of the current token */
    size_t cap;
};

static void skip_space(struct fast_reader *r)
{
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
        r->p++;
}

static int fast_hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_value(s[i]);
        if (h < 0)
            return -1;
        v = v << 4 | (unsigned)h;
    }
    *out = v;
    return 0;
}

/* Append the UTF-8 of cp (a scalar value) at out; returns the bytes written. */
static size_t put_utf8(char *out, unsigned cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* One \-escape at r->p (just after the backslash) into out; bytes written,
 * or 0 to decline (unknown escape, lone or bad surrogate). */
static size_t fast_escape(struct fast_reader *r, char *out)
{
    static const char plain[] = "\"\\/bfnrt";
    static const char value[] = "\"\\/\b\f\n\r\t";
    if (r->p >= r->end)
        return 0;
    const char *k = memchr(plain, *r->p, sizeof plain - 1);
    if (k) {
        r->p++;
        *out = value[k - plain];
        return 1;
    }
    unsigned cp, lo;
    if (*r->p != 'u' || r->end - r->p < 5 || fast_hex4(r->p + 1, &cp) < 0)
        return 0;
    r->p += 5;
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return 0;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || fast_hex4(r->p + 2, &lo) < 0 ||
            lo < 0xDC00 || lo > 0xDFFF)
            return 0;
        r->p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    }
    return put_utf8(out, cp);
}

/* A string token at r->p (on its opening quote), unescaped into r->buf with
 * its length in *len. Bytes from 0x80 up must form valid UTF-8 and are
 * copied as they are. 0, or -1 to decline (jansson's reader then reports
 * bad UTF-8 with its offset). */
static int fast_string(struct fast_reader *r, size_t *len)
{
    const char *start = ++r->p;
    /* Every escape yields at most as many bytes as it takes. */
    size_t need = (size_t)(r->end - start) + 1;
    if (need > r->cap) {
        char *b = realloc(r->buf, need);
        if (!b)
            return -1;
        r->buf = b;
        r->cap = need;
    }
    char *out = r->buf;
    while (r->p < r->end) {
        const unsigned char *q = (const unsigned char *)r->p, *end = (const unsigned char *)r->end;
        while (q < end) {
            if (*q >= 0x80) {       /* the body is checked for UTF-8 here, as it is read */
                size_t n = utf8_char_length(q, (size_t)(end - q));
                if (n == 0)
                    return -1;
                q += n;
            } else if (*q == '"' || *q == '\\' || *q < 0x20) {
                break;
            } else {
                q++;
            }
        }
        size_t run = (size_t)((const char *)q - r->p);
        memcpy(out, r->p, run);
        out += run;
        r->p = (const char *)q;
        if (q == end || *q < 0x20)
            return -1;      /* unterminated, or a raw control character */
        r->p++;
        if (*q == '"') {
            *len = (size_t)(out - r->buf);
            *out = '\0';
            return 0;
        }
        size_t n = fast_escape(r, out);
        if (n == 0)
            return -1;
        out += n;
    }
    return -1;
}

enum fast_kind { FAST_STRING, FAST_INTEGER, FAST_TRUE, FAST_FALSE, FAST_NULL };

/* A plain JSON integer: -?(0|[1-9][0-9]*), at most 18 digits, no fraction or
 * exponent (those, and -0, decline). */
static int fast_integer(struct fast_reader *r, const char **s, size_t *len)
{
    const char *start = r->p, *q = r->p;
    if (q < r->end && *q == '-')
        q++;
    const char *digits = q;
    while (q < r->end && *q >= '0' && *q <= '9')
        q++;
    size_t n = (size_t)(q - digits);
    if (n == 0 || n > 18 || (n > 1 && digits[0] == '0') || (digits[0] == '0' && digits != start))
        return -1;
    if (q < r->end && (*q == '.' || *q == 'e' || *q == 'E'))
        return -1;
    r->p = q;
    *s = start;
    *len = (size_t)(q - start);
    return 0;
}

static int fast_word(struct fast_reader *r, const char *w, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return -1;
    r->p += n;
    return 0;
}

/* Store one member the way json_take_object does; -1 declines. */
static int fast_take(struct comment *c, const char *key, size_t key_len, enum fast_kind kind,
                     const char *s, size_t len, const char *honeypot)
{
    if (name_is(key, key_len, honeypot) && kind != FAST_NULL && kind != FAST_FALSE &&
        !(kind == FAST_STRING && len == 0))
        c->honeypot_filled = 1;
    if (name_is(key, key_len, FORM_RENDERED_AT)) {
        if (kind == FAST_NULL)
            return 0;
        if (kind != FAST_STRING && kind != FAST_INTEGER)
            return -1;
        if (parse_seconds(s, len, &c->form_rendered_at) < 0)
            return -1;
        c->has_form_rendered_at = 1;
        return 0;
    }
    int f = field_by_name(key, key_len, 0);
    if (f < 0 || kind == FAST_NULL)
        return 0;
    if (kind == FAST_INTEGER && f != CF_POST_ID && f != CF_PARENT_ID)
        return -1;
    if (kind != FAST_STRING && kind != FAST_INTEGER)
        return -1;
    if (memchr(s, '\0', len) != NULL)
        return -1;
    return comment_set(c, (enum comment_field)f, s, len);
}

/* A key already seen among the first FAST_MAX_KEYS? (the keys are kept in
 * keys[], copied, since r->buf is reused) */
static int fast_repeated(char keys[][64], size_t nkeys, const char *key, size_t len)
{
    for (size_t i = 0; i < nkeys; i++)
        if (strlen(keys[i]) == len && memcmp(keys[i], key, len) == 0)
            return 1;
    return 0;
}

/* The members of the object after its '{'; 0 when the whole body was read. */
static int fast_members(struct fast_reader *r, struct comment *c, const char *honeypot)
{
    char keys[FAST_MAX_KEYS][64];
    size_t nkeys = 0;
    skip_space(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        return 0;
    }
    for (;;) {
        size_t key_len, len = 0;
        if (r->p >= r->end || *r->p != '"' || fast_string(r, &key_len) < 0)
            return -1;
        if (nkeys == FAST_MAX_KEYS || key_len >= sizeof keys[0] || memchr(r->buf, '\0', key_len) ||
            fast_repeated(keys, nkeys, r->buf, key_len))
            return -1;
        memcpy(keys[nkeys], r->buf, key_len + 1);
        const char *key = keys[nkeys++];
        skip_space(r);
        if (r->p >= r->end || *r->p++ != ':')
            return -1;
        skip_space(r);
        if (r->p >= r->end)
            return -1;
        enum fast_kind kind;
        const char *s = "";
        int rc;
        switch (*r->p) {
        case '"': kind = FAST_STRING; rc = fast_string(r, &len); s = r->buf; break;
        case 't': kind = FAST_TRUE; rc = fast_word(r, "true", 4); break;
        case 'f': kind = FAST_FALSE; rc = fast_word(r, "false", 5); break;
        case 'n': kind = FAST_NULL; rc = fast_word(r, "null", 4); break;
        default: kind = FAST_INTEGER; rc = fast_integer(r, &s, &len); break;
        }
        if (rc < 0 || fast_take(c, key, strlen(key), kind, s, len, honeypot) < 0)
            return -1;
        skip_space(r);
        if (r->p < r->end && *r->p == ',') {
            r->p++;
            skip_space(r);
            continue;
        }
        if (r->p < r->end && *r->p == '}') {
            r->p++;
            return 0;
        }
        return -1;
    }
}

int comment_parse_json_fast(struct comment *c, const char *body, size_t len,
                            const char *honeypot_field)
{
    struct fast_reader r = { body, body + len, NULL, 0 };
    memset(c, 0, sizeof *c);
    /* No separate UTF-8 pass: fast_string checks the strings as it reads
     * them, and outside strings only ASCII tokens are accepted. */
    skip_space(&r);
    int ok = r.p < r.end && *r.p++ == '{' && fast_members(&r, c, honeypot_field) == 0;
    if (ok) {
        skip_space(&r);
        ok = r.p == r.end;
    }
    free(r.buf);
    if (!ok)
        comment_free(c);
    return ok;
}

int comment_parse_json(struct comment *c, const char *body, size_t len,
                       const char *honeypot_field, struct parse_error *err)
{
    if (comment_parse_json_fast(c, body, len, honeypot_field)) {
        clear_error(err);
        return 0;
    }
    return comment_parse_json_jansson(c, body, len, honeypot_field, err);
}

/* ---- application/x-www-form-urlencoded ---- */

static int hex_value(char ch)
{
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Decode len bytes of s ('+' is a space, %XX a byte) into out, which must
 * hold len bytes. Returns the decoded length, or -1 on a bad %-escape. */
static long form_decode(const char *s, size_t len, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
            int lo = hi >= 0 ? hex_value(s[i + 2]) : -1;
            if (lo < 0)
                return -1;
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return (long)o;
}

/* Apply one decoded name=value pair to c. */
static int form_take_pair(struct comment *c, const char *name, size_t name_len,
                          const char *value, size_t value_len, const char *honeypot,
                          struct parse_error *err)
{
    if (name_is(name, name_len, honeypot) && value_len > 0)
        c->honeypot_filled = 1;
    /* Names go into messages; one with a NUL in it is simply unknown. */
    if (memchr(name, '\0', name_len) != NULL)
        return 0;
    if (name_is(name, name_len, FORM_RENDERED_AT)) {
        if (value_len == 0)
            return 0;
        if (parse_seconds(value, value_len, &c->form_rendered_at) != 0)
            return fail(err, PARSE_BAD_TYPE, FORM_RENDERED_AT,
                        "field '" FORM_RENDERED_AT "' must be an integer (unix seconds)");
        c->has_form_rendered_at = 1;
        return 0;
    }
    int f = field_by_name(name, name_len, 1);
    if (f < 0)
        return 0;
    /* WordPress sends comment_parent=0 for a top-level comment. */
    if (name_is(name, name_len, "comment_parent") && value_len == 1 && value[0] == '0') {
        comment_unset(c, CF_PARENT_ID);
        return 0;
    }
    return store_text(c, (enum comment_field)f, name, value, value_len, err);
}

/* Split body on '&' and '=' and apply each pair; buf holds len bytes. */
static int form_take_body(struct comment *c, const char *body, size_t len, char *buf,
                          const char *honeypot, struct parse_error *err)
{
    size_t start = 0;
    while (start < len) {
        const char *amp = memchr(body + start, '&', len - start);
        size_t end = amp ? (size_t)(amp - body) : len;
        const char *pair = body + start;
        size_t pair_len = end - start;
        if (pair_len > 0) {
            const char *eq = memchr(pair, '=', pair_len);
            size_t raw_name_len = eq ? (size_t)(eq - pair) : pair_len;
            const char *raw_value = eq ? eq + 1 : pair + pair_len;
            size_t raw_value_len = pair_len - raw_name_len - (eq ? 1 : 0);
            char *name = buf, *value = buf + raw_name_len + 1;
            long name_len = form_decode(pair, raw_name_len, name);
            long value_len = name_len < 0 ? -1 : form_decode(raw_value, raw_value_len, value);
            if (value_len < 0)
                return fail(err, PARSE_MALFORMED, "",
                            "body is not a valid form: bad %%-escape in the pair at byte %zu "
                            "(use %%XX with two hex digits)", start);
            name[name_len] = '\0';
            if (form_take_pair(c, name, (size_t)name_len, value, (size_t)value_len, honeypot,
                               err) != 0)
                return -1;
        }
        start = end + 1;
    }
    return 0;
}

int comment_parse_form(struct comment *c, const char *body, size_t len,
                       const char *honeypot_field, struct parse_error *err)
{
    memset(c, 0, sizeof *c);
    clear_error(err);
    /* One scratch buffer holds a decoded pair: never longer than the body,
     * plus the NUL after the name and a spare byte for a pair without '='. */
    char *buf = malloc(len + 2);
    if (buf == NULL)
        return fail(err, PARSE_MALFORMED, "", "out of memory while reading the form");
    int rc = form_take_body(c, body, len, buf, honeypot_field, err);
    free(buf);
    if (rc != 0)
        comment_free(c);
    return rc;
}
