/*
 * Delivery from the queue.  The scheduler (schedule.c) says which
 * recipients are due; this file hands them to mta as tasks (one message,
 * its due recipients of one destination domain, the body as a read-only
 * fd), applies mta's per-recipient results to the envelope on disk, and
 * writes failure, delay and success notices (bounce.c) as new messages
 * of the queue, which then leave through the same path.
 *
 * The envelope on disk is the truth after a restart: a recipient done
 * (delivered or given up) is marked so before the message is removed or
 * forgotten, and the attempts and the next try of the others are kept
 * there too.  A crash between a delivery and that update means the
 * recipient is tried again: a duplicate, never a loss.
 */
#include <sys/tree.h>

#include <errno.h>
#include <event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "answer.h"
#include "bounce.h"
#include "child.h"
#include "config.h"
#include "envelope.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "queue.h"
#include "queue_mta.h"
#include "queue_store.h"
#include "schedule.h"
#include "smtp_parse.h"

/*
 * Tasks handed to mta and not done, each holding an fd there: the cap
 * keeps mta's descriptors bounded (mta sizes RLIMIT_NOFILE for it).  A
 * round may overshoot by one batch (SCHEDULE_BATCH_MSG_MAX).
 */
#define QM_TASKS_MAX		1000
#define QM_TIMER_MAX		3600	/* seconds between looks, at most */
#define QM_CONNECTORS_MAX	1024	/* per-connector counters kept */
#define QM_MTA_MAX		(ENVELOPE_MTA_MAX)
#define QM_DSN_SEEDS		4	/* boundary clashes tolerated */

struct qm_counters {
	uint64_t	 accepted;	/* messages */
	uint64_t	 delivered;	/* recipients, below too */
	uint64_t	 deferred;	/* temporary failures */
	uint64_t	 bounced;	/* permanent failures and expiries */
	uint64_t	 expired;	/* of which expiries */
	uint64_t	 notices;	/* DSN messages written */
	uint64_t	 limit_hits;	/* rate limit refusals (lka) */
};

struct qm_connector {
	TAILQ_ENTRY(qm_connector) entry;
	char			 name[ENVELOPE_NAME_MAX + 1];
	struct qm_counters	 c;
};

/* A message with tasks out: its envelope, kept until the last is done. */
struct qm_msg {
	RB_ENTRY(qm_msg)	 entry;
	char			 id[ENVELOPE_ID_LEN + 1];
	struct envelope		 env;
	int			 ntasks;
	int			 dirty;		/* env differs from disk */
};

struct qm_result {
	uint32_t	 rcpt;
	int		 have;
	int		 status;	/* MTA_RESULT_* */
	int		 code;
	int		 relayed;
	char		 enhanced[16];
	char		 text[ENVELOPE_LAST_MAX];
	char		 host[256];
	char		 addr[64];
};

struct qm_task {
	RB_ENTRY(qm_task)	 entry;
	uint64_t		 taskid;
	struct qm_msg		*msg;
	size_t			 n;
	struct qm_result	*res;
};

RB_HEAD(qm_msgs, qm_msg);
RB_HEAD(qm_tasks, qm_task);

static int
qm_msg_cmp(const struct qm_msg *a, const struct qm_msg *b)
{
	return strcmp(a->id, b->id);
}

static int
qm_task_cmp(const struct qm_task *a, const struct qm_task *b)
{
	return a->taskid < b->taskid ? -1 : a->taskid > b->taskid;
}

RB_PROTOTYPE(qm_msgs, qm_msg, entry, qm_msg_cmp)
RB_PROTOTYPE(qm_tasks, qm_task, entry, qm_task_cmp)
RB_GENERATE(qm_msgs, qm_msg, entry, qm_msg_cmp)
RB_GENERATE(qm_tasks, qm_task, entry, qm_task_cmp)

