/*
 * dkim_record: the key record at a selector, parsed and classified
 * against the relay's key (SECURITY.md N4).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "unit.h"

#include "dkim_record.h"
#include "dns.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
#define NREC		3

/* The RFC 8463 appendix A example key. */
#define ED_RFC	"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="

/*
 * Keys made once by the group setup; a record template's '@' stands for
 * the key's p= in base64.
 */
enum key {
	K_NONE,
	K_RSA512,	/* generated */
	K_RSA1024,
	K_RSA2048,
	K_RSA2048B,	/* another 2048-bit key: a random modulus */
	K_RSA8200,	/* random moduli: no primes needed to size a key */
	K_RSA16384,
	K_BLOB,		/* 2094 random bytes, the size of a 16384-bit key */
	K_HUGE,		/* base64 that makes a record over DNS_TXT_MAX */
	K_SPACED,	/* K_RSA2048 with FWS inside */
	K_PKCS1,	/* K_RSA2048 as a bare RSAPublicKey, not SPKI */
	K_ED,
	K_EDB,
	K_ED31,		/* an ed25519 key one byte short */
	K_BAD,		/* not base64 */
	NKEYS
};

static char	*b64[NKEYS];

static char *
b64_of(const unsigned char *der, size_t len)
{
	char	*s;

	assert_non_null(s = malloc(len / 3 * 4 + 8));
	EVP_EncodeBlock((unsigned char *)s, der, len);
	return s;
}

/* SubjectPublicKeyInfo, or the PKCS#1 RSAPublicKey, in base64. */
static char *
rsa_b64(EVP_PKEY *pk, int pkcs1)
{
	unsigned char	*der = NULL;
	char		*s;
	int		 n;

	n = pkcs1 ? i2d_PublicKey(pk, &der) : i2d_PUBKEY(pk, &der);
	assert_true(n > 0);
	s = b64_of(der, n);
	OPENSSL_free(der);
	return s;
}

static char *
ed_b64(EVP_PKEY *pk, size_t len)
{
	unsigned char	 raw[32];
	size_t		 rawlen = sizeof(raw);

	assert_int_equal(EVP_PKEY_get_raw_public_key(pk, raw, &rawlen), 1);
	assert_int_equal(rawlen, 32);
	return b64_of(raw, len);
}

/* An RSA public key of that size with a random odd modulus. */
static EVP_PKEY *
rsa_random(int bits)
{
	BIGNUM		*n, *e;
	OSSL_PARAM_BLD	*bld;
	OSSL_PARAM	*params;
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pk = NULL;

	assert_non_null(n = BN_new());
	assert_non_null(e = BN_new());
	assert_int_equal(BN_rand(n, bits, BN_RAND_TOP_ONE,
	    BN_RAND_BOTTOM_ODD), 1);
	assert_int_equal(BN_set_word(e, RSA_F4), 1);
	assert_non_null(bld = OSSL_PARAM_BLD_new());
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N,
	    n), 1);
	assert_int_equal(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E,
	    e), 1);
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	assert_int_equal(EVP_PKEY_get_bits(pk), bits);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return pk;
}

static char *
random_b64(size_t len)
{
	unsigned char	 buf[4096];

	assert_true(len <= sizeof(buf));
	assert_int_equal(RAND_bytes(buf, len), 1);
	return b64_of(buf, len);
}

/* FWS every 64 characters, one of them folded with CRLF. */
static char *
spaced(const char *s)
{
	size_t	 i, o = 0, len = strlen(s);
	char	*out;

	assert_non_null(out = malloc(len * 2 + 8));
	for (i = 0; i < len; i++) {
		if (i == 64)
			o += strlen(strcpy(out + o, "\r\n\t"));
		else if (i > 0 && i % 64 == 0)
			out[o++] = ' ';
		out[o++] = s[i];
	}
	out[o] = '\0';
	return out;
}

