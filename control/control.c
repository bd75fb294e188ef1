/*
 * The control process: sendgatectl requests on the control socket.
 * Start-up (confinement), imsg dispatch, shutdown.
 *
 * The parent creates the socket (mode 0660, group _sendgatectl) and passes
 * it here.  Each connection is checked with SO_PEERCRED: members of the
 * group may read, only root may change anything.  A client that sends
 * garbage loses its own connection and nothing else.
 */
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "control.h"
#include "log.h"
#include "proto.h"

struct control_client {
	TAILQ_ENTRY(control_client)	 entry;
	struct mproc			 mp;
	struct event			 idle;
	uid_t				 uid;
	pid_t				 pid;
	uint64_t			 reqid;	/* answer awaited, 0: none */
};

/*
 * The commands other processes answer, who answers, and whether they
 * change anything (then only root may run them).  The client's word for
 * it is never taken.
 */
static const struct control_command {
	const char	*name;
	enum proc_id	 target;
	int		 change;
} control_commands[] = {
	{ "connector.add", PROC_LKA, 1 },
	{ "connector.del", PROC_LKA, 1 },
	{ "connector.disable", PROC_LKA, 1 },
	{ "connector.enable", PROC_LKA, 1 },
	{ "connector.limit", PROC_LKA, 1 },
	{ "connector.list", PROC_LKA, 0 },
	{ "connector.passwd", PROC_LKA, 1 },
	{ "connector.show", PROC_LKA, 0 },
	{ "domain.add", PROC_LKA, 1 },
	{ "domain.check", PROC_LKA, 1 },
	{ "domain.del", PROC_LKA, 1 },
	{ "domain.list", PROC_LKA, 0 },
	{ "domain.rotate", PROC_LKA, 1 },
	{ "domain.show", PROC_LKA, 0 },
	{ "mta.pause", PROC_QUEUE, 1 },
	{ "mta.resume", PROC_QUEUE, 1 },
	{ "queue.remove", PROC_QUEUE, 1 },
	{ "queue.schedule", PROC_QUEUE, 1 },
	{ "queue.show", PROC_QUEUE, 0 },
	{ "queue.stats", PROC_QUEUE, 0 },
	{ "spf.walk", PROC_LKA, 0 },
};

static TAILQ_HEAD(, control_client) control_clients =
    TAILQ_HEAD_INITIALIZER(control_clients);
static int		 control_nclients;
static int		 control_sock = -1;
static struct event	 control_ev_accept;
static struct event	 control_ev_pause;
static uint64_t		 control_reqid;

static void
control_client_free(struct control_client *c)
{
	TAILQ_REMOVE(&control_clients, c, entry);
	control_nclients--;
	evtimer_del(&c->idle);
	mproc_clear(&c->mp);
	free(c);
}

static void
control_client_closed(struct mproc *mp, const char *why)
{
	struct control_client	*c = mp->arg;

	if (strcmp(why, "connection closed") != 0)
		log_warnx("control client pid %ld uid %ld: %s; closed",
		    (long)c->pid, (long)c->uid, why);
	control_client_free(c);
}

static void	control_idle_arm(struct control_client *);

static void
control_client_idle(int fd, short ev, void *arg)
{
	struct control_client	*c = arg;

	if (c->reqid != 0) {
		/* Waiting for an answer is not idling. */
		control_idle_arm(c);
		return;
	}
	log_debug("control client pid %ld: idle, closed", (long)c->pid);
	control_client_free(c);
}

static void
control_idle_arm(struct control_client *c)
{
	struct timeval	 tv = { CONTROL_IDLE_SEC, 0 };

	evtimer_add(&c->idle, &tv);
}

static void
control_fail(struct control_client *c, const char *reason)
{
	struct msg_out	 m;

	msg_out_init(&m);
	m_add_string(&m, reason);
	mproc_send(&c->mp, IMSG_CONTROL_FAIL, 0, -1, &m);
}

static void
control_ok(struct control_client *c)
{
	mproc_send(&c->mp, IMSG_CONTROL_OK, 0, -1, NULL);
}

