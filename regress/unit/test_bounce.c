/*
 * queue/bounce.c: the DSN's structure (RFC 3464, RFC 6522: three parts,
 * CRLF only, no line over 998 octets), each action, ENVID and ORCPT
 * present or not, RET=HDRS/FULL/oversized originals, hostile values that
 * must never reach a header raw (SECURITY.md I3, I5), and the rules of
 * bounce_wanted() and bounce_is_auto() (M4).
 *
 * With BOUNCE_SAMPLE=<path> in the environment, one sample DSN is also
 * written there for regress/integration/test_bounce_format.py to parse
 * with Python's email package.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "smtp_parse.h"
#include "bounce.h"

#define NOW		1700000000LL	/* Tue, 14 Nov 2023 22:13:20 +0000 */
#define ARRIVAL		(NOW - 3600)
#define ORIG		"From: <a@example.org>\r\nTo: <b@example.net>\r\n" \
			"Subject: hello\r\n\r\nBody line one.\r\nBody two.\r\n"
#define MAXSTR		8

enum { O_SMALL, O_BIG, O_LF, O_8BIT, O_COLLIDE, O_NOBODY };

/* Escaped copy for failure messages (one at a time). */
static const char *
printable(const uint8_t *s, size_t n)
{
	static char	buf[512];
	size_t		i, o = 0;

	for (i = 0; i < n && o + 8 < sizeof(buf); i++) {
		if (s[i] < 0x20 || s[i] >= 0x7f || s[i] == '\\')
			o += snprintf(buf + o, sizeof(buf) - o, "\\x%02x",
			    s[i]);
		else
			buf[o++] = s[i];
	}
	if (i < n)
		o += snprintf(buf + o, sizeof(buf) - o, "...");
	buf[o] = '\0';
	return buf;
}

static void
params(struct bounce_params *p)
{
	size_t	i;

	memset(p, 0, sizeof(*p));
	p->hostname = "relay.example.com";
	p->sender = "alice@example.org";
	p->arrival = ARRIVAL;
	p->now = NOW;
	for (i = 0; i < BOUNCE_SEED_LEN; i++)
		p->seed[i] = (uint8_t)(0xa0 + i);
}

static const char	delim[] = "--a0a1a2a3a4a5a6a7a8a9aaabacadaeaf/sendgate";

static uint8_t *
original(int kind, size_t *len)
{
	static const char	lf[] = "Subject: lf\nX: y\n\nbody\nmore\n";
	static const char	eight[] = "Subject: 8\r\n\r\ncaf\xc3\xa9\r\n";
	static const char	nobody[] = "Subject: only\r\nX: y\r\n";
	uint8_t			*p;
	size_t			 i, o;

	switch (kind) {
	case O_BIG:
		*len = BOUNCE_ORIG_MAX + 100;
		if ((p = malloc(*len)) == NULL)
			fail_msg("malloc");
		o = strlen(ORIG);
		memcpy(p, ORIG, o);
		for (i = o; i < *len; i++)
			p[i] = (i - o) % 60 == 58 ? '\r' :
			    (i - o) % 60 == 59 ? '\n' : 'b';
		return p;
	case O_LF:
		*len = sizeof(lf) - 1;
		return (uint8_t *)strdup(lf);
	case O_8BIT:
		*len = sizeof(eight) - 1;
		return (uint8_t *)strdup(eight);
	case O_NOBODY:
		*len = sizeof(nobody) - 1;
		return (uint8_t *)strdup(nobody);
	case O_COLLIDE:
		*len = strlen(ORIG) + sizeof(delim) + 1;
		if ((p = malloc(*len + 1)) == NULL)
			fail_msg("malloc");
		snprintf((char *)p, *len + 1, "%s%s\r\n", ORIG, delim);
		return p;
	default:
		*len = strlen(ORIG);
		return (uint8_t *)strdup(ORIG);
	}
}

static const uint8_t *
find(const struct bounce_buf *b, const char *s)
{
	return memmem(b->p, b->len, s, strlen(s));
}

/*
 * The promises every DSN keeps: CRLF only, no line over 998, the top
 * header complete, three parts in order, nothing but printable ASCII,
 * TAB, CR and LF before the third part.
 */
