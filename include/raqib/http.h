/* http.h — what a request handler (intake.c, queue.c, reader.c, …) works
 * with: the request context and the calls that read the request and answer
 * it. A handler either answers at once or starts store work and answers
 * from its callback; http_reply_* ends the request (log line, metrics,
 * free) exactly once. Implemented by http.c; the HTTP front (server.c)
 * routes requests to the handlers, never the reverse. */
#ifndef RAQIB_HTTP_H
#define RAQIB_HTTP_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "raqib/config.h"

struct evhttp_request;
struct store;
struct spool;
struct worker;

struct request_ctx {
    struct worker *worker;
    struct evhttp_request *req;
    const char *route;          /* metrics label, e.g. "POST /v1/comments" */
    struct timespec start;
    enum role role;
    const struct token *token;  /* NULL in development mode / anonymous */
    int client_gone;            /* the connection closed while we waited */
    int waiting;                /* store work in flight (counted for drain) */
    int replied;                /* the answer was handed to evhttp */
    char id[32];                /* comment id, for the log line */
    char param[128];            /* the {id} segment of the route's path */
};

/* This request's worker's store connection. */
struct store *request_store(const struct request_ctx *ctx);

/* This request's worker's outage spool (spool.h). */
struct spool *request_spool(const struct request_ctx *ctx);

/* Mark ctx as waiting on the store (tracks client close and the drain). */
void http_begin_wait(struct request_ctx *ctx);

/* Answer and end the request. reply_json takes over body. */
void http_reply_json(struct request_ctx *ctx, int status, json_t *body);
void http_reply_error(struct request_ctx *ctx, int status, const char *code, const char *message);
void http_reply_text(struct request_ctx *ctx, int status, const char *content_type, const char *text, size_t len);
void http_add_header(struct request_ctx *ctx, const char *name, const char *value);

/* The request's header value, or NULL. */
const char *http_header(const struct request_ctx *ctx, const char *name);

/* The peer's address as text. */
void http_peer(const struct request_ctx *ctx, char *buf, size_t len);

/* The whole request body, contiguous (owned by the request), and its length. */
const char *http_body(struct request_ctx *ctx, size_t *len);

/* A query parameter of the request URI (malloc'd, caller frees) or NULL. */
char *http_query(const struct request_ctx *ctx, const char *name);

/* The path, without the query. */
const char *http_path(const struct request_ctx *ctx);

#endif
