/*
 * The seccomp allow-list of the smtp process, on top of
 * sandbox_base_rules (smtpd/sandbox.c).  Measured, not guessed: see
 * SENDGATE_STRACE in regress/integration/conftest.py and README.md.
 */
#include <sys/mman.h>
#include <netinet/in.h>

#include "smtp.h"
#include "sandbox.h"

const struct sandbox_rule smtp_sandbox_rules[] = {
	/* sessions: accepting (the peer's address comes with it), TCP_NODELAY */
	SANDBOX_ALLOW(accept4),
	SANDBOX_ALLOW_IF(setsockopt, 1, SCMP_CMP_EQ, IPPROTO_TCP),
	/* libevent's buffers: scattered writes (reads are plain read) */
	SANDBOX_ALLOW(writev),
	/*
	 * Not seen in the suite (arc4random and OpenSSL seed before the
	 * filter), but OpenSSL's DRBG reseeds after a while: smtp must not
	 * die in the middle of a handshake for it.
	 */
	SANDBOX_ALLOW(getrandom),
	/*
	 * glibc's malloc gives each handshake thread an arena of its own
	 * (one shared arena made the loop and the threads queue on its
	 * lock) and grows it with mprotect: allowed when (prot & PROT_EXEC)
	 * is 0.
	 */
	SANDBOX_ALLOW_IF(mprotect, 2, SCMP_CMP_MASKED_EQ, PROT_EXEC),
	SANDBOX_END
};
