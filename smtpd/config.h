/*
 * sendgated.conf: the parsed configuration.
 *
 * The parent and every child parse the file themselves (children re-read
 * it after re-exec); each process keeps the result private to its entry
 * file and hands modules only the values they need.
 */
#ifndef SENDGATE_CONFIG_H
#define SENDGATE_CONFIG_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_NAME_MAX		64	/* pki names, user and group names */
#define CONFIG_HOSTNAME_MAX	255

#define CONFIG_DEFAULT_PATH	"/etc/sendgated.conf"
#define CONFIG_DEFAULT_QUEUE	"/var/spool/sendgate"
#define CONFIG_DEFAULT_STATE	"/var/lib/sendgate/state"
#define CONFIG_DEFAULT_KEYS	"/var/lib/sendgate/keys"
#define CONFIG_DEFAULT_EMPTY	"/var/lib/sendgate/empty"
#define CONFIG_DEFAULT_SOCKET	"/run/sendgated.sock"
#define CONFIG_DEFAULT_USER	"_sendgate"
#define CONFIG_DEFAULT_QUSER	"_sendgateq"
#define CONFIG_DEFAULT_KUSER	"_sendgatek"
#define CONFIG_DEFAULT_CTLGROUP	"_sendgatectl"

struct config_pki {
	TAILQ_ENTRY(config_pki)	 entry;
	char			 name[CONFIG_NAME_MAX];
	char			 cert[PATH_MAX];
	char			 key[PATH_MAX];
	int			 line;
};

enum listen_mode {
	LISTEN_STARTTLS,	/* "tls": plain, STARTTLS required before AUTH */
	LISTEN_SMTPS		/* "smtps": implicit TLS */
};

struct config_listen {
	TAILQ_ENTRY(config_listen) entry;
	struct sockaddr_storage	 ss;	/* address and port, ready to bind */
	socklen_t		 sslen;
	char			 addr[64];	/* as written, for logs */
	uint16_t		 port;
	enum listen_mode	 mode;
	char			 pki[CONFIG_NAME_MAX];
	int			 line;
};

/*
 * Per-connector limits.  The config's "limit" statements set the
 * defaults; sendgatectl connector limit overrides them per connector.
 * A value of 0 means "no limit" for the counters.
 */
enum config_window {
	WINDOW_MINUTE,
	WINDOW_HOUR,
	WINDOW_DAY,
	WINDOW_COUNT
};

struct config_limits {
	uint64_t		 messages[WINDOW_COUNT];
	uint64_t		 recipients[WINDOW_COUNT];
	uint64_t		 message_size;		/* bytes */
	uint64_t		 rcpt_per_message;
};

#define CONFIG_DEFAULT_MSG_MINUTE	120
#define CONFIG_DEFAULT_MSG_HOUR		500
#define CONFIG_DEFAULT_MSG_DAY		2000
#define CONFIG_DEFAULT_RCPT_MINUTE	600
#define CONFIG_DEFAULT_RCPT_HOUR	2000
#define CONFIG_DEFAULT_RCPT_DAY		10000
#define CONFIG_DEFAULT_MSG_SIZE		(35ULL * 1024 * 1024)
#define CONFIG_DEFAULT_RCPT_PER_MSG	100

#define CONFIG_DEFAULT_VERIFY_PREFIX	"sendgate"
#define CONFIG_DEFAULT_DKIM_SELECTOR	"sendgate"
#define CONFIG_DEFAULT_GRACE		(24 * 3600)
#define CONFIG_DEFAULT_CHECKS_EVERY	3600
#define CONFIG_DEFAULT_CHECKS_INFLIGHT	50

/*
 * SMTP sessions: open at once in all and per client address; junk commands
 * and failed AUTH per session; timeouts in seconds.
 */
#define CONFIG_DEFAULT_SMTP_SESSIONS		1000
#define CONFIG_DEFAULT_SMTP_SESSIONS_PER_ADDR	50
#define CONFIG_DEFAULT_SMTP_JUNK_MAX		50
#define CONFIG_DEFAULT_SMTP_AUTH_FAILURES	3
#define CONFIG_DEFAULT_SMTP_TIMEOUT_COMMAND	300
#define CONFIG_DEFAULT_SMTP_TIMEOUT_DATA	600
#define CONFIG_DEFAULT_SMTP_TIMEOUT_HANDSHAKE	30
/* Threads for TLS handshakes in smtp; -1: one per online CPU. */
#define CONFIG_DEFAULT_SMTP_TLS_THREADS		(-1)

