/*
 * dmarc: the record, where it is looked up, and the advice shown.
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "dmarc.h"
#include "dns.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))

#define T(s)	s, sizeof(s) - 1

/* diag: the notes in full, or for -1 a part of the error. */
static const struct {
	const char	*txt;
	size_t		 len;
	int		 rc;
	const char	*p, *sp;
	char		 adkim, aspf;
	int		 pct;
	const char	*diag;
} parse_rows[] = {
	{ T("v=DMARC1; p=none"), 0, "none", "", 'r', 'r', 100, "" },
	{ T("v=DMARC1; p=reject; sp=quarantine; adkim=s; aspf=s; pct=50; "
	    "rua=mailto:d@example.com; ruf=mailto:f@example.com; fo=1; "
	    "rf=afrf; ri=86400"), 0, "reject", "quarantine", 's', 's', 50,
	    "" },
	{ T("v=DMARC1;p=Reject;sp=NONE;adkim=S"), 0, "reject", "none", 's',
	    'r', 100, "" },
	{ T("V=DMARC1; P=quarantine; ADKIM=s"), 0, "quarantine", "", 's',
	    'r', 100, "" },
	{ T(" v = DMARC1 ; p = none ; "), 0, "none", "", 'r', 'r', 100, "" },
	{ T("v=DMARC1; p=none; pct=0"), 0, "none", "", 'r', 'r', 0, "" },
	{ T("v=DMARC1; p=none; pct=100"), 0, "none", "", 'r', 'r', 100, "" },
	{ T("v=DMARC1; p=none; future=1"), 0, "none", "", 'r', 'r', 100, "" },

	/* Tolerated with a note (RFC 7489 6.3, 6.6.3). */
	{ T("v=DMARC1; rua=mailto:d@example.com"), 0, "none", "", 'r', 'r',
	    100, "p= missing; with rua= receivers treat the record as "
	    "p=none" },
	{ T("v=DMARC1; p=bogus; rua=mailto:d@example.com"), 0, "none", "",
	    'r', 'r', 100, "p=bogus: not none, quarantine or reject; with "
	    "rua= receivers treat the record as p=none" },
	{ T("v=DMARC1; p=none; sp=bogus"), 0, "none", "", 'r', 'r', 100,
	    "sp=bogus: not none, quarantine or reject, ignored" },
	{ T("v=DMARC1; p=none; adkim=x; aspf=relaxed"), 0, "none", "", 'r',
	    'r', 100, "adkim=x: not r or s, ignored (r applies); "
	    "aspf=relaxed: not r or s, ignored (r applies)" },
	{ T("v=DMARC1; p=none; pct=101"), 0, "none", "", 'r', 'r', 100,
	    "pct=101: not 0 to 100, ignored (100 applies)" },
	{ T("v=DMARC1; p=none; pct=-5"), 0, "none", "", 'r', 'r', 100,
	    "pct=-5: not 0 to 100, ignored (100 applies)" },
	{ T("v=DMARC1; p=none; pct="), 0, "none", "", 'r', 'r', 100,
	    "pct=: not 0 to 100, ignored (100 applies)" },
	{ T("v=DMARC1; p=none; pct=99999999999999999999"), 0, "none", "",
	    'r', 'r', 100, "pct=99999999999999999999: not 0 to 100, ignored "
	    "(100 applies)" },

	/* Refused. */
	{ T(""), -1, "", "", 0, 0, 0, "not a DMARC record: v=DMARC1 must "
	    "come first" },
	{ T("v=dmarc1; p=none"), -1, "", "", 0, 0, 0, "not a DMARC record" },
	{ T("v=DMARC1x; p=none"), -1, "", "", 0, 0, 0, "not a DMARC record" },
	{ T("p=none; v=DMARC1"), -1, "", "", 0, 0, 0, "not a DMARC record" },
	{ T("v=DMARC1"), -1, "", "", 0, 0, 0, "p= missing" },
	{ T("v=DMARC1; p=bogus"), -1, "", "", 0, 0, 0,
	    "p=bogus: not none, quarantine or reject" },
	{ T("v=DMARC1; p=none; p=reject"), -1, "", "", 0, 0, 0,
	    "duplicate tag p" },
	{ T("v=DMARC1; p=none; P=reject"), -1, "", "", 0, 0, 0,
	    "duplicate tag P" },
	{ T("v=DMARC1; p=none\0"), -1, "", "", 0, 0, 0, "byte 0x00" },
};

