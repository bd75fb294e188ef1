/*
 * sendgated.conf: the grammar.
 *
 * config_grammar() reads bytes already in memory (config.c reads the file,
 * sets the defaults before and runs the cross-statement checks after) and
 * fills the configuration it is given; the lexer (config_lex.c) makes the
 * tokens, expands macros and counts the errors.  Every error is written
 * as "name:line: message" and the parser resumes at the next newline, so
 * one run reports every bad line.
 */

%{
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <netdb.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "config_lex.h"

#define YY_NO_LEAKS	1	/* byacc: free its stack when yyparse returns */

#define PARSE_PKI_MAX		63	/* pki name */
#define PARSE_USER_MAX		32	/* user and group names */
#define PARSE_PREFIX_MAX	32	/* verification prefix */
#define PARSE_SELECTOR_MAX	40	/* dkim selector, before "-ed25519" */
#define PARSE_RATE_MAX		1000000000000ULL  /* messages, recipients */
#define PARSE_RCPT_MAX		100000	/* recipients per message */
#define PARSE_SIZE_MIN		1024ULL
#define PARSE_SIZE_MAX		(2ULL << 30)
#define PARSE_GRACE_MAX		(365ULL * 24 * 3600)
#define PARSE_EVERY_MAX		(7ULL * 24 * 3600)
#define PARSE_INFLIGHT_MAX	1000	/* checks at once */
#define PARSE_SESSIONS_MAX	100000	/* smtp sessions, junk commands */
#define PARSE_AUTH_FAIL_MAX	100	/* failed AUTH in a session */
#define PARSE_CMD_TIMEOUT_MAX	3600ULL
#define PARSE_DATA_TIMEOUT_MAX	(24ULL * 3600)
#define PARSE_TLS_TIMEOUT_MAX	600ULL
#define PARSE_TLS_THREADS_MAX	64	/* smtp handshake threads */
#define PARSE_DNS_PORT		53	/* of a resolver without port */
#define PARSE_RETRY_MIN		1ULL	/* tests; 1m and more in practice */
#define PARSE_RETRY_MAX		(24ULL * 3600)
#define PARSE_EXPIRE_MIN	10ULL
#define PARSE_EXPIRE_MAX	(30ULL * 24 * 3600)
#define PARSE_WARN_MIN		1ULL	/* or 0 */
#define PARSE_WARN_MAX		(7ULL * 24 * 3600)
#define PARSE_MTA_MAX		1000	/* outbound connections */
#define PARSE_WINDOW_MAX	(30ULL * 24 * 3600)	/* limit windows */
#define PARSE_DKIM_EXPIRE_MIN	3600ULL		/* or 0 */
#define PARSE_DKIM_EXPIRE_MAX	(366ULL * 24 * 3600)
#define PARSE_MTA_HOST_MAX	100	/* outbound connections to one host */

/*
 * Statements that may be given once: a second one is an error.  All but
 * the last six set one value each, as settings[] says.
 */
enum setting {
	SET_HOSTNAME,
	SET_QUEUE,
	SET_STATE,
	SET_KEYS,
	SET_EMPTY,
	SET_SOCKET,
	SET_USER,
	SET_QUEUE_USER,
	SET_SIGNER_USER,
	SET_CTL_GROUP,
	SET_MSG_MINUTE,		/* these three and the next three */
	SET_MSG_HOUR,		/* in the order of enum config_window */
	SET_MSG_DAY,
	SET_RCPT_MINUTE,
	SET_RCPT_HOUR,
	SET_RCPT_DAY,
	SET_RCPT_PER_MSG,
	SET_SIZE,
	SET_LIMIT_WINDOWS,	/* read by limit_windows() */
	SET_VERIFY_PREFIX,
	SET_VERIFY_GRACE,
	SET_SPF_INCLUDE,
	SET_DKIM_SELECTOR,
	SET_DKIM_DELEGATE,
	SET_DKIM_EXPIRE,
	SET_DKIM_DOMAIN,
	SET_DKIM_BODY,		/* read by dkim_body() */
	SET_CHECKS_EVERY,
	SET_CHECKS_INFLIGHT,
	SET_REQUIRE_SPF,
	SET_REQUIRE_DKIM,
	SET_SMTP_SESSIONS,
	SET_SMTP_PER_ADDR,
	SET_SMTP_JUNK,
	SET_SMTP_AUTH_FAIL,
	SET_SMTP_CMD_TIMEOUT,
	SET_SMTP_DATA_TIMEOUT,
	SET_SMTP_TLS_TIMEOUT,
	SET_SMTP_TLS_THREADS,
	SET_QUEUE_EXPIRE,
	SET_QUEUE_WARN,
	SET_DELIVER_PORT,
	SET_MTA_CONCURRENCY,
	SET_MTA_PER_HOST,
	SET_DKIM_ALGS,		/* lists: read by their own functions */
	SET_DKIM_HEADERS,
	SET_RESOLVER,
	SET_RELAY_ADDRESS,
	SET_QUEUE_RETRY,
	SET_RELAY_VIA,		/* options: relay_begin(), relay_define() */
	SET_TLS_POLICY,		/* tls_policy() */
	SET_COUNT
};

/* How the value of a statement is checked. */
enum value_kind {
	VALUE_HOSTNAME,
	VALUE_PATH,		/* absolute, shorter than PATH_MAX */
	VALUE_SOCKET,		/* absolute, fits sun_path */
	VALUE_USER,
	VALUE_GROUP,
	VALUE_LABEL,		/* a DNS label of [a-z0-9-], at most max */
	VALUE_DNSNAME,		/* a host name, '_' allowed */
	VALUE_NUMBER,		/* digits; int, uint64_t, min to max */
	VALUE_PORT,		/* a VALUE_NUMBER said to be a port */
	VALUE_SIZE,		/* config_parse_size(); uint64_t */
	VALUE_DURATION,		/* config_parse_duration(); int64_t */
	VALUE_DURATION0,	/* as VALUE_DURATION, or 0 below min */
	VALUE_FLAG,		/* no value; the int is set to 1 */
	VALUE_LIST
};

#define CONF_FIELD(f)	offsetof(struct sendgated_conf, f), \
			sizeof(((struct sendgated_conf *)0)->f)

static const struct {
	const char	*what;		/* statement, for messages */
	enum value_kind	 kind;
	size_t		 off;		/* field of struct sendgated_conf */
	size_t		 size;
	uint64_t	 min, max;	/* numbers; max: length of a label */
} settings[SET_COUNT] = {
	[SET_HOSTNAME] =	{ "hostname", VALUE_HOSTNAME,
				    CONF_FIELD(hostname) },
	[SET_QUEUE] =		{ "queue", VALUE_PATH, CONF_FIELD(queue_dir) },
	[SET_STATE] =		{ "state", VALUE_PATH, CONF_FIELD(state_dir) },
	[SET_KEYS] =		{ "keys", VALUE_PATH, CONF_FIELD(keys_dir) },
	[SET_EMPTY] =		{ "empty", VALUE_PATH, CONF_FIELD(empty_dir) },
	[SET_SOCKET] =		{ "socket", VALUE_SOCKET,
				    CONF_FIELD(socket_path) },
	[SET_USER] =		{ "user", VALUE_USER, CONF_FIELD(user) },
	[SET_QUEUE_USER] =	{ "user queue", VALUE_USER,
				    CONF_FIELD(queue_user) },
	[SET_SIGNER_USER] =	{ "user signer", VALUE_USER,
				    CONF_FIELD(signer_user) },
	[SET_CTL_GROUP] =	{ "group control", VALUE_GROUP,
				    CONF_FIELD(ctl_group) },
	[SET_MSG_MINUTE] =	{ "limit messages per minute", VALUE_NUMBER,
				    CONF_FIELD(limits.messages[WINDOW_MINUTE]),
				    0, PARSE_RATE_MAX },
	[SET_MSG_HOUR] =	{ "limit messages per hour", VALUE_NUMBER,
				    CONF_FIELD(limits.messages[WINDOW_HOUR]),
				    0, PARSE_RATE_MAX },
	[SET_MSG_DAY] =		{ "limit messages per day", VALUE_NUMBER,
				    CONF_FIELD(limits.messages[WINDOW_DAY]),
				    0, PARSE_RATE_MAX },
	[SET_RCPT_MINUTE] =	{ "limit recipients per minute", VALUE_NUMBER,
				    CONF_FIELD(limits.recipients[WINDOW_MINUTE]),
				    0, PARSE_RATE_MAX },
	[SET_RCPT_HOUR] =	{ "limit recipients per hour", VALUE_NUMBER,
				    CONF_FIELD(limits.recipients[WINDOW_HOUR]),
				    0, PARSE_RATE_MAX },
	[SET_RCPT_DAY] =	{ "limit recipients per day", VALUE_NUMBER,
				    CONF_FIELD(limits.recipients[WINDOW_DAY]),
				    0, PARSE_RATE_MAX },
	[SET_RCPT_PER_MSG] =	{ "limit recipients per message", VALUE_NUMBER,
				    CONF_FIELD(limits.rcpt_per_message),
				    1, PARSE_RCPT_MAX },
	[SET_SIZE] =		{ "limit size", VALUE_SIZE,
				    CONF_FIELD(limits.message_size),
				    PARSE_SIZE_MIN, PARSE_SIZE_MAX },
	[SET_VERIFY_PREFIX] =	{ "verification prefix", VALUE_LABEL,
				    CONF_FIELD(verify_prefix),
				    0, PARSE_PREFIX_MAX },
	[SET_VERIFY_GRACE] =	{ "verification grace", VALUE_DURATION,
				    CONF_FIELD(verify_grace),
				    0, PARSE_GRACE_MAX },
	[SET_SPF_INCLUDE] =	{ "spf include", VALUE_DNSNAME,
				    CONF_FIELD(spf_include) },
	[SET_DKIM_SELECTOR] =	{ "dkim selector", VALUE_LABEL,
				    CONF_FIELD(dkim_selector),
				    0, PARSE_SELECTOR_MAX },
	[SET_DKIM_DELEGATE] =	{ "dkim delegate", VALUE_DNSNAME,
				    CONF_FIELD(dkim_delegate) },
	[SET_DKIM_DOMAIN] =	{ "dkim domain", VALUE_DNSNAME,
				    CONF_FIELD(dkim_domain) },
	[SET_DKIM_EXPIRE] =	{ "dkim expire", VALUE_DURATION0,
				    CONF_FIELD(dkim_expire),
				    PARSE_DKIM_EXPIRE_MIN, PARSE_DKIM_EXPIRE_MAX },
	[SET_DKIM_BODY] =	{ "dkim body", VALUE_LIST },
	[SET_CHECKS_EVERY] =	{ "checks every", VALUE_DURATION,
				    CONF_FIELD(checks_every),
				    1, PARSE_EVERY_MAX },
	[SET_CHECKS_INFLIGHT] =	{ "checks concurrency", VALUE_NUMBER,
				    CONF_FIELD(checks_inflight),
				    1, PARSE_INFLIGHT_MAX },
	[SET_REQUIRE_SPF] =	{ "require spf", VALUE_FLAG,
				    CONF_FIELD(require_spf) },
	[SET_REQUIRE_DKIM] =	{ "require dkim", VALUE_FLAG,
				    CONF_FIELD(require_dkim) },
	[SET_SMTP_SESSIONS] =	{ "smtp limit sessions", VALUE_NUMBER,
				    CONF_FIELD(smtp_sessions),
				    1, PARSE_SESSIONS_MAX },
	[SET_SMTP_PER_ADDR] =	{ "smtp limit sessions-per-address",
				    VALUE_NUMBER,
				    CONF_FIELD(smtp_sessions_per_addr),
				    1, PARSE_SESSIONS_MAX },
	[SET_SMTP_JUNK] =	{ "smtp limit junk", VALUE_NUMBER,
				    CONF_FIELD(smtp_junk_max),
				    1, PARSE_SESSIONS_MAX },
	[SET_SMTP_AUTH_FAIL] =	{ "smtp limit auth-failures", VALUE_NUMBER,
				    CONF_FIELD(smtp_auth_failures),
				    1, PARSE_AUTH_FAIL_MAX },
	[SET_SMTP_CMD_TIMEOUT] = { "smtp timeout command", VALUE_DURATION,
				    CONF_FIELD(smtp_timeout_command),
				    1, PARSE_CMD_TIMEOUT_MAX },
	[SET_SMTP_DATA_TIMEOUT] = { "smtp timeout data", VALUE_DURATION,
				    CONF_FIELD(smtp_timeout_data),
				    1, PARSE_DATA_TIMEOUT_MAX },
	[SET_SMTP_TLS_TIMEOUT] = { "smtp timeout handshake", VALUE_DURATION,
				    CONF_FIELD(smtp_timeout_handshake),
				    1, PARSE_TLS_TIMEOUT_MAX },
	[SET_SMTP_TLS_THREADS] = { "smtp tls-threads", VALUE_NUMBER,
				    CONF_FIELD(smtp_tls_threads),
				    0, PARSE_TLS_THREADS_MAX },
	[SET_QUEUE_EXPIRE] =	{ "queue expire", VALUE_DURATION,
				    CONF_FIELD(queue_expire),
				    PARSE_EXPIRE_MIN, PARSE_EXPIRE_MAX },
	[SET_QUEUE_WARN] =	{ "queue warn", VALUE_DURATION0,
				    CONF_FIELD(queue_warn),
				    PARSE_WARN_MIN, PARSE_WARN_MAX },
	[SET_DELIVER_PORT] =	{ "deliver port", VALUE_PORT,
				    CONF_FIELD(deliver_port), 1, 65535 },
	[SET_MTA_CONCURRENCY] =	{ "mta concurrency", VALUE_NUMBER,
				    CONF_FIELD(mta_concurrency),
				    1, PARSE_MTA_MAX },
	[SET_MTA_PER_HOST] =	{ "mta concurrency per host", VALUE_NUMBER,
				    CONF_FIELD(mta_per_host),
				    1, PARSE_MTA_HOST_MAX },
	[SET_DKIM_ALGS] =	{ "dkim algorithms", VALUE_LIST },
	[SET_DKIM_HEADERS] =	{ "dkim headers", VALUE_LIST },
	[SET_RESOLVER] =	{ "resolver", VALUE_LIST },
	[SET_RELAY_ADDRESS] =	{ "relay address", VALUE_LIST },
	[SET_QUEUE_RETRY] =	{ "queue retry", VALUE_DURATION, /* each */
				    0, 0, PARSE_RETRY_MIN, PARSE_RETRY_MAX },
	[SET_RELAY_VIA] =	{ "relay via", VALUE_LIST },
	[SET_LIMIT_WINDOWS] =	{ "limit windows", VALUE_LIST },
	[SET_TLS_POLICY] =	{ "tls", VALUE_LIST },
};

static const struct {
	const char	*name;
	int		 bit;
} dkim_algs[] = {
	{ "rsa-sha256",		CONFIG_DKIM_RSA },
	{ "ed25519-sha256",	CONFIG_DKIM_ED25519 },
};

/* The statement being read; exists only during config_grammar(). */
static struct {
	struct sendgated_conf	*conf;
	int			 setline[SET_COUNT];	/* 0: not given */

	/* options of the pki or listen statement being read */
	struct {
		struct token	 name;
		struct token	 cert, key;
	} pki;
	struct {
		int		 port, mode, pki;	/* lines where given */
		uint16_t	 portnum;
		enum listen_mode mode_value;
		struct token	 pkiname;
	} listen;

	/* the dkim algorithms, resolver, relay address or queue retry */
	struct {
		enum setting	 which;
		int		 n;		/* values so far */
		int		 bad;		/* one of them was wrong */
		int		 algs;		/* CONFIG_DKIM_* */
	} list;

	/* options of the relay via statement being read */
	struct {
		int		 port, mode, auth;	/* lines where given */
		int		 bad;			/* a value was wrong */
		uint16_t	 portnum;
		enum config_relay_mode mode_value;
		struct token	 host, user, pass;
	} relay;
} ps;

/* Only the parser calls them; byacc's later declarations keep this. */
static int	 yylex(void);
static void	 yyerror(const char *);

static void	 setting(enum setting, int, const struct token *);
static void	 pki_option(struct token *, const char *, const struct token *);
static void	 pki_define(int, const struct token *);
static void	 listen_port(const struct token *);
static void	 listen_mode(const struct token *, enum listen_mode);
static void	 listen_pki(const struct token *);
static void	 listen_define(int, const struct token *);
static void	 list_begin(enum setting, int);
static void	 list_end(int);
static void	 dkim_alg(const struct token *);
static void	 resolver_add(const struct token *, const struct token *);
static void	 relay_address_add(const struct token *);
static void	 retry_add(const struct token *);
static void	 dkim_header(const struct token *);
static void	 dkim_body(int, const struct token *);
static void	 limit_windows(int, const struct token *, const struct token *,
		    const struct token *);
static void	 relay_begin(int, const struct token *);
static void	 relay_port(const struct token *);
static void	 relay_mode(const struct token *, enum config_relay_mode);
static void	 relay_auth(const struct token *, const struct token *,
		    const struct token *);
static void	 relay_define(int);
static void	 tls_policy(int, int);
static void	 tls_domain(int, int, const struct token *);
%}

