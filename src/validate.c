/* validate.c — is a parsed comment acceptable? Every failing field at once.
 *
 * comment.c has already turned the body into UTF-8 fields; here each field is
 * held against WordPress's rules (required fields, length limits in code
 * points, e-mail syntax via email.c, http(s) URLs) and Raqib's own (ids and
 * site names safe for Redis keys, IP addresses). At most one error per field,
 * reported in field order, so a client can fix the whole form in one go.
 * Pure module. */
#include "raqib/validate.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "raqib/email.h"
#include "raqib/normalize.h"

#define AUTHOR_MAX_CHARS 245
#define EMAIL_MAX_CHARS 100
#define URL_MAX_CHARS 200
#define CONTENT_MAX_BYTES 65525
#define ID_MAX_CHARS 64
#define SITE_MAX_CHARS 64

static int is_space_or_control(int category)
{
    return category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL ||
           category == UTF8PROC_CATEGORY_ZP || category == UTF8PROC_CATEGORY_CC;
}

/* Something a reader would see: not white space, a control or a format
 * character (zero-width spaces, bidi marks, BOM). */
static int is_visible(int category)
{
    return !is_space_or_control(category) && category != UTF8PROC_CATEGORY_CF;
}

/* 1 as soon as a code point of s has a category for which wanted() holds,
 * else 0; invalid UTF-8 counts as such a code point. */
static int has_code_point(const char *s, size_t len, int (*wanted)(int category))
{
    const utf8proc_uint8_t *p = (const utf8proc_uint8_t *)s;
    utf8proc_ssize_t left = (utf8proc_ssize_t)len;
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0 || wanted(utf8proc_category(cp)))
            return 1;
        p += n;
        left -= n;
    }
    return 0;
}

/* True when s holds nothing a reader would see. Invalid UTF-8 counts as
 * visible, so it is left to the other checks. */
static int is_blank(const char *s, size_t len)
{
    return !has_code_point(s, len, is_visible);
}

/* True when some code point is white space or a control character. */
static int has_space_or_control(const char *s, size_t len)
{
    return has_code_point(s, len, is_space_or_control);
}

static int prefix_nocase(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && strncasecmp(s, prefix, n) == 0;
}

/* Why url (len bytes, not blank) is not an absolute http(s) URL, or NULL. */
static const char *url_problem(const char *url, size_t len)
{
    size_t scheme;
    if (prefix_nocase(url, len, "http://"))
        scheme = 7;
    else if (prefix_nocase(url, len, "https://"))
        scheme = 8;
    else
        return "must start with http:// or https://";
    if (has_space_or_control(url, len))
        return "must not contain spaces or control characters";
    /* authority = [userinfo@]host[:port], up to the first / ? or # */
    size_t end = scheme;
    while (end < len && url[end] != '/' && url[end] != '?' && url[end] != '#')
        end++;
    size_t host = scheme;
    for (size_t i = scheme; i < end; i++)
        if (url[i] == '@')
            host = i + 1;
    size_t host_end = end;
    if (host < end && url[host] == '[') {
        const char *close = memchr(url + host, ']', end - host);
        if (close == NULL)
            return "has an unclosed [ in its host";
        host_end = (size_t)(close - url) + 1;
        if (host_end < end && url[host_end] != ':')
            return "has text after the ] of its host";
    } else {
        const char *colon = memchr(url + host, ':', end - host);
        if (colon != NULL)
            host_end = (size_t)(colon - url);
    }
    if (host_end == host || (url[host] == '[' && host_end == host + 2))
        return "has no host name";
    if (host_end < end) { /* ":port" */
        size_t digits = end - host_end - 1;
        if (digits > 5)
            return "has a bad port number";
        for (size_t i = host_end + 1; i < end; i++)
            if (url[i] < '0' || url[i] > '9')
                return "has a bad port number";
    }
    return NULL;
}

/* 1..max characters, each in set or an ASCII letter/digit (lowercase only
 * when lower_only). */
static int token_ok(const char *s, size_t len, size_t max, const char *set, int lower_only)
{
    if (len == 0 || len > max)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
                 || (!lower_only && ch >= 'A' && ch <= 'Z')
                 || (ch != '\0' && strchr(set, ch) != NULL);
        if (!ok)
            return 0;
    }
    return 1;
}

static int ip_ok(const char *s, size_t len)
{
    unsigned char addr[16];
    if (len == 0 || strlen(s) != len)
        return 0;
    return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

static void add_error(struct validation *v, enum comment_field f, const char *code,
                      const char *detail)
{
    if (v->count >= VALIDATE_MAX_ERRORS)
        return;
    v->errors[v->count].field = comment_field_name(f);
    v->errors[v->count].code = code;
    v->errors[v->count].detail = detail;
    v->count++;
}

/* The one problem of field f (present, len bytes), or NULL; *code is set. */
static const char *field_problem(enum comment_field f, const char *s, size_t len,
                                 const char **code)
{
    *code = "invalid";
    switch (f) {
    case CF_SITE:
        if (!token_ok(s, len, SITE_MAX_CHARS, "_-", 1))
            return "must be 1 to 64 characters of a-z, 0-9, _ and -";
        return NULL;
    case CF_POST_ID:
    case CF_PARENT_ID:
        if (!token_ok(s, len, ID_MAX_CHARS, "_.:-", 0))
            return "must be at most 64 characters of A-Z, a-z, 0-9, _ . : and -";
        return NULL;
    case CF_AUTHOR:
        *code = "too_long";
        return utf8_length(s, len) > AUTHOR_MAX_CHARS ? "must be at most 245 characters" : NULL;
    case CF_EMAIL:
        if (utf8_length(s, len) > EMAIL_MAX_CHARS) {
            *code = "too_long";
            return "must be at most 100 characters";
        }
        return email_problem(s, len);
    case CF_URL:
        if (utf8_length(s, len) > URL_MAX_CHARS) {
            *code = "too_long";
            return "must be at most 200 characters";
        }
        return url_problem(s, len);
    case CF_CONTENT:
        *code = "too_long";
        return len > CONTENT_MAX_BYTES ? "must be at most 65,525 bytes" : NULL;
    case CF_IP:
        return ip_ok(s, len) ? NULL : "must be an IPv4 or IPv6 address";
    default:
        return NULL;
    }
}

/* Fields that must be present and not blank. */
static int is_required(enum comment_field f)
{
    return f == CF_POST_ID || f == CF_AUTHOR || f == CF_EMAIL || f == CF_CONTENT;
}

/* Optional fields for which a blank value means "not given" (what a form
 * sends for an untouched box); other optional fields are checked as sent. */
static int blank_is_absent(enum comment_field f)
{
    return f == CF_URL || f == CF_PARENT_ID;
}

int validate_comment(const struct comment *c, struct validation *v)
{
    memset(v, 0, sizeof *v);
    for (int i = 0; i < CF_COUNT; i++) {
        enum comment_field f = (enum comment_field)i;
        const char *s = c->field[f];
        size_t len = c->len[f];
        int blank = s == NULL || is_blank(s, len);
        if (blank && is_required(f)) {
            add_error(v, f, "required", "is required");
            continue;
        }
        if (s == NULL || (blank && blank_is_absent(f)))
            continue;
        const char *code;
        const char *detail = field_problem(f, s, len, &code);
        if (detail != NULL)
            add_error(v, f, code, detail);
    }
    return v->count;
}
