/* akismet.c — Akismet's REST API (1.1) in front of Raqib's own intake.
 *
 * Existing Akismet clients (the WordPress plugin, libraries) switch to Raqib
 * by changing the host they call. Four endpoints, form-encoded, answered the
 * way Akismet answers (HTTP 200 and a plain-text body):
 *
 *   POST /1.1/verify-key     valid | invalid
 *   POST /1.1/comment-check  true | false   (+ X-akismet-pro-tip: discard)
 *   POST /1.1/submit-spam    Thanks for making the web a better place.
 *   POST /1.1/submit-ham     Thanks for making the web a better place.
 *
 * A request Raqib cannot act on is answered 200 with `invalid` (a missing or
 * unknown key) or `Missing required field: NAME.` (blog, user_ip), with the
 * reason in X-akismet-debug-help, as Akismet does.
 *
 * The key is the `api_key` (or `key`) parameter, else the first label of the
 * Host header (KEY.rest.akismet.com pointed at Raqib); it must be the secret
 * of a token of role submit or above (any non-empty key in development
 * mode). `blog` names the site: its host with every other character turned
 * into '-' (https://news.example.com/ -> news-example-com).
 *
 * comment-check builds a struct comment from Akismet's fields and goes
 * through intake.c's score and store steps, so the comment is scored by the
 * same rules and reaches the review queue like POST /v1/comments (unless
 * is_test is set). submit-spam / submit-ham find the stored comment through
 * its duplicate key and record a correction with queue_record_decision. */
#include "raqib/akismet.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <hiredis/hiredis.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include "raqib/comment.h"
#include "raqib/config.h"
#include "raqib/http.h"
#include "raqib/intake.h"
#include "raqib/log.h"
#include "raqib/normalize.h"
#include "raqib/queue.h"
#include "raqib/rules.h"
#include "raqib/runtime.h"
#include "raqib/store.h"
#include "raqib/validate.h"

#define THANKS "Thanks for making the web a better place."
#define SITE_MAX 64

/* --- the form body ------------------------------------------------------ */

struct form_pair {
    const char *name;
    const char *value;
    size_t len;
};

struct form {
    char *buf;               /* decoded copy of the body; pairs point into it */
    struct form_pair *pairs;
    size_t n;
};

static void form_free(struct form *f)
{
    free(f->buf);
    free(f->pairs);
    f->buf = NULL;
    f->pairs = NULL;
    f->n = 0;
}

static int hex_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decode %XX and '+' in place (s is NUL-terminated); the decoded length, or
 * -1 on a bad escape. */
static long form_decode(char *s)
{
    char *out = s;
    for (char *p = s; *p; p++) {
        if (*p == '+') {
            *out++ = ' ';
        } else if (*p == '%') {
            int hi = hex_value((unsigned char)p[1]), lo = hi < 0 ? -1 : hex_value((unsigned char)p[2]);
            if (hi < 0 || lo < 0)
                return -1;
            *out++ = (char)(hi * 16 + lo);
            p += 2;
        } else {
            *out++ = *p;
        }
    }
    *out = '\0';
    return out - s;
}

/* Split an application/x-www-form-urlencoded body into decoded pairs. Akismet
 * clients do not all send that Content-Type (some send only a charset), so the
 * body is read as a form whatever the header says. -1 on a bad %-escape. */
static int form_parse(struct form *f, const char *body, size_t len)
{
    memset(f, 0, sizeof *f);
    f->buf = malloc(len + 1);
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += body[i] == '&';
    f->pairs = calloc(cap, sizeof *f->pairs);
    if (!f->buf || !f->pairs)
        return -1;
    memcpy(f->buf, body, len);
    f->buf[len] = '\0';
    char *rest = f->buf;
    while (rest) {
        char *piece = rest;
        char *amp = strchr(piece, '&');
        rest = amp ? amp + 1 : NULL;
        if (amp)
            *amp = '\0';
        if (!*piece)
            continue;
        char *eq = strchr(piece, '=');
        char *value = eq ? eq + 1 : piece + strlen(piece);
        if (eq)
            *eq = '\0';
        long vlen = form_decode(value);
        if (form_decode(piece) < 0 || vlen < 0)
            return -1;
        f->pairs[f->n++] = (struct form_pair){ piece, value, (size_t)vlen };
    }
    return 0;
}