static void
check_structure(const char *name, const struct bounce_buf *b, int full)
{
	static const char	*top[] = {
		"From: \"Mail Delivery System\" "
		    "<MAILER-DAEMON@relay.example.com>\r\n",
		"\r\nTo: <", "\r\nSubject: ",
		"\r\nDate: Tue, 14 Nov 2023 22:13:20 +0000\r\n",
		"\r\nMessage-ID: <", "\r\nMIME-Version: 1.0\r\n",
		"\r\nAuto-Submitted: auto-replied\r\n",
		"\r\nContent-Type: multipart/report; "
		    "report-type=delivery-status;\r\n\tboundary=\""
		    "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf/sendgate\"\r\n",
	};
	char		 part[256];
	const uint8_t	*hdr_end, *p1, *p2, *p3, *q;
	size_t		 i, line = 0;

	for (i = 0; i < b->len; i++) {
		if (b->p[i] == '\r' && (i + 1 == b->len || b->p[i + 1] != '\n'))
			fail_msg("%s: bare CR at %zu", name, i);
		if (b->p[i] == '\n' && (i == 0 || b->p[i - 1] != '\r'))
			fail_msg("%s: bare LF at %zu", name, i);
		if (b->p[i] == '\0')
			fail_msg("%s: NUL at %zu", name, i);
		if (b->p[i] == '\n')
			line = 0;
		else if (b->p[i] != '\r' && ++line > 998)
			fail_msg("%s: line over 998 at %zu", name, i);
	}
	if ((hdr_end = find(b, "\r\n\r\n")) == NULL)
		fail_msg("%s: no end of header", name);
	for (i = 0; i < sizeof(top) / sizeof(top[0]); i++)
		if ((q = find(b, top[i])) == NULL || q > hdr_end)
			fail_msg("%s: header lacks \"%s\"", name,
			    printable((const uint8_t *)top[i],
			    strlen(top[i])));
	snprintf(part, sizeof(part), "\r\n%s\r\nContent-Type: text/plain; "
	    "charset=us-ascii\r\n", delim);
	if ((p1 = find(b, part)) == NULL)
		fail_msg("%s: no text/plain part", name);
	snprintf(part, sizeof(part), "\r\n%s\r\nContent-Type: "
	    "message/delivery-status\r\n", delim);
	if ((p2 = find(b, part)) == NULL || p2 < p1)
		fail_msg("%s: no delivery-status second", name);
	snprintf(part, sizeof(part), "\r\n%s\r\nContent-Type: %s\r\n", delim,
	    full ? "message/rfc822" : "text/rfc822-headers");
	if ((p3 = find(b, part)) == NULL || p3 < p2)
		fail_msg("%s: no %s part third", name,
		    full ? "message/rfc822" : "text/rfc822-headers");
	snprintf(part, sizeof(part), "\r\n%s--\r\n", delim);
	if (b->len < strlen(part) ||
	    memcmp(b->p + b->len - strlen(part), part, strlen(part)) != 0)
		fail_msg("%s: does not end with the close delimiter", name);
	for (q = b->p; q < p3; q++)
		if ((*q < 0x20 || *q > 0x7e) && *q != '\r' && *q != '\n' &&
		    *q != '\t')
			fail_msg("%s: byte 0x%02x at %zu: \"%s\"", name, *q,
			    (size_t)(q - b->p), printable(q > b->p + 20 ?
			    q - 20 : b->p, 40));
	/* Our own DSN is recognized as automatic. */
	if (!bounce_is_auto(b->p, b->len))
		fail_msg("%s: own DSN not seen as automatic", name);
}

struct rcpt_row {
	const char	*addr, *orcpt_type, *orcpt;
	int		 action;
	const char	*status, *remote, *diag;
};

struct build_row {
	const char	*name;
	struct rcpt_row	 r[2];		/* second used when r[1].addr */
	int		 ret;
	const char	*envid;
	const char	*sender;	/* NULL: the default */
	const char	*hostname;	/* NULL: the default */
	int		 orig;		/* O_* */
	size_t		 max;		/* output cap, 0: default */
	const char	*why;		/* NULL: success */
	int		 full;		/* third part message/rfc822 */
	const char	*want[MAXSTR];
	const char	*never[MAXSTR];
};

#define F(a, st, mta, d)	{ "bob@example.net", NULL, NULL, BOUNCE_FAILED, \
				    st, mta, d }
