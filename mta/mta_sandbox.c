/*
 * The seccomp allow-list of the mta process, on top of
 * sandbox_base_rules (smtpd/sandbox.c).  Measured, not guessed: see
 * SENDGATE_STRACE in regress/integration/conftest.py and README.md.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include "mta.h"
#include "sandbox.h"

const struct sandbox_rule mta_sandbox_rules[] = {
	/* outbound TCP to the MX hosts or the smarthost, never a Unix
	 * socket */
	SANDBOX_ALLOW_IF(socket, 0, SCMP_CMP_EQ, AF_INET),
	SANDBOX_ALLOW_IF(socket, 0, SCMP_CMP_EQ, AF_INET6),
	SANDBOX_ALLOW(connect),
	/* the outcome of a non-blocking connect */
	SANDBOX_ALLOW_IF(getsockopt, 2, SCMP_CMP_EQ, SO_ERROR),
	/* TCP_NODELAY, for pipelined commands */
	SANDBOX_ALLOW_IF(setsockopt, 1, SCMP_CMP_EQ, IPPROTO_TCP),
	/* the message, through the fd queue passed, from offset 0 */
	SANDBOX_ALLOW(pread64),
	/*
	 * OpenSSL's DRBG reseeds after a while (arc4random and the first
	 * seeding happen before the filter): a handshake must not kill.
	 */
	SANDBOX_ALLOW(getrandom),
	SANDBOX_END
};
