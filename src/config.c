/* config.c — directives declared once, read from a file and from flags.
 *
 * The table below is the single place a directive exists: its type, where it
 * lands in struct config, its default, its limits and its help line. File
 * lines, RAQIB_* environment variables, command-line flags and `raqibd --help`
 * are all read off it, in the manner of pgbouncer's parameter table. */
#include "raqib/config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "raqib/log.h"

enum dtype { D_STR, D_INT, D_TOKEN, D_PROXY };

struct directive {
    const char *name;
    enum dtype type;
    size_t offset;
    const char *def;   /* default as text; NULL = unset */
    long min, max;
    const char *help;
};

#define OFF(f) offsetof(struct config, f)
static const struct directive directives[] = {
    { "listen", D_STR, OFF(listen), "127.0.0.1:8080", 0, 0, "address and port to listen on" },
    { "redis", D_STR, OFF(redis), "redis://127.0.0.1:6379/0", 0, 0, "the store: redis://[:password@]host[:port][/db], redis-sentinel://[:pw@]h:p[,h:p...][/db]#master or redis-cluster://[:pw@]h:p[,h:p...]" },
    { "rules", D_STR, OFF(rules), "./rules", 0, 0, "rule folder (every *.rules file) or one file" },
    { "token", D_TOKEN, 0, NULL, 0, 0, "ROLE NAME SECRET (submit|moderate|admin); repeatable; none = development mode" },
    { "threads", D_INT, OFF(threads), "0", 0, 256, "worker threads (0 = one per core)" },
    { "spool", D_STR, OFF(spool), "./var/spool", 0, 0, "where accepted comments wait while Redis is unreachable" },
    { "webhook_url", D_STR, OFF(webhook_url), NULL, 0, 0, "URL that receives each decision as a signed POST" },
    { "webhook_secret", D_STR, OFF(webhook_secret), NULL, 0, 0, "HMAC-SHA256 key for X-Raqib-Signature" },
    { "webhook_ca_file", D_STR, OFF(webhook_ca_file), NULL, 0, 0, "PEM file of the CAs an https webhook's certificate may chain to (default: the system's)" },
    { "hyperscan_cache", D_STR, OFF(hyperscan_cache), "./var/hs-cache", 0, 0, "folder for compiled Hyperscan databases (\"\" = none): restarts and reloads skip the compile" },
    { "honeypot_field", D_STR, OFF(honeypot_field), "website2", 0, 0, "form field only bots fill in" },
    { "max_body", D_INT, OFF(max_body), "262144", 1024, 64L * 1024 * 1024, "largest request body in bytes" },
    { "max_headers", D_INT, OFF(max_headers), "16384", 1024, 1024 * 1024, "largest request header block in bytes" },
    { "read_timeout", D_INT, OFF(read_timeout), "10", 1, 3600, "seconds allowed between the bytes of a request" },
    { "redis_timeout_ms", D_INT, OFF(redis_timeout_ms), "2000", 10, 600000, "deadline for each Redis command" },
    { "min_fill_seconds", D_INT, OFF(min_fill_seconds), "3", 0, 3600, "a form posted sooner than this after form_rendered_at is a bot" },
    { "flood_seconds", D_INT, OFF(flood_seconds), "15", 0, 86400, "one comment per IP and per e-mail in this window (0 = off)" },
    { "duplicate_ttl", D_INT, OFF(duplicate_ttl), "2592000", 0, 10L * 365 * 86400, "seconds the same author, post and text stay a duplicate" },
    { "idempotency_ttl", D_INT, OFF(idempotency_ttl), "86400", 1, 30L * 86400, "seconds an Idempotency-Key answer is kept" },
    { "spam_ttl", D_INT, OFF(spam_ttl), "2592000", 60, 10L * 365 * 86400, "seconds spam is kept for audit" },
    { "shutdown_timeout", D_INT, OFF(shutdown_timeout), "10", 0, 3600, "seconds SIGTERM waits for in-flight requests" },
    { "log_level", D_STR, OFF(log_level), "info", 0, 0, "debug, info, warn or error" },
    { "log_format", D_STR, OFF(log_format), "text", 0, 0, "text, or json (one JSON object a line, for Loki or ELK)" },
    { "max_deliveries", D_INT, OFF(max_deliveries), "5", 1, 1000, "claims of one item before it goes to the dead-letter stream" },
    { "learn_max_tokens", D_INT, OFF(learn_max_tokens), "300000", 1000, 100000000, "tokens one site's learned counts of one model may hold in memory (16 bytes each, about twice that with the table's room)" },
    { "learn_poll_ms", D_INT, OFF(learn_poll_ms), "500", 50, 60000, "milliseconds between reads of the sites' learn logs (how soon a decision made on another daemon counts here)" },
    { "author_key", D_STR, OFF(author_key), NULL, 0, 0, "secret (16+ characters) that keys the hash commenters are known by (HMAC-SHA256 of the e-mail); unset = no commenter reputation" },
    { "reputation_max_authors", D_INT, OFF(reputation_max_authors), "500000", 100, 100000000, "commenters one site's reputation table may hold in memory (about 64 bytes each); past it new ones look new" },
    { "public_forms", D_INT, OFF(public_forms), "0", 0, 1, "1 = accept form posts to /v1/comments without a token (a site's own comment form)" },
    { "sites", D_STR, OFF(sites), "default", 0, 0, "site names the moderator console offers in its site picker (space-separated)" },
    { "trusted_proxy", D_PROXY, 0, NULL, 0, 0, "ADDRESS[/PREFIX] whose X-Forwarded-For is believed; repeatable" },
};
#define NDIRECTIVES (sizeof directives / sizeof directives[0])

