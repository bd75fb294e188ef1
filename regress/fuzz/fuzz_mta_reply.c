/*
 * libFuzzer target for what the mta process reads from and writes to a
 * remote server (SECURITY.md O1, O2, F2, CVE-2020-8794): the reply
 * parser and, in a second mode, the outbound DATA body writer.
 *
 * Input: two control bytes, then the bytes.
 *	byte 0, bit 0	0: the bytes are what a server sends (mta_reply);
 *			1: they are a stored message (mta_body)
 *	byte 0, bits 1-2 how they are fed besides whole: byte by byte
 *			(0 or 1), chunks of sizes taken from the bytes
 *			themselves (2), the same with out buffers of 1..3
 *			octets (3; mta_reply: chunks)
 *	byte 1		mta_reply: replies awaited (0..255)
 * Invariants for mta_reply, every pattern against the whole input:
 *  - no read past the input (ASan: libFuzzer's buffer is exact);
 *  - every reply has a code 200..559 equal to the first three octets of
 *    its bytes, which end with CRLF and hold no NUL, bare CR or bare LF;
 *    its text is printable ASCII, strlen() == len <= MTA_REPLY_TEXT_MAX;
 *    an enhanced code starts with the code's first digit;
 *  - no more replies than awaited, and input left after the last one
 *    is MTA_REPLY_E_UNEXPECTED;
 *  - the same replies, error and stopping point in every pattern.
 * Invariants for mta_body:
 *  - the output has no bare CR or LF and no line starting with a single
 *    "." but the terminator, which ends it;
 *  - an error exactly when the input has a bare CR or LF; else the
 *    output is the reference wire form (stuffing, CRLF, ".\r\n");
 *  - the same output and error in every pattern.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../mta/mta_body.h"
#include "../../mta/mta_reply.h"

#define FUZZ_NAME	"fuzz_mta_reply"
#include "fuzz.h"

#define REPLIES_KEPT	8	/* compared in detail; the rest counted */

enum pattern { FEED_WHOLE, FEED_BYTES, FEED_CHUNKS, FEED_SMALL_OUT };

struct rrun {
	int			 nreplies;
	int			 code[REPLIES_KEPT];
	uint32_t		 hash[REPLIES_KEPT];	/* of the reply */
	enum mta_reply_error	 error;
	size_t			 consumed;
};

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Chunk sizes come from the input, cycling: 1..256 octets. */
static size_t
chunk_len(const uint8_t *in, size_t len, size_t *k)
{
	size_t	 n;

	if (len == 0)
		return 1;
	n = (size_t)in[*k % len] + 1;
	(*k)++;
	return n;
}

static uint32_t
fnv(uint32_t h, const void *p, size_t n)
{
	const uint8_t	*s = p;

	while (n-- > 0)
		h = (h ^ *s++) * 16777619u;
	return h;
}

static void
check_reply(const struct mta_reply *r, const uint8_t *span, size_t n)
{
	size_t	 i;

	if (r->code < 200 || r->code > 559 || r->code / 10 % 10 > 5)
		fuzz_die("code %d", r->code);
	if (n < 5 || span[0] != '0' + r->code / 100 ||
	    span[1] != '0' + r->code / 10 % 10 ||
	    span[2] != '0' + r->code % 10)
		fuzz_die("code %d is not the reply's first octets", r->code);
	if (span[n - 2] != '\r' || span[n - 1] != '\n')
		fuzz_die("reply does not end with CRLF");
	for (i = 0; i < n; i++) {
		if (span[i] == '\0')
			fuzz_die("NUL accepted");
		if (span[i] == '\r' && (i + 1 == n || span[i + 1] != '\n'))
			fuzz_die("bare CR accepted");
		if (span[i] == '\n' && (i == 0 || span[i - 1] != '\r'))
			fuzz_die("bare LF accepted");
	}
	if (r->len > MTA_REPLY_TEXT_MAX || strlen(r->text) != r->len)
		fuzz_die("text length %zu", r->len);
	if (!fuzz_printable(r->text))
		fuzz_die("text not printable");
	if (r->nlines < 1 || r->nlines > MTA_REPLY_LINES_MAX)
		fuzz_die("%d lines", r->nlines);
	if (r->enhanced[0] != '\0' && (r->enhanced[0] != span[0] ||
	    strlen(r->enhanced) > 9 || !fuzz_printable(r->enhanced)))
		fuzz_die("enhanced code \"%s\" for %d", r->enhanced, r->code);
}

