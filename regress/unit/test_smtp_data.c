/*
 * smtpd/smtp_data.c: DATA framing and its smuggling variants (SECURITY.md
 * F1), dot-unstuffing, BDAT pass-through (B4), line, NUL, size and header
 * limits (F5, F6, M1, M2, M3), the header facts the session reads, and
 * the From: mailbox parser (R2).  Every framing row is fed in one chunk,
 * byte by byte and with a two-byte output buffer; the three results must
 * be identical.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "smtp_data.h"

struct bytes {
	const char	*p;
	size_t		 n;
};

#define B(s)		{ (s), sizeof(s) - 1 }
#define NONE		{ NULL, 0 }
#define DEFAULT_MAX	(64ULL * 1024 * 1024)

#define X10		"xxxxxxxxxx"
#define X50		X10 X10 X10 X10 X10
/* 64-octet header lines: 16384 of them are exactly 1 MiB. */
#define HDR64		"Subject: " X50 "xxx" "\r\n"
#define CONT64		" " X50 X10 "x" "\r\n"

#define TRAILER		"RCPT TO:<z@y>\r\n"
#define SMUGGLED	"MAIL FROM:<evil@x>\r\n"

/* Escaped copy for failure messages (one at a time). */
static const char *
printable(const char *s, size_t n)
{
	static char	buf[256];
	size_t		i, o = 0;

	for (i = 0; i < n && o + 8 < sizeof(buf); i++) {
		unsigned char	c = s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
		else
			buf[o++] = c;
	}
	if (i < n)
		o += snprintf(buf + o, sizeof(buf) - o, "...");
	buf[o] = '\0';
	return buf;
}

struct input {
	uint8_t		*p;
	size_t		 n;
	size_t		 trailer_at;	/* where the session's bytes start */
};

/* pre + rep * rep_n + post + trailer, in one allocation. */
static void
build(struct input *in, struct bytes pre, struct bytes rep, size_t rep_n,
    struct bytes post, struct bytes trailer)
{
	size_t	i, o = 0;

	in->n = pre.n + rep.n * rep_n + post.n + trailer.n;
	if ((in->p = malloc(in->n + 1)) == NULL)
		fail_msg("malloc");
	if (pre.n > 0)
		memcpy(in->p + o, pre.p, pre.n);
	o += pre.n;
	for (i = 0; i < rep_n; i++) {
		memcpy(in->p + o, rep.p, rep.n);
		o += rep.n;
	}
	if (post.n > 0)
		memcpy(in->p + o, post.p, post.n);
	o += post.n;
	in->trailer_at = o;
	if (trailer.n > 0)
		memcpy(in->p + o, trailer.p, trailer.n);
}

struct result {
	struct smtp_data		 d;
	size_t				 consumed;
	uint8_t				*out;
	size_t				 outlen;
	const struct smtp_data_err	*verdict;
};

enum { M_WHOLE, M_BYTES, M_SMALLOUT, M_COUNT };
static const char *mode_name[] = { "one chunk", "byte by byte", "outcap 2" };

static void
run(const struct input *in, uint64_t max, int bdat, int mode,
    struct result *r)
{
	size_t	pos = 0, chunk, cap, n, w;

	smtp_data_init(&r->d, max, bdat);
	if ((r->out = malloc(in->n + SMTP_DATA_OUT_MIN)) == NULL)
		fail_msg("malloc");
	r->outlen = 0;
	while (pos < in->n) {
		chunk = mode == M_BYTES ? 1 : in->n - pos;
		cap = in->n + SMTP_DATA_OUT_MIN - r->outlen;
		if (mode == M_SMALLOUT && cap > SMTP_DATA_OUT_MIN)
			cap = SMTP_DATA_OUT_MIN;
		n = smtp_data_feed(&r->d, in->p + pos, chunk,
		    r->out + r->outlen, cap, &w);
		if (w > cap)
			fail_msg("wrote %zu into %zu", w, cap);
		r->outlen += w;
		pos += n;
		if (n == 0)
			break;
	}
	r->consumed = pos;
	if (bdat)
		smtp_data_bdat_end(&r->d);
	r->verdict = smtp_data_verdict(&r->d);
}

