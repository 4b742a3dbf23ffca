/* prefilter.c — Hyperscan databases in front of the PCRE2 rule patterns.
 *
 * See prefilter.h for the contract. Layout: every `match`/`unless`/`words`
 * condition gets a slot (an `any` condition one per field, slot + field);
 * one database per (field, view) holds the conditions that read that text,
 * each expression's id being the index of its slot in that database's table.
 * A scan sets the candidate bit of every slot whose expression matched. The
 * databases are built at load and never change; the Hyperscan scratch and the
 * candidate bits are per thread. Hyperscan is optional: without
 * RAQIB_HAVE_HYPERSCAN this file builds nothing and says yes to everything.
 * Pure module. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "raqib/prefilter.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "raqib/comment.h"
#include "raqib/hsform.h"
#include "raqib/log.h"
#include "raqib/normalize.h"
#include "raqib/rule_cond.h"

#ifdef RAQIB_HAVE_HYPERSCAN
#include <hs.h>

#define NFIELDS (CF_COUNT + 1)          /* the text fields, then flags */
#define FLAGS_SLOT CF_COUNT
_Static_assert(NFIELDS <= 16, "prefilter_run arrays hold 16 field slots");
_Static_assert(VIEW_COUNT <= 32, "a view is one bit of prefilter_run.scanned");

/* The slot of a rule field in the per-field arrays: the comment field
 * itself, or FLAGS_SLOT for the flags pseudo-field. */
static int field_slot(int field)
{
    return field == RULE_FIELD_FLAGS ? FLAGS_SLOT : field;
}

/* Fields an `any` condition reads; the same list as engine.c's any_fields. A
 * field missing here only costs speed: its conditions count as candidates. */
static const int any_fields[] = { CF_CONTENT, CF_AUTHOR, CF_EMAIL, CF_URL, CF_USER_AGENT, CF_REFERRER };

enum placement { PLACE_NONE = 0, PLACE_EXACT, PLACE_PREFILTER, PLACE_DIRECT, PLACE_LITERAL };

struct pf_cond {
    int slot;               /* first slot; -1: not in any database (PCRE2 decides) */
    int any;                /* the slot is per field: slot + field */
    int view;               /* the database of (field, view) holds it */
};

struct pf_db {
    hs_database_t *db;
    unsigned *slots;        /* expression id -> slot */
    size_t n;
};

/* One literal in a literal database: a phrase of a `words` list, or one of
 * the required literals of a `match` pattern (hsform_factors). The slot of
 * its condition, its length, and what its edges must be (see on_phrase). */
struct pf_phrase {
    unsigned slot;
    unsigned len;
    unsigned char before, after;  /* HSFORM_EDGE_*: the edge checked on each side */
    unsigned char bit;        /* its group's bit among its pattern's (hsform_lits) */
    uint64_t need;            /* the bits its branch needs seen; 0: none but its own */
    const char *proclitics;   /* borrowed from the rule_cond, or NULL */
};

/* The literals of one (field, view): the phrases of its `words` conditions
 * and the required literals of its `match` patterns that Hyperscan takes only
 * as prefilters. Literal matching costs a fraction of what the same phrases
 * cost as regular expressions with their edges (the shipped insult list alone
 * was half of the content database's scan; the Arabic `match` patterns,
 * prefiltered, were most of the rest). */
struct pf_lit {
    hs_database_t *db;
    struct pf_phrase *phrase;  /* literal id -> phrase */
    size_t n;
};

struct prefilter {
    unsigned long generation;  /* tells threads their scratch may be too small */
    struct pf_db db[NFIELDS][VIEW_COUNT];
    struct pf_lit lit[NFIELDS][VIEW_COUNT];
    size_t *cond_base;         /* per rule: its first condition's flat index */
    struct pf_cond *conds;     /* per flat condition */
    size_t nslots;
    /* A `match` pattern found by literals may require a literal of each
     * of several groups (hsform_lits): its slot is a candidate once every
     * group of one of its branches has been seen. Set when some literal
     * needs more than its own group. */
    int grouped;
    struct prefilter_counts counts;
    /* Gates: a rule whose first plain condition (positive, one named field,
     * in a database) has no candidate cannot hit, so the engine need not
     * visit it. gate_rule[slot] is the rule a slot gates (-1: none);
     * ungated has a bit for every rule without a gate, which always runs;
     * gate_texts lists the (field slot, view) texts holding gates. */
    long *gate_rule;
    uint64_t *ungated;
    size_t nrules;
    struct { unsigned char fs, view; } gate_texts[NFIELDS * VIEW_COUNT];
    size_t ngate_texts;
};

static atomic_ulong generations = 1;

/* Per-thread: scratch large enough for every database of `scratch_gen`,
 * and the candidate bits of the current call. */
static _Thread_local hs_scratch_t *tls_scratch;
static _Thread_local unsigned long tls_scratch_gen;
static _Thread_local uint64_t *tls_bits;
static _Thread_local size_t tls_nbits;
static _Thread_local uint64_t *tls_rule_bits;
/* Per slot: the groups seen (bits) in the call numbered `call`; an entry of
 * an earlier call counts as none, so no call clears the array. */
