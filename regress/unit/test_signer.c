/*
 * The signer over imsg: mta's signing requests (IMSG_MTA_DKIM_SIGN) and
 * lka's key messages go through a real mproc on a socketpair, with the
 * protocol check, into signer_imsg() on a key directory of our own.
 *
 * A request is answered with a signature only for a key of exactly its
 * domain, selector and algorithm; anything else is refused (ok=0) and
 * the channel stays up.  Only a malformed request (a digest that is not
 * 32 octets) breaks the channel, which in the daemon stops it.
 *
 * The last test signs in a fresh process under the signer's seccomp
 * filter: the test binary runs itself again in that mode.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "unit.h"

#include "dkim_key.h"
#include "log.h"
#include "mproc.h"
#include "msg.h"
#include "proto.h"
#include "sandbox.h"
#include "signer.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
#define SECCOMP_ARG	"--signer-seccomp-child"

struct answer {
	uint64_t	 reqid;
	int		 ok;
	uint8_t		 sig[DKIM_KEY_SIG_MAX];
	size_t		 siglen;
	char		 why[DKIM_KEY_B64_MAX];
};

/* A channel into the signer: our end (raw imsgbuf) and its mproc. */
struct chan {
	struct mproc	 sp;
	struct imsgbuf	 ib;
	int		 fd;
	char		 closed[256];	/* why the signer closed it */
};

static char		 top[64];
static int		 dfd = -1;
static struct chan	 mta, lka;
static uint64_t		 next_reqid = 1;

/* Made once: RSA key generation is slow. */
static EVP_PKEY		*rsa, *ed, *ed_other;

static void
handler(struct mproc *p, struct imsg *im)
{
	if (!signer_imsg(p, im, dfd))
		mproc_malformed(p, im, NULL);
}

static void
closer(struct mproc *p, const char *why)
{
	struct chan	*c = p->arg;

	snprintf(c->closed, sizeof(c->closed), "%s",
	    why != NULL ? why : "closed");
}

static void
chan_open(struct chan *c, enum proc_id peer)
{
	int	 fds[2];

	memset(c, 0, sizeof(*c));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1)
		fail_msg("socketpair: %s", strerror(errno));
	mproc_init(&c->sp, fds[0], PROC_SIGNER, peer, handler, closer, c);
	imsgbuf_init(&c->ib, fds[1]);
	c->fd = fds[1];
}

