/*
 * mta/dkim_sign.c: DKIM canonicalization and signing digests (RFC 6376,
 * RFC 8463).  The canonical forms are checked byte for byte (the RFC
 * 3.4.5 example and a hostile corpus), every digest must not depend on
 * how the message is chunked, and signed messages are verified by
 * python3-dkim (regress/unit/dkim_verify.py): the independent proof that
 * the canonicalization and the signed data are right.
 */
#include <sys/wait.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "unit.h"

#include "base64.h"
#include "dkim_key.h"
#include "dkim_sign.h"

#define VERIFY_SCRIPT	"regress/unit/dkim_verify.py"
#define PY		"/usr/bin/python3"

struct bytes {
	const char	*p;
	size_t		 n;
};

#define B(s)		{ (s), sizeof(s) - 1 }

static struct dkim_sign_params
params(enum dkim_canon hc, enum dkim_canon bc, size_t nsig)
{
	struct dkim_sign_params	 p;
	static const char	*sel[] = { "s1", "s2", "sel-3", "x_4.y" };
	size_t			 i;

	memset(&p, 0, sizeof(p));
	p.domain = "example.com";
	for (i = 0; i < nsig; i++) {
		p.sig[i].alg = i % 2 ? DKIM_ALG_RSA_SHA256 :
		    DKIM_ALG_ED25519_SHA256;
		p.sig[i].selector = sel[i];
	}
	p.nsig = nsig;
	p.hcanon = hc;
	p.bcanon = bc;
	p.time = 1795683600;
	p.expire = 1795683600 + 86400;
	return p;
}

static void
expect_bytes(const uint8_t *got, size_t glen, const char *want, size_t wlen,
    const char *what)
{
	if (glen != wlen || memcmp(got, want, wlen) != 0) {
		print_error("%s: got %zu octets \"%.*s\", want %zu \"%.*s\"\n",
		    what, glen, (int)glen, (const char *)got, wlen, (int)wlen,
		    want);
		fail();
	}
}

static void
check_body(enum dkim_canon c, const char *in, size_t len, const char *want,
    size_t wlen)
{
	uint8_t	*out, *again;
	size_t	 olen, alen;

	assert_non_null(out = malloc(len + 2));
	assert_int_equal(dkim_canon_body(c, (const uint8_t *)in, len, out,
	    len + 2, &olen), 0);
	if (want != NULL)
		expect_bytes(out, olen, want, wlen, "body");
	/* Idempotence: the canonical form is its own canonical form. */
	assert_non_null(again = malloc(olen + 2));
	assert_int_equal(dkim_canon_body(c, out, olen, again, olen + 2,
	    &alen), 0);
	expect_bytes(again, alen, (const char *)out, olen, "body again");
	free(again);
	free(out);
}

static void
check_header(enum dkim_canon c, const char *in, size_t len,
    const char *want, size_t wlen)
{
	uint8_t	*out, *again;
	size_t	 olen, alen;

	assert_non_null(out = malloc(len + 2));
	assert_int_equal(dkim_canon_header(c, (const uint8_t *)in, len, out,
	    len + 2, &olen), 0);
	if (want != NULL)
		expect_bytes(out, olen, want, wlen, "header");
	assert_non_null(again = malloc(olen + 2));
	assert_int_equal(dkim_canon_header(c, out, olen, again, olen + 2,
	    &alen), 0);
	expect_bytes(again, alen, (const char *)out, olen, "header again");
	free(again);
	free(out);
}

/* RFC 6376 3.4.5, both canonicalizations, exact bytes. */
static void
test_rfc_example(void **state)
{
	static const char f1[] = "A: X\r\n";
	static const char f2[] = "B : Y\t\r\n\tZ  \r\n";
	static const char body[] = " C \r\nD \t E\r\n\r\n\r\n";

	check_header(DKIM_CANON_RELAXED, f1, sizeof(f1) - 1, "a:X\r\n", 5);
	check_header(DKIM_CANON_RELAXED, f2, sizeof(f2) - 1, "b:Y Z\r\n", 7);
	check_header(DKIM_CANON_SIMPLE, f1, sizeof(f1) - 1, f1,
	    sizeof(f1) - 1);
	check_header(DKIM_CANON_SIMPLE, f2, sizeof(f2) - 1, f2,
	    sizeof(f2) - 1);
	check_body(DKIM_CANON_RELAXED, body, sizeof(body) - 1,
	    " C\r\nD E\r\n", 9);
	check_body(DKIM_CANON_SIMPLE, body, sizeof(body) - 1,
	    " C \r\nD \t E\r\n", 12);
}

static const struct {
	struct bytes	 in, relaxed, simple;
} body_rows[] = {
	/* RFC 6376 3.4.3, 3.4.4 and erratum 3192: the empty body. */
	{ B(""), B(""), B("\r\n") },
	{ B("\r\n"), B(""), B("\r\n") },
	{ B("\r\n\r\n\r\n"), B(""), B("\r\n") },
	{ B(" \t \r\n\t\r\n"), B(""), B(" \t \r\n\t\r\n") },
	/* No final CRLF. */
	{ B("abc"), B("abc\r\n"), B("abc\r\n") },
	{ B("abc  \t"), B("abc\r\n"), B("abc  \t\r\n") },
	{ B("a\r\n\r\nb"), B("a\r\n\r\nb\r\n"), B("a\r\n\r\nb\r\n") },
	/* Trailing lines of only whitespace. */
	{ B("abc\r\n  \r\n\t\r\n\r\n"), B("abc\r\n"),
	    B("abc\r\n  \r\n\t\r\n") },
	{ B("abc\r\n\r\n \r\nx\r\n\r\n"), B("abc\r\n\r\n\r\nx\r\n"),
	    B("abc\r\n\r\n \r\nx\r\n") },
	/* WSP runs, leading WSP kept as one SP. */
	{ B("\t\ta  \t b \r\n"), B(" a b\r\n"), B("\t\ta  \t b \r\n") },
	/* 8-bit octets are text. */
	{ B("\xff\xfe \xa0 \x80\r\n"), B("\xff\xfe \xa0 \x80\r\n"),
	    B("\xff\xfe \xa0 \x80\r\n") },
	/* NUL is text. */
	{ { "a\0  b", 5 }, { "a\0 b\r\n", 6 }, { "a\0  b\r\n", 7 } },
	/* Bare CR and bare LF are line content, never line ends or WSP. */
	{ B("a\rb\r\n"), B("a\rb\r\n"), B("a\rb\r\n") },
	{ B("a \r b \n c\r\n"), B("a \r b \n c\r\n"),
	    B("a \r b \n c\r\n") },
	{ B("a\n\n"), B("a\n\n\r\n"), B("a\n\n\r\n") },
	{ B("a\r"), B("a\r\r\n"), B("a\r\r\n") },
	{ B("\r"), B("\r\r\n"), B("\r\r\n") },
	{ B("\n"), B("\n\r\n"), B("\n\r\n") },
	{ B("a  \r"), B("a \r\r\n"), B("a  \r\r\n") },
	{ B("\r\r\n\r\n"), B("\r\r\n"), B("\r\r\n") },
	{ B("a\r\n\r"), B("a\r\n\r\r\n"), B("a\r\n\r\r\n") },
	{ B("x\r\n\r\n\n"), B("x\r\n\r\n\n\r\n"), B("x\r\n\r\n\n\r\n") },
};

