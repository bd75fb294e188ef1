/*
 * DKIM key records: the tag list (RFC 6376 3.2), the key record's tags
 * (3.6.1, RFC 8463 4) and their classification against the relay's key
 * (RFC 8301 for what counts as weak).  See dkim_record.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base64.h"
#include "dkim_record.h"

static int	say(int, char *, size_t, const char *, ...)
		    __attribute__((format(printf, 4, 5)));

/*
 * Writes a reason or a diagnosis if the caller wants one; returns ret,
 * -1 for a parse error or the dkim_check it explains.
 */
static int
say(int ret, char *buf, size_t size, const char *fmt, ...)
{
	va_list	 ap;

	if (buf != NULL && size > 0) {
		va_start(ap, fmt);
		vsnprintf(buf, size, fmt, ap);
		va_end(ap);
	}
	return ret;
}

static int
is_wsp(int c)
{
	return c == ' ' || c == '\t';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* FWS is [*WSP CRLF] 1*WSP: a bare CR or LF is not white space. */
static size_t
skip_fws(const char *s, size_t i, size_t len)
{
	for (;;) {
		if (i < len && is_wsp(s[i]))
			i++;
		else if (i + 2 < len && s[i] == '\r' && s[i + 1] == '\n' &&
		    is_wsp(s[i + 2]))
			i += 3;
		else
			return i;
	}
}

/* The end of s[start..end) without the FWS that closes it. */
static size_t
trim_fws(const char *s, size_t start, size_t end)
{
	while (end > start && (is_wsp(s[end - 1]) || s[end - 1] == '\r' ||
	    s[end - 1] == '\n'))
		end--;
	return end;
}

const char *
dkim_tag_shown(const struct dkim_tag *t, char *buf, size_t size)
{
	size_t	 i, n;

	n = t->valuelen < DKIM_TAG_SHOWN_MAX ? t->valuelen :
	    DKIM_TAG_SHOWN_MAX;
	if (size < DKIM_TAG_SHOWN_SIZE)
		return "";
	for (i = 0; i < n; i++)
		buf[i] = t->value[i] > ' ' && t->value[i] < 0x7f ?
		    t->value[i] : ' ';
	memcpy(buf + n, n < t->valuelen ? "..." : "", n < t->valuelen ? 4 : 1);
	return buf;
}

static int
names_eq(const char *a, size_t alen, const char *b, size_t blen, int icase)
{
	if (alen != blen)
		return 0;
	return icase ? strncasecmp(a, b, alen) == 0 : memcmp(a, b, alen) == 0;
}

const struct dkim_tag *
dkim_tags_get(const struct dkim_tags *tags, const char *name)
{
	size_t	 i;

	for (i = 0; i < tags->n; i++)
		if (names_eq(tags->tag[i].name, tags->tag[i].namelen, name,
		    strlen(name), tags->icase))
			return &tags->tag[i];
	return NULL;
}

int
dkim_tags_parse(const char *s, size_t len, int icase, struct dkim_tags *tags,
    char *err, size_t errlen)
{
	struct dkim_tag	*t;
	size_t		 i = 0, j, k, eq, end;
	unsigned char	 c;

	memset(tags, 0, sizeof(*tags));
	tags->icase = icase;
	if (len > DNS_TXT_MAX)
		return say(-1, err, errlen, "record of %zu bytes, over the "
		    "%d-byte cap", len, DNS_TXT_MAX);
	for (;;) {
		if ((i = skip_fws(s, i, len)) == len)
			break;
		if (s[i] == ';') {
			i++;
			continue;
		}
		c = s[i];
		if (!is_alpha(c))
			return say(-1, err, errlen, "not a tag list: byte "
			    "0x%02x at offset %zu where a tag name starts", c,
			    i);
		for (j = i + 1; j < len && (is_alpha(s[j]) ||
		    (s[j] >= '0' && s[j] <= '9') || s[j] == '_'); j++)
			;
		if (j - i > DKIM_TAG_SHOWN_MAX)
			return say(-1, err, errlen, "tag name of %zu bytes at "
			    "offset %zu", j - i, i);
		eq = skip_fws(s, j, len);
		if (eq == len || s[eq] != '=')
			return say(-1, err, errlen, "tag %.*s: '=' missing",
			    (int)(j - i), s + i);
		if (tags->n == DKIM_TAGS_MAX)
			return say(-1, err, errlen, "more than %d tags",
			    DKIM_TAGS_MAX);
		t = &tags->tag[tags->n];
		t->name = s + i;
		t->namelen = j - i;
		for (k = 0; k < tags->n; k++)
			if (names_eq(tags->tag[k].name, tags->tag[k].namelen,
			    t->name, t->namelen, icase))
				return say(-1, err, errlen, "duplicate tag "
				    "%.*s (RFC 6376 3.2)", (int)t->namelen,
				    t->name);

		/* The value: VALCHARs, with FWS inside but not at its ends. */
		i = skip_fws(s, eq + 1, len);
		for (j = i; j < len && s[j] != ';'; j++) {
			c = s[j];
			if ((c > ' ' && c < 0x7f) || is_wsp(c))
				continue;
			if (c == '\r' && skip_fws(s, j, len) > j) {
				j += 2;
				continue;
			}
			return say(-1, err, errlen, "tag %.*s: byte 0x%02x not "
			    "allowed in a value", (int)t->namelen, t->name, c);
		}
		end = trim_fws(s, i, j);
		t->value = s + i;
		t->valuelen = end - i;
		tags->n++;
		i = j < len ? j + 1 : j;
	}
	return 0;
}

/* Does the value equal s (ABNF literals: without regard to case)? */
static int
value_is(const char *v, size_t len, const char *s)
{
	return names_eq(v, len, s, strlen(s), 1);
}

/*
 * The next element of a colon-separated value (h=, s=, t=), FWS around
 * it dropped.  *pos walks the value; returns 0 past its end.
 */
static int
list_next(const struct dkim_tag *t, size_t *pos, const char **elem,
    size_t *elen)
{
	const char	*v = t->value;
	size_t		 i = *pos, end;

	if (i > t->valuelen)
		return 0;
	for (end = i; end < t->valuelen && v[end] != ':'; end++)
		;
	*pos = end + 1;
	i = skip_fws(v, i, end);
	end = trim_fws(v, i, end);
	*elem = v + i;
	*elen = end - i;
	return 1;
}

/* Is s one of the elements of the list t? */
static int
list_has(const struct dkim_tag *t, const char *s)
{
	const char	*e;
	size_t		 pos = 0, elen;

	while (list_next(t, &pos, &e, &elen))
		if (value_is(e, elen, s))
			return 1;
	return 0;
}

/*
 * Decode base64 with FWS anywhere in it (RFC 6376 3.6.1: "whitespace is
 * ignored in this value"), into a fresh buffer of at most
 * DKIM_RECORD_KEY_MAX bytes.  The length is known before anything is
 * allocated; padding is required and may only end the value.
 */
static int
b64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen,
    char *err, size_t errlen)
{
	uint8_t		*buf;
	uint32_t	 acc = 0;
	size_t		 i, n = 0, pad = 0, o = 0, want;
	int		 v, bits = 0;
	unsigned char	 c;

	*out = NULL;
	*outlen = 0;
	for (i = 0; i < len; i++) {
		c = s[i];
		if (is_wsp(c) || c == '\r' || c == '\n')
			continue;
		if (c == '=')
			pad++;
		else if (pad > 0 || base64_value(c) == -1)
			return say(-1, err, errlen, "p= is not base64: %s at "
			    "offset %zu", pad > 0 ? "data after the padding" :
			    "bad character", i);
		n++;
	}
	if (n % 4 != 0 || pad > 2)
		return say(-1, err, errlen, "p= is not base64: %zu characters "
		    "with %zu of padding", n, pad);
	want = n / 4 * 3 - pad;
	if (want > DKIM_RECORD_KEY_MAX)
		return say(-1, err, errlen, "p= decodes to %zu bytes, over the "
		    "%d-byte cap", want, DKIM_RECORD_KEY_MAX);
	if (want == 0)
		return say(-1, err, errlen, "p= is not base64: no data");
	if ((buf = malloc(want)) == NULL)
		return say(-1, err, errlen, "out of memory");
	for (i = 0; i < len && o < want; i++) {
		if ((v = base64_value((unsigned char)s[i])) == -1)
			continue;
		acc = acc << 6 | v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			buf[o++] = acc >> bits & 0xff;
		}
	}
	*out = buf;
	*outlen = want;
	return 0;
}

