/*
 * SMTP credentials of connectors.  Passwords are generated here, never
 * chosen by people: 192 bits from the system CSPRNG.  So a salted
 * HMAC-SHA-256 is enough to store them (nothing to gain from a slow hash
 * against a search space of 2^192) and keeps AUTH cheap.
 */
#ifndef SENDGATE_CREDENTIAL_H
#define SENDGATE_CREDENTIAL_H

#include <stddef.h>
#include <stdint.h>

#define CREDENTIAL_SECRET_BYTES	24	/* 192 bits */
#define CREDENTIAL_PASSWORD_LEN	32	/* base64url of the secret */
#define CREDENTIAL_SALT_LEN	16
#define CREDENTIAL_HASH_LEN	32
#define CREDENTIAL_ACTIVE_MAX	2	/* passwords valid at once */
#define CREDENTIAL_INPUT_MAX	256	/* longest password we compare */

int	credential_generate(char *, size_t);
int	credential_hash(const char *, size_t, const uint8_t *, uint8_t *);
int	credential_new(const char *, uint8_t *, uint8_t *);
int	credential_verify(const char *, size_t, const uint8_t *,
	    const uint8_t *);
int	credential_token(char *, size_t);

#endif
