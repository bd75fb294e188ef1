/*
 * sendgated.conf: everything around the grammar.
 *
 * config_parse_stream() reads the file into memory (capped), fills in the
 * defaults, lets the grammar (parse.y) apply the statements and then checks
 * what no single statement can: that every pki has both files, that every
 * listener names a pki that exists, that no two listeners share an
 * address and port, that the spf include name derived from the host
 * name fits, and that the delay notice comes before the bounce.
 * Also here: the value parsers the statements share.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define CONFIG_FILE_MAX		(1024 * 1024)	/* bytes of the whole file */
#define CONFIG_LABEL_MAX	63		/* one label of a host name */

static void config_error(FILE *, const char *, int, const char *, ...)
	    __attribute__((format(printf, 4, 5)));

static void
config_error(FILE *errf, const char *name, int line, const char *fmt, ...)
{
	va_list	ap;

	fprintf(errf, "%s:%d: ", name, line);
	va_start(ap, fmt);
	vfprintf(errf, fmt, ap);
	va_end(ap);
	fputc('\n', errf);
}

static int
valid_name(const char *s, int underscore)
{
	size_t	len = strlen(s), label = 0, i;

	if (len == 0 || len > CONFIG_HOSTNAME_MAX)
		return 0;
	for (i = 0; i <= len; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (label == 0 || label > CONFIG_LABEL_MAX ||
			    s[i - 1] == '-' || s[i - label] == '-')
				return 0;
			label = 0;
		} else if ((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '-' ||
		    (s[i] == '_' && underscore))
			label++;
		else
			return 0;
	}
	return 1;
}

int
config_valid_hostname(const char *s)
{
	return valid_name(s, 0);
}

int
config_valid_dnsname(const char *s)
{
	return valid_name(s, 1);
}

/*
 * The host name is what gethostname() says, without asking DNS for a
 * longer one: every process parses the file and must get the same answer.
 */
