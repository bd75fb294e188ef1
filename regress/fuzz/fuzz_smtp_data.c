/*
 * libFuzzer target for the message body reader (SECURITY.md F1, M1,
 * M2): DATA framing and dot-unstuffing, BDAT pass-through, the header
 * end the session inserts fields at.
 *
 * Input: three control bytes, then the message text as it arrives.
 *	byte 0, bit 0	BDAT mode (else DATA)
 *	byte 0, bits 1-3 how the text is fed, see feed_all(): whole, byte
 *			by byte, chunks of sizes taken from the text
 *			itself, out buffers of SMTP_DATA_OUT_MIN octets,
 *			both; BDAT ends with smtp_data_bdat_end()
 *	bytes 1-2	size_max, big-endian (0..65535)
 * Invariants, the text being fed whole as well as in the chosen pattern:
 *  - DATA: done exactly when the text holds the end, found by a plain
 *    scan (".\r\n" at the very start, else the first "\r\n.\r\n"), and
 *    then exactly the octets up to it are consumed; else all of them;
 *  - the output never exceeds size_max octets and is the start of the
 *    reference unstuffing of what was consumed (the leading dot of each
 *    line removed, the final ".\r\n" dropped): all of it when within
 *    size_max, less at most the one CR held at the end when not done;
 *    BDAT: the input itself, less at most a final held CR when rejected;
 *  - more than size_max octets, or a bare CR or LF, gets a verdict; a
 *    verdict is NULL or a 5xx with a "5." enhanced code;
 *  - smtp_data_header_ended() at most once per message, and then the
 *    call wrote at least two octets, the last two "\r\n";
 *  - every feeding pattern gives the same output, the same header end
 *    and the same verdict.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_data.h"

#define FUZZ_NAME	"fuzz_smtp_data"
#include "fuzz.h"

#define OUTCAP		4096

enum pattern {
	FEED_WHOLE, FEED_BYTES, FEED_CHUNKS, FEED_SMALL_OUT,
	FEED_CHUNKS_SMALL_OUT, FEED_COUNT
};

struct run {
	uint8_t				*out;	/* all output, in order */
	size_t				 outlen;
	size_t				 consumed;
	int				 done;
	int				 header_ends;
	size_t				 header_at;	/* outlen there */
	const struct smtp_data_err	*verdict;
};

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Chunk sizes come from the text, cycling: 1..256 octets. */
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

static void
feed_all(struct run *r, const uint8_t *in, size_t len, int bdat,
    uint64_t size_max, enum pattern pat)
{
	struct smtp_data	 d;
	uint8_t			*buf;
	size_t			 outcap, pos = 0, end, n, o, k = 0;

	outcap = pat == FEED_SMALL_OUT || pat == FEED_CHUNKS_SMALL_OUT ?
	    SMTP_DATA_OUT_MIN : OUTCAP;
	/* Exactly sized, so that ASan sees a write past outcap. */
	if ((buf = malloc(outcap)) == NULL ||
	    (r->out = malloc(len * 2 + 1)) == NULL)
		fuzz_die("out of memory");
	r->outlen = 0;
	r->header_ends = 0;
	r->header_at = 0;
	smtp_data_init(&d, size_max, bdat);
	while (pos < len && !smtp_data_done(&d)) {
		switch (pat) {
		case FEED_BYTES:
			end = pos + 1;
			break;
		case FEED_CHUNKS:
		case FEED_CHUNKS_SMALL_OUT:
			n = chunk_len(in, len, &k);
			end = n > len - pos ? len : pos + n;
			break;
		default:
			end = len;
			break;
		}
		/* The session feeds what is left of the chunk again. */
		while (pos < end && !smtp_data_done(&d)) {
			o = (size_t)-1;
			n = smtp_data_feed(&d, in + pos, end - pos, buf, outcap,
			    &o);
			if (n == 0 || n > end - pos)
				fuzz_die("feed consumed %zu of %zu octets", n,
				    end - pos);
			if (o > outcap)
				fuzz_die("feed wrote past outcap");
			if (smtp_data_header_ended(&d)) {
				if (++r->header_ends > 1)
					fuzz_die("header ended twice");
				if (o < 2 || buf[o - 2] != '\r' ||
				    buf[o - 1] != '\n')
					fuzz_die("header end not after CRLF "
					    "in this call's output");
				r->header_at = r->outlen + o - 2;
			}
			if (r->outlen + o > len * 2 + 1)
				fuzz_die("more output than twice the input");
			memcpy(r->out + r->outlen, buf, o);
			r->outlen += o;
			pos += n;
		}
	}
	if (bdat) {
		if (smtp_data_done(&d))
			fuzz_die("BDAT done before its end");
		smtp_data_bdat_end(&d);
	}
	r->consumed = pos;
	r->done = smtp_data_done(&d);
	r->verdict = smtp_data_verdict(&d);
	free(buf);
}

