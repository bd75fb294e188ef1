/*
 * The delivery schedule of the queue (schedule.h).  Pure: no I/O, no
 * clock.
 *
 * Every entry is in one tree by (id, rcpt), for the control commands and
 * schedule_done().  A WAITING entry is also in its domain's tree by
 * (next_try, id, rcpt), and every domain with a WAITING entry is in one
 * tree by (its earliest next_try, name): the earliest due domain and its
 * earliest due recipients are each one lookup away, so a batch for one
 * domain costs O(log n) per recipient however the due times of the
 * domains interleave.  Domains are shared by their entries (refs), so an
 * entry costs 112 octets.  Trees, not hashes: the domains come from
 * the users, and a tree has no worst case to aim at.
 */
#include <sys/tree.h>

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "schedule.h"

struct sched_domain;

struct sched_node {
	RB_ENTRY(sched_node)	 by_id;
	RB_ENTRY(sched_node)	 by_time;	/* WAITING only */
	struct sched_domain	*dom;
	int64_t			 created;
	int64_t			 next_try;
	uint64_t		 qid;		/* the id's 16 hex digits */
	int			 attempts;
	uint32_t		 rcpt;
	uint8_t			 warned;
	uint8_t			 state;
	uint8_t			 removed;	/* while RUNNING */
};

RB_HEAD(schedule_ids, sched_node);
RB_HEAD(schedule_times, sched_node);

struct sched_domain {
	RB_ENTRY(sched_domain)	 by_name;
	RB_ENTRY(sched_domain)	 by_due;	/* when times is not empty */
	struct schedule_times	 times;
	int64_t			 due;		/* earliest of times */
	size_t			 refs;		/* entries, running callback */
	int			 queued;	/* in by_due */
	char			 name[SCHEDULE_DOMAIN_MAX + 1];
};

RB_HEAD(schedule_names, sched_domain);
RB_HEAD(schedule_dues, sched_domain);

struct schedule {
	struct schedule_policy	 policy;
	int64_t			 retry[SCHEDULE_RETRY_MAX];
	struct schedule_ids	 ids;
	struct schedule_names	 names;
	struct schedule_dues	 dues;
	size_t			 n;
	int			 busy;		/* in schedule_due() */
};

static const int64_t	default_retry[] = SCHEDULE_DEFAULT_RETRY;

static int
node_id_cmp(const struct sched_node *a, const struct sched_node *b)
{
	if (a->qid != b->qid)
		return a->qid < b->qid ? -1 : 1;
	return a->rcpt < b->rcpt ? -1 : a->rcpt > b->rcpt;
}

static int
node_time_cmp(const struct sched_node *a, const struct sched_node *b)
{
	if (a->next_try != b->next_try)
		return a->next_try < b->next_try ? -1 : 1;
	return node_id_cmp(a, b);
}

static int
dom_name_cmp(const struct sched_domain *a, const struct sched_domain *b)
{
	return strcmp(a->name, b->name);
}

static int
dom_due_cmp(const struct sched_domain *a, const struct sched_domain *b)
{
	if (a->due != b->due)
		return a->due < b->due ? -1 : 1;
	return strcmp(a->name, b->name);
}

RB_PROTOTYPE(schedule_ids, sched_node, by_id, node_id_cmp)
RB_PROTOTYPE(schedule_times, sched_node, by_time, node_time_cmp)
RB_PROTOTYPE(schedule_names, sched_domain, by_name, dom_name_cmp)
RB_PROTOTYPE(schedule_dues, sched_domain, by_due, dom_due_cmp)
RB_GENERATE(schedule_ids, sched_node, by_id, node_id_cmp)
RB_GENERATE(schedule_times, sched_node, by_time, node_time_cmp)
RB_GENERATE(schedule_names, sched_domain, by_name, dom_name_cmp)
RB_GENERATE(schedule_dues, sched_domain, by_due, dom_due_cmp)

/* a + b for b >= 0 (less counts as 0), at most INT64_MAX. */
static int64_t
add_sat(int64_t a, int64_t b)
{
	if (b <= 0)
		return a;
	if (a > INT64_MAX - b)
		return INT64_MAX;
	return a + b;
}