%union {
	struct token	tok;
	int		window;		/* enum config_window */
	int		policy;		/* CONFIG_TLS_* */
}

%token	<tok>	ADDRESS ALGORITHMS AUTH AUTHFAILURES CERT CHECKS COMMAND
%token	<tok>	BODY CONCURRENCY CONTROL DATA DAY DELEGATE DELIVER DESTINATION DKIM DOMAIN EMPTY
%token	<tok>	EVERY EXPIRE FOR GRACE GROUP HANDSHAKE HEADERS HOST HOSTNAME HOUR
%token	<tok>	INCLUDE JUNK KEY KEYS LIMIT LISTEN MESSAGE MESSAGES MINUTE MTA
%token	<tok>	ON OPPORTUNISTIC PAUSED PER PKI PLAIN PORT PREFIX QUEUE RECIPIENTS RELAY
%token	<tok>	REQUIRE RESOLVER RETRY SELECTOR SESSIONS SESSIONSPERADDR SIGNER
%token	<tok>	SIZE SMTP SMTPS SOCKET SPF STARTTLS STATE TIMEOUT TLS TLSTHREADS USER
%token	<tok>	VERIFICATION VERIFY VIA WARN WINDOWS
%token	<tok>	ERROR STRING NUMBER
%type	<tok>	string
%type	<window> window
%type	<policy> required

