/* server.c — listen, route, answer; workers and a clean shutdown.
 *
 * The main thread binds one listening socket, starts `threads` workers (each
 * an event_base + evhttp + store connection accepting on a dup of that
 * socket) and then waits on its own loop for signals, delivered as libevent
 * events: SIGTERM/SIGINT drain (stop accepting, let in-flight requests finish
 * within shutdown_timeout, exit 0), SIGHUP reloads the rules. Requests are answered through http.c; handlers never call back into
 * this file. */
#include "raqib/server.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <event2/thread.h>
#include <event2/util.h>

#include "raqib/akismet.h"
#include "raqib/auth.h"
#include "raqib/authors.h"
#include "raqib/console.h"
#include "raqib/engine.h"
#include "raqib/fleet.h"
#include "raqib/http.h"
#include "raqib/intake.h"
#include "raqib/learner.h"
#include "raqib/live.h"
#include "raqib/reputation.h"
#include "raqib/log.h"
#include "raqib/metrics.h"
#include "raqib/queue.h"
#include "raqib/reader.h"
#include "raqib/rules.h"
#include "raqib/rules_api.h"
#include "raqib/runtime.h"
#include "raqib/spool.h"
#include "raqib/store.h"
#include "raqib/webhook.h"
#include "raqib/worker.h"


static struct {
    struct config *cfg;
    struct worker *workers;
    int nworkers;
    struct event_base *main_base;
} server;

/* --- operational endpoints ---------------------------------------------- */

static void handle_healthz(struct request_ctx *ctx)
{
    http_reply_json(ctx, 200, json_pack("{s:s}", "status", "ok"));
}

static void on_ready_ping(void *arg, const struct store_hash *h)
{
    struct request_ctx *ctx = arg;
    json_int_t depth = spool_depth_total();
    if (h->failed)
        http_reply_json(ctx, 503, json_pack("{s:s, s:s, s:i, s:s, s:I}", "error", "unavailable", "message",
                                            "the store does not answer", "retry_after", 1, "store", h->error,
                                            "spool_depth", depth));
    else
        http_reply_json(ctx, 200, json_pack("{s:s, s:b, s:b, s:I}", "status", "ready", "rules", 1, "store", 1,
                                            "spool_depth", depth));
}

static void handle_readyz(struct request_ctx *ctx)
{
    http_begin_wait(ctx);
    if (store_ping(ctx->worker->store, on_ready_ping, ctx) < 0)
        http_reply_json(ctx, 503, json_pack("{s:s, s:s, s:i, s:I}", "error", "unavailable", "message",
                                            "the store is not connected; accepted comments wait in the spool",
                                            "retry_after", 1, "spool_depth", (json_int_t)spool_depth_total()));
}

static void handle_metrics(struct request_ctx *ctx)
{
    int up = 1;
    for (int i = 0; i < server.nworkers; i++)
        up &= store_is_ready(server.workers[i].store);
    metrics_set_store_up(up);
    size_t len;
    char *text = metrics_render(&len);
    if (!text) {
        http_reply_error(ctx, 500, "internal", "out of memory");
        return;
    }
    http_reply_text(ctx, 200, "text/plain; version=0.0.4", text, len);
    free(text);
}

/* --- the moderator console ----------------------------------------------- */

/* Every console answer forbids inline script, eval, framing and sniffing:
 * the page shows untrusted comment text, so a slip in it must not run. */
