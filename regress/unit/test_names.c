/*
 * lka/names.c: connector names, domains and their IDN forms, tokens,
 * usernames and source networks.  Each table row is {input, expected
 * result or a substring of the expected error}.
 */
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "unit.h"

#include "names.h"

#define ERR_MAX		256

#define A10	"aaaaaaaaaa"
#define L61	A10 A10 A10 A10 A10 A10 "a"
#define L62	L61 "a"
#define L63	L62 "a"
#define UE10	"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc" \
		"\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc"	/* ü x 10 */

/* Escaped copy for failure messages (one at a time). */
static const char *
printable(const char *s)
{
	static char	buf[512];
	size_t		i, o = 0;

	if (s == NULL)
		return "(null)";
	for (i = 0; s[i] != '\0' && o + 8 < sizeof(buf); i++) {
		unsigned char	c = s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
		else
			buf[o++] = c;
	}
	if (s[i] != '\0')
		o += snprintf(buf + o, sizeof(buf) - o, "...");
	buf[o] = '\0';
	return buf;
}

/* An error message is one line of printable ASCII, whatever was typed. */
static void
check_err_clean(const char *what, const char *in, const char *err)
{
	size_t	i;

	if (err[0] == '\0')
		fail_msg("%s \"%s\": empty error message", what,
		    printable(in));
	for (i = 0; err[i] != '\0'; i++)
		if ((unsigned char)err[i] < 0x20 ||
		    (unsigned char)err[i] >= 0x7f)
			fail_msg("%s \"%s\": raw byte 0x%02x in error \"%s\"",
			    what, printable(in), (unsigned char)err[i],
			    printable(err));
}

/*
 * Checks one result against a row: want_err NULL means success, else the
 * call must fail with want_err inside its message.
 */
static void
check_result(const char *what, size_t row, const char *in, int rc,
    const char *err, const char *want_err)
{
	if (want_err == NULL) {
		if (rc != 0)
			fail_msg("%s row %zu \"%s\": want success, got \"%s\"",
			    what, row, printable(in), printable(err));
		return;
	}
	if (rc != -1)
		fail_msg("%s row %zu \"%s\": want error \"%s\", got %d",
		    what, row, printable(in), want_err, rc);
	check_err_clean(what, in, err);
	if (strstr(err, want_err) == NULL)
		fail_msg("%s row %zu \"%s\": want error \"%s\", got \"%s\"",
		    what, row, printable(in), want_err, err);
}

/* Rows for the validators of plain words: connector names, usernames. */
struct word_row {
	const char	*in;
	const char	*err;
};

static void
check_words(const char *what, int (*valid)(const char *, char *, size_t),
    const struct word_row *rows, size_t nrows)
{
	char	 err[ERR_MAX];
	size_t	 i;
	int	 rc;

	for (i = 0; i < nrows; i++) {
		err[0] = '\0';
		rc = valid(rows[i].in, err, sizeof(err));
		check_result(what, i, rows[i].in, rc, err, rows[i].err);
	}
}

static const struct word_row connector_rows[] = {
	{ "a",				NULL },
	{ "relay-1",			NULL },
	{ "exchange.online",		NULL },
	{ "crm_mailer",			NULL },
	{ "0",				NULL },
	{ "a.b-c_d.9",			NULL },
	{ L63 "a",			NULL },
	{ NULL,				"connector name is empty; it must be "
					"1-64 characters of a-z 0-9 . _ -" },
	{ "",				"connector name is empty" },
	{ L63 "aa",			"connector name is longer than 64 "
					"characters; it must be 1-64 "
					"characters of a-z 0-9 . _ -" },
	{ L63 L63,			"longer than 64 characters" },
	{ "Relay",			"connector name has invalid character "
					"'R' at position 1; it must be 1-64 "
					"characters of a-z 0-9 . _ -" },
	{ "relay 1",			"invalid character '\\x20' at "
					"position 6" },
	{ "relay\n",			"invalid character '\\x0a' at "
					"position 6" },
	{ "re\x1b[31mlay",		"invalid character '\\x1b' at "
					"position 3" },
	{ "relay/x",			"invalid character '/' at position 6" },
	{ "relay';--",			"invalid character '\\x27' at "
					"position 6" },
	{ "a\"b",			"invalid character '\\x22' at "
					"position 2" },
	{ "a\\b",			"invalid character '\\x5c' at "
					"position 2" },
	{ "r\xc3\xa9lay",		"invalid character '\\xc3' at "
					"position 2" },
	{ "a@b",			"invalid character '@' at position 2" },
	{ "a\x7f",			"invalid character '\\x7f' at "
					"position 2" },
};

