/* worker.h — one worker thread of the HTTP front, as server.c (which runs
 * the workers) and http.c (which answers requests on them) both see it.
 * Nothing else includes this: handlers know a request only through http.h. */
#ifndef RAQIB_WORKER_H
#define RAQIB_WORKER_H

#include <pthread.h>

#include <event2/util.h>

struct worker {
    int index;
    pthread_t thread;
    struct event_base *base;
    struct evhttp *http;
    struct evhttp_bound_socket *bound;
    struct store *store;
    struct spool *spool;     /* where accepted submissions wait in an outage */
    struct webhook *webhook;  /* worker 0 only */
    struct fleet *fleet;      /* worker 0 only: follows the other daemons' rule reloads */
    struct learner *learner;  /* worker 0 only: follows the sites' learned counts */
    struct event *wake;      /* activated by the main thread to start the drain */
    struct event *deadline;  /* drain time limit */
    struct event *log_flush; /* writes the round's log lines, after the round's I/O */
    int log_armed;
    int waiting;             /* requests waiting on the store */
    int unsent;              /* answers handed to evhttp, not yet written */
    int draining;
};

/* A draining worker stops once nothing waits on the store and every answer
 * has been written out: checked after each answer and when the drain starts. */
void worker_maybe_finish_drain(struct worker *w);

/* The worker's log_flush event callback (http.c): writes the round's access
 * lines once the round's I/O is done. */
void worker_on_log_flush(evutil_socket_t fd, short what, void *arg);

#endif
