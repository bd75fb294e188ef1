/*
 * Where mail for a domain goes: its MX hosts in preference order with
 * their IPv6 and IPv4 addresses, the implicit MX when there is none, and
 * Null MX (RFC 7505); or a host's own addresses (mx_resolve_host, for a
 * smarthost).  A pure evaluator over a dns_source (see dns.h);
 * lka resolves for mta with it.
 */
#ifndef SENDGATE_MX_H
#define SENDGATE_MX_H

#include <sys/socket.h>

#include <stdint.h>

#include "dns.h"

#define MX_HOSTS_MAX	10	/* MX hosts tried */
#define MX_ADDRS_MAX	8	/* addresses of one host */

enum mx_status {
	MX_OK,			/* hosts[] to try, in order */
	MX_NULL,		/* Null MX: the domain takes no mail */
	MX_NXDOMAIN,		/* the domain does not exist */
	MX_NOHOST,		/* no MX host has an address */
	MX_TEMPFAIL		/* try again later */
};

struct mx_host {
	char			 name[DNS_NAME_MAX + 1];
	uint16_t		 pref;
	int			 naddrs;
	struct sockaddr_storage	 addrs[MX_ADDRS_MAX];
};

struct mx_result {
	enum mx_status	 status;
	char		 why[160];
	int		 nhosts;
	struct mx_host	 hosts[MX_HOSTS_MAX];
};

const char	*mx_status_name(enum mx_status);
int		 mx_resolve(const char *, const struct dns_source *,
		    struct mx_result *);
int		 mx_resolve_host(const char *, const struct dns_source *,
		    struct mx_result *);
void		 mx_shuffle(struct mx_result *, uint32_t (*)(uint32_t));

#endif