static struct {
	const struct sendgated_conf	*conf;
	struct schedule			*sched;
	struct qm_msgs			 msgs;
	struct qm_tasks			 tasks;
	size_t				 ntasks;
	uint64_t			 taskid;
	int				 paused;
	struct event			 timer;
	struct event			 kick;
	int				 kicked;
	struct event			 sync;
	int				 sync_armed;
	struct qm_counters		 total;
	TAILQ_HEAD(, qm_connector)	 connectors;
	size_t				 nconnectors;
} qm;

static void	qm_run(int, short, void *);

static int64_t
qm_now(void)
{
	return (int64_t)time(NULL);
}

static struct qm_counters *
qm_counters(const char *name)
{
	struct qm_connector	*c;

	TAILQ_FOREACH(c, &qm.connectors, entry)
		if (strcmp(c->name, name) == 0)
			return &c->c;
	if (qm.nconnectors >= QM_CONNECTORS_MAX ||
	    (c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	strlcpy(c->name, name, sizeof(c->name));
	TAILQ_INSERT_TAIL(&qm.connectors, c, entry);
	qm.nconnectors++;
	return &c->c;
}

/* Count one event in the totals and for the connector. */
#define QM_COUNT(name, field) do {					\
	struct qm_counters *qc_ = qm_counters(name);			\
	qm.total.field++;						\
	if (qc_ != NULL)						\
		qc_->field++;						\
} while (0)

/* Look at the schedule again soon, once, whatever asked for it. */
static void
qm_kick(void)
{
	if (qm.kicked)
		return;
	qm.kicked = 1;
	event_active(&qm.kick, EV_TIMEOUT, 1);
}

static void
qm_arm(void)
{
	struct timeval	 tv = { 0, 0 };
	int64_t		 when, now;

	evtimer_del(&qm.timer);
	if (qm.paused || qm.ntasks >= QM_TASKS_MAX)
		return;		/* resume or a task done kicks again */
	if ((when = schedule_when(qm.sched)) == SCHEDULE_NEVER)
		return;
	now = qm_now();
	tv.tv_sec = when > now ? when - now : 0;
	if (tv.tv_sec > QM_TIMER_MAX)
		tv.tv_sec = QM_TIMER_MAX;
	evtimer_add(&qm.timer, &tv);
}

static const char *
qm_domain(const struct envelope_rcpt *r)
{
	const char	*at;

	at = r->addr.s != NULL ? strrchr(r->addr.s, '@') : NULL;
	return at != NULL ? at + 1 : "";
}

/* Every recipient of e still to deliver goes into the schedule. */
static void
qm_schedule_env(const struct envelope *e)
{
	struct schedule_entry	 se;
	size_t			 i;

	for (i = 0; i < e->nrcpt; i++) {
		if (e->rcpt[i].state != ENVELOPE_RCPT_PENDING)
			continue;
		memset(&se, 0, sizeof(se));
		strlcpy(se.id, e->id, sizeof(se.id));
		se.rcpt = (uint32_t)i;
		if (strlcpy(se.domain, qm_domain(&e->rcpt[i]),
		    sizeof(se.domain)) >= sizeof(se.domain) ||
		    se.domain[0] == '\0') {
			/* smtp never accepts one: an envelope made by hand */
			log_warnx("queue: %s: recipient %zu has no usable "
			    "domain; left in the queue", e->id, i);
			continue;
		}
		se.created = e->time;
		se.next_try = e->rcpt[i].next_try;
		se.attempts = e->rcpt[i].attempts;
		se.warned = e->warned;
		if (schedule_add(qm.sched, &se) == -1 && errno != EEXIST)
			fatal("queue: schedule %s", e->id);
	}
}

void
queue_mta_add(const struct envelope *e)
{
	QM_COUNT(envelope_cstr(&e->connector), accepted);
	qm_schedule_env(e);
	qm_kick();
}

static int
qm_load_one(const struct envelope *e, void *arg)
{
	size_t	*n = arg;

	qm_schedule_env(e);
	(*n)++;
	return 0;
}

/* ---- tasks ---- */

static struct qm_msg *
qm_msg_get(const char *id)
{
	struct qm_msg	 key, *m;

	strlcpy(key.id, id, sizeof(key.id));
	if ((m = RB_FIND(qm_msgs, &qm.msgs, &key)) != NULL)
		return m;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		fatal("queue: message");
	strlcpy(m->id, id, sizeof(m->id));
	if (queue_store_get(id, &m->env) == -1) {
		if (errno != ENOENT)
			log_warn("queue: %s: cannot read its envelope", id);
		free(m);
		return NULL;
	}
	RB_INSERT(qm_msgs, &qm.msgs, m);
	return m;
}

static void
qm_msg_release(struct qm_msg *m)
{
	if (m->ntasks > 0)
		return;
	RB_REMOVE(qm_msgs, &qm.msgs, m);
	envelope_free(&m->env);
	free(m);
}

/* The message is gone (removed, unreadable): forget what was handed out. */
static void
qm_forget(const char *id, const struct schedule_item *items, size_t n)
{
	struct schedule_result	 r;
	size_t			 i;

	schedule_remove(qm.sched, id);
	for (i = 0; i < n; i++)
		schedule_done(qm.sched, id, items[i].rcpt, qm_now(),
		    SCHEDULE_TEMPFAIL, &r);
}

static void
qm_task_send(const char *domain, const struct schedule_item *items,
    size_t n)
{
	struct qm_msg		*m;
	struct qm_task		*t;
	struct msg_out		 o;
	const struct envelope	*e;
	const struct envelope_rcpt *r;
	size_t			 i;
	int			 fd;

	if ((m = qm_msg_get(items[0].id)) == NULL) {
		qm_forget(items[0].id, items, n);
		return;
	}
	if ((fd = queue_store_open_body(m->id)) == -1) {
		log_warn("queue: %s: cannot open its body", m->id);
		qm_forget(m->id, items, n);
		qm_msg_release(m);
		return;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL ||
	    (t->res = calloc(n, sizeof(*t->res))) == NULL)
		fatal("queue: task");
	t->taskid = ++qm.taskid;
	t->msg = m;
	t->n = n;
	RB_INSERT(qm_tasks, &qm.tasks, t);
	m->ntasks++;
	qm.ntasks++;

	e = &m->env;
	msg_out_init(&o);
	m_add_u64(&o, t->taskid);
	m_add_string(&o, e->id);
	m_add_string(&o, domain);
	m_add_string(&o, envelope_cstr(&e->sender));
	m_add_int(&o, e->body);
	m_add_int(&o, e->smtputf8);
	m_add_int(&o, e->ret);
	m_add_string(&o, envelope_cstr(&e->envid));
	m_add_u64(&o, e->size);
	m_add_i64(&o, e->time);
	m_add_i64(&o, e->connector_id);
	m_add_string(&o, envelope_cstr(&e->connector));
	m_add_u32(&o, (uint32_t)n);
	mproc_send(child_peer(PROC_MTA), IMSG_QUEUE_TASK_MESSAGE, 0, fd, &o);
	for (i = 0; i < n; i++) {
		t->res[i].rcpt = items[i].rcpt;
		r = &e->rcpt[items[i].rcpt];
		msg_out_init(&o);
		m_add_u64(&o, t->taskid);
		m_add_u32(&o, items[i].rcpt);
		m_add_string(&o, envelope_cstr(&r->addr));
		m_add_int(&o, r->notify);
		m_add_string(&o, envelope_cstr(&r->orcpt_type));
		m_add_string(&o, envelope_cstr(&r->orcpt));
		mproc_send(child_peer(PROC_MTA), IMSG_QUEUE_TASK_RCPT, 0, -1,
		    &o);
	}
}

/*
 * One domain's due recipients, sorted by message: one task per message.
 * An index the envelope does not have (it changed on disk) is dropped.
 */
static int
qm_batch(const char *domain, const struct schedule_item *items, size_t n,
    void *arg)
{
	struct qm_msg	*m;
	size_t		 i, j;

	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(items[j].id, items[i].id) == 0;
		    j++)
			;
		if ((m = qm_msg_get(items[i].id)) == NULL) {
			qm_forget(items[i].id, items + i, j - i);
			continue;
		}
		if (items[j - 1].rcpt >= m->env.nrcpt) {
			log_warnx("queue: %s: recipient index out of range",
			    m->id);
			qm_forget(m->id, items + i, j - i);
			qm_msg_release(m);
			continue;
		}
		qm_task_send(domain, items + i, j - i);
	}
	return qm.ntasks >= QM_TASKS_MAX;
}

