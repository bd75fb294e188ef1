/*
 * TLS handshakes on worker threads (see smtp_hspool.h).
 *
 * One mutex guards the job lists and every job's `where'; the threads
 * touch nothing else of the process but the job's struct tls, which the
 * loop leaves alone until the job is back.  libevent is never called
 * from a thread: a thread that finishes a job puts it on the done list
 * and writes one byte to a pipe when that list was empty, and the loop
 * takes the jobs off the list when the pipe is readable.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <tls.h>

#include "log.h"
#include "smtp_hspool.h"

#define HSPOOL_STACK	(1024 * 1024)
#define HSPOOL_HEAP_MAX	(64 * 1024 * 1024)	/* glibc's HEAP_MAX_SIZE */

enum {
	JOB_IDLE = 0,	/* with the loop */
	JOB_QUEUED,	/* on the work list */
	JOB_RUNNING,	/* a thread is in tls_handshake() */
	JOB_DONE	/* on the done list */
};

TAILQ_HEAD(hsjobs, smtp_hsjob);

static pthread_mutex_t	 hspool_mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	 hspool_work = PTHREAD_COND_INITIALIZER;
static pthread_cond_t	 hspool_finished = PTHREAD_COND_INITIALIZER;
static struct hsjobs	 hspool_todo = TAILQ_HEAD_INITIALIZER(hspool_todo);
static struct hsjobs	 hspool_done = TAILQ_HEAD_INITIALIZER(hspool_done);
static int		 hspool_nthreads;
static int		 hspool_running;	/* jobs in tls_handshake() */
static int		 hspool_signalled;	/* a byte is in the pipe */
static int		 hspool_stopping;
static int		 hspool_pipe[2] = { -1, -1 };
static struct event	 hspool_ev;

static void
hspool_lock(void)
{
	if (pthread_mutex_lock(&hspool_mtx) != 0)
		fatalx("hspool: mutex lock");
}

static void
hspool_unlock(void)
{
	if (pthread_mutex_unlock(&hspool_mtx) != 0)
		fatalx("hspool: mutex unlock");
}

/* This thread's CPU time in microseconds; -1 if the clock fails. */
static long
hspool_cpu_us(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == -1)
		return -1;
	return ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void *
hspool_thread(void *arg)
{
	struct smtp_hsjob	*job;
	long			 t0, t1;
	int			 rc, wake;
	char			 c = 0;

	hspool_lock();
	for (;;) {
		/*
		 * Stopping, a thread stays parked until the process is gone:
		 * a thread that returned would run OpenSSL's per-thread
		 * destructors while exit() tears OpenSSL down.
		 */
		while (TAILQ_EMPTY(&hspool_todo) || hspool_stopping)
			pthread_cond_wait(&hspool_work, &hspool_mtx);
		job = TAILQ_FIRST(&hspool_todo);
		TAILQ_REMOVE(&hspool_todo, job, entry);
		job->where = JOB_RUNNING;
		hspool_running++;
		hspool_unlock();

		t0 = hspool_cpu_us();
		rc = tls_handshake(job->tls);
		t1 = hspool_cpu_us();

		hspool_lock();
		job->rc = rc;
		job->cpu_us = t0 >= 0 && t1 >= t0 ? t1 - t0 : 0;
		job->where = JOB_DONE;
		hspool_running--;
		TAILQ_INSERT_TAIL(&hspool_done, job, entry);
		wake = !hspool_signalled;
		hspool_signalled = 1;
		pthread_cond_broadcast(&hspool_finished);
		if (wake) {
			/*
			 * Outside the lock: the loop this write wakes takes
			 * the lock at once.  One byte wakes it for every job
			 * on the list (the flag stays set until it has read
			 * the pipe); the pipe never fills.  A failed write
			 * would leave the job stuck: there is no way to go
			 * on.
			 */
			hspool_unlock();
			if (write(hspool_pipe[1], &c, 1) != 1)
				fatal("hspool: write");
			hspool_lock();
		}
	}
	/* NOTREACHED */
	return NULL;
}

/* On the loop: hand every finished job back to its connection. */
static void
hspool_wakeup(int fd, short ev, void *arg)
{
	struct smtp_hsjob	*job;
	char			 buf[64];

	/*
	 * One read: a byte is written only while the flag below is clear,
	 * so there are never many; if any are left, the event fires again.
	 */
	if (read(fd, buf, sizeof(buf)) == -1 && errno != EAGAIN &&
	    errno != EINTR)
		fatal("hspool: read");
	hspool_lock();
	hspool_signalled = 0;
	for (;;) {
		if ((job = TAILQ_FIRST(&hspool_done)) == NULL)
			break;
		TAILQ_REMOVE(&hspool_done, job, entry);
		job->where = JOB_IDLE;
		/* The callback may cancel other jobs: not under the lock. */
		hspool_unlock();
		job->done(job);
		hspool_lock();
	}
	hspool_unlock();
}

