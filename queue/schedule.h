/*
 * When to try each recipient of the queue again, and which recipients go
 * out together.  Pure: no I/O, no clock (every call that needs the time
 * takes now, in seconds), no state beyond the struct schedule the caller
 * holds.
 *
 * The unit is one recipient of one message (id, rcpt index): each has its
 * own attempts and next try, since a remote server answers each RCPT on
 * its own.  Recipients due for the same destination domain are handed out
 * together, in batches of at most SCHEDULE_BATCH_RCPT_MAX recipients of
 * at most SCHEDULE_BATCH_MSG_MAX messages.
 *
 * After an attempt: a temporary failure retries after policy.retry[n-1]
 * seconds for the n-th attempt, the last interval repeating (5m, 10m, 20m,
 * 40m, 1h, 1h, ... by default), never later than created + expire; a
 * temporary failure at or past created + expire expires (bounce); a
 * permanent failure is done with a bounce.  A delay notice is due once,
 * with the first retry at or past created + warn (warn 0: never).  Time
 * before created (the clock went back) counts as none elapsed.  Sums
 * saturate at INT64_MAX.
 */
#ifndef SENDGATE_SCHEDULE_H
#define SENDGATE_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"

#define SCHEDULE_DEFAULT_RETRY	{ 300, 600, 1200, 2400, 3600 }
#define SCHEDULE_DEFAULT_NRETRY	5
#define SCHEDULE_DEFAULT_EXPIRE	(5 * 24 * 3600)
#define SCHEDULE_DEFAULT_WARN	(4 * 3600)

#define SCHEDULE_RETRY_MAX	32	/* intervals in policy.retry */
#define SCHEDULE_INTERVAL_MAX	(366LL * 24 * 3600)	/* any one duration */
#define SCHEDULE_DOMAIN_MAX	255	/* octets of a destination domain */
#define SCHEDULE_BATCH_RCPT_MAX	100	/* recipients handed out at once */
#define SCHEDULE_BATCH_MSG_MAX	50	/* messages handed out at once */
#define SCHEDULE_NEVER		INT64_MAX	/* schedule_when(): nothing */

struct schedule_policy {
	const int64_t	*retry;		/* seconds, nretry of them */
	int		 nretry;
	int64_t		 expire;	/* seconds after created */
	int64_t		 warn;		/* seconds after created, 0: never */
};

/* Outcome of an attempt. */
#define SCHEDULE_DELIVERED	1
#define SCHEDULE_TEMPFAIL	2
#define SCHEDULE_PERMFAIL	3

/* What to do after it. */
#define SCHEDULE_DONE		1	/* forget it; bounce if r.bounce */
#define SCHEDULE_RETRY		2	/* again at result.next_try */
#define SCHEDULE_EXPIRED	3	/* forget it, bounce */

/* State of an entry. */
#define SCHEDULE_WAITING	1	/* for its next_try */
#define SCHEDULE_RUNNING	2	/* handed out, until schedule_done() */
#define SCHEDULE_FINISHED	3	/* done or expired */

struct schedule_entry {
	char		 id[ENVELOPE_ID_LEN + 1];	/* queue id */
	uint32_t	 rcpt;		/* index in the envelope's rcpt[] */
	char		 domain[SCHEDULE_DOMAIN_MAX + 1];	/* lower case */
	int64_t		 created;	/* arrival */
	int64_t		 next_try;
	int		 attempts;	/* made so far */
	int		 warned;	/* delay notice sent */
	int		 state;		/* SCHEDULE_WAITING ... */
};

struct schedule_result {
	int		 action;	/* SCHEDULE_DONE ... */
	int64_t		 next_try;	/* SCHEDULE_RETRY: when */
	int64_t		 retry_until;	/* created + expire */
	int		 bounce;	/* a failure notice is due */
	int		 delay;		/* a delay notice is due (once) */
	int		 removed;	/* schedule_remove() while running */
};

