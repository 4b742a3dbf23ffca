/* comment.h — one submitted comment, parsed from JSON or a WordPress form.
 *
 * Parsing only turns bytes into fields and reports malformed input (400);
 * whether the fields are acceptable is validate.c's job (422). Pure module. */
#ifndef RAQIB_COMMENT_H
#define RAQIB_COMMENT_H

#include <stddef.h>
#include <stdint.h>

/* The text fields, in one array so rules and storage can walk them. */
enum comment_field {
    CF_SITE = 0,
    CF_POST_ID,
    CF_PARENT_ID,
    CF_AUTHOR,
    CF_EMAIL,
    CF_URL,
    CF_CONTENT,
    CF_IP,
    CF_USER_AGENT,
    CF_REFERRER,
    CF_LANG,
    CF_COUNT
};

struct comment {
    char *field[CF_COUNT];     /* malloc'd, NUL-terminated, NULL when absent */
    size_t len[CF_COUNT];      /* byte length of each present field */
    int64_t form_rendered_at;  /* unix seconds, valid when has_form_rendered_at */
    int has_form_rendered_at;
    int honeypot_filled;       /* the configured honeypot field was non-empty */
};

enum parse_status {
    PARSE_OK = 0,
    PARSE_MALFORMED,   /* not JSON / not a form / not an object */
    PARSE_BAD_UTF8,    /* some field is not valid UTF-8 */
    PARSE_BAD_TYPE     /* a field has the wrong JSON type */
};

struct parse_error {
    enum parse_status status;
    char field[64];      /* the offending field, "" when not about one */
    char message[256];   /* a sentence for the client */
};

/* Parse a JSON object body. honeypot_field may be NULL. On error returns -1,
 * fills err and leaves c empty (safe to comment_free). */
int comment_parse_json(struct comment *c, const char *body, size_t len,
                       const char *honeypot_field, struct parse_error *err);

/* The two readers comment_parse_json combines, for tests and fuzzing: the
 * fast path returns 1 when it read the body (c filled) and 0 when it
 * declines (c empty), never an error; the jansson reader is the reference
 * for everything, errors included. */
int comment_parse_json_fast(struct comment *c, const char *body, size_t len,
                            const char *honeypot_field);
int comment_parse_json_jansson(struct comment *c, const char *body, size_t len,
                               const char *honeypot_field, struct parse_error *err);

/* Parse an application/x-www-form-urlencoded body; accepts both Raqib's names
 * and WordPress's (comment_post_ID, author, email, url, comment, comment_parent). */
int comment_parse_form(struct comment *c, const char *body, size_t len,
                       const char *honeypot_field, struct parse_error *err);

void comment_free(struct comment *c);

/* Set field f to a copy of s (len bytes); returns 0 or -1 on allocation failure. */
int comment_set(struct comment *c, enum comment_field f, const char *s, size_t len);

/* JSON name of a field ("post_id", "content", …). */
const char *comment_field_name(enum comment_field f);

#endif
