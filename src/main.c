/* main.c — raqibd: read the configuration, load the rules, serve.
 *
 * A bad config or a broken rule file stops the start with a clear message
 * and exit code 2, before any socket is opened. `--healthcheck` reads the
 * same configuration and asks the running daemon's /readyz instead. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "raqib/config.h"
#include "raqib/healthcheck.h"
#include "raqib/log.h"
#include "raqib/prefilter.h"
#include "raqib/rules.h"
#include "raqib/server.h"

/* Tokens in a file others can read are as good as published. */
static void warn_readable_config(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i++) {
        struct stat st;
        if ((strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) && stat(argv[i + 1], &st) == 0 &&
            (st.st_mode & S_IROTH))
            log_warn("config file %s is readable by other users; if it holds tokens, chmod 600 it", argv[i + 1]);
    }
}

/* Take --healthcheck out of argv (it is not a directive); 1 when it was there. */
static int take_healthcheck_flag(int *argc, char **argv)
{
    int found = 0, out = 1;
    for (int i = 1; i < *argc; i++) {
        if (strcmp(argv[i], "--healthcheck") == 0)
            found = 1;
        else
            argv[out++] = argv[i];
    }
    *argc = out;
    argv[out] = NULL;
    return found;
}

/* Exit 0 when the daemon this configuration describes answers /readyz 200. */
static int healthcheck(const struct config *cfg)
{
    char err[512];
    int status = healthcheck_get(cfg->listen, "/readyz", 2500, err, sizeof err);
    if (status == 200)
        return 0;
    if (status < 0)
        fprintf(stderr, "raqibd --healthcheck: %s\n", err);
    else
        fprintf(stderr, "raqibd --healthcheck: /readyz answered %d\n", status);
    return 1;
}

int main(int argc, char **argv)
{
    int check = take_healthcheck_flag(&argc, argv);
    struct config cfg;
    char err[1024];
    enum log_level level;
    if (config_init(&cfg) < 0) {
        fprintf(stderr, "raqibd: out of memory\n");
        return 2;
    }
    int rc = config_parse_args(&cfg, argc, argv, err, sizeof err);
    if (rc == 1) {
        config_free(&cfg);
        return 0;
    }
    if (rc < 0 || config_check(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "raqibd: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    if (check) {
        rc = healthcheck(&cfg);
        config_free(&cfg);
        return rc;
    }
    enum log_format format;
    log_level_parse(cfg.log_level, &level);
    log_set_level(level);
    log_format_parse(cfg.log_format, &format);
    log_set_format(format);
    if (cfg.ntokens_file)
        warn_readable_config(argc, argv);
    prefilter_set_cache_dir(cfg.hyperscan_cache);
    struct ruleset *rules = ruleset_load(cfg.rules, err, sizeof err);
    if (!rules) {
        fprintf(stderr, "raqibd: rules: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    rc = server_run(&cfg, rules);
    config_free(&cfg);
    return rc;
}
