/*
 * The seccomp allow-list of the lka process, on top of
 * sandbox_base_rules (smtpd/sandbox.c).  Measured, not guessed: see
 * SENDGATE_STRACE in regress/integration/conftest.py and README.md.
 */
#include <sys/socket.h>

#include "lka.h"
#include "sandbox.h"

const struct sandbox_rule lka_sandbox_rules[] = {
	/* SQLite: the database, its WAL and shared-memory files */
	SANDBOX_ALLOW(openat),
	SANDBOX_ALLOW(newfstatat),
	SANDBOX_ALLOW(pread64),
	SANDBOX_ALLOW(pwrite64),
	SANDBOX_ALLOW(ftruncate),
	SANDBOX_ALLOW(fdatasync),
	SANDBOX_ALLOW(unlink),
	SANDBOX_ALLOW(geteuid),
	/*
	 * Not seen in the integration suite, but SQLite's recovery paths
	 * make them (fsync of the directory after creating a journal,
	 * access() for a hot journal); lka must not die in a recovery.
	 */
	SANDBOX_ALLOW(fsync),
	SANDBOX_ALLOW(access),
	/* passwords, salts and verification tokens; DNS query ids */
	SANDBOX_ALLOW(getrandom),
	/* libunbound: UDP (and TCP for truncated answers) to the
	 * resolvers, from random source ports; never a Unix socket */
	SANDBOX_ALLOW_IF(socket, 0, SCMP_CMP_EQ, AF_INET),
	SANDBOX_ALLOW_IF(socket, 0, SCMP_CMP_EQ, AF_INET6),
	SANDBOX_ALLOW(bind),
	SANDBOX_ALLOW(connect),
	SANDBOX_ALLOW(setsockopt),
	/* TCP for a truncated answer: the connect's outcome, the query
	 * with its length prefix */
	SANDBOX_ALLOW_IF(getsockopt, 2, SCMP_CMP_EQ, SO_ERROR),
	SANDBOX_ALLOW(writev),
	SANDBOX_ALLOW(recvfrom),
	SANDBOX_END
};