static void
test_body_rows(void **state)
{
	size_t	 i;

	for (i = 0; i < sizeof(body_rows) / sizeof(body_rows[0]); i++) {
		check_body(DKIM_CANON_RELAXED, body_rows[i].in.p,
		    body_rows[i].in.n, body_rows[i].relaxed.p,
		    body_rows[i].relaxed.n);
		check_body(DKIM_CANON_SIMPLE, body_rows[i].in.p,
		    body_rows[i].in.n, body_rows[i].simple.p,
		    body_rows[i].simple.n);
	}
}

static const struct {
	struct bytes	 in, relaxed;
} header_rows[] = {
	{ B("Subject: Hello  World \r\n"), B("subject:Hello World\r\n") },
	{ B("SUBJECT:\r\n"), B("subject:\r\n") },
	{ B("Subject:  \t \r\n"), B("subject:\r\n") },
	{ B("To: a,\r\n\tb,\r\n  c\r\n"), B("to:a, b, c\r\n") },
	{ B("To:\r\n a\r\n"), B("to:a\r\n") },
	{ B("X-A \t: v\r\n"), B("x-a:v\r\n") },
	{ B("X: a: b\r\n"), B("x:a: b\r\n") },
	{ B("X: \xe9t\xe9 \xff\r\n"), B("x:\xe9t\xe9 \xff\r\n") },
	/* The last field of a header without an empty line. */
	{ B("Subject: end "), B("subject:end") },
	/* No colon: all of it is value, never signed. */
	{ B("Bogus  line \r\n"), B("Bogus line\r\n") },
	/* Bare CR/LF are content. */
	{ B("X: a\rb \nc\r\n"), B("x:a\rb \nc\r\n") },
	{ B("X: a\r\r\n"), B("x:a\r\r\n") },
};

static const struct bytes odd_fields[] = {
	B("X: 1\r\n\r\n \r\nTo: 2\r\n"),
	B("X: 1\r\n\t\r\n \r\n\r\n"),
	B("X: a\r\r\n\nb"),
	B("X: a \r\nb\r\n\r\n c \r\n"),
	B("\r\n \r\n:\r\n\t\r\n"),
	B("\0*\0 \r\n\r\n "),
};

static void
test_header_rows(void **state)
{
	size_t	 i;
	uint8_t	 out[8];
	size_t	 olen;

	for (i = 0; i < sizeof(header_rows) / sizeof(header_rows[0]); i++) {
		check_header(DKIM_CANON_RELAXED, header_rows[i].in.p,
		    header_rows[i].in.n, header_rows[i].relaxed.p,
		    header_rows[i].relaxed.n);
		check_header(DKIM_CANON_SIMPLE, header_rows[i].in.p,
		    header_rows[i].in.n, header_rows[i].in.p,
		    header_rows[i].in.n);
	}
	/*
	 * CRLF not before WSP cannot be inside a field split from a header,
	 * but the canonicalizer stays idempotent with it (found by fuzzing).
	 */
	for (i = 0; i < sizeof(odd_fields) / sizeof(odd_fields[0]); i++)
		check_header(DKIM_CANON_RELAXED, odd_fields[i].p,
		    odd_fields[i].n, NULL, 0);
	/* Output room is checked before anything is written. */
	assert_int_equal(dkim_canon_header(DKIM_CANON_RELAXED,
	    (const uint8_t *)"A: 12345\r\n", 10, out, sizeof(out), &olen), -1);
	assert_int_equal(dkim_canon_body(DKIM_CANON_SIMPLE,
	    (const uint8_t *)"0123456789", 10, out, sizeof(out), &olen), -1);
}

/* The hostile corpus: built once. */
#define NCORPUS		16
static struct bytes	 corpus[NCORPUS];
static char		*corpus_mem[NCORPUS];
static size_t		 ncorpus;

static void
corpus_add(const char *p, size_t n)
{
	char	*m;

	assert_true(ncorpus < NCORPUS);
	assert_non_null(m = malloc(n + 1));
	memcpy(m, p, n);
	m[n] = '\0';		/* for strstr() */
	corpus_mem[ncorpus] = m;
	corpus[ncorpus].p = m;
	corpus[ncorpus++].n = n;
}

#define CORPUS(s)	corpus_add((s), sizeof(s) - 1)

static char *
long_line_msg(size_t *len)
{
	static const char	 hdr[] = "From: a@example.com\r\n"
	    "Subject: long\r\n\r\n";
	size_t			 n = 100 * 1024, i, o;
	char			*m;

	assert_non_null(m = malloc(sizeof(hdr) + 2 * n + 64));
	o = sizeof(hdr) - 1;
	memcpy(m, hdr, o);
	for (i = 0; i < n; i++)
		m[o++] = "ab \t c\xe9"[i % 7];
	memcpy(m + o, "   \r\n", 5);
	o += 5;
	for (i = 0; i < n; i++)
		m[o++] = i % 50 == 49 ? ' ' : 'x';
	*len = o;
	return m;
}

static void
corpus_build(void)
{
	char	*m;
	size_t	 n;

	if (ncorpus > 0)
		return;
	CORPUS("From: Alice <alice@example.com>\r\nTo: bob@example.org\r\n"
	    "Subject: test\r\nDate: Thu, 26 Nov 2026 09:00:00 +0000\r\n"
	    "Message-ID: <1@example.com>\r\n\r\nHello\r\n");
	/* Folded fields, trailing whitespace, WSP before the colon. */
	CORPUS("From: Alice\r\n <alice@example.com>  \r\nTo: a@b.example,\r\n"
	    "\t c@d.example\t\r\nSubject:   folded\r\n   subject \r\n"
	    "X-Other: not signed\r\n\r\nline  with   spaces  \r\n\t\r\n"
	    "  \r\n\r\n");
	/* Duplicates: instances are taken from the bottom up. */
	CORPUS("To: first@example.org\r\nFrom: a@example.com\r\n"
	    "Subject: one\r\nTo: second@example.org\r\nSubject: two\r\n"
	    "Cc: c@example.org\r\nTo: third@example.org\r\n\r\nbody\r\n");
	/* Empty body; body without its final CRLF. */
	CORPUS("From: a@example.com\r\nSubject: empty\r\n\r\n");
	CORPUS("From: a@example.com\r\nSubject: no crlf\r\n\r\nlast line  ");
	/* Header only, with and without its last CRLF. */
	CORPUS("From: a@example.com\r\nSubject: no body\r\n");
	CORPUS("From: a@example.com\r\nSubject: no crlf at all");
	/* 8-bit octets in header and body; List-* fields. */
	CORPUS("From: =?utf-8?q?J=C3=B6rg?= <j@example.com>\r\n"
	    "Subject: \xc3\xa9t\xc3\xa9\r\nList-Id: <l.example.com>\r\n"
	    "List-Unsubscribe: <mailto:u@example.com>\r\n"
	    "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\n\r\n\xc3\xa9\xff\r\n");
	/* Bare CR and LF in header and body: defined, no crash. */
	CORPUS("From: a@example.com\r\nSubject: a\rb\nc\r\n\r\n"
	    "x\ry\nz \r\r\n\n\r");
	/* Empty line first: no header at all (no From). */
	CORPUS("\r\nFrom: in the body\r\n");
	CORPUS("From: a@example.com\r\n\r\n\r\n\r\n");
	m = long_line_msg(&n);
	corpus_add(m, n);
	free(m);
}

