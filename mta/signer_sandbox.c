/*
 * The seccomp allow-list of the signer process, on top of
 * sandbox_base_rules (smtpd/sandbox.c).  Measured, not guessed: see
 * SENDGATE_STRACE in regress/integration/conftest.py and README.md.
 * regress/unit/test_signer.c signs, deletes and makes keys under this
 * very filter.
 */
#include "signer.h"
#include "sandbox.h"

const struct sandbox_rule signer_sandbox_rules[] = {
	/* private key files in the key directory (its chroot), written
	 * atomically: temporary file, fsync, rename without replacing;
	 * loaded for signing with openat, fstat (newfstatat) and read;
	 * newfstatat also tells a cached key whose file changed or went */
	SANDBOX_ALLOW(openat),
	SANDBOX_ALLOW(newfstatat),
	SANDBOX_ALLOW(fsync),
	SANDBOX_ALLOW(renameat2),
	SANDBOX_ALLOW(unlinkat),
	/* key generation, and RSA blinding when signing: the first RSA
	 * signature seeds libcrypto's DRBG if no key was made before */
	SANDBOX_ALLOW(getrandom),
	SANDBOX_END
};