static void console_headers(struct request_ctx *ctx)
{
    http_add_header(ctx, "Content-Security-Policy",
                    "default-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
    http_add_header(ctx, "X-Content-Type-Options", "nosniff");
    http_add_header(ctx, "Referrer-Policy", "no-referrer");
    http_add_header(ctx, "X-Frame-Options", "DENY");
    http_add_header(ctx, "Cache-Control", "no-cache");
}

/* GET /console/, /console/FILE; "/" and "/console" lead there. */
static void handle_console(struct request_ctx *ctx)
{
    const char *path = http_path(ctx);
    console_headers(ctx);
    if (strcmp(path, "/") == 0 || strcmp(path, "/console") == 0) {
        http_add_header(ctx, "Location", "/console/");
        http_reply_error(ctx, 308, "moved", "the moderator console is at /console/");
        return;
    }
    const struct console_asset *a = console_find(path + strlen("/console/"));
    if (!a) {
        http_reply_error(ctx, 404, "not_found", "no such console file");
        return;
    }
    http_reply_text(ctx, 200, a->type, (const char *)a->data, a->len);
}

/* GET /v1/whoami: what the console shows this caller. */
static void handle_whoami(struct request_ctx *ctx)
{
    json_t *sites = json_array();
    const char *p = server.cfg->sites;
    while (*p) {
        p += strspn(p, " \t");
        size_t n = strcspn(p, " \t");
        if (n)
            json_array_append_new(sites, json_stringn(p, n));
        p += n;
    }
    int dev = auth_dev_mode(server.cfg);
    http_reply_json(ctx, 200, json_pack("{s:s, s:s, s:b, s:o}", "role", role_name(ctx->role), "name",
                                        ctx->token ? ctx->token->name : "dev", "development", dev, "sites", sites));
}

/* --- routing --------------------------------------------------------------- */

/* A route's path is literal segments and at most one "{id}" segment,
 * which matches one non-empty segment and lands in ctx->param. */
struct route {
    enum evhttp_cmd_type method;
    const char *path;
    enum role min_role;     /* ROLE_NONE: open to all, or the handler checks */
    void (*handle)(struct request_ctx *ctx);
    const char *label;
};

static const struct route routes[] = {
    { EVHTTP_REQ_POST, "/v1/comments", ROLE_SUBMIT, intake_handle, "POST /v1/comments" },
    { EVHTTP_REQ_GET, "/v1/comments/{id}", ROLE_SUBMIT, reader_handle_comment, "GET /v1/comments/{id}" },
    { EVHTTP_REQ_POST, "/v1/check", ROLE_SUBMIT, intake_check, "POST /v1/check" },
    { EVHTTP_REQ_GET, "/v1/queue", ROLE_MODERATE, queue_list, "GET /v1/queue" },
    { EVHTTP_REQ_POST, "/v1/queue/claim", ROLE_MODERATE, queue_claim, "POST /v1/queue/claim" },
    { EVHTTP_REQ_POST, "/v1/queue/renew", ROLE_MODERATE, queue_renew, "POST /v1/queue/renew" },
    { EVHTTP_REQ_POST, "/v1/queue/release", ROLE_MODERATE, queue_release, "POST /v1/queue/release" },
    { EVHTTP_REQ_POST, "/v1/comments/{id}/decision", ROLE_MODERATE, queue_decide, "POST /v1/comments/{id}/decision" },
    { EVHTTP_REQ_POST, "/v1/decisions", ROLE_MODERATE, queue_decide_many, "POST /v1/decisions" },
    { EVHTTP_REQ_GET, "/v1/decisions", ROLE_SUBMIT, feed_list, "GET /v1/decisions" },
    { EVHTTP_REQ_POST, "/v1/authors/decision", ROLE_MODERATE, authors_decide, "POST /v1/authors/decision" },
    { EVHTTP_REQ_GET, "/v1/authors", ROLE_MODERATE, authors_list, "GET /v1/authors" },
    { EVHTTP_REQ_DELETE, "/v1/authors", ROLE_ADMIN, authors_erase, "DELETE /v1/authors" },
    { EVHTTP_REQ_GET, "/v1/rules", ROLE_ADMIN, rules_api_list, "GET /v1/rules" },
    { EVHTTP_REQ_POST, "/v1/rules/reload", ROLE_ADMIN, rules_api_reload, "POST /v1/rules/reload" },
    { EVHTTP_REQ_POST, "/1.1/verify-key", ROLE_NONE, akismet_verify_key, "POST /1.1/verify-key" },
    { EVHTTP_REQ_POST, "/1.1/comment-check", ROLE_NONE, akismet_comment_check, "POST /1.1/comment-check" },
    { EVHTTP_REQ_POST, "/1.1/submit-spam", ROLE_NONE, akismet_submit_spam, "POST /1.1/submit-spam" },
    { EVHTTP_REQ_POST, "/1.1/submit-ham", ROLE_NONE, akismet_submit_ham, "POST /1.1/submit-ham" },
    { EVHTTP_REQ_GET, "/healthz", ROLE_NONE, handle_healthz, "GET /healthz" },
    { EVHTTP_REQ_GET, "/readyz", ROLE_NONE, handle_readyz, "GET /readyz" },
    { EVHTTP_REQ_GET, "/metrics", ROLE_NONE, handle_metrics, "GET /metrics" },
    { EVHTTP_REQ_GET, "/v1/whoami", ROLE_SUBMIT, handle_whoami, "GET /v1/whoami" },
    { EVHTTP_REQ_GET, "/", ROLE_NONE, handle_console, "GET /console/" },
    { EVHTTP_REQ_GET, "/console", ROLE_NONE, handle_console, "GET /console/" },
    { EVHTTP_REQ_GET, "/console/", ROLE_NONE, handle_console, "GET /console/" },
    { EVHTTP_REQ_GET, "/console/{id}", ROLE_NONE, handle_console, "GET /console/" },
};
#define NROUTES (sizeof routes / sizeof routes[0])

/* Match path against a route pattern; the {id} segment goes to param. */
static int path_matches(const struct route *r, const char *path, char *param, size_t paramlen)
{
    const char *pat = r->path, *p = path;
    param[0] = '\0';
    while (*pat) {
        if (strncmp(pat, "{id}", 4) == 0) {
            size_t n = strcspn(p, "/");
            if (n == 0 || n >= paramlen)
                return 0;
            memcpy(param, p, n);
            param[n] = '\0';
            p += n;
            pat += 4;
            continue;
        }
        if (*pat != *p)
            return 0;
        pat++;
        p++;
    }
    return *p == '\0';
}

/* A browser form posted straight to us, allowed by public_forms. */
static int anonymous_form_allowed(const struct request_ctx *ctx, const struct route *r)
{
    if (!server.cfg->public_forms || r->handle != intake_handle || http_header(ctx, "Authorization"))
        return 0;
    const char *type = http_header(ctx, "Content-Type");
    return type && strncasecmp(type, "application/x-www-form-urlencoded", 33) == 0;
}

static void dispatch(struct request_ctx *ctx)
{
    const char *path = http_path(ctx);
    enum evhttp_cmd_type method = evhttp_request_get_command(ctx->req);
    const struct route *found = NULL;
    int path_known = 0;
    for (size_t i = 0; i < NROUTES && !found; i++) {
        if (!path_matches(&routes[i], path, ctx->param, sizeof ctx->param))
            continue;
        path_known = 1;
        if (routes[i].method == method)
            found = &routes[i];
    }
    if (!found) {
        ctx->route = path_known ? "method not allowed" : "not found";
        if (path_known)
            http_reply_error(ctx, 405, "method_not_allowed", "this path does not accept that method");
        else
            http_reply_error(ctx, 404, "not_found", "no such endpoint");
        return;
    }
    ctx->route = found->label;
    if (found->min_role != ROLE_NONE) {
        ctx->role = auth_role(server.cfg, http_header(ctx, "Authorization"), &ctx->token);
        if (ctx->role == ROLE_NONE && anonymous_form_allowed(ctx, found)) {
            ctx->role = ROLE_NONE;   /* anonymous browser form: intake ignores any ip field */
        } else if (ctx->role == ROLE_NONE) {
            http_add_header(ctx, "WWW-Authenticate", "Bearer");
            http_reply_error(ctx, 401, "unauthorized", "a valid 'Authorization: Bearer TOKEN' header is required");
            return;
        } else if (ctx->role < found->min_role) {
            http_reply_error(ctx, 403, "forbidden", "this token's role may not call this endpoint");
            return;
        }
    }
    found->handle(ctx);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct worker *w = arg;
    struct request_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx) {
        evhttp_send_error(req, 500, "out of memory");
        return;
    }
    ctx->worker = w;
    ctx->req = req;
    ctx->route = "unknown";
    clock_gettime(CLOCK_MONOTONIC, &ctx->start);
    dispatch(ctx);
}