struct seen_groups {
    unsigned long call;
    uint64_t bits;
};
static _Thread_local struct seen_groups *tls_seen;
static _Thread_local size_t tls_nseen;
static _Thread_local unsigned long tls_call;
static _Thread_local size_t tls_nrule_bits;

int prefilter_available(void) { return 1; }

static char cache_dir[1024];

void prefilter_set_cache_dir(const char *dir)
{
    snprintf(cache_dir, sizeof cache_dir, "%s", dir ? dir : "");
    /* mkdir -p; EEXIST is fine, any other failure just means no cache. */
    for (char *p = cache_dir + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(cache_dir, 0700);
            *p = '/';
        }
    }
    if (cache_dir[0])
        mkdir(cache_dir, 0700);
}

/* 64-bit FNV-1a over a byte run, continuing from h. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

/* The cache file of one compile: named by two independent 64-bit hashes of
 * the Hyperscan version, the expressions and their flags, in order. */
static int cache_path(char *buf, size_t len, const char **pats, const unsigned *flags, size_t m)
{
    if (!cache_dir[0])
        return -1;
    uint64_t a = 0xcbf29ce484222325ULL, b = 0x84222325cbf29ce4ULL;
    const char *version = hs_version();
    a = fnv1a(a, version, strlen(version));
    b = fnv1a(b, version, strlen(version));
    for (size_t i = 0; i < m; i++) {
        size_t n = strlen(pats[i]) + 1;
        a = fnv1a(fnv1a(a, pats[i], n), &flags[i], sizeof flags[i]);
        b = fnv1a(fnv1a(b, &flags[i], sizeof flags[i]), pats[i], n);
    }
    int n = snprintf(buf, len, "%s/%016llx%016llx-%zu.hsdb", cache_dir, (unsigned long long)a,
                     (unsigned long long)b, m);
    return n > 0 && (size_t)n < len ? 0 : -1;
}

/* A database compiled earlier for exactly these expressions, or NULL. */
static hs_database_t *cache_load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    hs_database_t *db = NULL;
    char *bytes = NULL;
    long size;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (bytes = malloc((size_t)size)) && fread(bytes, 1, (size_t)size, f) == (size_t)size &&
        hs_deserialize_database(bytes, (size_t)size, &db) != HS_SUCCESS)
        db = NULL;
    free(bytes);
    fclose(f);
    return db;
}

/* Write db for the next start; atomically (temp file, rename). */
static void cache_store(const char *path, const hs_database_t *db)
{
    char *bytes = NULL, tmp[1200];
    size_t size = 0;
    if (snprintf(tmp, sizeof tmp, "%.1100s.%ld.tmp", path, (long)getpid()) >= (int)sizeof tmp)
        return;
    if (hs_serialize_database(db, &bytes, &size) != HS_SUCCESS)
        return;
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(bytes, 1, size, f) == size;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
    free(bytes);
}

/* A compile of these expressions that failed on one of them: its index,
 * kept beside the databases (PATH.bad) so the next start skips straight
 * to the retry instead of compiling for seconds to fail again; -1 none. */
static int cache_load_bad(const char *path)
{
    char bad[1200];
    int idx = -1;
    snprintf(bad, sizeof bad, "%.1100s.bad", path);
    FILE *f = fopen(bad, "r");
    if (f && fscanf(f, "%d", &idx) != 1)
        idx = -1;
    if (f)
        fclose(f);
    return idx;
}

static void cache_store_bad(const char *path, int idx)
{
    char bad[1200], tmp[1300];
    snprintf(bad, sizeof bad, "%.1100s.bad", path);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", bad, (long)getpid());
    FILE *f = fopen(tmp, "w");
    int ok = f && fprintf(f, "%d\n", idx) > 0;
    if (f && fclose(f) != 0)
        ok = 0;
    if (!ok || rename(tmp, bad) != 0)
        unlink(tmp);
}

/* RAQIB_NO_HYPERSCAN set (and not "0"): build nothing. */
static int disabled(void)
{
    const char *off = getenv("RAQIB_NO_HYPERSCAN");
    return off && *off && strcmp(off, "0") != 0;
}

/* One expression while building. */
struct expr {
    const struct rule_cond *c;
    size_t flat;
    char *pattern;          /* as Hyperscan reads it ("(?x)" added for x) */
    unsigned flags;
    enum placement place;
    int rewritten;          /* pattern is the superset form (hsform.h) */
    struct hsform_lits lits;  /* PLACE_LITERAL `match`: its required literals */
};

/* How strong (hsform_factors) the required literals of a `match` pattern
 * must be to replace its prefilter: in each branch, a group of three
 * characters, or two at a word edge. Weaker ones are in too many comments:
 * PCRE2 would confirm more candidates than the prefilter saves. */
#define FACTOR_MIN_STRENGTH 3

static unsigned hs_flags(unsigned pcre_options)
{
    unsigned f = HS_FLAG_UTF8 | HS_FLAG_UCP | HS_FLAG_SINGLEMATCH;
    if (pcre_options & PCRE2_CASELESS)
        f |= HS_FLAG_CASELESS;
    if (pcre_options & PCRE2_DOTALL)
        f |= HS_FLAG_DOTALL;
    if (pcre_options & PCRE2_MULTILINE)
        f |= HS_FLAG_MULTILINE;
    return f;
}

