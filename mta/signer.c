/*
 * The signer process: the only holder of DKIM private keys.  It generates
 * key pairs on lka's request, keeps the private halves in the key
 * directory (its chroot) and signs digests for mta (signer_sign.c).  It
 * never touches the network and never sees a message body.
 * Start-up (confinement), imsg dispatch, key generation and removal.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "child.h"
#include "config.h"
#include "dkim_key.h"
#include "log.h"
#include "proto.h"
#include "signer.h"

static int	 signer_dirfd = -1;

static void
signer_keygen_answer(struct mproc *p, uint64_t reqid, int ok,
    const char *text)
{
	struct msg_out	 m;

	msg_out_init(&m);
	m_add_u64(&m, reqid);
	m_add_int(&m, ok);
	m_add_string(&m, text);
	mproc_send(p, IMSG_SIGNER_DKIM_KEY, 0, -1, &m);
}

/*
 * Read domain, selector and algorithm (the next items of a key or sign
 * message) and make the key's file name; the caller checks what follows.
 * The names are checked again here: the signer trusts no peer with a
 * path inside its directory.  Returns -1 for a malformed message
 * (answered), 1 for a name refused (logged), 0 for ok.
 */
int
signer_key_name(struct mproc *p, struct imsg *im, struct msg_in *m,
    struct signer_key *k)
{
	char	 algname[32];

	if (m_get_string(m, k->domain, sizeof(k->domain)) == -1 ||
	    m_get_string(m, k->selector, sizeof(k->selector)) == -1 ||
	    m_get_string(m, algname, sizeof(algname)) == -1) {
		mproc_malformed(p, im, m);
		return -1;
	}
	if (dkim_alg_lookup(algname, &k->alg) == -1 ||
	    dkim_key_filename(k->domain, k->selector, k->alg, k->file,
	    sizeof(k->file)) == -1) {
		log_warnx("key refused: bad name %s/%s/%s", k->domain,
		    k->selector, algname);
		return 1;
	}
	return 0;
}

/* Generate a key pair, store the private key, answer with the public. */
static void
signer_keygen(struct mproc *p, struct imsg *im, int dirfd)
{
	struct msg_in		 m;
	struct signer_key	 k;
	EVP_PKEY		*key = NULL;
	char			 pub[DKIM_KEY_B64_MAX], why[128];
	uint64_t		 reqid;
	int			 rc;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	if ((rc = signer_key_name(p, im, &m, &k)) == -1)
		return;
	if (m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	if (rc == 1) {
		signer_keygen_answer(p, reqid, 0, "invalid key name");
		return;
	}
	if (dkim_key_generate(k.alg, &key) == -1 ||
	    dkim_key_public_b64(key, k.alg, pub, sizeof(pub)) == -1) {
		EVP_PKEY_free(key);
		log_warnx("%s: key generation failed", k.file);
		signer_keygen_answer(p, reqid, 0, "key generation failed");
		return;
	}
	if (dkim_key_write(dirfd, k.file, key) == -1) {
		snprintf(why, sizeof(why), "cannot store the private key: %s",
		    errno == EEXIST ? "a key of that name exists already" :
		    strerror(errno));
		log_warn("%s: cannot store the private key", k.file);
		EVP_PKEY_free(key);
		signer_keygen_answer(p, reqid, 0, why);
		return;
	}
	EVP_PKEY_free(key);
	log_info("DKIM key %s generated (%s)", k.file, dkim_alg_name(k.alg));
	signer_keygen_answer(p, reqid, 1, pub);
}

static void
signer_keydel(struct mproc *p, struct imsg *im, int dirfd)
{
	struct msg_in		 m;
	struct signer_key	 k;
	struct stat		 st;
	int			 rc;

	msg_in_init(&m, im);
	if ((rc = signer_key_name(p, im, &m, &k)) == -1)
		return;
	if (m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	if (rc == 1)
		return;
	/* Never sign with it again, whatever happens to the file. */
	signer_cache_evict(k.file);
	/* lka also clears names that may hold nothing: say so only when
	 * there was a key. */
	if (fstatat(dirfd, k.file, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	if (dkim_key_remove(dirfd, k.file) == -1)
		log_warn("%s: cannot remove", k.file);
	else
		log_info("DKIM key %s removed", k.file);
}

/*
 * The signer's own messages, on the key directory dirfd (the unit tests
 * drive this on a directory of their own).  Returns 0 for a type that is
 * not one of them.
 */
int
signer_imsg(struct mproc *p, struct imsg *im, int dirfd)
{
	switch (im->type) {
	case IMSG_LKA_DKIM_KEYGEN:
		signer_keygen(p, im, dirfd);
		return 1;
	case IMSG_LKA_DKIM_KEYDEL:
		signer_keydel(p, im, dirfd);
		return 1;
	case IMSG_MTA_DKIM_SIGN:
		signer_sign(p, im, dirfd);
		return 1;
	}
	return 0;
}

static void
signer_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im))
		return;
	if (signer_imsg(p, im, signer_dirfd))
		return;
	mproc_malformed(p, im, NULL);
}

void
signer_main(struct sendgated_conf *conf, const struct child_opts *o)
{
	struct sandbox_spec	 spec = {
		.name = "signer",
		.root = conf->keys_dir,
		.user = conf->signer_user,
		.nowrite = 0,
		.rules = signer_sandbox_rules,
	};

	setproctitle("%s", "signer");
	/* libcrypto reads its configuration once, before the chroot. */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL))
		fatalx("cannot initialize libcrypto");
	child_setup(o, signer_dispatch);
	/* Private keys do not stay in memory past an orderly exit. */
	child_on_exit(signer_cache_clear);
	sandbox_enter(&spec, o->sandbox);
	/* Our chroot is the key directory; keep it open for *at() calls. */
	if ((signer_dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		fatal("open key directory");
	child_ready();
	child_run();
}