/* The last value of name (PHP's rule, which Akismet follows), or NULL. */
static const struct form_pair *form_get(const struct form *f, const char *name)
{
    for (size_t i = f->n; i-- > 0;)
        if (strcmp(f->pairs[i].name, name) == 0)
            return &f->pairs[i];
    return NULL;
}

/* A non-empty value of name, or NULL. */
static const char *form_value(const struct form *f, const char *name)
{
    const struct form_pair *p = form_get(f, name);
    return p && p->len ? p->value : NULL;
}

/* --- answers ---------------------------------------------------------- */

static void reply_plain(struct request_ctx *ctx, int status, const char *text)
{
    http_reply_text(ctx, status, "text/plain; charset=utf-8", text, strlen(text));
}

/* Akismet's answer to a call it cannot act on: 200, body and the reason in
 * X-akismet-debug-help. */
static void reply_debug(struct request_ctx *ctx, const char *body, const char *help)
{
    http_add_header(ctx, "X-akismet-debug-help", help);
    reply_plain(ctx, 200, body);
}

static void reply_missing(struct request_ctx *ctx, const char *field)
{
    char text[128];
    snprintf(text, sizeof text, "Missing required field: %s.", field);
    reply_debug(ctx, text, text);
}

static void reply_unavailable(struct request_ctx *ctx, const char *why)
{
    http_add_header(ctx, "Retry-After", "1");
    http_add_header(ctx, "X-akismet-debug-help", why);
    reply_plain(ctx, 503, "unavailable");
}

/* --- the key ---------------------------------------------------------- */

/* The first label of the Host header when it is a DNS name of two labels
 * or more (KEY.rest.akismet.com), into out; 0, or -1 when there is none. */
static int host_key(const char *host, char *out, size_t len)
{
    if (!host || host[0] == '[')
        return -1;
    size_t hlen = strcspn(host, ":");
    const char *dot = memchr(host, '.', hlen);
    if (!dot || dot == host || (size_t)(dot - host) >= len)
        return -1;
    int all_digits = 1;   /* 127.0.0.1 is an address, not KEY.domain */
    for (size_t i = 0; i < hlen; i++)
        if (!isdigit((unsigned char)host[i]) && host[i] != '.')
            all_digits = 0;
    if (all_digits)
        return -1;
    memcpy(out, host, (size_t)(dot - host));
    out[dot - host] = '\0';
    return 0;
}

/* SHA-256 of s, lowercased first when fold_case. -1 on allocation failure. */
static int sha256_of(const char *s, int fold_case, unsigned char digest[SHA256_DIGEST_LENGTH])
{
    size_t len = strlen(s);
    char *copy = malloc(len + 1);
    if (!copy)
        return -1;
    for (size_t i = 0; i <= len; i++)
        copy[i] = fold_case ? (char)tolower((unsigned char)s[i]) : s[i];
    SHA256((const unsigned char *)copy, len, digest);
    OPENSSL_cleanse(copy, len);
    free(copy);
    return 0;
}

/* Is key the secret of a token of role submit or above? Compared like
 * auth.c does: every token, on SHA-256 digests, with CRYPTO_memcmp, so
 * timing tells nothing. fold_case for a key from the Host header (URL
 * libraries lowercase host names). *who gets the token (NULL in
 * development mode, where any non-empty key is valid). */
static int key_valid(const char *key, int fold_case, const struct token **who)
{
    const struct config *cfg = runtime_config();
    *who = NULL;
    if (!key || !key[0])
        return 0;
    if (cfg->ntokens == 0)
        return 1;
    unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
    if (sha256_of(key, fold_case, got) < 0)
        return 0;
    int ok = 0;
    for (size_t i = 0; i < cfg->ntokens; i++) {
        const struct token *t = &cfg->tokens[i];
        if (sha256_of(t->secret, fold_case, want) < 0)
            continue;
        if (CRYPTO_memcmp(want, got, sizeof want) == 0 && t->role >= ROLE_SUBMIT && !ok) {
            ok = 1;
            *who = t;
        }
    }
    return ok;
}

