/*
 * dkimspeed: micro benchmark of sendgated's DKIM signing (issue 7) for
 * regress/bench/bench_dkim.py.  Links the project library, so it runs
 * the very code of the mta (mta/dkim_sign.c) and of the signer process
 * (signer_sign_digest() in mta/signer_sign.c), without the imsg round
 * trip between them.
 *
 *   dkimspeed [-b MiB] [-m bytes] [-s seconds] [-r rounds]
 *
 * 1. Body hash: a message of -b MiB (64) of text with CRLF lines (words,
 *    runs of spaces, trailing whitespace, empty lines: work for the
 *    relaxed canonicalization) fed to dkim_sign_feed() in 64 KiB chunks
 *    (the mta's pread size), then dkim_sign_finish(): MB/s (10^6 octets)
 *    of the message, relaxed and simple body canonicalization, next to
 *    plain SHA-256 of the same octets through EVP_Digest (the limit).
 * 2. Signing cost per message of -m bytes (4096) of body: dkim_sign_new,
 *    feed, finish, digest, signer_sign_digest() per signature,
 *    dkim_sign_field, dkim_sign_free ("ours"); signer_sign_digest()
 *    alone ("signer"); and "raw": libcrypto's own signing of a 32-octet
 *    digest with a context made once and reused (what `openssl speed`
 *    does); for rsa-sha256, rsa-sha256 + ed25519-sha256 and ed25519.
 *    The three take turns in 20 ms slices for -s seconds per round, -r
 *    rounds; overhead = the median over the rounds of (ours - raw) / raw.
 *    Also the mta's part alone.  Times are CPU time of the process
 *    (CLOCK_PROCESS_CPUTIME_ID; one thread), so other load on the machine
 *    slows them less than wall time.
 *
 * The keys are made by dkim_key_generate(), written with dkim_key_write()
 * and read back with dkim_key_load(), as the signer has them.
 * Prints a human summary on stderr and one JSON object on stdout.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "dkim_key.h"
#include "dkim_sign.h"
#include "signer.h"

#define CHUNK		(64 * 1024)
#define ROUNDS_MAX	15

static double
cpu_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
wall_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what)
{
	fprintf(stderr, "dkimspeed: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static uint64_t	 rng = 0x9e3779b97f4a7c15ULL;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

static const char *words[] = {
	"the", "of", "and", "a", "to", "in", "is", "you", "that", "it",
	"message", "delivery", "account", "invoice", "please", "order",
	"shipped", "tracking", "number", "customer", "support", "thank",
	"regards", "https://example.com/track?id=4711", "2026-11-26",
	"confirmation", "password", "reset", "Dear", "Hello,", "total:",
	"EUR", "12.50", "newsletter", "unsubscribe", "welcome", "team",
};

/*
 * len octets of body text: lines up to 76 characters of words, now and
 * then two or three spaces or a tab between words, trailing blanks, an
 * empty line; every line ends in CRLF.  Ends in CRLF.
 */
static char *
make_body(size_t len)
{
	char	*b, *p;
	size_t	 nw = sizeof(words) / sizeof(words[0]);
	size_t	 col = 0, i;

	if ((b = malloc(len)) == NULL)
		die("malloc");
	p = b;
	while ((size_t)(p - b) + 100 < len) {
		const char	*w = words[rnd((uint32_t)nw)];
		size_t		 wl = strlen(w);

		if (col + wl + 3 > 76 || rnd(60) == 0) {
			if (rnd(8) == 0)
				*p++ = ' ';	/* trailing blank */
			*p++ = '\r';
			*p++ = '\n';
			if (rnd(12) == 0) {
				*p++ = '\r';	/* empty line */
				*p++ = '\n';
			}
			col = 0;
		}
		if (col > 0) {
			i = rnd(20);
			if (i == 0) {
				*p++ = ' ';
				*p++ = ' ';
				col += 2;
			} else if (i == 1) {
				*p++ = '\t';
				col++;
			}
			*p++ = ' ';
			col++;
		}
		memcpy(p, w, wl);
		p += wl;
		col += wl;
	}
	while ((size_t)(p - b) < len - 2)
		*p++ = 'x';
	*p++ = '\r';
	*p++ = '\n';
	return b;
}

