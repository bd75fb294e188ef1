/*
 * libFuzzer target for the rate counters read back from the state
 * database (lka/rate.c): rate_decode() of any bytes, then checks and uses
 * at times taken from the input.
 *
 * Input: the first 8 octets pick a time (ms, any int64, negative and
 * huge included) and the limits; the rest is the stored counter.
 * Invariants: decode accepts only RATE_ENCODED_LEN octets; what it
 * accepts encodes back to a counter that decodes to the same encoding;
 * a refused check changes nothing; an accepted one raises the use of
 * every window by exactly one (below saturation); a refusal's retry is
 * not before now.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../lka/rate.h"

#define FUZZ_NAME	"fuzz_rate"
#include "fuzz.h"

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const struct rate_windows win = {
	{ 60 * 1000, 3600 * 1000, 24 * 3600 * 1000 }
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	static struct rate_counter	 c, again;
	static uint8_t			 enc[RATE_ENCODED_LEN];
	static uint8_t			 enc2[RATE_ENCODED_LEN];
	struct rate_refusal		 no;
	uint64_t			 lim[RATE_NWINDOWS], before, after;
	int64_t				 now = 0;
	int				 w, k, rc;
	size_t				 i;

	if (len < 8)
		return 0;
	for (i = 0; i < 8; i++)
		now = (int64_t)((uint64_t)now << 8 | data[i]);
	for (w = 0; w < RATE_NWINDOWS; w++)
		lim[w] = data[w] % 4 == 0 ? 0 : data[w] % 16;
	data += 8;
	len -= 8;
	rc = rate_decode(&c, &win, data, len);
	if (rc == 0 && len != RATE_ENCODED_LEN)
		fuzz_die("decode accepted %zu octets", len);
	if (rc != 0)
		return 0;
	rate_encode(&c, &win, enc);
	if (rate_decode(&again, &win, enc, sizeof(enc)) != 0)
		fuzz_die("our own encoding refused");
	rate_encode(&again, &win, enc2);
	if (memcmp(enc, enc2, sizeof(enc)) != 0)
		fuzz_die("encoding not stable");
	for (k = 0; k < RATE_NKINDS; k++) {
		memcpy(&again, &c, sizeof(c));
		before = rate_use(&c, &win, RATE_MINUTE, k, now);
		if (rate_check(&c, &win, k, lim, now, &no) == 0) {
			after = rate_use(&c, &win, RATE_MINUTE, k, now);
			if (before < UINT32_MAX && after != before + 1)
				fuzz_die("accepted: use %llu -> %llu",
				    (unsigned long long)before,
				    (unsigned long long)after);
		} else {
			if (memcmp(&again, &c, sizeof(c)) != 0)
				fuzz_die("a refusal changed the counter");
			if (no.retry < now)
				fuzz_die("retry before now");
		}
	}
	return 0;
}