%%

grammar		: /* empty */
		| grammar '\n'
		| grammar statement '\n'
		| grammar error '\n'		{ yyerrok; }
		;

statement	: macro
		| setting
		| pki
		| listen
		| list
		| relay
		| tls
		;

/*
 * A value: quoted or bare; a bare number keeps its digits.  "relay" was a
 * fine value (pki relay) before it became a keyword, and stays one.
 */
string		: STRING
		| NUMBER
		| RELAY
		;

macro		: STRING '=' string		{ lex_macro_define(&$1, &$3); }
		;

setting		: HOSTNAME string	{
			setting(SET_HOSTNAME, $1.lineno, &$2);
		}
		| QUEUE string		{ setting(SET_QUEUE, $1.lineno, &$2); }
		| STATE string		{ setting(SET_STATE, $1.lineno, &$2); }
		| KEYS string		{ setting(SET_KEYS, $1.lineno, &$2); }
		| EMPTY string		{ setting(SET_EMPTY, $1.lineno, &$2); }
		| SOCKET string		{ setting(SET_SOCKET, $1.lineno, &$2); }
		| USER string		{ setting(SET_USER, $1.lineno, &$2); }
		| USER QUEUE string	{
			setting(SET_QUEUE_USER, $1.lineno, &$3);
		}
		| USER SIGNER string	{
			setting(SET_SIGNER_USER, $1.lineno, &$3);
		}
		| GROUP CONTROL string	{
			setting(SET_CTL_GROUP, $1.lineno, &$3);
		}
		| LIMIT MESSAGES string PER window {
			setting(SET_MSG_MINUTE + $5, $1.lineno, &$3);
		}
		| LIMIT RECIPIENTS string PER window {
			setting(SET_RCPT_MINUTE + $5, $1.lineno, &$3);
		}
		| LIMIT RECIPIENTS string PER MESSAGE {
			setting(SET_RCPT_PER_MSG, $1.lineno, &$3);
		}
		| LIMIT SIZE string	{ setting(SET_SIZE, $1.lineno, &$3); }
		| LIMIT WINDOWS string string string {
			limit_windows($1.lineno, &$3, &$4, &$5);
		}
		| VERIFICATION PREFIX string {
			setting(SET_VERIFY_PREFIX, $1.lineno, &$3);
		}
		| VERIFICATION GRACE string {
			setting(SET_VERIFY_GRACE, $1.lineno, &$3);
		}
		| SPF INCLUDE string	{
			setting(SET_SPF_INCLUDE, $1.lineno, &$3);
		}
		| DKIM SELECTOR string	{
			setting(SET_DKIM_SELECTOR, $1.lineno, &$3);
		}
		| DKIM DOMAIN string	{
			setting(SET_DKIM_DOMAIN, $1.lineno, &$3);
		}
		| DKIM EXPIRE string	{
			setting(SET_DKIM_EXPIRE, $1.lineno, &$3);
		}
		| DKIM BODY string	{ dkim_body($1.lineno, &$3); }
		| DKIM DELEGATE string	{
			setting(SET_DKIM_DELEGATE, $1.lineno, &$3);
		}
		| CHECKS EVERY string	{
			setting(SET_CHECKS_EVERY, $1.lineno, &$3);
		}
		| CHECKS CONCURRENCY string {
			setting(SET_CHECKS_INFLIGHT, $1.lineno, &$3);
		}
		| REQUIRE SPF		{
			setting(SET_REQUIRE_SPF, $1.lineno, NULL);
		}
		| REQUIRE DKIM		{
			setting(SET_REQUIRE_DKIM, $1.lineno, NULL);
		}
		| SMTP LIMIT SESSIONS string {
			setting(SET_SMTP_SESSIONS, $1.lineno, &$4);
		}
		| SMTP LIMIT SESSIONSPERADDR string {
			setting(SET_SMTP_PER_ADDR, $1.lineno, &$4);
		}
		| SMTP LIMIT JUNK string {
			setting(SET_SMTP_JUNK, $1.lineno, &$4);
		}
		| SMTP LIMIT AUTHFAILURES string {
			setting(SET_SMTP_AUTH_FAIL, $1.lineno, &$4);
		}
		| SMTP TIMEOUT COMMAND string {
			setting(SET_SMTP_CMD_TIMEOUT, $1.lineno, &$4);
		}
		| SMTP TIMEOUT DATA string {
			setting(SET_SMTP_DATA_TIMEOUT, $1.lineno, &$4);
		}
		| SMTP TIMEOUT HANDSHAKE string {
			setting(SET_SMTP_TLS_TIMEOUT, $1.lineno, &$4);
		}
		| SMTP TLSTHREADS string {
			setting(SET_SMTP_TLS_THREADS, $1.lineno, &$3);
		}
		| QUEUE EXPIRE string	{
			setting(SET_QUEUE_EXPIRE, $1.lineno, &$3);
		}
		| QUEUE WARN string	{
			setting(SET_QUEUE_WARN, $1.lineno, &$3);
		}
		| DELIVER PORT string	{
			setting(SET_DELIVER_PORT, $1.lineno, &$3);
		}
		| MTA CONCURRENCY string {
			setting(SET_MTA_CONCURRENCY, $1.lineno, &$3);
		}
		| MTA CONCURRENCY string PER HOST {
			setting(SET_MTA_PER_HOST, $1.lineno, &$3);
		}
		| MTA CONCURRENCY string PER DESTINATION {
			setting(SET_MTA_PER_HOST, $1.lineno, &$3);
		}
		| MTA PAUSED		{ ps.conf->mta_paused = 1; }
		;

