/*
 * mta/mta_body.c: the outbound DATA body (SECURITY.md F2, B4): CRLF
 * lines, dot-stuffing, the terminator, bare CR/LF refused.  Every row is
 * written whole, byte by byte, into out buffers of 2 and 1 octets, and
 * in random input chunks with random out buffers; the output and the
 * error must be identical.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "mta_body.h"

struct bytes {
	const char	*p;
	size_t		 n;
};

#define B(s)		{ (s), sizeof(s) - 1 }
#define NONE		{ NULL, 0 }

/* Escaped copy for failure messages (one buffer per slot). */
static const char *
printable(int slot, const char *s, size_t n)
{
	static char	buf[2][256];
	size_t		i, o = 0;

	for (i = 0; i < n && o + 8 < sizeof(buf[0]); i++) {
		unsigned char	c = s[i];

		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += snprintf(buf[slot] + o, sizeof(buf[0]) - o,
			    "\\x%02x", c);
		else
			buf[slot][o++] = c;
	}
	if (i < n)
		o += snprintf(buf[slot] + o, sizeof(buf[0]) - o, "...");
	buf[slot][o] = '\0';
	return buf[slot];
}

struct result {
	uint8_t			*out;
	size_t			 outlen;
	size_t			 consumed;
	enum mta_body_error	 error;
	int			 flushed;	/* last flush result */
};

enum { M_WHOLE, M_BYTES, M_OUT2, M_OUT1, M_RANDOM, M_COUNT };
static const char *mode_name[] = { "one chunk", "byte by byte",
    "outcap 2", "outcap 1", "random chunks" };
#define RANDOM_SEEDS	8

static size_t
pick(int mode, size_t rest, int in)
{
	switch (mode) {
	case M_WHOLE:
		return in ? rest : 4096;
	case M_BYTES:
		return in ? 1 : 4096;
	case M_OUT2:
		return in ? rest : 2;
	case M_OUT1:
		return in ? rest : 1;
	}
	return 1 + (size_t)rand() % (in ? 30 : 7);
}

static void
run(const uint8_t *in, size_t len, int mode, unsigned int seed,
    struct result *r)
{
	struct mta_body	 b;
	uint8_t		 buf[4096];
	size_t		 pos = 0, chunk, cap, n, w, stalls = 0;
	size_t		 max = len * 2 + 5;

	srand(seed);
	memset(r, 0, sizeof(*r));
	if ((r->out = malloc(max)) == NULL)
		fail_msg("malloc");
	mta_body_init(&b);
	while (pos < len) {
		chunk = pick(mode, len - pos, 1);
		if (chunk > len - pos)
			chunk = len - pos;
		cap = pick(mode, 0, 0);
		n = mta_body_feed(&b, in + pos, chunk, buf, cap, &w);
		if (n > chunk || w > cap)
			fail_msg("consumed %zu of %zu, wrote %zu into %zu",
			    n, chunk, w, cap);
		if (r->outlen + w > max)
			fail_msg("more than twice the input out");
		memcpy(r->out + r->outlen, buf, w);
		r->outlen += w;
		pos += n;
		if (mta_body_error(&b) != MTA_BODY_E_NONE)
			break;
		if (n == 0 && w == 0 && ++stalls > 2)
			fail_msg("no progress at %zu", pos);
	}
	r->consumed = pos;
	if (mta_body_error(&b) == MTA_BODY_E_NONE) {
		do {
			cap = pick(mode, 0, 0);
			r->flushed = mta_body_flush(&b, buf, cap, &w);
			if (w > cap || r->outlen + w > max)
				fail_msg("flush wrote %zu into %zu", w, cap);
			memcpy(r->out + r->outlen, buf, w);
			r->outlen += w;
		} while (r->flushed == 0);
	} else {
		r->flushed = mta_body_flush(&b, buf, sizeof(buf), &w);
		if (r->flushed != -1 || w != 0)
			fail_msg("flush after an error");
	}
	r->error = mta_body_error(&b);
	if (r->error != MTA_BODY_E_NONE) {
		n = mta_body_feed(&b, (const uint8_t *)"x", 1, buf, 4096, &w);
		if (n != 0 || w != 0)
			fail_msg("input taken after an error");
	} else if (mta_body_flush(&b, buf, sizeof(buf), &w) != 1 || w != 0)
		fail_msg("second flush is not a no-op");
}