#define LONGWORD	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define LONG10		LONGWORD LONGWORD LONGWORD LONGWORD LONGWORD \
			LONGWORD LONGWORD LONGWORD LONGWORD LONGWORD
#define WORDS		"550 5.1.1 this is a long sentence with words "
#define WORDS10		WORDS WORDS WORDS WORDS WORDS WORDS WORDS WORDS \
			WORDS WORDS

static const struct build_row build_rows[] = {
	{ "failed, whole message", { F(0, "5.1.1", "mx.example.net",
	    "550 5.1.1 no such user") }, 0, NULL, NULL, NULL, O_SMALL, 0,
	    NULL, 1,
	    { "Subject: Undelivered Mail Returned to Sender\r\n",
	      "\r\nReporting-MTA: dns; relay.example.com\r\n",
	      "\r\nArrival-Date: Tue, 14 Nov 2023 21:13:20 +0000\r\n",
	      "\r\n\r\nFinal-Recipient: rfc822; bob@example.net\r\n"
	      "Action: failed\r\nStatus: 5.1.1\r\n"
	      "Remote-MTA: dns; mx.example.net\r\n"
	      "Diagnostic-Code: smtp; 550 5.1.1 no such user\r\n"
	      "Last-Attempt-Date: Tue, 14 Nov 2023 22:13:20 +0000\r\n",
	      "<bob@example.net>: could not be delivered (5.1.1)\r\n"
	      "    mx.example.net said: 550 5.1.1 no such user\r\n",
	      "\r\nBody line one.\r\n", "To: <alice@example.org>\r\n" },
	    { "Will-Retry-Until", "Original-Envelope-Id",
	      "Original-Recipient", "Only the header",
	      "Content-Transfer-Encoding" } },
	{ "delayed", { { "bob@example.net", NULL, NULL, BOUNCE_DELAYED,
	    "4.4.1", "mx.example.net", "421 try later" } }, 0, NULL, NULL,
	    NULL, O_SMALL, 0, NULL, 0,
	    { "Subject: Delayed Mail (still being retried)\r\n",
	      "\r\nAction: delayed\r\nStatus: 4.4.1\r\n",
	      "\r\nWill-Retry-Until: Wed, 15 Nov 2023 22:13:20 +0000\r\n",
	      "Subject: hello\r\n" },
	    { "Body line" } },
	{ "delivered", { { "bob@example.net", NULL, NULL, BOUNCE_DELIVERED,
	    "2.0.0", "mx.example.net", "250 ok" } }, 0, NULL, NULL, NULL,
	    O_SMALL, 0, NULL, 0,
	    { "Subject: Successful Mail Delivery Report\r\n",
	      "\r\nAction: delivered\r\nStatus: 2.0.0\r\n" },
	    { "Body line", "Will-Retry-Until" } },
	{ "relayed", { { "bob@example.net", NULL, NULL, BOUNCE_RELAYED,
	    NULL, NULL, NULL } }, 0, NULL, NULL, NULL, O_SMALL, 0, NULL, 0,
	    { "Subject: Successful Mail Delivery Report\r\n",
	      "\r\nAction: relayed\r\nStatus: 2.0.0\r\n" },
	    { "Remote-MTA", "Diagnostic-Code", "Body line" } },
	{ "failed and delayed: failure subject", {
	    F(0, "5.1.1", NULL, NULL),
	    { "carol@example.net", NULL, NULL, BOUNCE_DELAYED, "4.4.1",
	      NULL, NULL } }, 0, NULL, NULL, NULL, O_SMALL, 0, NULL, 1,
	    { "Subject: Undelivered Mail Returned to Sender\r\n",
	      "Final-Recipient: rfc822; bob@example.net\r\n",
	      "Final-Recipient: rfc822; carol@example.net\r\n"
	      "Action: delayed\r\n" }, { NULL } },
	{ "envid xtext", { F(0, "5.1.1", NULL, NULL) }, 0, "id+1=2 x",
	    NULL, NULL, O_SMALL, 0, NULL, 1,
	    { "\r\nOriginal-Envelope-Id: id+2B1+3D2+20x\r\n" }, { NULL } },
	{ "envid empty", { F(0, "5.1.1", NULL, NULL) }, 0, "", NULL, NULL,
	    O_SMALL, 0, NULL, 1, { "Reporting-MTA" },
	    { "Original-Envelope-Id" } },
	{ "orcpt", { { "bob@example.net", "rfc822", "Bob+x@Example.NET",
	    BOUNCE_FAILED, "5.1.1", NULL, NULL } }, 0, NULL, NULL, NULL,
	    O_SMALL, 0, NULL, 1,
	    { "\r\n\r\nOriginal-Recipient: rfc822; Bob+x@Example.NET\r\n"
	      "Final-Recipient: rfc822; bob@example.net\r\n" }, { NULL } },
	{ "orcpt with a CR LF: xtext", { { "bob@example.net", "rfc822",
	    "a@b\r\nX-Evil: 1", BOUNCE_FAILED, "5.1.1", NULL, NULL } }, 0,
	    NULL, NULL, NULL, O_SMALL, 0, NULL, 1,
	    { "Original-Recipient: rfc822; a@b+0D+0AX-Evil:+201\r\n" },
	    { "\nX-Evil" } },
	{ "orcpt type hostile: left out", { { "bob@example.net",
	    "rfc822\r\nX-Evil: 1", "a@b", BOUNCE_FAILED, "5.1.1", NULL,
	    NULL } }, 0, NULL, NULL, NULL, O_SMALL, 0, NULL, 1,
	    { "Final-Recipient" }, { "Original-Recipient", "X-Evil" } },
	{ "RET=HDRS", { F(0, "5.1.1", NULL, NULL) }, SMTP_RET_HDRS, NULL,
	    NULL, NULL, O_SMALL, 0, NULL, 0,
	    { "Subject: hello\r\n", "Only the header of your message is "
	      "attached.\r\n" },
	    { "Body line", "larger than" } },
	{ "RET=FULL", { F(0, "5.1.1", NULL, NULL) }, SMTP_RET_FULL, NULL,
	    NULL, NULL, O_SMALL, 0, NULL, 1,
	    { "Subject: hello\r\n", "Body two.\r\n" },
	    { "Only the header" } },
	{ "oversized original: headers", { F(0, "5.1.1", NULL, NULL) },
	    SMTP_RET_FULL, NULL, NULL, NULL, O_BIG, 0, NULL, 0,
	    { "Subject: hello\r\n", "larger than", "1048576 octets" },
	    { "bbbbbbbbbb" } },
	{ "bare LF original made CRLF", { F(0, "5.1.1", NULL, NULL) }, 0,
	    NULL, NULL, NULL, O_LF, 0, NULL, 1,
	    { "Subject: lf\r\nX: y\r\n\r\nbody\r\nmore\r\n" }, { NULL } },
	{ "no body in original", { F(0, "5.1.1", NULL, NULL) },
	    SMTP_RET_HDRS, NULL, NULL, NULL, O_NOBODY, 0, NULL, 0,
	    { "Subject: only\r\nX: y\r\n" }, { NULL } },
	{ "8-bit original", { F(0, "5.1.1", NULL, NULL) }, 0, NULL, NULL,
	    NULL, O_8BIT, 0, NULL, 1,
	    { "\r\nContent-Transfer-Encoding: 8bit\r\n", "caf\xc3\xa9" }, { NULL } },
	{ "hostile diagnostic", { F(0, "5.1.1", "mx.example.net",
	    "550 no\r\nBcc: evil@x\r\n\r\n--x \x1b[31m\x7f\x80\x01 end\t") },
	    0, NULL, NULL, NULL, O_SMALL, 0, NULL, 1,
	    { "Diagnostic-Code: smtp; 550 no Bcc: evil@x --x "
	      "\\x1B[31m\\x7F\\x80\\x01 end\r\n" },
	    { "\nBcc", "\x1b", "\x7f", "\x80", "\x01" } },
	{ "hostile remote MTA", { F(0, "5.1.1",
	    "mx\r\nX-Evil: 1\x1b", "550 x") }, 0, NULL, NULL, NULL,
	    O_SMALL, 0, NULL, 1,
	    { "Remote-MTA: dns; mx+0D+0AX-Evil:+201+1B\r\n" },
	    { "\nX-Evil", "\x1b" } },
	{ "hostile recipient", { { "b\nX-Evil: 1@x", NULL, NULL,
	    BOUNCE_FAILED, "5.1.1", NULL, NULL } }, 0, NULL, NULL, NULL,
	    O_SMALL, 0, NULL, 1,
	    { "Final-Recipient: rfc822; b+0AX-Evil:+201@x\r\n" },
	    { "\nX-Evil" } },
	{ "bad status: the action's default", { F(0, "5.1.1\r\nX: y",
	    NULL, NULL) }, 0, NULL, NULL, NULL, O_SMALL, 0, NULL, 1,
	    { "Status: 5.0.0\r\n" }, { "\nX: y" } },
	{ "status out of form", { F(0, "5.1234.1", NULL, NULL) }, 0, NULL,
	    NULL, NULL, O_SMALL, 0, NULL, 1, { "Status: 5.0.0\r\n" }, { NULL } },
	{ "long word diagnostic: cut", { F(0, "5.1.1", NULL,
	    LONG10 LONG10 LONG10) }, 0, NULL, NULL, NULL, O_SMALL, 0, NULL,
	    1, { "aaa...\r\n" }, { NULL } },
	{ "long diagnostic folded", { F(0, "5.1.1", NULL, WORDS10) }, 0,
	    NULL, NULL, NULL, O_SMALL, 0, NULL, 1,
	    { "Diagnostic-Code: smtp; 550 5.1.1 this is a long sentence "
	      "with words 550 5.1.1\r\n this is" }, { NULL } },
	{ "null sender", { F(0, "5.1.1", NULL, NULL) }, 0, NULL, "", NULL,
	    O_SMALL, 0, "no DSN to the null sender", 0,
	    { NULL }, { NULL } },
	{ "sender with CR LF", { F(0, "5.1.1", NULL, NULL) }, 0, NULL,
	    "a@b\r\nBcc: c@d", NULL, O_SMALL, 0,
	    "sender not fit for a header", 0,
	    { NULL }, { NULL } },
	{ "host name with a space", { F(0, "5.1.1", NULL, NULL) }, 0, NULL,
	    NULL, "relay example", O_SMALL, 0,
	    "host name not fit for a header", 0,
	    { NULL }, { NULL } },
	{ "unknown action", { { "bob@example.net", NULL, NULL, 9, NULL, NULL,
	    NULL } }, 0, NULL, NULL, NULL, O_SMALL, 0, "unknown action", 0,
	    { NULL }, { NULL } },
	{ "over the output cap", { F(0, "5.1.1", NULL, NULL) }, 0, NULL,
	    NULL, NULL, O_SMALL, 200, "report over its size cap", 0,
	    { NULL }, { NULL } },
	{ "boundary in the original", { F(0, "5.1.1", NULL, NULL) }, 0,
	    NULL, NULL, NULL, O_COLLIDE, 0, "boundary found in the content", 0,
	    { NULL }, { NULL } },
};