/* Does Hyperscan take the pattern with these flags, and can it never match
 * the empty string (such a pattern would need HS_FLAG_ALLOWEMPTY and then
 * matches everywhere: PCRE2 alone is as fast)? */
static int accepts(const char *pattern, unsigned flags)
{
    hs_expr_info_t *info = NULL;
    hs_compile_error_t *cerr = NULL;
    if (hs_expression_info(pattern, flags, &info, &cerr) != HS_SUCCESS) {
        hs_free_compile_error(cerr);
        return 0;
    }
    int ok = info->min_width > 0;
    free(info);
    return ok;
}

/* Place one expression: a `words` list on a folded view as literals (the
 * phrases, their edges checked around each match: on_phrase), else exact,
 * else (a `words` list on raw) its superset form (hsform.h) exact, else
 * prefilter, else direct. The form counts as exact:
 * either way PCRE2 confirms each candidate. Only word lists take it: a
 * list of hundreds of phrases is PCRE2's most expensive pattern (40 µs on
 * the 1.2 KB bench comment for lists/ar-insults.txt) and its prefilter
 * flags any comment holding one phrase inside a longer word, while the
 * form's edge classes make Hyperscan's own scan of a short pattern up to
 * ten times slower than the PCRE2 work they save (measured on the shipped
 * rules, docs/performance.md). */
static void place(struct expr *x, struct hsform_scratch *scratch)
{
    char *form = NULL;
    if (x->c->kind == RULE_COND_WORDS && x->c->phrases && x->c->view != VIEW_RAW &&
        x->c->field != RULE_FIELD_ANY && !(x->c->options & PCRE2_CASELESS)) {
        x->place = PLACE_LITERAL;   /* its phrases go to the literal database */
    } else if (accepts(x->pattern, x->flags)) {
        x->place = PLACE_EXACT;
    } else if (x->c->kind == RULE_COND_MATCH && x->c->field != RULE_FIELD_ANY &&
               hsform_factors(x->c->pattern, x->c->options, FACTOR_MIN_STRENGTH, scratch, &x->lits) == 0) {
        x->place = PLACE_LITERAL;   /* its required literals go to the literal database */
    } else if (x->c->kind == RULE_COND_WORDS && (form = hsform_superset(x->c->pattern, x->c->options)) &&
               accepts(form, x->flags)) {
        free(x->pattern);
        x->pattern = form;
        form = NULL;
        x->place = PLACE_EXACT;
        x->rewritten = 1;
    } else if (accepts(x->pattern, x->flags | HS_FLAG_PREFILTER)) {
        x->place = PLACE_PREFILTER, x->flags |= HS_FLAG_PREFILTER;
    } else {
        x->place = PLACE_DIRECT;
    }
    free(form);
}

/* Compile the database of one (field, view) from the expressions whose
 * indexes are in idx[0..n). An expression the whole compile still rejects is
 * moved down (exact -> prefilter -> direct) and the compile retried.
 * Returns 0, or -1 when out of memory. */
static int build_db(struct pf_db *d, struct expr *xs, const size_t *idx, const unsigned *slot,
                    size_t n)
{
    const char **pats = malloc(n * sizeof *pats);
    unsigned *flags = malloc(n * sizeof *flags), *ids = malloc(n * sizeof *ids);
    size_t *which = malloc(n * sizeof *which);
    int rc = -1;
    if (!pats || !flags || !ids || !which)
        goto out;
    for (;;) {
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            struct expr *x = &xs[idx[i]];
            if (x->place == PLACE_DIRECT)
                continue;
            pats[m] = x->pattern;
            flags[m] = x->flags;
            ids[m] = (unsigned)m;
            which[m++] = i;
        }
        if (m == 0) {
            rc = 0;
            goto out;
        }
        hs_compile_error_t *cerr = NULL;
        char path[1100];
        int cacheable = cache_path(path, sizeof path, pats, flags, m) == 0;
        hs_database_t *db = cacheable ? cache_load(path) : NULL;
        int compiled = db == NULL, known_bad = db || !cacheable ? -1 : cache_load_bad(path);
        if (known_bad >= 0 && (size_t)known_bad < m) {
            cerr = NULL;   /* failed before on this expression: retry without it */
        } else if (db || hs_compile_multi(pats, flags, ids, (unsigned)m, HS_MODE_BLOCK, NULL, &db, &cerr) == HS_SUCCESS) {
            if (compiled && cacheable)
                cache_store(path, db);
            if (!(d->slots = malloc(m * sizeof *d->slots))) {
                hs_free_database(db);
                goto out;
            }
            for (size_t k = 0; k < m; k++)
                d->slots[k] = slot[which[k]];
            d->db = db;
            d->n = m;
            rc = 0;
            goto out;
        }
        int bad = known_bad >= 0 ? known_bad : cerr ? cerr->expression : -1;
        hs_free_compile_error(cerr);
        if (known_bad < 0 && bad >= 0 && (size_t)bad < m && cacheable)
            cache_store_bad(path, bad);
        if (bad < 0 || (size_t)bad >= m) {
            /* Not about one expression (resources): leave them all to PCRE2. */
            for (size_t k = 0; k < m; k++)
                xs[idx[which[k]]].place = PLACE_DIRECT;
            continue;
        }
        struct expr *x = &xs[idx[which[bad]]];
        if (x->place == PLACE_EXACT) {
            x->place = PLACE_PREFILTER;
            x->flags |= HS_FLAG_PREFILTER;
        } else {
            x->place = PLACE_DIRECT;
        }
    }