static void
test_connector(void **state)
{
	check_words("connector", names_connector_valid, connector_rows,
	    sizeof(connector_rows) / sizeof(connector_rows[0]));
}

static const struct word_row username_rows[] = {
	{ "relay-1",			NULL },
	{ "Relay.User@example.com",	NULL },
	{ "a+tag_x",			NULL },
	{ L63 "A",			NULL },
	{ "",				"username is empty; it must be 1-64 "
					"characters of A-Z a-z 0-9 . _ @ + -" },
	{ NULL,				"username is empty" },
	{ L63 "aa",			"username is longer than 64 "
					"characters" },
	{ "a b",			"username has invalid character "
					"'\\x20' at position 2" },
	{ "a:b",			"invalid character ':' at position 2" },
	{ "user\r\n",			"invalid character '\\x0d' at "
					"position 5" },
	{ "\xc3\xbc",			"invalid character '\\xc3' at "
					"position 1" },
	{ "a%b",			"invalid character '%' at position 2" },
};

static void
test_username(void **state)
{
	check_words("username", names_username_valid, username_rows,
	    sizeof(username_rows) / sizeof(username_rows[0]));
}

static const struct {
	const char	*in;
	int		 want;
} token_rows[] = {
	{ "0123456789abcdef0123456789abcdef01234567",	0 },
	{ "ffffffffffffffffffffffffffffffffffffffff",	0 },
	{ "0123456789abcdef0123456789abcdef0123456",	-1 },
	{ "0123456789abcdef0123456789abcdef012345678",	-1 },
	{ "0123456789ABCDEF0123456789abcdef01234567",	-1 },
	{ "0123456789abcdeg0123456789abcdef01234567",	-1 },
	{ "0123456789abcdef0123456789abcdef01234567\n",	-1 },
	{ " 123456789abcdef0123456789abcdef01234567",	-1 },
	{ "",						-1 },
	{ NULL,						-1 },
};

static void
test_token(void **state)
{
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(token_rows) / sizeof(token_rows[0]); i++) {
		rc = names_token_valid(token_rows[i].in);
		if (rc != token_rows[i].want)
			fail_msg("token row %zu \"%s\": want %d, got %d", i,
			    printable(token_rows[i].in), token_rows[i].want,
			    rc);
	}
}