/*
 * Delivery from the queue, by the relay agent (mta): the retry schedule
 * after temporary failures, in seconds (after the last interval, the
 * retries go on at that interval); when a message is bounced, and when a
 * delay notice is sent (0: never); the port of MX hosts; connections at
 * once, in all and to one destination host.
 */
#define CONFIG_QUEUE_RETRY_MAX		16
#define CONFIG_DEFAULT_QUEUE_RETRY	{ 5 * 60, 10 * 60, 20 * 60, 40 * 60, \
					    60 * 60 }
#define CONFIG_DEFAULT_QUEUE_EXPIRE	(5 * 24 * 3600)
#define CONFIG_DEFAULT_QUEUE_WARN	(4 * 3600)
#define CONFIG_DEFAULT_DELIVER_PORT	25
#define CONFIG_DEFAULT_MTA_CONCURRENCY	100
#define CONFIG_DEFAULT_MTA_PER_HOST	10

/*
 * "relay via": every message goes to this smarthost instead of the MX
 * hosts of its domain.  The port, unless given, follows the mode.
 */
enum config_relay_mode {
	CONFIG_RELAY_STARTTLS,	/* "starttls": STARTTLS required */
	CONFIG_RELAY_TLS,	/* "tls": implicit TLS */
	CONFIG_RELAY_PLAIN	/* "plain": no TLS, and so no auth */
};

#define CONFIG_RELAY_PORT_STARTTLS	587
#define CONFIG_RELAY_PORT_TLS		465
#define CONFIG_RELAY_PORT_PLAIN		25
#define CONFIG_RELAY_AUTH_MAX		255	/* user, password (RFC 4616) */

struct config_relayhost {
	int			 set;		/* 0: MX lookups */
	char			 host[CONFIG_HOSTNAME_MAX + 1];
	uint16_t		 port;
	enum config_relay_mode	 mode;
	char			 user[CONFIG_RELAY_AUTH_MAX + 1]; /* "": none */
	char			 pass[CONFIG_RELAY_AUTH_MAX + 1];
};

/* Outbound TLS: the default policy, and the one of a destination domain. */
#define CONFIG_TLS_OPPORTUNISTIC	0	/* if offered, unverified */
#define CONFIG_TLS_REQUIRE		1	/* always, unverified */
#define CONFIG_TLS_VERIFY		2	/* always, cert verified */
#define CONFIG_DEFAULT_TLS_POLICY	CONFIG_TLS_OPPORTUNISTIC
#define CONFIG_TLS_DOMAINS_MAX		64

struct config_tls_domain {
	char			 domain[CONFIG_HOSTNAME_MAX + 1]; /* lower */
	int			 policy;	/* CONFIG_TLS_REQUIRE, VERIFY */
	int			 line;
};

#define CONFIG_DKIM_RSA			0x01	/* rsa-sha256 */
#define CONFIG_DKIM_ED25519		0x02	/* ed25519-sha256 */
#define CONFIG_DKIM_HEADERS_MAX		64	/* dkim headers */
#define CONFIG_DKIM_HEADER_LEN		64	/* one field name + NUL */

#define CONFIG_RESOLVERS_MAX		8
#define CONFIG_RELAY_ADDRS_MAX		16

struct config_resolver {
	struct sockaddr_storage	 ss;	/* address and port */
	socklen_t		 sslen;
	char			 addr[64];
	uint16_t		 port;
};

struct sendgated_conf {
	char			 path[PATH_MAX];	/* file read */
	char			 hostname[CONFIG_HOSTNAME_MAX + 1];
	int			 hostname_line;	/* 0: the default */
	char			 queue_dir[PATH_MAX];
	char			 state_dir[PATH_MAX];
	char			 keys_dir[PATH_MAX];
	char			 empty_dir[PATH_MAX];
	char			 socket_path[PATH_MAX];
	char			 user[CONFIG_NAME_MAX];		/* smtp lka mta control */
	char			 queue_user[CONFIG_NAME_MAX];
	char			 signer_user[CONFIG_NAME_MAX];
	char			 ctl_group[CONFIG_NAME_MAX];
	TAILQ_HEAD(, config_pki) pkis;
	TAILQ_HEAD(, config_listen) listeners;
	int			 smtp_sessions;		/* at once */
	int			 smtp_sessions_per_addr; /* at once, per IP */
	int			 smtp_junk_max;		/* between messages */
	int			 smtp_auth_failures;
	int64_t			 smtp_timeout_command;	/* seconds */
	int64_t			 smtp_timeout_data;	/* seconds */
	int64_t			 smtp_timeout_handshake; /* seconds */
	int			 smtp_tls_threads;	/* -1: per CPU */