out:
    free(pats);
    free(flags);
    free(ids);
    free(which);
    return rc;
}

/* How many literals expression x puts in a literal database. */
static size_t literals_of(const struct expr *x)
{
    if (x->c->kind != RULE_COND_WORDS)
        return x->lits.n;
    size_t m = 0;
    for (const char *p = x->c->phrases; *p; p += strlen(p) + 1)
        m++;
    return m;
}

/* Put the literals of x (slot sl) at lits[k…], with their phrases; returns
 * the next k. */
static size_t put_literals(const struct expr *x, unsigned sl, const char **lits, size_t *lens, unsigned *ids,
                           struct pf_phrase *phrase, size_t k)
{
    const struct rule_cond *c = x->c;
    if (c->kind != RULE_COND_WORDS) {
        for (size_t j = 0; j < x->lits.n; j++, k++) {
            const struct hsform_lit *l = &x->lits.v[j];
            lits[k] = l->s;
            lens[k] = l->len;
            ids[k] = (unsigned)k;
            uint64_t need = l->need == (uint64_t)1 << l->bit ? 0 : l->need;
            phrase[k] = (struct pf_phrase){ sl, (unsigned)l->len, l->before, l->after, l->bit, need, NULL };
        }
        return k;
    }
    /* a words list's edges are [\p{L}\p{N}] ones, where the view has edges */
    unsigned char edge = c->view != VIEW_SQUASH && c->view != VIEW_SKEL ? HSFORM_EDGE_LN : HSFORM_EDGE_NONE;
    for (const char *p = c->phrases; *p; p += strlen(p) + 1, k++) {
        lits[k] = p;
        lens[k] = strlen(p);
        ids[k] = (unsigned)k;
        phrase[k] = (struct pf_phrase){ sl, (unsigned)lens[k], edge, edge, 0, 0, c->proclitics };
    }
    return k;
}

/* Compile the literal database of one (field, view) from the literals of
 * the expressions xs[idx[0..n)], whose slots are slot[0..n). 0, or -1
 * when out of memory or Hyperscan refuses (then those conditions have no
 * candidates from it: the caller leaves them to PCRE2). */
static int build_lit(struct pf_lit *l, const struct expr *xs, const size_t *idx, const unsigned *slot, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        m += literals_of(&xs[idx[i]]);
    const char **lits = malloc((m ? m : 1) * sizeof *lits);
    size_t *lens = malloc((m ? m : 1) * sizeof *lens);
    unsigned *flags = calloc(m ? m : 1, sizeof *flags), *ids = malloc((m ? m : 1) * sizeof *ids);
    l->phrase = malloc((m ? m : 1) * sizeof *l->phrase);
    int rc = -1;
    if (!lits || !lens || !flags || !ids || !l->phrase)
        goto out;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        k = put_literals(&xs[idx[i]], slot[i], lits, lens, ids, l->phrase, k);
    hs_compile_error_t *cerr = NULL;
    if (m && hs_compile_lit_multi(lits, flags, ids, lens, (unsigned)m, HS_MODE_BLOCK, NULL, &l->db, &cerr) !=
                 HS_SUCCESS) {
        log_warn("Hyperscan refused the literals of words lists and patterns (%s): PCRE2 reads them",
                 cerr && cerr->message ? cerr->message : "no reason given");
        hs_free_compile_error(cerr);
        l->db = NULL;
    }
    l->n = m;
    rc = 0;
out:
    if (rc < 0 || !l->db) {
        free(l->phrase);
        l->phrase = NULL;
    }
    free(lits);
    free(lens);
    free(flags);
    free(ids);
    return rc;
}

/* Does any pattern's literal need more than its own group? */
static int any_grouped(const struct expr *xs, size_t nx)
{
    for (size_t x = 0; x < nx; x++)
        for (size_t i = 0; xs[x].place == PLACE_LITERAL && i < xs[x].lits.n; i++)
            if (xs[x].lits.v[i].need != (uint64_t)1 << xs[x].lits.v[i].bit)
                return 1;
    return 0;
}

/* The gate of each rule: its first condition that is positive, reads one
 * named field (or flags) and sits in a database. */
static int set_gates(struct prefilter *pf, const struct rule_table *t)
{
    size_t nrules = t->nrules;
    pf->nrules = nrules;
    pf->gate_rule = malloc((pf->nslots ? pf->nslots : 1) * sizeof *pf->gate_rule);
    pf->ungated = calloc((nrules + 63) / 64 + 1, sizeof *pf->ungated);
    if (!pf->gate_rule || !pf->ungated)
        return -1;
    for (size_t s = 0; s < pf->nslots; s++)
        pf->gate_rule[s] = -1;
    unsigned char has_text[NFIELDS][VIEW_COUNT] = { { 0 } };
    for (size_t i = 0; i < nrules; i++) {
        const struct rule_cond *c = t->conds[i];
        size_t n = t->nconds[i];
        long gate = -1;
        for (size_t k = 0; k < n && gate < 0; k++) {
            const struct pf_cond *pc = &pf->conds[pf->cond_base[i] + k];
            if (!c[k].negate && pc->slot >= 0 && !pc->any)
                gate = (long)k;
        }
        if (gate < 0) {
            pf->ungated[i / 64] |= (uint64_t)1 << (i % 64);
            continue;
        }
        const struct pf_cond *pc = &pf->conds[pf->cond_base[i] + (size_t)gate];
        int fs = field_slot(c[gate].field);
        pf->gate_rule[pc->slot] = (long)i;
        if (!has_text[fs][pc->view]) {
            has_text[fs][pc->view] = 1;
            pf->gate_texts[pf->ngate_texts].fs = (unsigned char)fs;
            pf->gate_texts[pf->ngate_texts++].view = (unsigned char)pc->view;
        }
    }
    return 0;
}