/* --- workers ------------------------------------------------------------------ */

static void on_drain_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    log_warn("worker %d: %d request(s) still waiting after shutdown_timeout; closing", w->index, w->waiting);
    event_base_loopexit(w->base, NULL);
}

/* Main thread asked us to stop: accept nothing more, finish what is open. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    if (w->draining)
        return;
    w->draining = 1;
    if (w->bound) {
        evhttp_del_accept_socket(w->http, w->bound);
        w->bound = NULL;
    }
    struct timeval tv = { server.cfg->shutdown_timeout, 0 };
    event_add(w->deadline, &tv);
    worker_maybe_finish_drain(w);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    log_batch_begin();
    event_base_dispatch(w->base);
    log_batch_end();
    engine_thread_done();   /* this thread's PCRE2 scratch */
    return NULL;
}

/* A worker's event loop. With the epoll changelist libevent gathers the
 * event_add/event_del calls of one loop turn and applies only their net
 * effect: evhttp switches a connection between reading and writing several
 * times per request, and without it each switch is an epoll_ctl system call
 * (about a fifth of a worker's time under load, by perf). The changelist is
 * unsafe only with dup()ed descriptors, so the workers share the listening
 * socket itself (worker_listen) rather than copies of it. */
static struct event_base *worker_base_new(void)
{
    struct event_config *conf = event_config_new();
    if (!conf)
        return NULL;
    struct event_base *base = NULL;
    if (event_config_set_flag(conf, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST) == 0)
        base = event_base_new_with_config(conf);
    event_config_free(conf);
    return base;
}