static struct sendgated_conf *
config_new(void)
{
	static const int64_t	 retry[] = CONFIG_DEFAULT_QUEUE_RETRY;
	struct sendgated_conf	*conf;

	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return NULL;
	TAILQ_INIT(&conf->pkis);
	TAILQ_INIT(&conf->listeners);
	if (gethostname(conf->hostname, sizeof(conf->hostname)) == -1 ||
	    conf->hostname[sizeof(conf->hostname) - 1] != '\0' ||
	    !config_valid_hostname(conf->hostname))
		strlcpy(conf->hostname, "localhost", sizeof(conf->hostname));
	strlcpy(conf->queue_dir, CONFIG_DEFAULT_QUEUE, sizeof(conf->queue_dir));
	strlcpy(conf->state_dir, CONFIG_DEFAULT_STATE, sizeof(conf->state_dir));
	strlcpy(conf->keys_dir, CONFIG_DEFAULT_KEYS, sizeof(conf->keys_dir));
	strlcpy(conf->empty_dir, CONFIG_DEFAULT_EMPTY, sizeof(conf->empty_dir));
	strlcpy(conf->socket_path, CONFIG_DEFAULT_SOCKET,
	    sizeof(conf->socket_path));
	strlcpy(conf->user, CONFIG_DEFAULT_USER, sizeof(conf->user));
	strlcpy(conf->queue_user, CONFIG_DEFAULT_QUSER,
	    sizeof(conf->queue_user));
	strlcpy(conf->signer_user, CONFIG_DEFAULT_KUSER,
	    sizeof(conf->signer_user));
	strlcpy(conf->ctl_group, CONFIG_DEFAULT_CTLGROUP,
	    sizeof(conf->ctl_group));

	conf->smtp_sessions = CONFIG_DEFAULT_SMTP_SESSIONS;
	conf->smtp_sessions_per_addr = CONFIG_DEFAULT_SMTP_SESSIONS_PER_ADDR;
	conf->smtp_junk_max = CONFIG_DEFAULT_SMTP_JUNK_MAX;
	conf->smtp_auth_failures = CONFIG_DEFAULT_SMTP_AUTH_FAILURES;
	conf->smtp_timeout_command = CONFIG_DEFAULT_SMTP_TIMEOUT_COMMAND;
	conf->smtp_timeout_data = CONFIG_DEFAULT_SMTP_TIMEOUT_DATA;
	conf->smtp_timeout_handshake = CONFIG_DEFAULT_SMTP_TIMEOUT_HANDSHAKE;
	conf->smtp_tls_threads = CONFIG_DEFAULT_SMTP_TLS_THREADS;

	conf->limits.messages[WINDOW_MINUTE] = CONFIG_DEFAULT_MSG_MINUTE;
	conf->limits.messages[WINDOW_HOUR] = CONFIG_DEFAULT_MSG_HOUR;
	conf->limits.messages[WINDOW_DAY] = CONFIG_DEFAULT_MSG_DAY;
	conf->limits.recipients[WINDOW_MINUTE] = CONFIG_DEFAULT_RCPT_MINUTE;
	conf->limits.recipients[WINDOW_HOUR] = CONFIG_DEFAULT_RCPT_HOUR;
	conf->limits.recipients[WINDOW_DAY] = CONFIG_DEFAULT_RCPT_DAY;
	conf->limits.message_size = CONFIG_DEFAULT_MSG_SIZE;
	conf->limits.rcpt_per_message = CONFIG_DEFAULT_RCPT_PER_MSG;
	strlcpy(conf->verify_prefix, CONFIG_DEFAULT_VERIFY_PREFIX,
	    sizeof(conf->verify_prefix));
	conf->verify_grace = CONFIG_DEFAULT_GRACE;
	/* spf_include stays empty: config_check() derives it. */
	strlcpy(conf->dkim_selector, CONFIG_DEFAULT_DKIM_SELECTOR,
	    sizeof(conf->dkim_selector));
	conf->dkim_algs = CONFIG_DKIM_RSA | CONFIG_DKIM_ED25519;
	conf->checks_every = CONFIG_DEFAULT_CHECKS_EVERY;
	conf->checks_inflight = CONFIG_DEFAULT_CHECKS_INFLIGHT;

	memcpy(conf->queue_retry, retry, sizeof(retry));
	conf->queue_nretry = sizeof(retry) / sizeof(retry[0]);
	conf->queue_expire = CONFIG_DEFAULT_QUEUE_EXPIRE;
	conf->queue_warn = CONFIG_DEFAULT_QUEUE_WARN;
	conf->deliver_port = CONFIG_DEFAULT_DELIVER_PORT;
	conf->tls_policy = CONFIG_DEFAULT_TLS_POLICY;
	conf->mta_concurrency = CONFIG_DEFAULT_MTA_CONCURRENCY;
	conf->mta_per_host = CONFIG_DEFAULT_MTA_PER_HOST;
	conf->limit_windows[WINDOW_MINUTE] = 60;
	conf->limit_windows[WINDOW_HOUR] = 3600;
	conf->limit_windows[WINDOW_DAY] = 24 * 3600;
	return conf;
}

static int
same_address(const struct config_listen *a, const struct config_listen *b)
{
	const struct sockaddr_in	*a4, *b4;
	const struct sockaddr_in6	*a6, *b6;

	if (a->ss.ss_family != b->ss.ss_family)
		return 0;
	switch (a->ss.ss_family) {
	case AF_INET:
		a4 = (const struct sockaddr_in *)&a->ss;
		b4 = (const struct sockaddr_in *)&b->ss;
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	case AF_INET6:
		a6 = (const struct sockaddr_in6 *)&a->ss;
		b6 = (const struct sockaddr_in6 *)&b->ss;
		return a6->sin6_port == b6->sin6_port &&
		    a6->sin6_scope_id == b6->sin6_scope_id &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	}
	return 0;
}

