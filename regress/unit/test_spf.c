/*
 * lka/spf*.c beyond the RFC 7208 suite (test_spf_suite.c): term and
 * record syntax, macro expansion, check_host() at its limits
 * (SECURITY.md N3) with its diagnoses, the rerun contract, and
 * spf_walk().  DNS comes from zone tables: {name, type, value} rows.
 */
#include <sys/socket.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "unit.h"
#include "spf_zone.h"

#include "dns.h"
#include "spf.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
#define NOW		1400000000
#define RECEIVER	"mx.receiver.example"
#define TEMPFAIL	"!tempfail"	/* value: the name times out */
#define LINES_MAX	(64 * 1024)

/* A row's input for a failure message: unprintable bytes as '?'. */
static const char *
shown(const char *s)
{
	static char	 buf[128];
	size_t		 i;

	if (s == NULL)
		return "(null)";
	for (i = 0; s[i] != '\0' && i < sizeof(buf) - 1; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

/*
 * Zones: rows up to one with a NULL name.  MX values are "pref host";
 * a TEMPFAIL row makes every question about its name time out.
 */
struct zrow {
	const char	*name;
	enum dns_type	 type;
	const char	*value;
};

static void
rr_fill(struct dns_rr *rr, const struct zrow *z)
{
	char	*end;

	switch (z->type) {
	case DNS_T_A:
	case DNS_T_AAAA:
		if (inet_pton(z->type == DNS_T_A ? AF_INET : AF_INET6,
		    z->value, rr->u.addr) != 1)
			fail_msg("zone %s: bad address %s", z->name, z->value);
		break;
	case DNS_T_MX:
		rr->u.mx.pref = strtol(z->value, &end, 10);
		strlcpy(rr->u.mx.host, end + strspn(end, " "),
		    sizeof(rr->u.mx.host));
		break;
	case DNS_T_PTR:
		strlcpy(rr->u.ptr, z->value, sizeof(rr->u.ptr));
		break;
	case DNS_T_TXT:
		if ((rr->u.txt.data = strdup(z->value)) == NULL)
			abort();
		rr->u.txt.len = strlen(z->value);
		rr->u.txt.nstrings = 1;
		break;
	}
}

static struct dns_answer *
table_answer(const void *arg, const char *qname, enum dns_type qtype)
{
	const struct zrow	*z;
	struct dns_answer	*a = zone_answer_new(DNS_NXDOMAIN, "");

	for (z = arg; z->name != NULL; z++) {
		if (!spf_name_eq(z->name, qname))
			continue;
		if (strcmp(z->value, TEMPFAIL) == 0) {
			dns_answer_free(a);
			return zone_answer_new(DNS_TEMPFAIL, "test timeout");
		}
		if (a->status == DNS_NXDOMAIN)
			a->status = DNS_NODATA;
		if (z->type == qtype)
			rr_fill(zone_answer_add(a, qtype), z);
	}
	return a;
}

static void
request(struct spf_request *req, const char *ip, const char *sender)
{
	memset(req, 0, sizeof(*req));
	req->sender = sender;
	req->helo = "mail.client.example";
	req->receiver = RECEIVER;
	req->now = NOW;
	if (ip == NULL)
		return;
	if (inet_pton(AF_INET, ip, req->ip) == 1)
		req->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, req->ip) == 1)
		req->family = AF_INET6;
	else
		fail_msg("bad test address %s", ip);
}

/*
 * Term syntax: {term, error substring or NULL, kind, qualifier, the
 * CIDR lengths}.
 */
static const struct {
	const char		*in;
	const char		*err;
	enum spf_term_kind	 kind;
	char			 qual;
	int			 cidr4, cidr6;
} term_rows[] = {
	{ "all",		NULL,	SPF_T_ALL,	'+', 32, 128 },
	{ "-ALL",		NULL,	SPF_T_ALL,	'-', 32, 128 },
	{ "~include:_spf.x.example", NULL, SPF_T_INCLUDE, '~', 32, 128 },
	{ "?a",			NULL,	SPF_T_A,	'?', 32, 128 },
	{ "a/24",		NULL,	SPF_T_A,	'+', 24, 128 },
	{ "a//64",		NULL,	SPF_T_A,	'+', 32, 64 },
	{ "a:x.example/0//0",	NULL,	SPF_T_A,	'+', 0, 0 },
	{ "mx:x.example/32//128", NULL,	SPF_T_MX,	'+', 32, 128 },
	{ "ptr:x.example",	NULL,	SPF_T_PTR,	'+', 32, 128 },
	{ "ip4:192.0.2.0/24",	NULL,	SPF_T_IP4,	'+', 24, 128 },
	{ "ip6:2001:db8::/32",	NULL,	SPF_T_IP6,	'+', 32, 32 },
	{ "ip6:::ffff:1.2.3.4",	NULL,	SPF_T_IP6,	'+', 32, 128 },
	{ "exists:%{ir}.%{v}._spf.%{d2}", NULL, SPF_T_EXISTS, '+', 32, 128 },
	{ "a:foo:bar/baz.example", NULL, SPF_T_A,	'+', 32, 128 },
	{ "a:x.xn--zckzah",	NULL,	SPF_T_A,	'+', 32, 128 },
	{ "a:%{d}.",		NULL,	SPF_T_A,	'+', 32, 128 },
	{ "redirect=_spf.x.example", NULL, SPF_T_REDIRECT, 0, 32, 128 },
	{ "exp=explain.%{d}",	NULL,	SPF_T_EXP,	0, 32, 128 },
	{ "moo.cow-far_out=man:dog/cat", NULL, SPF_T_UNKNOWN, 0, 32, 128 },
	{ "v=%{c}%{r}%{t}",	NULL,	SPF_T_UNKNOWN,	0, 32, 128 },
	{ "moo",		"unknown mechanism", 0, 0, 0, 0 },
	{ "all.",		"unknown mechanism", 0, 0, 0, 0 },
	{ "-all:x",		"all takes no argument", 0, 0, 0, 0 },
	{ "all/8",		"all takes no argument", 0, 0, 0, 0 },
	{ "redirect:x.example",	"unknown mechanism", 0, 0, 0, 0 },
	{ "+redirect=x.example", "unknown mechanism", 0, 0, 0, 0 },
	{ "1up=foo",		"not a mechanism or modifier", 0, 0, 0, 0 },
	{ "=all",		"not a mechanism or modifier", 0, 0, 0, 0 },
	{ "\x80" "a",		"not a mechanism or modifier", 0, 0, 0, 0 },
	{ "include",		"needs :domain", 0, 0, 0, 0 },
	{ "include:",		"empty domain-spec", 0, 0, 0, 0 },
	{ "exists",		"needs :domain", 0, 0, 0, 0 },
	{ "a:",			"empty domain-spec", 0, 0, 0, 0 },
	{ "a:/24",		"empty domain-spec", 0, 0, 0, 0 },
	{ "a/33",		"invalid IPv4 CIDR length", 0, 0, 0, 0 },
	{ "a//129",		"invalid IPv6 CIDR length", 0, 0, 0, 0 },
	{ "a/24/64",		"invalid IPv4 CIDR length", 0, 0, 0, 0 },
	{ "a/024",		"invalid IPv4 CIDR length", 0, 0, 0, 0 },
	{ "a//64/24",		"unexpected \"/\"", 0, 0, 0, 0 },
	{ "a-b",		"unknown mechanism", 0, 0, 0, 0 },
	{ "ptr/0",		"unexpected \"/\"", 0, 0, 0, 0 },
	{ "a:museum",		"must end in a valid top label", 0, 0, 0, 0 },
	{ "a:museum.",		"must end in a valid top label", 0, 0, 0, 0 },
	{ "a:example.-com",	"must end in a valid top label", 0, 0, 0, 0 },
	{ "a:abc.123",		"must end in a valid top label", 0, 0, 0, 0 },
	{ "a:example.com:8080",	"must end in a valid top label", 0, 0, 0, 0 },
	{ "include:x.example/24", "must end in a valid top label", 0, 0, 0, 0 },
	{ "a:x.example\x7f",	"byte 0x7f in domain-spec", 0, 0, 0, 0 },
	{ "a:foo%.example",	"invalid macro", 0, 0, 0, 0 },
	{ "a:%{d0}.example",	"invalid macro", 0, 0, 0, 0 },
	{ "a:%{a}.example",	"invalid macro", 0, 0, 0, 0 },
	{ "a:%{d",		"invalid macro", 0, 0, 0, 0 },
	{ "exists:%{c}.x.example", "only allowed in explanation text", 0, 0, 0, 0 },
	{ "exp=%{r}.example",	"only allowed in explanation text", 0, 0, 0, 0 },
	{ "exp=",		"empty domain-spec", 0, 0, 0, 0 },
	{ "exp=-all",		"must end in a valid top label", 0, 0, 0, 0 },
	{ "redirect=",		"empty domain-spec", 0, 0, 0, 0 },
	{ "foo=%abc",		"invalid macro-string", 0, 0, 0, 0 },
	{ "ip4",		"needs :address", 0, 0, 0, 0 },
	{ "ip4:1.2.3",		"invalid IPv4 address", 0, 0, 0, 0 },
	{ "ip4:1.2.3.04",	"invalid IPv4 address", 0, 0, 0, 0 },
	{ "ip4:1.2.3.256",	"invalid IPv4 address", 0, 0, 0, 0 },
	{ "ip4:1.2.3.4:8080",	"invalid IPv4 address", 0, 0, 0, 0 },
	{ "ip4:1.2.3.4/33",	"invalid CIDR length (0-32)", 0, 0, 0, 0 },
	{ "ip4:1.2.3.4/032",	"invalid CIDR length (0-32)", 0, 0, 0, 0 },
	{ "ip4:1.2.3.4//32",	"invalid CIDR length (0-32)", 0, 0, 0, 0 },
	{ "ip6::CAFE::BABE",	"invalid IPv6 address", 0, 0, 0, 0 },
	{ "ip6:::1/129",	"invalid CIDR length (0-128)", 0, 0, 0, 0 },
	{ "ip6:::1//33",	"invalid CIDR length (0-128)", 0, 0, 0, 0 },
};

