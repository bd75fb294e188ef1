/*
 * Per-connector rate counters (see rate.h).
 *
 * A window of nb buckets of width ms holds, at position slot % nb, the
 * counts of the slot it was last counted in.  The window at now covers
 * the slots (cur - nb, cur] with cur = now / width; a bucket holding any
 * other slot is stale: it is left out of the use and reset when counted
 * into.  Nothing here trusts the stored slots to match their position
 * (they come from the state database), so a bucket only counts for the
 * slot its position can hold.
 */
#include <string.h>

#include "rate.h"

#define RATE_VERSION	1

static const int	nbuckets[RATE_NWINDOWS] = {
	RATE_BUCKETS_MINUTE, RATE_BUCKETS_HOUR, RATE_BUCKETS_DAY
};

int
rate_buckets(enum rate_window w)
{
	if ((int)w < 0 || w >= RATE_NWINDOWS)
		return 0;
	return nbuckets[w];
}

const char *
rate_window_name(enum rate_window w)
{
	switch (w) {
	case RATE_MINUTE:
		return "minute";
	case RATE_HOUR:
		return "hour";
	case RATE_DAY:
		return "day";
	default:
		return "unknown";
	}
}

const char *
rate_kind_name(enum rate_kind k)
{
	switch (k) {
	case RATE_MESSAGES:
		return "messages";
	case RATE_RECIPIENTS:
		return "recipients";
	default:
		return "unknown";
	}
}

int
rate_windows_check(const struct rate_windows *win)
{
	int	 w;

	for (w = 0; w < RATE_NWINDOWS; w++) {
		if (win->len[w] < RATE_LEN_MIN || win->len[w] < nbuckets[w])
			return -1;
		if (w > 0 && win->len[w] < win->len[w - 1])
			return -1;
	}
	return 0;
}

void
rate_counter_init(struct rate_counter *c)
{
	memset(c, 0, sizeof(*c));
}

/*
 * The buckets are len / (nb - 1) wide, rounded up: the nb - 1 slots
 * before the current one alone cover the window's length, so a count
 * made anywhere in its slot stays in the window at least len ms (and at
 * most about one bucket more).  A limit is never exceeded over any span
 * of len ms.  Lengths rate_windows_check() refused never get here from
 * the config; a width of at least 1 still keeps a bad one from dividing
 * by zero.
 */
static int64_t
width(const struct rate_windows *win, int w)
{
	if (win->len[w] <= 0)
		return 1;
	/* Rounded up without len + nb - 2, which overflows near INT64_MAX. */
	return (win->len[w] - 1) / (nbuckets[w] - 1) + 1;
}

/* A clock stepped to before the epoch counts in slot 0, never below. */
static int64_t
cur_slot(const struct rate_windows *win, int w, int64_t now)
{
	return now < 0 ? 0 : now / width(win, w);
}

/* The bucket at pos counts at cur: its slot is in the window and its own. */
static int
live(const struct rate_bucket *b, int nb, int pos, int64_t cur)
{
	return b->slot >= 0 && b->slot <= cur && b->slot > cur - nb &&
	    b->slot % nb == pos;
}

/* The time the bucket of slot s leaves the window: (s + nb) * width. */
static int64_t
leaves(int64_t s, int nb, int64_t wd)
{
	if (s > INT64_MAX / wd - nb)
		return INT64_MAX;
	return (s + nb) * wd;
}

static uint64_t
use_at(const struct rate_counter *c, int w, enum rate_kind kind,
    int64_t cur)
{
	const struct rate_bucket	*b = c->b[w];
	uint64_t			 sum = 0;
	int				 pos, nb = nbuckets[w];

	for (pos = 0; pos < nb; pos++)
		if (live(&b[pos], nb, pos, cur))
			sum += b[pos].n[kind];
	return sum;
}

uint64_t
rate_use(const struct rate_counter *c, const struct rate_windows *win,
    enum rate_window w, enum rate_kind kind, int64_t now)
{
	if ((int)w < 0 || w >= RATE_NWINDOWS || (int)kind < 0 ||
	    kind >= RATE_NKINDS)
		return 0;
	return use_at(c, w, kind, cur_slot(win, w, now));
}

/*
 * The earliest time use + n <= limit holds in window w, counting nothing
 * more: the oldest buckets leave one at a time.  INT64_MAX when n alone
 * is over the limit.
 */
static int64_t
retry_at(const struct rate_counter *c, const struct rate_windows *win,
    int w, enum rate_kind kind, uint64_t use, uint32_t n, uint64_t limit,
    int64_t cur)
{
	const struct rate_bucket	*b = c->b[w];
	int64_t				 s, wd = width(win, w);
	int				 nb = nbuckets[w];

	for (s = cur - nb + 1; s <= cur; s++) {
		if (s < 0 || !live(&b[s % nb], nb, s % nb, cur))
			continue;
		use -= b[s % nb].n[kind];
		if (use + n <= limit)
			return leaves(s, nb, wd);
	}
	return INT64_MAX;
}

