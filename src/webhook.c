/* webhook.c — signed decision notifications, delivered from the feed.
 *
 * A timer walks the known sites; for a site that is neither waiting on a
 * delivery nor backing off, one Lua call fetches the first feed entry after
 * the site's cursor, which is POSTed with libevent's HTTP client. A 2xx moves
 * the cursor (SET) and the next entry goes at once; anything else doubles the
 * site's backoff (1 s up to 5 min) and the same entry is tried again. Sites
 * are learnt from submissions and decisions in this process, and at start by
 * scanning for feed streams, so deliveries left by a previous run resume.
 * Several daemons on one Redis deliver each decision once: a site's
 * deliveries are made only by the holder of its lease raqib:{S}:webhook:lease
 * (this process's fleet instance id, LEASE_MS long, renewed while it works),
 * taken in the same script that reads the next entry, and the cursor is
 * moved only while the lease is still ours. A daemon that dies stops
 * renewing; another takes the lease once it expires and goes on from the
 * cursor, in order (the entry that was in flight may be sent twice: the
 * X-Raqib-Delivery header lets the receiver drop it). Sites are shared
 * through the set raqib:webhook:sites, read every SITES_POLL_MS.
 * An https URL is reached over TLS (libevent's OpenSSL bufferevent): the
 * certificate must chain to the system's CAs, or to webhook_ca_file, and
 * name the URL's host. */
#include "raqib/webhook.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <hiredis/hiredis.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/ssl.h>

#include "raqib/config.h"
#include "raqib/feed.h"
#include "raqib/fleet.h"
#include "raqib/id.h"
#include "raqib/log.h"
#include "raqib/store.h"

#define MAX_SITES 4096
#define TICK_MS 200
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 300000
#define HTTP_TIMEOUT_S 10
#define LEASE_MS 3000
#define RENEW_MS 1000
#define SITES_POLL_MS 2000
#define SITES_KEY "raqib:webhook:sites"

/* KEYS: 1 cursor, 2 feed stream, 3 lease. ARGV: 1 our instance id, 2 lease
 * ms. Take or renew the site's lease, then the first entry after the
 * cursor; nil when another daemon holds the lease or nothing is new. */
static const char next_script[] =
    "local holder = redis.call('GET', KEYS[3])\n"
    "if holder and holder ~= ARGV[1] then return false end\n"
    "redis.call('SET', KEYS[3], ARGV[1], 'PX', tonumber(ARGV[2]))\n"
    "local c = redis.call('GET', KEYS[1]) or '0-0'\n"
    "local e = redis.call('XRANGE', KEYS[2], '(' .. c, '+', 'COUNT', 1)\n"
    "if #e == 0 then return false end\n"
    "return e[1]\n";

/* KEYS: 1 cursor, 2 lease. ARGV: 1 our instance id, 2 delivered entry, 3
 * lease ms. Move the cursor only while the lease is ours: 1, else 0. */
static const char ack_script[] =
    "if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end\n"
    "redis.call('SET', KEYS[1], ARGV[2])\n"
    "redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]))\n"
    "return 1\n";

/* KEYS: 1 lease. ARGV: 1 our instance id, 2 lease ms. Keep a lease we hold
 * while a slow delivery runs. */
static const char renew_script[] =
    "if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end\n"
    "return redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))\n";

/* Sites seen by any thread; the deliverer copies new ones into its state. */
static struct {
    pthread_mutex_t lock;
    int enabled;
    char *names[MAX_SITES];
    size_t n;
} registry = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct site {
    char name[65];
    long long next_try_ms;
    long long renewed_ms;       /* last lease renewal sent while busy */
    long backoff_ms;
    int busy;
    int shared;                 /* added to raqib:webhook:sites */
    char cursor[64];            /* entry being delivered */
};

struct delivery;

struct webhook {
    struct event_base *base;
    struct store *store;
    const struct config *cfg;
    struct evhttp_uri *uri;
    char host[256];
    int port;
    char path[2048];
    SSL_CTX *tls;               /* https: the client context; NULL for http */
    struct event *tick;
    struct site *sites;
    size_t nsites;
    int stopping;
    int inflight;               /* HTTP requests or store calls outstanding */
    long long sites_polled_ms;  /* last read of raqib:webhook:sites */
    int sites_busy;
    struct delivery *active;    /* HTTP requests in flight (freed on stop) */
};

