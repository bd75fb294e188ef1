/*
 * lka/rate.c: a limit of N takes N and refuses the next until the first
 * bucket leaves, exactly then; a count made late in its bucket still in
 * the window a whole window length later; the first full window named in
 * the order minute, hour, day; refusals counting nothing; limit 0 as none
 * but counted; the window sliding a bucket at a time; short windows as a
 * test config has them; a clock that goes back or is out of range;
 * saturated counts; the encoding byte for byte, its round trip and what
 * decode refuses; the window length table; and, on pseudo-random
 * arrivals, never more than the limit in any span of a window's length,
 * never a refusal with the window not (nearly) full, and retry times
 * that hold.
 */
#include <stdio.h>
#include <string.h>

#include "unit.h"

#include "rate.h"

#define SEC		1000LL
#define MIN		(60 * SEC)
#define HOUR		(60 * MIN)
#define DAY		(24 * HOUR)
#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))

/*
 * The bucket width of a window of len ms in nb buckets, as rate.h says:
 * len / (nb - 1) rounded up, so that the nb - 1 buckets before the
 * current one cover len.  Written apart from rate.c's on purpose.
 */
#define WD(len, nb)	(((len) + (nb) - 2) / ((nb) - 1))
#define MW		WD(MIN, RATE_BUCKETS_MINUTE)	/* 1017 ms */
#define HW		WD(HOUR, RATE_BUCKETS_HOUR)	/* 61017 ms */
#define DW		WD(DAY, RATE_BUCKETS_DAY)	/* 604196 ms */
/*
 * A time at which a bucket of each default window starts (about the year
 * 3159, in ms), as the start of a day was with buckets of 1 s, 1 min and
 * 10 min: T0 + k * MW is the start of the k-th minute bucket after it.
 */
#define T0		(MW * HW * DW)

static const struct rate_windows def_win = { { MIN, HOUR, DAY } };
/* The lengths the integration tests configure. */
static const struct rate_windows test_win = { { 2 * SEC, 10 * SEC, 60 * SEC } };

static int64_t
width_of(const struct rate_windows *win, enum rate_window w)
{
	return WD(win->len[w], rate_buckets(w));
}

/* When a count made at t leaves window w: nb widths after its slot began. */
static int64_t
leave(const struct rate_windows *win, enum rate_window w, int64_t t)
{
	int64_t	 wd = width_of(win, w);

	return (t / wd + rate_buckets(w)) * wd;
}

#define OK(c, win, kind, m, h, d, now) \
	ok_at(__LINE__, c, win, kind, m, h, d, now)
#define NO(c, win, kind, m, h, d, now, w, lim, retry) \
	no_at(__LINE__, c, win, kind, m, h, d, now, w, lim, retry)

static void
ok_at(int line, struct rate_counter *c, const struct rate_windows *win,
    enum rate_kind kind, uint64_t m, uint64_t h, uint64_t d, int64_t now)
{
	const uint64_t		 lim[RATE_NWINDOWS] = { m, h, d };
	struct rate_refusal	 why;

	if (rate_check(c, win, kind, lim, now, &why) != 0)
		fail_msg("line %d: refused at %lld by %s (limit %llu, "
		    "retry %lld)", line, (long long)now,
		    rate_window_name(why.window), (unsigned long long)why.limit,
		    (long long)why.retry);
}

/* Refused, and the refusal changed nothing. */
static void
no_at(int line, struct rate_counter *c, const struct rate_windows *win,
    enum rate_kind kind, uint64_t m, uint64_t h, uint64_t d, int64_t now,
    enum rate_window w, uint64_t limit, int64_t retry)
{
	const uint64_t		 lim[RATE_NWINDOWS] = { m, h, d };
	struct rate_counter	 before = *c;
	struct rate_refusal	 why;

	memset(&why, 0xa5, sizeof(why));
	if (rate_check(c, win, kind, lim, now, &why) != -1)
		fail_msg("line %d: accepted at %lld", line, (long long)now);
	if (why.window != w || why.limit != limit || why.retry != retry)
		fail_msg("line %d: refused by %s, limit %llu, retry %lld; "
		    "want %s, %llu, %lld", line, rate_window_name(why.window),
		    (unsigned long long)why.limit, (long long)why.retry,
		    rate_window_name(w), (unsigned long long)limit,
		    (long long)retry);
	if (memcmp(&before, c, sizeof(before)) != 0)
		fail_msg("line %d: a refusal changed the counter", line);
}

static void
use_is(int line, const struct rate_counter *c, const struct rate_windows *win,
    enum rate_kind kind, int64_t now, uint64_t m, uint64_t h, uint64_t d)
{
	const uint64_t	 want[RATE_NWINDOWS] = { m, h, d };
	int		 w;

	for (w = 0; w < RATE_NWINDOWS; w++)
		if (rate_use(c, win, w, kind, now) != want[w])
			fail_msg("line %d: %s use of the %s at %lld: %llu, "
			    "want %llu", line, rate_kind_name(kind),
			    rate_window_name(w), (long long)now,
			    (unsigned long long)rate_use(c, win, w, kind, now),
			    (unsigned long long)want[w]);
}
#define USE(c, win, kind, now, m, h, d) \
	use_is(__LINE__, c, win, kind, now, m, h, d)

static void
test_names(void **state)
{
	assert_string_equal(rate_window_name(RATE_MINUTE), "minute");
	assert_string_equal(rate_window_name(RATE_HOUR), "hour");
	assert_string_equal(rate_window_name(RATE_DAY), "day");
	assert_string_equal(rate_kind_name(RATE_MESSAGES), "messages");
	assert_string_equal(rate_kind_name(RATE_RECIPIENTS), "recipients");
	assert_non_null(rate_window_name(RATE_NWINDOWS));
	assert_non_null(rate_kind_name(RATE_NKINDS));
	assert_int_equal(rate_buckets(RATE_MINUTE), 60);
	assert_int_equal(rate_buckets(RATE_HOUR), 60);
	assert_int_equal(rate_buckets(RATE_DAY), 144);
	assert_int_equal(RATE_ENCODED_LEN, 8 + 24 + 3 * 144 * 16);
}

struct win_row {
	const char	*name;
	int64_t		 len[RATE_NWINDOWS];
	int		 want;
};