static void
test_term_syntax(void **state)
{
	struct spf_term	 t;
	char		 err[256];
	size_t		 i;
	int		 rc;

	for (i = 0; i < NROWS(term_rows); i++) {
		err[0] = '\0';
		rc = spf_term_parse(term_rows[i].in, strlen(term_rows[i].in),
		    &t, err, sizeof(err));
		if (term_rows[i].err != NULL) {
			if (rc != -1 || strstr(err, term_rows[i].err) == NULL)
				fail_msg("term row %zu \"%s\": want error "
				    "\"%s\", got %d \"%s\"", i,
				    shown(term_rows[i].in),
				    term_rows[i].err, rc, err);
			continue;
		}
		if (rc != 0 || t.kind != term_rows[i].kind ||
		    t.qual != term_rows[i].qual ||
		    t.cidr4 != term_rows[i].cidr4 ||
		    t.cidr6 != term_rows[i].cidr6)
			fail_msg("term row %zu \"%s\": got %d \"%s\" kind %d "
			    "qual %c cidr %d/%d", i, term_rows[i].in, rc, err,
			    t.kind, t.qual ? t.qual : '0', t.cidr4, t.cidr6);
	}
}

/* Generated records, filled by group_setup(). */
static char	 rec_1000[DNS_TXT_MAX + 1];	/* 1000 terms and -all */
static char	 rec_1000a[DNS_TXT_MAX + 1];	/* "a" 1000 times */
static char	 rec_4k[DNS_TXT_MAX + 1];	/* exactly DNS_TXT_MAX */
static char	 rec_macro[DNS_TXT_MAX + 1];	/* %{d}. 800 times */
static char	 macro_name[DNS_TXT_MAX * 4];	/* what rec_macro asks */

/* Whole records: {record, error substring or NULL, terms}. */
static const struct {
	const char	*in;
	const char	*err;
	int		 nterms;
} record_rows[] = {
	{ "v=spf1",			NULL,	0 },
	{ "V=SpF1 -ALL",		NULL,	1 },
	{ "v=spf1   a   -all   ",	NULL,	2 },
	{ "v=spf1 redirect=a.example exp=b.example", NULL, 2 },
	{ rec_1000,			NULL,	1001 },
	{ rec_1000a,			NULL,	1000 },
	{ rec_4k,			NULL,	3 },
	{ rec_macro,			NULL,	2 },
	{ "v=spf10",			"not a v=spf1 record", 0 },
	{ "v=spf1 ip4:1.2.3.4 -all moo", "\"moo\": unknown mechanism", 0 },
	{ "v=spf1 a:x.example\r -all",	"byte 0x0d at offset 18", 0 },
	{ "v=spf1\t-all",		"byte 0x09 at offset 6", 0 },
	{ "v=spf1 a \x96" "all",	"byte 0x96 at offset 9", 0 },
	{ "v=spf1 redirect=a.example -all redirect=a.example",
	    "a second redirect=", 0 },
	{ "v=spf1 exp=a.example -all exp=b.example", "a second exp=", 0 },
};

static void
test_record_syntax(void **state)
{
	struct spf_record	 r;
	char			 err[256];
	size_t			 i;
	int			 rc;

	for (i = 0; i < NROWS(record_rows); i++) {
		err[0] = '\0';
		rc = spf_record_parse(record_rows[i].in,
		    strlen(record_rows[i].in), &r, err, sizeof(err));
		if (record_rows[i].err != NULL) {
			if (rc != -1 || strstr(err, record_rows[i].err) ==
			    NULL)
				fail_msg("record row %zu \"%s\": want error "
				    "\"%s\", got %d \"%s\"", i,
				    shown(record_rows[i].in),
				    record_rows[i].err, rc, err);
			continue;
		}
		if (rc != 0 || r.nterms != record_rows[i].nterms)
			fail_msg("record row %zu \"%s\": got %d \"%s\", %d "
			    "terms", i, shown(record_rows[i].in), rc, err,
			    r.nterms);
	}
	assert_int_equal(strlen(rec_4k), DNS_TXT_MAX);
}

/* Record selection: {TXT records, how many SPF records}. */
static const struct {
	const char	*txt[4];
	int		 want;
	const char	*first;
} select_rows[] = {
	{ { "v=spf1 -all" },				1, "v=spf1 -all" },
	{ { "hello", "v=spf1 -all", "v=spf2.0/pra" },	1, "v=spf1 -all" },
	{ { "v=spf1", "V=SPF1 +all" },			2, "v=spf1" },
	{ { "v=spf1 -all", "v=spf1 -all" },		2, "v=spf1 -all" },
	{ { "v=spf10", "v=spf1mx", "spf1" },		0, NULL },
	{ { "" },					0, NULL },
};

