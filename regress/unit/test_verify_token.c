/*
 * verify_token: the ownership TXT matches only exactly (SECURITY.md N5).
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "dns.h"
#include "verify_token.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
#define NREC		4

#define TOK	"0123456789abcdef0123456789abcdef01234567"
#define OURS	"sendgate-verification=" TOK

#define R(s)		{ s, sizeof(s) - 1, 1 }
#define SPLIT(s)	{ s, sizeof(s) - 1, 2 }	/* as two strings */
#define NONE		{ { NULL, 0, 0 } }

/* One TXT record: its strings joined, NUL bytes included. */
struct rec {
	const char	*data;
	size_t		 len;
	int		 nstrings;
};

static const struct {
	const char		*name;
	enum dns_status		 status;
	const char		*why;
	struct rec		 rec[NREC];
	const char		*prefix;
	enum verify_result	 want;
	const char		*diag;		/* part of the diagnosis */
} rows[] = {
	{ "exact", DNS_ANSWER, "", { R(OURS) }, "sendgate",
	    VERIFY_FOUND, "verification TXT found" },
	{ "among other records", DNS_ANSWER, "", {
	    R("v=spf1 include:_spf.example.net -all"),
	    R("google-site-verification=abc"), R(OURS) }, "sendgate",
	    VERIFY_FOUND, "verification TXT found" },
	{ "split over two strings, joined", DNS_ANSWER, "",
	    { SPLIT(OURS) }, "sendgate", VERIFY_FOUND, "found" },
	{ "the configured prefix", DNS_ANSWER, "",
	    { R("acme-verification=" TOK) }, "acme", VERIFY_FOUND, "found" },
	{ "another prefix's record", DNS_ANSWER, "", { R(OURS) }, "acme",
	    VERIFY_MISSING, "1 TXT record, none is acme-verification=" TOK },
	{ "prefix of the token", DNS_ANSWER, "",
	    { R("sendgate-verification=0123456789abcdef") }, "sendgate",
	    VERIFY_MISSING, "different token (sendgate-verification="
	    "0123456789ab...)" },
	{ "suffix of the token", DNS_ANSWER, "",
	    { R("sendgate-verification="
	    "123456789abcdef0123456789abcdef01234567") }, "sendgate",
	    VERIFY_MISSING, "different token (sendgate-verification="
	    "123456789abc...)" },
	{ "token with extra characters", DNS_ANSWER, "",
	    { R(OURS "89") }, "sendgate", VERIFY_MISSING,
	    "holds " OURS " with other text" },
	{ "leading space", DNS_ANSWER, "", { R(" " OURS) }, "sendgate",
	    VERIFY_MISSING, "with other text" },
	{ "trailing space", DNS_ANSWER, "", { R(OURS " ") }, "sendgate",
	    VERIFY_MISSING, "with other text" },
	{ "inside more text", DNS_ANSWER, "",
	    { R("tokens: " OURS "; other=1") }, "sendgate", VERIFY_MISSING,
	    "with other text" },
	{ "two tokens in one record", DNS_ANSWER, "",
	    { R("sendgate-verification=ffff " OURS) }, "sendgate",
	    VERIFY_MISSING, "with other text" },
	{ "two records, ours second", DNS_ANSWER, "",
	    { R("sendgate-verification=ffffffff"), R(OURS) }, "sendgate",
	    VERIFY_FOUND, "found" },
	{ "two records, ours first", DNS_ANSWER, "",
	    { R(OURS), R("sendgate-verification=ffffffff") }, "sendgate",
	    VERIFY_FOUND, "found" },
	{ "two records, neither ours: the first is named", DNS_ANSWER, "",
	    { R("sendgate-verification=ffffffff"),
	    R("sendgate-verification=eeee") }, "sendgate", VERIFY_MISSING,
	    "different token (sendgate-verification=ffffffff)" },
	{ "upper-case token", DNS_ANSWER, "",
	    { R("sendgate-verification=0123456789ABCDEF0123456789ABCDEF"
	    "01234567") }, "sendgate", VERIFY_MISSING,
	    "other letter case; it must be exactly " OURS },
	{ "upper-case prefix", DNS_ANSWER, "",
	    { R("SENDGATE-verification=" TOK) }, "sendgate", VERIFY_MISSING,
	    "other letter case" },
	{ "NUL byte after the token", DNS_ANSWER, "",
	    { R(OURS "\0") }, "sendgate", VERIFY_MISSING,
	    "with other text" },
	{ "NUL byte inside the token", DNS_ANSWER, "",
	    { R("sendgate-verification=0123\0" "56789abcdef0123456789abcdef"
	    "01234567") }, "sendgate", VERIFY_MISSING,
	    "different token (sendgate-verification=0123?56789ab...)" },
	{ "control bytes are not shown", DNS_ANSWER, "",
	    { R("sendgate-verification=\033[31m\r\n") }, "sendgate",
	    VERIFY_MISSING, "different token (sendgate-verification="
	    "?" "?31m?" "?)" },
	{ "empty record", DNS_ANSWER, "", { R("") }, "sendgate",
	    VERIFY_MISSING, "1 TXT record, none is " OURS },
	{ "three other records", DNS_ANSWER, "",
	    { R("a"), R("b"), R("v=spf1 -all") }, "sendgate",
	    VERIFY_MISSING, "3 TXT records, none is " OURS },
	{ "NXDOMAIN", DNS_NXDOMAIN, "", NONE, "sendgate",
	    VERIFY_MISSING, "no TXT record at the domain (NXDOMAIN)" },
	{ "NODATA", DNS_NODATA, "", NONE, "sendgate",
	    VERIFY_MISSING, "no TXT records at the domain" },
	{ "an answer without records", DNS_ANSWER, "", NONE,
	    "sendgate", VERIFY_MISSING, "no TXT records at the domain" },
	{ "SERVFAIL", DNS_TEMPFAIL, "SERVFAIL", NONE, "sendgate",
	    VERIFY_TEMPFAIL, "DNS temporary failure: SERVFAIL" },
	{ "timeout without a reason", DNS_TEMPFAIL, "", NONE,
	    "sendgate", VERIFY_TEMPFAIL, "DNS temporary failure: no answer" },
	{ "SERVFAIL even with records", DNS_TEMPFAIL, "timeout",
	    { R(OURS) }, "sendgate", VERIFY_TEMPFAIL, "timeout" },
};

