/*
 * Domain checks (see checks.h): scheduling, DNS, state transitions.
 *
 * Lifecycle of an authorization (DESIGN.md): pending -> verified when the
 * verification TXT is found; verified -> failing when an authoritative
 * answer no longer has it; failing -> revoked once it stays missing past
 * `verification grace` (0: at once); found again -> verified.  A DNS
 * temporary failure changes nothing.
 */
#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>

#include <event.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "config.h"
#include "dkim_record.h"
#include "dmarc.h"
#include "dns_job.h"
#include "lka.h"
#include "log.h"
#include "spf.h"
#include "state.h"
#include "verify_token.h"

struct check_key {
	char			 selector[STATE_SELECTOR_MAX];
	char			 algorithm[32];
	char			 keytype[16];
	char			 pubkey[STATE_PUBKEY_MAX];
	enum state_key_status	 status;
	int64_t			 status_since;
	enum dkim_check		 res;		/* of the last evaluation */
	char			 record[16];	/* as stored */
};


struct check_job {
	TAILQ_ENTRY(check_job)	 entry;
	struct state_domain	 d;		/* as read when it started */
	struct check_key	 keys[CHECKS_KEYS_MAX];
	int			 nkeys;
	int			 walk;		/* an spf walk, not a check */
	struct lka_cmd		*cmd;		/* spf walk: who asked */
	char			 walk_domain[NAMES_DOMAIN_MAX + 1];
	struct lka_answer_lines	*lines;
};

/* Output lines of spf walk, kept for the last (complete) run. */
struct lka_answer_lines {
	size_t	 n;
	size_t	 cap;
	struct {
		int	 depth;
		char	*text;
	}	*l;
};

/* A `domain check` waiting for its domain's checks. */
struct check_waiter {
	TAILQ_ENTRY(check_waiter) entry;
	struct lka_cmd		*cmd;
	char			 domain[NAMES_DOMAIN_MAX + 1];
	int64_t			 deadline;
};

static struct sendgated_conf		*checks_conf;
static TAILQ_HEAD(, check_job)		 checks_jobs =
    TAILQ_HEAD_INITIALIZER(checks_jobs);
static TAILQ_HEAD(, check_waiter)	 checks_waiters =
    TAILQ_HEAD_INITIALIZER(checks_waiters);
static int				 checks_njobs;
static struct dns_pool			 checks_pool;
static struct event			 checks_tick;
static struct event			 checks_ev_fill;	/* at once */

/*
 * Diagnoses are for people and fit a column: cut visibly ("...") when a
 * hostile record makes one too long.
 */
static void __attribute__((format(printf, 3, 4)))
checks_diag(char *buf, size_t len, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
}
static int
checks_jobs_max(void)
{
	/* A job asks a few questions at a time: keep the cap busy. */
	return checks_conf->checks_inflight * 2;
}

static int64_t
checks_jittered(int64_t now)
{
	int64_t	 every = checks_conf->checks_every;
	int64_t	 span = every * CHECKS_JITTER_PCT / 100;

	if (span <= 0)
		return now + every;
	return now + every - span + (int64_t)arc4random_uniform(
	    (uint32_t)(2 * span + 1));
}

static void
checks_job_free(struct check_job *j)
{
	size_t	 i;

	TAILQ_REMOVE(&checks_jobs, j, entry);
	checks_njobs--;
	if (j->lines != NULL) {
		for (i = 0; i < j->lines->n; i++)
			free(j->lines->l[i].text);
		free(j->lines->l);
		free(j->lines);
	}
	free(j);
}

static void	checks_wake_waiters(const char *);

static const char *
checks_spf_worse(const char *a, const char *b)
{
	static const char *const order[] = { "pass", "none", "neutral",
	    "softfail", "fail", "temperror", "permerror" };
	int	 ia = 0, ib = 0, i;

	for (i = 0; i < 7; i++) {
		if (strcmp(order[i], a) == 0)
			ia = i;
		if (strcmp(order[i], b) == 0)
			ib = i;
	}
	return ia >= ib ? a : b;
}