static void
check_verdict(const char *name, const char *mode,
    const struct smtp_data_err *got, int code, const char *enh)
{
	if (code == 0) {
		if (got != NULL)
			fail_msg("%s (%s): want acceptance, got %d %s %s",
			    name, mode, got->code, got->enhanced, got->text);
		return;
	}
	if (got == NULL)
		fail_msg("%s (%s): want %d %s, got acceptance", name, mode,
		    code, enh);
	if (got->code != code || strcmp(got->enhanced, enh) != 0)
		fail_msg("%s (%s): want %d %s, got %d %s", name, mode, code,
		    enh, got->code, got->enhanced);
}

/* The three feeding modes must agree on everything. */
static void
check_same(const char *name, const struct result *a, const struct result *b,
    const char *mode)
{
	if (a->consumed != b->consumed || a->outlen != b->outlen ||
	    memcmp(a->out, b->out, a->outlen) != 0 ||
	    a->verdict != b->verdict ||
	    smtp_data_done(&a->d) != smtp_data_done(&b->d) ||
	    a->d.fields != b->d.fields ||
	    a->d.received_count != b->d.received_count ||
	    a->d.from_count != b->d.from_count ||
	    strcmp(a->d.from.value, b->d.from.value) != 0)
		fail_msg("%s: %s differs from one chunk (consumed %zu/%zu, "
		    "out %zu/%zu)", name, mode, b->consumed, a->consumed,
		    b->outlen, a->outlen);
}

struct frame_row {
	const char	*name;
	struct bytes	 pre, rep;
	size_t		 rep_n;
	struct bytes	 post, trailer;
	uint64_t	 max;		/* 0: DEFAULT_MAX */
	int		 bdat;
	int		 code;		/* 0: accepted */
	const char	*enh;
	struct bytes	 out;		/* NULL: not compared */
	const char	*in_body;	/* must be in the stored bytes */
};

/* Runs a row in every mode; r[M_WHOLE] is left for further checks. */
static void
run_row(const struct frame_row *t, struct result r[M_COUNT],
    struct input *in)
{
	uint64_t	max = t->max ? t->max : DEFAULT_MAX;
	int		m;

	build(in, t->pre, t->rep, t->rep_n, t->post, t->trailer);
	for (m = 0; m < M_COUNT; m++) {
		run(in, max, t->bdat, m, &r[m]);
		if (!smtp_data_done(&r[m].d))
			fail_msg("%s (%s): end not reached", t->name,
			    mode_name[m]);
		if (r[m].consumed != in->trailer_at)
			fail_msg("%s (%s): consumed %zu, the real end is at "
			    "%zu; left: \"%s\"", t->name, mode_name[m],
			    r[m].consumed, in->trailer_at,
			    printable((char *)in->p + r[m].consumed,
			    in->n - r[m].consumed));
		check_verdict(t->name, mode_name[m], r[m].verdict, t->code,
		    t->enh);
		if (r[m].outlen > max)
			fail_msg("%s (%s): stored %zu over the limit %llu",
			    t->name, mode_name[m], r[m].outlen,
			    (unsigned long long)max);
		if (m > 0)
			check_same(t->name, &r[0], &r[m], mode_name[m]);
	}
}

static void
free_row(struct result r[M_COUNT], struct input *in)
{
	int	m;

	for (m = 0; m < M_COUNT; m++)
		free(r[m].out);
	free(in->p);
}