static void
test_token_rows(void **state)
{
	struct dns_rr		 rr[NREC];
	struct dns_answer	 ans;
	enum verify_result	 got;
	char			 diag[512];
	size_t			 i;
	int			 n;

	for (i = 0; i < NROWS(rows); i++) {
		memset(&ans, 0, sizeof(ans));
		memset(rr, 0, sizeof(rr));
		ans.status = rows[i].status;
		strlcpy(ans.why, rows[i].why, sizeof(ans.why));
		ans.rr = rr;
		for (n = 0; n < NREC && rows[i].rec[n].data != NULL; n++) {
			rr[n].type = DNS_T_TXT;
			rr[n].u.txt.data = (char *)rows[i].rec[n].data;
			rr[n].u.txt.len = rows[i].rec[n].len;
			rr[n].u.txt.nstrings = rows[i].rec[n].nstrings;
		}
		ans.nrr = n;
		got = verify_token_check(&ans, rows[i].prefix, TOK, diag,
		    sizeof(diag));
		if (got != rows[i].want || strstr(diag, rows[i].diag) == NULL)
			fail_msg("row %zu \"%s\": got %s \"%s\", want %s "
			    "\"...%s...\"", i, rows[i].name,
			    verify_result_name(got), diag,
			    verify_result_name(rows[i].want), rows[i].diag);
	}
}

/* What the caller may get wrong: no answer, no token, a huge token. */
static void
test_token_arguments(void **state)
{
	static char		 big[DNS_TXT_MAX + 1];
	struct dns_rr		 rr;
	struct dns_answer	 ans;
	char			 diag[128];

	memset(&ans, 0, sizeof(ans));
	memset(&rr, 0, sizeof(rr));
	rr.type = DNS_T_TXT;
	rr.u.txt.data = (char *)"sendgate-verification=";
	rr.u.txt.len = strlen(rr.u.txt.data);
	ans.rr = &rr;
	ans.nrr = 1;

	assert_int_equal(verify_token_check(NULL, "sendgate", TOK, diag,
	    sizeof(diag)), VERIFY_TEMPFAIL);
	assert_int_equal(verify_token_check(&ans, "sendgate", "", diag,
	    sizeof(diag)), VERIFY_MISSING);
	assert_string_equal(diag, "no verification token to look for");
	assert_int_equal(verify_token_check(&ans, "sendgate", NULL, diag,
	    sizeof(diag)), VERIFY_MISSING);
	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(verify_token_check(&ans, "sendgate", big, diag,
	    sizeof(diag)), VERIFY_MISSING);
	assert_string_equal(diag,
	    "verification token too long for a TXT record");
	/* No diagnosis wanted. */
	assert_int_equal(verify_token_check(&ans, "sendgate", TOK, NULL, 0),
	    VERIFY_MISSING);
	assert_string_equal(verify_result_name(VERIFY_FOUND), "found");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_rows),
		cmocka_unit_test(test_token_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