static void
test_record_select(void **state)
{
	struct dns_answer	*a;
	const char		*rec;
	size_t			 i, k, len;
	int			 n;

	for (i = 0; i < NROWS(select_rows); i++) {
		a = zone_answer_new(DNS_NODATA, "");
		for (k = 0; k < 4 && select_rows[i].txt[k] != NULL; k++) {
			struct zrow	 z = { "x", DNS_T_TXT,
			    select_rows[i].txt[k] };

			rr_fill(zone_answer_add(a, DNS_T_TXT), &z);
		}
		rec = NULL;
		n = spf_record_select(a, &rec, &len);
		if (n != select_rows[i].want || (n > 0 &&
		    (len != strlen(select_rows[i].first) ||
		    strncmp(rec, select_rows[i].first, len) != 0)))
			fail_msg("select row %zu: want %d, got %d", i,
			    select_rows[i].want, n);
		dns_answer_free(a);
	}
}

/*
 * Macro expansion with the values of RFC 7208 §7.4: {input, flags,
 * expected output or NULL, status}.
 */
static const struct spf_macro_ctx macro_ctx = {
	"strong-bad@email.example.com",	"strong-bad", "email.example.com",
	"email.example.com", "192.0.2.3", "mx.example.org", "in-addr",
	"mail.example.net", "192.0.2.3", RECEIVER, "1400000000"
};

#define D	SPF_MACRO_DOMAIN
#define E	SPF_MACRO_EXPLAIN

static const struct {
	const char		*in;
	int			 flags;
	const char		*want;
	enum spf_macro_status	 st;
} macro_rows[] = {
	{ "%{s}",	D, "strong-bad@email.example.com", SPF_MACRO_OK },
	{ "%{o}",	D, "email.example.com",	SPF_MACRO_OK },
	{ "%{d}",	D, "email.example.com",	SPF_MACRO_OK },
	{ "%{d4}",	D, "email.example.com",	SPF_MACRO_OK },
	{ "%{d3}",	D, "email.example.com",	SPF_MACRO_OK },
	{ "%{d2}",	D, "example.com",	SPF_MACRO_OK },
	{ "%{d1}",	D, "com",		SPF_MACRO_OK },
	{ "%{d999}",	D, "email.example.com",	SPF_MACRO_OK },
	{ "%{dr}",	D, "com.example.email",	SPF_MACRO_OK },
	{ "%{d2r}",	D, "example.email",	SPF_MACRO_OK },
	{ "%{l}",	D, "strong-bad",	SPF_MACRO_OK },
	{ "%{l-}",	D, "strong.bad",	SPF_MACRO_OK },
	{ "%{lr}",	D, "strong-bad",	SPF_MACRO_OK },
	{ "%{lr-}",	D, "bad.strong",	SPF_MACRO_OK },
	{ "%{l1r-}",	D, "strong",		SPF_MACRO_OK },
	{ "%{LR-}",	D, "bad.strong",	SPF_MACRO_OK },
	{ "%{s2.-+,/_=}", D, "example.com",	SPF_MACRO_OK },
	{ "%{sr@}",	D, NULL,		SPF_MACRO_SYNTAX },
	{ "%{i}",	D, "192.0.2.3",		SPF_MACRO_OK },
	{ "%{ir}.%{v}._spf.%{d2}", D, "3.2.0.192.in-addr._spf.example.com",
	    SPF_MACRO_OK },
	{ "%{lr-}.lp._spf.%{d2}", D, "bad.strong.lp._spf.example.com",
	    SPF_MACRO_OK },
	{ "%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", D,
	    "bad.strong.lp.3.2.0.192.in-addr._spf.example.com", SPF_MACRO_OK },
	{ "%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", D,
	    "3.2.0.192.in-addr.strong.lp._spf.example.com", SPF_MACRO_OK },
	{ "%{d2}.trusted-domains.example.net", D,
	    "example.com.trusted-domains.example.net", SPF_MACRO_OK },
	{ "%{p}",	D, "mx.example.org",	SPF_MACRO_OK },
	{ "%{h}",	D, "mail.example.net",	SPF_MACRO_OK },
	{ "%{v}",	D, "in-addr",		SPF_MACRO_OK },
	{ "x.%{d}.",	D, "x.email.example.com", SPF_MACRO_OK },
	{ "%{c}",	D, NULL,		SPF_MACRO_SYNTAX },
	{ "%{r}",	D, NULL,		SPF_MACRO_SYNTAX },
	{ "%{t}",	D, NULL,		SPF_MACRO_SYNTAX },
	{ "%{c} %{r} %{t}", E, "192.0.2.3 " RECEIVER " 1400000000",
	    SPF_MACRO_OK },
	{ "%{S}",	E, "strong-bad%40email.example.com", SPF_MACRO_OK },
	{ "%{L}",	E, "strong-bad",	SPF_MACRO_OK },
	{ "%{H}%{C}",	E, "mail.example.net192.0.2.3", SPF_MACRO_OK },
	{ "%%%_%-",	E, "% %20",		SPF_MACRO_OK },
	{ "a%%b%_c%-d",	D, "a%b c%20d",		SPF_MACRO_OK },
	{ "trailing.",	E, "trailing.",		SPF_MACRO_OK },
	{ "two words",	E, "two words",		SPF_MACRO_OK },
	{ "two words",	D, NULL,		SPF_MACRO_SYNTAX },
	{ "%",		E, NULL,		SPF_MACRO_SYNTAX },
	{ "%a",		E, NULL,		SPF_MACRO_SYNTAX },
	{ "%{",		E, NULL,		SPF_MACRO_SYNTAX },
	{ "%{}",	E, NULL,		SPF_MACRO_SYNTAX },
	{ "%{x}",	E, NULL,		SPF_MACRO_SYNTAX },
	{ "%{d0}",	E, NULL,		SPF_MACRO_SYNTAX },
	{ "%{d2",	E, NULL,		SPF_MACRO_SYNTAX },
	{ "%{d2x}",	E, NULL,		SPF_MACRO_SYNTAX },
	{ "%{drr}",	E, NULL,		SPF_MACRO_SYNTAX },
	{ "%{d.r}",	E, NULL,		SPF_MACRO_SYNTAX },
	{ "\x01",	E, NULL,		SPF_MACRO_SYNTAX },
	{ "\xc3\xa9",	E, NULL,		SPF_MACRO_SYNTAX },
};

static void
test_macro(void **state)
{
	enum spf_macro_status	 st;
	char			 out[SPF_EXPAND_MAX];
	size_t			 i;

	for (i = 0; i < NROWS(macro_rows); i++) {
		st = spf_macro_expand(&macro_ctx, macro_rows[i].in,
		    strlen(macro_rows[i].in), macro_rows[i].flags, out,
		    sizeof(out), NULL);
		if (st != macro_rows[i].st || (st == SPF_MACRO_OK &&
		    strcmp(out, macro_rows[i].want) != 0))
			fail_msg("macro row %zu \"%s\": want %d \"%s\", got "
			    "%d \"%s\"", i, macro_rows[i].in, macro_rows[i].st,
			    shown(macro_rows[i].want), st, out);
	}
}

