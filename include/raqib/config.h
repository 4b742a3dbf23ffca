/* config.h — the daemon's settings, from a config file and flags.
 *
 * Every directive is declared once in a table in config.c (name, type,
 * default, limits, help), so the file, the RAQIB_* environment, the flags and
 * `raqibd --help` cannot drift apart. `raqibd --config FILE --DIRECTIVE VALUE`:
 * the environment wins over the file, flags over both. Pure. */
#ifndef RAQIB_CONFIG_H
#define RAQIB_CONFIG_H

#include <stddef.h>
#include <stdio.h>

enum role { ROLE_NONE = 0, ROLE_SUBMIT, ROLE_MODERATE, ROLE_ADMIN };

struct token {
    enum role role;
    char *name;    /* the moderator's name recorded on decisions */
    char *secret;  /* never logged */
};

/* A trusted proxy: an address with a prefix length (CIDR). */
struct proxy_net {
    int family;               /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int prefix;
};

struct config {
    char *listen;             /* host:port */
    char *redis;              /* redis://[:password@]host[:port][/db] */
    char *rules;              /* folder or file */
    long threads;             /* 0 = one per core */
    char *spool;
    char *webhook_url;
    char *webhook_secret;
    char *webhook_ca_file;    /* NULL: the system's CA store */
    char *honeypot_field;
    char *hyperscan_cache;    /* compiled Hyperscan databases, "" = none */
    long max_body;            /* bytes */
    long max_headers;         /* bytes of all request headers */
    long read_timeout;        /* seconds to read a request */
    long redis_timeout_ms;    /* our own deadline for each Redis command */
    long min_fill_seconds;    /* quicker than this after form_rendered_at: a bot */
    long flood_seconds;       /* one comment per IP/e-mail in this window */
    long duplicate_ttl;       /* seconds a (site, post, author, text) stays a duplicate */
    long idempotency_ttl;     /* seconds an Idempotency-Key answer is kept */
    long spam_ttl;            /* seconds spam is kept for audit */
    long shutdown_timeout;    /* seconds SIGTERM waits for in-flight requests */
    char *log_level;
    char *log_format;         /* "text" or "json" */
    long max_deliveries;      /* claims before an item is dead-lettered */
    long learn_max_tokens;    /* tokens one site's counts of one model may hold in memory */
    long learn_poll_ms;       /* how often a daemon reads the sites' learn logs */
    char *author_key;         /* keys the commenters' hashes (reputation.h); NULL: reputation off */
    long reputation_max_authors; /* authors one site's table holds in memory */
    long public_forms;        /* 1: browsers may post forms without a token */
    char *sites;              /* space-separated site names for the console's picker */
    struct token *tokens;
    size_t ntokens;
    size_t ntokens_file;      /* how many of them came from the config file */
    struct proxy_net *trusted_proxies;
    size_t ntrusted;
};

/* Where the store lives, parsed from the `redis` URL:
 *   redis://[:password@]host[:port][/db]                      one server
 *   redis-sentinel://[:password@]host:port[,host:port...][/db]#master
 *                                      ask these sentinels for master's address
 *   redis-cluster://[:password@]host:port[,host:port...]     seed nodes of a Cluster
 * host/port are the first node (the server itself for redis://). */
enum redis_mode { REDIS_DIRECT = 0, REDIS_SENTINEL, REDIS_CLUSTER };
#define REDIS_MAX_NODES 16
struct redis_node {
    char host[256];
    int port;
};
struct redis_target {
    enum redis_mode mode;
    char host[256];
    int port;
    int db;
    char password[256];       /* "" when none */
    struct redis_node nodes[REDIS_MAX_NODES];
    int nnodes;
    char master[128];         /* sentinel: the monitored master's name */
};

/* Fill cfg with defaults (strings allocated). Returns 0 or -1 on OOM. */
int config_init(struct config *cfg);
void config_free(struct config *cfg);

/* Read `directive value...` lines ("#" comments) into cfg. On failure -1 and
 * "FILE:LINE: what is wrong" in err. */
int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen);

/* Set one directive (as from a flag). -1 with err on an unknown directive or
 * a bad value. */
int config_set(struct config *cfg, const char *name, const char *value, char *err, size_t errlen);

/* Every directive's RAQIB_<NAME> variable that is set (RAQIB_LOG_LEVEL for
 * log_level); repeatable directives (token, trusted_proxy) take values
 * separated by ';' or newlines. Other RAQIB_* variables are left alone. On a
 * bad value -1 and "RAQIB_NAME: what is wrong" in err. */
int config_load_env(struct config *cfg, char *err, size_t errlen);

/* Parse argv: --config FILE first, then the RAQIB_* environment, then every
 * --DIRECTIVE VALUE (or --DIRECTIVE=VALUE) over them. Returns 0, 1 when
 * --help was asked (usage printed), or -1 with err. */
int config_parse_args(struct config *cfg, int argc, char **argv, char *err, size_t errlen);

/* Cross-field checks after everything is read (listen, redis, log level). */
int config_check(const struct config *cfg, char *err, size_t errlen);

int config_parse_redis_url(const char *url, struct redis_target *out, char *err, size_t errlen);

/* Split "host:port" or "[v6]:port". Returns 0 or -1. */
int config_split_listen(const char *listen, char *host, size_t hostlen, int *port);

/* 1 when the textual address ip lies in one of the trusted proxy nets. */
int config_is_trusted_proxy(const struct config *cfg, const char *ip);

const char *role_name(enum role r);
int role_parse(const char *name, enum role *out);

/* Print every directive with its default and help (for --help and docs). */
void config_usage(FILE *out);

#endif
