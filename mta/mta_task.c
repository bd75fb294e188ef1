/*
 * Tasks and routes of the mta process.  queue sends a task (one message
 * and 1..100 recipients of one domain); the task waits on the route of
 * its domain (or on the one smarthost route) until a connection of that
 * route is ready for it; every recipient gets one result, then the task
 * is done and its fd closed.  A route asks lka for its addresses once,
 * lives while it has tasks or connections, and is freed after: the next
 * task of the domain asks again (lka caches the DNS answers).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "mta_local.h"

static TAILQ_HEAD(, mta_task)	 mta_tasks = TAILQ_HEAD_INITIALIZER(mta_tasks);
static TAILQ_HEAD(, mta_route)	 mta_routes =
    TAILQ_HEAD_INITIALIZER(mta_routes);
static const struct sendgated_conf *mta_conf;
static const struct mta_self	*mta_self;
static uint64_t			 mta_reqid;
static int			 mta_ntasks;
static struct event		 mta_ev_schedule;

static void	route_schedule(struct mta_route *);

static void
mta_schedule_run(int fd, short ev, void *arg)
{
	mta_schedule();
}

void
mta_task_init(const struct sendgated_conf *conf, const struct mta_self *self)
{
	mta_conf = conf;
	mta_self = self;
	evtimer_assign(&mta_ev_schedule, child_base(), mta_schedule_run, NULL);
}

static struct mta_task *
task_find(uint64_t id)
{
	struct mta_task	*t;

	TAILQ_FOREACH(t, &mta_tasks, entry)
		if (t->id == id)
			return t;
	return NULL;
}

struct mta_task *
mta_task_first(void)
{
	return TAILQ_FIRST(&mta_tasks);
}

struct mta_task *
mta_task_next(struct mta_task *t)
{
	return TAILQ_NEXT(t, entry);
}

static void
task_free(struct mta_task *t)
{
	TAILQ_REMOVE(&mta_tasks, t, entry);
	mta_ntasks--;
	mta_dkim_task_free(t);
	if (t->fd != -1)
		close(t->fd);
	free(t->rcpt);
	free(t->crcpt);
	free(t);
}

static void	task_report(struct mta_task *, const struct mta_conn *,
		    const struct mta_route_addr *,
		    const struct mta_client_result *);

/*
 * Every recipient's result (res, or each one's own from the client),
 * one log line each, then TASK_DONE.  The task is freed.
 */
void
mta_task_report(struct mta_task *t, const struct mta_conn *c,
    const struct mta_client_result *res)
{
	task_report(t, c, NULL, res);
}

/*
 * The same with the connection, or without one the address that was
 * tried last (at), or nothing (NULL: no connection was attempted).
 */
static void
task_report(struct mta_task *t, const struct mta_conn *c,
    const struct mta_route_addr *at, const struct mta_client_result *res)
{
	struct mproc			*q = child_peer(PROC_QUEUE);
	const struct mta_client_result	*r;
	struct mta_log_entry		 e;
	struct msg_out			 m;
	char				 line[LOG_LINE_MAX], a[INET6_ADDRSTRLEN];
	time_t				 now = time(NULL);
	uint32_t			 i;

	memset(&e, 0, sizeof(e));
	e.id = t->qid;
	e.connector = t->connector;
	e.delay = now > t->arrival ? (long long)(now - t->arrival) : 0;
	if (c != NULL) {
		e.host = mta_conn_host(c);
		e.ss = mta_conn_addr(c);
		e.tls = mta_conn_tls(c);
	} else if (at != NULL) {
		e.host = at->host;
		e.ss = &at->ss;
	}
	for (i = 0; i < t->nrcpt; i++) {
		r = res != NULL ? res : &t->crcpt[i].result;
		e.rcpt = t->rcpt[i].addr;
		e.res = r;
		mta_log_format(line, sizeof(line), &e);
		log_info("%s", line);

		msg_out_init(&m);
		m_add_u64(&m, t->id);
		m_add_u32(&m, t->rcpt[i].index);
		m_add_int(&m, mta_route_result(r->status));
		m_add_int(&m, r->code);
		m_add_string(&m, r->enhanced);
		m_add_string(&m, r->text);
		m_add_string(&m, e.host != NULL ? e.host : "");
		m_add_string(&m, e.ss != NULL ? mta_route_ntop(e.ss, a,
		    sizeof(a)) : "");
		m_add_int(&m, c != NULL ? mta_route_dsn_relayed(r->status,
		    mta_conn_ext(c), t->crcpt[i].notify) : 0);
		mproc_send(q, IMSG_MTA_TASK_RESULT, 0, -1, &m);
	}
	msg_out_init(&m);
	m_add_u64(&m, t->id);
	mproc_send(q, IMSG_MTA_TASK_DONE, 0, -1, &m);
	task_free(t);
}

