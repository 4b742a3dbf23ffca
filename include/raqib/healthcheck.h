/* healthcheck.h — `raqibd --healthcheck`: ask a running raqibd whether it is
 * ready, for container HEALTHCHECKs and scripts. Pure (plain sockets). */
#ifndef RAQIB_HEALTHCHECK_H
#define RAQIB_HEALTHCHECK_H

#include <stddef.h>

/* GET path from the daemon listening on `listen` (HOST:PORT as in the
 * config; a wildcard host is asked on loopback), within timeout_ms. Returns
 * the HTTP status, or -1 with what went wrong in err. */
int healthcheck_get(const char *listen, const char *path, int timeout_ms, char *err, size_t errlen);

#endif
