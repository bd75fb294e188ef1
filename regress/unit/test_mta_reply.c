/*
 * mta/mta_reply.c: the parser of replies from remote servers (SECURITY.md
 * O1, O2, CVE-2020-8794).  Every row is fed in one chunk, byte by byte
 * and in random chunks (several seeds); the results must be identical:
 * the same replies, the same error, at the same input offset.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "mta_reply.h"

struct bytes {
	const char	*p;
	size_t		 n;
};

#define B(s)		{ (s), sizeof(s) - 1 }
#define NONE		{ NULL, 0 }

#define X10		"xxxxxxxxxx"
#define X100		X10 X10 X10 X10 X10 X10 X10 X10 X10 X10

#define REPLIES_MAX	4

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
};

/* pre + rep * rep_n + post, in one allocation. */
static void
build(struct input *in, struct bytes pre, struct bytes rep, size_t rep_n,
    struct bytes post)
{
	size_t	i, o = 0;

	in->n = pre.n + rep.n * rep_n + post.n;
	if ((in->p = malloc(in->n + 1)) == NULL)
		fail_msg("malloc");
	if (pre.n > 0)
		memcpy(in->p, pre.p, pre.n);
	o += pre.n;
	for (i = 0; i < rep_n; i++) {
		memcpy(in->p + o, rep.p, rep.n);
		o += rep.n;
	}
	if (post.n > 0)
		memcpy(in->p + o, post.p, post.n);
}

struct got {
	int			 code;
	char			 enhanced[MTA_REPLY_ENHANCED_MAX + 1];
	char			*text;
	int			 nlines;
	unsigned int		 nsubst;
};

struct result {
	struct got		 r[REPLIES_MAX];
	int			 nreplies;
	enum mta_reply_error	 error;
	size_t			 consumed;	/* where it stopped */
};

enum { M_WHOLE, M_BYTES, M_RANDOM };
#define RANDOM_SEEDS	8

static void
check_reply_invariants(const char *name, const struct mta_reply *r)
{
	size_t	i;
	int	l;

	if (r->code < 200 || r->code > 559 || r->code % 100 / 10 > 5)
		fail_msg("%s: code %d out of range", name, r->code);
	if (r->len != strlen(r->text) || r->len > MTA_REPLY_TEXT_MAX)
		fail_msg("%s: text length %zu", name, r->len);
	for (i = 0; i < r->len; i++)
		if (r->text[i] < 0x20 || r->text[i] > 0x7e)
			fail_msg("%s: byte 0x%02x in the text", name,
			    (unsigned char)r->text[i]);
	if (r->nlines < 1 || r->nlines > MTA_REPLY_LINES_MAX)
		fail_msg("%s: %d lines", name, r->nlines);
	for (l = 0; l < r->nlines; l++)
		if (r->line_off[l] + (size_t)r->line_len[l] > r->len)
			fail_msg("%s: line %d past the text", name, l);
}

