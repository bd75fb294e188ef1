/*
 * mta_route: the addresses a route tries, in order, with loop detection
 * (our listeners, wildcard ones through the local addresses), the
 * results of MX failures, TLS policy per domain, result mapping and the
 * delivery log line.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "config.h"
#include "proto.h"
#include "smtp_parse.h"
#include "mta_route.h"

static struct sockaddr_storage
ss_make(const char *addr, uint16_t port)
{
	struct sockaddr_storage	 ss;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr),
		    1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
	return ss;
}

/* "name:pref:addr,addr name:pref:addr" */
static void
mx_make(struct mx_result *res, const char *spec)
{
	char	 buf[512], *h, *hs, *name, *pref, *addrs, *a, *as;

	memset(res, 0, sizeof(*res));
	res->status = MX_OK;
	strlcpy(buf, spec, sizeof(buf));
	for (h = strtok_r(buf, " ", &hs); h != NULL;
	    h = strtok_r(NULL, " ", &hs)) {
		struct mx_host	*mh = &res->hosts[res->nhosts++];

		name = h;
		pref = strchr(name, ':');
		*pref++ = '\0';
		addrs = strchr(pref, ':');
		*addrs++ = '\0';
		strlcpy(mh->name, name, sizeof(mh->name));
		mh->pref = (uint16_t)atoi(pref);
		for (a = strtok_r(addrs, ",", &as); a != NULL;
		    a = strtok_r(NULL, ",", &as))
			mh->addrs[mh->naddrs++] = ss_make(a, 0);
	}
}

static void
self_make(struct mta_self *self)
{
	memset(self, 0, sizeof(*self));
	self->listen[self->nlisten++] = ss_make("192.0.2.25", 25);
	self->listen[self->nlisten++] = ss_make("0.0.0.0", 2525);
	self->listen[self->nlisten++] = ss_make("::", 2626);
	self->local[self->nlocal++] = ss_make("198.51.100.1", 0);
	self->local[self->nlocal++] = ss_make("2001:db8::1", 0);
}

static void
test_self(void **state)
{
	static const struct {
		const char	*addr;
		uint16_t	 port;
		int		 self;
	} rows[] = {
		{ "192.0.2.25", 25, 1 },	/* a listener, exactly */
		{ "192.0.2.25", 587, 0 },	/* another port */
		{ "192.0.2.26", 25, 0 },
		{ "198.51.100.1", 2525, 1 },	/* wildcard, local address */
		{ "127.0.0.5", 2525, 1 },	/* wildcard, loopback */
		{ "203.0.113.9", 2525, 0 },	/* wildcard, not local */
		{ "2001:db8::1", 2525, 0 },	/* 0.0.0.0 is IPv4 only */
		{ "2001:db8::1", 2626, 1 },	/* :: */
		{ "::1", 2626, 1 },
		{ "198.51.100.1", 2626, 1 },	/* :: is dual-stack */
		{ "2001:db8::2", 2626, 0 },
	};
	struct mta_self		 self;
	struct sockaddr_storage	 ss;
	size_t			 i;

	self_make(&self);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		ss = ss_make(rows[i].addr, rows[i].port);
		if (mta_self_is(&self, &ss) != rows[i].self)
			fail_msg("row %zu %s:%u: want %d", i, rows[i].addr,
			    rows[i].port, rows[i].self);
	}
}