static void
qm_run(int fd, short ev, void *arg)
{
	qm.kicked = 0;
	if (!qm.paused && qm.ntasks < QM_TASKS_MAX)
		schedule_due(qm.sched, qm_now(), qm_batch, NULL);
	qm_arm();
}

/* ---- results ---- */

static void
qm_sync_run(int fd, short ev, void *arg)
{
	qm.sync_armed = 0;
	queue_store_sync_queue();
}

/* Removals and updates of one loop turn share one fsync of queue/. */
static void
qm_sync_soon(void)
{
	if (qm.sync_armed)
		return;
	qm.sync_armed = 1;
	event_active(&qm.sync, EV_TIMEOUT, 1);
}

static const char *
qm_status_of(const struct qm_result *res, int action)
{
	if (res->enhanced[0] != '\0')
		return res->enhanced;
	switch (action) {
	case BOUNCE_DELIVERED:
	case BOUNCE_RELAYED:
		return "2.0.0";
	case BOUNCE_DELAYED:
		return "4.0.0";
	default:
		return res->status == MTA_RESULT_PERMFAIL ? "5.0.0" : "4.4.7";
	}
}

/* The original for a notice: all of it, or enough for its header. */
static uint8_t *
qm_read_orig(const char *id, size_t *len)
{
	uint8_t	*buf;
	ssize_t	 r;
	size_t	 cap = BOUNCE_ORIG_MAX + 1, off = 0;
	int	 fd;

	*len = 0;
	if ((fd = queue_store_open_body(id)) == -1)
		return NULL;
	if ((buf = malloc(cap)) == NULL) {
		close(fd);
		return NULL;
	}
	while (off < cap) {
		r = pread(fd, buf + off, cap - off, (off_t)off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		off += (size_t)r;
	}
	close(fd);
	*len = off;
	return buf;
}

/*
 * Write a notice about n recipients of m as a new message to its sender
 * and schedule it.  Whether one is wanted was decided by the caller.
 */
static void
qm_notice(struct qm_msg *m, const struct bounce_rcpt *br, size_t n,
    const uint8_t *orig, size_t origlen, const char *what)
{
	struct bounce_params	 bp;
	struct bounce_buf	 out;
	struct envelope		 e;
	const struct envelope	*oe = &m->env;
	const char		*why = NULL, *text;
	char			 id[ENVELOPE_ID_LEN + 1];
	int			 i, wfd, rfd, code;
	size_t			 off;
	ssize_t			 w;

	memset(&bp, 0, sizeof(bp));
	bp.hostname = qm.conf->hostname;
	/* Signed with the relay's own keys when there are some (lka). */
	if (qm.conf->dkim_domain[0] != '\0')
		bp.from_domain = qm.conf->dkim_domain;
	bp.sender = envelope_cstr(&oe->sender);
	bp.envid = envelope_cstr(&oe->envid);
	bp.ret = oe->ret;
	bp.arrival = oe->time;
	bp.now = qm_now();
	bounce_buf_init(&out, 0);
	for (i = 0; i < QM_DSN_SEEDS; i++) {
		arc4random_buf(bp.seed, sizeof(bp.seed));
		if (bounce_build(&bp, br, n, orig, origlen, &out, &why) == 0)
			break;
		out.len = 0;
	}
	if (i == QM_DSN_SEEDS) {
		log_warnx("queue: %s: no %s notice: %s", m->id, what, why);
		bounce_buf_free(&out);
		return;
	}
	if ((code = queue_store_create(id, &wfd, &rfd, &text)) != 0) {
		log_warnx("queue: %s: no %s notice: %d %s", m->id, what, code,
		    text);
		bounce_buf_free(&out);
		return;
	}
	for (off = 0; off < out.len; off += (size_t)w) {
		if ((w = write(wfd, out.p + off, out.len - off)) == -1) {
			if (errno == EINTR) {
				w = 0;
				continue;
			}
			log_warn("queue: %s: writing the %s notice", m->id,
			    what);
			close(wfd);
			bounce_buf_free(&out);
			queue_store_rollback(id, rfd);
			return;
		}
	}
	close(wfd);
	envelope_init(&e);
	e.time = bp.now;
	e.connector_id = oe->connector_id;
	if (envelope_set(&e.connector, ENVELOPE_NAME_MAX,
	    envelope_cstr(&oe->connector), oe->connector.len) == -1 ||
	    envelope_set(&e.client_name, ENVELOPE_HELO_MAX,
	    qm.conf->hostname, strlen(qm.conf->hostname)) == -1 ||
	    envelope_rcpt_add(&e, oe->sender.s, oe->sender.len,
	    SMTP_NOTIFY_NEVER, "", 0, "", 0) == -1)
		fatal("queue: notice envelope");
	e.body = SMTP_BODY_7BIT;
	code = queue_store_commit(id, rfd, &e, out.len, &text);
	bounce_buf_free(&out);
	if (code != 250) {
		log_warnx("queue: %s: no %s notice: %d %s", m->id, what, code,
		    text);
		envelope_free(&e);
		return;
	}
	log_info("notice %s for %s: %s to=<%s> recipients=%zu", id, m->id,
	    what, bp.sender, n);
	QM_COUNT(envelope_cstr(&oe->connector), notices);
	qm_schedule_env(&e);
	envelope_free(&e);
	qm_kick();
}

/* The notices a task's results call for: failures, delays, successes. */
static void
qm_notices(struct qm_task *t, const int *actions)
{
	static const struct {
		int		 action;
		const char	*what;
	} kinds[] = {
		{ BOUNCE_FAILED, "failure" },
		{ BOUNCE_DELAYED, "delay" },
		{ BOUNCE_RELAYED, "relayed" },
	};
	struct qm_msg		*m = t->msg;
	struct envelope_rcpt	*r;
	struct bounce_rcpt	*br;
	uint8_t			*orig = NULL;
	size_t			 origlen = 0, i, k, n;
	int			 is_auto = -1;
	int64_t			 now = qm_now();

	if (m->env.sender.len == 0)
		return;		/* never to the null sender */
	if ((br = calloc(t->n, sizeof(*br))) == NULL)
		fatal("queue: notice");
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		n = 0;
		for (i = 0; i < t->n; i++) {
			if (actions[i] != kinds[k].action)
				continue;
			r = &m->env.rcpt[t->res[i].rcpt];
			if (is_auto == -1) {
				orig = qm_read_orig(m->id, &origlen);
				is_auto = orig == NULL ||
				    bounce_is_auto(orig, origlen);
			}
			if (!bounce_wanted(envelope_cstr(&m->env.sender),
			    r->notify, kinds[k].action, is_auto))
				continue;
			br[n].addr = envelope_cstr(&r->addr);
			br[n].orcpt_type = envelope_cstr(&r->orcpt_type);
			br[n].orcpt = envelope_cstr(&r->orcpt);
			br[n].action = kinds[k].action;
			br[n].status = qm_status_of(&t->res[i],
			    kinds[k].action);
			br[n].remote_mta = t->res[i].host[0] ?
			    t->res[i].host : NULL;
			br[n].diagnostic = t->res[i].code ?
			    envelope_cstr(&r->last) : NULL;
			br[n].last_attempt = now;
			if (kinds[k].action == BOUNCE_DELAYED)
				br[n].will_retry_until = m->env.time +
				    qm.conf->queue_expire;
			n++;
		}
		if (n > 0)
			qm_notice(m, br, n, orig, origlen, kinds[k].what);
	}
	free(orig);
	free(br);
}

