/*
 * The mta process: outbound SMTP to MX hosts or a smarthost.
 * Start-up (confinement), imsg dispatch, shutdown.  The work is in
 * mta_task.c (tasks, routes) and mta_conn.c (connections).
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <ifaddrs.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "mta.h"
#include "mta_local.h"

#define MTA_FD_MARGIN	64	/* imsg channels, log, libevent, spare */

static struct mta_self	 mta_self;

static void
mta_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im))
		return;
	switch (im->type) {
	case IMSG_QUEUE_TASK_MESSAGE:
		mta_task_message(p, im);
		return;
	case IMSG_QUEUE_TASK_RCPT:
		mta_task_rcpt(p, im);
		return;
	case IMSG_LKA_DKIM_KEYS:
		mta_dkim_keys(p, im);
		return;
	case IMSG_SIGNER_DKIM_SIGNATURE:
		mta_dkim_signature(p, im);
		return;
	case IMSG_LKA_MX_RESULT:
		mta_task_mx_result(p, im);
		return;
	}
	mproc_malformed(p, im, NULL);
}

/*
 * What "myself" is for loop detection: the listeners, and the local
 * interface addresses a wildcard listener stands for.  getifaddrs()
 * needs a netlink socket: before the sandbox only.
 */
static void
mta_self_init(const struct sendgated_conf *conf)
{
	const struct config_listen	*l;
	struct ifaddrs			*ifa, *i;

	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (mta_self.nlisten == MTA_SELF_LISTEN_MAX)
			break;
		mta_self.listen[mta_self.nlisten++] = l->ss;
	}
	if (getifaddrs(&ifa) == -1) {
		log_warn("mta: getifaddrs");
		return;
	}
	for (i = ifa; i != NULL && mta_self.nlocal < MTA_SELF_LOCAL_MAX;
	    i = i->ifa_next) {
		if (i->ifa_addr == NULL || (i->ifa_addr->sa_family != AF_INET &&
		    i->ifa_addr->sa_family != AF_INET6))
			continue;
		memset(&mta_self.local[mta_self.nlocal], 0,
		    sizeof(mta_self.local[0]));
		memcpy(&mta_self.local[mta_self.nlocal], i->ifa_addr,
		    i->ifa_addr->sa_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
		mta_self.nlocal++;
	}
	freeifaddrs(ifa);
}

/*
 * Queue keeps up to MTA_TASKS_MAX tasks here, each with its message
 * fd, besides the connections: the default 1024 would not do.
 */
static void
mta_nofile(const struct sendgated_conf *conf)
{
	struct rlimit	rl;

	rl.rlim_cur = rl.rlim_max = MTA_TASKS_MAX + conf->mta_concurrency +
	    MTA_FD_MARGIN;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
		fatal("mta: setrlimit nofile");
}

void
mta_main(struct sendgated_conf *conf, const struct child_opts *o)
{
	struct sandbox_spec	 spec = {
		.name = "mta",
		.root = conf->empty_dir,
		.user = conf->user,
		.nowrite = 1,
		.rules = mta_sandbox_rules,
	};

	setproctitle("%s", "mta");
	child_setup(o, mta_dispatch);
	mta_self_init(conf);
	mta_nofile(conf);
	mta_conn_tls_init(conf);
	mta_task_init(conf, &mta_self);
	mta_dkim_init(conf);
	sandbox_enter(&spec, o->sandbox);
	child_ready();
	child_run();
}