void webhook_note_site(const char *site)
{
    pthread_mutex_lock(&registry.lock);
    if (registry.enabled && registry.n < MAX_SITES) {
        size_t i;
        for (i = 0; i < registry.n; i++)
            if (strcmp(registry.names[i], site) == 0)
                break;
        if (i == registry.n) {
            char *copy = strdup(site);
            if (copy)
                registry.names[registry.n++] = copy;
        }
    }
    pthread_mutex_unlock(&registry.lock);
}

void webhook_sign(const char *key, const char *body, size_t len, char out[65])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)body, len, mac, &maclen);
    for (unsigned i = 0; i < maclen && i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
    out[64] = '\0';
}

/* Copy sites the registry learnt since the last tick. */
static void sync_sites(struct webhook *wh)
{
    pthread_mutex_lock(&registry.lock);
    if (registry.n > wh->nsites) {
        struct site *grown = realloc(wh->sites, registry.n * sizeof *grown);
        if (grown) {
            wh->sites = grown;
            for (size_t i = wh->nsites; i < registry.n; i++) {
                memset(&grown[i], 0, sizeof grown[i]);
                snprintf(grown[i].name, sizeof grown[i].name, "%s", registry.names[i]);
                grown[i].backoff_ms = BACKOFF_MIN_MS;
            }
            wh->nsites = registry.n;
        }
    }
    pthread_mutex_unlock(&registry.lock);
}

static void retry_later(struct site *s, const char *why)
{
    log_warn("webhook for site %s: delivery %s failed (%s); retrying in %ld ms", s->name, s->cursor, why,
             s->backoff_ms);
    s->next_try_ms = id_clock_ms() + s->backoff_ms;
    s->backoff_ms = s->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : s->backoff_ms * 2;
    s->busy = 0;
}

struct delivery {
    struct webhook *wh;
    size_t site_index;
    struct evhttp_connection *conn;
    struct delivery *prev, *next;   /* in wh->active while the HTTP request runs */
};

static void track(struct delivery *d)
{
    d->next = d->wh->active;
    d->prev = NULL;
    if (d->next)
        d->next->prev = d;
    d->wh->active = d;
}

static void untrack(struct delivery *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        d->wh->active = d->next;
    if (d->next)
        d->next->prev = d->prev;
    d->prev = d->next = NULL;
}

static void free_conn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    evhttp_connection_free(arg);
}

static void on_cursor_saved(void *arg, const struct redisReply *r, const char *error)
{
    struct delivery *d = arg;
    struct site *s = &d->wh->sites[d->site_index];
    d->wh->inflight--;
    if (!r) {
        retry_later(s, error ? error : "could not save the cursor");
    } else if (r->type == REDIS_REPLY_INTEGER && r->integer == 0) {
        log_warn("webhook for site %s: lease lost during delivery %s; the new holder goes on", s->name, s->cursor);
        s->busy = 0;
        s->next_try_ms = id_clock_ms() + BACKOFF_MIN_MS;
    } else {
        s->busy = 0;
        s->next_try_ms = 0;           /* the next entry goes at once */
        s->backoff_ms = BACKOFF_MIN_MS;
    }
    free(d);
}

/* A connection to the webhook's host: plain, or TLS with SNI and the
 * certificate checked against the host name. NULL when one cannot be made. */