static size_t
rcpts(const struct build_row *t, struct bounce_rcpt r[2])
{
	size_t	i, n = t->r[1].addr != NULL ? 2 : 1;

	memset(r, 0, 2 * sizeof(r[0]));
	for (i = 0; i < n; i++) {
		r[i].addr = t->r[i].addr;
		r[i].orcpt_type = t->r[i].orcpt_type;
		r[i].orcpt = t->r[i].orcpt;
		r[i].action = t->r[i].action;
		r[i].status = t->r[i].status;
		r[i].remote_mta = t->r[i].remote;
		r[i].diagnostic = t->r[i].diag;
		r[i].last_attempt = NOW;
		r[i].will_retry_until = NOW + 86400;
	}
	return n;
}

static void
test_build_table(void **state)
{
	const struct build_row	*t;
	struct bounce_params	 p;
	struct bounce_rcpt	 r[2];
	struct bounce_buf	 b, again;
	uint8_t			*orig;
	size_t			 i, j, n, olen;
	const char		*why;
	int			 rc;

	for (i = 0; i < sizeof(build_rows) / sizeof(build_rows[0]); i++) {
		t = &build_rows[i];
		params(&p);
		p.ret = t->ret;
		p.envid = t->envid;
		if (t->sender != NULL)
			p.sender = t->sender;
		if (t->hostname != NULL)
			p.hostname = t->hostname;
		n = rcpts(t, r);
		orig = original(t->orig, &olen);
		bounce_buf_init(&b, t->max);
		why = NULL;
		rc = bounce_build(&p, r, n, orig, olen, &b, &why);
		if (t->why != NULL) {
			if (rc != -1 || why == NULL || strcmp(why, t->why) != 0)
				fail_msg("%s: want \"%s\", got %d \"%s\"",
				    t->name, t->why, rc, why ? why : "");
			goto next;
		}
		if (rc != 0)
			fail_msg("%s: failed: %s", t->name, why);
		check_structure(t->name, &b, t->full);
		for (j = 0; j < MAXSTR && t->want[j] != NULL; j++)
			if (find(&b, t->want[j]) == NULL)
				fail_msg("%s: lacks \"%s\"", t->name,
				    printable((const uint8_t *)t->want[j],
				    strlen(t->want[j])));
		for (j = 0; j < MAXSTR && t->never[j] != NULL; j++)
			if (find(&b, t->never[j]) != NULL)
				fail_msg("%s: holds \"%s\"", t->name,
				    printable((const uint8_t *)t->never[j],
				    strlen(t->never[j])));
		/* Deterministic: the same input, the same bytes. */
		bounce_buf_init(&again, 0);
		if (bounce_build(&p, r, n, orig, olen, &again, &why) != 0 ||
		    again.len != b.len || memcmp(again.p, b.p, b.len) != 0)
			fail_msg("%s: a second build differs", t->name);
		bounce_buf_free(&again);
 next:
		bounce_buf_free(&b);
		free(orig);
	}
}

