/*
 * sendgatectl domain commands in lka, and the DKIM keys that come with a
 * domain: the signer generates them (lka never sees a private key), lka
 * stores the public halves and tells the operator what to publish.
 *
 * Keys belong to the domain, not to the authorization: a domain that two
 * connectors may send for has one set of keys, removed with the last
 * authorization.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "checks.h"
#include "child.h"
#include "credential.h"
#include "dkim_selector.h"
#include "lka.h"
#include "log.h"
#include "mproc.h"
#include "names.h"
#include "state.h"

#define LKA_TXT_CHUNK		255	/* bytes of one TXT character-string */

const struct lka_alg lka_algs[LKA_ALGS] = {
	{ CONFIG_DKIM_RSA, "rsa-sha256", "rsa", "rsa" },
	{ CONFIG_DKIM_ED25519, "ed25519-sha256", "ed25519", "ed25519" },
};

/* A domain add or rotate waiting for the signer. */
struct lka_keygen {
	TAILQ_ENTRY(lka_keygen)	 entry;
	struct lka_cmd		*cmd;
	int			 rotate;	/* else a domain add */
	char			 sel[LKA_ALGS][STATE_SELECTOR_MAX];
	int64_t			 connector;
	char			 connector_name[NAMES_CONNECTOR_MAX + 1];
	char			 domain[NAMES_DOMAIN_MAX + 1];
	char			 unicode[NAMES_DOMAIN_UNICODE_MAX + 1];
	uint64_t		 reqid[LKA_ALGS];	/* 0: not asked */
	int			 waiting;
	int			 failed;
	char			 error[STATE_PUBKEY_MAX];
	char			 pubkey[LKA_ALGS][STATE_PUBKEY_MAX];
};

static struct sendgated_conf		*lka_conf;
static TAILQ_HEAD(, lka_keygen)		 lka_keygens =
    TAILQ_HEAD_INITIALIZER(lka_keygens);
static int				 lka_nkeygens;
static uint64_t				 lka_keygen_reqid;

void
lka_domain_init(struct sendgated_conf *conf)
{
	lka_conf = conf;
}

/*
 * The selector of a domain's first key: with delegation the first of
 * the pair whose CNAMEs the customer publishes once.
 */
static void
lka_selector(int alg, char *buf, size_t len)
{
	if (lka_conf->dkim_delegate[0] != '\0')
		dkim_selector_delegated(lka_conf->dkim_selector,
		    lka_algs[alg].suffix, 0, buf, len);
	else
		snprintf(buf, len, "%s-%s", lka_conf->dkim_selector,
		    lka_algs[alg].suffix);
}

int
lka_alg_index(const char *alg)
{
	int	 i;

	for (i = 0; i < LKA_ALGS; i++)
		if (strcmp(lka_algs[i].alg, alg) == 0)
			return i;
	return -1;
}

/* The domain parameter in A-label form; answers the command when bad. */
int
lka_domain_param(struct lka_cmd *c, char *alabel, char *ulabel)
{
	const char	*in = lka_param(c, "domain");
	char		 err[256];

	if (in == NULL) {
		lka_done(c, 1, "missing domain");
		return -1;
	}
	if (names_domain_normalize(in, alabel, NAMES_DOMAIN_MAX + 1, ulabel,
	    NAMES_DOMAIN_UNICODE_MAX + 1, err, sizeof(err)) == -1) {
		lka_done(c, 1, "invalid domain: %s", err);
		return -1;
	}
	return 0;
}

/*
 * The domain parameter, which must be authorized for some connector;
 * answers the command when it is not (or bad).
 */
int
lka_domain_param_authorized(struct lka_cmd *c, char *alabel, char *ulabel)
{
	int64_t	 n;

	if (lka_domain_param(c, alabel, ulabel) == -1)
		return -1;
	if (state_domain_count(alabel, &n) != STATE_OK) {
		lka_fail_state(c);
		return -1;
	}
	if (n == 0) {
		lka_done(c, 1, "domain %s is not authorized for any connector",
		    alabel);
		return -1;
	}
	return 0;
}