struct run {
	enum dkim_sign_error	 error;
	uint8_t			 digest[DKIM_SIGN_SIGS_MAX]
				    [DKIM_SIGN_DIGEST_LEN];
	char			*field[DKIM_SIGN_SIGS_MAX];
	size_t			 flen[DKIM_SIGN_SIGS_MAX];
};

enum { F_WHOLE, F_BYTES, F_RANDOM, F_NPATTERNS };

/* A fake signature of the right length: the fields are compared. */
static size_t
fake_sig(enum dkim_alg alg, uint8_t *sig)
{
	size_t	 n = alg == DKIM_ALG_ED25519_SHA256 ? 64 : 256, i;

	for (i = 0; i < n; i++)
		sig[i] = (uint8_t)(i * 7 + 3);
	return n;
}

static void
run_sign(const struct dkim_sign_params *p, const char *msg, size_t len,
    int pattern, unsigned int seed, struct run *r)
{
	struct dkim_sign	*s;
	enum dkim_sign_error	 err;
	const uint8_t		*d;
	const char		*f;
	uint8_t			 sig[DKIM_SIGN_SIG_MAX];
	size_t			 pos = 0, k, i, slen;

	memset(r, 0, sizeof(*r));
	assert_non_null(s = dkim_sign_new(p, &err));
	while (pos < len) {
		if (pattern == F_BYTES)
			k = 1;
		else if (pattern == F_RANDOM)
			k = 1 + rand_r(&seed) % (seed % 3 == 0 ? 7 : 5000);
		else
			k = len;
		if (k > len - pos)
			k = len - pos;
		if (dkim_sign_feed(s, msg + pos, k) == -1)
			break;
		pos += k;
	}
	if (pos == len && dkim_sign_finish(s) == 0) {
		for (i = 0; i < p->nsig; i++) {
			assert_non_null(d = dkim_sign_digest(s, i));
			memcpy(r->digest[i], d, DKIM_SIGN_DIGEST_LEN);
			slen = fake_sig(p->sig[i].alg, sig);
			assert_non_null(f = dkim_sign_field(s, i, sig, slen,
			    &r->flen[i]));
			assert_int_equal(strlen(f), r->flen[i]);
			assert_non_null(r->field[i] = strdup(f));
		}
		assert_null(dkim_sign_digest(s, p->nsig));
	}
	r->error = dkim_sign_error(s);
	dkim_sign_free(s);
}

static void
run_free(struct run *r)
{
	size_t	 i;

	for (i = 0; i < DKIM_SIGN_SIGS_MAX; i++)
		free(r->field[i]);
}

/*
 * The field is what the verifier sees: only CRLF TAB folds, lines of at
 * most 78 columns (a TAB counting 8), CRLF at the end, no other control
 * octet, and the b= value is the base64 of the signature.
 */
static void
check_field(const char *f, size_t len, enum dkim_alg alg)
{
	uint8_t	 sig[DKIM_SIGN_SIG_MAX], dec[DKIM_SIGN_SIG_MAX];
	char	 b64[1024];
	size_t	 i, col = 0, o = 0, slen, dlen;
	const char *b;

	assert_true(len > 2 && f[len - 2] == '\r' && f[len - 1] == '\n');
	assert_memory_equal(f, "DKIM-Signature: v=1; a=", 23);
	for (i = 0; i + 2 < len; i++) {
		if (f[i] == '\r') {
			assert_true(f[i + 1] == '\n' && f[i + 2] == '\t');
			assert_true(col <= 78);
			col = 8;
			i += 2;
			continue;
		}
		assert_true(f[i] >= 0x20 && f[i] < 0x7f);
		col++;
	}
	assert_true(col <= 78);
	assert_non_null(b = strstr(f, " b="));
	for (b += 3; *b != '\r' || b[1] != '\n' || b[2] == '\t'; b++)
		if (*b != '\r' && *b != '\n' && *b != '\t')
			b64[o++] = *b;
	b64[o] = '\0';
	slen = fake_sig(alg, sig);
	assert_int_equal(base64_decode(b64, o, dec, sizeof(dec), &dlen), 0);
	assert_int_equal(dlen, slen);
	assert_memory_equal(dec, sig, slen);
}

/* Digests and fields do not depend on chunking. */
static void
test_chunking(void **state)
{
	struct dkim_sign_params	 p;
	struct run		 whole, other;
	size_t			 m, i, c;
	int			 pat;

	corpus_build();
	for (m = 0; m < ncorpus; m++) {
		for (c = 0; c < 4; c++) {
			p = params(c & 1, c >> 1, 4);
			run_sign(&p, corpus[m].p, corpus[m].n, F_WHOLE, 0,
			    &whole);
			for (i = 0; whole.error == DKIM_SIGN_E_NONE &&
			    i < p.nsig; i++)
				check_field(whole.field[i], whole.flen[i],
				    p.sig[i].alg);
			for (pat = F_BYTES; pat < F_NPATTERNS; pat++) {
				run_sign(&p, corpus[m].p, corpus[m].n, pat,
				    (unsigned int)(m * 31 + c), &other);
				assert_int_equal(other.error, whole.error);
				assert_memory_equal(other.digest,
				    whole.digest, sizeof(whole.digest));
				for (i = 0; i < p.nsig; i++) {
					assert_int_equal(other.flen[i],
					    whole.flen[i]);
					if (whole.flen[i] > 0)
						assert_memory_equal(
						    other.field[i],
						    whole.field[i],
						    whole.flen[i]);
				}
				run_free(&other);
			}
			run_free(&whole);
		}
	}
}

/* The value of a tag (" h=", "bh=") of a field, unfolded. */
static void
tag_of(const char *f, const char *tag, char *out, size_t size)
{
	const char	*h;
	size_t		 o = 0;

	assert_non_null(h = strstr(f, tag));
	for (h += strlen(tag); *h != ';'; h++)
		if (*h != '\r' && *h != '\n' && *h != '\t' && *h != ' ')
			if (o + 1 < size)
				out[o++] = *h;
	out[o] = '\0';
}

