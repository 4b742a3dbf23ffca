/* intake.c — the submission handler, POST /v1/comments.
 *
 * The one-way flow of a comment: content type and size → parse (comment.c,
 * 400) → validate (validate.c, 422 with every field at once) → who sent it
 * (ip) and bot signals → score (engine.c) → one Lua call to Redis (store.c:
 * idempotency, duplicate, flood, item, queue) → 202 / 409 / 429 / 503.
 * The answer is built before the store call so an Idempotency-Key replay
 * can return exactly the first answer. */
#include "raqib/intake.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "raqib/comment.h"
#include "raqib/config.h"
#include "raqib/engine.h"
#include "raqib/http.h"
#include "raqib/id.h"
#include "raqib/log.h"
#include "raqib/metrics.h"
#include "raqib/reputation.h"
#include "raqib/rules.h"
#include "raqib/runtime.h"
#include "raqib/spool.h"
#include "raqib/store.h"
#include "raqib/validate.h"
#include "raqib/webhook.h"

#define MAX_IDEMPOTENCY_KEY 255

enum body_kind { BODY_JSON, BODY_FORM };

void intake_scored_free(struct scored *p)
{
    if (!p)
        return;
    verdict_free(&p->verdict);
    if (p->rules)
        ruleset_release(p->rules);
    free(p->answer);
    free(p->matches);
    free(p);
}

/* Media type of the request: 0 and *kind, or -1 (415) with why in msg. */
static int body_kind(const char *type, enum body_kind *kind, char *msg, size_t msglen)
{
    if (!type) {
        snprintf(msg, msglen, "a Content-Type header is required: application/json or application/x-www-form-urlencoded");
        return -1;
    }
    size_t n = strcspn(type, "; \t");
    if (n == 16 && strncasecmp(type, "application/json", n) == 0)
        *kind = BODY_JSON;
    else if (n == 33 && strncasecmp(type, "application/x-www-form-urlencoded", n) == 0)
        *kind = BODY_FORM;
    else {
        snprintf(msg, msglen, "Content-Type '%.*s' is not supported: send application/json or "
                 "application/x-www-form-urlencoded", (int)(n > 100 ? 100 : n), type);
        return -1;
    }
    const char *charset = strcasestr(type + n, "charset=");
    if (charset) {
        charset += 8;
        if (*charset == '"')
            charset++;
        if (strncasecmp(charset, "utf-8", 5) != 0 && strncasecmp(charset, "utf8", 4) != 0) {
            snprintf(msg, msglen, "only UTF-8 bodies are accepted (charset=utf-8)");
            return -1;
        }
    }
    return 0;
}

static const char *parse_error_code(enum parse_status s)
{
    switch (s) {
    case PARSE_BAD_UTF8: return "invalid_utf8";
    case PARSE_BAD_TYPE: return "wrong_type";
    default: return "malformed_body";
    }
}

static void reply_parse_error(struct request_ctx *ctx, const struct parse_error *pe)
{
    json_t *body = json_pack("{s:s, s:s}", "error", parse_error_code(pe->status), "message", pe->message);
    if (body && pe->field[0])
        json_object_set_new(body, "fields", json_pack("{s:s}", pe->field, parse_error_code(pe->status)));
    http_reply_json(ctx, 400, body);
}

static void reply_validation(struct request_ctx *ctx, const struct validation *v)
{
    json_t *fields = json_object();
    char message[1024];
    size_t used = (size_t)snprintf(message, sizeof message, "%d field%s not acceptable:", v->count,
                                   v->count == 1 ? " is" : "s are");
    for (int i = 0; i < v->count; i++) {
        json_object_set_new(fields, v->errors[i].field, json_string(v->errors[i].code));
        if (used < sizeof message)
            used += (size_t)snprintf(message + used, sizeof message - used, "%s %s: %s", i ? ";" : "",
                                     v->errors[i].field, v->errors[i].detail ? v->errors[i].detail : v->errors[i].code);
    }
    http_reply_json(ctx, 422, json_pack("{s:s, s:s, s:o}", "error", "validation_failed", "message", message,
                                        "fields", fields));
}

