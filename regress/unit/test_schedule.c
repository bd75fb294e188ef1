/*
 * queue/schedule.c: the retry sequence of the default policy, expiry at
 * its exact boundary, the delay notice (once, never with warn 0),
 * permanent failures, a clock that goes back, sums near INT64_MAX,
 * batching by domain under both caps, RUNNING entries never handed out
 * twice, schedule now and remove (also from the callback), and 100,000
 * entries in well under a second.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "unit.h"

#include "schedule.h"

#define T0		1700000000LL
#define MIN		60LL
#define HOUR		3600LL
#define DAY		(24 * HOUR)
#define EXPIRE		SCHEDULE_DEFAULT_EXPIRE
#define WARN		SCHEDULE_DEFAULT_WARN
#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))

static const int64_t	def_retry[] = SCHEDULE_DEFAULT_RETRY;
static const struct schedule_policy def_policy = {
	def_retry, SCHEDULE_DEFAULT_NRETRY, EXPIRE, WARN
};
static const struct schedule_policy nowarn_policy = {
	def_retry, SCHEDULE_DEFAULT_NRETRY, EXPIRE, 0
};

/* Queue id number n: 16 lowercase hex digits. */
static const char *
qid(unsigned n)
{
	static char	buf[4][ENVELOPE_ID_LEN + 1];
	static int	i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%016x", n);
	return buf[i];
}

static void
entry(struct schedule_entry *e, unsigned msg, uint32_t rcpt,
    const char *domain, int64_t created, int64_t next_try)
{
	memset(e, 0, sizeof(*e));
	memcpy(e->id, qid(msg), sizeof(e->id));
	e->rcpt = rcpt;
	snprintf(e->domain, sizeof(e->domain), "%s", domain);
	e->created = created;
	e->next_try = next_try;
}

static void
add(struct schedule *s, unsigned msg, uint32_t rcpt, const char *domain,
    int64_t next_try)
{
	struct schedule_entry	e;

	entry(&e, msg, rcpt, domain, T0, next_try);
	if (schedule_add(s, &e) == -1)
		fail_msg("add %u/%u %s: %s", msg, rcpt, domain,
		    strerror(errno));
}

/*
 * Back-to-back temporary failures, each at the time the previous one
 * asked for: 5m, 10m, 20m, 40m, then hourly.
 */
static void
test_retry_sequence(void **state)
{
	static const int64_t	want[] = {
		5 * MIN, 10 * MIN, 20 * MIN, 40 * MIN, HOUR, HOUR, HOUR, HOUR
	};
	struct schedule_entry	e;
	struct schedule_result	r;
	int64_t			now = T0;
	size_t			i;

	entry(&e, 1, 0, "example.org", T0, T0);
	for (i = 0; i < NROWS(want); i++) {
		if (schedule_next(&nowarn_policy, &e, now, SCHEDULE_TEMPFAIL,
		    &r) != SCHEDULE_RETRY)
			fail_msg("attempt %zu: action %d", i + 1, r.action);
		if (r.next_try - now != want[i] || e.next_try != r.next_try)
			fail_msg("attempt %zu: waits %lld, want %lld", i + 1,
			    (long long)(r.next_try - now),
			    (long long)want[i]);
		if (e.attempts != (int)i + 1 || e.state != SCHEDULE_WAITING ||
		    r.bounce || r.delay || r.retry_until != T0 + EXPIRE)
			fail_msg("attempt %zu: attempts %d state %d", i + 1,
			    e.attempts, e.state);
		now = r.next_try;
	}
}

/* The sequence up to expiry: the last try is at the expiry itself. */
static void
test_retry_until_expiry(void **state)
{
	struct schedule_entry	e;
	struct schedule_result	r;
	int64_t			now = T0;
	int			tries = 0, delays = 0;

	entry(&e, 1, 0, "example.org", T0, T0);
	while (schedule_next(&def_policy, &e, now, SCHEDULE_TEMPFAIL, &r) ==
	    SCHEDULE_RETRY) {
		delays += r.delay;
		if (r.next_try <= now || r.next_try > T0 + EXPIRE)
			fail_msg("try %d at %lld: next %lld", tries,
			    (long long)now, (long long)r.next_try);
		now = r.next_try;
		if (++tries > 1000)
			fail_msg("never expires");
	}
	if (r.action != SCHEDULE_EXPIRED || !r.bounce || r.delay ||
	    now != T0 + EXPIRE || e.state != SCHEDULE_FINISHED)
		fail_msg("ends with %d at %lld", r.action, (long long)now);
	/* 5 + 10 + 20 + 40 minutes, then hourly up to 5 days. */
	if (delays != 1 || tries != 4 + (int)((EXPIRE - 75 * MIN) / HOUR) + 1)
		fail_msg("%d delay notices, %d tries", delays, tries);
}

