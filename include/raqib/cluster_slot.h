/* cluster_slot.h — which Redis Cluster slot a key, and a command, belong to
 * (the Redis Cluster specification's key distribution model): CRC16 (XMODEM)
 * of the key, or of its {hash tag}, modulo 16384. Pure: unit-tested against
 * the answers of Redis's own CLUSTER KEYSLOT (tests/unit/test_cluster_slot.c).
 * The routing store for redis-cluster:// builds on it. */
#ifndef RAQIB_CLUSTER_SLOT_H
#define RAQIB_CLUSTER_SLOT_H

#include <stddef.h>

#define CLUSTER_SLOTS 16384

/* CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), as Redis uses. */
unsigned cluster_crc16(const char *buf, size_t len);

/* The slot of a key: only the part between the first '{' and the next '}'
 * is hashed when that part is not empty, else the whole key. */
int cluster_key_slot(const char *key, size_t len);

/* The index in argv of the argument that decides where a command goes (the
 * first key), or -1 for a command without keys (PING, SCAN, SCRIPT, ROLE,
 * INFO, EVAL with 0 keys...), which may go to any node. lens may be NULL. */
int cluster_command_key(int argc, const char *const *argv, const size_t *lens);

/* A redirection error, "MOVED 3999 127.0.0.1:6381" or "ASK 3999 h:p":
 * CLUSTER_MOVED or CLUSTER_ASK with the slot, host (empty when the node
 * wrote ":port", not knowing its own address) and port; CLUSTER_NO_REDIRECT
 * for any other error or a malformed one. */
enum cluster_redirect_kind { CLUSTER_NO_REDIRECT = 0, CLUSTER_MOVED, CLUSTER_ASK };
enum cluster_redirect_kind cluster_parse_redirect(const char *error, int *slot, char *host, size_t hostlen, int *port);

#endif
