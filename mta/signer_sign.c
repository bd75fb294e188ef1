/*
 * The signer signs DKIM digests for mta (IMSG_MTA_DKIM_SIGN).
 *
 * mta sends the SHA-256 digest of what a DKIM signature covers (RFC 6376
 * 3.7) and names the key by domain, selector and algorithm; the key file
 * name encodes all three, so a request can only ever use the key made
 * for exactly that triple.  Loaded keys stay in a bounded cache; every
 * use first checks that the file is still the one loaded, and keydel
 * evicts, so a deleted or replaced key is never used again.
 *
 * A malformed request (wrong types, a digest that is not 32 octets) is a
 * broken mta and stops the daemon; a request we cannot serve (no such
 * key, a name refused, an unusable key file) is answered ok=0 with why.
 * Neither digests nor key material are ever logged.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "dkim_key.h"
#include "log.h"
#include "proto.h"
#include "signer.h"

#define SIGNER_CACHE_MAX	1024

struct signer_cached {
	char		 file[DKIM_KEY_NAME_MAX * 2 + 64];
	enum dkim_alg	 alg;
	EVP_PKEY	*key;
	/* the file the key came from: a changed file is loaded again */
	dev_t		 dev;
	ino_t		 ino;
	off_t		 size;
	struct timespec	 mtim, ctim;
	uint64_t	 used;		/* LRU clock */
};

static struct signer_cached	 cache[SIGNER_CACHE_MAX];
static size_t			 cache_n;
static uint64_t			 cache_clock;

static void
cache_drop(size_t i)
{
	EVP_PKEY_free(cache[i].key);
	if (i != cache_n - 1)
		cache[i] = cache[cache_n - 1];
	memset(&cache[cache_n - 1], 0, sizeof(cache[0]));
	cache_n--;
}

static ssize_t
cache_find(const char *file)
{
	size_t	 i;

	for (i = 0; i < cache_n; i++)
		if (strcmp(cache[i].file, file) == 0)
			return i;
	return -1;
}

static int
same_file(const struct signer_cached *c, const struct stat *st)
{
	return c->dev == st->st_dev && c->ino == st->st_ino &&
	    c->size == st->st_size &&
	    c->mtim.tv_sec == st->st_mtim.tv_sec &&
	    c->mtim.tv_nsec == st->st_mtim.tv_nsec &&
	    c->ctim.tv_sec == st->st_ctim.tv_sec &&
	    c->ctim.tv_nsec == st->st_ctim.tv_nsec;
}

/* keydel: that key is gone for good. */
void
signer_cache_evict(const char *file)
{
	ssize_t	 i;

	if ((i = cache_find(file)) != -1)
		cache_drop(i);
}

/* Free every cached key (orderly exit, tests). */
void
signer_cache_clear(void)
{
	while (cache_n > 0)
		cache_drop(cache_n - 1);
	cache_clock = 0;
}

size_t
signer_cache_count(void)
{
	return cache_n;
}

/*
 * The key for k, from the cache when the file is still the one it was
 * loaded from, else loaded (and cached, evicting the least recently
 * used).  Returns NULL with errno set; ENOENT: there is no such key.
 */
