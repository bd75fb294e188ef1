/*
 * The queue process: durable storage of messages and the delivery scheduler.
 * Start-up (confinement), imsg dispatch, shutdown.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "queue.h"
#include "queue_mta.h"
#include "queue_store.h"

static void
queue_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im) || queue_smtp_imsg(p, im) ||
	    queue_mta_imsg(p, im))
		return;
	switch (im->type) {
	case IMSG_CONTROL_COMMAND:
		queue_ctl_command(p, im);
		return;
	}
	mproc_malformed(p, im, NULL);
}

void
queue_main(struct sendgated_conf *conf, const struct child_opts *o)
{
	struct sandbox_spec	 spec = {
		.name = "queue",
		.root = conf->queue_dir,
		.user = conf->queue_user,
		.nowrite = 0,
		.rules = queue_sandbox_rules,
	};
	int			 dirfd;

	setproctitle("%s", "queue");
	child_setup(o, queue_dispatch);
	sandbox_enter(&spec, o->sandbox);
	/*
	 * Inside the chroot, as the queue user: the spool is the root
	 * directory, and recovery runs before smtp can hand us anything.
	 */
	if ((dirfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		fatal("queue: open spool");
	if (queue_store_open(dirfd) == -1)
		fatal("queue: cannot open the spool %s", conf->queue_dir);
	close(dirfd);
	queue_smtp_init();
	queue_mta_init(conf);
	child_ready();
	child_run();
}
