/*
 * tlsmini: the client side of TLS 1.3 (RFC 8446) for the load generator,
 * on libcrypto's primitives.
 *
 * Why: the generator shares the two CPUs of the bench machine with the
 * server under test.  Through GnuTLS a connection costs it about 0.6 ms
 * of CPU, mostly library machinery (allocation, ASN.1, its big-number
 * X25519), through OpenSSL's SSL layer more (3.0 decodes the server's
 * certificate through its provider decoders on every connection).  What
 * a client must do per connection is much less: one X25519 key pair and
 * shared secret, one signature verification, a dozen HMACs.
 *
 * What the server sees is an ordinary TLS 1.3 client without resumption:
 * every connection a full handshake.  ClientHello: TLS 1.3 only,
 * TLS_AES_256_GCM_SHA384 and TLS_AES_128_GCM_SHA256 (the server picks),
 * one X25519 key share, SNI, signature algorithms for RSA (PSS) and
 * ECDSA certificates, an empty legacy session id (so no middlebox
 * compatibility ChangeCipherSpec is expected; one is skipped if it comes).
 * The client's X25519 key pair is made once per thread and used for all
 * its connections (key generation was a quarter of the generator's CPU):
 * the server cannot tell, and its work is the same, a fresh key share of
 * its own and the ECDH with ours.  A client that cares for forward
 * secrecy would not do this; a load generator has no secrets to keep.
 *
 * What the client checks: the server's CertificateVerify signature,
 * with the public key of the certificate it sent (decoded once per
 * distinct certificate and kept; the certificate is not verified against
 * any CA, as with the other backends of smtpload), and its Finished.  A
 * CertificateRequest is answered with an empty Certificate.  Session
 * tickets after the handshake are read and dropped.
 *
 * What it does not do: HelloRetryRequest (the server must accept
 * X25519), resumption or early data, KeyUpdate, TLS 1.2.  Each is a
 * clear error, never a silent misbehaviour.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "tlsmini.h"

#define REC_MAX		16384			/* plaintext of a record */
#define REC_IN_MAX	(5 + REC_MAX + 256)	/* a protected record */
#define HS_MAX		(4 + 65536)		/* a handshake message */
#define HASH_MAX	48
#define KEY_MAX		32
#define IV_LEN		12
#define TAG_LEN		16
#define X25519_LEN	32

enum {
	CT_CCS = 20, CT_ALERT = 21, CT_HS = 22, CT_APP = 23
};
enum {
	HS_CH = 1, HS_SH = 2, HS_NST = 4, HS_EE = 8, HS_CERT = 11,
	HS_CR = 13, HS_CV = 15, HS_FIN = 20, HS_KU = 24
};

struct suite {
	uint16_t	 id;
	const char	*name;
	const char	*md_name;
	const char	*cipher_name;
	EVP_MD		*md;
	EVP_CIPHER	*cipher;
	size_t		 hlen;
	size_t		 klen;
};

/* In the order offered. */
static struct suite suites[] = {
	{ 0x1302, "TLS_AES_256_GCM_SHA384", "SHA384", "AES-256-GCM", NULL,
	    NULL, 48, 32 },
	{ 0x1301, "TLS_AES_128_GCM_SHA256", "SHA256", "AES-128-GCM", NULL,
	    NULL, 32, 16 },
};
#define NSUITES		(sizeof(suites) / sizeof(suites[0]))

/* The server's signature algorithms this client verifies. */
static const struct {
	uint16_t	 id;
	const char	*name;
	const char	*md;
	int		 pss;
} sigalgs[] = {
	{ 0x0804, "rsa_pss_rsae_sha256", "SHA256", 1 },
	{ 0x0403, "ecdsa_secp256r1_sha256", "SHA256", 0 },
	{ 0x0805, "rsa_pss_rsae_sha384", "SHA384", 1 },
	{ 0x0503, "ecdsa_secp384r1_sha384", "SHA384", 0 },
	{ 0x0806, "rsa_pss_rsae_sha512", "SHA512", 1 },
};
#define NSIGALGS	(sizeof(sigalgs) / sizeof(sigalgs[0]))
/* Also offered for certificate signatures only (RFC 8446 4.2.3). */
static const uint16_t cert_sigalgs[] = { 0x0401, 0x0501, 0x0601 };
#define NCERT_SIGALGS	(sizeof(cert_sigalgs) / sizeof(cert_sigalgs[0]))

static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
	0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
	0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c
};

/* The last server certificate seen and its public key. */
static pthread_mutex_t	 cert_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t		*cert_der;
static size_t		 cert_len;
static EVP_PKEY		*cert_key;

/* The X25519 key pair of this thread's connections, never freed. */
static __thread EVP_PKEY	*thread_key;