struct next_row {
	const char	*name;
	const struct schedule_policy *policy;
	int64_t		 created;
	int64_t		 now;
	int		 attempts;	/* before */
	int		 warned;	/* before */
	int		 outcome;
	int		 action;
	int64_t		 next_try;	/* RETRY */
	int		 bounce;
	int		 delay;
};

static const struct next_row next_rows[] = {
	{ "delivered", &def_policy, T0, T0 + 10, 3, 0,
	    SCHEDULE_DELIVERED, SCHEDULE_DONE, 0, 0, 0 },
	{ "delivered after the expiry", &def_policy, T0, T0 + 9 * DAY, 3, 1,
	    SCHEDULE_DELIVERED, SCHEDULE_DONE, 0, 0, 0 },
	{ "permanent failure bounces", &def_policy, T0, T0 + 10, 0, 0,
	    SCHEDULE_PERMFAIL, SCHEDULE_DONE, 0, 1, 0 },
	{ "permanent failure after warn: no delay", &def_policy, T0,
	    T0 + DAY, 5, 0, SCHEDULE_PERMFAIL, SCHEDULE_DONE, 0, 1, 0 },
	{ "first failure", &def_policy, T0, T0, 0, 0,
	    SCHEDULE_TEMPFAIL, SCHEDULE_RETRY, T0 + 5 * MIN, 0, 0 },
	{ "one second before expiry: last try at it", &def_policy, T0,
	    T0 + EXPIRE - 1, 50, 1, SCHEDULE_TEMPFAIL, SCHEDULE_RETRY,
	    T0 + EXPIRE, 0, 0 },
	{ "at expiry", &def_policy, T0, T0 + EXPIRE, 50, 1,
	    SCHEDULE_TEMPFAIL, SCHEDULE_EXPIRED, 0, 1, 0 },
	{ "past expiry, never warned: bounce only", &def_policy, T0,
	    T0 + EXPIRE + 1, 50, 0, SCHEDULE_TEMPFAIL, SCHEDULE_EXPIRED, 0,
	    1, 0 },
	{ "one second before warn", &def_policy, T0, T0 + WARN - 1, 5, 0,
	    SCHEDULE_TEMPFAIL, SCHEDULE_RETRY, T0 + WARN - 1 + HOUR, 0, 0 },
	{ "at warn", &def_policy, T0, T0 + WARN, 5, 0,
	    SCHEDULE_TEMPFAIL, SCHEDULE_RETRY, T0 + WARN + HOUR, 0, 1 },
	{ "after warn, already warned", &def_policy, T0, T0 + WARN + 1, 6, 1,
	    SCHEDULE_TEMPFAIL, SCHEDULE_RETRY, T0 + WARN + 1 + HOUR, 0, 0 },
	{ "warn 0: never", &nowarn_policy, T0, T0 + 4 * DAY, 30, 0,
	    SCHEDULE_TEMPFAIL, SCHEDULE_RETRY, T0 + 4 * DAY + HOUR, 0, 0 },
	{ "clock went back a day", &def_policy, T0, T0 - DAY, 0, 0,
	    SCHEDULE_TEMPFAIL, SCHEDULE_RETRY, T0 - DAY + 5 * MIN, 0, 0 },
	{ "clock went back, created 10 days ahead", &def_policy,
	    T0 + 10 * DAY, T0, 40, 0, SCHEDULE_TEMPFAIL, SCHEDULE_RETRY,
	    T0 + HOUR, 0, 0 },
	{ "created near INT64_MAX", &def_policy, INT64_MAX - 100,
	    INT64_MAX - 50, 1, 0, SCHEDULE_TEMPFAIL, SCHEDULE_RETRY,
	    INT64_MAX, 0, 0 },
	{ "now at INT64_MAX, created INT64_MIN", &def_policy, INT64_MIN,
	    INT64_MAX, 1, 0, SCHEDULE_TEMPFAIL, SCHEDULE_EXPIRED, 0, 1, 0 },
	{ "now at INT64_MIN", &def_policy, T0, INT64_MIN, 0, 0,
	    SCHEDULE_TEMPFAIL, SCHEDULE_RETRY, INT64_MIN + 5 * MIN, 0, 0 },
	{ "attempts at INT_MAX", &def_policy, T0, T0 + 10, 2147483647, 0,
	    SCHEDULE_TEMPFAIL, SCHEDULE_RETRY, T0 + 10 + HOUR, 0, 0 },
};