static void
chan_close(struct chan *c)
{
	mproc_clear(&c->sp);
	imsgbuf_clear(&c->ib);
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

/* Send one message to the signer and let it handle it. */
static void
chan_send(struct chan *c, uint32_t type, const struct msg_out *m)
{
	assert_false(m->overflow);
	assert_int_equal(imsgbuf_compose(&c->ib, type, 0, -1, m->buf,
	    m->len), 0);
	while (imsgbuf_pending(&c->ib))
		assert_int_equal(imsgbuf_write(&c->ib), 0);
	assert_int_equal(event_loop(EVLOOP_ONCE), 0);
	if (c->closed[0] == '\0')
		assert_int_equal(mproc_flush(&c->sp), 0);
}

/* Receive the one message the signer must have answered with. */
static void
chan_recv(struct chan *c, uint32_t type, struct msg_in *m, struct imsg *im)
{
	int	 r;

	while ((r = imsgbuf_get(&c->ib, im)) == 0)
		if (imsgbuf_read(&c->ib) <= 0)
			fail_msg("no answer from the signer: %s",
			    c->closed[0] != '\0' ? c->closed : "nothing");
	assert_int_equal(r, 1);
	assert_int_equal(im->type, type);
	msg_in_init(m, im);
}

static void
sign_raw(const char *domain, const char *selector, const char *alg,
    const uint8_t *digest, size_t dlen, uint64_t reqid)
{
	struct msg_out	 m;

	msg_out_init(&m);
	m_add_u64(&m, reqid);
	m_add_string(&m, domain);
	m_add_string(&m, selector);
	m_add_string(&m, alg);
	m_add_data(&m, digest, dlen);
	chan_send(&mta, IMSG_MTA_DKIM_SIGN, &m);
}

static void
sign(const char *domain, const char *selector, const char *alg,
    const uint8_t *digest, struct answer *a)
{
	struct msg_in	 m;
	struct imsg	 im;
	uint64_t	 reqid = next_reqid++;

	sign_raw(domain, selector, alg, digest, DKIM_DIGEST_LEN, reqid);
	if (mta.closed[0] != '\0')
		fail_msg("%s/%s/%s: channel closed: %s", domain, selector,
		    alg, mta.closed);
	chan_recv(&mta, IMSG_SIGNER_DKIM_SIGNATURE, &m, &im);
	memset(a, 0, sizeof(*a));
	assert_int_equal(m_get_u64(&m, &a->reqid), 0);
	assert_int_equal(m_get_int(&m, &a->ok), 0);
	assert_int_equal(m_get_data(&m, a->sig, sizeof(a->sig), &a->siglen),
	    0);
	assert_int_equal(m_get_string(&m, a->why, sizeof(a->why)), 0);
	assert_int_equal(m_end(&m), 0);
	assert_int_equal(a->reqid, reqid);
	if (a->ok)
		assert_string_equal(a->why, "");
	else {
		assert_int_equal(a->siglen, 0);
		assert_true(a->why[0] != '\0');
	}
}

static void
key_msg(uint32_t type, const char *domain, const char *selector,
    const char *alg, struct answer *a)
{
	struct msg_out	 m;
	struct msg_in	 in;
	struct imsg	 im;

	msg_out_init(&m);
	if (type == IMSG_LKA_DKIM_KEYGEN)
		m_add_u64(&m, next_reqid++);
	m_add_string(&m, domain);
	m_add_string(&m, selector);
	m_add_string(&m, alg);
	chan_send(&lka, type, &m);
	assert_string_equal(lka.closed, "");
	if (type != IMSG_LKA_DKIM_KEYGEN)
		return;
	/* the answer: reqid, ok, the public key (p=) or why */
	chan_recv(&lka, IMSG_SIGNER_DKIM_KEY, &in, &im);
	memset(a, 0, sizeof(*a));
	assert_int_equal(m_get_u64(&in, &a->reqid), 0);
	assert_int_equal(m_get_int(&in, &a->ok), 0);
	assert_int_equal(m_get_string(&in, a->why, sizeof(a->why)), 0);
	assert_int_equal(m_end(&in), 0);
}

static void
digest_of(const char *text, uint8_t *digest)
{
	unsigned int	 len;

	assert_int_equal(EVP_Digest(text, strlen(text), digest, &len,
	    EVP_sha256(), NULL), 1);
	assert_int_equal(len, DKIM_DIGEST_LEN);
}

/*
 * Verify as a DKIM verifier would: RSA over the whole text with SHA-256
 * (so the signature is a plain RSASSA-PKCS1-v1_5 SHA-256 one), Ed25519
 * over the 32 digest octets (RFC 8463).
 */
static int
verifies(EVP_PKEY *key, const char *text, const struct answer *a)
{
	EVP_MD_CTX	*mctx;
	uint8_t		 digest[DKIM_DIGEST_LEN];
	int		 ok;

	assert_non_null(mctx = EVP_MD_CTX_new());
	if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA)
		ok = EVP_DigestVerifyInit(mctx, NULL, EVP_sha256(), NULL,
		    key) == 1 && EVP_DigestVerify(mctx, a->sig, a->siglen,
		    (const uint8_t *)text, strlen(text)) == 1;
	else {
		digest_of(text, digest);
		ok = EVP_DigestVerifyInit(mctx, NULL, NULL, NULL, key) == 1 &&
		    EVP_DigestVerify(mctx, a->sig, a->siglen, digest,
		    sizeof(digest)) == 1;
	}
	EVP_MD_CTX_free(mctx);
	return ok;
}