int prefilter_build(const struct rule_table *t, struct prefilter **out, char *err, size_t errlen)
{
    *out = NULL;
    if (disabled())
        return 0;
    size_t nrules = t->nrules, nflat = 0, nx = 0;
    struct prefilter *pf = calloc(1, sizeof *pf);
    struct expr *xs = NULL;
    struct hsform_scratch *scratch = hsform_scratch_new();   /* NULL: each call makes its own */
    size_t *idx = NULL, *lidx = NULL;
    unsigned *slot = NULL, *lslot = NULL;
    if (!pf || !(pf->cond_base = malloc((nrules + 1) * sizeof *pf->cond_base)))
        goto oom;
    for (size_t i = 0; i < nrules; i++) {
        pf->cond_base[i] = nflat;
        nflat += t->nconds[i];
    }
    pf->cond_base[nrules] = nflat;
    if (!(pf->conds = malloc((nflat ? nflat : 1) * sizeof *pf->conds)) ||
        !(xs = calloc(nflat ? nflat : 1, sizeof *xs)))
        goto oom;
    /* Slots and expressions. */
    for (size_t i = 0; i < nrules; i++) {
        const struct rule_cond *c = t->conds[i];
        size_t n = t->nconds[i];
        for (size_t k = 0; k < n; k++) {
            struct pf_cond *pc = &pf->conds[pf->cond_base[i] + k];
            pc->slot = -1;
            pc->any = c[k].field == RULE_FIELD_ANY;
            pc->view = c[k].view;
            if (c[k].kind == RULE_COND_LINKS || !c[k].pattern)
                continue;
            struct expr *x = &xs[nx];
            x->c = &c[k];
            x->flat = pf->cond_base[i] + k;
            x->flags = hs_flags(c[k].options);
            size_t pl = strlen(c[k].pattern);
            int ext = (c[k].options & PCRE2_EXTENDED) != 0;
            if (!(x->pattern = malloc(pl + 5)))
                goto oom;
            snprintf(x->pattern, pl + 5, "%s%s", ext ? "(?x)" : "", c[k].pattern);
            place(x, scratch);
            nx++;
        }
    }
    hsform_scratch_free(scratch);
    scratch = NULL;
    /* One database per (field, view). */
    if (!(idx = malloc((nx ? nx : 1) * sizeof *idx)) || !(slot = malloc((nx ? nx : 1) * sizeof *slot)) ||
        !(lidx = malloc((nx ? nx : 1) * sizeof *lidx)) || !(lslot = malloc((nx ? nx : 1) * sizeof *lslot)))
        goto oom;
    for (size_t x = 0; x < nx; x++) {
        struct pf_cond *pc = &pf->conds[xs[x].flat];
        if (xs[x].place == PLACE_DIRECT)
            continue;
        pc->slot = (int)pf->nslots;
        pf->nslots += pc->any ? CF_COUNT : 1;
    }
    pf->grouped = any_grouped(xs, nx);
    for (int f = 0; f < NFIELDS; f++) {
        for (int v = 0; v < VIEW_COUNT; v++) {
            size_t n = 0, nl = 0;
            for (size_t x = 0; x < nx; x++) {
                const struct rule_cond *c = xs[x].c;
                int reads = 0;
                if (xs[x].place == PLACE_DIRECT || c->view != v)
                    continue;
                if (c->field == RULE_FIELD_ANY) {
                    for (size_t a = 0; a < sizeof any_fields / sizeof any_fields[0]; a++)
                        reads |= any_fields[a] == f;
                } else {
                    reads = field_slot(c->field) == f;
                }
                if (!reads)
                    continue;
                unsigned sl = (unsigned)pf->conds[xs[x].flat].slot + (c->field == RULE_FIELD_ANY ? (unsigned)f : 0);
                if (xs[x].place == PLACE_LITERAL) {     /* from the top end: lidx */
                    lidx[nl] = x;
                    lslot[nl++] = sl;
                    continue;
                }
                idx[n] = x;
                slot[n++] = sl;
            }
            if (n && build_db(&pf->db[f][v], xs, idx, slot, n) < 0)
                goto oom;
            if (nl && build_lit(&pf->lit[f][v], xs, lidx, lslot, nl) < 0)
                goto oom;
        }
    }
    /* Literal lists Hyperscan refused: PCRE2 decides them. */
    for (size_t x = 0; x < nx; x++) {
        const struct rule_cond *c = xs[x].c;
        int f = c->field == RULE_FIELD_ANY ? -1 : field_slot(c->field);
        if (xs[x].place == PLACE_LITERAL && (f < 0 || !pf->lit[f][c->view].db))
            xs[x].place = PLACE_DIRECT;
    }
    /* A build may have moved expressions to direct: un-slot them (their bits
     * are then never read; an `any` expression moved in one field's database
     * is thus left to PCRE2 in every field) and count. */
    for (size_t x = 0; x < nx; x++) {
        if (xs[x].place == PLACE_DIRECT)
            pf->conds[xs[x].flat].slot = -1;
        pf->counts.exact += xs[x].place == PLACE_EXACT;
        pf->counts.literal += xs[x].place == PLACE_LITERAL;
        pf->counts.rewritten += xs[x].place == PLACE_EXACT && xs[x].rewritten;
        pf->counts.prefiltered += xs[x].place == PLACE_PREFILTER;
        pf->counts.direct += xs[x].place == PLACE_DIRECT;
    }
    for (int f = 0; f < NFIELDS; f++)
        for (int v = 0; v < VIEW_COUNT; v++)
            pf->counts.databases += (pf->db[f][v].db != NULL) + (pf->lit[f][v].db != NULL);
    if (set_gates(pf, t) < 0)
        goto oom;
    for (size_t x = 0; x < nx; x++) {
        free(xs[x].pattern);
        hsform_lits_free(&xs[x].lits);
    }
    free(xs);
    free(idx);
    free(slot);
    free(lidx);
    free(lslot);
    pf->generation = atomic_fetch_add(&generations, 1);
    if (pf->counts.databases == 0) {
        prefilter_free(pf);
        pf = NULL;
    }
    *out = pf;
    return 0;
oom:
    hsform_scratch_free(scratch);
    if (xs)
        for (size_t x = 0; x < nx; x++) {
            free(xs[x].pattern);
            hsform_lits_free(&xs[x].lits);
        }
    free(xs);
    free(idx);
    free(slot);
    free(lidx);
    free(lslot);
    prefilter_free(pf);
    snprintf(err, errlen, "out of memory while building the Hyperscan databases");
    return -1;
}