/* One direction's record protection. */
struct dir {
	EVP_CIPHER_CTX	*c;
	uint8_t		 iv[IV_LEN];
	uint64_t	 seq;
	int		 on;
};

struct tlsmini {
	int		 fd;
	tlsmini_wait	 wait;
	void		*warg;
	char		 sni[256];
	const struct suite *cs;
	const char	*sigalg;
	EVP_MD_CTX	*th;		/* transcript hash */
	EVP_MD_CTX	*hc;		/* scratch for HMAC */
	struct dir	 rd, wr;
	uint8_t		 rbuf[REC_IN_MAX];	/* raw input */
	size_t		 roff, rlen;
	uint8_t		*hs;		/* handshake bytes not yet taken */
	size_t		 hslen, hscap;
	uint8_t		 app[REC_MAX + 256];	/* application data */
	size_t		 aoff, alen;
	uint8_t		 wbuf[5 + REC_MAX + 1 + TAG_LEN];
	char		 err[256];
	char		 desc[160];
};

/* Bounds-checked reading of a message. */
struct rd {
	const uint8_t	*p;
	size_t		 n;
	int		 bad;
};

static int
fail(struct tlsmini *t, const char *fmt, ...)
{
	va_list	 ap;

	if (t->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(t->err, sizeof(t->err), fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const uint8_t *
rd_bytes(struct rd *r, size_t n)
{
	const uint8_t	*p = r->p;

	if (r->bad || r->n < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	r->n -= n;
	return p;
}

static size_t
rd_num(struct rd *r, size_t octets)
{
	const uint8_t	*p = rd_bytes(r, octets);
	size_t		 v = 0, i;

	if (p == NULL)
		return 0;
	for (i = 0; i < octets; i++)
		v = v << 8 | p[i];
	return v;
}

/* A sub-reader over the next vector with a length of `octets` octets. */
static struct rd
rd_vec(struct rd *r, size_t octets)
{
	struct rd	 v = { NULL, 0, 0 };
	size_t		 n = rd_num(r, octets);

	v.p = rd_bytes(r, n);
	v.n = n;
	v.bad = r->bad;
	return v;
}

static uint8_t *
put(uint8_t *p, uint64_t v, size_t octets)
{
	while (octets-- > 0)
		*p++ = (uint8_t)(v >> (8 * octets));
	return p;
}

int
tlsmini_init(void)
{
	size_t	 i;

	for (i = 0; i < NSUITES; i++) {
		suites[i].md = EVP_MD_fetch(NULL, suites[i].md_name, NULL);
		suites[i].cipher = EVP_CIPHER_fetch(NULL,
		    suites[i].cipher_name, NULL);
		if (suites[i].md == NULL || suites[i].cipher == NULL)
			return -1;
	}
	return 0;
}

/*
 * HMAC (RFC 2104) of the concatenation of up to two parts, by hand: the
 * keys here are never longer than the hash's block.
 */
static int
hmac(struct tlsmini *t, const uint8_t *key, size_t klen, const uint8_t *m1,
    size_t l1, const uint8_t *m2, size_t l2, uint8_t *out)
{
	const EVP_MD	*md = t->cs->md;
	uint8_t		 pad[128], inner[HASH_MAX];
	size_t		 bs = (size_t)EVP_MD_get_block_size(md), i;
	unsigned int	 len;

	if (klen > bs || bs > sizeof(pad))
		return fail(t, "HMAC key too long");
	for (i = 0; i < bs; i++)
		pad[i] = (i < klen ? key[i] : 0) ^ 0x36;
	if (!EVP_DigestInit_ex(t->hc, md, NULL) ||
	    !EVP_DigestUpdate(t->hc, pad, bs) ||
	    (l1 && !EVP_DigestUpdate(t->hc, m1, l1)) ||
	    (l2 && !EVP_DigestUpdate(t->hc, m2, l2)) ||
	    !EVP_DigestFinal_ex(t->hc, inner, &len))
		return fail(t, "HMAC failed");
	for (i = 0; i < bs; i++)
		pad[i] ^= 0x36 ^ 0x5c;
	if (!EVP_DigestInit_ex(t->hc, md, NULL) ||
	    !EVP_DigestUpdate(t->hc, pad, bs) ||
	    !EVP_DigestUpdate(t->hc, inner, len) ||
	    !EVP_DigestFinal_ex(t->hc, out, &len))
		return fail(t, "HMAC failed");
	return 0;
}

/* HKDF-Expand-Label (RFC 8446 7.1); out_len at most 255 hash lengths. */
static int
expand_label(struct tlsmini *t, const uint8_t *secret, const char *label,
    const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len)
{
	uint8_t		 info[2 + 1 + 255 + 1 + 255], blk[HASH_MAX], *p;
	uint8_t		 ctr;
	size_t		 hlen = t->cs->hlen, llen = 6 + strlen(label), done;
	size_t		 n;

	if (llen > 255 || ctx_len > 255)
		return fail(t, "HKDF label too long");
	p = put(info, out_len, 2);
	p = put(p, llen, 1);
	memcpy(p, "tls13 ", 6);
	memcpy(p + 6, label, llen - 6);
	p = put(p + llen, ctx_len, 1);
	if (ctx_len)
		memcpy(p, ctx, ctx_len);
	p += ctx_len;
	for (done = 0, ctr = 1; done < out_len; done += n, ctr++) {
		/* T(i) = HMAC(secret, T(i-1) | info | i) */
		uint8_t	 msg[HASH_MAX + sizeof(info) + 1];
		size_t	 ml = 0;

		if (done > 0) {
			memcpy(msg, blk, hlen);
			ml = hlen;
		}
		memcpy(msg + ml, info, (size_t)(p - info));
		ml += (size_t)(p - info);
		msg[ml++] = ctr;
		if (hmac(t, secret, hlen, msg, ml, NULL, 0, blk) == -1)
			return -1;
		n = out_len - done < hlen ? out_len - done : hlen;
		memcpy(out + done, blk, n);
	}
	return 0;
}

/* The transcript hash so far, the transcript itself going on. */
static int
transcript_hash(struct tlsmini *t, uint8_t *out)
{
	EVP_MD_CTX	*c = t->hc;
	unsigned int	 len;

	if (!EVP_MD_CTX_copy_ex(c, t->th) || !EVP_DigestFinal_ex(c, out, &len))
		return fail(t, "transcript hash failed");
	return 0;
}

/* Record protection of one direction from a traffic secret. */
static int
dir_set(struct tlsmini *t, struct dir *d, const uint8_t *secret, int enc)
{
	uint8_t	 key[KEY_MAX];

	if (expand_label(t, secret, "key", NULL, 0, key, t->cs->klen) == -1 ||
	    expand_label(t, secret, "iv", NULL, 0, d->iv, IV_LEN) == -1)
		return -1;
	if (d->c == NULL && (d->c = EVP_CIPHER_CTX_new()) == NULL)
		return fail(t, "out of memory");
	if (!EVP_CipherInit_ex(d->c, t->cs->cipher, NULL, key, NULL, enc))
		return fail(t, "cipher setup failed");
	OPENSSL_cleanse(key, sizeof(key));
	d->seq = 0;
	d->on = 1;
	return 0;
}

static void
dir_nonce(const struct dir *d, uint8_t *nonce)
{
	int	 i;

	memcpy(nonce, d->iv, IV_LEN);
	for (i = 0; i < 8; i++)
		nonce[IV_LEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
}

static int
out(struct tlsmini *t, const uint8_t *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		w = send(t->fd, p, n, MSG_NOSIGNAL);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w == -1 && errno == EINTR)
			continue;
		else if (w == -1 && errno == EAGAIN) {
			if (t->wait(t->warg, POLLOUT) == -1)
				return -1;
		} else
			return fail(t, "send: %s", strerror(errno));
	}
	return 0;
}

/* One record of type with n octets of p, protected; sent. */
static int
rec_write(struct tlsmini *t, int type, const uint8_t *p, size_t n)
{
	struct dir	*d = &t->wr;
	uint8_t		*h = t->wbuf, *c = t->wbuf + 5, nonce[IV_LEN];
	uint8_t		 ct = (uint8_t)type;
	int		 l;

	if (n > REC_MAX)
		return fail(t, "record too long");
	h[0] = CT_APP;
	h[1] = h[2] = 3;
	put(h + 3, n + 1 + TAG_LEN, 2);
	dir_nonce(d, nonce);
	if (!EVP_CipherInit_ex(d->c, NULL, NULL, NULL, nonce, 1) ||
	    !EVP_EncryptUpdate(d->c, NULL, &l, h, 5) ||
	    (n && !EVP_EncryptUpdate(d->c, c, &l, p, (int)n)) ||
	    !EVP_EncryptUpdate(d->c, c + n, &l, &ct, 1) ||
	    !EVP_EncryptFinal_ex(d->c, c + n + 1, &l) ||
	    !EVP_CIPHER_CTX_ctrl(d->c, EVP_CTRL_AEAD_GET_TAG, TAG_LEN,
	    c + n + 1))
		return fail(t, "record encryption failed");
	d->seq++;
	return out(t, t->wbuf, 5 + n + 1 + TAG_LEN);
}

/* At least n raw octets from roff on. */
static int
need(struct tlsmini *t, size_t n)
{
	ssize_t	 r;

	if (t->rlen >= n)
		return 0;
	if (t->roff + n > sizeof(t->rbuf)) {
		memmove(t->rbuf, t->rbuf + t->roff, t->rlen);
		t->roff = 0;
	}
	while (t->rlen < n) {
		r = read(t->fd, t->rbuf + t->roff + t->rlen,
		    sizeof(t->rbuf) - t->roff - t->rlen);
		if (r > 0)
			t->rlen += (size_t)r;
		else if (r == 0)
			return fail(t, "connection closed by the server");
		else if (errno == EINTR)
			continue;
		else if (errno == EAGAIN) {
			if (t->wait(t->warg, POLLIN) == -1)
				return -1;
		} else
			return fail(t, "read: %s", strerror(errno));
	}
	return 0;
}

/*
 * The next record: its content type and plaintext, decrypted in place
 * once protection is on (valid until the next call).
 */
static int
rec_read(struct tlsmini *t, int *type, uint8_t **pp, size_t *np)
{
	struct dir	*d = &t->rd;
	uint8_t		*h, *c, nonce[IV_LEN];
	size_t		 len;
	int		 l;

	for (;;) {
		if (need(t, 5) == -1)
			return -1;
		h = t->rbuf + t->roff;
		len = (size_t)h[3] << 8 | h[4];
		if (h[0] < CT_CCS || h[0] > CT_APP)
			return fail(t, "not a TLS record (octet 0x%02x)",
			    h[0]);
		if (len > REC_MAX + 256)
			return fail(t, "record of %zu octets", len);
		if (need(t, 5 + len) == -1)
			return -1;
		h = t->rbuf + t->roff;
		c = h + 5;
		t->roff += 5 + len;
		t->rlen -= 5 + len;
		if (h[0] == CT_CCS)
			continue;	/* middlebox compatibility */
		if (!d->on || h[0] == CT_ALERT) {
			if (h[0] == CT_APP)
				return fail(t, "protected record too early");
			*type = h[0];
			*pp = c;
			*np = len;
			return 0;
		}
		if (h[0] != CT_APP || len < TAG_LEN + 1)
			return fail(t, "bad protected record (type %d)", h[0]);
		dir_nonce(d, nonce);
		len -= TAG_LEN;
		if (!EVP_CipherInit_ex(d->c, NULL, NULL, NULL, nonce, 0) ||
		    !EVP_DecryptUpdate(d->c, NULL, &l, h, 5) ||
		    !EVP_DecryptUpdate(d->c, c, &l, c, (int)len) ||
		    !EVP_CIPHER_CTX_ctrl(d->c, EVP_CTRL_AEAD_SET_TAG, TAG_LEN,
		    c + len) ||
		    EVP_DecryptFinal_ex(d->c, c + len, &l) != 1)
			return fail(t, "record authentication failed");
		d->seq++;
		while (len > 0 && c[len - 1] == 0)
			len--;		/* padding */
		if (len == 0)
			return fail(t, "protected record without a type");
		*type = c[--len];
		*pp = c;
		*np = len;
		return 0;
	}
}

static int
alert(struct tlsmini *t, const uint8_t *p, size_t n)
{
	if (n >= 2 && p[1] == 0)
		return fail(t, "connection closed by the server (TLS)");
	return fail(t, "TLS alert %d from the server", n >= 2 ? p[1] : -1);
}

static int
hs_append(struct tlsmini *t, const uint8_t *p, size_t n)
{
	uint8_t	*nb;
	size_t	 cap;

	if (t->hslen + n > HS_MAX + REC_MAX)
		return fail(t, "handshake message too long");
	if (t->hslen + n > t->hscap) {
		cap = t->hslen + n + 4096;
		if ((nb = realloc(t->hs, cap)) == NULL)
			return fail(t, "out of memory");
		t->hs = nb;
		t->hscap = cap;
	}
	memcpy(t->hs + t->hslen, p, n);
	t->hslen += n;
	return 0;
}

static size_t
hs_msglen(const struct tlsmini *t)
{
	if (t->hslen < 4)
		return 0;
	return 4 + ((size_t)t->hs[1] << 16 | (size_t)t->hs[2] << 8 | t->hs[3]);
}

/*
 * The next handshake message, header included, at t->hs (its length in
 * *np, its type t->hs[0]), taken with hs_take().
 */
static int
hs_next(struct tlsmini *t, size_t *np)
{
	uint8_t	*p;
	size_t	 n;
	int	 type;

	while (t->hslen < 4 || t->hslen < hs_msglen(t)) {
		if (t->hslen >= 4 && hs_msglen(t) > HS_MAX)
			return fail(t, "handshake message too long");
		if (rec_read(t, &type, &p, &n) == -1)
			return -1;
		if (type == CT_ALERT)
			return alert(t, p, n);
		if (type != CT_HS)
			return fail(t, "record type %d in the handshake", type);
		if (hs_append(t, p, n) == -1)
			return -1;
	}
	*np = hs_msglen(t);
	return 0;
}

/* The message at t->hs goes into the transcript (if th) and away. */
static int
hs_take(struct tlsmini *t, size_t n, int th)
{
	if (th && !EVP_DigestUpdate(t->th, t->hs, n))
		return fail(t, "transcript hash failed");
	memmove(t->hs, t->hs + n, t->hslen - n);
	t->hslen -= n;
	return 0;
}

/* The next message must be of type want. */
static int
hs_expect(struct tlsmini *t, int want, struct rd *body, size_t *np)
{
	if (hs_next(t, np) == -1)
		return -1;
	if (t->hs[0] != want)
		return fail(t, "handshake message %d where %d was due",
		    t->hs[0], want);
	body->p = t->hs + 4;
	body->n = *np - 4;
	body->bad = 0;
	return 0;
}

static size_t
client_hello(struct tlsmini *t, const uint8_t *pub, uint8_t *buf)
{
	uint8_t	*p = buf + 5 + 4, *ext, *l;
	size_t	 i, sl = strlen(t->sni), n;

	p = put(p, 0x0303, 2);
	RAND_bytes(p, 32);
	p += 32;
	p = put(p, 0, 1);			/* legacy_session_id */
	p = put(p, 2 * NSUITES, 2);
	for (i = 0; i < NSUITES; i++)
		p = put(p, suites[i].id, 2);
	p = put(p, 0x0100, 2);			/* compression: null */
	ext = p;
	p += 2;
	if (sl > 0) {
		p = put(p, 0x0000, 2);		/* server_name */
		p = put(p, sl + 5, 2);
		p = put(p, sl + 3, 2);
		p = put(p, 0, 1);
		p = put(p, sl, 2);
		memcpy(p, t->sni, sl);
		p += sl;
	}
	p = put(p, 0x000a, 2);			/* supported_groups */
	p = put(p, 4, 2);
	p = put(p, 2, 2);
	p = put(p, 0x001d, 2);
	p = put(p, 0x000d, 2);			/* signature_algorithms */
	p = put(p, 2 + 2 * (NSIGALGS + NCERT_SIGALGS), 2);
	p = put(p, 2 * (NSIGALGS + NCERT_SIGALGS), 2);
	for (i = 0; i < NSIGALGS; i++)
		p = put(p, sigalgs[i].id, 2);
	for (i = 0; i < NCERT_SIGALGS; i++)
		p = put(p, cert_sigalgs[i], 2);
	p = put(p, 0x002b, 2);			/* supported_versions */
	p = put(p, 3, 2);
	p = put(p, 2, 1);
	p = put(p, 0x0304, 2);
	p = put(p, 0x0033, 2);			/* key_share */
	p = put(p, 2 + 4 + X25519_LEN, 2);
	p = put(p, 4 + X25519_LEN, 2);
	p = put(p, 0x001d, 2);
	p = put(p, X25519_LEN, 2);
	memcpy(p, pub, X25519_LEN);
	p += X25519_LEN;
	put(ext, (size_t)(p - ext - 2), 2);
	n = (size_t)(p - buf - 5);
	l = put(buf, CT_HS, 1);
	l = put(l, 0x0301, 2);
	l = put(l, n, 2);
	l = put(l, HS_CH, 1);
	put(l, n - 4, 3);
	return 5 + n;
}

/* ServerHello: the suite and the server's X25519 key. */
static int
server_hello(struct tlsmini *t, struct rd *b, const uint8_t **spub)
{
	struct rd	 ext, e;
	const uint8_t	*random;
	size_t		 cs, i, type, v = 0;

	*spub = NULL;
	(void)rd_num(b, 2);
	random = rd_bytes(b, 32);
	(void)rd_vec(b, 1);			/* session id echo */
	cs = rd_num(b, 2);
	(void)rd_num(b, 1);
	ext = rd_vec(b, 2);
	if (b->bad || ext.bad)
		return fail(t, "malformed ServerHello");
	if (memcmp(random, hrr_random, 32) == 0)
		return fail(t, "HelloRetryRequest: the server does not take "
		    "X25519");
	while (ext.n > 0 && !ext.bad) {
		type = rd_num(&ext, 2);
		e = rd_vec(&ext, 2);
		if (type == 0x002b)
			v = rd_num(&e, 2);
		else if (type == 0x0033) {
			if (rd_num(&e, 2) != 0x001d ||
			    rd_num(&e, 2) != X25519_LEN)
				return fail(t, "key share not X25519");
			*spub = rd_bytes(&e, X25519_LEN);
		}
		if (e.bad)
			ext.bad = 1;
	}
	if (ext.bad)
		return fail(t, "malformed ServerHello extensions");
	if (v != 0x0304)
		return fail(t, "the server did not choose TLS 1.3");
	for (i = 0; i < NSUITES; i++)
		if (suites[i].id == cs)
			t->cs = &suites[i];
	if (t->cs == NULL)
		return fail(t, "cipher suite 0x%04zx not offered", cs);
	if (*spub == NULL)
		return fail(t, "ServerHello without a key share");
	return 0;
}

/* The X25519 shared secret of our key and the server's public key. */
static int
ecdhe(struct tlsmini *t, EVP_PKEY *mine, const uint8_t *spub, uint8_t *z)
{
	EVP_PKEY	*peer;
	EVP_PKEY_CTX	*c = NULL;
	size_t		 zl = X25519_LEN;
	int		 ok = 0;

	peer = EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, spub,
	    X25519_LEN);
	if (peer != NULL &&
	    (c = EVP_PKEY_CTX_new_from_pkey(NULL, mine, NULL)) != NULL &&
	    EVP_PKEY_derive_init(c) == 1 &&
	    EVP_PKEY_derive_set_peer(c, peer) == 1 &&
	    EVP_PKEY_derive(c, z, &zl) == 1 && zl == X25519_LEN)
		ok = 1;
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(peer);
	return ok ? 0 : fail(t, "X25519 failed");
}

/* The public key of the server's certificate, decoded once per cert. */
static EVP_PKEY *
server_key(const uint8_t *der, size_t len)
{
	const uint8_t	*p = der;
	EVP_PKEY	*k = NULL;
	X509		*x;
	uint8_t		*copy;

	pthread_mutex_lock(&cert_lock);
	if (cert_der != NULL && cert_len == len &&
	    memcmp(cert_der, der, len) == 0 && EVP_PKEY_up_ref(cert_key))
		k = cert_key;
	pthread_mutex_unlock(&cert_lock);
	if (k != NULL)
		return k;
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL)
		return NULL;
	k = X509_get_pubkey(x);
	X509_free(x);
	if (k == NULL || (copy = malloc(len)) == NULL ||
	    !EVP_PKEY_up_ref(k)) {
		EVP_PKEY_free(k);
		return NULL;
	}
	memcpy(copy, der, len);
	pthread_mutex_lock(&cert_lock);
	free(cert_der);
	EVP_PKEY_free(cert_key);
	cert_der = copy;
	cert_len = len;
	cert_key = k;
	pthread_mutex_unlock(&cert_lock);
	return k;
}

/* CertificateVerify over the transcript hash th with key k. */
static int
verify(struct tlsmini *t, EVP_PKEY *k, struct rd *b, const uint8_t *th)
{
	static const char ctx[] = "TLS 1.3, server CertificateVerify";
	uint8_t		 content[64 + sizeof(ctx) + HASH_MAX];
	EVP_MD_CTX	*vc;
	EVP_PKEY_CTX	*pc = NULL;
	struct rd	 sig;
	size_t		 alg, i;
	int		 ok = 0;

	alg = rd_num(b, 2);
	sig = rd_vec(b, 2);
	if (b->bad || sig.bad)
		return fail(t, "malformed CertificateVerify");
	for (i = 0; i < NSIGALGS && sigalgs[i].id != alg; i++)
		;
	if (i == NSIGALGS)
		return fail(t, "signature algorithm 0x%04zx not offered", alg);
	t->sigalg = sigalgs[i].name;
	memset(content, 0x20, 64);
	memcpy(content + 64, ctx, sizeof(ctx));	/* with its NUL */
	memcpy(content + 64 + sizeof(ctx), th, t->cs->hlen);
	if ((vc = EVP_MD_CTX_new()) == NULL)
		return fail(t, "out of memory");
	if (EVP_DigestVerifyInit_ex(vc, &pc, sigalgs[i].md, NULL, NULL, k,
	    NULL) == 1 && (!sigalgs[i].pss ||
	    (EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PSS_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pc, RSA_PSS_SALTLEN_DIGEST) ==
	    1)) && EVP_DigestVerify(vc, sig.p, sig.n, content,
	    64 + sizeof(ctx) + t->cs->hlen) == 1)
		ok = 1;
	EVP_MD_CTX_free(vc);
	return ok ? 0 : fail(t, "the server's CertificateVerify is wrong");
}