/*
 * The key itself: 32 bytes for ed25519; for RSA a DER SubjectPublicKeyInfo
 * of an RSA key, sized before and after OpenSSL parses it.
 */
static int
key_check(struct dkim_record *r, char *err, size_t errlen)
{
	const unsigned char	*q = r->key;
	EVP_PKEY		*pk;
	int			 rsa, whole;

	if (strcmp(r->k, "ed25519") == 0) {
		if (r->keylen != DKIM_ED25519_KEY_LEN)
			return say(-1, err, errlen, "ed25519 p= is %zu bytes, "
			    "%d required (RFC 8463)", r->keylen,
			    DKIM_ED25519_KEY_LEN);
		r->bits = 256;
		return 0;
	}
	if (r->keylen > DKIM_RECORD_SPKI_MAX)
		return say(-1, err, errlen, "p= is a %zu-byte RSA key; keys "
		    "over %d bits are refused", r->keylen,
		    DKIM_RECORD_RSA_BITS_MAX);
	pk = d2i_PUBKEY(NULL, &q, (long)r->keylen);
	rsa = pk != NULL && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA;
	whole = q == r->key + r->keylen;
	r->bits = rsa ? EVP_PKEY_get_bits(pk) : 0;
	EVP_PKEY_free(pk);
	ERR_clear_error();
	if (!rsa || !whole)
		return say(-1, err, errlen, "p= is not the DER "
		    "SubjectPublicKeyInfo of an RSA key");
	if (r->bits > DKIM_RECORD_RSA_BITS_MAX)
		return say(-1, err, errlen, "%d-bit RSA key; keys over %d bits "
		    "are refused", r->bits, DKIM_RECORD_RSA_BITS_MAX);
	return 0;
}