/* Values that need escaping, IPv6, missing and over-long values. */
static void
test_macro_values(void **state)
{
	struct spf_macro_ctx	 c = macro_ctx;
	char			 out[SPF_EXPAND_MAX], big[SPF_VALUE_MAX + 2];
	char			 missing = 0;

	c.l = "~jack&jill=up-a_b3.c";
	assert_int_equal(spf_macro_expand(&c, "%{L}", 4, E, out,
	    sizeof(out), NULL), SPF_MACRO_OK);
	assert_string_equal(out, "~jack%26jill%3Dup-a_b3.c");
	c.i = "2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "C.B.0.1";
	c.v = "ip6";
	assert_int_equal(spf_macro_expand(&c, "%{ir}.%{v}._spf.%{d2}", 21, D,
	    out, sizeof(out), NULL), SPF_MACRO_OK);
	assert_string_equal(out, "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.8.B.D.0.1.0.0.2.ip6._spf.example.com");
	c.p = NULL;
	assert_int_equal(spf_macro_expand(&c, "x.%{p}", 6, D, out,
	    sizeof(out), &missing), SPF_MACRO_NOVALUE);
	assert_int_equal(missing, 'p');
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	c.l = big;
	assert_int_equal(spf_macro_expand(&c, "%{l}.x.example", 14, D, out,
	    sizeof(out), NULL), SPF_MACRO_TOOLONG);
	big[SPF_VALUE_MAX] = '\0';
	assert_int_equal(spf_macro_expand(&c, "%{l}", 4, E, out,
	    sizeof(out), NULL), SPF_MACRO_OK);
	assert_int_equal(strlen(out), SPF_VALUE_MAX);
}

/* The final cut of a name (RFC 7208 §7.3), done the slow way. */
static void
cut_253(char *s)
{
	char	*dot;

	while (strlen(s) > SPF_DOMAIN_MAX && (dot = strchr(s, '.')) != NULL)
		memmove(s, dot + 1, strlen(dot + 1) + 1);
}

/*
 * Expansions far over every buffer: domain mode keeps the tail the
 * cut keeps; explanation text is refused, never cut.
 */
static void
test_macro_bounded(void **state)
{
	struct spf_macro_ctx	 c = macro_ctx;
	char			 out[SPF_EXPAND_MAX], in[4000], want[40000];
	char			 name[40000];
	size_t			 i;

	/* Every length up to 4000 bytes of "%{s}.%{d1}.": the same
	 * name as cutting the whole expansion. */
	in[0] = want[0] = '\0';
	for (i = 0; strlen(in) + 6 < sizeof(in); i++) {
		strlcat(in, i % 2 ? "%{d1}." : "%{s}.", sizeof(in));
		strlcat(want, i % 2 ? "com." : macro_ctx.s, sizeof(want));
		strlcat(want, i % 2 ? "" : ".", sizeof(want));
		strlcpy(name, want, sizeof(name));
		name[strlen(name) - 1] = '\0';
		cut_253(name);
		if (spf_macro_expand(&c, in, strlen(in), D, out, sizeof(out),
		    NULL) != SPF_MACRO_OK || strcmp(out, name) != 0)
			fail_msg("%zu macros: want \"%s\", got \"%s\"", i + 1,
			    name, out);
	}
	assert_true(strlen(out) <= SPF_DOMAIN_MAX);
	assert_int_equal(spf_macro_expand(&c, in, strlen(in), E, out,
	    512, NULL), SPF_MACRO_TOOLONG);
	/* One label longer than anything kept: no name at all. */
	c.l = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	for (i = 0; i + 4 <= sizeof(in) - 1; i += 4)
		memcpy(in + i, "%{l}", 4);
	in[i] = '\0';
	assert_int_equal(spf_macro_expand(&c, in, strlen(in), D, out,
	    sizeof(out), NULL), SPF_MACRO_TOOLONG);
	/* ... unless a dot follows it: the cut drops it. */
	strlcpy(in + i - 12, ".%{d}", sizeof(in) - i + 12);
	assert_int_equal(spf_macro_expand(&c, in, strlen(in), D, out,
	    sizeof(out), NULL), SPF_MACRO_OK);
	assert_string_equal(out, "email.example.com");
}

/* Names: {name, valid for a query, valid as check_host()'s domain}. */
static const struct {
	const char	*in;
	int		 name, domain;
} name_rows[] = {
	{ "example.com",	1, 1 },
	{ "example.com.",	1, 1 },
	{ "foo:bar/baz.example.com", 1, 1 },
	{ "localhost",		1, 0 },
	{ "a..example",		0, 0 },
	{ ".example",		0, 0 },
	{ "",			0, 0 },
	{ ".",			0, 0 },
	{ "[192.0.2.1]",	1, 0 },
	{ "192.0.2.1",		1, 0 },
	{ "two words.example",	1, 0 },
	{ "a123456789012345678901234567890123456789012345678901234567890"
	  "12.example",		1, 1 },
	{ "a123456789012345678901234567890123456789012345678901234567890"
	  "123.example",	0, 0 },
};

static void
test_names(void **state)
{
	size_t	 i;

	for (i = 0; i < NROWS(name_rows); i++)
		if (spf_name_valid(name_rows[i].in) != name_rows[i].name ||
		    spf_domain_valid(name_rows[i].in) != name_rows[i].domain)
			fail_msg("name row %zu \"%s\": want %d/%d, got %d/%d",
			    i, name_rows[i].in, name_rows[i].name,
			    name_rows[i].domain,
			    spf_name_valid(name_rows[i].in),
			    spf_domain_valid(name_rows[i].in));
	assert_true(spf_name_eq("Example.COM.", "example.com"));
	assert_false(spf_name_eq("example.com", "xexample.com"));
}

/*
 * Evaluation scenarios.  The sender is x@a.example unless said; the
 * client 192.0.2.1.
 */
#define H(n)	{ "h" #n ".example", DNS_T_A, "10.0.0." #n }
#define MXH(n)	{ "a.example", DNS_T_MX, "10 m" #n ".example" }, \
		{ "m" #n ".example", DNS_T_A, "10.1.0." #n }
#define R(n, m)	{ "r" #n ".example", DNS_T_TXT, "v=spf1 redirect=r" #m \
		    ".example" }

static const struct zrow z_include_loop[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 include:b.example -all" },
	{ "b.example", DNS_T_TXT, "v=spf1 include:c.example" },
	{ "c.example", DNS_T_TXT, "v=spf1 ip4:10.0.0.1 include:b.example" },
	{ NULL, 0, NULL }
};

static const struct zrow z_redirect_self[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 ip4:10.0.0.1 redirect=A.example." },
	{ NULL, 0, NULL }
};

static const struct zrow z_terms11[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 a:h1.example a:h2.example "
	    "a:h3.example a:h4.example a:h5.example a:h6.example "
	    "a:h7.example a:h8.example a:h9.example a:h10.example "
	    "a:h11.example -all" },
	H(1), H(2), H(3), H(4), H(5), H(6), H(7), H(8), H(9), H(10), H(11),
	{ NULL, 0, NULL }
};

