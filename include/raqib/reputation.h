/* reputation.h — what moderators decided about each commenter, per site,
 * in memory, for scoring.
 *
 * A commenter is known only by a keyed hash of the normalized e-mail (64
 * bits of HMAC-SHA256 under the `author_key` directive: intake.c makes
 * it), never by the address. Per site and author this holds how many of
 * their comments moderators approved, rejected and marked spam, when they
 * last decided, and a moderator's mark (trusted or blocked). The counts
 * live in Redis (raqib:{S}:authors, kept by the decision script); every
 * daemon mirrors them here through the learn log (learner.h), the same way
 * live.h mirrors the learned models, so scoring reads no Redis. Worker
 * threads read under a read lock; the learner writes under the write lock.
 * Memory is bounded: at most max_authors authors per site (about 64 bytes
 * each with the table's room); past it new authors are not held and look
 * new (reviewed), which is the safe way to fail. Pure module. */
#ifndef RAQIB_REPUTATION_H
#define RAQIB_REPUTATION_H

#include <stddef.h>
#include <stdint.h>

struct reputation;

enum author_mark { AUTHOR_UNMARKED = 0, AUTHOR_TRUSTED = 1, AUTHOR_BLOCKED = 2 };

/* One author's record on one site. */
struct author_counts {
    unsigned long approved, rejected, spam;  /* moderators' decisions on their comments */
    long long last_ms;                       /* when the last was made (0: never) */
    enum author_mark mark;
};

/* An empty registry holding at most max_authors authors per site (0:
 * unbounded). NULL when out of memory. */
struct reputation *reputation_new(size_t max_authors);
void reputation_free(struct reputation *rep);

/* The record of author on site into out: 1 when known, 0 when not (out
 * zeroed). rep NULL: 0. */
int reputation_get(const struct reputation *rep, const char *site, uint64_t author, struct author_counts *out);

/* A moderator's decision moved one comment of author from status `from`
 * ("approved", "rejected", "spam", anything else or NULL: not counted) to
 * `to`: one count leaves from's and joins to's, so a correction moves it
 * and nothing counts twice. 0, or -1 when out of memory or the site is
 * full (then the author is not held). */
int reputation_move(struct reputation *rep, const char *site, uint64_t author, const char *from, const char *to,
                    long long at_ms);

/* Set an author's whole record (loading from Redis); a record of zeros
 * with no mark removes it. 0 or -1 as reputation_move. */
int reputation_set(struct reputation *rep, const char *site, uint64_t author, const struct author_counts *c);

/* Set or clear (AUTHOR_UNMARKED) a moderator's mark. 0 or -1. */
int reputation_mark(struct reputation *rep, const char *site, uint64_t author, enum author_mark mark);

/* Forget one author (GDPR erase), or a whole site (before loading it anew). */
void reputation_erase(struct reputation *rep, const char *site, uint64_t author);
void reputation_forget_site(struct reputation *rep, const char *site);

/* Authors held for site, and authors not held because it was full. */
size_t reputation_authors(const struct reputation *rep, const char *site);
unsigned long reputation_dropped(const struct reputation *rep);

/* Bytes held by every site's table. */
size_t reputation_memory(const struct reputation *rep);

/* The words an author adds to the `flags` pseudo-field: each non-zero
 * count as author_approved=N author_rejected=N author_spam=N, then
 * author_trusted or author_blocked. Writes at most len bytes (NUL
 * included) into buf; returns the length ("" for no record). */
size_t reputation_flags(const struct author_counts *c, char *buf, size_t len);

/* An author's hash as 16 lowercase hex digits and back (-1: not one). 0
 * never names an author (it marks empty slots): makers map it to 1. */
void reputation_hex(uint64_t author, char out[17]);
int reputation_parse_hex(const char *hex, uint64_t *out);

/* "approved" 0, "rejected" 1, "spam" 2, else -1. */
int reputation_status_index(const char *status);

#endif