/* The public key of a p= value from keygen. */
static EVP_PKEY *
public_of(const char *b64, const char *alg)
{
	uint8_t		 raw[DKIM_KEY_B64_MAX];
	const uint8_t	*p = raw;
	EVP_PKEY	*key;
	int		 n, pad = 0;

	n = EVP_DecodeBlock(raw, (const uint8_t *)b64, strlen(b64));
	assert_true(n > 0);
	if (strlen(b64) >= 2 && b64[strlen(b64) - 1] == '=')
		pad = b64[strlen(b64) - 2] == '=' ? 2 : 1;
	n -= pad;
	if (strcmp(alg, "rsa-sha256") == 0)
		key = d2i_PUBKEY(NULL, &p, n);
	else
		key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw,
		    n);
	assert_non_null(key);
	return key;
}

static void
write_key(const char *domain, const char *selector, enum dkim_alg alg,
    EVP_PKEY *key)
{
	char	 file[DKIM_KEY_NAME_MAX * 2 + 64];

	assert_int_equal(dkim_key_filename(domain, selector, alg, file,
	    sizeof(file)), 0);
	assert_int_equal(dkim_key_write(dfd, file, key), 0);
}

static int
group_setup(void **state)
{
	if (event_init() == NULL)
		return -1;
	log_init(1, 0);
	if (dkim_key_generate(DKIM_ALG_RSA_SHA256, &rsa) == -1 ||
	    dkim_key_generate(DKIM_ALG_ED25519_SHA256, &ed) == -1 ||
	    dkim_key_generate(DKIM_ALG_ED25519_SHA256, &ed_other) == -1)
		return -1;
	return 0;
}

static int
group_teardown(void **state)
{
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ed_other);
	return 0;
}

/*
 * example.com has k1 (rsa-sha256) and k2 (ed25519-sha256); other.org has
 * o1 (ed25519-sha256), a key of its own.
 */
