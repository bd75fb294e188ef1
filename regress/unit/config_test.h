/*
 * What the sendgated.conf tests share: parse an input, show a value of the
 * result as text, check an input against the value or the messages it
 * must give.  Included by the test_config*.c files only.
 */
#ifndef SENDGATE_CONFIG_TEST_H
#define SENDGATE_CONFIG_TEST_H

#include <sys/socket.h>
#include <netinet/in.h>

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "config.h"

#define NAME		"test.conf"
#define E(line, msg)	NAME ":" #line ": " msg "\n"

/* Escaped copy of len bytes for failure messages (one at a time). */
static const char *
printable(const char *s, size_t len)
{
	static char	buf[256];
	size_t		i, o = 0;

	for (i = 0; i < len && o + 8 < sizeof(buf); i++) {
		unsigned char	c = s[i];

		if (c == '\n')
			o += snprintf(buf + o, sizeof(buf) - o, "\\n");
		else if (c < 0x20 || c >= 0x7f)
			o += snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
		else
			buf[o++] = c;
	}
	if (i < len)
		o += snprintf(buf + o, sizeof(buf) - o, "...");
	buf[o] = '\0';
	return buf;
}

/*
 * Parse len bytes; *errs gets what was written to the error stream.
 * Checks the promises of config_parse_stream(): the return value counts
 * the messages, and the result is set exactly when it is 0.
 */