static const struct win_row win_rows[] = {
	{ "defaults", { MIN, HOUR, DAY }, 0 },
	{ "test config", { 2 * SEC, 10 * SEC, 60 * SEC }, 0 },
	{ "all at the minimum", { 1000, 1000, 1000 }, 0 },
	{ "all equal", { HOUR, HOUR, HOUR }, 0 },
	{ "huge", { INT64_MAX, INT64_MAX, INT64_MAX }, 0 },
	{ "minute under 1 s", { 999, HOUR, DAY }, -1 },
	{ "hour under 1 s", { 999, 999, DAY }, -1 },
	{ "day under 1 s", { 999, 999, 999 }, -1 },
	{ "minute 0", { 0, HOUR, DAY }, -1 },
	{ "minute negative", { -MIN, HOUR, DAY }, -1 },
	{ "day negative", { MIN, HOUR, -1 }, -1 },
	{ "day at INT64_MIN", { MIN, HOUR, INT64_MIN }, -1 },
	{ "hour shorter than minute", { MIN, MIN - 1, DAY }, -1 },
	{ "day shorter than hour", { MIN, HOUR, HOUR - 1 }, -1 },
	{ "day shorter than minute", { HOUR, HOUR, MIN }, -1 },
};

static void
test_windows_check(void **state)
{
	const struct win_row	*t;
	struct rate_windows	 win;
	size_t			 i;

	for (i = 0; i < NROWS(win_rows); i++) {
		t = &win_rows[i];
		memcpy(win.len, t->len, sizeof(win.len));
		if (rate_windows_check(&win) != t->want)
			fail_msg("row %zu (%s): %d, want %d", i, t->name,
			    rate_windows_check(&win), t->want);
	}
}

/*
 * Limit 5 a minute: five taken, the sixth refused until the bucket of the
 * first leaves the window at (slot + 60) * width, not a millisecond
 * before.  The widths first, as numbers: the arithmetic of the rest is
 * only as good as WD.
 */
static void
test_boundary(void **state)
{
	struct rate_counter	 c;
	int64_t			 t;
	int			 i;

	assert_int_equal(MW, 1017);
	assert_int_equal(HW, 61017);
	assert_int_equal(DW, 604196);
	assert_int_equal(width_of(&test_win, RATE_MINUTE), 34);
	assert_int_equal(width_of(&test_win, RATE_HOUR), 170);
	assert_int_equal(width_of(&test_win, RATE_DAY), 420);
	/* The narrowest width whose nb - 1 buckets cover the window. */
	assert_true(59 * MW >= MIN && 59 * (MW - 1) < MIN);
	assert_true(59 * HW >= HOUR && 59 * (HW - 1) < HOUR);
	assert_true(143 * DW >= DAY && 143 * (DW - 1) < DAY);

	rate_counter_init(&c);
	USE(&c, &def_win, RATE_MESSAGES, T0, 0, 0, 0);
	for (i = 0; i < 3; i++)
		OK(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0 + 400);
	for (i = 0; i < 2; i++)
		OK(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0 + 10 * MW + 999);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 10 * MW + 999, 5, 5, 5);
	NO(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0 + 10 * MW + 999,
	    RATE_MINUTE, 5, T0 + 60 * MW);
	NO(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0 + 60 * MW - 1,
	    RATE_MINUTE, 5, T0 + 60 * MW);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 60 * MW - 1, 5, 5, 5);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 60 * MW, 2, 5, 5);
	/* Three leave at once: room for three, then the next one waits. */
	for (i = 0; i < 3; i++)
		OK(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0 + 60 * MW);
	NO(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0 + 60 * MW,
	    RATE_MINUTE, 5, T0 + 70 * MW);
	NO(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0 + 70 * MW - 1,
	    RATE_MINUTE, 5, T0 + 70 * MW);
	OK(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0 + 70 * MW);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 70 * MW, 4, 9, 9);

	/* Limit 1: the simplest case, a count in the middle of a bucket. */
	rate_counter_init(&c);
	OK(&c, &def_win, RATE_RECIPIENTS, 1, 0, 0, T0 + 1500);
	NO(&c, &def_win, RATE_RECIPIENTS, 1, 0, 0, T0 + 1500,
	    RATE_MINUTE, 1, T0 + 61 * MW);
	NO(&c, &def_win, RATE_RECIPIENTS, 1, 0, 0, T0 + 61 * MW - 1,
	    RATE_MINUTE, 1, T0 + 61 * MW);
	OK(&c, &def_win, RATE_RECIPIENTS, 1, 0, 0, T0 + 61 * MW);

	/*
	 * A count in the last millisecond of its bucket is still in the
	 * window a whole window length later (with buckets of len / nb it
	 * would have left a bucket early), and leaves once its bucket does.
	 */
	rate_counter_init(&c);
	t = T0 + MW - 1;
	OK(&c, &def_win, RATE_MESSAGES, 1, 1, 1, t);
	USE(&c, &def_win, RATE_MESSAGES, t + MIN, 1, 1, 1);
	NO(&c, &def_win, RATE_MESSAGES, 1, 0, 0, t + MIN, RATE_MINUTE, 1,
	    T0 + 60 * MW);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 60 * MW, 0, 1, 1);
	USE(&c, &def_win, RATE_MESSAGES, t + HOUR, 0, 1, 1);
	NO(&c, &def_win, RATE_MESSAGES, 0, 1, 0, t + HOUR, RATE_HOUR, 1,
	    T0 + 60 * HW);
	USE(&c, &def_win, RATE_MESSAGES, t + DAY, 0, 0, 1);
	NO(&c, &def_win, RATE_MESSAGES, 0, 0, 1, t + DAY, RATE_DAY, 1,
	    T0 + 144 * DW);
	OK(&c, &def_win, RATE_MESSAGES, 0, 0, 1, T0 + 144 * DW);
}

