/*
 * The signer process: the only holder of DKIM private keys; generates keys
 * and signs digests for mta.
 */
#ifndef SENDGATE_SIGNER_H
#define SENDGATE_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "dkim_key.h"
#include "mproc.h"
#include "sandbox.h"

extern const struct sandbox_rule signer_sandbox_rules[];

/* A key named in a request: checked names and the file they make. */
struct signer_key {
	char		 domain[DKIM_KEY_NAME_MAX + 1];
	char		 selector[DKIM_KEY_NAME_MAX + 1];
	enum dkim_alg	 alg;
	char		 file[DKIM_KEY_NAME_MAX * 2 + 64];
};

/* signer.c */
int	 signer_key_name(struct mproc *, struct imsg *, struct msg_in *,
	    struct signer_key *);
int	 signer_imsg(struct mproc *, struct imsg *, int);

/* signer_sign.c */
void	 signer_sign(struct mproc *, struct imsg *, int);
int	 signer_sign_digest(EVP_PKEY *, enum dkim_alg, const uint8_t *,
	    size_t, uint8_t *, size_t *);
void	 signer_cache_evict(const char *);
void	 signer_cache_clear(void);
size_t	 signer_cache_count(void);

#endif
