/*
 * The seccomp allow-list of the control process, on top of
 * sandbox_base_rules (smtpd/sandbox.c).  Measured, not guessed: see
 * SENDGATE_STRACE in regress/integration/conftest.py and README.md.
 */
#include <sys/socket.h>

#include "control.h"
#include "sandbox.h"

const struct sandbox_rule control_sandbox_rules[] = {
	/* sendgatectl connections and their peer credentials */
	SANDBOX_ALLOW(accept4),
	SANDBOX_ALLOW_IF(getsockopt, 2, SCMP_CMP_EQ, SO_PEERCRED),
	SANDBOX_END
};