static void
run(const struct input *in, unsigned int pending, int mode,
    unsigned int seed, struct result *res)
{
	struct mta_reply_parser	*p;
	const struct mta_reply	*r;
	enum mta_reply_status	 st;
	size_t			 pos = 0, chunk, used;

	if ((p = malloc(sizeof(*p))) == NULL)
		fail_msg("malloc");
	memset(res, 0, sizeof(*res));
	srand(seed);
	mta_reply_init(p);
	if (mta_reply_get(p) != NULL)
		fail_msg("a reply before any input");
	if (mta_reply_expect(p, pending) == -1)
		fail_msg("expect %u", pending);
	while (pos < in->n) {
		if (mode == M_WHOLE)
			chunk = in->n - pos;
		else if (mode == M_BYTES)
			chunk = 1;
		else
			chunk = 1 + (size_t)rand() % 40;
		if (chunk > in->n - pos)
			chunk = in->n - pos;
		st = mta_reply_feed(p, in->p + pos, chunk, &used);
		if (used > chunk)
			fail_msg("consumed %zu of %zu", used, chunk);
		pos += used;
		if (st == MTA_REPLY_ERROR)
			break;
		if (st == MTA_REPLY_MORE) {
			if (used != chunk)
				fail_msg("MORE but consumed %zu of %zu", used,
				    chunk);
			if (mta_reply_get(p) != NULL && used > 0)
				fail_msg("a reply while incomplete");
			continue;
		}
		if ((r = mta_reply_get(p)) == NULL)
			fail_msg("READY without a reply");
		if (res->nreplies >= REPLIES_MAX)
			fail_msg("too many replies");
		check_reply_invariants("run", r);
		res->r[res->nreplies].code = r->code;
		strlcpy(res->r[res->nreplies].enhanced, r->enhanced,
		    sizeof(res->r[0].enhanced));
		if ((res->r[res->nreplies].text = strdup(r->text)) == NULL)
			fail_msg("strdup");
		res->r[res->nreplies].nlines = r->nlines;
		res->r[res->nreplies].nsubst = r->nsubst;
		res->nreplies++;
	}
	res->error = mta_reply_error(p);
	res->consumed = pos;
	if (res->error != MTA_REPLY_E_NONE) {
		/* Sticky: nothing more is taken until init. */
		st = mta_reply_feed(p, (const uint8_t *)"250 ok\r\n", 8, &used);
		if (st != MTA_REPLY_ERROR || used != 0 ||
		    mta_reply_get(p) != NULL)
			fail_msg("input taken after an error");
	}
	free(p);
}

static void
free_result(struct result *res)
{
	int	i;

	for (i = 0; i < res->nreplies; i++)
		free(res->r[i].text);
}

static int
same(const struct result *a, const struct result *b)
{
	int	i;

	if (a->nreplies != b->nreplies || a->error != b->error ||
	    a->consumed != b->consumed)
		return 0;
	for (i = 0; i < a->nreplies; i++)
		if (a->r[i].code != b->r[i].code ||
		    strcmp(a->r[i].enhanced, b->r[i].enhanced) != 0 ||
		    strcmp(a->r[i].text, b->r[i].text) != 0 ||
		    a->r[i].nlines != b->r[i].nlines ||
		    a->r[i].nsubst != b->r[i].nsubst)
			return 0;
	return 1;
}

struct reply_row {
	const char		*name;
	struct bytes		 pre, rep;
	size_t			 rep_n;
	struct bytes		 post;
	unsigned int		 pending;	/* 0: 1 */
	enum mta_reply_error	 error;
	int			 nreplies;
	int			 code;		/* of the first reply */
	const char		*enhanced;	/* NULL: not compared */
	const char		*text;		/* NULL: not compared */
	int			 nlines;	/* 0: not compared */
	int			 code2;		/* of the second, 0: none */
};

#define OK1(name, in, code, enh, text, nlines)				\
	{ name, B(in), NONE, 0, NONE, 0, MTA_REPLY_E_NONE, 1, code,	\
	    enh, text, nlines, 0 }
#define ERR(name, in, e)						\
	{ name, B(in), NONE, 0, NONE, 0, MTA_REPLY_E_##e, 0, 0,		\
	    NULL, NULL, 0, 0 }

