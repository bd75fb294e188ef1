/*
 * Child confinement (see sandbox.h).  Any failure is fatal: a child that
 * cannot confine itself must not run, and its exit stops the daemon.
 */
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "sandbox.h"

/*
 * What every process needs, measured with strace over the integration
 * suite (SENDGATE_STRACE=1, see regress/integration/conftest.py):
 * the libevent loop (epoll, its signal pipe), imsg over the socketpairs
 * (recvmsg/sendmsg with SCM_RIGHTS), log lines (write to stderr, sendto on
 * the syslog socket connected before chroot) and exit.  The rest is what
 * malloc and the vDSO fall back to under load: brk/mmap/munmap/mremap/
 * madvise, futex, clock_gettime/gettimeofday.
 */
const struct sandbox_rule sandbox_base_rules[] = {
	SANDBOX_ALLOW(read),
	SANDBOX_ALLOW(write),
	SANDBOX_ALLOW(recvmsg),
	SANDBOX_ALLOW(sendmsg),
	SANDBOX_ALLOW(sendto),
	SANDBOX_ALLOW(epoll_wait),
	SANDBOX_ALLOW(epoll_pwait),
	SANDBOX_ALLOW(epoll_ctl),
	SANDBOX_ALLOW(close),
	SANDBOX_ALLOW(fcntl),
	SANDBOX_ALLOW(getpid),
	SANDBOX_ALLOW(clock_gettime),
	SANDBOX_ALLOW(gettimeofday),
	SANDBOX_ALLOW(brk),
	SANDBOX_ALLOW(mmap),
	SANDBOX_ALLOW(munmap),
	SANDBOX_ALLOW(mremap),
	SANDBOX_ALLOW(madvise),
	SANDBOX_ALLOW(futex),
	SANDBOX_ALLOW(rt_sigreturn),
	SANDBOX_ALLOW(restart_syscall),
	SANDBOX_ALLOW(exit),
	SANDBOX_ALLOW(exit_group),
	SANDBOX_END
};

static int
sandbox_add(scmp_filter_ctx ctx, const struct sandbox_rule *r)
{
	struct scmp_arg_cmp	 cmp;

	for (; r->name != NULL; r++) {
		if (r->argn < 0) {
			if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 0) < 0)
				return -1;
			continue;
		}
		memset(&cmp, 0, sizeof(cmp));
		cmp.arg = (unsigned int)r->argn;
		cmp.op = r->op;
		cmp.datum_a = r->value;
		if (seccomp_rule_add(ctx, SCMP_ACT_ALLOW, r->nr, 1, cmp) < 0)
			return -1;
	}
	return 0;
}

/*
 * Build and load the filter: the base rules plus the process's own.
 * A syscall of another architecture (i386 through int 0x80, x32) is not
 * in the filter's architecture list and kills the process too.
 */
int
sandbox_filter_load(const struct sandbox_rule *rules, enum sandbox_mode mode)
{
	scmp_filter_ctx	 ctx;
	uint32_t	 dflt;
	int		 rc = -1;

	dflt = mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS;
	if ((ctx = seccomp_init(dflt)) == NULL)
		return -1;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
	    SCMP_ACT_KILL_PROCESS) < 0)
		goto done;
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 1) < 0)
		goto done;
	/* Onto every thread (smtp's handshake threads), or not at all. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0)
		goto done;
	if (sandbox_add(ctx, sandbox_base_rules) == -1 ||
	    sandbox_add(ctx, rules) == -1)
		goto done;
	if (seccomp_load(ctx) < 0)
		goto done;
	rc = 0;
done:
	seccomp_release(ctx);
	return rc;
}

static void
sandbox_limit(int resource, rlim_t value, const char *what)
{
	struct rlimit	 rl;

	rl.rlim_cur = rl.rlim_max = value;
	if (setrlimit(resource, &rl) == -1)
		fatal("sandbox: setrlimit %s", what);
}

void
sandbox_enter(const struct sandbox_spec *s, enum sandbox_mode mode)
{
	struct passwd	*pw;
	uid_t		 ruid, euid, suid;
	gid_t		 rgid, egid, sgid, groups[2];
	uid_t		 uid;
	gid_t		 gid;
	pid_t		 ppid = getppid();
	struct stat	 st;

	if ((pw = getpwnam(s->user)) == NULL)
		fatalx("sandbox: %s: unknown user %s", s->name, s->user);
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (uid == 0)
		fatalx("sandbox: %s: user %s has uid 0", s->name, s->user);

	sandbox_limit(RLIMIT_CORE, 0, "core");
	sandbox_limit(RLIMIT_NPROC, 0, "nproc");
	/*
	 * A process that never writes files gets RLIMIT_FSIZE 0, unless its
	 * stderr is a regular file (sendgated -d 2>file): the limit would
	 * turn its own log lines into SIGXFSZ.
	 */
	if (s->nowrite && (fstat(STDERR_FILENO, &st) == -1 ||
	    !S_ISREG(st.st_mode)))
		sandbox_limit(RLIMIT_FSIZE, 0, "fsize");

	if (chroot(s->root) == -1)
		fatal("sandbox: %s: chroot %s", s->name, s->root);
	if (chdir("/") == -1)
		fatal("sandbox: %s: chdir /", s->name);

	if (setgroups(1, &gid) == -1)
		fatal("sandbox: %s: setgroups", s->name);
	if (setresgid(gid, gid, gid) == -1)
		fatal("sandbox: %s: setresgid", s->name);
	if (setresuid(uid, uid, uid) == -1)
		fatal("sandbox: %s: setresuid", s->name);

	/* Verify the drop rather than trust it. */
	if (getresuid(&ruid, &euid, &suid) == -1 || ruid != uid ||
	    euid != uid || suid != uid)
		fatalx("sandbox: %s: uid drop did not take", s->name);
	if (getresgid(&rgid, &egid, &sgid) == -1 || rgid != gid ||
	    egid != gid || sgid != gid)
		fatalx("sandbox: %s: gid drop did not take", s->name);
	if (getgroups(2, groups) != 1 || groups[0] != gid)
		fatalx("sandbox: %s: supplementary groups remain", s->name);
	if (setuid(0) != -1 || seteuid(0) != -1)
		fatalx("sandbox: %s: could regain root", s->name);

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		fatal("sandbox: %s: PR_SET_DUMPABLE", s->name);
	/*
	 * The parent-death signal is reset by the uid change: set it now.
	 * SIGKILL: children ignore SIGTERM (only the parent stops them), and
	 * a child must not outlive its parent.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == -1)
		fatal("sandbox: %s: PR_SET_PDEATHSIG", s->name);
	if (getppid() != ppid)
		fatalx("sandbox: %s: parent is gone", s->name);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("sandbox: %s: PR_SET_NO_NEW_PRIVS", s->name);
	if (sandbox_filter_load(s->rules, mode) == -1)
		fatalx("sandbox: %s: cannot load the seccomp filter", s->name);
	if (mode == SANDBOX_LOG)
		log_warnx("sandbox: %s: seccomp in LOG mode (development only)",
		    s->name);
}
