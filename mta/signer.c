/*
 * The signer process: the only holder of DKIM private keys; generates keys and signs digests for mta.
 * Start-up (confinement), imsg dispatch, shutdown.
 */
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "log.h"
#include "proto.h"
#include "signer.h"

static void
signer_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im))
		return;
	mproc_malformed(p, im, NULL);
}

void
signer_main(struct sendgated_conf *conf, const struct child_opts *o)
{
	struct sandbox_spec	 spec = {
		.name = "signer",
		.root = conf->keys_dir,
		.user = conf->signer_user,
		.nowrite = 0,
		.rules = signer_sandbox_rules,
	};

	setproctitle("%s", "signer");
	child_setup(o, signer_dispatch);
	sandbox_enter(&spec, o->sandbox);
	child_ready();
	child_run();
}