static const struct reply_row rows[] = {
	OK1("single line", "250 ok\r\n", 250, "", "ok", 1),
	OK1("greeting", "220 mx.example.org ESMTP ready\r\n", 220, "",
	    "mx.example.org ESMTP ready", 1),
	OK1("code and CRLF only", "250\r\n", 250, "", "", 1),
	OK1("code and space only", "250 \r\n", 250, "", "", 1),
	OK1("multi-line", "250-mx.example.org\r\n250-PIPELINING\r\n"
	    "250 STARTTLS\r\n", 250, "",
	    "mx.example.org PIPELINING STARTTLS", 3),
	OK1("empty continuation 250-", "250-\r\n250 ok\r\n", 250, "",
	    " ok", 2),
	OK1("empty continuation then CRLF", "250-\r\n250\r\n", 250, "",
	    " ", 2),
	OK1("lowest code", "200 x\r\n", 200, "", "x", 1),
	OK1("highest code", "559 x\r\n", 559, "", "x", 1),
	OK1("354", "354 go ahead\r\n", 354, "", "go ahead", 1),
	OK1("text with dashes and digits", "250 250-250 x\r\n", 250, "",
	    "250-250 x", 1),
	OK1("TAB becomes a space", "250 a\tb\r\n", 250, "", "a b", 1),

	/* CVE-2020-8794: never read past a short line. */
	ERR("25 CRLF", "25\r\n", SHORT),
	ERR("2 CRLF", "2\r\n", SHORT),
	ERR("empty line", "\r\n", SHORT),
	ERR("short continuation", "250-ok\r\n25\r\n", SHORT),
	ERR("empty continuation line", "250-ok\r\n\r\n250 x\r\n", SHORT),
	ERR("bare LF in the code", "25\n", SHORT),

	ERR("code 999", "999 x\r\n", CODE),
	ERR("code 2x0", "2x0 x\r\n", CODE),
	ERR("code 600", "600 x\r\n", CODE),
	ERR("code 199", "199 x\r\n", CODE),
	ERR("code 260", "260 x\r\n", CODE),
	ERR("code 100", "100 x\r\n", CODE),
	ERR("code 000", "000 x\r\n", CODE),
	ERR("letters", "abc x\r\n", CODE),
	ERR("leading space", " 250 x\r\n", CODE),
	ERR("bad code on a continuation", "250-a\r\n2x0 b\r\n", CODE),

	ERR("mismatched codes", "250-a\r\n251 b\r\n", MISMATCH),
	ERR("mismatched first digit", "250-a\r\n550 b\r\n", MISMATCH),
	ERR("mismatched last line only", "250-a\r\n250-b\r\n251 c\r\n",
	    MISMATCH),

	ERR("no separator", "250x\r\n", SEPARATOR),
	ERR("four digits", "2500 x\r\n", SEPARATOR),
	ERR("TAB as separator", "250\tx\r\n", SEPARATOR),

	ERR("NUL in the text", "250 a\0b\r\n", NUL),
	ERR("bare LF ends nothing", "250 ok\n", BARE_LF),
	ERR("bare LF after the code", "250\n", BARE_LF),
	ERR("bare LF then a line", "250-a\n250 b\r\n", BARE_LF),
	ERR("bare CR inside", "250 a\rb\r\n", BARE_CR),
	ERR("CR CR LF", "250 a\r\r\n", BARE_CR),

	/* 8-bit and control bytes stay usable, as '?'. */
	OK1("8-bit bytes", "550 caf\xc3\xa9 \xff\r\n", 550, "",
	    "caf?? ?", 1),
	OK1("ESC and DEL", "550 a\x1b[0m\x7f\r\n", 550, "", "a?[0m?", 1),

	/* Enhanced status codes, RFC 3463. */
	OK1("enhanced", "250 2.0.0 Ok\r\n", 250, "2.0.0", "2.0.0 Ok", 1),
	OK1("enhanced alone", "550 5.7.1\r\n", 550, "5.7.1", "5.7.1", 1),
	OK1("enhanced widest", "421 4.999.999 x\r\n", 421, "4.999.999",
	    NULL, 1),
	OK1("enhanced multi-line from the first line",
	    "550-5.7.1 no\r\n550 5.7.1 really\r\n", 550, "5.7.1",
	    "5.7.1 no 5.7.1 really", 2),
	OK1("enhanced only on a later line", "550-no\r\n550 5.7.1 x\r\n",
	    550, "", NULL, 2),
	OK1("enhanced class mismatch", "250 5.0.0 Ok\r\n", 250, "",
	    "5.0.0 Ok", 1),
	OK1("enhanced class 3", "354 3.0.0 go\r\n", 354, "", NULL, 1),
	OK1("enhanced four digits", "250 2.0.1000 x\r\n", 250, "", NULL, 1),
	OK1("enhanced two parts", "250 2.0 x\r\n", 250, "", NULL, 1),
	OK1("enhanced trailing junk", "250 2.0.0x\r\n", 250, "", NULL, 1),
	OK1("enhanced trailing dot", "250 2.0.0.\r\n", 250, "", NULL, 1),
	OK1("enhanced empty part", "250 2..0 x\r\n", 250, "", NULL, 1),
	OK1("enhanced two-digit class", "250 22.0.0 x\r\n", 250, "", NULL,
	    1),
	OK1("enhanced after a space", "250  2.0.0 x\r\n", 250, "", NULL, 1),
	OK1("enhanced with TAB", "250 2.0.0\tx\r\n", 250, "2.0.0",
	    "2.0.0 x", 1),

	/* Line length: 512 octets with CRLF. */
	{ "line of 512", B("250 "), B("x"), 506, B("\r\n"), 0,
	    MTA_REPLY_E_NONE, 1, 250, "", NULL, 1, 0 },
	{ "line of 513", B("250 "), B("x"), 507, B("\r\n"), 0,
	    MTA_REPLY_E_LONG_LINE, 0, 0, NULL, NULL, 0, 0 },
	{ "endless line", B("250 "), B("x"), 100000, NONE, 0,
	    MTA_REPLY_E_LONG_LINE, 0, 0, NULL, NULL, 0, 0 },
	{ "continuation of 513", B("250-a\r\n250-"), B("x"), 507,
	    B("\r\n250 b\r\n"), 0, MTA_REPLY_E_LONG_LINE, 0, 0, NULL, NULL,
	    0, 0 },

	/* Lines per reply. */
	{ "100 lines", NONE, B("250-" X100 "\r\n"), 99, B("250 end\r\n"), 0,
	    MTA_REPLY_E_NONE, 1, 250, "", NULL, 100, 0 },
	{ "101 lines", NONE, B("250-x\r\n"), 100, B("250 end\r\n"), 0,
	    MTA_REPLY_E_LINES, 0, 0, NULL, NULL, 0, 0 },
	{ "100 widest lines", NONE,
	    B("250-" X100 X100 X100 X100 X100 "xxxxxx\r\n"), 99,
	    B("250 " X100 X100 X100 X100 X100 "xxxxxx\r\n"), 0,
	    MTA_REPLY_E_NONE, 1, 250, "", NULL, 100, 0 },
	{ "endless continuation", NONE, B("250-x\r\n"), 100000, NONE, 0,
	    MTA_REPLY_E_LINES, 0, 0, NULL, NULL, 0, 0 },

	/* Two replies in one chunk: unexpected, or pipelined. */
	{ "second reply unexpected", B("250 a\r\n251 b\r\n"), NONE, 0, NONE,
	    1, MTA_REPLY_E_UNEXPECTED, 1, 250, "", "a", 1, 0 },
	{ "second reply pipelined", B("250 a\r\n251 b\r\n"), NONE, 0, NONE,
	    2, MTA_REPLY_E_NONE, 2, 250, "", "a", 1, 251 },
	{ "STARTTLS injection", B("220 go\r\n250 fake\r\n"), NONE, 0, NONE,
	    1, MTA_REPLY_E_UNEXPECTED, 1, 220, "", "go", 1, 0 },
	{ "one stray byte", B("250 a\r\n\r"), NONE, 0, NONE, 1,
	    MTA_REPLY_E_UNEXPECTED, 1, 250, "", "a", 1, 0 },
	{ "incomplete second reply", B("250 a\r\n354 go"), NONE, 0, NONE,
	    2, MTA_REPLY_E_NONE, 1, 250, "", "a", 1, 0 },
};