struct async_build {
    const struct rule_table *t;
    void (*done)(void *arg, struct prefilter *pf);
    void *arg;
};

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *build_thread(void *arg)
{
    struct async_build job = *(struct async_build *)arg;
    free(arg);
    char err[256];
    struct prefilter *pf = NULL;
    double t0 = seconds_now();
    if (prefilter_build(job.t, &pf, err, sizeof err) < 0)
        log_warn("Hyperscan: %s; PCRE2 runs every pattern", err);
    else if (pf)
        log_info("Hyperscan ready in %.1f s: %zu patterns exact (%zu of them in superset form), "
                 "%zu as literals (word lists, patterns' required literals), %zu prefiltered, %zu PCRE2 only, %zu databases",
                 seconds_now() - t0, pf->counts.exact, pf->counts.rewritten, pf->counts.literal,
                 pf->counts.prefiltered, pf->counts.direct, pf->counts.databases);
    job.done(job.arg, pf);
    return NULL;
}

int prefilter_build_async(const struct rule_table *t,
                          void (*done)(void *arg, struct prefilter *pf), void *arg)
{
    if (disabled()) {
        done(arg, NULL);
        return 0;
    }
    struct async_build *job = malloc(sizeof *job);
    pthread_attr_t attr;
    pthread_t thread;
    if (!job)
        return -1;
    *job = (struct async_build){ t, done, arg };
    if (pthread_attr_init(&attr) != 0) {
        free(job);
        return -1;
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&thread, &attr, build_thread, job);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        free(job);
        return -1;
    }
    return 0;
}

void prefilter_free(struct prefilter *pf)
{
    if (!pf)
        return;
    for (int f = 0; f < NFIELDS; f++)
        for (int v = 0; v < VIEW_COUNT; v++) {
            hs_free_database(pf->db[f][v].db);
            free(pf->db[f][v].slots);
            hs_free_database(pf->lit[f][v].db);
            free(pf->lit[f][v].phrase);
        }
    free(pf->cond_base);
    free(pf->conds);
    free(pf->gate_rule);
    free(pf->ungated);
    free(pf);
}

void prefilter_counts(const struct prefilter *pf, struct prefilter_counts *out)
{
    memset(out, 0, sizeof *out);
    if (pf)
        *out = pf->counts;
}

void prefilter_begin(struct prefilter_run *run, const struct prefilter *pf)
{
    memset(run, 0, sizeof *run);
    if (!pf)
        return;
    if (tls_scratch_gen != pf->generation) {
        for (int f = 0; f < NFIELDS; f++)
            for (int v = 0; v < VIEW_COUNT; v++)
                if ((pf->db[f][v].db && hs_alloc_scratch(pf->db[f][v].db, &tls_scratch) != HS_SUCCESS) ||
                    (pf->lit[f][v].db && hs_alloc_scratch(pf->lit[f][v].db, &tls_scratch) != HS_SUCCESS))
                    return;  /* no scratch: run->pf stays NULL, PCRE2 decides everything */
        tls_scratch_gen = pf->generation;
    }
    size_t words = (pf->nslots + 63) / 64;
    if (tls_nbits < words) {
        uint64_t *b = realloc(tls_bits, words * sizeof *b);
        if (!b)
            return;
        tls_bits = b;
        tls_nbits = words;
    }
    if (words)
        memset(tls_bits, 0, words * sizeof *tls_bits);
    if (pf->grouped) {
        if (tls_nseen < pf->nslots) {
            struct seen_groups *g = realloc(tls_seen, pf->nslots * sizeof *g);
            if (!g)
                return;
            memset(g + tls_nseen, 0, (pf->nslots - tls_nseen) * sizeof *g);
            tls_seen = g;
            tls_nseen = pf->nslots;
        }
        run->call = ++tls_call;
    }
    run->cand = tls_bits;
    run->pf = pf;
}