static int
group_setup(void **state)
{
	EVP_PKEY	*pk;
	int		 bits[] = { 512, 1024, 2048 }, i;

	b64[K_NONE] = strdup("");
	for (i = 0; i < 3; i++) {
		if ((pk = EVP_RSA_gen(bits[i])) == NULL)
			return -1;
		b64[K_RSA512 + i] = rsa_b64(pk, 0);
		if (bits[i] == 2048)
			b64[K_PKCS1] = rsa_b64(pk, 1);
		EVP_PKEY_free(pk);
	}
	b64[K_SPACED] = spaced(b64[K_RSA2048]);
	pk = rsa_random(2048);
	b64[K_RSA2048B] = rsa_b64(pk, 0);
	EVP_PKEY_free(pk);
	pk = rsa_random(8200);
	b64[K_RSA8200] = rsa_b64(pk, 0);
	EVP_PKEY_free(pk);
	pk = rsa_random(16384);
	b64[K_RSA16384] = rsa_b64(pk, 0);
	EVP_PKEY_free(pk);
	b64[K_BLOB] = random_b64(2094);
	b64[K_HUGE] = random_b64(3100);
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		return -1;
	b64[K_ED] = ed_b64(pk, 32);
	b64[K_ED31] = ed_b64(pk, 31);
	EVP_PKEY_free(pk);
	if ((pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) == NULL)
		return -1;
	b64[K_EDB] = ed_b64(pk, 32);
	EVP_PKEY_free(pk);
	b64[K_BAD] = strdup("!!!!");
	return 0;
}

static int
group_teardown(void **state)
{
	int	 i;

	for (i = 0; i < NKEYS; i++)
		free(b64[i]);
	return 0;
}

/* The template with '@' replaced by the key's base64. */
static size_t
expand(const char *tmpl, enum key key, char *out, size_t size)
{
	const char	*at = strchr(tmpl, '@');
	int		 n;

	if (at == NULL)
		n = snprintf(out, size, "%s", tmpl);
	else
		n = snprintf(out, size, "%.*s%s%s", (int)(at - tmpl), tmpl,
		    b64[key], at + 1);
	assert_true(n >= 0 && (size_t)n < size);
	return n;
}

struct rec {
	const char	*tmpl;		/* NULL: no more records */
	enum key	 key;
	int		 nstrings;
};

#define SEL(tmpl, key)	{ { tmpl, key, 1 } }
#define NONE		{ { NULL, K_NONE, 0 } }

/*
 * diag is a part of the diagnosis, or all of it after a leading '='.
 */
