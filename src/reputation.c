/* reputation.c — each site's commenters' records in memory (reputation.h).
 *
 * Per site an open-addressing table of 32-byte entries keyed by the
 * author's 64-bit hash, linear probing, kept at most half full (so about 64
 * bytes an author), deletion by shifting the run back (no tombstones, so a
 * table that sees erasures never fills with dead slots). Sites are a small
 * array searched by name, as in live.c: a news group runs a handful. One
 * read-write lock guards it all: scoring reads in parallel, the learner
 * writes for the microseconds one decision takes. Pure module. */
#include "raqib/reputation.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SITE_NAME_MAX 65
#define MIN_SLOTS 64

struct entry {
    uint64_t key;           /* 0: empty */
    uint32_t count[3];      /* approved, rejected, spam */
    uint32_t mark;
    int64_t last_ms;
};

struct rep_site {
    char name[SITE_NAME_MAX];
    struct entry *slots;
    size_t cap, used;       /* cap a power of two, used <= cap / 2 */
};

struct reputation {
    pthread_rwlock_t lock;
    struct rep_site **sites;
    size_t nsites;
    size_t max_authors;
    unsigned long dropped;
};

struct reputation *reputation_new(size_t max_authors)
{
    struct reputation *rep = calloc(1, sizeof *rep);
    if (!rep)
        return NULL;
    if (pthread_rwlock_init(&rep->lock, NULL) != 0) {
        free(rep);
        return NULL;
    }
    rep->max_authors = max_authors;
    return rep;
}

static void site_free(struct rep_site *s)
{
    free(s->slots);
    free(s);
}

void reputation_free(struct reputation *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->nsites; i++)
        site_free(rep->sites[i]);
    free(rep->sites);
    pthread_rwlock_destroy(&rep->lock);
    free(rep);
}

static struct rep_site *find_site(const struct reputation *rep, const char *site)
{
    for (size_t i = 0; i < rep->nsites; i++)
        if (strcmp(rep->sites[i]->name, site) == 0)
            return rep->sites[i];
    return NULL;
}

/* The site, added when new; NULL when out of memory or the name is too long. */
static struct rep_site *site_for(struct reputation *rep, const char *site)
{
    struct rep_site *s = find_site(rep, site);
    if (s || strlen(site) >= SITE_NAME_MAX)
        return s;
    struct rep_site **grown = realloc(rep->sites, (rep->nsites + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    rep->sites = grown;
    if (!(s = calloc(1, sizeof *s)))
        return NULL;
    strcpy(s->name, site);
    rep->sites[rep->nsites++] = s;
    return s;
}

/* The slot holding key, or the empty slot where it would go. */
static size_t probe(const struct rep_site *s, uint64_t key)
{
    size_t mask = s->cap - 1, i = (size_t)(key * 0x9E3779B97F4A7C15ull >> 17) & mask;
    while (s->slots[i].key && s->slots[i].key != key)
        i = (i + 1) & mask;
    return i;
}

static struct entry *find_entry(const struct rep_site *s, uint64_t key)
{
    if (!s || !s->cap || !key)
        return NULL;
    struct entry *e = &s->slots[probe(s, key)];
    return e->key ? e : NULL;
}

/* Double the table (or make the first). -1 when out of memory. */
static int grow(struct rep_site *s)
{
    size_t ncap = s->cap ? s->cap * 2 : MIN_SLOTS;
    struct entry *old = s->slots, *slots = calloc(ncap, sizeof *slots);
    if (!slots)
        return -1;
    size_t ocap = s->cap;
    s->slots = slots;
    s->cap = ncap;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            s->slots[probe(s, old[i].key)] = old[i];
    free(old);
    return 0;
}

/* The entry for key, added (zeroed) when new; NULL when out of memory or
 * the site holds max_authors already. */
static struct entry *entry_for(struct reputation *rep, struct rep_site *s, uint64_t key)
{
    struct entry *e = find_entry(s, key);
    if (e)
        return e;
    if (rep->max_authors && s->used >= rep->max_authors) {
        rep->dropped++;
        return NULL;
    }
    if ((s->used + 1) * 2 > s->cap && grow(s) < 0)
        return NULL;
    e = &s->slots[probe(s, key)];
    *e = (struct entry){ .key = key };
    s->used++;
    return e;
}

/* Remove the entry at slot i and shift the run after it back, so every
 * remaining key is still found from its home slot. */
static void remove_at(struct rep_site *s, size_t i)
{
    size_t mask = s->cap - 1, j = i;
    s->slots[i].key = 0;
    s->used--;
    for (;;) {
        j = (j + 1) & mask;
        if (!s->slots[j].key)
            return;
        size_t home = (size_t)(s->slots[j].key * 0x9E3779B97F4A7C15ull >> 17) & mask;
        /* Move j back to i unless its home lies cyclically in (i, j]. */
        int stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!stays) {
            s->slots[i] = s->slots[j];
            s->slots[j].key = 0;
            i = j;
        }
    }
}

static int entry_empty(const struct entry *e)
{
    return !e->count[0] && !e->count[1] && !e->count[2] && !e->mark;
}

static void drop_if_empty(struct rep_site *s, struct entry *e)
{
    if (entry_empty(e))
        remove_at(s, (size_t)(e - s->slots));
}

int reputation_status_index(const char *status)
{
    if (!status)
        return -1;
    return strcmp(status, "approved") == 0 ? 0 : strcmp(status, "rejected") == 0 ? 1
         : strcmp(status, "spam") == 0 ? 2 : -1;
}

int reputation_get(const struct reputation *rep, const char *site, uint64_t author, struct author_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!rep)
        return 0;
    pthread_rwlock_rdlock((pthread_rwlock_t *)&rep->lock);
    const struct entry *e = find_entry(find_site(rep, site), author);
    if (e) {
        *out = (struct author_counts){ e->count[0], e->count[1], e->count[2], e->last_ms,
                                       (enum author_mark)e->mark };
    }
    pthread_rwlock_unlock((pthread_rwlock_t *)&rep->lock);
    return e != NULL;
}

