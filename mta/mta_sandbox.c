/*
 * The seccomp allow-list of the mta process, on top of
 * sandbox_base_rules (smtpd/sandbox.c).  Measured, not guessed: see
 * SENDGATE_STRACE in regress/integration/conftest.py and README.md.
 */
#include "mta.h"
#include "sandbox.h"

const struct sandbox_rule mta_sandbox_rules[] = {
	/* nothing beyond the event loop and imsg yet */
	SANDBOX_END
};
