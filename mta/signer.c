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

/*
 * Generate a key pair, store the private key, answer with the public key.
 * The names are checked again here: the signer trusts no peer with a
 * path inside its directory.
 */
static void
signer_keygen(struct mproc *p, struct imsg *im)
{
	struct msg_in	 m;
	enum dkim_alg	 alg;
	EVP_PKEY	*key = NULL;
	char		 domain[DKIM_KEY_NAME_MAX + 1];
	char		 selector[DKIM_KEY_NAME_MAX + 1], algname[32];
	char		 file[DKIM_KEY_NAME_MAX * 2 + 64];
	char		 pub[DKIM_KEY_B64_MAX];
	uint64_t	 reqid;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 ||
	    m_get_string(&m, domain, sizeof(domain)) == -1 ||
	    m_get_string(&m, selector, sizeof(selector)) == -1 ||
	    m_get_string(&m, algname, sizeof(algname)) == -1 ||
	    m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	if (dkim_alg_lookup(algname, &alg) == -1 ||
	    dkim_key_filename(domain, selector, alg, file, sizeof(file)) ==
	    -1) {
		log_warnx("key generation refused: bad name %s/%s/%s", domain,
		    selector, algname);
		signer_keygen_answer(p, reqid, 0, "invalid key name");
		return;
	}
	if (dkim_key_generate(alg, &key) == -1 ||
	    dkim_key_public_b64(key, alg, pub, sizeof(pub)) == -1) {
		EVP_PKEY_free(key);
		log_warnx("%s: key generation failed", file);
		signer_keygen_answer(p, reqid, 0, "key generation failed");
		return;
	}
	if (dkim_key_write(signer_dirfd, file, key) == -1) {
		char	 why[128];

		snprintf(why, sizeof(why), "cannot store the private key: %s",
		    errno == EEXIST ? "a key of that name exists already" :
		    strerror(errno));
		log_warn("%s: cannot store the private key", file);
		EVP_PKEY_free(key);
		signer_keygen_answer(p, reqid, 0, why);
		return;
	}
	EVP_PKEY_free(key);
	log_info("DKIM key %s generated (%s)", file, dkim_alg_name(alg));
	signer_keygen_answer(p, reqid, 1, pub);
}

static void
signer_keydel(struct mproc *p, struct imsg *im)
{
	struct msg_in	 m;
	enum dkim_alg	 alg;
	char		 domain[DKIM_KEY_NAME_MAX + 1];
	char		 selector[DKIM_KEY_NAME_MAX + 1], algname[32];
	char		 file[DKIM_KEY_NAME_MAX * 2 + 64];
	struct stat	 st;

	msg_in_init(&m, im);
	if (m_get_string(&m, domain, sizeof(domain)) == -1 ||
	    m_get_string(&m, selector, sizeof(selector)) == -1 ||
	    m_get_string(&m, algname, sizeof(algname)) == -1 ||
	    m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	if (dkim_alg_lookup(algname, &alg) == -1 ||
	    dkim_key_filename(domain, selector, alg, file, sizeof(file)) ==
	    -1) {
		log_warnx("key removal refused: bad name %s/%s/%s", domain,
		    selector, algname);
		return;
	}
	/* lka also clears names that may hold nothing: say so only when
	 * there was a key. */
	if (fstatat(signer_dirfd, file, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return;
	if (dkim_key_remove(signer_dirfd, file) == -1)
		log_warn("%s: cannot remove", file);
	else
		log_info("DKIM key %s removed", file);
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