static void
check_row(const struct reply_row *t)
{
	struct input	in;
	struct result	whole, other;
	unsigned int	pending = t->pending ? t->pending : 1, s;
	int		m;

	build(&in, t->pre, t->rep, t->rep_n, t->post);
	run(&in, pending, M_WHOLE, 0, &whole);
	if (whole.error != t->error)
		fail_msg("%s: error \"%s\", want \"%s\" (input \"%s\")",
		    t->name, mta_reply_reason(whole.error),
		    mta_reply_reason(t->error), printable((char *)in.p, in.n));
	if (whole.nreplies != t->nreplies)
		fail_msg("%s: %d replies, want %d", t->name, whole.nreplies,
		    t->nreplies);
	if (t->error == MTA_REPLY_E_NONE && whole.consumed != in.n)
		fail_msg("%s: consumed %zu of %zu", t->name, whole.consumed,
		    in.n);
	if (t->nreplies > 0) {
		if (whole.r[0].code != t->code)
			fail_msg("%s: code %d, want %d", t->name,
			    whole.r[0].code, t->code);
		if (t->enhanced != NULL &&
		    strcmp(whole.r[0].enhanced, t->enhanced) != 0)
			fail_msg("%s: enhanced \"%s\", want \"%s\"", t->name,
			    whole.r[0].enhanced, t->enhanced);
		if (t->text != NULL && strcmp(whole.r[0].text, t->text) != 0)
			fail_msg("%s: text \"%s\", want \"%s\"", t->name,
			    printable(whole.r[0].text,
			    strlen(whole.r[0].text)), t->text);
		if (t->nlines != 0 && whole.r[0].nlines != t->nlines)
			fail_msg("%s: %d lines, want %d", t->name,
			    whole.r[0].nlines, t->nlines);
	}
	if (t->code2 != 0 && whole.r[1].code != t->code2)
		fail_msg("%s: second code %d, want %d", t->name,
		    whole.r[1].code, t->code2);

	for (m = M_BYTES; m <= M_RANDOM; m++)
		for (s = 1; s <= (m == M_RANDOM ? RANDOM_SEEDS : 1); s++) {
			run(&in, pending, m, s, &other);
			if (!same(&whole, &other))
				fail_msg("%s: %s (seed %u) differs from one "
				    "chunk: %d replies, \"%s\" at %zu", t->name,
				    m == M_BYTES ? "byte by byte" :
				    "random chunks", s, other.nreplies,
				    mta_reply_reason(other.error),
				    other.consumed);
			free_result(&other);
		}
	free_result(&whole);
	free(in.p);
}