static const struct zrow z_terms10[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 a:h1.example mx:h2.example "
	    "a:h3.example a:h4.example exists:h5.example "
	    "a:h6.example a:h7.example a:h8.example a:h9.example "
	    "ip4:10.0.0.0/8 ptr ip4:192.0.2.1 -all" },
	{ "h2.example", DNS_T_MX, "10 h1.example" },
	H(1), H(3), H(4), H(6), H(7), H(8), H(9),
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "client.example" },
	{ "h5.example", DNS_T_TXT, "no address: exists does not match" },
	{ NULL, 0, NULL }
};

static const struct zrow z_terms_include[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 include:b.example -all" },
	{ "b.example", DNS_T_TXT, "v=spf1 a:h1.example a:h2.example "
	    "a:h3.example a:h4.example a:h5.example a:h6.example "
	    "a:h7.example a:h8.example a:h9.example a:h10.example" },
	H(1), H(2), H(3), H(4), H(5), H(6), H(7), H(8), H(9), H(10),
	{ NULL, 0, NULL }
};

static const struct zrow z_redirects10[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 redirect=r1.example" },
	R(1, 2), R(2, 3), R(3, 4), R(4, 5), R(5, 6), R(6, 7), R(7, 8),
	R(8, 9), R(9, 10),
	{ "r10.example", DNS_T_TXT, "v=spf1 -all" },
	{ NULL, 0, NULL }
};

static const struct zrow z_redirects11[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 redirect=r1.example" },
	R(1, 2), R(2, 3), R(3, 4), R(4, 5), R(5, 6), R(6, 7), R(7, 8),
	R(8, 9), R(9, 10), R(10, 11),
	{ "r11.example", DNS_T_TXT, "v=spf1 -all" },
	{ NULL, 0, NULL }
};

static const struct zrow z_void3[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 a:v1.example mx:v2.example "
	    "exists:v3.example a:v4.example -all" },
	{ "v2.example", DNS_T_TXT, "exists, has no MX: NODATA is void too" },
	{ NULL, 0, NULL }
};

static const struct zrow z_void2[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 a:v1.example ptr:x.example "
	    "-all exp=v3.example" },
	{ NULL, 0, NULL }
};

static const struct zrow z_mx11[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 mx -all" },
	MXH(1), MXH(2), MXH(3), MXH(4), MXH(5), MXH(6), MXH(7), MXH(8),
	MXH(9), MXH(10), MXH(11),
	{ "m11.example", DNS_T_A, "192.0.2.1" },
	{ NULL, 0, NULL }
};

static const struct zrow z_mx10[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 mx -all" },
	{ "a.example", DNS_T_MX, "0 ." },
	MXH(1), MXH(2), MXH(3), MXH(4), MXH(5), MXH(6), MXH(7), MXH(8),
	MXH(9),
	{ "m9.example", DNS_T_A, "192.0.2.1" },
	{ NULL, 0, NULL }
};

static const struct zrow z_ptr11[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 ptr -all" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "p1.a.example" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "p2.a.example" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "p3.a.example" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "p4.a.example" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "p5.a.example" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "p6.a.example" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "p7.a.example" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "p8.a.example" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "p9.a.example" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "p10.a.example" },
	{ "1.2.0.192.in-addr.arpa", DNS_T_PTR, "p11.a.example" },
	{ "p11.a.example", DNS_T_A, "192.0.2.1" },
	{ NULL, 0, NULL }
};

static const struct zrow z_redirect_chain[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 redirect=b.example exp=ea.example" },
	{ "b.example", DNS_T_TXT, "v=spf1 ip4:10.0.0.1 redirect=c.example" },
	{ "c.example", DNS_T_TXT, "v=spf1 ip4:192.0.2.2 exp=ec.example -all" },
	{ "ea.example", DNS_T_TXT, "from a" },
	{ "ec.example", DNS_T_TXT, "from %{d} for %{o}" },
	{ NULL, 0, NULL }
};

static const struct zrow z_redirect_none[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 redirect=b.example" },
	{ "b.example", DNS_T_TXT, "not spf" },
	{ NULL, 0, NULL }
};

static const struct zrow z_include_none[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 include:b.example -all" },
	{ NULL, 0, NULL }
};

static const struct zrow z_two[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 -all" },
	{ "a.example", DNS_T_TXT, "v=spf1 +all" },
	{ NULL, 0, NULL }
};

static const struct zrow z_txt_temp[] = {
	{ "a.example", DNS_T_TXT, TEMPFAIL },
	{ NULL, 0, NULL }
};

static const struct zrow z_a_temp[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 a:t.example -all" },
	{ "t.example", DNS_T_A, TEMPFAIL },
	{ NULL, 0, NULL }
};

static const struct zrow z_exp[] = {
	{ "a.example", DNS_T_TXT, "v=spf1 ip4:192.0.2.9 ~all "
	    "exp=e.%{d}" },
	{ "b.example", DNS_T_TXT, "v=spf1 -all exp=e.a.example" },
	{ "e.a.example", DNS_T_TXT, "%{c} is not %{i} for %{r} at %{t} "
	    "(%{s}, %{h}, %{v})" },
	{ NULL, 0, NULL }
};

static const struct zrow z_plain[] = {
	{ "a.example", DNS_T_TXT, "hello" },
	{ "a.example", DNS_T_TXT, "v=spf1 ip4:192.0.2.0/24 "
	    "ip6:2001:db8::/32 -all" },
	{ "b.example", DNS_T_TXT, "just text" },
	{ "c.example", DNS_T_TXT, "v=spf1 ip4:192.0.2.1/33 -all" },
	{ "d.example", DNS_T_TXT, "v=spf1 ip4:10.0.0.1" },
	{ NULL, 0, NULL }
};

static const struct zrow z_generated[] = {
	{ "a.example", DNS_T_TXT, rec_1000 },
	{ "b.example", DNS_T_TXT, rec_1000a },
	{ "b.example", DNS_T_A, "10.9.9.9" },
	{ "c.example", DNS_T_TXT, rec_4k },
	{ "d.example", DNS_T_TXT, rec_macro },
	{ NULL, 0, NULL }
};

