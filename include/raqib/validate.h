/* validate.h — is a parsed comment acceptable? Every failing field at once.
 *
 * WordPress's limits: author 245, email 100, url 200 characters (code points),
 * content 65,525 bytes; author, email, content, post_id required; email by
 * email.c; url must be http(s). Pure module. */
#ifndef RAQIB_VALIDATE_H
#define RAQIB_VALIDATE_H

#include "raqib/comment.h"

#define VALIDATE_MAX_ERRORS CF_COUNT

struct field_error {
    const char *field;   /* JSON field name */
    const char *code;    /* "required", "too_long", "invalid" */
    const char *detail;  /* a short sentence, static */
};

struct validation {
    struct field_error errors[VALIDATE_MAX_ERRORS];
    int count;
};

/* Fill v with every problem of c; returns v->count (0 = valid). */
int validate_comment(const struct comment *c, struct validation *v);

#endif