static void
test_rows(void **state)
{
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
}

/* The widest reply fits the text cap exactly: nothing is truncated. */
static void
test_text_cap(void **state)
{
	struct mta_reply_parser	*p;
	const struct mta_reply	*r;
	uint8_t			 line[MTA_REPLY_LINE_MAX];
	size_t			 used;
	int			 i;

	assert_non_null(p = malloc(sizeof(*p)));
	mta_reply_init(p);
	assert_int_equal(mta_reply_expect(p, 1), 0);
	memset(line, 'y', sizeof(line));
	memcpy(line, "421-", 4);
	memcpy(line + sizeof(line) - 2, "\r\n", 2);
	for (i = 0; i < MTA_REPLY_LINES_MAX; i++) {
		if (i == MTA_REPLY_LINES_MAX - 1)
			line[3] = ' ';
		assert_int_equal(mta_reply_feed(p, line, sizeof(line), &used),
		    i == MTA_REPLY_LINES_MAX - 1 ? MTA_REPLY_READY :
		    MTA_REPLY_MORE);
		assert_int_equal(used, sizeof(line));
	}
	assert_non_null(r = mta_reply_get(p));
	assert_int_equal(r->len, MTA_REPLY_TEXT_MAX);
	assert_int_equal(strlen(r->text), MTA_REPLY_TEXT_MAX);
	assert_int_equal(r->nlines, MTA_REPLY_LINES_MAX);
	free(p);
}

/* EHLO keywords come out line by line. */
static void
test_lines(void **state)
{
	static const char	 in[] = "250-mx.example.org hi\r\n250-\r\n"
	    "250-SIZE 1000\r\n250 STARTTLS\r\n";
	static const char	*want[] = { "mx.example.org hi", "",
	    "SIZE 1000", "STARTTLS" };
	struct mta_reply_parser	*p;
	const struct mta_reply	*r;
	const char		*l;
	size_t			 used, len;
	int			 i;

	assert_non_null(p = malloc(sizeof(*p)));
	mta_reply_init(p);
	assert_int_equal(mta_reply_expect(p, 1), 0);
	assert_int_equal(mta_reply_feed(p, (const uint8_t *)in,
	    sizeof(in) - 1, &used), MTA_REPLY_READY);
	assert_int_equal(used, sizeof(in) - 1);
	assert_non_null(r = mta_reply_get(p));
	assert_int_equal(r->nlines, 4);
	for (i = 0; i < 4; i++) {
		assert_non_null(l = mta_reply_line(r, i, &len));
		if (len != strlen(want[i]) || memcmp(l, want[i], len) != 0)
			fail_msg("line %d: \"%.*s\", want \"%s\"", i, (int)len,
			    l, want[i]);
	}
	assert_null(mta_reply_line(r, 4, &len));
	assert_null(mta_reply_line(r, -1, &len));
	free(p);
}