static int
lka_keys_collect(const struct state_key *k, void *arg)
{
	struct lka_keyset	*ks = arg;
	struct lka_keyref	*n;

	if (ks->n == ks->cap) {
		if ((n = reallocarray(ks->k, ks->cap + 16, sizeof(*n))) ==
		    NULL)
			return -1;
		ks->k = n;
		ks->cap += 16;
	}
	snprintf(ks->k[ks->n].domain, sizeof(ks->k[ks->n].domain), "%s",
	    k->domain);
	snprintf(ks->k[ks->n].selector, sizeof(ks->k[ks->n].selector), "%s",
	    k->selector);
	snprintf(ks->k[ks->n].alg, sizeof(ks->k[ks->n].alg), "%s",
	    k->algorithm);
	ks->n++;
	return 0;
}

/*
 * Inside a transaction that removed authorizations: take the keys of
 * domains nobody may send for any more out of the database, remembering
 * them for lka_keys_release() after the commit.
 */
int
lka_keys_orphaned(struct lka_keyset *ks)
{
	size_t	 i, before = ks->n;

	if (state_key_orphans(lka_keys_collect, ks) != STATE_OK)
		return -1;
	for (i = before; i < ks->n; i++)
		if ((i == before || strcmp(ks->k[i].domain,
		    ks->k[i - 1].domain) != 0) &&
		    state_key_del_domain(ks->k[i].domain) != STATE_OK)
			return -1;
	return 0;
}

void
lka_keydel(const char *domain, const char *selector, const char *alg)
{
	struct msg_out	 m;

	msg_out_init(&m);
	m_add_string(&m, domain);
	m_add_string(&m, selector);
	m_add_string(&m, alg);
	mproc_send(child_peer(PROC_SIGNER), IMSG_LKA_DKIM_KEYDEL, 0, -1, &m);
}

/* The change committed: the signer may now delete the private keys. */
void
lka_keys_release(struct lka_keyset *ks)
{
	size_t	 i;

	for (i = 0; i < ks->n; i++)
		lka_keydel(ks->k[i].domain, ks->k[i].selector, ks->k[i].alg);
	free(ks->k);
	memset(ks, 0, sizeof(*ks));
}

/* One DNS record to publish, in zone-file form and as host/type/value. */
static void
lka_record_rr(struct lka_cmd *c, const char *purpose, const char *host,
    const char *type, const char *value)
{
	char	 zone[2048];
	size_t	 len = strlen(value), off, o;
	int	 n;

	n = snprintf(zone, sizeof(zone), "%s. IN %s", host, type);
	o = n > 0 ? (size_t)n : 0;
	if (strcmp(type, "CNAME") == 0) {
		snprintf(zone + o, sizeof(zone) - o, " %s.", value);
		len = 0;
	}
	/* Long values as several character-strings of at most 255 bytes. */
	for (off = 0; off < len && o < sizeof(zone); off += LKA_TXT_CHUNK) {
		n = snprintf(zone + o, sizeof(zone) - o, " \"%.*s\"",
		    (int)(len - off < LKA_TXT_CHUNK ? len - off :
		    LKA_TXT_CHUNK), value + off);
		if (n < 0)
			break;
		o += (size_t)n;
	}
	answer_row(c->answer, "record", 0);
	answer_str(c->answer, "purpose", purpose);
	answer_str(c->answer, "host", host);
	answer_str(c->answer, "type", type);
	answer_str(c->answer, "value", value);
	answer_str(c->answer, "zone", zone);
}

static void
lka_record(struct lka_cmd *c, const char *purpose, const char *host,
    const char *value)
{
	lka_record_rr(c, purpose, host, "TXT", value);
}

/*
 * Is the selector one of the delegated pair of its algorithm?  Its TXT
 * record then lives at <selector>.<domain>.<zone>, which the customer's
 * CNAME at <selector>._domainkey.<domain> points to.
 */
