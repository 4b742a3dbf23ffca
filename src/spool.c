/* spool.c — the outage spool (see spool.h for the file format and promises).
 *
 * One file per worker, used only from that worker's loop thread: appends go
 * to the end (O_APPEND, fdatasync before the caller answers 202), replay
 * reads from replay_off with pread, one record in flight at a time, and the
 * file is truncated once replay reaches its end. A crash mid-replay replays
 * from the start again, which the submit script makes harmless (an id whose
 * item exists is not written twice). */
#include "raqib/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "raqib/log.h"
#include "raqib/metrics.h"
#include "raqib/store.h"

#define MAGIC "RQS1"
#define HEADER 12
#define MAX_PAYLOAD (64u << 20)
#define NO_STRING 0xffffffffu
#define FIXED_STRINGS 7   /* site id status answer idempotency_key dup_hash now_ms */

struct spool {
    struct event_base *base;
    struct store *st;
    char dir[PATH_MAX / 2];
    char path[PATH_MAX];
    int index;
    int fd;              /* -1: unusable, why says so */
    char why[300];
    off_t replay_off;    /* the next record to replay */
    off_t next_off;      /* the one after the record in flight */
    long depth;          /* records waiting */
    long replayed;       /* in this drain, for the summary line */
    int in_flight;
    char current_id[64];
    struct event *retry;
};

static atomic_long total_depth;

long spool_depth_total(void) { return atomic_load(&total_depth); }

static void depth_add(struct spool *sp, long n)
{
    sp->depth += n;
    atomic_fetch_add(&total_depth, n);
    metrics_spool_depth(spool_depth_total());
}

/* --- the record format ------------------------------------------------ */

unsigned long spool_crc32(const void *data, size_t len)
{
    static uint32_t table[256];
    static atomic_int ready;
    if (!atomic_load(&ready)) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
            table[i] = c;
        }
        atomic_store(&ready, 1);
    }
    uint32_t crc = 0xffffffffu;
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return crc ^ 0xffffffffu;
}

static void put32(char *p, uint32_t v)
{
    p[0] = (char)(v & 0xff);
    p[1] = (char)((v >> 8) & 0xff);
    p[2] = (char)((v >> 16) & 0xff);
    p[3] = (char)((v >> 24) & 0xff);
}