static void
checks_spf_request(struct spf_request *r, const struct sockaddr_storage *ss,
    const char *domain, char *sender, size_t senderlen)
{
	memset(r, 0, sizeof(*r));
	snprintf(sender, senderlen, "postmaster@%s", domain);
	r->sender = sender;
	r->helo = checks_conf->hostname;
	r->domain = domain;
	r->receiver = checks_conf->hostname;
	r->now = time(NULL);
	if (ss == NULL)
		return;
	r->family = ss->ss_family;
	if (ss->ss_family == AF_INET)
		memcpy(r->ip, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	else if (ss->ss_family == AF_INET6)
		memcpy(r->ip, &((const struct sockaddr_in6 *)ss)->sin6_addr,
		    16);
}

/*
 * SPF: check_host() for every relay address (the worst result counts),
 * and a walk of the record tree for our include.  Returns 1 when DNS
 * answers are missing.
 */
static int
checks_eval_spf(struct check_job *j, const struct dns_source *src,
    struct state_checks *c)
{
	struct spf_request	 req;
	struct spf_outcome	 out;
	struct spf_walk_summary	 sum;
	enum spf_result		 r;
	char			 sender[NAMES_DOMAIN_MAX + 16];
	int			 i, need = 0;
	const char		*worst = NULL;

	checks_spf_request(&req, NULL, j->d.name, sender, sizeof(sender));
	memset(&sum, 0, sizeof(sum));
	r = spf_walk(j->d.name, &req, checks_conf->spf_include, src, NULL,
	    &sum);
	if (r == SPF_NEED_DNS)
		need = 1;
	for (i = 0; i < checks_conf->nrelay_addrs; i++) {
		checks_spf_request(&req, &checks_conf->relay_addrs[i],
		    j->d.name, sender, sizeof(sender));
		memset(&out, 0, sizeof(out));
		r = spf_check_host(&req, src, &out);
		if (r == SPF_NEED_DNS) {
			need = 1;
			continue;
		}
		if (worst == NULL || checks_spf_worse(spf_result_name(r),
		    worst) != worst) {
			worst = spf_result_name(r);
			checks_diag(c->spf_diag, sizeof(c->spf_diag), "%s",
			    out.diag);
		}
	}
	if (need)
		return 1;
	c->spf_include = sum.include_found;
	if (worst == NULL) {
		/* No relay address configured: judge by the include. */
		worst = r == SPF_NONE ? "none" : r == SPF_PERMERROR ?
		    "permerror" : r == SPF_TEMPERROR ? "temperror" :
		    sum.include_found ? "pass" : "fail";
		checks_diag(c->spf_diag, sizeof(c->spf_diag), "%s", sum.diag);
	}
	snprintf(c->spf, sizeof(c->spf), "%s", worst);
	if (!sum.include_found && r != SPF_NONE && r != SPF_TEMPERROR) {
		checks_diag(c->spf_diag, sizeof(c->spf_diag), "include:%s "
		    "missing%s%s", checks_conf->spf_include,
		    sum.diag[0] ? "; " : "", sum.diag);
	} else if (c->spf_diag[0] == '\0')
		checks_diag(c->spf_diag, sizeof(c->spf_diag), "%s",
		    sum.diag[0] ? sum.diag : "include present");
	return 0;
}

/*
 * DKIM: each key's record at its selector (a CNAME, as with `dkim
 * delegate`, is followed by the resolver); the worst state of the keys
 * that sign counts.  Pending and retired keys are reported by name: a
 * rotation's new record not published yet, or an old one removed, is no
 * fault of the signing.
 */
static int
checks_eval_dkim(struct check_job *j, const struct dns_source *src,
    struct state_checks *c)
{
	const struct dns_answer	*ans;
	enum dkim_check		 r, worst = DKIM_OK;
	char			 q[DNS_NAME_MAX + STATE_SELECTOR_MAX + 16];
	char			 diag[STATE_DIAG_MAX], tag[16];
	size_t			 o = 0;
	int			 i, k, need = 0, n, nactive = 0, full = 0;

	for (i = 0; i < j->nkeys; i++)
		nactive += j->keys[i].status == KEY_ACTIVE;
	/* The active keys first: the diagnosis may be cut. */
	for (k = 0; k < 2 * j->nkeys; k++) {
		i = k % j->nkeys;
		if ((j->keys[i].status == KEY_ACTIVE) != (k < j->nkeys))
			continue;
		snprintf(q, sizeof(q), "%s._domainkey.%s", j->keys[i].selector,
		    j->d.name);
		if (strlen(q) > DNS_NAME_MAX) {
			/* No such DNS name can exist: the record is missing. */
			static const struct dns_answer	 none = { DNS_NXDOMAIN,
			    0, NULL, "" };

			ans = &none;
		} else if (!src->lookup(src->arg, q, DNS_T_TXT, &ans)) {
			need = 1;
			continue;
		}
		if (need)
			continue;
		r = dkim_record_check(ans, j->keys[i].keytype,
		    j->keys[i].pubkey, diag, sizeof(diag));
		/* Every key's result counts for the rotation (checks_rotate). */
		j->keys[i].res = r;
		if ((j->keys[i].status == KEY_ACTIVE || nactive == 0) &&
		    r != DKIM_OK && (worst == DKIM_OK || r > worst))
			worst = r;
		if (full)
			continue;
		tag[0] = '\0';
		if (j->keys[i].status != KEY_ACTIVE)
			snprintf(tag, sizeof(tag), " (%s)",
			    state_key_status_name(j->keys[i].status));
		n = snprintf(c->dkim_diag + o, sizeof(c->dkim_diag) - o,
		    "%s%s%s: %s", o ? "; " : "", j->keys[i].selector, tag,
		    diag);
		if (n < 0 || (size_t)n >= sizeof(c->dkim_diag) - o) {
			memcpy(c->dkim_diag + sizeof(c->dkim_diag) - 4, "...",
			    4);
			full = 1;
			continue;
		}
		o += (size_t)n;
	}
	if (need)
		return 1;
	snprintf(c->dkim, sizeof(c->dkim), "%s", j->nkeys ?
	    dkim_check_name(worst) : "none");
	if (j->nkeys == 0)
		checks_diag(c->dkim_diag, sizeof(c->dkim_diag), "no DKIM keys");
	return 0;
}

/* DMARC: the domain's record, or its organizational domain's. */
static int
checks_eval_dmarc(struct check_job *j, const struct dns_source *src,
    struct state_checks *c)
{
	const struct dns_answer	*ans;
	struct dmarc_policy	 pol;
	enum dmarc_lookup	 r;
	char			 q[DNS_NAME_MAX + 16];
	const char		*org = dmarc_org_domain(j->d.name);
	char			*nl, line2[STATE_DIAG_MAX];

	memset(&pol, 0, sizeof(pol));
	snprintf(q, sizeof(q), "_dmarc.%s", j->d.name);
	if (!src->lookup(src->arg, q, DNS_T_TXT, &ans))
		return 1;
	r = dmarc_answer(ans, 0, &pol);
	if (r == DMARC_LOOKUP_NONE && strcmp(org, j->d.name) != 0) {
		snprintf(q, sizeof(q), "_dmarc.%s", org);
		if (!src->lookup(src->arg, q, DNS_T_TXT, &ans))
			return 1;
		memset(&pol, 0, sizeof(pol));
		r = dmarc_answer(ans, 1, &pol);
	}
	if (r == DMARC_LOOKUP_TEMPFAIL) {
		checks_diag(c->dmarc_diag, sizeof(c->dmarc_diag),
		    "DNS temporary failure: %s", ans->why);
		return 0;
	}
	/* We sign with d= the From domain itself. */
	dmarc_advice(&pol, j->d.name, j->d.name, c->dmarc_diag,
	    sizeof(c->dmarc_diag));
	/* One line in the database and in sendgatectl's columns. */
	if ((nl = strchr(c->dmarc_diag, '\n')) != NULL) {
		*nl = '\0';
		strlcpy(line2, nl + 1, sizeof(line2));
		strlcat(c->dmarc_diag, "; ", sizeof(c->dmarc_diag));
		strlcat(c->dmarc_diag, line2, sizeof(c->dmarc_diag));
	}
	return 0;
}

static const char *
checks_state_name(enum state_domain_state s)
{
	return state_domain_state_name(s);
}

/* Apply the ownership result to the authorization; events as we go. */
static void
checks_transition(struct state_domain *d, enum verify_result v,
    int64_t now, int *changed)
{
	enum state_domain_state	 old = d->state;
	char			 ev[STATE_EVENT_MAX];

	switch (v) {
	case VERIFY_FOUND:
		d->failing_since = 0;
		if (d->state != DOMAIN_VERIFIED)
			d->state = DOMAIN_VERIFIED;
		break;
	case VERIFY_MISSING:
		if (d->state == DOMAIN_VERIFIED) {
			d->state = DOMAIN_FAILING;
			d->failing_since = now;
			snprintf(ev, sizeof(ev), "domain %s failing for "
			    "connector %s: verification TXT missing", d->name,
			    d->connector_name);
			state_event(now, CHECKS_ACTOR, ev);
			log_info("%s", ev);
		}
		if (d->state == DOMAIN_FAILING &&
		    now - d->failing_since >= checks_conf->verify_grace)
			d->state = DOMAIN_REVOKED;
		break;
	case VERIFY_TEMPFAIL:
		break;
	}
	if (d->state != old) {
		d->state_since = now;
		*changed = 1;
		if (d->state != DOMAIN_FAILING) {
			snprintf(ev, sizeof(ev), "domain %s %s for connector "
			    "%s%s", d->name, checks_state_name(d->state),
			    d->connector_name, d->state == DOMAIN_REVOKED ?
			    ": verification TXT missing past the grace time" :
			    "");
			state_event(now, CHECKS_ACTOR, ev);
			log_info("%s", ev);
		}
	}
}

static int
checks_eval_domain(void *arg, const struct dns_source *src)
{
	struct check_job	*j = arg;
	const struct dns_answer	*txt;
	struct state_checks	 c;
	int			 need = 0;

	memset(&c, 0, sizeof(c));
	if (!src->lookup(src->arg, j->d.name, DNS_T_TXT, &txt))
		need = 1;
	need |= checks_eval_spf(j, src, &c);
	need |= checks_eval_dkim(j, src, &c);
	need |= checks_eval_dmarc(j, src, &c);
	if (need)
		return 1;
	j->d.checks = c;
	return 0;
}

static int
checks_key_event(int64_t now, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
checks_key_event(int64_t now, const char *fmt, ...)
{
	char	 ev[STATE_EVENT_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(ev, sizeof(ev), fmt, ap);
	va_end(ap);
	log_info("%s", ev);
	return state_event(now, CHECKS_ACTOR, ev) == STATE_OK ? 0 : -1;
}

/*
 * Key rotation, in the check's transaction: what the check found at the
 * selector of each pending and retired key is stored (domain show); a
 * pending key whose record
 * is published becomes active and retires the active key of its
 * algorithm; a retired key whose record is gone is deleted once
 * LKA_DKIM_RETIRE_KEEP has passed since it was retired (the signer
 * deletes its file after the commit: gone).  Before that, a removed
 * record is only noted (domain show: "removed early").  Another
 * authorization of the domain may have done it already: then nothing
 * is found to change.
 */
static int
checks_rotate(struct check_job *j, int64_t now, struct lka_keyset *gone)
{
	struct check_key	*k;
	struct lka_keyref	*n;
	char			 old[STATE_SELECTOR_MAX];
	int			 i, rc;

	for (i = 0; i < j->nkeys; i++) {
		k = &j->keys[i];
		if (k->res == DKIM_TEMPFAIL)
			continue;
		/*
		 * Kept for keys in a rotation only, and written only when
		 * it changed: the check of every domain must not rewrite
		 * its key rows each time.
		 */
		if (k->status != KEY_ACTIVE && strcmp(k->record,
		    dkim_check_name(k->res)) != 0 &&
		    state_key_set_record(j->d.name, k->selector,
		    dkim_check_name(k->res)) == STATE_ERROR)
			return -1;
		if (k->status == KEY_PENDING && k->res == DKIM_OK) {
			rc = state_key_promote(j->d.name, k->selector, now,
			    old, sizeof(old));
			if (rc == STATE_NOTFOUND)
				continue;
			if (rc != STATE_OK || checks_key_event(now, "domain "
			    "%s: DKIM key %s active%s%s%s", j->d.name,
			    k->selector, old[0] ? ", " : "", old,
			    old[0] ? " retired" : "") == -1)
				return -1;
		} else if (k->status == KEY_RETIRED &&
		    k->res == DKIM_MISSING &&
		    now >= k->status_since + LKA_DKIM_RETIRE_KEEP) {
			rc = state_key_del(j->d.name, k->selector);
			if (rc == STATE_NOTFOUND)
				continue;
			if (rc != STATE_OK || checks_key_event(now, "domain "
			    "%s: retired DKIM key %s deleted: its record is "
			    "gone", j->d.name, k->selector) == -1)
				return -1;
			if (gone->n == gone->cap) {
				if ((n = reallocarray(gone->k, gone->cap + 4,
				    sizeof(*n))) == NULL)
					return -1;
				gone->k = n;
				gone->cap += 4;
			}
			n = &gone->k[gone->n++];
			snprintf(n->domain, sizeof(n->domain), "%s",
			    j->d.name);
			snprintf(n->selector, sizeof(n->selector), "%s",
			    k->selector);
			snprintf(n->alg, sizeof(n->alg), "%s", k->algorithm);
		}
	}
	return 0;
}

static void
checks_done_domain(void *arg, const struct dns_source *src)
{
	struct check_job	*j = arg;
	const struct dns_answer	*txt = NULL;
	struct state_domain	*d = &j->d, cur;
	struct lka_keyset	 gone;
	enum verify_result	 v;
	int64_t			 now = (int64_t)time(NULL);
	int			 changed = 0;
	char			 domain[NAMES_DOMAIN_MAX + 1];

	strlcpy(domain, d->name, sizeof(domain));
	src->lookup(src->arg, d->name, DNS_T_TXT, &txt);
	/* The row may have changed or gone while we asked DNS. */
	switch (state_domain_by_id(d->id, &cur)) {
	case STATE_OK:
		break;
	case STATE_NOTFOUND:
		goto done;
	default:
		log_warnx("checks: %s: cannot read: %s", d->name,
		    state_error());
		goto done;
	}
	d->state = cur.state;
	d->state_since = cur.state_since;
	d->failing_since = cur.failing_since;
	v = verify_token_check(txt, checks_conf->verify_prefix, d->token,
	    d->diag, sizeof(d->diag));
	if (state_begin() != STATE_OK)
		goto fail;
	checks_transition(d, v, now, &changed);
	if (v == VERIFY_TEMPFAIL) {
		char	 tmp[STATE_DIAG_MAX];

		checks_diag(tmp, sizeof(tmp), "%s (state unchanged)", d->diag);
		checks_diag(d->diag, sizeof(d->diag), "%s", tmp);
	}
	/*
	 * The first check of a domain sets where in the interval it stays:
	 * anywhere in the next one, so domains added together (or imported
	 * at once) do not all come due together again.
	 */
	if (cur.last_check == 0)
		d->next_check = now + checks_conf->checks_every / 2 +
		    (int64_t)arc4random_uniform(
		    (uint32_t)checks_conf->checks_every + 1);
	else
		d->next_check = checks_jittered(now);
	d->last_check = now;
	memset(&gone, 0, sizeof(gone));
	if (state_domain_save(d) == STATE_ERROR ||
	    checks_rotate(j, now, &gone) == -1 ||
	    state_commit() != STATE_OK) {
		free(gone.k);
		goto fail;
	}
	lka_keys_release(&gone);
	log_debug("checks: %s (%s): %s; spf %s; dkim %s", d->name,
	    d->connector_name, checks_state_name(d->state), d->checks.spf,
	    d->checks.dkim);
	goto done;
fail:
	log_warnx("checks: %s: cannot save: %s", d->name, state_error());
	state_rollback();
done:
	checks_job_free(j);
	/* Now that the job is gone, its waiters may be answered. */
	checks_wake_waiters(domain);
	/* A slot came free: the next due check need not wait for the tick. */
	if (!evtimer_pending(&checks_ev_fill, NULL)) {
		struct timeval	 tv = { 0, 0 };

		evtimer_add(&checks_ev_fill, &tv);
	}
}

static int
checks_collect_key(const struct state_key *k, void *arg)
{
	struct check_job	*j = arg;
	struct check_key	*ck;

	if (j->nkeys == CHECKS_KEYS_MAX)
		return -1;
	ck = &j->keys[j->nkeys++];
	snprintf(ck->selector, sizeof(ck->selector), "%s", k->selector);
	snprintf(ck->algorithm, sizeof(ck->algorithm), "%s", k->algorithm);
	ck->status = k->status;
	ck->status_since = k->status_since;
	ck->res = DKIM_TEMPFAIL;
	snprintf(ck->record, sizeof(ck->record), "%s", k->record);
	snprintf(ck->keytype, sizeof(ck->keytype), "%s",
	    strncmp(k->algorithm, "ed25519", 7) == 0 ? "ed25519" : "rsa");
	snprintf(ck->pubkey, sizeof(ck->pubkey), "%s", k->pubkey);
	return 0;
}

static struct check_job *
checks_job_new(void)
{
	struct check_job	*j;

	if ((j = calloc(1, sizeof(*j))) == NULL)
		fatal("checks_job_new");
	TAILQ_INSERT_TAIL(&checks_jobs, j, entry);
	checks_njobs++;
	return j;
}

static int
checks_running(int64_t id)
{
	struct check_job	*j;

	TAILQ_FOREACH(j, &checks_jobs, entry)
		if (j->d.id == id && !j->walk)
			return 1;
	return 0;
}

static int
checks_start(const struct state_domain *d, void *arg)
{
	struct check_job	*j;

	if (checks_running(d->id))
		return 0;
	if (checks_njobs >= checks_jobs_max())
		return -1;
	j = checks_job_new();
	j->d = *d;
	if (state_key_list(d->name, checks_collect_key, j) == STATE_ERROR)
		log_warnx("checks: %s: %s", d->name, state_error());
	dns_job_start(&checks_pool, checks_eval_domain, checks_done_domain, j);
	return 0;
}

/*
 * Start what is due, as far as there is room.  Running checks are still
 * due (their next check is set when they finish), so ask for that many
 * rows more.
 */
static void
checks_fill(int fd, short ev, void *arg)
{
	int64_t	 now = (int64_t)time(NULL);
	int	 room = checks_jobs_max() - checks_njobs;

	if (room > 0 && state_domain_due(now, room + checks_njobs,
	    checks_start, NULL) == STATE_ERROR)
		log_warnx("checks: %s", state_error());
}

static void
checks_tick_cb(int fd, short ev, void *arg)
{
	struct timeval	 tv = { 1, 0 };

	checks_fill(-1, 0, NULL);
	checks_wake_waiters(NULL);
	evtimer_add(&checks_tick, &tv);
}

/* Spread overdue checks (the relay was down) over one interval. */
static int
checks_spread(const struct state_domain *d, void *arg)
{
	int64_t	 now = *(int64_t *)arg;

	if (d->next_check == 0)
		return 0;	/* new: check at once */
	state_domain_schedule(d->id, now + (int64_t)arc4random_uniform(
	    (uint32_t)checks_conf->checks_every));
	return 0;
}

void
checks_init(struct sendgated_conf *conf)
{
	struct timeval	 tv = { 1, 0 };
	int64_t		 now = (int64_t)time(NULL);

	checks_conf = conf;
	dns_pool_init(&checks_pool, conf->checks_inflight);
	if (state_begin() == STATE_OK &&
	    state_domain_due(now, INT32_MAX, checks_spread, &now) == STATE_OK)
		state_commit();
	else
		state_rollback();
	evtimer_set(&checks_tick, checks_tick_cb, NULL);
	evtimer_set(&checks_ev_fill, checks_fill, NULL);
	evtimer_add(&checks_tick, &tv);
}

static int
checks_due_one(const struct state_domain *d, void *arg)
{
	struct state_domain	*out = arg;

	if (d->next_check <= (int64_t)time(NULL))
		*out = *d;
	return 0;
}

static int
checks_domain_busy(const char *domain)
{
	struct check_job	*j;
	struct state_domain	 d;

	memset(&d, 0, sizeof(d));
	TAILQ_FOREACH(j, &checks_jobs, entry)
		if (!j->walk && strcmp(j->d.name, domain) == 0)
			return 1;
	/* Authorizations of the domain still waiting for their turn. */
	if (state_domain_list(0, domain, checks_due_one, &d) == STATE_OK &&
	    d.id != 0)
		return 1;
	return 0;
}

static int
checks_show(const struct state_domain *d, void *arg)
{
	struct lka_cmd	*c = arg;

	answer_row(c->answer, "check", 0);
	answer_str(c->answer, "connector", d->connector_name);
	answer_str(c->answer, "state", state_domain_state_name(d->state));
	answer_str(c->answer, "ownership", d->diag);
	answer_str(c->answer, "spf", d->checks.spf);
	answer_str(c->answer, "spf_diagnosis", d->checks.spf_diag);
	answer_str(c->answer, "dkim", d->checks.dkim);
	answer_str(c->answer, "dkim_diagnosis", d->checks.dkim_diag);
	answer_str(c->answer, "dmarc", d->checks.dmarc_diag);
	answer_time(c->answer, "next_check", d->next_check);
	return 0;
}

static void
checks_answer(struct check_waiter *w, int late)
{
	struct lka_cmd	*c = w->cmd;

	if (state_domain_list(0, w->domain, checks_show, c) == STATE_ERROR) {
		lka_fail_state(c);
		return;
	}
	if (late)
		lka_done(c, 0, "domain %s: checks still running; the results "
		    "above are the last complete ones", w->domain);
	else
		lka_done(c, 0, "domain %s checked", w->domain);
}

/*
 * Answer the `domain check` requests whose checks are over: those of one
 * domain, or (NULL) all of them.
 */
static void
checks_wake_waiters(const char *domain)
{
	struct check_waiter	*w, *next;
	int64_t			 now = (int64_t)time(NULL);
	int			 late;

	for (w = TAILQ_FIRST(&checks_waiters); w != NULL; w = next) {
		next = TAILQ_NEXT(w, entry);
		late = now >= w->deadline;
		if (!late && domain != NULL && strcmp(domain, w->domain) != 0)
			continue;
		if (!late && checks_domain_busy(w->domain))
			continue;
		TAILQ_REMOVE(&checks_waiters, w, entry);
		checks_answer(w, late);
		free(w);
	}
}

/* sendgatectl domain check: due now, answer when done. */
void
checks_now(struct lka_cmd *c, const char *domain)
{
	struct check_waiter	*w;

	if (state_domain_schedule_name(domain, 0) != STATE_OK) {
		lka_fail_state(c);
		return;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		fatal("checks_now");
	w->cmd = c;
	snprintf(w->domain, sizeof(w->domain), "%s", domain);
	w->deadline = (int64_t)time(NULL) + CHECKS_WAIT_SEC;
	TAILQ_INSERT_TAIL(&checks_waiters, w, entry);
	checks_tick_cb(-1, 0, NULL);
}

static void
checks_walk_line(void *arg, int depth, const char *text)
{
	struct check_job	*j = arg;
	struct lka_answer_lines	*l = j->lines;
	void			*n;

	if (l->n == l->cap) {
		if ((n = reallocarray(l->l, l->cap + 32, sizeof(*l->l))) ==
		    NULL)
			return;
		l->l = n;
		l->cap += 32;
	}
	if ((l->l[l->n].text = strdup(text)) == NULL)
		return;
	l->l[l->n].depth = depth;
	l->n++;
}

static int
checks_eval_walk(void *arg, const struct dns_source *src)
{
	struct check_job	*j = arg;
	struct spf_walk_summary	 sum;
	struct spf_request	 req;
	struct spf_walk_cb	 cb = { checks_walk_line, j };
	char			 sender[NAMES_DOMAIN_MAX + 16];
	size_t			 i;
	enum spf_result		 r;

	for (i = 0; i < j->lines->n; i++)
		free(j->lines->l[i].text);
	j->lines->n = 0;
	checks_spf_request(&req, checks_conf->nrelay_addrs > 0 ?
	    &checks_conf->relay_addrs[0] : NULL, j->walk_domain, sender,
	    sizeof(sender));
	memset(&sum, 0, sizeof(sum));
	r = spf_walk(j->walk_domain, &req, checks_conf->spf_include, src,
	    &cb, &sum);
	if (r == SPF_NEED_DNS)
		return 1;
	snprintf(j->d.diag, sizeof(j->d.diag), "%s", sum.diag);
	return 0;
}

static void
checks_done_walk(void *arg, const struct dns_source *src)
{
	struct check_job	*j = arg;
	size_t			 i;

	for (i = 0; i < j->lines->n; i++) {
		answer_row(j->cmd->answer, "line", 0);
		answer_int(j->cmd->answer, "depth", j->lines->l[i].depth);
		answer_str(j->cmd->answer, "text", j->lines->l[i].text);
	}
	lka_done(j->cmd, 0, "%s", j->d.diag);
	checks_job_free(j);
}

/* sendgatectl spf walk: the record tree, without changing any state. */
void
checks_spf_walk(struct lka_cmd *c, const char *domain)
{
	struct check_job	*j;

	j = checks_job_new();
	j->walk = 1;
	j->cmd = c;
	snprintf(j->walk_domain, sizeof(j->walk_domain), "%s", domain);
	if ((j->lines = calloc(1, sizeof(*j->lines))) == NULL)
		fatal("checks_spf_walk");
	dns_job_start(&checks_pool, checks_eval_walk, checks_done_walk, j);
}