struct scan_ctx {
    uint64_t *bits;
    const unsigned *slots;
};

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
                    unsigned flags, void *arg)
{
    (void)from, (void)to, (void)flags;
    struct scan_ctx *ctx = arg;
    unsigned s = ctx->slots[id];
    ctx->bits[s / 64] |= (uint64_t)1 << (s % 64);
    return 0;
}

/* Is field f one that `any` reads? */
static int any_reads(int f)
{
    for (size_t a = 0; a < sizeof any_fields / sizeof any_fields[0]; a++)
        if (any_fields[a] == f)
            return 1;
    return 0;
}


/* The code point of valid UTF-8 starting at s[0] (ASCII and 2-byte forms
 * exactly; longer ones only need to be told from those). */
static int32_t cp_at(const unsigned char *s)
{
    if (s[0] < 0x80)
        return s[0];
    if ((s[0] & 0xe0) == 0xc0)
        return ((s[0] & 0x1f) << 6) | (s[1] & 0x3f);
    return 0x10000;     /* beyond the sure sets */
}

/* May text[0..at) end at an edge of this kind, i.e. is the code point
 * before `at` not surely one the edge excludes? */
static int edge_before(const unsigned char *text, size_t at, unsigned char edge)
{
    if (at == 0)
        return 1;
    size_t i = at - 1;
    while (i > 0 && at - i < 4 && (text[i] & 0xc0) == 0x80)
        i--;
    return !hsform_blocks_edge(cp_at(text + i), edge);
}

struct phrase_ctx {
    uint64_t *bits;
    struct seen_groups *seen;       /* tls_seen, when the prefilter is grouped */
    unsigned long call;             /* this call's number there */
    const struct pf_lit *lit;
    const unsigned char *text;
    size_t len;
};

/* A literal was found ending at `to`: its condition is a candidate when
 * the literal may stand at the edges its pattern gives it — for a `words`
 * phrase (?<![\p{L}\p{N}])(?:PROCLITIC)?(?:PHRASE|…)(?![\p{L}\p{N}]), for a
 * required literal the (?<!\p{L}) / (?!\p{L}) (or [\p{L}\p{N}]) around it:
 * after it nothing the edge surely excludes, and before it (or before one
 * of the proclitics it follows) nothing either. Leaves out only what PCRE2
 * surely would not match. */
static int on_phrase(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *arg)
{
    (void)from, (void)flags;
    const struct phrase_ctx *ctx = arg;
    const struct pf_phrase *p = &ctx->lit->phrase[id];
    uint64_t bit = (uint64_t)1 << (p->slot % 64);
    if (ctx->bits[p->slot / 64] & bit)
        return 0;
    size_t start = (size_t)to - p->len;
    if (to < ctx->len && hsform_blocks_edge(cp_at(ctx->text + to), p->after))
        return 0;
    int ok = edge_before(ctx->text, start, p->before);
    for (const char *c = p->proclitics; !ok && c && *c; c += strlen(c) + 1) {
        size_t n = strlen(c);
        ok = n <= start && memcmp(ctx->text + start - n, c, n) == 0 && edge_before(ctx->text, start - n, p->before);
    }
    if (!ok)
        return 0;
    if (p->need) {
        struct seen_groups *g = &ctx->seen[p->slot];
        if (g->call != ctx->call)
            *g = (struct seen_groups){ ctx->call, 0 };
        if (((g->bits |= (uint64_t)1 << p->bit) & p->need) != p->need)
            return 0;   /* a group of its branch still missing */
    }
    ctx->bits[p->slot / 64] |= bit;
    return 0;
}

/* Scan the text of (field slot fs, view) once per call, with its regular
 * expressions and its phrases; a failed scan marks every condition on it a
 * candidate. */
static void scan_text(struct prefilter_run *run, int fs, int view, const char *s, size_t len)
{
    const struct prefilter *pf = run->pf;
    uint32_t vbit = (uint32_t)1 << view;
    if (run->scanned[fs] & vbit)
        return;
    const struct pf_db *d = &pf->db[fs][view];
    const struct pf_lit *l = &pf->lit[fs][view];
    struct scan_ctx ctx = { run->cand, d->slots };
    struct phrase_ctx pctx = { run->cand, tls_seen, run->call, l, (const unsigned char *)(s ? s : ""), len };
    run->scanned[fs] |= vbit;
    if ((!d->db && !l->db) || len > 0xffffffffu ||
        (d->db && hs_scan(d->db, s ? s : "", (unsigned)len, 0, tls_scratch, on_match, &ctx) != HS_SUCCESS) ||
        (l->db && hs_scan(l->db, s ? s : "", (unsigned)len, 0, tls_scratch, on_phrase, &pctx) != HS_SUCCESS))
        run->failed[fs] |= vbit;
}