/* Messages and recipients count apart. */
static void
test_kinds(void **state)
{
	struct rate_counter	 c;
	int			 i;

	rate_counter_init(&c);
	for (i = 0; i < 3; i++)
		OK(&c, &def_win, RATE_MESSAGES, 3, 0, 0, T0);
	for (i = 0; i < 7; i++)
		OK(&c, &def_win, RATE_RECIPIENTS, 7, 0, 0, T0);
	NO(&c, &def_win, RATE_MESSAGES, 3, 0, 0, T0, RATE_MINUTE, 3,
	    T0 + 60 * MW);
	NO(&c, &def_win, RATE_RECIPIENTS, 7, 0, 0, T0, RATE_MINUTE, 7,
	    T0 + 60 * MW);
	OK(&c, &def_win, RATE_RECIPIENTS, 8, 0, 0, T0);
	USE(&c, &def_win, RATE_MESSAGES, T0, 3, 3, 3);
	USE(&c, &def_win, RATE_RECIPIENTS, T0, 8, 8, 8);
}

/*
 * The hour or the day refuses while the minute has room, and names
 * itself; with several full, the first is named but the retry is when
 * all of them have room.
 */
static void
test_three_windows(void **state)
{
	struct rate_counter	 c;
	int			 i;

	/* Three an hour, one in each hour bucket (about a minute). */
	rate_counter_init(&c);
	for (i = 0; i < 3; i++)
		OK(&c, &def_win, RATE_MESSAGES, 10, 3, 0, T0 + i * HW);
	NO(&c, &def_win, RATE_MESSAGES, 10, 3, 0, T0 + 3 * HW,
	    RATE_HOUR, 3, T0 + 60 * HW);
	NO(&c, &def_win, RATE_MESSAGES, 10, 3, 0, T0 + 60 * HW - 1,
	    RATE_HOUR, 3, T0 + 60 * HW);
	OK(&c, &def_win, RATE_MESSAGES, 10, 3, 0, T0 + 60 * HW);
	NO(&c, &def_win, RATE_MESSAGES, 10, 3, 0, T0 + 60 * HW,
	    RATE_HOUR, 3, T0 + 61 * HW);

	/* Five a day, one each hour: the day names itself. */
	rate_counter_init(&c);
	for (i = 0; i < 5; i++)
		OK(&c, &def_win, RATE_RECIPIENTS, 10, 10, 5, T0 + i * HOUR +
		    7 * MIN);
	NO(&c, &def_win, RATE_RECIPIENTS, 10, 10, 5, T0 + 5 * HOUR,
	    RATE_DAY, 5, T0 + 144 * DW);
	NO(&c, &def_win, RATE_RECIPIENTS, 10, 10, 5, T0 + 144 * DW - 1,
	    RATE_DAY, 5, T0 + 144 * DW);
	OK(&c, &def_win, RATE_RECIPIENTS, 10, 10, 5, T0 + 144 * DW);
	USE(&c, &def_win, RATE_RECIPIENTS, T0 + 144 * DW, 1, 1, 5);

	/*
	 * Two a minute and two a day, both full: the minute is named, the
	 * retry is the day's (at the minute's own, the day still refuses).
	 * The minute is full until the bucket of the first leaves it, a
	 * minute after it was counted and a bit more.
	 */
	rate_counter_init(&c);
	OK(&c, &def_win, RATE_MESSAGES, 2, 0, 2, T0);
	OK(&c, &def_win, RATE_MESSAGES, 2, 0, 2, T0 + 5 * SEC);
	NO(&c, &def_win, RATE_MESSAGES, 2, 0, 2, T0 + 5 * SEC,
	    RATE_MINUTE, 2, T0 + 144 * DW);
	NO(&c, &def_win, RATE_MESSAGES, 2, 0, 2, T0 + MIN,
	    RATE_MINUTE, 2, T0 + 144 * DW);
	NO(&c, &def_win, RATE_MESSAGES, 2, 0, 2, T0 + 60 * MW - 1,
	    RATE_MINUTE, 2, T0 + 144 * DW);
	NO(&c, &def_win, RATE_MESSAGES, 2, 0, 2, T0 + 60 * MW,
	    RATE_DAY, 2, T0 + 144 * DW);
	/* Hour and day full, minute not: the hour named, the day's retry. */
	NO(&c, &def_win, RATE_MESSAGES, 5, 2, 2, T0 + 60 * MW,
	    RATE_HOUR, 2, T0 + 144 * DW);
	NO(&c, &def_win, RATE_MESSAGES, 5, 2, 2, T0 + 144 * DW - 1,
	    RATE_DAY, 2, T0 + 144 * DW);
	OK(&c, &def_win, RATE_MESSAGES, 2, 0, 2, T0 + 144 * DW);
}

/* A refusal counts nowhere, whichever window refuses. */
static void
test_refused_counts_nothing(void **state)
{
	struct rate_counter	 c;
	int			 i;

	rate_counter_init(&c);
	OK(&c, &def_win, RATE_MESSAGES, 1, 0, 0, T0);
	for (i = 0; i < 100; i++)
		NO(&c, &def_win, RATE_MESSAGES, 1, 0, 0, T0 + i * 100,
		    RATE_MINUTE, 1, T0 + 60 * MW);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 10 * SEC, 1, 1, 1);

	/* The hour refuses: the minute, with room, counts nothing either. */
	rate_counter_init(&c);
	OK(&c, &def_win, RATE_MESSAGES, 10, 1, 0, T0);
	for (i = 0; i < 100; i++)
		NO(&c, &def_win, RATE_MESSAGES, 10, 1, 0, T0 + i * SEC,
		    RATE_HOUR, 1, T0 + 60 * HW);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 99 * SEC, 0, 1, 1);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 30 * SEC, 1, 1, 1);

	/* The day refuses. */
	rate_counter_init(&c);
	OK(&c, &def_win, RATE_MESSAGES, 10, 10, 1, T0);
	NO(&c, &def_win, RATE_MESSAGES, 10, 10, 1, T0 + 1, RATE_DAY, 1,
	    T0 + 144 * DW);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 1, 1, 1, 1);
}

