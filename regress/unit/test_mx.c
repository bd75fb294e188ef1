/*
 * mx_resolve: MX hosts in order with their addresses, implicit MX, Null
 * MX, failures; over a table of answers, through the same rerun store
 * lka uses.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "dns.h"
#include "mx.h"

/* One zone entry: name, type, status, and up to three values. */
struct zrow {
	const char	*name;
	enum dns_type	 type;
	enum dns_status	 status;
	const char	*v[3];		/* "10 mx1.example.com", "192.0.2.1" */
};

static const struct zrow	*zone;
static int			 asked;

static struct dns_answer *
zone_answer(const char *qname, enum dns_type qtype)
{
	struct dns_answer	*a = calloc(1, sizeof(*a));
	const struct zrow	*z;
	char			 host[DNS_NAME_MAX + 1];
	unsigned int		 pref;
	int			 i;

	assert_non_null(a);
	a->status = DNS_NXDOMAIN;
	for (z = zone; z->name != NULL; z++) {
		if (strcmp(z->name, qname) != 0)
			continue;
		if (a->status == DNS_NXDOMAIN)
			a->status = DNS_NODATA;
		if (z->type != qtype)
			continue;
		a->status = z->status;
		if (z->status == DNS_TEMPFAIL)
			strlcpy(a->why, "SERVFAIL", sizeof(a->why));
		a->rr = calloc(3, sizeof(*a->rr));
		for (i = 0; i < 3 && z->v[i] != NULL; i++) {
			struct dns_rr	*rr = &a->rr[a->nrr++];

			rr->type = qtype;
			if (qtype == DNS_T_MX) {
				host[0] = '\0';
				assert_true(sscanf(z->v[i], "%u %255s", &pref,
				    host) >= 1);
				rr->u.mx.pref = (uint16_t)pref;
				strlcpy(rr->u.mx.host, strcmp(host, ".") ?
				    host : "", sizeof(rr->u.mx.host));
			} else
				assert_int_equal(inet_pton(qtype == DNS_T_A ?
				    AF_INET : AF_INET6, z->v[i],
				    rr->u.addr), 1);
		}
	}
	return a;
}

static int
answer_one(void *arg, const char *qname, enum dns_type qtype)
{
	asked++;
	assert_int_equal(dns_store_put(arg, qname, qtype,
	    zone_answer(qname, qtype)), 0);
	return 0;
}

/* The production loop: evaluate, answer what is missing, again. */
static struct mx_result
resolve_with(const char *domain, int (*fn)(const char *,
    const struct dns_source *, struct mx_result *))
{
	struct dns_store	*st = dns_store_new();
	struct dns_source	 src = dns_store_source(st);
	struct mx_result	 res;
	int			 runs = 0;

	asked = 0;
	while (fn(domain, &src, &res) == 1) {
		assert_true(++runs < 50);
		dns_store_wants(st, answer_one, st);
	}
	dns_store_free(st);
	return res;
}

static struct mx_result
resolve(const char *domain)
{
	return resolve_with(domain, mx_resolve);
}

static const char *
addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	if (ss->ss_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
		    buf, len);
	else
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->
		    sin6_addr, buf, len);
	return buf;
}

static const struct zrow zone_main[] = {
	{ "example.com", DNS_T_MX, DNS_ANSWER,
	    { "20 mx2.example.com", "10 mx1.example.com" } },
	{ "mx1.example.com", DNS_T_A, DNS_ANSWER, { "192.0.2.1" } },
	{ "mx1.example.com", DNS_T_AAAA, DNS_ANSWER, { "2001:db8::1" } },
	{ "mx2.example.com", DNS_T_A, DNS_ANSWER,
	    { "192.0.2.2", "192.0.2.3" } },
	{ "implicit.example", DNS_T_A, DNS_ANSWER, { "198.51.100.7" } },
	{ "null.example", DNS_T_MX, DNS_ANSWER, { "0 ." } },
	{ "broken.example", DNS_T_MX, DNS_TEMPFAIL, { NULL } },
	{ "nohost.example", DNS_T_MX, DNS_ANSWER, { "10 gone.example" } },
	{ "slow.example", DNS_T_MX, DNS_ANSWER, { "10 flaky.example" } },
	{ "flaky.example", DNS_T_A, DNS_TEMPFAIL, { NULL } },
	{ "flaky.example", DNS_T_AAAA, DNS_TEMPFAIL, { NULL } },
	{ "half.example", DNS_T_MX, DNS_ANSWER,
	    { "10 flaky.example", "20 mx1.example.com" } },
	{ NULL }
};

