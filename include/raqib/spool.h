/* spool.h — the outage spool: accepted submissions that Redis could not take.
 *
 * When Redis is unreachable, times out or refuses a submission, intake.c
 * appends it here and answers 202 only after the record is fsync'ed. Each
 * worker owns one append-only file, SPOOL_DIR/worker-N.spool, of records
 *
 *     "RQS1"  u32 length (LE)  u32 CRC-32 of the payload (LE)  payload
 *
 * where the payload is the struct store_submission as length-prefixed
 * strings. When the worker's store becomes ready the records are replayed in
 * order through the same Lua submit; the script ignores an id whose item
 * already exists, so a replay of something that did land (a timed-out
 * command that arrived late, a replay cut short by a crash) is a no-op. A
 * file left by an earlier run is replayed by the worker of the same index;
 * files of workers that no longer exist are merged into worker 0's at start.
 * A torn or corrupt record (power loss mid-write) fails its length or CRC
 * check and is skipped with a log line, never replayed as garbage. */
#ifndef RAQIB_SPOOL_H
#define RAQIB_SPOOL_H

#include <stddef.h>

struct event_base;
struct store;
struct store_submission;
struct spool;

/* Open (creating dir and file) the spool of worker index and count what it
 * holds from an earlier run. Worker 0 (nworkers known) also takes over the
 * files of workers >= nworkers. Never NULL unless out of memory: a spool
 * that cannot be opened is returned unusable (every append fails, so the
 * daemon answers 503 in an outage), and the reason is logged. */
struct spool *spool_open(struct event_base *base, struct store *st, const char *dir, int index, int nworkers);

/* Close the file and free. Pending replays stay in the file. Call after
 * store_free (which may still call back into the spool). */
void spool_free(struct spool *sp);

/* A submission as one spool record (header + payload), malloc'd; NULL on
 * OOM. The flood keys are dropped: a comment accepted during an outage was
 * promised, and a replay must not turn it into a 429 nobody sees. Every
 * submission is encoded before it goes to Redis (its fields do not outlive
 * the request), but the checksum is left to spool_append: nearly every
 * record is thrown away unwritten. */
char *spool_encode(const struct store_submission *sub, size_t *len);

/* Seal (checksum) a record made by spool_encode, append it and fsync it. 0,
 * or -1 with why in err. */
int spool_append(struct spool *sp, char *rec, size_t len, char *err, size_t errlen);

/* Start replaying if the store is ready and records wait (the store's
 * ready hook calls this). */
void spool_kick(void *sp);

/* Records waiting in every worker's spool. */
long spool_depth_total(void);

/* Decode one payload (for tests and fuzzing): fills sub with pointers into
 * a malloc'd block returned through *mem (caller frees), or -1. */
int spool_decode(const char *payload, size_t len, struct store_submission *sub, void **mem);

/* CRC-32 (IEEE 802.3, as zlib's crc32). */
unsigned long spool_crc32(const void *data, size_t len);

#endif
