/* log.c — levelled log lines on stderr, one write(2) per line or per batch.
 *
 * Worker threads log concurrently; formatting into a local buffer and
 * writing it with a single call keeps lines whole. A worker thread may
 * collect its info lines (one per request) and write them as one batch when
 * its event loop has a moment (log_flush): one system call for many
 * requests instead of one each. Warnings and errors are never held back:
 * they flush what is collected, then go out at once, so order is kept.
 * log_format json writes the same lines as JSON objects, escaped by hand
 * (this module is pure and on every request's path). */
#include "raqib/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = LOG_INFO;
static _Atomic int current_format = LOG_FORMAT_TEXT;

#define BATCH_SIZE (16 * 1024)
#define BATCH_MAX_AGE_MS 250

/* The calling thread's batch, when it collects (log_batch_begin). */
static _Thread_local struct {
    int on;
    size_t len;
    long long first_ms;     /* when the oldest line in it was made */
    char buf[BATCH_SIZE];
} batch;

static void write_all(const char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, p, len);
        if (n <= 0)
            return;     /* nowhere to report it */
        p += n;
        len -= (size_t)n;
    }
}

void log_flush(void)
{
    if (batch.len)
        write_all(batch.buf, batch.len);
    batch.len = 0;
}

void log_batch_begin(void) { batch.on = 1; }

void log_batch_end(void)
{
    log_flush();
    batch.on = 0;
}

/* Keep an info line in the batch; 1 when it was kept. A full or old batch
 * is written first. */
static int batch_keep(const char *line, size_t len, long long now_ms)
{
    if (!batch.on)
        return 0;
    if (batch.len && (batch.len + len > sizeof batch.buf || now_ms - batch.first_ms > BATCH_MAX_AGE_MS))
        log_flush();
    if (len > sizeof batch.buf)
        return 0;
    if (!batch.len)
        batch.first_ms = now_ms;
    memcpy(batch.buf + batch.len, line, len);
    batch.len += len;
    return 1;
}

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void log_set_level(enum log_level level) { atomic_store(&current_level, (int)level); }

enum log_level log_get_level(void) { return (enum log_level)atomic_load(&current_level); }

int log_level_parse(const char *name, enum log_level *out)
{
    for (int i = 0; i <= LOG_ERROR; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    if (strcasecmp(name, "warning") == 0) {
        *out = LOG_WARN;
        return 0;
    }
    return -1;
}

/* "YYYY-MM-DDTHH:MM:SS" of now into buf; the text of the current second is
 * kept per thread, since a busy worker logs many lines a second. */
static int format_stamp(char *buf, size_t len, const struct timespec *now)
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[32];
    static _Thread_local int cached_len;
    if (now->tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&now->tv_sec, &tm);
        cached_len = (int)strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = now->tv_sec;
    }
    int n = cached_len < (int)len ? cached_len : (int)len - 1;
    memcpy(buf, cached, (size_t)n);
    return n;
}

void log_set_format(enum log_format format) { atomic_store(&current_format, (int)format); }