/* One recipient of a batch. */
struct schedule_item {
	char		 id[ENVELOPE_ID_LEN + 1];
	uint32_t	 rcpt;
};

/*
 * Called by schedule_due() with one domain and its due recipients, sorted
 * by id then rcpt (a message's recipients are adjacent), already RUNNING.
 * Both arrays are valid during the call only.  Non-zero stops the round:
 * what is left stays due.  The callback may call any schedule_*()
 * function on sched but schedule_due() and schedule_free().
 */
typedef int	(*schedule_batch_cb)(const char *, const struct schedule_item *,
		    size_t, void *);

struct schedule;

/*
 * 0 if the policy is usable: 1 to SCHEDULE_RETRY_MAX intervals, each of
 * them and expire from 1 to SCHEDULE_INTERVAL_MAX seconds, warn from 0
 * to SCHEDULE_INTERVAL_MAX.  Otherwise -1 with *why saying what is wrong.
 */
int	schedule_policy_check(const struct schedule_policy *, const char **);

/*
 * The decision after an attempt on e at now: e (attempts, next_try,
 * warned, state) is updated and *r filled.  Returns r->action, or -1
 * with errno EINVAL for an unknown outcome.  A policy that fails
 * schedule_policy_check() is used as best it can (no intervals: the
 * defaults; an interval below one second: one second).
 */
int	schedule_next(const struct schedule_policy *, struct schedule_entry *,
	    int64_t, int, struct schedule_result *);

/*
 * A scheduler with a copy of the policy (NULL: the defaults), or NULL
 * with errno (EINVAL: the policy fails schedule_policy_check(); ENOMEM).
 * schedule_set_policy() replaces the policy for the next decisions (0, or
 * -1 EINVAL).
 */
struct schedule	*schedule_new(const struct schedule_policy *);
int		 schedule_set_policy(struct schedule *,
		    const struct schedule_policy *);
void		 schedule_free(struct schedule *);

/*
 * Take a copy of e as WAITING (its state is ignored; its attempts, warned
 * and next_try are kept, so a restart can restore them).  The domain is
 * lower-cased.  Returns 0, or -1 with errno EINVAL (bad id, empty
 * domain), EEXIST (id and rcpt already there), ENOMEM.
 */
int	schedule_add(struct schedule *, const struct schedule_entry *);

/*
 * Hand out every WAITING entry with next_try <= now, in batches of one
 * domain, earliest first; each becomes RUNNING until schedule_done().
 * Returns the number of recipients handed out, or -1 with errno EBUSY
 * when called from its own callback.
 */
int	schedule_due(struct schedule *, int64_t, schedule_batch_cb, void *);

/*
 * The outcome of a RUNNING entry: schedule_next() with the policy, then
 * the entry waits again or is forgotten.  An entry removed while it was
 * running is forgotten with no notice due (r->removed).  Returns
 * r->action, or -1 with errno ENOENT (unknown), EINVAL (not RUNNING,
 * unknown outcome).
 */
int	schedule_done(struct schedule *, const char *, uint32_t, int64_t, int,
	    struct schedule_result *);

/* The earliest next_try of a WAITING entry, or SCHEDULE_NEVER. */
int64_t	schedule_when(const struct schedule *);

/*
 * sendgatectl schedule: the WAITING entries of a message (id NULL: of
 * all) become due at now.  Returns how many.
 */
size_t	schedule_schedule_now(struct schedule *, const char *, int64_t);

/*
 * sendgatectl remove: forget the entries of a message (id NULL: all).
 * RUNNING ones are forgotten at their schedule_done().  Returns how many
 * entries it touched.
 */
size_t	schedule_remove(struct schedule *, const char *);

/*
 * Entries of a message (id NULL: all), RUNNING and removed-but-running
 * included: the message's files are needed until this is 0.
 */
size_t	schedule_count(const struct schedule *, const char *);

/* A copy of one entry: 0, or -1 with errno ENOENT. */
int	schedule_get(const struct schedule *, const char *, uint32_t,
	    struct schedule_entry *);

#endif