int
lka_delegated(const char *selector, int alg)
{
	char	 sel[STATE_SELECTOR_MAX];
	int	 i;

	if (lka_conf->dkim_delegate[0] == '\0' || alg < 0 || alg >= LKA_ALGS)
		return 0;
	for (i = 0; i < 2; i++)
		if (dkim_selector_delegated(lka_conf->dkim_selector,
		    lka_algs[alg].suffix, i, sel, sizeof(sel)) == 0 &&
		    strcmp(sel, selector) == 0)
			return 1;
	return 0;
}

static void
lka_delegate_target(const char *selector, const char *domain, char *buf,
    size_t len)
{
	snprintf(buf, len, "%s.%s.%s", selector, domain,
	    lka_conf->dkim_delegate);
}

/* The customer's CNAMEs of both delegated selectors, published once. */
void
lka_record_cnames(struct lka_cmd *c, const char *domain)
{
	char	 sel[STATE_SELECTOR_MAX];
	char	 host[STATE_SELECTOR_MAX + NAMES_DOMAIN_MAX + 16];
	char	 target[STATE_SELECTOR_MAX + NAMES_DOMAIN_MAX +
		    CONFIG_HOSTNAME_MAX + 8];
	int	 i, w;

	if (lka_conf->dkim_delegate[0] == '\0')
		return;
	for (i = 0; i < LKA_ALGS; i++) {
		if (!(lka_conf->dkim_algs & lka_algs[i].flag))
			continue;
		for (w = 0; w < 2; w++) {
			if (dkim_selector_delegated(lka_conf->dkim_selector,
			    lka_algs[i].suffix, w, sel, sizeof(sel)) == -1)
				continue;
			snprintf(host, sizeof(host), "%s._domainkey.%s", sel,
			    domain);
			lka_delegate_target(sel, domain, target,
			    sizeof(target));
			lka_record_rr(c, "dkim-cname (the customer publishes "
			    "it once; key rotation never changes it)", host,
			    "CNAME", target);
		}
	}
}

static void
lka_record_verification(struct lka_cmd *c, const char *domain,
    const char *token)
{
	char	 value[CONFIG_NAME_MAX + NAMES_TOKEN_LEN + 16];

	snprintf(value, sizeof(value), "%s-verification=%s",
	    lka_conf->verify_prefix, token);
	lka_record(c, "verification", domain, value);
}

static void
lka_record_spf(struct lka_cmd *c, const char *domain)
{
	char	 value[CONFIG_HOSTNAME_MAX + 32];

	snprintf(value, sizeof(value), "v=spf1 include:%s ~all",
	    lka_conf->spf_include);
	lka_record(c, "spf (or add include:... to the existing SPF record)",
	    domain, value);
}

/*
 * The key record of an active or pending key (a retired key's record is
 * on its way out: domain show says when it may go).  A delegated
 * selector's record is the provider's, at the CNAME's target.
 */
int
lka_record_key(const struct state_key *k, void *arg)
{
	struct lka_cmd	*c = arg;
	char		 host[STATE_SELECTOR_MAX + NAMES_DOMAIN_MAX +
			    CONFIG_HOSTNAME_MAX + 16];
	char		 value[STATE_PUBKEY_MAX + 64];
	int		 i = lka_alg_index(k->algorithm), deleg;

	if (i == -1 || k->status == KEY_RETIRED)
		return 0;
	if ((deleg = lka_delegated(k->selector, i)))
		lka_delegate_target(k->selector, k->domain, host,
		    sizeof(host));
	else
		snprintf(host, sizeof(host), "%s._domainkey.%s", k->selector,
		    k->domain);
	snprintf(value, sizeof(value), "v=DKIM1; k=%s; p=%s",
	    lka_algs[i].keytype, k->pubkey);
	lka_record(c, deleg ? (k->status == KEY_PENDING ? "dkim (new key; "
	    "the provider publishes it in its zone)" : "dkim (the provider "
	    "publishes it in its zone)") : k->status == KEY_PENDING ?
	    "dkim (new key)" : "dkim", host, value);
	return 0;
}