struct tlsmini *
tlsmini_new(int fd, const char *sni, tlsmini_wait wait, void *warg)
{
	struct tlsmini	*t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->fd = fd;
	t->wait = wait;
	t->warg = warg;
	snprintf(t->sni, sizeof(t->sni), "%s", sni != NULL ? sni : "");
	if ((t->th = EVP_MD_CTX_new()) == NULL ||
	    (t->hc = EVP_MD_CTX_new()) == NULL) {
		tlsmini_free(t);
		return NULL;
	}
	return t;
}

int
tlsmini_handshake(struct tlsmini *t)
{
	uint8_t		 ch[512], pub[X25519_LEN], z[X25519_LEN];
	uint8_t		 zero[HASH_MAX], empty[HASH_MAX], th[HASH_MAX];
	uint8_t		 secret[HASH_MAX], derived[HASH_MAX];
	uint8_t		 c_hs[HASH_MAX], s_hs[HASH_MAX], fk[HASH_MAX];
	uint8_t		 c_ap[HASH_MAX], s_ap[HASH_MAX];
	uint8_t		 flight[4 + 1 + 255 + 3 + 4 + HASH_MAX], *p;
	uint8_t		 req_ctx[255];
	const uint8_t	*spub, *der = NULL;
	EVP_PKEY_CTX	*kc;
	EVP_PKEY	*eph = NULL, *k;
	struct rd	 b, v, ent;
	size_t		 chl, n, hlen, req_len = 0, der_len = 0;
	unsigned int	 el;
	int		 req = 0, rc = -1;

	/* ClientHello with this thread's X25519 key share. */
	n = sizeof(pub);
	if (thread_key == NULL) {
		kc = EVP_PKEY_CTX_new_from_name(NULL, "X25519", NULL);
		if (kc == NULL || EVP_PKEY_keygen_init(kc) != 1 ||
		    EVP_PKEY_keygen(kc, &thread_key) != 1)
			thread_key = NULL;
		EVP_PKEY_CTX_free(kc);
	}
	if ((eph = thread_key) == NULL ||
	    EVP_PKEY_get_raw_public_key(eph, pub, &n) != 1) {
		fail(t, "X25519 key generation failed");
		goto done;
	}
	chl = client_hello(t, pub, ch);
	if (out(t, ch, chl) == -1)
		goto done;

	/* ServerHello: the suite, then the transcript can begin. */
	if (hs_expect(t, HS_SH, &b, &n) == -1 ||
	    server_hello(t, &b, &spub) == -1 ||
	    ecdhe(t, eph, spub, z) == -1)
		goto done;
	hlen = t->cs->hlen;
	if (!EVP_DigestInit_ex(t->th, t->cs->md, NULL) ||
	    !EVP_DigestUpdate(t->th, ch + 5, chl - 5) ||
	    !EVP_Digest("", 0, empty, &el, t->cs->md, NULL)) {
		fail(t, "transcript hash failed");
		goto done;
	}
	if (hs_take(t, n, 1) == -1)
		goto done;

	/* The key schedule up to the handshake traffic secrets. */
	memset(zero, 0, sizeof(zero));
	if (hmac(t, zero, hlen, zero, hlen, NULL, 0, secret) == -1 ||
	    expand_label(t, secret, "derived", empty, hlen, derived,
	    hlen) == -1 ||
	    hmac(t, derived, hlen, z, sizeof(z), NULL, 0, secret) == -1 ||
	    transcript_hash(t, th) == -1 ||
	    expand_label(t, secret, "c hs traffic", th, hlen, c_hs,
	    hlen) == -1 ||
	    expand_label(t, secret, "s hs traffic", th, hlen, s_hs,
	    hlen) == -1 ||
	    expand_label(t, secret, "derived", empty, hlen, derived,
	    hlen) == -1 ||
	    hmac(t, derived, hlen, zero, hlen, NULL, 0, secret) == -1 ||
	    dir_set(t, &t->rd, s_hs, 0) == -1 ||
	    dir_set(t, &t->wr, c_hs, 1) == -1)
		goto done;

	/* EncryptedExtensions, maybe CertificateRequest, Certificate. */
	if (hs_expect(t, HS_EE, &b, &n) == -1 || hs_take(t, n, 1) == -1 ||
	    hs_next(t, &n) == -1)
		goto done;
	if (t->hs[0] == HS_CR) {
		b.p = t->hs + 4;
		b.n = n - 4;
		b.bad = 0;
		v = rd_vec(&b, 1);
		if (v.bad) {
			fail(t, "malformed CertificateRequest");
			goto done;
		}
		req = 1;
		req_len = v.n;
		memcpy(req_ctx, v.p, v.n);
		if (hs_take(t, n, 1) == -1)
			goto done;
	}
	if (hs_expect(t, HS_CERT, &b, &n) == -1)
		goto done;
	(void)rd_vec(&b, 1);
	v = rd_vec(&b, 3);
	ent = rd_vec(&v, 3);
	if (b.bad || v.bad || ent.bad || ent.n == 0) {
		fail(t, "the server sent no certificate");
		goto done;
	}
	der = ent.p;
	der_len = ent.n;
	if ((k = server_key(der, der_len)) == NULL) {
		fail(t, "the server's certificate could not be decoded");
		goto done;
	}
	if (hs_take(t, n, 1) == -1) {
		EVP_PKEY_free(k);
		goto done;
	}

	/* CertificateVerify and Finished. */
	if (transcript_hash(t, th) == -1 || hs_expect(t, HS_CV, &b,
	    &n) == -1 || verify(t, k, &b, th) == -1) {
		EVP_PKEY_free(k);
		goto done;
	}
	EVP_PKEY_free(k);
	if (hs_take(t, n, 1) == -1 || transcript_hash(t, th) == -1 ||
	    hs_expect(t, HS_FIN, &b, &n) == -1 ||
	    expand_label(t, s_hs, "finished", NULL, 0, fk, hlen) == -1 ||
	    hmac(t, fk, hlen, th, hlen, NULL, 0, fk) == -1)
		goto done;
	if (b.n != hlen || CRYPTO_memcmp(b.p, fk, hlen) != 0) {
		fail(t, "the server's Finished is wrong");
		goto done;
	}
	if (hs_take(t, n, 1) == -1 || transcript_hash(t, th) == -1 ||
	    expand_label(t, secret, "c ap traffic", th, hlen, c_ap,
	    hlen) == -1 ||
	    expand_label(t, secret, "s ap traffic", th, hlen, s_ap,
	    hlen) == -1)
		goto done;
	if (t->hslen != 0) {
		fail(t, "handshake data after the server's Finished");
		goto done;
	}

	/* Our flight: an empty Certificate if asked for, Finished. */
	p = flight;
	if (req) {
		p = put(p, HS_CERT, 1);
		p = put(p, 1 + req_len + 3, 3);
		p = put(p, req_len, 1);
		memcpy(p, req_ctx, req_len);
		p = put(p + req_len, 0, 3);
		if (!EVP_DigestUpdate(t->th, flight, (size_t)(p - flight)) ||
		    transcript_hash(t, th) == -1) {
			fail(t, "transcript hash failed");
			goto done;
		}
	}
	p = put(p, HS_FIN, 1);
	p = put(p, hlen, 3);
	if (expand_label(t, c_hs, "finished", NULL, 0, fk, hlen) == -1 ||
	    hmac(t, fk, hlen, th, hlen, NULL, 0, p) == -1 ||
	    rec_write(t, CT_HS, flight, (size_t)(p + hlen - flight)) == -1 ||
	    dir_set(t, &t->wr, c_ap, 1) == -1 ||
	    dir_set(t, &t->rd, s_ap, 0) == -1)
		goto done;
	snprintf(t->desc, sizeof(t->desc), "tlsmini TLS1.3 %s X25519 %s",
	    t->cs->name, t->sigalg);
	rc = 0;
done:
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(z, sizeof(z));
	return rc;
}