static void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* "log_level" -> "RAQIB_LOG_LEVEL": the variable that carries a directive. */
static void env_name(const char *directive, char *out, size_t outlen)
{
    size_t n = (size_t)snprintf(out, outlen, "RAQIB_");
    for (const char *p = directive; *p && n + 1 < outlen; p++)
        out[n++] = (char)toupper((unsigned char)*p);
    out[n < outlen ? n : outlen - 1] = '\0';
}

static const struct directive *find_directive(const char *name)
{
    for (size_t i = 0; i < NDIRECTIVES; i++)
        if (strcmp(directives[i].name, name) == 0)
            return &directives[i];
    return NULL;
}

const char *role_name(enum role r)
{
    switch (r) {
    case ROLE_SUBMIT: return "submit";
    case ROLE_MODERATE: return "moderate";
    case ROLE_ADMIN: return "admin";
    default: return "none";
    }
}

int role_parse(const char *name, enum role *out)
{
    for (int r = ROLE_SUBMIT; r <= ROLE_ADMIN; r++) {
        if (strcmp(name, role_name((enum role)r)) == 0) {
            *out = (enum role)r;
            return 0;
        }
    }
    return -1;
}

/* Parse a whole decimal number within [min, max]. */
static int parse_long(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int set_string(char **slot, const char *value)
{
    char *copy = strdup(value);
    if (!copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

/* "ROLE NAME SECRET" -> appended token. */
static int add_token(struct config *cfg, const char *value, char *err, size_t errlen)
{
    char role[32], name[128], secret[512], extra[2];
    int n = sscanf(value, "%31s %127s %511s %1s", role, name, secret, extra);
    enum role r;
    if (n != 3) {
        seterr(err, errlen, "token wants ROLE NAME SECRET, e.g. 'token moderate layla s3cr3t'");
        return -1;
    }
    if (role_parse(role, &r) < 0) {
        seterr(err, errlen, "token role '%s' is not one of submit, moderate, admin", role);
        return -1;
    }
    struct token *grown = realloc(cfg->tokens, (cfg->ntokens + 1) * sizeof *grown);
    if (!grown)
        return -1;
    cfg->tokens = grown;
    struct token *t = &cfg->tokens[cfg->ntokens];
    t->role = r;
    t->name = strdup(name);
    t->secret = strdup(secret);
    if (!t->name || !t->secret) {
        free(t->name);
        free(t->secret);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    cfg->ntokens++;
    return 0;
}

/* Parse "ADDR[/PREFIX]" into a proxy_net. */
static int parse_net(const char *value, struct proxy_net *net)
{
    char addr[INET6_ADDRSTRLEN + 8];
    snprintf(addr, sizeof addr, "%s", value);
    char *slash = strchr(addr, '/');
    long prefix = -1;
    if (slash) {
        *slash = '\0';
        if (parse_long(slash + 1, 0, 128, &prefix) < 0)
            return -1;
    }
    memset(net, 0, sizeof *net);
    if (inet_pton(AF_INET, addr, net->addr) == 1) {
        net->family = AF_INET;
        net->prefix = prefix < 0 ? 32 : (int)prefix;
        return net->prefix <= 32 ? 0 : -1;
    }
    if (inet_pton(AF_INET6, addr, net->addr) == 1) {
        net->family = AF_INET6;
        net->prefix = prefix < 0 ? 128 : (int)prefix;
        return 0;
    }
    return -1;
}

static int add_proxy(struct config *cfg, const char *value, char *err, size_t errlen)
{
    struct proxy_net net;
    if (parse_net(value, &net) < 0) {
        seterr(err, errlen, "trusted_proxy '%s' is not an IP address or CIDR net", value);
        return -1;
    }
    struct proxy_net *grown = realloc(cfg->trusted_proxies, (cfg->ntrusted + 1) * sizeof *grown);
    if (!grown)
        return -1;
    cfg->trusted_proxies = grown;
    cfg->trusted_proxies[cfg->ntrusted++] = net;
    return 0;
}

int config_set(struct config *cfg, const char *name, const char *value, char *err, size_t errlen)
{
    const struct directive *d = find_directive(name);
    if (!d) {
        seterr(err, errlen, "unknown directive '%s' (raqibd --help lists them)", name);
        return -1;
    }
    switch (d->type) {
    case D_STR:
        if (set_string((char **)((char *)cfg + d->offset), value) < 0) {
            seterr(err, errlen, "out of memory");
            return -1;
        }
        return 0;
    case D_INT:
        if (parse_long(value, d->min, d->max, (long *)((char *)cfg + d->offset)) < 0) {
            seterr(err, errlen, "%s wants a whole number from %ld to %ld, not '%s'", name, d->min, d->max, value);
            return -1;
        }
        return 0;
    case D_TOKEN:
        return add_token(cfg, value, err, errlen);
    case D_PROXY:
        return add_proxy(cfg, value, err, errlen);
    }
    return -1;
}

int config_init(struct config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    char err[256];
    for (size_t i = 0; i < NDIRECTIVES; i++) {
        if (directives[i].def && config_set(cfg, directives[i].name, directives[i].def, err, sizeof err) < 0) {
            config_free(cfg);
            return -1;
        }
    }
    return 0;
}

void config_free(struct config *cfg)
{
    for (size_t i = 0; i < NDIRECTIVES; i++)
        if (directives[i].type == D_STR)
            free(*(char **)((char *)cfg + directives[i].offset));
    for (size_t i = 0; i < cfg->ntokens; i++) {
        free(cfg->tokens[i].name);
        free(cfg->tokens[i].secret);
    }
    free(cfg->tokens);
    free(cfg->trusted_proxies);
    memset(cfg, 0, sizeof *cfg);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

int config_load_file(struct config *cfg, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        seterr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char line[4096], msg[512];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (*s == '\0')
            continue;
        char *value = s + strcspn(s, " \t");
        if (*value)
            *value++ = '\0';
        value = trim(value);
        if (*value == '\0') {
            seterr(err, errlen, "%s:%d: '%s' needs a value", path, lineno, s);
            rc = -1;
            break;
        }
        if (config_set(cfg, s, value, msg, sizeof msg) < 0) {
            seterr(err, errlen, "%s:%d: %s", path, lineno, msg);
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

/* Apply one variable's value: a repeatable directive takes several values
 * separated by ';' or newlines, any other takes the whole value. */
static int env_apply(struct config *cfg, const struct directive *d, const char *var, const char *value, char *err,
                     size_t errlen)
{
    char msg[512];
    if (d->type == D_STR || d->type == D_INT) {
        if (config_set(cfg, d->name, value, msg, sizeof msg) < 0) {
            seterr(err, errlen, "%s: %s", var, msg);
            return -1;
        }
        return 0;
    }
    char *copy = strdup(value);
    if (!copy) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    char *save = NULL;
    for (char *item = strtok_r(copy, ";\n", &save); item && rc == 0; item = strtok_r(NULL, ";\n", &save)) {
        item = trim(item);
        if (*item && config_set(cfg, d->name, item, msg, sizeof msg) < 0) {
            seterr(err, errlen, "%s: %s", var, msg);
            rc = -1;
        }
    }
    free(copy);
    return rc;
}

int config_load_env(struct config *cfg, char *err, size_t errlen)
{
    for (size_t i = 0; i < NDIRECTIVES; i++) {
        char var[64];
        env_name(directives[i].name, var, sizeof var);
        const char *value = getenv(var);
        if (value && env_apply(cfg, &directives[i], var, value, err, errlen) < 0)
            return -1;
    }
    return 0;
}

void config_usage(FILE *out)
{
    fprintf(out, "usage: raqibd [--config FILE] [--DIRECTIVE VALUE ...] [--healthcheck]\n\n"
                 "Every directive may be a line 'DIRECTIVE VALUE' of the config file, an\n"
                 "environment variable RAQIB_DIRECTIVE (upper case; repeatable ones take values\n"
                 "separated by ';') or a flag: the environment wins over the file, flags over both.\n"
                 "--healthcheck: read the same configuration, ask the running daemon's /readyz,\n"
                 "exit 0 when it answers 200 (for container HEALTHCHECKs).\n\n");
    for (size_t i = 0; i < NDIRECTIVES; i++)
        fprintf(out, "  --%-18s %s%s%s%s\n", directives[i].name, directives[i].help,
                directives[i].def ? " [default: " : "", directives[i].def ? directives[i].def : "",
                directives[i].def ? "]" : "");
}

int config_parse_args(struct config *cfg, int argc, char **argv, char *err, size_t errlen)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            config_usage(stdout);
            return 1;
        }
    }
    for (int i = 1; i < argc; i++) {   /* the file first, so flags win */
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) {
            if (i + 1 >= argc) {
                seterr(err, errlen, "--config needs a file");
                return -1;
            }
            if (config_load_file(cfg, argv[++i], err, errlen) < 0)
                return -1;
        } else if (strncmp(a, "--config=", 9) == 0) {
            if (config_load_file(cfg, a + 9, err, errlen) < 0)
                return -1;
        }
    }
    cfg->ntokens_file = cfg->ntokens;
    if (config_load_env(cfg, err, errlen) < 0)
        return -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--config") == 0 || strcmp(a, "-c") == 0) {
            i++;
            continue;
        }
        if (strncmp(a, "--config=", 9) == 0)
            continue;
        if (strncmp(a, "--", 2) != 0) {
            seterr(err, errlen, "unexpected argument '%s' (flags are --DIRECTIVE VALUE)", a);
            return -1;
        }
        char name[64];
        const char *value;
        const char *eq = strchr(a + 2, '=');
        if (eq) {
            snprintf(name, sizeof name, "%.*s", (int)(eq - a - 2), a + 2);
            value = eq + 1;
        } else {
            snprintf(name, sizeof name, "%s", a + 2);
            if (i + 1 >= argc) {
                seterr(err, errlen, "--%s needs a value", name);
                return -1;
            }
            value = argv[++i];
        }
        char msg[512];
        if (config_set(cfg, name, value, msg, sizeof msg) < 0) {
            seterr(err, errlen, "--%s: %s", name, msg);
            return -1;
        }
    }
    return 0;
}

int config_split_listen(const char *listen, char *host, size_t hostlen, int *port)
{
    const char *colon;
    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(close - listen - 1), listen + 1);
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon || colon == listen)
            return -1;
        snprintf(host, hostlen, "%.*s", (int)(colon - listen), listen);
    }
    long p;
    if (parse_long(colon + 1, 0, 65535, &p) < 0)
        return -1;
    *port = (int)p;
    return 0;
}