static void
check_rows(const struct frame_row *rows, size_t nrows)
{
	struct result	 r[M_COUNT];
	struct input	 in;
	size_t		 i;

	for (i = 0; i < nrows; i++) {
		const struct frame_row	*t = &rows[i];

		run_row(t, r, &in);
		if (t->out.p != NULL && (r[0].outlen != t->out.n ||
		    memcmp(r[0].out, t->out.p, t->out.n) != 0)) {
			char	want[256];

			snprintf(want, sizeof(want), "%s",
			    printable(t->out.p, t->out.n));
			fail_msg("%s: stored \"%s\", want \"%s\"", t->name,
			    printable((char *)r[0].out, r[0].outlen), want);
		}
		if (t->in_body != NULL && memmem(r[0].out, r[0].outlen,
		    t->in_body, strlen(t->in_body)) == NULL)
			fail_msg("%s: \"%s\" is not inside the stored body",
			    t->name, printable(t->in_body,
			    strlen(t->in_body)));
		free_row(r, &in);
	}
}

/*
 * F1: each smuggling sequence, then a smuggled command, then the real
 * end, then the session's next command which must be left unconsumed.
 */
#define SMUG(seq, code, enh)						\
	{ "F1 " #seq, B("From: a@example.com\r\n\r\nhello"), NONE, 0,	\
	    B(seq SMUGGLED "\r\n.\r\n"), B(TRAILER), 0, 0, code, enh,	\
	    NONE, SMUGGLED }

static const struct frame_row smuggling_rows[] = {
	SMUG("\n.\n", 550, "5.5.2"),
	SMUG("\n.\r\n", 550, "5.5.2"),
	SMUG("\r\n.\n", 550, "5.5.2"),
	SMUG("\r.\r\n", 550, "5.5.2"),
	SMUG("\r\n.\r", 550, "5.5.2"),
	SMUG("\r.\r", 550, "5.5.2"),
	SMUG("\r.\n", 550, "5.5.2"),
	SMUG("\n.\r", 550, "5.5.2"),
	/* No bare CR or LF here: the NUL (F6) is what rejects it. */
	SMUG("\r\n\0.\r\n", 554, "5.6.0"),
	/* The same at the very start of the body and of the message. */
	{ "F1 bare LF dot at message start", B("\n.\n"), NONE, 0,
	    B(SMUGGLED "\r\n.\r\n"), B(TRAILER), 0, 0, 550, "5.5.2",
	    NONE, SMUGGLED },
	{ "F1 dot CR then smuggled", B("A: b\r\n\r\n.\r"), NONE, 0,
	    B(SMUGGLED ".\r\n"), B(TRAILER), 0, 0, 550, "5.5.2",
	    NONE, SMUGGLED },
};

static void
test_smuggling(void **state)
{
	check_rows(smuggling_rows,
	    sizeof(smuggling_rows) / sizeof(smuggling_rows[0]));
}

