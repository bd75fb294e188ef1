/*
 * The seccomp allow-list of the lka process, on top of
 * sandbox_base_rules (smtpd/sandbox.c).  Measured, not guessed: see
 * SENDGATE_STRACE in regress/integration/conftest.py and README.md.
 */
#include "lka.h"
#include "sandbox.h"

const struct sandbox_rule lka_sandbox_rules[] = {
	/* SQLite: the database, its WAL and shared-memory files */
	SANDBOX_ALLOW(openat),
	SANDBOX_ALLOW(newfstatat),
	SANDBOX_ALLOW(fstat),
	SANDBOX_ALLOW(pread64),
	SANDBOX_ALLOW(pwrite64),
	SANDBOX_ALLOW(ftruncate),
	SANDBOX_ALLOW(fdatasync),
	SANDBOX_ALLOW(fsync),		/* the directory, after a new file */
	SANDBOX_ALLOW(unlink),
	SANDBOX_ALLOW(geteuid),
	SANDBOX_ALLOW(access),		/* does a -wal file exist */
	/* passwords, salts and verification tokens */
	SANDBOX_ALLOW(getrandom),
	SANDBOX_END
};