/* What no single statement can check; returns the number of errors. */
static int
config_check(struct sendgated_conf *conf, const char *name, FILE *errf)
{
	struct config_pki	*pki;
	struct config_listen	*l, *prev;
	char			 warn[CONFIG_FORMAT_MAX];
	char			 expire[CONFIG_FORMAT_MAX];
	int			 errors = 0;

	TAILQ_FOREACH(pki, &conf->pkis, entry) {
		if (pki->cert[0] == '\0' || pki->key[0] == '\0') {
			config_error(errf, name, pki->line,
			    "pki '%s' has no %s", pki->name,
			    pki->cert[0] == '\0' ? "cert" : "key");
			errors++;
		}
	}
	TAILQ_FOREACH(l, &conf->listeners, entry) {
		if (config_pki_find(conf, l->pki) == NULL) {
			config_error(errf, name, l->line,
			    "listen: pki '%s' is not defined", l->pki);
			errors++;
		}
		for (prev = TAILQ_FIRST(&conf->listeners); prev != l;
		    prev = TAILQ_NEXT(prev, entry)) {
			if (same_address(prev, l)) {
				config_error(errf, name, l->line,
				    "duplicate listener %s port %u (first at "
				    "line %d)", l->addr, l->port, prev->line);
				errors++;
				break;
			}
		}
	}
	/*
	 * "_spf." and the host name, which a hostname statement may have
	 * made too long; the default host name is short enough.
	 */
	if (conf->spf_include[0] == '\0' &&
	    (size_t)snprintf(conf->spf_include, sizeof(conf->spf_include),
	    "_spf.%s", conf->hostname) >= sizeof(conf->spf_include)) {
		config_error(errf, name, conf->hostname_line, "hostname: too "
		    "long for the default spf include (max %zu bytes)",
		    sizeof(conf->spf_include) - 1 - strlen("_spf."));
		errors++;
	}
	/*
	 * A delay notice after the message has bounced would say nothing.
	 * A queue expire at or under the default warn turns the notice off
	 * (sendgated.conf.5 says so); a warn given explicitly is an error.
	 */
	if (conf->queue_warn != 0 && conf->queue_warn >= conf->queue_expire) {
		if (conf->queue_warn_line == 0)
			conf->queue_warn = 0;
		else {
			config_format_duration(warn, sizeof(warn),
			    conf->queue_warn);
			config_format_duration(expire, sizeof(expire),
			    conf->queue_expire);
			config_error(errf, name, conf->queue_warn_line,
			    "queue warn: %s is not shorter than queue expire "
			    "(%s)", warn, expire);
			errors++;
		}
	}
	return errors;
}

/* 1 + the number of newlines in the first len bytes of buf. */
static int
line_at(const char *buf, size_t len)
{
	const char	*p = buf, *end = buf + len;
	int		 line = 1;

	while ((p = memchr(p, '\n', end - p)) != NULL) {
		p++;
		line++;
	}
	return line;
}

/*
 * The stream into memory, at most CONFIG_FILE_MAX + 1 bytes: one more than
 * allowed tells a file too large from one that just fits.  NULL when out
 * of memory; the caller looks at ferror().
 */