/* ulabel NULL: the same as alabel. */
static const struct {
	const char	*in;
	const char	*alabel;
	const char	*ulabel;
	const char	*err;
} domain_rows[] = {
	{ "example.com",		"example.com",		NULL, NULL },
	{ "EXAMPLE.COM",		"example.com",		NULL, NULL },
	{ "Mail.Example.Co.UK",		"mail.example.co.uk",	NULL, NULL },
	{ "example.com.",		"example.com",		NULL, NULL },
	{ "a.b",			"a.b",			NULL, NULL },
	{ "123.example",		"123.example",		NULL, NULL },
	{ "a-b.example",		"a-b.example",		NULL, NULL },
	{ "xn--bcher-kva.example",	"xn--bcher-kva.example",
	    "b\xc3\xbc" "cher.example", NULL },
	{ "XN--BCHER-KVA.EXAMPLE",	"xn--bcher-kva.example",
	    "b\xc3\xbc" "cher.example", NULL },
	{ "B\xc3\xbc" "cher.example",	"xn--bcher-kva.example",
	    "b\xc3\xbc" "cher.example", NULL },
	{ "B\xc3\x9c" "CHER.EXAMPLE",	"xn--bcher-kva.example",
	    "b\xc3\xbc" "cher.example", NULL },
	{ "b\xc3\xbc" "cher.example.",	"xn--bcher-kva.example",
	    "b\xc3\xbc" "cher.example", NULL },
	{ "stra\xc3\x9f" "e.de",	"xn--strae-oqa.de",
	    "stra\xc3\x9f" "e.de", NULL },
	{ "\xce\x91\xce\x92\xce\x93.com", "xn--mxacd.com",
	    "\xce\xb1\xce\xb2\xce\xb3.com", NULL },
	{ "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
	    "xn--r8jz45g.xn--zckzah",
	    "\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
	    NULL },
	/* NFD input is composed first */
	{ "e\xcc\x81x.com",		"xn--x-9fa.com",
	    "\xc3\xa9x.com", NULL },
	/* UTS #46 maps the fullwidth full stop to '.' */
	{ "example\xef\xbc\x8e" "com",	"example.com",		NULL, NULL },
	{ L63 ".example",		L63 ".example",		NULL, NULL },
	{ L63 "." L63 "." L63 "." L61,	L63 "." L63 "." L63 "." L61,
	    NULL, NULL },
	{ L63 "." L63 "." L63 "." L61 ".", L63 "." L63 "." L63 "." L61,
	    NULL, NULL },

	{ "",			NULL, NULL, "domain is empty" },
	{ NULL,			NULL, NULL, "domain is empty" },
	{ ".",			NULL, NULL,
	    "domain starts with a dot (empty label)" },
	{ ".example.com",	NULL, NULL,
	    "domain starts with a dot (empty label)" },
	{ "example..com",	NULL, NULL,
	    "domain has an empty label at position 9" },
	{ "example.com..",	NULL, NULL,
	    "domain has an empty label at position 13" },
	{ "a\xe3\x80\x82\xe3\x80\x82" "b.com", NULL, NULL,
	    "domain has an empty label at position 3" },
	{ L63 "a.example",	NULL, NULL,
	    "label '" L63 "a' is 64 bytes long; the limit is 63" },
	{ UE10 UE10 UE10 UE10 UE10 UE10 ".com", NULL, NULL,
	    "a label is longer than 63 bytes in A-label form" },
	{ L63 "." L63 "." L63 "." L62, NULL, NULL,
	    "domain is 254 bytes long in A-label form; the limit is 253" },
	{ "localhost",		NULL, NULL,
	    "domain 'localhost' has a single label; a sending domain has "
	    "at least two, like example.com" },
	{ "com.",		NULL, NULL, "domain 'com' has a single label" },
	{ "b\xc3\xbc" "cher",	NULL, NULL,
	    "domain 'xn--bcher-kva' has a single label" },
	{ "-example.com",	NULL, NULL,
	    "label '-example' starts with a hyphen" },
	{ "example-.com",	NULL, NULL,
	    "label 'example-' ends with a hyphen" },
	{ "example.-com",	NULL, NULL,
	    "label '-com' starts with a hyphen" },
	{ "-b\xc3\xbc" "cher.example", NULL, NULL,
	    "a label starts or ends with a hyphen" },
	{ "ab--cd.example",	NULL, NULL,
	    "a label has '--' in its third and fourth characters" },
	{ "_dmarc.example.com",	NULL, NULL,
	    "domain contains '_' at position 1; underscores are not allowed "
	    "in a mail domain" },
	{ "mail_out.example",	NULL, NULL, "contains '_' at position 5" },
	{ "1.2.3.4",		NULL, NULL,
	    "top-level label '4' is all digits; an IP address is not a "
	    "domain" },
	{ "example.123",	NULL, NULL,
	    "top-level label '123' is all digits" },
	{ "exa\nmple.com",	NULL, NULL,
	    "domain contains control byte \\x0a at position 4" },
	{ "example.com\r",	NULL, NULL,
	    "control byte \\x0d at position 12" },
	{ "\texample.com",	NULL, NULL,
	    "control byte \\x09 at position 1" },
	{ "exa\x7fmple.com",	NULL, NULL,
	    "control byte \\x7f at position 4" },
	{ "exa\x1b[2Jmple.com",	NULL, NULL,
	    "control byte \\x1b at position 4" },
	{ "example.com x",	NULL, NULL,
	    "domain contains a space at position 12" },
	{ " example.com",	NULL, NULL, "a space at position 1" },
	{ "example.com/x",	NULL, NULL,
	    "domain contains invalid character '/' at position 12" },
	{ "ex'ample.com",	NULL, NULL,
	    "invalid character '\\x27' at position 3" },
	{ "example.com'; DROP TABLE domain; --", NULL, NULL,
	    "invalid character '\\x27' at position 12" },
	{ "example.com;",	NULL, NULL,
	    "invalid character ';' at position 12" },
	{ "exam\"ple.com",	NULL, NULL,
	    "invalid character '\\x22' at position 5" },
	{ "example.com,example.org", NULL, NULL,
	    "invalid character ',' at position 12" },
	{ "a\\b.com",		NULL, NULL,
	    "invalid character '\\x5c' at position 2" },
	{ "exa%mple.com",	NULL, NULL,
	    "invalid character '%' at position 4" },
	{ "user@example.com",	NULL, NULL,
	    "invalid character '@' at position 5" },
	{ "a\xff.com",		NULL, NULL,
	    "domain is not valid UTF-8 at byte 2" },
	{ "\xc0\xae.com",	NULL, NULL, "not valid UTF-8 at byte 1" },
	{ "a\xed\xa0\x80.com",	NULL, NULL, "not valid UTF-8 at byte 2" },
	{ "example.b\xc3",	NULL, NULL, "not valid UTF-8 at byte 10" },
	{ "\xf4\x90\x80\x80.com", NULL, NULL, "not valid UTF-8 at byte 1" },
	{ "\xf0\x9f\x98\x80.com", NULL, NULL,
	    "domain is not a valid internationalized domain name" },
	{ "example.com\xc2\x85", NULL, NULL,
	    "not a valid internationalized domain name" },
	{ "exa\xe2\x80\x8dmple.com", NULL, NULL,
	    "not a valid internationalized domain name" },
	{ "xn--.com",		NULL, NULL, "label 'xn--' ends with a hyphen" },
	{ "xn--a.example",	NULL, NULL,
	    "not a valid internationalized domain name" },
	{ "xn--ls8h.la",	NULL, NULL,
	    "not a valid internationalized domain name" },
	{ "xn--bcher-kv.example", NULL, NULL,
	    "not a valid internationalized domain name: string contains "
	    "invalid punycode data" },
	{ "xn--99999999.example", NULL, NULL,
	    "not a valid internationalized domain name" },
	/* UTS #46 maps the fullwidth solidus to '/' */
	{ "a\xef\xbc\x8f" "b.com", NULL, NULL,
	    "label 'a/b' contains a character not allowed in a host name" },
};

