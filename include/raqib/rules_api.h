/* rules_api.h — operators over HTTP: list the live rules with their hit
 * counts and moderators' verdicts, and reload the rule files. */
#ifndef RAQIB_RULES_API_H
#define RAQIB_RULES_API_H

struct request_ctx;

void rules_api_list(struct request_ctx *ctx);    /* GET /v1/rules (admin) */
void rules_api_reload(struct request_ctx *ctx);  /* POST /v1/rules/reload (admin) */

#endif