/* 0 is no limit, yet counted: a limit set later sees the past. */
static void
test_limit_zero(void **state)
{
	struct rate_counter	 c;
	struct rate_refusal	 why;
	const uint64_t		 none[RATE_NWINDOWS] = { 0, 0, 0 };
	int			 i;

	rate_counter_init(&c);
	for (i = 0; i < 10000; i++)
		if (rate_check(&c, &def_win, RATE_RECIPIENTS, none, T0 + i,
		    &why) != 0)
			fail_msg("limit 0 refused at %d", i);
	USE(&c, &def_win, RATE_RECIPIENTS, T0 + 9999, 10000, 10000, 10000);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 9999, 0, 0, 0);
	NO(&c, &def_win, RATE_RECIPIENTS, 0, 10000, 0, T0 + 9999,
	    RATE_HOUR, 10000, T0 + 60 * HW);
	NO(&c, &def_win, RATE_RECIPIENTS, 0, 0, 10000, T0 + 9999,
	    RATE_DAY, 10000, T0 + 144 * DW);
	OK(&c, &def_win, RATE_RECIPIENTS, 0, 10001, 0, T0 + 9999);
	/* The minute has forgotten them, the hour and the day not. */
	OK(&c, &def_win, RATE_RECIPIENTS, 0, 0, 0, T0 + 2 * MIN);
	USE(&c, &def_win, RATE_RECIPIENTS, T0 + 2 * MIN, 1, 10002, 10002);
}

/*
 * One a bucket for ten buckets under a limit of ten a minute: from the
 * end of the minute on, the window takes one more each bucket as the
 * bucket of each earlier one leaves.
 */
static void
test_sliding(void **state)
{
	struct rate_counter	 c;
	int64_t			 t;
	int			 i;

	rate_counter_init(&c);
	for (i = 0; i < 10; i++)
		OK(&c, &def_win, RATE_MESSAGES, 10, 0, 0, T0 + i * MW + 250);
	NO(&c, &def_win, RATE_MESSAGES, 10, 0, 0, T0 + 30 * MW,
	    RATE_MINUTE, 10, T0 + 60 * MW);
	for (i = 0; i < 10; i++) {
		t = T0 + (60 + i) * MW;
		USE(&c, &def_win, RATE_MESSAGES, t - 1, 10, 10 + i, 10 + i);
		USE(&c, &def_win, RATE_MESSAGES, t, 9, 10 + i, 10 + i);
		OK(&c, &def_win, RATE_MESSAGES, 10, 0, 0, t);
		/* The last leaves the originals behind: the first new one. */
		NO(&c, &def_win, RATE_MESSAGES, 10, 0, 0, t, RATE_MINUTE, 10,
		    i < 9 ? t + MW : T0 + 120 * MW);
	}
	/* Nothing more: the use drains a bucket at a time. */
	for (i = 0; i <= 10; i++)
		USE(&c, &def_win, RATE_MESSAGES, T0 + (120 + i) * MW - 1,
		    10 - i, 20, 20);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 11 * MIN + 250, 0, 20, 20);
	/* The originals are in the first hour bucket, the new ones next. */
	USE(&c, &def_win, RATE_MESSAGES, T0 + 60 * HW - 1, 0, 20, 20);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 60 * HW, 0, 10, 20);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 61 * HW - 1, 0, 10, 20);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 61 * HW, 0, 0, 20);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 144 * DW - 1, 0, 0, 20);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 144 * DW, 0, 0, 0);
	/* Long after: every bucket stale, the ring reused cleanly. */
	OK(&c, &def_win, RATE_MESSAGES, 1, 1, 1, T0 + 7 * DAY + 3 * SEC);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 7 * DAY + 3 * SEC, 1, 1, 1);
}

/*
 * A limit lowered below the use: the retry waits for as many buckets to
 * leave as it takes, not just the first.
 */
static void
test_lowered_limit(void **state)
{
	struct rate_counter	 c;
	int			 i;

	rate_counter_init(&c);
	for (i = 0; i < 4; i++)
		OK(&c, &def_win, RATE_MESSAGES, 0, 0, 0, T0 + 10);
	for (i = 0; i < 3; i++)
		OK(&c, &def_win, RATE_MESSAGES, 0, 0, 0, T0 + 5 * MW + 500);
	for (i = 0; i < 3; i++)
		OK(&c, &def_win, RATE_MESSAGES, 0, 0, 0, T0 + 10 * MW - 1);
	/* 10 used, limit 3: 6 after the first leaves, 3, then 0. */
	NO(&c, &def_win, RATE_MESSAGES, 3, 0, 0, T0 + 10 * MW,
	    RATE_MINUTE, 3, T0 + 69 * MW);
	NO(&c, &def_win, RATE_MESSAGES, 6, 0, 0, T0 + 10 * MW,
	    RATE_MINUTE, 6, T0 + 65 * MW);
	NO(&c, &def_win, RATE_MESSAGES, 7, 0, 0, T0 + 10 * MW,
	    RATE_MINUTE, 7, T0 + 60 * MW);
	NO(&c, &def_win, RATE_MESSAGES, 10, 0, 0, T0 + 10 * MW,
	    RATE_MINUTE, 10, T0 + 60 * MW);
	NO(&c, &def_win, RATE_MESSAGES, 3, 0, 0, T0 + 69 * MW - 1,
	    RATE_MINUTE, 3, T0 + 69 * MW);
	OK(&c, &def_win, RATE_MESSAGES, 3, 0, 0, T0 + 69 * MW);
}

/*
 * Windows of 2 s, 10 s and 60 s: buckets of 34, 170 and 420 ms (rounded
 * up, so that the 59, 59 and 143 buckets before the current one cover
 * 2006, 10030 and 60060 ms), and a start in the middle of all three.
 */