static void
test_domain(void **state)
{
	char		 err[ERR_MAX];
	char		 a[NAMES_DOMAIN_MAX + 1];
	char		 u[NAMES_DOMAIN_UNICODE_MAX + 1];
	const char	*in, *wantu;
	size_t		 i;
	int		 rc;

	for (i = 0; i < sizeof(domain_rows) / sizeof(domain_rows[0]); i++) {
		in = domain_rows[i].in;
		err[0] = '\0';
		memset(a, 'X', sizeof(a));
		memset(u, 'X', sizeof(u));
		rc = names_domain_normalize(in, a, sizeof(a), u, sizeof(u),
		    err, sizeof(err));
		check_result("domain", i, in, rc, err, domain_rows[i].err);
		if (rc == -1) {
			if (a[0] != '\0' || u[0] != '\0')
				fail_msg("domain row %zu \"%s\": output left "
				    "set on error", i, printable(in));
			continue;
		}
		wantu = domain_rows[i].ulabel != NULL ?
		    domain_rows[i].ulabel : domain_rows[i].alabel;
		if (strcmp(a, domain_rows[i].alabel) != 0 ||
		    strcmp(u, wantu) != 0)
			fail_msg("domain row %zu \"%s\": want \"%s\" (%s), "
			    "got \"%s\" (%s)", i, printable(in),
			    domain_rows[i].alabel, printable(wantu), a,
			    printable(u));
	}
}

/*
 * SECURITY.md N5: whichever form the operator types, the stored A-label
 * is the same, so one domain cannot be authorized twice under two names.
 */
static const struct {
	const char	*alabel;
	const char	*forms[4];
} idn_same_rows[] = {
	{ "xn--bcher-kva.example", { "b\xc3\xbc" "cher.example",
	    "xn--bcher-kva.example", "BU\xcc\x88" "CHER.Example.",
	    "Xn--Bcher-Kva.EXAMPLE" } },
	{ "xn--mnchen-3ya.de", { "m\xc3\xbc" "nchen.de", "M\xc3\x9c" "NCHEN.DE",
	    "xn--mnchen-3ya.de.", "mu\xcc\x88" "nchen.de" } },
	{ "example.com", { "example.com", "EXAMPLE.com.",
	    "\xef\xbd\x85\xef\xbd\x98\xef\xbd\x81\xef\xbd\x8d\xef\xbd\x90"
	    "\xef\xbd\x8c\xef\xbd\x85.com", "example\xe3\x80\x82" "com" } },
};