static const struct frame_row frame_rows[] = {
	{ "plain", B("From: a@b.example\r\n\r\nhi\r\n.\r\n"), NONE, 0,
	    NONE, B(TRAILER), 0, 0, 0, NULL,
	    B("From: a@b.example\r\n\r\nhi\r\n"), NULL },
	{ "empty message", B(".\r\n"), NONE, 0, NONE, B(TRAILER), 0, 0,
	    0, NULL, B(""), NULL },
	{ "stuffed dot", B("A: b\r\n\r\n..x\r\n.\r\n"), NONE, 0, NONE,
	    NONE, 0, 0, 0, NULL, B("A: b\r\n\r\n.x\r\n"), NULL },
	{ "line of one stuffed dot", B("A: b\r\n\r\n..\r\n.\r\n"), NONE, 0,
	    NONE, NONE, 0, 0, 0, NULL, B("A: b\r\n\r\n.\r\n"), NULL },
	{ "two stuffed dots", B("A: b\r\n\r\n...\r\n.\r\n"), NONE, 0,
	    NONE, NONE, 0, 0, 0, NULL, B("A: b\r\n\r\n..\r\n"), NULL },
	{ "unstuffed leading dot dropped", B("A: b\r\n\r\n.x\r\n.\r\n"),
	    NONE, 0, NONE, NONE, 0, 0, 0, NULL, B("A: b\r\n\r\nx\r\n"),
	    NULL },
	{ "dot inside a line", B("A: b\r\n\r\na.\r\nb..c\r\n.\r\n"), NONE,
	    0, NONE, NONE, 0, 0, 0, NULL, B("A: b\r\n\r\na.\r\nb..c\r\n"),
	    NULL },
	{ "end right after the header", B("A: b\r\n.\r\n"), NONE, 0,
	    NONE, B(TRAILER), 0, 0, 0, NULL, B("A: b\r\n"), NULL },
	{ "dot line then more is not the end", B("A: b\r\n\r\n. \r\n"),
	    NONE, 0, B("x\r\n.\r\n"), NONE, 0, 0, 0, NULL,
	    B("A: b\r\n\r\n \r\nx\r\n"), NULL },
	{ "line 998", B("A: b\r\n\r\n"), B("x"), 998, B("\r\n.\r\n"),
	    NONE, 0, 0, 0, NULL, NONE, NULL },
	{ "line 999", B("A: b\r\n\r\n"), B("x"), 999, B("\r\n.\r\n"),
	    NONE, 0, 0, 550, "5.6.0", NONE, NULL },
	{ "stuffed line 998", B("A: b\r\n\r\n."), B("."), 998,
	    B("\r\n.\r\n"), NONE, 0, 0, 0, NULL, NONE, NULL },
	{ "header line 999", B("A: "), B("x"), 996, B("\r\n\r\n.\r\n"),
	    NONE, 0, 0, 550, "5.6.0", NONE, NULL },
	{ "1 MiB line without CRLF", B("A: b\r\n\r\n"), B("x"), 1 << 20,
	    B("\r\n.\r\n"), B(TRAILER), 0, 0, 550, "5.6.0", NONE, NULL },
	{ "NUL in body", B("A: b\r\n\r\nx\0y\r\n.\r\n"), NONE, 0, NONE,
	    NONE, 0, 0, 554, "5.6.0", NONE, NULL },
	{ "NUL in header", B("A: b\0\r\n\r\nx\r\n.\r\n"), NONE, 0, NONE,
	    NONE, 0, 0, 554, "5.6.0", NONE, NULL },
	{ "size at the limit", B("A: b\r\n\r\n0123456789\r\n.\r\n"), NONE,
	    0, NONE, B(TRAILER), 20, 0, 0, NULL,
	    B("A: b\r\n\r\n0123456789\r\n"), NULL },
	{ "size one over", B("A: b\r\n\r\n0123456789\r\n.\r\n"), NONE, 0,
	    NONE, B(TRAILER), 19, 0, 552, "5.3.4",
	    B("A: b\r\n\r\n0123456789\r"), NULL },
	/* The limit inside a run of body octets copied in one go. */
	{ "size limit inside a body line", B("A: b\r\n\r\n"), B("x"), 100,
	    B("\r\n.\r\n"), B(TRAILER), 50, 0, 552, "5.3.4",
	    B("A: b\r\n\r\n" X10 X10 X10 X10 "xx"), NULL },
	{ "size far over, still read to the end", B("A: b\r\n\r\n"),
	    B("0123456789\r\n"), 10000, B(".\r\n"), B(TRAILER), 100, 0,
	    552, "5.3.4", NONE, NULL },
	{ "bare CR wins over size", B("A: b\r\n\r\nx\ry\r\n.\r\n"), NONE,
	    0, NONE, NONE, 5, 0, 550, "5.5.2", NONE, NULL },
	{ "header exactly 1 MiB", B(HDR64), B(CONT64), 16383,
	    B("\r\nbody\r\n.\r\n"), NONE, 0, 0, 0, NULL, NONE, NULL },
	{ "header 1 MiB + 64", B(HDR64), B(CONT64), 16384,
	    B("\r\nbody\r\n.\r\n"), NONE, 0, 0, 552, "5.3.4", NONE, NULL },
	{ "1000 fields", NONE, B("X-A: b\r\n"), 1000, B("\r\n.\r\n"), NONE,
	    0, 0, 0, NULL, NONE, NULL },
	{ "1001 fields", NONE, B("X-A: b\r\n"), 1001, B("\r\n.\r\n"), NONE,
	    0, 0, 554, "5.6.0", NONE, NULL },
	{ "100 000 fields", NONE, B("X-A: b\r\n"), 100000, B("\r\n.\r\n"),
	    B(TRAILER), 0, 0, 554, "5.6.0", NONE, NULL },
	{ "100 Received", NONE, B("Received: x\r\n"), 100,
	    B("\r\nb\r\n.\r\n"), NONE, 0, 0, 0, NULL, NONE, NULL },
	{ "101 Received", NONE, B("Received: x\r\n"), 101,
	    B("\r\nb\r\n.\r\n"), NONE, 0, 0, 554, "5.4.6", NONE, NULL },
	{ "first header line starts with SP", B(" A: b\r\n\r\nx\r\n.\r\n"),
	    NONE, 0, NONE, NONE, 0, 0, 554, "5.6.0", NONE, NULL },
	{ "first header line starts with TAB",
	    B("\tA: b\r\nB: c\r\n\r\nx\r\n.\r\n"), NONE, 0, NONE, NONE, 0,
	    0, 554, "5.6.0", NONE, NULL },
	{ "continuation line is fine", B("A: b\r\n\tc\r\n\r\nx\r\n.\r\n"),
	    NONE, 0, NONE, NONE, 0, 0, 0, NULL, NONE, NULL },
	{ "header line without colon", B("A: b\r\nfoo\r\n\r\nx\r\n.\r\n"),
	    NONE, 0, NONE, NONE, 0, 0, 554, "5.6.0", NONE, NULL },
	{ "body without header", B("hello world\r\n.\r\n"), NONE, 0, NONE,
	    NONE, 0, 0, 554, "5.6.0", NONE, NULL },
	{ "space before colon", B("Subject : x\r\n\r\n.\r\n"), NONE, 0,
	    NONE, NONE, 0, 0, 554, "5.6.0", NONE, NULL },
	{ "empty field name", B(": x\r\n\r\n.\r\n"), NONE, 0, NONE, NONE,
	    0, 0, 554, "5.6.0", NONE, NULL },
	{ "colon-less line after the header is body",
	    B("A: b\r\n\r\nno colon\r\n\tx\r\n.\r\n"), NONE, 0, NONE, NONE,
	    0, 0, 0, NULL, NONE, NULL },

	/* BDAT (B4): byte-exact, no end detection, bare LF rejected. */
	{ "BDAT keeps CRLF.CRLF and dots",
	    B("A: b\r\n\r\nx\r\n.\r\n..y\r\n"), NONE, 0, NONE, NONE, 0, 1,
	    0, NULL, B("A: b\r\n\r\nx\r\n.\r\n..y\r\n"), NULL },
	{ "BDAT bare LF dot LF", B("A: b\r\n\r\nx\n.\n" SMUGGLED), NONE, 0,
	    NONE, NONE, 0, 1, 550, "5.5.2",
	    B("A: b\r\n\r\nx\n.\n" SMUGGLED), NULL },
	{ "BDAT trailing CR", B("A: b\r\n\r\nx\r"), NONE, 0, NONE, NONE, 0,
	    1, 550, "5.5.2", NONE, NULL },
	{ "BDAT size at the limit", B("A: b\r\n\r\n0123456789\r\n"), NONE,
	    0, NONE, NONE, 20, 1, 0, NULL, NONE, NULL },
	{ "BDAT size one over", B("A: b\r\n\r\n0123456789\r\n"), NONE, 0,
	    NONE, NONE, 19, 1, 552, "5.3.4", NONE, NULL },
	{ "BDAT NUL", B("A: b\r\n\r\n\0\r\n"), NONE, 0, NONE, NONE, 0, 1,
	    554, "5.6.0", NONE, NULL },
	{ "BDAT empty", NONE, NONE, 0, NONE, NONE, 0, 1, 0, NULL, B(""),
	    NULL },
};

