/*
 * The parent process (see parent.h).  Runs as root, unconfined, and does
 * nothing a peer can steer except answering status, log level and stop
 * requests that control has already authorized.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <event.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "dirs.h"
#include "log.h"
#include "mproc.h"
#include "parent.h"
#include "proto.h"

struct parent_child {
	pid_t		 pid;
	int		 ready;
	time_t		 started;
	struct mproc	 mp;
};

static struct sendgated_conf	*parent_conf;
static struct parent_child	 parent_children[PROC_COUNT];
static time_t			 parent_started;
static int			 parent_stopping;
static int			 parent_ctl_sock = -1;
static int			 parent_socket_made;
static int			*parent_listen_fds;
static int			 parent_nlisten;
static struct event		 parent_ev_ready;
static struct event		 parent_ev_sig[4];

static void	parent_stop(int) __attribute__((noreturn));

static time_t
parent_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static uid_t
parent_uid(const char *user, gid_t *gid)
{
	struct passwd	*pw;

	if ((pw = getpwnam(user)) == NULL)
		fatalx("unknown user %s: create the system users first "
		    "(make install, or sh mk/users.sh)", user);
	if (pw->pw_uid == 0)
		fatalx("user %s must not have uid 0", user);
	*gid = pw->pw_gid;
	return pw->pw_uid;
}

static void
parent_dir(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	char	 err[PATH_MAX + 128];

	if (dirs_prepare(path, uid, gid, mode, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

/* Create or fix the directories every child chroots into. */
static void
parent_dirs(struct sendgated_conf *conf)
{
	char	 err[PATH_MAX + 128];
	uid_t	 uid;
	gid_t	 gid;

	uid = parent_uid(conf->user, &gid);
	parent_dir(conf->state_dir, uid, gid, 0700);
	uid = parent_uid(conf->queue_user, &gid);
	parent_dir(conf->queue_dir, uid, gid, 0700);
	uid = parent_uid(conf->signer_user, &gid);
	parent_dir(conf->keys_dir, uid, gid, 0700);
	parent_dir(conf->empty_dir, 0, 0, 0755);
	if (dirs_check_empty(conf->empty_dir, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

/*
 * Bind the control socket: mode 0660, group ctl_group, so that the group
 * may connect and control can tell root from the rest by SO_PEERCRED.
 * An existing socket that still answers means another sendgated.
 */
static void
parent_control_socket(struct sendgated_conf *conf)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	struct group		*gr;
	char			 err[PATH_MAX + 128], dir[PATH_MAX], *slash;
	mode_t			 old;
	int			 s, probe;

	if ((gr = getgrnam(conf->ctl_group)) == NULL)
		fatalx("unknown group %s: create the system users first "
		    "(make install, or sh mk/users.sh)", conf->ctl_group);
	strlcpy(dir, conf->socket_path, sizeof(dir));
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (access(dir, F_OK) == -1)
			parent_dir(dir, 0, 0, 0755);
	}
	if (dirs_check_ancestors(conf->socket_path, err, sizeof(err)) == -1)
		fatalx("%s", err);

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, conf->socket_path, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path))
		fatalx("socket path too long: %s", conf->socket_path);

	if (lstat(conf->socket_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			fatalx("%s exists and is not a socket",
			    conf->socket_path);
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) ==
		    -1)
			fatal("socket");
		if (connect(probe, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			fatalx("another sendgated is running on %s",
			    conf->socket_path);
		close(probe);
		if (unlink(conf->socket_path) == -1)
			fatal("unlink %s", conf->socket_path);
	}
	if ((s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		fatal("socket");
	old = umask(0177);
	if (bind(s, (struct sockaddr *)&sun, sizeof(sun)) == -1)
		fatal("bind %s", conf->socket_path);
	umask(old);
	parent_socket_made = 1;
	if (chown(conf->socket_path, 0, gr->gr_gid) == -1 ||
	    chmod(conf->socket_path, 0660) == -1)
		fatal("%s", conf->socket_path);
	if (listen(s, 64) == -1)
		fatal("listen %s", conf->socket_path);
	parent_ctl_sock = s;
}

static void
parent_listeners(struct sendgated_conf *conf)
{
	struct config_listen	*l;
	int			 s, one = 1, i = 0;

	TAILQ_FOREACH(l, &conf->listeners, entry)
		parent_nlisten++;
	if ((parent_listen_fds = calloc(parent_nlisten + 1, sizeof(int))) ==
	    NULL)
		fatal("calloc");
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		s = socket(l->ss.ss_family,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s == -1)
			fatal("listen on %s port %u: socket", l->addr, l->port);
		if (setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one)) == -1)
			fatal("setsockopt SO_REUSEADDR");
		if (l->ss.ss_family == AF_INET6 && setsockopt(s, IPPROTO_IPV6,
		    IPV6_V6ONLY, &one, sizeof(one)) == -1)
			fatal("setsockopt IPV6_V6ONLY");
		if (bind(s, (struct sockaddr *)&l->ss, l->sslen) == -1)
			fatal("listen on %s port %u: bind", l->addr, l->port);
		if (listen(s, PARENT_LISTEN_BACKLOG) == -1)
			fatal("listen on %s port %u: listen", l->addr,
			    l->port);
		parent_listen_fds[i++] = s;
	}
}