static void
test_domain_idn_same(void **state)
{
	char		 err[ERR_MAX];
	char		 a[NAMES_DOMAIN_MAX + 1];
	char		 u[NAMES_DOMAIN_UNICODE_MAX + 1];
	const char	*in;
	size_t		 i, j;

	for (i = 0; i < sizeof(idn_same_rows) / sizeof(idn_same_rows[0]);
	    i++) {
		for (j = 0; j < 4; j++) {
			in = idn_same_rows[i].forms[j];
			err[0] = '\0';
			if (names_domain_normalize(in, a, sizeof(a), u,
			    sizeof(u), err, sizeof(err)) != 0 ||
			    strcmp(a, idn_same_rows[i].alabel) != 0)
				fail_msg("idn row %zu form %zu \"%s\": want "
				    "\"%s\", got \"%s\" (%s)", i, j,
				    printable(in), idn_same_rows[i].alabel, a,
				    err);
		}
	}
}

/* The limits that cannot be written as literal rows. */
static void
test_domain_limits(void **state)
{
	char	 in[NAMES_DOMAIN_TYPED_MAX + 2];
	char	 err[ERR_MAX], a[NAMES_DOMAIN_MAX + 1], u[64];

	memset(in, 'a', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	in[10] = '.';
	assert_int_equal(names_domain_normalize(in, a, sizeof(a), u,
	    sizeof(u), err, sizeof(err)), -1);
	assert_string_equal(err, "domain is longer than 1024 bytes as typed");

	/* too small output buffers are an error, never a truncation */
	assert_int_equal(names_domain_normalize("example.com", a, 11, u,
	    sizeof(u), err, sizeof(err)), -1);
	assert_string_equal(err, "domain does not fit the output buffer");
	assert_string_equal(a, "");
	assert_int_equal(names_domain_normalize("b\xc3\xbc" "cher.example",
	    a, sizeof(a), u, 15, err, sizeof(err)), -1);
	assert_string_equal(err, "domain does not fit the output buffer");
	assert_int_equal(names_domain_normalize("b\xc3\xbc" "cher.example",
	    a, sizeof(a), u, 16, err, sizeof(err)), 0);

	/* a short error buffer still gets a terminated message */
	assert_int_equal(names_domain_normalize("", a, sizeof(a), u,
	    sizeof(u), err, 6), -1);
	assert_string_equal(err, "domai");
	assert_int_equal(names_domain_normalize("", a, sizeof(a), u,
	    sizeof(u), NULL, 0), -1);
}

/* want: the canonical form, or NULL when err is expected. */
static const struct {
	const char	*in;
	const char	*want;
	const char	*err;
} cidr_rows[] = {
	{ "192.0.2.0/24",	"192.0.2.0/24",		NULL },
	{ "192.0.2.1",		"192.0.2.1/32",		NULL },
	{ "192.0.2.1/32",	"192.0.2.1/32",		NULL },
	{ "192.0.2.128/25",	"192.0.2.128/25",	NULL },
	{ "10.0.0.0/8",		"10.0.0.0/8",		NULL },
	{ "0.0.0.0/0",		"0.0.0.0/0",		NULL },
	{ "2001:db8::/32",	"2001:db8::/32",	NULL },
	{ "2001:DB8:0:0::/32",	"2001:db8::/32",	NULL },
	{ "2001:db8::1",	"2001:db8::1/128",	NULL },
	{ "::1",		"::1/128",		NULL },
	{ "::/0",		"::/0",			NULL },
	{ "2001:db8:0:0:0:0:0:0/64", "2001:db8::/64",	NULL },
	{ "::ffff:192.0.2.0/120", "::ffff:192.0.2.0/120", NULL },
	{ "",			NULL,	"network is empty" },
	{ NULL,			NULL,	"network is empty" },
	{ "/24",		NULL,	"network '/24' has no address "
					"before '/'" },
	{ "192.0.2.1/24",	NULL,	"192.0.2.1/24 has host bits set; did "
					"you mean 192.0.2.0/24?" },
	{ "192.0.2.255/31",	NULL,	"192.0.2.255/31 has host bits set; "
					"did you mean 192.0.2.254/31?" },
	{ "10.1.2.3/0",		NULL,	"did you mean 0.0.0.0/0?" },
	{ "2001:db8::1/32",	NULL,	"2001:db8::1/32 has host bits set; "
					"did you mean 2001:db8::/32?" },
	{ "192.0.2.0/33",	NULL,	"prefix length 33 is out of range "
					"0-32 for IPv4" },
	{ "2001:db8::/129",	NULL,	"prefix length 129 is out of range "
					"0-128 for IPv6" },
	{ "192.0.2.0/1000",	NULL,	"prefix length 1000 is out of range" },
	{ "192.0.2.0/99999999999999999999", NULL, "is out of range" },
	{ "192.0.2.0/",		NULL,	"prefix length is missing after '/'" },
	{ "192.0.2.0/+1",	NULL,	"prefix length '+1' is not a decimal "
					"number" },
	{ "192.0.2.0/-1",	NULL,	"prefix length '-1' is not a decimal "
					"number" },
	{ "192.0.2.0/024",	NULL,	"prefix length '024' has a leading "
					"zero" },
	{ "::/00",		NULL,	"prefix length '00' has a leading "
					"zero" },
	{ "192.0.2.0/24x",	NULL,	"prefix length '24x' is not a "
					"decimal number" },
	{ "192.0.2.0/24 ",	NULL,	"prefix length '24\\x20' is not a "
					"decimal number" },
	{ "192.0.2.0/24\n",	NULL,	"prefix length '24\\x0a' is not a "
					"decimal number" },
	{ "192.0.2.0/24/24",	NULL,	"prefix length '24/24' is not a "
					"decimal number" },
	{ "192.0.2.0/0x18",	NULL,	"is not a decimal number" },
	{ "192.0.2",		NULL,	"'192.0.2' is not an IPv4 or IPv6 "
					"network" },
	{ "192.0.2.256/24",	NULL,	"is not an IPv4 or IPv6 network" },
	{ "192.0.2.01",		NULL,	"is not an IPv4 or IPv6 network" },
	{ "192.0.2.0 /24",	NULL,	"'192.0.2.0\\x20/24' is not an IPv4 or "
					"IPv6 network" },
	{ "example.com/24",	NULL,	"is not an IPv4 or IPv6 network" },
	{ "fe80::1%eth0/64",	NULL,	"is not an IPv4 or IPv6 network" },
	{ "2001:db8:::/48",	NULL,	"is not an IPv4 or IPv6 network" },
	{ "0000:0000:0000:0000:0000:0000:0000:0000:0/0", NULL,
					"is not an IPv4 or IPv6 network" },
};

static void
test_cidr_parse(void **state)
{
	struct names_cidr	 net;
	char			 err[ERR_MAX], buf[NAMES_CIDR_STRLEN];
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof(cidr_rows) / sizeof(cidr_rows[0]); i++) {
		err[0] = '\0';
		rc = names_cidr_parse(cidr_rows[i].in, &net, err, sizeof(err));
		check_result("cidr", i, cidr_rows[i].in, rc, err,
		    cidr_rows[i].err);
		if (rc == -1) {
			if (net.family != 0)
				fail_msg("cidr row %zu \"%s\": result left "
				    "set on error", i,
				    printable(cidr_rows[i].in));
			continue;
		}
		if (names_cidr_format(&net, buf, sizeof(buf)) != 0 ||
		    strcmp(buf, cidr_rows[i].want) != 0)
			fail_msg("cidr row %zu \"%s\": want \"%s\", got "
			    "\"%s\"", i, printable(cidr_rows[i].in),
			    cidr_rows[i].want, buf);
	}
}