int log_format_parse(const char *name, enum log_format *out)
{
    if (strcasecmp(name, "text") == 0)
        *out = LOG_FORMAT_TEXT;
    else if (strcasecmp(name, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" of now into buf (at least 32 bytes). */
static int format_time(char *buf, const struct timespec *now)
{
    int n = format_stamp(buf, 32, now);
    long ms = now->tv_nsec / 1000000;
    char *p = buf + n;      /* ".mmmZ" by hand: every line pays for it */
    *p++ = '.';
    *p++ = (char)('0' + ms / 100);
    *p++ = (char)('0' + ms / 10 % 10);
    *p++ = (char)('0' + ms % 10);
    *p++ = 'Z';
    return n + 5;
}

/* Write the finished line, or keep it in the thread's batch. */
static void emit(enum log_level level, const char *line, size_t len, const struct timespec *now)
{
    long long now_ms = (long long)now->tv_sec * 1000 + now->tv_nsec / 1000000;
    if (level <= LOG_INFO && batch_keep(line, len, now_ms))
        return;
    log_flush();
    write_all(line, len);
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes there
 * are not UTF-8 (stray continuation, overlong, surrogate, past U+10FFFF). */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0;
        if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90;
        if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* Append s to out[pos..cap) as the inside of a JSON string: quotes,
 * backslashes and control characters escaped, bytes that are not UTF-8
 * written as U+FFFD, so a line parses whatever a client put in its request
 * line. Stops whole at the last character that fits. Returns the new pos. */
static size_t json_escape(char *out, size_t pos, size_t cap, const char *s)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        char esc[8];
        const char *piece = esc;
        size_t len = 2, step = 1;
        esc[0] = '\\';
        if (*p == '"' || *p == '\\')
            esc[1] = (char)*p;
        else if (*p == '\n')
            esc[1] = 'n';
        else if (*p == '\t')
            esc[1] = 't';
        else if (*p == '\r')
            esc[1] = 'r';
        else if (*p < 0x20 || *p == 0x7F)
            len = (size_t)snprintf(esc, sizeof esc, "\\u%04x", *p);
        else if ((step = utf8_seq(p)) == 0) {
            piece = "\\ufffd";
            len = 6;
            step = 1;
        } else {
            piece = (const char *)p;
            len = step;
        }
        if (pos + len >= cap)
            break;
        memcpy(out + pos, piece, len);
        pos += len;
        p += step;
    }
    return pos;
}

/* One JSON line: time, level, message, then `extra` (",\"k\":v..." already
 * escaped, may be ""). */
static void emit_json(enum log_level level, const struct timespec *now, const char *msg, const char *extra)
{
    char line[12288];
    size_t n = (size_t)snprintf(line, sizeof line, "{\"time\":\"");
    n += (size_t)format_time(line + n, now);
    n += (size_t)snprintf(line + n, sizeof line - n, "\",\"level\":\"%s\",\"message\":\"", level_names[level]);
    size_t extra_len = strlen(extra);
    n = json_escape(line, n, sizeof line - extra_len - 4, msg);
    line[n++] = '"';
    memcpy(line + n, extra, extra_len);
    n += extra_len;
    line[n++] = '}';
    line[n++] = '\n';
    emit(level, line, n, now);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&current_level))
        return;
    char line[4096];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    va_list ap;
    if (atomic_load(&current_format) == LOG_FORMAT_JSON) {
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        emit_json(level, &now, line, "");
        return;
    }
    int n = format_time(line, &now);
    char *p = line + n;
    *p++ = ' ';
    size_t name_len = strlen(level_names[level]);
    memcpy(p, level_names[level], name_len);
    memset(p + name_len, ' ', 6 - name_len);    /* "%-5s " */
    n += 1 + 6;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    emit(level, line, len, &now);
}

void log_request(const struct log_request *r)
{
    if (LOG_INFO < atomic_load(&current_level))
        return;
    /* Milliseconds with three decimals from integer microseconds: %f is a
     * visible share of a fast request's formatting. */
    long ms = r->duration_us / 1000, frac = r->duration_us % 1000;
    const char *id = r->id ? r->id : "";
    if (atomic_load(&current_format) == LOG_FORMAT_TEXT) {
        log_msg(LOG_INFO, "%s %s %d %ld.%03ldms%s%s%s", r->method, r->path, r->status, ms, frac, *id ? " id=" : "",
                id, r->client_gone ? " (client gone)" : "");
        return;
    }
    char msg[4096], extra[4096];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(msg, sizeof msg, "%s %s %d %ld.%03ldms%s%s%s", r->method, r->path, r->status, ms, frac,
             *id ? " id=" : "", id, r->client_gone ? " (client gone)" : "");
    size_t n = (size_t)snprintf(extra, sizeof extra, ",\"method\":\"");
    n = json_escape(extra, n, sizeof extra - 160, r->method);
    n += (size_t)snprintf(extra + n, sizeof extra - n, "\",\"path\":\"");
    n = json_escape(extra, n, sizeof extra - 140, r->path);
    n += (size_t)snprintf(extra + n, sizeof extra - n, "\",\"status\":%d,\"duration_ms\":%ld.%03ld", r->status, ms, frac);
    if (*id) {
        n += (size_t)snprintf(extra + n, sizeof extra - n, ",\"id\":\"");
        n = json_escape(extra, n, sizeof extra - 30, id);
        n += (size_t)snprintf(extra + n, sizeof extra - n, "\"");
    }
    if (r->client_gone)
        snprintf(extra + n, sizeof extra - n, ",\"client_gone\":true");
    emit_json(LOG_INFO, &now, msg, extra);
}