static const struct scenario {
	const char		*what;
	const struct zrow	*zone;
	const char		*ip;
	const char		*sender;
	enum spf_result		 want;
	const char		*diag;		/* substring */
	const char		*expl;		/* NULL: none */
	const char		*never;		/* a name never asked */
	int			 terms, voids;	/* -1: not checked */
} scenarios[] = {
	{ "include loop", z_include_loop, NULL, NULL, SPF_PERMERROR,
	    "include loop: b.example -> c.example -> b.example", NULL, NULL,
	    3, 0 },
	{ "redirect loop", z_redirect_self, NULL, NULL, SPF_PERMERROR,
	    "redirect loop: a.example -> A.example", NULL, NULL, 1, 0 },
	{ "11 terms", z_terms11, NULL, NULL, SPF_PERMERROR,
	    "11 DNS-querying terms (limit 10): \"a:h11.example\" in "
	    "a.example", NULL, "h11.example", 11, 0 },
	{ "10 terms", z_terms10, NULL, NULL, SPF_PASS,
	    "a.example: \"ip4:192.0.2.1\" matched", NULL, NULL, 10, 1 },
	{ "11 terms through include", z_terms_include, NULL, NULL,
	    SPF_PERMERROR, "11 DNS-querying terms (limit 10): "
	    "\"a:h10.example\" in b.example", NULL, "h10.example", 11, 0 },
	{ "10 redirects", z_redirects10, NULL, NULL, SPF_FAIL,
	    "r10.example: \"-all\" matched", NULL, NULL, 10, 0 },
	{ "11 redirects", z_redirects11, NULL, NULL, SPF_PERMERROR,
	    "11 DNS-querying terms (limit 10): \"redirect=r11.example\" in "
	    "r10.example", NULL, "r11.example", 11, 0 },
	{ "3 void lookups", z_void3, NULL, NULL, SPF_PERMERROR,
	    "void lookups over the limit of 2: \"exists:v3.example\" in "
	    "a.example found nothing", NULL, "v4.example", 3, 3 },
	{ "2 void lookups, exp not counted", z_void2, NULL, NULL, SPF_FAIL,
	    "a.example: \"-all\" matched", NULL, NULL, 2, 2 },
	{ "11 MX hosts", z_mx11, NULL, NULL, SPF_PERMERROR,
	    "\"mx\" in a.example: 11 MX hosts (limit 10)", NULL,
	    "m1.example", 1, 0 },
	{ "10 MX hosts, null MX", z_mx10, NULL, NULL, SPF_PASS,
	    "\"mx\" matched", NULL, NULL, 1, 0 },
	{ "11 PTR names, 10 looked at", z_ptr11, NULL, NULL, SPF_FAIL,
	    "\"-all\" matched", NULL, "p11.a.example", 1, 0 },
	{ "redirect chain uses the last exp", z_redirect_chain, NULL, NULL,
	    SPF_FAIL, "c.example: \"-all\" matched",
	    "from c.example for a.example", "ea.example", 2, 0 },
	{ "redirect chain pass", z_redirect_chain, "192.0.2.2", NULL,
	    SPF_PASS, "c.example: \"ip4:192.0.2.2\" matched", NULL, NULL,
	    2, 0 },
	{ "redirect to none", z_redirect_none, NULL, NULL, SPF_PERMERROR,
	    "redirect=b.example: no SPF record", NULL, NULL, 1, 0 },
	{ "include of nothing", z_include_none, NULL, NULL, SPF_PERMERROR,
	    "include:b.example: domain does not exist", NULL, NULL, 1, 0 },
	{ "two records", z_two, NULL, NULL, SPF_PERMERROR,
	    "2 SPF records at a.example", NULL, NULL, 0, 0 },
	{ "TXT times out", z_txt_temp, NULL, NULL, SPF_TEMPERROR,
	    "DNS temporary failure for a.example TXT: test timeout", NULL,
	    NULL, 0, 0 },
	{ "A times out", z_a_temp, NULL, NULL, SPF_TEMPERROR,
	    "DNS temporary failure for t.example A: test timeout", NULL,
	    NULL, 1, 0 },
	{ "exp only on fail", z_exp, NULL, NULL, SPF_SOFTFAIL,
	    "a.example: \"~all\" matched", NULL, "e.a.example", 0, 0 },
	{ "exp with c r t", z_exp, NULL, "x@b.example", SPF_FAIL, NULL,
	    "192.0.2.1 is not 192.0.2.1 for " RECEIVER " at 1400000000 "
	    "(x@b.example, mail.client.example, in-addr)", NULL, 0, 0 },
	{ "exp with IPv6", z_exp, "2001:db8::cb01", "@b.example", SPF_FAIL,
	    NULL, "2001:db8::cb01 is not 2.0.0.1.0.D.B.8.0.0.0.0.0.0.0.0.0.0."
	    "0.0.0.0.0.0.0.0.0.0.C.B.0.1 for " RECEIVER " at 1400000000 "
	    "(postmaster@b.example, mail.client.example, ip6)", NULL, 0, 0 },
	{ "IPv4-mapped client", z_plain, "::ffff:192.0.2.7", NULL, SPF_PASS,
	    "\"ip4:192.0.2.0/24\" matched", NULL, NULL, 0, 0 },
	{ "IPv6 client", z_plain, "2001:db8::7", NULL, SPF_PASS,
	    "\"ip6:2001:db8::/32\" matched", NULL, NULL, 0, 0 },
	{ "no SPF record", z_plain, NULL, "x@b.example", SPF_NONE,
	    "b.example: no SPF record", NULL, NULL, 0, 0 },
	{ "no such domain", z_plain, NULL, "x@nx.example", SPF_NONE,
	    "nx.example: domain does not exist", NULL, NULL, 0, 0 },
	{ "invalid domain", z_plain, NULL, "x@a..example", SPF_NONE,
	    "a..example: not a valid domain name", NULL, "a..example", 0, 0 },
	{ "syntax error", z_plain, NULL, "x@c.example", SPF_PERMERROR,
	    "c.example: \"ip4:192.0.2.1/33\": invalid CIDR length (0-32)",
	    NULL, NULL, 0, 0 },
	{ "default neutral", z_plain, NULL, "x@d.example", SPF_NEUTRAL,
	    "d.example: no term matched", NULL, NULL, 0, 0 },
	{ "1000 terms", z_generated, NULL, "x@a.example", SPF_FAIL,
	    "\"-all\" matched", NULL, NULL, 0, 0 },
	{ "1000 a terms", z_generated, NULL, "x@b.example", SPF_PERMERROR,
	    "11 DNS-querying terms (limit 10): \"a\" in b.example", NULL,
	    NULL, 11, 0 },
	{ "4 KiB record", z_generated, NULL, "x@c.example", SPF_FAIL,
	    "\"-ip4:192.0.2.1\" matched", NULL, NULL, 0, 0 },
	{ "huge macro expansion", z_generated, NULL, "x@d.example", SPF_FAIL,
	    "\"-all\" matched", NULL, NULL, 1, 1 },
};

/* 1 if the row's expectations hold, else a message in why. */
static int
scenario_check(const struct scenario *s, const struct spf_outcome *o,
    enum spf_result r, char *why, size_t len)
{
	const char	*expl = s->expl != NULL ? s->expl : "";

	if (r != s->want || o->result != r)
		snprintf(why, len, "want %s, got %s (%s)",
		    spf_result_name(s->want), spf_result_name(r), o->diag);
	else if (s->diag != NULL && strstr(o->diag, s->diag) == NULL)
		snprintf(why, len, "want diag \"%s\", got \"%s\"", s->diag,
		    o->diag);
	else if (strcmp(o->explanation, expl) != 0)
		snprintf(why, len, "want explanation \"%s\", got \"%s\"",
		    expl, o->explanation);
	else if ((s->terms >= 0 && o->dns_terms != s->terms) ||
	    (s->voids >= 0 && o->void_lookups != s->voids))
		snprintf(why, len, "want %d terms %d voids, got %d %d",
		    s->terms, s->voids, o->dns_terms, o->void_lookups);
	else
		return 1;
	return 0;
}

struct check_arg {
	struct spf_request	 req;
	struct spf_outcome	 out;
};

static enum spf_result
check_eval(void *arg, const struct dns_source *src)
{
	struct check_arg	*ca = arg;

	return spf_check_host(&ca->req, src, &ca->out);
}

/* Distinct questions in what a source was asked. */
static int
distinct_questions(const struct zone_source *zs)
{
	size_t	 i, k;
	int	 n = 0;

	for (i = 0; i < zs->n; i++) {
		for (k = 0; k < i; k++)
			if (strcasecmp(zs->asked[i], zs->asked[k]) == 0)
				break;
		n += k == i;
	}
	return n;
}