/* len octets of base64 lines (an attachment): 76 characters, CRLF. */
static char *
make_b64(size_t len)
{
	static const char	 alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char			*b;
	size_t			 i, col = 0;

	if ((b = malloc(len)) == NULL)
		die("malloc");
	for (i = 0; i + 2 < len; i++) {
		if (col == 76) {
			b[i++] = '\r';
			b[i] = '\n';
			col = 0;
			continue;
		}
		b[i] = alpha[rnd(64)];
		col++;
	}
	for (; i < len - 2; i++)
		b[i] = 'A';
	b[len - 2] = '\r';
	b[len - 1] = '\n';
	return b;
}

static const char HEADER[] =
    "Received: from load.bench.example (localhost [127.0.0.1])\r\n"
    "\tby bench.localdomain with ESMTPSA id 4711; "
    "Thu, 26 Nov 2026 10:00:00 +0000\r\n"
    "From: <load@bench.example>\r\n"
    "To: <sink@example.net>\r\n"
    "Subject: bench message 1.1\r\n"
    "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
    "Message-ID: <1.1.4711@load.bench.example>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "\r\n";

struct msg {
	char	*data;
	size_t	 len;
};

static struct msg
make_msg(size_t bodylen, int b64)
{
	struct msg	 m;
	char		*body = b64 ? make_b64(bodylen) : make_body(bodylen);

	m.len = sizeof(HEADER) - 1 + bodylen;
	if ((m.data = malloc(m.len)) == NULL)
		die("malloc");
	memcpy(m.data, HEADER, sizeof(HEADER) - 1);
	memcpy(m.data + sizeof(HEADER) - 1, body, bodylen);
	free(body);
	return m;
}

/* ---------------------------------------------------------------- keys */

struct keys {
	EVP_PKEY	*rsa, *ed;
	int		 loaded;	/* read back from files as the signer */
};

static EVP_PKEY *
key_for(enum dkim_alg alg, int dirfd, int *loaded)
{
	EVP_PKEY	*gen, *key;
	char		 file[DKIM_KEY_NAME_MAX * 2 + 64];

	if (dkim_key_generate(alg, &gen) == -1)
		die("dkim_key_generate");
	if (dirfd == -1 ||
	    dkim_key_filename("bench.example", alg == DKIM_ALG_RSA_SHA256 ?
	    "sendgate-rsa" : "sendgate-ed25519", alg, file, sizeof(file))
	    == -1 || dkim_key_write(dirfd, file, gen) == -1 ||
	    dkim_key_load(dirfd, file, alg, &key) == -1) {
		*loaded = 0;
		return gen;
	}
	EVP_PKEY_free(gen);
	(void)dkim_key_remove(dirfd, file);
	return key;
}