static void
test_next(void **state)
{
	const struct next_row	*t;
	struct schedule_entry	 e;
	struct schedule_result	 r;
	size_t			 i;
	int			 got;

	for (i = 0; i < NROWS(next_rows); i++) {
		t = &next_rows[i];
		entry(&e, 1, 0, "example.org", t->created, t->created);
		e.attempts = t->attempts;
		e.warned = t->warned;
		got = schedule_next(t->policy, &e, t->now, t->outcome, &r);
		if (got != t->action || r.action != t->action ||
		    r.bounce != t->bounce || r.delay != t->delay ||
		    (t->action == SCHEDULE_RETRY && r.next_try != t->next_try))
			fail_msg("row %zu (%s): action %d next %lld bounce %d "
			    "delay %d", i, t->name, got, (long long)r.next_try,
			    r.bounce, r.delay);
		if (e.state != (t->action == SCHEDULE_RETRY ?
		    SCHEDULE_WAITING : SCHEDULE_FINISHED) ||
		    e.warned != (t->warned || t->delay) ||
		    e.attempts != (t->attempts == 2147483647 ? t->attempts :
		    t->attempts + 1))
			fail_msg("row %zu (%s): state %d warned %d attempts %d",
			    i, t->name, e.state, e.warned, e.attempts);
	}
	entry(&e, 1, 0, "example.org", T0, T0);
	if (schedule_next(&def_policy, &e, T0, 0, &r) != -1 ||
	    errno != EINVAL || e.attempts != 0)
		fail_msg("unknown outcome accepted");
}

/* A warn at or past expire never warns: the bounce says it all. */
static void
test_warn_once(void **state)
{
	static const int64_t	 every[] = { 10 * MIN };
	struct schedule_policy	 p = { every, 1, DAY, HOUR };
	struct schedule_entry	 e;
	struct schedule_result	 r;
	int64_t			 now;
	int			 delays = 0, first = 0;

	entry(&e, 1, 0, "example.org", T0, T0);
	for (now = T0; schedule_next(&p, &e, now, SCHEDULE_TEMPFAIL, &r) ==
	    SCHEDULE_RETRY; now = r.next_try)
		if (r.delay && delays++ == 0)
			first = (int)(now - T0);
	if (delays != 1 || first != HOUR)
		fail_msg("%d delay notices, first at %d", delays, first);

	p.warn = DAY;
	entry(&e, 1, 0, "example.org", T0, T0);
	for (now = T0; schedule_next(&p, &e, now, SCHEDULE_TEMPFAIL, &r) ==
	    SCHEDULE_RETRY; now = r.next_try)
		if (r.delay)
			fail_msg("delay notice with warn = expire");
}

struct policy_row {
	int64_t		 retry[3];
	int		 nretry;
	int64_t		 expire;
	int64_t		 warn;
	int		 ok;
};

static const struct policy_row policy_rows[] = {
	{ { 300, 600, 3600 }, 3, EXPIRE, WARN, 1 },
	{ { 1 }, 1, 1, 0, 1 },
	{ { 300 }, 0, EXPIRE, WARN, 0 },
	{ { 300 }, 33, EXPIRE, WARN, 0 },
	{ { 300, 0 }, 2, EXPIRE, WARN, 0 },
	{ { -5 }, 1, EXPIRE, WARN, 0 },
	{ { SCHEDULE_INTERVAL_MAX + 1 }, 1, EXPIRE, WARN, 0 },
	{ { 300 }, 1, 0, WARN, 0 },
	{ { 300 }, 1, INT64_MAX, WARN, 0 },
	{ { 300 }, 1, EXPIRE, -1, 0 },
	{ { 300 }, 1, EXPIRE, SCHEDULE_INTERVAL_MAX + 1, 0 },
};