static int
qm_outcome(int status)
{
	switch (status) {
	case MTA_RESULT_DELIVERED:
		return SCHEDULE_DELIVERED;
	case MTA_RESULT_PERMFAIL:
		return SCHEDULE_PERMFAIL;
	default:
		return SCHEDULE_TEMPFAIL;
	}
}

/* What the envelope keeps of an attempt, for show queue and a notice. */
static void
qm_note_attempt(struct envelope_rcpt *r, const struct qm_result *res)
{
	char	 buf[ENVELOPE_LAST_MAX + 64];	/* cut at the caps below */

	if (res->host[0] != '\0')
		snprintf(buf, sizeof(buf), "%s[%s]", res->host, res->addr);
	else
		buf[0] = '\0';
	if (envelope_set(&r->last_mta, ENVELOPE_MTA_MAX, buf,
	    strnlen(buf, ENVELOPE_MTA_MAX)) == -1)
		fatal("queue: envelope");
	if (res->code != 0)
		snprintf(buf, sizeof(buf), "%d %s%s%s", res->code,
		    res->enhanced, res->enhanced[0] ? " " : "", res->text);
	else
		snprintf(buf, sizeof(buf), "%s", res->text);
	if (envelope_set(&r->last, ENVELOPE_LAST_MAX, buf,
	    strnlen(buf, ENVELOPE_LAST_MAX)) == -1)
		fatal("queue: envelope");
}

