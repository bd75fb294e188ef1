/*
 * Sandbox death tests: for each process, a forked child loads the very
 * filter table the daemon uses and then makes one call.  Forbidden calls
 * must kill it with SIGSYS; allowed calls must work.
 */
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"

#include "control.h"
#include "lka.h"
#include "mta.h"
#include "queue.h"
#include "sandbox.h"
#include "signer.h"
#include "smtp.h"

struct proc_table {
	const char			*name;
	const struct sandbox_rule	*rules;
};

static const struct proc_table tables[] = {
	{ "smtp", smtp_sandbox_rules },
	{ "lka", lka_sandbox_rules },
	{ "queue", queue_sandbox_rules },
	{ "mta", mta_sandbox_rules },
	{ "signer", signer_sandbox_rules },
	{ "control", control_sandbox_rules },
};

typedef int	(*probe_fn)(void);

static int
probe_execve(void)
{
	char	*argv[] = { "true", NULL };

	return execve("/bin/true", argv, NULL);
}

static int
probe_ptrace(void)
{
	return (int)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
}

static int
probe_socket_unix(void)
{
	return socket(AF_UNIX, SOCK_STREAM, 0);
}

static int
probe_fork(void)
{
	return (int)syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
}

static int
probe_setuid(void)
{
	return (int)syscall(SYS_setuid, 0);
}

static int
probe_chroot(void)
{
	return (int)syscall(SYS_chroot, "/");
}

/* getpid through the i386 entry point: another architecture. */
static int
probe_i386(void)
{
	long	 ret;

	__asm__ volatile ("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return (int)ret;
}

/* What every process needs: imsg-style I/O, memory, time, getpid. */
static int
probe_allowed(void)
{
	struct timespec	 ts;
	char		 c = 'x';
	int		 fds[2];
	void		*p;

	/* The pipe is made before the filter (see run_probe). */
	fds[0] = 100;
	fds[1] = 101;
	if (write(fds[1], &c, 1) != 1 || read(fds[0], &c, 1) != 1)
		return -1;
	if ((p = mmap(NULL, 65536, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED)
		return -1;
	memset(p, 1, 65536);
	if (munmap(p, 65536) == -1)
		return -1;
	if (syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) == -1)
		return -1;
	if (syscall(SYS_getpid) <= 0)
		return -1;
	close(fds[0]);
	return 0;
}

/* Fork, load the table's filter, run the probe; return the wait status. */
static int
run_probe(const struct proc_table *t, probe_fn probe)
{
	pid_t	 pid;
	int	 status, fds[2];

	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if (pipe(fds) == -1 || dup2(fds[0], 100) == -1 ||
		    dup2(fds[1], 101) == -1)
			_exit(3);
		if (sandbox_filter_load(t->rules, SANDBOX_ENFORCE) == -1)
			_exit(2);
		/*
		 * Raw exit_group: the sanitizer's _exit() interceptor makes
		 * calls of its own (sigaltstack) that the daemon never does.
		 */
		syscall(SYS_exit_group, probe() == -1 ? 1 : 0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return status;
}

static void
expect_killed(const struct proc_table *t, probe_fn probe, const char *what)
{
	int	 status = run_probe(t, probe);

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSYS)
		fail_msg("%s: %s: expected death by SIGSYS, got %s %d",
		    t->name, what, WIFSIGNALED(status) ? "signal" : "exit",
		    WIFSIGNALED(status) ? WTERMSIG(status) :
		    WEXITSTATUS(status));
}

static void
test_forbidden_calls_kill(void **state)
{
	static const struct {
		const char	*what;
		probe_fn	 fn;
	} probes[] = {
		{ "execve", probe_execve },
		{ "ptrace", probe_ptrace },
		{ "socket(AF_UNIX)", probe_socket_unix },
		{ "fork", probe_fork },
		{ "setuid", probe_setuid },
		{ "chroot", probe_chroot },
		{ "i386 int 0x80", probe_i386 },
	};
	size_t	 i, j;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		for (j = 0; j < sizeof(probes) / sizeof(probes[0]); j++)
			expect_killed(&tables[i], probes[j].fn, probes[j].what);
}

static void
test_allowed_calls_work(void **state)
{
	size_t	 i;
	int	 status;

	for (i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		status = run_probe(&tables[i], probe_allowed);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("%s: allowed calls: %s %d", tables[i].name,
			    WIFSIGNALED(status) ? "signal" : "exit",
			    WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status));
	}
}

/* Files: only processes that own a directory may open anything. */
static int
probe_open(void)
{
	return open("/etc/hostname", O_RDONLY);
}

static void
test_network_processes_cannot_open_files(void **state)
{
	expect_killed(&tables[0], probe_open, "open");	/* smtp */
	expect_killed(&tables[3], probe_open, "open");	/* mta */
	expect_killed(&tables[5], probe_open, "open");	/* control */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forbidden_calls_kill),
		cmocka_unit_test(test_allowed_calls_work),
		cmocka_unit_test(test_network_processes_cannot_open_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
