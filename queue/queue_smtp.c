/*
 * The smtp side of the queue: a message file on IMSG_SMTP_MESSAGE_CREATE,
 * its envelope and recipients kept in memory until COMMIT makes all of
 * it durable (queue_store.c) or ROLLBACK forgets it.
 *
 * smtp is a trusted peer: a message for an id it never got, a second
 * envelope or a commit without one is a broken invariant, and the daemon
 * stops (mproc_malformed) rather than guess.
 */
#include <sys/queue.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event.h>

#include "child.h"
#include "envelope.h"
#include "log.h"
#include "mproc.h"
#include "proto.h"
#include "queue.h"
#include "queue_mta.h"
#include "queue_store.h"

/* A message between CREATE and COMMIT or ROLLBACK. */
struct queue_msg {
	TAILQ_ENTRY(queue_msg)	 entry;
	TAILQ_ENTRY(queue_msg)	 batch;		/* while committing */
	char			 id[ENVELOPE_ID_LEN + 1];
	int			 rfd;		/* the queue's copy, for commit */
	int			 has_env;
	int			 envfile;	/* envelope not an attribute */
	int			 committing;
	uint64_t		 awaited;	/* by this batch (number) */
	uint64_t		 reqid;
	uint64_t		 size;
	struct mproc		*peer;
	struct envelope		 env;
};

static TAILQ_HEAD(, queue_msg)	queue_msgs =
    TAILQ_HEAD_INITIALIZER(queue_msgs);
static size_t			queue_nmsgs;

/*
 * Group commit: the COMMITs that arrive together are made durable
 * together, with two syncs for the whole batch (see queue_store_sync).
 * A batch waits for the messages whose DATA or BDAT had begun when its
 * first COMMIT came (their COMMIT, or ROLLBACK, is usually a round trip
 * away), at most QUEUE_BATCH_WAIT_US; with none, it starts at once, so a
 * lone message never waits.  PostgreSQL's commit_delay with
 * commit_siblings, in spirit.  Those that come while a batch syncs make
 * the next one.
 */
#define QUEUE_BATCH_WAIT_US	2000

static TAILQ_HEAD(, queue_msg)	queue_batch =
    TAILQ_HEAD_INITIALIZER(queue_batch);
static struct event		queue_batch_ev;
static int			queue_batch_armed;
static uint64_t			queue_batch_no;		/* of the armed one */
static size_t			queue_batch_waits;	/* messages awaited */

static struct queue_msg *
queue_msg_find(const char *id)
{
	struct queue_msg	*q;

	TAILQ_FOREACH(q, &queue_msgs, entry)
		if (strcmp(q->id, id) == 0)
			return q;
	return NULL;
}

static void
queue_msg_free(struct queue_msg *q)
{
	TAILQ_REMOVE(&queue_msgs, q, entry);
	queue_nmsgs--;
	envelope_free(&q->env);
	free(q);
}

static void
queue_refuse(struct mproc *p, uint64_t reqid, int code, const char *text)
{
	struct msg_out	 m;

	msg_out_init(&m);
	m_add_u64(&m, reqid);
	m_add_int(&m, code);
	m_add_string(&m, text);
	mproc_send(p, IMSG_QUEUE_MESSAGE_REFUSED, 0, -1, &m);
}

static void
queue_create(struct mproc *p, struct imsg *im)
{
	struct queue_msg	*q;
	struct msg_in		 m;
	struct msg_out		 o;
	const char		*text;
	uint64_t		 reqid;
	int			 code, wfd;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 || m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	if (queue_nmsgs >= QUEUE_PENDING_MAX) {
		log_warnx("queue: %d messages in progress, one refused",
		    QUEUE_PENDING_MAX);
		queue_refuse(p, reqid, 451, "4.3.0 Too many messages in "
		    "progress, try again later");
		return;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		log_warn("queue: calloc");
		queue_refuse(p, reqid, 451, "4.3.0 Temporary queue failure");
		return;
	}
	if ((code = queue_store_create(q->id, &wfd, &q->rfd, &text)) != 0) {
		free(q);
		queue_refuse(p, reqid, code, text);
		return;
	}
	envelope_init(&q->env);
	TAILQ_INSERT_TAIL(&queue_msgs, q, entry);
	queue_nmsgs++;
	log_debug("queue: %s: created", q->id);
	msg_out_init(&o);
	m_add_u64(&o, reqid);
	m_add_string(&o, q->id);
	/* The channel owns wfd from here and closes it once sent. */
	mproc_send(p, IMSG_QUEUE_MESSAGE_FILE, 0, wfd, &o);
}

static int
set_str(struct envelope_str *s, size_t max, const char *v)
{
	return envelope_set(s, max, v, strlen(v));
}