/* Idempotency-Key: printable ASCII without spaces, at most 255 bytes. */
static int idempotency_key_ok(const char *key)
{
    size_t n = strlen(key);
    if (n == 0 || n > MAX_IDEMPOTENCY_KEY)
        return 0;
    for (const char *p = key; *p; p++)
        if (*p <= ' ' || *p > '~')
            return 0;
    return 1;
}

/* The client's address: a backend's `ip` field when a token sent it;
 * otherwise the peer, or for a trusted proxy the nearest X-Forwarded-For
 * entry it did not add itself. "" when unknown. */
void intake_client_ip(struct request_ctx *ctx, const struct comment *c, char *out, size_t len)
{
    const struct config *cfg = runtime_config();
    out[0] = '\0';
    if (ctx->role >= ROLE_SUBMIT) {
        if (c->field[CF_IP])
            snprintf(out, len, "%s", c->field[CF_IP]);
        return;
    }
    http_peer(ctx, out, len);
    const char *xff = http_header(ctx, "X-Forwarded-For");
    if (!xff || !config_is_trusted_proxy(cfg, out))
        return;
    char *list = strdup(xff);
    if (!list)
        return;
    /* Walk from the right: skip hops that are our own trusted proxies. */
    for (;;) {
        char *comma = strrchr(list, ',');
        char *entry = comma ? comma + 1 : list;
        while (*entry == ' ')
            entry++;
        char *end = entry + strlen(entry);
        while (end > entry && end[-1] == ' ')
            *--end = '\0';
        if (*entry)
            snprintf(out, len, "%s", entry);
        if (!comma || !config_is_trusted_proxy(cfg, entry))
            break;
        *comma = '\0';
    }
    free(list);
}

static json_t *number(double v)
{
    if (v == (double)(long long)v && v > -1e15 && v < 1e15)
        return json_integer((json_int_t)v);
    return json_real(v);
}

static json_t *matches_json(const struct verdict *v)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < v->nmatches; i++) {
        const struct match *m = &v->matches[i];
        json_t *o = json_pack("{s:s, s:o, s:s, s:s}", "rule", m->rule, "score", number(m->score), "field", m->field,
                              "description", m->description ? m->description : "");
        if (o && m->matched[0])   /* the words the console marks */
            json_object_set_new(o, "matched", json_string(m->matched));
        json_array_append_new(arr, o);
    }
    return arr;
}

/* SHA-256 of post, author and text: the duplicate key. */
void intake_duplicate_hash(const struct comment *c, char hex[65])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int dlen = 0;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    hex[0] = '\0';
    if (!md)
        return;
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    const enum comment_field parts[] = { CF_POST_ID, CF_AUTHOR, CF_CONTENT };
    for (size_t i = 0; i < 3; i++) {
        if (c->field[parts[i]])
            EVP_DigestUpdate(md, c->field[parts[i]], c->len[parts[i]]);
        EVP_DigestUpdate(md, "", 1);
    }
    EVP_DigestFinal_ex(md, digest, &dlen);
    EVP_MD_CTX_free(md);
    for (unsigned i = 0; i < dlen && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", digest[i]);
}

int intake_author_hash(const char *email, size_t len, uint64_t *out)
{
    const char *key = runtime_config() ? runtime_config()->author_key : NULL;
    char norm[320];
    size_t n = 0;
    if (!key || !email)
        return 0;
    while (len && (*email == ' ' || *email == '\t'))
        email++, len--;
    while (len && (email[len - 1] == ' ' || email[len - 1] == '\t'))
        len--;
    if (!len || len >= sizeof norm)
        return 0;
    for (; n < len; n++)
        norm[n] = (char)tolower((unsigned char)email[n]);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)norm, n, mac, &maclen) || maclen < 8)
        return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | mac[i];
    *out = v ? v : 1;   /* 0 names no author (reputation.h) */
    return 1;
}

/* A submission on its way to Redis, with its spool record ready in case
 * Redis cannot take it (down, past the deadline, or an error). */
