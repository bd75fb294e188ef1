/*
 * Confinement of a child process: resource limits, chroot, privilege drop,
 * no-new-privs and a seccomp filter, in that order (SECURITY.md section 4).
 *
 * Each process keeps its seccomp allow-list as one table in its own
 * <proc>_sandbox.c file; sandbox_base_rules (the event loop and imsg) is
 * added to every table.  The allow-lists were measured with strace over
 * the integration suite, not guessed.
 */
#ifndef SENDGATE_SANDBOX_H
#define SENDGATE_SANDBOX_H

#include <stddef.h>
#include <stdint.h>

#include <seccomp.h>

struct sandbox_rule {
	const char	*name;
	int		 nr;
	int		 argn;		/* -1: any arguments */
	enum scmp_compare op;
	uint64_t	 value;
};

#define SANDBOX_ALLOW(sys)	{ #sys, SCMP_SYS(sys), -1, SCMP_CMP_EQ, 0 }
/* Allowed only when argument argn compares to value with op. */
#define SANDBOX_ALLOW_IF(sys, argn, op, value) \
	{ #sys, SCMP_SYS(sys), (argn), (op), (value) }
#define SANDBOX_END		{ NULL, 0, -1, SCMP_CMP_EQ, 0 }

enum sandbox_mode {
	SANDBOX_ENFORCE,	/* unlisted syscall: the process is killed */
	SANDBOX_LOG		/* development only: allowed and logged */
};

struct sandbox_spec {
	const char			*name;	/* process name */
	const char			*root;	/* chroot directory */
	const char			*user;	/* user to become */
	int				 nowrite; /* RLIMIT_FSIZE 0 */
	const struct sandbox_rule	*rules;
};

extern const struct sandbox_rule sandbox_base_rules[];

void	sandbox_enter(const struct sandbox_spec *, enum sandbox_mode);
int	sandbox_filter_load(const struct sandbox_rule *, enum sandbox_mode);

#endif
