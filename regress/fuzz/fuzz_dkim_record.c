/*
 * libFuzzer target for the TXT records a domain owner publishes for the
 * relay to judge (SECURITY.md N1, N4, N5): the DKIM key record at the
 * selector, the DMARC record, the ownership token.
 *
 * Input: one control byte, then the record.
 *	bits 0-1	the answer: records, NODATA, NXDOMAIN, TEMPFAIL
 *	bit 2		the answer holds the record twice
 *	bit 3		the relay's key is ed25519 (else RSA 2048)
 *	bit 4		DMARC: the answer is the organizational domain's
 *	bit 5		tag names compare without case (DMARC's)
 * Invariants: results in range, what a caller reads stays inside the
 * record, parsed values are the ones allowed, text for people is
 * printable, and the token is found exactly when a record is the
 * token's record.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim_record.h"
#include "dmarc.h"
#include "dns.h"
#include "verify_token.h"

#define FUZZ_NAME	"fuzz_dkim_record"
#include "fuzz.h"

#define TOKEN		"0123456789abcdef0123456789abcdef01234567"
#define PREFIX		"sendgate"
#define OURS		PREFIX VERIFY_SUFFIX TOKEN

/* The RFC 8463 appendix A key, and a 2048-bit RSA key. */
#define KEY_ED25519	"11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
#define KEY_RSA		\
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtHZKs3mDnfIzD55F" \
	"9PDE9QywdjVemsehjdHE5QhyFmMetZBMS/oOQsfP6z90M1k4BHo6RNugwJA5" \
	"t05+0dNWhebmaZAOR4SmXxe97RWj34G3yZrU7d3pp7Cx2SkmpdYomNpjbQAs" \
	"R8Lb2PhhiuV3STxTEfj5UYfU+xINsznARFlEVVV960BQKPfQBpwtAphP5fjz" \
	"g3642MWOuYPBVFv06OYnoUvgejJOBNejpcG+ZfGwcwTvqjw3SiQaUhuzXFv+" \
	"gDVkHAcfWAQ30L5iZ1Y/jEwCRLjQ8ctYnJ+1WDJmsic3pSH4s7rv5NY90EcU" \
	"VCtDlxNb9jaBsSZEaReDExveswIDAQAB"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
inside(const char *p, size_t len, const char *rec, size_t reclen)
{
	return p >= rec && len <= reclen && p - rec <= (ptrdiff_t)(reclen -
	    len);
}

static void
check_tags(const char *rec, size_t len, int icase)
{
	struct dkim_tags	 tags;
	char			 err[256], shown[DKIM_TAG_SHOWN_SIZE];
	char			 name[64];
	size_t			 i;

	if (dkim_tags_parse(rec, len, icase, &tags, err, sizeof(err)) == -1) {
		if (err[0] == '\0' || !fuzz_printable(err))
			fuzz_die("tag list error without a printable reason");
		return;
	}
	if (tags.n > DKIM_TAGS_MAX)
		fuzz_die("more tags than DKIM_TAGS_MAX");
	for (i = 0; i < tags.n; i++) {
		if (tags.tag[i].namelen == 0 ||
		    !inside(tags.tag[i].name, tags.tag[i].namelen, rec, len) ||
		    !inside(tags.tag[i].value, tags.tag[i].valuelen, rec, len))
			fuzz_die("a tag outside the record");
		/* Tag names are unique: looking one up finds that tag. */
		if (tags.tag[i].namelen < sizeof(name)) {
			memcpy(name, tags.tag[i].name, tags.tag[i].namelen);
			name[tags.tag[i].namelen] = '\0';
			if (dkim_tags_get(&tags, name) != &tags.tag[i])
				fuzz_die("dkim_tags_get finds another tag");
		}
		if (!fuzz_printable(dkim_tag_shown(&tags.tag[i], shown,
		    sizeof(shown))))
			fuzz_die("a tag shown with control bytes");
	}
}

static void
check_key_record(const char *rec, size_t len)
{
	struct dkim_record	 r;
	char			 err[256];

	if (dkim_record_parse(rec, len, &r, err, sizeof(err)) == -1) {
		if (err[0] == '\0' || !fuzz_printable(err))
			fuzz_die("key record error without a printable reason");
		return;
	}
	if (strcmp(r.k, "rsa") != 0 && strcmp(r.k, "ed25519") != 0)
		fuzz_die("a key type neither rsa nor ed25519");
	if (r.revoked != (r.key == NULL))
		fuzz_die("revoked and key disagree");
	if (!r.revoked && (r.keylen == 0 || r.keylen > DKIM_RECORD_KEY_MAX))
		fuzz_die("key length out of range");
	if (!r.revoked && strcmp(r.k, "ed25519") == 0 &&
	    r.keylen != DKIM_ED25519_KEY_LEN)
		fuzz_die("an ed25519 key not 32 bytes long");
	if (!r.revoked && strcmp(r.k, "rsa") == 0 &&
	    (r.bits <= 0 || r.bits > DKIM_RECORD_RSA_BITS_MAX))
		fuzz_die("RSA key size out of range");
	dkim_record_free(&r);
}

