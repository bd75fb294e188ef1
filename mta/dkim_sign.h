/*
 * DKIM signing for the mta process (RFC 6376, RFC 8463), without the
 * private key: no I/O, no clock, no imsg.
 *
 *	s = dkim_sign_new(&params, &err);
 *	dkim_sign_feed(s, chunk, len);		any chunking, stored form
 *	dkim_sign_finish(s);
 *	for each signature i: send dkim_sign_digest(s, i) to the signer,
 *	    which signs the 32 octets (rsa-sha256: RSASSA-PKCS1-v1_5 with a
 *	    SHA-256 DigestInfo; ed25519-sha256: PureEdDSA over the digest);
 *	    f = dkim_sign_field(s, i, sig, siglen, &flen);
 *	send the fields, in order, in front of the stored message;
 *	dkim_sign_free(s);
 *
 * The message is split at its first empty line.  The header is kept
 * (at most DKIM_SIGN_HEADER_MAX octets and DKIM_SIGN_FIELDS_MAX fields,
 * else DKIM_SIGN_E_HEADER_TOO_LARGE: the caller sends it unsigned); the
 * body is canonicalized and hashed as it streams by, never kept.
 *
 * Line ends are CRLF.  A bare CR or bare LF (never in the stored form:
 * smtp refuses them) is an ordinary octet of line content, in the header
 * as in the body: it neither ends a line nor counts as whitespace.
 * A message without an empty line is all header, with an empty body.
 * A last line without its CRLF is signed as mta_body sends it: with one.
 *
 * h= lists the names to sign (default: From, To, Cc, Subject, Date,
 * Message-ID, Reply-To, In-Reply-To, References, MIME-Version,
 * Content-Type, Content-Transfer-Encoding and the List-* fields) once
 * per instance present, and From once more, so that a From added later
 * breaks the signature (over-signing); a message without From is
 * refused.  All signatures share d=, c=, t=, x= and h=.
 */
#ifndef SENDGATE_DKIM_SIGN_H
#define SENDGATE_DKIM_SIGN_H

#include <stddef.h>
#include <stdint.h>

#include "dkim_key.h"

#define DKIM_SIGN_SIGS_MAX	4
#define DKIM_SIGN_HEADER_MAX	(256 * 1024)	/* octets of header */
#define DKIM_SIGN_FIELDS_MAX	1000		/* header fields */
#define DKIM_SIGN_NAMES_MAX	64		/* names of a custom h= */
#define DKIM_SIGN_NAME_LEN	64		/* octets of such a name */
#define DKIM_SIGN_DIGEST_LEN	32		/* SHA-256 */
#define DKIM_SIGN_SIG_MAX	(DKIM_KEY_RSA_BITS_MAX / 8)

enum dkim_canon {
	DKIM_CANON_RELAXED = 0,		/* the default */
	DKIM_CANON_SIMPLE
};

enum dkim_sign_error {
	DKIM_SIGN_E_NONE = 0,
	DKIM_SIGN_E_PARAM,		/* refused by dkim_sign_new() */
	DKIM_SIGN_E_HEADER_TOO_LARGE,
	DKIM_SIGN_E_NO_FROM,		/* RFC 6376 5.4: From must be signed */
	DKIM_SIGN_E_STATE,		/* call out of order, bad index */
	DKIM_SIGN_E_SIGNATURE,		/* signature length wrong for a= */
	DKIM_SIGN_E_NOMEM,
	DKIM_SIGN_E_CRYPTO		/* libcrypto failed */
};

/* Turn off over-signing of From: for tests only, the mta never does. */
#define DKIM_SIGN_F_NO_OVERSIGN	0x01

struct dkim_sign_params {
	const char	*domain;	/* d= */
	struct {
		enum dkim_alg	 alg;	/* a= */
		const char	*selector;	/* s= */
	}		 sig[DKIM_SIGN_SIGS_MAX];
	size_t		 nsig;		/* 1..DKIM_SIGN_SIGS_MAX */
	enum dkim_canon	 hcanon;	/* c= header part */
	enum dkim_canon	 bcanon;	/* c= body part */
	int64_t		 time;		/* t=, >= 0 */
	int64_t		 expire;	/* x=, > time; 0: no x= */
	/* Names to sign; NULL: the default list.  From is always added. */
	const char * const *headers;
	size_t		 nheaders;	/* <= DKIM_SIGN_NAMES_MAX */
	unsigned int	 flags;		/* DKIM_SIGN_F_* */
};

struct dkim_sign;

/*
 * Checks the parameters (domain and selectors: dot-separated labels of
 * letters, digits, '-' and '_'; header names: printable ASCII but ':')
 * and copies them.  NULL with *err set on a refusal or no memory.
 */
struct dkim_sign	*dkim_sign_new(const struct dkim_sign_params *,
			    enum dkim_sign_error *err);
void			 dkim_sign_free(struct dkim_sign *);

/*
 * Feeds the next octets of the stored message.  Returns 0, or -1 once
 * the signer has failed (see dkim_sign_error()); later calls do nothing.
 */
int	dkim_sign_feed(struct dkim_sign *, const void *, size_t);

/*
 * The message is complete: builds each signature's field without its
 * b= value and the digest to sign.  0 or -1.
 */
int	dkim_sign_finish(struct dkim_sign *);

/* After a finish: the 32-octet digest of signature i, or NULL. */
const uint8_t	*dkim_sign_digest(const struct dkim_sign *, size_t i);

/*
 * After a finish: the complete DKIM-Signature field of signature i for
 * the raw signature octets (Ed25519: 64; RSA: 256..DKIM_SIGN_SIG_MAX),
 * folded, ending in CRLF, and its length in *len.  Valid until the next
 * call for the same i or dkim_sign_free().  NULL on an error, which
 * fails the signer (DKIM_SIGN_E_SIGNATURE for a wrong length).
 */
const char	*dkim_sign_field(struct dkim_sign *, size_t i,
		    const uint8_t *sig, size_t siglen, size_t *len);

enum dkim_sign_error	 dkim_sign_error(const struct dkim_sign *);
const char		*dkim_sign_reason(enum dkim_sign_error);

/*
 * The canonicalizations, for the tests and the fuzzer (RFC 6376 3.4).
 * Header: one field as stored, its CRLF included if it has one (kept at
 * the end; a CRLF before WSP is a fold).  Body: a whole body.  out must
 * hold len + 2 octets; *outlen gets the canonical length.  0 or -1.
 */
int	dkim_canon_header(enum dkim_canon, const uint8_t *, size_t,
	    uint8_t *out, size_t outcap, size_t *outlen);
int	dkim_canon_body(enum dkim_canon, const uint8_t *, size_t,
	    uint8_t *out, size_t outcap, size_t *outlen);

#endif