static void
test_framing(void **state)
{
	check_rows(frame_rows, sizeof(frame_rows) / sizeof(frame_rows[0]));
}

/* What the session reads from the header. */
static const struct {
	const char	*name;
	const char	*in;
	const char	*from;		/* NULL: no From: kept */
	uint32_t	 from_count;
	const char	*sender;
	uint32_t	 sender_count;
	int		 date, msgid;
	uint32_t	 received;
} header_rows[] = {
	{ "full", "Received: x\r\nFrom: A <a@b.example>\r\nDate: now\r\n"
	    "Message-ID: <1@b>\r\n\r\nFrom: body@x\r\n.\r\n",
	    " A <a@b.example>", 1, NULL, 0, 1, 1, 1 },
	{ "no From", "Subject: x\r\n\r\n.\r\n", NULL, 0, NULL, 0, 0, 0, 0 },
	{ "two From fields", "From: a@x\r\nfrom: b@y\r\n\r\n.\r\n",
	    " a@x", 2, NULL, 0, 0, 0, 0 },
	{ "folded From", "FROM: \"A\"\r\n <a@x>\r\nSender: s@y\r\n\r\n.\r\n",
	    " \"A\" <a@x>", 1, " s@y", 1, 0, 0, 0 },
	{ "names are matched whole", "From-x: a\r\nDates: b\r\n"
	    "Message-IDs: c\r\n\r\n.\r\n", NULL, 0, NULL, 0, 0, 0, 0 },
	{ "From in the body only", "A: b\r\n\r\nFrom: a@x\r\n.\r\n", NULL,
	    0, NULL, 0, 0, 0, 0 },
};