static void
count(struct rate_bucket *b, enum rate_kind kind, uint32_t n, int64_t cur)
{
	if (b->slot != cur) {
		memset(b, 0, sizeof(*b));
		b->slot = cur;
	}
	b->n[kind] = b->n[kind] > UINT32_MAX - n ? UINT32_MAX : b->n[kind] + n;
}

/*
 * n at once.  The refusal names the first full window, but its retry is
 * the latest of all full windows: before that another one still refuses,
 * and "room again from then on" would be a lie.
 */
static int
rate_check_n(struct rate_counter *c, const struct rate_windows *win,
    enum rate_kind kind, const uint64_t *limit, uint32_t n, int64_t now,
    struct rate_refusal *why)
{
	int64_t		 cur[RATE_NWINDOWS], retry;
	uint64_t	 use;
	int		 w, full = -1;

	if ((int)kind < 0 || kind >= RATE_NKINDS)
		return -1;
	for (w = 0; w < RATE_NWINDOWS; w++) {
		cur[w] = cur_slot(win, w, now);
		if (limit[w] == 0)
			continue;
		use = use_at(c, w, kind, cur[w]);
		if (use + n <= limit[w])
			continue;
		retry = retry_at(c, win, w, kind, use, n, limit[w], cur[w]);
		if (full == -1) {
			full = w;
			if (why != NULL) {
				why->window = w;
				why->limit = limit[w];
				why->retry = retry;
			}
		} else if (why != NULL && retry > why->retry)
			why->retry = retry;
	}
	if (full != -1)
		return -1;
	for (w = 0; w < RATE_NWINDOWS; w++)
		count(&c->b[w][cur[w] % nbuckets[w]], kind, n, cur[w]);
	return 0;
}

int
rate_check(struct rate_counter *c, const struct rate_windows *win,
    enum rate_kind kind, const uint64_t *limit, int64_t now,
    struct rate_refusal *why)
{
	return rate_check_n(c, win, kind, limit, 1, now, why);
}

static uint8_t *
put64(uint8_t *p, uint64_t v)
{
	int	 i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
	return p + 8;
}

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	int	 i;

	for (i = 3; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
	return p + 4;
}

static uint64_t
get64(const uint8_t **pp)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | (*pp)[i];
	*pp += 8;
	return v;
}

static uint32_t
get32(const uint8_t **pp)
{
	uint32_t	 v = 0;
	int		 i;

	for (i = 0; i < 4; i++)
		v = v << 8 | (*pp)[i];
	*pp += 4;
	return v;
}

void
rate_encode(const struct rate_counter *c, const struct rate_windows *win,
    uint8_t *out)
{
	const struct rate_bucket	*b;
	uint8_t				*p;
	int				 w, pos, k;

	memset(out, 0, RATE_ENCODED_LEN);
	p = put64(out, RATE_VERSION);
	for (w = 0; w < RATE_NWINDOWS; w++)
		p = put64(p, (uint64_t)win->len[w]);
	for (w = 0; w < RATE_NWINDOWS; w++) {
		for (pos = 0; pos < RATE_BUCKETS_MAX; pos++) {
			if (pos >= nbuckets[w]) {
				/* Already zero: a window's unused tail. */
				p += 8 + 4 * RATE_NKINDS;
				continue;
			}
			b = &c->b[w][pos];
			p = put64(p, (uint64_t)b->slot);
			for (k = 0; k < RATE_NKINDS; k++)
				p = put32(p, b->n[k]);
		}
	}
}

/*
 * Every slot is checked before the lengths are compared, so that a
 * corrupt record is an error whatever lengths it names.  The unused tail
 * of a window is skipped: nothing reads it.
 */
int
rate_decode(struct rate_counter *c, const struct rate_windows *win,
    const uint8_t *in, size_t len)
{
	const uint8_t	*p = in;
	int64_t		 elen[RATE_NWINDOWS];
	int		 w, pos, k, same = 1;

	rate_counter_init(c);
	if (len != RATE_ENCODED_LEN || get64(&p) != RATE_VERSION)
		return -1;
	for (w = 0; w < RATE_NWINDOWS; w++) {
		elen[w] = (int64_t)get64(&p);
		if (elen[w] != win->len[w])
			same = 0;
	}
	for (w = 0; w < RATE_NWINDOWS; w++) {
		for (pos = 0; pos < RATE_BUCKETS_MAX; pos++) {
			if (pos >= nbuckets[w]) {
				p += 8 + 4 * RATE_NKINDS;
				continue;
			}
			c->b[w][pos].slot = (int64_t)get64(&p);
			for (k = 0; k < RATE_NKINDS; k++)
				c->b[w][pos].n[k] = get32(&p);
			if (c->b[w][pos].slot < 0) {
				rate_counter_init(c);
				return -1;
			}
		}
	}
	/* Counts of other window lengths mean nothing in these. */
	if (!same)
		rate_counter_init(c);
	return 0;
}
