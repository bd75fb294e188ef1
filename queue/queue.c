/*
 * The queue process: durable storage of messages and the delivery scheduler.
 * Start-up (confinement), imsg dispatch, shutdown.
 */
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "queue.h"

static void
queue_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im))
		return;
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

	setproctitle("%s", "queue");
	child_setup(o, queue_dispatch);
	sandbox_enter(&spec, o->sandbox);
	child_ready();
	child_run();
}