static const struct {
	const char		*name;
	enum dns_status		 status;
	struct rec		 rec[NREC];
	const char		*ourtype;
	enum key		 ours;
	enum dkim_check		 want;
	const char		*diag;
} rows[] = {
	{ "RSA, ours", DNS_ANSWER, SEL("v=DKIM1; k=rsa; p=@", K_RSA2048),
	    "rsa", K_RSA2048, DKIM_OK, "=the relay's key is published" },
	{ "RSA, no v= nor k=", DNS_ANSWER, SEL("p=@", K_RSA2048), "rsa",
	    K_RSA2048, DKIM_OK, "published" },
	{ "FWS everywhere", DNS_ANSWER,
	    SEL(" v = DKIM1 ;\tk = rsa ; p = @ ; ", K_RSA2048), "rsa",
	    K_RSA2048, DKIM_OK, "published" },
	{ "FWS inside p=", DNS_ANSWER, SEL("v=DKIM1; p=@", K_SPACED), "rsa",
	    K_RSA2048, DKIM_OK, "published" },
	{ "key split over strings", DNS_ANSWER,
	    { { "v=DKIM1; k=rsa; p=@", K_RSA2048, 3 } }, "rsa", K_RSA2048,
	    DKIM_OK, "published" },
	{ "unknown tags ignored", DNS_ANSWER,
	    SEL("v=DKIM1; n=hello world; x_y=1; p=@", K_RSA2048), "rsa",
	    K_RSA2048, DKIM_OK, "published" },
	{ "t=y noted", DNS_ANSWER, SEL("v=DKIM1; t=y; p=@", K_RSA2048),
	    "rsa", K_RSA2048, DKIM_OK, "(t=y: test mode" },
	{ "h=sha1:sha256", DNS_ANSWER,
	    SEL("v=DKIM1; h=sha1:sha256; p=@", K_RSA2048), "rsa", K_RSA2048,
	    DKIM_OK, "published" },
	{ "s=email", DNS_ANSWER, SEL("v=DKIM1; s=email; p=@", K_RSA2048),
	    "rsa", K_RSA2048, DKIM_OK, "published" },
	{ "s=*", DNS_ANSWER, SEL("v=DKIM1; s=*; p=@", K_RSA2048), "rsa",
	    K_RSA2048, DKIM_OK, "published" },
	{ "Ed25519, ours", DNS_ANSWER,
	    SEL("v=DKIM1; k=ed25519; p=@", K_ED), "ed25519", K_ED, DKIM_OK,
	    "published" },
	{ "Ed25519, h=sha256", DNS_ANSWER,
	    SEL("v=DKIM1; k=ed25519; h=sha256; p=@", K_ED), "ed25519", K_ED,
	    DKIM_OK, "published" },

	/* Which record at the selector. */
	{ "SPF then DKIM at one selector", DNS_ANSWER, {
	    { "v=spf1 include:_spf.example.net -all", K_NONE, 1 },
	    { "v=DKIM1; k=rsa; p=@", K_RSA2048, 1 } }, "rsa", K_RSA2048,
	    DKIM_OK, "published" },
	{ "DKIM then SPF at one selector", DNS_ANSWER, {
	    { "p=@", K_RSA2048, 1 }, { "v=spf1 -all", K_NONE, 1 } }, "rsa",
	    K_RSA2048, DKIM_OK, "published" },
	{ "SPF in capitals beside DKIM", DNS_ANSWER, {
	    { "V=SPF1 -ALL", K_NONE, 1 }, { "p=@", K_RSA2048, 1 } }, "rsa",
	    K_RSA2048, DKIM_OK, "published" },
	{ "plain text beside DKIM", DNS_ANSWER, {
	    { "hello world", K_NONE, 1 }, { "p=@", K_RSA2048, 1 } }, "rsa",
	    K_RSA2048, DKIM_OK, "published" },
	{ "two DKIM records", DNS_ANSWER, {
	    { "v=DKIM1; p=@", K_RSA2048, 1 }, { "v=DKIM1; p=@", K_RSA2048B,
	    1 } }, "rsa", K_RSA2048, DKIM_INVALID,
	    "=2 DKIM records at the selector" },
	{ "only SPF", DNS_ANSWER, SEL("v=spf1 -all", K_NONE), "rsa",
	    K_RSA2048, DKIM_MISSING,
	    "=1 TXT record at the selector, none is a DKIM key" },
	{ "NXDOMAIN", DNS_NXDOMAIN, NONE, "rsa", K_RSA2048, DKIM_MISSING,
	    "=no TXT record at the selector (NXDOMAIN)" },
	{ "NODATA", DNS_NODATA, NONE, "rsa", K_RSA2048, DKIM_MISSING,
	    "=no TXT records at the selector" },
	{ "SERVFAIL", DNS_TEMPFAIL, NONE, "rsa", K_RSA2048, DKIM_TEMPFAIL,
	    "=DNS temporary failure: SERVFAIL" },

	/* Not ours. */
	{ "another RSA key", DNS_ANSWER, SEL("v=DKIM1; p=@", K_RSA2048B),
	    "rsa", K_RSA2048, DKIM_MISMATCH, "=published key differs from "
	    "the relay's key for this selector" },
	{ "Ed25519, another key", DNS_ANSWER,
	    SEL("v=DKIM1; k=ed25519; p=@", K_EDB), "ed25519", K_ED,
	    DKIM_MISMATCH, "differs from the relay's key" },
	{ "Ed25519 published, RSA ours", DNS_ANSWER,
	    SEL("v=DKIM1; k=ed25519; p=@", K_ED), "rsa", K_RSA2048,
	    DKIM_MISMATCH, "=published k=ed25519 key; the relay signs with "
	    "rsa for this selector" },
	{ "RSA published, Ed25519 ours", DNS_ANSWER,
	    SEL("v=DKIM1; p=@", K_RSA2048), "ed25519", K_ED, DKIM_MISMATCH,
	    "published k=rsa key" },

	/* Revoked. */
	{ "p=", DNS_ANSWER, SEL("v=DKIM1; k=rsa; p=", K_NONE), "rsa",
	    K_RSA2048, DKIM_REVOKED, "=p= is empty: the key is revoked" },
	{ "p= with a space", DNS_ANSWER, SEL("v=DKIM1; k=rsa; p= ", K_NONE),
	    "rsa", K_RSA2048, DKIM_REVOKED, "revoked" },
	{ "p= then ;", DNS_ANSWER, SEL("v=DKIM1; p= ; t=y", K_NONE), "rsa",
	    K_RSA2048, DKIM_REVOKED, "revoked" },

	/* Weak. */
	{ "512-bit RSA", DNS_ANSWER, SEL("v=DKIM1; p=@", K_RSA512), "rsa",
	    K_RSA2048, DKIM_WEAK, "=512-bit RSA key; 2048 bits required "
	    "(RFC 8301); verifiers ignore keys under 1024 bits; it is not "
	    "the relay's key either" },
	{ "1024-bit RSA", DNS_ANSWER, SEL("v=DKIM1; p=@", K_RSA1024), "rsa",
	    K_RSA2048, DKIM_WEAK, "1024-bit RSA key; 2048 bits required "
	    "(RFC 8301)" },
	{ "1024-bit RSA, ours", DNS_ANSWER, SEL("v=DKIM1; p=@", K_RSA1024),
	    "rsa", K_RSA1024, DKIM_WEAK,
	    "=1024-bit RSA key; 2048 bits required (RFC 8301)" },
	{ "h=sha1", DNS_ANSWER, SEL("v=DKIM1; h=sha1; p=@", K_RSA2048),
	    "rsa", K_RSA2048, DKIM_WEAK, "h=sha1 limits the key to SHA-1" },

	/* Invalid. */
	{ "v= not first", DNS_ANSWER, SEL("k=rsa; v=DKIM1; p=@", K_RSA2048),
	    "rsa", K_RSA2048, DKIM_INVALID, "=v= is not the first tag "
	    "(RFC 6376 3.6.1)" },
	{ "v=DKIM2", DNS_ANSWER, SEL("v=DKIM2; p=@", K_RSA2048), "rsa",
	    K_RSA2048, DKIM_INVALID, "=v=DKIM2: only DKIM1 is defined" },
	{ "v=dkim1", DNS_ANSWER, SEL("v=dkim1; p=@", K_RSA2048), "rsa",
	    K_RSA2048, DKIM_INVALID, "only DKIM1" },
	{ "duplicate p=", DNS_ANSWER, SEL("v=DKIM1; p=@; p=", K_RSA2048),
	    "rsa", K_RSA2048, DKIM_INVALID, "=duplicate tag p (RFC 6376 3.2)" },
	{ "duplicate unknown tag", DNS_ANSWER,
	    SEL("v=DKIM1; n=a; n=b; p=@", K_RSA2048), "rsa", K_RSA2048,
	    DKIM_INVALID, "duplicate tag n" },
	{ "tag names are case-sensitive", DNS_ANSWER,
	    SEL("v=DKIM1; P=@", K_RSA2048), "rsa", K_RSA2048, DKIM_INVALID,
	    "=p= missing" },
	{ "k=foo", DNS_ANSWER, SEL("v=DKIM1; k=foo; p=@", K_RSA2048), "rsa",
	    K_RSA2048, DKIM_INVALID, "=k=foo: unknown key type (rsa or "
	    "ed25519)" },
	{ "h=sha512", DNS_ANSWER, SEL("v=DKIM1; h=sha512; p=@", K_RSA2048),
	    "rsa", K_RSA2048, DKIM_INVALID, "h=sha512 allows no hash" },
	{ "s=tlsrpt", DNS_ANSWER, SEL("v=DKIM1; s=tlsrpt; p=@", K_RSA2048),
	    "rsa", K_RSA2048, DKIM_INVALID, "=s=tlsrpt: the key is not for "
	    "email" },
	{ "bad base64 character", DNS_ANSWER,
	    SEL("v=DKIM1; p=@!", K_RSA2048), "rsa", K_RSA2048, DKIM_INVALID,
	    "p= is not base64: bad character" },
	{ "base64 cut short", DNS_ANSWER, SEL("v=DKIM1; p=@A", K_RSA2048),
	    "rsa", K_RSA2048, DKIM_INVALID, "p= is not base64" },
	{ "data after the padding", DNS_ANSWER,
	    SEL("v=DKIM1; k=ed25519; p=@AAAA", K_ED), "ed25519", K_ED,
	    DKIM_INVALID, "data after the padding" },
	{ "a bare RSAPublicKey", DNS_ANSWER, SEL("v=DKIM1; p=@", K_PKCS1),
	    "rsa", K_RSA2048, DKIM_INVALID,
	    "=p= is not the DER SubjectPublicKeyInfo of an RSA key" },
	{ "an Ed25519 key as k=rsa", DNS_ANSWER, SEL("v=DKIM1; p=@", K_ED),
	    "ed25519", K_ED, DKIM_INVALID, "SubjectPublicKeyInfo" },
	{ "an RSA key as k=ed25519", DNS_ANSWER,
	    SEL("v=DKIM1; k=ed25519; p=@", K_RSA2048), "rsa", K_RSA2048,
	    DKIM_INVALID, "=ed25519 p= is 294 bytes, 32 required (RFC 8463)" },
	{ "Ed25519 key one byte short", DNS_ANSWER,
	    SEL("v=DKIM1; k=ed25519; p=@", K_ED31), "ed25519", K_ED,
	    DKIM_INVALID, "ed25519 p= is 31 bytes" },
	{ "8200-bit RSA", DNS_ANSWER, SEL("v=DKIM1; p=@", K_RSA8200), "rsa",
	    K_RSA2048, DKIM_INVALID, "=8200-bit RSA key; keys over 8192 bits "
	    "are refused" },
	{ "16384-bit RSA: refused by size, unparsed", DNS_ANSWER,
	    SEL("v=DKIM1; p=@", K_RSA16384), "rsa", K_RSA2048, DKIM_INVALID,
	    "-byte RSA key; keys over 8192 bits are refused" },
	{ "16384-bit sized random bytes", DNS_ANSWER,
	    SEL("v=DKIM1; p=@", K_BLOB), "rsa", K_RSA2048, DKIM_INVALID,
	    "=p= is a 2094-byte RSA key; keys over 8192 bits are refused" },
	{ "record over DNS_TXT_MAX", DNS_ANSWER, SEL("v=DKIM1; p=@", K_HUGE),
	    "rsa", K_RSA2048, DKIM_INVALID, "=record of 4147 bytes, over the "
	    "4096-byte cap" },
	{ "the relay's key is broken", DNS_ANSWER,
	    SEL("v=DKIM1; p=@", K_RSA2048), "rsa", K_BAD, DKIM_INVALID,
	    "the relay's key is not usable" },
	{ "the relay's key type is unknown", DNS_ANSWER,
	    SEL("v=DKIM1; p=@", K_RSA2048), "dsa", K_RSA2048, DKIM_INVALID,
	    "the relay's key type is unknown" },
};