/* Every byte value in every field: the structure holds. */
static void
test_build_all_bytes(void **state)
{
	struct bounce_params	 p;
	struct bounce_rcpt	 r;
	struct bounce_buf	 b;
	char			 v[256];
	uint8_t			*orig;
	size_t			 olen;
	const char		*why;
	int			 c;

	orig = original(O_SMALL, &olen);
	for (c = 1; c < 256; c++) {
		snprintf(v, sizeof(v), "x%cy@z%c", c, c);
		params(&p);
		p.envid = v;
		memset(&r, 0, sizeof(r));
		r.addr = v;
		r.orcpt_type = "rfc822";
		r.orcpt = v;
		r.action = BOUNCE_FAILED;
		r.status = v;
		r.remote_mta = v;
		r.diagnostic = v;
		r.last_attempt = NOW;
		bounce_buf_init(&b, 0);
		if (bounce_build(&p, &r, 1, orig, olen, &b, &why) != 0)
			fail_msg("byte 0x%02x: %s", c, why);
		check_structure(v, &b, 1);
		bounce_buf_free(&b);
	}
	free(orig);
}

struct wanted_row {
	const char	*sender;
	int		 notify, action, is_auto, want;
};

#define N_S	SMTP_NOTIFY_SUCCESS
#define N_F	SMTP_NOTIFY_FAILURE
#define N_D	SMTP_NOTIFY_DELAY
#define N_N	SMTP_NOTIFY_NEVER