static void
test_resolve_table(void **state)
{
	static const struct {
		const char	*domain;
		enum mx_status	 status;
		const char	*hosts;	/* "name:addr,addr name:..." */
		const char	*why;
	} rows[] = {
		{ "example.com", MX_OK, "mx1.example.com:2001:db8::1,"
		    "192.0.2.1 mx2.example.com:192.0.2.2,192.0.2.3", "" },
		{ "implicit.example", MX_OK, "implicit.example:198.51.100.7",
		    "" },
		{ "null.example", MX_NULL, "",
		    "domain null.example accepts no mail (null MX)" },
		{ "missing.example", MX_NXDOMAIN, "",
		    "domain missing.example does not exist" },
		{ "broken.example", MX_TEMPFAIL, "", "MX lookup: SERVFAIL" },
		{ "nohost.example", MX_NOHOST, "gone.example:",
		    "no MX host of nohost.example has an address" },
		{ "slow.example", MX_TEMPFAIL, "flaky.example:",
		    "address lookups of the MX hosts of slow.example failed "
		    "temporarily" },
		{ "half.example", MX_OK, "flaky.example: "
		    "mx1.example.com:2001:db8::1,192.0.2.1", "" },
	};
	struct mx_result	 res;
	char			 got[1024], a[64];
	size_t			 i, o;
	int			 h, k;

	zone = zone_main;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		res = resolve(rows[i].domain);
		o = 0;
		got[0] = '\0';
		for (h = 0; h < res.nhosts; h++) {
			o += snprintf(got + o, sizeof(got) - o, "%s%s:",
			    h ? " " : "", res.hosts[h].name);
			for (k = 0; k < res.hosts[h].naddrs; k++)
				o += snprintf(got + o, sizeof(got) - o, "%s%s",
				    k ? "," : "", addr(&res.hosts[h].addrs[k],
				    a, sizeof(a)));
		}
		if (res.status != rows[i].status ||
		    strcmp(got, rows[i].hosts) != 0 ||
		    strcmp(res.why, rows[i].why) != 0)
			fail_msg("row %zu %s: got %s \"%s\" \"%s\"", i,
			    rows[i].domain, mx_status_name(res.status), got,
			    res.why);
	}
}

static const struct zrow zone_many[] = {
	{ "many.example", DNS_T_MX, DNS_ANSWER,
	    { "10 a.example", "10 b.example", "10 c.example" } },
	{ "a.example", DNS_T_A, DNS_ANSWER, { "192.0.2.1" } },
	{ "b.example", DNS_T_A, DNS_ANSWER, { "192.0.2.2" } },
	{ "c.example", DNS_T_A, DNS_ANSWER, { "192.0.2.3" } },
	{ NULL }
};

static uint32_t	 pick;

static uint32_t
fake_uniform(uint32_t n)
{
	return pick++ % n;
}

/* Equal preferences are shuffled, and only among themselves. */
static void
test_shuffle_keeps_preference_order(void **state)
{
	struct mx_result	 res;
	int			 seen[3] = { 0, 0, 0 }, round, i;

	zone = zone_many;
	for (round = 0; round < 12; round++) {
		res = resolve("many.example");
		assert_int_equal(res.status, MX_OK);
		pick = (uint32_t)round;
		mx_shuffle(&res, fake_uniform);
		assert_int_equal(res.nhosts, 3);
		for (i = 0; i < 3; i++)
			assert_int_equal(res.hosts[i].pref, 10);
		seen[res.hosts[0].name[0] - 'a'] = 1;
	}
	/* Every host came first at least once. */
	assert_true(seen[0] && seen[1] && seen[2]);
}

/* The smarthost: its own addresses, never its MX. */
static void
test_resolve_host_table(void **state)
{
	static const struct zrow zone_host[] = {
		{ "relay.example", DNS_T_MX, DNS_ANSWER,
		    { "10 elsewhere.example" } },
		{ "relay.example", DNS_T_A, DNS_ANSWER, { "192.0.2.9" } },
		{ "relay.example", DNS_T_AAAA, DNS_ANSWER, { "2001:db8::9" } },
		{ "v4.example", DNS_T_A, DNS_ANSWER, { "192.0.2.4" } },
		{ "mxonly.example", DNS_T_MX, DNS_ANSWER, { "10 v4.example" } },
		{ "flaky.example", DNS_T_A, DNS_TEMPFAIL, { NULL } },
		{ "flaky.example", DNS_T_AAAA, DNS_NODATA, { NULL } },
		{ NULL }
	};
	static const struct {
		const char	*host;
		enum mx_status	 status;
		const char	*hosts;
		const char	*why;
	} rows[] = {
		{ "relay.example", MX_OK,
		    "relay.example:2001:db8::9,192.0.2.9", "" },
		{ "v4.example", MX_OK, "v4.example:192.0.2.4", "" },
		{ "mxonly.example", MX_NOHOST, "mxonly.example:",
		    "host mxonly.example has no address" },
		{ "gone.example", MX_NXDOMAIN, "gone.example:",
		    "host gone.example does not exist" },
		{ "flaky.example", MX_TEMPFAIL, "flaky.example:",
		    "address lookup of flaky.example failed temporarily" },
	};
	struct mx_result	 res;
	char			 got[512], a[64];
	size_t			 i, o;
	int			 h, k;

	zone = zone_host;
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		res = resolve_with(rows[i].host, mx_resolve_host);
		o = 0;
		got[0] = '\0';
		for (h = 0; h < res.nhosts; h++) {
			o += snprintf(got + o, sizeof(got) - o, "%s%s:",
			    h ? " " : "", res.hosts[h].name);
			for (k = 0; k < res.hosts[h].naddrs; k++)
				o += snprintf(got + o, sizeof(got) - o, "%s%s",
				    k ? "," : "", addr(&res.hosts[h].addrs[k],
				    a, sizeof(a)));
		}
		if (res.status != rows[i].status ||
		    strcmp(got, rows[i].hosts) != 0 ||
		    strcmp(res.why, rows[i].why) != 0)
			fail_msg("row %zu %s: got %s \"%s\" \"%s\"", i,
			    rows[i].host, mx_status_name(res.status), got,
			    res.why);
	}
	/* Never an MX question for the smarthost. */
	assert_int_equal(asked, 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_table),
		cmocka_unit_test(test_shuffle_keeps_preference_order),
		cmocka_unit_test(test_resolve_host_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