static void
test_short_windows(void **state)
{
	static const struct rate_windows odd = {
		{ 59 * 17 + 1, 59 * 60 + 1, 143 * 142 + 1 }
	};
	struct rate_counter	 c;
	int64_t			 t = 1000000, lm, lh, ld;
	int			 i;

	assert_int_equal(rate_windows_check(&test_win), 0);
	lm = leave(&test_win, RATE_MINUTE, t);
	lh = leave(&test_win, RATE_HOUR, t);
	ld = leave(&test_win, RATE_DAY, t);
	/* Minute slot 29411 leaves at (29411 + 60) * 34, and so on. */
	assert_int_equal(lm, 1002014);
	assert_int_equal(lh, 1010140);
	assert_int_equal(ld, 1060080);
	rate_counter_init(&c);
	/* 3 per 2 s, 5 per 10 s, 8 per 60 s. */
	for (i = 0; i < 3; i++)
		OK(&c, &test_win, RATE_MESSAGES, 3, 5, 8, t);
	NO(&c, &test_win, RATE_MESSAGES, 3, 5, 8, t, RATE_MINUTE, 3, lm);
	NO(&c, &test_win, RATE_MESSAGES, 3, 5, 8, lm - 1, RATE_MINUTE, 3,
	    lm);
	OK(&c, &test_win, RATE_MESSAGES, 3, 5, 8, lm);
	OK(&c, &test_win, RATE_MESSAGES, 3, 5, 8, lm);
	NO(&c, &test_win, RATE_MESSAGES, 3, 5, 8, lm, RATE_HOUR, 5, lh);
	NO(&c, &test_win, RATE_MESSAGES, 3, 5, 8, lh - 1, RATE_HOUR, 5, lh);
	USE(&c, &test_win, RATE_MESSAGES, lh - 1, 0, 5, 5);
	USE(&c, &test_win, RATE_MESSAGES, lh, 0, 2, 5);
	for (i = 0; i < 3; i++)
		OK(&c, &test_win, RATE_MESSAGES, 3, 5, 8, lh);
	NO(&c, &test_win, RATE_MESSAGES, 4, 0, 8, lh, RATE_DAY, 8, ld);
	NO(&c, &test_win, RATE_MESSAGES, 4, 0, 8, ld - 1, RATE_DAY, 8, ld);
	OK(&c, &test_win, RATE_MESSAGES, 3, 5, 8, ld);
	USE(&c, &test_win, RATE_MESSAGES, ld, 1, 1, 6);

	/*
	 * 1 ms past a multiple of nb - 1 rounds up to the next width: 1004
	 * ms in buckets of 18 (59 of 17 would cover 1003), 3541 in 61,
	 * 20307 in 143.  A count at 0 leaves at nb widths.
	 */
	assert_int_equal(rate_windows_check(&odd), 0);
	assert_int_equal(width_of(&odd, RATE_MINUTE), 18);
	assert_int_equal(width_of(&odd, RATE_HOUR), 61);
	assert_int_equal(width_of(&odd, RATE_DAY), 143);
	rate_counter_init(&c);
	OK(&c, &odd, RATE_RECIPIENTS, 1, 1, 1, 17);
	NO(&c, &odd, RATE_RECIPIENTS, 1, 0, 0, 1079, RATE_MINUTE, 1, 1080);
	NO(&c, &odd, RATE_RECIPIENTS, 1, 1, 0, 1080, RATE_HOUR, 1, 3660);
	NO(&c, &odd, RATE_RECIPIENTS, 1, 1, 1, 3659, RATE_HOUR, 1, 20592);
	NO(&c, &odd, RATE_RECIPIENTS, 0, 0, 1, 20591, RATE_DAY, 1, 20592);
	OK(&c, &odd, RATE_RECIPIENTS, 1, 1, 1, 20592);
}

/*
 * The clock steps back: buckets ahead of now are left out and never
 * crash anything; a time before the epoch counts in slot 0.
 */
static void
test_clock_back(void **state)
{
	static const struct rate_windows huge = {
		{ INT64_MAX, INT64_MAX, INT64_MAX }
	};
	struct rate_counter	 c;
	uint8_t			 enc[RATE_ENCODED_LEN];
	struct rate_counter	 d;
	int64_t			 back;
	int			 i, w, pos;

	rate_counter_init(&c);
	for (i = 0; i < 5; i++)
		OK(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0 + 30 * SEC);
	/* 30 s is in minute bucket 29 after T0's. */
	NO(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0 + 30 * SEC,
	    RATE_MINUTE, 5, T0 + 89 * MW);
	/* 30 s back: the minute's bucket is ahead, the hour's is current. */
	USE(&c, &def_win, RATE_MESSAGES, T0, 0, 5, 5);
	OK(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0);
	USE(&c, &def_win, RATE_MESSAGES, T0, 1, 6, 6);
	/* Forward again: the counts ahead are in the window once more. */
	USE(&c, &def_win, RATE_MESSAGES, T0 + 30 * SEC, 6, 6, 6);
	NO(&c, &def_win, RATE_MESSAGES, 5, 0, 0, T0 + 30 * SEC,
	    RATE_MINUTE, 5, T0 + 89 * MW);

	/*
	 * 60 buckets back lands on the same position: it is reset.  That is
	 * an hour and a day bucket back too, where nothing was counted.
	 */
	back = T0 + 30 * SEC - 60 * MW;
	OK(&c, &def_win, RATE_MESSAGES, 5, 0, 0, back);
	USE(&c, &def_win, RATE_MESSAGES, back, 1, 1, 1);
	USE(&c, &def_win, RATE_MESSAGES, T0 + 30 * SEC, 1, 7, 7);

	/* Before the epoch, and the extremes. */
	rate_counter_init(&c);
	OK(&c, &def_win, RATE_RECIPIENTS, 3, 0, 0, -1);
	OK(&c, &def_win, RATE_RECIPIENTS, 3, 0, 0, -5 * DAY);
	OK(&c, &def_win, RATE_RECIPIENTS, 3, 0, 0, INT64_MIN);
	NO(&c, &def_win, RATE_RECIPIENTS, 3, 0, 0, INT64_MIN, RATE_MINUTE, 3,
	    60 * MW);
	USE(&c, &def_win, RATE_RECIPIENTS, 0, 3, 3, 3);
	USE(&c, &def_win, RATE_RECIPIENTS, -HOUR, 3, 3, 3);
	OK(&c, &def_win, RATE_RECIPIENTS, 1, 0, 0, INT64_MAX);
	/* Slot INT64_MAX / MW leaves past INT64_MAX: never. */
	NO(&c, &def_win, RATE_RECIPIENTS, 1, 0, 0, INT64_MAX, RATE_MINUTE, 1,
	    INT64_MAX);
	USE(&c, &def_win, RATE_RECIPIENTS, INT64_MAX, 1, 1, 1);
	OK(&c, &def_win, RATE_RECIPIENTS, 5, 0, 0, 0);
	for (w = 0; w < RATE_NWINDOWS; w++)
		for (pos = 0; pos < RATE_BUCKETS_MAX; pos++)
			if (c.b[w][pos].slot < 0)
				fail_msg("%s position %d: slot %lld",
				    rate_window_name(w), pos,
				    (long long)c.b[w][pos].slot);
	rate_encode(&c, &def_win, enc);
	assert_int_equal(rate_decode(&d, &def_win, enc, sizeof(enc)), 0);
	assert_memory_equal(&c, &d, sizeof(c));

	/*
	 * Windows as long as rate_windows_check() allows: a count never
	 * leaves them (their width is not computed by overflowing).
	 */
	assert_int_equal(rate_windows_check(&huge), 0);
	rate_counter_init(&c);
	OK(&c, &huge, RATE_MESSAGES, 1, 1, 1, T0);
	NO(&c, &huge, RATE_MESSAGES, 1, 0, 0, T0 + DAY, RATE_MINUTE, 1,
	    INT64_MAX);
	NO(&c, &huge, RATE_MESSAGES, 0, 1, 0, T0 + DAY, RATE_HOUR, 1,
	    INT64_MAX);
	NO(&c, &huge, RATE_MESSAGES, 0, 0, 1, T0 + DAY, RATE_DAY, 1,
	    INT64_MAX);
	NO(&c, &huge, RATE_MESSAGES, 1, 0, 0, INT64_MAX, RATE_MINUTE, 1,
	    INT64_MAX);
	USE(&c, &huge, RATE_MESSAGES, INT64_MAX, 1, 1, 1);
}

