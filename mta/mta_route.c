/*
 * Pure helpers of the mta process (see mta_route.h).
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "proto.h"
#include "smtp_parse.h"
#include "mta_route.h"

static int
addr_eq(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)a)->sin_addr,
		    &((const struct sockaddr_in *)b)->sin_addr,
		    sizeof(struct in_addr)) == 0;
	if (a->ss_family == AF_INET6)
		return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		    &((const struct sockaddr_in6 *)b)->sin6_addr,
		    sizeof(struct in6_addr)) == 0;
	return 0;
}

static uint16_t
addr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)ss)->sin_port);
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return 0;
}

static void
addr_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
}

static int
addr_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		    htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
		    &((const struct sockaddr_in6 *)ss)->sin6_addr);
	return 0;
}

/*
 * A local address: one of an interface, or loopback (Linux answers the
 * whole of 127/8 on lo, whatever lo's configured address).
 */
static int
addr_local(const struct mta_self *self, const struct sockaddr_storage *ss)
{
	int	i;

	if (ss->ss_family == AF_INET &&
	    (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >>
	    24) == 127)
		return 1;
	if (ss->ss_family == AF_INET6 &&
	    IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->
	    sin6_addr))
		return 1;
	for (i = 0; i < self->nlocal; i++)
		if (addr_eq(&self->local[i], ss))
			return 1;
	return 0;
}

/*
 * Does a connection to ss (address and port) reach one of our own
 * listeners?  A wildcard listener on "::" also takes IPv4 (Linux
 * listens dual-stack by default), one on 0.0.0.0 IPv4 only.
 */
int
mta_self_is(const struct mta_self *self, const struct sockaddr_storage *ss)
{
	const struct sockaddr_storage	*l;
	int				 i;

	for (i = 0; i < self->nlisten; i++) {
		l = &self->listen[i];
		if (addr_port(l) != addr_port(ss))
			continue;
		if (addr_eq(l, ss))
			return 1;
		if (!addr_wildcard(l))
			continue;
		if ((l->ss_family == ss->ss_family ||
		    l->ss_family == AF_INET6) && addr_local(self, ss))
			return 1;
	}
	return 0;
}

enum mta_route_status
mta_route_build(const struct mx_result *res, uint16_t port, int smarthost,
    const struct mta_self *self, struct mta_route_addr *out, size_t cap,
    size_t *n)
{
	struct sockaddr_storage	 ss;
	int			 h, a, selfpref = -1;

	*n = 0;
	/* The best preference at which we are an MX ourselves. */
	for (h = 0; h < res->nhosts; h++) {
		for (a = 0; a < res->hosts[h].naddrs; a++) {
			ss = res->hosts[h].addrs[a];
			addr_set_port(&ss, port);
			if (!mta_self_is(self, &ss))
				continue;
			if (smarthost)
				return MTA_ROUTE_LOOP;
			if (selfpref == -1 || res->hosts[h].pref < selfpref)
				selfpref = res->hosts[h].pref;
		}
	}
	for (h = 0; h < res->nhosts; h++) {
		if (selfpref != -1 && res->hosts[h].pref >= selfpref)
			continue;
		for (a = 0; a < res->hosts[h].naddrs && *n < cap; a++) {
			out[*n].ss = res->hosts[h].addrs[a];
			addr_set_port(&out[*n].ss, port);
			strlcpy(out[*n].host, res->hosts[h].name,
			    sizeof(out[*n].host));
			(*n)++;
		}
	}
	if (*n > 0)
		return MTA_ROUTE_OK;
	return selfpref != -1 ? MTA_ROUTE_LOOP : MTA_ROUTE_NONE;
}

/* Result text is a + b + c, cut at the cap (the text is for people). */
static void
result_set(struct mta_client_result *r, enum mta_client_status st, int code,
    const char *enhanced, const char *a, const char *b, const char *c)
{
	memset(r, 0, sizeof(*r));
	r->status = st;
	r->code = code;
	strlcpy(r->enhanced, enhanced, sizeof(r->enhanced));
	strlcpy(r->text, a, sizeof(r->text));
	strlcat(r->text, b, sizeof(r->text));
	strlcat(r->text, c, sizeof(r->text));
}

