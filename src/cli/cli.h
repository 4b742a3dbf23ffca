/* cli.h — what the `raqib` command's files share: reading labeled JSON
 * lines as the engine's comments, and what counts as flagged. */
#ifndef RAQIB_CLI_H
#define RAQIB_CLI_H

#include <jansson.h>
#include <stddef.h>

#include "raqib/comment.h"
#include "raqib/engine.h"

/* One input line as a JSON object; NULL after naming the line on stderr. */
json_t *json_line(const char *line, size_t lineno);

/* Fill c and sig from one JSON object (`content` or `text`, the other
 * fields by their API names); label is +1 (spam, abusive), -1 (ham,
 * clean) or 0. 0, or -1 when out of memory. */
int read_comment(json_t *obj, struct comment *c, struct engine_signals *sig, int *label);

/* 1 when some rule with a positive score hit: the comment reaches the
 * moderator with a reason, or the spam folder. */
int flagged(const struct verdict *v);

/* Print what is wrong and the usage; returns 2. */
int usage_error(const char *what);

/* `raqib replay` (replay.c). */
int cmd_replay(int argc, char **argv);

#endif