/* Counts stop at UINT32_MAX a bucket; the sums never wrap. */
static void
test_saturation(void **state)
{
	struct rate_counter	 c;
	struct rate_refusal	 why;
	const uint64_t		 none[RATE_NWINDOWS] = { 0, 0, 0 };
	const uint64_t		 max[RATE_NWINDOWS] = {
		UINT64_MAX, UINT64_MAX, UINT64_MAX
	};
	int64_t			 s0 = T0 / MW, cur = s0 + 59;
	int			 pos, i;

	rate_counter_init(&c);
	c.b[RATE_MINUTE][s0 % 60].slot = s0;
	c.b[RATE_MINUTE][s0 % 60].n[RATE_MESSAGES] = UINT32_MAX - 1;
	for (i = 0; i < 3; i++)
		assert_int_equal(rate_check(&c, &def_win, RATE_MESSAGES, none,
		    T0, &why), 0);
	assert_int_equal(c.b[RATE_MINUTE][s0 % 60].n[RATE_MESSAGES],
	    UINT32_MAX);
	assert_int_equal(c.b[RATE_MINUTE][s0 % 60].n[RATE_RECIPIENTS], 0);

	/* Every minute bucket full: 60 * UINT32_MAX in the window. */
	rate_counter_init(&c);
	for (pos = 0; pos < 60; pos++) {
		c.b[RATE_MINUTE][(cur - pos) % 60].slot = cur - pos;
		c.b[RATE_MINUTE][(cur - pos) % 60].n[RATE_RECIPIENTS] =
		    UINT32_MAX;
	}
	if (rate_use(&c, &def_win, RATE_MINUTE, RATE_RECIPIENTS,
	    cur * MW) != 60ULL * UINT32_MAX)
		fail_msg("use %llu", (unsigned long long)rate_use(&c, &def_win,
		    RATE_MINUTE, RATE_RECIPIENTS, cur * MW));
	assert_int_equal(rate_check(&c, &def_win, RATE_RECIPIENTS, max,
	    cur * MW, &why), 0);
	assert_int_equal(c.b[RATE_MINUTE][cur % 60].n[RATE_RECIPIENTS],
	    UINT32_MAX);
	NO(&c, &def_win, RATE_RECIPIENTS, 60ULL * UINT32_MAX, 0, 0, cur * MW,
	    RATE_MINUTE, 60ULL * UINT32_MAX, T0 + 60 * MW);
	NO(&c, &def_win, RATE_RECIPIENTS, 1, 0, 0, cur * MW,
	    RATE_MINUTE, 1, (cur + 60) * MW);
	/* The hour and day buckets got just the one. */
	USE(&c, &def_win, RATE_RECIPIENTS, cur * MW, 60ULL * UINT32_MAX, 1,
	    1);
}

/*
 * The property the widths are for, on pseudo-random arrivals (a fixed
 * LCG, so every run sees the same): for each set of lengths, the limit on
 * one window at a time and on all three, limits 3, 7 and 50, a few
 * thousand checks at times from bursts to long pauses, around the rate
 * the limit allows.  Then
 *   - in any span of a window's length, (t - len, t] for every accepted
 *     t, no more than the limit were accepted;
 *   - a refusal at t names a full window: at least the limit accepted
 *     in (t - nb * width, t], the longest the window holds on to a count
 *     (len + width and the rounding up, under nb - 1 ms: about len +
 *     width, len + 2 * width at most but in tiny windows), so never a
 *     refusal while the window is far from full;
 *   - its retry holds: everything before it refused, the first check
 *     from then on accepted (refusals count nothing, the limits do not
 *     change).
 */
#define PROP_EVENTS	3000

static uint64_t	 lcg_state;

static uint32_t
lcg(void)
{
	lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (uint32_t)(lcg_state >> 33);
}

/* A random number in [0, n), for n up to a few days' worth of ms. */
static int64_t
lcg_below(int64_t n)
{
	uint64_t	 r = (uint64_t)lcg() << 31 | lcg();

	return n <= 0 ? 0 : (int64_t)(r % (uint64_t)n);
}

/* How many of the sorted times a[0..n) are in (lo, hi]. */
static size_t
count_in(const int64_t *a, size_t n, int64_t lo, int64_t hi)
{
	size_t	 l, r, m, first;

	for (l = 0, r = n; l < r; ) {		/* first > lo */
		m = l + (r - l) / 2;
		if (a[m] > lo)
			r = m;
		else
			l = m + 1;
	}
	first = l;
	for (r = n; l < r; ) {			/* first > hi */
		m = l + (r - l) / 2;
		if (a[m] > hi)
			r = m;
		else
			l = m + 1;
	}
	return l - first;
}

