/* server.h — the HTTP front: listen, start the workers, route each request
 * to its handler (handlers answer through http.h), drain on SIGTERM, reload
 * the rules on SIGHUP. */
#ifndef RAQIB_SERVER_H
#define RAQIB_SERVER_H

#include "raqib/config.h"

struct ruleset;

/* Run the daemon until SIGTERM/SIGINT; returns the exit code. Takes over
 * rules. */
int server_run(struct config *cfg, struct ruleset *rules);

#endif
