/*
 * sendgatectl domain rotate (issue 7): a new DKIM key pair per
 * algorithm under a new selector, stored as pending.  The relay keeps
 * signing with the active keys; the domain checks (checks.c) make a
 * pending key active once its record is published, retire the key it
 * replaces, and delete a retired key once its record is gone, no sooner
 * than LKA_DKIM_RETIRE_KEEP after it was retired.
 *
 * Selectors: <selector>-<yyyymm>[letter]-<alg> (dkim_selector.h); with
 * `dkim delegate`, the other one of the domain's pair, so that the
 * customer's CNAMEs never change and only the provider's zone does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checks.h"
#include "config.h"
#include "dkim_selector.h"
#include "lka.h"
#include "log.h"
#include "state.h"

#define ROTATE_KEYS_MAX		16	/* a domain's keys looked at */

struct rotate_keys {
	int			 n;
	int			 more;		/* some did not fit */
	struct state_key	 k[ROTATE_KEYS_MAX];
};

static struct sendgated_conf	*rotate_conf;

void
lka_rotate_init(struct sendgated_conf *conf)
{
	rotate_conf = conf;
}

static int
rotate_collect(const struct state_key *k, void *arg)
{
	struct rotate_keys	*ks = arg;

	if (ks->n == ROTATE_KEYS_MAX) {
		ks->more = 1;
		return 0;
	}
	ks->k[ks->n++] = *k;
	return 0;
}

static int
rotate_taken(const char *selector, void *arg)
{
	struct rotate_keys	*ks = arg;
	int			 i;

	for (i = 0; i < ks->n; i++)
		if (strcmp(ks->k[i].selector, selector) == 0)
			return 1;
	return ks->more ? -1 : 0;
}

static const struct state_key *
rotate_find(const struct rotate_keys *ks, const char *alg,
    enum state_key_status status)
{
	int	 i;

	for (i = 0; i < ks->n; i++)
		if (ks->k[i].status == status &&
		    strcmp(ks->k[i].algorithm, alg) == 0)
			return &ks->k[i];
	return NULL;
}

static void
rotate_utc(int64_t when, char *buf, size_t len)
{
	time_t		 t = (time_t)when;
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%lld", (long long)when);
}

/* --cancel: drop the pending keys; the active ones go on signing. */
static void
rotate_cancel(struct lka_cmd *c, const char *domain,
    const struct rotate_keys *ks)
{
	char	 names[2 * STATE_SELECTOR_MAX + 8];
	int	 i, n = 0;

	names[0] = '\0';
	if (state_begin() != STATE_OK)
		goto fail;
	for (i = 0; i < ks->n; i++) {
		if (ks->k[i].status != KEY_PENDING)
			continue;
		if (state_key_del(domain, ks->k[i].selector) == STATE_ERROR)
			goto fail;
		if (n++)
			strlcat(names, ", ", sizeof(names));
		strlcat(names, ks->k[i].selector, sizeof(names));
	}
	if (n == 0) {
		state_rollback();
		lka_done(c, 1, "domain %s: no rotation is pending", domain);
		return;
	}
	if (lka_event(c, "domain %s: DKIM rotation cancelled, key%s %s "
	    "deleted", domain, n == 1 ? "" : "s", names) == -1 ||
	    state_commit() != STATE_OK)
		goto fail;
	for (i = 0; i < ks->n; i++)
		if (ks->k[i].status == KEY_PENDING)
			lka_keydel(domain, ks->k[i].selector,
			    ks->k[i].algorithm);
	lka_done(c, 0, "domain %s: rotation cancelled; key%s %s deleted "
	    "(remove %s records if you published them)", domain,
	    n == 1 ? "" : "s", names, n == 1 ? "its" : "their");
	return;
fail:
	state_rollback();
	lka_fail_state(c);
}

void
lka_domain_rotate(struct lka_cmd *c)
{
	struct rotate_keys	 ks;
	const struct state_key	*cur, *pend;
	char			 a[NAMES_DOMAIN_MAX + 1];
	char			 u[NAMES_DOMAIN_UNICODE_MAX + 1];
	char			 sel[LKA_ALGS][STATE_SELECTOR_MAX];
	char			 when[32];
	int			 i, nnew = 0;

	if (lka_domain_param_authorized(c, a, u) == -1)
		return;
	if (lka_keygen_find_domain(a) != NULL) {
		lka_done(c, 1, "keys for %s are being generated; try again in "
		    "a moment", a);
		return;
	}
	memset(&ks, 0, sizeof(ks));
	if (state_key_list(a, rotate_collect, &ks) == STATE_ERROR) {
		lka_fail_state(c);
		return;
	}
	if (lka_param(c, "cancel") != NULL) {
		rotate_cancel(c, a, &ks);
		return;
	}
	for (i = 0; i < LKA_ALGS; i++) {
		if ((pend = rotate_find(&ks, lka_algs[i].alg, KEY_PENDING)) ==
		    NULL)
			continue;
		lka_done(c, 1, "domain %s: a rotation is already pending: "
		    "publish the record of %s (domain show %s prints it) and "
		    "run domain check %s, or drop it with domain rotate %s "
		    "--cancel", a, pend->selector, a, a, a);
		return;
	}
	memset(sel, 0, sizeof(sel));
	for (i = 0; i < LKA_ALGS; i++) {
		if (!(rotate_conf->dkim_algs & lka_algs[i].flag))
			continue;
		nnew++;
		cur = rotate_find(&ks, lka_algs[i].alg, KEY_ACTIVE);
		if (rotate_conf->dkim_delegate[0] == '\0') {
			if (dkim_selector_rotated(rotate_conf->dkim_selector,
			    lka_algs[i].suffix, lka_now(), rotate_taken, &ks,
			    sel[i], sizeof(sel[i])) == -1) {
				lka_done(c, 1, "domain %s: no free selector "
				    "for a rotation this month (%d keys)", a,
				    ks.n);
				return;
			}
			continue;
		}
		/* Delegated: the other selector of the pair must be free. */
		if (dkim_selector_other(rotate_conf->dkim_selector,
		    lka_algs[i].suffix, cur != NULL ? cur->selector : "",
		    sel[i], sizeof(sel[i])) == -1) {
			lka_done(c, 1, "domain %s: selector too long", a);
			return;
		}
		if (rotate_taken(sel[i], &ks) != 0) {
			const struct state_key	*old;

			for (old = ks.k; strcmp(old->selector, sel[i]) != 0;
			    old++)
				;
			rotate_utc(old->status_since + LKA_DKIM_RETIRE_KEEP,
			    when, sizeof(when));
			lka_done(c, 1, "domain %s: the delegated selector %s "
			    "still holds the retired key; it is deleted when "
			    "the checks find its record removed, which is safe "
			    "after %s; rotate again then", a, sel[i], when);
			return;
		}
	}
	if (nnew == 0 || ks.n + nnew > CHECKS_KEYS_MAX) {
		lka_done(c, 1, "domain %s has %d DKIM keys; remove the records "
		    "of retired keys (domain show %s says when) first", a,
		    ks.n, a);
		return;
	}
	lka_keygen_start(c, a, u, 1, sel);
}