void
mta_task_message(struct mproc *p, struct imsg *im)
{
	struct mta_task	*t;
	struct msg_in	 m;
	uint64_t	 size;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		fatal("mta_task_message");
	t->fd = im->fd;
	msg_in_init(&m, im);
	if (m_get_u64(&m, &t->id) == -1 ||
	    m_get_string(&m, t->qid, sizeof(t->qid)) == -1 ||
	    m_get_string(&m, t->domain, sizeof(t->domain)) == -1 ||
	    m_get_string(&m, t->sender, sizeof(t->sender)) == -1 ||
	    m_get_int(&m, &t->msg.body) == -1 ||
	    m_get_int(&m, &t->msg.smtputf8) == -1 ||
	    m_get_int(&m, &t->msg.ret) == -1 ||
	    m_get_string(&m, t->envid, sizeof(t->envid)) == -1 ||
	    m_get_u64(&m, &size) == -1 ||
	    m_get_i64(&m, &t->arrival) == -1 ||
	    m_get_i64(&m, &t->connector_id) == -1 ||
	    m_get_string(&m, t->connector, sizeof(t->connector)) == -1 ||
	    m_get_u32(&m, &t->nrcpt) == -1 ||
	    m_end(&m) == -1)
		goto bad;
	if (t->nrcpt < 1 || t->nrcpt > MTA_CLIENT_RCPT_MAX) {
		m.err = "bad recipient count";
		goto bad;
	}
	if (task_find(t->id) != NULL) {
		m.err = "task id in use";
		goto bad;
	}
	if (mta_ntasks >= MTA_TASKS_MAX) {
		m.err = "too many tasks";
		goto bad;
	}
	if ((t->rcpt = calloc(t->nrcpt, sizeof(*t->rcpt))) == NULL ||
	    (t->crcpt = calloc(t->nrcpt, sizeof(*t->crcpt))) == NULL)
		fatal("mta_task_message");
	t->fsize = size;
	t->msg.size = size;	/* plus the DKIM fields, once signed */
	t->msg.sender = t->sender;
	t->msg.envid = t->envid[0] != '\0' ? t->envid : NULL;
	t->msg.rcpt = t->crcpt;
	t->msg.nrcpt = t->nrcpt;
	TAILQ_INSERT_TAIL(&mta_tasks, t, entry);
	mta_ntasks++;
	return;
bad:
	close(t->fd);
	free(t->rcpt);
	free(t);
	mproc_malformed(p, im, &m);
}