/*
 * Put the channels a child needs on fds PROC_FD_BASE + peer and close
 * every other descriptor above stderr, then re-execute ourselves.
 */
static void __attribute__((noreturn))
parent_exec_child(enum proc_id self, int pairs[PROC_COUNT][PROC_COUNT],
    const struct child_opts *o)
{
	char	*argv[16];
	int	 tmp[PROC_COUNT], p, argc = 0, v;

	for (p = 0; p < PROC_COUNT; p++) {
		tmp[p] = -1;
		if (!proc_talks(self, p))
			continue;
		if ((tmp[p] = fcntl(pairs[self][p], F_DUPFD, 64)) == -1)
			_exit(1);
	}
	for (p = 0; p < PROC_COUNT; p++)
		if (tmp[p] != -1 && dup2(tmp[p], PROC_FD_BASE + p) == -1)
			_exit(1);
	closefrom(PROC_FD_BASE + PROC_COUNT);

	argv[argc++] = "sendgated";
	argv[argc++] = "-x";
	argv[argc++] = (char *)proc_name(self);
	argv[argc++] = "-f";
	argv[argc++] = (char *)o->config;
	if (o->foreground)
		argv[argc++] = "-d";
	for (v = 0; v < o->verbose && v < 2; v++)
		argv[argc++] = "-v";
	if (o->sandbox == SANDBOX_LOG)
		argv[argc++] = "-L";
	argv[argc] = NULL;
	execv("/proc/self/exe", argv);
	_exit(127);
}

static void	parent_dispatch(struct mproc *, struct imsg *);
static void	parent_channel_closed(struct mproc *, const char *);

static void
parent_spawn(const struct child_opts *o)
{
	int		 pairs[PROC_COUNT][PROC_COUNT], sv[2];
	enum proc_id	 a, b;
	pid_t		 pid;

	for (a = 0; a < PROC_COUNT; a++)
		for (b = 0; b < PROC_COUNT; b++)
			pairs[a][b] = -1;
	for (a = 0; a < PROC_COUNT; a++)
		for (b = a + 1; b < PROC_COUNT; b++) {
			if (!proc_talks(a, b))
				continue;
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
			    sv) == -1)
				fatal("socketpair");
			pairs[a][b] = sv[0];
			pairs[b][a] = sv[1];
		}

	for (a = 1; a < PROC_COUNT; a++) {
		if ((pid = fork()) == -1)
			fatal("fork");
		if (pid == 0)
			parent_exec_child(a, pairs, o);
		parent_children[a].pid = pid;
		parent_children[a].started = parent_now();
	}
	for (a = 0; a < PROC_COUNT; a++)
		for (b = 0; b < PROC_COUNT; b++)
			if (pairs[a][b] != -1 && a != PROC_PARENT)
				close(pairs[a][b]);
	for (b = 1; b < PROC_COUNT; b++)
		mproc_init(&parent_children[b].mp, pairs[PROC_PARENT][b],
		    PROC_PARENT, b, parent_dispatch, parent_channel_closed,
		    &parent_children[b]);
}

static enum proc_id
parent_child_by_pid(pid_t pid)
{
	enum proc_id	 p;

	for (p = 1; p < PROC_COUNT; p++)
		if (parent_children[p].pid == pid)
			return p;
	return PROC_PARENT;
}

