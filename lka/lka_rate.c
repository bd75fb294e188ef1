/*
 * The rate limits of the connectors (issue 8), counted in lka: every
 * session of every smtp process asks here, one question at a time, so
 * a check and its count are one step and parallel sessions cannot
 * overshoot a limit together.  The counters (lka/rate.h) live in memory
 * and go to the state database every LKA_RATE_FLUSH seconds when they
 * changed, and when lka stops: a crash loses at most those seconds of
 * counting.
 */
#include <sys/tree.h>

#include <event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "child.h"
#include "config.h"
#include "lka.h"
#include "lka_rate.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "rate.h"
#include "state.h"

#define LKA_RATE_FLUSH		2	/* seconds between writes */

struct lka_rate {
	RB_ENTRY(lka_rate)	 entry;
	int64_t			 id;		/* connector */
	int			 dirty;
	/* Until when a hit was written to the event log, per window. */
	int64_t			 logged[RATE_NKINDS][RATE_NWINDOWS];
	/*
	 * The connector's name and limits as the last check read them from
	 * the state database, for the recipient checks that follow: valid
	 * until a sendgatectl command changes the connector.
	 */
	int			 cached;
	char			 name[NAMES_CONNECTOR_MAX + 1];
	uint64_t		 lim[RATE_NKINDS][RATE_NWINDOWS];
	struct rate_counter	 c;
};

RB_HEAD(lka_rates, lka_rate);

static int
lka_rate_cmp(const struct lka_rate *a, const struct lka_rate *b)
{
	return a->id < b->id ? -1 : a->id > b->id;
}

RB_PROTOTYPE(lka_rates, lka_rate, entry, lka_rate_cmp)
RB_GENERATE(lka_rates, lka_rate, entry, lka_rate_cmp)

static struct lka_rates		 lka_rates = RB_INITIALIZER(&lka_rates);
static struct rate_windows	 lka_rate_win;
static const struct sendgated_conf *lka_rate_conf;
static struct event		 lka_rate_ev;
static int			 lka_rate_ndirty;

static int64_t
lka_rate_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct lka_rate *
lka_rate_get(int64_t id)
{
	struct lka_rate	 key, *r;

	key.id = id;
	if ((r = RB_FIND(lka_rates, &lka_rates, &key)) != NULL)
		return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("lka_rate_get");
	r->id = id;
	rate_counter_init(&r->c);
	RB_INSERT(lka_rates, &lka_rates, r);
	return r;
}

static int
lka_rate_loaded(int64_t id, const uint8_t *data, size_t len, void *arg)
{
	struct lka_rate	*r = lka_rate_get(id);
	size_t		*n = arg;

	if (rate_decode(&r->c, &lka_rate_win, data, len) == -1)
		log_warnx("rate: connector %" PRId64 ": stored counters are "
		    "corrupt; starting from zero", id);
	(*n)++;
	return 0;
}

/* Write the counters that changed, in one transaction. */
void
lka_rate_flush(void)
{
	struct lka_rate	*r;
	uint8_t		*buf;
	int64_t		 now = lka_now();
	int		 rc;

	if (lka_rate_ndirty == 0)
		return;
	if ((buf = malloc(RATE_ENCODED_LEN)) == NULL)
		fatal("lka_rate_flush");
	if (state_begin() != STATE_OK) {
		log_warnx("rate: cannot save the counters: %s", state_error());
		free(buf);
		return;
	}
	RB_FOREACH(r, lka_rates, &lka_rates) {
		if (!r->dirty)
			continue;
		rate_encode(&r->c, &lka_rate_win, buf);
		rc = state_rate_save(r->id, now, buf, RATE_ENCODED_LEN);
		/* A connector deleted meanwhile takes its counter along. */
		if (rc != STATE_OK && rc != STATE_EXISTS) {
			log_warnx("rate: cannot save the counters: %s",
			    state_error());
			state_rollback();
			free(buf);
			return;
		}
	}
	free(buf);
	if (state_commit() != STATE_OK) {
		log_warnx("rate: cannot save the counters: %s", state_error());
		state_rollback();
		return;
	}
	RB_FOREACH(r, lka_rates, &lka_rates)
		r->dirty = 0;
	lka_rate_ndirty = 0;
}

static void
lka_rate_timer(int fd, short ev, void *arg)
{
	struct timeval	 tv = { LKA_RATE_FLUSH, 0 };

	lka_rate_flush();
	evtimer_add(&lka_rate_ev, &tv);
}

void
lka_rate_init(const struct sendgated_conf *conf)
{
	struct timeval	 tv = { LKA_RATE_FLUSH, 0 };
	size_t		 n = 0;
	int		 w;

	lka_rate_conf = conf;
	for (w = 0; w < RATE_NWINDOWS; w++)
		lka_rate_win.len[w] = conf->limit_windows[w] * 1000;
	if (rate_windows_check(&lka_rate_win) == -1)
		fatalx("rate: unusable limit windows");
	if (state_rate_load(RATE_ENCODED_LEN, lka_rate_loaded, &n) !=
	    STATE_OK)
		log_warnx("rate: cannot read the stored counters: %s; "
		    "starting from zero", state_error());
	else if (n > 0)
		log_debug("rate: counters of %zu connector%s restored", n,
		    n == 1 ? "" : "s");
	evtimer_set(&lka_rate_ev, lka_rate_timer, NULL);
	event_base_set(child_base(), &lka_rate_ev);
	evtimer_add(&lka_rate_ev, &tv);
	child_on_exit(lka_rate_flush);
}