static void
prop_run(const struct rate_windows *win, int only, uint64_t limit,
    int64_t *acc)
{
	struct rate_counter	 c;
	struct rate_refusal	 why;
	uint64_t		 lim[RATE_NWINDOWS];
	int64_t			 t, scale, retry = -1, span, r;
	size_t			 nacc = 0, n, i;
	int			 e, w, nrefused = 0;

	for (w = 0; w < RATE_NWINDOWS; w++)
		lim[w] = only == -1 || only == w ? limit : 0;
	rate_counter_init(&c);
	t = T0 + 12345 + lcg_below(DAY);	/* anywhere in a bucket */
	for (e = 0; e < PROP_EVENTS; e++) {
		/*
		 * Up to len / limit of a limited window apart (about twice
		 * what the limit takes), now and then at once or after a
		 * pause that may empty the window.
		 */
		do
			w = only != -1 ? only : (int)lcg_below(RATE_NWINDOWS);
		while (lim[w] == 0);
		scale = win->len[w] / (int64_t)lim[w];
		r = lcg_below(64);
		if (r == 0)
			t += lcg_below(2 * win->len[w]);
		else if (r >= 8)
			t += lcg_below(scale + 1);
		memset(&why, 0xa5, sizeof(why));
		if (rate_check(&c, win, RATE_RECIPIENTS, lim, t, &why) == 0) {
			if (retry != -1 && t < retry)
				fail_msg("%s/%d/%llu event %d: accepted at "
				    "%lld before the retry %lld",
				    rate_window_name(only), only,
				    (unsigned long long)limit, e, (long long)t,
				    (long long)retry);
			retry = -1;
			acc[nacc++] = t;
			continue;
		}
		nrefused++;
		if (retry != -1 && t >= retry)
			fail_msg("%s/%d/%llu event %d: refused at %lld, "
			    "retry was %lld", rate_window_name(only), only,
			    (unsigned long long)limit, e, (long long)t,
			    (long long)retry);
		w = why.window;
		if ((int)w < 0 || w >= RATE_NWINDOWS || lim[w] == 0 ||
		    why.limit != lim[w] || why.retry <= t)
			fail_msg("event %d: refused at %lld by window %d, "
			    "limit %llu, retry %lld", e, (long long)t, w,
			    (unsigned long long)why.limit,
			    (long long)why.retry);
		span = rate_buckets(w) * width_of(win, w);
		n = count_in(acc, nacc, t - span, t);
		if (n < lim[w])
			fail_msg("%s/%d/%llu event %d: refused at %lld by the "
			    "%s with %zu accepted in the last %lld ms",
			    rate_window_name(only), only,
			    (unsigned long long)limit, e, (long long)t,
			    rate_window_name(w), n, (long long)span);
		retry = why.retry;
	}
	/* Both outcomes happened, or the run proves little. */
	if (nacc < limit || nrefused == 0)
		fail_msg("window %d limit %llu: %zu accepted, %d refused",
		    only, (unsigned long long)limit, nacc, nrefused);
	for (i = 0; i < nacc; i++) {
		for (w = 0; w < RATE_NWINDOWS; w++) {
			if (lim[w] == 0)
				continue;
			n = count_in(acc, nacc, acc[i] - win->len[w], acc[i]);
			if (n > lim[w])
				fail_msg("window %d limit %llu: %zu accepted "
				    "in the %s (%lld ms) up to %lld", only,
				    (unsigned long long)limit, n,
				    rate_window_name(w),
				    (long long)win->len[w], (long long)acc[i]);
		}
	}
}

static void
test_never_exceeds(void **state)
{
	static const struct rate_windows wins[] = {
		{ { MIN, HOUR, DAY } },
		{ { 2 * SEC, 10 * SEC, 60 * SEC } },
		{ { 1000, 1000, 1000 } },
		/* 1 ms past a multiple of nb - 1: the most rounded up. */
		{ { 59 * 17 + 1, 59 * 60 + 1, 143 * 142 + 1 } },
		{ { 10 * SEC, 10 * MIN, 10 * HOUR } },
	};
	static const uint64_t	 limits[] = { 3, 7, 50 };
	static int64_t		 acc[PROP_EVENTS];
	size_t			 i, l;
	int			 only;

	lcg_state = 20231114;
	for (i = 0; i < NROWS(wins); i++) {
		assert_int_equal(rate_windows_check(&wins[i]), 0);
		for (only = -1; only < RATE_NWINDOWS; only++)
			for (l = 0; l < NROWS(limits); l++)
				prop_run(&wins[i], only, limits[l], acc);
	}
}

/* A counter with a bit of everything in it. */
static void
fill(struct rate_counter *c, const struct rate_windows *win)
{
	const uint64_t	 none[RATE_NWINDOWS] = { 0, 0, 0 };
	int64_t		 t = T0;
	int		 i;

	rate_counter_init(c);
	for (i = 0; i < 3000; i++) {
		t += (i * 7919) % 120000;
		if (rate_check(c, win, i % 3 ? RATE_RECIPIENTS :
		    RATE_MESSAGES, none, t, NULL) != 0)
			fail_msg("fill %d refused", i);
	}
}

static uint64_t
be64(const uint8_t *p)
{
	uint64_t	 v = 0;
	int		 i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t
be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3];
}

#define BUCKET_AT(w, pos) \
	(8 + 8 * RATE_NWINDOWS + ((w) * RATE_BUCKETS_MAX + (pos)) * 16)