static void
test_build(void **state)
{
	static const struct {
		const char		*mx;
		uint16_t		 port;
		int			 smarthost;
		enum mta_route_status	 status;
		const char		*want;	/* "host=addr:port ..." */
	} rows[] = {
		/* order as given, every address, the port set */
		{ "mx1:10:192.0.2.1,2001:db8::5 mx2:20:192.0.2.2", 25, 0,
		    MTA_ROUTE_OK, "mx1=192.0.2.1:25 mx1=2001:db8::5:25 "
		    "mx2=192.0.2.2:25" },
		/* we are the second MX: only the better one is tried */
		{ "mx1:10:192.0.2.1 me:20:192.0.2.25 mx3:30:192.0.2.3", 25,
		    0, MTA_ROUTE_OK, "mx1=192.0.2.1:25" },
		/* we are the best MX: a loop, whatever comes after */
		{ "me:10:192.0.2.25 mx2:20:192.0.2.2", 25, 0,
		    MTA_ROUTE_LOOP, "" },
		/* an equal preference to ours is no better */
		{ "mx1:10:192.0.2.1 me:10:127.0.0.1", 2525, 0,
		    MTA_ROUTE_LOOP, "" },
		/* our address on another port is someone else */
		{ "mx1:10:192.0.2.25", 2500, 0, MTA_ROUTE_OK,
		    "mx1=192.0.2.25:2500" },
		/* a host with an address of ours is ourselves */
		{ "mx1:10:203.0.113.1,198.51.100.1", 2525, 0,
		    MTA_ROUTE_LOOP, "" },
		/* a smarthost that is ourselves */
		{ "relay:0:127.0.0.1", 2525, 1, MTA_ROUTE_LOOP, "" },
		{ "relay:0:192.0.2.9", 587, 1, MTA_ROUTE_OK,
		    "relay=192.0.2.9:587" },
		{ "gone:10:", 25, 0, MTA_ROUTE_NONE, "" },
	};
	struct mta_route_addr	 out[MTA_ROUTE_ADDRS_MAX];
	struct mx_result	 res;
	struct mta_self		 self;
	enum mta_route_status	 st;
	char			 got[512], a[64];
	size_t			 i, n, k, o;

	self_make(&self);
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		mx_make(&res, rows[i].mx);
		st = mta_route_build(&res, rows[i].port, rows[i].smarthost,
		    &self, out, MTA_ROUTE_ADDRS_MAX, &n);
		got[0] = '\0';
		for (k = 0, o = 0; k < n; k++)
			o += snprintf(got + o, sizeof(got) - o, "%s%s=%s:%u",
			    k ? " " : "", out[k].host, mta_route_ntop(
			    &out[k].ss, a, sizeof(a)), ntohs(
			    out[k].ss.ss_family == AF_INET ?
			    ((struct sockaddr_in *)&out[k].ss)->sin_port :
			    ((struct sockaddr_in6 *)&out[k].ss)->sin6_port));
		if (st != rows[i].status || strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu %s: got %d \"%s\"", i, rows[i].mx,
			    st, got);
	}
}

static void
test_failure(void **state)
{
	static const struct {
		enum mx_status		 mx;
		enum mta_route_status	 rs;
		enum mta_client_status	 status;
		int			 code;
		const char		*enhanced;
		const char		*text;
	} rows[] = {
		{ MX_NULL, MTA_ROUTE_OK, MTA_CLIENT_PERMFAIL, 550, "5.1.10",
		    "Null MX: why" },
		{ MX_NXDOMAIN, MTA_ROUTE_OK, MTA_CLIENT_PERMFAIL, 550,
		    "5.1.2", "why" },
		{ MX_NOHOST, MTA_ROUTE_OK, MTA_CLIENT_TEMPFAIL, 451, "4.4.4",
		    "why" },
		{ MX_TEMPFAIL, MTA_ROUTE_OK, MTA_CLIENT_TEMPFAIL, 451,
		    "4.4.3", "why" },
		{ MX_OK, MTA_ROUTE_LOOP, MTA_CLIENT_PERMFAIL, 554, "5.4.6",
		    "mail for example.org loops back to myself" },
		{ MX_OK, MTA_ROUTE_NONE, MTA_CLIENT_TEMPFAIL, 451, "4.4.4",
		    "no address to deliver mail for example.org" },
	};
	struct mta_client_result	 r;
	size_t				 i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		mta_route_failure(rows[i].mx, rows[i].rs, "example.org",
		    "why", &r);
		if (r.status != rows[i].status || r.code != rows[i].code ||
		    strcmp(r.enhanced, rows[i].enhanced) != 0 ||
		    strcmp(r.text, rows[i].text) != 0)
			fail_msg("row %zu: got %d %d %s \"%s\"", i, r.status,
			    r.code, r.enhanced, r.text);
	}
}

static void
test_tls_policy(void **state)
{
	struct sendgated_conf	*conf = calloc(1, sizeof(*conf));

	assert_non_null(conf);
	conf->tls_policy = CONFIG_TLS_OPPORTUNISTIC;
	strlcpy(conf->tls_domains[0].domain, "example.org",
	    sizeof(conf->tls_domains[0].domain));
	conf->tls_domains[0].policy = CONFIG_TLS_VERIFY;
	strlcpy(conf->tls_domains[1].domain, "example.net",
	    sizeof(conf->tls_domains[1].domain));
	conf->tls_domains[1].policy = CONFIG_TLS_REQUIRE;
	conf->ntls_domains = 2;
	assert_int_equal(mta_route_tls_policy(conf, "example.org"),
	    CONFIG_TLS_VERIFY);
	assert_int_equal(mta_route_tls_policy(conf, "EXAMPLE.net"),
	    CONFIG_TLS_REQUIRE);
	/* that name exactly, not its subdomains */
	assert_int_equal(mta_route_tls_policy(conf, "sub.example.org"),
	    CONFIG_TLS_OPPORTUNISTIC);
	conf->tls_policy = CONFIG_TLS_REQUIRE;
	assert_int_equal(mta_route_tls_policy(conf, "example.com"),
	    CONFIG_TLS_REQUIRE);
	free(conf);
}