static void
qm_task_done(struct qm_task *t)
{
	struct qm_msg		*m = t->msg;
	struct envelope_rcpt	*r;
	struct qm_result	*res;
	struct schedule_result	 sr;
	const char		*conn = envelope_cstr(&m->env.connector);
	int			*actions, act;
	size_t			 i;
	int64_t			 now = qm_now();

	if ((actions = calloc(t->n, sizeof(*actions))) == NULL)
		fatal("queue: task");
	for (i = 0; i < t->n; i++) {
		res = &t->res[i];
		if (!res->have) {
			res->status = MTA_RESULT_TEMPFAIL;
			res->code = 451;
			strlcpy(res->enhanced, "4.3.0", sizeof(res->enhanced));
			strlcpy(res->text, "no result from the relay agent",
			    sizeof(res->text));
		}
		act = schedule_done(qm.sched, m->id, res->rcpt, now,
		    qm_outcome(res->status), &sr);
		if (act == -1 || sr.removed)
			continue;
		r = &m->env.rcpt[res->rcpt];
		r->attempts++;
		qm_note_attempt(r, res);
		m->dirty = 1;
		switch (act) {
		case SCHEDULE_DONE:
			r->state = ENVELOPE_RCPT_DONE;
			if (res->status == MTA_RESULT_DELIVERED) {
				QM_COUNT(conn, delivered);
				if (res->relayed &&
				    (r->notify & SMTP_NOTIFY_SUCCESS))
					actions[i] = BOUNCE_RELAYED;
			} else {
				QM_COUNT(conn, bounced);
				actions[i] = BOUNCE_FAILED;
			}
			break;
		case SCHEDULE_RETRY:
			QM_COUNT(conn, deferred);
			r->next_try = sr.next_try;
			if (sr.delay) {
				m->env.warned = 1;
				actions[i] = BOUNCE_DELAYED;
			}
			break;
		case SCHEDULE_EXPIRED:
			r->state = ENVELOPE_RCPT_DONE;
			QM_COUNT(conn, bounced);
			QM_COUNT(conn, expired);
			log_info("expired %s rcpt=<%s> after %d attempts: "
			    "giving up", m->id, envelope_cstr(&r->addr),
			    r->attempts);
			actions[i] = BOUNCE_FAILED;
			break;
		}
	}
	qm_notices(t, actions);
	free(actions);

	RB_REMOVE(qm_tasks, &qm.tasks, t);
	qm.ntasks--;
	m->ntasks--;
	free(t->res);
	free(t);
	if (m->ntasks == 0) {
		if (schedule_count(qm.sched, m->id) == 0) {
			if (queue_store_unlink(m->id) == -1 &&
			    errno != ENOENT)
				log_warn("queue: %s: cannot remove", m->id);
			else
				log_debug("queue: %s: done", m->id);
			qm_sync_soon();
		} else if (m->dirty) {
			if (queue_store_update(&m->env) == -1 &&
			    errno != ENOENT)
				log_warn("queue: %s: cannot update its "
				    "envelope", m->id);
			qm_sync_soon();
		}
		qm_msg_release(m);
	}
	qm_kick();
}

