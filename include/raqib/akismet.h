/* akismet.h — Akismet's REST API (1.1), so existing Akismet clients and
 * plugins can use Raqib by changing the host they call. The key comes from
 * the api_key parameter or the first label of the Host header and maps to a
 * submit-role token; these handlers check it themselves. */
#ifndef RAQIB_AKISMET_H
#define RAQIB_AKISMET_H

struct request_ctx;

void akismet_verify_key(struct request_ctx *ctx);
void akismet_comment_check(struct request_ctx *ctx);
void akismet_submit_spam(struct request_ctx *ctx);
void akismet_submit_ham(struct request_ctx *ctx);

#endif