/* No bare CR or LF; no line starting with a single "." but the end. */
static void
check_wire(const char *name, const struct result *r)
{
	const uint8_t	*o = r->out;
	size_t		 i, n = r->outlen;

	for (i = 0; i < n; i++) {
		if (o[i] == '\r' && (i + 1 == n || o[i + 1] != '\n'))
			fail_msg("%s: bare CR out at %zu", name, i);
		if (o[i] == '\n' && (i == 0 || o[i - 1] != '\r'))
			fail_msg("%s: bare LF out at %zu", name, i);
		if (o[i] == '.' && (i == 0 || o[i - 1] == '\n') &&
		    (i + 1 == n || o[i + 1] != '.') &&
		    !(r->flushed == 1 && i + 3 == n))
			fail_msg("%s: unstuffed dot at %zu", name, i);
	}
	if (r->flushed == 1 && !(n == 3 && memcmp(o, ".\r\n", 3) == 0) &&
	    !(n >= 5 && memcmp(o + n - 5, "\r\n.\r\n", 5) == 0))
		fail_msg("%s: no terminator", name);
}

struct body_row {
	const char		*name;
	struct bytes		 in;
	struct bytes		 out;	/* the whole output */
	enum mta_body_error	 error;
	size_t			 consumed;	/* on error */
};

#define OK(name, in, out)						\
	{ name, B(in), B(out), MTA_BODY_E_NONE, 0 }
