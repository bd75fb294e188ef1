/*
 * smtpd/smtp_parse.c: verbs, MAIL/RCPT paths and parameters, EHLO names,
 * BDAT, xtext and UTF-8.  Each table row is {input, expected reply code
 * and enhanced code (0/NULL when accepted), expected result}; results are
 * printed into one string so a row reads as what the session will see.
 * SECURITY.md rows are named in the comments.
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "smtp_parse.h"

#define A10	"aaaaaaaaaa"
#define A60	A10 A10 A10 A10 A10 A10
#define L63	A60 "aaa"
#define L64	A60 "aaaa"
#define L65	A60 "aaaaa"
#define D58	A10 A10 A10 A10 A10 "aaaaaaaa"
/* 4 x 63 + 3 dots = 255 */
#define DOM255	L63 "." L63 "." L63 "." L63
#define DOM256	DOM255 "a"
#define UTF8_U	"\xc3\xbc"		/* u with diaeresis */

/* Escaped copy for failure messages; one of two rotating buffers. */
static const char *
printable(const char *s, size_t len)
{
	static char	bufs[2][2048];
	static int	which;
	char		*buf = bufs[which ^= 1];
	size_t		i, o = 0;

	for (i = 0; i < len && o + 8 < sizeof(bufs[0]); i++) {
		unsigned char	c = s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += snprintf(buf + o, sizeof(bufs[0]) - o, "\\x%02x",
			    c);
		else
			buf[o++] = c;
	}
	buf[o] = '\0';
	return buf;
}

static int
check_reply(const char *what, const char *in, size_t inlen, int r,
    const struct smtp_reply_err *err, int code, const char *enh)
{
	if (code == 0 && r == 0)
		return 0;
	if (code != 0 && r == -1 && err->code == code &&
	    strcmp(err->enhanced, enh) == 0)
		return 0;
	print_error("%s \"%s\": want %d %s, got %s %d %s (%s)\n", what,
	    printable(in, inlen), code, enh ? enh : "", r == 0 ? "ok" : "err",
	    r == 0 ? 0 : err->code, r == 0 ? "" : err->enhanced,
	    r == 0 ? "" : err->text);
	return 1;
}

/* ---- verbs (F6, C9) ---- */

static const struct verb_row {
	const char	*line;
	size_t		 len;		/* 0: strlen */
	int		 code;
	const char	*enh;
	enum smtp_verb	 verb;
	const char	*args;
} verb_rows[] = {
	{ "EHLO mx.example", 0, 0, NULL, SMTP_EHLO, "mx.example" },
	{ "ehlo mx.example", 0, 0, NULL, SMTP_EHLO, "mx.example" },
	{ "HeLo x", 0, 0, NULL, SMTP_HELO, "x" },
	{ "MAIL FROM:<a@b.example>", 0, 0, NULL, SMTP_MAIL,
	    "FROM:<a@b.example>" },
	{ "rcpt TO:<a@b.example>", 0, 0, NULL, SMTP_RCPT, "TO:<a@b.example>" },
	{ "DATA", 0, 0, NULL, SMTP_DATA, "" },
	{ "BDAT 10 LAST", 0, 0, NULL, SMTP_BDAT, "10 LAST" },
	{ "RSET", 0, 0, NULL, SMTP_RSET, "" },
	{ "NOOP", 0, 0, NULL, SMTP_NOOP, "" },
	{ "NOOP ", 0, 0, NULL, SMTP_NOOP, "" },
	{ "QUIT", 0, 0, NULL, SMTP_QUIT, "" },
	{ "VRFY root", 0, 0, NULL, SMTP_VRFY, "root" },
	{ "EXPN staff", 0, 0, NULL, SMTP_EXPN, "staff" },
	{ "HELP", 0, 0, NULL, SMTP_HELP, "" },
	{ "StartTLS", 0, 0, NULL, SMTP_STARTTLS, "" },
	{ "AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q=", 0, 0, NULL, SMTP_AUTH,
	    "PLAIN dGVzdAB0ZXN0AHRlc3Q=" },
	/* C9: junk is counted by the session */
	{ "GET / HTTP/1.1", 0, 500, "5.5.1", SMTP_UNKNOWN, NULL },
	{ "XEXCH50 1 2", 0, 500, "5.5.1", SMTP_UNKNOWN, NULL },
	{ "MAILFROM:<a@b>", 0, 500, "5.5.1", SMTP_UNKNOWN, NULL },
	{ "", 0, 500, "5.5.2", SMTP_UNKNOWN, NULL },
	{ " NOOP", 0, 500, "5.5.2", SMTP_UNKNOWN, NULL },
	{ "NOOP\tx", 0, 500, "5.5.2", SMTP_UNKNOWN, NULL },
	{ "M\xc3\x80IL FROM:<a@b>", 0, 500, "5.5.2", SMTP_UNKNOWN, NULL },
	{ "\xff\xfe", 0, 500, "5.5.2", SMTP_UNKNOWN, NULL },
	/* F6: NUL never truncates the line into something valid */
	{ "RCPT TO:<a@b.example>\0<c@d.example>", 35, 500, "5.5.2",
	    SMTP_UNKNOWN, NULL },
	{ "NOOP\0", 5, 500, "5.5.2", SMTP_UNKNOWN, NULL },
	{ "\0QUIT", 5, 500, "5.5.2", SMTP_UNKNOWN, NULL },
	/* F3: a bare LF or CR left inside a line */
	{ "EHLO x\nMAIL FROM:<a@b>", 0, 500, "5.5.2", SMTP_UNKNOWN, NULL },
	{ "NOOP\rx", 0, 500, "5.5.2", SMTP_UNKNOWN, NULL },
};

