/* engine.c — score one comment against a ruleset.
 *
 * For each rule, evaluates its conditions against the views of the fields it
 * names. Views are built lazily, at most once per field per call and only
 * the views some rule reads from that field (content with HTML decoding,
 * other fields without). The pseudo-field `flags` is a line of words such as
 * "honeypot too_fast tatweel_runs=3" built from the submission signals and
 * the evasion counts of content and author. Patterns run under match and
 * depth limits; a pattern stopped by a limit counts as no match and in
 * verdict.limit_hits. When the ruleset has Hyperscan databases
 * (prefilter.c), each (field, view) text is scanned once and PCRE2 runs only
 * the patterns Hyperscan says may match: PCRE2 stays the judge. Rules whose
 * gate (prefilter.h) did not match are not visited at all, so the cost
 * follows the candidates rather than the rule count. The ruleset is shared
 * read-only: PCRE2 and Hyperscan scratch live in per-thread caches. Pure
 * module. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "raqib/engine.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "raqib/learn.h"
#include "raqib/live.h"
#include "raqib/normalize.h"
#include "raqib/prefilter.h"
#include "raqib/reputation.h"

#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX   (512 * 1024)

/* The fields `any` tries, in order. ip is left out: after folding it is a
 * run of digits that phone-number patterns would match. */
static const enum comment_field any_fields[] = {
    CF_CONTENT, CF_AUTHOR, CF_EMAIL, CF_URL, CF_USER_AGENT, CF_REFERRER,
};

/* Per-thread PCRE2 scratch; never part of the shared ruleset. */
struct scratch {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
};

static _Thread_local struct scratch tls;

/* The calling thread's scratch, created on first use; NULL when out of memory. */
static struct scratch *scratch_get(void)
{
    if (tls.md)
        return &tls;
    tls.mctx = pcre2_match_context_create(NULL);
    tls.md = pcre2_match_data_create(1, NULL);
    tls.jit = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
    if (!tls.mctx || !tls.md) {
        engine_thread_done();
        return NULL;
    }
    pcre2_set_match_limit(tls.mctx, ENGINE_MATCH_LIMIT);
    pcre2_set_depth_limit(tls.mctx, ENGINE_DEPTH_LIMIT);
    if (tls.jit)  /* without it JIT uses its 32 KiB default on the machine stack */
        pcre2_jit_stack_assign(tls.mctx, NULL, tls.jit);
    return &tls;
}

void engine_thread_done(void)
{
    pcre2_match_data_free(tls.md);
    pcre2_match_context_free(tls.mctx);
    pcre2_jit_stack_free(tls.jit);
    memset(&tls, 0, sizeof tls);
    prefilter_thread_done();
}

/* State of one engine_score call. */
struct eval {
    const struct ruleset *rs;
    const struct comment *c;
    const struct engine_signals *sig;
    struct norm_text text[CF_COUNT];
    unsigned char built[CF_COUNT];
    char *flags;            /* the `flags` pseudo-field, built on first use */
    struct scratch *s;
    unsigned limit_hits;
    struct prefilter_run pf;  /* Hyperscan candidates of this call */
    long links[CF_COUNT];     /* link counts, computed on first use */
    unsigned char links_counted[CF_COUNT];
    size_t rule, cond;        /* the condition being evaluated */
    const char *hit;          /* the span the last successful pattern matched */
    size_t hit_len;
    char matched[64];         /* the span of the rule's first positive condition */
    /* Learned scores already computed, so tiers of one model (>= 0.9,
     * >= 0.99) score the text once. */
    struct learned_score { const struct learn_model *model; int field; double p; } learned[4];
    size_t nlearned;
    /* The tokens of each field's norm view, listed on first use for every
     * model that scores it. */
    struct learn_text tokens[CF_COUNT];
    unsigned char listed[CF_COUNT];
};

/* The view of field f, folded on first use into the views the rules read
 * from f (plus view, so a caller outside the rules is served too). NULL on
 * allocation failure. */
static const char *field_view(struct eval *e, int f, int view, size_t *len)
{
    if (!e->built[f]) {
        const char *s = e->c->field[f] ? e->c->field[f] : "";
        size_t n = e->c->field[f] ? e->c->len[f] : 0;
        unsigned want = ruleset_field_views(e->rs, f) | (1u << view);
        if (norm_text_build_views(&e->text[f], s, n, f == CF_CONTENT, want) < 0) {
            norm_text_free(&e->text[f]);
            return NULL;
        }
        e->built[f] = 1;
    }
    *len = e->text[f].len[view];
    return e->text[f].view[view] ? e->text[f].view[view] : "";
}