static int
setup(void **state)
{
	snprintf(top, sizeof(top), "/tmp/sendgate-signer-XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	if ((dfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	write_key("example.com", "k1", DKIM_ALG_RSA_SHA256, rsa);
	write_key("example.com", "k2", DKIM_ALG_ED25519_SHA256, ed);
	write_key("other.org", "o1", DKIM_ALG_ED25519_SHA256, ed_other);
	chan_open(&mta, PROC_MTA);
	chan_open(&lka, PROC_LKA);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[PATH_MAX + 16];

	chan_close(&mta);
	chan_close(&lka);
	signer_cache_clear();
	close(dfd);
	dfd = -1;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_sign_rsa(void **state)
{
	const char	*text = "from:a@example.com\r\nsubject:hi\r\n";
	uint8_t		 digest[DKIM_DIGEST_LEN];
	struct answer	 a, b;

	digest_of(text, digest);
	sign("example.com", "k1", "rsa-sha256", digest, &a);
	assert_int_equal(a.ok, 1);
	assert_int_equal(a.siglen, 256);
	assert_true(verifies(rsa, text, &a));
	assert_false(verifies(ed, text, &a));
	assert_int_equal(signer_cache_count(), 1);

	/* From the cache now: the same (deterministic) signature. */
	sign("example.com", "k1", "rsa-sha256", digest, &b);
	assert_int_equal(b.ok, 1);
	assert_int_equal(b.siglen, a.siglen);
	assert_memory_equal(b.sig, a.sig, a.siglen);
	assert_int_equal(signer_cache_count(), 1);
	assert_string_equal(mta.closed, "");
}

static void
test_sign_ed25519(void **state)
{
	const char	*text = "from:b@example.com\r\n";
	uint8_t		 digest[DKIM_DIGEST_LEN];
	struct answer	 a;

	digest_of(text, digest);
	sign("example.com", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 1);
	assert_int_equal(a.siglen, 64);
	assert_true(verifies(ed, text, &a));
	assert_false(verifies(ed_other, text, &a));
	assert_string_equal(mta.closed, "");
}

static void
test_unknown_domain(void **state)
{
	uint8_t		 digest[DKIM_DIGEST_LEN];
	struct answer	 a;

	digest_of("x", digest);
	sign("unknown.example", "k1", "rsa-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	assert_string_equal(a.why, "no such key");
	sign("example.org", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	/* a parent or a subdomain of a signing domain is another domain */
	sign("com", "k1", "rsa-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	sign("mail.example.com", "k1", "rsa-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	assert_string_equal(mta.closed, "");
}

/* Selectors are per domain: one domain never signs with another's key. */
static void
test_other_domains_key(void **state)
{
	const char	*text = "from:c@other.org\r\n";
	uint8_t		 digest[DKIM_DIGEST_LEN];
	struct answer	 a;

	digest_of(text, digest);
	/* other.org with example.com's selectors */
	sign("other.org", "k1", "rsa-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	sign("other.org", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	/* and the other way round */
	sign("example.com", "o1", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	/* also with example.com's keys already in the cache */
	sign("example.com", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 1);
	sign("other.org", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	/* other.org's own key signs, and only as itself */
	sign("other.org", "o1", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 1);
	assert_true(verifies(ed_other, text, &a));
	assert_false(verifies(ed, text, &a));
	assert_string_equal(mta.closed, "");
}

static void
test_wrong_algorithm(void **state)
{
	uint8_t		 digest[DKIM_DIGEST_LEN];
	struct answer	 a;

	digest_of("x", digest);
	/* k1 is RSA only, k2 Ed25519 only */
	sign("example.com", "k1", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	assert_string_equal(a.why, "no such key");
	sign("example.com", "k2", "rsa-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	/* an algorithm we do not sign with */
	sign("example.com", "k1", "rsa-sha1", digest, &a);
	assert_int_equal(a.ok, 0);
	assert_string_equal(a.why, "invalid key name");
	/* a file named for Ed25519 that holds an RSA key is not used */
	write_key("example.com", "k3", DKIM_ALG_ED25519_SHA256, rsa);
	sign("example.com", "k3", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	assert_non_null(strstr(a.why, "key unusable"));
	assert_int_equal(signer_cache_count(), 0);
	assert_string_equal(mta.closed, "");
}

/*
 * Names that are not a domain or selector are refused like keygen
 * refuses them (ok=0, "invalid key name"), not treated as malformed:
 * they are well-formed strings that come from lka's state through mta,
 * and a bad row there must not stop the daemon.
 */
static void
test_bad_names(void **state)
{
	static const char *const bad[][2] = {
		{ "../example.com", "k1" },
		{ "example.com/..", "k1" },
		{ "..", "k1" },
		{ ".", "k1" },
		{ "example.com", "../k1" },
		{ "example.com", "k1/../k1" },
		{ "example.com", "/k1" },
		{ "example.com", ".." },
		{ "example.com/k1", "k1" },
		{ "", "k1" },
		{ "example.com", "" },
		{ "Example.com", "k1" },
		{ "example.com.", "k1" },
		{ "example.com", "k1 " },
		{ "example..com", "k1" },
	};
	uint8_t		 digest[DKIM_DIGEST_LEN];
	struct answer	 a;
	size_t		 i;

	digest_of("x", digest);
	for (i = 0; i < NROWS(bad); i++) {
		sign(bad[i][0], bad[i][1], "rsa-sha256", digest, &a);
		if (a.ok || strcmp(a.why, "invalid key name") != 0)
			fail_msg("\"%s\" \"%s\": ok=%d why=%s", bad[i][0],
			    bad[i][1], a.ok, a.why);
	}
	assert_string_equal(mta.closed, "");
	/* the channel still works */
	sign("example.com", "k1", "rsa-sha256", digest, &a);
	assert_int_equal(a.ok, 1);
}

/* A digest that is not 32 octets is a broken mta: the channel breaks. */
static void
test_digest_length(void **state)
{
	static const size_t	 lens[] = { 0, 1, 20, 31, 33, 64 };
	uint8_t			 digest[64];
	size_t			 i;

	memset(digest, 'd', sizeof(digest));
	for (i = 0; i < NROWS(lens); i++) {
		if (i > 0) {
			chan_close(&mta);
			chan_open(&mta, PROC_MTA);
		}
		sign_raw("example.com", "k1", "rsa-sha256", digest, lens[i],
		    1);
		if (strstr(mta.closed, "malformed message") == NULL)
			fail_msg("digest of %zu octets: closed \"%s\"",
			    lens[i], mta.closed);
	}
	/* a digest that is not data, and an item too many */
	chan_close(&mta);
	chan_open(&mta, PROC_MTA);
	{
		struct msg_out	 m;

		msg_out_init(&m);
		m_add_u64(&m, 1);
		m_add_string(&m, "example.com");
		m_add_string(&m, "k1");
		m_add_string(&m, "rsa-sha256");
		m_add_data(&m, digest, DKIM_DIGEST_LEN);
		m_add_int(&m, 0);
		chan_send(&mta, IMSG_MTA_DKIM_SIGN, &m);
		assert_non_null(strstr(mta.closed, "malformed message"));
	}
	/* a bad name with a bad digest is malformed, not just refused */
	chan_close(&mta);
	chan_open(&mta, PROC_MTA);
	sign_raw("../x", "k1", "rsa-sha256", digest, 31, 1);
	assert_non_null(strstr(mta.closed, "malformed message"));
}

/* Only mta may ask for a signature. */
static void
test_sign_from_lka_refused(void **state)
{
	struct msg_out	 m;
	uint8_t		 digest[DKIM_DIGEST_LEN] = { 0 };

	msg_out_init(&m);
	m_add_u64(&m, 1);
	m_add_string(&m, "example.com");
	m_add_string(&m, "k1");
	m_add_string(&m, "rsa-sha256");
	m_add_data(&m, digest, sizeof(digest));
	chan_send(&lka, IMSG_MTA_DKIM_SIGN, &m);
	assert_non_null(strstr(lka.closed, "not allowed"));
}

static void
test_keydel_evicts(void **state)
{
	const char	*text = "from:d@example.com\r\n";
	uint8_t		 digest[DKIM_DIGEST_LEN];
	struct answer	 a, g;
	EVP_PKEY	*pub;

	digest_of(text, digest);
	sign("example.com", "k1", "rsa-sha256", digest, &a);
	assert_int_equal(a.ok, 1);
	sign("example.com", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 1);
	assert_int_equal(signer_cache_count(), 2);

	key_msg(IMSG_LKA_DKIM_KEYDEL, "example.com", "k1", "rsa-sha256",
	    NULL);
	assert_int_equal(signer_cache_count(), 1);
	sign("example.com", "k1", "rsa-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	assert_string_equal(a.why, "no such key");
	/* the other key is untouched */
	sign("example.com", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 1);

	/* A key made anew under the same name: the new key signs. */
	key_msg(IMSG_LKA_DKIM_KEYDEL, "example.com", "k2", "ed25519-sha256",
	    NULL);
	key_msg(IMSG_LKA_DKIM_KEYGEN, "example.com", "k2", "ed25519-sha256",
	    &g);
	assert_int_equal(g.ok, 1);
	pub = public_of(g.why, "ed25519-sha256");
	sign("example.com", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 1);
	assert_true(verifies(pub, text, &a));
	assert_false(verifies(ed, text, &a));
	EVP_PKEY_free(pub);
	assert_string_equal(mta.closed, "");
}

/* Removed or replaced behind the signer's back: still never stale. */
static void
test_file_changed(void **state)
{
	const char	*text = "from:e@example.com\r\n";
	uint8_t		 digest[DKIM_DIGEST_LEN];
	struct answer	 a;
	char		 file[DKIM_KEY_NAME_MAX * 2 + 64];

	digest_of(text, digest);
	sign("example.com", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 1);
	assert_int_equal(dkim_key_filename("example.com", "k2",
	    DKIM_ALG_ED25519_SHA256, file, sizeof(file)), 0);
	assert_int_equal(unlinkat(dfd, file, 0), 0);
	sign("example.com", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	assert_string_equal(a.why, "no such key");
	assert_int_equal(signer_cache_count(), 0);

	write_key("example.com", "k2", DKIM_ALG_ED25519_SHA256, ed_other);
	sign("example.com", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 1);
	assert_true(verifies(ed_other, text, &a));

	/* made readable by others: no longer trusted */
	assert_int_equal(fchmodat(dfd, file, 0644, 0), 0);
	sign("example.com", "k2", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 0);
	assert_non_null(strstr(a.why, "key unusable"));
}

/* More keys than the cache holds: the least recently used go. */
static void
test_cache_bound(void **state)
{
	char		 sel[16];
	uint8_t		 digest[DKIM_DIGEST_LEN];
	struct answer	 a;
	int		 i;
	const int	 n = 1030;

	digest_of("x", digest);
	for (i = 0; i < n; i++) {
		snprintf(sel, sizeof(sel), "s%d", i);
		write_key("example.com", sel, DKIM_ALG_ED25519_SHA256, ed);
	}
	for (i = 0; i < n; i++) {
		snprintf(sel, sizeof(sel), "s%d", i);
		sign("example.com", sel, "ed25519-sha256", digest, &a);
		assert_int_equal(a.ok, 1);
		assert_true(signer_cache_count() <= 1024);
	}
	assert_int_equal(signer_cache_count(), 1024);
	/* s0 was evicted: loaded again */
	sign("example.com", "s0", "ed25519-sha256", digest, &a);
	assert_int_equal(a.ok, 1);
	assert_int_equal(signer_cache_count(), 1024);
}

/*
 * In the child: sign with both keys (loading them from files), delete
 * and make a key, all under the signer's seccomp filter.  A call the
 * filter does not allow kills the process with SIGSYS.
 */
static int
seccomp_child(const char *dir)
{
	uint8_t		 digest[DKIM_DIGEST_LEN];
	struct answer	 a, g;
	int		 fail = 0;

	if (event_init() == NULL)
		return 10;
	log_init(1, 0);
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return 11;
	chan_open(&mta, PROC_MTA);
	chan_open(&lka, PROC_LKA);
	/* as signer_main: configuration before the sandbox, nothing else */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL))
		return 12;
	if (sandbox_filter_load(signer_sandbox_rules, SANDBOX_ENFORCE) == -1)
		return 13;
	memset(digest, 7, sizeof(digest));
	sign("example.com", "k1", "rsa-sha256", digest, &a);
	fail |= !a.ok || a.siglen != 256;
	sign("example.com", "k2", "ed25519-sha256", digest, &a);
	fail |= !a.ok || a.siglen != 64;
	sign("example.com", "k1", "rsa-sha256", digest, &a);
	fail |= !a.ok;
	sign("example.com", "nokey", "rsa-sha256", digest, &a);
	fail |= a.ok;
	key_msg(IMSG_LKA_DKIM_KEYDEL, "example.com", "k1", "rsa-sha256",
	    NULL);
	key_msg(IMSG_LKA_DKIM_KEYGEN, "example.com", "k1", "rsa-sha256", &g);
	fail |= !g.ok;
	sign("example.com", "k1", "rsa-sha256", digest, &a);
	fail |= !a.ok || a.siglen != 256;
	return fail ? 20 : 0;
}

static void
test_sign_under_seccomp(void **state)
{
	char	*argv[] = { "test_signer", SECCOMP_ARG, top, NULL };
	pid_t	 pid;
	int	 status;

	if ((pid = fork()) == -1)
		fail_msg("fork: %s", strerror(errno));
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("signer under seccomp: %s %d",
		    WIFSIGNALED(status) ? "signal" : "exit",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
}

int
main(int argc, char *argv[])
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sign_rsa, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_ed25519, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unknown_domain, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_other_domains_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_algorithm, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_digest_length, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_from_lka_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_keydel_evicts, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_file_changed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cache_bound, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sign_under_seccomp, setup,
		    teardown),
	};

	/* Exits with exit_group: no atexit handler (LeakSanitizer's
	 * thread) runs under the filter. */
	if (argc == 3 && strcmp(argv[1], SECCOMP_ARG) == 0)
		syscall(SYS_exit_group, seccomp_child(argv[2]));
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
