/*
 * lka's resolver on libunbound (see dns_resolver.h).
 *
 * libunbound caches answers for their TTL and falls back to TCP for
 * truncated answers by itself.  It hands us the raw answer packet, which
 * dns_parse() reads with its caps; a question unanswered after
 * DNS_TIMEOUT_SEC is cancelled and reported as a temporary failure.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unbound.h>
#include <unbound-event.h>

#include "config.h"
#include "dns_resolver.h"
#include "log.h"

#define DNS_RCODE_NXDOMAIN	3
#define DNS_CLASS_IN		1

struct dns_query {
	TAILQ_ENTRY(dns_query)	 entry;
	uint64_t		 id;
	int			 async_id;
	char			 qname[DNS_NAME_MAX + 1];
	enum dns_type		 qtype;
	dns_done_cb		 cb;
	void			*arg;
	struct event		 timeout;
	int			 starting;	/* inside ub_resolve_event() */
	struct dns_answer	*early;		/* answered while starting */
	int			 failed;	/* could not be asked */
};

static struct ub_ctx			*dns_ctx;
static TAILQ_HEAD(, dns_query)		 dns_queries =
    TAILQ_HEAD_INITIALIZER(dns_queries);
static int				 dns_ninflight;
static uint64_t				 dns_lastid;

/*
 * Set the context up before the chroot: resolv.conf can only be read
 * now.  err says what failed.
 */
int
dns_init(const struct sendgated_conf *conf, struct event_base *base,
    char *err, size_t errlen)
{
	char	 fwd[96], addr[64], range[16];
	int	 i, rc;

	/* Sockets for every question the checks and mta may have open. */
	snprintf(range, sizeof(range), "%d", conf->checks_inflight +
	    DNS_RANGE_EXTRA);
	if ((dns_ctx = ub_ctx_create_event(base)) == NULL) {
		snprintf(err, errlen, "cannot create the DNS resolver");
		return -1;
	}
	/* Forwarding to 127.0.0.1 is what tests and local caches need. */
	if ((rc = ub_ctx_set_option(dns_ctx, "do-not-query-localhost:",
	    "no")) != 0 ||
	    (rc = ub_ctx_set_option(dns_ctx, "outgoing-range:", range)) != 0)
		goto fail;
	/*
	 * libunbound answers some special-use names itself (NXDOMAIN for
	 * test., the reverse zones of private addresses): ask the
	 * configured resolvers instead, they may well serve them.
	 */
	if ((rc = ub_ctx_set_option(dns_ctx, "local-zone:",
	    "test. transparent")) != 0 ||
	    (rc = ub_ctx_set_option(dns_ctx, "unblock-lan-zones:", "yes")) != 0)
		goto fail;
	if (conf->nresolvers == 0) {
		if ((rc = ub_ctx_resolvconf(dns_ctx, NULL)) != 0)
			goto fail;
		return 0;
	}
	for (i = 0; i < conf->nresolvers; i++) {
		const struct sockaddr_storage	*ss = &conf->resolvers[i].ss;

		if (ss->ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->
			    sin_addr, addr, sizeof(addr));
		else
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->
			    sin6_addr, addr, sizeof(addr));
		snprintf(fwd, sizeof(fwd), "%s@%u", addr,
		    conf->resolvers[i].port);
		if ((rc = ub_ctx_set_fwd(dns_ctx, fwd)) != 0)
			goto fail;
	}
	return 0;
fail:
	snprintf(err, errlen, "DNS resolver: %s", ub_strerror(rc));
	ub_ctx_delete(dns_ctx);
	dns_ctx = NULL;
	return -1;
}

static void
dns_query_free(struct dns_query *q)
{
	evtimer_del(&q->timeout);
	TAILQ_REMOVE(&dns_queries, q, entry);
	dns_ninflight--;
	free(q);
}

