/* cluster_slot.c — key → slot for Redis Cluster, written from the cluster
 * specification (key distribution model, hash tags), and the reading of its
 * MOVED / ASK redirections. Pure: no I/O. */
#include "raqib/cluster_slot.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

unsigned cluster_crc16(const char *buf, size_t len)
{
    unsigned crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned)(unsigned char)buf[i] << 8;
        for (int b = 0; b < 8; b++)
            crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
        crc &= 0xffff;
    }
    return crc;
}

int cluster_key_slot(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t rest = len - (size_t)(open + 1 - key);
        const char *close = memchr(open + 1, '}', rest);
        if (close && close > open + 1)   /* "{}" is no tag: the whole key counts */
            return (int)(cluster_crc16(open + 1, (size_t)(close - open - 1)) & (CLUSTER_SLOTS - 1));
    }
    return (int)(cluster_crc16(key, len) & (CLUSTER_SLOTS - 1));
}

static int is(const char *a, const char *b) { return strcasecmp(a, b) == 0; }

int cluster_command_key(int argc, const char *const *argv, const size_t *lens)
{
    (void)lens;
    if (argc < 2)
        return -1;
    const char *cmd = argv[0];
    if (is(cmd, "EVAL") || is(cmd, "EVALSHA") || is(cmd, "EVAL_RO") || is(cmd, "EVALSHA_RO"))
        return argc > 3 && atoi(argv[2]) > 0 ? 3 : -1;
    if (is(cmd, "XREAD") || is(cmd, "XREADGROUP")) {   /* ... STREAMS key [key...] id [id...] */
        for (int i = 1; i + 1 < argc; i++)
            if (is(argv[i], "STREAMS"))
                return i + 1;
        return -1;
    }
    static const char *const keyless[] = { "PING", "SCAN", "SCRIPT", "ROLE", "INFO", "AUTH", "SELECT", "CLUSTER",
                                           "ASKING", "READONLY", "PUBLISH", "SUBSCRIBE", "WAIT", "TIME", "DBSIZE" };
    for (size_t i = 0; i < sizeof keyless / sizeof keyless[0]; i++)
        if (is(cmd, keyless[i]))
            return -1;
    return 1;   /* GET, SET, HGETALL, XADD, ZADD, SADD, SMEMBERS, INCR, ... : the key comes first */
}

enum cluster_redirect_kind cluster_parse_redirect(const char *error, int *slot, char *host, size_t hostlen, int *port)
{
    enum cluster_redirect_kind kind = strncmp(error, "MOVED ", 6) == 0 ? CLUSTER_MOVED
                                      : strncmp(error, "ASK ", 4) == 0  ? CLUSTER_ASK
                                                                         : CLUSTER_NO_REDIRECT;
    if (kind == CLUSTER_NO_REDIRECT)
        return kind;
    const char *p = error + (kind == CLUSTER_MOVED ? 6 : 4);
    char *end;
    long s = strtol(p, &end, 10);
    if (end == p || *end != ' ' || s < 0 || s >= CLUSTER_SLOTS)
        return CLUSTER_NO_REDIRECT;
    const char *addr = end + 1, *colon = strrchr(addr, ':');   /* the last ':': IPv6 addresses have more */
    if (!colon || (size_t)(colon - addr) >= hostlen)
        return CLUSTER_NO_REDIRECT;
    long pt = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || pt <= 0 || pt > 65535)
        return CLUSTER_NO_REDIRECT;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    *slot = (int)s;
    *port = (int)pt;
    return kind;
}