window		: MINUTE		{ $$ = WINDOW_MINUTE; }
		| HOUR			{ $$ = WINDOW_HOUR; }
		| DAY			{ $$ = WINDOW_DAY; }
		;

/* pki NAME cert "file" key "file", or one of the two per statement. */
pki		: PKI string		{
			memset(&ps.pki, 0, sizeof(ps.pki));
			ps.pki.name = $2;
		} pkiopts		{ pki_define($1.lineno, &$2); }
		;

pkiopts		: pkiopt
		| pkiopts pkiopt
		;

pkiopt		: CERT string	{ pki_option(&ps.pki.cert, "cert", &$2); }
		| KEY string	{ pki_option(&ps.pki.key, "key", &$2); }
		;

/* listen on ADDR port N tls|smtps pki NAME, options in any order. */
listen		: LISTEN ON string	{
			memset(&ps.listen, 0, sizeof(ps.listen));
		} listenopts		{ listen_define($1.lineno, &$3); }
		;

listenopts	: /* empty */
		| listenopts listenopt
		;

listenopt	: PORT string		{ listen_port(&$2); }
		| TLS			{ listen_mode(&$1, LISTEN_STARTTLS); }
		| SMTPS			{ listen_mode(&$1, LISTEN_SMTPS); }
		| PKI string		{ listen_pki(&$2); }
		;

/* Statements with a list of values, each statement once. */
list		: DKIM ALGORITHMS	{
			list_begin(SET_DKIM_ALGS, $1.lineno);
		} algorithms		{ list_end($1.lineno); }
		| DKIM HEADERS		{
			list_begin(SET_DKIM_HEADERS, $1.lineno);
		} fieldnames		{ list_end($1.lineno); }
		| RESOLVER		{
			list_begin(SET_RESOLVER, $1.lineno);
		} resolvers		{ list_end($1.lineno); }
		| RELAY ADDRESS		{
			list_begin(SET_RELAY_ADDRESS, $1.lineno);
		} addresses		{ list_end($1.lineno); }
		| QUEUE RETRY		{
			list_begin(SET_QUEUE_RETRY, $1.lineno);
		} intervals		{ list_end($1.lineno); }
		;

fieldnames	: string		{ dkim_header(&$1); }
		| fieldnames string	{ dkim_header(&$2); }
		;

algorithms	: string		{ dkim_alg(&$1); }
		| algorithms string	{ dkim_alg(&$2); }
		;

/* resolver ADDR [port N] [ADDR [port N] ...] */
resolvers	: nameserver
		| resolvers nameserver
		;

nameserver	: string		{ resolver_add(&$1, NULL); }
		| string PORT string	{ resolver_add(&$1, &$3); }
		;

addresses	: string		{ relay_address_add(&$1); }
		| addresses string	{ relay_address_add(&$2); }
		;

intervals	: string		{ retry_add(&$1); }
		| intervals string	{ retry_add(&$2); }
		;

/*
 * relay via HOST [port N] [tls|starttls|plain] [auth USER PASS], options
 * in any order.
 */
relay		: RELAY VIA string	{
			relay_begin($1.lineno, &$3);
		} relayopts		{ relay_define($1.lineno); }
		;

relayopts	: /* empty */
		| relayopts relayopt
		;

