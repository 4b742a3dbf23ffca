/* server.c — listen, route, answer; workers and a clean shutdown.
 *
 * The main thread binds one listening socket, starts `threads` workers (each
 * an event_base + evhttp + store connection accepting on a dup of that
 * socket) and then waits on its own loop for signals, delivered as libevent
 * events: SIGTERM/SIGINT drain (stop accepting, let in-flight requests finish
 * within shutdown_timeout, exit 0), SIGHUP reloads the rules.
 *
 * A request that waits on Redis may lose its client first (libevent issue
 * #997): the connection's close callback only marks the context, and the
 * answer is still handed to evhttp_send_reply, which frees a request whose
 * connection is gone instead of writing to it. */
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

#include "raqib/auth.h"
#include "raqib/authors.h"
#include "raqib/console.h"
#include "raqib/engine.h"
#include "raqib/fleet.h"
#include "raqib/intake.h"
#include "raqib/learner.h"
#include "raqib/live.h"
#include "raqib/reputation.h"
#include "raqib/log.h"
#include "raqib/metrics.h"
#include "raqib/reader.h"
#include "raqib/queue.h"
#include "raqib/rules_api.h"
#include "raqib/akismet.h"
#include "raqib/rules.h"
#include "raqib/spool.h"
#include "raqib/store.h"
#include "raqib/webhook.h"

struct worker {
    int index;
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct store *store;
    struct spool *spool;     /* where accepted submissions wait in an outage */
    struct webhook *webhook;  /* worker 0 only */
    struct fleet *fleet;      /* worker 0 only: follows the other daemons' rule reloads */
    struct learner *learner;  /* worker 0 only: follows the sites' learned counts */
    struct event *wake;      /* activated by the main thread to start the drain */
    struct event *deadline;  /* drain time limit */
    struct event *log_flush; /* writes the round's log lines, after the round's I/O */
    int log_armed;
    int waiting;             /* requests waiting on the store */
    int unsent;              /* answers handed to evhttp, not yet written */
    int draining;
};

static struct {
    struct config *cfg;
    struct worker *workers;
    int nworkers;
    struct event_base *main_base;
    pthread_mutex_t rules_lock;
    struct ruleset *rules;
    struct live *live;
    struct reputation *reputation;
} server = { .rules_lock = PTHREAD_MUTEX_INITIALIZER };

const struct config *server_config(void) { return server.cfg; }

struct store *request_store(const struct request_ctx *ctx) { return ctx->worker->store; }

struct live *server_live(void) { return server.live; }

struct reputation *server_reputation(void) { return server.reputation; }

struct spool *request_spool(const struct request_ctx *ctx) { return ctx->worker->spool; }

struct ruleset *server_rules_acquire(void)
{
    pthread_mutex_lock(&server.rules_lock);
    struct ruleset *rs = ruleset_retain(server.rules);
    pthread_mutex_unlock(&server.rules_lock);
    return rs;
}

void server_rules_swap(struct ruleset *rs)
{
    pthread_mutex_lock(&server.rules_lock);
    struct ruleset *old = server.rules;
    server.rules = rs;
    pthread_mutex_unlock(&server.rules_lock);
    if (old)
        ruleset_release(old);
}

/* --- request helpers ---------------------------------------------------- */

static void release(struct request_ctx *ctx);

static const char *method_name(enum evhttp_cmd_type m)
{
    switch (m) {
    case EVHTTP_REQ_GET: return "GET";
    case EVHTTP_REQ_POST: return "POST";
    case EVHTTP_REQ_PUT: return "PUT";
    case EVHTTP_REQ_DELETE: return "DELETE";
    case EVHTTP_REQ_HEAD: return "HEAD";
    case EVHTTP_REQ_PATCH: return "PATCH";
    case EVHTTP_REQ_OPTIONS: return "OPTIONS";
    default: return "OTHER";
    }
}

static double elapsed_seconds(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* The connection closed: before our answer, note it (evhttp detaches the
 * request and frees it at evhttp_send_reply); after it, the answer will never
 * complete, so let the context go. */
static void on_conn_closed(struct evhttp_connection *conn, void *arg)
{
    (void)conn;
    struct request_ctx *ctx = arg;
    if (ctx->replied)
        release(ctx);
    else
        ctx->client_gone = 1;
}

/* The answer was written out: the context is no longer needed. */
static void on_sent(struct evhttp_request *req, void *arg)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    if (conn)
        evhttp_connection_set_closecb(conn, NULL, NULL);
    release(arg);
}

void http_begin_wait(struct request_ctx *ctx)
{
    ctx->waiting = 1;
    ctx->worker->waiting++;
    struct evhttp_connection *conn = evhttp_request_get_connection(ctx->req);
    if (conn)
        evhttp_connection_set_closecb(conn, on_conn_closed, ctx);
}

/* A draining worker stops once nothing waits on the store and every answer
 * has been written out. */
static void maybe_finish_drain(struct worker *w)
{
    if (w->draining && w->waiting == 0 && w->unsent == 0)
        event_base_loopexit(w->base, NULL);
}

static void release(struct request_ctx *ctx)
{
    struct worker *w = ctx->worker;
    w->unsent--;
    free(ctx);
    maybe_finish_drain(w);
}

/* The access lines of a loop round go out in one write: on_log_flush has
 * the lowest priority, so it runs once the I/O callbacks before it are
 * done (log.c writes a batch that is full or old by itself). */
static void on_log_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct worker *w = arg;
    w->log_armed = 0;
    log_flush();
}