static void
test_policy_check(void **state)
{
	struct schedule_policy	 p;
	struct schedule		*s;
	const char		*why;
	size_t			 i;
	int			 ok;

	for (i = 0; i < NROWS(policy_rows); i++) {
		p.retry = policy_rows[i].retry;
		p.nretry = policy_rows[i].nretry;
		p.expire = policy_rows[i].expire;
		p.warn = policy_rows[i].warn;
		why = NULL;
		ok = schedule_policy_check(&p, &why) == 0;
		if (ok != policy_rows[i].ok || (!ok && why == NULL))
			fail_msg("row %zu: ok %d", i, ok);
		s = schedule_new(&p);
		if ((s != NULL) != ok)
			fail_msg("row %zu: schedule_new", i);
		schedule_free(s);
	}
	if (schedule_policy_check(&def_policy, &why) != 0)
		fail_msg("default policy: %s", why);
}

/* What the callback saw, one line per batch: "domain id/rcpt ...". */
struct seen {
	char		 log[64][256];
	size_t		 n;
	size_t		 sizes[64];
	size_t		 msgs[64];
	char		 domains[64][SCHEDULE_DOMAIN_MAX + 1];
	int		 stop_after;	/* batches, 0: never */
	struct schedule	*s;
	int		 remove_first;	/* remove msg 1 from the callback */
	int		 reenter;	/* errno of a nested schedule_due() */
};

static int
record(const char *domain, const struct schedule_item *it, size_t n,
    void *arg)
{
	struct seen	*v = arg;
	size_t		 i, o, msgs = 0;

	if (v->n == NROWS(v->log))
		fail_msg("too many batches");
	snprintf(v->domains[v->n], sizeof(v->domains[0]), "%s", domain);
	o = snprintf(v->log[v->n], sizeof(v->log[0]), "%s", domain);
	for (i = 0; i < n; i++) {
		if (i > 0 && strcmp(it[i - 1].id, it[i].id) > 0)
			fail_msg("batch not sorted by id");
		if (i == 0 || strcmp(it[i - 1].id, it[i].id) != 0)
			msgs++;
		if (o < sizeof(v->log[0]) - 1)
			o += snprintf(v->log[v->n] + o, sizeof(v->log[0]) - o,
			    " %x/%u", (unsigned)strtoul(it[i].id, NULL, 16),
			    it[i].rcpt);
	}
	v->sizes[v->n] = n;
	v->msgs[v->n] = msgs;
	v->n++;
	if (v->s != NULL && v->remove_first) {
		v->remove_first = 0;
		schedule_remove(v->s, qid(1));
	}
	if (v->s != NULL && v->reenter == 0) {
		if (schedule_due(v->s, T0 + DAY, record, v) != -1)
			v->reenter = -1;
		else
			v->reenter = errno;
	}
	return v->stop_after != 0 && (int)v->n >= v->stop_after;
}

static void
expect_log(const struct seen *v, const char *const *want, size_t nwant)
{
	size_t	i;

	if (v->n != nwant)
		fail_msg("%zu batches, want %zu (first: %s)", v->n, nwant,
		    v->n ? v->log[0] : "none");
	for (i = 0; i < nwant; i++)
		if (strcmp(v->log[i], want[i]) != 0)
			fail_msg("batch %zu: \"%s\", want \"%s\"", i,
			    v->log[i], want[i]);
}

/*
 * Three domains, due times interleaved: each round hands out one batch
 * per domain, earliest domain first, its due recipients only.
 */
static void
test_batch_by_domain(void **state)
{
	static const char *const	 round1[] = {
		"a.example 1/0 1/2 3/0",
		"b.example 1/1 2/0",
		"c.example 2/1",
	};
	static const char *const	 round2[] = {
		"c.example 4/0",
		"a.example 2/2 3/1",
		"b.example 4/1",
	};
	struct schedule			*s;
	struct seen			 v;

	if ((s = schedule_new(&def_policy)) == NULL)
		fail_msg("schedule_new");
	add(s, 1, 0, "a.example", T0 + 1);
	add(s, 1, 1, "B.Example", T0 + 2);
	add(s, 1, 2, "a.example", T0 + 3);
	add(s, 2, 0, "b.example", T0 + 1);
	add(s, 2, 1, "c.EXAMPLE", T0 + 5);
	add(s, 2, 2, "a.example", T0 + 20);
	add(s, 3, 0, "A.example", T0 + 4);
	add(s, 3, 1, "a.example", T0 + 25);
	add(s, 4, 0, "c.example", T0 + 11);
	add(s, 4, 1, "b.example", T0 + 30);
	if (schedule_when(s) != T0 + 1)
		fail_msg("when %lld", (long long)schedule_when(s));

	memset(&v, 0, sizeof(v));
	if (schedule_due(s, T0, record, &v) != 0 || v.n != 0)
		fail_msg("handed out before due");
	if (schedule_due(s, T0 + 10, record, &v) != 6)
		fail_msg("round 1: wrong count");
	expect_log(&v, round1, NROWS(round1));
	if (schedule_when(s) != T0 + 11)
		fail_msg("when after round 1 %lld",
		    (long long)schedule_when(s));

	memset(&v, 0, sizeof(v));
	if (schedule_due(s, T0 + 30, record, &v) != 4)
		fail_msg("round 2: wrong count");
	expect_log(&v, round2, NROWS(round2));
	if (schedule_when(s) != SCHEDULE_NEVER || schedule_count(s, NULL) != 10)
		fail_msg("all running: when %lld", (long long)schedule_when(s));
	schedule_free(s);
}