relayopt	: PORT string		{ relay_port(&$2); }
		| TLS			{ relay_mode(&$1, CONFIG_RELAY_TLS); }
		| STARTTLS		{
			relay_mode(&$1, CONFIG_RELAY_STARTTLS);
		}
		| PLAIN			{ relay_mode(&$1, CONFIG_RELAY_PLAIN); }
		| AUTH string string	{ relay_auth(&$1, &$2, &$3); }
		;

/*
 * tls opportunistic | require [verify]: the default policy, once;
 * tls require [verify] for DOMAIN: the policy of one domain.
 */
tls		: TLS OPPORTUNISTIC	{
			tls_policy($1.lineno, CONFIG_TLS_OPPORTUNISTIC);
		}
		| TLS required		{ tls_policy($1.lineno, $2); }
		| TLS required FOR string {
			tls_domain($1.lineno, $2, &$4);
		}
		;

required	: REQUIRE		{ $$ = CONFIG_TLS_REQUIRE; }
		| REQUIRE VERIFY	{ $$ = CONFIG_TLS_VERIFY; }
		;

%%

/* 1..max bytes of [A-Za-z0-9._-], a leading '-' only if dash_first. */
static int
valid_name(const char *s, size_t max, int dash_first)
{
	size_t	len = strlen(s);

	if (len == 0 || len > max || (s[0] == '-' && !dash_first))
		return 0;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == len;
}

/* 1..max bytes of [a-z0-9-], no '-' first or last: a DNS label. */
static int
valid_label(const char *s, size_t max)
{
	size_t	len = strlen(s);

	if (len == 0 || len > max || s[0] == '-' || s[len - 1] == '-')
		return 0;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == len;
}

/*
 * Reports what is wrong with the text value of statement what; -1 if
 * anything.  label_max is the longest VALUE_LABEL.
 */
static int
check_value(enum value_kind kind, const char *what, size_t label_max,
    const struct token *v)
{
	struct sockaddr_un	 sun;
	char			 buf[LEX_SHOW_MAX];
	size_t			 max = PATH_MAX - 1;

	switch (kind) {
	case VALUE_HOSTNAME:
	case VALUE_DNSNAME:
		if (kind == VALUE_HOSTNAME ? config_valid_hostname(v->string) :
		    config_valid_dnsname(v->string))
			return 0;
		lex_error(v->lineno, "%s: '%s' is not a valid host name",
		    what, lex_show(buf, sizeof(buf), v->string));
		return -1;
	case VALUE_LABEL:
		if (valid_label(v->string, label_max))
			return 0;
		/* "verification prefix: 'x' is not a valid prefix" */
		lex_error(v->lineno, "%s: '%s' is not a valid %s", what,
		    lex_show(buf, sizeof(buf), v->string),
		    strrchr(what, ' ') + 1);
		return -1;
	case VALUE_USER:
	case VALUE_GROUP:
		if (valid_name(v->string, PARSE_USER_MAX, 0))
			return 0;
		lex_error(v->lineno, "%s: '%s' is not a valid %s name", what,
		    lex_show(buf, sizeof(buf), v->string),
		    kind == VALUE_USER ? "user" : "group");
		return -1;
	case VALUE_SOCKET:
		max = sizeof(sun.sun_path) - 1;
		/* FALLTHROUGH */
	case VALUE_PATH:
		if (v->string[0] != '/') {
			lex_error(v->lineno, "%s: '%s' is not an absolute "
			    "path", what,
			    lex_show(buf, sizeof(buf), v->string));
			return -1;
		}
		if (strlen(v->string) > max) {
			lex_error(v->lineno, "%s: path too long (max %zu "
			    "bytes)", what, max);
			return -1;
		}
		return 0;
	default:
		break;
	}
	return -1;
}

/*
 * The number, size or duration of statement which into *n; -1 and a
 * message that gives the range if it is none or out of range.
 */
static int
check_number(enum setting which, const struct token *v, uint64_t *n)
{
	const char	*noun = "number", *zero = "";
	char		 buf[LEX_SHOW_MAX];
	char		 lo[CONFIG_FORMAT_MAX], hi[CONFIG_FORMAT_MAX];
	uint64_t	 min = settings[which].min, max = settings[which].max;
	int64_t		 i;
	int		 rc;

	switch (settings[which].kind) {
	case VALUE_SIZE:
		noun = "size";
		rc = config_parse_size(v->string, n);
		config_format_size(lo, sizeof(lo), min);
		config_format_size(hi, sizeof(hi), max);
		break;
	case VALUE_DURATION:
	case VALUE_DURATION0:
		noun = "duration";
		if ((rc = config_parse_duration(v->string, &i)) == 0)
			*n = i;
		config_format_duration(lo, sizeof(lo), min);
		config_format_duration(hi, sizeof(hi), max);
		if (settings[which].kind == VALUE_DURATION0) {
			if (rc == 0 && *n == 0)
				return 0;
			zero = "0 or ";
		}
		break;
	default:
		if (settings[which].kind == VALUE_PORT)
			noun = "port";
		if ((rc = lex_number(v->string, &i)) == 0)
			*n = i;
		snprintf(lo, sizeof(lo), "%llu", (unsigned long long)min);
		snprintf(hi, sizeof(hi), "%llu", (unsigned long long)max);
		break;
	}
	if (rc == 0 && *n >= min && *n <= max)
		return 0;
	lex_error(v->lineno, "%s: invalid %s '%s' (must be %s%s-%s)",
	    settings[which].what, noun, lex_show(buf, sizeof(buf), v->string),
	    zero, lo, hi);
	return -1;
}

/* Says so when a statement of the kind of which came before; 1 if one did. */
static int
duplicate(enum setting which, int line)
{
	if (ps.setline[which] == 0)
		return 0;
	lex_error(line, "duplicate '%s' statement (first at line %d)",
	    settings[which].what, ps.setline[which]);
	return 1;
}

/* v is NULL for a VALUE_FLAG. */
static void
setting(enum setting which, int line, const struct token *v)
{
	char		*field = (char *)ps.conf + settings[which].off;
	uint64_t	 n = 1;		/* a flag's value */
	int		 i;

	if (!duplicate(which, line))
		ps.setline[which] = line;
	switch (settings[which].kind) {
	case VALUE_NUMBER:
	case VALUE_PORT:
	case VALUE_SIZE:
	case VALUE_DURATION:
	case VALUE_DURATION0:
		if (check_number(which, v, &n) == -1)
			return;
		/* FALLTHROUGH */
	case VALUE_FLAG:
		/* An int, or 64 bits: the same in int64_t for these values. */
		if (settings[which].size == sizeof(i)) {
			i = n;
			memcpy(field, &i, sizeof(i));
		} else
			memcpy(field, &n, sizeof(n));
		return;
	default:
		if (check_value(settings[which].kind, settings[which].what,
		    settings[which].max, v) == 0)
			strlcpy(field, v->string, settings[which].size);
		return;
	}
}

