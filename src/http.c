/* http.c — answering a request: the request context handlers work with
 * (http.h), its log line and metrics, and the accounting a worker's drain
 * waits on.
 *
 * A request that waits on Redis may lose its client first (libevent issue
 * #997): the connection's close callback only marks the context, and the
 * answer is still handed to evhttp_send_reply, which frees a request whose
 * connection is gone instead of writing to it. */
#include "raqib/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "raqib/log.h"
#include "raqib/metrics.h"
#include "raqib/worker.h"

struct store *request_store(const struct request_ctx *ctx) { return ctx->worker->store; }

struct spool *request_spool(const struct request_ctx *ctx) { return ctx->worker->spool; }

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

void worker_maybe_finish_drain(struct worker *w)
{
    if (w->draining && w->waiting == 0 && w->unsent == 0)
        event_base_loopexit(w->base, NULL);
}

static void release(struct request_ctx *ctx)
{
    struct worker *w = ctx->worker;
    w->unsent--;
    free(ctx);
    worker_maybe_finish_drain(w);
}

/* The access lines of a loop round go out in one write: worker_on_log_flush has
 * the lowest priority, so it runs once the I/O callbacks before it are
 * done (log.c writes a batch that is full or old by itself). */
void worker_on_log_flush(evutil_socket_t fd, short what, void *arg)
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
    worker_maybe_finish_drain(w);
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