static void
parent_log_exit(const char *what, enum proc_id p, int status)
{
	if (WIFSIGNALED(status))
		log_warnx("%s: %s (signal %d)", what, proc_name(p),
		    WTERMSIG(status));
	else
		log_warnx("%s: %s (exit %d)", what, proc_name(p),
		    WEXITSTATUS(status));
}

static void
parent_reaped(pid_t pid, int status)
{
	enum proc_id	 p;

	if ((p = parent_child_by_pid(pid)) == PROC_PARENT)
		return;
	parent_children[p].pid = 0;
	if (parent_stopping) {
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			parent_log_exit("child stopped", p, status);
		return;
	}
	parent_log_exit("lost child", p, status);
	parent_stop(1);
}

/*
 * Orderly shutdown: close every child's channel (a child leaves when its
 * parent's end closes; they ignore SIGTERM, so a signal to the whole
 * group cannot make one look lost), wait for them (SIGKILL after
 * PARENT_STOP_SEC), remove the control socket, exit.
 */
static void
parent_stop(int status)
{
	enum proc_id	 p;
	pid_t		 pid;
	int		 st, left, tries;

	parent_stopping = 1;
	for (p = 1; p < PROC_COUNT; p++)
		mproc_clear(&parent_children[p].mp);
	for (tries = 0; tries < PARENT_STOP_SEC * 20; tries++) {
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			parent_reaped(pid, st);
		for (left = 0, p = 1; p < PROC_COUNT; p++)
			left += parent_children[p].pid > 0;
		if (left == 0)
			break;
		usleep(50 * 1000);
	}
	for (p = 1; p < PROC_COUNT; p++) {
		if (parent_children[p].pid <= 0)
			continue;
		log_warnx("child %s did not stop, killing it", proc_name(p));
		kill(parent_children[p].pid, SIGKILL);
		if (waitpid(parent_children[p].pid, &st, 0) > 0)
			parent_children[p].pid = 0;
	}
	if (parent_socket_made && parent_conf != NULL)
		unlink(parent_conf->socket_path);
	log_info("exiting%s", status ? " after an error" : "");
	exit(status);
}

static void
parent_sigchld(int sig, short ev, void *arg)
{
	pid_t	 pid;
	int	 st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		parent_reaped(pid, st);
}

static void
parent_sigterm(int sig, short ev, void *arg)
{
	log_info("received signal %d, stopping", sig);
	parent_stop(0);
}

static void
parent_sighup(int sig, short ev, void *arg)
{
	log_info("SIGHUP ignored: restart sendgated to load a new "
	    "configuration");
}

/*
 * A child's channel broke.  If the child is exiting, wait briefly so the
 * log says how it died; either way the daemon stops.
 */
static void
parent_channel_closed(struct mproc *mp, const char *why)
{
	struct parent_child	*c = mp->arg;
	enum proc_id		 p = mp->peer;
	int			 st, i;

	mproc_clear(mp);
	if (strcmp(why, "connection closed") != 0)
		log_warnx("child %s: %s", proc_name(p), why);
	for (i = 0; i < 40 && c->pid > 0; i++) {
		if (waitpid(c->pid, &st, WNOHANG) == c->pid) {
			parent_reaped(c->pid, st);
			break;
		}
		usleep(50 * 1000);
	}
	if (!parent_stopping)
		log_warnx("lost channel to %s: %s", proc_name(p), why);
	parent_stop(1);
}

static void
parent_ready_timeout(int fd, short ev, void *arg)
{
	enum proc_id	 p;

	for (p = 1; p < PROC_COUNT; p++)
		if (!parent_children[p].ready)
			log_warnx("child %s did not start within %d seconds",
			    proc_name(p), PARENT_READY_SEC);
	parent_stop(1);
}