/* Accept on the shared listening socket from w's loop. The socket is not
 * closed when the worker stops accepting (drain): the others still use it,
 * and server_run closes it last. */
static int worker_listen(struct worker *w, evutil_socket_t listener)
{
    struct evconnlistener *lev = evconnlistener_new(w->base, NULL, NULL, LEV_OPT_REUSEABLE, 0, listener);
    if (!lev)
        return -1;
    w->bound = evhttp_bind_listener(w->http, lev);
    if (!w->bound) {
        evconnlistener_free(lev);
        return -1;
    }
    return 0;
}

/* Another daemon of the service reloaded: load our own folder the same way
 * SIGHUP does (a broken set is refused and the running rules stay). */
static int follow_reload(void *arg, long long version, char *err, size_t errlen)
{
    (void)arg;
    struct ruleset *rs = ruleset_load(server.cfg->rules, err, errlen);
    if (!rs) {
        log_error("rule reload for version %lld refused, the running rules stay: %s", version, err);
        return -1;
    }
    log_info("rules reloaded from %s for version %lld: %zu rules", server.cfg->rules, version, ruleset_size(rs));
    runtime_rules_swap(rs);
    return 0;
}

static int worker_init(struct worker *w, int index, evutil_socket_t listener, char *err, size_t errlen)
{
    const struct config *cfg = server.cfg;
    w->index = index;
    w->base = worker_base_new();
    /* Three priorities: everything at the default (1), the log flush after. */
    if (!w->base || event_base_priority_init(w->base, 3) < 0)
        goto fail;
    w->http = evhttp_new(w->base);
    w->wake = event_new(w->base, -1, 0, on_wake, w);
    w->deadline = evtimer_new(w->base, on_drain_deadline, w);
    w->log_flush = event_new(w->base, -1, 0, worker_on_log_flush, w);
    if (!w->http || !w->wake || !w->deadline || !w->log_flush || event_priority_set(w->log_flush, 2) < 0)
        goto fail;
    /* Bodies between max_body and twice that get our own JSON 413. */
    evhttp_set_max_body_size(w->http, cfg->max_body * 2);
    evhttp_set_max_headers_size(w->http, cfg->max_headers);
    evhttp_set_timeout(w->http, (int)cfg->read_timeout);
    evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH);
    evhttp_set_default_content_type(w->http, "application/json");
    evhttp_set_gencb(w->http, on_request, w);
    if (worker_listen(w, listener) < 0)
        goto fail;
    w->store = store_new(w->base, cfg, err, errlen);
    if (!w->store)
        return -1;
    w->spool = spool_open(w->base, w->store, cfg->spool, index, (int)server.nworkers);
    if (!w->spool)
        goto fail;
    store_on_ready(w->store, spool_kick, w->spool);
    if (index == 0 && !(w->fleet = fleet_start(w->base, w->store, follow_reload, NULL)))
        goto fail;
    if (index == 0 && !(w->learner = learner_start(w->base, w->store, runtime_live(), runtime_reputation(),
                                                   cfg->learn_poll_ms)))
        goto fail;
    if (index == 0 && cfg->webhook_url) {
        w->webhook = webhook_start(w->base, w->store, cfg, err, errlen);
        if (!w->webhook)
            return -1;
    }
    return 0;