static int
parse(const char *text, size_t len, struct sendgated_conf **confp,
    char **errs)
{
	FILE	*in, *errf;
	size_t	 errlen;
	int	 n, lines = 0;
	char	*p;

	*confp = NULL;
	in = fmemopen((void *)text, len, "r");
	assert_non_null(in);
	errf = open_memstream(errs, &errlen);
	assert_non_null(errf);
	n = config_parse_stream(in, NAME, errf, confp);
	fclose(in);
	fclose(errf);
	for (p = *errs; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	if (n != lines || (n == 0) != (*confp != NULL))
		fail_msg("input \"%s\": returned %d, %d message lines, "
		    "result %p", printable(text, len), n, lines,
		    (void *)*confp);
	return n;
}

enum field_type {
	STR,
	U64,
	I64,
	INT
};

#define FIELD(key, member, type) \
	{ key, offsetof(struct sendgated_conf, member), type }

static const struct {
	const char	*key;
	size_t		 off;
	enum field_type	 type;
} fields[] = {
	FIELD("hostname", hostname, STR),
	FIELD("queue", queue_dir, STR),
	FIELD("state", state_dir, STR),
	FIELD("keys", keys_dir, STR),
	FIELD("empty", empty_dir, STR),
	FIELD("socket", socket_path, STR),
	FIELD("user", user, STR),
	FIELD("user queue", queue_user, STR),
	FIELD("user signer", signer_user, STR),
	FIELD("group control", ctl_group, STR),
	FIELD("limit messages per minute", limits.messages[WINDOW_MINUTE], U64),
	FIELD("limit messages per hour", limits.messages[WINDOW_HOUR], U64),
	FIELD("limit messages per day", limits.messages[WINDOW_DAY], U64),
	FIELD("limit recipients per minute",
	    limits.recipients[WINDOW_MINUTE], U64),
	FIELD("limit recipients per hour", limits.recipients[WINDOW_HOUR], U64),
	FIELD("limit recipients per day", limits.recipients[WINDOW_DAY], U64),
	FIELD("limit recipients per message", limits.rcpt_per_message, U64),
	FIELD("limit size", limits.message_size, U64),
	FIELD("limit window minute", limit_windows[WINDOW_MINUTE], I64),
	FIELD("limit window hour", limit_windows[WINDOW_HOUR], I64),
	FIELD("limit window day", limit_windows[WINDOW_DAY], I64),
	FIELD("verification prefix", verify_prefix, STR),
	FIELD("verification grace", verify_grace, I64),
	FIELD("spf include", spf_include, STR),
	FIELD("dkim selector", dkim_selector, STR),
	FIELD("dkim expire", dkim_expire, I64),
	FIELD("dkim body simple", dkim_body_simple, INT),
	FIELD("dkim headers count", ndkim_headers, INT),
	FIELD("checks every", checks_every, I64),
	FIELD("checks concurrency", checks_inflight, INT),
	FIELD("require spf", require_spf, INT),
	FIELD("require dkim", require_dkim, INT),
	FIELD("smtp limit sessions", smtp_sessions, INT),
	FIELD("smtp limit sessions-per-address", smtp_sessions_per_addr, INT),
	FIELD("smtp limit junk", smtp_junk_max, INT),
	FIELD("smtp limit auth-failures", smtp_auth_failures, INT),
	FIELD("smtp timeout command", smtp_timeout_command, I64),
	FIELD("smtp timeout data", smtp_timeout_data, I64),
	FIELD("smtp timeout handshake", smtp_timeout_handshake, I64),
	FIELD("smtp tls-threads", smtp_tls_threads, INT),
	FIELD("queue expire", queue_expire, I64),
	FIELD("queue warn", queue_warn, I64),
	FIELD("deliver port", deliver_port, INT),
	FIELD("mta concurrency", mta_concurrency, INT),
	FIELD("mta concurrency per host", mta_per_host, INT),
};

static const char *const tls_policies[] = {
	[CONFIG_TLS_OPPORTUNISTIC] = "opportunistic",
	[CONFIG_TLS_REQUIRE] = "require",
	[CONFIG_TLS_VERIFY] = "require verify",
};

static const char *const relay_modes[] = {
	[CONFIG_RELAY_STARTTLS] = "starttls",
	[CONFIG_RELAY_TLS] = "tls",
	[CONFIG_RELAY_PLAIN] = "plain",
};

/* "smtp.example port 587 starttls auth USER PASS", or "(none)" */
static void
describe_relayhost(char *buf, size_t size, const struct config_relayhost *r)
{
	if (!r->set) {
		strlcpy(buf, "(none)", size);
		return;
	}
	snprintf(buf, size, "%s port %u %s", r->host, r->port,
	    relay_modes[r->mode]);
	if (r->user[0] != '\0')
		snprintf(buf + strlen(buf), size - strlen(buf), " auth %s %s",
		    r->user, r->pass);
}

/* "5m 10m 1h" */
static void
describe_retry(char *buf, size_t size, const struct sendgated_conf *conf)
{
	char	d[CONFIG_FORMAT_MAX];
	int	i;

	buf[0] = '\0';
	for (i = 0; i < conf->queue_nretry; i++) {
		config_format_duration(d, sizeof(d), conf->queue_retry[i]);
		if (i > 0)
			strlcat(buf, " ", size);
		strlcat(buf, d, size);
	}
}

/* "inet 127.0.0.1 587" */
static void
describe_addr(char *buf, size_t size, const struct sockaddr_storage *ss,
    socklen_t sslen)
{
	char	host[NI_MAXHOST], serv[NI_MAXSERV];

	if (getnameinfo((const struct sockaddr *)ss, sslen, host, sizeof(host),
	    serv, sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		strlcpy(host, "?", sizeof(host));
	snprintf(buf, size, "%s %s %s",
	    ss->ss_family == AF_INET6 ? "inet6" : "inet", host, serv);
}

static void
describe_listen(char *buf, size_t size, const struct config_listen *l)
{
	char	addr[NI_MAXHOST + 32];

	describe_addr(addr, sizeof(addr), &l->ss, l->sslen);
	snprintf(buf, size, "%s port %u %s pki %s line %d [%s]",
	    l->addr, l->port, l->mode == LISTEN_SMTPS ? "smtps" : "tls",
	    l->pki, l->line, addr);
}

static const char *
describe_field(struct sendgated_conf *conf, size_t i, char *buf, size_t size)
{
	const char	*p = (const char *)conf + fields[i].off;
	uint64_t	 u;
	int64_t		 s;
	int		 n;

	switch (fields[i].type) {
	case STR:
		return p;
	case U64:
		memcpy(&u, p, sizeof(u));
		snprintf(buf, size, "%llu", (unsigned long long)u);
		break;
	case I64:
		memcpy(&s, p, sizeof(s));
		snprintf(buf, size, "%lld", (long long)s);
		break;
	case INT:
		memcpy(&n, p, sizeof(n));
		snprintf(buf, size, "%d", n);
		break;
	}
	return buf;
}

/*
 * One value of a parsed configuration as text: a field by its statement
 * name, "pki N", "listen N", "resolver N", "relay address N" or "tls
 * domain N" for the Nth entry, "pkis", "listeners", "resolvers", "relay
 * addresses" or "tls domains" for the counts, "dkim algorithms" as names,
 * "queue retry" as durations, "tls" and "relay via" as written.
 */
static const char *
describe(struct sendgated_conf *conf, const char *key)
{
	static char		 buf[3 * PATH_MAX];
	struct config_pki	*pki;
	struct config_listen	*l;
	struct config_resolver	*r;
	struct sockaddr_storage	*ss;
	size_t			 i;
	int			 n = 0, want;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strcmp(key, fields[i].key) == 0)
			return describe_field(conf, i, buf, sizeof(buf));
	strlcpy(buf, "(none)", sizeof(buf));
	if (strcmp(key, "dkim algorithms") == 0)
		snprintf(buf, sizeof(buf), "%s%s%s",
		    conf->dkim_algs & CONFIG_DKIM_RSA ? "rsa-sha256" : "",
		    conf->dkim_algs == (CONFIG_DKIM_RSA | CONFIG_DKIM_ED25519) ?
		    " " : "", conf->dkim_algs & CONFIG_DKIM_ED25519 ?
		    "ed25519-sha256" : "");
	else if (strcmp(key, "dkim headers") == 0) {
		buf[0] = '\0';
		for (i = 0; i < (size_t)conf->ndkim_headers; i++) {
			if (i > 0)
				strlcat(buf, " ", sizeof(buf));
			strlcat(buf, conf->dkim_headers[i], sizeof(buf));
		}
	} else if (strcmp(key, "queue retry") == 0)
		describe_retry(buf, sizeof(buf), conf);
	else if (strcmp(key, "relay via") == 0)
		describe_relayhost(buf, sizeof(buf), &conf->relayhost);
	else if (strcmp(key, "tls") == 0)
		strlcpy(buf, tls_policies[conf->tls_policy], sizeof(buf));
	else if (strcmp(key, "tls domains") == 0)
		snprintf(buf, sizeof(buf), "%d", conf->ntls_domains);
	else if (sscanf(key, "tls domain %d", &want) == 1) {
		if (want < 0 || want >= conf->ntls_domains)
			return buf;
		snprintf(buf, sizeof(buf), "%s %s line %d",
		    conf->tls_domains[want].domain,
		    tls_policies[conf->tls_domains[want].policy],
		    conf->tls_domains[want].line);
	} else if (strcmp(key, "resolvers") == 0)
		snprintf(buf, sizeof(buf), "%d", conf->nresolvers);
	else if (strcmp(key, "relay addresses") == 0)
		snprintf(buf, sizeof(buf), "%d", conf->nrelay_addrs);
	else if (sscanf(key, "resolver %d", &want) == 1) {
		if (want < 0 || want >= conf->nresolvers)
			return buf;
		r = &conf->resolvers[want];
		snprintf(buf, sizeof(buf), "%s port %u [", r->addr, r->port);
		describe_addr(buf + strlen(buf), sizeof(buf) - strlen(buf),
		    &r->ss, r->sslen);
		strlcat(buf, "]", sizeof(buf));
	} else if (sscanf(key, "relay address %d", &want) == 1) {
		if (want < 0 || want >= conf->nrelay_addrs)
			return buf;
		ss = &conf->relay_addrs[want];
		describe_addr(buf, sizeof(buf), ss, ss->ss_family == AF_INET ?
		    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	} else if (strcmp(key, "pkis") == 0) {
		TAILQ_FOREACH(pki, &conf->pkis, entry)
			n++;
		snprintf(buf, sizeof(buf), "%d", n);
	} else if (strcmp(key, "listeners") == 0) {
		TAILQ_FOREACH(l, &conf->listeners, entry)
			n++;
		snprintf(buf, sizeof(buf), "%d", n);
	} else if (sscanf(key, "pki %d", &want) == 1) {
		TAILQ_FOREACH(pki, &conf->pkis, entry)
			if (n++ == want)
				snprintf(buf, sizeof(buf), "%s cert %s key %s "
				    "line %d", pki->name, pki->cert, pki->key,
				    pki->line);
	} else if (sscanf(key, "listen %d", &want) == 1) {
		TAILQ_FOREACH(l, &conf->listeners, entry)
			if (n++ == want)
				describe_listen(buf, sizeof(buf), l);
	} else
		fail_msg("unknown key '%s'", key);
	return buf;
}

struct good_row {
	const char	*input;
	const char	*key;
	const char	*want;
};

struct bad_row {
	const char	*input;
	const char	*want;		/* every message, in order */
};

/* Checks one input against the messages it must produce, in order. */
static void
check_errors(const char *input, size_t len, const char *want, size_t row)
{
	struct sendgated_conf	*conf;
	char			*errs;

	parse(input, len, &conf, &errs);
	if (strcmp(errs, want) != 0)
		fail_msg("row %zu \"%s\":\nwant:\n%sgot:\n%s", row,
		    printable(input, len), want, errs);
	config_free(conf);
	free(errs);
}

/* Each input parses, and its key then shows want. */
static void
check_good_rows(const struct good_row *rows, size_t n)
{
	struct sendgated_conf	*conf;
	char			*errs;
	const char		*got;
	size_t			 i, len;

	for (i = 0; i < n; i++) {
		len = strlen(rows[i].input);
		if (parse(rows[i].input, len, &conf, &errs) != 0)
			fail_msg("row %zu \"%s\": errors:\n%s", i,
			    printable(rows[i].input, len), errs);
		got = describe(conf, rows[i].key);
		if (strcmp(got, rows[i].want) != 0)
			fail_msg("row %zu \"%s\": %s is \"%s\", want \"%s\"",
			    i, printable(rows[i].input, len), rows[i].key, got,
			    rows[i].want);
		config_free(conf);
		free(errs);
	}
}

static void
check_bad_rows(const struct bad_row *rows, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		check_errors(rows[i].input, strlen(rows[i].input),
		    rows[i].want, i);
}

#endif