static struct mta_route *
route_find_name(const char *name)
{
	struct mta_route	*r;

	TAILQ_FOREACH(r, &mta_routes, entry)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

/* The waiting tasks all get res (made temporary when tempfail). */
static void
route_fail_waiting(struct mta_route *r, const struct mta_client_result *res,
    int tempfail)
{
	struct mta_client_result	 f = *res;
	struct mta_task			*t;

	if (tempfail && f.status != MTA_CLIENT_TEMPFAIL) {
		f.status = MTA_CLIENT_TEMPFAIL;
		if (f.code < 400 || f.code >= 500)
			f.code = 451;
		if (f.enhanced[0] != '\0')
			f.enhanced[0] = '4';
	}
	while ((t = TAILQ_FIRST(&r->waiting)) != NULL) {
		TAILQ_REMOVE(&r->waiting, t, wait);
		r->nwaiting--;
		task_report(t, NULL, r->lastai >= 0 &&
		    (size_t)r->lastai < r->naddrs ? &r->addrs[r->lastai] : NULL,
		    &f);
	}
}

static int
route_gc(struct mta_route *r)
{
	if (r->reqid != 0 || r->nwaiting > 0 || r->nconn > 0)
		return 0;
	TAILQ_REMOVE(&mta_routes, r, entry);
	free(r);
	return 1;
}

/* lka's answer, or the smarthost's literal address. */
static void
route_resolved(struct mta_route *r, const struct mx_result *res)
{
	struct mta_client_result	 f;
	enum mta_route_status		 rs = MTA_ROUTE_OK;
	uint16_t			 port;

	r->reqid = 0;
	if (res->status == MX_OK) {
		port = r->smarthost ? mta_conf->relayhost.port :
		    (uint16_t)mta_conf->deliver_port;
		rs = mta_route_build(res, port, r->smarthost, mta_self,
		    r->addrs, MTA_ROUTE_ADDRS_MAX, &r->naddrs);
	}
	if (res->status != MX_OK || rs != MTA_ROUTE_OK) {
		mta_route_failure(res->status, rs, r->name, res->why, &f);
		log_debug("route %s: %d %s %s", r->name, f.code, f.enhanced,
		    f.text);
		route_fail_waiting(r, &f, 0);
		route_gc(r);
		return;
	}
	route_schedule(r);
	route_gc(r);
}

/* An IP literal smarthost ("192.0.2.1", "2001:db8::1", "[::1]"). */
static int
route_literal(const char *host, struct mx_result *res)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;
	char			 buf[INET6_ADDRSTRLEN + 2];
	size_t			 len;

	memset(res, 0, sizeof(*res));
	strlcpy(buf, host, sizeof(buf));
	len = strlen(buf);
	if (len > 2 && buf[0] == '[' && buf[len - 1] == ']') {
		memmove(buf, buf + 1, len - 2);
		buf[len - 2] = '\0';
	}
	sin = (struct sockaddr_in *)&res->hosts[0].addrs[0];
	sin6 = (struct sockaddr_in6 *)&res->hosts[0].addrs[0];
	if (inet_pton(AF_INET, buf, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, buf, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		return 0;
	strlcpy(res->hosts[0].name, buf, sizeof(res->hosts[0].name));
	res->hosts[0].naddrs = 1;
	res->nhosts = 1;
	res->status = MX_OK;
	return 1;
}

static struct mta_route *
route_get(const struct mta_task *t, int *created)
{
	const struct config_relayhost	*rh = &mta_conf->relayhost;
	struct mta_route		*r;

	*created = 0;
	if ((r = route_find_name(rh->set ? rh->host : t->domain)) != NULL)
		return r;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		fatal("route_get");
	TAILQ_INIT(&r->waiting);
	r->lastai = -1;
	r->smarthost = rh->set;
	strlcpy(r->name, rh->set ? rh->host : t->domain, sizeof(r->name));
	if (!rh->set)
		r->tls = mta_route_tls_policy(mta_conf, t->domain);
	else if (rh->mode == CONFIG_RELAY_PLAIN)
		r->tls = CONFIG_TLS_OPPORTUNISTIC;
	else
		/* STARTTLS or implicit TLS, verified when the policy says */
		r->tls = mta_conf->tls_policy == CONFIG_TLS_VERIFY ?
		    CONFIG_TLS_VERIFY : CONFIG_TLS_REQUIRE;
	r->reqid = ++mta_reqid;
	TAILQ_INSERT_TAIL(&mta_routes, r, entry);
	*created = 1;
	return r;
}

/* Ask lka where the route goes; an IP literal smarthost is known. */
static void
route_lookup(struct mta_route *r)
{
	struct mx_result	*lit;
	struct msg_out		 m;

	if (r->smarthost) {
		if ((lit = calloc(1, sizeof(*lit))) == NULL)
			fatal("route_lookup");
		if (route_literal(r->name, lit)) {
			route_resolved(r, lit);
			free(lit);
			return;
		}
		free(lit);
	}
	msg_out_init(&m);
	m_add_u64(&m, r->reqid);
	m_add_string(&m, r->name);
	m_add_int(&m, r->smarthost);
	mproc_send(child_peer(PROC_LKA), IMSG_MTA_MX_LOOKUP, 0, -1, &m);
}

void
mta_task_ready(struct mta_task *t)
{
	struct mta_route	*r;
	int			 created;

	r = route_get(t, &created);
	t->route = r;
	TAILQ_INSERT_TAIL(&r->waiting, t, wait);
	r->nwaiting++;
	if (created)
		route_lookup(r);
	else
		route_schedule(r);
}

void
mta_task_rcpt(struct mproc *p, struct imsg *im)
{
	struct mta_task		*t;
	struct mta_task_rcpt	*tr;
	struct mta_client_rcpt	*cr;
	struct msg_in		 m;
	uint64_t		 id;
	int			 notify;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &id) == -1)
		goto bad;
	if ((t = task_find(id)) == NULL || t->route != NULL ||
	    t->got >= t->nrcpt) {
		m.err = "recipient for no task being sent";
		goto bad;
	}
	tr = &t->rcpt[t->got];
	cr = &t->crcpt[t->got];
	if (m_get_u32(&m, &tr->index) == -1 ||
	    m_get_string(&m, tr->addr, sizeof(tr->addr)) == -1 ||
	    m_get_int(&m, &notify) == -1 ||
	    m_get_string(&m, tr->orcpt_type, sizeof(tr->orcpt_type)) == -1 ||
	    m_get_string(&m, tr->orcpt, sizeof(tr->orcpt)) == -1 ||
	    m_end(&m) == -1)
		goto bad;
	cr->addr = tr->addr;
	cr->notify = notify;
	cr->orcpt_type = tr->orcpt_type[0] != '\0' ? tr->orcpt_type : NULL;
	cr->orcpt = tr->orcpt;
	if (++t->got == t->nrcpt)
		mta_dkim_start(t);
	return;
bad:
	mproc_malformed(p, im, &m);
}