fail:
    snprintf(err, errlen, "worker %d: cannot set up its event loop", index);
    return -1;
}

static void worker_free(struct worker *w)
{
    webhook_stop(w->webhook);
    fleet_stop(w->fleet);
    learner_stop(w->learner);
    if (w->store)
        store_free(w->store);
    learner_free(w->learner);
    fleet_free(w->fleet);
    spool_free(w->spool);   /* after the store: it may still call back into the spool */
    webhook_free(w->webhook);
    if (w->http)
        evhttp_free(w->http);
    if (w->wake)
        event_free(w->wake);
    if (w->deadline)
        event_free(w->deadline);
    if (w->log_flush)
        event_free(w->log_flush);
    if (w->base)
        event_base_free(w->base);
}

/* Bind the listening socket for cfg->listen. */
static evutil_socket_t open_listener(const char *where, char *err, size_t errlen)
{
    char host[256];
    int port;
    struct sockaddr_storage ss;
    int sslen = sizeof ss;
    if (config_split_listen(where, host, sizeof host, &port) < 0) {
        snprintf(err, errlen, "listen '%s' is not HOST:PORT", where);
        return -1;
    }
    char spec[300];
    snprintf(spec, sizeof spec, strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
    if (evutil_parse_sockaddr_port(spec, (struct sockaddr *)&ss, &sslen) < 0) {
        snprintf(err, errlen, "listen '%s': the host must be an IP address", where);
        return -1;
    }
    evutil_socket_t fd = socket(ss.ss_family, SOCK_STREAM, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    evutil_make_listen_socket_reuseable(fd);
    if (evutil_make_socket_nonblocking(fd) < 0 || bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) < 0 ||
        listen(fd, 1024) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", where, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Development mode must not be reachable from the network. */
static int is_loopback(const char *listen)
{
    char host[256];
    int port;
    if (config_split_listen(listen, host, sizeof host, &port) < 0)
        return 0;
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 || strcmp(host, "localhost") == 0;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    if (sig == SIGHUP) {
        char err[1024];
        struct ruleset *rs = ruleset_load(server.cfg->rules, err, sizeof err);
        if (!rs) {
            log_error("rule reload refused, the running rules stay: %s", err);
            return;
        }
        log_info("rules reloaded from %s: %zu rules", server.cfg->rules, ruleset_size(rs));
        runtime_rules_swap(rs);
        fleet_announce();
        return;
    }
    log_info("%s: draining in-flight requests (up to %lds)", sig == SIGTERM ? "SIGTERM" : "SIGINT",
             server.cfg->shutdown_timeout);
    for (int i = 0; i < server.nworkers; i++)
        event_active(server.workers[i].wake, 0, 0);
    event_base_loopexit(server.main_base, NULL);
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

int server_run(struct config *cfg, struct ruleset *rules)
{
    char err[512];
    int rc = 1, started = 0;
    evutil_socket_t listener = -1;
    struct event *sigs[3] = { 0 };
    struct live *live = live_new((size_t)cfg->learn_max_tokens);
    struct reputation *rep = reputation_new((size_t)cfg->reputation_max_authors);
    server.cfg = cfg;
    runtime_start(cfg, rules, live, rep);
    signal(SIGPIPE, SIG_IGN);
    if (!live || !rep) {
        log_error("out of memory");
        goto out;
    }
    if (!cfg->author_key)
        log_info("commenter reputation is off: set author_key to know returning commenters (docs/reputation.md)");
    if (auth_dev_mode(cfg) && !is_loopback(cfg->listen)) {
        log_error("no tokens are configured (development mode), so raqibd binds loopback only; "
                  "listen is '%s': add 'token ROLE NAME SECRET' lines or listen on 127.0.0.1", cfg->listen);
        goto out;
    }
    if (evthread_use_pthreads() < 0) {
        log_error("libevent has no pthreads support");
        goto out;
    }
    listener = open_listener(cfg->listen, err, sizeof err);
    if (listener < 0) {
        log_error("%s", err);
        goto out;
    }
    server.nworkers = cfg->threads > 0 ? (int)cfg->threads : default_threads();
    server.workers = calloc((size_t)server.nworkers, sizeof *server.workers);
    server.main_base = event_base_new();
    if (!server.workers || !server.main_base)
        goto out;
    for (int i = 0; i < server.nworkers; i++) {
        if (worker_init(&server.workers[i], i, listener, err, sizeof err) < 0) {
            log_error("%s", err);
            goto out;
        }
    }
    const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
    for (int i = 0; i < 3; i++) {
        sigs[i] = evsignal_new(server.main_base, signums[i], on_signal, NULL);
        if (!sigs[i] || event_add(sigs[i], NULL) < 0)
            goto out;
    }
    for (; started < server.nworkers; started++)
        if (pthread_create(&server.workers[started].thread, NULL, worker_main, &server.workers[started]) != 0)
            goto out;
    if (auth_dev_mode(cfg))
        log_warn("DEVELOPMENT MODE: no tokens configured; every caller is admin. Loopback only.");
    log_info("raqibd listening on http://%s/ with %d worker(s), %zu rules from %s", cfg->listen, server.nworkers,
             ruleset_size(rules), cfg->rules);
    event_base_dispatch(server.main_base);
    /* Draining: a repeated SIGTERM (or a late SIGHUP) must not kill us
     * half-way; a second Ctrl-C still does. event_free restores the old
     * handlers, so the events go first. */
    for (int i = 0; i < 3; i++) {
        event_free(sigs[i]);
        sigs[i] = NULL;
    }
    signal(SIGTERM, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    rc = 0;
out:
    for (int i = 0; i < started; i++) {
        if (rc != 0)
            event_active(server.workers[i].wake, 0, 0);
        pthread_join(server.workers[i].thread, NULL);
    }
    for (int i = 0; server.workers && i < server.nworkers; i++)
        worker_free(&server.workers[i]);
    free(server.workers);
    for (int i = 0; i < 3; i++)
        if (sigs[i])
            event_free(sigs[i]);
    if (server.main_base)
        event_base_free(server.main_base);
    if (listener >= 0)
        close(listener);
    runtime_stop();
    if (rc == 0)
        log_info("raqibd stopped cleanly");
    return rc;
}