static void
queue_envelope(struct mproc *p, struct imsg *im)
{
	struct queue_msg	*q;
	struct envelope		*e;
	struct msg_in		 m;
	char			 id[ENVELOPE_ID_LEN + 1];
	char			 sender[ENVELOPE_ADDR_MAX + 1];
	char			 envid[ENVELOPE_ENVID_MAX + 1];
	char			 conn[ENVELOPE_NAME_MAX + 1];
	char			 user[ENVELOPE_USER_MAX + 1];
	char			 addr[ENVELOPE_CLIENT_MAX + 1];
	char			 helo[ENVELOPE_HELO_MAX + 1];
	char			 tls[ENVELOPE_TLS_MAX + 1];
	int			 body, utf8, ret;
	int64_t			 connid, t;

	msg_in_init(&m, im);
	if (m_get_string(&m, id, sizeof(id)) == -1 ||
	    m_get_string(&m, sender, sizeof(sender)) == -1 ||
	    m_get_int(&m, &body) == -1 || m_get_int(&m, &utf8) == -1 ||
	    m_get_int(&m, &ret) == -1 ||
	    m_get_string(&m, envid, sizeof(envid)) == -1 ||
	    m_get_i64(&m, &connid) == -1 ||
	    m_get_string(&m, conn, sizeof(conn)) == -1 ||
	    m_get_string(&m, user, sizeof(user)) == -1 ||
	    m_get_string(&m, addr, sizeof(addr)) == -1 ||
	    m_get_string(&m, helo, sizeof(helo)) == -1 ||
	    m_get_string(&m, tls, sizeof(tls)) == -1 ||
	    m_get_i64(&m, &t) == -1 || m_end(&m) == -1)
		goto bad;
	if ((q = queue_msg_find(id)) == NULL || q->has_env ||
	    body < 0 || body > ENVELOPE_BODY_MAX || utf8 < 0 || utf8 > 1 ||
	    ret < 0 || ret > ENVELOPE_RET_MAX || connid < 0 || t < 0)
		goto bad;
	e = &q->env;
	e->body = body;
	e->smtputf8 = utf8;
	e->ret = ret;
	e->connector_id = connid;
	e->time = t;
	if (set_str(&e->sender, ENVELOPE_ADDR_MAX, sender) == -1 ||
	    set_str(&e->envid, ENVELOPE_ENVID_MAX, envid) == -1 ||
	    set_str(&e->connector, ENVELOPE_NAME_MAX, conn) == -1 ||
	    set_str(&e->auth_user, ENVELOPE_USER_MAX, user) == -1 ||
	    set_str(&e->client_addr, ENVELOPE_CLIENT_MAX, addr) == -1 ||
	    set_str(&e->client_name, ENVELOPE_HELO_MAX, helo) == -1 ||
	    set_str(&e->tls, ENVELOPE_TLS_MAX, tls) == -1)
		fatal("queue: envelope");	/* out of memory */
	q->has_env = 1;
	return;
bad:
	mproc_malformed(p, im, &m);
}

static void
queue_rcpt(struct mproc *p, struct imsg *im)
{
	struct queue_msg	*q;
	struct msg_in		 m;
	char			 id[ENVELOPE_ID_LEN + 1];
	char			 rcpt[ENVELOPE_ADDR_MAX + 1];
	char			 type[ENVELOPE_ORCPT_TYPE_MAX + 1];
	char			 orcpt[ENVELOPE_ORCPT_MAX + 1];
	int			 notify;

	msg_in_init(&m, im);
	if (m_get_string(&m, id, sizeof(id)) == -1 ||
	    m_get_string(&m, rcpt, sizeof(rcpt)) == -1 ||
	    m_get_int(&m, &notify) == -1 ||
	    m_get_string(&m, type, sizeof(type)) == -1 ||
	    m_get_string(&m, orcpt, sizeof(orcpt)) == -1 ||
	    m_end(&m) == -1)
		goto bad;
	if ((q = queue_msg_find(id)) == NULL || !q->has_env ||
	    q->committing || q->env.nrcpt == ENVELOPE_RCPT_MAX || notify < 0 ||
	    notify > ENVELOPE_NOTIFY_MAX)
		goto bad;
	if (envelope_rcpt_add(&q->env, rcpt, strlen(rcpt), notify, type,
	    strlen(type), orcpt, strlen(orcpt)) == -1)
		fatal("queue: recipient");	/* out of memory */
	return;
bad:
	mproc_malformed(p, im, &m);
}

/* A first COMMIT: the batch waits for the messages in their DATA. */
static void
queue_batch_arm(void)
{
	struct queue_msg	*q;
	struct timeval		 tv = { 0, QUEUE_BATCH_WAIT_US };

	queue_batch_armed = 1;
	queue_batch_no++;
	queue_batch_waits = 0;
	TAILQ_FOREACH(q, &queue_msgs, entry)
		if (!q->committing) {
			q->awaited = queue_batch_no;
			queue_batch_waits++;
		}
	if (queue_batch_waits > 0)
		evtimer_add(&queue_batch_ev, &tv);
	else {
		/* Runs once the messages already read are handled. */
		event_active(&queue_batch_ev, EV_TIMEOUT, 1);
	}
}

/* q, awaited or not, commits or is rolled back: maybe the last one. */
static void
queue_batch_arrived(struct queue_msg *q)
{
	if (!queue_batch_armed || q->awaited != queue_batch_no)
		return;
	q->awaited = 0;
	if (--queue_batch_waits == 0) {
		event_del(&queue_batch_ev);
		event_active(&queue_batch_ev, EV_TIMEOUT, 1);
	}
}