/* k=, h=, s= and t=, whose absence means rsa, any hash, any service. */
static int
parse_kinds(const struct dkim_tags *tags, struct dkim_record *r, char *err,
    size_t errlen)
{
	const struct dkim_tag	*t;
	char			 buf[DKIM_TAG_SHOWN_SIZE];

	strlcpy(r->k, "rsa", sizeof(r->k));
	if ((t = dkim_tags_get(tags, "k")) != NULL) {
		if (value_is(t->value, t->valuelen, "ed25519"))
			strlcpy(r->k, "ed25519", sizeof(r->k));
		else if (!value_is(t->value, t->valuelen, "rsa"))
			return say(-1, err, errlen, "k=%s: unknown key type "
			    "(rsa or ed25519)", dkim_tag_shown(t, buf,
			    sizeof(buf)));
	}
	r->h_sha256 = 1;
	if ((t = dkim_tags_get(tags, "h")) != NULL) {
		r->has_h = 1;
		r->h_sha256 = list_has(t, "sha256");
		r->h_sha1 = list_has(t, "sha1");
		if (!r->h_sha256 && !r->h_sha1)
			return say(-1, err, errlen, "h=%s allows no hash "
			    "algorithm a signer uses (sha256)",
			    dkim_tag_shown(t, buf, sizeof(buf)));
	}
	if ((t = dkim_tags_get(tags, "s")) != NULL &&
	    !list_has(t, "email") && !list_has(t, "*"))
		return say(-1, err, errlen, "s=%s: the key is not for email",
		    dkim_tag_shown(t, buf, sizeof(buf)));
	if ((t = dkim_tags_get(tags, "t")) != NULL) {
		r->testing = list_has(t, "y");
		r->strict = list_has(t, "s");
	}
	return 0;
}

