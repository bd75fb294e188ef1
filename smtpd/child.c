/*
 * Child process runtime (see child.h).
 */
#include <event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "proto.h"

static struct mproc	 child_peers[PROC_COUNT];
static int		 child_connected[PROC_COUNT];
static struct event_base	*child_evbase;
static enum proc_id	 child_self;
static struct event	 child_ev_linger;
static char		 child_linger_msg[320];
static void		(*child_exit_hook)(void);

#define CHILD_LINGER_SEC	5

static void
child_linger_done(int fd, short ev, void *arg)
{
	fatalx("%s", (const char *)arg);
}

/*
 * A channel broke.  The parent closing its end is how it stops us (or it
 * died): leave quietly.  A malformed message stops this process at once:
 * the parent sees the exit and stops the daemon.  A sibling that closed
 * its end has died; the parent will report that death and close our
 * channel, so wait a moment rather than race it and blur which process
 * failed first.
 */
static void
child_channel_closed(struct mproc *p, const char *why)
{
	struct timeval	 tv = { CHILD_LINGER_SEC, 0 };
	int		 closed = strcmp(why, "connection closed") == 0;

	if (p->peer == PROC_PARENT && closed) {
		log_debug("exiting: the parent closed its channel");
		if (child_exit_hook != NULL)
			child_exit_hook();
		exit(0);
	}
	snprintf(child_linger_msg, sizeof(child_linger_msg),
	    "channel to %s: %s", proc_name(p->peer), why);
	if (p->peer == PROC_PARENT || !closed) {
		/*
		 * Still save what must outlive us (a sibling that stopped
		 * first breaks our writes to it during a normal stop too).
		 */
		if (child_exit_hook != NULL) {
			void	(*hook)(void) = child_exit_hook;

			child_exit_hook = NULL;
			hook();
		}
		fatalx("%s", child_linger_msg);
	}
	log_debug("%s", child_linger_msg);
	mproc_clear(p);
	if (!evtimer_pending(&child_ev_linger, NULL))
		evtimer_add(&child_ev_linger, &tv);
}

/* What to do before an orderly exit (one hook: lka's rate counters). */
void
child_on_exit(void (*hook)(void))
{
	child_exit_hook = hook;
}

/*
 * Set up the event base, the channels on their fixed fds and the signal
 * handlers.  Runs before the sandbox: libevent creates its epoll instance
 * and signal socketpair here.
 */
void
child_setup(const struct child_opts *o, mproc_handler handler)
{
	int	 p;

	child_self = o->self;
	child_evbase = event_init();
	evtimer_set(&child_ev_linger, child_linger_done, child_linger_msg);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	/*
	 * Ctrl-C in a terminal, `pkill sendgated` or a SIGTERM to the whole
	 * process group reach every process: the parent alone decides, and
	 * stops the children in order by closing their channels.
	 */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);

	for (p = 0; p < PROC_COUNT; p++) {
		if (!proc_talks(o->self, p))
			continue;
		mproc_init(&child_peers[p], PROC_FD_BASE + p, o->self, p,
		    handler, child_channel_closed, NULL);
		child_connected[p] = 1;
	}
}

struct event_base *
child_base(void)
{
	return child_evbase;
}

struct mproc *
child_peer(enum proc_id p)
{
	if ((unsigned int)p >= PROC_COUNT || !child_connected[p])
		fatalx("no channel from %s to %s", proc_name(child_self),
		    proc_name(p));
	return &child_peers[p];
}

void
child_ready(void)
{
	mproc_send(child_peer(PROC_PARENT), IMSG_CHILD_READY, 0, -1, NULL);
}

void
child_run(void)
{
	event_dispatch();
	fatalx("event loop ended");
}

/*
 * Messages every child handles the same way.  Returns 1 when im was one
 * of them.
 */
int
child_imsg(struct mproc *p, struct imsg *im)
{
	struct msg_in	 m;
	int		 v;

	switch (im->type) {
	case IMSG_PARENT_VERBOSE_SET:
		msg_in_init(&m, im);
		if (m_get_int(&m, &v) == -1 || m_end(&m) == -1) {
			mproc_malformed(p, im, &m);
			return 1;
		}
		log_setverbose(v);
		log_debug("verbose logging %s", v ? "on" : "off");
		return 1;
	}
	return 0;
}