static void
test_header_facts(void **state)
{
	struct result	 r;
	struct input	 in;
	size_t		 i;

	for (i = 0; i < sizeof(header_rows) / sizeof(header_rows[0]); i++) {
		struct bytes	msg = { header_rows[i].in,
				    strlen(header_rows[i].in) };
		struct bytes	none = NONE;
		const char	*want = header_rows[i].from;

		build(&in, msg, none, 0, none, none);
		run(&in, DEFAULT_MAX, 0, M_WHOLE, &r);
		if (!smtp_data_done(&r.d) || r.verdict != NULL)
			fail_msg("%s: not accepted", header_rows[i].name);
		if (r.d.from_count != header_rows[i].from_count ||
		    strcmp(r.d.from.value, want ? want : "") != 0 ||
		    r.d.sender_count != header_rows[i].sender_count ||
		    strcmp(r.d.sender.value, header_rows[i].sender ?
		    header_rows[i].sender : "") != 0 ||
		    r.d.has_date != header_rows[i].date ||
		    r.d.has_message_id != header_rows[i].msgid ||
		    r.d.received_count != header_rows[i].received ||
		    r.d.from.bad || r.d.sender.bad)
			fail_msg("%s: from %u \"%s\" sender %u \"%s\" date %d "
			    "msgid %d received %u", header_rows[i].name,
			    r.d.from_count, r.d.from.value, r.d.sender_count,
			    r.d.sender.value, r.d.has_date,
			    r.d.has_message_id, r.d.received_count);
		free(r.out);
		free(in.p);
	}
}

/* A From: value longer than the kept copy is marked, never cut short. */
static void
test_header_from_too_long(void **state)
{
	struct result	r;
	struct input	in;
	struct bytes	pre = B("From: "), rep = B(" x\r\n"),
			post = B("\r\n.\r\n"), none = NONE;

	build(&in, pre, rep, SMTP_DATA_VALUE_MAX, post, none);
	run(&in, DEFAULT_MAX, 0, M_WHOLE, &r);
	if (r.verdict != NULL || !r.d.from.bad ||
	    r.d.from.len > SMTP_DATA_VALUE_MAX)
		fail_msg("long From: bad %d len %zu", r.d.from.bad,
		    r.d.from.len);
	free(r.out);
	free(in.p);
}

