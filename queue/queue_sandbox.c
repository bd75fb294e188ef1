/*
 * The seccomp allow-list of the queue process, on top of
 * sandbox_base_rules (smtpd/sandbox.c).  Measured, not guessed: see
 * SENDGATE_STRACE in regress/integration/conftest.py and README.md.
 */
#include "queue.h"
#include "sandbox.h"

const struct sandbox_rule queue_sandbox_rules[] = {
	/* the spool (queue_store.c): files and directories by *at() */
	SANDBOX_ALLOW(openat),
	SANDBOX_ALLOW(fstat),
	SANDBOX_ALLOW(newfstatat),
	SANDBOX_ALLOW(mkdirat),
	SANDBOX_ALLOW(unlinkat),
	SANDBOX_ALLOW(renameat),
	SANDBOX_ALLOW(renameat2),
	SANDBOX_ALLOW(fsync),
	/* a new message's envelope: an attribute of its body file */
	SANDBOX_ALLOW(fsetxattr),
	SANDBOX_ALLOW(fgetxattr),
	SANDBOX_ALLOW(fremovexattr),
	/* one sync of the queue's file system per batch of commits */
	SANDBOX_ALLOW(syncfs),
	/* readdir: getdents64, and lseek when a directory is reread */
	SANDBOX_ALLOW(getdents64),
	SANDBOX_ALLOW(lseek),
	/* the free-space reserve: fstatvfs */
	SANDBOX_ALLOW(fstatfs),
	/* the original message quoted in a delivery status notification */
	SANDBOX_ALLOW(pread64),
	/* queue ids: arc4random */
	SANDBOX_ALLOW(getrandom),
	SANDBOX_END
};