/* A child is confined and running: hand it its sockets. */
static void
parent_child_ready(enum proc_id p)
{
	struct msg_out	 m;
	int		 i, all = 1;

	if (parent_children[p].ready)
		fatalx("child %s: ready twice", proc_name(p));
	parent_children[p].ready = 1;
	log_debug("child %s ready (pid %ld)", proc_name(p),
	    (long)parent_children[p].pid);
	if (p == PROC_CONTROL) {
		mproc_send(&parent_children[p].mp, IMSG_PARENT_CONTROL_SOCKET,
		    0, parent_ctl_sock, NULL);
		parent_ctl_sock = -1;
	}
	if (p == PROC_SMTP) {
		for (i = 0; i < parent_nlisten; i++) {
			msg_out_init(&m);
			m_add_int(&m, i);
			mproc_send(&parent_children[p].mp, IMSG_PARENT_LISTENER,
			    0, parent_listen_fds[i], &m);
			parent_listen_fds[i] = -1;
		}
	}
	for (i = 1; i < PROC_COUNT; i++)
		all &= parent_children[i].ready;
	if (all) {
		evtimer_del(&parent_ev_ready);
		log_info("sendgated %s ready, %d listener%s", SENDGATE_VERSION,
		    parent_nlisten, parent_nlisten == 1 ? "" : "s");
	}
}

static void
parent_status(struct mproc *p, uint64_t reqid)
{
	struct msg_out	 m;
	enum proc_id	 i;
	time_t		 now = parent_now();

	msg_out_init(&m);
	m_add_u64(&m, reqid);
	m_add_u32(&m, PROC_COUNT);
	m_add_string(&m, proc_name(PROC_PARENT));
	m_add_int(&m, (int)getpid());
	m_add_i64(&m, now - parent_started);
	for (i = 1; i < PROC_COUNT; i++) {
		m_add_string(&m, proc_name(i));
		m_add_int(&m, (int)parent_children[i].pid);
		m_add_i64(&m, now - parent_children[i].started);
	}
	mproc_send(p, IMSG_PARENT_STATUS_RESULT, 0, -1, &m);
}

static void
parent_verbose(int v)
{
	struct msg_out	 m;
	enum proc_id	 p;

	log_setverbose(v);
	log_info("verbose logging %s", v ? "on" : "off");
	for (p = 1; p < PROC_COUNT; p++) {
		msg_out_init(&m);
		m_add_int(&m, v);
		mproc_send(&parent_children[p].mp, IMSG_PARENT_VERBOSE_SET, 0,
		    -1, &m);
	}
}

static void
parent_dispatch(struct mproc *p, struct imsg *im)
{
	struct msg_in	 m;
	uint64_t	 reqid;
	int		 v;

	msg_in_init(&m, im);
	switch (im->type) {
	case IMSG_CHILD_READY:
		if (m_end(&m) == -1)
			break;
		parent_child_ready(p->peer);
		return;
	case IMSG_CONTROL_STATUS_GET:
		if (m_get_u64(&m, &reqid) == -1 || m_end(&m) == -1)
			break;
		parent_status(p, reqid);
		return;
	case IMSG_CONTROL_VERBOSE_SET:
		if (m_get_int(&m, &v) == -1 || m_end(&m) == -1)
			break;
		parent_verbose(v);
		return;
	case IMSG_CONTROL_STOP:
		if (m_end(&m) == -1)
			break;
		log_info("stopping on request from sendgatectl");
		parent_stop(0);
	}
	mproc_malformed(p, im, &m);
}

static void
parent_signal(int i, int sig, void (*cb)(int, short, void *))
{
	signal_set(&parent_ev_sig[i], sig, cb, NULL);
	signal_add(&parent_ev_sig[i], NULL);
}

void
parent_main(struct sendgated_conf *conf, const struct child_opts *o)
{
	struct timeval	 tv = { PARENT_READY_SEC, 0 };

	parent_conf = conf;
	if (geteuid() != 0)
		fatalx("need root privileges");
	parent_dirs(conf);
	/* Before the listeners: a second instance should say so, not fail
	 * on an address in use. */
	parent_control_socket(conf);
	parent_listeners(conf);
	if (!o->foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		log_init(0, LOG_DAEMON);
	}

	setproctitle("%s", "parent");
	parent_started = parent_now();
	signal(SIGPIPE, SIG_IGN);
	event_init();
	parent_signal(0, SIGCHLD, parent_sigchld);
	parent_signal(1, SIGTERM, parent_sigterm);
	parent_signal(2, SIGINT, parent_sigterm);
	parent_signal(3, SIGHUP, parent_sighup);
	parent_spawn(o);
	evtimer_set(&parent_ev_ready, parent_ready_timeout, NULL);
	evtimer_add(&parent_ev_ready, &tv);
	log_info("starting, configuration %s", o->config);
	event_dispatch();
	fatalx("event loop ended");
}