struct in_flight {
    struct scored *scored;
    char *record;
    size_t record_len;
};

static void on_stored(void *arg, const struct store_result *res)
{
    struct in_flight *f = arg;
    struct scored *p = f->scored;
    struct request_ctx *ctx = p->ctx;
    char retry[32];
    struct store_result spooled = { .outcome = STORE_STORED };
    char why[320];
    if (res->outcome == STORE_FAILED) {
        /* Redis did not take it (it may still land after a timeout: the
         * replay is then a no-op). Durable in the spool = accepted. */
        if (f->record && spool_append(request_spool(ctx), f->record, f->record_len, why, sizeof why) == 0) {
            log_warn("submission %s spooled: %s", ctx->id, res->error ? res->error : "store failed");
            res = &spooled;
        } else {
            log_error("submission %s could not be spooled either: %s", ctx->id,
                      f->record ? why : "out of memory");
        }
    }
    free(f->record);
    free(f);
    if (res->outcome == STORE_STORED) {
        webhook_note_site(p->site);
        metrics_decision(decision_name(p->verdict.status));
        for (size_t i = 0; i < p->verdict.nmatches; i++)
            metrics_rule_hit(p->verdict.matches[i].rule);
    }
    if (p->done) {
        p->done(p, res);
        intake_scored_free(p);
        return;
    }
    switch (res->outcome) {
    case STORE_STORED:
        http_reply_text(ctx, 202, "application/json", p->answer, strlen(p->answer));
        break;
    case STORE_REPLAYED:
        ctx->id[0] = '\0';
        http_add_header(ctx, "Idempotent-Replayed", "true");
        http_reply_text(ctx, 202, "application/json", res->answer, strlen(res->answer));
        break;
    case STORE_DUPLICATE:
        http_reply_json(ctx, 409, json_pack("{s:s, s:s, s:s}", "error", "duplicate", "message",
                                            "this author already posted the same text on this post", "id",
                                            res->existing_id));
        break;
    case STORE_FLOOD:
        snprintf(retry, sizeof retry, "%ld", res->retry_after);
        http_add_header(ctx, "Retry-After", retry);
        http_reply_json(ctx, 429, json_pack("{s:s, s:s, s:I}", "error", "flood", "message",
                                            "you are posting comments too quickly; wait and try again", "retry_after",
                                            (json_int_t)res->retry_after));
        break;
    case STORE_FAILED:
        log_error("submission %s not stored: %s", ctx->id, res->error ? res->error : "store failed");
        http_add_header(ctx, "Retry-After", "1");
        http_reply_json(ctx, 503, json_pack("{s:s, s:s, s:i}", "error", "unavailable", "message",
                                            "the comment could not be stored; retry shortly", "retry_after", 1));
        break;
    }
    intake_scored_free(p);
}

static const char *status_field(const struct comment *c, enum comment_field f)
{
    return c->field[f] ? c->field[f] : "";
}

