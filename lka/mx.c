/*
 * MX resolution (see mx.h).  Deterministic, so it can run again from the
 * start after each batch of answers; the shuffle of equal preferences is
 * done once, by the caller, on the final result.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mx.h"

const char *
mx_status_name(enum mx_status s)
{
	switch (s) {
	case MX_OK:
		return "ok";
	case MX_NULL:
		return "null MX";
	case MX_NXDOMAIN:
		return "no such domain";
	case MX_NOHOST:
		return "no MX host has an address";
	case MX_TEMPFAIL:
		return "temporary failure";
	}
	return "?";
}

static int
mx_cmp(const void *a, const void *b)
{
	const struct dns_rr	*x = a, *y = b;

	if (x->u.mx.pref != y->u.mx.pref)
		return x->u.mx.pref < y->u.mx.pref ? -1 : 1;
	return strcmp(x->u.mx.host, y->u.mx.host);
}

static void
mx_add_addr(struct mx_host *h, int family, const uint8_t *addr)
{
	struct sockaddr_in	*sin;
	struct sockaddr_in6	*sin6;

	if (h->naddrs == MX_ADDRS_MAX)
		return;
	memset(&h->addrs[h->naddrs], 0, sizeof(h->addrs[h->naddrs]));
	if (family == AF_INET) {
		sin = (struct sockaddr_in *)&h->addrs[h->naddrs];
		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, addr, 4);
	} else {
		sin6 = (struct sockaddr_in6 *)&h->addrs[h->naddrs];
		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, addr, 16);
	}
	h->naddrs++;
}

/*
 * The addresses of one host: IPv6 first, then IPv4.  Returns 1 when an
 * answer is missing, and counts temporary failures in *tempfail.
 */
static int
mx_host_addrs(struct mx_host *h, const struct dns_source *src, int *tempfail)
{
	static const enum dns_type	 types[] = { DNS_T_AAAA, DNS_T_A };
	const struct dns_answer		*ans;
	int				 t, i, need = 0;

	for (t = 0; t < 2; t++) {
		if (!src->lookup(src->arg, h->name, types[t], &ans)) {
			need = 1;
			continue;
		}
		if (ans->status == DNS_TEMPFAIL)
			(*tempfail)++;
		for (i = 0; ans->status == DNS_ANSWER && i < ans->nrr; i++)
			mx_add_addr(h, types[t] == DNS_T_A ? AF_INET : AF_INET6,
			    ans->rr[i].u.addr);
	}
	return need;
}

int
mx_resolve(const char *domain, const struct dns_source *src,
    struct mx_result *res)
{
	const struct dns_answer	*ans;
	struct dns_rr		 rr[MX_HOSTS_MAX];
	int			 i, n = 0, need = 0, tempfail = 0, usable = 0;

