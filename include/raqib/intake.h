/* intake.h — POST /v1/comments: parse, validate, score, store, answer. */
#ifndef RAQIB_INTAKE_H
#define RAQIB_INTAKE_H

struct request_ctx;

void intake_handle(struct request_ctx *ctx);

#endif