/* Every record a domain needs, for one authorization's token. */
static int
lka_records(struct lka_cmd *c, const char *domain, const char *token)
{
	lka_record_verification(c, domain, token);
	lka_record_spf(c, domain);
	lka_record_cnames(c, domain);
	return state_key_list(domain, lka_record_key, c) == STATE_ERROR ?
	    -1 : 0;
}

struct lka_keygen *
lka_keygen_find_domain(const char *domain)
{
	struct lka_keygen	*k;

	TAILQ_FOREACH(k, &lka_keygens, entry)
		if (strcmp(k->domain, domain) == 0)
			return k;
	return NULL;
}

static void
lka_keygen_free(struct lka_keygen *k)
{
	TAILQ_REMOVE(&lka_keygens, k, entry);
	lka_nkeygens--;
	free(k);
}

/* Keys exist (or were just made): write the authorization. */
static void
lka_domain_commit(struct lka_cmd *c, int64_t connector, const char *cname,
    const char *domain, const char *unicode, struct lka_keygen *k)
{
	char	 token[NAMES_TOKEN_LEN + 1];
	int	 i, rc, gone = 0;

	if (credential_token(token, sizeof(token)) == -1) {
		lka_done(c, 1, "cannot generate a verification token");
		return;
	}
	if (state_begin() != STATE_OK)
		goto fail;
	if ((rc = state_domain_add(connector, domain, token, lka_now())) ==
	    STATE_EXISTS) {
		/* Only the connector can have gone: we checked the rest. */
		gone = 1;
		goto fail;
	}
	if (rc != STATE_OK)
		goto fail;
	for (i = 0; k != NULL && i < LKA_ALGS; i++) {
		if (k->reqid[i] == 0)
			continue;
		if (state_key_add(domain, k->sel[i], lka_algs[i].alg,
		    k->pubkey[i], lka_now()) != STATE_OK)
			goto fail;
	}
	if (lka_event(c, "domain %s added to connector %s", domain, cname) ==
	    -1 || state_commit() != STATE_OK)
		goto fail;
	answer_row(c->answer, "domain", 1);
	answer_str(c->answer, "domain", domain);
	if (strcmp(domain, unicode) != 0)
		answer_str(c->answer, "unicode", unicode);
	answer_str(c->answer, "connector", cname);
	answer_str(c->answer, "state", "pending");
	answer_str(c->answer, "token", token);
	if (lka_records(c, domain, token) == -1) {
		lka_fail_state(c);
		return;
	}
	lka_done(c, 0, "domain %s added to connector %s; publish the records "
	    "above, then the checks verify it", domain, cname);
	return;
fail:
	/* Keys made for this add must not outlive it. */
	for (i = 0; k != NULL && i < LKA_ALGS; i++) {
		if (k->reqid[i] == 0 || k->pubkey[i][0] == '\0')
			continue;
		lka_keydel(domain, k->sel[i], lka_algs[i].alg);
	}
	if (gone) {
		state_rollback();
		lka_done(c, 1, "connector %s was deleted while the keys of %s "
		    "were generated; nothing was changed", cname, domain);
		return;
	}
	lka_fail_state(c);
}

