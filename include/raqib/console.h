/* console.h — the moderator console's static files, built into raqibd.
 *
 * The files of console/ (HTML, CSS, plain ES modules) are turned into a C
 * array table at build time (console/embed.sh), so the binary alone
 * serves GET /console/: `make run`, `make install` and the container need
 * nothing beside it, and a deployed console always matches its daemon's API.
 * The lookup is pure; server.c answers with it and adds the security headers. */
#ifndef RAQIB_CONSOLE_H
#define RAQIB_CONSOLE_H

#include <stddef.h>

struct console_asset {
    const char *name;             /* file name under console/, e.g. "app.js" */
    const char *type;             /* Content-Type */
    const unsigned char *data;
    size_t len;
};

/* The generated table (build/gen/console_assets.c). */
extern const struct console_asset console_assets[];
extern const size_t console_nassets;

/* The asset for the path under /console/ ("" is index.html), or NULL. Only
 * exact names of embedded files match: nothing is read from disk. */
const struct console_asset *console_find(const char *name);

#endif
