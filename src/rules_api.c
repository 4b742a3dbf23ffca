/* rules_api.c — GET /v1/rules and POST /v1/rules/reload (admin).
 * Placeholder until the operators' issue lands: answers 501. */
#include "raqib/rules_api.h"

#include "raqib/server.h"

void rules_api_list(struct request_ctx *ctx)
{
    http_reply_error(ctx, 501, "not_implemented", "GET /v1/rules is not implemented yet");
}

void rules_api_reload(struct request_ctx *ctx)
{
    http_reply_error(ctx, 501, "not_implemented", "POST /v1/rules/reload is not implemented yet; send SIGHUP");
}
