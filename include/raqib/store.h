/* store.h — the Redis store, asynchronous on a worker's event loop.
 *
 * One hiredis async connection per worker thread, attached to its
 * event_base. A submission is one EVALSHA of a Lua script (idempotency,
 * duplicate and flood checks, the item hash, the review stream) so it costs
 * one round trip and is all-or-nothing. Every command carries our own
 * deadline (hiredis 0.14 has none); a lost connection is re-made with
 * backoff. Keys carry a {site} hash tag, so the layout works on Redis
 * Cluster: raqib:{SITE}:c:ID (hash), raqib:{SITE}:review (stream),
 * raqib:{SITE}:spam (zset), raqib:{SITE}:decisions (stream),
 * raqib:{SITE}:idem:KEY, raqib:{SITE}:dup:SHA256, raqib:{SITE}:flood:ip:IP,
 * raqib:{SITE}:flood:email:EMAIL. */
#ifndef RAQIB_STORE_H
#define RAQIB_STORE_H

#include <stddef.h>

struct event_base;
struct config;
struct store;

enum store_outcome {
    STORE_STORED = 0,   /* written */
    STORE_REPLAYED,     /* the Idempotency-Key was seen: answer is the first answer */
    STORE_DUPLICATE,    /* same site, post, author and text: existing_id names it */
    STORE_FLOOD,        /* too soon after the last one: retry_after seconds */
    STORE_FAILED        /* Redis unreachable, timed out or answered an error */
};

struct store_result {
    enum store_outcome outcome;
    const char *answer;      /* STORE_REPLAYED: the stored JSON answer */
    const char *existing_id; /* STORE_DUPLICATE */
    long retry_after;        /* STORE_FLOOD */
    const char *error;       /* STORE_FAILED: why, for the log */
};

/* Field/value pairs of a comment written as the item hash. */
struct store_field {
    const char *name;
    const char *value;
    size_t len;
};

struct store_submission {
    const char *site;
    const char *id;
    const char *status;          /* "pending", "approved", "spam" */
    const char *answer;          /* JSON kept for Idempotency-Key replays */
    const char *idempotency_key; /* NULL when none */
    const char *dup_hash;        /* hex digest of post, author, text */
    const char *flood_ip;        /* NULL: no IP flood check */
    const char *flood_email;     /* NULL: no e-mail flood check */
    long long now_ms;
    const struct store_field *fields;
    size_t nfields;
};

/* Called exactly once per accepted call, on the worker's loop thread. The
 * result and its strings live only during the call. */
typedef void (*store_submit_fn)(void *arg, const struct store_result *res);

/* HGETALL result: n field/value pairs, or n == 0 when not found; failed set
 * when Redis could not answer. */
struct store_hash {
    int failed;
    const char *error;
    size_t n;
    const char *const *names;
    const char *const *values;
    const size_t *lens;
};
typedef void (*store_hash_fn)(void *arg, const struct store_hash *h);

/* Any command, for modules with their own key layout (queue, feed, rules
 * statistics): cb gets the raw reply, or NULL and error when the command
 * failed, timed out or Redis answered an error. */
struct redisReply;
typedef void (*store_reply_fn)(void *arg, const struct redisReply *reply, const char *error);

/* Same return convention as store_submit. lens may be NULL for C strings. */
int store_command(struct store *st, int argc, const char **argv, const size_t *lens, store_reply_fn cb, void *arg);

/* Run a Lua script by its text (EVALSHA of its SHA1, EVAL on NOSCRIPT):
 * argv holds numkeys, keys and args, as after EVAL SCRIPT. */
int store_eval(struct store *st, const char *script, int argc, const char **argv, const size_t *lens,
               store_reply_fn cb, void *arg);

/* The key prefix of a site: writes "raqib:{site}:" + suffix into buf. */
int store_key(char *buf, size_t len, const char *site, const char *suffix);

/* Connect (asynchronously) per cfg. NULL with err on a bad URL or OOM. */
struct store *store_new(struct event_base *base, const struct config *cfg, char *err, size_t errlen);

/* Fail every pending call, close the connection, free. */
void store_free(struct store *st);

/* 1 when connected, authenticated and the script is loaded. */
int store_is_ready(const struct store *st);

/* Call cb(arg) on the loop thread each time the store becomes ready (after
 * every (re)connect): the outage spool replays from there. */
void store_on_ready(struct store *st, void (*cb)(void *arg), void *arg);

/* Queue a submission. Returns 0 (cb will be called) or -1 when the store is
 * down right now (cb will not be called). */
int store_submit(struct store *st, const struct store_submission *sub, store_submit_fn cb, void *arg);

/* Read raqib:{site}:c:id. Same return convention. */
int store_get_comment(struct store *st, const char *site, const char *id, store_hash_fn cb, void *arg);

/* Check the store answers (PING) for /readyz. Same return convention; the
 * hash result has failed set when it did not answer. */
int store_ping(struct store *st, store_hash_fn cb, void *arg);

#endif
