/*
 * The seccomp allow-list of the queue process, on top of
 * sandbox_base_rules (smtpd/sandbox.c).  Measured, not guessed: see
 * SENDGATE_STRACE in regress/integration/conftest.py and README.md.
 */
#include "queue.h"
#include "sandbox.h"

const struct sandbox_rule queue_sandbox_rules[] = {
	/* nothing beyond the event loop and imsg yet */
	SANDBOX_END
};
