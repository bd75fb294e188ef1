/*
 * The seccomp allow-list of the signer process, on top of
 * sandbox_base_rules (smtpd/sandbox.c).  Measured, not guessed: see
 * SENDGATE_STRACE in regress/integration/conftest.py and README.md.
 */
#include "signer.h"
#include "sandbox.h"

const struct sandbox_rule signer_sandbox_rules[] = {
	/* private key files in the key directory (its chroot), written
	 * atomically: temporary file, fsync, rename without replacing */
	SANDBOX_ALLOW(openat),
	SANDBOX_ALLOW(newfstatat),
	SANDBOX_ALLOW(fsync),
	SANDBOX_ALLOW(renameat2),
	SANDBOX_ALLOW(unlinkat),
	/* key generation */
	SANDBOX_ALLOW(getrandom),
	SANDBOX_END
};
