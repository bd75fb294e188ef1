/*
 * Sending policy from the stored domain state (see policy.h).
 *
 * verified: yes.  failing: yes within `verification grace` of the first
 * missing answer, then no (the checks revoke it at their next pass).
 * pending and revoked: no.  Failing SPF or DKIM records are warnings,
 * unless the configuration says `require spf` / `require dkim`.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "policy.h"
#include "state.h"

/* 1: may send; 0: may not, why says so in words for a 550 reply. */
int
policy_may_send(const struct state_domain *d,
    const struct sendgated_conf *conf, int64_t now, char *why, size_t len)
{
	char		 since[32];
	struct tm	 tm;
	time_t		 t;

	switch (d->state) {
	case DOMAIN_PENDING:
		snprintf(why, len, "domain %s is not verified", d->name);
		return 0;
	case DOMAIN_REVOKED:
		snprintf(why, len, "verification of domain %s was revoked",
		    d->name);
		return 0;
	case DOMAIN_FAILING:
		if (now - d->failing_since >= conf->verify_grace) {
			t = (time_t)d->failing_since;
			if (gmtime_r(&t, &tm) == NULL || strftime(since,
			    sizeof(since), "%Y-%m-%d %H:%M UTC", &tm) == 0)
				snprintf(since, sizeof(since), "?");
			snprintf(why, len, "verification TXT of %s missing "
			    "since %s", d->name, since);
			return 0;
		}
		break;
	case DOMAIN_VERIFIED:
		break;
	}
	if (conf->require_spf && strcmp(d->checks.spf, "pass") != 0) {
		snprintf(why, len, "SPF record of %s does not authorize the "
		    "relay (%s)", d->name, d->checks.spf[0] ? d->checks.spf :
		    "not checked");
		return 0;
	}
	if (conf->require_dkim && strcmp(d->checks.dkim, "ok") != 0) {
		snprintf(why, len, "DKIM record of %s is not published "
		    "correctly (%s)", d->name, d->checks.dkim[0] ?
		    d->checks.dkim : "not checked");
		return 0;
	}
	snprintf(why, len, "ok");
	return 1;
}