/* now - created, 0 when the clock is behind, at most INT64_MAX. */
static int64_t
elapsed(int64_t created, int64_t now)
{
	uint64_t	d;

	if (now <= created)
		return 0;
	/* The true difference is below 2^64: the unsigned one is exact. */
	d = (uint64_t)now - (uint64_t)created;
	return d > INT64_MAX ? INT64_MAX : (int64_t)d;
}

int
schedule_policy_check(const struct schedule_policy *p, const char **why)
{
	int	i;

	if (p->retry == NULL || p->nretry < 1 ||
	    p->nretry > SCHEDULE_RETRY_MAX) {
		*why = "retry needs 1 to 32 intervals";
		return -1;
	}
	for (i = 0; i < p->nretry; i++)
		if (p->retry[i] < 1 || p->retry[i] > SCHEDULE_INTERVAL_MAX) {
			*why = "retry interval out of range";
			return -1;
		}
	if (p->expire < 1 || p->expire > SCHEDULE_INTERVAL_MAX) {
		*why = "expire out of range";
		return -1;
	}
	if (p->warn < 0 || p->warn > SCHEDULE_INTERVAL_MAX) {
		*why = "warn out of range";
		return -1;
	}
	return 0;
}

int
schedule_next(const struct schedule_policy *p, struct schedule_entry *e,
    int64_t now, int outcome, struct schedule_result *r)
{
	const int64_t	*retry = p->retry;
	int		 nretry = p->nretry, i;
	int64_t		 expire, iv, since;

	if (outcome != SCHEDULE_DELIVERED && outcome != SCHEDULE_TEMPFAIL &&
	    outcome != SCHEDULE_PERMFAIL) {
		errno = EINVAL;
		return -1;
	}
	if (retry == NULL || nretry < 1) {
		retry = default_retry;
		nretry = SCHEDULE_DEFAULT_NRETRY;
	}
	expire = p->expire < 1 ? 1 : p->expire;

	memset(r, 0, sizeof(*r));
	if (e->attempts < 0)
		e->attempts = 0;
	if (e->attempts < INT_MAX)
		e->attempts++;
	since = elapsed(e->created, now);
	r->retry_until = add_sat(e->created, expire);
	e->state = SCHEDULE_FINISHED;

	switch (outcome) {
	case SCHEDULE_DELIVERED:
		r->action = SCHEDULE_DONE;
		return r->action;
	case SCHEDULE_PERMFAIL:
		r->action = SCHEDULE_DONE;
		r->bounce = 1;
		return r->action;
	}
	if (since >= expire) {
		r->action = SCHEDULE_EXPIRED;
		r->bounce = 1;
		return r->action;
	}

	i = e->attempts - 1 < nretry ? e->attempts - 1 : nretry - 1;
	iv = retry[i] < 1 ? 1 : retry[i];
	/* The last try is at the expiry, so that the bounce is on time. */
	r->next_try = add_sat(now, iv);
	if (r->next_try > r->retry_until)
		r->next_try = r->retry_until;
	if (p->warn > 0 && !e->warned && since >= p->warn) {
		r->delay = 1;
		e->warned = 1;
	}
	e->next_try = r->next_try;
	e->state = SCHEDULE_WAITING;
	r->action = SCHEDULE_RETRY;
	return r->action;
}

struct schedule *
schedule_new(const struct schedule_policy *p)
{
	struct schedule	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	RB_INIT(&s->ids);
	RB_INIT(&s->names);
	RB_INIT(&s->dues);
	if (schedule_set_policy(s, p) == -1) {
		free(s);
		return NULL;
	}
	return s;
}

int
schedule_set_policy(struct schedule *s, const struct schedule_policy *p)
{
	struct schedule_policy	 def = {
		default_retry, SCHEDULE_DEFAULT_NRETRY,
		SCHEDULE_DEFAULT_EXPIRE, SCHEDULE_DEFAULT_WARN
	};
	const char		*why;

	if (p == NULL)
		p = &def;
	if (schedule_policy_check(p, &why) == -1) {
		errno = EINVAL;
		return -1;
	}
	memcpy(s->retry, p->retry, p->nretry * sizeof(s->retry[0]));
	s->policy = *p;
	s->policy.retry = s->retry;
	return 0;
}

