/*
 * lka's answers to the smtp process: which connector a session belongs
 * to (by SMTP credentials or by the client's address), and whether that
 * connector may send as a domain.
 *
 * Failed passwords are counted per user name here (smtp counts per
 * session and per client address): after LKA_AUTH_USER_FAILURES within
 * LKA_AUTH_WINDOW seconds the user is locked until the window ends, even
 * for the right password, so guessing from many addresses gets nowhere.
 */
#include <sys/socket.h>

#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>

#include "auth.h"
#include "child.h"
#include "config.h"
#include "lka.h"
#include "lka_rate.h"
#include "log.h"
#include "msg.h"
#include "names.h"
#include "proto.h"
#include "smtp_auth.h"
#include "state.h"

#define LKA_AUTH_USER_FAILURES	10
#define LKA_AUTH_WINDOW		(15 * 60)
#define LKA_AUTH_USERS_MAX	1024	/* users tracked at once */

struct lka_auth_user {
	char		 user[SMTP_AUTH_USER_MAX + 1];
	int64_t		 since;		/* start of the window; 0: free slot */
	int		 failures;
};

static struct sendgated_conf	*lka_smtp_conf;
static struct lka_auth_user	 lka_auth_users[LKA_AUTH_USERS_MAX];

void
lka_smtp_init(struct sendgated_conf *conf)
{
	lka_smtp_conf = conf;
}

/*
 * The slot of a user, or a free or expired one (the oldest when all are
 * in use: a flood of made-up names must not lock real users out, it can
 * only make the lock forget sooner).
 */
static struct lka_auth_user *
lka_auth_user(const char *user, int64_t now, int create)
{
	struct lka_auth_user	*u, *old = NULL;
	size_t			 i;

	for (i = 0; i < LKA_AUTH_USERS_MAX; i++) {
		u = &lka_auth_users[i];
		if (u->since != 0 && now - u->since >= LKA_AUTH_WINDOW)
			u->since = 0;
		if (u->since != 0 && strcmp(u->user, user) == 0)
			return u;
		if (old == NULL || u->since < old->since)
			old = u;
	}
	if (!create)
		return NULL;
	memset(old, 0, sizeof(*old));
	strlcpy(old->user, user, sizeof(old->user));
	old->since = now;
	return old;
}

static void
lka_auth_reply(struct mproc *p, uint64_t reqid, int result,
    const struct state_connector *conn)
{
	struct msg_out	 m;
	uint64_t	 rcpts, size;

	rcpts = lka_smtp_conf->limits.rcpt_per_message;
	size = lka_smtp_conf->limits.message_size;
	if (conn != NULL && conn->limits[LIMIT_RCPT_PER_MSG] >= 0)
		rcpts = conn->limits[LIMIT_RCPT_PER_MSG];
	if (conn != NULL && conn->limits[LIMIT_SIZE] >= 0)
		size = conn->limits[LIMIT_SIZE];
	msg_out_init(&m);
	m_add_u64(&m, reqid);
	m_add_int(&m, result);
	m_add_i64(&m, conn != NULL ? conn->id : 0);
	m_add_string(&m, conn != NULL ? conn->name : "");
	m_add_u64(&m, rcpts);
	m_add_u64(&m, size);
	mproc_send(p, IMSG_LKA_AUTH_RESULT, 0, -1, &m);
}

static void
lka_smtp_auth(struct mproc *p, struct imsg *im)
{
	struct msg_in		 m;
	struct state_connector	 conn;
	struct lka_auth_user	*u;
	uint64_t		 reqid;
	char			 user[SMTP_AUTH_USER_MAX + 1];
	char			 pass[SMTP_AUTH_PASS_MAX + 1];
	char			 why[256], ev[512];
	int64_t			 now = lka_now();
	int			 rc;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 ||
	    m_get_string(&m, user, sizeof(user)) == -1 ||
	    m_get_string(&m, pass, sizeof(pass)) == -1 || m_end(&m) == -1) {
		OPENSSL_cleanse(pass, sizeof(pass));
		mproc_malformed(p, im, &m);
		return;
	}
	rc = auth_password(user, pass, strlen(pass), &conn, why, sizeof(why));
	OPENSSL_cleanse(pass, sizeof(pass));

	u = lka_auth_user(user, now, 0);
	if (u != NULL && u->failures >= LKA_AUTH_USER_FAILURES) {
		/* Checked after the password: the same work either way. */
		log_warnx("auth: user %s locked after %d failures", user,
		    u->failures);
		lka_auth_reply(p, reqid, LKA_AUTH_LOCKED, NULL);
		return;
	}
	if (rc == 0) {
		lka_auth_reply(p, reqid, LKA_AUTH_OK, &conn);
		return;
	}
	if (rc == AUTH_TEMPFAIL) {
		log_warnx("auth: %s", why);
		lka_auth_reply(p, reqid, LKA_AUTH_TEMPFAIL, NULL);
		return;
	}
	u = lka_auth_user(user, now, 1);
	u->failures++;
	log_info("auth: failed for user %s: %s", user, why);
	snprintf(ev, sizeof(ev), "auth failure: user %s: %s", user, why);
	(void)state_event(now, -1, ev);
	lka_auth_reply(p, reqid, LKA_AUTH_FAIL, NULL);
}

static void
lka_smtp_addr(struct mproc *p, struct imsg *im)
{
	struct msg_in		 m;
	struct sockaddr_storage	 ss;
	struct state_connector	 conn;
	uint64_t		 reqid;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 || m_get_sockaddr(&m, &ss) == -1 ||
	    m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	if (auth_address((struct sockaddr *)&ss, &conn) == -1 ||
	    !conn.enabled) {
		lka_auth_reply(p, reqid, LKA_AUTH_FAIL, NULL);
		return;
	}
	lka_auth_reply(p, reqid, LKA_AUTH_OK, &conn);
}

