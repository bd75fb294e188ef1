/*
 * Per-connector rate counters: sliding windows of messages and recipients
 * (issue 8).  Pure: no I/O, no clock (every call takes now in
 * milliseconds), no allocation beyond the struct the caller owns.
 *
 * Each of the three windows (RATE_MINUTE, RATE_HOUR, RATE_DAY; their
 * lengths come from the config, 1m 1h 1d unless "limit windows" says
 * otherwise) is a ring of nb = rate_buckets(w) buckets of len / (nb - 1)
 * milliseconds each, rounded up (about 1/59 of the window for the minute
 * and the hour, 1/143 for the day), so memory per connector is fixed
 * whatever the traffic.  A bucket counts what happened during its slot;
 * the window's use at now is the sum of the bucket of the slot holding
 * now and of the nb - 1 before it.  The window thus slides by a bucket
 * at a time, and those nb - 1 buckets alone cover its length: a count
 * stays in the window for at least len ms after it was made, and leaves
 * it at most a bucket width and nb - 2 ms later than that: late, never
 * early.  A limit is never exceeded over any span of len ms.
 *
 * A check looks at every window of the kind first, and counts only when
 * all of them have room (at most the limit in each, counting this one):
 * a refused message or recipient is not counted anywhere.  A limit of 0
 * means none for that window.
 */
#ifndef SENDGATE_RATE_H
#define SENDGATE_RATE_H

#include <stddef.h>
#include <stdint.h>

enum rate_window {
	RATE_MINUTE,
	RATE_HOUR,
	RATE_DAY,
	RATE_NWINDOWS
};

enum rate_kind {
	RATE_MESSAGES,
	RATE_RECIPIENTS,
	RATE_NKINDS
};

#define RATE_BUCKETS_MINUTE	60	/* 1017 ms each (~1.017 s) by default */
#define RATE_BUCKETS_HOUR	60	/* 61017 ms each (~61 s) by default */
#define RATE_BUCKETS_DAY	144	/* 604196 ms each (~604 s) by default */
#define RATE_BUCKETS_MAX	144
#define RATE_LEN_MIN		1000	/* ms; a window at least 1 s long */

/* Window lengths in ms, each >= RATE_LEN_MIN and >= its bucket count. */
struct rate_windows {
	int64_t		 len[RATE_NWINDOWS];
};

struct rate_bucket {
	int64_t		 slot;		/* now / width when last counted */
	uint32_t	 n[RATE_NKINDS];
};

struct rate_counter {
	struct rate_bucket	 b[RATE_NWINDOWS][RATE_BUCKETS_MAX];
};

/* The result of a refused check. */
struct rate_refusal {
	enum rate_window	 window;	/* the first window that is full */
	uint64_t		 limit;
	int64_t			 retry;		/* ms: room again from then on */
};

int	rate_buckets(enum rate_window);
const char *rate_window_name(enum rate_window);	/* "minute", ... */
const char *rate_kind_name(enum rate_kind);	/* "messages", ... */

/* 0 if the lengths are usable, else -1. */
int	rate_windows_check(const struct rate_windows *);

void	rate_counter_init(struct rate_counter *);

/*
 * One more of kind at now, against limit[RATE_NWINDOWS] (0: none).
 * Returns 0 and counts it in every window, or -1 and fills *why (nothing
 * counted).  n (>= 1) of them at once: rate_check_n.
 */
int	rate_check(struct rate_counter *, const struct rate_windows *,
	    enum rate_kind, const uint64_t *, int64_t, struct rate_refusal *);

/* The use of a window at now, of one kind. */
uint64_t	rate_use(const struct rate_counter *, const struct rate_windows *,
		    enum rate_window, enum rate_kind, int64_t);

/*
 * The counter as bytes for the state database, and back.  The encoding
 * is versioned and of fixed size (RATE_ENCODED_LEN); decode refuses
 * anything else (-1) and leaves c initialized then.  Counts recorded with
 * other window lengths are dropped when decoded (the lengths are part of
 * the encoding): a restart with a new "limit windows" starts from zero.
 */
#define RATE_ENCODED_LEN	(8 + 8 * RATE_NWINDOWS + \
	    RATE_NWINDOWS * RATE_BUCKETS_MAX * (8 + 4 * RATE_NKINDS))
void	rate_encode(const struct rate_counter *, const struct rate_windows *,
	    uint8_t *);
int	rate_decode(struct rate_counter *, const struct rate_windows *,
	    const uint8_t *, size_t);

#endif
