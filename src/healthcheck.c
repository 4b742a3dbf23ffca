/* healthcheck.c — one blocking HTTP GET to the daemon's own address.
 *
 * A container HEALTHCHECK must ask the port the daemon really listens on;
 * reading it from the same config file, RAQIB_* variables and flags as the
 * daemon (config.c) means it never drifts from `listen`, and the image needs
 * no curl. A wildcard address (0.0.0.0, ::) is asked on loopback. */
#include "raqib/healthcheck.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "raqib/config.h"

/* The host to connect to for a listen host: wildcards become loopback. */
static const char *connect_host(const char *host)
{
    if (strcmp(host, "0.0.0.0") == 0 || host[0] == '\0' || strcmp(host, "*") == 0)
        return "127.0.0.1";
    if (strcmp(host, "::") == 0)
        return "::1";
    return host;
}

/* A socket connected to host:port with send and receive deadlines, or -1. */
static int dial(const char *host, int port, int timeout_ms, char *err, size_t errlen)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res = NULL;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "%s: %s", host, gai_strerror(rc));
        return -1;
    }
    struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
    int fd = -1;
    for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);   /* bounds connect too */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            snprintf(err, errlen, "connect to %s port %d: %s", host, port, strerror(errno));
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

int healthcheck_get(const char *listen, const char *path, int timeout_ms, char *err, size_t errlen)
{
    char host[256], req[512], head[64];
    int port;
    if (config_split_listen(listen, host, sizeof host, &port) < 0) {
        snprintf(err, errlen, "listen '%s' is not HOST:PORT", listen);
        return -1;
    }
    int fd = dial(connect_host(host), port, timeout_ms, err, errlen);
    if (fd < 0)
        return -1;
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n", path);
    size_t got = 0;
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        snprintf(err, errlen, "send: %s", strerror(errno));
        close(fd);
        return -1;
    }
    while (got < sizeof head - 1) {     /* "HTTP/1.1 200 OK" is all we need */
        ssize_t r = recv(fd, head + got, sizeof head - 1 - got, 0);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    head[got] = '\0';
    int status;
    if (sscanf(head, "HTTP/%*d.%*d %d", &status) != 1) {
        snprintf(err, errlen, "no HTTP answer from %s", listen);
        return -1;
    }
    return status;
}