void
mta_task_mx_result(struct mproc *p, struct imsg *im)
{
	struct mx_result	*res;
	struct mta_route	*r;
	struct msg_in		 m;
	uint64_t		 reqid;
	uint32_t		 n, pref, na, i, k;
	int			 status;

	if ((res = calloc(1, sizeof(*res))) == NULL)
		fatal("mta_task_mx_result");
	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 ||
	    m_get_int(&m, &status) == -1 ||
	    m_get_string(&m, res->why, sizeof(res->why)) == -1 ||
	    m_get_u32(&m, &n) == -1)
		goto bad;
	if (status < MX_OK || status > MX_TEMPFAIL || n > MX_HOSTS_MAX) {
		m.err = "bad MX status or host count";
		goto bad;
	}
	res->status = status;
	for (i = 0; i < n; i++) {
		struct mx_host	*h = &res->hosts[i];

		if (m_get_string(&m, h->name, sizeof(h->name)) == -1 ||
		    m_get_u32(&m, &pref) == -1 || m_get_u32(&m, &na) == -1)
			goto bad;
		if (pref > UINT16_MAX || na > MX_ADDRS_MAX) {
			m.err = "bad preference or address count";
			goto bad;
		}
		h->pref = (uint16_t)pref;
		h->naddrs = (int)na;
		for (k = 0; k < na; k++)
			if (m_get_sockaddr(&m, &h->addrs[k]) == -1)
				goto bad;
	}
	res->nhosts = (int)n;
	if (m_end(&m) == -1)
		goto bad;
	/* A route freed meanwhile: nothing waits for the answer. */
	TAILQ_FOREACH(r, &mta_routes, entry)
		if (r->reqid == reqid)
			break;
	if (r != NULL)
		route_resolved(r, res);
	free(res);
	return;