static void
pki_option(struct token *opt, const char *what, const struct token *v)
{
	char	buf[LEX_SHOW_MAX];

	if (opt->string != NULL)
		lex_error(v->lineno, "pki '%s': %s given twice",
		    lex_show(buf, sizeof(buf), ps.pki.name.string), what);
	else if (check_value(VALUE_PATH, what, 0, v) == 0)
		*opt = *v;
}

/*
 * The two-line form (cert on one line, key on the next) adds to the entry
 * the first line made; giving a file the entry already has is a duplicate.
 */
static void
pki_define(int line, const struct token *name)
{
	struct config_pki	*pki;
	char			 buf[LEX_SHOW_MAX];

	if (!valid_name(name->string, PARSE_PKI_MAX, 1)) {
		lex_error(name->lineno, "pki: '%s' is not a valid pki name",
		    lex_show(buf, sizeof(buf), name->string));
		return;
	}
	if ((pki = config_pki_find(ps.conf, name->string)) != NULL) {
		if ((ps.pki.cert.string != NULL && pki->cert[0] != '\0') ||
		    (ps.pki.key.string != NULL && pki->key[0] != '\0')) {
			lex_error(line, "duplicate pki '%s' (first at line "
			    "%d)", name->string, pki->line);
			return;
		}
	} else {
		if ((pki = calloc(1, sizeof(*pki))) == NULL) {
			lex_error(line, "out of memory");
			return;
		}
		strlcpy(pki->name, name->string, sizeof(pki->name));
		pki->line = line;
		TAILQ_INSERT_TAIL(&ps.conf->pkis, pki, entry);
	}
	if (ps.pki.cert.string != NULL)
		strlcpy(pki->cert, ps.pki.cert.string, sizeof(pki->cert));
	if (ps.pki.key.string != NULL)
		strlcpy(pki->key, ps.pki.key.string, sizeof(pki->key));
}

static int
listen_twice(int *given, const char *what, int line)
{
	if (*given != 0) {
		lex_error(line, "listen: %s given twice", what);
		return 1;
	}
	*given = line;
	return 0;
}

/* The port of a listen or resolver statement; -1 if none, said. */
static int
check_port(const char *what, const struct token *v, uint16_t *port)
{
	char	buf[LEX_SHOW_MAX];
	int64_t	n;

	if (lex_number(v->string, &n) == -1 || n < 1 || n > 65535) {
		lex_error(v->lineno, "%s: invalid port '%s' (must be "
		    "1-65535)", what, lex_show(buf, sizeof(buf), v->string));
		return -1;
	}
	*port = n;
	return 0;
}

static void
listen_port(const struct token *v)
{
	if (!listen_twice(&ps.listen.port, "port", v->lineno))
		check_port("listen", v, &ps.listen.portnum);
}

static void
listen_mode(const struct token *t, enum listen_mode mode)
{
	if (!listen_twice(&ps.listen.mode, "tls or smtps", t->lineno))
		ps.listen.mode_value = mode;
}

static void
listen_pki(const struct token *v)
{
	char	buf[LEX_SHOW_MAX];

	if (listen_twice(&ps.listen.pki, "pki", v->lineno))
		return;
	if (!valid_name(v->string, PARSE_PKI_MAX, 1))
		lex_error(v->lineno, "listen: '%s' is not a valid pki name",
		    lex_show(buf, sizeof(buf), v->string));
	else
		ps.listen.pkiname = *v;
}

/*
 * host is a numeric IPv4 or IPv6 address; *ss gets it with the port.
 * IPv4 must be the dotted quad inet_pton() accepts, not one of the short
 * forms inet_aton() also takes.
 */