static void
reply_run(struct rrun *rr, const uint8_t *in, size_t len,
    unsigned int pending, enum pattern pat)
{
	struct mta_reply_parser	*p;
	const struct mta_reply	*r;
	enum mta_reply_status	 st;
	size_t			 pos = 0, start = 0, end, used, k = 0;
	uint32_t		 h;

	if ((p = malloc(sizeof(*p))) == NULL)
		fuzz_die("out of memory");
	memset(rr, 0, sizeof(*rr));
	mta_reply_init(p);
	if (mta_reply_expect(p, pending) == -1)
		fuzz_die("expect %u", pending);
	while (pos < len) {
		if (pat == FEED_BYTES)
			end = pos + 1;
		else if (pat == FEED_CHUNKS) {
			end = pos + chunk_len(in, len, &k);
			if (end > len)
				end = len;
		} else
			end = len;
		st = mta_reply_feed(p, in + pos, end - pos, &used);
		if (used > end - pos)
			fuzz_die("consumed %zu of %zu", used, end - pos);
		pos += used;
		if (st == MTA_REPLY_ERROR) {
			if (used == 0)
				fuzz_die("error without an offending byte");
			break;
		}
		if (st == MTA_REPLY_MORE) {
			if (pos != end)
				fuzz_die("MORE with input left");
			continue;
		}
		if ((r = mta_reply_get(p)) == NULL)
			fuzz_die("READY without a reply");
		check_reply(r, in + start, pos - start);
		if (++rr->nreplies > (int)pending)
			fuzz_die("more replies than awaited");
		if (rr->nreplies <= REPLIES_KEPT) {
			h = fnv(2166136261u, r->text, r->len);
			h = fnv(h, r->enhanced, strlen(r->enhanced));
			h = fnv(h, &r->nlines, sizeof(r->nlines));
			h = fnv(h, &r->nsubst, sizeof(r->nsubst));
			rr->code[rr->nreplies - 1] = r->code;
			rr->hash[rr->nreplies - 1] = h;
		}
		start = pos;
		/*
		 * Only asked while replies are awaited (or nothing is left):
		 * then it must not refuse.  Otherwise the rest is fed on and
		 * the parser must refuse it by itself.
		 */
		if ((rr->nreplies < (int)pending || pos == len) &&
		    mta_reply_drained(p, len - pos) != 0)
			fuzz_die("drained refused while replies are awaited");
	}
	rr->error = mta_reply_error(p);
	rr->consumed = pos;
	if (rr->nreplies == (int)pending && pos < len &&
	    rr->error != MTA_REPLY_E_UNEXPECTED)
		fuzz_die("input after the last awaited reply not refused");
	if (rr->error == MTA_REPLY_E_UNEXPECTED &&
	    rr->nreplies != (int)pending)
		fuzz_die("unexpected data while replies are awaited");
	free(p);
}

static void
fuzz_reply(const uint8_t *in, size_t len, unsigned int pending,
    enum pattern pat)
{
	struct rrun	 whole, other;
	int		 i;

	reply_run(&whole, in, len, pending, FEED_WHOLE);
	if (pat == FEED_WHOLE)
		pat = FEED_BYTES;
	else if (pat == FEED_SMALL_OUT)
		pat = FEED_CHUNKS;
	reply_run(&other, in, len, pending, pat);
	if (other.nreplies != whole.nreplies || other.error != whole.error ||
	    other.consumed != whole.consumed)
		fuzz_die("pattern %d: %d replies, error %d at %zu; whole: %d, "
		    "%d at %zu", pat, other.nreplies, other.error,
		    other.consumed, whole.nreplies, whole.error,
		    whole.consumed);
	for (i = 0; i < whole.nreplies && i < REPLIES_KEPT; i++)
		if (other.code[i] != whole.code[i] ||
		    other.hash[i] != whole.hash[i])
			fuzz_die("pattern %d: reply %d differs", pat, i);
}

/* Body writer. */

struct brun {
	uint8_t			*out;
	size_t			 outlen;
	enum mta_body_error	 error;
	int			 flushed;
};

