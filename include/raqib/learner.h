/* learner.h — moderators' decisions teach each site's learned models live.
 *
 * When a moderator decides a comment, the decision script (queue.c) also
 * moves the comment's tokens in the site's counts in Redis, in the same
 * atomic call, and appends them to the site's learn log
 * (raqib:{S}:learnlog, a capped stream). Every daemon on that Redis tails
 * the logs of the sites that have learned anything (the set
 * raqib:learned:sites) and applies each entry to its in-memory counts
 * (live.h), so scoring reads no Redis. A daemon that starts, or finds a
 * gap in a log, loads the site's counts whole from Redis.
 *
 * Redis layout per site S: raqib:{S}:learned (hash: MODEL:p, MODEL:n
 * comments counted per side, MODEL:k token kinds, decisions learned,
 * seq the learn log's numbering (decisions and marks on authors alike),
 * last_ms); raqib:{S}:learned:MODEL (hash: 8-byte token + 'p' or 'n' ->
 * count); raqib:{S}:authors (hash, LEARNER_AUTHOR_LUA); raqib:{S}:learnlog
 * (stream: seq, at, id, then MODEL -> from, to, kinds and the tokens, 8
 * bytes each; `author` -> "HASH FROM TO" when a decision moved its
 * author's counts; `mark` -> "HASH trusted|blocked|none|erased" for the
 * authors API, authors.h). */
#ifndef RAQIB_LEARNER_H
#define RAQIB_LEARNER_H

#include <stddef.h>

struct event_base;
struct store;
struct live;
struct reputation;
struct ruleset;

/* The arguments a decision adds to the decision script so the site's
 * models learn it: per `learned … site` model of the rules, its name, its
 * positive and negative decisions, its token kinds and the comment's
 * tokens. argc 0 when the rules read no site model. */
struct learner_teach {
    int argc;
    const char **argv;
    size_t *lens;
    void *owned;            /* what argv points into */
};

/* Build the arguments for a comment's content under rs. 0, or -1 when out
 * of memory. Free with learner_teach_free (also after a failure). */
int learner_teach_build(const struct ruleset *rs, const char *content, size_t len, struct learner_teach *out);
void learner_teach_free(struct learner_teach *t);

/* The Lua function the decision script calls: teach(prev, status, extra)
 * moves the tokens from the side prev counted on to status's and appends
 * one learn log entry with them and the fields in extra (the author's
 * move); true when it appended one. Expects KEYS[7]
 * the site's learned hash, KEYS[8] its learn log, ARGV[1] id, ARGV[5]
 * now ms, ARGV[6] the learned-model key prefix and ARGV[7] the number of
 * models, then five arguments per model (learner_teach). */
#define LEARNER_TEACH_LUA \
"local function on_side(list, st)\n" \
    "  return st ~= nil and st ~= false and string.find(',' .. list .. ',', ',' .. st .. ',', 1, true) ~= nil\n" \
    "end\n" \
    "local function side_of(pos, neg, st)\n" \
    "  if on_side(pos, st) then return 'p' elseif on_side(neg, st) then return 'n' end\n" \
    "  return '-'\n" \
    "end\n" \
    "local function teach(prev, status, extra)\n" \
    "  local n = tonumber(ARGV[7] or '0') or 0\n" \
    "  local models = n > 0 and prev ~= status\n" \
    "  if not models and #extra == 0 then return false end\n" \
    "  local entry = {}\n" \
    "  for i = 0, (models and n or 0) - 1 do\n" \
    "    local b = 8 + i * 5\n" \
    "    local name, pos, neg, kinds, blob = ARGV[b], ARGV[b + 1], ARGV[b + 2], ARGV[b + 3], ARGV[b + 4]\n" \
    "    local from, to = side_of(pos, neg, prev), side_of(pos, neg, status)\n" \
    "    if from ~= to then\n" \
    "      local h = ARGV[6] .. name\n" \
    "      for j = 1, #blob, 8 do\n" \
    "        local t = string.sub(blob, j, j + 7)\n" \
    "        if from ~= '-' and redis.call('HINCRBY', h, t .. from, -1) <= 0 then redis.call('HDEL', h, t .. from) end\n" \
    "        if to ~= '-' then redis.call('HINCRBY', h, t .. to, 1) end\n" \
    "      end\n" \
    "      if from ~= '-' then redis.call('HINCRBY', KEYS[7], name .. ':' .. from, -1) end\n" \
    "      if to ~= '-' then redis.call('HINCRBY', KEYS[7], name .. ':' .. to, 1) end\n" \
    "      redis.call('HSET', KEYS[7], name .. ':k', kinds)\n" \
    "      entry[#entry + 1] = name\n" \
    "      entry[#entry + 1] = from .. to .. kinds .. blob\n" \
    "    end\n" \
    "  end\n" \
    "  if models then redis.call('HSET', KEYS[1], 'learned', status) end\n" \
    "  for _, x in ipairs(extra) do entry[#entry + 1] = x end\n" \
    "  redis.call('HINCRBY', KEYS[7], 'decisions', 1)\n" \
    "  local seq = redis.call('HINCRBY', KEYS[7], 'seq', 1)\n" \
    "  redis.call('HSET', KEYS[7], 'last_ms', ARGV[5])\n" \
    "  redis.call('XADD', KEYS[8], 'MAXLEN', '~', 1000, '*', 'seq', seq, 'at', ARGV[5], 'id', ARGV[1], unpack(entry))\n" \
    "  return true\n" \
    "end\n"

/* The Lua the decision script runs before teach for a moderator's
 * decision: count_author(item, status) moves the comment's author (item
 * field author_hash) in the site's authors hash (KEYS[9]) from the status
 * it was counted as (item field author_as) to status, and returns the
 * learn log fields that say so ({} when nothing moved). Fields of the
 * authors hash per author HASH: HASH:approved, HASH:rejected, HASH:spam
 * (counts), HASH:t (last decision, ms), HASH:m (trusted or blocked). */
#define LEARNER_AUTHOR_LUA \
"local function count_author(a, from, status)\n" \
    "  if not a or from == status then return {} end\n" \
    "  if from == 'approved' or from == 'rejected' or from == 'spam' then\n" \
    "    if redis.call('HINCRBY', KEYS[9], a .. ':' .. from, -1) <= 0 then redis.call('HDEL', KEYS[9], a .. ':' .. from) end\n" \
    "  end\n" \
    "  redis.call('HINCRBY', KEYS[9], a .. ':' .. status, 1)\n" \
    "  redis.call('HSET', KEYS[9], a .. ':t', ARGV[5])\n" \
    "  redis.call('HSET', KEYS[1], 'author_as', status)\n" \
    "  return {'author', a .. ' ' .. (from or '-') .. ' ' .. status}\n" \
    "end\n"

/* The set every daemon reads to know which sites learned something. */
#define LEARNER_SITES_KEY "raqib:learned:sites"

/* Start tailing on base with st (on the loop thread), applying models'
 * counts to lv and authors' records to rep; poll_ms between polls. NULL
 * when out of memory. */
struct learner *learner_start(struct event_base *base, struct store *st, struct live *lv, struct reputation *rep,
                              long poll_ms);
/* Stop polling (before the store is freed: calls in flight then fail into
 * the learner harmlessly), then free (after the store). */
void learner_stop(struct learner *l);
void learner_free(struct learner *l);

#endif
