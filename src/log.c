/* log.c — levelled log lines on stderr, one write(2) per line or per batch.
 *
 * Worker threads log concurrently; formatting into a local buffer and
 * writing it with a single call keeps lines whole. A worker thread may
 * collect its info lines (one per request) and write them as one batch when
 * its event loop has a moment (log_flush): one system call for many
 * requests instead of one each. Warnings and errors are never held back:
 * they flush what is collected, then go out at once, so order is kept. */
#include "raqib/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

static _Atomic int current_level = LOG_INFO;

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

void log_msg(enum log_level level, const char *fmt, ...)
{
    if ((int)level < atomic_load(&current_level))
        return;
    char line[4096];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int n = format_stamp(line, sizeof line, &now);
    long ms = now.tv_nsec / 1000000;
    char *p = line + n;     /* ".mmmZ level " by hand: every line pays for it */
    *p++ = '.';
    *p++ = (char)('0' + ms / 100);
    *p++ = (char)('0' + ms / 10 % 10);
    *p++ = (char)('0' + ms % 10);
    *p++ = 'Z';
    *p++ = ' ';
    size_t name_len = strlen(level_names[level]);
    memcpy(p, level_names[level], name_len);
    memset(p + name_len, ' ', 6 - name_len);    /* "%-5s " */
    n += 6 + 6;
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    size_t len = (size_t)n + (size_t)m;
    if (len > sizeof line - 2)
        len = sizeof line - 2;
    line[len++] = '\n';
    long long now_ms = (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (level <= LOG_INFO && batch_keep(line, len, now_ms))
        return;
    log_flush();
    write_all(line, len);
}