static void
expect_h(const struct dkim_sign_params *p, const char *msg, const char *want)
{
	struct run	 r;
	char		 h[4096];

	run_sign(p, msg, strlen(msg), F_WHOLE, 0, &r);
	assert_int_equal(r.error, DKIM_SIGN_E_NONE);
	tag_of(r.field[0], " h=", h, sizeof(h));
	assert_string_equal(h, want);
	run_free(&r);
}

static void
test_h_list(void **state)
{
	struct dkim_sign_params	 p = params(DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, 1);
	static const char *custom[] = { "X-Custom", "subject", "From" };

	corpus_build();
	expect_h(&p, corpus[0].p, "from:from:to:subject:date:message-id");
	expect_h(&p, corpus[2].p, "from:from:to:to:to:cc:subject:subject");
	expect_h(&p, corpus[7].p, "from:from:subject:mime-version:"
	    "content-type:content-transfer-encoding:list-id:"
	    "list-unsubscribe:list-unsubscribe-post");
	expect_h(&p, "FROM: a\r\nfrom: b\r\nlist-OWNER: x\r\n\r\n",
	    "from:from:from:list-owner");
	p.flags = DKIM_SIGN_F_NO_OVERSIGN;
	expect_h(&p, corpus[0].p, "from:to:subject:date:message-id");
	p.flags = 0;
	p.headers = custom;
	p.nheaders = 3;
	expect_h(&p, "Subject: s\r\nX-Custom: 1\r\nTo: t\r\nFrom: f\r\n\r\n",
	    "from:from:x-custom:subject");
	p.nheaders = 0;
	expect_h(&p, corpus[0].p, "from:from");
}

static void
sha256(const void *p, size_t n, uint8_t *out)
{
	unsigned int	 len;

	assert_int_equal(EVP_Digest(p, n, out, &len, EVP_sha256(), NULL), 1);
	assert_int_equal(len, 32);
}

/*
 * RFC 6376 5.4.2 by hand: the signed data of a message with repeated
 * fields, simple canonicalization, is the fields in h= order, each
 * name's instances from the bottom up, then the field up to "b=".
 */
static void
test_signed_data(void **state)
{
	static const char	 msg[] = "To: 1\r\nFrom: f\r\nSubject: s1\r\n"
	    "To: 2\r\nSubject:s2 \r\nX: not\r\nTo: 3\r\n\r\nbody\r\n";
	static const char	 hdrs[] = "From: f\r\nTo: 3\r\nTo: 2\r\n"
	    "To: 1\r\nSubject:s2 \r\nSubject: s1\r\n";
	struct dkim_sign_params	 p = params(DKIM_CANON_SIMPLE,
	    DKIM_CANON_SIMPLE, 2);
	struct run		 r;
	uint8_t			 want[32], bh[32];
	char			 data[4096], bh64[64], *b, *bhp;
	size_t			 n, i;

	run_sign(&p, msg, sizeof(msg) - 1, F_WHOLE, 0, &r);
	assert_int_equal(r.error, DKIM_SIGN_E_NONE);
	for (i = 0; i < p.nsig; i++) {
		assert_non_null(b = strstr(r.field[i], " b="));
		n = b + 3 - r.field[i];
		memcpy(data, hdrs, sizeof(hdrs) - 1);
		memcpy(data + sizeof(hdrs) - 1, r.field[i], n);
		sha256(data, sizeof(hdrs) - 1 + n, want);
		assert_memory_equal(r.digest[i], want, 32);
	}
	/* bh= is the hash of the simple body. */
	sha256("body\r\n", 6, bh);
	assert_true(base64_encode(bh, 32, bh64, sizeof(bh64)) > 0);
	assert_non_null(bhp = strstr(r.field[0], "bh="));
	assert_memory_equal(bhp + 3, bh64, strlen(bh64));
	run_free(&r);
}

/*
 * Differential: the body canonicalizers against a reference written
 * octet by octet from RFC 6376 3.4.3 and 3.4.4 (and its erratum), with
 * this module's reading of the odd cases (test_body_rows): only CRLF
 * ends a line, a bare CR or LF is content; relaxed makes each WSP run
 * one SP and drops it at the end of a line; trailing empty lines go;
 * the last line gets its CRLF; an empty body is CRLF for simple and
 * stays empty for relaxed.  The fast paths (SSE2 sixteen octets at a
 * time with two of lookahead, SWAR, memchr) must agree on any body,
 * however it is cut into pieces.
 */
static size_t
ref_canon_body(enum dkim_canon c, const uint8_t *in, size_t n,
    uint8_t *out)
{
	size_t	 i = 0, o = 0, keep = 0, start;
	int	 wsp;

	while (i < n) {
		start = o;
		wsp = 0;
		for (; i < n && !(in[i] == '\r' && i + 1 < n &&
		    in[i + 1] == '\n'); i++) {
			if (c == DKIM_CANON_RELAXED &&
			    (in[i] == ' ' || in[i] == '\t')) {
				wsp = 1;
				continue;
			}
			if (wsp)
				out[o++] = ' ';
			wsp = 0;
			out[o++] = in[i];
		}
		i += 2;		/* the CRLF, or past the end */
		out[o++] = '\r';
		out[o++] = '\n';
		/* An empty line stays only if content follows it. */
		if (o - start > 2)
			keep = o;
	}
	if (keep == 0 && c == DKIM_CANON_SIMPLE) {
		memcpy(out, "\r\n", 2);
		keep = 2;
	}
	return keep;
}

static unsigned int	 diff_seed = 4711;

static uint32_t
diff_rnd(uint32_t n)
{
	return (uint32_t)rand_r(&diff_seed) % n;
}

/*
 * Up to max octets of blank lines (SP, TAB, CRLF) at p: where they end
 * a body they all go, and that is where held line ends and WSP matter.
 */
static size_t
diff_blank(uint8_t *p, size_t max)
{
	size_t	 o = 0, k;

	for (k = diff_rnd((uint32_t)max / 2 + 1); k > 0 && o + 2 <= max; k--)
		if (diff_rnd(3) == 0)
			p[o++] = diff_rnd(2) ? ' ' : '\t';
		else {
			memcpy(p + o, "\r\n", 2);
			o += 2;
		}
	return o;
}

/*
 * n octets of {a, SP, TAB, CR, LF, x}, with more or fewer of the 'a's,
 * the last ones blank lines or not.
 */
static void
diff_small(uint8_t *p, size_t n, uint32_t text)
{
	static const char	 odd[] = " \t\r\nx";
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (diff_rnd(100) < text)
			p[i] = 'a';
		else if (diff_rnd(4) == 0)
			p[i] = i > 0 && p[i - 1] == '\r' ? '\n' : '\r';
		else
			p[i] = odd[diff_rnd(sizeof(odd) - 1)];
	}
	if (diff_rnd(2)) {
		i = diff_blank(p + n / 2, n - n / 2);
		memmove(p + n - i, p + n / 2, i);
	}
}