static char *
read_capped(FILE *in, size_t *lenp)
{
	char	*buf = NULL, *p;
	size_t	 len = 0, size = 0, n;

	do {
		if (len == size) {
			size = size == 0 ? 8192 : size * 2;
			if (size > CONFIG_FILE_MAX + 1)
				size = CONFIG_FILE_MAX + 1;
			if ((p = realloc(buf, size)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = p;
		}
		n = fread(buf + len, 1, size - len, in);
		len += n;
	} while (n > 0 && len <= CONFIG_FILE_MAX);
	*lenp = len;
	return buf;
}

/*
 * Checks across statements run only on a file whose every line parsed:
 * a pki line with an error would otherwise make each listener naming it
 * an error too.
 */
int
config_parse_stream(FILE *in, const char *name, FILE *errf,
    struct sendgated_conf **confp)
{
	struct sendgated_conf	*conf;
	char			*buf;
	size_t			 len;
	int			 errors;

	if ((buf = read_capped(in, &len)) == NULL) {
		config_error(errf, name, 1, "out of memory");
		return 1;
	}
	if (ferror(in)) {
		config_error(errf, name, line_at(buf, len), "read error: %s",
		    strerror(errno));
		free(buf);
		return 1;
	}
	if (len > CONFIG_FILE_MAX) {
		config_error(errf, name, line_at(buf, CONFIG_FILE_MAX),
		    "file too large (max %d bytes)", CONFIG_FILE_MAX);
		free(buf);
		return 1;
	}
	if ((conf = config_new()) == NULL) {
		config_error(errf, name, 1, "out of memory");
		free(buf);
		return 1;
	}
	errors = config_grammar(buf, len, name, errf, conf);
	free(buf);
	if (errors == 0)
		errors = config_check(conf, name, errf);
	if (errors != 0) {
		config_free(conf);
		return errors;
	}
	*confp = conf;
	return 0;
}

int
config_parse_file(const char *path, FILE *errf, struct sendgated_conf **confp)
{
	struct sendgated_conf	*conf = NULL;
	FILE			*in;
	int			 errors;

	if (strlen(path) >= sizeof(conf->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((in = fopen(path, "r")) == NULL)
		return -1;
	errors = config_parse_stream(in, path, errf, &conf);
	fclose(in);
	if (errors == 0) {
		strlcpy(conf->path, path, sizeof(conf->path));
		*confp = conf;
	}
	return errors;
}

void
config_free(struct sendgated_conf *conf)
{
	struct config_pki	*pki;
	struct config_listen	*l;

	if (conf == NULL)
		return;
	while ((pki = TAILQ_FIRST(&conf->pkis)) != NULL) {
		TAILQ_REMOVE(&conf->pkis, pki, entry);
		free(pki);
	}
	while ((l = TAILQ_FIRST(&conf->listeners)) != NULL) {
		TAILQ_REMOVE(&conf->listeners, l, entry);
		free(l);
	}
	/* Every process parses the file: no smarthost password left over. */
	explicit_bzero(&conf->relayhost, sizeof(conf->relayhost));
	free(conf);
}

struct config_pki *
config_pki_find(struct sendgated_conf *conf, const char *name)
{
	struct config_pki	*pki;

	TAILQ_FOREACH(pki, &conf->pkis, entry)
		if (strcmp(pki->name, name) == 0)
			return pki;
	return NULL;
}

struct unit {
	char		suffix;
	uint64_t	factor;
};

static const struct unit duration_units[] = {
	{ 's', 1 }, { 'm', 60 }, { 'h', 60 * 60 }, { 'd', 24 * 60 * 60 },
	{ '\0', 0 }
};

static const struct unit size_units[] = {
	{ 'K', 1ULL << 10 }, { 'k', 1ULL << 10 },
	{ 'M', 1ULL << 20 }, { 'm', 1ULL << 20 },
	{ 'G', 1ULL << 30 }, { 'g', 1ULL << 30 },
	{ '\0', 0 }
};

/*
 * Digits, then at most one suffix from units ('\0' ends the table); the
 * result must not exceed max.
 */
static int
parse_scaled(const char *s, const struct unit *units, uint64_t max,
    uint64_t *result)
{
	uint64_t	n = 0, factor = 1;

	if (*s < '0' || *s > '9') {
		errno = EINVAL;
		return -1;
	}
	for (; *s >= '0' && *s <= '9'; s++) {
		if (n > (max - (*s - '0')) / 10) {
			errno = ERANGE;
			return -1;
		}
		n = n * 10 + (*s - '0');
	}
	if (*s != '\0') {
		for (; units->suffix != '\0' && units->suffix != *s; units++)
			;
		if (units->suffix == '\0' || s[1] != '\0') {
			errno = EINVAL;
			return -1;
		}
		factor = units->factor;
	}
	if (n > max / factor) {
		errno = ERANGE;
		return -1;
	}
	*result = n * factor;
	return 0;
}

int
config_parse_duration(const char *s, int64_t *seconds)
{
	uint64_t	n;

	if (parse_scaled(s, duration_units, INT64_MAX, &n) == -1)
		return -1;
	*seconds = n;
	return 0;
}

int
config_parse_size(const char *s, uint64_t *bytes)
{
	return parse_scaled(s, size_units, UINT64_MAX, bytes);
}

static void
format_scaled(char *buf, size_t size, uint64_t n, const struct unit *units)
{
	const struct unit	*u, *best = NULL;

	for (u = units; n != 0 && u->suffix != '\0'; u++)
		if (n % u->factor == 0 &&
		    (best == NULL || u->factor > best->factor))
			best = u;
	if (best == NULL)
		snprintf(buf, size, "%llu", (unsigned long long)n);
	else
		snprintf(buf, size, "%llu%c",
		    (unsigned long long)(n / best->factor), best->suffix);
}

void
config_format_duration(char *buf, size_t size, int64_t seconds)
{
	format_scaled(buf, size, seconds, duration_units);
}

void
config_format_size(char *buf, size_t size, uint64_t bytes)
{
	format_scaled(buf, size, bytes, size_units);
}