/* The domain's place among the due ones follows its earliest entry. */
static void
dom_requeue(struct schedule *s, struct sched_domain *d)
{
	struct sched_node	*first;

	if (d->queued) {
		RB_REMOVE(schedule_dues, &s->dues, d);
		d->queued = 0;
	}
	if ((first = RB_MIN(schedule_times, &d->times)) != NULL) {
		d->due = first->next_try;
		RB_INSERT(schedule_dues, &s->dues, d);
		d->queued = 1;
	}
}

/* nd joined d's waiting entries: requeue d only if nd comes first. */
static void
dom_joined(struct schedule *s, struct sched_domain *d, struct sched_node *nd)
{
	if (!d->queued || nd->next_try < d->due)
		dom_requeue(s, d);
}

static void
dom_unref(struct schedule *s, struct sched_domain *d)
{
	if (--d->refs > 0)
		return;
	/* No entry left: none waiting, so it is not queued either. */
	RB_REMOVE(schedule_names, &s->names, d);
	free(d);
}

static void
node_free(struct schedule *s, struct sched_node *nd)
{
	RB_REMOVE(schedule_ids, &s->ids, nd);
	if (nd->state == SCHEDULE_WAITING) {
		RB_REMOVE(schedule_times, &nd->dom->times, nd);
		/* Only the first one sets the domain's due time. */
		if (nd->next_try <= nd->dom->due)
			dom_requeue(s, nd->dom);
	}
	dom_unref(s, nd->dom);
	free(nd);
	s->n--;
}

/*
 * A valid id is 16 lowercase hex digits: kept as the number they spell,
 * whose order is theirs.  -1 when id is not one.
 */
static int
qid_parse(const char *id, uint64_t *q)
{
	size_t	len, i;

	len = strnlen(id, ENVELOPE_ID_LEN + 1);
	if (!envelope_id_valid(id, len))
		return -1;
	*q = 0;
	for (i = 0; i < len; i++)
		*q = *q << 4 | (uint64_t)(id[i] <= '9' ? id[i] - '0' :
		    id[i] - 'a' + 10);
	return 0;
}

static void
qid_format(uint64_t q, char *id)
{
	static const char	hex[] = "0123456789abcdef";
	int			i;

	for (i = ENVELOPE_ID_LEN - 1; i >= 0; i--, q >>= 4)
		id[i] = hex[q & 0xf];
	id[ENVELOPE_ID_LEN] = '\0';
}

/* A lookup key; -1 when id cannot be an id of the tree. */
static int
key_set(struct sched_node *key, const char *id, uint32_t rcpt)
{
	key->rcpt = rcpt;
	return qid_parse(id, &key->qid);
}

/*
 * The entries of one id (NULL: of all) in (id, rcpt) order: from
 * id_first() while id_match().  *q is set for id_match().
 */
static struct sched_node *
id_first(const struct schedule *s, const char *id, uint64_t *q)
{
	struct sched_node	key;

	if (id == NULL)
		return RB_MIN(schedule_ids, (struct schedule_ids *)&s->ids);
	if (key_set(&key, id, 0) == -1)
		return NULL;
	*q = key.qid;
	return RB_NFIND(schedule_ids, (struct schedule_ids *)&s->ids, &key);
}

static int
id_match(const struct sched_node *nd, const char *id, uint64_t q)
{
	return nd != NULL && (id == NULL || nd->qid == q);
}