/*
 * About n octets like dkimspeed's text (words, single SPs, now and then
 * two SPs or a TAB, trailing blanks, empty lines, CRLF), with runs of
 * WSP, CR and LF thrown in, sometimes thousands of blank lines, and an
 * end that is cut anywhere.  Returns the length.
 */
static size_t
diff_text(uint8_t *p, size_t n)
{
	static const char	*w[] = { "the", "of", "a", "message", "x",
	    "https://example.com/track?id=4711", "12.50", "Hello,", "EUR" };
	static const char	 odd[] = " \t\r\n";
	size_t			 o = 0, col = 0, k, l;
	const char		*s;

	while (o + 100 < n) {
		s = w[diff_rnd(sizeof(w) / sizeof(w[0]))];
		l = strlen(s);
		if (col + l + 3 > 76 || diff_rnd(60) == 0) {
			if (diff_rnd(8) == 0)
				p[o++] = ' ';
			memcpy(p + o, "\r\n", 2);
			o += 2;
			if (diff_rnd(12) == 0) {
				memcpy(p + o, "\r\n", 2);
				o += 2;
			}
			col = 0;
		}
		if (diff_rnd(40) == 0)
			for (k = 1 + diff_rnd(8); k > 0 && o + 100 < n; k--)
				p[o++] = odd[diff_rnd(sizeof(odd) - 1)];
		if (diff_rnd(3000) == 0)
			for (k = diff_rnd(12000); k > 0 && o + 100 < n; k--) {
				if (diff_rnd(3) == 0)
					p[o++] = diff_rnd(2) ? ' ' : '\t';
				memcpy(p + o, "\r\n", 2);
				o += 2;
			}
		if (col > 0) {
			if ((k = diff_rnd(20)) == 0)
				p[o++] = ' ';
			else if (k == 1)
				p[o++] = '\t';
			p[o++] = ' ';
		}
		memcpy(p + o, s, l);
		o += l;
		col += l + 1;
	}
	if (diff_rnd(2))
		for (k = diff_rnd(6); k > 0; k--)
			p[o++] = "\r\n \t"[diff_rnd(4)];
	else
		o += diff_blank(p + o, 100);
	return o;
}

/*
 * The body fed after a header, cut at cut (when not 0) or else into
 * pieces of 1 to max octets: bh= must be the hash of want.
 */
static void
diff_feed(enum dkim_canon c, const uint8_t *body, size_t n, size_t cut,
    size_t max, const uint8_t *want, size_t wlen)
{
	static const char	 hdr[] = "From: a@example.com\r\n\r\n";
	struct dkim_sign_params	 p = params(DKIM_CANON_RELAXED, c, 1);
	struct dkim_sign	*s;
	enum dkim_sign_error	 err;
	uint8_t			*m, sig[DKIM_SIGN_SIG_MAX], d[32];
	char			 got[64], exp[64];
	const char		*f;
	size_t			 len = sizeof(hdr) - 1 + n, pos = 0, k, flen;

	assert_non_null(m = malloc(len));
	memcpy(m, hdr, sizeof(hdr) - 1);
	memcpy(m + sizeof(hdr) - 1, body, n);
	if (cut != 0)
		cut += sizeof(hdr) - 1;
	assert_non_null(s = dkim_sign_new(&p, &err));
	while (pos < len) {
		if (cut != 0)
			k = pos < cut ? cut - pos : len - pos;
		else
			k = 1 + diff_rnd((uint32_t)max);
		if (k > len - pos)
			k = len - pos;
		assert_int_equal(dkim_sign_feed(s, m + pos, k), 0);
		pos += k;
	}
	assert_int_equal(dkim_sign_finish(s), 0);
	assert_non_null(f = dkim_sign_field(s, 0, sig,
	    fake_sig(p.sig[0].alg, sig), &flen));
	tag_of(f, "bh=", got, sizeof(got));
	sha256(want, wlen, d);
	assert_true(base64_encode(d, 32, exp, sizeof(exp)) > 0);
	if (strcmp(got, exp) != 0) {
		print_error("bh= %s, want %s (%s, %zu octets, cut %zu, "
		    "pieces up to %zu)\n", got, exp, c == DKIM_CANON_SIMPLE ?
		    "simple" : "relaxed", n, cut, max);
		fail();
	}
	dkim_sign_free(s);
	free(m);
}

/* One body: dkim_canon_body() and the reference give the same octets. */
static void
diff_one(enum dkim_canon c, const uint8_t *body, size_t n, uint8_t *want,
    size_t *wlen)
{
	uint8_t	*out;
	size_t	 olen;

	assert_non_null(out = malloc(n + 2));
	*wlen = ref_canon_body(c, body, n, want);
	assert_int_equal(dkim_canon_body(c, body, n, out, n + 2, &olen), 0);
	if (olen != *wlen || memcmp(out, want, olen) != 0) {
		print_error("%s body of %zu octets differs from the "
		    "reference\n", c == DKIM_CANON_SIMPLE ? "simple" :
		    "relaxed", n);
		fail();
	}
	free(out);
}

static void
test_body_reference(void **state)
{
	static const size_t	 max[] = { 7, 100, 5000, 70000 };
	static const uint32_t	 text[] = { 0, 50, 80, 95 };
	enum dkim_canon		 c;
	uint8_t			*body, *want;
	size_t			 n, wlen, i, k;

	assert_non_null(body = malloc(72 * 1024));
	assert_non_null(want = malloc(72 * 1024 + 4));
	/* (a) short bodies of a small alphabet, some fed in pieces */
	for (i = 0; i < 20000; i++) {
		n = diff_rnd(301);
		diff_small(body, n, text[i % 4]);
		for (c = DKIM_CANON_RELAXED; c <= DKIM_CANON_SIMPLE; c++) {
			diff_one(c, body, n, want, &wlen);
			if (i % 10 == 0)
				diff_feed(c, body, n, 0, max[i / 10 % 2],
				    want, wlen);
		}
	}
	/* (b) and (c) long text bodies, whole and in pieces */
	for (i = 0; i < 60; i++) {
		n = diff_text(body, 4096 + diff_rnd(66 * 1024));
		for (c = DKIM_CANON_RELAXED; c <= DKIM_CANON_SIMPLE; c++) {
			diff_one(c, body, n, want, &wlen);
			for (k = 0; k < 4; k++)
				diff_feed(c, body, n, 0, max[k], want, wlen);
		}
	}
	/* Every cut of short bodies: a piece may end anywhere. */
	for (i = 0; i < 200; i++) {
		n = 20 + diff_rnd(61);
		diff_small(body, n, text[1 + i % 3]);
		for (c = DKIM_CANON_RELAXED; c <= DKIM_CANON_SIMPLE; c++) {
			diff_one(c, body, n, want, &wlen);
			for (k = 1; k < n; k++)
				diff_feed(c, body, n, k, 0, want, wlen);
		}
	}
	free(want);
	free(body);
}