/* Build the flags pseudo-field: signal words, then name=count for each
 * non-zero evasion counter of content and author summed. */
static const char *flags_text(struct eval *e, size_t *len)
{
    if (!e->flags) {
        size_t dummy;
        if (!field_view(e, CF_CONTENT, VIEW_RAW, &dummy) || !field_view(e, CF_AUTHOR, VIEW_RAW, &dummy))
            return NULL;
        const struct norm_flags *a = &e->text[CF_CONTENT].flags, *b = &e->text[CF_AUTHOR].flags;
        const struct { const char *name; unsigned n; } counts[] = {
            { "tatweel", a->tatweel + b->tatweel },
            { "tatweel_runs", a->tatweel_runs + b->tatweel_runs },
            { "foreign_marks", a->foreign_marks + b->foreign_marks },
            { "bidi", a->bidi + b->bidi },
            { "ignorables", a->ignorables + b->ignorables },
            { "mixed_script", a->mixed_script + b->mixed_script },
            { "persian", a->persian + b->persian },
            { "bad_utf8", a->bad_utf8 + b->bad_utf8 },
            { "spaced_letters", a->spaced_letters + b->spaced_letters },
        };
        char buf[512];
        size_t n = 0;
        int honeypot = e->c->honeypot_filled || (e->sig && e->sig->honeypot);
        if (honeypot)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "honeypot ");
        if (e->sig && e->sig->too_fast)
            n += (size_t)snprintf(buf + n, sizeof buf - n, "too_fast ");
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
            if (counts[i].n)
                n += (size_t)snprintf(buf + n, sizeof buf - n, "%s=%u ", counts[i].name, counts[i].n);
        if (e->sig && e->sig->author && n < sizeof buf) {
            size_t k = reputation_flags(e->sig->author, buf + n, sizeof buf - n);
            n += k ? k + 1 : 0;   /* its words, and a space as the others end with */
        }
        if (n)
            buf[--n] = '\0';  /* the trailing space */
        else
            buf[0] = '\0';
        if (!(e->flags = strdup(buf)))
            return NULL;
    }
    *len = strlen(e->flags);
    return e->flags;
}

/* 1 when s starts with the lowercase ASCII word w, in any case. */
static int starts_caseless(const char *s, const char *w)
{
    for (; *w; s++, w++)
        if ((*s | 0x20) != *w)
            return 0;
    return 1;
}

/* Count http://, https:// and www. links in s (case-insensitive); a www.
 * right after :// belongs to the link already counted. Only bytes that can
 * start a link are looked at closely: this runs over every comment. */
static long count_links(const char *s, size_t len)
{
    long n = 0;
    for (size_t i = 0; i < len; i++) {
        char lower = (char)(s[i] | 0x20);
        if (lower != 'h' && lower != 'w')
            continue;
        if (len - i >= 7 && starts_caseless(s + i, "http://")) {
            n++;
            i += 6;
        } else if (len - i >= 8 && starts_caseless(s + i, "https://")) {
            n++;
            i += 7;
        } else if (len - i >= 4 && starts_caseless(s + i, "www.") &&
                   (i == 0 || !(s[i - 1] == '/' || (s[i - 1] >= 'a' && s[i - 1] <= 'z') ||
                                (s[i - 1] >= 'A' && s[i - 1] <= 'Z') ||
                                (s[i - 1] >= '0' && s[i - 1] <= '9') || s[i - 1] == '.'))) {
            n++;
            i += 3;
        }
    }
    return n;
}

static int compare(double have, enum rule_link_op op, double n)
{
    switch (op) {
    case RULE_LINK_GE: return have >= n;
    case RULE_LINK_GT: return have > n;
    case RULE_LINK_EQ: return have == n;
    case RULE_LINK_LT: return have < n;
    case RULE_LINK_LE: return have <= n;
    }
    return 0;
}

/* Run a pattern: 1 match, 0 none (a limit hit is counted and is none). */
static int run(struct eval *e, const pcre2_code *code, const char *s, size_t len)
{
    int rc = pcre2_match(code, (PCRE2_SPTR)s, len, 0, 0, e->s->md, e->s->mctx);
    if (rc >= 0) {
        const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(e->s->md);
        e->hit = ov[0] <= ov[1] && ov[1] <= len ? s + ov[0] : NULL;
        e->hit_len = e->hit ? ov[1] - ov[0] : 0;
        return 1;
    }
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
        rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
        e->limit_hits++;
    return 0;
}