/* DATA: where the end is (just past it), or 0 when there is none. */
static size_t
ref_end(const uint8_t *in, size_t len)
{
	size_t	 i;

	if (len >= 3 && memcmp(in, ".\r\n", 3) == 0)
		return 3;
	for (i = 0; i + 5 <= len; i++)
		if (memcmp(in + i, "\r\n.\r\n", 5) == 0)
			return i + 5;
	return 0;
}

/* DATA: the leading dot of each line removed. */
static size_t
ref_unstuff(const uint8_t *in, size_t len, uint8_t *out)
{
	size_t	 i, o = 0;

	for (i = 0; i < len; i++) {
		if (in[i] == '.' && (i == 0 ||
		    (i >= 2 && in[i - 2] == '\r' && in[i - 1] == '\n')))
			continue;
		out[o++] = in[i];
	}
	return o;
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
check_run(const struct run *r, const uint8_t *in, size_t len, int bdat,
    uint64_t size_max)
{
	const struct smtp_data_err	*v = r->verdict;
	uint8_t				*ref;
	size_t				 end, rlen, want;

	if (v != NULL && (v->code < 500 || v->code > 599 ||
	    v->enhanced == NULL || strncmp(v->enhanced, "5.", 2) != 0 ||
	    v->text == NULL || v->text[0] == '\0' || !fuzz_printable(v->text)))
		fuzz_die("verdict not a 5xx reply");
	if (r->outlen > size_max)
		fuzz_die("%zu octets out, over size_max %llu", r->outlen,
		    (unsigned long long)size_max);
	if ((ref = malloc(len + 1)) == NULL)
		fuzz_die("out of memory");

	if (bdat) {
		if (!r->done || r->consumed != len)
			fuzz_die("BDAT not done, or input left");
		want = len < size_max ? len : (size_t)size_max;
		if (r->outlen > want || memcmp(r->out, in, r->outlen) != 0)
			fuzz_die("BDAT output is not the input");
		/* Only a final CR held as a possible header end is lost. */
		if (r->outlen != want && (v == NULL || r->outlen + 1 != want ||
		    in[want - 1] != '\r'))
			fuzz_die("BDAT output short of the input");
		if ((len > size_max || has_bare(in, len)) && v == NULL)
			fuzz_die("BDAT text too big or with bare CR/LF "
			    "accepted");
		free(ref);
		return;
	}

	end = ref_end(in, len);
	if (r->done != (end != 0))
		fuzz_die("done is %d, the reference says %d", r->done,
		    end != 0);
	if (r->consumed != (end ? end : len))
		fuzz_die("consumed %zu octets, the end is at %zu", r->consumed,
		    end ? end : len);
	rlen = ref_unstuff(in, end ? end - 3 : len, ref);
	want = rlen < size_max ? rlen : (size_t)size_max;
	if (r->outlen > want || memcmp(r->out, ref, r->outlen) != 0)
		fuzz_die("output is not the unstuffed input");
	if (r->outlen != want && (end != 0 || r->outlen + 1 != want ||
	    ref[want - 1] != '\r'))
		fuzz_die("output short of the unstuffed input");
	if (end != 0 && v == NULL &&
	    (rlen > size_max || has_bare(in, end)))
		fuzz_die("DATA text too big or with bare CR/LF accepted");
	free(ref);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run	 whole, other;
	enum pattern	 pat;
	uint64_t	 size_max;
	int		 bdat;

	if (size < 3)
		return 0;
	bdat = data[0] & 1;
	pat = (enum pattern)(((data[0] >> 1) & 7) % FEED_COUNT);
	size_max = (uint64_t)data[1] << 8 | data[2];
	data += 3;
	size -= 3;

	feed_all(&whole, data, size, bdat, size_max, FEED_WHOLE);
	check_run(&whole, data, size, bdat, size_max);
	if (pat != FEED_WHOLE) {
		feed_all(&other, data, size, bdat, size_max, pat);
		check_run(&other, data, size, bdat, size_max);
		if (other.outlen != whole.outlen ||
		    memcmp(other.out, whole.out, whole.outlen) != 0)
			fuzz_die("feeding pattern %d changes the output", pat);
		if (other.verdict != whole.verdict)
			fuzz_die("feeding pattern %d changes the verdict",
			    pat);
		if (other.header_ends != whole.header_ends ||
		    other.header_at != whole.header_at)
			fuzz_die("feeding pattern %d changes the header end",
			    pat);
		free(other.out);
	}
	free(whole.out);
	return 0;
}