static struct evhttp_connection *open_connection(struct webhook *wh)
{
    if (!wh->tls)
        return evhttp_connection_base_new(wh->base, NULL, wh->host, (unsigned short)wh->port);
    SSL *ssl = SSL_new(wh->tls);
    if (!ssl)
        return NULL;
    if (!SSL_set_tlsext_host_name(ssl, wh->host) || !SSL_set1_host(ssl, wh->host)) {
        SSL_free(ssl);
        return NULL;
    }
    struct bufferevent *bev = bufferevent_openssl_socket_new(wh->base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                             BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
    if (!bev) {
        SSL_free(ssl);
        return NULL;
    }
    /* A server that closes without close_notify has still answered. */
    bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
    struct evhttp_connection *conn =
        evhttp_connection_base_bufferevent_new(wh->base, NULL, bev, wh->host, (unsigned short)wh->port);
    if (!conn)
        bufferevent_free(bev);
    return conn;
}

/* OpenSSL's first reason in text ("" when it has none), from the
 * connection's bufferevent when there is one (libevent keeps the errors of
 * its TLS bufferevents there), else from this thread's error queue, which
 * is then emptied so the next delivery starts clean. */
static void tls_failure(struct evhttp_connection *conn, char *buf, size_t len)
{
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    unsigned long e = bev ? bufferevent_get_openssl_error(bev) : 0;
    if (!e)
        e = ERR_get_error();
    buf[0] = '\0';
    if (e)
        ERR_error_string_n(e, buf, len);
    while (ERR_get_error())
        ;
}

/* The client context for an https webhook: peer verified against the
 * system's CAs or ca_file, TLS 1.2 at least. NULL with err set. */
static SSL_CTX *tls_context(const char *ca_file, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "webhook: cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    int ok = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL) : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        char why[256];
        tls_failure(NULL, why, sizeof why);
        snprintf(err, errlen, "webhook_ca_file '%s': cannot load it (%s)", ca_file ? ca_file : "(system)", why);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static void on_response(struct evhttp_request *req, void *arg)
{
    struct delivery *d = arg;
    struct webhook *wh = d->wh;
    struct site *s = &wh->sites[d->site_index];
    int code = req ? evhttp_request_get_response_code(req) : 0;
    struct timeval zero = { 0, 0 };
    char tls[256] = "";
    if (!code && wh->tls)
        tls_failure(d->conn, tls, sizeof tls);   /* before the connection goes */
    untrack(d);
    event_base_once(wh->base, -1, EV_TIMEOUT, free_conn, d->conn, &zero);   /* not from inside its callback */
    d->conn = NULL;
    wh->inflight--;
    if (code < 200 || code > 299) {
        char why[300];
        if (code)
            snprintf(why, sizeof why, "HTTP %d", code);
        else if (tls[0])
            snprintf(why, sizeof why, "no answer (TLS: %s)", tls);
        else
            snprintf(why, sizeof why, "no answer");
        retry_later(s, why);
        free(d);
        return;
    }
    log_info("webhook for site %s: delivered %s", s->name, s->cursor);
    char key[600], lease[600], ms[24];
    store_key(key, sizeof key, s->name, "webhook");
    store_key(lease, sizeof lease, s->name, "webhook:lease");
    snprintf(ms, sizeof ms, "%d", LEASE_MS);
    const char *argv[] = { "2", key, lease, fleet_instance_id(), s->cursor, ms };
    wh->inflight++;
    if (store_eval(wh->store, ack_script, 6, argv, NULL, on_cursor_saved, d) < 0) {
        wh->inflight--;
        retry_later(s, "store down");
        free(d);
    }
}

/* Build the JSON body of one feed entry (field/value array). */
static char *delivery_body(const char *site, const char *cursor, const redisReply *fields)
{
    json_t *obj = json_pack("{s:s, s:s, s:s}", "event", "decision", "site", site, "delivery", cursor);
    feed_fields_json(obj, fields);
    char *text = obj ? json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(obj);
    return text;
}

static void send_delivery(struct webhook *wh, size_t index, const redisReply *entry)
{
    struct site *s = &wh->sites[index];
    snprintf(s->cursor, sizeof s->cursor, "%s", entry->element[0]->str);
    char *body = delivery_body(s->name, s->cursor, entry->element[1]);
    struct delivery *d = calloc(1, sizeof *d);
    if (!body || !d) {
        free(body);
        free(d);
        retry_later(s, "out of memory");
        return;
    }
    *d = (struct delivery){ wh, index, open_connection(wh), NULL, NULL };
    struct evhttp_request *req = d->conn ? evhttp_request_new(on_response, d) : NULL;
    if (!req) {
        if (d->conn)
            evhttp_connection_free(d->conn);
        free(body);
        free(d);
        retry_later(s, "cannot open a connection");
        return;
    }
    evhttp_connection_set_timeout(d->conn, HTTP_TIMEOUT_S);
    char sig[72], hex[65], hostport[300];
    webhook_sign(wh->cfg->webhook_secret, body, strlen(body), hex);
    snprintf(sig, sizeof sig, "sha256=%s", hex);
    snprintf(hostport, sizeof hostport, "%s:%d", wh->host, wh->port);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", hostport);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "User-Agent", "raqibd-webhook/1");
    evhttp_add_header(h, "X-Raqib-Signature", sig);
    evhttp_add_header(h, "X-Raqib-Delivery", s->cursor);
    evbuffer_add(evhttp_request_get_output_buffer(req), body, strlen(body));
    free(body);
    wh->inflight++;
    track(d);
    if (evhttp_make_request(d->conn, req, EVHTTP_REQ_POST, wh->path) < 0) {
        untrack(d);
        /* evhttp freed req; the connection is ours. */
        wh->inflight--;
        evhttp_connection_free(d->conn);
        free(d);
        retry_later(s, "request refused");
    }
}

struct fetch {
    struct webhook *wh;
    size_t index;
};

static void on_next_entry(void *arg, const struct redisReply *r, const char *error)
{
    struct fetch *f = arg;
    struct webhook *wh = f->wh;
    struct site *s = &wh->sites[f->index];
    wh->inflight--;
    if (!r) {
        s->busy = 0;
        s->next_try_ms = id_clock_ms() + BACKOFF_MIN_MS;
        log_debug("webhook: feed read failed for %s: %s", s->name, error ? error : "?");
    } else if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[1]->type == REDIS_REPLY_ARRAY &&
               !wh->stopping) {
        send_delivery(wh, f->index, r);
    } else {
        s->busy = 0;             /* nothing new */
    }
    free(f);
}

static void on_store_done(void *arg, const struct redisReply *r, const char *error)
{
    (void)r;
    (void)error;
    struct webhook *wh = arg;
    wh->inflight--;
}

/* Keep the lease of a site whose delivery is still running. */
static void renew_lease(struct webhook *wh, struct site *s, long long now)
{
    if (now - s->renewed_ms < RENEW_MS)
        return;
    s->renewed_ms = now;
    char lease[600], ms[24];
    store_key(lease, sizeof lease, s->name, "webhook:lease");
    snprintf(ms, sizeof ms, "%d", LEASE_MS);
    const char *argv[] = { "1", lease, fleet_instance_id(), ms };
    wh->inflight++;
    if (store_eval(wh->store, renew_script, 4, argv, NULL, on_store_done, wh) < 0)
        wh->inflight--;
}

/* Tell the other daemons about sites this one learnt (once each). */
static void share_sites(struct webhook *wh)
{
    for (size_t i = 0; i < wh->nsites; i++) {
        struct site *s = &wh->sites[i];
        if (s->shared)
            continue;
        const char *argv[] = { "SADD", SITES_KEY, s->name };
        wh->inflight++;
        if (store_command(wh->store, 3, argv, NULL, on_store_done, wh) < 0) {
            wh->inflight--;
            return;
        }
        s->shared = 1;
    }
}

static void on_shared_sites(void *arg, const struct redisReply *r, const char *error)
{
    (void)error;
    struct webhook *wh = arg;
    wh->inflight--;
    wh->sites_busy = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING && r->element[i]->len <= 64)
            webhook_note_site(r->element[i]->str);
}