/* The score of c's model on field f (norm view), computed once per call
 * from the view's tokens, listed once for every model;
 * -1 when the view cannot be built. */
static double learned_score(struct eval *e, const struct rule_cond *c, int f)
{
    for (size_t i = 0; i < e->nlearned; i++)
        if (e->learned[i].model == c->model && e->learned[i].field == f)
            return e->learned[i].p;
    if (!e->listed[f]) {
        size_t len;
        const char *s = field_view(e, f, VIEW_NORM, &len);
        if (!s)
            return -1;
        learn_text_list(&e->tokens[f], s, len, ruleset_learn_kinds(e->rs));  /* out of memory: scores the text */
        e->listed[f] = 1;
    }
    double p;
    if (c->site && e->sig && e->sig->live) {
        const char *site = e->c->field[CF_SITE] && e->c->field[CF_SITE][0] ? e->c->field[CF_SITE] : "default";
        p = live_score_text(e->sig->live, site, c->model_file, c->model, &e->tokens[f]);
    } else {
        p = learn_text_score(&e->tokens[f], c->model, NULL);
    }
    if (e->nlearned < sizeof e->learned / sizeof e->learned[0])
        e->learned[e->nlearned++] = (struct learned_score){ c->model, f, p };
    return p;
}

/* Evaluate one condition on one concrete field: 1 holds, 0 not, -1 no memory. */
static int cond_on_field(struct eval *e, const struct rule_cond *c, int f)
{
    size_t len;
    const char *s;
    if (c->kind == RULE_COND_LEARNED) {
        double p = f >= 0 && f < CF_COUNT ? learned_score(e, c, f) : 0.5;
        return p < 0 ? -1 : compare(p, c->op, c->p);
    }
    if (c->kind == RULE_COND_LINKS) {
        if (f < 0 || f >= CF_COUNT)
            return 0;   /* links of the flags pseudo-field: none (the parser refuses it) */
        if (!e->links_counted[f]) {
            e->links[f] = e->c->field[f] ? count_links(e->c->field[f], e->c->len[f]) : 0;
            e->links_counted[f] = 1;
        }
        return compare((double)e->links[f], c->op, (double)c->n);
    }
    s = f == RULE_FIELD_FLAGS ? flags_text(e, &len) : field_view(e, f, c->view, &len);
    if (!s)
        return -1;
    if (!prefilter_candidate(&e->pf, e->rule, e->cond, f, s, len))
        return 0;  /* Hyperscan saw no possible match: PCRE2 need not look */
    return run(e, (const pcre2_code *)c->code, s, len);
}

/* Evaluate a condition; on a hit *field is the field that held. `any` tries
 * each present text field and stops at the first. */
static int cond_eval(struct eval *e, const struct rule_cond *c, int *field)
{
    if (c->field != RULE_FIELD_ANY) {
        *field = c->field;
        return cond_on_field(e, c, c->field);
    }
    for (size_t i = 0; i < sizeof any_fields / sizeof any_fields[0]; i++) {
        int f = (int)any_fields[i];
        if (!e->c->field[f])
            continue;
        int rc = cond_on_field(e, c, f);
        if (rc != 0) {
            *field = f;
            return rc;
        }
    }
    return 0;
}

/* Keep the last pattern hit as the rule's matched text, cut below the
 * buffer's size at the start of a UTF-8 character. */
static void keep_hit(struct eval *e)
{
    size_t n = e->hit ? e->hit_len : 0;
    if (n >= sizeof e->matched) {
        n = sizeof e->matched - 1;
        while (n > 0 && ((unsigned char)e->hit[n] & 0xC0) == 0x80)
            n--;
    }
    if (n)
        memcpy(e->matched, e->hit, n);
    e->matched[n] = '\0';
}

/* Does rule i hit? 1 yes (field of its first positive condition in *field),
 * 0 no, -1 out of memory. Conditions stop at the first that fails. */