/*
 * At exit: let no thread be inside libtls while the process tears
 * OpenSSL down (its atexit handler was registered before ours, so it
 * runs after), and none start again.
 */
static void
hspool_stop(void)
{
	hspool_lock();
	hspool_stopping = 1;
	while (hspool_running > 0)
		pthread_cond_wait(&hspool_finished, &hspool_mtx);
	hspool_unlock();
}

void
smtp_hspool_start(struct event_base *base, int n)
{
	pthread_attr_t	 attr;
	pthread_t	 t;
	sigset_t	 all, old;
	int		 i, flags;

	if (n <= 0)
		return;
	if (pipe(hspool_pipe) == -1)
		fatal("hspool: pipe");
	for (i = 0; i < 2; i++)
		if ((flags = fcntl(hspool_pipe[i], F_GETFL)) == -1 ||
		    fcntl(hspool_pipe[i], F_SETFL, flags | O_NONBLOCK) == -1 ||
		    fcntl(hspool_pipe[i], F_SETFD, FD_CLOEXEC) == -1)
			fatal("hspool: fcntl");
	event_assign(&hspool_ev, base, hspool_pipe[0], EV_READ | EV_PERSIST,
	    hspool_wakeup, NULL);
	event_add(&hspool_ev, NULL);

	/*
	 * A malloc arena per thread, the loop's included: with one arena
	 * for all (as before), the loop and the threads queued on its lock,
	 * three futex calls and as many sleeps per handshake.  Both values
	 * are set so that glibc never opens a file, which the sandbox kills
	 * (openat): left alone, it counts the CPUs under /sys before making
	 * a second arena, and it reads /proc/sys/vm/overcommit_memory the
	 * first time it would give a thread's heap back to the kernel; a
	 * thread heap is 64 MiB at most and is only trimmed when more than
	 * the trim threshold is free at its top, so it never is (nor is the
	 * loop's heap until 64 MiB are free).  Grown with mprotect: see
	 * smtp_sandbox.c.  (A sanitizer's malloc ignores all this.)
	 */
	if (mallopt(M_ARENA_MAX, n + 1) != 1 ||
	    mallopt(M_TRIM_THRESHOLD, HSPOOL_HEAP_MAX) != 1)
		log_debug("hspool: mallopt refused");
	/* Signals stay with the loop's thread. */
	sigfillset(&all);
	if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0 ||
	    pthread_attr_init(&attr) != 0 ||
	    pthread_attr_setstacksize(&attr, HSPOOL_STACK) != 0 ||
	    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) != 0)
		fatalx("hspool: thread attributes");
	for (i = 0; i < n; i++)
		if (pthread_create(&t, &attr, hspool_thread, NULL) != 0)
			fatalx("hspool: cannot start thread %d of %d", i + 1,
			    n);
	pthread_attr_destroy(&attr);
	if (pthread_sigmask(SIG_SETMASK, &old, NULL) != 0)
		fatalx("hspool: sigmask");
	hspool_nthreads = n;
	if (atexit(hspool_stop) != 0)
		fatalx("hspool: atexit");
	log_debug("TLS handshakes on %d thread%s", n, n == 1 ? "" : "s");
}

int
smtp_hspool_threads(void)
{
	return hspool_nthreads;
}

void
smtp_hspool_submit(struct smtp_hsjob *job)
{
	hspool_lock();
	if (job->where != JOB_IDLE)
		fatalx("hspool: job submitted twice");
	job->where = JOB_QUEUED;
	TAILQ_INSERT_TAIL(&hspool_todo, job, entry);
	hspool_unlock();
	/*
	 * After the unlock: a thread woken under it would go straight back
	 * to sleep on the mutex.  A thread about to wait sees the job on
	 * the list first (it looks under the lock).
	 */
	pthread_cond_signal(&hspool_work);
}

void
smtp_hspool_cancel(struct smtp_hsjob *job)
{
	hspool_lock();
	while (job->where == JOB_RUNNING)
		pthread_cond_wait(&hspool_finished, &hspool_mtx);
	if (job->where == JOB_QUEUED)
		TAILQ_REMOVE(&hspool_todo, job, entry);
	else if (job->where == JOB_DONE)
		TAILQ_REMOVE(&hspool_done, job, entry);
	job->where = JOB_IDLE;
	hspool_unlock();
}