static void
test_check_rows(void **state)
{
	static char		 data[NREC][2 * DNS_TXT_MAX];
	struct dns_rr		 rr[NREC];
	struct dns_answer	 ans;
	enum dkim_check		 got;
	const char		*want;
	char			 diag[512];
	size_t			 i;
	int			 n, ok;

	for (i = 0; i < NROWS(rows); i++) {
		memset(&ans, 0, sizeof(ans));
		memset(rr, 0, sizeof(rr));
		ans.status = rows[i].status;
		if (ans.status == DNS_TEMPFAIL)
			strlcpy(ans.why, "SERVFAIL", sizeof(ans.why));
		ans.rr = rr;
		for (n = 0; n < NREC && rows[i].rec[n].tmpl != NULL; n++) {
			rr[n].type = DNS_T_TXT;
			rr[n].u.txt.data = data[n];
			rr[n].u.txt.len = expand(rows[i].rec[n].tmpl,
			    rows[i].rec[n].key, data[n], sizeof(data[n]));
			rr[n].u.txt.nstrings = rows[i].rec[n].nstrings;
		}
		ans.nrr = n;
		got = dkim_record_check(&ans, rows[i].ourtype,
		    b64[rows[i].ours], diag, sizeof(diag));
		want = rows[i].diag;
		ok = want[0] == '=' ? strcmp(diag, want + 1) == 0 :
		    strstr(diag, want) != NULL;
		if (got != rows[i].want || !ok)
			fail_msg("row %zu \"%s\": got %s \"%s\", want %s "
			    "\"%s\"", i, rows[i].name, dkim_check_name(got),
			    diag, dkim_check_name(rows[i].want), want);
	}
}

