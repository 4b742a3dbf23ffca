/* email.c — strict e-mail address syntax, as mail servers accept it.
 *
 * Only the dot-atom addr-spec of RFC 5321/5322 is accepted: a local part of
 * atext (plus UTF-8 per RFC 6531), one @, and a domain of LDH labels (IDN
 * labels in UTF-8 or xn-- form). Quoted strings, comments, IP literals and
 * whitespace are refused. Each refusal is a fixed sentence the client can show
 * to the person who typed the address. Pure module: no allocation. */
#include "raqib/email.h"

#include <stdint.h>
#include <string.h>
#include <utf8proc.h>

#define LOCAL_MAX 64
#define LABEL_MAX 63
#define DOMAIN_MAX 253

/* Decode one strictly valid UTF-8 sequence (no overlongs, no surrogates,
 * at most U+10FFFF) at s[0..len). Returns its length in bytes and stores the
 * code point in *cp, or returns 0 when the bytes are not valid UTF-8. */
static size_t utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
    if (len == 0)
        return 0;
    unsigned char b = s[0];
    size_t n;
    uint32_t c, min;
    if (b < 0x80) {
        *cp = b;
        return 1;
    } else if (b >= 0xC2 && b <= 0xDF) {
        n = 2; c = b & 0x1F; min = 0x80;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3; c = b & 0x0F; min = 0x800;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4; c = b & 0x07; min = 0x10000;
    } else {
        return 0;
    }
    if (len < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

/* RFC 5322 atext, without the dot. */
static int is_atext(unsigned char ch)
{
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
        return 1;
    return ch != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", ch) != NULL;
}

static int is_ldh_alnum(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Non-ASCII code points an RFC 6531 local part may hold: anything but
 * controls, format characters (bidi overrides, zero-width joiners), spaces,
 * private use, surrogates and unassigned code points. */
static int local_cp_ok(uint32_t cp)
{
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
        return 0;
    default:
        return 1;
    }
}

/* Non-ASCII code points an IDN label may hold: letters, marks and digits. */
static int domain_cp_ok(uint32_t cp)
{
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND:
        return 1;
    default:
        return 0;
    }
}

/* Whitespace (ASCII or Unicode) and C0/C1 control characters. */
static int is_space_or_control(uint32_t cp)
{
    if (cp <= 0x20 || cp == 0x7F)
        return 1;
    if (cp < 0x80)
        return 0;
    switch (utf8proc_category((utf8proc_int32_t)cp)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP:
        return 1;
    default:
        return 0;
    }
}

/* Checks that must hold over the whole address before it is split at @:
 * valid UTF-8, no whitespace or control characters, no quoting, comments or
 * IP literals. Returns NULL or the sentence. */
static const char *whole_problem(const unsigned char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return "the address is not valid UTF-8";
        if (is_space_or_control(cp))
            return "the address contains a space or a control character";
        if (cp == '"')
            return "quoted local parts (\"...\"@) are not accepted";
        if (cp == '(' || cp == ')')
            return "comments in parentheses are not accepted in an address";
        if (cp == '[' || cp == ']')
            return "IP-address literals ([...]) are not accepted; use a domain name";
        i += n;
    }
    return NULL;
}

/* The part before @: 1..64 bytes of atext and UTF-8, dots only between atoms. */
static const char *local_problem(const unsigned char *s, size_t len)
{
    if (len == 0)
        return "the part before @ is empty";
    if (len > LOCAL_MAX)
        return "the part before @ is longer than 64 characters";
    if (s[0] == '.')
        return "the part before @ starts with a dot";
    if (s[len - 1] == '.')
        return "the part before @ ends with a dot";
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return "the address is not valid UTF-8";
        if (cp == '.') {
            if (s[i + 1] == '.')
                return "the part before @ has two dots in a row";
        } else if (cp < 0x80 ? !is_atext((unsigned char)cp) : !local_cp_ok(cp)) {
            return "the part before @ contains a character that is not allowed";
        }
        i += n;
    }
    return NULL;
}

/* One domain label of 1..63 bytes; is_last says whether it is the TLD. */
static const char *label_problem(const unsigned char *s, size_t len, int is_last)
{
    if (len == 0)
        return "the domain has an empty part (two dots in a row)";
    if (len > LABEL_MAX)
        return "a part of the domain is longer than 63 characters";
    if (s[0] == '-')
        return "a part of the domain starts with a hyphen";
    if (s[len - 1] == '-')
        return "a part of the domain ends with a hyphen";
    int all_digits = 1;
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t n = utf8_decode(s + i, len - i, &cp);
        if (n == 0)
            return "the address is not valid UTF-8";
        if (cp < 0x80) {
            if (!is_ldh_alnum((unsigned char)cp) && cp != '-')
                return "the domain contains a character that is not allowed";
        } else if (!domain_cp_ok(cp)) {
            return "the domain contains a character that is not allowed";
        }
        if (!(cp >= '0' && cp <= '9'))
            all_digits = 0;
        i += n;
    }
    if (is_last && all_digits)
        return "the top-level domain (such as .com) cannot be all digits";
    return NULL;
}

/* The part after @: at most 253 bytes, two or more valid labels. */
static const char *domain_problem(const unsigned char *s, size_t len)
{
    if (len == 0)
        return "the part after @ is empty";
    if (len > DOMAIN_MAX)
        return "the domain is longer than 253 characters";
    if (s[0] == '.')
        return "the domain starts with a dot";
    if (s[len - 1] == '.')
        return "the domain ends with a dot";
    const unsigned char *dot = memchr(s, '.', len);
    if (dot == NULL)
        return "the domain has no top-level part (such as .com)";
    size_t start = 0;
    while (start <= len) {
        const unsigned char *next = memchr(s + start, '.', len - start);
        size_t end = next ? (size_t)(next - s) : len;
        const char *p = label_problem(s + start, end - start, next == NULL);
        if (p != NULL)
            return p;
        start = end + 1;
    }
    return NULL;
}

const char *email_problem(const char *addr, size_t len)
{
    const unsigned char *s = (const unsigned char *)addr;
    if (addr == NULL || len == 0)
        return "the address is empty";
    const char *p = whole_problem(s, len);
    if (p != NULL)
        return p;
    const unsigned char *at = memchr(s, '@', len);
    if (at == NULL)
        return "the address has no @";
    size_t local_len = (size_t)(at - s);
    if (memchr(at + 1, '@', len - local_len - 1) != NULL)
        return "the address has more than one @";
    p = local_problem(s, local_len);
    if (p != NULL)
        return p;
    return domain_problem(at + 1, len - local_len - 1);
}
