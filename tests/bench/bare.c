/* bare.c — the floor for `make bench`: libevent evhttp answering every
 * request with 202 and a small JSON body, one thread, no parsing, no rules,
 * no Redis. Whatever raqibd costs beyond this is ours.
 *
 *   bare PORT [changelist]
 *
 * With `changelist` the event loop uses libevent's epoll changelist, as
 * raqibd's workers do (server.c, worker_base_new): the bench shows the plain
 * default and this like-for-like floor side by side. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

static void answer(struct evhttp_request *req, void *arg)
{
    (void)arg;
    struct evbuffer *out = evhttp_request_get_output_buffer(req);
    evbuffer_add(out, "{\"status\":\"pending\"}", 20);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "application/json");
    evhttp_send_reply(req, 202, "Accepted", NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "changelist") != 0)) {
        fprintf(stderr, "usage: bare PORT [changelist]\n");
        return 2;
    }
    struct event_config *conf = event_config_new();
    if (conf && argc == 3)
        event_config_set_flag(conf, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    struct event_base *base = conf ? event_base_new_with_config(conf) : NULL;
    if (conf)
        event_config_free(conf);   /* libevent's free does not take NULL */
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    if (!http || evhttp_bind_socket(http, "127.0.0.1", (unsigned short)atoi(argv[1])) != 0) {
        fprintf(stderr, "bare: cannot listen on 127.0.0.1:%s\n", argv[1]);
        return 1;
    }
    evhttp_set_max_body_size(http, 262144);
    evhttp_set_gencb(http, answer, NULL);
    event_base_dispatch(base);
    return 0;
}