/* A socket address for addr, as accept(2) would give it. */
static void
make_sockaddr(const char *addr, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(25);
	} else if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(25);
	} else
		fail_msg("bad test address \"%s\"", addr);
}

static const struct {
	const char	*net;
	const char	*addr;
	int		 want;
} match_rows[] = {
	{ "192.0.2.0/24",	"192.0.2.77",		1 },
	{ "192.0.2.0/24",	"192.0.2.0",		1 },
	{ "192.0.2.0/24",	"192.0.2.255",		1 },
	{ "192.0.2.0/24",	"192.0.3.1",		0 },
	{ "192.0.2.0/24",	"::ffff:192.0.2.77",	1 },
	{ "192.0.2.0/24",	"::ffff:192.0.3.77",	0 },
	{ "192.0.2.0/24",	"::192.0.2.77",		0 },
	{ "192.0.2.0/24",	"2001:db8::1",		0 },
	{ "192.0.2.128/25",	"192.0.2.127",		0 },
	{ "192.0.2.128/25",	"192.0.2.128",		1 },
	{ "192.0.2.1",		"192.0.2.1",		1 },
	{ "192.0.2.1",		"192.0.2.2",		0 },
	{ "0.0.0.0/0",		"203.0.113.9",		1 },
	{ "0.0.0.0/0",		"::ffff:203.0.113.9",	1 },
	{ "0.0.0.0/0",		"::1",			0 },
	{ "2001:db8::/32",	"2001:db8:1::5",	1 },
	{ "2001:db8::/32",	"2001:db9::1",		0 },
	{ "2001:db8::/33",	"2001:db8:8000::1",	0 },
	{ "2001:db8::/33",	"2001:db8:7fff::1",	1 },
	{ "2001:db8::1",	"2001:db8::1",		1 },
	{ "2001:db8::/32",	"192.0.2.1",		0 },
	{ "::ffff:192.0.2.0/120", "192.0.2.9",		1 },
	{ "::ffff:192.0.2.0/120", "192.0.3.9",		0 },
	{ "::ffff:192.0.2.0/120", "::ffff:192.0.2.9",	1 },
	{ "::/0",		"2001:db8::1",		1 },
};