static struct qm_task *
qm_task_find(uint64_t taskid)
{
	struct qm_task	 key;

	key.taskid = taskid;
	return RB_FIND(qm_tasks, &qm.tasks, &key);
}

static void
qm_result(struct mproc *p, struct imsg *im)
{
	struct msg_in		 m;
	struct qm_result	 res;
	struct qm_task		*t;
	uint64_t		 taskid;
	size_t			 i;

	memset(&res, 0, sizeof(res));
	msg_in_init(&m, im);
	if (m_get_u64(&m, &taskid) == -1 || m_get_u32(&m, &res.rcpt) == -1 ||
	    m_get_int(&m, &res.status) == -1 ||
	    m_get_int(&m, &res.code) == -1 ||
	    m_get_string(&m, res.enhanced, sizeof(res.enhanced)) == -1 ||
	    m_get_string(&m, res.text, sizeof(res.text)) == -1 ||
	    m_get_string(&m, res.host, sizeof(res.host)) == -1 ||
	    m_get_string(&m, res.addr, sizeof(res.addr)) == -1 ||
	    m_get_int(&m, &res.relayed) == -1 || m_end(&m) == -1 ||
	    res.status < MTA_RESULT_DELIVERED ||
	    res.status > MTA_RESULT_PERMFAIL ||
	    (t = qm_task_find(taskid)) == NULL) {
		mproc_malformed(p, im, &m);
		return;
	}
	for (i = 0; i < t->n; i++)
		if (t->res[i].rcpt == res.rcpt && !t->res[i].have)
			break;
	if (i == t->n) {
		mproc_malformed(p, im, &m);
		return;
	}
	res.have = 1;
	t->res[i] = res;
}

