/*
 * Password generation, hashing and verification (see credential.h).
 */
#include <sys/random.h>

#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "credential.h"

static int
credential_random(void *buf, size_t len)
{
	uint8_t	*p = buf;
	ssize_t	 n;

	while (len > 0) {
		if ((n = getrandom(p, len, 0)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * A fresh password: base64url without padding, so it survives every SMTP
 * client's configuration dialog and needs no quoting anywhere.  Never
 * with a '-' first: command-line tools (swaks --auth-password, and
 * anything built on getopt) take such an argument for an option.  Drawn
 * again rather than patched, so every allowed password stays equally
 * likely (one draw in 64 is redrawn; 191.9 bits remain).
 */
int
credential_generate(char *out, size_t outlen)
{
	static const char	 b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	uint8_t			 raw[CREDENTIAL_SECRET_BYTES];
	size_t			 i, o;
	uint32_t		 v;

	if (outlen < CREDENTIAL_PASSWORD_LEN + 1)
		return -1;
again:
	if (credential_random(raw, sizeof(raw)) == -1)
		return -1;
	o = 0;
	for (i = 0; i < sizeof(raw); i += 3) {
		v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8 |
		    raw[i + 2];
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = b64[v >> 6 & 63];
		out[o++] = b64[v & 63];
	}
	out[o] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	if (out[0] == '-')
		goto again;
	return 0;
}

/* The verification token of a domain authorization: 40 lowercase hex. */
int
credential_token(char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	uint8_t			 raw[20];
	size_t			 i;

	if (outlen < sizeof(raw) * 2 + 1 ||
	    credential_random(raw, sizeof(raw)) == -1)
		return -1;
	for (i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[2 * sizeof(raw)] = '\0';
	return 0;
}

int
credential_hash(const char *pw, size_t len, const uint8_t *salt,
    uint8_t *hash)
{
	unsigned int	 hlen = CREDENTIAL_HASH_LEN;

	if (HMAC(EVP_sha256(), salt, CREDENTIAL_SALT_LEN,
	    (const unsigned char *)pw, len, hash, &hlen) == NULL ||
	    hlen != CREDENTIAL_HASH_LEN)
		return -1;
	return 0;
}

/* Salt and hash a new password for storage. */
int
credential_new(const char *pw, uint8_t *salt, uint8_t *hash)
{
	if (credential_random(salt, CREDENTIAL_SALT_LEN) == -1)
		return -1;
	return credential_hash(pw, strlen(pw), salt, hash);
}

/*
 * 0 when pw matches.  The comparison takes the same time whatever the
 * input, and overlong input is hashed too rather than refused early.
 */
int
credential_verify(const char *pw, size_t len, const uint8_t *salt,
    const uint8_t *hash)
{
	uint8_t	 h[CREDENTIAL_HASH_LEN];
	int	 bad = 0;

	if (len > CREDENTIAL_INPUT_MAX) {
		len = CREDENTIAL_INPUT_MAX;
		bad = 1;
	}
	if (credential_hash(pw, len, salt, h) == -1)
		return -1;
	bad |= CRYPTO_memcmp(h, hash, sizeof(h)) != 0;
	OPENSSL_cleanse(h, sizeof(h));
	return bad ? -1 : 0;
}
