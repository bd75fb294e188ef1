/*
 * The seccomp allow-list of the smtp process, on top of
 * sandbox_base_rules (smtpd/sandbox.c).  Measured, not guessed: see
 * SENDGATE_STRACE in regress/integration/conftest.py and README.md.
 */
#include <sys/ioctl.h>

#include "smtp.h"
#include "sandbox.h"

const struct sandbox_rule smtp_sandbox_rules[] = {
	/* sessions: accepting, TCP_NODELAY, the peer's address */
	SANDBOX_ALLOW(accept4),
	SANDBOX_ALLOW(setsockopt),
	SANDBOX_ALLOW(getsockname),
	SANDBOX_ALLOW(getpeername),
	SANDBOX_ALLOW(shutdown),
	/* libevent's buffers: how much to read, scattered reads and writes */
	SANDBOX_ALLOW_IF(ioctl, 1, SCMP_CMP_EQ, FIONREAD),
	SANDBOX_ALLOW(readv),
	SANDBOX_ALLOW(writev),
	/* queue ids in Message-ID, AUTH delays; OpenSSL's DRBG */
	SANDBOX_ALLOW(getrandom),
	SANDBOX_END
};
