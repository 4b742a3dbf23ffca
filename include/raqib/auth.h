/* auth.h — who is calling: bearer tokens mapped to roles.
 *
 * Secrets are compared in constant time (on their SHA-256 digests, so the
 * length of a guess tells nothing either). With no tokens configured the
 * server is in development mode and every caller is an admin named "dev". */
#ifndef RAQIB_AUTH_H
#define RAQIB_AUTH_H

#include "raqib/config.h"

/* Role of the caller whose Authorization header is header (may be NULL);
 * ROLE_NONE for a missing or unknown token. *who gets the token (name), or
 * NULL in development mode or when none matched. */
enum role auth_role(const struct config *cfg, const char *header, const struct token **who);

/* 1 when the server runs without tokens. */
int auth_dev_mode(const struct config *cfg);

#endif
