/*
 * DKIM key pairs for the signer: generation, the public key as published
 * in DNS (p= and the TXT record), and the private key files in the key
 * directory (names, atomic writes, careful loads, removal).
 *
 * The file functions take a directory descriptor (opened O_RDONLY |
 * O_DIRECTORY, so that it can be fsync'ed) and a bare file name made by
 * dkim_key_filename().  Every function returns 0 or -1 with errno set.
 */
#ifndef SENDGATE_DKIM_KEY_H
#define SENDGATE_DKIM_KEY_H

#include <stddef.h>

#include <openssl/evp.h>

enum dkim_alg {
	DKIM_ALG_RSA_SHA256,
	DKIM_ALG_ED25519_SHA256,
};

#define DKIM_KEY_RSA_BITS	2048	/* what we generate */
#define DKIM_KEY_RSA_BITS_MIN	2048	/* what we load */
#define DKIM_KEY_RSA_BITS_MAX	4096
#define DKIM_KEY_FILE_MAX	16384	/* bytes of a private key file */
#define DKIM_KEY_NAME_MAX	253	/* a domain or a selector */
#define DKIM_KEY_LABEL_MAX	63	/* one of their labels */
/* Enough for p= of an RSA-4096 key (736 characters) and its TXT record. */
#define DKIM_KEY_B64_MAX	1024
#define DKIM_KEY_RECORD_MAX	(DKIM_KEY_B64_MAX + 32)
/* What the signer signs (a SHA-256 digest) and the longest signature. */
#define DKIM_DIGEST_LEN		32
#define DKIM_KEY_SIG_MAX	(DKIM_KEY_RSA_BITS_MAX / 8)

const char	*dkim_alg_name(enum dkim_alg);
int		 dkim_alg_lookup(const char *, enum dkim_alg *);
const char	*dkim_alg_keytype(enum dkim_alg);

int	dkim_key_generate(enum dkim_alg, EVP_PKEY **);
int	dkim_key_public_b64(EVP_PKEY *, enum dkim_alg, char *, size_t);
int	dkim_key_record(enum dkim_alg, const char *, char *, size_t);

int	dkim_key_filename(const char *, const char *, enum dkim_alg, char *,
	    size_t);
int	dkim_key_write(int, const char *, EVP_PKEY *);
int	dkim_key_load(int, const char *, enum dkim_alg, EVP_PKEY **);
int	dkim_key_remove(int, const char *);

#endif