/* R2: From: values. */
static const struct {
	const char	*in;
	int		 want;		/* mailboxes, -1 malformed */
	const char	*dom0, *dom1;
} from_rows[] = {
	{ "a@example.com", 1, "example.com", NULL },
	{ "  a@Example.COM  ", 1, "example.com", NULL },
	{ "<a@example.com>", 1, "example.com", NULL },
	{ "Alice <a@example.com>", 1, "example.com", NULL },
	{ "Alice Q. Smith <a@example.com>", 1, "example.com", NULL },
	{ "\"boss@good\" <x@evil>", 1, "evil", NULL },
	{ "\"boss@good.example\" <x@evil.example>", 1, "evil.example",
	    NULL },
	{ "\"a\\\"b@good\" <x@evil>", 1, "evil", NULL },
	{ "\"x@evil\"@good", 1, "good", NULL },
	{ "x@evil (boss@good)", 1, "evil", NULL },
	{ "(boss@good) x@evil", 1, "evil", NULL },
	{ "x@evil (a (nested) comment)", 1, "evil", NULL },
	{ "Boss (at good) <x@evil>", 1, "evil", NULL },
	{ "=?utf-8?q?boss=40good?= <x@evil>", 1, "evil", NULL },
	{ "=?utf-8?q?boss@good?= <x@evil>", -1, NULL, NULL },
	{ "a.b@sub.example.com", 1, "sub.example.com", NULL },
	{ "a@example.com, b@other.example", 2, "example.com",
	    "other.example" },
	{ "A <a@x.example>, \"B\" <b@y.example>", 2, "x.example",
	    "y.example" },
	{ "a@x, b@y, c@z", -1, NULL, NULL },	/* over the array of 2 */
	{ "undisclosed:;", -1, NULL, NULL },
	{ "friends: a@x, b@y;", -1, NULL, NULL },
	{ "boss@good <x@evil>", -1, NULL, NULL },
	{ "boss@good x@evil", -1, NULL, NULL },
	{ "<@route:x@evil>", -1, NULL, NULL },
	{ "x@[192.0.2.1]", -1, NULL, NULL },
	{ "", -1, NULL, NULL },
	{ "   ", -1, NULL, NULL },
	{ "Alice", -1, NULL, NULL },
	{ "a@", -1, NULL, NULL },
	{ "@x", -1, NULL, NULL },
	{ "a@x,", -1, NULL, NULL },
	{ ",a@x", -1, NULL, NULL },
	{ "a@x,,b@y", -1, NULL, NULL },
	{ "<a@x", -1, NULL, NULL },
	{ "a b@x", -1, NULL, NULL },
	{ "a..b@x", -1, NULL, NULL },
	{ "a@x..y", -1, NULL, NULL },
	{ "a@x.", -1, NULL, NULL },
	{ "a@-x.example", -1, NULL, NULL },
	{ "a@x_y.example", -1, NULL, NULL },
	{ "\"unterminated <a@x>", -1, NULL, NULL },
	{ "(unterminated a@x", -1, NULL, NULL },
	{ "a@x (c", -1, NULL, NULL },
	{ "a@x\r\n", -1, NULL, NULL },
	{ "a@x\x01", -1, NULL, NULL },
	{ "a@" X50 X10 "xxxx.example", -1, NULL, NULL },	/* label 64 */
	{ "a@" X50 X10 "xxx.example", 1, X50 X10 "xxx.example", NULL },
};

static void
test_header_from(void **state)
{
	char			dom[2][SMTP_DATA_DOMAIN_SIZE];
	struct smtp_data_err	err;
	size_t			i;
	int			n;

	for (i = 0; i < sizeof(from_rows) / sizeof(from_rows[0]); i++) {
		const char	*in = from_rows[i].in;

		memset(&err, 0, sizeof(err));
		n = smtp_header_from(in, dom, 2, &err);
		if (n != from_rows[i].want)
			fail_msg("row %zu \"%s\": %d mailboxes, want %d", i,
			    printable(in, strlen(in)), n, from_rows[i].want);
		if (n == -1) {
			if (err.code != 550 || strcmp(err.enhanced,
			    "5.6.0") != 0 || err.text == NULL)
				fail_msg("row %zu \"%s\": reply %d %s", i,
				    printable(in, strlen(in)), err.code,
				    err.enhanced ? err.enhanced : "(null)");
			continue;
		}
		if (strcmp(dom[0], from_rows[i].dom0) != 0 ||
		    (n == 2 && strcmp(dom[1], from_rows[i].dom1) != 0))
			fail_msg("row %zu \"%s\": domains \"%s\" \"%s\"", i,
			    printable(in, strlen(in)), dom[0],
			    n == 2 ? dom[1] : "");
	}
}