/* Learn the sites the other daemons shared. */
static void poll_sites(struct webhook *wh, long long now)
{
    if (wh->sites_busy || now - wh->sites_polled_ms < SITES_POLL_MS)
        return;
    wh->sites_polled_ms = now;
    const char *argv[] = { "SMEMBERS", SITES_KEY };
    wh->inflight++;
    wh->sites_busy = 1;
    if (store_command(wh->store, 2, argv, NULL, on_shared_sites, wh) < 0) {
        wh->inflight--;
        wh->sites_busy = 0;
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct webhook *wh = arg;
    if (wh->stopping)
        return;
    sync_sites(wh);
    long long now = id_clock_ms();
    if (store_is_ready(wh->store)) {
        share_sites(wh);
        poll_sites(wh, now);
    }
    for (size_t i = 0; i < wh->nsites; i++) {
        struct site *s = &wh->sites[i];
        if (s->busy && store_is_ready(wh->store))
            renew_lease(wh, s, now);
        if (s->busy || s->next_try_ms > now || !store_is_ready(wh->store))
            continue;
        char cursor[600], feed[600], lease[600], ms[24];
        store_key(cursor, sizeof cursor, s->name, "webhook");
        store_key(feed, sizeof feed, s->name, "decisions");
        store_key(lease, sizeof lease, s->name, "webhook:lease");
        snprintf(ms, sizeof ms, "%d", LEASE_MS);
        const char *argv[] = { "3", cursor, feed, lease, fleet_instance_id(), ms };
        struct fetch *f = malloc(sizeof *f);
        if (!f)
            break;
        *f = (struct fetch){ wh, i };
        s->busy = 1;
        wh->inflight++;
        s->renewed_ms = now;
        if (store_eval(wh->store, next_script, 6, argv, NULL, on_next_entry, f) < 0) {
            wh->inflight--;
            s->busy = 0;
            free(f);
        }
    }
    struct timeval tv = { 0, TICK_MS * 1000 };
    event_add(wh->tick, &tv);
}

static void start_scan(evutil_socket_t fd, short what, void *arg);

/* Learn the sites that have a feed already (deliveries of a previous run). */
static void on_scan(void *arg, const struct redisReply *r, const char *error)
{
    struct webhook *wh = arg;
    wh->inflight--;
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
        if (!wh->stopping) {   /* not connected yet: try again shortly */
            log_debug("webhook: scan for feeds postponed: %s", error ? error : "unexpected reply");
            struct timeval tv = { 0, 500000 };
            event_base_once(wh->base, -1, EV_TIMEOUT, start_scan, wh, &tv);
        }
        return;
    }
    const redisReply *keys = r->element[1];
    for (size_t i = 0; i < keys->elements; i++) {
        const char *k = keys->element[i]->str;   /* raqib:{SITE}:decisions */
        const char *open = strchr(k, '{'), *close = open ? strchr(open, '}') : NULL;
        if (open && close && close - open - 1 > 0 && close - open - 1 <= 64) {
            char site[65];
            snprintf(site, sizeof site, "%.*s", (int)(close - open - 1), open + 1);
            webhook_note_site(site);
        }
    }
    if (strcmp(r->element[0]->str, "0") != 0 && !wh->stopping) {
        const char *argv[] = { "SCAN", r->element[0]->str, "MATCH", "raqib:{*}:decisions", "COUNT", "1000" };
        wh->inflight++;
        if (store_command(wh->store, 6, argv, NULL, on_scan, wh) < 0)
            wh->inflight--;
    }
}