static void
dns_finish(struct dns_query *q, struct dns_answer *ans)
{
	dns_done_cb	 cb = q->cb;
	void		*arg = q->arg;
	char		 qname[DNS_NAME_MAX + 1];
	enum dns_type	 qtype = q->qtype;

	strlcpy(qname, q->qname, sizeof(qname));
	dns_query_free(q);
	if (ans == NULL)
		fatal("dns: out of memory");
	log_debug("dns: %s %s: %s%s%s", qname, dns_type_name(qtype),
	    ans->status == DNS_ANSWER ? "answer" :
	    ans->status == DNS_NODATA ? "no data" :
	    ans->status == DNS_NXDOMAIN ? "NXDOMAIN" : "temporary failure",
	    ans->status == DNS_TEMPFAIL ? ": " : "", ans->why);
	cb(arg, qname, qtype, ans);
}

static void
dns_answered(void *arg, int rcode, void *packet, int len, int sec,
    char *why_bogus, int ratelimited)
{
	struct dns_query	*q = arg;
	struct dns_answer	*ans;
	char			 why[64];

	if (rcode == DNS_RCODE_NXDOMAIN && packet != NULL && len > 0)
		ans = dns_parse(packet, (size_t)len, q->qname, q->qtype);
	else if (rcode != 0 || packet == NULL || len <= 0) {
		snprintf(why, sizeof(why), rcode == 2 ? "SERVFAIL" :
		    "DNS error (rcode %d)", rcode);
		ans = dns_answer_tempfail(why);
	} else if (sec == 1)
		ans = dns_answer_tempfail("DNSSEC bogus");
	else
		ans = dns_parse(packet, (size_t)len, q->qname, q->qtype);
	/*
	 * libunbound answers from its cache before ub_resolve_event()
	 * returns: keep it for the loop, our caller is still running.
	 */
	if (q->starting) {
		q->early = ans;
		return;
	}
	dns_finish(q, ans);
}

static void
dns_timeout(int fd, short ev, void *arg)
{
	struct dns_query	*q = arg;

	if (q->early != NULL) {
		dns_finish(q, q->early);
		return;
	}
	if (q->failed) {
		dns_finish(q, dns_answer_tempfail("cannot ask: resolver "
		    "error or too many questions"));
		return;
	}
	ub_cancel(dns_ctx, q->async_id);
	dns_finish(q, dns_answer_tempfail("timeout"));
}

/*
 * Ask a question; cb gets the answer later (never before dns_query
 * returns).  Returns the query id, 0 when the question cannot be asked
 * (then cb is called with a temporary failure from the event loop).
 */
uint64_t
dns_query(const char *qname, enum dns_type qtype, dns_done_cb cb, void *arg)
{
	struct dns_query	*q;
	struct timeval		 tv = { DNS_TIMEOUT_SEC, 0 };

	if ((q = calloc(1, sizeof(*q))) == NULL)
		fatal("dns_query");
	q->id = ++dns_lastid;
	q->qtype = qtype;
	q->cb = cb;
	q->arg = arg;
	strlcpy(q->qname, qname, sizeof(q->qname));
	evtimer_set(&q->timeout, dns_timeout, q);
	TAILQ_INSERT_TAIL(&dns_queries, q, entry);
	dns_ninflight++;
	q->starting = 1;
	if (strlen(qname) > DNS_NAME_MAX || dns_ninflight > DNS_INFLIGHT_MAX ||
	    ub_resolve_event(dns_ctx, qname, qtype, DNS_CLASS_IN, q,
	    dns_answered, &q->async_id) != 0) {
		q->failed = 1;
		q->async_id = 0;
	}
	q->starting = 0;
	/* Report from the loop, never under our caller. */
	if (q->failed || q->early != NULL)
		tv.tv_sec = 0;
	evtimer_add(&q->timeout, &tv);
	return q->id;
}

void
dns_cancel(uint64_t id)
{
	struct dns_query	*q;

	TAILQ_FOREACH(q, &dns_queries, entry) {
		if (q->id == id) {
			if (q->async_id != 0 && q->early == NULL)
				ub_cancel(dns_ctx, q->async_id);
			dns_answer_free(q->early);
			dns_query_free(q);
			return;
		}
	}
}

int
dns_inflight(void)
{
	return dns_ninflight;
}
