/*
 * lka's resolver: libunbound on lka's own libevent base, asynchronous,
 * no threads, no helper processes.  Forwards to the configured
 * `resolver` addresses, or to those of /etc/resolv.conf.
 */
#ifndef SENDGATE_DNS_RESOLVER_H
#define SENDGATE_DNS_RESOLVER_H

#include <stdint.h>

#include "dns.h"

#define DNS_TIMEOUT_SEC		10	/* then the answer is DNS_TEMPFAIL */
#define DNS_INFLIGHT_MAX	2048	/* questions open at once */
#define DNS_RANGE_EXTRA		256	/* sockets beyond `checks concurrency` */

struct event_base;
struct sendgated_conf;

/* ans is the callee's to free (dns_answer_free). */
typedef void	(*dns_done_cb)(void *, const char *, enum dns_type,
		    struct dns_answer *);

int		 dns_init(const struct sendgated_conf *, struct event_base *,
		    char *, size_t);
uint64_t	 dns_query(const char *, enum dns_type, dns_done_cb, void *);
void		 dns_cancel(uint64_t);
int		 dns_inflight(void);

#endif