static void arm_log_flush(struct worker *w)
{
    if (!w->log_armed) {
        w->log_armed = 1;
        event_active(w->log_flush, EV_TIMEOUT, 1);
    }
}

/* Log and count the answer, then hand it to evhttp. The context lives on
 * until the answer is written (on_sent) or the connection dies. */
static void send_answer(struct request_ctx *ctx, int status)
{
    struct worker *w = ctx->worker;
    double secs = elapsed_seconds(&ctx->start);
    metrics_request(ctx->route, ctx->client_gone ? 499 : status, secs);
    const char *uri = evhttp_request_get_uri(ctx->req);
    struct log_request line = { method_name(evhttp_request_get_command(ctx->req)), uri ? uri : "-", status,
                                secs > 0 ? (long)(secs * 1e6 + 0.5) : 0, ctx->id, ctx->client_gone };
    log_request(&line);
    arm_log_flush(w);
    if (ctx->waiting) {
        ctx->waiting = 0;
        w->waiting--;
    }
    struct evhttp_connection *conn = ctx->client_gone ? NULL : evhttp_request_get_connection(ctx->req);
    ctx->replied = 1;
    if (conn) {
        w->unsent++;
        evhttp_request_set_on_complete_cb(ctx->req, on_sent, ctx);
        evhttp_connection_set_closecb(conn, on_conn_closed, ctx);
        evhttp_send_reply(ctx->req, status, NULL, NULL);
        return;
    }
    evhttp_send_reply(ctx->req, status, NULL, NULL);   /* frees a detached request */
    free(ctx);
    maybe_finish_drain(w);
}

void http_add_header(struct request_ctx *ctx, const char *name, const char *value)
{
    evhttp_add_header(evhttp_request_get_output_headers(ctx->req), name, value);
}

void http_reply_text(struct request_ctx *ctx, int status, const char *content_type, const char *text, size_t len)
{
    struct evbuffer *out = evhttp_request_get_output_buffer(ctx->req);
    evhttp_add_header(evhttp_request_get_output_headers(ctx->req), "Content-Type", content_type);
    evbuffer_add(out, text, len);
    send_answer(ctx, status);
}

void http_reply_json(struct request_ctx *ctx, int status, json_t *body)
{
    /* Most answers fit the stack buffer: no allocation for the text. */
    char small[4096], *text = small;
    size_t len = body ? json_dumpb(body, small, sizeof small, JSON_COMPACT) : 0;
    if (body && len > sizeof small) {
        text = json_dumps(body, JSON_COMPACT);
        len = text ? strlen(text) : 0;
    }
    json_decref(body);
    if (!text || len == 0) {
        static const char oom[] = "{\"error\":\"internal\",\"message\":\"out of memory\"}";
        if (text != small)
            free(text);
        http_reply_text(ctx, 500, "application/json", oom, sizeof oom - 1);
        return;
    }
    struct evbuffer *out = evhttp_request_get_output_buffer(ctx->req);
    evbuffer_add(out, text, len);
    evbuffer_add(out, "\n", 1);
    if (text != small)
        free(text);
    evhttp_add_header(evhttp_request_get_output_headers(ctx->req), "Content-Type", "application/json");
    send_answer(ctx, status);
}

void http_reply_error(struct request_ctx *ctx, int status, const char *code, const char *message)
{
    http_reply_json(ctx, status, json_pack("{s:s, s:s}", "error", code, "message", message));
}

const char *http_header(const struct request_ctx *ctx, const char *name)
{
    return evhttp_find_header(evhttp_request_get_input_headers(ctx->req), name);
}

void http_peer(const struct request_ctx *ctx, char *buf, size_t len)
{
    char *addr = NULL;
    ev_uint16_t port = 0;
    struct evhttp_connection *conn = evhttp_request_get_connection(ctx->req);
    if (conn)
        evhttp_connection_get_peer(conn, &addr, &port);
    snprintf(buf, len, "%s", addr ? addr : "");
}

const char *http_body(struct request_ctx *ctx, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(ctx->req);
    *len = evbuffer_get_length(in);
    if (*len == 0)
        return "";
    return (const char *)evbuffer_pullup(in, -1);
}

char *http_query(const struct request_ctx *ctx, const char *name)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ctx->req);
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    if (!query)
        return NULL;
    struct evkeyvalq params;
    TAILQ_INIT(&params);
    if (evhttp_parse_query_str(query, &params) < 0)
        return NULL;
    const char *v = evhttp_find_header(&params, name);
    char *copy = v ? strdup(v) : NULL;
    evhttp_clear_headers(&params);
    return copy;
}

const char *http_path(const struct request_ctx *ctx)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(ctx->req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    return path ? path : "/";
}

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
    maybe_finish_drain(w);
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
    server_rules_swap(rs);
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
    w->log_flush = event_new(w->base, -1, 0, on_log_flush, w);
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
    if (index == 0 && !(w->learner = learner_start(w->base, w->store, server.live, server.reputation,
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
        server_rules_swap(rs);
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
    server.cfg = cfg;
    server.rules = rules;
    signal(SIGPIPE, SIG_IGN);
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
    if (!(server.live = live_new((size_t)cfg->learn_max_tokens)) ||
        !(server.reputation = reputation_new((size_t)cfg->reputation_max_authors)))
        goto out;
    if (!cfg->author_key)
        log_info("commenter reputation is off: set author_key to know returning commenters (docs/reputation.md)");
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
    server_rules_swap(NULL);
    live_free(server.live);
    server.live = NULL;
    reputation_free(server.reputation);
    server.reputation = NULL;
    if (rc == 0)
        log_info("raqibd stopped cleanly");
    return rc;
}
