/* fleet.c — the rules version shared by the daemons of one service, and
 * this process's instance id (see fleet.h for the protocol).
 *
 * One timer on worker 0's loop, one Redis call in flight at a time: INCR
 * when this daemon has reloaded since the last tick, else GET. The first
 * GET only records the version (the rules were just loaded at start). */
#include "raqib/fleet.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <hiredis/hiredis.h>
#include <openssl/rand.h>

#include "raqib/log.h"
#include "raqib/store.h"

#define VERSION_KEY "raqib:rules:version"
#define POLL_MS 500

struct fleet {
    struct event_base *base;
    struct store *st;
    fleet_reload_fn reload;
    void *arg;
    struct event *tick;
    int busy;            /* a call is in flight */
    int stopping;
    int known;           /* version read at least once */
    long long version;
};

static atomic_int announce_pending;
static pthread_mutex_t status_lock = PTHREAD_MUTEX_INITIALIZER;
static struct fleet_status status;
static pthread_once_t id_once = PTHREAD_ONCE_INIT;
static char instance_id[160];

static void make_instance_id(void)
{
    char host[64] = "host";
    unsigned char r[6] = { 0 };
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    if (RAND_bytes(r, sizeof r) != 1)
        memset(r, 0, sizeof r);
    snprintf(instance_id, sizeof instance_id, "%s/%ld/%02x%02x%02x%02x%02x%02x", host, (long)getpid(), r[0], r[1],
             r[2], r[3], r[4], r[5]);
}

const char *fleet_instance_id(void)
{
    pthread_once(&id_once, make_instance_id);
    return instance_id;
}

void fleet_announce(void) { atomic_store(&announce_pending, 1); }

int fleet_status(struct fleet_status *out)
{
    pthread_mutex_lock(&status_lock);
    *out = status;
    pthread_mutex_unlock(&status_lock);
    return out->version > 0 || out->reloaded;
}

static void set_version(long long v)
{
    pthread_mutex_lock(&status_lock);
    status.version = v;
    pthread_mutex_unlock(&status_lock);
}

static void arm(struct fleet *f)
{
    if (f->stopping)
        return;
    struct timeval tv = { 0, POLL_MS * 1000 };
    event_add(f->tick, &tv);
}

/* Another daemon moved the version: load our own folder, record how it went. */
static void follow(struct fleet *f, long long v)
{
    char err[512] = "";
    int rc = f->reload(f->arg, v, err, sizeof err);
    pthread_mutex_lock(&status_lock);
    status.version = v;
    status.reloaded = 1;
    status.ok = rc == 0;
    snprintf(status.error, sizeof status.error, "%s", rc == 0 ? "" : err);
    pthread_mutex_unlock(&status_lock);
}

static void on_version(void *arg, const struct redisReply *r, const char *error)
{
    struct fleet *f = arg;
    f->busy = 0;
    if (!r || f->stopping) {
        if (error)
            log_debug("fleet: rules version not read: %s", error);
        return;
    }
    long long v = r->type == REDIS_REPLY_INTEGER ? r->integer
                  : r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10)
                                                  : 0;
    if (r->type == REDIS_REPLY_INTEGER) {          /* our own INCR */
        f->version = v;
        f->known = 1;
        set_version(v);
        log_info("fleet: rules version %lld announced to the other daemons", v);
    } else if (!f->known) {
        f->version = v;
        f->known = 1;
        set_version(v);
    } else if (v != f->version) {
        f->version = v;
        log_info("fleet: another daemon reloaded the rules (version %lld): reloading ours", v);
        follow(f, v);
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct fleet *f = arg;
    if (!f->busy && store_is_ready(f->st)) {
        int announce = atomic_exchange(&announce_pending, 0);
        const char *incr[] = { "INCR", VERSION_KEY }, *get[] = { "GET", VERSION_KEY };
        f->busy = 1;
        if (store_command(f->st, 2, announce ? incr : get, NULL, on_version, f) < 0) {
            f->busy = 0;
            if (announce)
                atomic_store(&announce_pending, 1);
        }
    }
    arm(f);
}

struct fleet *fleet_start(struct event_base *base, struct store *st, fleet_reload_fn reload, void *arg)
{
    struct fleet *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    *f = (struct fleet){ .base = base, .st = st, .reload = reload, .arg = arg };
    f->tick = evtimer_new(base, on_tick, f);
    if (!f->tick) {
        free(f);
        return NULL;
    }
    fleet_instance_id();
    arm(f);
    return f;
}

void fleet_stop(struct fleet *f)
{
    if (!f)
        return;
    f->stopping = 1;
    event_del(f->tick);
}

void fleet_free(struct fleet *f)
{
    if (!f)
        return;
    event_free(f->tick);
    free(f);
}