static int rule_eval(struct eval *e, const struct ruleset *rs, size_t i, int *field)
{
    const struct rule_cond *conds;
    size_t n = ruleset_rule_conds(rs, i, &conds);
    int have_field = 0;
    e->rule = i;
    e->matched[0] = '\0';
    for (size_t k = 0; k < n; k++) {
        e->cond = k;
        e->hit = NULL;
        int f = 0, rc = cond_eval(e, &conds[k], &f);
        if (rc < 0)
            return -1;
        if (rc == conds[k].negate)
            return 0;
        if (!conds[k].negate && !have_field) {
            *field = f;
            have_field = 1;
            if (f != RULE_FIELD_FLAGS)
                keep_hit(e);
        }
    }
    return 1;
}

/* Scan every text that gates rules (prefilter.h) and return the rules worth
 * visiting, one bit each, or NULL for all of them. With many rules most
 * are never visited: the cost follows the candidates, not the rule count. */
static const uint64_t *rules_to_visit(struct eval *e)
{
    int field, view;
    for (size_t i = 0; prefilter_gate_text(&e->pf, i, &field, &view); i++) {
        size_t len;
        const char *s = field == RULE_FIELD_FLAGS ? flags_text(e, &len) : field_view(e, field, view, &len);
        if (!s)
            return NULL;
        prefilter_scan(&e->pf, field, view, s, len);
    }
    return prefilter_rules(&e->pf);
}

/* The first rule index >= i to visit (n when none is left). */
static size_t next_rule(const uint64_t *visit, size_t i, size_t n)
{
    if (!visit)
        return i;
    while (i < n) {
        uint64_t w = visit[i / 64] >> (i % 64);
        if (w)
            return i + (size_t)__builtin_ctzll(w);
        i = (i / 64 + 1) * 64;
    }
    return n;
}

int engine_score(const struct ruleset *rs, const struct comment *c,
                 const struct engine_signals *sig, struct verdict *out,
                 char *err, size_t errlen)
{
    struct eval e = { .rs = rs, .c = c, .sig = sig };
    size_t n = ruleset_size(rs);
    int rc = -1;
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    if (!(e.s = scratch_get()))
        goto out;
    prefilter_begin(&e.pf, ruleset_prefilter(rs));
    const uint64_t *visit = rules_to_visit(&e);
    int approve_hit = 0, positive_hit = 0;
    for (size_t i = next_rule(visit, 0, n); i < n; i = next_rule(visit, i + 1, n)) {
        int field = 0, hit = rule_eval(&e, rs, i, &field);
        if (hit < 0)
            goto out;
        if (!hit)
            continue;
        if (out->nmatches == cap) {
            /* Grown on demand: most comments hit few of many rules. */
            size_t ncap = cap ? cap * 2 : 8;
            struct match *nm = realloc(out->matches, ncap * sizeof *nm);
            if (!nm)
                goto out;
            out->matches = nm;
            cap = ncap;
        }
        struct rule_info info;
        ruleset_rule_info(rs, i, &info);
        struct match *m = &out->matches[out->nmatches++];
        m->rule_index = i;
        m->rule = info.name;
        m->description = info.description;
        m->field = rule_field_name(field);
        m->score = info.score;
        approve_hit |= info.approve;
        positive_hit |= info.score > 0;
        memcpy(m->matched, e.matched, sizeof m->matched);
        out->score += info.score;
    }
    double approve;
    if (out->score >= ruleset_spam_threshold(rs))
        out->status = DECISION_SPAM;
    else if (ruleset_approve_threshold(rs, &approve) && out->score <= approve)
        out->status = DECISION_APPROVED;
    else if (approve_hit && !positive_hit)
        out->status = DECISION_APPROVED;    /* vouched for, and nothing speaks against it */
    else
        out->status = DECISION_PENDING;
    rc = 0;
out:
    out->limit_hits = e.limit_hits;
    if (rc < 0) {
        snprintf(err, errlen, "out of memory while scoring");
        verdict_free(out);
    }
    for (int f = 0; f < CF_COUNT; f++) {
        if (e.listed[f])
            learn_text_free(&e.tokens[f]);
        if (e.built[f])
            norm_text_free(&e.text[f]);
    }
    free(e.flags);
    return rc;
}

void verdict_free(struct verdict *v)
{
    if (!v)
        return;
    free(v->matches);
    v->matches = NULL;
    v->nmatches = 0;
}

const char *decision_name(enum decision d)
{
    switch (d) {
    case DECISION_APPROVED: return "approved";
    case DECISION_SPAM: return "spam";
    case DECISION_PENDING: break;
    }
    return "pending";
}