/*
 * Every scenario with a source that answers at once, then through the
 * rerun loop (one question resolved per run): SPF_NEED_DNS until all
 * are known, then the same outcome.
 */
static void
test_scenarios(void **state)
{
	const struct scenario	*s;
	struct zone_source	 zs;
	struct dns_source	 src;
	struct check_arg	 ca;
	enum spf_result		 r;
	char			 why[600];
	size_t			 i;
	int			 runs, questions;

	for (i = 0; i < NROWS(scenarios); i++) {
		s = &scenarios[i];
		src = zone_source(&zs, table_answer, s->zone);
		request(&ca.req, s->ip != NULL ? s->ip : "192.0.2.1",
		    s->sender != NULL ? s->sender : "x@a.example");
		r = spf_check_host(&ca.req, &src, &ca.out);
		if (!scenario_check(s, &ca.out, r, why, sizeof(why)))
			fail_msg("scenario \"%s\": %s", s->what, why);
		if (s->never != NULL && zone_asked(&zs, s->never))
			fail_msg("scenario \"%s\": %s was asked", s->what,
			    s->never);
		questions = distinct_questions(&zs);
		zone_source_clear(&zs);
		r = zone_rerun(table_answer, s->zone, check_eval, &ca, &runs);
		if (!scenario_check(s, &ca.out, r, why, sizeof(why)))
			fail_msg("scenario \"%s\" rerun: %s", s->what, why);
		if (runs != questions + 1)
			fail_msg("scenario \"%s\": %d runs for %d questions",
			    s->what, runs, questions);
	}
}

/* The huge expansion asked for the tail the cut keeps, and only it. */
static void
test_macro_in_lookup(void **state)
{
	struct zone_source	 zs;
	struct dns_source	 src = zone_source(&zs, table_answer,
	    z_generated);
	struct spf_outcome	 out;
	struct spf_request	 req;

	request(&req, "192.0.2.1", "x@d.example");
	assert_int_equal(spf_check_host(&req, &src, &out), SPF_FAIL);
	assert_int_equal(zs.n, 2);
	assert_true(strlen(macro_name) <= SPF_DOMAIN_MAX);
	assert_true(strncmp(zs.asked[1], macro_name, strlen(macro_name)) ==
	    0 && strcmp(zs.asked[1] + strlen(macro_name), " A") == 0);
	zone_source_clear(&zs);
}

static void
test_no_client(void **state)
{
	struct zone_source	 zs;
	struct dns_source	 src = zone_source(&zs, table_answer, z_plain);
	struct spf_outcome	 out;
	struct spf_request	 req;

	request(&req, NULL, "x@a.example");
	assert_int_equal(spf_check_host(&req, &src, &out), SPF_PERMERROR);
	assert_string_equal(out.diag, "no client address");
	assert_int_equal(zs.n, 0);
	assert_string_equal(spf_result_name(SPF_SOFTFAIL), "softfail");
	assert_string_equal(spf_result_name(SPF_TEMPERROR), "temperror");
}

/* Walk output: "depth text" lines. */
struct lines {
	char	*b;
	size_t	 len;
};

static void
line_add(void *arg, int depth, const char *text)
{
	struct lines	*l = arg;

	if (l->len < LINES_MAX)
		l->len += snprintf(l->b + l->len, LINES_MAX - l->len,
		    "%d %s\n", depth, text);
}

struct walk_arg {
	const char		*domain;
	struct spf_request	 req;
	const char		*want;
	struct lines		 lines;
	struct spf_walk_summary	 sum;
};

static enum spf_result
walk_eval(void *arg, const struct dns_source *src)
{
	struct walk_arg		*wa = arg;
	struct spf_walk_cb	 cb = { line_add, &wa->lines };

	wa->lines.len = 0;
	wa->lines.b[0] = '\0';
	return spf_walk(wa->domain, &wa->req, wa->want, src, &cb, &wa->sum);
}

static const struct zrow z_walk[] = {
	{ "example.com", DNS_T_TXT, "v=spf1 include:_spf.relay.example "
	    "ip4:192.0.2.0/24 a:mail.example.com mx:nx.example ~all" },
	{ "_spf.relay.example", DNS_T_TXT, "v=spf1 ip4:198.51.100.0/24 "
	    "ptr -all" },
	{ "mail.example.com", DNS_T_A, "192.0.2.10" },
	{ "big.example", DNS_T_TXT, "v=spf1 include:i1.example "
	    "include:i2.example redirect=i3.example" },
	{ "i1.example", DNS_T_TXT, "v=spf1 a:h1.example a:h2.example "
	    "a:h3.example a:h4.example exists:%{i}.x.example" },
	{ "i2.example", DNS_T_TXT, "v=spf1 a:h5.example a:h6.example "
	    "a:h7.example include:big.example" },
	{ "i3.example", DNS_T_TXT, "v=spf1 a:h8.example include:none.example" },
	{ "none.example", DNS_T_TXT, "no spf here" },
	H(1), H(2), H(3), H(4), H(5), H(6), H(7), H(8),
	{ "nospf.example", DNS_T_TXT, "hello" },
	{ "all.example", DNS_T_TXT, "v=spf1 -all redirect=x.example" },
	{ NULL, 0, NULL }
};

static const struct {
	const char	*domain;
	const char	*ip;
	const char	*want;		/* include looked for */
	enum spf_result	 res;
	int		 found, terms, voids, records;
	const char	*diag;
	const char	*lines;
} walk_rows[] = {
	{ "example.com", "192.0.2.10", "_spf.relay.example", SPF_PASS,
	    1, 4, 2, 2, "",
	    "0 example.com: \"v=spf1 include:_spf.relay.example "
	    "ip4:192.0.2.0/24 a:mail.example.com mx:nx.example ~all\"\n"
	    "1 include:_spf.relay.example (terms 1/10, void 0/2)\n"
	    "2 _spf.relay.example: \"v=spf1 ip4:198.51.100.0/24 ptr -all\"\n"
	    "3 ptr (terms 2/10, void 1/2) void\n"
	    "1 ip4:192.0.2.0/24 matches 192.0.2.10\n"
	    "1 a:mail.example.com (terms 3/10, void 1/2) matches "
	    "192.0.2.10\n"
	    "1 mx:nx.example (terms 4/10, void 2/2) void\n"
	    "0 result for 192.0.2.10: pass (example.com: "
	    "\"ip4:192.0.2.0/24\" matched)\n" },
	{ "example.com", NULL, "_spf.other.example", SPF_NEUTRAL,
	    0, 4, 1, 2, "include:_spf.other.example missing",
	    "0 example.com: \"v=spf1 include:_spf.relay.example "
	    "ip4:192.0.2.0/24 a:mail.example.com mx:nx.example ~all\"\n"
	    "1 include:_spf.relay.example (terms 1/10, void 0/2)\n"
	    "2 _spf.relay.example: \"v=spf1 ip4:198.51.100.0/24 ptr -all\"\n"
	    "3 ptr (terms 2/10, void 0/2) not evaluated: needs the client "
	    "address\n"
	    "1 a:mail.example.com (terms 3/10, void 0/2)\n"
	    "1 mx:nx.example (terms 4/10, void 1/2) void\n" },
	{ "big.example", NULL, "i3.example", SPF_PERMERROR,
	    1, 14, 0, 4,
	    "include loop: big.example -> i2.example -> big.example",
	    "0 big.example: \"v=spf1 include:i1.example include:i2.example "
	    "redirect=i3.example\"\n"
	    "1 include:i1.example (terms 1/10, void 0/2)\n"
	    "2 i1.example: \"v=spf1 a:h1.example a:h2.example a:h3.example "
	    "a:h4.example exists:%{i}.x.example\"\n"
	    "3 a:h1.example (terms 2/10, void 0/2)\n"
	    "3 a:h2.example (terms 3/10, void 0/2)\n"
	    "3 a:h3.example (terms 4/10, void 0/2)\n"
	    "3 a:h4.example (terms 5/10, void 0/2)\n"
	    "3 exists:%{i}.x.example (terms 6/10, void 0/2) not evaluated: "
	    "needs the client address\n"
	    "1 include:i2.example (terms 7/10, void 0/2)\n"
	    "2 i2.example: \"v=spf1 a:h5.example a:h6.example a:h7.example "
	    "include:big.example\"\n"
	    "3 a:h5.example (terms 8/10, void 0/2)\n"
	    "3 a:h6.example (terms 9/10, void 0/2)\n"
	    "3 a:h7.example (terms 10/10, void 0/2)\n"
	    "3 include:big.example (terms 11/10, void 0/2): include loop: "
	    "big.example -> i2.example -> big.example\n"
	    "1 redirect=i3.example (terms 12/10, void 0/2)\n"
	    "2 i3.example: \"v=spf1 a:h8.example include:none.example\"\n"
	    "3 a:h8.example (terms 13/10, void 0/2)\n"
	    "3 include:none.example (terms 14/10, void 0/2)\n"
	    "4 none.example: no SPF record\n" },
	{ "nospf.example", NULL, "_spf.relay.example", SPF_NONE,
	    0, 0, 0, 0, "nospf.example: no SPF record",
	    "0 nospf.example: no SPF record\n" },
	{ "all.example", "192.0.2.1", NULL, SPF_FAIL, 0, 0, 0, 1, "",
	    "0 all.example: \"v=spf1 -all redirect=x.example\"\n"
	    "1 redirect=x.example ignored: the record has all\n"
	    "0 result for 192.0.2.1: fail (all.example: \"-all\" matched)\n" },
};