int prefilter_candidate(struct prefilter_run *run, size_t rule, size_t cond, int field,
                        const char *s, size_t len)
{
    const struct prefilter *pf = run->pf;
    if (!pf)
        return 1;
    const struct pf_cond *pc = &pf->conds[pf->cond_base[rule] + cond];
    if (pc->slot < 0)
        return 1;
    int fs = field_slot(field);
    if (fs < 0 || fs >= NFIELDS || (pc->any && !any_reads(fs)))
        return 1;
    uint32_t vbit = (uint32_t)1 << pc->view;
    scan_text(run, fs, pc->view, s, len);
    if (run->failed[fs] & vbit)
        return 1;
    unsigned slot = (unsigned)pc->slot + (pc->any ? (unsigned)fs : 0);
    return (run->cand[slot / 64] >> (slot % 64)) & 1;
}

int prefilter_gate_text(const struct prefilter_run *run, size_t i, int *field, int *view)
{
    const struct prefilter *pf = run->pf;
    if (!pf || i >= pf->ngate_texts)
        return 0;
    int fs = pf->gate_texts[i].fs;
    *field = fs == FLAGS_SLOT ? RULE_FIELD_FLAGS : fs;
    *view = pf->gate_texts[i].view;
    return 1;
}

void prefilter_scan(struct prefilter_run *run, int field, int view, const char *s, size_t len)
{
    int fs = field_slot(field);
    if (run->pf && fs >= 0 && fs < NFIELDS && view >= 0 && view < VIEW_COUNT)
        scan_text(run, fs, view, s, len);
}

const uint64_t *prefilter_rules(struct prefilter_run *run)
{
    const struct prefilter *pf = run->pf;
    if (!pf)
        return NULL;
    for (size_t i = 0; i < pf->ngate_texts; i++) {
        unsigned fs = pf->gate_texts[i].fs, vbit = 1u << pf->gate_texts[i].view;
        if (!(run->scanned[fs] & vbit) || (run->failed[fs] & vbit))
            return NULL;    /* a gate text not scanned, or a failed scan: visit every rule */
    }
    size_t words = (pf->nrules + 63) / 64 + 1;
    if (tls_nrule_bits < words) {
        uint64_t *b = realloc(tls_rule_bits, words * sizeof *b);
        if (!b)
            return NULL;
        tls_rule_bits = b;
        tls_nrule_bits = words;
    }
    memcpy(tls_rule_bits, pf->ungated, words * sizeof *tls_rule_bits);
    for (size_t w = 0; w < (pf->nslots + 63) / 64; w++) {
        for (uint64_t bits = run->cand[w]; bits; bits &= bits - 1) {
            long r = pf->gate_rule[w * 64 + (size_t)__builtin_ctzll(bits)];
            if (r >= 0)
                tls_rule_bits[r / 64] |= (uint64_t)1 << (r % 64);
        }
    }
    return tls_rule_bits;
}

void prefilter_thread_done(void)
{
    hs_free_scratch(tls_scratch);
    tls_scratch = NULL;
    tls_scratch_gen = 0;
    free(tls_bits);
    tls_bits = NULL;
    free(tls_seen);
    tls_seen = NULL;
    tls_nseen = 0;
    tls_nbits = 0;
    free(tls_rule_bits);
    tls_rule_bits = NULL;
    tls_nrule_bits = 0;
}

#else /* no Hyperscan: nothing to build, everything is a candidate */

int prefilter_available(void) { return 0; }

void prefilter_set_cache_dir(const char *dir) { (void)dir; }

int prefilter_build(const struct rule_table *t, struct prefilter **out, char *err, size_t errlen)
{
    (void)t, (void)err, (void)errlen;
    *out = NULL;
    return 0;
}

void prefilter_free(struct prefilter *pf) { (void)pf; }

int prefilter_build_async(const struct rule_table *t,
                          void (*done)(void *arg, struct prefilter *pf), void *arg)
{
    (void)t;
    done(arg, NULL);
    return 0;
}

void prefilter_counts(const struct prefilter *pf, struct prefilter_counts *out)
{
    (void)pf;
    memset(out, 0, sizeof *out);
}

void prefilter_begin(struct prefilter_run *run, const struct prefilter *pf)
{
    (void)pf;
    memset(run, 0, sizeof *run);
}

int prefilter_candidate(struct prefilter_run *run, size_t rule, size_t cond, int field,
                        const char *s, size_t len)
{
    (void)run, (void)rule, (void)cond, (void)field, (void)s, (void)len;
    return 1;
}

int prefilter_gate_text(const struct prefilter_run *run, size_t i, int *field, int *view)
{
    (void)run, (void)i, (void)field, (void)view;
    return 0;
}

void prefilter_scan(struct prefilter_run *run, int field, int view, const char *s, size_t len)
{
    (void)run, (void)field, (void)view, (void)s, (void)len;
}

const uint64_t *prefilter_rules(struct prefilter_run *run)
{
    (void)run;
    return NULL;
}

void prefilter_thread_done(void) {}

#endif