static void
lka_sender_reply(struct mproc *p, uint64_t reqid, int result,
    const char *why)
{
	struct msg_out	 m;

	msg_out_init(&m);
	m_add_u64(&m, reqid);
	m_add_int(&m, result);
	m_add_string(&m, why);
	mproc_send(p, IMSG_LKA_SENDER_RESULT, 0, -1, &m);
}

static void
lka_smtp_sender(struct mproc *p, struct imsg *im)
{
	struct msg_in		 m;
	struct state_connector	 conn;
	uint64_t		 reqid;
	int64_t			 id;
	uint32_t		 n, i;
	char			 dom[PROTO_DOMAINS_MAX][NAMES_DOMAIN_TYPED_MAX + 1];
	char			 alabel[NAMES_DOMAIN_MAX + 1];
	char			 ulabel[NAMES_DOMAIN_TYPED_MAX + 1];
	char			 why[512], err[256];
	int			 rc, mail;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 || m_get_i64(&m, &id) == -1 ||
	    m_get_int(&m, &mail) == -1 || (mail != 0 && mail != 1) ||
	    m_get_u32(&m, &n) == -1 || (n == 0 && !mail) ||
	    n > PROTO_DOMAINS_MAX)
		goto bad;
	for (i = 0; i < n; i++)
		if (m_get_string(&m, dom[i], sizeof(dom[i])) == -1)
			goto bad;
	if (m_end(&m) == -1)
		goto bad;

	switch (state_connector_by_id(id, &conn)) {
	case STATE_OK:
		break;
	case STATE_NOTFOUND:
		lka_sender_reply(p, reqid, LKA_SENDER_REFUSED,
		    "connector no longer exists");
		return;
	default:
		log_warnx("sender: state database: %s", state_error());
		lka_sender_reply(p, reqid, LKA_SENDER_TEMPFAIL, "");
		return;
	}
	if (!conn.enabled) {
		lka_sender_reply(p, reqid, LKA_SENDER_REFUSED,
		    "connector is disabled");
		return;
	}
	for (i = 0; i < n; i++) {
		if (names_domain_normalize(dom[i], alabel, sizeof(alabel),
		    ulabel, sizeof(ulabel), err, sizeof(err)) == -1) {
			lka_sender_reply(p, reqid, LKA_SENDER_REFUSED,
			    "sender domain is not a valid domain name");
			return;
		}
		rc = auth_sender(&conn, alabel, lka_smtp_conf, lka_now(),
		    why, sizeof(why));
		if (rc == -1) {
			log_warnx("sender: %s", why);
			lka_sender_reply(p, reqid, LKA_SENDER_TEMPFAIL, "");
			return;
		}
		if (rc == 0) {
			lka_sender_reply(p, reqid, LKA_SENDER_REFUSED, why);
			return;
		}
	}
	/* Last: a message refused for its sender is not counted. */
	if (mail && lka_rate_check(&conn, RATE_MESSAGES, why, sizeof(why))) {
		lka_sender_reply(p, reqid, LKA_SENDER_RATE, why);
		return;
	}
	lka_sender_reply(p, reqid, LKA_SENDER_OK, "");
	return;
bad:
	mproc_malformed(p, im, &m);
}

static void
lka_smtp_rcpt(struct mproc *p, struct imsg *im)
{
	struct msg_in		 m;
	struct msg_out		 o;
	struct state_connector	 conn;
	uint64_t		 reqid;
	int64_t			 id;
	char			 why[512];
	int			 result = LKA_SENDER_OK;

	msg_in_init(&m, im);
	if (m_get_u64(&m, &reqid) == -1 || m_get_i64(&m, &id) == -1 ||
	    m_end(&m) == -1) {
		mproc_malformed(p, im, &m);
		return;
	}
	why[0] = '\0';
	/* Most RCPTs follow their MAIL: no database read for them. */
	switch (lka_rate_check_cached(id, RATE_RECIPIENTS, why, sizeof(why))) {
	case 0:
		goto reply;
	case 1:
		result = LKA_SENDER_RATE;
		goto reply;
	}
	switch (state_connector_by_id(id, &conn)) {
	case STATE_OK:
		if (lka_rate_check(&conn, RATE_RECIPIENTS, why, sizeof(why)))
			result = LKA_SENDER_RATE;
		break;
	case STATE_NOTFOUND:
		result = LKA_SENDER_REFUSED;
		strlcpy(why, "connector no longer exists", sizeof(why));
		break;
	default:
		log_warnx("rcpt: state database: %s", state_error());
		result = LKA_SENDER_TEMPFAIL;
		break;
	}
reply:
	msg_out_init(&o);
	m_add_u64(&o, reqid);
	m_add_int(&o, result);
	m_add_string(&o, why);
	mproc_send(p, IMSG_LKA_RCPT_RESULT, 0, -1, &o);
}

/* 1 if the message was one of smtp's. */
int
lka_smtp_imsg(struct mproc *p, struct imsg *im)
{
	switch (im->type) {
	case IMSG_SMTP_AUTH_CHECK:
		lka_smtp_auth(p, im);
		return 1;
	case IMSG_SMTP_ADDR_CHECK:
		lka_smtp_addr(p, im);
		return 1;
	case IMSG_SMTP_SENDER_CHECK:
		lka_smtp_sender(p, im);
		return 1;
	case IMSG_SMTP_RCPT_CHECK:
		lka_smtp_rcpt(p, im);
		return 1;
	}
	return 0;
}