int reputation_move(struct reputation *rep, const char *site, uint64_t author, const char *from, const char *to,
                    long long at_ms)
{
    int a = reputation_status_index(from), b = reputation_status_index(to), rc = 0;
    if (a == b || !author)
        return 0;
    pthread_rwlock_wrlock(&rep->lock);
    struct rep_site *s = site_for(rep, site);
    struct entry *e = s ? (b >= 0 ? entry_for(rep, s, author) : find_entry(s, author)) : NULL;
    if (e) {
        if (a >= 0 && e->count[a])
            e->count[a]--;
        if (b >= 0)
            e->count[b]++;
        if (at_ms > e->last_ms)
            e->last_ms = at_ms;
        drop_if_empty(s, e);
    } else if (b >= 0) {
        rc = -1;
    }
    pthread_rwlock_unlock(&rep->lock);
    return rc;
}

int reputation_set(struct reputation *rep, const char *site, uint64_t author, const struct author_counts *c)
{
    int rc = 0;
    if (!author)
        return 0;
    pthread_rwlock_wrlock(&rep->lock);
    struct rep_site *s = site_for(rep, site);
    struct entry *e = s ? entry_for(rep, s, author) : NULL;
    if (e) {
        e->count[0] = (uint32_t)c->approved;
        e->count[1] = (uint32_t)c->rejected;
        e->count[2] = (uint32_t)c->spam;
        e->last_ms = c->last_ms;
        e->mark = (uint32_t)c->mark;
        drop_if_empty(s, e);
    } else {
        rc = -1;
    }
    pthread_rwlock_unlock(&rep->lock);
    return rc;
}

int reputation_mark(struct reputation *rep, const char *site, uint64_t author, enum author_mark mark)
{
    int rc = 0;
    if (!author)
        return 0;
    pthread_rwlock_wrlock(&rep->lock);
    struct rep_site *s = site_for(rep, site);
    struct entry *e = s ? (mark ? entry_for(rep, s, author) : find_entry(s, author)) : NULL;
    if (e) {
        e->mark = (uint32_t)mark;
        drop_if_empty(s, e);
    } else if (mark) {
        rc = -1;
    }
    pthread_rwlock_unlock(&rep->lock);
    return rc;
}

void reputation_erase(struct reputation *rep, const char *site, uint64_t author)
{
    pthread_rwlock_wrlock(&rep->lock);
    struct rep_site *s = find_site(rep, site);
    struct entry *e = find_entry(s, author);
    if (e)
        remove_at(s, (size_t)(e - s->slots));
    pthread_rwlock_unlock(&rep->lock);
}

void reputation_forget_site(struct reputation *rep, const char *site)
{
    pthread_rwlock_wrlock(&rep->lock);
    for (size_t i = 0; i < rep->nsites; i++) {
        if (strcmp(rep->sites[i]->name, site) == 0) {
            site_free(rep->sites[i]);
            rep->sites[i] = rep->sites[--rep->nsites];
            break;
        }
    }
    pthread_rwlock_unlock(&rep->lock);
}

size_t reputation_authors(const struct reputation *rep, const char *site)
{
    pthread_rwlock_rdlock((pthread_rwlock_t *)&rep->lock);
    const struct rep_site *s = find_site(rep, site);
    size_t n = s ? s->used : 0;
    pthread_rwlock_unlock((pthread_rwlock_t *)&rep->lock);
    return n;
}

unsigned long reputation_dropped(const struct reputation *rep)
{
    pthread_rwlock_rdlock((pthread_rwlock_t *)&rep->lock);
    unsigned long n = rep->dropped;
    pthread_rwlock_unlock((pthread_rwlock_t *)&rep->lock);
    return n;
}

size_t reputation_memory(const struct reputation *rep)
{
    size_t bytes = sizeof *rep;
    pthread_rwlock_rdlock((pthread_rwlock_t *)&rep->lock);
    for (size_t i = 0; i < rep->nsites; i++)
        bytes += sizeof *rep->sites[i] + rep->sites[i]->cap * sizeof(struct entry);
    pthread_rwlock_unlock((pthread_rwlock_t *)&rep->lock);
    return bytes;
}

size_t reputation_flags(const struct author_counts *c, char *buf, size_t len)
{
    static const char *const names[] = { "author_approved", "author_rejected", "author_spam" };
    unsigned long n[3] = { c->approved, c->rejected, c->spam };
    size_t used = 0;
    if (!len)
        return 0;
    buf[0] = '\0';
    for (int i = 0; i < 3; i++)
        if (n[i] && used < len)
            used += (size_t)snprintf(buf + used, len - used, "%s%s=%lu", used ? " " : "", names[i], n[i]);
    if (c->mark && used < len)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", used ? " " : "",
                                 c->mark == AUTHOR_TRUSTED ? "author_trusted" : "author_blocked");
    return used < len ? used : len - 1;
}

void reputation_hex(uint64_t author, char out[17])
{
    snprintf(out, 17, "%016llx", (unsigned long long)author);
}

int reputation_parse_hex(const char *hex, uint64_t *out)
{
    uint64_t v = 0;
    if (!hex || strlen(hex) != 16)
        return -1;
    for (const char *p = hex; *p; p++) {
        int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;
        if (d < 0)
            return -1;
        v = v << 4 | (uint64_t)d;
    }
    if (!v)
        return -1;
    *out = v;
    return 0;
}