static void
test_parse_rows(void **state)
{
	struct dmarc_policy	 pol;
	char			 err[256];
	size_t			 i;
	int			 rc;

	for (i = 0; i < NROWS(parse_rows); i++) {
		err[0] = '\0';
		rc = dmarc_parse(parse_rows[i].txt, parse_rows[i].len, &pol,
		    err, sizeof(err));
		if (rc != parse_rows[i].rc || (rc == -1 ?
		    strstr(err, parse_rows[i].diag) == NULL :
		    strcmp(pol.diag, parse_rows[i].diag) != 0))
			fail_msg("row %zu \"%s\": got %d \"%s\" \"%s\", want "
			    "%d \"%s\"", i, parse_rows[i].txt, rc, err,
			    pol.diag, parse_rows[i].rc, parse_rows[i].diag);
		if (rc == -1)
			continue;
		if (!pol.found || strcmp(pol.p, parse_rows[i].p) != 0 ||
		    strcmp(pol.sp, parse_rows[i].sp) != 0 ||
		    pol.adkim != parse_rows[i].adkim ||
		    pol.aspf != parse_rows[i].aspf ||
		    pol.pct != parse_rows[i].pct)
			fail_msg("row %zu \"%s\": p=%s sp=%s adkim=%c aspf=%c "
			    "pct=%d", i, parse_rows[i].txt, pol.p, pol.sp,
			    pol.adkim, pol.aspf, pol.pct);
	}
}

static void
test_org_domain(void **state)
{
	static const struct {
		const char	*domain, *org;
	} rows[] = {
		{ "example.com", "example.com" },
		{ "mail.example.com", "example.com" },
		{ "a.b.mail.example.com", "example.com" },
		{ "example.com.", "example.com." },
		{ "mail.example.com.", "example.com." },
		{ "example.co.uk", "example.co.uk" },
		{ "mail.example.co.uk", "example.co.uk" },
		{ "MAIL.EXAMPLE.CO.UK", "EXAMPLE.CO.UK" },
		{ "x.example.com.au", "example.com.au" },
		{ "x.example.net.br", "example.net.br" },
		{ "x.example.org.nz", "example.org.nz" },
		{ "x.example.ac.jp", "example.ac.jp" },
		{ "x.example.gov.in", "example.gov.in" },
		{ "x.example.edu.au", "example.edu.au" },
		{ "x.example.co.com", "co.com" },	/* not a ccTLD */
		{ "x.example.co.u1", "co.u1" },
		{ "x.example.bar.uk", "bar.uk" },	/* not listed */
		{ "co.uk", "co.uk" },
		{ "com", "com" },
		{ "", "" },
		{ ".", "." },
		{ "a..com", ".com" },
	};
	const char	*org;
	size_t		 i;

	for (i = 0; i < NROWS(rows); i++) {
		org = dmarc_org_domain(rows[i].domain);
		if (org == NULL || strcmp(org, rows[i].org) != 0 ||
		    org < rows[i].domain ||
		    org > rows[i].domain + strlen(rows[i].domain))
			fail_msg("row %zu \"%s\": got \"%s\", want \"%s\"", i,
			    rows[i].domain, org ? org : "(null)",
			    rows[i].org);
	}
	assert_null(dmarc_org_domain(NULL));
}

#define NREC	3