static void
test_verbs(void **state)
{
	const struct verb_row	*r;
	struct smtp_reply_err	 err;
	enum smtp_verb		 verb;
	const char		*args;
	size_t			 i, len;
	int			 rc, bad = 0;

	for (i = 0; i < sizeof(verb_rows) / sizeof(verb_rows[0]); i++) {
		r = &verb_rows[i];
		len = r->len ? r->len : strlen(r->line);
		memset(&err, 0, sizeof(err));
		rc = smtp_parse_verb(r->line, len, &verb, &args, &err);
		if (check_reply("verb", r->line, len, rc, &err, r->code,
		    r->enh)) {
			bad++;
			continue;
		}
		if (verb != r->verb || (rc == 0 && strcmp(args, r->args))) {
			print_error("verb \"%s\": want %d \"%s\", got %d "
			    "\"%s\"\n", printable(r->line, len), r->verb,
			    r->args ? r->args : "", verb, args ? args : "");
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* ---- MAIL (C2-C8, F7, F8) ---- */

static void
fmt_path(char *buf, size_t len, const struct smtp_path *p)
{
	if (p->null)
		snprintf(buf, len, "<>");
	else if (p->domain[0] == '\0')
		snprintf(buf, len, "%s", p->local);
	else
		snprintf(buf, len, "%s@%s", p->local, p->domain);
	if (p->utf8)
		strlcat(buf, " U", len);
}

static void
fmt_mail(char *buf, size_t len, const struct smtp_path *p,
    const struct smtp_mail_params *m)
{
	char	tmp[64];

	fmt_path(buf, len, p);
	if (m->has_size) {
		snprintf(tmp, sizeof(tmp), " SIZE=%llu",
		    (unsigned long long)m->size);
		strlcat(buf, tmp, len);
	}
	if (m->body)
		strlcat(buf, m->body == SMTP_BODY_7BIT ? " BODY=7BIT" :
		    " BODY=8BITMIME", len);
	if (m->smtputf8)
		strlcat(buf, " SMTPUTF8", len);
	if (m->ret)
		strlcat(buf, m->ret == SMTP_RET_FULL ? " RET=FULL" :
		    " RET=HDRS", len);
	if (m->envid[0] != '\0') {
		strlcat(buf, " ENVID=", len);
		strlcat(buf, m->envid, len);
	}
}

static const struct addr_row {
	const char	*args;
	int		 utf8;		/* SMTPUTF8 offered / declared */
	int		 code;
	const char	*enh;
	const char	*want;
} mail_rows[] = {
	{ "FROM:<a@b.example>", 0, 0, NULL, "a@b.example" },
	{ "from:<a@b.example>", 0, 0, NULL, "a@b.example" },
	/* Exchange sends one space after the colon; two is junk */
	{ "FROM: <a@b.example>", 0, 0, NULL, "a@b.example" },
	{ "FROM:  <a@b.example>", 0, 501, "5.5.4", NULL },
	{ "FROM:<>", 0, 0, NULL, "<>" },
	{ "FROM:<> SIZE=100", 0, 0, NULL, "<> SIZE=100" },
	{ "FROM:<first.last+tag@sub.b.example>", 0, 0, NULL,
	    "first.last+tag@sub.b.example" },
	{ "FROM:<!#$%&'*+-/=?^_`{|}~@b.example>", 0, 0, NULL,
	    "!#$%&'*+-/=?^_`{|}~@b.example" },
	{ "FROM:<a@exchange.corp.local>", 0, 0, NULL,
	    "a@exchange.corp.local" },
	{ "FROM:<a@localhost>", 0, 0, NULL, "a@localhost" },
	{ "FROM:<a@x-1.b.example>", 0, 0, NULL, "a@x-1.b.example" },
	{ "FROM:<a@[192.0.2.1]>", 0, 0, NULL, "a@[192.0.2.1]" },
	{ "FROM:<a@[IPv6:2001:db8::1]>", 0, 0, NULL, "a@[IPv6:2001:db8::1]" },
	{ "FROM:<a@[ipv6:::ffff:192.0.2.1]>", 0, 0, NULL,
	    "a@[ipv6:::ffff:192.0.2.1]" },
	/* C4: quoted local parts are opaque, routing is on the last @ */
	{ "FROM:<\"v@other\"@relay.example>", 0, 0, NULL,
	    "\"v@other\"@relay.example" },
	{ "FROM:<\"a b\\\"c\"@b.example>", 0, 0, NULL,
	    "\"a b\\\"c\"@b.example" },
	{ "FROM:<u%other@relay.example>", 0, 0, NULL,
	    "u%other@relay.example" },
	{ "FROM:<other!u@relay.example>", 0, 0, NULL,
	    "other!u@relay.example" },
	/* C5: the source route is dropped */
	{ "FROM:<@a.example,@b.example:u@c.example>", 0, 0, NULL,
	    "u@c.example" },
	{ "FROM:<@a.example:u@c.example>", 0, 0, NULL, "u@c.example" },
	{ "FROM:<@a.example,b.example:u@c.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<@a..example:u@c.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<@a.example>", 0, 501, "5.1.7", NULL },
	/* C2: limits and bad syntax inside the brackets */
	{ "FROM:<" L64 "@b.example>", 0, 0, NULL, L64 "@b.example" },
	{ "FROM:<" L65 "@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@" L63 ".example>", 0, 0, NULL, "a@" L63 ".example" },
	{ "FROM:<a@" L64 ".example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@" DOM256 ">", 0, 501, "5.1.7", NULL },
	/* path of 257 octets: "<" 4 "@" 250 ">" */
	{ "FROM:<" "abcd@" L63 "." L63 "." L63 "." D58 ">", 0, 501,
	    "5.1.7", NULL },
	/* path of 256 octets */
	{ "FROM:<" "abc@" L63 "." L63 "." L63 "." D58 ">", 0, 0, NULL,
	    "abc@" L63 "." L63 "." L63 "." D58 },
	{ "FROM:<a..b@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<.a@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a.@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@b..example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@b.example.>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@-b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@b-.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@b_c.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@[999.1.1.1]>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@[192.0.2]>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@[IPv6:2001:db8::g]>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@[tag:content]>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@[]>", 0, 501, "5.1.7", NULL },
	{ "FROM:<.!>", 0, 501, "5.1.7", NULL },
	{ "FROM:<.!@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@>", 0, 501, "5.1.7", NULL },
	{ "FROM:<@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a>", 0, 501, "5.1.7", NULL },
	{ "FROM:<postmaster>", 0, 501, "5.1.7", NULL },
	{ "FROM:<\"\"@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a b@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@b@c.example>", 0, 501, "5.1.7", NULL },
	/* CVE-2020-7247: shell metacharacters, empty domain */
	{ "FROM:<;sleep 66;>", 0, 501, "5.1.7", NULL },
	{ "FROM:<;sleep 66;@b.example>", 0, 501, "5.1.7", NULL },
	/* C3: syntax tricks */
	{ "FROM:a@b.example", 0, 501, "5.5.4", NULL },
	{ "FROM a@b.example", 0, 501, "5.5.4", NULL },
	{ "TO:<a@b.example>", 0, 501, "5.5.4", NULL },
	{ "", 0, 501, "5.5.4", NULL },
	{ "FROM:", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example", 0, 501, "5.5.4", NULL },
	{ "FROM:<<a@b.example>>", 0, 501, "5.1.7", NULL },
	{ "FROM:<\"a@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a(x)@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:(x)<a@b.example>", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example>(x)", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> (x)", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> junk", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example>junk", 0, 501, "5.5.4", NULL },
	{ "FROM:<a\\b@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<\"a\\\x01\"@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<\"a\x01\"@b.example>", 0, 501, "5.1.7", NULL },
	{ "FROM:<a@b.example>\tSIZE=1", 0, 501, "5.5.4", NULL },
	/* C6: parameters */
	{ "FROM:<a@b.example> SIZE=1000 BODY=8BITMIME", 0, 0, NULL,
	    "a@b.example SIZE=1000 BODY=8BITMIME" },
	{ "FROM:<a@b.example> size=0 body=7bit", 0, 0, NULL,
	    "a@b.example SIZE=0 BODY=7BIT" },
	{ "FROM:<a@b.example>  SIZE=1 ", 0, 0, NULL, "a@b.example SIZE=1" },
	{ "FROM:<a@b.example> SIZE=18446744073709551615", 0, 0, NULL,
	    "a@b.example SIZE=18446744073709551615" },
	{ "FROM:<a@b.example> SIZE=18446744073709551616", 0, 552, "5.3.4",
	    NULL },
	{ "FROM:<a@b.example> SIZE=99999999999999999999", 0, 552, "5.3.4",
	    NULL },
	{ "FROM:<a@b.example> SIZE=-1", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> SIZE=1e3", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> SIZE=", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> SIZE", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> SIZE=1 SIZE=2", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> FOO=1", 0, 555, "5.5.4", NULL },
	{ "FROM:<a@b.example> XEXCH50=1", 0, 555, "5.5.4", NULL },
	{ "FROM:<a@b.example> BODY=9BIT", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> BODY=BINARYMIME", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> BODY=7BIT BODY=7BIT", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> SIZE=1 =x", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> SIZE=1\xc3\xbc", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> RET=FULL", 0, 0, NULL, "a@b.example RET=FULL" },
	{ "FROM:<a@b.example> ret=hdrs", 0, 0, NULL, "a@b.example RET=HDRS" },
	{ "FROM:<a@b.example> RET=FOO", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> RET", 0, 501, "5.5.4", NULL },
	/* C7: ENVID */
	{ "FROM:<a@b.example> ENVID=QQ314159", 0, 0, NULL,
	    "a@b.example ENVID=QQ314159" },
	{ "FROM:<a@b.example> ENVID=a+2Bb+20c", 0, 0, NULL,
	    "a@b.example ENVID=a+b c" },
	{ "FROM:<a@b.example> ENVID=a+0D+0AX:y", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> ENVID=a+00", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> ENVID=a+0d", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> ENVID=a+4", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> ENVID=" A10 A10 A10 A10 A10 A10 A10 A10 A10 A10,
	    0, 0, NULL, "a@b.example ENVID=" A10 A10 A10 A10 A10 A10 A10 A10
	    A10 A10 },
	{ "FROM:<a@b.example> ENVID=" A10 A10 A10 A10 A10 A10 A10 A10 A10 A10
	    "a", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> ENVID=x ENVID=y", 0, 501, "5.5.4", NULL },
	/* C8: AUTH= checked, ignored */
	{ "FROM:<a@b.example> AUTH=<>", 0, 0, NULL, "a@b.example" },
	{ "FROM:<a@b.example> AUTH=u+2Bx@b.example", 0, 0, NULL,
	    "a@b.example" },
	{ "FROM:<a@b.example> AUTH=x+0D+0Ay", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> AUTH=x+ZZ", 0, 501, "5.5.4", NULL },
	/* F7, F8: SMTPUTF8 */
	{ "FROM:<" UTF8_U "@b.example>", 1, 553, "5.6.7", NULL },
	{ "FROM:<a@" UTF8_U ".example>", 1, 553, "5.6.7", NULL },
	{ "FROM:<" UTF8_U "@b.example>", 0, 553, "5.6.7", NULL },
	{ "FROM:<" UTF8_U "@b.example> SMTPUTF8", 1, 0, NULL,
	    UTF8_U "@b.example U SMTPUTF8" },
	{ "FROM:<a@" UTF8_U ".example> smtputf8", 1, 0, NULL,
	    "a@" UTF8_U ".example U SMTPUTF8" },
	{ "FROM:<\"" UTF8_U " x\"@b.example> SMTPUTF8", 1, 0, NULL,
	    "\"" UTF8_U " x\"@b.example U SMTPUTF8" },
	{ "FROM:<a@b.example> SMTPUTF8", 1, 0, NULL, "a@b.example SMTPUTF8" },
	/* not advertised: the keyword is unknown */
	{ "FROM:<a@b.example> SMTPUTF8", 0, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> SMTPUTF8=yes", 1, 501, "5.5.4", NULL },
	{ "FROM:<a@b.example> SMTPUTF8 SMTPUTF8", 1, 501, "5.5.4", NULL },
	{ "FROM:<\xc0\x80@b.example> SMTPUTF8", 1, 553, "5.6.7", NULL },
	{ "FROM:<\xed\xa0\x80@b.example> SMTPUTF8", 1, 553, "5.6.7", NULL },
	{ "FROM:<\xf5\x80\x80\x80@b.example> SMTPUTF8", 1, 553, "5.6.7",
	    NULL },
	{ "FROM:<\xff@b.example> SMTPUTF8", 1, 553, "5.6.7", NULL },
	{ "FROM:<a\xc3@b.example> SMTPUTF8", 1, 553, "5.6.7", NULL },
	{ "FROM:<a@b.\xe2\x82 SMTPUTF8", 1, 501, "5.5.4", NULL },
};

static void
test_mail(void **state)
{
	const struct addr_row	*r;
	struct smtp_reply_err	 err;
	struct smtp_path	 path;
	struct smtp_mail_params	 mp;
	char			 got[1024];
	size_t			 i;
	int			 rc, bad = 0;

	for (i = 0; i < sizeof(mail_rows) / sizeof(mail_rows[0]); i++) {
		r = &mail_rows[i];
		memset(&err, 0, sizeof(err));
		rc = smtp_parse_mail(r->args, r->utf8, &path, &mp, &err);
		if (check_reply("MAIL", r->args, strlen(r->args), rc, &err,
		    r->code, r->enh)) {
			bad++;
			continue;
		}
		if (rc != 0)
			continue;
		fmt_mail(got, sizeof(got), &path, &mp);
		if (strcmp(got, r->want) != 0) {
			print_error("MAIL \"%s\": want \"%s\", got \"%s\"\n",
			    printable(r->args, strlen(r->args)), r->want,
			    printable(got, strlen(got)));
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* ---- RCPT (C2-C5, C7, F7, F8) ---- */

static void
fmt_rcpt(char *buf, size_t len, const struct smtp_path *p,
    const struct smtp_rcpt_params *rp)
{
	fmt_path(buf, len, p);
	if (rp->notify) {
		strlcat(buf, " NOTIFY=", len);
		if (rp->notify & SMTP_NOTIFY_NEVER)
			strlcat(buf, "N", len);
		if (rp->notify & SMTP_NOTIFY_SUCCESS)
			strlcat(buf, "S", len);
		if (rp->notify & SMTP_NOTIFY_FAILURE)
			strlcat(buf, "F", len);
		if (rp->notify & SMTP_NOTIFY_DELAY)
			strlcat(buf, "D", len);
	}
	if (rp->orcpt_type[0] != '\0') {
		strlcat(buf, " ORCPT=", len);
		strlcat(buf, rp->orcpt_type, len);
		strlcat(buf, ";", len);
		strlcat(buf, rp->orcpt, len);
	}
}

#define X100	A10 A10 A10 A10 A10 A10 A10 A10 A10 A10
#define X500	X100 X100 X100 X100 X100

static const struct addr_row rcpt_rows[] = {
	{ "TO:<u@c.example>", 0, 0, NULL, "u@c.example" },
	{ "to: <u@c.example>", 0, 0, NULL, "u@c.example" },
	{ "TO:<postmaster>", 0, 0, NULL, "postmaster" },
	{ "TO:<PostMaster>", 0, 0, NULL, "PostMaster" },
	{ "TO:<postmaster@c.example>", 0, 0, NULL, "postmaster@c.example" },
	{ "TO:<\"postmaster\">", 0, 501, "5.1.3", NULL },
	{ "TO:<postmaster2>", 0, 501, "5.1.3", NULL },
	{ "TO:<u>", 0, 501, "5.1.3", NULL },
	{ "TO:<>", 0, 501, "5.1.3", NULL },
	{ "TO:<u@>", 0, 501, "5.1.3", NULL },
	{ "TO:<" L65 "@c.example>", 0, 501, "5.1.3", NULL },
	{ "TO:<u@a..b>", 0, 501, "5.1.3", NULL },
	{ "TO:<u@[999.1.1.1]>", 0, 501, "5.1.3", NULL },
	{ "TO:<.!>", 0, 501, "5.1.3", NULL },
	{ "TO:<@a.example,@b.example:u@c.example>", 0, 0, NULL,
	    "u@c.example" },
	{ "TO:<\"v@other\"@relay.example>", 0, 0, NULL,
	    "\"v@other\"@relay.example" },
	{ "TO:u@c.example", 0, 501, "5.5.4", NULL },
	{ "FROM:<u@c.example>", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> junk", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> SIZE=1", 0, 555, "5.5.4", NULL },
	{ "TO:<u@c.example> FOO=1", 0, 555, "5.5.4", NULL },
	{ "TO:<u@c.example> NOTIFY=NEVER", 0, 0, NULL,
	    "u@c.example NOTIFY=N" },
	{ "TO:<u@c.example> NOTIFY=SUCCESS,FAILURE,DELAY", 0, 0, NULL,
	    "u@c.example NOTIFY=SFD" },
	{ "TO:<u@c.example> notify=delay,failure", 0, 0, NULL,
	    "u@c.example NOTIFY=FD" },
	{ "TO:<u@c.example> NOTIFY=NEVER,SUCCESS", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> NOTIFY=FAILURE,NEVER", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> NOTIFY=SUCCESS,", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> NOTIFY=,SUCCESS", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> NOTIFY=SUCCESS,SUCCESS", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> NOTIFY=ALWAYS", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> NOTIFY", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> NOTIFY=DELAY NOTIFY=DELAY", 0, 501, "5.5.4",
	    NULL },
	{ "TO:<u@c.example> ORCPT=rfc822;u+40c.example", 0, 0, NULL,
	    "u@c.example ORCPT=rfc822;u@c.example" },
	{ "TO:<u@c.example> ORCPT=RFC822;u@c.example NOTIFY=NEVER", 0, 0,
	    NULL, "u@c.example NOTIFY=N ORCPT=rfc822;u@c.example" },
	{ "TO:<u@c.example> ORCPT=utf-8;u@c.example", 0, 0, NULL,
	    "u@c.example ORCPT=utf-8;u@c.example" },
	{ "TO:<u@c.example> ORCPT=x400;u@c.example", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> ORCPT=rfc822", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> ORCPT=rfc822;", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> ORCPT=rfc822;x+0AX-Injected:1", 0, 501, "5.5.4",
	    NULL },
	{ "TO:<u@c.example> ORCPT=rfc822;x+0D", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> ORCPT=rfc822;x+00", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> ORCPT=rfc822;x+C3+BC", 0, 501, "5.5.4", NULL },
	/* decoded: exactly 500 is fine, 501 is not */
	{ "TO:<u@c.example> ORCPT=rfc822;" X500, 0, 0, NULL,
	    "u@c.example ORCPT=rfc822;" X500 },
	{ "TO:<u@c.example> ORCPT=rfc822;" X500 "a", 0, 501, "5.5.4", NULL },
	{ "TO:<u@c.example> ORCPT=rfc822;a ORCPT=rfc822;b", 0, 501, "5.5.4",
	    NULL },
	/* F7/F8: the transaction's SMTPUTF8 is passed in */
	{ "TO:<" UTF8_U "@c.example>", 0, 553, "5.6.7", NULL },
	{ "TO:<" UTF8_U "@c.example>", 1, 0, NULL, UTF8_U "@c.example U" },
	{ "TO:<u@c." UTF8_U ">", 1, 0, NULL, "u@c." UTF8_U " U" },
	{ "TO:<\xc0\x80@c.example>", 1, 553, "5.6.7", NULL },
	{ "TO:<\xed\xa0\x80@c.example>", 1, 553, "5.6.7", NULL },
	{ "TO:<u@c.\xf8\x88\x80\x80\x80>", 1, 553, "5.6.7", NULL },
	{ "TO:<u\xe2\x82@c.example>", 1, 553, "5.6.7", NULL },
};

static void
test_rcpt(void **state)
{
	const struct addr_row	*r;
	struct smtp_reply_err	 err;
	struct smtp_path	 path;
	struct smtp_rcpt_params	 rp;
	char			 got[1024];
	size_t			 i;
	int			 rc, bad = 0;

	for (i = 0; i < sizeof(rcpt_rows) / sizeof(rcpt_rows[0]); i++) {
		r = &rcpt_rows[i];
		memset(&err, 0, sizeof(err));
		rc = smtp_parse_rcpt(r->args, r->utf8, &path, &rp, &err);
		if (check_reply("RCPT", r->args, strlen(r->args), rc, &err,
		    r->code, r->enh)) {
			bad++;
			continue;
		}
		if (rc != 0)
			continue;
		fmt_rcpt(got, sizeof(got), &path, &rp);
		if (strcmp(got, r->want) != 0) {
			print_error("RCPT \"%s\": want \"%s\", got \"%s\"\n",
			    printable(r->args, strlen(r->args)), r->want,
			    printable(got, strlen(got)));
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* ---- HELO/EHLO (F7) ---- */

static const struct helo_row {
	const char	*args;
	int		 code;
	const char	*enh;
	const char	*want;
} helo_rows[] = {
	{ "mx.example.com", 0, NULL, "mx.example.com" },
	{ "exchange.corp.local", 0, NULL, "exchange.corp.local" },
	{ "EXCH01", 0, NULL, "EXCH01" },
	{ "exch_01.corp.local", 0, NULL, "exch_01.corp.local" },
	{ "mx.example.com ", 0, NULL, "mx.example.com" },
	{ "[192.0.2.1]", 0, NULL, "[192.0.2.1]" },
	{ "[IPv6:2001:db8::1]", 0, NULL, "[IPv6:2001:db8::1]" },
	{ "", 501, "5.5.4", NULL },
	{ " ", 501, "5.5.4", NULL },
	{ "a b", 501, "5.5.4", NULL },
	{ "a..b", 501, "5.5.4", NULL },
	{ "-a.example", 501, "5.5.4", NULL },
	{ "[999.1.1.1]", 501, "5.5.4", NULL },
	{ "[IPv6:zz]", 501, "5.5.4", NULL },
	{ "a;rm -rf", 501, "5.5.4", NULL },
	{ L64 ".example", 501, "5.5.4", NULL },
	{ DOM256, 501, "5.5.4", NULL },
	{ "m" UTF8_U "ller.example", 501, "5.5.2", NULL },
	{ "\xff", 501, "5.5.2", NULL },
};

static void
test_helo(void **state)
{
	const struct helo_row	*r;
	struct smtp_reply_err	 err;
	char			 out[SMTP_DOMAIN_MAX + 1];
	size_t			 i;
	int			 rc, bad = 0;

	for (i = 0; i < sizeof(helo_rows) / sizeof(helo_rows[0]); i++) {
		r = &helo_rows[i];
		memset(&err, 0, sizeof(err));
		rc = smtp_parse_helo(r->args, out, sizeof(out), &err);
		if (check_reply("EHLO", r->args, strlen(r->args), rc, &err,
		    r->code, r->enh)) {
			bad++;
			continue;
		}
		if (rc == 0 && strcmp(out, r->want) != 0) {
			print_error("EHLO \"%s\": want \"%s\", got \"%s\"\n",
			    r->args, r->want, out);
			bad++;
		}
	}
	/* a small output buffer is an error, never a truncation */
	rc = smtp_parse_helo("mx.example.com", out, 5, &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.code, 501);
	assert_int_equal(bad, 0);
}

/* ---- BDAT (B1) ---- */

static const struct bdat_row {
	const char	*args;
	int		 code;
	uint64_t	 size;
	int		 last;
} bdat_rows[] = {
	{ "0 LAST", 0, 0, 1 },
	{ "10", 0, 10, 0 },
	{ "4096 last", 0, 4096, 1 },
	{ "18446744073709551615", 0, UINT64_MAX, 0 },
	{ "", 501, 0, 0 },
	{ "-1", 501, 0, 0 },
	{ "1e3", 501, 0, 0 },
	{ "99999999999999999999", 501, 0, 0 },
	{ "18446744073709551616", 501, 0, 0 },
	{ "10 LASTX", 501, 0, 0 },
	{ "10 LAST ", 501, 0, 0 },
	{ "10  LAST", 501, 0, 0 },
	{ "10 ", 501, 0, 0 },
	{ " 10", 501, 0, 0 },
	{ "+10", 501, 0, 0 },
};

static void
test_bdat(void **state)
{
	const struct bdat_row	*r;
	struct smtp_reply_err	 err;
	uint64_t		 size;
	size_t			 i;
	int			 rc, last, bad = 0;

	for (i = 0; i < sizeof(bdat_rows) / sizeof(bdat_rows[0]); i++) {
		r = &bdat_rows[i];
		memset(&err, 0, sizeof(err));
		rc = smtp_parse_bdat(r->args, &size, &last, &err);
		if (check_reply("BDAT", r->args, strlen(r->args), rc, &err,
		    r->code, r->code ? "5.5.4" : NULL)) {
			bad++;
			continue;
		}
		if (rc == 0 && (size != r->size || last != r->last)) {
			print_error("BDAT \"%s\": want %llu %d, got %llu %d\n",
			    r->args, (unsigned long long)r->size, r->last,
			    (unsigned long long)size, last);
			bad++;
		}
		if (rc == -1 && strcmp(err.text, "Syntax: BDAT count [LAST]")) {
			print_error("BDAT \"%s\": text %s\n", r->args,
			    err.text);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
}

/* ---- xtext, UTF-8 ---- */

static const struct xtext_row {
	const char	*in;
	int		 len;		/* -1: rejected */
	const char	*want;
} xtext_rows[] = {
	{ "", 0, "" },
	{ "abc", 3, "abc" },
	{ "a+2Bb", 3, "a+b" },
	{ "+20+7E", 2, " ~" },
	{ "a+0D+0Ab", -1, NULL },
	{ "+00", -1, NULL },
	{ "+09", -1, NULL },
	{ "+7F", -1, NULL },
	{ "+80", -1, NULL },
	{ "+2b", -1, NULL },
	{ "+2", -1, NULL },
	{ "+", -1, NULL },
	{ "+G0", -1, NULL },
	{ "a=b", -1, NULL },
	{ "a b", -1, NULL },
	{ "\xc3\xbc", -1, NULL },
};

static void
test_xtext(void **state)
{
	const struct xtext_row	*r;
	char			 out[64];
	size_t			 i;
	int			 n, bad = 0;

	for (i = 0; i < sizeof(xtext_rows) / sizeof(xtext_rows[0]); i++) {
		r = &xtext_rows[i];
		n = smtp_xtext_decode(r->in, out, sizeof(out));
		if (n != r->len || (n >= 0 && strcmp(out, r->want) != 0)) {
			print_error("xtext \"%s\": want %d, got %d\n",
			    printable(r->in, strlen(r->in)), r->len, n);
			bad++;
		}
	}
	/* bounded: "abcd" needs 5 bytes */
	assert_int_equal(smtp_xtext_decode("abcd", out, 4), -1);
	assert_int_equal(smtp_xtext_decode("abcd", out, 5), 4);
	assert_int_equal(smtp_xtext_decode("abcd", out, 0), -1);
	assert_int_equal(bad, 0);
}

static const struct utf8_row {
	const char	*s;
	int		 valid;
} utf8_rows[] = {
	{ "", 1 },
	{ "ascii", 1 },
	{ "\xc3\xbc", 1 },
	{ "\xe2\x82\xac", 1 },
	{ "\xf0\x9f\x93\xa7", 1 },
	{ "\xf4\x8f\xbf\xbf", 1 },		/* U+10FFFF */
	{ "\xed\x9f\xbf", 1 },			/* U+D7FF */
	{ "\xc0\x80", 0 },
	{ "\xc1\xbf", 0 },
	{ "\xe0\x80\xaf", 0 },
	{ "\xf0\x80\x80\xaf", 0 },
	{ "\xed\xa0\x80", 0 },
	{ "\xed\xbf\xbf", 0 },
	{ "\xf4\x90\x80\x80", 0 },		/* > U+10FFFF */
	{ "\xf5\x80\x80\x80", 0 },
	{ "\xff", 0 },
	{ "\x80", 0 },
	{ "\xc3", 0 },
	{ "\xe2\x82", 0 },
	{ "\xc3\x28", 0 },
};

static void
test_utf8(void **state)
{
	size_t	i;
	int	bad = 0;

	for (i = 0; i < sizeof(utf8_rows) / sizeof(utf8_rows[0]); i++) {
		if (smtp_utf8_valid(utf8_rows[i].s, strlen(utf8_rows[i].s)) !=
		    utf8_rows[i].valid) {
			print_error("utf8 \"%s\": want %d\n",
			    printable(utf8_rows[i].s, strlen(utf8_rows[i].s)),
			    utf8_rows[i].valid);
			bad++;
		}
	}
	/* the length is honoured: the truncated sequence is cut by len */
	assert_int_equal(smtp_utf8_valid("\xc3\xbc", 1), 0);
	assert_int_equal(bad, 0);
}

/* ---- property: CVE-2020-7247 class ---- */

/*
 * An independent check of what an accepted path may contain: an
 * RFC 5321 dot-string or quoted-string local part, and a domain of
 * letters, digits, hyphens and dots or a bracketed literal.  Nothing
 * else (no space, control, quote or shell metacharacter outside a
 * quoted string) may ever come out of the parser.
 */
static int
grammar_ok(const struct smtp_path *p, int rcpt)
{
	const char	*atext = "!#$%&'*+-/=?^_`{|}~.";
	const char	*s;
	size_t		 n;

	if (p->null)
		return !rcpt && p->local[0] == '\0' && p->domain[0] == '\0';
	if (p->local[0] == '\0' || strlen(p->local) > SMTP_LOCAL_MAX)
		return 0;
	if (p->domain[0] == '\0')
		return rcpt && strcasecmp(p->local, "postmaster") == 0;
	if (p->local[0] == '"') {
		n = strlen(p->local);
		if (n < 3 || p->local[n - 1] != '"')
			return 0;
		for (s = p->local + 1; s < p->local + n - 1; s++) {
			if (*s == '\\') {
				s++;
				if (*s < 32 || *s > 126)
					return 0;
			} else if (*s == '"' || *s < 32 || *s > 126)
				return 0;
		}
	} else {
		for (s = p->local; *s != '\0'; s++)
			if (!((*s >= 'a' && *s <= 'z') ||
			    (*s >= 'A' && *s <= 'Z') ||
			    (*s >= '0' && *s <= '9') || strchr(atext, *s)))
				return 0;
		if (strstr(p->local, "..") || p->local[0] == '.' ||
		    p->local[strlen(p->local) - 1] == '.')
			return 0;
	}
	s = p->domain;
	if (*s == '[')
		return strspn(s, "[]IPv6:0123456789abcdefABCDEF.") ==
		    strlen(s);
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.") == strlen(s) && strstr(s, "..") == NULL &&
	    s[0] != '.' && s[0] != '-';
}

static uint64_t	rng = 0x9e3779b97f4a7c15ULL;

static unsigned
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng >> 11);
}

static void
test_property(void **state)
{
	static const char	*alpha[] = {
		"a", "b", "Z", "0", "9", ".", "@", "<", ">", "\"", "\\", ";",
		" ", "|", "&", "`", "$", "(", ")", ",", ":", "[", "]", "-",
		"_", "+", "%", "!", "=", "\t", "\x01", "\x7f", "\xc3\xbc",
		"\xc0", "postmaster", "sleep 66", "IPv6:", "192.0.2.1",
		"b.example", "\r", "\n", "'", "/",
	};
	static const char	*frame[] = { "FROM:<", "TO:<", "FROM:<@x.y:",
		"TO:<\"", "FROM:<a@", "TO:<;" };
	struct smtp_reply_err	 err;
	struct smtp_path	 path;
	struct smtp_mail_params	 mp;
	struct smtp_rcpt_params	 rp;
	char			 buf[600];
	size_t			 i, o, nalpha = sizeof(alpha) / sizeof(alpha[0]);
	unsigned		 k, n, accepted = 0;
	int			 rcpt, rc, bad = 0;

	for (i = 0; i < 200000 && bad < 10; i++) {
		k = next_rand() % (sizeof(frame) / sizeof(frame[0]));
		rcpt = frame[k][0] == 'T';
		o = strlcpy(buf, frame[k] + (rcpt ? 3 : 5), sizeof(buf));
		n = next_rand() % 12;
		while (n-- > 0 && o + 20 < sizeof(buf))
			o = strlcat(buf, alpha[next_rand() % nalpha],
			    sizeof(buf));
		if (next_rand() % 4)
			strlcat(buf, ">", sizeof(buf));
		/* prefix back on */
		memmove(buf + (rcpt ? 3 : 5), buf, strlen(buf) + 1);
		memcpy(buf, rcpt ? "TO:" : "FROM:", rcpt ? 3 : 5);

		rc = rcpt ? smtp_parse_rcpt(buf, next_rand() % 2, &path, &rp,
		    &err) : smtp_parse_mail(buf, next_rand() % 2, &path, &mp,
		    &err);
		if (rc == -1) {
			if (err.code < 500 || err.enhanced == NULL ||
			    err.text == NULL) {
				print_error("bad reply for \"%s\"\n",
				    printable(buf, strlen(buf)));
				bad++;
			}
			continue;
		}
		accepted++;
		if (path.utf8)
			continue;	/* UTF-8 paths: checked by rows */
		if (!grammar_ok(&path, rcpt)) {
			print_error("accepted \"%s\" -> \"%s\" @ \"%s\"\n",
			    printable(buf, strlen(buf)),
			    printable(path.local, strlen(path.local)),
			    printable(path.domain, strlen(path.domain)));
			bad++;
		}
	}
	/* mutations of valid commands: one byte replaced or inserted */
	for (i = 0; i < 100000 && bad < 10; i++) {
		static const char	*seed[] = {
			"FROM:<first.last@b.example> SIZE=10",
			"TO:<\"v@x\"@relay.example> NOTIFY=NEVER",
			"TO:<postmaster>",
			"FROM:<@a.example:u@[192.0.2.1]>",
		};
		k = next_rand() % (sizeof(seed) / sizeof(seed[0]));
		rcpt = seed[k][0] == 'T';
		strlcpy(buf, seed[k], sizeof(buf));
		o = next_rand() % strlen(buf);
		if (next_rand() % 2)
			memmove(buf + o + 1, buf + o, strlen(buf + o) + 1);
		buf[o] = (char)(next_rand() % 255 + 1);
		rc = rcpt ? smtp_parse_rcpt(buf, 0, &path, &rp, &err) :
		    smtp_parse_mail(buf, 0, &path, &mp, &err);
		if (rc == -1)
			continue;
		accepted++;
		if (path.utf8 || !grammar_ok(&path, rcpt)) {
			print_error("accepted \"%s\" -> \"%s\" @ \"%s\"\n",
			    printable(buf, strlen(buf)),
			    printable(path.local, strlen(path.local)),
			    printable(path.domain, strlen(path.domain)));
			bad++;
		}
	}
	/* the generators must reach the accepting side too */
	print_message("property: %u accepted\n", accepted);
	assert_true(accepted > 1000);
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_mail),
		cmocka_unit_test(test_rcpt),
		cmocka_unit_test(test_helo),
		cmocka_unit_test(test_bdat),
		cmocka_unit_test(test_xtext),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_property),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