/* 230 recipients of one domain: 100 per batch, 50 messages per batch. */
static void
test_batch_caps(void **state)
{
	struct schedule	*s;
	struct seen	 v;
	unsigned	 m;
	uint32_t	 r;

	if ((s = schedule_new(&def_policy)) == NULL)
		fail_msg("schedule_new");
	for (r = 0; r < 130; r++)		/* one message, 130 rcpts */
		add(s, 1000, r, "big.example", T0);
	for (m = 1; m <= 60; m++)		/* 60 messages, 1 rcpt */
		add(s, m, 0, "many.example", T0 + 1);
	for (m = 100; m < 120; m++)		/* 20 messages, 2 rcpts */
		for (r = 0; r < 2; r++)
			add(s, m, r, "pairs.example", T0 + 2);

	memset(&v, 0, sizeof(v));
	if (schedule_due(s, T0 + 5, record, &v) != 130 + 60 + 40)
		fail_msg("wrong count");
	if (v.n != 5)
		fail_msg("%zu batches", v.n);
	/* Earliest first: the rest of big (T0) comes before many (T0+1). */
	if (strcmp(v.domains[0], "big.example") != 0 || v.sizes[0] != 100 ||
	    v.msgs[0] != 1 ||
	    strcmp(v.domains[1], "big.example") != 0 || v.sizes[1] != 30 ||
	    strcmp(v.domains[2], "many.example") != 0 || v.sizes[2] != 50 ||
	    v.msgs[2] != 50 ||
	    strcmp(v.domains[3], "many.example") != 0 || v.sizes[3] != 10 ||
	    strcmp(v.domains[4], "pairs.example") != 0 || v.sizes[4] != 40 ||
	    v.msgs[4] != 20)
		fail_msg("batches: %s | %s | %s | %s | %s", v.log[0],
		    v.log[1], v.log[2], v.log[3], v.log[4]);
	schedule_free(s);
}

/* A running entry is not handed out again until its schedule_done(). */
static void
test_running_once(void **state)
{
	struct schedule		*s;
	struct seen		 v;
	struct schedule_result	 r;
	struct schedule_entry	 e;

	if ((s = schedule_new(&def_policy)) == NULL)
		fail_msg("schedule_new");
	add(s, 1, 0, "example.org", T0);
	add(s, 1, 1, "example.org", T0);
	memset(&v, 0, sizeof(v));
	if (schedule_due(s, T0, record, &v) != 2)
		fail_msg("not handed out");
	if (schedule_due(s, T0 + DAY, record, &v) != 0 || v.n != 1)
		fail_msg("handed out twice");
	if (schedule_schedule_now(s, NULL, T0) != 0)
		fail_msg("schedule now touched a running entry");
	if (schedule_get(s, qid(1), 0, &e) != 0 ||
	    e.state != SCHEDULE_RUNNING)
		fail_msg("state %d", e.state);

	if (schedule_done(s, qid(1), 0, T0 + 1, SCHEDULE_TEMPFAIL, &r) !=
	    SCHEDULE_RETRY || r.next_try != T0 + 1 + 5 * MIN)
		fail_msg("tempfail: %d %lld", r.action, (long long)r.next_try);
	if (schedule_done(s, qid(1), 0, T0 + 1, SCHEDULE_DELIVERED, &r) !=
	    -1 || errno != EINVAL)
		fail_msg("done on a waiting entry");
	if (schedule_done(s, qid(1), 1, T0 + 1, SCHEDULE_PERMFAIL, &r) !=
	    SCHEDULE_DONE || !r.bounce)
		fail_msg("permfail: %d bounce %d", r.action, r.bounce);
	if (schedule_done(s, qid(1), 1, T0 + 1, SCHEDULE_DELIVERED, &r) !=
	    -1 || errno != ENOENT)
		fail_msg("done twice");
	if (schedule_count(s, qid(1)) != 1 ||
	    schedule_when(s) != T0 + 1 + 5 * MIN)
		fail_msg("count %zu when %lld", schedule_count(s, qid(1)),
		    (long long)schedule_when(s));

	memset(&v, 0, sizeof(v));
	if (schedule_due(s, T0 + 5 * MIN, record, &v) != 0)
		fail_msg("retried early");
	if (schedule_due(s, T0 + 1 + 5 * MIN, record, &v) != 1 ||
	    strcmp(v.log[0], "example.org 1/0") != 0)
		fail_msg("retry: %s", v.n ? v.log[0] : "none");
	if (schedule_done(s, qid(1), 0, T0 + 1, SCHEDULE_DELIVERED, &r) !=
	    SCHEDULE_DONE || r.bounce || schedule_count(s, NULL) != 0)
		fail_msg("delivered");
	schedule_free(s);
}