/* --- the request, common to the four endpoints -------------------------- */

struct akismet_req {
    struct form form;
    const struct token *who;
    char site[SITE_MAX + 1];
};

/* "https://news.example.com:8443/path" -> "news-example-com": the host,
 * lowercased, every character outside [a-z0-9_-] turned into '-', at most
 * 64 characters. -1 when blog is not an http(s) URL with a host. */
static int blog_site(const char *blog, char *site, size_t len)
{
    const char *p;
    if (strncasecmp(blog, "http://", 7) == 0)
        p = blog + 7;
    else if (strncasecmp(blog, "https://", 8) == 0)
        p = blog + 8;
    else
        return -1;
    size_t auth = strcspn(p, "/?#");
    const char *at = memchr(p, '@', auth);
    if (at)
        p = at + 1;
    size_t hlen;
    if (*p == '[') {
        p++;
        hlen = strcspn(p, "]/?#");
    } else {
        hlen = strcspn(p, ":/?#");
    }
    while (hlen > 0 && p[hlen - 1] == '.')
        hlen--;
    if (hlen == 0)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < hlen && n + 1 < len && n < SITE_MAX; i++) {
        unsigned char ch = (unsigned char)tolower((unsigned char)p[i]);
        site[n++] = (char)((isalnum(ch) && ch < 0x80) || ch == '_' || ch == '-' ? ch : '-');
    }
    site[n] = '\0';
    return 0;
}

/* Body size, form and key, common to the four calls. Answers and returns -1
 * when the call cannot go on (r->form is freed by the caller either way). */
static int read_request(struct request_ctx *ctx, struct akismet_req *r)
{
    const struct config *cfg = runtime_config();
    size_t len;
    const char *body = http_body(ctx, &len);
    char msg[256];
    memset(r, 0, sizeof *r);
    if ((long)len > cfg->max_body) {
        snprintf(msg, sizeof msg, "The body is %zu bytes; the limit is %ld.", len, cfg->max_body);
        http_add_header(ctx, "X-akismet-debug-help", msg);
        reply_plain(ctx, 413, "too large");
        return -1;
    }
    if (!body || form_parse(&r->form, body, len) < 0) {
        if (!r->form.buf || !r->form.pairs)
            reply_plain(ctx, 500, "out of memory");
        else
            reply_debug(ctx, "invalid", "The body is not a valid form: a '%' escape is malformed.");
        return -1;
    }
    const char *key = form_value(&r->form, "api_key");
    if (!key)
        key = form_value(&r->form, "key");
    char hkey[256];
    int fold = 0;
    if (!key && host_key(http_header(ctx, "Host"), hkey, sizeof hkey) == 0) {
        key = hkey;
        fold = 1;
    }
    if (!key) {
        reply_debug(ctx, "invalid", "Empty \"api_key\" value: send api_key, or call KEY.HOST.");
        return -1;
    }
    if (!key_valid(key, fold, &r->who)) {
        reply_debug(ctx, "invalid", "Your API key is not the secret of a submit token of this Raqib.");
        return -1;
    }
    return 0;
}

/* blog -> r->site, and blog_charset. Answers and returns -1 when blog is
 * missing (invalid_body, or "Missing required field: blog." when NULL), not
 * an http(s) URL, or the charset is not UTF-8. */
static int read_blog(struct request_ctx *ctx, struct akismet_req *r, const char *invalid_body)
{
    const char *blog = form_value(&r->form, "blog");
    if (!blog) {
        if (invalid_body)
            reply_debug(ctx, invalid_body, "Empty \"blog\" value");
        else
            reply_missing(ctx, "blog");
        return -1;
    }
    if (!utf8_valid(blog, strlen(blog)) || blog_site(blog, r->site, sizeof r->site) < 0) {
        reply_debug(ctx, invalid_body ? invalid_body : "invalid",
                    "We were unable to parse your blog URI: it must be an http:// or https:// URL.");
        return -1;
    }
    const char *charset = form_value(&r->form, "blog_charset");
    if (charset && strcasecmp(charset, "utf-8") != 0 && strcasecmp(charset, "utf8") != 0) {
        reply_debug(ctx, invalid_body ? invalid_body : "invalid", "Only blog_charset=UTF-8 is accepted.");
        return -1;
    }
    return 0;
}