#define T(s)	s, sizeof(s) - 1
#define FAILS	0, 0, 0, 0, 0, 0, 0	/* no fields to compare */

/* dkim_record_parse() on literal records; NUL bytes included. */
static const struct {
	const char	*txt;
	size_t		 len;
	int		 rc;
	const char	*k;		/* or the error, in part */
	int		 has_v, h_sha256, h_sha1, revoked, testing, strict;
	size_t		 keylen;
} parse_rows[] = {
	{ T("v=DKIM1; k=ed25519; p=" ED_RFC), 0, "ed25519", 1, 1, 0, 0, 0,
	    0, 32 },
	{ T("k=ED25519; p=" ED_RFC), 0, "ed25519", 0, 1, 0, 0, 0, 0, 32 },
	{ T("k=ed25519; p=11qYAYKxCrfVS/7TyWQH Og7hcvPapiMlrwIaaPcHURo="), 0,
	    "ed25519", 0, 1, 0, 0, 0, 0, 32 },
	{ T("k=ed25519;\r\n p=11qYAYKxCrfVS/7TyWQH\r\n\tOg7hcvPapiMlrwIaaPcHU"
	    "Ro=\r\n "), 0, "ed25519", 0, 1, 0, 0, 0, 0, 32 },
	{ T(";;k=ed25519;; p=" ED_RFC ";"), 0, "ed25519", 0, 1, 0, 0, 0, 0,
	    32 },
	{ T("k=ed25519; h = sha1 : sha256; p=" ED_RFC), 0, "ed25519", 0, 1,
	    1, 0, 0, 0, 32 },
	{ T("k=ed25519; h=sha1; p=" ED_RFC), 0, "ed25519", 0, 0, 1, 0, 0, 0,
	    32 },
	{ T("k=ed25519; h=sha1:foo; p=" ED_RFC), 0, "ed25519", 0, 0, 1, 0, 0,
	    0, 32 },
	{ T("k=ed25519; t=y:s; p=" ED_RFC), 0, "ed25519", 0, 1, 0, 0, 1, 1,
	    32 },
	{ T("k=ed25519; t=s; p=" ED_RFC), 0, "ed25519", 0, 1, 0, 0, 0, 1,
	    32 },
	{ T("k=ed25519; t=x; p=" ED_RFC), 0, "ed25519", 0, 1, 0, 0, 0, 0,
	    32 },
	{ T("k=ed25519; s = email : tlsrpt; p=" ED_RFC), 0, "ed25519", 0, 1,
	    0, 0, 0, 0, 32 },
	{ T("p="), 0, "rsa", 0, 1, 0, 1, 0, 0, 0 },
	{ T("v=DKIM1; p=\r\n ;"), 0, "rsa", 1, 1, 0, 1, 0, 0, 0 },
	{ T(""), -1, "p= missing", FAILS },
	{ T("v=DKIM1"), -1, "p= missing", FAILS },
	{ T("=abc"), -1, "not a tag list: byte 0x3d at offset 0", FAILS },
	{ T("1p=abc"), -1, "not a tag list", FAILS },
	{ T("p"), -1, "tag p: '=' missing", FAILS },
	{ T("p abc"), -1, "tag p: '=' missing", FAILS },
	{ T("k=ed25519; p=" ED_RFC "\0"), -1,
	    "tag p: byte 0x00 not allowed in a value", FAILS },
	{ T("k=ed\0" "25519; p=" ED_RFC), -1, "tag k: byte 0x00", FAILS },
	{ T("k=ed25519; p=11qYAYKxCrfVS/7TyWQH\nOg7hcvPapiMlrwIaaPcHURo="), -1,
	    "byte 0x0a", FAILS },
	{ T("k=ed25519; p=11qYAYKxCrfVS/7TyWQH\r\nOg7hcvPapiMlrwIaaPcHURo="),
	    -1, "byte 0x0d", FAILS },
	{ T("k=ed25519; p=" ED_RFC "\xc3\xa9"), -1, "byte 0xc3", FAILS },
	{ T("k=ed25519; p=AA=="), -1, "ed25519 p= is 1 bytes", FAILS },
	{ T("k=ed25519; p===="), -1,
	    "p= is not base64: 3 characters with 3 of padding", FAILS },
	{ T("k=ed25519; p=A==="), -1, "with 3 of padding", FAILS },
	{ T("k=ed25519; p=AA=A"), -1, "data after the padding at offset 3",
	    FAILS },
	{ T("k=ed25519; p=AAA"), -1, "3 characters with 0 of padding", FAILS },
	{ T("k=ed25519; p=AA-_"), -1, "bad character at offset 2", FAILS },
	{ T("k=ed25519; h=md5; p=" ED_RFC), -1, "h=md5 allows no hash", FAILS },
	{ T("k=ed25519; s=tlsrpt; p=" ED_RFC), -1, "s=tlsrpt", FAILS },
	{ T("k=ed25519; k=rsa; p=" ED_RFC), -1, "duplicate tag k", FAILS },
	{ T("k=" "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghij; p="), -1,
	    "=abcdefghijabcdefghijabcdefghijabcdefghij...: unknown", FAILS },
	{ T("k=a\r\n b; p="), -1, "k=a   b: unknown", FAILS },
};