/* Start reading a request: the protocol version comes first. */
static int
control_request(struct control_client *c, struct imsg *im, struct msg_in *m)
{
	uint32_t	 version;

	msg_in_init(m, im);
	if (m_get_u32(m, &version) == -1)
		return -1;
	if (version != PROTO_VERSION) {
		control_fail(c, "sendgatectl and sendgated versions differ");
		return 1;
	}
	return 0;
}

static int
control_is_root(struct control_client *c)
{
	if (c->uid == 0)
		return 1;
	control_fail(c, "permission denied: only root may change the relay");
	return 0;
}

static const struct control_command *
control_command_find(const char *name)
{
	size_t	 i;

	for (i = 0; i < sizeof(control_commands) /
	    sizeof(control_commands[0]); i++)
		if (strcmp(control_commands[i].name, name) == 0)
			return &control_commands[i];
	return NULL;
}

/*
 * A command for another process: check it, then pass it on with the
 * client's uid and a request id.  Returns -1 when the message is
 * malformed.
 */
static int
control_command(struct control_client *c, struct msg_in *m)
{
	const struct control_command	*cmd;
	struct msg_out			 o;
	char				 name[PROTO_KEY_MAX];
	char				 key[PROTO_KEY_MAX];
	char				 value[PROTO_VALUE_MAX];
	uint32_t			 n, i;

	if (m_get_string(m, name, sizeof(name)) == -1 ||
	    m_get_u32(m, &n) == -1 || n > PROTO_PARAMS_MAX)
		return -1;
	msg_out_init(&o);
	m_add_u64(&o, c->reqid = ++control_reqid);
	m_add_int(&o, (int)c->uid);
	m_add_string(&o, name);
	m_add_u32(&o, n);
	for (i = 0; i < n; i++) {
		if (m_get_string(m, key, sizeof(key)) == -1 ||
		    m_get_string(m, value, sizeof(value)) == -1)
			goto bad;
		m_add_string(&o, key);
		m_add_string(&o, value);
	}
	if (m_end(m) == -1)
		goto bad;
	if ((cmd = control_command_find(name)) == NULL) {
		c->reqid = 0;
		control_fail(c, "unknown command");
		return 0;
	}
	if (cmd->change && !control_is_root(c)) {
		c->reqid = 0;
		return 0;
	}
	mproc_send(child_peer(cmd->target), IMSG_CONTROL_COMMAND, 0, -1, &o);
	return 0;
bad:
	c->reqid = 0;
	return -1;
}

static void
control_client_dispatch(struct mproc *mp, struct imsg *im)
{
	struct control_client	*c = mp->arg;
	struct msg_in		 m;
	struct msg_out		 o;
	int			 r, v;

	control_idle_arm(c);
	if ((r = control_request(c, im, &m)) != 0) {
		if (r == -1)
			mproc_malformed(mp, im, &m);
		return;
	}
	if (c->reqid != 0) {
		control_fail(c, "a request is already pending");
		return;
	}
	switch (im->type) {
	case IMSG_CTL_STATUS_SHOW:
		if (m_end(&m) == -1)
			break;
		c->reqid = ++control_reqid;
		msg_out_init(&o);
		m_add_u64(&o, c->reqid);
		mproc_send(child_peer(PROC_PARENT), IMSG_CONTROL_STATUS_GET,
		    0, -1, &o);
		return;
	case IMSG_CTL_VERBOSE_SET:
		if (m_get_int(&m, &v) == -1 || m_end(&m) == -1)
			break;
		if (!control_is_root(c))
			return;
		msg_out_init(&o);
		m_add_int(&o, v != 0);
		mproc_send(child_peer(PROC_PARENT), IMSG_CONTROL_VERBOSE_SET,
		    0, -1, &o);
		control_ok(c);
		return;
	case IMSG_CTL_COMMAND:
		if (control_command(c, &m) == -1)
			break;
		return;
	case IMSG_CTL_STOP:
		if (m_end(&m) == -1)
			break;
		if (!control_is_root(c))
			return;
		log_info("stop requested by sendgatectl (pid %ld)",
		    (long)c->pid);
		control_ok(c);
		(void)imsgbuf_write(&c->mp.ibuf);
		mproc_send(child_peer(PROC_PARENT), IMSG_CONTROL_STOP, 0, -1,
		    NULL);
		return;
	}
	mproc_malformed(mp, im, &m);
}