/* One "host[:port]" of a URL's node list into n; default_port when none. */
static int parse_node(const char *p, size_t len, int default_port, struct redis_node *n)
{
    if (len == 0 || len >= sizeof n->host)
        return -1;
    char hp[256];
    memcpy(hp, p, len);
    hp[len] = '\0';
    n->port = default_port;
    char *colon = strrchr(hp, ':');
    if (colon && !strchr(hp, ']')) {
        long port;
        *colon = '\0';
        if (colon == hp || parse_long(colon + 1, 1, 65535, &port) < 0)
            return -1;
        n->port = (int)port;
    }
    memcpy(n->host, hp, strlen(hp) + 1);
    return 0;
}

/* The scheme decides the mode; -1 on an unknown one. */
static int url_scheme(const char *url, struct redis_target *out, const char **rest)
{
    static const struct { const char *prefix; enum redis_mode mode; } schemes[] = {
        { "redis://", REDIS_DIRECT }, { "redis-sentinel://", REDIS_SENTINEL }, { "redis-cluster://", REDIS_CLUSTER } };
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        size_t n = strlen(schemes[i].prefix);
        if (strncmp(url, schemes[i].prefix, n) == 0) {
            out->mode = schemes[i].mode;
            *rest = url + n;
            return 0;
        }
    }
    return -1;
}

