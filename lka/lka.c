/*
 * The lka process: the state database, DNS, credentials, policy and domain checks.
 * Start-up (confinement), imsg dispatch, shutdown.
 */
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "lka.h"

static void
lka_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im))
		return;
	mproc_malformed(p, im, NULL);
}

void
lka_main(struct sendgated_conf *conf, const struct child_opts *o)
{
	struct sandbox_spec	 spec = {
		.name = "lka",
		.root = conf->state_dir,
		.user = conf->user,
		.nowrite = 0,
		.rules = lka_sandbox_rules,
	};

	setproctitle("%s", "lka");
	child_setup(o, lka_dispatch);
	sandbox_enter(&spec, o->sandbox);
	child_ready();
	child_run();
}