/* The clock went back: nothing is due before its time. */
static void
test_clock_back(void **state)
{
	struct schedule		*s;
	struct seen		 v;
	struct schedule_result	 r;

	if ((s = schedule_new(&def_policy)) == NULL)
		fail_msg("schedule_new");
	add(s, 1, 0, "example.org", T0);
	memset(&v, 0, sizeof(v));
	if (schedule_due(s, T0 - HOUR, record, &v) != 0)
		fail_msg("due before its time");
	if (schedule_due(s, T0, record, &v) != 1)
		fail_msg("not due at its time");
	/* Failed "a week before" it arrived: no expiry, no delay. */
	if (schedule_done(s, qid(1), 0, T0 - 7 * DAY, SCHEDULE_TEMPFAIL, &r) !=
	    SCHEDULE_RETRY || r.next_try != T0 - 7 * DAY + 5 * MIN ||
	    r.delay || r.bounce)
		fail_msg("clock back: %d %lld", r.action,
		    (long long)r.next_try);
	schedule_free(s);
}

static void
test_schedule_now_remove(void **state)
{
	struct schedule		*s;
	struct seen		 v;
	struct schedule_result	 r;

	if ((s = schedule_new(&def_policy)) == NULL)
		fail_msg("schedule_new");
	add(s, 1, 0, "a.example", T0 + HOUR);
	add(s, 1, 1, "b.example", T0 + 2 * HOUR);
	add(s, 2, 0, "a.example", T0 + 3 * HOUR);
	add(s, 3, 0, "c.example", T0 - HOUR);	/* already due */

	if (schedule_schedule_now(s, qid(9), T0) != 0 ||
	    schedule_schedule_now(s, "not an id at all, too long", T0) != 0)
		fail_msg("schedule now of an unknown id");
	if (schedule_schedule_now(s, qid(1), T0) != 2)
		fail_msg("schedule now 1");
	memset(&v, 0, sizeof(v));
	if (schedule_due(s, T0, record, &v) != 3 || v.n != 3 ||
	    strcmp(v.log[0], "c.example 3/0") != 0 ||
	    strcmp(v.log[1], "a.example 1/0") != 0 ||
	    strcmp(v.log[2], "b.example 1/1") != 0)
		fail_msg("after schedule now: %zu batches", v.n);
	if (schedule_when(s) != T0 + 3 * HOUR)
		fail_msg("2 moved");

	/* Remove: 1/0 running (forgotten at done), 1/1 running. */
	if (schedule_remove(s, qid(1)) != 2 || schedule_remove(s, qid(1)) != 0)
		fail_msg("remove 1");
	if (schedule_count(s, qid(1)) != 2)
		fail_msg("running entries forgotten early");
	if (schedule_done(s, qid(1), 0, T0, SCHEDULE_PERMFAIL, &r) !=
	    SCHEDULE_DONE || !r.removed || r.bounce || r.delay)
		fail_msg("done of a removed entry");
	if (schedule_done(s, qid(1), 1, T0, SCHEDULE_TEMPFAIL, &r) !=
	    SCHEDULE_DONE || !r.removed || schedule_count(s, qid(1)) != 0)
		fail_msg("removed entry retried");

	if (schedule_remove(s, qid(2)) != 1 || schedule_count(s, NULL) != 1 ||
	    schedule_when(s) != SCHEDULE_NEVER)
		fail_msg("remove 2");
	if (schedule_schedule_now(s, NULL, T0) != 0)
		fail_msg("schedule all: 3 is running");
	if (schedule_done(s, qid(3), 0, T0, SCHEDULE_TEMPFAIL, &r) !=
	    SCHEDULE_RETRY)
		fail_msg("3 tempfail");
	add(s, 4, 0, "d.example", T0 + DAY);
	if (schedule_schedule_now(s, NULL, T0 + 1) != 2 ||
	    schedule_when(s) != T0 + 1)
		fail_msg("schedule all");
	if (schedule_remove(s, NULL) != 2 || schedule_count(s, NULL) != 0 ||
	    schedule_when(s) != SCHEDULE_NEVER)
		fail_msg("remove all");
	schedule_free(s);
}