int config_parse_redis_url(const char *url, struct redis_target *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->port = 6379;
    const char *p;
    if (url_scheme(url, out, &p) < 0) {
        seterr(err, errlen, "redis URL '%s' must start with redis://, redis-sentinel:// or redis-cluster://", url);
        return -1;
    }
    const char *hash = strchr(p, '#');
    if (out->mode == REDIS_SENTINEL) {
        if (!hash || !hash[1] || strlen(hash + 1) >= sizeof out->master) {
            seterr(err, errlen, "redis URL '%s' must name the master after '#' (redis-sentinel://host:port#mymaster)", url);
            return -1;
        }
        memcpy(out->master, hash + 1, strlen(hash + 1) + 1);
    } else if (hash) {
        seterr(err, errlen, "redis URL '%s': only redis-sentinel:// URLs take a '#master'", url);
        return -1;
    }
    size_t len = hash ? (size_t)(hash - p) : strlen(p);
    const char *at = memrchr(p, '@', len);
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pw = colon ? colon + 1 : p;  /* user part ignored: Redis 5 style AUTH */
        if ((size_t)(at - pw) >= sizeof out->password) {
            seterr(err, errlen, "redis password too long");
            return -1;
        }
        memcpy(out->password, pw, (size_t)(at - pw));
        len -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    const char *slash = memchr(p, '/', len);
    const char *end = slash ? slash : p + len;
    int default_port = out->mode == REDIS_SENTINEL ? 26379 : 6379;
    for (const char *n = p; n <= end && out->nnodes < REDIS_MAX_NODES;) {
        const char *comma = memchr(n, ',', (size_t)(end - n));
        const char *stop = comma ? comma : end;
        if (parse_node(n, (size_t)(stop - n), default_port, &out->nodes[out->nnodes]) < 0) {
            seterr(err, errlen, "redis URL '%s' has a bad host or port ('%.*s')", url, (int)(stop - n), n);
            return -1;
        }
        out->nnodes++;
        n = stop + 1;
        if (!comma)
            break;
        if (out->nnodes == REDIS_MAX_NODES) {
            seterr(err, errlen, "redis URL '%s' lists more than %d nodes", url, REDIS_MAX_NODES);
            return -1;
        }
    }
    if (out->mode == REDIS_DIRECT && out->nnodes > 1) {
        seterr(err, errlen, "redis URL '%s': a list of nodes needs redis-sentinel:// or redis-cluster://", url);
        return -1;
    }
    memcpy(out->host, out->nodes[0].host, sizeof out->host);
    out->port = out->nodes[0].port;
    if (slash && (size_t)(slash + 1 - p) < len) {
        long db;
        char num[16];
        size_t dlen = len - (size_t)(slash + 1 - p);
        if (dlen >= sizeof num) {
            seterr(err, errlen, "redis URL '%s' has a bad database number", url);
            return -1;
        }
        memcpy(num, slash + 1, dlen);
        num[dlen] = '\0';
        if (parse_long(num, 0, 1000, &db) < 0) {
            seterr(err, errlen, "redis URL '%s' has a bad database number", url);
            return -1;
        }
        if (out->mode == REDIS_CLUSTER && db != 0) {
            seterr(err, errlen, "redis URL '%s': a Redis Cluster has database 0 only", url);
            return -1;
        }
        out->db = (int)db;
    }
    return 0;
}

