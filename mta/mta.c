/*
 * The mta process: outbound SMTP to MX hosts and DKIM hashing.
 * Start-up (confinement), imsg dispatch, shutdown.
 */
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "mta.h"

static void
mta_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im))
		return;
	mproc_malformed(p, im, NULL);
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
	sandbox_enter(&spec, o->sandbox);
	child_ready();
	child_run();
}