static void
test_cidr_match(void **state)
{
	struct names_cidr	 net;
	struct sockaddr_storage	 ss;
	char			 err[ERR_MAX];
	size_t			 i;
	int			 got;

	for (i = 0; i < sizeof(match_rows) / sizeof(match_rows[0]); i++) {
		if (names_cidr_parse(match_rows[i].net, &net, err,
		    sizeof(err)) != 0)
			fail_msg("match row %zu: bad network \"%s\": %s", i,
			    match_rows[i].net, err);
		make_sockaddr(match_rows[i].addr, &ss);
		got = names_cidr_match(&net, (struct sockaddr *)&ss);
		if (got != match_rows[i].want)
			fail_msg("match row %zu: %s in %s: want %d, got %d",
			    i, match_rows[i].addr, match_rows[i].net,
			    match_rows[i].want, got);
	}
}

static void
test_cidr_edges(void **state)
{
	struct names_cidr	 net;
	struct sockaddr_un	 sun;
	char			 buf[NAMES_CIDR_STRLEN];

	assert_int_equal(names_cidr_parse(
	    "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128", &net,
	    NULL, 0), 0);
	assert_int_equal(names_cidr_format(&net, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");

	assert_int_equal(names_cidr_parse("192.0.2.0/24", &net, NULL, 0), 0);
	assert_int_equal(names_cidr_format(&net, buf, 13), 0);
	assert_string_equal(buf, "192.0.2.0/24");
	errno = 0;
	assert_int_equal(names_cidr_format(&net, buf, 12), -1);
	assert_int_equal(errno, ENOSPC);
	assert_string_equal(buf, "");

	net.prefix = 33;
	assert_int_equal(names_cidr_format(&net, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EINVAL);
	net.prefix = 24;
	net.family = AF_UNIX;
	assert_int_equal(names_cidr_format(&net, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EINVAL);

	/* only IP clients can match */
	assert_int_equal(names_cidr_parse("0.0.0.0/0", &net, NULL, 0), 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	assert_int_equal(names_cidr_match(&net, (struct sockaddr *)&sun), 0);
	assert_int_equal(names_cidr_match(&net, NULL), 0);
	assert_int_equal(names_cidr_match(NULL, (struct sockaddr *)&sun), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connector),
		cmocka_unit_test(test_username),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_domain),
		cmocka_unit_test(test_domain_idn_same),
		cmocka_unit_test(test_domain_limits),
		cmocka_unit_test(test_cidr_parse),
		cmocka_unit_test(test_cidr_match),
		cmocka_unit_test(test_cidr_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
