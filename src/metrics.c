/* metrics.c — process-wide counters behind one mutex, rendered on demand.
 *
 * Bumps happen a few times per request; a mutex over small arrays is cheaper
 * than it sounds at this rate and keeps the label sets (routes, statuses,
 * rule names that change on reload) simple. */
#include "raqib/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double latency_bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5 };
#define NBUCKETS (sizeof latency_bounds / sizeof latency_bounds[0])

#define MAX_SERIES 256

struct request_series {
    const char *route;
    int status;
    unsigned long long count;
};

struct latency_series {
    const char *route;
    unsigned long long buckets[NBUCKETS];
    unsigned long long count;
    double sum;
};

struct named_counter {
    char *name;
    unsigned long long count;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct request_series requests[MAX_SERIES];
static size_t nrequests;
static struct latency_series latencies[64];
static size_t nlatencies;
static struct named_counter decisions[8];
static size_t ndecisions;
static struct named_counter *rule_hits;
static size_t nrule_hits, rule_hits_cap;
static unsigned long long store_errors, store_reconnects, pattern_limit_hits;
static int store_up;
static unsigned long long spool_appends, spool_replayed;
static long spool_depth;

void metrics_request(const char *route, int status, double seconds)
{
    pthread_mutex_lock(&lock);
    size_t i;
    for (i = 0; i < nrequests; i++)
        if (requests[i].status == status && strcmp(requests[i].route, route) == 0)
            break;
    if (i == nrequests && nrequests < MAX_SERIES)
        requests[nrequests++] = (struct request_series){ route, status, 0 };
    if (i < nrequests)
        requests[i].count++;
    for (i = 0; i < nlatencies; i++)
        if (strcmp(latencies[i].route, route) == 0)
            break;
    if (i == nlatencies && nlatencies < sizeof latencies / sizeof latencies[0]) {
        memset(&latencies[i], 0, sizeof latencies[i]);
        latencies[i].route = route;
        nlatencies++;
    }
    if (i < nlatencies) {
        struct latency_series *l = &latencies[i];
        for (size_t b = 0; b < NBUCKETS; b++)
            if (seconds <= latency_bounds[b])
                l->buckets[b]++;
        l->count++;
        l->sum += seconds;
    }
    pthread_mutex_unlock(&lock);
}

/* Find or add name in a counter array; returns NULL when full or on OOM. */
static struct named_counter *named(struct named_counter **arr, size_t *n, size_t *cap, const char *name)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*arr)[i].name, name) == 0)
            return &(*arr)[i];
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 64;
        struct named_counter *grown = realloc(*arr, ncap * sizeof *grown);
        if (!grown)
            return NULL;
        *arr = grown;
        *cap = ncap;
    }
    char *copy = strdup(name);
    if (!copy)
        return NULL;
    (*arr)[*n] = (struct named_counter){ copy, 0 };
    return &(*arr)[(*n)++];
}

void metrics_decision(const char *status)
{
    pthread_mutex_lock(&lock);
    size_t i;
    for (i = 0; i < ndecisions; i++)
        if (strcmp(decisions[i].name, status) == 0)
            break;
    if (i == ndecisions && ndecisions < sizeof decisions / sizeof decisions[0]) {
        decisions[i].name = strdup(status);
        decisions[i].count = 0;
        if (decisions[i].name)
            ndecisions++;
    }
    if (i < ndecisions)
        decisions[i].count++;
    pthread_mutex_unlock(&lock);
}

void metrics_rule_hit(const char *rule)
{
    pthread_mutex_lock(&lock);
    struct named_counter *c = named(&rule_hits, &nrule_hits, &rule_hits_cap, rule);
    if (c)
        c->count++;
    pthread_mutex_unlock(&lock);
}

/* Hits of one rule since start (0 for a rule never hit), for GET /v1/rules. */
unsigned long long metrics_rule_hit_count(const char *rule)
{
    unsigned long long n = 0;
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < nrule_hits; i++)
        if (strcmp(rule_hits[i].name, rule) == 0) {
            n = rule_hits[i].count;
            break;
        }
    pthread_mutex_unlock(&lock);
    return n;
}

void metrics_store_error(void)
{
    pthread_mutex_lock(&lock);
    store_errors++;
    pthread_mutex_unlock(&lock);
}

void metrics_store_reconnect(void)
{
    pthread_mutex_lock(&lock);
    store_reconnects++;
    pthread_mutex_unlock(&lock);
}

void metrics_set_store_up(int up)
{
    pthread_mutex_lock(&lock);
    store_up = up;
    pthread_mutex_unlock(&lock);
}

void metrics_spool_append(void)
{
    pthread_mutex_lock(&lock);
    spool_appends++;
    pthread_mutex_unlock(&lock);
}

void metrics_spool_replayed(void)
{
    pthread_mutex_lock(&lock);
    spool_replayed++;
    pthread_mutex_unlock(&lock);
}