static void
test_result_mapping(void **state)
{
	static const struct {
		enum mta_client_status	 st;
		unsigned int		 ext;
		int			 notify;
		int			 result;
		int			 relayed;
	} rows[] = {
		{ MTA_CLIENT_DELIVERED, 0, SMTP_NOTIFY_SUCCESS,
		    MTA_RESULT_DELIVERED, 1 },
		{ MTA_CLIENT_DELIVERED, MTA_CLIENT_EXT_DSN,
		    SMTP_NOTIFY_SUCCESS, MTA_RESULT_DELIVERED, 0 },
		{ MTA_CLIENT_DELIVERED, 0, SMTP_NOTIFY_FAILURE,
		    MTA_RESULT_DELIVERED, 0 },
		{ MTA_CLIENT_DELIVERED, 0, 0, MTA_RESULT_DELIVERED, 0 },
		{ MTA_CLIENT_TEMPFAIL, 0, SMTP_NOTIFY_SUCCESS,
		    MTA_RESULT_TEMPFAIL, 0 },
		{ MTA_CLIENT_PERMFAIL, 0, SMTP_NOTIFY_SUCCESS,
		    MTA_RESULT_PERMFAIL, 0 },
		/* never finished: a broken session, try again */
		{ MTA_CLIENT_ACCEPTED, 0, 0, MTA_RESULT_TEMPFAIL, 0 },
		{ MTA_CLIENT_PENDING, 0, 0, MTA_RESULT_TEMPFAIL, 0 },
	};
	size_t	i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (mta_route_result(rows[i].st) != rows[i].result ||
		    mta_route_dsn_relayed(rows[i].st, rows[i].ext,
		    rows[i].notify) != rows[i].relayed)
			fail_msg("row %zu", i);
	}
}

static void
test_log_line(void **state)
{
	struct mta_client_result	 ok = { MTA_CLIENT_DELIVERED, 250,
	    "2.0.0", "2.0.0 Ok: queued as ABC" };
	struct mta_client_result	 nullmx = { MTA_CLIENT_PERMFAIL, 550,
	    "5.1.10", "Null MX: domain x.example accepts no mail" };
	struct mta_client_result	 quote = { MTA_CLIENT_TEMPFAIL, 451,
	    "", "say \"hi\" result=delivered \x01" };
	struct sockaddr_storage		 v4 = ss_make("192.0.2.1", 25);
	struct sockaddr_storage		 v6 = ss_make("2001:db8::1", 2525);
	struct mta_log_entry		 e = { "Q1", "web1", "a@x.example",
	    "mx.x.example", &v4, "TLSv1.3", 12, &ok };
	char				 line[1024];

	mta_log_format(line, sizeof(line), &e);
	assert_string_equal(line, "delivery id=Q1 connector=web1 "
	    "rcpt=a@x.example relay=mx.x.example[192.0.2.1]:25 tls=TLSv1.3 "
	    "delay=12s dsn=2.0.0 result=delivered "
	    "reply=\"250 2.0.0 Ok: queued as ABC\"");

	e.host = NULL;
	e.tls = NULL;
	e.res = &nullmx;
	mta_log_format(line, sizeof(line), &e);
	assert_string_equal(line, "delivery id=Q1 connector=web1 "
	    "rcpt=a@x.example relay=none tls=none delay=12s dsn=5.1.10 "
	    "result=failed reply=\"550 Null MX: domain x.example accepts "
	    "no mail\"");

	/* a '"' cannot end the field early; control bytes are log_escape's */
	e.host = "h";
	e.ss = &v6;
	e.res = &quote;
	mta_log_format(line, sizeof(line), &e);
	assert_string_equal(line, "delivery id=Q1 connector=web1 "
	    "rcpt=a@x.example relay=h[2001:db8::1]:2525 tls=none delay=12s "
	    "dsn=4.0.0 result=deferred "
	    "reply=\"451 say 'hi' result=delivered \x01\"");

	/* cut, never overflowed */
	assert_int_equal(mta_log_format(line, 20, &e), 19);
	assert_int_equal(strlen(line), 19);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_self),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_failure),
		cmocka_unit_test(test_tls_policy),
		cmocka_unit_test(test_result_mapping),
		cmocka_unit_test(test_log_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