/*
 * The callback removes entries of the round still to come and tries to
 * re-enter; a callback that stops leaves the rest due.
 */
static void
test_callback(void **state)
{
	static const char *const	 round1[] = {
		"a.example 2/0",
		"c.example 3/0",
	};
	struct schedule			*s;
	struct seen			 v;
	struct schedule_result		 r;

	if ((s = schedule_new(&def_policy)) == NULL)
		fail_msg("schedule_new");
	add(s, 2, 0, "a.example", T0);
	add(s, 1, 0, "b.example", T0 + 1);	/* removed by the callback */
	add(s, 3, 0, "c.example", T0 + 2);
	add(s, 1, 1, "a.example", T0 + 3);	/* removed, not due */

	memset(&v, 0, sizeof(v));
	v.s = s;
	v.remove_first = 1;
	if (schedule_due(s, T0 + 2, record, &v) != 2 || v.reenter != EBUSY)
		fail_msg("round 1: reenter %d", v.reenter);
	expect_log(&v, round1, NROWS(round1));
	if (schedule_when(s) != SCHEDULE_NEVER ||
	    schedule_count(s, NULL) != 2)
		fail_msg("after round 1: when %lld count %zu",
		    (long long)schedule_when(s), schedule_count(s, NULL));
	if (schedule_done(s, qid(2), 0, T0, SCHEDULE_DELIVERED, &r) !=
	    SCHEDULE_DONE || schedule_done(s, qid(3), 0, T0,
	    SCHEDULE_DELIVERED, &r) != SCHEDULE_DONE ||
	    schedule_count(s, NULL) != 0)
		fail_msg("after round 1");

	add(s, 5, 0, "d.example", T0 + 5);
	add(s, 6, 0, "e.example", T0 + 5);
	memset(&v, 0, sizeof(v));
	v.stop_after = 1;
	if (schedule_due(s, T0 + 5, record, &v) != 1 ||
	    strcmp(v.log[0], "d.example 5/0") != 0)
		fail_msg("stop: %s", v.n ? v.log[0] : "none");
	if (schedule_when(s) != T0 + 5)
		fail_msg("after stop: when %lld", (long long)schedule_when(s));
	memset(&v, 0, sizeof(v));
	if (schedule_due(s, T0 + 5, record, &v) != 1 ||
	    strcmp(v.log[0], "e.example 6/0") != 0)
		fail_msg("after stop: %s", v.n ? v.log[0] : "none");
	schedule_free(s);
}

struct add_row {
	const char	*id;
	const char	*domain;
	int		 err;
};

static const struct add_row add_rows[] = {
	{ "0123456789abcdef", "example.org", 0 },
	{ "0123456789abcdef", "EXAMPLE.ORG", EEXIST },
	{ "0123456789ABCDEF", "example.org", EINVAL },
	{ "0123456789abcde", "example.org", EINVAL },
	{ "", "example.org", EINVAL },
	{ "0123456789abcdee", "", EINVAL },
};

