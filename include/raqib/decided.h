/* decided.h — the comments a site's moderators decided, read from Redis.
 *
 * `raqib rules train --redis URL --site S` learns from these: every comment
 * of the site's decisions feed whose text is still stored, with the status
 * it has now (a later correction wins). Decisions the rules took on their
 * own are left out unless asked for, so a model does not learn its own
 * verdicts back. Used by the CLI only (synchronous hiredis). */
#ifndef RAQIB_DECIDED_H
#define RAQIB_DECIDED_H

#include <stddef.h>

/* Called once per decided comment; a non-zero return stops the walk. */
typedef int (*decided_fn)(const char *status, const char *content, size_t len, void *arg);

struct decided_counts {
    size_t decisions;   /* feed entries read */
    size_t comments;    /* distinct comments passed to fn */
    size_t automatic;   /* left out: decided by the rules */
    size_t gone;        /* left out: text no longer stored (spam expires) */
};

/* Walk site's decided comments on the Redis at url (redis://[:pass@]host:port[/db])
 * whose feed entries come after the cursor *after ("" or NULL: from the
 * start); on return *after (a buffer of after_len bytes) holds the cursor of
 * the last entry read, unchanged when there was none. 0, or -1 with a
 * sentence in err. */
int decided_each(const char *url, const char *site, int include_automatic, char *after, size_t after_len,
                 decided_fn fn, void *arg, struct decided_counts *counts, char *err, size_t errlen);

#endif
