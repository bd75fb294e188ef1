/*
 * Evaluations over DNS: a pure evaluator asks its questions through a
 * dns_source; whatever it misses is resolved (at most pool->max questions
 * of a pool in flight at once) and the evaluator runs again from the
 * start, until it has every answer.  Used by the domain checks, spf walk
 * and the MX lookups for mta.
 */
#ifndef SENDGATE_DNS_JOB_H
#define SENDGATE_DNS_JOB_H

#include <sys/queue.h>

#include "dns.h"

struct dns_job;

struct dns_pool {
	int			 busy;		/* questions in flight */
	int			 max;
	TAILQ_HEAD(, dns_job)	 starved;	/* wait for a free slot */
};

/* 0: done (every answer known), 1: questions are missing. */
typedef int	(*dns_job_eval)(void *, const struct dns_source *);
/* The evaluation is complete; the source stays valid for the call. */
typedef void	(*dns_job_done)(void *, const struct dns_source *);

void	dns_pool_init(struct dns_pool *, int);
void	dns_job_start(struct dns_pool *, dns_job_eval, dns_job_done, void *);

#endif