static void
body_run(struct brun *br, const uint8_t *in, size_t len, enum pattern pat)
{
	struct mta_body	 b;
	uint8_t		*buf;
	size_t		 max = len * 2 + 5, pos = 0, end, cap, n, w, k = 0;

	if ((br->out = malloc(max)) == NULL || (buf = malloc(4096)) == NULL)
		fuzz_die("out of memory");
	br->outlen = 0;
	br->flushed = 0;
	mta_body_init(&b);
	for (;;) {
		cap = pat == FEED_SMALL_OUT ? 1 + k % 3 : 4096;
		if (pos == len) {
			br->flushed = mta_body_flush(&b, buf, cap, &w);
			if (br->flushed == 0 && w == 0)
				fuzz_die("flush made no progress");
		} else {
			if (pat == FEED_BYTES)
				end = pos + 1;
			else if (pat == FEED_CHUNKS || pat == FEED_SMALL_OUT) {
				end = pos + chunk_len(in, len, &k);
				if (end > len)
					end = len;
			} else
				end = len;
			n = mta_body_feed(&b, in + pos, end - pos, buf, cap,
			    &w);
			if (n > end - pos)
				fuzz_die("body consumed %zu of %zu", n,
				    end - pos);
			pos += n;
			if (n == 0 && w == 0 &&
			    mta_body_error(&b) == MTA_BODY_E_NONE)
				fuzz_die("body made no progress");
		}
		k++;
		if (w > cap || br->outlen + w > max)
			fuzz_die("body wrote %zu into %zu", w, cap);
		memcpy(br->out + br->outlen, buf, w);
		br->outlen += w;
		if (mta_body_error(&b) != MTA_BODY_E_NONE) {
			br->flushed = -1;
			break;
		}
		if (br->flushed == 1)
			break;
	}
	br->error = mta_body_error(&b);
	free(buf);
}

/* The wire form by the book: split on CRLF, stuff, join, terminate. */
static size_t
ref_wire(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t	 i, o = 0;
	int	 bol = 1;

	for (i = 0; i < len; i++) {
		if (bol && in[i] == '.')
			out[o++] = '.';
		out[o++] = in[i];
		bol = i >= 1 && in[i - 1] == '\r' && in[i] == '\n';
	}
	if (!bol)
		o += (memcpy(out + o, "\r\n", 2), 2);
	memcpy(out + o, ".\r\n", 3);
	return o + 3;
}

static int
has_bare(const uint8_t *in, size_t len)
{
	size_t	 i;

	for (i = 0; i < len; i++) {
		if (in[i] == '\r' && (i + 1 == len || in[i + 1] != '\n'))
			return 1;
		if (in[i] == '\n' && (i == 0 || in[i - 1] != '\r'))
			return 1;
	}
	return 0;
}

static void
check_body(const struct brun *br, const uint8_t *in, size_t len)
{
	const uint8_t	*o = br->out;
	uint8_t		*ref;
	size_t		 i, n = br->outlen, rlen;

	if (has_bare(o, n))
		fuzz_die("bare CR or LF on the wire");
	for (i = 0; i < n; i++)
		if (o[i] == '.' && (i == 0 || o[i - 1] == '\n') &&
		    (i + 1 == n || o[i + 1] != '.') &&
		    !(br->flushed == 1 && i + 3 == n))
			fuzz_die("unstuffed dot at %zu", i);
	if ((br->error != MTA_BODY_E_NONE) != has_bare(in, len))
		fuzz_die("error %d, bare CR/LF in the input: %d", br->error,
		    has_bare(in, len));
	if (br->error != MTA_BODY_E_NONE) {
		if ((n == 3 && memcmp(o, ".\r\n", 3) == 0) || (n >= 5 &&
		    memcmp(o + n - 5, "\r\n.\r\n", 5) == 0))
			fuzz_die("terminator written despite an error");
		return;
	}
	if ((ref = malloc(len * 2 + 5)) == NULL)
		fuzz_die("out of memory");
	rlen = ref_wire(in, len, ref);
	if (rlen != n || memcmp(ref, o, n) != 0)
		fuzz_die("output is not the reference wire form");
	free(ref);
}

static void
fuzz_body(const uint8_t *in, size_t len, enum pattern pat)
{
	struct brun	 whole, other;

	body_run(&whole, in, len, FEED_WHOLE);
	check_body(&whole, in, len);
	if (pat == FEED_WHOLE)
		pat = FEED_BYTES;
	body_run(&other, in, len, pat);
	check_body(&other, in, len);
	if (other.outlen != whole.outlen || other.error != whole.error ||
	    memcmp(other.out, whole.out, whole.outlen) != 0)
		fuzz_die("pattern %d changes the body output", pat);
	free(whole.out);
	free(other.out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum pattern	 pat;
	unsigned int	 pending;
	int		 body;

	if (size < 2)
		return 0;
	body = data[0] & 1;
	pat = (enum pattern)((data[0] >> 1) & 3);
	pending = data[1];
	data += 2;
	size -= 2;
	if (body)
		fuzz_body(data, size, pat);
	else
		fuzz_reply(data, size, pending, pat);
	return 0;
}