static void
queue_commit(struct mproc *p, struct imsg *im)
{
	struct queue_msg	*q;
	struct msg_in		 m;
	char			 id[ENVELOPE_ID_LEN + 1];
	uint64_t		 reqid, size;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 ||
	    m_get_string(&m, id, sizeof(id)) == -1 ||
	    m_get_u64(&m, &size) == -1 || m_end(&m) == -1 ||
	    (q = queue_msg_find(id)) == NULL || !q->has_env ||
	    q->committing || q->env.nrcpt == 0) {
		mproc_malformed(p, im, &m);
		return;
	}
	q->committing = 1;
	q->reqid = reqid;
	q->size = size;
	q->peer = p;
	TAILQ_INSERT_TAIL(&queue_batch, q, batch);
	if (!queue_batch_armed)
		queue_batch_arm();
	else
		queue_batch_arrived(q);
}

static void
queue_answer(struct queue_msg *q, int code, const char *why)
{
	struct msg_out		 o;
	char			 text[128];

	if (code == 250) {
		log_info("queued %s connector=%s from=<%s> nrcpt=%zu "
		    "size=%" PRIu64, q->id, envelope_cstr(&q->env.connector),
		    envelope_cstr(&q->env.sender), q->env.nrcpt, q->size);
		snprintf(text, sizeof(text), "2.0.0 Ok: queued as %s", q->id);
		queue_mta_add(&q->env);
	} else {
		log_warnx("queue: %s: not stored: %d %s", q->id, code, why);
		snprintf(text, sizeof(text), "%s", why);
	}
	msg_out_init(&o);
	m_add_u64(&o, q->reqid);
	m_add_int(&o, code);
	m_add_string(&o, text);
	mproc_send(q->peer, IMSG_QUEUE_MESSAGE_COMMITTED, 0, -1, &o);
	TAILQ_REMOVE(&queue_batch, q, batch);
	queue_msg_free(q);
}

static void
queue_batch_run(int fd, short ev, void *arg)
{
	struct queue_msg	*q, *next;
	const char		*why;
	size_t			 n = 0;
	int			 code;

	queue_batch_armed = 0;
	TAILQ_FOREACH(q, &queue_batch, batch)
		n++;
	log_debug("queue: %zu message%s in one commit", n, n == 1 ? "" : "s");
	TAILQ_FOREACH_SAFE(q, &queue_batch, batch, next) {
		code = queue_store_prepare(q->id, q->rfd, &q->env, q->size,
		    &q->envfile, &why);
		q->rfd = -1;
		if (code != 250)
			queue_answer(q, code, why);
	}
	if (TAILQ_EMPTY(&queue_batch))
		return;
	if ((code = queue_store_sync(&why)) == 250) {
		TAILQ_FOREACH_SAFE(q, &queue_batch, batch, next)
			if ((code = queue_store_publish(q->id, q->envfile,
			    &why)) != 250)
				queue_answer(q, code, why);
		if (TAILQ_EMPTY(&queue_batch))
			return;
		code = queue_store_sync(&why);
	}
	while ((q = TAILQ_FIRST(&queue_batch)) != NULL) {
		if (code != 250)
			queue_store_discard(q->id);
		queue_answer(q, code, code == 250 ? "" : why);
	}
}

void
queue_smtp_init(void)
{
	event_assign(&queue_batch_ev, child_base(), -1, 0, queue_batch_run,
	    NULL);
}

/*
 * smtp may roll back before or after the envelope, or twice: all fine.
 * A message already handed to commit is not rolled back: the commit
 * goes on (smtp's session may be gone; its client retries).
 */
static void
queue_rollback(struct mproc *p, struct imsg *im)
{
	struct queue_msg	*q;
	struct msg_in		 m;
	char			 id[ENVELOPE_ID_LEN + 1];

	msg_in_init(&m, im);
	if (m_get_string(&m, id, sizeof(id)) == -1 || m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	if ((q = queue_msg_find(id)) == NULL || q->committing)
		return;
	queue_batch_arrived(q);
	queue_store_rollback(q->id, q->rfd);
	log_debug("queue: %s: rolled back", q->id);
	queue_msg_free(q);
}

/* 1 when im was a message of this module. */
int
queue_smtp_imsg(struct mproc *p, struct imsg *im)
{
	switch (im->type) {
	case IMSG_SMTP_MESSAGE_CREATE:
		queue_create(p, im);
		return 1;
	case IMSG_SMTP_MESSAGE_ENVELOPE:
		queue_envelope(p, im);
		return 1;
	case IMSG_SMTP_MESSAGE_RCPT:
		queue_rcpt(p, im);
		return 1;
	case IMSG_SMTP_MESSAGE_COMMIT:
		queue_commit(p, im);
		return 1;
	case IMSG_SMTP_MESSAGE_ROLLBACK:
		queue_rollback(p, im);
		return 1;
	}
	return 0;
}
