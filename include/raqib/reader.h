/* reader.h — GET /v1/comments/{id}: one stored comment, as its reader may see it. */
#ifndef RAQIB_READER_H
#define RAQIB_READER_H

#include <jansson.h>

#include "raqib/config.h"

struct request_ctx;
struct store_hash;

void reader_handle_comment(struct request_ctx *ctx);


/* A stored item hash as the API shows it; email and ip only for
 * moderate/admin. NULL on OOM. */
json_t *reader_item_json(const struct store_hash *h, enum role role);

#endif