static int
lka_count_key(const struct state_key *k, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

void
lka_domain_add(struct lka_cmd *c)
{
	struct state_connector	 conn;
	struct state_domain	 d;
	struct lka_keygen	*k;
	char			 a[NAMES_DOMAIN_MAX + 1];
	char			 u[NAMES_DOMAIN_UNICODE_MAX + 1];
	char			 sel[LKA_ALGS][STATE_SELECTOR_MAX];
	int			 i, nkeys = 0, rc;

	if (lka_connector_param(c, "connector", &conn) == -1 ||
	    lka_domain_param(c, a, u) == -1)
		return;
	if ((rc = state_domain_get(conn.id, a, &d)) == STATE_OK) {
		lka_done(c, 1, "domain %s is already authorized for connector "
		    "%s", a, conn.name);
		return;
	}
	if (rc != STATE_NOTFOUND ||
	    state_key_list(a, lka_count_key, &nkeys) == STATE_ERROR) {
		lka_fail_state(c);
		return;
	}
	if (lka_keygen_find_domain(a) != NULL) {
		lka_done(c, 1, "keys for %s are being generated; try again in "
		    "a moment", a);
		return;
	}
	if (nkeys > 0) {
		lka_domain_commit(c, conn.id, conn.name, a, u, NULL);
		return;
	}
	for (i = 0; i < LKA_ALGS; i++)
		lka_selector(i, sel[i], sizeof(sel[i]));
	if ((k = lka_keygen_start(c, a, u, 0, sel)) == NULL)
		return;
	k->connector = conn.id;
	snprintf(k->connector_name, sizeof(k->connector_name), "%s",
	    conn.name);
}

/*
 * Ask the signer for a key of every configured algorithm, under the
 * selectors given; the answers come to lka_domain_dkim_key().  NULL (the
 * command answered) when too many are waiting.
 */
struct lka_keygen *
lka_keygen_start(struct lka_cmd *c, const char *domain, const char *unicode,
    int rotate, char sel[LKA_ALGS][STATE_SELECTOR_MAX])
{
	struct lka_keygen	*k;
	struct msg_out		 m;
	int			 i;

	if (lka_nkeygens >= LKA_KEYGEN_PENDING_MAX) {
		lka_done(c, 1, "too many domains waiting for keys; try again");
		return NULL;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL)
		fatal("lka_keygen_start");
	k->cmd = c;
	k->rotate = rotate;
	snprintf(k->domain, sizeof(k->domain), "%s", domain);
	snprintf(k->unicode, sizeof(k->unicode), "%s", unicode);
	for (i = 0; i < LKA_ALGS; i++) {
		if (!(lka_conf->dkim_algs & lka_algs[i].flag))
			continue;
		snprintf(k->sel[i], sizeof(k->sel[i]), "%s", sel[i]);
		/*
		 * The database has no key of this selector, so no published
		 * record can need a file a crash may have left behind: clear
		 * it first (the signer handles our messages in order).
		 */
		lka_keydel(domain, k->sel[i], lka_algs[i].alg);
		k->reqid[i] = ++lka_keygen_reqid;
		k->waiting++;
		msg_out_init(&m);
		m_add_u64(&m, k->reqid[i]);
		m_add_string(&m, domain);
		m_add_string(&m, k->sel[i]);
		m_add_string(&m, lka_algs[i].alg);
		mproc_send(child_peer(PROC_SIGNER), IMSG_LKA_DKIM_KEYGEN, 0,
		    -1, &m);
	}
	TAILQ_INSERT_TAIL(&lka_keygens, k, entry);
	lka_nkeygens++;
	return k;
}

/* The signer answered one key generation. */
void
lka_domain_dkim_key(struct mproc *p, struct imsg *im)
{
	struct lka_keygen	*k;
	struct msg_in		 m;
	char			 text[STATE_PUBKEY_MAX];
	uint64_t		 reqid;
	int			 ok, i = -1;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 || m_get_int(&m, &ok) == -1 ||
	    m_get_string(&m, text, sizeof(text)) == -1 || m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	TAILQ_FOREACH(k, &lka_keygens, entry) {
		for (i = 0; i < LKA_ALGS; i++)
			if (k->reqid[i] == reqid)
				break;
		if (i < LKA_ALGS)
			break;
	}
	if (k == NULL) {
		mproc_malformed(p, im, NULL);	/* we never asked */
		return;
	}
	if (ok)
		snprintf(k->pubkey[i], sizeof(k->pubkey[i]), "%s", text);
	else {
		k->failed = 1;
		snprintf(k->error, sizeof(k->error), "%s", text);
	}
	if (--k->waiting > 0)
		return;
	if (k->failed) {
		for (i = 0; i < LKA_ALGS; i++) {
			if (k->pubkey[i][0] == '\0')
				continue;
			lka_keydel(k->domain, k->sel[i], lka_algs[i].alg);
		}
		log_warnx("domain %s: key generation failed: %s", k->domain,
		    k->error);
		lka_done(k->cmd, 1, "domain %s: DKIM key generation failed: "
		    "%s; nothing was changed", k->domain, k->error);
	} else if (k->rotate) {
		char	*pub[LKA_ALGS], *sel[LKA_ALGS];

		for (i = 0; i < LKA_ALGS; i++) {
			pub[i] = k->reqid[i] ? k->pubkey[i] : NULL;
			sel[i] = k->sel[i];
		}
		lka_rotate_commit(k->cmd, k->domain, k->unicode, sel, pub);
	} else
		lka_domain_commit(k->cmd, k->connector, k->connector_name,
		    k->domain, k->unicode, k);
	lka_keygen_free(k);
}

static int
lka_list_domain(const struct state_domain *d, void *arg)
{
	struct lka_cmd	*c = arg;

	answer_row(c->answer, "domain", 0);
	answer_str(c->answer, "domain", d->name);
	answer_str(c->answer, "connector", d->connector_name);
	answer_str(c->answer, "state", state_domain_state_name(d->state));
	answer_time(c->answer, "since", d->state_since);
	return 0;
}

void
lka_domain_list(struct lka_cmd *c)
{
	struct state_connector	 conn;
	int64_t			 id = 0;

	if (lka_param(c, "connector") != NULL) {
		if (lka_connector_param(c, "connector", &conn) == -1)
			return;
		id = conn.id;
	}
	if (state_domain_list(id, NULL, lka_list_domain, c) == STATE_ERROR) {
		lka_fail_state(c);
		return;
	}
	lka_done(c, 0, "%s", "");
}

static int
lka_show_authorization(const struct state_domain *d, void *arg)
{
	struct lka_cmd	*c = arg;

	answer_row(c->answer, "authorization", 0);
	answer_str(c->answer, "connector", d->connector_name);
	answer_str(c->answer, "state", state_domain_state_name(d->state));
	answer_time(c->answer, "since", d->state_since);
	answer_str(c->answer, "token", d->token);
	answer_time(c->answer, "last_check", d->last_check);
	answer_time(c->answer, "next_check", d->next_check);
	answer_str(c->answer, "diagnosis", d->diag[0] ? d->diag :
	    "not checked yet");
	answer_str(c->answer, "spf", d->checks.spf[0] ? d->checks.spf :
	    "not checked");
	answer_str(c->answer, "spf_diagnosis", d->checks.spf_diag);
	answer_str(c->answer, "dkim", d->checks.dkim[0] ?
	    d->checks.dkim : "not checked");
	answer_str(c->answer, "dkim_diagnosis", d->checks.dkim_diag);
	answer_str(c->answer, "dmarc", d->checks.dmarc_diag);
	return 0;
}

static int
lka_show_token_record(const struct state_domain *d, void *arg)
{
	lka_record_verification(arg, d->name, d->token);
	return 0;
}

/*
 * Every key with its place in a rotation and what the last check found
 * at its selector.  A retired key's record must stay until the messages
 * signed with it have been verified (LKA_DKIM_RETIRE_KEEP): the row says
 * from when on it may go.
 */
static int
lka_show_key(const struct state_key *k, void *arg)
{
	struct lka_cmd	*c = arg;
	char		 note[160], when[32];
	int64_t		 safe = k->status_since + LKA_DKIM_RETIRE_KEEP;
	time_t		 t = (time_t)safe;
	struct tm	 tm;

	answer_row(c->answer, "key", 0);
	answer_str(c->answer, "selector", k->selector);
	answer_str(c->answer, "algorithm", k->algorithm);
	answer_str(c->answer, "status", state_key_status_name(k->status));
	answer_time(c->answer, "since", k->status_since);
	/*
	 * What the last check found at the selector of a pending or
	 * retired key; an active key's record is the authorization's dkim
	 * result above.
	 */
	answer_str(c->answer, "record", k->status == KEY_ACTIVE ? "" :
	    k->record[0] ? k->record : "not checked");
	note[0] = '\0';
	switch (k->status) {
	case KEY_PENDING:
		snprintf(note, sizeof(note), "publish its record; the relay "
		    "signs with it once the checks find it");
		break;
	case KEY_ACTIVE:
		snprintf(note, sizeof(note), "signs");
		break;
	case KEY_RETIRED:
		if (gmtime_r(&t, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ",
		    &tm) == 0)
			snprintf(when, sizeof(when), "%lld", (long long)safe);
		if (strcmp(k->record, "missing") == 0 && lka_now() < safe)
			snprintf(note, sizeof(note), "record removed early: "
			    "mail signed before %s may fail verification",
			    when);
		else
			snprintf(note, sizeof(note), "safe to remove the DNS "
			    "record after %s", when);
		break;
	}
	/* Six fields at most: sendgatectl prints them as a table. */
	answer_str(c->answer, "note", note);
	return 0;
}

void
lka_domain_show(struct lka_cmd *c)
{
	char	 a[NAMES_DOMAIN_MAX + 1], u[NAMES_DOMAIN_UNICODE_MAX + 1];
	int	 rc;

	if (lka_domain_param(c, a, u) == -1)
		return;
	answer_row(c->answer, "domain", 1);
	answer_str(c->answer, "domain", a);
	if (strcmp(a, u) != 0)
		answer_str(c->answer, "unicode", u);
	rc = state_domain_list(0, a, lka_show_authorization, c);
	if (rc == STATE_NOTFOUND) {
		lka_done(c, 1, "domain %s is not authorized for any connector",
		    a);
		return;
	}
	if (rc != STATE_OK ||
	    state_key_list(a, lka_show_key, c) == STATE_ERROR ||
	    state_domain_list(0, a, lka_show_token_record, c) != STATE_OK) {
		lka_fail_state(c);
		return;
	}
	lka_record_spf(c, a);
	lka_record_cnames(c, a);
	if (state_key_list(a, lka_record_key, c) == STATE_ERROR) {
		lka_fail_state(c);
		return;
	}
	lka_done(c, 0, "%s", "");
}

void
lka_domain_del(struct lka_cmd *c)
{
	struct state_connector	 conn;
	struct state_domain	 d;
	struct lka_keyset	 ks;
	char			 a[NAMES_DOMAIN_MAX + 1];
	char			 u[NAMES_DOMAIN_UNICODE_MAX + 1];
	int			 rc;

	if (lka_connector_param(c, "connector", &conn) == -1 ||
	    lka_domain_param(c, a, u) == -1)
		return;
	if ((rc = state_domain_get(conn.id, a, &d)) == STATE_NOTFOUND) {
		lka_done(c, 1, "domain %s is not authorized for connector %s",
		    a, conn.name);
		return;
	}
	memset(&ks, 0, sizeof(ks));
	if (rc != STATE_OK || state_begin() != STATE_OK ||
	    state_domain_del(d.id) != STATE_OK ||
	    lka_keys_orphaned(&ks) == -1 ||
	    lka_event(c, "domain %s removed from connector %s", a,
	    conn.name) == -1 || state_commit() != STATE_OK) {
		free(ks.k);
		lka_fail_state(c);
		return;
	}
	lka_done(c, 0, "domain %s removed from connector %s%s", a, conn.name,
	    ks.n ? "; its DKIM keys were deleted" : "");
	lka_keys_release(&ks);
}

/* Check now; the answer comes when the checks are done. */
void
lka_domain_check(struct lka_cmd *c)
{
	char	 a[NAMES_DOMAIN_MAX + 1], u[NAMES_DOMAIN_UNICODE_MAX + 1];

	if (lka_domain_param_authorized(c, a, u) == -1)
		return;
	checks_now(c, a);
}

/* sendgatectl spf walk: any domain, authorized or not. */
void
lka_spf_walk(struct lka_cmd *c)
{
	char	 a[NAMES_DOMAIN_MAX + 1], u[NAMES_DOMAIN_UNICODE_MAX + 1];

	if (lka_domain_param(c, a, u) == -1)
		return;
	checks_spf_walk(c, a);
}