static const struct {
	const char		*name;
	enum dns_status		 status;
	const char		*rec[NREC];
	int			 at_org;
	enum dmarc_lookup	 want;
	const char		*p;		/* when FOUND */
	const char		*diag;		/* otherwise */
} answer_rows[] = {
	{ "one record", DNS_ANSWER, { "v=DMARC1; p=reject" }, 0,
	    DMARC_LOOKUP_FOUND, "reject", "" },
	{ "at the organizational domain", DNS_ANSWER,
	    { "v=DMARC1; p=quarantine" }, 1, DMARC_LOOKUP_FOUND, "quarantine",
	    "" },
	{ "other TXT records ignored", DNS_ANSWER, { "v=spf1 -all",
	    "v=DMARC1; p=none", "hello" }, 0, DMARC_LOOKUP_FOUND, "none", "" },
	{ "leading space before v=", DNS_ANSWER, { " v=DMARC1;p=none" }, 0,
	    DMARC_LOOKUP_FOUND, "none", "" },
	{ "NXDOMAIN", DNS_NXDOMAIN, { NULL }, 0, DMARC_LOOKUP_NONE, NULL,
	    "no DMARC record (NXDOMAIN)" },
	{ "NODATA", DNS_NODATA, { NULL }, 0, DMARC_LOOKUP_NONE, NULL,
	    "no DMARC record" },
	{ "no v=DMARC1 record", DNS_ANSWER, { "v=spf1 -all",
	    "v=DMARC10; p=none", "p=none; v=DMARC1" }, 0, DMARC_LOOKUP_NONE,
	    NULL, "no DMARC record" },
	{ "SERVFAIL", DNS_TEMPFAIL, { NULL }, 0, DMARC_LOOKUP_TEMPFAIL, NULL,
	    "DNS temporary failure: SERVFAIL" },
	{ "two records", DNS_ANSWER, { "v=DMARC1; p=none",
	    "v=DMARC1; p=reject" }, 0, DMARC_LOOKUP_INVALID, NULL,
	    "2 DMARC records: receivers apply none of them (RFC 7489 6.6.3)" },
	{ "a record that does not parse", DNS_ANSWER,
	    { "v=DMARC1; p=bogus" }, 0, DMARC_LOOKUP_INVALID, NULL,
	    "invalid DMARC record: p=bogus: not none, quarantine or reject" },
};

static void
test_answer_rows(void **state)
{
	struct dns_rr		 rr[NREC];
	struct dns_answer	 ans;
	struct dmarc_policy	 pol;
	enum dmarc_lookup	 got;
	size_t			 i;
	int			 n;

	for (i = 0; i < NROWS(answer_rows); i++) {
		memset(&ans, 0, sizeof(ans));
		memset(rr, 0, sizeof(rr));
		ans.status = answer_rows[i].status;
		strlcpy(ans.why, "SERVFAIL", sizeof(ans.why));
		ans.rr = rr;
		for (n = 0; n < NREC && answer_rows[i].rec[n] != NULL; n++) {
			rr[n].type = DNS_T_TXT;
			rr[n].u.txt.data = (char *)answer_rows[i].rec[n];
			rr[n].u.txt.len = strlen(rr[n].u.txt.data);
			rr[n].u.txt.nstrings = 1;
		}
		ans.nrr = n;
		got = dmarc_answer(&ans, answer_rows[i].at_org, &pol);
		if (got != answer_rows[i].want ||
		    strcmp(pol.diag, answer_rows[i].diag) != 0 ||
		    (got == DMARC_LOOKUP_FOUND && (!pol.found ||
		    strcmp(pol.p, answer_rows[i].p) != 0 ||
		    pol.at_org != answer_rows[i].at_org)))
			fail_msg("row %zu \"%s\": got %d p=%s \"%s\", want %d "
			    "\"%s\"", i, answer_rows[i].name, got, pol.p,
			    pol.diag, answer_rows[i].want,
			    answer_rows[i].diag);
		if (got != DMARC_LOOKUP_FOUND)
			assert_int_equal(pol.found, 0);
	}
	assert_int_equal(dmarc_answer(NULL, 0, &pol), DMARC_LOOKUP_TEMPFAIL);
	assert_string_equal(pol.diag, "DNS temporary failure: no answer");
}

#define NO_DMARC "no DMARC record: receivers apply their own policy; " \
	"publish \"v=DMARC1; p=none; rua=mailto:...\" at _dmarc."