/*
 * The end of the header, where the session inserts Date: and Message-ID:
 * when they are missing: the feed stops right after the empty line, with
 * its CRLF as the last two octets written, in every way of cutting the
 * input.  "@" in want marks where the insertion must land.
 */
static const struct {
	const char	*in;
	int		 bdat;
	const char	*want;		/* stored text with "@" at the end */
} header_end_rows[] = {
	{ "A: b\r\nC: d\r\n\r\nbody\r\n.\r\n", 0,
	    "A: b\r\nC: d\r\n@\r\nbody\r\n" },
	{ "\r\nbody only\r\n.\r\n", 0, "@\r\nbody only\r\n" },
	{ "A: b\r\n continued\r\n\r\n\r\n.\r\n", 0,
	    "A: b\r\n continued\r\n@\r\n\r\n" },
	{ "A: b\r\n\r\n..dot\r\n.\r\n", 0, "A: b\r\n@\r\n.dot\r\n" },
	{ "A: b\r\n\r\n", 1, "A: b\r\n@\r\n" },
	{ "A: b\r\n\r\n\r\n.\r\n", 1, "A: b\r\n@\r\n\r\n.\r\n" },
	/* No empty line: no insertion point from the framer. */
	{ "A: b\r\nC: d\r\n.\r\n", 0, "A: b\r\nC: d\r\n" },
	/* A header line starting with CR that is not the end (bare CR). */
	{ "A: b\r\n\rX: y\r\n\r\nz\r\n.\r\n", 0,
	    "A: b\r\n\rX: y\r\n\r\nz\r\n" },
};

static void
test_header_end(void **state)
{
	struct smtp_data	 d;
	uint8_t			 out[256];
	char			 got[512];
	size_t			 i, pos, len, n, w, g, step;
	int			 mode;

	for (i = 0; i < sizeof(header_end_rows) / sizeof(header_end_rows[0]);
	    i++) {
		for (mode = 0; mode < 2; mode++) {
			const char	*in = header_end_rows[i].in;
			int		 ends = 0;

			len = strlen(in);
			smtp_data_init(&d, 1000, header_end_rows[i].bdat);
			g = 0;
			for (pos = 0; pos < len; pos += n) {
				step = mode ? 1 : len - pos;
				n = smtp_data_feed(&d, (const uint8_t *)in + pos,
				    step, out, sizeof(out), &w);
				if (smtp_data_header_ended(&d)) {
					if (w < 2 || out[w - 2] != '\r' ||
					    out[w - 1] != '\n')
						fail_msg("row %zu: no CRLF at the "
						    "end", i);
					memcpy(got + g, out, w - 2);
					g += w - 2;
					got[g++] = '@';
					memcpy(got + g, "\r\n", 2);
					g += 2;
					ends++;
				} else {
					memcpy(got + g, out, w);
					g += w;
				}
				if (n == 0 || smtp_data_done(&d))
					break;
			}
			if (header_end_rows[i].bdat)
				smtp_data_bdat_end(&d);
			got[g] = '\0';
			if (ends > 1)
				fail_msg("row %zu: header ended %d times", i,
				    ends);
			if (strcmp(got, header_end_rows[i].want) != 0)
				fail_msg("row %zu (%s): got \"%s\"", i,
				    mode ? "bytes" : "whole", got);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_smuggling),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_header_facts),
		cmocka_unit_test(test_header_from_too_long),
		cmocka_unit_test(test_header_from),
		cmocka_unit_test(test_header_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
