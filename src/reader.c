/* reader.c — GET /v1/comments/{id}[?site=S]: one stored comment.
 *
 * Reads the item hash and shapes it into the api.md fields. `email` and `ip`
 * are moderator-only: a submit-role caller never sees them. Times are stored
 * as unix milliseconds and shown as RFC 3339 UTC. */
#include "raqib/reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "raqib/authors.h"
#include "raqib/feed.h"
#include "raqib/http.h"
#include "raqib/id.h"
#include "raqib/store.h"

struct lookup {
    struct request_ctx *ctx;
    enum role role;
};

static const char *value_of(const struct store_hash *h, const char *name, size_t *len)
{
    for (size_t i = 0; i < h->n; i++) {
        if (strcmp(h->names[i], name) == 0) {
            if (len)
                *len = h->lens[i];
            return h->values[i];
        }
    }
    return NULL;
}

/* Copy a text field into obj (null when absent). */
static void put_text(json_t *obj, const struct store_hash *h, const char *name)
{
    size_t len = 0;
    const char *v = value_of(h, name, &len);
    json_object_set_new(obj, name, v ? json_stringn(v, len) : json_null());
}

static void put_time(json_t *obj, const struct store_hash *h, const char *name)
{
    const char *v = value_of(h, name, NULL);
    char buf[64];
    if (v)
        feed_format_time(v, buf, sizeof buf);
    json_object_set_new(obj, name, v ? json_string(buf) : json_null());
}

json_t *reader_item_json(const struct store_hash *h, enum role role)
{
    json_t *obj = json_object();
    if (!obj)
        return NULL;
    static const char *const texts[] = { "id", "site", "post_id", "parent_id", "author", "url", "content",
                                         "status", "decided_by", "reason", "user_agent", "referrer", "lang" };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
        put_text(obj, h, texts[i]);
    if (role >= ROLE_MODERATE) {
        put_text(obj, h, "email");
        put_text(obj, h, "ip");
        /* What moderators decided about this commenter before (the console
         * shows it beside the comment); absent when not known by a hash. */
        json_t *record = authors_item_record(value_of(h, "site", NULL), value_of(h, "author_hash", NULL));
        if (record)
            json_object_set_new(obj, "author_history", record);
    }
    const char *score = value_of(h, "score", NULL);
    double s = score ? atof(score) : 0;
    json_object_set_new(obj, "score", s == (double)(long long)s ? json_integer((json_int_t)s) : json_real(s));
    const char *matches = value_of(h, "matches", NULL);
    json_t *m = matches ? json_loads(matches, 0, NULL) : NULL;
    json_object_set_new(obj, "matches", m ? m : json_array());
    put_time(obj, h, "created_at");
    put_time(obj, h, "decided_at");
    return obj;
}

static void on_comment(void *arg, const struct store_hash *h)
{
    struct lookup *l = arg;
    struct request_ctx *ctx = l->ctx;
    if (h->failed) {
        http_add_header(ctx, "Retry-After", "1");
        http_reply_json(ctx, 503, json_pack("{s:s, s:s, s:i}", "error", "unavailable", "message",
                                            "the store did not answer; retry shortly", "retry_after", 1));
    } else if (h->n == 0) {
        http_reply_error(ctx, 404, "not_found", "no comment with this id on this site");
    } else {
        http_reply_json(ctx, 200, reader_item_json(h, l->role));
    }
    free(l);
}

void reader_handle_comment(struct request_ctx *ctx)
{
    const char *id = ctx->param;
    char *site = http_query(ctx, "site");
    const char *s = site && site[0] ? site : "default";
    if (!id_valid(id) || !id_site_valid(s)) {
        free(site);
        http_reply_error(ctx, 404, "not_found", "no comment with this id on this site");
        return;
    }
    memcpy(ctx->id, id, ID_LEN + 1);   /* id_valid: exactly ID_LEN characters */
    struct lookup *l = malloc(sizeof *l);
    if (!l) {
        free(site);
        http_reply_error(ctx, 500, "internal", "out of memory");
        return;
    }
    *l = (struct lookup){ ctx, ctx->role };
    http_begin_wait(ctx);
    if (store_get_comment(request_store(ctx), s, id, on_comment, l) < 0) {
        free(l);
        http_add_header(ctx, "Retry-After", "1");
        http_reply_json(ctx, 503, json_pack("{s:s, s:s, s:i}", "error", "unavailable", "message",
                                            "the store is unreachable; retry shortly", "retry_after", 1));
    }
    free(site);
}