static const struct wanted_row wanted_rows[] = {
	{ "a@b", 0, BOUNCE_FAILED, 0, 1 },
	{ "a@b", 0, BOUNCE_DELAYED, 0, 1 },
	{ "a@b", 0, BOUNCE_DELIVERED, 0, 0 },
	{ "a@b", 0, BOUNCE_RELAYED, 0, 0 },
	{ "", 0, BOUNCE_FAILED, 0, 0 },
	{ "", N_F | N_D | N_S, BOUNCE_FAILED, 0, 0 },
	{ "", N_S, BOUNCE_DELIVERED, 0, 0 },
	{ NULL, 0, BOUNCE_FAILED, 0, 0 },
	{ "a@b", 0, BOUNCE_FAILED, 1, 0 },
	{ "a@b", N_F, BOUNCE_FAILED, 1, 0 },
	{ "a@b", N_N, BOUNCE_FAILED, 0, 0 },
	{ "a@b", N_N, BOUNCE_DELAYED, 0, 0 },
	{ "a@b", N_N, BOUNCE_DELIVERED, 0, 0 },
	{ "a@b", N_F, BOUNCE_FAILED, 0, 1 },
	{ "a@b", N_F, BOUNCE_DELAYED, 0, 0 },
	{ "a@b", N_F, BOUNCE_DELIVERED, 0, 0 },
	{ "a@b", N_D, BOUNCE_FAILED, 0, 0 },
	{ "a@b", N_D, BOUNCE_DELAYED, 0, 1 },
	{ "a@b", N_S, BOUNCE_FAILED, 0, 0 },
	{ "a@b", N_S, BOUNCE_DELIVERED, 0, 1 },
	{ "a@b", N_S, BOUNCE_RELAYED, 0, 1 },
	{ "a@b", N_F | N_D, BOUNCE_DELAYED, 0, 1 },
	{ "a@b", N_F | N_D, BOUNCE_DELIVERED, 0, 0 },
	{ "a@b", N_F | N_S, BOUNCE_FAILED, 0, 1 },
	{ "a@b", N_F | N_S, BOUNCE_DELIVERED, 0, 1 },
	{ "a@b", N_F | N_S, BOUNCE_DELAYED, 0, 0 },
	{ "a@b", N_F, 0, 0, 0 },
	{ "a@b", 0, 9, 0, 0 },
};

