/* log.h — one logging call with levels, to stderr.
 *
 * Lines look like `2026-11-29T05:00:00.123Z info  message`, or with
 * log_format json `{"time":"2026-11-29T05:00:00.123Z","level":"info",
 * "message":"…"}` (plus the request's fields for access lines) for Loki and
 * ELK; one write per line (or per batch of whole lines) so threads never
 * interleave inside a line. Never pass secrets. */
#ifndef RAQIB_LOG_H
#define RAQIB_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* "debug", "info", "warn"/"warning", "error" -> level; -1 when unknown. */
int log_level_parse(const char *name, enum log_level *out);

void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

enum log_format { LOG_FORMAT_TEXT = 0, LOG_FORMAT_JSON };

void log_set_format(enum log_format format);

/* "text" or "json" -> format; -1 when unknown. */
int log_format_parse(const char *name, enum log_format *out);

/* One answered request: an info line, `POST /v1/comments 202 1.512ms id=…`
 * as text; in JSON the same message and each field on its own. */
struct log_request {
    const char *method;
    const char *path;         /* the request URI as sent */
    int status;
    long duration_us;
    const char *id;           /* the comment id, "" or NULL when none */
    int client_gone;          /* the client left before the answer */
};

void log_request(const struct log_request *r);

/* Batching for event-loop threads: after log_batch_begin, the calling
 * thread's debug and info lines collect in a buffer (at most 16 KB and a
 * quarter of a second old) until log_flush, which the loop calls when it has
 * done its round; warnings and errors write the batch and themselves at
 * once. log_batch_end flushes and stops collecting. */
void log_batch_begin(void);
void log_flush(void);
void log_batch_end(void);

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