	struct config_limits	 limits;		/* connector defaults */
	int64_t			 limit_windows[WINDOW_COUNT];	/* seconds */
	char			 verify_prefix[CONFIG_NAME_MAX];
	int64_t			 verify_grace;		/* seconds */
	char			 spf_include[CONFIG_HOSTNAME_MAX + 1];
	char			 dkim_selector[CONFIG_NAME_MAX];
	int			 dkim_algs;		/* CONFIG_DKIM_* */
	char			 dkim_delegate[CONFIG_HOSTNAME_MAX + 1]; /* "": none */
	int64_t			 dkim_expire;	/* x= after t=, seconds; 0 none */
	char			 dkim_domain[CONFIG_HOSTNAME_MAX + 1]; /* "": none */
	int			 dkim_body_simple;	/* c=relaxed/simple */
	char			 dkim_headers[CONFIG_DKIM_HEADERS_MAX]
				    [CONFIG_DKIM_HEADER_LEN];	/* h= */
	int			 ndkim_headers;	/* 0: the default list */
	int64_t			 checks_every;		/* seconds */
	int			 checks_inflight;
	int			 require_spf;
	int			 require_dkim;
	struct config_resolver	 resolvers[CONFIG_RESOLVERS_MAX];
	int			 nresolvers;
	struct sockaddr_storage	 relay_addrs[CONFIG_RELAY_ADDRS_MAX];
	int			 nrelay_addrs;

	int64_t			 queue_retry[CONFIG_QUEUE_RETRY_MAX]; /* s */
	int			 queue_nretry;
	int64_t			 queue_expire;		/* seconds */
	int			 queue_expire_line;	/* 0: the default */
	int64_t			 queue_warn;		/* seconds, 0: never */
	int			 queue_warn_line;	/* 0: the default */
	int			 deliver_port;		/* of MX hosts */
	struct config_relayhost	 relayhost;
	int			 tls_policy;		/* CONFIG_TLS_* */
	struct config_tls_domain tls_domains[CONFIG_TLS_DOMAINS_MAX];
	int			 ntls_domains;
	int			 mta_concurrency;	/* connections */
	int			 mta_per_host;		/* at once, per host */
	int			 mta_paused;	/* start with delivery paused */
};

/*
 * Parse the stream in (named name in messages).  Every error is written to
 * errf as "name:line: message\n" and counted; parsing goes on after an
 * error so that one run reports them all.  Returns the number of errors;
 * *confp is set only when it is 0.
 */
int	 config_parse_stream(FILE *in, const char *name, FILE *errf,
	    struct sendgated_conf **confp);
/* Same for a file path; -1 (errno set) when the file cannot be opened. */
int	 config_parse_file(const char *path, FILE *errf,
	    struct sendgated_conf **confp);
void	 config_free(struct sendgated_conf *);
struct config_pki *config_pki_find(struct sendgated_conf *, const char *);

/*
 * Values of later statements: a duration is N, Ns, Nm, Nh or Nd (seconds);
 * a size is N, NK, NM or NG (powers of 1024).  0 on success, -1 with errno
 * EINVAL (not such a value) or ERANGE (it does not fit).
 */
int	 config_parse_duration(const char *, int64_t *);
int	 config_parse_size(const char *, uint64_t *);

/*
 * The other way: the largest unit that divides the value exactly, so that
 * 86400 is "1d", 2147483648 "2G" and 0 "0".  buf holds CONFIG_FORMAT_MAX.
 */
#define CONFIG_FORMAT_MAX	24
void	 config_format_duration(char *, size_t, int64_t);
void	 config_format_size(char *, size_t, uint64_t);

/*
 * 1 if s is a host name: dot-separated labels of letters, digits, '-',
 * no '-' at either end of a label.  config_valid_dnsname() also takes
 * '_', as in the names of SPF records (_spf.example.com).
 */
int	 config_valid_hostname(const char *);
int	 config_valid_dnsname(const char *);

/*
 * The grammar (parse.y), for config_parse_stream(): parses len bytes of
 * buf into conf, which holds the defaults, and returns the error count.
 */
int	 config_grammar(const char *, size_t, const char *, FILE *,
	    struct sendgated_conf *);

#endif