static void
test_wanted_table(void **state)
{
	const struct wanted_row	*t;
	size_t			 i;
	int			 got;

	for (i = 0; i < sizeof(wanted_rows) / sizeof(wanted_rows[0]); i++) {
		t = &wanted_rows[i];
		got = bounce_wanted(t->sender, t->notify, t->action,
		    t->is_auto);
		if (got != t->want)
			fail_msg("row %zu: sender \"%s\" notify 0x%x action %d "
			    "auto %d: want %d, got %d", i,
			    t->sender ? t->sender : "(null)", t->notify,
			    t->action, t->is_auto, t->want, got);
	}
}

struct auto_row {
	const char	*msg;
	int		 want;
};

static const struct auto_row auto_rows[] = {
	{ "Subject: x\r\n\r\nbody\r\n", 0 },
	{ "", 0 },
	{ "Auto-Submitted: auto-replied\r\n\r\n", 1 },
	{ "Auto-Submitted: auto-generated; owner-email=a@b\r\n\r\n", 1 },
	{ "Auto-Submitted: auto-notified\r\n", 1 },
	{ "Auto-Submitted: no\r\n\r\n", 0 },
	{ "auto-submitted:   NO\r\n\r\n", 0 },
	{ "Auto-Submitted: (human) no (really)\r\n\r\n", 0 },
	{ "Auto-Submitted: nope\r\n\r\n", 1 },
	{ "Auto-Submitted:\r\n auto-replied\r\n\r\n", 1 },
	{ "Auto-Submitted :auto-replied\r\n\r\n", 1 },
	{ "X-Auto-Submitted: yes\r\n\r\n", 0 },
	{ "Subject: Auto-Submitted: yes\r\n\r\n", 0 },
	{ "Subject: x\r\n\r\nAuto-Submitted: yes\r\n", 0 },
	{ "Subject: x\n\nAuto-Submitted: yes\n", 0 },
	{ "Subject: x\nAuto-Submitted: yes\n\n", 1 },
	{ "Subject: x\r\nAuto-Submitted: yes", 1 },
	{ "Content-Type: multipart/report; report-type=delivery-status; "
	  "boundary=x\r\n\r\n", 1 },
	{ "content-type: Multipart/Report;\r\n\tboundary=\"a;b\";\r\n"
	  " report-type=\"Delivery-Status\"\r\n\r\n", 1 },
	{ "Content-Type: multipart/report; boundary=\"x\"; report-type = "
	  "delivery-status\r\n\r\n", 1 },
	{ "Content-Type: multipart/report; "
	  "report-type=disposition-notification\r\n\r\n", 0 },
	{ "Content-Type: multipart/report\r\n\r\n", 0 },
	{ "Content-Type: multipart/mixed; report-type=delivery-status\r\n"
	  "\r\n", 0 },
	{ "Content-Type: multipart/reportx; report-type=delivery-status\r\n"
	  "\r\n", 0 },
	{ "Content-Type: multipart/report; x-report-type=delivery-status\r\n"
	  "\r\n", 0 },
	{ "Content-Type: text/plain\r\n\r\nContent-Type: multipart/report; "
	  "report-type=delivery-status\r\n", 0 },
};