static void
expect_error(const char *msg, size_t len, enum dkim_sign_error want)
{
	struct dkim_sign_params	 p = params(DKIM_CANON_RELAXED,
	    DKIM_CANON_RELAXED, 1);
	struct run		 r;
	int			 pat;

	for (pat = 0; pat < F_NPATTERNS; pat++) {
		if (pat == F_BYTES && len > 100000)
			continue;
		run_sign(&p, msg, len, pat, 7, &r);
		assert_int_equal(r.error, want);
		run_free(&r);
	}
}

static void
test_limits(void **state)
{
	char	*m;
	size_t	 i, o;

	/* 256 KiB of header is kept; one octet more is too large. */
	assert_non_null(m = malloc(DKIM_SIGN_HEADER_MAX + 64));
	o = 0;
	o += sprintf(m, "From: a@example.com\r\nX: ");
	while (o < DKIM_SIGN_HEADER_MAX - 2)
		m[o++] = 'x';
	memcpy(m + o, "\r\n\r\nbody\r\n", 10);
	expect_error(m, o + 10, DKIM_SIGN_E_NONE);
	memcpy(m + o, "y\r\n\r\nbody\r\n", 11);
	expect_error(m, o + 11, DKIM_SIGN_E_HEADER_TOO_LARGE);
	/* So is it without an empty line. */
	expect_error(m, o + 3, DKIM_SIGN_E_HEADER_TOO_LARGE);
	expect_error(m, o + 1, DKIM_SIGN_E_NONE);
	/* 1000 fields are kept, 1001 are too many. */
	o = sprintf(m, "From: a@example.com\r\n");
	for (i = 1; i < DKIM_SIGN_FIELDS_MAX; i++)
		o += sprintf(m + o, "To: %zu\r\n", i);
	memcpy(m + o, "\r\nbody", 6);
	expect_error(m, o + 6, DKIM_SIGN_E_NONE);
	o += sprintf(m + o, "Cc: x\r\n");
	memcpy(m + o, "\r\nbody", 6);
	expect_error(m, o + 6, DKIM_SIGN_E_HEADER_TOO_LARGE);
	free(m);
	/* From must be signed. */
	expect_error("To: x\r\n\r\nbody\r\n", 15, DKIM_SIGN_E_NO_FROM);
	expect_error("\r\nFrom: a\r\n", 11, DKIM_SIGN_E_NO_FROM);
	expect_error("", 0, DKIM_SIGN_E_NO_FROM);
	expect_error("Fromage: x\r\n\r\n", 14, DKIM_SIGN_E_NO_FROM);
	expect_error(" From: x\r\n\r\n", 12, DKIM_SIGN_E_NO_FROM);
	expect_error("From : x\r\n\r\n", 12, DKIM_SIGN_E_NONE);
}

static void
expect_refused(const struct dkim_sign_params *p)
{
	enum dkim_sign_error	 err = DKIM_SIGN_E_NONE;

	assert_null(dkim_sign_new(p, &err));
	assert_int_equal(err, DKIM_SIGN_E_PARAM);
}

static void
test_params(void **state)
{
	struct dkim_sign_params	 p, q;
	static const char	*bad_names[] = { "", ".", "a..b", ".a", "a.",
	    "a b", "a;b", "a=b", "a\r\nb", "\xc3\xa9.com", "a/b", "a:b" };
	static const char	*bad_hdr[] = { "Sub;ject" };
	static const char	*bad_hdr2[] = { "To", "" };
	static const char	*bad_hdr3[] = { "X:Y" };
	char			 long_label[80], long_name[300];
	enum dkim_sign_error	 err;
	struct dkim_sign	*s;
	size_t			 i;

	q = params(DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, 4);
	assert_non_null(s = dkim_sign_new(&q, &err));
	assert_int_equal(err, DKIM_SIGN_E_NONE);
	/* Call order. */
	assert_null(dkim_sign_digest(s, 0));
	assert_int_equal(dkim_sign_feed(s, "From: a\r\n", 9), 0);
	assert_int_equal(dkim_sign_finish(s), 0);
	assert_int_equal(dkim_sign_finish(s), -1);
	assert_int_equal(dkim_sign_error(s), DKIM_SIGN_E_STATE);
	assert_string_equal(dkim_sign_reason(dkim_sign_error(s)),
	    "signing call out of order");
	dkim_sign_free(s);
	assert_non_null(s = dkim_sign_new(&q, &err));
	assert_int_equal(dkim_sign_finish(s), -1);	/* no From */
	assert_int_equal(dkim_sign_feed(s, "x", 1), -1);
	dkim_sign_free(s);
	/* A signature of the wrong length. */
	assert_non_null(s = dkim_sign_new(&q, &err));
	assert_int_equal(dkim_sign_feed(s, "From: a\r\n", 9), 0);
	assert_int_equal(dkim_sign_finish(s), 0);
	assert_null(dkim_sign_field(s, 0, (const uint8_t *)"x", 1, &i));
	assert_int_equal(dkim_sign_error(s), DKIM_SIGN_E_SIGNATURE);
	dkim_sign_free(s);
	assert_string_equal(dkim_sign_reason(DKIM_SIGN_E_HEADER_TOO_LARGE),
	    "header too large");

	for (i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++) {
		p = q;
		p.domain = bad_names[i];
		expect_refused(&p);
		p = q;
		p.sig[3].selector = bad_names[i];
		expect_refused(&p);
	}
	memset(long_label, 'a', 64);
	long_label[64] = '\0';
	p = q;
	p.domain = long_label;
	expect_refused(&p);
	long_label[63] = '\0';
	assert_non_null(s = dkim_sign_new(&p, &err));
	dkim_sign_free(s);
	for (i = 0; i < 254; i++)
		long_name[i] = i % 2 ? '.' : 'a';
	long_name[254] = '\0';
	p.domain = long_name;
	expect_refused(&p);
	p = q;
	p.domain = NULL;
	expect_refused(&p);
	p = q;
	p.nsig = 0;
	expect_refused(&p);
	p.nsig = 5;
	expect_refused(&p);
	p = q;
	p.sig[1].alg = 7;
	expect_refused(&p);
	p = q;
	p.hcanon = 2;
	expect_refused(&p);
	p = q;
	p.time = -1;
	p.expire = 0;
	expect_refused(&p);
	p = q;
	p.expire = p.time;
	expect_refused(&p);
	p = q;
	p.flags = 0x80;
	expect_refused(&p);
	p = q;
	p.headers = bad_hdr;
	p.nheaders = 1;
	expect_refused(&p);
	p.headers = bad_hdr2;
	p.nheaders = 2;
	expect_refused(&p);
	p.headers = bad_hdr3;
	p.nheaders = 1;
	expect_refused(&p);
	p.nheaders = DKIM_SIGN_NAMES_MAX + 1;
	expect_refused(&p);
	/* Accepted: no x=, upper case, '_' and '-'. */
	p = q;
	p.expire = 0;
	p.domain = "Mail_1.Example-Host.COM";
	assert_non_null(s = dkim_sign_new(&p, &err));
	assert_int_equal(dkim_sign_feed(s, "From: a\r\n\r\n", 11), 0);
	assert_int_equal(dkim_sign_finish(s), 0);
	dkim_sign_free(s);
}