/* `sites` is a space-separated list of site names, each as the API wants
 * them ([a-z0-9_-]{1,64}); the console offers them in its picker. */
static int check_sites(const char *sites, char *err, size_t errlen)
{
    size_t words = 0;
    for (const char *p = sites; *p;) {
        size_t gap = strspn(p, " \t"), n = strspn(p + gap, "abcdefghijklmnopqrstuvwxyz0123456789_-");
        p += gap;
        if (!*p)
            break;
        if (n == 0 || n > 64 || (p[n] && p[n] != ' ' && p[n] != '\t')) {
            seterr(err, errlen, "sites '%s': each site name must be 1-64 of a-z, 0-9, _ and -", sites);
            return -1;
        }
        p += n;
        words++;
    }
    if (words == 0) {
        seterr(err, errlen, "sites must name at least one site");
        return -1;
    }
    return 0;
}

int config_check(const struct config *cfg, char *err, size_t errlen)
{
    char host[256];
    int port;
    enum log_level level;
    struct redis_target target;
    if (config_split_listen(cfg->listen, host, sizeof host, &port) < 0) {
        seterr(err, errlen, "listen '%s' is not HOST:PORT", cfg->listen);
        return -1;
    }
    if (log_level_parse(cfg->log_level, &level) < 0) {
        seterr(err, errlen, "log_level '%s' is not debug, info, warn or error", cfg->log_level);
        return -1;
    }
    enum log_format format;
    if (log_format_parse(cfg->log_format, &format) < 0) {
        seterr(err, errlen, "log_format '%s' is not text or json", cfg->log_format);
        return -1;
    }
    if (config_parse_redis_url(cfg->redis, &target, err, errlen) < 0)
        return -1;
    if (cfg->webhook_url && strncmp(cfg->webhook_url, "http://", 7) != 0 && strncmp(cfg->webhook_url, "https://", 8) != 0) {
        seterr(err, errlen, "webhook_url '%s' must be an http:// or https:// URL", cfg->webhook_url);
        return -1;
    }
    if (check_sites(cfg->sites, err, errlen) < 0)
        return -1;
    if (cfg->author_key && strlen(cfg->author_key) < 16) {
        seterr(err, errlen, "author_key must be at least 16 characters: it is what keeps the commenters' hashes from being reversed");
        return -1;
    }
    if (cfg->webhook_url && !cfg->webhook_secret) {
        seterr(err, errlen, "webhook_url is set but webhook_secret is not: deliveries must be signed");
        return -1;
    }
    return 0;
}

/* Compare the first prefix bits of two addresses. */
static int prefix_equal(const unsigned char *a, const unsigned char *b, int prefix)
{
    int bytes = prefix / 8, bits = prefix % 8;
    if (memcmp(a, b, (size_t)bytes) != 0)
        return 0;
    if (bits == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xFF << (8 - bits));
    return (a[bytes] & mask) == (b[bytes] & mask);
}

int config_is_trusted_proxy(const struct config *cfg, const char *ip)
{
    unsigned char addr[16];
    int family = AF_INET;
    if (inet_pton(AF_INET, ip, addr) != 1) {
        family = AF_INET6;
        if (inet_pton(AF_INET6, ip, addr) != 1)
            return 0;
    }
    for (size_t i = 0; i < cfg->ntrusted; i++) {
        const struct proxy_net *n = &cfg->trusted_proxies[i];
        if (n->family == family && prefix_equal(n->addr, addr, n->prefix))
            return 1;
    }
    return 0;
}