static void
keys_make(struct keys *k)
{
	char	 dir[] = "/tmp/dkimspeed.XXXXXX";
	int	 dirfd = -1;

	k->loaded = 1;
	if (mkdtemp(dir) == NULL ||
	    (dirfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
		k->loaded = 0;
	k->rsa = key_for(DKIM_ALG_RSA_SHA256, dirfd, &k->loaded);
	k->ed = key_for(DKIM_ALG_ED25519_SHA256, dirfd, &k->loaded);
	if (dirfd != -1)
		close(dirfd);
	(void)rmdir(dir);
}

/* ------------------------------------------------------------ the work */

struct sigspec {
	const char	*name;
	size_t		 nsig;
	enum dkim_alg	 alg[2];
};

static const struct sigspec SPECS[] = {
	{ "rsa", 1, { DKIM_ALG_RSA_SHA256 } },
	{ "rsa+ed25519", 2, { DKIM_ALG_RSA_SHA256, DKIM_ALG_ED25519_SHA256 } },
	{ "ed25519", 1, { DKIM_ALG_ED25519_SHA256 } },
};
#define NSPECS	(sizeof(SPECS) / sizeof(SPECS[0]))

static struct keys	 K;
static volatile size_t	 sink_len;	/* keeps results alive */

static EVP_PKEY *
key_of(enum dkim_alg alg)
{
	return alg == DKIM_ALG_RSA_SHA256 ? K.rsa : K.ed;
}

/* The mta's part of one message: dkim_sign_new .. finish. */
static struct dkim_sign *
hash_msg(const struct sigspec *sp, const struct msg *m, enum dkim_canon bc,
    size_t chunk)
{
	struct dkim_sign_params	 prm;
	struct dkim_sign	*ds;
	enum dkim_sign_error	 err;
	size_t			 off, n, i;

	memset(&prm, 0, sizeof(prm));
	prm.domain = "bench.example";
	for (i = 0; i < sp->nsig; i++) {
		prm.sig[i].alg = sp->alg[i];
		prm.sig[i].selector = sp->alg[i] == DKIM_ALG_RSA_SHA256 ?
		    "sendgate-rsa" : "sendgate-ed25519";
	}
	prm.nsig = sp->nsig;
	prm.hcanon = DKIM_CANON_RELAXED;
	prm.bcanon = bc;
	prm.time = (int64_t)time(NULL);
	if ((ds = dkim_sign_new(&prm, &err)) == NULL)
		die("dkim_sign_new");
	for (off = 0; off < m->len; off += n) {
		n = m->len - off < chunk ? m->len - off : chunk;
		if (dkim_sign_feed(ds, m->data + off, n) == -1)
			die("dkim_sign_feed");
	}
	if (dkim_sign_finish(ds) == -1)
		die("dkim_sign_finish");
	return ds;
}

/* One message, signed as sendgated signs it (without the imsg trip). */
static void
ours_once(const struct sigspec *sp, const struct msg *m)
{
	struct dkim_sign	*ds;
	uint8_t			 sig[DKIM_KEY_SIG_MAX];
	const char		*f;
	size_t			 siglen, flen, i;

	ds = hash_msg(sp, m, DKIM_CANON_RELAXED, CHUNK);
	for (i = 0; i < sp->nsig; i++) {
		siglen = sizeof(sig);
		if (signer_sign_digest(key_of(sp->alg[i]), sp->alg[i],
		    dkim_sign_digest(ds, i), DKIM_DIGEST_LEN, sig, &siglen) == -1)
			die("signer_sign_digest");
		if ((f = dkim_sign_field(ds, i, sig, siglen, &flen)) == NULL)
			die("dkim_sign_field");
		sink_len += flen;
	}
	dkim_sign_free(ds);
}

/* The signer's part alone: signer_sign_digest() per signature. */
static void
signer_once(const struct sigspec *sp, const uint8_t *digest)
{
	uint8_t	 sig[DKIM_KEY_SIG_MAX];
	size_t	 siglen, i;

	for (i = 0; i < sp->nsig; i++) {
		siglen = sizeof(sig);
		if (signer_sign_digest(key_of(sp->alg[i]), sp->alg[i], digest,
		    DKIM_DIGEST_LEN, sig, &siglen) == -1)
			die("signer_sign_digest");
		sink_len += siglen;
	}
}

/* Raw libcrypto: contexts made once, as openssl speed does. */
struct raw {
	EVP_PKEY_CTX	*rsa;
	EVP_MD_CTX	*ed;
};

static void
raw_init(struct raw *r)
{
	if ((r->rsa = EVP_PKEY_CTX_new(K.rsa, NULL)) == NULL ||
	    EVP_PKEY_sign_init(r->rsa) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_padding(r->rsa, RSA_PKCS1_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_signature_md(r->rsa, EVP_sha256()) <= 0)
		die("raw rsa init");
	if ((r->ed = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(r->ed, NULL, NULL, NULL, K.ed) <= 0)
		die("raw ed25519 init");
}

static void
raw_once(struct raw *r, const struct sigspec *sp, const uint8_t *digest)
{
	uint8_t	 sig[DKIM_KEY_SIG_MAX];
	size_t	 len, i;

	for (i = 0; i < sp->nsig; i++) {
		len = sizeof(sig);
		if (sp->alg[i] == DKIM_ALG_RSA_SHA256) {
			if (EVP_PKEY_sign(r->rsa, sig, &len, digest, 32) <= 0)
				die("raw rsa sign");
		} else if (EVP_DigestSign(r->ed, sig, &len, digest, 32) <= 0)
			die("raw ed25519 sign");
		sink_len += len;
	}
}

static int
cmpd(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(const double *in, int n)
{
	double	 v[ROUNDS_MAX];

	memcpy(v, in, sizeof(*v) * (size_t)n);
	qsort(v, (size_t)n, sizeof(*v), cmpd);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---------------------------------------------------------------- main */

enum { V_OURS, V_SIGNER, V_RAW, V_N };

/*
 * CPU microseconds per message of each variant for spec sp: the variants
 * take turns in slices of about 20 ms for secs of wall time, so that a
 * change of the machine's other load hits them alike.
 */
static void
per_message(const struct sigspec *sp, const struct msg *m, struct raw *raw,
    const uint8_t *digest, double secs, double out[V_N])
{
	double	 cpu[V_N] = { 0 }, t0, c0, ts;
	long	 n[V_N] = { 0 };
	int	 v;

	t0 = wall_now();
	do {
		for (v = 0; v < V_N; v++) {
			c0 = cpu_now();
			ts = wall_now();
			do {
				switch (v) {
				case V_OURS:
					ours_once(sp, m);
					break;
				case V_SIGNER:
					signer_once(sp, digest);
					break;
				default:
					raw_once(raw, sp, digest);
				}
				n[v]++;
			} while (wall_now() - ts < 0.02);
			cpu[v] += cpu_now() - c0;
		}
	} while (wall_now() - t0 < secs);
	for (v = 0; v < V_N; v++)
		out[v] = cpu[v] / (double)n[v] * 1e6;
}

/* MB/s (CPU time) of one pass of m through the body hash. */
static double
hash_rate(const struct msg *m, enum dkim_canon bc)
{
	struct dkim_sign	*ds;
	double			 c0 = cpu_now(), c;

	ds = hash_msg(&SPECS[0], m, bc, CHUNK);
	c = cpu_now() - c0;
	dkim_sign_free(ds);
	return (double)m->len / 1e6 / c;
}

static void
print_rounds(const char *key, const double *v, int n)
{
	int	 r;

	printf(", \"%s\": [", key);
	for (r = 0; r < n; r++)
		printf("%s%.2f", r ? ", " : "", v[r]);
	printf("]");
}

int
main(int argc, char *argv[])
{
	struct raw	 raw;
	struct msg	 big, b64, small;
	struct dkim_sign *ds;
	double		 secs = 0.5, t0, c0;
	double		 hr[ROUNDS_MAX], hs[ROUNDS_MAX], hb[ROUNDS_MAX];
	double		 hsha[ROUNDS_MAX], mtaonly[ROUNDS_MAX];
	double		 res[NSPECS][V_N][ROUNDS_MAX], one[V_N];
	double		 ovh[ROUNDS_MAX], o, rr, sg;
	size_t		 bigmib = 64, msgsize = 4096, s;
	long		 n;
	int		 ch, rounds = 5, r, v;
	uint8_t		 digest[32], md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;

	while ((ch = getopt(argc, argv, "b:m:s:r:")) != -1) {
		switch (ch) {
		case 'b': bigmib = strtoul(optarg, NULL, 10); break;
		case 'm': msgsize = strtoul(optarg, NULL, 10); break;
		case 's': secs = strtod(optarg, NULL); break;
		case 'r': rounds = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: dkimspeed [-b MiB] [-m bytes] "
			    "[-s seconds] [-r rounds]\n");
			return 2;
		}
	}
	if (bigmib < 1 || bigmib > 1024 || msgsize < 64 ||
	    msgsize > 1 << 24 || secs <= 0 || secs > 60 || rounds < 1 ||
	    rounds > ROUNDS_MAX) {
		fprintf(stderr, "dkimspeed: argument out of range\n");
		return 2;
	}
	keys_make(&K);
	raw_init(&raw);
	big = make_msg(bigmib << 20, 0);
	b64 = make_msg(bigmib << 20, 1);
	small = make_msg(msgsize, 0);
	memset(digest, 0x5a, sizeof(digest));

	/* warm up: page in the big messages, the code, the key contexts */
	(void)hash_rate(&big, DKIM_CANON_RELAXED);
	(void)hash_rate(&b64, DKIM_CANON_RELAXED);
	for (n = 0; n < 20; n++) {
		ours_once(&SPECS[1], &small);
		raw_once(&raw, &SPECS[1], digest);
	}

	for (r = 0; r < rounds; r++) {
		/* 1. body hash: one pass over a big message each */
		hr[r] = hash_rate(&big, DKIM_CANON_RELAXED);
		hs[r] = hash_rate(&big, DKIM_CANON_SIMPLE);
		hb[r] = hash_rate(&b64, DKIM_CANON_RELAXED);
		c0 = cpu_now();
		if (EVP_Digest(big.data, big.len, md, &mdlen, EVP_sha256(),
		    NULL) != 1)
			die("EVP_Digest");
		hsha[r] = (double)big.len / 1e6 / (cpu_now() - c0);

		/* 2. per message */
		for (s = 0; s < NSPECS; s++) {
			per_message(&SPECS[s], &small, &raw, digest, secs, one);
			for (v = 0; v < V_N; v++)
				res[s][v][r] = one[v];
		}
		/* the mta's part alone (hash + fields), 4 KiB, two sigs */
		c0 = cpu_now();
		t0 = wall_now();
		n = 0;
		do {
			ds = hash_msg(&SPECS[1], &small, DKIM_CANON_RELAXED,
			    CHUNK);
			dkim_sign_free(ds);
			n++;
		} while (wall_now() - t0 < secs / 4);
		mtaonly[r] = (cpu_now() - c0) / (double)n * 1e6;
	}

	fprintf(stderr, "dkimspeed: keys %s; body hash of a %zu MiB message "
	    "(CPU time, median of %d): text relaxed %.0f MB/s, text simple "
	    "%.0f MB/s, base64 relaxed %.0f MB/s; plain SHA-256 %.0f MB/s\n",
	    K.loaded ? "written and loaded as the signer does" :
	    "generated in memory (load failed)", bigmib, rounds,
	    median(hr, rounds), median(hs, rounds), median(hb, rounds),
	    median(hsha, rounds));
	printf("{\"keys_loaded\": %s, \"rounds\": %d, \"round_s\": %.3f, "
	    "\"hash_mib\": %zu, \"msg_body\": %zu, \"msg_octets\": %zu, "
	    "\"hash_mb_s\": {\"relaxed\": %.1f, \"simple\": %.1f, "
	    "\"base64_relaxed\": %.1f, \"sha256\": %.1f}, "
	    "\"mta_hash_us\": %.2f, \"sign\": {",
	    K.loaded ? "true" : "false", rounds, secs, bigmib, msgsize,
	    small.len, median(hr, rounds), median(hs, rounds),
	    median(hb, rounds), median(hsha, rounds), median(mtaonly, rounds));
	for (s = 0; s < NSPECS; s++) {
		for (r = 0; r < rounds; r++)
			ovh[r] = (res[s][V_OURS][r] - res[s][V_RAW][r]) /
			    res[s][V_RAW][r];
		o = median(res[s][V_OURS], rounds);
		sg = median(res[s][V_SIGNER], rounds);
		rr = median(res[s][V_RAW], rounds);
		fprintf(stderr, "dkimspeed: %s per %zu-octet message: ours "
		    "%.1f us (signer_sign_digest alone %.1f), raw libcrypto "
		    "%.1f us: overhead %+.1f %% (median of the rounds' "
		    "overheads)\n", SPECS[s].name, small.len, o, sg, rr,
		    100 * median(ovh, rounds));
		printf("%s\"%s\": {\"ours_us\": %.2f, \"signer_us\": %.2f, "
		    "\"raw_us\": %.2f, \"overhead\": %.4f, "
		    "\"overhead_of_medians\": %.4f",
		    s ? ", " : "", SPECS[s].name, o, sg, rr,
		    median(ovh, rounds), (o - rr) / rr);
		print_rounds("ours_rounds", res[s][V_OURS], rounds);
		print_rounds("signer_rounds", res[s][V_SIGNER], rounds);
		print_rounds("raw_rounds", res[s][V_RAW], rounds);
		printf("}");
	}
	printf("}}\n");
	fprintf(stderr, "dkimspeed: the mta's part alone (new, feed, finish, "
	    "free; 2 signatures): %.1f us per message\n",
	    median(mtaonly, rounds));
	EVP_PKEY_CTX_free(raw.rsa);
	EVP_MD_CTX_free(raw.ed);
	EVP_PKEY_free(K.rsa);
	EVP_PKEY_free(K.ed);
	free(big.data);
	free(b64.data);
	free(small.data);
	return sink_len == 0;
}
