/*
 * The signer process: the only holder of DKIM private keys.  It generates
 * key pairs on lka's request, keeps the private halves in the key
 * directory (its chroot) and, with the signing issue, signs digests for
 * mta.  It never touches the network and never sees a message body.
 * Start-up (confinement), imsg dispatch, shutdown.
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

struct signer_key {
	enum dkim_alg	 alg;
	char		 file[DKIM_KEY_NAME_MAX * 2 + 64];
};

/*
 * Read domain, selector and algorithm (the rest of a key message) and
 * make the key's file name.  The names are checked again here: the
 * signer trusts no peer with a path inside its directory.  Returns -1
 * for a malformed message (answered), 1 for a name refused, 0 for ok.
 */
static int
signer_key_name(struct mproc *p, struct imsg *im, struct msg_in *m,
    struct signer_key *k)
{
	char	 domain[DKIM_KEY_NAME_MAX + 1];
	char	 selector[DKIM_KEY_NAME_MAX + 1], algname[32];

	if (m_get_string(m, domain, sizeof(domain)) == -1 ||
	    m_get_string(m, selector, sizeof(selector)) == -1 ||
	    m_get_string(m, algname, sizeof(algname)) == -1 ||
	    m_end(m) == -1) {
		mproc_malformed(p, im, m);
		return -1;
	}
	if (dkim_alg_lookup(algname, &k->alg) == -1 ||
	    dkim_key_filename(domain, selector, k->alg, k->file,
	    sizeof(k->file)) == -1) {
		log_warnx("key refused: bad name %s/%s/%s", domain, selector,
		    algname);
		return 1;
	}
	return 0;
}

/* Generate a key pair, store the private key, answer with the public. */
static void
signer_keygen(struct mproc *p, struct imsg *im)
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
	if ((rc = signer_key_name(p, im, &m, &k)) != 0) {
		if (rc == 1)
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
	if (dkim_key_write(signer_dirfd, k.file, key) == -1) {
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
signer_keydel(struct mproc *p, struct imsg *im)
{
	struct msg_in		 m;
	struct signer_key	 k;
	struct stat		 st;

	msg_in_init(&m, im);
	if (signer_key_name(p, im, &m, &k) != 0)
		return;
	/* lka also clears names that may hold nothing: say so only when
	 * there was a key. */
	if (fstatat(signer_dirfd, k.file, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	if (dkim_key_remove(signer_dirfd, k.file) == -1)
		log_warn("%s: cannot remove", k.file);
	else
		log_info("DKIM key %s removed", k.file);
}

static void
signer_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im))
		return;
	switch (im->type) {
	case IMSG_LKA_DKIM_KEYGEN:
		signer_keygen(p, im);
		return;
	case IMSG_LKA_DKIM_KEYDEL:
		signer_keydel(p, im);
		return;
	}
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
	sandbox_enter(&spec, o->sandbox);
	/* Our chroot is the key directory; keep it open for *at() calls. */
	if ((signer_dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		fatal("open key directory");
	child_ready();
	child_run();
}
