/*
 * Which DKIM keys sign a message (issue 7): mta asks with the connector
 * and the domain of the message's header From:, lka answers with the
 * keys of that domain, only when the connector may send as it now (the
 * same rule smtp applied at submission, asked again: a domain revoked
 * while the message waited in the queue is not signed for).  A message
 * is thus never signed with a key of a domain other than its From:'s,
 * nor for a connector that does not own the domain.
 */
#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "child.h"
#include "config.h"
#include "lka.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "proto.h"
#include "state.h"

struct lka_dkim_keys {
	int		 n;
	char		 selector[PROTO_DKIM_KEYS_MAX][STATE_SELECTOR_MAX];
	char		 alg[PROTO_DKIM_KEYS_MAX][32];
};

static const struct sendgated_conf	*lka_dkim_conf;

/* May some connector send as the domain now (the relay's own)? */
static int
lka_dkim_own_one(const struct state_domain *d, void *arg)
{
	struct state_connector	 conn;
	int			*ok = arg;
	char			 why[512];

	if (state_connector_by_id(d->connector, &conn) == STATE_OK &&
	    auth_sender(&conn, d->name, lka_dkim_conf, lka_now(), why,
	    sizeof(why)) == 1) {
		*ok = 1;
		return -1;		/* found: stop */
	}
	return 0;
}

void
lka_dkim_init(const struct sendgated_conf *conf)
{
	lka_dkim_conf = conf;
}

static int
lka_dkim_key(const struct state_key *k, void *arg)
{
	struct lka_dkim_keys	*ks = arg;

	/*
	 * Active keys only: a pending key's record may not be published
	 * yet, and a retired key's is on its way out (lka_rotate.c).
	 */
	if (k->status != KEY_ACTIVE || ks->n == PROTO_DKIM_KEYS_MAX)
		return 0;
	strlcpy(ks->selector[ks->n], k->selector, sizeof(ks->selector[0]));
	strlcpy(ks->alg[ks->n], k->algorithm, sizeof(ks->alg[0]));
	ks->n++;
	return 0;
}

static void
lka_dkim_reply(struct mproc *p, uint64_t reqid, int result, const char *d,
    const struct lka_dkim_keys *ks)
{
	struct msg_out	 m;
	int		 i, n = ks != NULL ? ks->n : 0;

	msg_out_init(&m);
	m_add_u64(&m, reqid);
	m_add_int(&m, result);
	m_add_string(&m, d);
	m_add_u32(&m, (uint32_t)n);
	for (i = 0; i < n; i++) {
		m_add_string(&m, ks->selector[i]);
		m_add_string(&m, ks->alg[i]);
	}
	mproc_send(p, IMSG_LKA_DKIM_KEYS, 0, -1, &m);
}

void
lka_dkim_lookup(struct mproc *p, struct imsg *im)
{
	struct msg_in		 m;
	struct state_connector	 conn;
	struct lka_dkim_keys	 ks;
	uint64_t		 reqid;
	int64_t			 id;
	char			 dom[NAMES_DOMAIN_TYPED_MAX + 1];
	char			 alabel[NAMES_DOMAIN_MAX + 1];
	char			 ulabel[NAMES_DOMAIN_TYPED_MAX + 1];
	char			 why[512];
	int			 rc;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 || m_get_i64(&m, &id) == -1 ||
	    m_get_string(&m, dom, sizeof(dom)) == -1 || m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	if (names_domain_normalize(dom, alabel, sizeof(alabel), ulabel,
	    sizeof(ulabel), why, sizeof(why)) == -1) {
		lka_dkim_reply(p, reqid, LKA_DKIM_NONE, "", NULL);
		return;
	}
	/*
	 * "dkim domain": the relay's own notices (From: MAILER-DAEMON@ that
	 * domain, for any connector's message) are signed with its keys,
	 * as long as the domain is verified for some connector.
	 */
	if (lka_dkim_conf->dkim_domain[0] != '\0' &&
	    strcmp(alabel, lka_dkim_conf->dkim_domain) == 0) {
		rc = 0;
		if (state_domain_list(0, alabel, lka_dkim_own_one, &rc) ==
		    STATE_ERROR) {
			log_warnx("dkim: state database: %s", state_error());
			lka_dkim_reply(p, reqid, LKA_DKIM_TEMPFAIL, alabel,
			    NULL);
			return;
		}
		if (rc == 1)
			goto keys;
	}
	switch (state_connector_by_id(id, &conn)) {
	case STATE_OK:
		break;
	case STATE_NOTFOUND:
		lka_dkim_reply(p, reqid, LKA_DKIM_NONE, alabel, NULL);
		return;
	default:
		log_warnx("dkim: state database: %s", state_error());
		lka_dkim_reply(p, reqid, LKA_DKIM_TEMPFAIL, alabel, NULL);
		return;
	}
	rc = auth_sender(&conn, alabel, lka_dkim_conf, lka_now(), why,
	    sizeof(why));
	if (rc == -1) {
		log_warnx("dkim: %s", why);
		lka_dkim_reply(p, reqid, LKA_DKIM_TEMPFAIL, alabel, NULL);
		return;
	}
	if (rc == 0) {
		log_info("dkim: not signing for %s (connector %s): %s",
		    alabel, conn.name, why);
		lka_dkim_reply(p, reqid, LKA_DKIM_NONE, alabel, NULL);
		return;
	}
keys:
	memset(&ks, 0, sizeof(ks));
	if (state_key_list(alabel, lka_dkim_key, &ks) == STATE_ERROR) {
		log_warnx("dkim: state database: %s", state_error());
		lka_dkim_reply(p, reqid, LKA_DKIM_TEMPFAIL, alabel, NULL);
		return;
	}
	lka_dkim_reply(p, reqid, LKA_DKIM_SIGN, alabel, &ks);
}