#define ERR(name, in, out, e, at)					\
	{ name, B(in), B(out), MTA_BODY_E_##e, at }

static const struct body_row rows[] = {
	OK("empty message", "", ".\r\n"),
	OK("one line", "Subject: x\r\n\r\nhi\r\n",
	    "Subject: x\r\n\r\nhi\r\n.\r\n"),
	OK("dot at the start", ".hidden\r\n", "..hidden\r\n.\r\n"),
	OK("dot after CRLF", "a\r\n.b\r\n", "a\r\n..b\r\n.\r\n"),
	OK("line of only a dot", "a\r\n.\r\nb\r\n",
	    "a\r\n..\r\nb\r\n.\r\n"),
	OK("message of one dot line", ".\r\n", "..\r\n.\r\n"),
	OK("CRLF.CRLF inside", "a\r\n.\r\n" "MAIL FROM:<e@v>\r\n",
	    "a\r\n..\r\nMAIL FROM:<e@v>\r\n.\r\n"),
	OK("two dots", "..\r\n", "...\r\n.\r\n"),
	OK("dot inside a line", "a.b.\r\n", "a.b.\r\n.\r\n"),
	OK("empty lines", "\r\n\r\n", "\r\n\r\n.\r\n"),
	OK("last line without CRLF", "a\r\nb", "a\r\nb\r\n.\r\n"),
	OK("only a line without CRLF", "abc", "abc\r\n.\r\n"),
	OK("unterminated dot line", "a\r\n.", "a\r\n..\r\n.\r\n"),
	OK("NUL passes", "a\0b\r\n", "a\0b\r\n.\r\n"),

	ERR("bare LF", "a\nb\r\n", "a", BARE_LF, 1),
	ERR("bare LF at the start", "\n.\n", "", BARE_LF, 0),
	ERR("bare LF dot LF", "a\r\nb\n.\nc\r\n", "a\r\nb", BARE_LF, 4),
	ERR("bare CR", "a\rb\r\n", "a", BARE_CR, 2),
	ERR("CR CR LF", "a\r\r\n", "a", BARE_CR, 2),
	ERR("bare CR dot CR", "a\r.\r", "a", BARE_CR, 2),
	ERR("CR as the last octet", "a\r\nb\r", "a\r\nb", BARE_CR, 5),
	ERR("LF CR", "a\n\r", "a", BARE_LF, 1),
};

static void
check_row(const struct body_row *t)
{
	struct result	 whole, other;
	const uint8_t	*in = (const uint8_t *)t->in.p;
	unsigned int	 s;
	int		 m;

	run(in, t->in.n, M_WHOLE, 0, &whole);
	if (whole.error != t->error)
		fail_msg("%s: error \"%s\", want \"%s\"", t->name,
		    mta_body_reason(whole.error), mta_body_reason(t->error));
	if (whole.outlen != t->out.n ||
	    memcmp(whole.out, t->out.p, t->out.n) != 0)
		fail_msg("%s: wrote \"%s\", want \"%s\"", t->name,
		    printable(0, (char *)whole.out, whole.outlen),
		    printable(1, t->out.p, t->out.n));
	if (t->error != MTA_BODY_E_NONE && whole.consumed != t->consumed)
		fail_msg("%s: stopped at %zu, want %zu", t->name,
		    whole.consumed, t->consumed);
	if (whole.flushed != (t->error == MTA_BODY_E_NONE ? 1 : -1))
		fail_msg("%s: flush returned %d", t->name, whole.flushed);
	check_wire(t->name, &whole);

	for (m = M_BYTES; m < M_COUNT; m++)
		for (s = 1; s <= (m == M_RANDOM ? RANDOM_SEEDS : 1); s++) {
			run(in, t->in.n, m, s, &other);
			if (other.outlen != whole.outlen ||
			    memcmp(other.out, whole.out, whole.outlen) != 0 ||
			    other.error != whole.error ||
			    other.consumed != whole.consumed ||
			    other.flushed != whole.flushed)
				fail_msg("%s: %s (seed %u) differs from one "
				    "chunk: \"%s\"", t->name, mode_name[m], s,
				    printable(0, (char *)other.out,
				    other.outlen));
			free(other.out);
		}
	free(whole.out);
}

static void
test_rows(void **state)
{
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		check_row(&rows[i]);
}

/*
 * Every message made of the octets "a", ".", CR, LF up to 7 long: the
 * output is a valid wire form or the input had a bare CR/LF, and all
 * modes agree.
 */
static void
test_exhaustive(void **state)
{
	static const uint8_t	 alpha[] = { 'a', '.', '\r', '\n' };
	struct result		 whole, other;
	uint8_t			 in[7];
	size_t			 len, i, k, total;
	int			 m, bare;

	for (len = 0; len <= sizeof(in); len++) {
		for (total = 1, i = 0; i < len; i++)
			total *= 4;
		for (k = 0; k < total; k++) {
			size_t	x = k;

			for (i = 0; i < len; i++, x /= 4)
				in[i] = alpha[x % 4];
			bare = 0;
			for (i = 0; i < len; i++)
				if ((in[i] == '\r' && (i + 1 == len ||
				    in[i + 1] != '\n')) || (in[i] == '\n' &&
				    (i == 0 || in[i - 1] != '\r')))
					bare = 1;
			run(in, len, M_WHOLE, 0, &whole);
			if ((whole.error != MTA_BODY_E_NONE) != bare)
				fail_msg("\"%s\": error \"%s\"",
				    printable(0, (char *)in, len),
				    mta_body_reason(whole.error));
			check_wire(printable(0, (char *)in, len), &whole);
			for (m = M_BYTES; m < M_COUNT; m++) {
				run(in, len, m, (unsigned int)k, &other);
				if (other.outlen != whole.outlen ||
				    memcmp(other.out, whole.out,
				    whole.outlen) != 0 ||
				    other.error != whole.error)
					fail_msg("\"%s\": %s differs",
					    printable(0, (char *)in, len),
					    mode_name[m]);
				free(other.out);
			}
			free(whole.out);
		}
	}
}

static void
test_after_end(void **state)
{
	struct mta_body	b;
	uint8_t		buf[16];
	size_t		w;

	mta_body_init(&b);
	assert_int_equal(mta_body_flush(&b, buf, sizeof(buf), &w), 1);
	assert_int_equal(w, 3);
	assert_int_equal(mta_body_feed(&b, (const uint8_t *)"x", 1, buf,
	    sizeof(buf), &w), 0);
	assert_int_equal(w, 0);
	assert_int_equal(mta_body_error(&b), MTA_BODY_E_DONE);
	assert_int_equal(mta_body_flush(&b, buf, sizeof(buf), &w), -1);

	/* An empty feed after the end is harmless. */
	mta_body_init(&b);
	assert_int_equal(mta_body_flush(&b, buf, sizeof(buf), &w), 1);
	assert_int_equal(mta_body_feed(&b, NULL, 0, buf, sizeof(buf), &w), 0);
	assert_int_equal(mta_body_error(&b), MTA_BODY_E_NONE);

	/* outcap 0: one octet is taken and held, then nothing moves. */
	mta_body_init(&b);
	assert_int_equal(mta_body_feed(&b, (const uint8_t *)".", 1, buf, 0,
	    &w), 1);
	assert_int_equal(w, 0);
	assert_int_equal(mta_body_feed(&b, (const uint8_t *)"x", 1, buf, 0,
	    &w), 0);
	assert_int_equal(w, 0);
	assert_int_equal(mta_body_flush(&b, buf, 0, &w), 0);
	assert_int_equal(w, 0);
	assert_int_equal(mta_body_flush(&b, buf, sizeof(buf), &w), 1);
	assert_int_equal(w, 7);
	assert_memory_equal(buf, "..\r\n.\r\n", 7);
	assert_int_equal(mta_body_error(&b), MTA_BODY_E_NONE);
	assert_int_equal(mta_body_reason(MTA_BODY_E_DONE + 1)[0], 'u');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_exhaustive),
		cmocka_unit_test(test_after_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