static void
test_parse_rows(void **state)
{
	struct dkim_record	 r;
	char			 err[256];
	size_t			 i;
	int			 rc;

	for (i = 0; i < NROWS(parse_rows); i++) {
		err[0] = '\0';
		rc = dkim_record_parse(parse_rows[i].txt, parse_rows[i].len,
		    &r, err, sizeof(err));
		if (rc != parse_rows[i].rc || (rc == -1 &&
		    strstr(err, parse_rows[i].k) == NULL))
			fail_msg("row %zu \"%.*s\": got %d \"%s\", want %d "
			    "\"%s\"", i, (int)parse_rows[i].len,
			    parse_rows[i].txt, rc, err, parse_rows[i].rc,
			    parse_rows[i].k);
		if (rc == -1) {
			assert_null(r.key);
			continue;
		}
		if (strcmp(r.k, parse_rows[i].k) != 0 ||
		    r.has_v != parse_rows[i].has_v ||
		    r.h_sha256 != parse_rows[i].h_sha256 ||
		    r.h_sha1 != parse_rows[i].h_sha1 ||
		    r.revoked != parse_rows[i].revoked ||
		    r.testing != parse_rows[i].testing ||
		    r.strict != parse_rows[i].strict ||
		    r.keylen != parse_rows[i].keylen)
			fail_msg("row %zu \"%.*s\": k=%s v%d sha256 %d sha1 %d "
			    "revoked %d testing %d strict %d keylen %zu", i,
			    (int)parse_rows[i].len, parse_rows[i].txt, r.k,
			    r.has_v, r.h_sha256, r.h_sha1, r.revoked,
			    r.testing, r.strict, r.keylen);
		assert_true(r.revoked == (r.key == NULL));
		dkim_record_free(&r);
		assert_null(r.key);
	}
}