bad:
	free(res);
	mproc_malformed(p, im, &m);
}

struct mta_task *
mta_route_next(struct mta_route *r)
{
	struct mta_task	*t;

	if ((t = TAILQ_FIRST(&r->waiting)) != NULL) {
		TAILQ_REMOVE(&r->waiting, t, wait);
		r->nwaiting--;
	}
	return t;
}

/* The first address a new connection may go to; -1 none now. */
static int
route_pick(struct mta_route *r, int *allfailed)
{
	size_t	i;

	*allfailed = 1;
	for (i = 0; i < r->naddrs; i++) {
		if (r->failed[i])
			continue;
		*allfailed = 0;
		if (mta_conn_count_addr(&r->addrs[i].ss) <
		    mta_conf->mta_per_host)
			return (int)i;
	}
	return -1;
}

/*
 * Idle connections take the waiting tasks; more connections open while
 * more tasks wait than connections are coming, within the global and
 * the per-address limits.  When every address failed and no connection
 * is left, the waiting tasks fail temporarily with the last error.
 */
static void
route_schedule(struct mta_route *r)
{
	int	ai, allfailed = 0;

	if (r->reqid != 0)
		return;
	while (r->nwaiting > 0 && mta_conn_take_idle(r))
		;
	while (r->nwaiting > r->ncoming &&
	    mta_conn_count() < mta_conf->mta_concurrency) {
		if ((ai = route_pick(r, &allfailed)) == -1)
			break;
		if (mta_conn_open(r, ai) == -1)
			r->failed[ai] = 1;
	}
	if (r->nwaiting > r->ncoming &&
	    mta_conn_count() >= mta_conf->mta_concurrency)
		(void)mta_conn_reap_idle(r);
	if (r->nwaiting > 0 && r->nconn == 0) {
		(void)route_pick(r, &allfailed);
		if (allfailed) {
			if (r->lasterr.code == 0) {
				r->lasterr.status = MTA_CLIENT_TEMPFAIL;
				r->lasterr.code = 451;
				strlcpy(r->lasterr.enhanced, "4.4.1",
				    sizeof(r->lasterr.enhanced));
				strlcpy(r->lasterr.text, "no address could be "
				    "connected to", sizeof(r->lasterr.text));
			}
			route_fail_waiting(r, &r->lasterr, 1);
			/* The next tasks try every address again. */
			memset(r->failed, 0, sizeof(r->failed));
		}
	}
}

void
mta_schedule(void)
{
	struct mta_route	*r, *next;

	for (r = TAILQ_FIRST(&mta_routes); r != NULL; r = next) {
		next = TAILQ_NEXT(r, entry);
		route_schedule(r);
		route_gc(r);
	}
}

void
mta_route_conn_ready(struct mta_route *r)
{
	r->ncoming--;
}

/*
 * A connection closed.  One that failed before it was ready (failure
 * set) marks its address failed, or, after a failed STARTTLS handshake
 * under the opportunistic policy, to be tried once more in plaintext.
 */
void
mta_route_conn_gone(struct mta_route *r, int ai, int ready, int tls_failed,
    const struct mta_client_result *failure)
{
	r->nconn--;
	if (!ready)
		r->ncoming--;
	if (failure != NULL) {
		r->lasterr = *failure;
		r->lastai = ai;
		if (tls_failed && r->tls == CONFIG_TLS_OPPORTUNISTIC &&
		    !r->plain[ai]) {
			r->plain[ai] = 1;
			log_info("route %s: TLS failed with %s, next "
			    "connection in plaintext", r->name,
			    r->addrs[ai].host);
		} else
			r->failed[ai] = 1;
	}
	/*
	 * From the loop, not from here: the caller may be inside a
	 * route_schedule() of this very route.
	 */
	if (!evtimer_pending(&mta_ev_schedule, NULL)) {
		struct timeval	tv = { 0, 0 };

		evtimer_add(&mta_ev_schedule, &tv);
	}
}