static struct control_client *
control_client_by_reqid(uint64_t reqid)
{
	struct control_client	*c;

	TAILQ_FOREACH(c, &control_clients, entry)
		if (c->reqid == reqid)
			return c;
	return NULL;
}

static void
control_accept_resume(int fd, short ev, void *arg)
{
	event_add(&control_ev_accept, NULL);
}

static void
control_accept(int fd, short ev, void *arg)
{
	struct control_client	*c;
	struct ucred		 cred;
	socklen_t		 len = sizeof(cred);
	struct timeval		 tv = { CONTROL_BACKOFF_SEC, 0 };
	int			 s;

	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) ==
	    -1) {
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* Back off instead of spinning on a full table. */
			log_warn("control: accept");
			event_del(&control_ev_accept);
			evtimer_add(&control_ev_pause, &tv);
		}
		return;
	}
	if (control_nclients >= CONTROL_CLIENTS_MAX) {
		log_warnx("control: too many clients, connection refused");
		close(s);
		return;
	}
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		log_warn("control: SO_PEERCRED");
		close(s);
		return;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_warn("control: calloc");
		close(s);
		return;
	}
	c->uid = cred.uid;
	c->pid = cred.pid;
	mproc_init(&c->mp, s, PROC_CONTROL, PROC_CLIENT,
	    control_client_dispatch, control_client_closed, c);
	evtimer_set(&c->idle, control_client_idle, c);
	control_idle_arm(c);
	TAILQ_INSERT_TAIL(&control_clients, c, entry);
	control_nclients++;
}

static void
control_listen(struct mproc *p, struct imsg *im)
{
	struct msg_in	 m;

	msg_in_init(&m, im);
	if (m_end(&m) == -1 || control_sock != -1) {
		close(im->fd);
		mproc_malformed(p, im, &m);
		return;
	}
	control_sock = im->fd;
	event_set(&control_ev_accept, control_sock, EV_READ | EV_PERSIST,
	    control_accept, NULL);
	event_add(&control_ev_accept, NULL);
	evtimer_set(&control_ev_pause, control_accept_resume, NULL);
}

/*
 * An answer from a process for a client: forward it if the client is
 * still there.  last: the answer is complete.
 */
static void
control_answer(struct mproc *p, struct imsg *im, uint32_t type, int last)
{
	struct control_client	*c;
	struct msg_in		 m;
	uint64_t		 reqid;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	if ((c = control_client_by_reqid(reqid)) == NULL)
		return;		/* the client left meanwhile */
	if (last)
		c->reqid = 0;
	mproc_forward(&c->mp, type, 0, im);
}

static void
control_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im))
		return;
	switch (im->type) {
	case IMSG_PARENT_CONTROL_SOCKET:
		control_listen(p, im);
		return;
	case IMSG_PARENT_STATUS_RESULT:
		control_answer(p, im, IMSG_CONTROL_STATUS_RESULT, 1);
		return;
	case IMSG_LKA_ROW:
	case IMSG_QUEUE_ROW:
		control_answer(p, im, IMSG_CONTROL_ROW, 0);
		return;
	case IMSG_LKA_DONE:
	case IMSG_QUEUE_DONE:
		control_answer(p, im, IMSG_CONTROL_DONE, 1);
		return;
	}
	mproc_malformed(p, im, NULL);
}

void
control_main(struct sendgated_conf *conf, const struct child_opts *o)
{
	struct sandbox_spec	 spec = {
		.name = "control",
		.root = conf->empty_dir,
		.user = conf->user,
		.nowrite = 1,
		.rules = control_sandbox_rules,
	};

	setproctitle("%s", "control");
	child_setup(o, control_dispatch);
	sandbox_enter(&spec, o->sandbox);
	child_ready();
	child_run();
}