	memset(res, 0, sizeof(*res));
	if (!src->lookup(src->arg, domain, DNS_T_MX, &ans))
		return 1;
	switch (ans->status) {
	case DNS_TEMPFAIL:
		res->status = MX_TEMPFAIL;
		snprintf(res->why, sizeof(res->why), "MX lookup: %s",
		    ans->why);
		return 0;
	case DNS_NXDOMAIN:
		res->status = MX_NXDOMAIN;
		snprintf(res->why, sizeof(res->why), "domain %s does not "
		    "exist", domain);
		return 0;
	case DNS_NODATA:
		/* No MX: the domain itself is the implicit MX (RFC 5321). */
		memset(&rr[0], 0, sizeof(rr[0]));
		strlcpy(rr[0].u.mx.host, domain, sizeof(rr[0].u.mx.host));
		n = 1;
		break;
	case DNS_ANSWER:
		for (i = 0; i < ans->nrr; i++) {
			/* RFC 7505: "0 ." says the domain takes no mail. */
			if (ans->rr[i].u.mx.host[0] == '\0') {
				res->status = MX_NULL;
				snprintf(res->why, sizeof(res->why), "domain %s "
				    "accepts no mail (null MX)", domain);
				return 0;
			}
		}
		n = ans->nrr;
		if (n > MX_HOSTS_MAX) {
			/* Keep the most preferred ones. */
			struct dns_rr	*all;

			if ((all = calloc(n, sizeof(*all))) == NULL) {
				res->status = MX_TEMPFAIL;
				snprintf(res->why, sizeof(res->why),
				    "out of memory");
				return 0;
			}
			memcpy(all, ans->rr, n * sizeof(*all));
			qsort(all, n, sizeof(*all), mx_cmp);
			memcpy(rr, all, sizeof(rr));
			free(all);
			n = MX_HOSTS_MAX;
		} else
			memcpy(rr, ans->rr, n * sizeof(*rr));
		break;
	}
	qsort(rr, n, sizeof(*rr), mx_cmp);
	for (i = 0; i < n; i++) {
		struct mx_host	*h = &res->hosts[res->nhosts];

		strlcpy(h->name, rr[i].u.mx.host, sizeof(h->name));
		h->pref = rr[i].u.mx.pref;
		need |= mx_host_addrs(h, src, &tempfail);
		res->nhosts++;
	}
	if (need)
		return 1;
	for (i = 0; i < res->nhosts; i++)
		usable += res->hosts[i].naddrs > 0;
	if (usable > 0)
		res->status = MX_OK;
	else if (tempfail > 0) {
		res->status = MX_TEMPFAIL;
		snprintf(res->why, sizeof(res->why), "address lookups of the "
		    "MX hosts of %s failed temporarily", domain);
	} else {
		res->status = MX_NOHOST;
		snprintf(res->why, sizeof(res->why), "no MX host of %s has an "
		    "address", domain);
	}
	return 0;
}

/*
 * A host's own addresses, no MX lookup: the "relay via" smarthost.  One
 * host of preference 0; a name without any address is MX_NXDOMAIN when
 * both lookups say it does not exist, else MX_NOHOST, or MX_TEMPFAIL
 * when a lookup failed temporarily.
 */
int
mx_resolve_host(const char *host, const struct dns_source *src,
    struct mx_result *res)
{
	static const enum dns_type	 types[] = { DNS_T_AAAA, DNS_T_A };
	const struct dns_answer		*ans;
	struct mx_host			*h;
	int				 t, need = 0, tempfail = 0, nx = 0;

	memset(res, 0, sizeof(*res));
	h = &res->hosts[0];
	strlcpy(h->name, host, sizeof(h->name));
	res->nhosts = 1;
	for (t = 0; t < 2; t++) {
		if (!src->lookup(src->arg, host, types[t], &ans)) {
			need = 1;
			continue;
		}
		nx += ans->status == DNS_NXDOMAIN;
	}
	if (need || mx_host_addrs(h, src, &tempfail))
		return 1;
	if (h->naddrs > 0)
		res->status = MX_OK;
	else if (tempfail > 0) {
		res->status = MX_TEMPFAIL;
		snprintf(res->why, sizeof(res->why), "address lookup of %s "
		    "failed temporarily", host);
	} else if (nx == 2) {
		res->status = MX_NXDOMAIN;
		snprintf(res->why, sizeof(res->why), "host %s does not exist",
		    host);
	} else {
		res->status = MX_NOHOST;
		snprintf(res->why, sizeof(res->why), "host %s has no address",
		    host);
	}
	return 0;
}

/* Hosts of equal preference in random order (RFC 5321 5.1). */
void
mx_shuffle(struct mx_result *res, uint32_t (*uniform)(uint32_t))
{
	struct mx_host	 tmp;
	int		 i, j, start;

	for (start = 0; start < res->nhosts; start = i) {
		for (i = start + 1; i < res->nhosts &&
		    res->hosts[i].pref == res->hosts[start].pref; i++)
			;
		for (j = i - 1; j > start; j--) {
			int	 k = start + (int)uniform((uint32_t)(j - start +
			    1));

			tmp = res->hosts[j];
			res->hosts[j] = res->hosts[k];
			res->hosts[k] = tmp;
		}
	}
}