static void
qm_done(struct mproc *p, struct imsg *im)
{
	struct msg_in	 m;
	struct qm_task	*t;
	uint64_t	 taskid;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &taskid) == -1 || m_end(&m) == -1 ||
	    (t = qm_task_find(taskid)) == NULL) {
		mproc_malformed(p, im, &m);
		return;
	}
	qm_task_done(t);
}

/* lka refused a message or recipient for a rate limit. */
static void
qm_limit_hit(struct mproc *p, struct imsg *im)
{
	struct msg_in	 m;
	char		 name[ENVELOPE_NAME_MAX + 1];

	msg_in_init(&m, im);
	if (m_get_string(&m, name, sizeof(name)) == -1 || m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	QM_COUNT(name, limit_hits);
}

int
queue_mta_imsg(struct mproc *p, struct imsg *im)
{
	switch (im->type) {
	case IMSG_LKA_LIMIT_HIT:
		qm_limit_hit(p, im);
		return 1;
	case IMSG_MTA_TASK_RESULT:
		qm_result(p, im);
		return 1;
	case IMSG_MTA_TASK_DONE:
		qm_done(p, im);
		return 1;
	}
	return 0;
}

/* ---- sendgatectl ---- */

void
queue_mta_forget(const char *id)
{
	schedule_remove(qm.sched, id);
}

void
queue_mta_ctl_schedule(struct answer *a, const char *id)
{
	size_t	 n;

	if (strcmp(id, "all") == 0)
		id = NULL;
	else if (!envelope_id_valid(id, strlen(id))) {
		answer_done(a, 1, "not a queue id: %s", id);
		return;
	}
	n = schedule_schedule_now(qm.sched, id, qm_now());
	if (id != NULL && n == 0 && schedule_count(qm.sched, id) == 0) {
		answer_done(a, 1, "no such message: %s", id);
		return;
	}
	log_info("schedule %s: %zu recipient%s due now", id ? id : "all", n,
	    n == 1 ? "" : "s");
	qm_kick();
	answer_done(a, 0, "%zu recipient%s scheduled%s", n, n == 1 ? "" : "s",
	    qm.paused ? " (delivery is paused)" : "");
}

void
queue_mta_ctl_pause(struct answer *a, int pause)
{
	if (qm.paused != pause)
		log_info("delivery %s", pause ? "paused" : "resumed");
	qm.paused = pause;
	if (!pause)
		qm_kick();
	else
		evtimer_del(&qm.timer);
	answer_done(a, 0, "delivery %s", pause ? "paused" : "resumed");
}

static void
qm_stats_fields(struct answer *a, const struct qm_counters *c)
{
	answer_int(a, "accepted", (int64_t)c->accepted);
	answer_int(a, "delivered", (int64_t)c->delivered);
	answer_int(a, "deferred", (int64_t)c->deferred);
	answer_int(a, "bounced", (int64_t)c->bounced);
	answer_int(a, "expired", (int64_t)c->expired);
	answer_int(a, "notices", (int64_t)c->notices);
	answer_int(a, "limit hits", (int64_t)c->limit_hits);
}

void
queue_mta_ctl_stats(struct answer *a)
{
	struct qm_connector	*c;

	answer_row(a, "stats", 1);
	qm_stats_fields(a, &qm.total);
	answer_int(a, "queued",
	    (int64_t)schedule_count(qm.sched, NULL));
	answer_int(a, "in delivery", (int64_t)qm.ntasks);
	answer_str(a, "delivery", qm.paused ? "paused" : "running");
	TAILQ_FOREACH(c, &qm.connectors, entry) {
		answer_row(a, "connector", 0);
		answer_str(a, "connector", c->name);
		qm_stats_fields(a, &c->c);
	}
	answer_done(a, 0, "%s", "");
}

void
queue_mta_init(const struct sendgated_conf *conf)
{
	struct schedule_policy	 pol;
	size_t			 n = 0;

	qm.conf = conf;
	RB_INIT(&qm.msgs);
	RB_INIT(&qm.tasks);
	TAILQ_INIT(&qm.connectors);
	pol.retry = conf->queue_retry;
	pol.nretry = conf->queue_nretry;
	pol.expire = conf->queue_expire;
	pol.warn = conf->queue_warn;
	if ((qm.sched = schedule_new(&pol)) == NULL)
		fatal("queue: scheduler");
	qm.paused = conf->mta_paused;
	evtimer_assign(&qm.timer, child_base(), qm_run, NULL);
	event_assign(&qm.kick, child_base(), -1, 0, qm_run, NULL);
	event_assign(&qm.sync, child_base(), -1, 0, qm_sync_run, NULL);
	if (queue_store_list(qm_load_one, &n) == -1)
		fatal("queue: cannot list the queue");
	log_info("queue: %zu message%s to deliver, %zu recipient%s%s", n,
	    n == 1 ? "" : "s", schedule_count(qm.sched, NULL),
	    schedule_count(qm.sched, NULL) == 1 ? "" : "s",
	    qm.paused ? ", delivery paused" : "");
	qm_kick();
}