/* Cross-check with python3-dkim. */

static EVP_PKEY	*keys[2];	/* by enum dkim_alg */
static char	 tmpdir[64];

static int
py_setup(void **state)
{
	keys[DKIM_ALG_RSA_SHA256] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)2048);
	keys[DKIM_ALG_ED25519_SHA256] = EVP_PKEY_Q_keygen(NULL, NULL,
	    "ED25519");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sendgate-dkimsign-XXXXXX");
	if (keys[0] == NULL || keys[1] == NULL || mkdtemp(tmpdir) == NULL)
		return -1;
	return 0;
}

static int
py_teardown(void **state)
{
	char	 cmd[128];

	EVP_PKEY_free(keys[0]);
	EVP_PKEY_free(keys[1]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* What the signer process does (mta/signer_sign.c), done here again. */
static size_t
sign_digest(enum dkim_alg alg, const uint8_t *d, uint8_t *sig)
{
	EVP_PKEY_CTX	*pc;
	EVP_MD_CTX	*mc;
	size_t		 len = DKIM_SIGN_SIG_MAX;

	if (alg == DKIM_ALG_RSA_SHA256) {
		assert_non_null(pc = EVP_PKEY_CTX_new(keys[alg], NULL));
		assert_true(EVP_PKEY_sign_init(pc) > 0);
		assert_true(EVP_PKEY_CTX_set_rsa_padding(pc,
		    RSA_PKCS1_PADDING) > 0);
		assert_true(EVP_PKEY_CTX_set_signature_md(pc,
		    EVP_sha256()) > 0);
		assert_true(EVP_PKEY_sign(pc, sig, &len, d, 32) > 0);
		EVP_PKEY_CTX_free(pc);
	} else {
		assert_non_null(mc = EVP_MD_CTX_new());
		assert_true(EVP_DigestSignInit(mc, NULL, NULL, NULL,
		    keys[alg]) > 0);
		assert_true(EVP_DigestSign(mc, sig, &len, d, 32) > 0);
		EVP_MD_CTX_free(mc);
	}
	return len;
}

static void
write_file(const char *path, const char *a, size_t alen, const char *b,
    size_t blen)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "wb"));
	assert_int_equal(fwrite(a, 1, alen, fp), alen);
	if (blen > 0)
		assert_int_equal(fwrite(b, 1, blen, fp), blen);
	assert_int_equal(fclose(fp), 0);
}

static void
write_records(const struct dkim_sign_params *p)
{
	char	 path[128], rec[DKIM_KEY_RECORD_MAX], b64[DKIM_KEY_B64_MAX];
	FILE	*fp;
	size_t	 i;

	snprintf(path, sizeof(path), "%s/records", tmpdir);
	assert_non_null(fp = fopen(path, "w"));
	for (i = 0; i < p->nsig; i++) {
		assert_int_equal(dkim_key_public_b64(keys[p->sig[i].alg],
		    p->sig[i].alg, b64, sizeof(b64)), 0);
		assert_int_equal(dkim_key_record(p->sig[i].alg, b64, rec,
		    sizeof(rec)), 0);
		fprintf(fp, "%s._domainkey.%s\t%s\n", p->sig[i].selector,
		    p->domain, rec);
	}
	assert_int_equal(fclose(fp), 0);
}

static void
append_crlf(const char *path)
{
	FILE	*fp;

	assert_non_null(fp = fopen(path, "ab"));
	assert_int_equal(fwrite("\r\n", 1, 2, fp), 2);
	assert_int_equal(fclose(fp), 0);
}

static int
has_bare(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
			return 1;
		if (p[i] == '\n' && (i == 0 || p[i - 1] != '\r'))
			return 1;
	}
	return 0;
}

/*
 * Messages for python3-dkim are written to files and verified in one
 * run of the script at the end (a python start per message is slow).
 */
#define PY_CASES	256

static struct {
	int	 want;		/* 0: must pass, 1: must fail */
	char	 what[64];
} py_case[PY_CASES];
static size_t	 py_ncase;

static void
py_add(const char *msg, size_t len, const char *prefix, size_t plen,
    int want, const char *what)
{
	char	 path[128];

	assert_true(py_ncase < PY_CASES);
	snprintf(path, sizeof(path), "%s/m%zu", tmpdir, py_ncase);
	write_file(path, prefix, plen, msg, len);
	/* What mta_body sends: the last line gets its CRLF. */
	if (len > 0 && msg[len - 1] != '\n')
		append_crlf(path);
	py_case[py_ncase].want = want;
	snprintf(py_case[py_ncase].what, sizeof(py_case[0].what), "%s",
	    what);
	py_ncase++;
}

static void
py_run(void)
{
	char		*cmd, line[256], want[160], script[PATH_MAX];
	const char	*dir;
	FILE		*fp;
	size_t		 i, o, size = PY_CASES * 48 + 2 * PATH_MAX;
	int		 bad = 0;

	if ((dir = getenv("SENDGATE_SRCDIR")) == NULL)
		dir = ".";
	snprintf(script, sizeof(script), "%s/%s", dir, VERIFY_SCRIPT);
	assert_int_equal(access(script, R_OK), 0);
	assert_non_null(cmd = malloc(size));
	o = snprintf(cmd, size, "%s %s %s/records", PY, script, tmpdir);
	for (i = 0; i < py_ncase; i++)
		o += snprintf(cmd + o, size - o, " %s/m%zu", tmpdir, i);
	/* The reasons of the expected failures: shown only if wrong. */
	o += snprintf(cmd + o, size - o, " 2>%s/log", tmpdir);
	assert_true(o < size);
	assert_non_null(fp = popen(cmd, "r"));
	for (i = 0; i < py_ncase; i++) {
		assert_non_null(fgets(line, sizeof(line), fp));
		snprintf(want, sizeof(want), "%s/m%zu %s\n", tmpdir, i,
		    py_case[i].want ? "fail" : "pass");
		if (strcmp(line, want) != 0) {
			print_error("python3-dkim: %s (%s): got %s",
			    py_case[i].what, want, line);
			bad = 1;
		}
	}
	assert_null(fgets(line, sizeof(line), fp));
	assert_int_equal(pclose(fp), 0);
	if (bad) {
		snprintf(cmd, size, "cat %s/log >&2", tmpdir);
		if (system(cmd) != 0)
			print_error("no python3-dkim log\n");
	}
	free(cmd);
	py_ncase = 0;
	assert_false(bad);
}

