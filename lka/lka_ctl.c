/*
 * sendgatectl commands in lka: decoding, dispatch, and the connector
 * commands.  Every change runs in one transaction, is written to the
 * event log with the uid of the operator, and is logged; a failed write
 * leaves the previous state as it was.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "config.h"
#include "credential.h"
#include "lka.h"
#include "lka_rate.h"
#include "log.h"
#include "mproc.h"
#include "names.h"
#include "state.h"

#define LKA_LIMIT_VALUE_MAX	1000000000000LL

static struct sendgated_conf	*lka_conf;

void
lka_ctl_init(struct sendgated_conf *conf)
{
	lka_conf = conf;
}

int64_t
lka_now(void)
{
	return (int64_t)time(NULL);
}

/* The first value of a parameter, or NULL. */
const char *
lka_param(const struct lka_cmd *c, const char *key)
{
	uint32_t	 i;

	for (i = 0; i < c->nparams; i++)
		if (strcmp(c->key[i], key) == 0)
			return c->value[i];
	return NULL;
}

/* Write an event and log it; -1 (state error) when the write failed. */
int
lka_event(const struct lka_cmd *c, const char *fmt, ...)
{
	char	 what[STATE_EVENT_MAX];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(what))
		return -1;
	if (state_event(lka_now(), c->uid, what) != STATE_OK)
		return -1;
	log_info("%s (uid %" PRId64 ")", what, c->uid);
	return 0;
}