/* The signer made the new keys: store them as pending, print records. */
void
lka_rotate_commit(struct lka_cmd *c, const char *domain, const char *unicode,
    char *const sel[LKA_ALGS], char *const pub[LKA_ALGS])
{
	struct state_key	 k;
	struct rotate_keys	 ks;
	char			 names[2 * STATE_SELECTOR_MAX + 8];
	const char		*pl;
	int64_t			 nauth;
	int			 i, rc = STATE_OK, deleg, cnames = 0, gone = 0;

	names[0] = '\0';
	if (state_begin() != STATE_OK ||
	    state_domain_count(domain, &nauth) != STATE_OK)
		goto fail;
	if (nauth == 0) {
		/* Deleted meanwhile: its keys went, the new ones go too. */
		gone = 1;
		goto fail;
	}
	for (i = 0; i < LKA_ALGS; i++) {
		if (pub[i] == NULL)
			continue;
		if ((rc = state_key_add_pending(domain, sel[i],
		    lka_algs[i].alg, pub[i], lka_now())) != STATE_OK)
			goto fail;
		if (names[0] != '\0')
			strlcat(names, ", ", sizeof(names));
		strlcat(names, sel[i], sizeof(names));
	}
	if (lka_event(c, "domain %s: DKIM rotation started, key%s %s pending",
	    domain, strchr(names, ',') ? "s" : "", names) == -1 ||
	    state_commit() != STATE_OK)
		goto fail;
	answer_row(c->answer, "domain", 1);
	answer_str(c->answer, "domain", domain);
	if (strcmp(domain, unicode) != 0)
		answer_str(c->answer, "unicode", unicode);
	answer_str(c->answer, "pending", names);
	/*
	 * Delegation configured after the domain was added: its active
	 * keys are outside the pair, and the customer publishes the
	 * CNAMEs now, once.
	 */
	deleg = rotate_conf->dkim_delegate[0] != '\0';
	if (deleg) {
		memset(&ks, 0, sizeof(ks));
		if (state_key_list(domain, rotate_collect, &ks) ==
		    STATE_ERROR) {
			lka_fail_state(c);
			return;
		}
		for (i = 0; i < ks.n; i++)
			if (ks.k[i].status == KEY_ACTIVE &&
			    !lka_delegated(ks.k[i].selector,
			    lka_alg_index(ks.k[i].algorithm)))
				break;
		if (i < ks.n) {
			lka_record_cnames(c, domain);
			cnames = 1;
		}
	}
	for (i = 0; i < LKA_ALGS; i++) {
		if (pub[i] == NULL)
			continue;
		if (state_key_get(domain, sel[i], &k) != STATE_OK) {
			lka_fail_state(c);
			return;
		}
		lka_record_key(&k, c);
	}
	pl = strchr(names, ',') != NULL ? "s" : "";
	lka_done(c, 0, "domain %s: new DKIM key%s %s pending; publish the "
	    "record%s above%s. The relay keeps signing with the current "
	    "key%s until the checks (or domain check %s) find the new "
	    "record%s, then switches; keep the old record%s until domain "
	    "show %s says it is safe to remove", domain, pl, names, pl,
	    cnames ? " (the CNAMEs once, by the customer; the TXT records "
	    "in the delegation zone)" : deleg ? " in the delegation zone "
	    "(the customer's CNAMEs do not change)" : "", pl, domain, pl, pl, domain);
	return;
fail:
	state_rollback();
	for (i = 0; i < LKA_ALGS; i++)
		if (pub[i] != NULL)
			lka_keydel(domain, sel[i], lka_algs[i].alg);
	if (gone) {
		lka_done(c, 1, "domain %s was removed while its new keys were "
		    "generated; nothing was changed", domain);
		return;
	}
	if (rc == STATE_EXISTS) {
		lka_done(c, 1, "domain %s: another rotation started meanwhile; "
		    "nothing was changed", domain);
		return;
	}
	lka_fail_state(c);
}