/* Signs msg; the fields in front of it, in order, go to *prefix. */
static size_t
sign_msg(const struct dkim_sign_params *p, const char *msg, size_t len,
    char *prefix, size_t size)
{
	struct dkim_sign	*s;
	enum dkim_sign_error	 err;
	uint8_t			 sig[DKIM_SIGN_SIG_MAX];
	const char		*f;
	size_t			 i, slen, flen, o = 0;

	assert_non_null(s = dkim_sign_new(p, &err));
	assert_int_equal(dkim_sign_feed(s, msg, len), 0);
	assert_int_equal(dkim_sign_finish(s), 0);
	for (i = 0; i < p->nsig; i++) {
		slen = sign_digest(p->sig[i].alg, dkim_sign_digest(s, i), sig);
		assert_non_null(f = dkim_sign_field(s, i, sig, slen, &flen));
		assert_true(o + flen < size);
		memcpy(prefix + o, f, flen);
		o += flen;
	}
	dkim_sign_free(s);
	return o;
}

/* A change after signing must make verification fail. */
static void
tamper_check(const char *msg, size_t len, const char *prefix, size_t plen,
    const char *what, const char *with, const char *label)
{
	const char	*at;
	char		*m;
	size_t		 off, wl = strlen(with), n;

	if ((at = memmem(msg, len, what, strlen(what))) == NULL)
		return;
	off = at - msg;
	n = len - strlen(what) + wl;
	assert_non_null(m = malloc(n + 1));
	memcpy(m, msg, off);
	memcpy(m + off, with, wl);
	memcpy(m + off + wl, at + strlen(what), len - off - strlen(what));
	py_add(m, n, prefix, plen, 1, label);
	free(m);
}

static void
test_python(void **state)
{
	static const char	 refolded[] = "From: Alice\r\n\t<alice@"
	    "example.com>\r\nTo:   bob@example.org  \r\nSubject:\r\n  test\r\n"
	    "Date: Thu, 26 Nov 2026\t 09:00:00 +0000\r\n"
	    "Message-ID: <1@example.com>\r\n\r\nHello \t\r\n\r\n";
	static const char	*tamper[][2] = {
		{ "Hello", "Hellp" },
		{ "third@", "thirt@" },
		{ "Subject: one", "Subject: oNe" },
		{ "\r\n\r\n", "\r\n\r\nx" },
		/* An added From breaks it (over-signing). */
		{ "From: ", "From: evil@example.net\r\nFrom: " },
		{ "Subject: ", "From: evil@example.net\r\nSubject: " },
		{ "\r\n\r\n", "\r\nFrom: evil@example.net\r\n\r\n" },
		/* So does another To below the signed ones. */
		{ "\r\nSubject: test", "\r\nTo: evil@example.net\r\n"
		    "Subject: test" },
	};
	static char		 prefix[16384];
	struct dkim_sign_params	 p;
	struct run		 r0;
	char			*big, *added, label[64];
	size_t			 m, c, t, plen, len;

	corpus_build();
	p = params(DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, 2);
	write_records(&p);
	for (m = 0; m < ncorpus; m++) {
		/* python splits lines on bare LF; no From: no signature. */
		if (has_bare(corpus[m].p, corpus[m].n))
			continue;
		p = params(DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, 1);
		run_sign(&p, corpus[m].p, corpus[m].n, F_WHOLE, 0, &r0);
		run_free(&r0);
		if (r0.error == DKIM_SIGN_E_NO_FROM)
			continue;
		assert_int_equal(r0.error, DKIM_SIGN_E_NONE);
		/* python3-dkim: no WSP before a colon. */
		if (strstr(corpus[m].p, " :") != NULL ||
		    strstr(corpus[m].p, "\t:") != NULL)
			continue;
		for (c = 0; c < 4; c++) {
			p = params(c & 1, c >> 1, 2);
			p.time = time(NULL);
			p.expire = p.time + 3600;
			plen = sign_msg(&p, corpus[m].p, corpus[m].n, prefix,
			    sizeof(prefix));
			snprintf(label, sizeof(label), "corpus %zu c=%zu", m,
			    c);
			py_add(corpus[m].p, corpus[m].n, prefix, plen, 0,
			    label);
			for (t = 0; t < sizeof(tamper) / sizeof(tamper[0]);
			    t++) {
				snprintf(label, sizeof(label),
				    "corpus %zu c=%zu tamper %zu", m, c, t);
				tamper_check(corpus[m].p, corpus[m].n, prefix,
				    plen, tamper[t][0], tamper[t][1], label);
			}
		}
	}
	/*
	 * Allowed changes still verify: relaxed tolerates refolding and
	 * WSP, and an unsigned field may be added; a changed signed field
	 * does not.
	 */
	p = params(DKIM_CANON_RELAXED, DKIM_CANON_RELAXED, 2);
	p.time = time(NULL);
	plen = sign_msg(&p, corpus[0].p, corpus[0].n, prefix, sizeof(prefix));
	py_add(refolded, sizeof(refolded) - 1, prefix, plen, 0, "refolded");
	assert_non_null(added = malloc(corpus[0].n + 64));
	len = sprintf(added, "X-Added: yes\r\n%s", corpus[0].p);
	py_add(added, len, prefix, plen, 0, "unsigned field added");
	len = sprintf(added, "%s", corpus[0].p);
	added[strstr(added, "Date:") - added + 6] = '9';
	py_add(added, len, prefix, plen, 1, "Date changed");
	free(added);
	/* Ten megabytes in many lines, simple body. */
	p.bcanon = DKIM_CANON_SIMPLE;
	len = 10 * 1024 * 1024;
	assert_non_null(big = malloc(len + 64));
	m = sprintf(big, "From: a@example.com\r\nSubject: big\r\n\r\n");
	for (; m + 2 <= len; m += 2)
		memcpy(big + m, m % 78 == 0 ? "\r\n" : "a ", 2);
	plen = sign_msg(&p, big, m, prefix, sizeof(prefix));
	py_add(big, m, prefix, plen, 0, "10 MB");
	free(big);
	py_run();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_example),
		cmocka_unit_test(test_body_rows),
		cmocka_unit_test(test_header_rows),
		cmocka_unit_test(test_chunking),
		cmocka_unit_test(test_h_list),
		cmocka_unit_test(test_signed_data),
		cmocka_unit_test(test_body_reference),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_params),
		cmocka_unit_test_setup_teardown(test_python, py_setup,
		    py_teardown),
	};
	int	 rc;
	size_t	 i;

	rc = cmocka_run_group_tests(tests, NULL, NULL);
	for (i = 0; i < ncorpus; i++)
		free(corpus_mem[i]);
	return rc;
}