/* Akismet's parameters as Raqib's comment fields. */
static const struct {
    const char *param;
    enum comment_field field;
} field_map[] = {
    { "comment_author", CF_AUTHOR },
    { "comment_author_email", CF_EMAIL },
    { "comment_author_url", CF_URL },
    { "comment_content", CF_CONTENT },
    { "user_agent", CF_USER_AGENT },
    { "referrer", CF_REFERRER },
    { "blog_lang", CF_LANG },
    { "permalink", CF_POST_ID },
};

static const char *akismet_name(const char *field)
{
    for (size_t i = 0; i < sizeof field_map / sizeof field_map[0]; i++)
        if (strcmp(comment_field_name(field_map[i].field), field) == 0)
            return field_map[i].param;
    return field;
}

/* Build c from the form: user_ip (required) -> ip, permalink -> post_id
 * ("0" without one), the honeypot. Answers and returns -1 on a missing
 * user_ip, invalid UTF-8 or an over-long field. */
static int read_comment(struct request_ctx *ctx, struct akismet_req *r, struct comment *c)
{
    char msg[160];
    const char *user_ip = form_value(&r->form, "user_ip");
    if (!user_ip) {
        reply_missing(ctx, "user_ip");
        return -1;
    }
    for (size_t i = 0; i < r->form.n; i++) {
        const struct form_pair *p = &r->form.pairs[i];
        if (!utf8_valid(p->value, p->len) || memchr(p->value, '\0', p->len)) {
            snprintf(msg, sizeof msg, "Invalid UTF-8 in field: %.64s.", p->name);
            reply_debug(ctx, msg, msg);
            return -1;
        }
    }
    if (comment_set(c, CF_SITE, r->site, strlen(r->site)) < 0)
        goto oom;
    for (size_t i = 0; i < sizeof field_map / sizeof field_map[0]; i++) {
        const struct form_pair *p = form_get(&r->form, field_map[i].param);
        if (p && p->len && comment_set(c, field_map[i].field, p->value, p->len) < 0)
            goto oom;
    }
    if (!c->field[CF_POST_ID] && comment_set(c, CF_POST_ID, "0", 1) < 0)
        goto oom;
    unsigned char addr[16];
    if (inet_pton(AF_INET, user_ip, addr) == 1 || inet_pton(AF_INET6, user_ip, addr) == 1) {
        if (comment_set(c, CF_IP, user_ip, strlen(user_ip)) < 0)
            goto oom;
    } else {
        log_debug("akismet: user_ip is not an address; not used for flood control");
    }
    const char *honeypot = form_value(&r->form, "honeypot_field_name");
    if (honeypot && form_value(&r->form, honeypot))
        c->honeypot_filled = 1;
    struct validation v;
    validate_comment(c, &v);
    for (int i = 0; i < v.count; i++) {
        if (strcmp(v.errors[i].code, "too_long") != 0 || strcmp(v.errors[i].field, "post_id") == 0)
            continue;
        snprintf(msg, sizeof msg, "Field too long: %s (%s).", akismet_name(v.errors[i].field),
                 v.errors[i].detail ? v.errors[i].detail : "too long");
        reply_debug(ctx, msg, msg);
        return -1;
    }
    return 0;
oom:
    reply_plain(ctx, 500, "out of memory");
    return -1;
}

/* is_test, as Akismet clients send it: any value but "", "0" and "false". */
static int flag_set(const struct form *f, const char *name)
{
    const char *v = form_value(f, name);
    return v && strcmp(v, "0") != 0 && strcasecmp(v, "false") != 0;
}

/* user_role=administrator: Akismet never calls a site administrator's own
 * comment spam, and a client sending it expects false. The site backend
 * holds the key, so it is trusted to say who is writing. */
static int by_administrator(const struct form *f)
{
    const char *v = form_value(f, "user_role");
    return v && strcasecmp(v, "administrator") == 0;
}

/* --- verify-key --------------------------------------------------------- */

void akismet_verify_key(struct request_ctx *ctx)
{
    struct akismet_req r;
    if (read_request(ctx, &r) == 0 && read_blog(ctx, &r, "invalid") == 0)
        reply_plain(ctx, 200, "valid");
    form_free(&r.form);
}

