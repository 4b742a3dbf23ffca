/* runtime.h — what every part of the running daemon shares: the
 * configuration, the live rule set (swapped whole by a reload), every
 * site's learned counts and its commenters' records. server_run sets them up before the workers start
 * and takes them down after they stop; handlers and background tasks read
 * them here, so none of them depends on the HTTP front. */
#ifndef RAQIB_RUNTIME_H
#define RAQIB_RUNTIME_H

struct config;
struct ruleset;
struct live;
struct reputation;

/* Set up at start (takes over rules, live and rep) and tear down at the
 * end (releases the rules, frees live and rep). */
void runtime_start(const struct config *cfg, struct ruleset *rules, struct live *live, struct reputation *rep);
void runtime_stop(void);

/* The running configuration (read-only after start). */
const struct config *runtime_config(void);

/* The live ruleset, retained: release it with ruleset_release when done. */
struct ruleset *runtime_rules_acquire(void);

/* Replace the live ruleset (reload). Takes over rs. */
void runtime_rules_swap(struct ruleset *rs);

/* Every site's learned counts (live.h), which `learned … site` rules add
 * to their models; NULL before runtime_start. */
struct live *runtime_live(void);

/* Every site's commenter records (reputation.h); NULL before runtime_start. */
struct reputation *runtime_reputation(void);

#endif