void
mta_route_failure(enum mx_status mx, enum mta_route_status rs,
    const char *domain, const char *why, struct mta_client_result *r)
{
	switch (mx) {
	case MX_NULL:
		/* RFC 7505 4.2 */
		result_set(r, MTA_CLIENT_PERMFAIL, 550, "5.1.10", "Null MX: ",
		    why, "");
		return;
	case MX_NXDOMAIN:
		result_set(r, MTA_CLIENT_PERMFAIL, 550, "5.1.2", why, "", "");
		return;
	case MX_NOHOST:
		result_set(r, MTA_CLIENT_TEMPFAIL, 451, "4.4.4", why, "", "");
		return;
	case MX_TEMPFAIL:
		result_set(r, MTA_CLIENT_TEMPFAIL, 451, "4.4.3", why, "", "");
		return;
	case MX_OK:
		break;
	}
	if (rs == MTA_ROUTE_LOOP)
		result_set(r, MTA_CLIENT_PERMFAIL, 554, "5.4.6", "mail for ",
		    domain, " loops back to myself");
	else
		result_set(r, MTA_CLIENT_TEMPFAIL, 451, "4.4.4",
		    "no address to deliver mail for ", domain, "");
}

int
mta_route_tls_policy(const struct sendgated_conf *conf, const char *domain)
{
	int	i;

	for (i = 0; i < conf->ntls_domains; i++)
		if (strcasecmp(conf->tls_domains[i].domain, domain) == 0)
			return conf->tls_domains[i].policy;
	return conf->tls_policy;
}

int
mta_route_result(enum mta_client_status st)
{
	switch (st) {
	case MTA_CLIENT_DELIVERED:
		return MTA_RESULT_DELIVERED;
	case MTA_CLIENT_PERMFAIL:
		return MTA_RESULT_PERMFAIL;
	default:
		/* PENDING or ACCEPTED at the end is a broken session. */
		return MTA_RESULT_TEMPFAIL;
	}
}

int
mta_route_dsn_relayed(enum mta_client_status st, unsigned int ext,
    int notify)
{
	return st == MTA_CLIENT_DELIVERED && !(ext & MTA_CLIENT_EXT_DSN) &&
	    (notify & SMTP_NOTIFY_SUCCESS);
}

const char *
mta_route_ntop(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const void	*p;

	if (ss->ss_family == AF_INET)
		p = &((const struct sockaddr_in *)ss)->sin_addr;
	else if (ss->ss_family == AF_INET6)
		p = &((const struct sockaddr_in6 *)ss)->sin6_addr;
	else
		p = NULL;
	if (p == NULL || inet_ntop(ss->ss_family, p, buf, len) == NULL)
		strlcpy(buf, "?", len);
	return buf;
}

static const char *
result_word(enum mta_client_status st)
{
	switch (mta_route_result(st)) {
	case MTA_RESULT_DELIVERED:
		return "delivered";
	case MTA_RESULT_PERMFAIL:
		return "failed";
	default:
		return "deferred";
	}
}

size_t
mta_log_format(char *buf, size_t cap, const struct mta_log_entry *e)
{
	char		 relay[DNS_NAME_MAX + 80], a[INET6_ADDRSTRLEN];
	char		 reply[MTA_CLIENT_TEXT_MAX + 1], *p;
	const char	*dsn;
	int		 n;

	if (e->host == NULL)
		strlcpy(relay, "none", sizeof(relay));
	else
		snprintf(relay, sizeof(relay), "%s[%s]:%u", e->host,
		    mta_route_ntop(e->ss, a, sizeof(a)), addr_port(e->ss));
	strlcpy(reply, e->res->text, sizeof(reply));
	for (p = reply; *p != '\0'; p++)
		if (*p == '"')
			*p = '\'';
	dsn = e->res->enhanced[0] != '\0' ? e->res->enhanced :
	    e->res->status == MTA_CLIENT_DELIVERED ? "2.0.0" :
	    e->res->status == MTA_CLIENT_PERMFAIL ? "5.0.0" : "4.0.0";
	n = snprintf(buf, cap, "delivery id=%s connector=%s rcpt=%s "
	    "relay=%s tls=%s delay=%llds dsn=%s result=%s reply=\"%d %s\"",
	    e->id, e->connector, e->rcpt, relay,
	    e->tls != NULL ? e->tls : "none", e->delay, dsn,
	    result_word(e->res->status), e->res->code, reply);
	if (n < 0) {
		if (cap > 0)
			buf[0] = '\0';
		return 0;
	}
	return (size_t)n >= cap ? (cap > 0 ? cap - 1 : 0) : (size_t)n;
}
