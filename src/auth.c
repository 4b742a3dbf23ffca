/* auth.c — bearer token check in constant time.
 *
 * Every configured secret is compared against the presented one (no early
 * exit), on SHA-256 digests with CRYPTO_memcmp, so neither timing nor length
 * says which token is close. */
#include "raqib/auth.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/sha.h>

int auth_dev_mode(const struct config *cfg) { return cfg->ntokens == 0; }

enum role auth_role(const struct config *cfg, const char *header, const struct token **who)
{
    *who = NULL;
    if (auth_dev_mode(cfg))
        return ROLE_ADMIN;
    if (!header || strncasecmp(header, "Bearer ", 7) != 0)
        return ROLE_NONE;
    const char *presented = header + 7;
    while (*presented == ' ')
        presented++;
    unsigned char want[SHA256_DIGEST_LENGTH], got[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)presented, strlen(presented), got);
    enum role role = ROLE_NONE;
    for (size_t i = 0; i < cfg->ntokens; i++) {
        const struct token *t = &cfg->tokens[i];
        SHA256((const unsigned char *)t->secret, strlen(t->secret), want);
        if (CRYPTO_memcmp(want, got, sizeof want) == 0 && role == ROLE_NONE) {
            role = t->role;
            *who = t;
        }
    }
    return role;
}