/*
 * O2: "220 go" and injected plaintext in one segment.  The feed stops
 * after the 220; what is left in the caller's buffer is refused by
 * mta_reply_drained() when nothing more is awaited, and accepted while
 * pipelined replies are awaited.
 */
static void
test_drained(void **state)
{
	static const char	 in[] = "220 go\r\n250 fake\r\n";
	struct mta_reply_parser	*p;
	size_t			 used;

	assert_non_null(p = malloc(sizeof(*p)));
	mta_reply_init(p);
	assert_int_equal(mta_reply_expect(p, 1), 0);
	assert_int_equal(mta_reply_feed(p, (const uint8_t *)in,
	    sizeof(in) - 1, &used), MTA_REPLY_READY);
	assert_int_equal(used, 8);
	assert_int_equal(mta_reply_get(p)->code, 220);
	assert_int_equal(mta_reply_drained(p, 0), 0);
	assert_int_equal(mta_reply_error(p), MTA_REPLY_E_NONE);
	assert_int_equal(mta_reply_drained(p, sizeof(in) - 1 - used), -1);
	assert_int_equal(mta_reply_error(p), MTA_REPLY_E_UNEXPECTED);
	assert_int_equal(mta_reply_feed(p, (const uint8_t *)in + used,
	    sizeof(in) - 1 - used, &used), MTA_REPLY_ERROR);
	assert_int_equal(used, 0);

	/* After the reset (TLS is up) the parser starts clean. */
	mta_reply_init(p);
	assert_int_equal(mta_reply_error(p), MTA_REPLY_E_NONE);
	assert_int_equal(mta_reply_feed(p, (const uint8_t *)"2", 1, &used),
	    MTA_REPLY_ERROR);
	assert_int_equal(mta_reply_error(p), MTA_REPLY_E_UNEXPECTED);

	/* Pipelining: the rest may be the next reply. */
	mta_reply_init(p);
	assert_int_equal(mta_reply_expect(p, 2), 0);
	assert_int_equal(mta_reply_feed(p, (const uint8_t *)in,
	    sizeof(in) - 1, &used), MTA_REPLY_READY);
	assert_int_equal(mta_reply_drained(p, sizeof(in) - 1 - used), 0);
	assert_int_equal(mta_reply_feed(p, (const uint8_t *)in + used,
	    sizeof(in) - 1 - used, &used), MTA_REPLY_READY);
	assert_int_equal(mta_reply_get(p)->code, 250);
	assert_string_equal(mta_reply_get(p)->text, "fake");
	assert_int_equal(mta_reply_drained(p, 0), 0);
	free(p);
}

static void
test_expect(void **state)
{
	struct mta_reply_parser	*p;

	assert_non_null(p = malloc(sizeof(*p)));
	mta_reply_init(p);
	assert_int_equal(mta_reply_expect(p, MTA_REPLY_PENDING_MAX), 0);
	errno = 0;
	assert_int_equal(mta_reply_expect(p, 1), -1);
	assert_int_equal(errno, EOVERFLOW);
	mta_reply_init(p);
	assert_int_equal(mta_reply_expect(p, 1), 0);
	assert_int_equal(mta_reply_expect(p, (unsigned int)-1), -1);
	assert_int_equal(mta_reply_expect(p, MTA_REPLY_PENDING_MAX - 1), 0);
	free(p);
}

static void
test_reasons(void **state)
{
	int	e;

	for (e = MTA_REPLY_E_NONE; e <= MTA_REPLY_E_UNEXPECTED; e++)
		assert_non_null(mta_reply_reason(e));
	assert_string_equal(mta_reply_reason(MTA_REPLY_E_UNEXPECTED + 1),
	    "unknown error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_text_cap),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_drained),
		cmocka_unit_test(test_expect),
		cmocka_unit_test(test_reasons),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