/* The limits of conn for kind: its own, or the config's defaults. */
static void
lka_rate_limits(const struct state_connector *conn, enum rate_kind kind,
    uint64_t *lim)
{
	static const enum state_limit own[RATE_NKINDS][RATE_NWINDOWS] = {
		{ LIMIT_MSG_MINUTE, LIMIT_MSG_HOUR, LIMIT_MSG_DAY },
		{ LIMIT_RCPT_MINUTE, LIMIT_RCPT_HOUR, LIMIT_RCPT_DAY },
	};
	const struct config_limits	*def = &lka_rate_conf->limits;
	int				 w;

	for (w = 0; w < RATE_NWINDOWS; w++) {
		if (conn->limits[own[kind][w]] >= 0)
			lim[w] = (uint64_t)conn->limits[own[kind][w]];
		else
			lim[w] = kind == RATE_MESSAGES ? def->messages[w] :
			    def->recipients[w];
	}
}

static int
lka_rate_count(struct lka_rate *r, enum rate_kind kind, char *why,
    size_t whylen)
{
	struct rate_refusal	 no;
	struct msg_out		 m;
	int64_t			 now = lka_rate_now();
	time_t			 retry;
	struct tm		 tm;
	char			 when[16], ev[STATE_EVENT_MAX];

	if (rate_check(&r->c, &lka_rate_win, kind, r->lim[kind], now,
	    &no) == 0) {
		if (!r->dirty) {
			r->dirty = 1;
			lka_rate_ndirty++;
		}
		return 0;
	}
	/* Round up: at the second given, there is room. */
	retry = (time_t)(no.retry / 1000 + (no.retry % 1000 != 0));
	if (gmtime_r(&retry, &tm) == NULL ||
	    strftime(when, sizeof(when), "%H:%M:%S", &tm) == 0)
		strlcpy(when, "later", sizeof(when));
	snprintf(why, whylen, "Rate limit exceeded for connector %s: "
	    "%" PRIu64 " %s per %s; retry after %s UTC", r->name, no.limit,
	    rate_kind_name(kind), rate_window_name(no.window), when);
	if (now >= r->logged[kind][no.window]) {
		/* The first refusal of a window's length goes on record. */
		r->logged[kind][no.window] = now +
		    lka_rate_win.len[no.window];
		snprintf(ev, sizeof(ev), "connector %s: rate limit reached: "
		    "%" PRIu64 " %s per %s", r->name, no.limit,
		    rate_kind_name(kind), rate_window_name(no.window));
		log_info("%s", ev);
		if (state_event(now / 1000, -1, ev) != STATE_OK)
			log_warnx("rate: event: %s", state_error());
	}
	msg_out_init(&m);
	m_add_string(&m, r->name);
	mproc_send(child_peer(PROC_QUEUE), IMSG_LKA_LIMIT_HIT, 0, -1, &m);
	return 1;
}

int
lka_rate_check(const struct state_connector *conn, enum rate_kind kind,
    char *why, size_t whylen)
{
	struct lka_rate	*r = lka_rate_get(conn->id);

	strlcpy(r->name, conn->name, sizeof(r->name));
	lka_rate_limits(conn, RATE_MESSAGES, r->lim[RATE_MESSAGES]);
	lka_rate_limits(conn, RATE_RECIPIENTS, r->lim[RATE_RECIPIENTS]);
	r->cached = 1;
	return lka_rate_count(r, kind, why, whylen);
}

int
lka_rate_check_cached(int64_t id, enum rate_kind kind, char *why,
    size_t whylen)
{
	struct lka_rate	 key, *r;

	key.id = id;
	if ((r = RB_FIND(lka_rates, &lka_rates, &key)) == NULL || !r->cached)
		return -1;
	return lka_rate_count(r, kind, why, whylen);
}

void
lka_rate_forget(int64_t id)
{
	struct lka_rate	 key, *r;

	key.id = id;
	if ((r = RB_FIND(lka_rates, &lka_rates, &key)) != NULL)
		r->cached = 0;
}

void
lka_rate_use(const struct state_connector *conn, enum rate_window w,
    enum rate_kind kind, uint64_t *used, uint64_t *limit)
{
	struct lka_rate	 key, *r;
	uint64_t	 lim[RATE_NWINDOWS];

	key.id = conn->id;
	r = RB_FIND(lka_rates, &lka_rates, &key);
	*used = r != NULL ? rate_use(&r->c, &lka_rate_win, w, kind,
	    lka_rate_now()) : 0;
	lka_rate_limits(conn, kind, lim);
	*limit = lim[w];
}
