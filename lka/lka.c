/*
 * The lka process: the state database, DNS, credentials, policy and
 * domain checks.  Start-up (confinement), imsg dispatch, shutdown.
 */
#include <unistd.h>

#include <openssl/crypto.h>

#include "checks.h"
#include "child.h"
#include "config.h"
#include "dns_resolver.h"
#include "lka.h"
#include "lka_rate.h"
#include "log.h"
#include "proto.h"
#include "state.h"

static void
lka_dispatch(struct mproc *p, struct imsg *im)
{
	if (child_imsg(p, im) || lka_smtp_imsg(p, im))
		return;
	switch (im->type) {
	case IMSG_CONTROL_COMMAND:
		lka_ctl_command(p, im);
		return;
	case IMSG_SIGNER_DKIM_KEY:
		lka_domain_dkim_key(p, im);
		return;
	case IMSG_MTA_MX_LOOKUP:
		lka_mx_lookup(p, im);
		return;
	case IMSG_MTA_DKIM_LOOKUP:
		lka_dkim_lookup(p, im);
		return;
	}
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
	char			 err[512];

	setproctitle("%s", "lka");
	/* libcrypto reads its configuration once, before the chroot. */
	if (!OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CONFIG, NULL))
		fatalx("cannot initialize libcrypto");
	child_setup(o, lka_dispatch);
	/* resolv.conf can only be read before the chroot. */
	if (dns_init(conf, child_base(), err, sizeof(err)) == -1)
		fatalx("%s", err);
	sandbox_enter(&spec, o->sandbox);
	/*
	 * Opened inside the chroot, as our own user: the database, its WAL
	 * and shared-memory files all live in the state directory.
	 */
	if (state_open("/" STATE_DB_FILE, err, sizeof(err)) == -1)
		fatalx("%s", err);
	lka_ctl_init(conf);
	lka_domain_init(conf);
	lka_rotate_init(conf);
	checks_init(conf);
	lka_mx_init();
	lka_smtp_init(conf);
	lka_rate_init(conf);
	lka_dkim_init(conf);
	child_ready();
	child_run();
}