int
schedule_add(struct schedule *s, const struct schedule_entry *e)
{
	struct sched_domain	 dkey, *d;
	struct sched_node	*nd;
	size_t			 len, i;
	uint64_t		 q;

	if (qid_parse(e->id, &q) == -1) {
		errno = EINVAL;
		return -1;
	}
	len = strnlen(e->domain, sizeof(e->domain));
	if (len == 0 || len == sizeof(e->domain)) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < len; i++) {
		dkey.name[i] = e->domain[i];
		if (dkey.name[i] >= 'A' && dkey.name[i] <= 'Z')
			dkey.name[i] += 'a' - 'A';
	}
	dkey.name[len] = '\0';

	if ((nd = calloc(1, sizeof(*nd))) == NULL)
		return -1;
	nd->qid = q;
	nd->rcpt = e->rcpt;
	if (RB_FIND(schedule_ids, &s->ids, nd) != NULL) {
		free(nd);
		errno = EEXIST;
		return -1;
	}
	if ((d = RB_FIND(schedule_names, &s->names, &dkey)) == NULL) {
		if ((d = calloc(1, sizeof(*d))) == NULL) {
			free(nd);
			return -1;
		}
		memcpy(d->name, dkey.name, len + 1);
		RB_INIT(&d->times);
		RB_INSERT(schedule_names, &s->names, d);
	}
	nd->dom = d;
	nd->created = e->created;
	nd->next_try = e->next_try;
	nd->attempts = e->attempts < 0 ? 0 : e->attempts;
	nd->warned = e->warned != 0;
	nd->state = SCHEDULE_WAITING;
	d->refs++;
	RB_INSERT(schedule_ids, &s->ids, nd);
	RB_INSERT(schedule_times, &d->times, nd);
	dom_joined(s, d, nd);
	s->n++;
	return 0;
}

static int
item_cmp(const void *a, const void *b)
{
	const struct schedule_item	*x = a, *y = b;
	int				 c;

	if ((c = strcmp(x->id, y->id)) != 0)
		return c;
	return x->rcpt < y->rcpt ? -1 : x->rcpt > y->rcpt;
}

/* Whether the batch already has a recipient of q (last one first). */
static int
batch_has(const uint64_t *msgs, size_t nmsg, uint64_t q)
{
	size_t	i;

	for (i = nmsg; i > 0; i--)
		if (msgs[i - 1] == q)
			return 1;
	return 0;
}

int
schedule_due(struct schedule *s, int64_t now, schedule_batch_cb cb,
    void *arg)
{
	struct schedule_item	 items[SCHEDULE_BATCH_RCPT_MAX];
	uint64_t		 msgs[SCHEDULE_BATCH_MSG_MAX];
	struct sched_domain	*d;
	struct sched_node	*nd;
	size_t			 n, nmsg;
	int			 total = 0, stop = 0;

	if (s->busy) {
		errno = EBUSY;
		return -1;
	}
	s->busy = 1;
	while (!stop && (d = RB_MIN(schedule_dues, &s->dues)) != NULL &&
	    d->due <= now) {
		n = nmsg = 0;
		while (n < SCHEDULE_BATCH_RCPT_MAX &&
		    (nd = RB_MIN(schedule_times, &d->times)) != NULL &&
		    nd->next_try <= now) {
			if (!batch_has(msgs, nmsg, nd->qid)) {
				if (nmsg == SCHEDULE_BATCH_MSG_MAX)
					break;
				msgs[nmsg++] = nd->qid;
			}
			RB_REMOVE(schedule_times, &d->times, nd);
			nd->state = SCHEDULE_RUNNING;
			qid_format(nd->qid, items[n].id);
			items[n].rcpt = nd->rcpt;
			n++;
		}
		dom_requeue(s, d);
		qsort(items, n, sizeof(items[0]), item_cmp);
		/* The callback may forget every entry of d: keep d alive. */
		d->refs++;
		stop = cb(d->name, items, n, arg);
		dom_unref(s, d);
		total = (size_t)total + n > INT_MAX ? INT_MAX : total + (int)n;
	}
	s->busy = 0;
	return total;
}

