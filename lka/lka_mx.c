/*
 * MX lookups for mta: lka resolves, mta connects.  mta asks with a
 * request id and gets the hosts in the order to try them; for the
 * smarthost ("host" set) the one host with its own addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "child.h"
#include "dns_job.h"
#include "lka.h"
#include "log.h"
#include "mx.h"

#define LKA_MX_INFLIGHT		256	/* questions for mta at once */

struct lka_mx {
	uint64_t		 reqid;
	char			 domain[DNS_NAME_MAX + 1];
	int			 host;	/* the name's own addresses */
	struct mx_result	 res;
};

static struct dns_pool	 lka_mx_pool;

void
lka_mx_init(void)
{
	dns_pool_init(&lka_mx_pool, LKA_MX_INFLIGHT);
}

static int
lka_mx_eval(void *arg, const struct dns_source *src)
{
	struct lka_mx	*q = arg;

	if (q->host)
		return mx_resolve_host(q->domain, src, &q->res);
	return mx_resolve(q->domain, src, &q->res);
}

static void
lka_mx_done(void *arg, const struct dns_source *src)
{
	struct lka_mx		*q = arg;
	struct msg_out		 m;
	const struct mx_host	*h;
	int			 i, a;

	mx_shuffle(&q->res, arc4random_uniform);
	msg_out_init(&m);
	m_add_u64(&m, q->reqid);
	m_add_int(&m, q->res.status);
	m_add_string(&m, q->res.why);
	m_add_u32(&m, (uint32_t)q->res.nhosts);
	for (i = 0; i < q->res.nhosts; i++) {
		h = &q->res.hosts[i];
		m_add_string(&m, h->name);
		m_add_u32(&m, h->pref);
		m_add_u32(&m, (uint32_t)h->naddrs);
		for (a = 0; a < h->naddrs; a++)
			m_add_sockaddr(&m, (const struct sockaddr *)
			    &h->addrs[a]);
	}
	log_debug("mx %s: %s, %d host%s", q->domain,
	    mx_status_name(q->res.status), q->res.nhosts,
	    q->res.nhosts == 1 ? "" : "s");
	mproc_send(child_peer(PROC_MTA), IMSG_LKA_MX_RESULT, 0, -1, &m);
	free(q);
}

void
lka_mx_lookup(struct mproc *p, struct imsg *im)
{
	struct lka_mx	*q;
	struct msg_in	 m;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal("lka_mx_lookup");
	msg_in_init(&m, im);
	if (m_get_u64(&m, &q->reqid) == -1 ||
	    m_get_string(&m, q->domain, sizeof(q->domain)) == -1 ||
	    m_get_int(&m, &q->host) == -1 ||
	    m_end(&m) == -1) {
		free(q);
		mproc_malformed(p, im, &m);
		return;
	}
	dns_job_start(&lka_mx_pool, lka_mx_eval, lka_mx_done, q);
}