/* The layout, byte for byte, and the round trip. */
static void
test_encode(void **state)
{
	static struct rate_counter	 c, d;
	static uint8_t			 enc[RATE_ENCODED_LEN];
	static uint8_t			 enc2[RATE_ENCODED_LEN];
	const struct rate_bucket	*b;
	int				 w, pos, used;

	fill(&c, &def_win);
	/* Junk past the hour's 60 buckets is never written. */
	c.b[RATE_HOUR][100].slot = 12345;
	c.b[RATE_HOUR][100].n[RATE_MESSAGES] = 7;
	memset(enc, 0xee, sizeof(enc));
	rate_encode(&c, &def_win, enc);
	assert_int_equal(be64(enc), 1);
	assert_int_equal(be64(enc + 8), MIN);
	assert_int_equal(be64(enc + 16), HOUR);
	assert_int_equal(be64(enc + 24), DAY);
	for (w = 0; w < RATE_NWINDOWS; w++) {
		for (pos = 0; pos < RATE_BUCKETS_MAX; pos++) {
			b = &c.b[w][pos];
			used = pos < rate_buckets(w);
			if (be64(enc + BUCKET_AT(w, pos)) !=
			    (used ? (uint64_t)b->slot : 0) ||
			    be32(enc + BUCKET_AT(w, pos) + 8) !=
			    (used ? b->n[0] : 0) ||
			    be32(enc + BUCKET_AT(w, pos) + 12) !=
			    (used ? b->n[1] : 0))
				fail_msg("%s position %d encoded wrong",
				    rate_window_name(w), pos);
		}
	}
	assert_int_equal(BUCKET_AT(RATE_NWINDOWS, 0), RATE_ENCODED_LEN);

	memset(&d, 0xff, sizeof(d));
	assert_int_equal(rate_decode(&d, &def_win, enc, sizeof(enc)), 0);
	c.b[RATE_HOUR][100].slot = 0;
	c.b[RATE_HOUR][100].n[RATE_MESSAGES] = 0;
	assert_memory_equal(&c, &d, sizeof(c));
	rate_encode(&d, &def_win, enc2);
	assert_memory_equal(enc, enc2, sizeof(enc));
	for (w = 0; w < RATE_NWINDOWS; w++)
		if (rate_use(&c, &def_win, w, RATE_RECIPIENTS, T0 + DAY) !=
		    rate_use(&d, &def_win, w, RATE_RECIPIENTS, T0 + DAY))
			fail_msg("%s use differs", rate_window_name(w));

	/* A fresh counter, and the test windows. */
	rate_counter_init(&c);
	rate_encode(&c, &def_win, enc);
	assert_int_equal(rate_decode(&d, &def_win, enc, sizeof(enc)), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	fill(&c, &test_win);
	rate_encode(&c, &test_win, enc);
	assert_int_equal(be64(enc + 8), 2 * SEC);
	assert_int_equal(rate_decode(&d, &test_win, enc, sizeof(enc)), 0);
	assert_memory_equal(&c, &d, sizeof(c));
}

/* What decode refuses (-1) or drops (0), leaving the counter zero. */
static void
test_decode_bad(void **state)
{
	static struct rate_counter	 c, d, zero;
	static uint8_t			 enc[RATE_ENCODED_LEN + 1];
	static uint8_t			 bad[RATE_ENCODED_LEN];
	static const struct rate_windows other[] = {
		{ { 2 * MIN, HOUR, DAY } },
		{ { MIN, HOUR + 1, DAY } },
		{ { MIN, HOUR, 2 * DAY } },
	};
	size_t				 i;
	int				 w;

	fill(&c, &def_win);
	rate_encode(&c, &def_win, enc);
	enc[RATE_ENCODED_LEN] = 0;

#define DECODE(buf, len, win, want) do {				\
	memset(&d, 0xff, sizeof(d));					\
	if (rate_decode(&d, win, buf, len) != (want))			\
		fail_msg("line %d: decode not %d", __LINE__, want);	\
	if (memcmp(&d, &zero, sizeof(d)) != 0)				\
		fail_msg("line %d: counter not zero", __LINE__);	\
} while (0)

	DECODE(enc, RATE_ENCODED_LEN - 1, &def_win, -1);
	DECODE(enc, RATE_ENCODED_LEN + 1, &def_win, -1);
	DECODE(enc, 0, &def_win, -1);
	DECODE(enc, 8, &def_win, -1);

	memcpy(bad, enc, sizeof(bad));
	bad[7] = 2;
	DECODE(bad, sizeof(bad), &def_win, -1);
	bad[7] = 0;
	DECODE(bad, sizeof(bad), &def_win, -1);
	bad[7] = 1;
	bad[0] = 1;
	DECODE(bad, sizeof(bad), &def_win, -1);

	/* Counts from other lengths are dropped, not an error. */
	for (i = 0; i < NROWS(other); i++)
		DECODE(enc, RATE_ENCODED_LEN, &other[i], 0);
	rate_encode(&c, &other[0], bad);
	DECODE(bad, sizeof(bad), &def_win, 0);
	assert_int_equal(rate_decode(&d, &other[0], bad, sizeof(bad)), 0);
	assert_memory_equal(&c, &d, sizeof(c));

	/* A negative slot in any window's last used position. */
	for (w = 0; w < RATE_NWINDOWS; w++) {
		memcpy(bad, enc, sizeof(bad));
		bad[BUCKET_AT(w, rate_buckets(w) - 1)] = 0x80;
		DECODE(bad, sizeof(bad), &def_win, -1);
		memcpy(bad, enc, sizeof(bad));
		memset(bad + BUCKET_AT(w, 0), 0xff, 8);
		DECODE(bad, sizeof(bad), &def_win, -1);
		/* Also when the lengths differ: corrupt is corrupt. */
		DECODE(bad, sizeof(bad), &other[1], -1);
	}
	/* Past a window's buckets, nothing is read. */
	memcpy(bad, enc, sizeof(bad));
	memset(bad + BUCKET_AT(RATE_MINUTE, 60), 0xff, 16);
	memset(bad + BUCKET_AT(RATE_HOUR, 143), 0x80, 16);
	assert_int_equal(rate_decode(&d, &def_win, bad, sizeof(bad)), 0);
	assert_memory_equal(&c, &d, sizeof(c));

	/* Slots that do not fit their position count for nothing. */
	memcpy(bad, enc, sizeof(bad));
	memset(bad + BUCKET_AT(RATE_MINUTE, 0), 0, 16);
	bad[BUCKET_AT(RATE_MINUTE, 0) + 7] = 1;		/* slot 1 at 0 */
	bad[BUCKET_AT(RATE_MINUTE, 0) + 11] = 9;
	assert_int_equal(rate_decode(&d, &def_win, bad, sizeof(bad)), 0);
	/* At a time of slot 1: only the position check leaves it out. */
	if (rate_use(&d, &def_win, RATE_MINUTE, RATE_MESSAGES, 1 * MW) != 0)
		fail_msg("a misplaced slot counted");
#undef DECODE
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_windows_check),
		cmocka_unit_test(test_boundary),
		cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_three_windows),
		cmocka_unit_test(test_refused_counts_nothing),
		cmocka_unit_test(test_limit_zero),
		cmocka_unit_test(test_sliding),
		cmocka_unit_test(test_lowered_limit),
		cmocka_unit_test(test_short_windows),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_saturation),
		cmocka_unit_test(test_never_exceeds),
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_decode_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