/* Handshake messages after the handshake: tickets are dropped. */
static int
post_handshake(struct tlsmini *t, const uint8_t *p, size_t n)
{
	size_t	 len;

	if (hs_append(t, p, n) == -1)
		return -1;
	while ((len = hs_msglen(t)) > 0 && t->hslen >= len) {
		if (t->hs[0] != HS_NST)
			return fail(t, "handshake message %d after the "
			    "handshake", t->hs[0]);
		if (hs_take(t, len, 0) == -1)
			return -1;
	}
	return 0;
}

ssize_t
tlsmini_read(struct tlsmini *t, void *buf, size_t n)
{
	uint8_t	*p;
	size_t	 len;
	int	 type;

	while (t->alen == 0) {
		if (rec_read(t, &type, &p, &len) == -1)
			return -1;
		if (type == CT_APP) {
			memcpy(t->app, p, len);
			t->aoff = 0;
			t->alen = len;
		} else if (type == CT_HS) {
			if (post_handshake(t, p, len) == -1)
				return -1;
		} else if (type == CT_ALERT)
			return alert(t, p, len);
		else
			return fail(t, "record type %d", type);
	}
	if (n > t->alen)
		n = t->alen;
	memcpy(buf, t->app + t->aoff, n);
	t->aoff += n;
	t->alen -= n;
	return (ssize_t)n;
}

ssize_t
tlsmini_write(struct tlsmini *t, const void *buf, size_t n)
{
	const uint8_t	*p = buf;
	size_t		 left = n, k;

	while (left > 0) {
		k = left > REC_MAX ? REC_MAX : left;
		if (rec_write(t, CT_APP, p, k) == -1)
			return -1;
		p += k;
		left -= k;
	}
	return (ssize_t)n;
}

int
tlsmini_pending(const struct tlsmini *t)
{
	return t->alen > 0 || t->rlen > 0;
}

const char *
tlsmini_error(const struct tlsmini *t)
{
	return t->err[0] != '\0' ? t->err : "unknown TLS error";
}

const char *
tlsmini_desc(const struct tlsmini *t)
{
	return t->desc;
}

void
tlsmini_free(struct tlsmini *t)
{
	if (t == NULL)
		return;
	EVP_CIPHER_CTX_free(t->rd.c);
	EVP_CIPHER_CTX_free(t->wr.c);
	EVP_MD_CTX_free(t->th);
	EVP_MD_CTX_free(t->hc);
	free(t->hs);
	free(t);
}
