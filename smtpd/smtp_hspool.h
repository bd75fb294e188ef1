/*
 * TLS handshakes of the smtp process on worker threads.
 *
 * The server's handshake step that answers a ClientHello signs with the
 * certificate's key (an RSA-2048 signature costs more than everything
 * else a one-message session does), so one event loop doing them all is
 * bound to one CPU.  The loop hands handshake steps to a small pool of
 * threads instead and goes on with its other sessions; the result comes
 * back through a pipe the loop reads, with the step's CPU time (smtp_io.c
 * does the steps after a costly one itself).  A connection is never
 * touched by the loop while one of its steps is out.
 */
#ifndef SENDGATE_SMTP_HSPOOL_H
#define SENDGATE_SMTP_HSPOOL_H

#include <sys/queue.h>

#include <event.h>

struct tls;

struct smtp_hsjob {
	TAILQ_ENTRY(smtp_hsjob)	 entry;
	struct tls		*tls;
	int			 where;		/* see smtp_hspool.c */
	int			 rc;		/* of tls_handshake() */
	long			 cpu_us;	/* the step's CPU time */
	void			(*done)(struct smtp_hsjob *);
};

/*
 * Start n threads (0: none, handshakes stay on the loop).  Before the
 * sandbox: the threads are made while the process may still create
 * them, and the seccomp filter is synchronised onto them.
 */
void	smtp_hspool_start(struct event_base *, int);
int	smtp_hspool_threads(void);

/* Run tls_handshake(job->tls) on a thread; job->done later, on the loop. */
void	smtp_hspool_submit(struct smtp_hsjob *);

/*
 * Take the job back before its connection is freed: dropped if it has
 * not started, waited for (one handshake step) if it runs.
 */
void	smtp_hspool_cancel(struct smtp_hsjob *);

#endif
