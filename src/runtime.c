/* runtime.c — the daemon's shared state (runtime.h): one mutex guards the
 * rule set pointer, so a reload swaps it whole while requests keep the one
 * they retained; the configuration and the learned counts never move. */
#include "raqib/runtime.h"

#include <pthread.h>
#include <stddef.h>

#include "raqib/live.h"
#include "raqib/reputation.h"
#include "raqib/rules.h"

static struct {
    const struct config *cfg;
    pthread_mutex_t rules_lock;
    struct ruleset *rules;
    struct live *live;
    struct reputation *rep;
} runtime = { .rules_lock = PTHREAD_MUTEX_INITIALIZER };

void runtime_start(const struct config *cfg, struct ruleset *rules, struct live *live, struct reputation *rep)
{
    runtime.cfg = cfg;
    runtime.rules = rules;
    runtime.live = live;
    runtime.rep = rep;
}

void runtime_stop(void)
{
    runtime_rules_swap(NULL);
    live_free(runtime.live);
    runtime.live = NULL;
    reputation_free(runtime.rep);
    runtime.rep = NULL;
}

const struct config *runtime_config(void) { return runtime.cfg; }

struct live *runtime_live(void) { return runtime.live; }

struct reputation *runtime_reputation(void) { return runtime.rep; }

struct ruleset *runtime_rules_acquire(void)
{
    pthread_mutex_lock(&runtime.rules_lock);
    struct ruleset *rs = ruleset_retain(runtime.rules);
    pthread_mutex_unlock(&runtime.rules_lock);
    return rs;
}

void runtime_rules_swap(struct ruleset *rs)
{
    pthread_mutex_lock(&runtime.rules_lock);
    struct ruleset *old = runtime.rules;
    runtime.rules = rs;
    pthread_mutex_unlock(&runtime.rules_lock);
    if (old)
        ruleset_release(old);
}