static void
test_add(void **state)
{
	struct schedule		*s;
	struct schedule_entry	 e;
	size_t			 i;
	int			 err;

	if ((s = schedule_new(NULL)) == NULL)
		fail_msg("schedule_new");
	for (i = 0; i < NROWS(add_rows); i++) {
		memset(&e, 0, sizeof(e));
		snprintf(e.id, sizeof(e.id), "%s", add_rows[i].id);
		snprintf(e.domain, sizeof(e.domain), "%s", add_rows[i].domain);
		err = schedule_add(s, &e) == 0 ? 0 : errno;
		if (err != add_rows[i].err)
			fail_msg("row %zu: errno %d, want %d", i, err,
			    add_rows[i].err);
	}
	/* Every octet of the domain used, no NUL: too long. */
	memset(&e, 0, sizeof(e));
	memcpy(e.id, qid(7), sizeof(e.id));
	memset(e.domain, 'a', sizeof(e.domain));
	if (schedule_add(s, &e) != -1 || errno != EINVAL)
		fail_msg("unterminated domain");
	e.domain[SCHEDULE_DOMAIN_MAX] = '\0';
	e.attempts = 4;
	e.warned = 1;
	if (schedule_add(s, &e) != 0 || schedule_get(s, qid(7), 0, &e) != 0 ||
	    strlen(e.domain) != SCHEDULE_DOMAIN_MAX || e.attempts != 4 ||
	    !e.warned || e.state != SCHEDULE_WAITING)
		fail_msg("restored entry");
	if (schedule_get(s, qid(8), 0, &e) != -1 || errno != ENOENT)
		fail_msg("get of an unknown entry");
	schedule_free(s);
}

static int
done_all(const char *domain, const struct schedule_item *it, size_t n,
    void *arg)
{
	void			**a = arg;
	struct schedule		 *s = a[0];
	size_t			 *count = a[1];
	struct schedule_result	  r;
	size_t			  i;

	for (i = 0; i < n; i++) {
		/* Every other recipient fails once, the rest is delivered. */
		if (schedule_done(s, it[i].id, it[i].rcpt, T0 + DAY,
		    it[i].rcpt % 2 ? SCHEDULE_TEMPFAIL : SCHEDULE_DELIVERED,
		    &r) == -1)
			fail_msg("done %s/%u", it[i].id, it[i].rcpt);
	}
	*count += n;
	return 0;
}

/*
 * 100,000 recipients of 25,000 messages to 1,000 domains, timed from
 * the first add to the free.  Not a benchmark (make check times
 * nothing): the bound is twenty times what it takes here under ASan,
 * so it only fails for a quadratic slip, never for a busy machine.
 */
#define BOUND_100K	20.0


static void
test_100k(void **state)
{
	struct schedule		*s;
	struct schedule_entry	*e;
	struct timespec		 t0, t1;
	char			 dom[32];
	size_t			 count = 0;
	void			*arg[2];
	double			 secs;
	unsigned		 i;

	if ((e = calloc(100000, sizeof(*e))) == NULL)
		fail_msg("calloc");
	for (i = 0; i < 100000; i++) {
		snprintf(dom, sizeof(dom), "d%u.example", (i * 7919) % 1000);
		entry(&e[i], i / 4, i % 4, dom, T0,
		    T0 + (int64_t)((i * 2654435761u) % 86400));
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((s = schedule_new(&def_policy)) == NULL)
		fail_msg("schedule_new");
	for (i = 0; i < 100000; i++)
		if (schedule_add(s, &e[i]) == -1)
			fail_msg("add %u", i);
	arg[0] = s;
	arg[1] = &count;
	if (schedule_due(s, T0 + DAY, done_all, arg) != 100000 ||
	    count != 100000)
		fail_msg("first round: %zu", count);
	if (schedule_count(s, NULL) != 50000 ||
	    schedule_when(s) != T0 + DAY + 5 * MIN)
		fail_msg("after the first round: %zu",
		    schedule_count(s, NULL));
	count = 0;
	if (schedule_due(s, T0 + DAY + 5 * MIN, done_all, arg) != 50000)
		fail_msg("second round: %zu", count);
	if (schedule_schedule_now(s, NULL, T0 + 2 * DAY) != 50000 ||
	    schedule_remove(s, NULL) != 50000 || schedule_count(s, NULL) != 0)
		fail_msg("schedule now and remove all");
	schedule_free(s);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	free(e);
	print_message("100k entries: %.3f s\n", secs);
	if (secs >= BOUND_100K)
		fail_msg("100k entries took %.3f s", secs);
}

int
main(void)
{
	const struct CMUnitTest	tests[] = {
		cmocka_unit_test(test_retry_sequence),
		cmocka_unit_test(test_retry_until_expiry),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_warn_once),
		cmocka_unit_test(test_policy_check),
		cmocka_unit_test(test_batch_by_domain),
		cmocka_unit_test(test_batch_caps),
		cmocka_unit_test(test_running_once),
		cmocka_unit_test(test_clock_back),
		cmocka_unit_test(test_schedule_now_remove),
		cmocka_unit_test(test_callback),
		cmocka_unit_test(test_add),
		cmocka_unit_test(test_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