int
dkim_record_parse(const char *txt, size_t len, struct dkim_record *r,
    char *err, size_t errlen)
{
	struct dkim_tags	 tags;
	const struct dkim_tag	*t;
	char			 buf[DKIM_TAG_SHOWN_SIZE];

	memset(r, 0, sizeof(*r));
	if (dkim_tags_parse(txt, len, 0, &tags, err, errlen) == -1)
		return -1;
	if ((t = dkim_tags_get(&tags, "v")) != NULL) {
		if (t != &tags.tag[0])
			return say(-1, err, errlen, "v= is not the first tag "
			    "(RFC 6376 3.6.1)");
		/* %x44.4B.49.4D.31: case matters here. */
		if (!names_eq(t->value, t->valuelen, "DKIM1", 5, 0))
			return say(-1, err, errlen, "v=%s: only DKIM1 is "
			    "defined", dkim_tag_shown(t, buf, sizeof(buf)));
		r->has_v = 1;
	}
	if (parse_kinds(&tags, r, err, errlen) == -1)
		return -1;
	if ((t = dkim_tags_get(&tags, "p")) == NULL)
		return say(-1, err, errlen, "p= missing");
	if (t->valuelen == 0) {
		r->revoked = 1;
		return 0;
	}
	if (b64_decode(t->value, t->valuelen, &r->key, &r->keylen, err,
	    errlen) == -1)
		return -1;
	if (key_check(r, err, errlen) == -1) {
		dkim_record_free(r);
		return -1;
	}
	return 0;
}

void
dkim_record_free(struct dkim_record *r)
{
	free(r->key);
	r->key = NULL;
	r->keylen = 0;
}