int intake_store(struct scored *p, const struct comment *c, const char *site, const char *ip, const char *idem_key)
{
    struct request_ctx *ctx = p->ctx;
    long long created = p->created_ms;
    char score[64], created_s[32], dup[65], email_lc[256];
    snprintf(score, sizeof score, "%.15g", p->verdict.score);
    snprintf(created_s, sizeof created_s, "%lld", created);
    intake_duplicate_hash(c, dup);
    struct store_field fields[24];
    size_t n = 0;
    fields[n++] = (struct store_field){ "id", ctx->id, strlen(ctx->id) };
    fields[n++] = (struct store_field){ "site", site, strlen(site) };
    const enum comment_field kept[] = { CF_POST_ID, CF_PARENT_ID, CF_AUTHOR, CF_EMAIL, CF_URL,
                                        CF_CONTENT, CF_USER_AGENT, CF_REFERRER, CF_LANG };
    for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
        if (c->field[kept[i]])
            fields[n++] = (struct store_field){ comment_field_name(kept[i]), c->field[kept[i]], c->len[kept[i]] };
    if (ip[0])
        fields[n++] = (struct store_field){ "ip", ip, strlen(ip) };
    snprintf(p->site, sizeof p->site, "%s", site);
    const char *status = decision_name(p->verdict.status);
    fields[n++] = (struct store_field){ "status", status, strlen(status) };
    fields[n++] = (struct store_field){ "score", score, strlen(score) };
    fields[n++] = (struct store_field){ "matches", p->matches, strlen(p->matches) };
    fields[n++] = (struct store_field){ "created_at", created_s, strlen(created_s) };
    if (p->author_hex[0])   /* who wrote it, as reputation knows them: never the e-mail */
        fields[n++] = (struct store_field){ "author_hash", p->author_hex, 16 };
    if (p->verdict.status != DECISION_PENDING) {
        fields[n++] = (struct store_field){ "decided_at", created_s, strlen(created_s) };
        fields[n++] = (struct store_field){ "decided_by", "rules", 5 };
    }
    snprintf(email_lc, sizeof email_lc, "%s", status_field(c, CF_EMAIL));
    for (char *q = email_lc; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    struct store_submission sub = {
        .site = site, .id = ctx->id, .status = status, .answer = p->answer, .idempotency_key = idem_key,
        .dup_hash = dup, .flood_ip = ip[0] ? ip : NULL, .flood_email = email_lc[0] ? email_lc : NULL,
        .now_ms = created, .fields = fields, .nfields = n,
    };
    struct in_flight *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    f->scored = p;
    f->record = spool_encode(&sub, &f->record_len);
    if (store_submit(request_store(ctx), &sub, on_stored, f) < 0) {
        struct store_result down = { .outcome = STORE_FAILED, .error = "the store is not connected" };
        on_stored(f, &down);   /* spools and answers 202, or answers 503 */
    }
    return 0;
}

/* Score c with the live rules at now: the submission signals, then the
 * engine. On success *rules holds a reference the verdict's strings point
 * into (the caller releases it); -1 when scoring failed (logged). */
static int score_comment(const struct comment *c, long long now, struct ruleset **rules, struct verdict *v,
                         char author_hex[17])
{
    const struct config *cfg = runtime_config();
    char err[256];
    struct engine_signals sig = { .honeypot = c->honeypot_filled, .live = runtime_live() };
    struct author_counts author;
    uint64_t hash;
    author_hex[0] = '\0';
    if (c->field[CF_EMAIL] && intake_author_hash(c->field[CF_EMAIL], c->len[CF_EMAIL], &hash)) {
        const char *site = c->field[CF_SITE] && c->field[CF_SITE][0] ? c->field[CF_SITE] : "default";
        reputation_hex(hash, author_hex);
        if (reputation_get(runtime_reputation(), site, hash, &author))
            sig.author = &author;
    }
    if (c->has_form_rendered_at) {
        long long age = now / 1000 - c->form_rendered_at;
        sig.too_fast = age < cfg->min_fill_seconds;
    }
    *rules = runtime_rules_acquire();
    if (engine_score(*rules, c, &sig, v, err, sizeof err) < 0) {
        log_error("scoring failed: %s", err);
        return -1;
    }
    metrics_limit_hits(v->limit_hits);
    return 0;
}

struct scored *intake_score(struct request_ctx *ctx, const struct comment *c)
{
    struct scored *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->ctx = ctx;
    p->created_ms = id_clock_ms();
    if (id_new(ctx->id, p->created_ms) < 0)
        goto fail;
    if (score_comment(c, p->created_ms, &p->rules, &p->verdict, p->author_hex) < 0)
        goto fail;
    json_t *matches = matches_json(&p->verdict);
    json_t *answer = json_pack("{s:s, s:s, s:o, s:O}", "id", ctx->id, "status", decision_name(p->verdict.status),
                               "score", number(p->verdict.score), "matches", matches);
    p->answer = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
    p->matches = matches ? json_dumps(matches, JSON_COMPACT) : NULL;
    json_decref(answer);
    json_decref(matches);
    if (p->answer && p->matches)
        return p;
fail:
    intake_scored_free(p);
    return NULL;
}

/* Parse the body by its media type; answers and returns -1 on any problem. */
static int read_comment(struct request_ctx *ctx, struct comment *c)
{
    const struct config *cfg = runtime_config();
    enum body_kind kind;
    char msg[256];
    if (body_kind(http_header(ctx, "Content-Type"), &kind, msg, sizeof msg) < 0) {
        http_reply_error(ctx, 415, "unsupported_media_type", msg);
        return -1;
    }
    size_t len;
    const char *body = http_body(ctx, &len);
    if ((long)len > cfg->max_body) {
        snprintf(msg, sizeof msg, "the body is %zu bytes; the limit is %ld", len, cfg->max_body);
        http_reply_error(ctx, 413, "too_large", msg);
        return -1;
    }
    if (!body) {
        http_reply_error(ctx, 500, "internal", "out of memory");
        return -1;
    }
    struct parse_error pe = { 0 };
    int rc = kind == BODY_JSON ? comment_parse_json(c, body, len, cfg->honeypot_field, &pe)
                               : comment_parse_form(c, body, len, cfg->honeypot_field, &pe);
    if (rc < 0) {
        reply_parse_error(ctx, &pe);
        return -1;
    }
    return 0;
}

/* Parse and validate; answers and returns -1 on any problem. */
static int read_valid_comment(struct request_ctx *ctx, struct comment *c)
{
    if (read_comment(ctx, c) < 0)
        return -1;
    struct validation v;
    if (validate_comment(c, &v) > 0) {
        reply_validation(ctx, &v);
        return -1;
    }
    return 0;
}

void intake_reply_store_down(struct request_ctx *ctx)
{
    log_error("submission %s not stored: the store is not connected", ctx->id);
    http_add_header(ctx, "Retry-After", "1");
    http_reply_json(ctx, 503, json_pack("{s:s, s:s, s:i}", "error", "unavailable", "message",
                                        "the store is unreachable; retry shortly", "retry_after", 1));
}

void intake_handle(struct request_ctx *ctx)
{
    struct comment c = { 0 };
    struct scored *p = NULL;
    char ip[64];
    const char *idem_key = http_header(ctx, "Idempotency-Key");
    if (idem_key && !idempotency_key_ok(idem_key)) {
        http_reply_error(ctx, 400, "bad_idempotency_key", "Idempotency-Key must be 1 to 255 printable ASCII characters without spaces");
        return;
    }
    if (read_valid_comment(ctx, &c) < 0)
        goto out;
    intake_client_ip(ctx, &c, ip, sizeof ip);
    const char *site = c.field[CF_SITE] && c.field[CF_SITE][0] ? c.field[CF_SITE] : "default";
    p = intake_score(ctx, &c);
    if (!p) {
        http_reply_error(ctx, 500, "internal", "the comment could not be scored");
        goto out;
    }
    http_begin_wait(ctx);
    if (intake_store(p, &c, site, ip, idem_key) < 0) {
        intake_reply_store_down(ctx);
        goto out;
    }
    p = NULL;   /* on_stored owns it now */
out:
    intake_scored_free(p);
    comment_free(&c);
}

/* POST /v1/check: the same validation and rules, nothing stored, so no id
 * and no stored rendering: the answer is built straight from the verdict. */
void intake_check(struct request_ctx *ctx)
{
    struct comment c = { 0 };
    struct ruleset *rules = NULL;
    struct verdict v = { 0 };
    char author_hex[17];
    if (read_valid_comment(ctx, &c) < 0)
        goto out;
    if (score_comment(&c, id_clock_ms(), &rules, &v, author_hex) < 0) {
        http_reply_error(ctx, 500, "internal", "the comment could not be scored");
        goto out;
    }
    const char *status = decision_name(v.status);
    http_reply_json(ctx, 200, json_pack("{s:s, s:s, s:o, s:o, s:i}", "decision", status, "status", status, "score",
                                        number(v.score), "matches", matches_json(&v),
                                        "limit_hits", (int)v.limit_hits));
out:
    verdict_free(&v);
    if (rules)
        ruleset_release(rules);
    comment_free(&c);
}