/* --- comment-check ------------------------------------------------------- */

/* "Certain" spam, answered with X-akismet-pro-tip: discard: the rules say
 * spam with a score of at least twice the spam threshold, or a bot filled
 * the honeypot. */
static int certain_spam(const struct scored *s, int honeypot)
{
    if (s->verdict.status != DECISION_SPAM)
        return 0;
    double threshold = ruleset_spam_threshold(s->rules);
    return honeypot || (threshold > 0 && s->verdict.score >= 2 * threshold);
}

static void reply_verdict(struct request_ctx *ctx, const struct scored *s, int certain, const char *id)
{
    char score[32];
    if (certain)
        http_add_header(ctx, "X-akismet-pro-tip", "discard");
    if (id && id[0])
        http_add_header(ctx, "X-Raqib-Id", id);
    http_add_header(ctx, "X-Raqib-Status", decision_name(s->verdict.status));
    snprintf(score, sizeof score, "%.15g", s->verdict.score);
    http_add_header(ctx, "X-Raqib-Score", score);
    reply_plain(ctx, 200, s->verdict.status == DECISION_SPAM ? "true" : "false");
}

/* The store's answer: stored, or a duplicate / flood that was not stored
 * again. Either way the verdict stands, so the client gets true/false; only
 * a store failure is an error (503: nothing was kept, retry). */
static void on_checked(struct scored *s, const struct store_result *res)
{
    struct request_ctx *ctx = s->ctx;
    int certain = (int)(intptr_t)s->arg;
    switch (res->outcome) {
    case STORE_STORED:
    case STORE_REPLAYED:
        reply_verdict(ctx, s, certain, ctx->id);
        break;
    case STORE_DUPLICATE:
        log_info("akismet comment-check: a duplicate of %s, not stored again", res->existing_id);
        ctx->id[0] = '\0';
        reply_verdict(ctx, s, certain, res->existing_id);
        break;
    case STORE_FLOOD:
        log_info("akismet comment-check: flood (retry after %lds), not stored", res->retry_after);
        ctx->id[0] = '\0';
        reply_verdict(ctx, s, certain, NULL);
        break;
    case STORE_FAILED:
        log_error("akismet comment-check %s not stored: %s", ctx->id, res->error ? res->error : "store failed");
        reply_unavailable(ctx, "The comment could not be stored; retry shortly.");
        break;
    }
}

void akismet_comment_check(struct request_ctx *ctx)
{
    struct akismet_req r;
    struct comment c = { 0 };
    struct scored *s = NULL;
    if (read_request(ctx, &r) < 0 || read_blog(ctx, &r, NULL) < 0 || read_comment(ctx, &r, &c) < 0)
        goto out;
    s = intake_score(ctx, &c);
    if (!s) {
        reply_plain(ctx, 500, "the comment could not be scored");
        goto out;
    }
    if (by_administrator(&r.form))
        s->verdict.status = DECISION_APPROVED;  /* kept with its score and matches */
    int certain = certain_spam(s, c.honeypot_filled);
    if (flag_set(&r.form, "is_test")) {
        ctx->id[0] = '\0';   /* nothing stored: no id */
        reply_verdict(ctx, s, certain, NULL);
        goto out;
    }
    s->done = on_checked;
    s->arg = (void *)(intptr_t)certain;
    http_begin_wait(ctx);
    if (intake_store(s, &c, r.site, c.field[CF_IP] ? c.field[CF_IP] : "", NULL) < 0) {
        log_error("akismet comment-check %s not stored: the store is not connected", ctx->id);
        reply_unavailable(ctx, "The store is unreachable; retry shortly.");
        goto out;
    }
    s = NULL;   /* intake's store callback owns it now */
out:
    intake_scored_free(s);
    comment_free(&c);
    form_free(&r.form);
}

/* --- submit-spam / submit-ham --------------------------------------------- */

struct correction {
    struct request_ctx *ctx;
    const char *status;     /* "spam" or "approved" */
    const char *call;       /* "submit-spam" / "submit-ham", for the log */
    char site[SITE_MAX + 1];
    char decided_by[128];
    char id[32];            /* as ctx->id */
};

