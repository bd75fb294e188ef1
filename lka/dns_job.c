/*
 * Evaluations over DNS with reruns (see dns_job.h).
 */
#include <stdlib.h>

#include "dns_job.h"
#include "dns_resolver.h"
#include "log.h"

struct dns_job {
	TAILQ_ENTRY(dns_job)	 entry;
	struct dns_pool		*pool;
	struct dns_store	*store;
	dns_job_eval		 eval;
	dns_job_done		 done;
	void			*arg;
	int			 outstanding;	/* questions in flight */
	int			 starved;
};

static void	dns_job_run(struct dns_job *);
static void	dns_job_answered(void *, const char *, enum dns_type,
		    struct dns_answer *);

void
dns_pool_init(struct dns_pool *p, int max)
{
	p->busy = 0;
	p->max = max;
	TAILQ_INIT(&p->starved);
}

static void
dns_job_starve(struct dns_job *j, int starved)
{
	if (starved && !j->starved)
		TAILQ_INSERT_TAIL(&j->pool->starved, j, entry);
	else if (!starved && j->starved)
		TAILQ_REMOVE(&j->pool->starved, j, entry);
	j->starved = starved;
}

static int
dns_job_ask(void *arg, const char *qname, enum dns_type qtype)
{
	struct dns_job	*j = arg;

	if (j->pool->busy >= j->pool->max)
		return -1;
	j->pool->busy++;
	j->outstanding++;
	dns_query(qname, qtype, dns_job_answered, j);
	return 0;
}

/* Slots came free: give them to jobs that wait for one, oldest first. */
static void
dns_pool_pump(struct dns_pool *p)
{
	struct dns_job	*j, *next;

	for (j = TAILQ_FIRST(&p->starved); j != NULL && p->busy < p->max;
	    j = next) {
		next = TAILQ_NEXT(j, entry);
		dns_store_wants(j->store, dns_job_ask, j);
		dns_job_starve(j, j->outstanding == 0);
	}
}

static void
dns_job_answered(void *arg, const char *qname, enum dns_type qtype,
    struct dns_answer *ans)
{
	struct dns_job	*j = arg;
	struct dns_pool	*p = j->pool;

	p->busy--;
	j->outstanding--;
	if (dns_store_put(j->store, qname, qtype, ans) == -1)
		log_warnx("dns: %s: too many questions for one evaluation",
		    qname);
	if (j->outstanding == 0)
		dns_job_run(j);
	dns_pool_pump(p);
}

static void
dns_job_run(struct dns_job *j)
{
	struct dns_source	 src = dns_store_source(j->store);

	if (j->eval(j->arg, &src) == 0) {
		j->done(j->arg, &src);
		dns_job_starve(j, 0);
		dns_store_free(j->store);
		free(j);
		return;
	}
	dns_store_wants(j->store, dns_job_ask, j);
	dns_job_starve(j, j->outstanding == 0);
}

void
dns_job_start(struct dns_pool *p, dns_job_eval eval, dns_job_done done,
    void *arg)
{
	struct dns_job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (j->store = dns_store_new()) == NULL)
		fatal("dns_job_start");
	j->pool = p;
	j->eval = eval;
	j->done = done;
	j->arg = arg;
	dns_job_run(j);
}
