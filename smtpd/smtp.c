/*
 * The smtp process: SMTP submission sessions.
 * Start-up (confinement), imsg dispatch, shutdown.
 *
 * The parent binds the listening sockets and passes them here once the
 * sandbox is in place; smtp never binds or regains privileges.
 */
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "smtp.h"

struct smtp_listener {
	int			 fd;
	struct config_listen	*conf;
};

static struct sendgated_conf	*smtp_conf;
static struct smtp_listener	 smtp_listeners[SMTP_LISTENERS_MAX];
static int			 smtp_nlisteners;

static struct config_listen *
smtp_listen_conf(int idx)
{
	struct config_listen	*l;
	int			 i = 0;

	TAILQ_FOREACH(l, &smtp_conf->listeners, entry)
		if (i++ == idx)
			return l;
	return NULL;
}

static void
smtp_listener_add(struct mproc *p, struct imsg *im)
{
	struct msg_in		 m;
	struct config_listen	*l;
	int			 idx;

	msg_in_init(&m, im);
	if (m_get_int(&m, &idx) == -1 || m_end(&m) == -1 ||
	    (l = smtp_listen_conf(idx)) == NULL ||
	    smtp_nlisteners == SMTP_LISTENERS_MAX) {
		close(im->fd);
		mproc_malformed(p, im, &m);
		return;
	}
	smtp_listeners[smtp_nlisteners].fd = im->fd;
	smtp_listeners[smtp_nlisteners].conf = l;
	smtp_nlisteners++;
	/*
	 * Sessions arrive with the SMTP issue; until then the socket is held
	 * open so the port stays ours.
	 */
	log_info("listener %s port %u (%s) ready", l->addr, l->port,
	    l->mode == LISTEN_SMTPS ? "smtps" : "tls");
}

static void
smtp_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im))
		return;
	switch (im->type) {
	case IMSG_PARENT_LISTENER:
		smtp_listener_add(p, im);
		return;
	}
	mproc_malformed(p, im, NULL);
}

void
smtp_main(struct sendgated_conf *conf, const struct child_opts *o)
{
	struct sandbox_spec	 spec = {
		.name = "smtp",
		.root = conf->empty_dir,
		.user = conf->user,
		.nowrite = 0,
		.rules = smtp_sandbox_rules,
	};

	smtp_conf = conf;
	setproctitle("%s", "smtp");
	child_setup(o, smtp_dispatch);
	sandbox_enter(&spec, o->sandbox);
	child_ready();
	child_run();
}