static uint32_t get32(const char *p)
{
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

char *spool_encode(const struct store_submission *sub, size_t *len)
{
    char now[32];
    snprintf(now, sizeof now, "%lld", sub->now_ms);
    const char *fixed[FIXED_STRINGS] = { sub->site, sub->id, sub->status, sub->answer,
                                         sub->idempotency_key, sub->dup_hash, now };
    size_t nstrings = FIXED_STRINGS + 2 * sub->nfields;
    size_t total = HEADER + 4;
    for (size_t i = 0; i < FIXED_STRINGS; i++)
        total += 4 + (fixed[i] ? strlen(fixed[i]) : 0);
    for (size_t f = 0; f < sub->nfields; f++)
        total += 8 + strlen(sub->fields[f].name) + sub->fields[f].len;
    if (total - HEADER > MAX_PAYLOAD)
        return NULL;
    char *rec = malloc(total);
    if (!rec)
        return NULL;
    char *p = rec + HEADER;
    put32(p, (uint32_t)nstrings);
    p += 4;
    for (size_t i = 0; i < nstrings; i++) {
        const char *s;
        size_t n;
        if (i < FIXED_STRINGS) {
            s = fixed[i];
            n = s ? strlen(s) : 0;
        } else {
            const struct store_field *f = &sub->fields[(i - FIXED_STRINGS) / 2];
            s = (i - FIXED_STRINGS) % 2 ? f->value : f->name;
            n = (i - FIXED_STRINGS) % 2 ? f->len : strlen(f->name);
        }
        put32(p, s ? (uint32_t)n : NO_STRING);
        p += 4;
        if (s && n) {
            memcpy(p, s, n);
            p += n;
        }
    }
    memcpy(rec, MAGIC, 4);
    put32(rec + 4, (uint32_t)(total - HEADER));
    put32(rec + 8, 0);      /* the checksum: spool_append seals the record */
    *len = total;
    return rec;
}

/* The payload as a submission; every string is copied NUL-terminated into
 * one block (*mem). Flood checks are off for a replay (see spool_encode). */
int spool_decode(const char *payload, size_t len, struct store_submission *sub, void **mem)
{
    *mem = NULL;
    if (len < 4)
        return -1;
    uint32_t nstrings = get32(payload);
    if (nstrings < FIXED_STRINGS || (nstrings - FIXED_STRINGS) % 2 || nstrings > len / 4)
        return -1;
    size_t nfields = (nstrings - FIXED_STRINGS) / 2;
    /* Room for the field array, then each string and its NUL. */
    size_t need = nfields * sizeof(struct store_field) + len + nstrings;
    char *block = malloc(need ? need : 1);
    if (!block)
        return -1;
    struct store_field *fields = (struct store_field *)block;
    char *out = block + nfields * sizeof(struct store_field);
    const char *strs[FIXED_STRINGS] = { 0 };
    size_t pos = 4;
    for (uint32_t i = 0; i < nstrings; i++) {
        if (len - pos < 4)
            goto bad;
        uint32_t n = get32(payload + pos);
        pos += 4;
        const char *s = NULL;
        size_t slen = 0;
        if (n != NO_STRING) {
            if (n > len - pos)
                goto bad;
            memcpy(out, payload + pos, n);
            out[n] = '\0';
            s = out;
            slen = n;
            out += n + 1;
            pos += n;
        }
        if (i < FIXED_STRINGS) {
            strs[i] = s;
        } else {
            struct store_field *f = &fields[(i - FIXED_STRINGS) / 2];
            if (!s)
                goto bad;
            if ((i - FIXED_STRINGS) % 2 == 0) {
                f->name = s;
            } else {
                f->value = s;
                f->len = slen;
            }
        }
    }
    if (pos != len || !strs[0] || !strs[1] || !strs[2] || !strs[3] || !strs[5] || !strs[6])
        goto bad;
    *sub = (struct store_submission){
        .site = strs[0], .id = strs[1], .status = strs[2], .answer = strs[3], .idempotency_key = strs[4],
        .dup_hash = strs[5], .now_ms = atoll(strs[6]), .fields = fields, .nfields = nfields,
    };
    *mem = block;
    return 0;
bad:
    free(block);
    return -1;
}

/* --- reading a file ----------------------------------------------------- */

static int pread_all(int fd, void *buf, size_t n, off_t off)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, (char *)buf + got, n - got, off + (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* The record at off if it is whole and its CRC holds: 1 with the payload
 * (malloc'd, when want_payload) and its total length. 0 when it is not. */
static int record_at(int fd, off_t off, off_t end, char **payload, size_t *total)
{
    char h[HEADER];
    if (end - off < HEADER || pread_all(fd, h, HEADER, off) < 0 || memcmp(h, MAGIC, 4) != 0)
        return 0;
    uint32_t len = get32(h + 4);
    if (len > MAX_PAYLOAD || (off_t)len > end - off - HEADER)
        return 0;
    char *p = malloc(len ? len : 1);
    if (!p)
        return 0;
    if (pread_all(fd, p, len, off + HEADER) < 0 || spool_crc32(p, len) != get32(h + 8)) {
        free(p);
        return 0;
    }
    if (payload)
        *payload = p;
    else
        free(p);
    *total = HEADER + len;
    return 1;
}

/* The next good record at or after off, skipping (and logging) bytes that
 * are not one: 1 with *at, payload and total; 0 at the end. */
static int next_record(int fd, const char *path, off_t off, off_t end, off_t *at, char **payload, size_t *total)
{
    off_t start = off;
    while (off < end) {
        if (record_at(fd, off, end, payload, total)) {
            if (off > start)
                log_warn("spool %s: skipped %lld bytes of a torn or corrupt record at offset %lld", path,
                         (long long)(off - start), (long long)start);
            *at = off;
            return 1;
        }
        /* Look for the next magic after off. */
        char buf[4096];
        off_t scan = off + 1;
        off = end;
        while (scan < end) {
            size_t n = end - scan < (off_t)sizeof buf ? (size_t)(end - scan) : sizeof buf;
            if (pread_all(fd, buf, n, scan) < 0)
                break;
            char *m = memmem(buf, n, MAGIC, 4);
            if (m) {
                off = scan + (m - buf);
                break;
            }
            if (n < sizeof buf)
                break;
            scan += (off_t)n - 3;
        }
    }
    if (end > start)
        log_warn("spool %s: skipped %lld bytes of a torn or corrupt record at offset %lld", path,
                 (long long)(end - start), (long long)start);
    return 0;
}

static off_t file_size(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_size : -1;
}

/* Count the good records of fd from 0; a torn tail is cut off so that new
 * appends follow a good record. Returns the count. */
static long scan_file(int fd, const char *path)
{
    off_t end = file_size(fd), off = 0, at, good_end = 0;
    size_t total;
    long n = 0;
    while (end > 0 && next_record(fd, path, off, end, &at, NULL, &total)) {
        n++;
        off = at + (off_t)total;
        good_end = off;
    }
    if (end > good_end && ftruncate(fd, good_end) == 0)
        log_warn("spool %s: cut the torn tail (%lld bytes) after the last good record", path,
                 (long long)(end - good_end));
    return n;
}

static void retry_later(struct spool *sp);

/* --- files ---------------------------------------------------------------- */

static int mkdir_p(const char *dir, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) {
        snprintf(err, errlen, "spool directory name too long");
        return -1;
    }
    for (char *p = tmp + 1; ; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(tmp, 0700) < 0 && errno != EEXIST) {
                snprintf(err, errlen, "cannot create %.200s: %s", tmp, strerror(errno));
                return -1;
            }
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%.200s is not a directory", dir);
        return -1;
    }
    return 0;
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

/* Open (create) our file and lock it so two daemons never share it. */
static int open_file(struct spool *sp)
{
    if (mkdir_p(sp->dir, sp->why, sizeof sp->why) < 0)
        return -1;
    int fd = open(sp->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(sp->why, sizeof sp->why, "cannot open %.200s: %s", sp->path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        snprintf(sp->why, sizeof sp->why, "%.200s is locked by another process (another raqibd on this spool?)", sp->path);
        close(fd);
        return -1;
    }
    fsync_dir(sp->dir);
    sp->fd = fd;
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int spool_append(struct spool *sp, char *rec, size_t len, char *err, size_t errlen)
{
    if (len < HEADER) {
        snprintf(err, errlen, "not a spool record");
        return -1;
    }
    put32(rec + 8, (uint32_t)spool_crc32(rec + HEADER, len - HEADER));
    if (sp->fd < 0 && open_file(sp) < 0) {
        snprintf(err, errlen, "%.280s", sp->why);
        return -1;
    }
    off_t before = file_size(sp->fd);
    if (before < 0 || write_all(sp->fd, rec, len) < 0 || fdatasync(sp->fd) < 0) {
        snprintf(err, errlen, "cannot write %.200s: %s", sp->path, strerror(errno));
        if (before >= 0 && ftruncate(sp->fd, before) < 0)
            log_error("spool %s: cannot cut a failed append: %s", sp->path, strerror(errno));
        return -1;
    }
    depth_add(sp, 1);
    metrics_spool_append();
    /* After a timeout the connection may still be up: no ready hook will
     * fire, so look again shortly. */
    if (!sp->in_flight)
        retry_later(sp);
    return 0;
}

/* Worker 0 takes the files of workers that this run does not have. */
static void adopt_orphans(struct spool *sp, int nworkers)
{
    DIR *d = opendir(sp->dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        int n, used = 0;
        if (sscanf(e->d_name, "worker-%d.spool%n", &n, &used) != 1 || e->d_name[used] || n < nworkers)
            continue;
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", sp->dir, e->d_name);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0 || flock(fd, LOCK_EX | LOCK_NB) < 0) {
            if (fd >= 0)
                close(fd);
            continue;
        }
        off_t end = file_size(fd), off = 0, at;
        long moved = 0;
        int ok = 1;
        char *payload;
        size_t total;
        while (ok && next_record(fd, path, off, end, &at, &payload, &total)) {
            char *rec = malloc(total);
            ok = rec != NULL;
            if (ok) {
                memcpy(rec, MAGIC, 4);
                put32(rec + 4, (uint32_t)(total - HEADER));
                put32(rec + 8, (uint32_t)spool_crc32(payload, total - HEADER));
                memcpy(rec + HEADER, payload, total - HEADER);
                ok = write_all(sp->fd, rec, total) == 0;
                free(rec);
            }
            free(payload);
            moved += ok;
            off = at + (off_t)total;
        }
        if (ok && fdatasync(sp->fd) == 0 && unlink(path) == 0) {
            log_info("spool: took over %ld record(s) of %s", moved, path);
            fsync_dir(sp->dir);
        } else {
            log_error("spool: could not take over %s: %s", path, strerror(errno));
        }
        close(fd);
    }
    closedir(d);
}

/* --- replay ------------------------------------------------------------------ */

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    spool_kick(arg);
}

static void retry_later(struct spool *sp)
{
    struct timeval tv = { 1, 0 };
    event_add(sp->retry, &tv);
}

static void on_replayed(void *arg, const struct store_result *res)
{
    struct spool *sp = arg;
    sp->in_flight = 0;
    if (res->outcome == STORE_FAILED) {
        log_warn("spool %s: replay of %s failed (%s); will retry", sp->path, sp->current_id,
                 res->error ? res->error : "store failed");
        retry_later(sp);
        return;
    }
    if (res->outcome == STORE_DUPLICATE)
        log_warn("spool %s: %s is a duplicate of %s; not stored twice", sp->path, sp->current_id, res->existing_id);
    else
        log_debug("spool %s: replayed %s", sp->path, sp->current_id);
    sp->replay_off = sp->next_off;
    sp->replayed++;
    depth_add(sp, -1);
    metrics_spool_replayed();
    spool_kick(sp);
}

void spool_kick(void *arg)
{
    struct spool *sp = arg;
    if (sp->fd < 0 || sp->in_flight || !store_is_ready(sp->st))
        return;
    off_t end = file_size(sp->fd), at;
    char *payload = NULL;
    size_t total;
    if (sp->depth <= 0 || end < 0 || !next_record(sp->fd, sp->path, sp->replay_off, end, &at, &payload, &total)) {
        /* Everything landed: start the file afresh. */
        if (end > 0 && ftruncate(sp->fd, 0) < 0)
            log_error("spool %s: cannot truncate: %s", sp->path, strerror(errno));
        if (sp->replayed)
            log_info("spool %s: replayed %ld record(s); the spool is empty", sp->path, sp->replayed);
        sp->replayed = 0;
        sp->replay_off = 0;
        if (sp->depth)
            depth_add(sp, -sp->depth);
        return;
    }
    struct store_submission sub;
    void *mem;
    if (spool_decode(payload, total - HEADER, &sub, &mem) < 0) {
        /* A record with a good CRC that does not decode: written by
         * something else. Skip it rather than block the spool. */
        log_error("spool %s: record at offset %lld does not decode; skipped", sp->path, (long long)at);
        free(payload);
        sp->replay_off = at + (off_t)total;
        depth_add(sp, -1);
        spool_kick(sp);
        return;
    }
    snprintf(sp->current_id, sizeof sp->current_id, "%s", sub.id);
    sp->next_off = at + (off_t)total;
    sp->replay_off = at;
    if (store_submit(sp->st, &sub, on_replayed, sp) == 0)
        sp->in_flight = 1;
    else
        retry_later(sp);
    free(mem);
    free(payload);
}

struct spool *spool_open(struct event_base *base, struct store *st, const char *dir, int index, int nworkers)
{
    struct spool *sp = calloc(1, sizeof *sp);
    if (!sp)
        return NULL;
    sp->base = base;
    sp->st = st;
    sp->index = index;
    sp->fd = -1;
    sp->retry = evtimer_new(base, on_retry, sp);
    if (!sp->retry) {
        free(sp);
        return NULL;
    }
    snprintf(sp->dir, sizeof sp->dir, "%s", dir && dir[0] ? dir : ".");
    snprintf(sp->path, sizeof sp->path, "%s/worker-%d.spool", sp->dir, index);
    if (open_file(sp) < 0) {
        log_error("spool unusable, so an outage will answer 503: %s", sp->why);
        return sp;
    }
    if (index == 0)
        adopt_orphans(sp, nworkers);
    long n = scan_file(sp->fd, sp->path);
    if (n > 0) {
        log_warn("spool %s: %ld record(s) from an earlier run wait for Redis", sp->path, n);
        depth_add(sp, n);
    }
    return sp;
}

void spool_free(struct spool *sp)
{
    if (!sp)
        return;
    if (sp->fd >= 0)
        close(sp->fd);
    atomic_fetch_sub(&total_depth, sp->depth);
    event_free(sp->retry);
    free(sp);
}