static void start_scan(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct webhook *wh = arg;
    if (wh->stopping)
        return;
    const char *argv[] = { "SCAN", "0", "MATCH", "raqib:{*}:decisions", "COUNT", "1000" };
    wh->inflight++;
    if (!store_is_ready(wh->store) || store_command(wh->store, 6, argv, NULL, on_scan, wh) < 0) {
        wh->inflight--;
        struct timeval tv = { 0, 300000 };
        event_base_once(wh->base, -1, EV_TIMEOUT, start_scan, wh, &tv);
    }
}

struct webhook *webhook_start(struct event_base *base, struct store *st, const struct config *cfg, char *err,
                              size_t errlen)
{
    err[0] = '\0';
    if (!cfg->webhook_url)
        return NULL;
    struct webhook *wh = calloc(1, sizeof *wh);
    if (!wh)
        return NULL;
    wh->base = base;
    wh->store = st;
    wh->cfg = cfg;
    wh->uri = evhttp_uri_parse(cfg->webhook_url);
    const char *scheme = wh->uri ? evhttp_uri_get_scheme(wh->uri) : NULL;
    const char *host = wh->uri ? evhttp_uri_get_host(wh->uri) : NULL;
    int https = scheme && strcmp(scheme, "https") == 0;
    if (!scheme || (strcmp(scheme, "http") != 0 && !https) || !host || !*host) {
        snprintf(err, errlen, "webhook_url '%s' must be an http:// or https:// URL with a host", cfg->webhook_url);
        webhook_free(wh);
        return NULL;
    }
    if (https && !(wh->tls = tls_context(cfg->webhook_ca_file, err, errlen))) {
        webhook_free(wh);
        return NULL;
    }
    snprintf(wh->host, sizeof wh->host, "%s", host);
    wh->port = evhttp_uri_get_port(wh->uri) > 0 ? evhttp_uri_get_port(wh->uri) : https ? 443 : 80;
    const char *path = evhttp_uri_get_path(wh->uri), *query = evhttp_uri_get_query(wh->uri);
    snprintf(wh->path, sizeof wh->path, "%s%s%s", path && *path ? path : "/", query ? "?" : "", query ? query : "");
    wh->tick = evtimer_new(base, on_tick, wh);
    if (!wh->tick) {
        webhook_free(wh);
        return NULL;
    }
    pthread_mutex_lock(&registry.lock);
    registry.enabled = 1;
    pthread_mutex_unlock(&registry.lock);
    struct timeval tv = { 0, TICK_MS * 1000 };
    event_add(wh->tick, &tv);
    start_scan(-1, 0, wh);
    log_info("webhook: delivering decisions to %s", cfg->webhook_url);
    return wh;
}

void webhook_stop(struct webhook *wh)
{
    if (!wh)
        return;
    wh->stopping = 1;
    if (wh->tick)
        event_del(wh->tick);
    while (wh->active) {           /* evhttp frees their requests without calling back */
        struct delivery *d = wh->active;
        untrack(d);
        evhttp_connection_free(d->conn);
        free(d);
    }
}

void webhook_free(struct webhook *wh)
{
    if (!wh)
        return;
    if (wh->tick)
        event_free(wh->tick);
    if (wh->uri)
        evhttp_uri_free(wh->uri);
    SSL_CTX_free(wh->tls);
    free(wh->sites);
    free(wh);
    pthread_mutex_lock(&registry.lock);
    for (size_t i = 0; i < registry.n; i++)
        free(registry.names[i]);
    registry.n = 0;
    registry.enabled = 0;
    pthread_mutex_unlock(&registry.lock);
}