static int
policy_valid(const char *p, int empty_ok)
{
	return strcmp(p, "none") == 0 || strcmp(p, "quarantine") == 0 ||
	    strcmp(p, "reject") == 0 || (empty_ok && p[0] == '\0');
}

static void
check_policy(const struct dmarc_policy *pol)
{
	if (!pol->found || !policy_valid(pol->p, 0) ||
	    !policy_valid(pol->sp, 1) ||
	    (pol->adkim != 'r' && pol->adkim != 's') ||
	    (pol->aspf != 'r' && pol->aspf != 's') ||
	    pol->pct < 0 || pol->pct > 100 || !fuzz_printable(pol->diag))
		fuzz_die("a DMARC policy with values not allowed");
}

static void
check_dmarc(const char *rec, size_t len, const struct dns_answer *ans,
    int at_org)
{
	struct dmarc_policy	 pol;
	enum dmarc_lookup	 l;
	char			 err[256], advice[1024];
	const char		*org;

	if (dmarc_parse(rec, len, &pol, err, sizeof(err)) == 0)
		check_policy(&pol);
	else if (err[0] == '\0' || !fuzz_printable(err))
		fuzz_die("DMARC error without a printable reason");
	l = dmarc_answer(ans, at_org, &pol);
	if (l < DMARC_LOOKUP_FOUND || l > DMARC_LOOKUP_TEMPFAIL)
		fuzz_die("dmarc_answer out of range");
	if (l == DMARC_LOOKUP_FOUND)
		check_policy(&pol);
	dmarc_advice(l == DMARC_LOOKUP_FOUND ? &pol : NULL, "mail.example.com",
	    "example.com", advice, sizeof(advice));
	/* The record as a domain name, up to its first NUL. */
	org = dmarc_org_domain(rec);
	if (org < rec || org > rec + strlen(rec))
		fuzz_die("dmarc_org_domain outside its name");
}

static void
check_token(const struct dns_answer *ans)
{
	enum verify_result	 v;
	char			 diag[512];
	int			 i, ours = 0;

	for (i = 0; ans->status == DNS_ANSWER && i < ans->nrr; i++)
		if (ans->rr[i].u.txt.len == strlen(OURS) &&
		    memcmp(ans->rr[i].u.txt.data, OURS, strlen(OURS)) == 0)
			ours = 1;
	v = verify_token_check(ans, PREFIX, TOKEN, diag, sizeof(diag));
	if (ans->status == DNS_TEMPFAIL ? v != VERIFY_TEMPFAIL :
	    v != (ours ? VERIFY_FOUND : VERIFY_MISSING))
		fuzz_die("verify_token_check misjudges the token");
	if (!fuzz_printable(diag))
		fuzz_die("verify_token_check diag not printable");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum dns_status	 status[] = { DNS_ANSWER, DNS_NODATA,
	    DNS_NXDOMAIN, DNS_TEMPFAIL };
	struct dns_answer		 ans;
	struct dns_rr			 rr[2];
	enum dkim_check			 c;
	char				*rec, diag[512];
	size_t				 len;
	int				 i, ctl;

	if (size < 1)
		return 0;
	ctl = data[0];
	len = size - 1;
	/* NUL-ended, as dns_parse() leaves TXT data; exactly sized. */
	if ((rec = malloc(len + 1)) == NULL)
		fuzz_die("out of memory");
	memcpy(rec, data + 1, len);
	rec[len] = '\0';

	memset(&ans, 0, sizeof(ans));
	memset(rr, 0, sizeof(rr));
	ans.status = status[ctl & 3];
	if (ans.status == DNS_TEMPFAIL)
		strlcpy(ans.why, "SERVFAIL", sizeof(ans.why));
	if (ans.status == DNS_ANSWER) {
		ans.rr = rr;
		ans.nrr = ctl & 4 ? 2 : 1;
		for (i = 0; i < ans.nrr; i++) {
			rr[i].type = DNS_T_TXT;
			rr[i].u.txt.data = rec;
			rr[i].u.txt.len = len;
			rr[i].u.txt.nstrings = 1 + len / 255;
		}
	}

	check_tags(rec, len, ctl & 32);
	check_key_record(rec, len);
	c = dkim_record_check(&ans, ctl & 8 ? "ed25519" : "rsa",
	    ctl & 8 ? KEY_ED25519 : KEY_RSA, diag, sizeof(diag));
	if (c < DKIM_OK || c > DKIM_TEMPFAIL || !fuzz_printable(diag))
		fuzz_die("dkim_record_check out of range, or its diag not "
		    "printable");
	check_dmarc(rec, len, &ans, ctl & 16);
	check_token(&ans);
	free(rec);
	return 0;
}