/* The RFC 8463 example key decodes to the bytes the RFC prints. */
static void
test_parse_key_bytes(void **state)
{
	static const uint8_t	 want[32] = {
		0xd7, 0x5a, 0x98, 0x01, 0x82, 0xb1, 0x0a, 0xb7,
		0xd5, 0x4b, 0xfe, 0xd3, 0xc9, 0x64, 0x07, 0x3a,
		0x0e, 0xe1, 0x72, 0xf3, 0xda, 0xa6, 0x23, 0x25,
		0xaf, 0x02, 0x1a, 0x68, 0xf7, 0x07, 0x51, 0x1a,
	};
	const char		*txt = "v=DKIM1; k=ed25519; p=" ED_RFC;
	struct dkim_record	 r;

	assert_int_equal(dkim_record_parse(txt, strlen(txt), &r, NULL, 0), 0);
	assert_int_equal(r.keylen, 32);
	assert_memory_equal(r.key, want, 32);
	assert_int_equal(r.bits, 256);
	dkim_record_free(&r);
}

/* The caps of the tag list: tag count, tag name length, record size. */
static void
test_tag_caps(void **state)
{
	static char		 big[DNS_TXT_MAX + 2];
	struct dkim_tags	 tags;
	char			 txt[512], err[128];
	size_t			 len = 0;
	int			 i;

	for (i = 0; i < DKIM_TAGS_MAX; i++)
		len += snprintf(txt + len, sizeof(txt) - len, "a%d=1;", i);
	assert_int_equal(dkim_tags_parse(txt, len, 0, &tags, err,
	    sizeof(err)), 0);
	assert_int_equal(tags.n, DKIM_TAGS_MAX);
	len += snprintf(txt + len, sizeof(txt) - len, "b=1");
	assert_int_equal(dkim_tags_parse(txt, len, 0, &tags, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "more than 32 tags");

	memset(big, 'a', sizeof(big));
	big[DKIM_TAG_SHOWN_MAX] = '=';
	assert_int_equal(dkim_tags_parse(big, DKIM_TAG_SHOWN_MAX + 1, 0,
	    &tags, err, sizeof(err)), 0);
	big[DKIM_TAG_SHOWN_MAX] = 'a';
	big[DKIM_TAG_SHOWN_MAX + 1] = '=';
	assert_int_equal(dkim_tags_parse(big, DKIM_TAG_SHOWN_MAX + 2, 0,
	    &tags, err, sizeof(err)), -1);
	assert_string_equal(err, "tag name of 41 bytes at offset 0");

	/* Exactly DNS_TXT_MAX is fine; one byte more is refused whole. */
	memcpy(big, "p=", 2);
	assert_int_equal(dkim_tags_parse(big, DNS_TXT_MAX, 0, &tags, err,
	    sizeof(err)), 0);
	assert_int_equal(tags.tag[0].valuelen, DNS_TXT_MAX - 2);
	assert_int_equal(dkim_tags_parse(big, DNS_TXT_MAX + 1, 0, &tags, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "record of 4097 bytes, over the 4096-byte "
	    "cap");

	/* icase: names compare, and collide, without case. */
	assert_int_equal(dkim_tags_parse("V=1", 3, 1, &tags, err,
	    sizeof(err)), 0);
	assert_non_null(dkim_tags_get(&tags, "v"));
	assert_int_equal(dkim_tags_parse("V=1", 3, 0, &tags, err,
	    sizeof(err)), 0);
	assert_null(dkim_tags_get(&tags, "v"));
}

static void
test_check_names(void **state)
{
	assert_string_equal(dkim_check_name(DKIM_OK), "ok");
	assert_string_equal(dkim_check_name(DKIM_WEAK), "weak");
	assert_string_equal(dkim_check_name(DKIM_TEMPFAIL), "tempfail");
	assert_string_equal(dkim_check_name((enum dkim_check)99), "unknown");
	assert_int_equal(dkim_record_check(NULL, "rsa", b64[K_RSA2048], NULL,
	    0), DKIM_TEMPFAIL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_rows),
		cmocka_unit_test(test_parse_rows),
		cmocka_unit_test(test_parse_key_bytes),
		cmocka_unit_test(test_tag_caps),
		cmocka_unit_test(test_check_names),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
