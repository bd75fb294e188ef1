/*
 * policy_may_send: the domain state and the checks decide whether a
 * connector may send, and the 550 text says why not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "config.h"
#include "policy.h"
#include "state.h"

#define NROWS(a)	(sizeof(a) / sizeof((a)[0]))
#define DAY		(24 * 3600)
#define GRACE		(3 * DAY)
#define SINCE		1700000000	/* 2023-11-14 22:13:20 UTC */
#define DOMAIN		"example.com"

#define REQ_NONE	0
#define REQ_SPF		1
#define REQ_DKIM	2

static const struct {
	const char		*name;
	enum state_domain_state	 state;
	int64_t			 failing_for;	/* seconds before now */
	int64_t			 grace;
	int			 require;	/* REQ_* */
	const char		*spf;
	const char		*dkim;
	int			 may;
	const char		*why;
} rows[] = {
	{ "pending", DOMAIN_PENDING, 0, GRACE, REQ_NONE, "pass", "ok", 0,
	    "domain " DOMAIN " is not verified" },
	{ "verified", DOMAIN_VERIFIED, 0, GRACE, REQ_NONE, "", "", 1, "ok" },
	{ "revoked", DOMAIN_REVOKED, 0, GRACE, REQ_NONE, "pass", "ok", 0,
	    "verification of domain " DOMAIN " was revoked" },
	{ "failing, just started", DOMAIN_FAILING, 0, GRACE, REQ_NONE, "",
	    "", 1, "ok" },
	{ "failing, a second inside the grace", DOMAIN_FAILING, GRACE - 1,
	    GRACE, REQ_NONE, "", "", 1, "ok" },
	{ "failing, grace over", DOMAIN_FAILING, GRACE, GRACE, REQ_NONE, "",
	    "", 0, "verification TXT of " DOMAIN " missing since "
	    "2023-11-14 22:13 UTC" },
	{ "failing, long past the grace", DOMAIN_FAILING, 100 * DAY, GRACE,
	    REQ_NONE, "pass", "ok", 0, "verification TXT of " DOMAIN
	    " missing since 2023-11-14 22:13 UTC" },
	{ "failing, grace 0", DOMAIN_FAILING, 0, 0, REQ_NONE, "", "", 0,
	    "verification TXT of " DOMAIN " missing since "
	    "2023-11-14 22:13 UTC" },
	{ "verified, grace 0", DOMAIN_VERIFIED, 0, 0, REQ_NONE, "", "", 1,
	    "ok" },

	/* Failing SPF and DKIM checks are warnings... */
	{ "spf fail, not required", DOMAIN_VERIFIED, 0, GRACE, REQ_NONE,
	    "fail", "missing", 1, "ok" },
	/* ... unless required. */
	{ "require spf, pass", DOMAIN_VERIFIED, 0, GRACE, REQ_SPF, "pass",
	    "missing", 1, "ok" },
	{ "require spf, fail", DOMAIN_VERIFIED, 0, GRACE, REQ_SPF, "fail",
	    "ok", 0, "SPF record of " DOMAIN " does not authorize the relay "
	    "(fail)" },
	{ "require spf, not checked", DOMAIN_VERIFIED, 0, GRACE, REQ_SPF, "",
	    "ok", 0, "SPF record of " DOMAIN " does not authorize the relay "
	    "(not checked)" },
	{ "require spf, within the grace", DOMAIN_FAILING, DAY, GRACE,
	    REQ_SPF, "softfail", "ok", 0, "SPF record of " DOMAIN
	    " does not authorize the relay (softfail)" },
	{ "require dkim, ok", DOMAIN_VERIFIED, 0, GRACE, REQ_DKIM, "fail",
	    "ok", 1, "ok" },
	{ "require dkim, missing", DOMAIN_VERIFIED, 0, GRACE, REQ_DKIM,
	    "pass", "missing", 0, "DKIM record of " DOMAIN " is not "
	    "published correctly (missing)" },
	{ "require dkim, not checked", DOMAIN_VERIFIED, 0, GRACE, REQ_DKIM,
	    "pass", "", 0, "DKIM record of " DOMAIN " is not published "
	    "correctly (not checked)" },
	{ "require both, both pass", DOMAIN_VERIFIED, 0, GRACE,
	    REQ_SPF | REQ_DKIM, "pass", "ok", 1, "ok" },
	{ "require both, SPF is named first", DOMAIN_VERIFIED, 0, GRACE,
	    REQ_SPF | REQ_DKIM, "permerror", "mismatch", 0, "SPF record of "
	    DOMAIN " does not authorize the relay (permerror)" },
	{ "require both, pending is named first", DOMAIN_PENDING, 0, GRACE,
	    REQ_SPF | REQ_DKIM, "fail", "missing", 0,
	    "domain " DOMAIN " is not verified" },
};

static void
test_rows(void **state)
{
	struct sendgated_conf	*conf;
	struct state_domain	 d;
	char			 why[256];
	size_t			 i;
	int			 may;

	assert_non_null(conf = calloc(1, sizeof(*conf)));
	for (i = 0; i < NROWS(rows); i++) {
		memset(&d, 0, sizeof(d));
		strlcpy(d.name, DOMAIN, sizeof(d.name));
		d.state = rows[i].state;
		if (d.state == DOMAIN_FAILING)
			d.failing_since = SINCE;
		strlcpy(d.checks.spf, rows[i].spf, sizeof(d.checks.spf));
		strlcpy(d.checks.dkim, rows[i].dkim, sizeof(d.checks.dkim));
		conf->verify_grace = rows[i].grace;
		conf->require_spf = (rows[i].require & REQ_SPF) != 0;
		conf->require_dkim = (rows[i].require & REQ_DKIM) != 0;
		memset(why, 'x', sizeof(why));
		may = policy_may_send(&d, conf, SINCE + rows[i].failing_for,
		    why, sizeof(why));
		if (may != rows[i].may || strcmp(why, rows[i].why) != 0)
			fail_msg("row \"%s\": got %d \"%s\", want %d \"%s\"",
			    rows[i].name, may, why, rows[i].may, rows[i].why);
	}
	free(conf);
}

/* The reason is cut to the buffer, never written past it. */
static void
test_short_buffer(void **state)
{
	struct sendgated_conf	*conf;
	struct state_domain	 d;
	char			 why[12];

	assert_non_null(conf = calloc(1, sizeof(*conf)));
	memset(&d, 0, sizeof(d));
	strlcpy(d.name, DOMAIN, sizeof(d.name));
	d.state = DOMAIN_PENDING;
	assert_int_equal(policy_may_send(&d, conf, SINCE, why, sizeof(why)),
	    0);
	assert_string_equal(why, "domain exam");
	free(conf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_short_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