const char *
dkim_check_name(enum dkim_check c)
{
	static const char *const names[] = {
		[DKIM_OK] = "ok",
		[DKIM_MISSING] = "missing",
		[DKIM_MISMATCH] = "mismatch",
		[DKIM_REVOKED] = "revoked",
		[DKIM_INVALID] = "invalid",
		[DKIM_WEAK] = "weak",
		[DKIM_TEMPFAIL] = "tempfail",
	};

	if ((unsigned)c >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[c];
}

/*
 * Another record at the selector, to be ignored: no tag at all, or a
 * first tag v= naming another protocol (an SPF record published at the
 * same name).
 */
static int
is_other_record(const char *s, size_t len)
{
	size_t	 i;

	if (memchr(s, '=', len) == NULL)
		return 1;
	i = skip_fws(s, 0, len);
	if (i == len || (s[i] | 0x20) != 'v')
		return 0;
	i = skip_fws(s, i + 1, len);
	if (i == len || s[i] != '=')
		return 0;
	i = skip_fws(s, i + 1, len);
	return len - i < 4 || strncasecmp(s + i, "DKIM", 4) != 0;
}

/* The record's key against the relay's: weak first, then whose it is. */
static enum dkim_check
classify(const struct dkim_record *r, const char *our_type,
    const char *our_b64, char *diag, size_t diaglen)
{
	uint8_t	*ours;
	size_t	 ourslen;
	char	 err[128];
	int	 same;

	if (r->revoked)
		return say(DKIM_REVOKED, diag, diaglen,
		    "p= is empty: the key is revoked");
	if (our_type == NULL || (strcmp(our_type, "rsa") != 0 &&
	    strcmp(our_type, "ed25519") != 0))
		return say(DKIM_INVALID, diag, diaglen,
		    "the relay's key type is unknown");
	if (our_b64 == NULL || b64_decode(our_b64, strlen(our_b64), &ours,
	    &ourslen, err, sizeof(err)) == -1)
		return say(DKIM_INVALID, diag, diaglen, "the relay's key is "
		    "not usable: %s", our_b64 == NULL ? "none" : err);
	same = strcmp(r->k, our_type) == 0 && r->keylen == ourslen &&
	    memcmp(r->key, ours, ourslen) == 0;
	free(ours);

	if (strcmp(r->k, "rsa") == 0 && r->bits < DKIM_RECORD_RSA_BITS_MIN)
		return say(DKIM_WEAK, diag, diaglen, "%d-bit RSA key; %d bits "
		    "required (RFC 8301)%s%s", r->bits,
		    DKIM_RECORD_RSA_BITS_MIN,
		    r->bits < DKIM_RECORD_RSA_BITS_VALID ?
		    "; verifiers ignore keys under 1024 bits" : "",
		    same ? "" : "; it is not the relay's key either");
	if (strcmp(r->k, our_type) != 0)
		return say(DKIM_MISMATCH, diag, diaglen, "published k=%s key; "
		    "the relay signs with %s for this selector", r->k,
		    our_type);
	if (!same)
		return say(DKIM_MISMATCH, diag, diaglen, "published key "
		    "differs from the relay's key for this selector");
	if (!r->h_sha256)
		return say(DKIM_WEAK, diag, diaglen, "h=sha1 limits the key "
		    "to SHA-1, which RFC 8301 forbids: the relay's sha256 "
		    "signatures fail; remove h= or publish h=sha256");
	return say(DKIM_OK, diag, diaglen, "the relay's key is published%s%s",
	    r->testing ? " (t=y: test mode, verifiers may ignore failures)" :
	    "", r->strict ? " (t=s: strict)" : "");
}

enum dkim_check
dkim_record_check(const struct dns_answer *ans, const char *our_type,
    const char *our_b64, char *diag, size_t diaglen)
{
	const struct dns_rr	*rr = NULL;
	struct dkim_record	 rec;
	enum dkim_check		 res;
	char			 err[256];
	int			 i, ntxt = 0, ndkim = 0;

	if (ans == NULL || ans->status == DNS_TEMPFAIL)
		return say(DKIM_TEMPFAIL, diag, diaglen,
		    "DNS temporary failure: %s", ans == NULL ||
		    ans->why[0] == '\0' ? "no answer" : ans->why);
	if (ans->status == DNS_NXDOMAIN)
		return say(DKIM_MISSING, diag, diaglen,
		    "no TXT record at the selector (NXDOMAIN)");
	for (i = 0; ans->status == DNS_ANSWER && i < ans->nrr; i++) {
		if (ans->rr[i].type != DNS_T_TXT)
			continue;
		ntxt++;
		if (is_other_record(ans->rr[i].u.txt.data,
		    ans->rr[i].u.txt.len))
			continue;
		ndkim++;
		rr = &ans->rr[i];
	}
	if (ntxt == 0)
		return say(DKIM_MISSING, diag, diaglen,
		    "no TXT records at the selector");
	if (ndkim == 0)
		return say(DKIM_MISSING, diag, diaglen, "%d TXT record%s at "
		    "the selector, none is a DKIM key", ntxt,
		    ntxt == 1 ? "" : "s");
	if (ndkim > 1)
		return say(DKIM_INVALID, diag, diaglen,
		    "%d DKIM records at the selector", ndkim);
	if (dkim_record_parse(rr->u.txt.data, rr->u.txt.len, &rec, err,
	    sizeof(err)) == -1)
		return say(DKIM_INVALID, diag, diaglen, "%s", err);
	res = classify(&rec, our_type, our_b64, diag, diaglen);
	dkim_record_free(&rec);
	return res;
}
