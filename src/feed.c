/* feed.c — a decisions-feed entry as JSON, and times as RFC 3339 (feed.h). */
#include "raqib/feed.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void feed_format_time(const char *ms, char *buf, unsigned long len)
{
    long long v = atoll(ms);
    time_t secs = (time_t)(v / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03lldZ", v % 1000);
}

void feed_fields_json(json_t *obj, const struct redisReply *fields)
{
    for (size_t k = 0; obj && k + 1 < fields->elements; k += 2) {
        const char *name = fields->element[k]->str, *value = fields->element[k + 1]->str;
        if (strcmp(name, "decided_at") == 0) {
            char when[64];
            feed_format_time(value, when, sizeof when);
            json_object_set_new(obj, name, json_string(when));
        } else {
            json_object_set_new(obj, name, json_stringn(value, fields->element[k + 1]->len));
        }
    }
}