void
lka_done(struct lka_cmd *c, int status, const char *fmt, ...)
{
	char	 msg[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	answer_done(c->answer, status, "%s", msg);
	c->answer = NULL;
	free(c);
}

/* Roll back and report a failed write of the state database. */
void
lka_fail_state(struct lka_cmd *c)
{
	char	 err[256];

	snprintf(err, sizeof(err), "%s", state_error());
	state_rollback();
	log_warnx("%s: state database: %s; nothing changed", c->name, err);
	lka_done(c, 1, "state database error: %s; nothing was changed", err);
}

/* The connector named by a parameter; answers the command when not. */
int
lka_connector_param(struct lka_cmd *c, const char *param,
    struct state_connector *conn)
{
	const char	*name = lka_param(c, param);
	char		 err[256];
	int		 rc;

	if (name == NULL || names_connector_valid(name, err, sizeof(err)) ==
	    -1) {
		lka_done(c, 1, "invalid connector name: %s",
		    name ? err : "missing");
		return -1;
	}
	if ((rc = state_connector_get(name, conn)) == STATE_NOTFOUND) {
		lka_done(c, 1, "no connector named %s", name);
		return -1;
	}
	if (rc != STATE_OK) {
		lka_fail_state(c);
		return -1;
	}
	return 0;
}

/* Listener ports by mode, for the credentials an operator hands out. */
static void
lka_answer_ports(struct answer *a)
{
	struct config_listen	*l;
	int			 tls = 0, smtps = 0;

	TAILQ_FOREACH(l, &lka_conf->listeners, entry) {
		if (l->mode == LISTEN_STARTTLS && !tls++)
			answer_int(a, "port_starttls", l->port);
		if (l->mode == LISTEN_SMTPS && !smtps++)
			answer_int(a, "port_tls", l->port);
	}
}

/* New password for a connector; keep: how many older ones stay valid. */
static int
lka_password(struct lka_cmd *c, const struct state_connector *conn,
    int keep, char *pw, size_t pwlen)
{
	uint8_t	 salt[CREDENTIAL_SALT_LEN], hash[CREDENTIAL_HASH_LEN];
	int	 rc;

	if (credential_generate(pw, pwlen) == -1 ||
	    credential_new(pw, salt, hash) == -1) {
		lka_done(c, 1, "cannot generate a password");
		return -1;
	}
	rc = state_credential_keep(conn->id, keep);
	if (rc == STATE_OK)
		rc = state_credential_add(conn->id, conn->name, salt, hash,
		    lka_now());
	OPENSSL_cleanse(hash, sizeof(hash));
	if (rc != STATE_OK) {
		lka_fail_state(c);
		return -1;
	}
	return 0;
}

static void
lka_answer_credentials(struct lka_cmd *c, const char *name, const char *pw)
{
	answer_row(c->answer, "credentials", 1);
	answer_str(c->answer, "connector", name);
	answer_str(c->answer, "host", lka_conf->hostname);
	lka_answer_ports(c->answer);
	answer_str(c->answer, "username", name);
	answer_str(c->answer, "password", pw);
}

static void
lka_connector_add(struct lka_cmd *c)
{
	struct state_connector	 conn;
	struct names_cidr	 nets[PROTO_PARAMS_MAX];
	char			 err[256], pw[CREDENTIAL_PASSWORD_LEN + 1];
	char			 cidr[PROTO_PARAMS_MAX][NAMES_CIDR_STRLEN];
	const char		*name = lka_param(c, "name");
	uint32_t		 i, n = 0;
	int			 rc;

	if (name == NULL || names_connector_valid(name, err, sizeof(err)) ==
	    -1) {
		lka_done(c, 1, "invalid connector name: %s",
		    name ? err : "missing");
		return;
	}
	for (i = 0; i < c->nparams; i++) {
		if (strcmp(c->key[i], "from") != 0)
			continue;
		if (names_cidr_parse(c->value[i], &nets[n], err,
		    sizeof(err)) == -1) {
			lka_done(c, 1, "invalid --from network: %s", err);
			return;
		}
		names_cidr_format(&nets[n], cidr[n], sizeof(cidr[n]));
		n++;
	}
	if (state_begin() != STATE_OK) {
		lka_fail_state(c);
		return;
	}
	rc = state_connector_add(name, lka_now(), &conn.id);
	if (rc == STATE_EXISTS) {
		state_rollback();
		lka_done(c, 1, "connector %s already exists", name);
		return;
	}
	if (rc != STATE_OK || state_connector_get(name, &conn) != STATE_OK) {
		lka_fail_state(c);
		return;
	}
	for (i = 0; i < n; i++) {
		rc = state_network_add(conn.id, cidr[i]);
		if (rc != STATE_OK && rc != STATE_EXISTS) {
			lka_fail_state(c);
			return;
		}
	}
	if (lka_password(c, &conn, 0, pw, sizeof(pw)) == -1)
		return;
	if (lka_event(c, "connector %s created", name) == -1 ||
	    state_commit() != STATE_OK) {
		OPENSSL_cleanse(pw, sizeof(pw));
		lka_fail_state(c);
		return;
	}
	lka_answer_credentials(c, name, pw);
	OPENSSL_cleanse(pw, sizeof(pw));
	lka_done(c, 0, "connector %s created; the password is shown only "
	    "once", name);
}

static int
lka_list_connector(const struct state_connector *conn, void *arg)
{
	struct lka_cmd	*c = arg;

	answer_row(c->answer, "connector", 0);
	answer_str(c->answer, "name", conn->name);
	answer_str(c->answer, "enabled", conn->enabled ? "yes" : "no");
	answer_int(c->answer, "domains", conn->ndomains);
	answer_time(c->answer, "created", conn->created);
	return 0;
}

static void
lka_connector_list(struct lka_cmd *c)
{
	if (state_connector_list(lka_list_connector, c) != STATE_OK) {
		lka_fail_state(c);
		return;
	}
	lka_done(c, 0, "%s", "");
}

static int
lka_show_network(const char *cidr, void *arg)
{
	struct lka_cmd	*c = arg;

	answer_row(c->answer, "network", 0);
	answer_str(c->answer, "network", cidr);
	return 0;
}

static int
lka_show_credential(const struct state_credential *cred, void *arg)
{
	struct lka_cmd	*c = arg;

	answer_row(c->answer, "credential", 0);
	answer_str(c->answer, "username", cred->username);
	answer_time(c->answer, "created", cred->created);
	return 0;
}

static int
lka_show_domain(const struct state_domain *d, void *arg)
{
	struct lka_cmd	*c = arg;

	answer_row(c->answer, "domain", 0);
	answer_str(c->answer, "domain", d->name);
	answer_str(c->answer, "state", state_domain_state_name(d->state));
	answer_time(c->answer, "since", d->state_since);
	return 0;
}

static uint64_t
lka_limit_default(enum state_limit l)
{
	const struct config_limits	*cl = &lka_conf->limits;

	switch (l) {
	case LIMIT_MSG_MINUTE:
	case LIMIT_MSG_HOUR:
	case LIMIT_MSG_DAY:
		return cl->messages[l - LIMIT_MSG_MINUTE];
	case LIMIT_RCPT_MINUTE:
	case LIMIT_RCPT_HOUR:
	case LIMIT_RCPT_DAY:
		return cl->recipients[l - LIMIT_RCPT_MINUTE];
	case LIMIT_SIZE:
		return cl->message_size;
	default:
		return cl->rcpt_per_message;
	}
}

/* Each rate window: what was counted in it so far, and its limits. */
static void
lka_show_rates(struct lka_cmd *c, const struct state_connector *conn)
{
	uint64_t	 used, limit;
	int		 w;

	for (w = 0; w < RATE_NWINDOWS; w++) {
		answer_row(c->answer, "rate", 0);
		answer_str(c->answer, "window", rate_window_name(w));
		lka_rate_use(conn, w, RATE_MESSAGES, &used, &limit);
		answer_int(c->answer, "messages", (int64_t)used);
		answer_int(c->answer, "messages_limit", (int64_t)limit);
		lka_rate_use(conn, w, RATE_RECIPIENTS, &used, &limit);
		answer_int(c->answer, "recipients", (int64_t)used);
		answer_int(c->answer, "recipients_limit", (int64_t)limit);
	}
}

static void
lka_connector_show(struct lka_cmd *c)
{
	struct state_connector	 conn;
	int			 i;

	if (lka_connector_param(c, "name", &conn) == -1)
		return;
	answer_row(c->answer, "connector", 1);
	answer_str(c->answer, "name", conn.name);
	answer_str(c->answer, "enabled", conn.enabled ? "yes" : "no");
	answer_time(c->answer, "created", conn.created);
	if (state_network_list(conn.id, lka_show_network, c) != STATE_OK) {
		lka_fail_state(c);
		return;
	}
	for (i = 0; i < LIMIT_COUNT; i++) {
		answer_row(c->answer, "limit", 0);
		answer_str(c->answer, "limit", state_limit_name(i));
		answer_int(c->answer, "value", conn.limits[i] >= 0 ?
		    conn.limits[i] : (int64_t)lka_limit_default(i));
		answer_str(c->answer, "source", conn.limits[i] >= 0 ?
		    "connector" : "default");
	}
	lka_show_rates(c, &conn);
	if (state_credential_list(conn.id, lka_show_credential, c) !=
	    STATE_OK) {
		lka_fail_state(c);
		return;
	}
	if (state_domain_list(conn.id, NULL, lka_show_domain, c) ==
	    STATE_ERROR) {
		lka_fail_state(c);
		return;
	}
	lka_done(c, 0, "%s", "");
}

static void
lka_connector_del(struct lka_cmd *c)
{
	struct state_connector	 conn;
	struct lka_keyset	 ks;
	const char		*force = lka_param(c, "force");

	if (lka_connector_param(c, "name", &conn) == -1)
		return;
	if (conn.ndomains > 0 && force == NULL) {
		lka_done(c, 1, "connector %s has %" PRId64 " domain%s; remove "
		    "them first or use --force", conn.name, conn.ndomains,
		    conn.ndomains == 1 ? "" : "s");
		return;
	}
	memset(&ks, 0, sizeof(ks));
	/* Its domains go with it, and their keys when nobody else uses them. */
	if (state_begin() != STATE_OK ||
	    state_connector_del(conn.id) != STATE_OK ||
	    lka_keys_orphaned(&ks) == -1 ||
	    lka_event(c, "connector %s deleted%s", conn.name,
	    conn.ndomains ? " with its domains" : "") == -1 ||
	    state_commit() != STATE_OK) {
		free(ks.k);
		lka_fail_state(c);
		return;
	}
	lka_keys_release(&ks);
	lka_rate_forget(conn.id);
	lka_done(c, 0, "connector %s deleted", conn.name);
}

static void
lka_connector_passwd(struct lka_cmd *c)
{
	struct state_connector	 conn;
	char			 pw[CREDENTIAL_PASSWORD_LEN + 1];
	int			 keep = lka_param(c, "keep-old") ? 1 : 0;

	if (lka_connector_param(c, "name", &conn) == -1)
		return;
	if (state_begin() != STATE_OK) {
		lka_fail_state(c);
		return;
	}
	if (lka_password(c, &conn, keep, pw, sizeof(pw)) == -1)
		return;
	if (lka_event(c, "connector %s: new password%s", conn.name,
	    keep ? ", previous one kept" : "") == -1 ||
	    state_commit() != STATE_OK) {
		OPENSSL_cleanse(pw, sizeof(pw));
		lka_fail_state(c);
		return;
	}
	lka_answer_credentials(c, conn.name, pw);
	OPENSSL_cleanse(pw, sizeof(pw));
	lka_done(c, 0, "connector %s: new password%s; it is shown only once",
	    conn.name, keep ? " (the previous one stays valid until the "
	    "next change)" : " (the previous ones no longer work)");
}

/* "default", a count, or for size a size with K/M/G. */
static int
lka_limit_value(enum state_limit l, const char *s, int64_t *v, char *err,
    size_t errlen)
{
	uint64_t	 u;
	const char	*errstr;

	if (strcmp(s, "default") == 0) {
		*v = -1;
		return 0;
	}
	if (l == LIMIT_SIZE) {
		if (config_parse_size(s, &u) == -1 || u < 1024 ||
		    u > 2ULL * 1024 * 1024 * 1024) {
			snprintf(err, errlen, "size must be 1K to 2G");
			return -1;
		}
		*v = (int64_t)u;
		return 0;
	}
	/* Digits only: strtonum would take blanks and a sign. */
	if (s[0] == '\0' || s[strspn(s, "0123456789")] != '\0') {
		snprintf(err, errlen, "value must be a whole number, 0 for no "
		    "limit, or \"default\"");
		return -1;
	}
	*v = strtonum(s, l == LIMIT_RCPT_PER_MSG ? 1 : 0,
	    LKA_LIMIT_VALUE_MAX, &errstr);
	if (errstr != NULL) {
		snprintf(err, errlen, "value is %s (a whole number, 0 for no "
		    "limit, or \"default\")", errstr);
		return -1;
	}
	return 0;
}

static void
lka_connector_limit(struct lka_cmd *c)
{
	struct state_connector	 conn;
	enum state_limit	 l;
	const char		*key = lka_param(c, "key");
	const char		*value = lka_param(c, "value");
	char			 err[128], shown[32];
	int64_t			 v;

	if (lka_connector_param(c, "name", &conn) == -1)
		return;
	if (key == NULL || state_limit_lookup(key, &l) == -1) {
		lka_done(c, 1, "unknown limit; use one of messages/minute, "
		    "messages/hour, messages/day, recipients/minute, "
		    "recipients/hour, recipients/day, recipients/message, "
		    "size");
		return;
	}
	if (value == NULL || lka_limit_value(l, value, &v, err,
	    sizeof(err)) == -1) {
		lka_done(c, 1, "invalid %s: %s", key, value ? err : "missing");
		return;
	}
	if (v < 0)
		snprintf(shown, sizeof(shown), "the default");
	else
		snprintf(shown, sizeof(shown), "%" PRId64, v);
	if (state_begin() != STATE_OK ||
	    state_connector_set_limit(conn.id, l, v) != STATE_OK ||
	    lka_event(c, "connector %s: limit %s set to %s", conn.name, key,
	    shown) == -1 || state_commit() != STATE_OK) {
		lka_fail_state(c);
		return;
	}
	lka_rate_forget(conn.id);
	lka_done(c, 0, "connector %s: %s set to %s", conn.name, key, shown);
}

static void
lka_connector_enable(struct lka_cmd *c, int enable)
{
	struct state_connector	 conn;

	if (lka_connector_param(c, "name", &conn) == -1)
		return;
	if (state_begin() != STATE_OK ||
	    state_connector_set_enabled(conn.id, enable) != STATE_OK ||
	    lka_event(c, "connector %s %s", conn.name, enable ? "enabled" :
	    "disabled") == -1 || state_commit() != STATE_OK) {
		lka_fail_state(c);
		return;
	}
	lka_rate_forget(conn.id);
	lka_done(c, 0, "connector %s %s", conn.name, enable ? "enabled" :
	    "disabled");
}

static void
lka_connector_enable_cmd(struct lka_cmd *c)
{
	lka_connector_enable(c, 1);
}

static void
lka_connector_disable_cmd(struct lka_cmd *c)
{
	lka_connector_enable(c, 0);
}

static const struct {
	const char	*name;
	void		(*fn)(struct lka_cmd *);
} lka_commands[] = {
	{ "connector.add", lka_connector_add },
	{ "connector.del", lka_connector_del },
	{ "connector.disable", lka_connector_disable_cmd },
	{ "connector.enable", lka_connector_enable_cmd },
	{ "connector.limit", lka_connector_limit },
	{ "connector.list", lka_connector_list },
	{ "connector.passwd", lka_connector_passwd },
	{ "connector.show", lka_connector_show },
	{ "domain.add", lka_domain_add },
	{ "domain.check", lka_domain_check },
	{ "domain.del", lka_domain_del },
	{ "domain.list", lka_domain_list },
	{ "domain.rotate", lka_domain_rotate },
	{ "domain.show", lka_domain_show },
	{ "spf.walk", lka_spf_walk },
};

/*
 * A command from control.  control is trusted to have checked who may
 * run it; the payload itself is still checked item by item.
 */
void
lka_ctl_command(struct mproc *p, struct imsg *im)
{
	struct lka_cmd	*c;
	struct msg_in	 m;
	size_t		 i;
	uint32_t	 k;
	int		 uid;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		fatal("lka_ctl_command");
	msg_in_init(&m, im);
	if (m_get_u64(&m, &c->reqid) == -1 || m_get_int(&m, &uid) == -1 ||
	    m_get_string(&m, c->name, sizeof(c->name)) == -1 ||
	    m_get_u32(&m, &c->nparams) == -1 ||
	    c->nparams > PROTO_PARAMS_MAX)
		goto bad;
	for (k = 0; k < c->nparams; k++)
		if (m_get_string(&m, c->key[k], sizeof(c->key[k])) == -1 ||
		    m_get_string(&m, c->value[k], sizeof(c->value[k])) == -1)
			goto bad;
	if (m_end(&m) == -1)
		goto bad;
	c->uid = uid;
	c->answer = lka_answer_new(c->reqid);
	for (i = 0; i < sizeof(lka_commands) / sizeof(lka_commands[0]); i++) {
		if (strcmp(lka_commands[i].name, c->name) == 0) {
			lka_commands[i].fn(c);
			return;
		}
	}
	lka_done(c, 1, "unknown command");
	return;
bad:
	free(c);
	mproc_malformed(p, im, &m);
}