/* spf_walk(): lines, summary, and the same lines after reruns. */
static void
test_walk(void **state)
{
	struct walk_arg	 wa;
	struct zone_source zs;
	struct dns_source src;
	enum spf_result	 r;
	size_t		 i;
	int		 runs;
	char		*first;

	if ((wa.lines.b = malloc(LINES_MAX)) == NULL ||
	    (first = malloc(LINES_MAX)) == NULL)
		abort();
	for (i = 0; i < NROWS(walk_rows); i++) {
		wa.domain = walk_rows[i].domain;
		wa.want = walk_rows[i].want;
		request(&wa.req, walk_rows[i].ip, NULL);
		src = zone_source(&zs, table_answer, z_walk);
		r = walk_eval(&wa, &src);
		zone_source_clear(&zs);
		if (r != walk_rows[i].res ||
		    strcmp(wa.lines.b, walk_rows[i].lines) != 0)
			fail_msg("walk row %zu: want %s\n%s\ngot %s\n%s", i,
			    spf_result_name(walk_rows[i].res),
			    walk_rows[i].lines, spf_result_name(r),
			    wa.lines.b);
		if (wa.sum.include_found != walk_rows[i].found ||
		    wa.sum.dns_terms != walk_rows[i].terms ||
		    wa.sum.void_lookups != walk_rows[i].voids ||
		    wa.sum.records != walk_rows[i].records ||
		    strcmp(wa.sum.diag, walk_rows[i].diag) != 0)
			fail_msg("walk row %zu: want found %d terms %d voids "
			    "%d records %d \"%s\", got %d %d %d %d \"%s\"", i,
			    walk_rows[i].found, walk_rows[i].terms,
			    walk_rows[i].voids, walk_rows[i].records,
			    walk_rows[i].diag, wa.sum.include_found,
			    wa.sum.dns_terms, wa.sum.void_lookups,
			    wa.sum.records, wa.sum.diag);
		strlcpy(first, wa.lines.b, LINES_MAX);
		r = zone_rerun(table_answer, z_walk, walk_eval, &wa, &runs);
		if (r != walk_rows[i].res || runs < 1 ||
		    strcmp(wa.lines.b, first) != 0)
			fail_msg("walk row %zu rerun (%d runs): got %s\n%s", i,
			    runs, spf_result_name(r), wa.lines.b);
	}
	free(first);
	free(wa.lines.b);
}

/* Over SPF_WALK_TERMS_MAX the walk stops asking, and says so. */
static void
test_walk_bounded(void **state)
{
	static const struct zrow	 z[] = {
		{ "a.example", DNS_T_TXT, rec_1000a },
		{ NULL, 0, NULL }
	};
	struct walk_arg			 wa;
	struct zone_source		 zs;
	struct dns_source		 src = zone_source(&zs, table_answer, z);

	if ((wa.lines.b = malloc(LINES_MAX)) == NULL)
		abort();
	wa.domain = "a.example";
	wa.want = NULL;
	request(&wa.req, NULL, NULL);
	assert_int_equal(walk_eval(&wa, &src), SPF_PERMERROR);
	assert_int_equal(wa.sum.dns_terms, SPF_WALK_TERMS_MAX + 1);
	assert_string_equal(wa.sum.diag, "41 DNS-querying terms (limit 10)");
	assert_non_null(strstr(wa.lines.b, "1 walk stopped: over 40 "
	    "DNS-querying terms\n"));
	assert_null(strstr(wa.lines.b, "terms 41/10"));
	/* a.example A and AAAA, asked once each from the store. */
	assert_true(zs.n <= 1 + 2 * SPF_WALK_TERMS_MAX);
	zone_source_clear(&zs);
	free(wa.lines.b);
}

static void
fill(char *buf, size_t size, const char *head, const char *rep, int times,
    const char *tail)
{
	int	 i;

	strlcpy(buf, head, size);
	for (i = 0; i < times; i++)
		strlcat(buf, rep, size);
	if (strlcat(buf, tail, size) >= size)
		fail_msg("generated record over %zu bytes", size);
}

static int
group_setup(void **state)
{
	size_t	 n;

	fill(rec_1000, sizeof(rec_1000), "v=spf1", " x=y", 1000, " -all");
	fill(rec_1000a, sizeof(rec_1000a), "v=spf1", " a", 1000, "");
	fill(rec_4k, sizeof(rec_4k), "v=spf1 -ip4:192.0.2.1 ?all pad=", "",
	    0, "");
	n = strlen(rec_4k);
	memset(rec_4k + n, 'x', DNS_TXT_MAX - n);
	rec_4k[DNS_TXT_MAX] = '\0';
	fill(rec_macro, sizeof(rec_macro), "v=spf1 exists:", "%{d}.", 800,
	    "x.example -all");
	fill(macro_name, sizeof(macro_name), "", "d.example.", 800,
	    "x.example");
	cut_253(macro_name);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_term_syntax),
		cmocka_unit_test(test_record_syntax),
		cmocka_unit_test(test_record_select),
		cmocka_unit_test(test_macro),
		cmocka_unit_test(test_macro_values),
		cmocka_unit_test(test_macro_bounded),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_macro_in_lookup),
		cmocka_unit_test(test_no_client),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_walk_bounded),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