int
schedule_done(struct schedule *s, const char *id, uint32_t rcpt, int64_t now,
    int outcome, struct schedule_result *r)
{
	struct sched_node	 key, *nd;
	struct schedule_entry	 e;

	if (key_set(&key, id, rcpt) == -1 ||
	    (nd = RB_FIND(schedule_ids, &s->ids, &key)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (nd->state != SCHEDULE_RUNNING) {
		errno = EINVAL;
		return -1;
	}
	if (nd->removed) {
		if (outcome != SCHEDULE_DELIVERED &&
		    outcome != SCHEDULE_TEMPFAIL &&
		    outcome != SCHEDULE_PERMFAIL) {
			errno = EINVAL;
			return -1;
		}
		memset(r, 0, sizeof(*r));
		r->action = SCHEDULE_DONE;
		r->removed = 1;
		r->retry_until = add_sat(nd->created, s->policy.expire);
		nd->state = SCHEDULE_FINISHED;
		node_free(s, nd);
		return r->action;
	}
	memset(&e, 0, sizeof(e));
	e.created = nd->created;
	e.next_try = nd->next_try;
	e.attempts = nd->attempts;
	e.warned = nd->warned;
	e.state = nd->state;
	if (schedule_next(&s->policy, &e, now, outcome, r) == -1)
		return -1;
	nd->next_try = e.next_try;
	nd->attempts = e.attempts;
	nd->warned = e.warned != 0;
	nd->state = e.state;
	if (r->action != SCHEDULE_RETRY) {
		node_free(s, nd);
		return r->action;
	}
	RB_INSERT(schedule_times, &nd->dom->times, nd);
	dom_joined(s, nd->dom, nd);
	return r->action;
}

int64_t
schedule_when(const struct schedule *s)
{
	struct sched_domain	*d;

	d = RB_MIN(schedule_dues, (struct schedule_dues *)&s->dues);
	return d == NULL ? SCHEDULE_NEVER : d->due;
}

size_t
schedule_schedule_now(struct schedule *s, const char *id, int64_t now)
{
	struct sched_node	*nd;
	size_t			 n = 0;
	uint64_t		 q = 0;

	for (nd = id_first(s, id, &q); id_match(nd, id, q);
	    nd = RB_NEXT(schedule_ids, &s->ids, nd)) {
		if (nd->state != SCHEDULE_WAITING)
			continue;
		n++;
		if (nd->next_try <= now)
			continue;
		RB_REMOVE(schedule_times, &nd->dom->times, nd);
		nd->next_try = now;
		RB_INSERT(schedule_times, &nd->dom->times, nd);
		dom_joined(s, nd->dom, nd);
	}
	return n;
}

size_t
schedule_remove(struct schedule *s, const char *id)
{
	struct sched_node	*nd, *next;
	size_t			 n = 0;
	uint64_t		 q = 0;

	for (nd = id_first(s, id, &q); id_match(nd, id, q); nd = next) {
		next = RB_NEXT(schedule_ids, &s->ids, nd);
		if (nd->state == SCHEDULE_RUNNING) {
			if (!nd->removed) {
				nd->removed = 1;
				n++;
			}
			continue;
		}
		node_free(s, nd);
		n++;
	}
	return n;
}

size_t
schedule_count(const struct schedule *s, const char *id)
{
	struct sched_node	*nd;
	size_t			 n = 0;
	uint64_t		 q = 0;

	if (id == NULL)
		return s->n;
	for (nd = id_first(s, id, &q); id_match(nd, id, q);
	    nd = RB_NEXT(schedule_ids, (struct schedule_ids *)&s->ids, nd))
		n++;
	return n;
}

int
schedule_get(const struct schedule *s, const char *id, uint32_t rcpt,
    struct schedule_entry *e)
{
	struct sched_node	 key, *nd;

	if (key_set(&key, id, rcpt) == -1 || (nd = RB_FIND(schedule_ids,
	    (struct schedule_ids *)&s->ids, &key)) == NULL) {
		errno = ENOENT;
		return -1;
	}
	memset(e, 0, sizeof(*e));
	qid_format(nd->qid, e->id);
	e->rcpt = nd->rcpt;
	memcpy(e->domain, nd->dom->name, sizeof(e->domain));
	e->created = nd->created;
	e->next_try = nd->next_try;
	e->attempts = nd->attempts;
	e->warned = nd->warned;
	e->state = nd->state;
	return 0;
}

void
schedule_free(struct schedule *s)
{
	struct sched_node	*nd, *next;

	if (s == NULL)
		return;
	for (nd = RB_MIN(schedule_ids, &s->ids); nd != NULL; nd = next) {
		next = RB_NEXT(schedule_ids, &s->ids, nd);
		node_free(s, nd);
	}
	free(s);
}