static EVP_PKEY *
signer_key_get(int dirfd, const struct signer_key *k)
{
	struct signer_cached	*c;
	struct stat		 st;
	EVP_PKEY		*key;
	ssize_t			 i;
	size_t			 j;
	int			 saved;

	i = cache_find(k->file);
	if (fstatat(dirfd, k->file, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		saved = errno;
		if (i != -1)
			cache_drop(i);
		errno = saved;
		return NULL;
	}
	if (i != -1 && cache[i].alg == k->alg && same_file(&cache[i], &st)) {
		cache[i].used = ++cache_clock;
		return cache[i].key;
	}
	if (i != -1)
		cache_drop(i);
	/* dkim_key_load checks the file again (type, mode, size, key). */
	if (dkim_key_load(dirfd, k->file, k->alg, &key) == -1)
		return NULL;
	if (cache_n == SIGNER_CACHE_MAX) {
		i = 0;
		for (j = 1; j < cache_n; j++)
			if (cache[j].used < cache[i].used)
				i = j;
		cache_drop(i);
	}
	c = &cache[cache_n++];
	(void)strlcpy(c->file, k->file, sizeof(c->file));
	c->alg = k->alg;
	c->key = key;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->size = st.st_size;
	c->mtim = st.st_mtim;
	c->ctim = st.st_ctim;
	c->used = ++cache_clock;
	return key;
}

/*
 * Sign a SHA-256 digest: RSASSA-PKCS1-v1_5 with the DigestInfo of
 * SHA-256 for rsa-sha256 (RFC 6376 3.3.1), PureEdDSA over the 32 digest
 * octets for ed25519-sha256 (RFC 8463 3).  *siglen is the size of sig
 * on entry and the signature's length on return.  Returns 0 or -1.
 */
int
signer_sign_digest(EVP_PKEY *key, enum dkim_alg alg, const uint8_t *digest,
    size_t dlen, uint8_t *sig, size_t *siglen)
{
	EVP_PKEY_CTX	*pctx = NULL;
	EVP_MD_CTX	*mctx = NULL;
	size_t		 len = 0;
	int		 ok = 0;

	if (key == NULL || dlen != DKIM_DIGEST_LEN) {
		errno = EINVAL;
		return -1;
	}
	switch (alg) {
	case DKIM_ALG_RSA_SHA256:
		ok = (pctx = EVP_PKEY_CTX_new(key, NULL)) != NULL &&
		    EVP_PKEY_sign_init(pctx) > 0 &&
		    EVP_PKEY_CTX_set_rsa_padding(pctx,
		    RSA_PKCS1_PADDING) > 0 &&
		    EVP_PKEY_CTX_set_signature_md(pctx, EVP_sha256()) > 0 &&
		    EVP_PKEY_sign(pctx, NULL, &len, digest, dlen) > 0 &&
		    len <= *siglen &&
		    EVP_PKEY_sign(pctx, sig, &len, digest, dlen) > 0;
		break;
	case DKIM_ALG_ED25519_SHA256:
		ok = (mctx = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestSignInit(mctx, NULL, NULL, NULL, key) > 0 &&
		    EVP_DigestSign(mctx, NULL, &len, digest, dlen) > 0 &&
		    len <= *siglen &&
		    EVP_DigestSign(mctx, sig, &len, digest, dlen) > 0;
		break;
	}
	EVP_PKEY_CTX_free(pctx);
	EVP_MD_CTX_free(mctx);
	if (!ok) {
		/* Left queued, it would be blamed on the next caller. */
		ERR_clear_error();
		errno = EIO;
		return -1;
	}
	*siglen = len;
	return 0;
}

/* ok=1 with the signature and an empty why, or ok=0, no octets, why. */
static void
signer_sign_answer(struct mproc *p, uint64_t reqid, const uint8_t *sig,
    size_t siglen, const char *why)
{
	static const uint8_t	 none[1];
	struct msg_out		 m;

	msg_out_init(&m);
	m_add_u64(&m, reqid);
	m_add_int(&m, why == NULL);
	if (why == NULL)
		m_add_data(&m, sig, siglen);
	else
		m_add_data(&m, none, 0);
	m_add_string(&m, why == NULL ? "" : why);
	mproc_send(p, IMSG_SIGNER_DKIM_SIGNATURE, 0, -1, &m);
}

/* IMSG_MTA_DKIM_SIGN on the key directory dirfd. */
void
signer_sign(struct mproc *p, struct imsg *im, int dirfd)
{
	struct msg_in		 m;
	struct signer_key	 k;
	EVP_PKEY		*key;
	uint8_t			 digest[DKIM_DIGEST_LEN];
	uint8_t			 sig[DKIM_KEY_SIG_MAX];
	size_t			 dlen, siglen = sizeof(sig);
	uint64_t		 reqid;
	char			 why[128];
	int			 rc;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	if ((rc = signer_key_name(p, im, &m, &k)) == -1)
		return;
	/* More than 32 octets fails in m_get_data, fewer here. */
	if (m_get_data(&m, digest, sizeof(digest), &dlen) == -1 ||
	    m_end(&m) == -1 || dlen != sizeof(digest)) {
		mproc_malformed(p, im, &m);
		return;
	}
	if (rc == 1) {
		signer_sign_answer(p, reqid, NULL, 0, "invalid key name");
		return;
	}
	if ((key = signer_key_get(dirfd, &k)) == NULL) {
		if (errno == ENOENT) {
			log_warnx("signature refused: no %s key for domain %s "
			    "selector %s", dkim_alg_name(k.alg), k.domain,
			    k.selector);
			signer_sign_answer(p, reqid, NULL, 0,
			    "no such key");
		} else {
			log_warn("signature refused: %s key for domain %s "
			    "selector %s unusable", dkim_alg_name(k.alg),
			    k.domain, k.selector);
			snprintf(why, sizeof(why), "key unusable: %s",
			    strerror(errno));
			signer_sign_answer(p, reqid, NULL, 0, why);
		}
		return;
	}
	if (signer_sign_digest(key, k.alg, digest, dlen, sig, &siglen) ==
	    -1) {
		log_warnx("signature failed: %s key for domain %s selector %s",
		    dkim_alg_name(k.alg), k.domain, k.selector);
		signer_sign_answer(p, reqid, NULL, 0, "signing failed");
		return;
	}
	log_debug("signed for domain %s selector %s (%s)", k.domain,
	    k.selector, dkim_alg_name(k.alg));
	signer_sign_answer(p, reqid, sig, siglen, NULL);
}