static const struct {
	const char	*txt;		/* NULL: no DMARC record */
	int		 at_org;
	const char	*from, *d;
	const char	*want;
} advice_rows[] = {
	{ "v=DMARC1; p=reject", 0, "example.com", "example.com",
	    "aligned (DKIM d=example.com, adkim=r)\n"
	    "p=reject: unaligned mail is rejected" },
	{ "v=DMARC1; p=quarantine; pct=25", 0, "example.com", "example.com",
	    "aligned (DKIM d=example.com, adkim=r)\n"
	    "p=quarantine: unaligned mail goes to spam (pct=25: for 25% of "
	    "it)" },
	{ "v=DMARC1; p=none; pct=25", 0, "example.com", "example.com",
	    "aligned (DKIM d=example.com, adkim=r)\n"
	    "p=none: monitoring only, unaligned mail is delivered as usual" },
	{ "v=DMARC1; p=reject; adkim=s", 0, "example.com", "EXAMPLE.com.",
	    "aligned (DKIM d=EXAMPLE.com., adkim=s)\n"
	    "p=reject: unaligned mail is rejected" },
	{ "v=DMARC1; p=reject; adkim=s", 0, "example.com",
	    "mail.example.com", "not aligned (DKIM d=mail.example.com, From "
	    "example.com, adkim=s: strict alignment needs d= equal to the "
	    "From domain)\np=reject: unaligned mail is rejected" },
	{ "v=DMARC1; p=reject", 0, "example.com", "mail.example.com",
	    "aligned (DKIM d=mail.example.com, adkim=r)\n"
	    "p=reject: unaligned mail is rejected" },
	{ "v=DMARC1; p=reject", 0, "example.com", "relay.example.net",
	    "not aligned (DKIM d=relay.example.net, From example.com, "
	    "adkim=r)\np=reject: unaligned mail is rejected" },
	{ "v=DMARC1; p=reject", 0, "shop.example.co.uk", "example.co.uk",
	    "aligned (DKIM d=example.co.uk, adkim=r)\n"
	    "p=reject: unaligned mail is rejected" },
	{ "v=DMARC1; p=reject", 0, "a.co.uk", "b.co.uk",
	    "not aligned (DKIM d=b.co.uk, From a.co.uk, adkim=r)\n"
	    "p=reject: unaligned mail is rejected" },
	{ "v=DMARC1; p=reject; sp=none", 1, "mail.example.com",
	    "mail.example.com", "aligned (DKIM d=mail.example.com, adkim=r)\n"
	    "sp=none: monitoring only, unaligned mail is delivered as usual "
	    "(record of example.com)" },
	{ "v=DMARC1; p=reject", 1, "mail.example.com", "mail.example.com",
	    "aligned (DKIM d=mail.example.com, adkim=r)\n"
	    "p=reject: unaligned mail is rejected (record of example.com)" },
	{ NULL, 0, "example.com", "example.com",
	    "aligned (DKIM d=example.com, adkim=r)\n" NO_DMARC "example.com "
	    "to monitor" },
	{ NULL, 0, "mail.example.com", "mail.example.com",
	    "aligned (DKIM d=mail.example.com, adkim=r)\n" NO_DMARC
	    "example.com to monitor" },
};

static void
test_advice_rows(void **state)
{
	struct dmarc_policy	 pol, *pp;
	char			 out[1024], err[128];
	size_t			 i;

	for (i = 0; i < NROWS(advice_rows); i++) {
		pp = NULL;
		if (advice_rows[i].txt != NULL) {
			assert_int_equal(dmarc_parse(advice_rows[i].txt,
			    strlen(advice_rows[i].txt), &pol, err,
			    sizeof(err)), 0);
			pol.at_org = advice_rows[i].at_org;
			pp = &pol;
		}
		dmarc_advice(pp, advice_rows[i].from, advice_rows[i].d, out,
		    sizeof(out));
		if (strcmp(out, advice_rows[i].want) != 0)
			fail_msg("row %zu (%s, From %s, d=%s):\ngot  \"%s\"\n"
			    "want \"%s\"", i, advice_rows[i].txt ?
			    advice_rows[i].txt : "no record",
			    advice_rows[i].from, advice_rows[i].d, out,
			    advice_rows[i].want);
	}
	/* A policy that was not found is no policy. */
	memset(&pol, 0, sizeof(pol));
	dmarc_advice(&pol, "example.com", "example.com", out, sizeof(out));
	assert_non_null(strstr(out, "\nno DMARC record"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rows),
		cmocka_unit_test(test_org_domain),
		cmocka_unit_test(test_answer_rows),
		cmocka_unit_test(test_advice_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