static int
ip_address(const char *host, uint16_t port, struct sockaddr_storage *ss,
    socklen_t *sslen)
{
	struct addrinfo	 hints, *res;
	char		 serv[8];
	struct in_addr	 in;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	snprintf(serv, sizeof(serv), "%u", port);
	if (getaddrinfo(host, serv, &hints, &res) != 0)
		return -1;
	if ((res->ai_family != AF_INET && res->ai_family != AF_INET6) ||
	    res->ai_addrlen > sizeof(*ss) ||
	    (res->ai_family == AF_INET && inet_pton(AF_INET, host, &in) != 1)) {
		freeaddrinfo(res);
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* As ip_address(); "localhost" is 127.0.0.1, without asking DNS. */
static int
listen_address(struct config_listen *l, const struct token *v)
{
	const char	*host = v->string;

	if (strlen(host) >= sizeof(l->addr))
		return -1;
	if (strcmp(host, "localhost") == 0)
		host = "127.0.0.1";
	return ip_address(host, l->port, &l->ss, &l->sslen);
}

static void
listen_define(int line, const struct token *addr)
{
	struct config_listen	*l;
	char			 buf[LEX_SHOW_MAX];

	if (!ps.listen.port)
		lex_error(line, "listen: missing port");
	if (!ps.listen.mode)
		lex_error(line, "listen: missing tls or smtps");
	if (!ps.listen.pki)
		lex_error(line, "listen: missing pki");
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		lex_error(line, "out of memory");
		return;
	}
	l->port = ps.listen.portnum;
	l->mode = ps.listen.mode_value;
	l->line = line;
	if (ps.listen.pkiname.string != NULL)
		strlcpy(l->pki, ps.listen.pkiname.string, sizeof(l->pki));
	if (listen_address(l, addr) == -1)
		lex_error(addr->lineno, "listen: '%s' is not an IP address",
		    lex_show(buf, sizeof(buf), addr->string));
	strlcpy(l->addr, addr->string, sizeof(l->addr));
	TAILQ_INSERT_TAIL(&ps.conf->listeners, l, entry);
}

/*
 * A list statement counts as given once it has parsed, as a setting does;
 * a second one replaces the values of the first, but is an error.
 */
static void
list_begin(enum setting which, int line)
{
	duplicate(which, line);
	memset(&ps.list, 0, sizeof(ps.list));
	ps.list.which = which;
	if (which == SET_RESOLVER)
		ps.conf->nresolvers = 0;
	else if (which == SET_RELAY_ADDRESS)
		ps.conf->nrelay_addrs = 0;
	else if (which == SET_QUEUE_RETRY)
		ps.conf->queue_nretry = 0;
	else if (which == SET_DKIM_HEADERS)
		ps.conf->ndkim_headers = 0;
}

/*
 * Room for one more value (addresses, intervals) in a list of max; said
 * once when there is not.
 */
static int
list_room(int max, const char *what, int line)
{
	if (ps.list.n++ < max)
		return 1;
	if (ps.list.n == max + 1)
		lex_error(line, "%s: too many %s (max %d)",
		    settings[ps.list.which].what, what, max);
	ps.list.bad = 1;
	return 0;
}

static void
dkim_alg(const struct token *v)
{
	char	buf[LEX_SHOW_MAX];
	size_t	i;

	for (i = 0; i < sizeof(dkim_algs) / sizeof(dkim_algs[0]); i++)
		if (strcmp(v->string, dkim_algs[i].name) == 0)
			break;
	if (i == sizeof(dkim_algs) / sizeof(dkim_algs[0])) {
		lex_error(v->lineno, "dkim algorithms: unknown algorithm '%s'",
		    lex_show(buf, sizeof(buf), v->string));
		ps.list.bad = 1;
	} else if (ps.list.algs & dkim_algs[i].bit) {
		lex_error(v->lineno, "dkim algorithms: '%s' given twice",
		    dkim_algs[i].name);
		ps.list.bad = 1;
	} else
		ps.list.algs |= dkim_algs[i].bit;
}

/*
 * The list statement has parsed: from now on it counts as given.  For
 * dkim algorithms: Ed25519 alone would leave mail unsigned for the many
 * verifiers that do not know it yet (RFC 8463), so RSA must be in the
 * list.  Not said when the list has an error already: a misspelt
 * rsa-sha256 is one mistake.
 */
static void
list_end(int line)
{
	if (ps.setline[ps.list.which] == 0)
		ps.setline[ps.list.which] = line;
	if (ps.list.which != SET_DKIM_ALGS || ps.list.bad)
		return;
	if (!(ps.list.algs & CONFIG_DKIM_RSA))
		lex_error(line, "dkim algorithms: rsa-sha256 is required");
	else
		ps.conf->dkim_algs = ps.list.algs;
}

/*
 * dkim headers NAME ...: the header fields to sign instead of the
 * default list (From is always signed, and over-signed, whatever the
 * list says).  A field name is printable ASCII without ':' (RFC 5322
 * 3.6.8); kept to letters, digits, '-', '_' and '.' so that nothing can
 * leak into the tag list of the signature.
 */
static void
dkim_header(const struct token *v)
{
	char		 buf[LEX_SHOW_MAX];
	const char	*p;
	size_t		 len = strlen(v->string);

	if (!list_room(CONFIG_DKIM_HEADERS_MAX, "header names", v->lineno))
		return;
	for (p = v->string; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.'))
			break;
	if (len == 0 || len >= CONFIG_DKIM_HEADER_LEN || *p != '\0') {
		lex_error(v->lineno, "dkim headers: invalid header name '%s'",
		    lex_show(buf, sizeof(buf), v->string));
		ps.list.bad = 1;
		return;
	}
	strlcpy(ps.conf->dkim_headers[ps.conf->ndkim_headers++], v->string,
	    CONFIG_DKIM_HEADER_LEN);
}

/* dkim body relaxed|simple: the body canonicalization (RFC 6376 3.4). */
static void
dkim_body(int line, const struct token *v)
{
	char	 buf[LEX_SHOW_MAX];

	if (duplicate(SET_DKIM_BODY, line))
		return;
	ps.setline[SET_DKIM_BODY] = line;
	if (strcmp(v->string, "relaxed") == 0)
		ps.conf->dkim_body_simple = 0;
	else if (strcmp(v->string, "simple") == 0)
		ps.conf->dkim_body_simple = 1;
	else
		lex_error(line, "dkim body: '%s' is neither relaxed nor "
		    "simple", lex_show(buf, sizeof(buf), v->string));
}

static void
resolver_add(const struct token *addr, const struct token *port)
{
	struct config_resolver	*r;
	char			 buf[LEX_SHOW_MAX];
	uint16_t		 portnum = PARSE_DNS_PORT;
	int			 bad = 0;

	if (!list_room(CONFIG_RESOLVERS_MAX, "addresses", addr->lineno))
		return;
	r = &ps.conf->resolvers[ps.conf->nresolvers];
	if (strlen(addr->string) >= sizeof(r->addr) ||
	    ip_address(addr->string, 0, &r->ss, &r->sslen) == -1) {
		lex_error(addr->lineno, "resolver: '%s' is not an IP address",
		    lex_show(buf, sizeof(buf), addr->string));
		bad = 1;
	}
	if (port != NULL && check_port("resolver", port, &portnum) == -1)
		bad = 1;
	if (bad)
		return;
	/* Set here, so that errors come in the order of the line. */
	if (r->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&r->ss)->sin_port = htons(portnum);
	else
		((struct sockaddr_in6 *)&r->ss)->sin6_port = htons(portnum);
	strlcpy(r->addr, addr->string, sizeof(r->addr));
	r->port = portnum;
	ps.conf->nresolvers++;
}

static void
relay_address_add(const struct token *addr)
{
	struct sockaddr_storage	*ss;
	socklen_t		 sslen;
	char			 buf[LEX_SHOW_MAX];

	if (!list_room(CONFIG_RELAY_ADDRS_MAX, "addresses", addr->lineno))
		return;
	ss = &ps.conf->relay_addrs[ps.conf->nrelay_addrs];
	if (ip_address(addr->string, 0, ss, &sslen) == -1)
		lex_error(addr->lineno, "relay address: '%s' is not an IP "
		    "address", lex_show(buf, sizeof(buf), addr->string));
	else
		ps.conf->nrelay_addrs++;
}

/*
 * One interval of queue retry: in range, and not shorter than the one
 * before it, so that a failing destination is tried ever less often.
 */
static void
retry_add(const struct token *v)
{
	struct sendgated_conf	*conf = ps.conf;
	char			 buf[LEX_SHOW_MAX], prev[CONFIG_FORMAT_MAX];
	uint64_t		 n;

	if (!list_room(CONFIG_QUEUE_RETRY_MAX, "intervals", v->lineno) ||
	    check_number(SET_QUEUE_RETRY, v, &n) == -1) {
		ps.list.bad = 1;
		return;
	}
	if (conf->queue_nretry > 0 &&
	    (int64_t)n < conf->queue_retry[conf->queue_nretry - 1]) {
		config_format_duration(prev, sizeof(prev),
		    conf->queue_retry[conf->queue_nretry - 1]);
		lex_error(v->lineno, "queue retry: '%s' is shorter than the "
		    "interval before it (%s)",
		    lex_show(buf, sizeof(buf), v->string), prev);
		ps.list.bad = 1;
		return;
	}
	conf->queue_retry[conf->queue_nretry++] = n;
}

/*
 * limit windows MINUTE HOUR DAY: what the three windows of the rate
 * limits last, each at least 1s, none shorter than the one before.
 */
static void
limit_windows(int line, const struct token *a, const struct token *b,
    const struct token *c)
{
	const struct token	*v[WINDOW_COUNT] = { a, b, c };
	char			 buf[LEX_SHOW_MAX];
	int64_t			 d[WINDOW_COUNT];
	int			 i, bad = 0;

	if (duplicate(SET_LIMIT_WINDOWS, line))
		return;
	ps.setline[SET_LIMIT_WINDOWS] = line;
	for (i = 0; i < WINDOW_COUNT; i++) {
		if (config_parse_duration(v[i]->string, &d[i]) == -1 ||
		    d[i] < 1 || (uint64_t)d[i] > PARSE_WINDOW_MAX) {
			lex_error(line, "limit windows: invalid duration '%s' "
			    "(must be 1s-30d)",
			    lex_show(buf, sizeof(buf), v[i]->string));
			bad = 1;
		} else if (i > 0 && !bad && d[i] < d[i - 1]) {
			lex_error(line, "limit windows: '%s' is shorter than "
			    "the window before it",
			    lex_show(buf, sizeof(buf), v[i]->string));
			bad = 1;
		}
	}
	if (bad)
		return;
	for (i = 0; i < WINDOW_COUNT; i++)
		ps.conf->limit_windows[i] = d[i];
}

/* The host comes first on the line: checked first, before the options. */
static void
relay_begin(int line, const struct token *host)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sslen;
	char			 buf[LEX_SHOW_MAX];

	duplicate(SET_RELAY_VIA, line);
	memset(&ps.relay, 0, sizeof(ps.relay));
	ps.relay.mode_value = CONFIG_RELAY_STARTTLS;
	ps.relay.host = *host;
	if (!config_valid_hostname(host->string) &&
	    ip_address(host->string, 0, &ss, &sslen) == -1) {
		lex_error(host->lineno, "relay via: '%s' is not a host name "
		    "or IP address", lex_show(buf, sizeof(buf),
		    host->string));
		ps.relay.bad = 1;
	}
}

static int
relay_twice(int *given, const char *what, int line)
{
	if (*given != 0) {
		lex_error(line, "relay via: %s given twice", what);
		ps.relay.bad = 1;
		return 1;
	}
	*given = line;
	return 0;
}

static void
relay_port(const struct token *v)
{
	if (!relay_twice(&ps.relay.port, "port", v->lineno) &&
	    check_port("relay via", v, &ps.relay.portnum) == -1)
		ps.relay.bad = 1;
}

static void
relay_mode(const struct token *t, enum config_relay_mode mode)
{
	if (!relay_twice(&ps.relay.mode, "tls, starttls or plain", t->lineno))
		ps.relay.mode_value = mode;
}

/* 1..CONFIG_RELAY_AUTH_MAX bytes, none of them a control character. */
static int
valid_secret(const char *s)
{
	size_t	len = strlen(s), i;

	if (len == 0 || len > CONFIG_RELAY_AUTH_MAX)
		return 0;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return 1;
}

/* Neither value is shown in a message: the password is a secret. */
static void
relay_auth(const struct token *t, const struct token *user,
    const struct token *pass)
{
	if (relay_twice(&ps.relay.auth, "auth", t->lineno))
		return;
	if (!valid_secret(user->string)) {
		lex_error(user->lineno, "relay via: the auth user must be 1-%d "
		    "bytes, without control characters",
		    CONFIG_RELAY_AUTH_MAX);
		ps.relay.bad = 1;
	}
	if (!valid_secret(pass->string)) {
		lex_error(pass->lineno, "relay via: the auth password must be "
		    "1-%d bytes, without control characters",
		    CONFIG_RELAY_AUTH_MAX);
		ps.relay.bad = 1;
	}
	ps.relay.user = *user;
	ps.relay.pass = *pass;
}

/*
 * The statement has parsed.  Credentials go only over TLS: with plain,
 * anyone on the path could read them.
 */
static void
relay_define(int line)
{
	struct config_relayhost	*r = &ps.conf->relayhost;

	if (ps.setline[SET_RELAY_VIA] == 0)
		ps.setline[SET_RELAY_VIA] = line;
	if (ps.relay.auth && ps.relay.mode_value == CONFIG_RELAY_PLAIN) {
		lex_error(line, "relay via: auth requires tls or starttls");
		ps.relay.bad = 1;
	}
	if (ps.relay.bad)
		return;
	memset(r, 0, sizeof(*r));
	r->set = 1;
	strlcpy(r->host, ps.relay.host.string, sizeof(r->host));
	r->mode = ps.relay.mode_value;
	if (ps.relay.port)
		r->port = ps.relay.portnum;
	else if (r->mode == CONFIG_RELAY_TLS)
		r->port = CONFIG_RELAY_PORT_TLS;
	else if (r->mode == CONFIG_RELAY_PLAIN)
		r->port = CONFIG_RELAY_PORT_PLAIN;
	else
		r->port = CONFIG_RELAY_PORT_STARTTLS;
	if (ps.relay.auth) {
		strlcpy(r->user, ps.relay.user.string, sizeof(r->user));
		strlcpy(r->pass, ps.relay.pass.string, sizeof(r->pass));
	}
}

static void
tls_policy(int line, int policy)
{
	if (!duplicate(SET_TLS_POLICY, line))
		ps.setline[SET_TLS_POLICY] = line;
	ps.conf->tls_policy = policy;
}

/* Domains compare without case: kept in lower case. */
static void
tls_domain(int line, int policy, const struct token *v)
{
	struct sendgated_conf	*conf = ps.conf;
	struct config_tls_domain *d;
	char			 buf[LEX_SHOW_MAX];
	char			 name[CONFIG_HOSTNAME_MAX + 1];
	size_t			 i;
	int			 j;

	if (!config_valid_hostname(v->string)) {
		lex_error(v->lineno, "tls: '%s' is not a valid host name",
		    lex_show(buf, sizeof(buf), v->string));
		return;
	}
	for (i = 0; v->string[i] != '\0'; i++)
		name[i] = v->string[i] >= 'A' && v->string[i] <= 'Z' ?
		    v->string[i] - 'A' + 'a' : v->string[i];
	name[i] = '\0';
	for (j = 0; j < conf->ntls_domains; j++) {
		if (strcmp(conf->tls_domains[j].domain, name) == 0) {
			lex_error(line, "tls: duplicate domain '%s' (first at "
			    "line %d)", name, conf->tls_domains[j].line);
			return;
		}
	}
	if (conf->ntls_domains == CONFIG_TLS_DOMAINS_MAX) {
		lex_error(line, "tls: too many domains (max %d)",
		    CONFIG_TLS_DOMAINS_MAX);
		return;
	}
	d = &conf->tls_domains[conf->ntls_domains++];
	strlcpy(d->domain, name, sizeof(d->domain));
	d->policy = policy;
	d->line = line;
}

/* Only the parser calls them; byacc's later declarations keep this. */
static int
yylex(void)
{
	return lex_next(&yylval.tok);
}

static void
yyerror(const char *msg)
{
	lex_syntax_error(msg);
}

int
config_grammar(const char *buf, size_t len, const char *name, FILE *errf,
    struct sendgated_conf *conf)
{
	int	failed;

	memset(&ps, 0, sizeof(ps));
	ps.conf = conf;
	lex_begin(buf, len, name, errf);
	failed = yyparse() != 0;
	conf->hostname_line = ps.setline[SET_HOSTNAME];
	conf->queue_expire_line = ps.setline[SET_QUEUE_EXPIRE];
	conf->queue_warn_line = ps.setline[SET_QUEUE_WARN];
	memset(&ps, 0, sizeof(ps));
	return lex_end(failed);
}
