/* fleet.h — several raqibd on one Redis behave as one service.
 *
 * Each daemon has an instance id (host/pid/random) that names it in the
 * webhook leases (webhook.c). A rule reload that succeeds on one daemon
 * (POST /v1/rules/reload or SIGHUP) increments raqib:rules:version; every
 * daemon polls that key twice a second and, when it moved, reloads the rules
 * from its own `rules` folder through the callback given to fleet_start. A
 * broken set is refused there as it is locally, and fleet_status says so
 * (GET /v1/rules shows it). A poll, rather than pub/sub, needs no second
 * connection and cannot miss a message across a reconnect or a failover. */
#ifndef RAQIB_FLEET_H
#define RAQIB_FLEET_H

#include <stddef.h>

struct event_base;
struct store;
struct fleet;

/* Reload the rules for version; return 0 when they loaded, else -1 with
 * err (the running rules stay). Runs on the loop thread of fleet_start. */
typedef int (*fleet_reload_fn)(void *arg, long long version, char *err, size_t errlen);

/* Poll the version on st's loop. NULL on out of memory. */
struct fleet *fleet_start(struct event_base *base, struct store *st, fleet_reload_fn reload, void *arg);
/* Stop polling (store callbacks may still come: free after the store). */
void fleet_stop(struct fleet *f);
void fleet_free(struct fleet *f);

/* This daemon reloaded its rules: tell the others (any thread). */
void fleet_announce(void);

/* This process's id, "host/pid/hex", stable for its life. */
const char *fleet_instance_id(void);

/* What the fleet knows, for GET /v1/rules: the version last seen, and the
 * outcome of the last reload it caused (ok 1, or 0 with error). Returns 0
 * when no version has been read yet. */
struct fleet_status {
    long long version;
    int reloaded;          /* a reload was caused by another daemon */
    int ok;
    char error[512];
};
int fleet_status(struct fleet_status *out);

#endif
