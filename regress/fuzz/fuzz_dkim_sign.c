/*
 * libFuzzer target for the DKIM signing module of the mta process
 * (mta/dkim_sign.c): arbitrary stored messages in arbitrary chunks.
 *
 * Input: one control byte, then the message.
 *	byte 0, bit 0	header canonicalization simple (else relaxed)
 *	byte 0, bit 1	body canonicalization simple (else relaxed)
 *	byte 0, bit 2	no over-signing of From
 *	byte 0, bits 3-7 chunking: 0 byte by byte, else chunk sizes taken
 *			from the message itself, scaled by this value
 * Invariants:
 *  - no crash, no leak, no read past the input (ASan, LSan);
 *  - the error, the digests and the fields are the same fed whole and
 *    fed in chunks;
 *  - a field ends with CRLF, folds only with CRLF TAB, holds nothing
 *    but printable ASCII otherwise, and starts "DKIM-Signature: v=1;";
 *  - the body canonicalizers: at most two octets longer than the body,
 *    idempotent, the relaxed form without WSP runs, WSP before a CRLF
 *    or trailing empty lines, the simple form a prefix-preserving copy
 *    ending in CRLF;
 *  - the header canonicalizer on the whole input is idempotent.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../mta/dkim_sign.h"

#define FUZZ_NAME	"fuzz_dkim_sign"
#include "fuzz.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct srun {
	enum dkim_sign_error	 error;
	uint8_t			 digest[2][DKIM_SIGN_DIGEST_LEN];
	char			*field[2];
	size_t			 flen[2];
};

static void
check_field(const char *f, size_t n)
{
	size_t	 i;

	if (n < 40 || memcmp(f, "DKIM-Signature: v=1;", 20) != 0)
		fuzz_die("field start");
	if (f[n - 2] != '\r' || f[n - 1] != '\n')
		fuzz_die("field does not end with CRLF");
	for (i = 0; i + 2 < n; i++) {
		if (f[i] == '\r') {
			if (f[i + 1] != '\n' || f[i + 2] != '\t')
				fuzz_die("fold is not CRLF TAB");
			i += 2;
		} else if (f[i] < 0x20 || f[i] > 0x7e)
			fuzz_die("control octet 0x%02x in the field",
			    (unsigned char)f[i]);
	}
}

static void
sign_run(struct srun *r, const uint8_t *in, size_t len, unsigned int ctl,
    int chunked)
{
	struct dkim_sign_params	 p;
	struct dkim_sign	*s;
	enum dkim_sign_error	 err;
	const uint8_t		*d;
	const char		*f;
	uint8_t			 sig[256];
	size_t			 pos = 0, k, i, siglen, step = ctl >> 3, j = 0;

	memset(r, 0, sizeof(*r));
	memset(&p, 0, sizeof(p));
	p.domain = "example.com";
	p.sig[0].alg = DKIM_ALG_ED25519_SHA256;
	p.sig[0].selector = "ed";
	p.sig[1].alg = DKIM_ALG_RSA_SHA256;
	p.sig[1].selector = "rsa";
	p.nsig = 2;
	p.hcanon = ctl & 1 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
	p.bcanon = ctl & 2 ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
	p.time = 1795683600;
	p.flags = ctl & 4 ? DKIM_SIGN_F_NO_OVERSIGN : 0;
	if ((s = dkim_sign_new(&p, &err)) == NULL)
		fuzz_die("new: %s", dkim_sign_reason(err));
	while (pos < len) {
		if (!chunked)
			k = len;
		else if (step == 0)
			k = 1;
		else
			k = 1 + (size_t)in[j++ % len] * step;
		if (k > len - pos)
			k = len - pos;
		if (dkim_sign_feed(s, in + pos, k) == -1)
			break;
		pos += k;
	}
	if (pos == len && dkim_sign_finish(s) == 0) {
		for (i = 0; i < p.nsig; i++) {
			if ((d = dkim_sign_digest(s, i)) == NULL)
				fuzz_die("no digest %zu", i);
			memcpy(r->digest[i], d, DKIM_SIGN_DIGEST_LEN);
			siglen = i == 0 ? 64 : 256;
			memset(sig, 0xa5 + i, siglen);
			if ((f = dkim_sign_field(s, i, sig, siglen,
			    &r->flen[i])) == NULL)
				fuzz_die("no field %zu", i);
			check_field(f, r->flen[i]);
			if ((r->field[i] = malloc(r->flen[i])) == NULL)
				fuzz_die("out of memory");
			memcpy(r->field[i], f, r->flen[i]);
		}
	} else if (dkim_sign_error(s) == DKIM_SIGN_E_NONE)
		fuzz_die("failed without an error");
	r->error = dkim_sign_error(s);
	dkim_sign_free(s);
}

static void
check_body(enum dkim_canon c, const uint8_t *in, size_t len)
{
	uint8_t	*out, *again;
	size_t	 olen, alen, i;

	if ((out = malloc(len + 2)) == NULL ||
	    (again = malloc(len + 4)) == NULL)
		fuzz_die("out of memory");
	if (dkim_canon_body(c, in, len, out, len + 2, &olen) == -1 ||
	    olen > len + 2)
		fuzz_die("body canonicalization");
	if (dkim_canon_body(c, out, olen, again, len + 4, &alen) == -1 ||
	    alen != olen || memcmp(out, again, olen) != 0)
		fuzz_die("body canonicalization not idempotent");
	if (c == DKIM_CANON_SIMPLE) {
		if (olen < 2 || out[olen - 2] != '\r' || out[olen - 1] != '\n')
			fuzz_die("simple body without its CRLF");
		if (memcmp(out, in, olen - 2 < len ? olen - 2 : len) != 0)
			fuzz_die("simple body changed");
	} else {
		if (olen >= 4 && memcmp(out + olen - 4, "\r\n\r\n", 4) == 0)
			fuzz_die("trailing empty line");
		for (i = 0; i + 1 < olen; i++) {
			if (out[i] == '\t')
				fuzz_die("TAB in a relaxed body");
			if (out[i] == ' ' && (out[i + 1] == ' ' ||
			    (out[i + 1] == '\r' && i + 2 < olen &&
			    out[i + 2] == '\n')))
				fuzz_die("WSP run or WSP at a line end");
		}
	}
	free(out);
	free(again);
}

static void
check_header(const uint8_t *in, size_t len)
{
	uint8_t	*out, *again;
	size_t	 olen, alen;

	if ((out = malloc(len + 2)) == NULL ||
	    (again = malloc(len + 4)) == NULL)
		fuzz_die("out of memory");
	if (dkim_canon_header(DKIM_CANON_RELAXED, in, len, out, len + 2,
	    &olen) == -1 || olen > len + 2)
		fuzz_die("header canonicalization");
	if (dkim_canon_header(DKIM_CANON_RELAXED, out, olen, again, len + 4,
	    &alen) == -1 || alen != olen || memcmp(out, again, olen) != 0)
		fuzz_die("header canonicalization not idempotent");
	free(out);
	free(again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct srun	 whole, chunks;
	unsigned int	 ctl;
	size_t		 i;

	if (size < 1)
		return 0;
	ctl = data[0];
	data++;
	size--;
	sign_run(&whole, data, size, ctl, 0);
	sign_run(&chunks, data, size, ctl, 1);
	if (whole.error != chunks.error)
		fuzz_die("error %d whole, %d in chunks", whole.error,
		    chunks.error);
	if (memcmp(whole.digest, chunks.digest, sizeof(whole.digest)) != 0)
		fuzz_die("digests depend on the chunking");
	for (i = 0; i < 2; i++) {
		if (whole.flen[i] != chunks.flen[i] || (whole.flen[i] > 0 &&
		    memcmp(whole.field[i], chunks.field[i],
		    whole.flen[i]) != 0))
			fuzz_die("field %zu depends on the chunking", i);
		free(whole.field[i]);
		free(chunks.field[i]);
	}
	check_body(DKIM_CANON_RELAXED, data, size);
	check_body(DKIM_CANON_SIMPLE, data, size);
	check_header(data, size);
	return 0;
}
