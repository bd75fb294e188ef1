/*
 * Connector authentication and sender authorization (see auth.h).
 *
 * A failed password check costs the same whatever failed: an unknown
 * user is checked against a dummy hash, and every stored password of the
 * user is compared.  The reason goes to the log only; the client gets
 * the same answer either way.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "credential.h"
#include "names.h"
#include "policy.h"
#include "state.h"

struct auth_match {
	const char	*pw;
	size_t		 pwlen;
	int64_t		 connector;	/* 0: none matched */
	int		 seen;
};

static int
auth_try(const struct state_credential *cred, void *arg)
{
	struct auth_match	*m = arg;

	m->seen++;
	if (credential_verify(m->pw, m->pwlen, cred->salt, cred->hash) == 0 &&
	    m->connector == 0)
		m->connector = cred->connector;
	return 0;
}

/*
 * 0 and the connector when user and password match an enabled
 * connector; -1 otherwise, why saying which for the log; AUTH_TEMPFAIL
 * when the state database could not answer.
 */
int
auth_password(const char *user, const char *pw, size_t pwlen,
    struct state_connector *conn, char *why, size_t whylen)
{
	static const uint8_t	 dummy[CREDENTIAL_SALT_LEN +
	    CREDENTIAL_HASH_LEN];
	struct auth_match	 m = { pw, pwlen, 0, 0 };
	int			 rc;

	rc = state_credential_by_user(user, auth_try, &m);
	if (rc == STATE_ERROR) {
		snprintf(why, whylen, "state database: %s", state_error());
		return AUTH_TEMPFAIL;
	}
	if (m.seen == 0) {
		/* Same work as a wrong password. */
		(void)credential_verify(pw, pwlen, dummy,
		    dummy + CREDENTIAL_SALT_LEN);
		snprintf(why, whylen, "unknown user");
		return -1;
	}
	if (m.connector == 0) {
		snprintf(why, whylen, "wrong password");
		return -1;
	}
	if (state_connector_by_id(m.connector, conn) != STATE_OK) {
		snprintf(why, whylen, "connector gone");
		return -1;
	}
	if (!conn->enabled) {
		snprintf(why, whylen, "connector %s is disabled", conn->name);
		return -1;
	}
	snprintf(why, whylen, "ok");
	return 0;
}

struct auth_net {
	const struct sockaddr	*sa;
	int64_t			 connector;
};

static int
auth_net_try(int64_t connector, const char *cidr, void *arg)
{
	struct auth_net		*n = arg;
	struct names_cidr	 net;
	char			 err[128];

	if (names_cidr_parse(cidr, &net, err, sizeof(err)) == -1)
		return 0;	/* checked when stored; never trust it */
	if (names_cidr_match(&net, n->sa)) {
		n->connector = connector;
		return -1;
	}
	return 0;
}

/*
 * 0 and the connector whose source networks hold the client address
 * (the first by connector order when several do); -1 when none.
 */
int
auth_address(const struct sockaddr *sa, struct state_connector *conn)
{
	struct auth_net	 n = { sa, 0 };

	if (state_network_all(auth_net_try, &n) == STATE_ERROR ||
	    n.connector == 0)
		return -1;
	return state_connector_by_id(n.connector, conn) == STATE_OK ? 0 : -1;
}

/*
 * May the connector use this sender domain (A-label)?  1 yes, 0 no with
 * why worded for a 550 5.7.1 reply, -1 on a state error.
 */
int
auth_sender(const struct state_connector *conn, const char *domain,
    const struct sendgated_conf *conf, int64_t now, char *why, size_t len)
{
	struct state_domain	 d;

	switch (state_domain_get(conn->id, domain, &d)) {
	case STATE_OK:
		return policy_may_send(&d, conf, now, why, len);
	case STATE_NOTFOUND:
		snprintf(why, len, "domain %s is not authorized for connector "
		    "%s", domain, conn->name);
		return 0;
	default:
		snprintf(why, len, "state database: %s", state_error());
		return -1;
	}
}