static void
test_is_auto_table(void **state)
{
	const struct auto_row	*t;
	size_t			 i;
	int			 got;

	for (i = 0; i < sizeof(auto_rows) / sizeof(auto_rows[0]); i++) {
		t = &auto_rows[i];
		got = bounce_is_auto((const uint8_t *)t->msg, strlen(t->msg));
		if (got != t->want)
			fail_msg("\"%s\": want %d, got %d",
			    printable((const uint8_t *)t->msg, strlen(t->msg)),
			    t->want, got);
	}
}

/* A NUL inside a header line does not hide what follows it. */
static void
test_is_auto_nul(void **state)
{
	static const char	m[] = "X: a\0b\r\nAuto-Submitted: yes\0\r\n\r\n";

	assert_int_equal(bounce_is_auto((const uint8_t *)m, sizeof(m) - 1),
	    1);
}

/* For regress/integration/test_bounce_format.py. */
/*
 * dkim domain: From: MAILER-DAEMON@ that domain, the reporting MTA and
 * the Message-ID still the host name; a domain unfit for a header is
 * refused like a bad host name.
 */
static void
test_from_domain(void **state)
{
	struct bounce_params	 p;
	struct bounce_rcpt	 r;
	struct bounce_buf	 b;
	const char		*why = NULL, *msg = "Subject: x\r\n\r\nhi\r\n";

	params(&p);
	memset(&r, 0, sizeof(r));
	r.addr = "bob@example.net";
	r.action = BOUNCE_FAILED;
	r.status = "5.1.1";
	p.from_domain = "own.example";
	bounce_buf_init(&b, 0);
	if (bounce_build(&p, &r, 1, (const uint8_t *)msg, strlen(msg), &b,
	    &why) != 0)
		fail_msg("build: %s", why);
	assert_non_null(memmem(b.p, b.len, "From: \"Mail Delivery System\" "
	    "<MAILER-DAEMON@own.example>\r\n", 58));
	assert_non_null(memmem(b.p, b.len, "Reporting-MTA: dns; "
	    "relay.example.com\r\n", 39));
	assert_non_null(memmem(b.p, b.len, ".bounce@relay.example.com>", 26));
	p.from_domain = "own example";
	assert_int_equal(bounce_build(&p, &r, 1, (const uint8_t *)msg,
	    strlen(msg), &b, &why), -1);
	bounce_buf_free(&b);
}

static void
test_write_sample(void **state)
{
	struct bounce_params	 p;
	struct bounce_rcpt	 r[2];
	struct bounce_buf	 b;
	const char		*path, *why;
	FILE			*f;

	if ((path = getenv("BOUNCE_SAMPLE")) == NULL)
		skip();
	params(&p);
	p.envid = "QQ314159";
	memset(r, 0, sizeof(r));
	r[0].addr = "bob@example.net";
	r[0].orcpt_type = "rfc822";
	r[0].orcpt = "Bob@Example.NET";
	r[0].action = BOUNCE_FAILED;
	r[0].status = "5.1.1";
	r[0].remote_mta = "mx.example.net";
	r[0].diagnostic = "550-5.1.1 no such user\r\n550 5.1.1 " WORDS10;
	r[0].last_attempt = NOW;
	r[1].addr = "carol@example.net";
	r[1].action = BOUNCE_DELAYED;
	r[1].status = "4.4.1";
	r[1].diagnostic = "421 \x1b[31mtry\r\nX-Evil: later";
	r[1].last_attempt = NOW;
	r[1].will_retry_until = NOW + 86400;
	bounce_buf_init(&b, 0);
	if (bounce_build(&p, r, 2, (const uint8_t *)ORIG, strlen(ORIG), &b,
	    &why) != 0)
		fail_msg("sample: %s", why);
	if ((f = fopen(path, "wb")) == NULL ||
	    fwrite(b.p, 1, b.len, f) != b.len || fclose(f) != 0)
		fail_msg("cannot write %s", path);
	bounce_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_build_table),
		cmocka_unit_test(test_build_all_bytes),
		cmocka_unit_test(test_wanted_table),
		cmocka_unit_test(test_is_auto_table),
		cmocka_unit_test(test_is_auto_nul),
		cmocka_unit_test(test_from_domain),
		cmocka_unit_test(test_write_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
