/* reader.h — GET /v1/comments/{id}: one stored comment, as its reader may see it. */
#ifndef RAQIB_READER_H
#define RAQIB_READER_H

struct request_ctx;

void reader_handle_comment(struct request_ctx *ctx);

/* "1764392400123" (ms) -> "2025-11-29T05:00:00.123Z" into buf. */
void reader_format_time(const char *ms, char *buf, unsigned long len);

#endif