static void on_recorded(void *arg, enum decide_outcome outcome, const char *current)
{
    struct correction *k = arg;
    switch (outcome) {
    case DECIDE_OK:
    case DECIDE_SAME:
        log_info("akismet %s: %s on %s/%s by %s", k->call, k->status, k->site, k->id, k->decided_by);
        break;
    case DECIDE_CONFLICT:
        log_warn("akismet %s: %s/%s was already decided %s by a moderator; left as it is", k->call, k->site,
                 k->id, current ? current : "otherwise");
        break;
    case DECIDE_NOT_FOUND:
        log_warn("akismet %s: %s/%s is gone (expired?); nothing recorded", k->call, k->site, k->id);
        break;
    case DECIDE_FAILED:
        log_error("akismet %s: the store failed recording %s on %s/%s", k->call, k->status, k->site, k->id);
        break;
    }
    reply_plain(k->ctx, 200, THANKS);
    free(k);
}

/* The duplicate key's answer: the id of the comment this report is about. */
static void on_found(void *arg, const struct redisReply *reply, const char *error)
{
    struct correction *k = arg;
    struct request_ctx *ctx = k->ctx;
    if (!reply) {
        log_error("akismet %s: looking the comment up failed: %s", k->call, error ? error : "store failed");
        reply_unavailable(ctx, "The store is unreachable; retry shortly.");
        free(k);
        return;
    }
    if (reply->type != REDIS_REPLY_STRING || reply->len == 0 || reply->len >= sizeof k->id) {
        log_info("akismet %s: no stored comment on site %s matches this post, author and text; nothing recorded",
                 k->call, k->site);
        reply_plain(ctx, 200, THANKS);
        free(k);
        return;
    }
    memcpy(k->id, reply->str, reply->len);
    k->id[reply->len] = '\0';
    snprintf(ctx->id, sizeof ctx->id, "%s", k->id);
    char reason[64];
    snprintf(reason, sizeof reason, "akismet %s", k->call);
    if (queue_record_decision(request_store(ctx), k->site, k->id, k->status, reason, k->decided_by, on_recorded,
                              k) < 0) {
        log_warn("akismet %s: the correction on %s/%s could not be recorded (queue unavailable)", k->call, k->site,
                 k->id);
        reply_plain(ctx, 200, THANKS);
        free(k);
    }
}

/* Both submit calls: find the comment by post, author and text (the same
 * duplicate key the store wrote), then record status on it as decided by
 * the key's token name. Akismet clients get the thanks text whether or not
 * a stored comment matched; only an unreachable store is a 503. */
static void submit(struct request_ctx *ctx, const char *status, const char *call)
{
    struct akismet_req r;
    struct comment c = { 0 };
    if (read_request(ctx, &r) < 0 || read_blog(ctx, &r, NULL) < 0 || read_comment(ctx, &r, &c) < 0)
        goto out;
    struct correction *k = calloc(1, sizeof *k);
    if (!k) {
        reply_plain(ctx, 500, "out of memory");
        goto out;
    }
    k->ctx = ctx;
    k->status = status;
    k->call = call;
    snprintf(k->site, sizeof k->site, "%s", r.site);
    snprintf(k->decided_by, sizeof k->decided_by, "%s", r.who ? r.who->name : "dev");
    char hash[65], key[256];
    intake_duplicate_hash(&c, hash);
    char suffix[80];
    snprintf(suffix, sizeof suffix, "dup:%s", hash);
    store_key(key, sizeof key, r.site, suffix);
    const char *argv[] = { "GET", key };
    http_begin_wait(ctx);
    if (store_command(request_store(ctx), 2, argv, NULL, on_found, k) < 0) {
        log_error("akismet %s: the store is not connected", call);
        reply_unavailable(ctx, "The store is unreachable; retry shortly.");
        free(k);
    }
out:
    comment_free(&c);
    form_free(&r.form);
}

void akismet_submit_spam(struct request_ctx *ctx) { submit(ctx, "spam", "submit-spam"); }
void akismet_submit_ham(struct request_ctx *ctx) { submit(ctx, "approved", "submit-ham"); }