void metrics_spool_depth(long depth)
{
    pthread_mutex_lock(&lock);
    spool_depth = depth;
    pthread_mutex_unlock(&lock);
}

void metrics_limit_hits(unsigned n)
{
    if (!n)
        return;
    pthread_mutex_lock(&lock);
    pattern_limit_hits += n;
    pthread_mutex_unlock(&lock);
}

/* A growing text buffer for the exposition. */
struct text {
    char *buf;
    size_t len, cap;
    int failed;
};

static void emit(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct text *t, const char *fmt, ...)
{
    if (t->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = 1;
            return;
        }
        if ((size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        size_t ncap = t->cap * 2 + (size_t)n;
        char *grown = realloc(t->buf, ncap);
        if (!grown) {
            t->failed = 1;
            return;
        }
        t->buf = grown;
        t->cap = ncap;
    }
}

/* Prometheus label values escape backslash, quote and newline. */
static void emit_label(struct text *t, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            emit(t, "\\%c", *s);
        else if (*s == '\n')
            emit(t, "\\n");
        else
            emit(t, "%c", *s);
    }
}

static void render_requests(struct text *t)
{
    emit(t, "# HELP raqib_http_requests_total HTTP requests by route and status.\n"
            "# TYPE raqib_http_requests_total counter\n");
    for (size_t i = 0; i < nrequests; i++)
        emit(t, "raqib_http_requests_total{route=\"%s\",status=\"%d\"} %llu\n",
             requests[i].route, requests[i].status, requests[i].count);
    emit(t, "# HELP raqib_http_request_duration_seconds Time from request read to answer.\n"
            "# TYPE raqib_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < nlatencies; i++) {
        const struct latency_series *l = &latencies[i];
        for (size_t b = 0; b < NBUCKETS; b++)
            emit(t, "raqib_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n",
                 l->route, latency_bounds[b], l->buckets[b]);
        emit(t, "raqib_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", l->route, l->count);
        emit(t, "raqib_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", l->route, l->sum);
        emit(t, "raqib_http_request_duration_seconds_count{route=\"%s\"} %llu\n", l->route, l->count);
    }
}

static void render_counters(struct text *t)
{
    emit(t, "# HELP raqib_decisions_total Comments decided, by status.\n# TYPE raqib_decisions_total counter\n");
    for (size_t i = 0; i < ndecisions; i++)
        emit(t, "raqib_decisions_total{status=\"%s\"} %llu\n", decisions[i].name, decisions[i].count);
    emit(t, "# HELP raqib_rule_hits_total Comments each rule matched.\n# TYPE raqib_rule_hits_total counter\n");
    for (size_t i = 0; i < nrule_hits; i++) {
        emit(t, "raqib_rule_hits_total{rule=\"");
        emit_label(t, rule_hits[i].name);
        emit(t, "\"} %llu\n", rule_hits[i].count);
    }
    emit(t, "# HELP raqib_rule_limit_hits_total Pattern runs stopped by the match or depth limit.\n"
            "# TYPE raqib_rule_limit_hits_total counter\nraqib_rule_limit_hits_total %llu\n", pattern_limit_hits);
    emit(t, "# HELP raqib_store_errors_total Redis commands that failed or timed out.\n"
            "# TYPE raqib_store_errors_total counter\nraqib_store_errors_total %llu\n", store_errors);
    emit(t, "# HELP raqib_store_reconnects_total Reconnections to Redis.\n"
            "# TYPE raqib_store_reconnects_total counter\nraqib_store_reconnects_total %llu\n", store_reconnects);
    emit(t, "# HELP raqib_store_up Whether every worker's Redis connection is ready.\n"
            "# TYPE raqib_store_up gauge\nraqib_store_up %d\n", store_up);
    emit(t, "# HELP raqib_spool_depth Accepted submissions waiting in the outage spool for Redis.\n"
            "# TYPE raqib_spool_depth gauge\nraqib_spool_depth %ld\n", spool_depth);
    emit(t, "# HELP raqib_spool_appends_total Submissions written to the outage spool.\n"
            "# TYPE raqib_spool_appends_total counter\nraqib_spool_appends_total %llu\n", spool_appends);
    emit(t, "# HELP raqib_spool_replayed_total Spooled submissions replayed into Redis.\n"
            "# TYPE raqib_spool_replayed_total counter\nraqib_spool_replayed_total %llu\n", spool_replayed);
}

char *metrics_render(size_t *len)
{
    struct text t = { malloc(4096), 0, 4096, 0 };
    if (!t.buf)
        return NULL;
    pthread_mutex_lock(&lock);
    render_requests(&t);
    render_counters(&t);
    pthread_mutex_unlock(&lock);
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    if (len)
        *len = t.len;
    return t.buf;
}
