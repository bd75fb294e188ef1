/*
 * sendgated.conf: the statements of delivery from the queue (retry
 * schedule, expiry and delay notices, the MX port, the smarthost, the
 * outbound TLS policy, outbound concurrency): defaults, values, ranges
 * and error messages.
 */
#include "config_test.h"

#define D4	" 1m 1m 1m 1m"
#define D16	D4 D4 D4 D4
#define A31	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define A63	A31 A31 "a"
#define U64	A63 "a"
#define U256	U64 U64 U64 U64
#define U255	U64 U64 U64 A63

/* tls require for d0.example ... d63.example: the most there may be */
#define T4(n)	"tls require for d" n "0.example\ntls require for d" n \
		"1.example\ntls require for d" n "2.example\n" \
		"tls require for d" n "3.example\n"
#define T16(n)	T4(n "0") T4(n "1") T4(n "2") T4(n "3")
#define T64	T16("0") T16("1") T16("2") T16("3")

static const struct good_row good[] = {
	/* defaults (numbers: test_defaults) */
	{ "", "queue retry", "5m 10m 20m 40m 1h" },
	{ "", "relay via", "(none)" },
	{ "", "tls", "opportunistic" },
	{ "", "tls domains", "0" },

	/* queue retry */
	{ "queue retry 1m\n", "queue retry", "1m" },
	{ "queue retry 24h\n", "queue retry", "1d" },
	{ "queue retry 60 86400\n", "queue retry", "1m 1d" },
	{ "queue retry 1m 1m 2m 1h 1h 24h\n", "queue retry",
	    "1m 1m 2m 1h 1h 1d" },
	{ "queue retry" D16 "\n", "queue retry",
	    "1m 1m 1m 1m 1m 1m 1m 1m 1m 1m 1m 1m 1m 1m 1m 1m" },
	{ "queue retry 15m \\\n 30m\n", "queue retry", "15m 30m" },
	{ "queue retry 5m\n", "queue expire", "432000" },

	/* queue expire, queue warn */
	{ "queue expire 1h\nqueue warn 0\n", "queue expire", "3600" },
	{ "queue expire 30d\n", "queue expire", "2592000" },
	{ "queue expire 720h\n", "queue expire", "2592000" },
	{ "queue expire 3d\n", "queue expire", "259200" },
	{ "queue expire 3d\n", "queue warn", "14400" },
	{ "queue expire 14401\n", "queue warn", "14400" },
	{ "queue warn 0\n", "queue warn", "0" },
	{ "queue warn 0s\n", "queue warn", "0" },
	{ "queue warn 10m\n", "queue warn", "600" },
	{ "queue warn 600\n", "queue warn", "600" },
	{ "queue warn 7d\nqueue expire 8d\n", "queue warn", "604800" },
	{ "queue warn 1h\n", "queue warn", "3600" },
	{ "queue warn 119m\nqueue expire 2h\n", "queue warn", "7140" },
	{ "queue expire 1h\nqueue warn 59m\n", "queue warn", "3540" },
	{ "queue expire 2h\nqueue warn 0\n", "queue warn", "0" },
	/* expire at or under the default warn: no delay notice */
	{ "queue expire 4h\n", "queue warn", "0" },
	{ "queue expire 1h\n", "queue warn", "0" },
	{ "queue expire 5h\n", "queue warn", "14400" },
	{ "queue \"/var/spool/q\"\nqueue expire 1d\n", "queue",
	    "/var/spool/q" },

	/* deliver port */
	{ "deliver port 1\n", "deliver port", "1" },
	{ "deliver port 65535\n", "deliver port", "65535" },
	{ "deliver port 2525\n", "deliver port", "2525" },
	{ "deliver port \"25\"\n", "deliver port", "25" },

	/* relay via: the port follows the mode */
	{ "relay via smtp.example.net\n", "relay via",
	    "smtp.example.net port 587 starttls" },
	{ "relay via smtp.example.net starttls\n", "relay via",
	    "smtp.example.net port 587 starttls" },
	{ "relay via smtp.example.net tls\n", "relay via",
	    "smtp.example.net port 465 tls" },
	{ "relay via smtp.example.net plain\n", "relay via",
	    "smtp.example.net port 25 plain" },
	{ "relay via 192.0.2.1 port 2525\n", "relay via",
	    "192.0.2.1 port 2525 starttls" },
	{ "relay via 2001:db8::1 port 1 tls\n", "relay via",
	    "2001:db8::1 port 1 tls" },
	{ "relay via mail plain port 65535\n", "relay via",
	    "mail port 65535 plain" },
	{ "relay via relay\n", "relay via", "relay port 587 starttls" },
	{ "relay via smtp.example.net auth alice \"s3cret #1\"\n",
	    "relay via", "smtp.example.net port 587 starttls auth alice "
	    "s3cret #1" },
	{ "relay via smtp.example.net auth alice@example.com pw tls "
	    "port 4650\n", "relay via",
	    "smtp.example.net port 4650 tls auth alice@example.com pw" },
	{ "pass = \"p w\"\nrelay via h auth u $pass\n", "relay via",
	    "h port 587 starttls auth u p w" },
	{ "relay via h auth " U255 " " U255 "\n", "relay via",
	    "h port 587 starttls auth " U255 " " U255 },
	{ "relay via h\nrelay address 192.0.2.1\n", "relay addresses", "1" },

	/* tls */
	{ "tls opportunistic\n", "tls", "opportunistic" },
	{ "tls require\n", "tls", "require" },
	{ "tls require verify\n", "tls", "require verify" },
	{ "tls require for example.com\n", "tls", "opportunistic" },
	{ "tls require for example.com\n", "tls domain 0",
	    "example.com require line 1" },
	{ "tls require verify for Bank.EXAMPLE\n", "tls domain 0",
	    "bank.example require verify line 1" },
	{ "tls require verify\ntls require for a.example\n"
	    "\ntls require verify for b.example\n", "tls domain 1",
	    "b.example require verify line 4" },
	{ "tls require for a.example\ntls require for b.example\n"
	    "tls require\n", "tls domains", "2" },
	{ "tls require for localhost\n", "tls domain 0",
	    "localhost require line 1" },
	{ "tls require for \"mx.example\"\n", "tls domain 0",
	    "mx.example require line 1" },
	{ T64, "tls domains", "64" },
	{ T64, "tls domain 63", "d333.example require line 64" },
	{ "listen on ::1 port 587 tls pki p\npki p cert \"/c\" key \"/k\"\n"
	    "tls require\n", "tls", "require" },

	/* mta concurrency */
	{ "mta concurrency 1\n", "mta concurrency", "1" },
	{ "mta concurrency 1000\n", "mta concurrency", "1000" },
	{ "mta concurrency 20\n", "mta concurrency per host", "10" },
	{ "mta concurrency 1 per host\n", "mta concurrency per host", "1" },
	{ "mta concurrency 100 per host\n", "mta concurrency per host",
	    "100" },
	{ "mta concurrency 4 per destination\n", "mta concurrency per host",
	    "4" },
	{ "mta concurrency 4 per host\n", "mta concurrency", "100" },
	{ "mta concurrency 50\nmta concurrency 5 per host\n",
	    "mta concurrency", "50" },

	/* all of them */
	{ "queue retry 1m 2m\nqueue expire 1d\nqueue warn 2h\n"
	    "deliver port 2525\nrelay via h.example tls\ntls require\n"
	    "tls require verify for x.example\nmta concurrency 7\n"
	    "mta concurrency 3 per host\n", "mta concurrency per host", "3" },
};

static void
test_good(void **state)
{
	check_good_rows(good, sizeof(good) / sizeof(good[0]));
}

static const struct bad_row bad[] = {
	/* queue retry */
	{ "queue retry 0\n", E(1, "queue retry: invalid duration '0' "
	    "(must be 1s-1d)") },
	{ "queue retry 0s\n", E(1, "queue retry: invalid duration '0s' "
	    "(must be 1s-1d)") },
	{ "queue retry 86401\n", E(1, "queue retry: invalid duration "
	    "'86401' (must be 1s-1d)") },
	{ "queue retry 25h\n", E(1, "queue retry: invalid duration '25h' "
	    "(must be 1s-1d)") },
	{ "queue retry 5m 2d 10m\n", E(1, "queue retry: invalid duration "
	    "'2d' (must be 1s-1d)") },
	{ "queue retry 1w\n", E(1, "queue retry: invalid duration '1w' "
	    "(must be 1s-1d)") },
	{ "queue retry 5m,10m\n", E(1, "syntax error in 'queue' statement: "
	    "unexpected ','") },
	{ "queue retry 10m 5m\n", E(1, "queue retry: '5m' is shorter than "
	    "the interval before it (10m)") },
	{ "queue retry 1h 2h 119m 3h\n", E(1, "queue retry: '119m' is "
	    "shorter than the interval before it (2h)") },
	{ "queue retry 1h 0s 59m\n", E(1, "queue retry: invalid duration "
	    "'0s' (must be 1s-1d)") E(1, "queue retry: '59m' is shorter "
	    "than the interval before it (1h)") },
	{ "queue retry" D16 " 1m\n", E(1, "queue retry: too many intervals "
	    "(max 16)") },
	{ "queue retry" D16 " 1m 1m\n", E(1, "queue retry: too many "
	    "intervals (max 16)") },
	{ "queue retry\n", E(1, "syntax error in 'queue' statement: "
	    "unexpected end of line") },
	{ "queue retry 5m\nqueue retry 10m\n", E(2, "duplicate 'queue "
	    "retry' statement (first at line 1)") },
	{ "queue retries 5m\n", E(1, "queue: 'retries' is not an absolute "
	    "path") E(1, "syntax error in 'queue' statement: unexpected "
	    "'5m'") },
	{ "retry 5m\n", E(1, "syntax error: unexpected 'retry'") },

	/* queue expire */
	{ "queue expire 0\n", E(1, "queue expire: invalid duration '0' "
	    "(must be 10s-30d)") },
	{ "queue expire 9s\n", E(1, "queue expire: invalid duration '9s' "
	    "(must be 10s-30d)") },
	{ "queue expire 9\n", E(1, "queue expire: invalid duration "
	    "'9' (must be 10s-30d)") },
	{ "queue expire 31d\n", E(1, "queue expire: invalid duration '31d' "
	    "(must be 10s-30d)") },
	{ "queue expire 2592001\n", E(1, "queue expire: invalid duration "
	    "'2592001' (must be 10s-30d)") },
	{ "queue expire 7200 d\n", E(1, "syntax error in 'queue' statement: "
	    "unexpected 'd'") },
	{ "queue expire\n", E(1, "syntax error in 'queue' statement: "
	    "unexpected end of line") },
	{ "queue expire 5d\nqueue expire 6d\n", E(2, "duplicate 'queue "
	    "expire' statement (first at line 1)") },

	/* queue warn: 0 or 1s-7d, shorter than expire */
	{ "queue warn 8d\n", E(1, "queue warn: invalid duration '8d' (must "
	    "be 0 or 1s-7d)") },
	{ "queue warn 604801\n", E(1, "queue warn: invalid duration "
	    "'604801' (must be 0 or 1s-7d)") },
	{ "queue warn never\n", E(1, "queue warn: invalid duration 'never' "
	    "(must be 0 or 1s-7d)") },
	{ "queue warn -1\n", E(1, "queue warn: invalid duration '-1' (must "
	    "be 0 or 1s-7d)") },
	{ "queue warn 4h\nqueue warn 4h\n", E(2, "duplicate 'queue warn' "
	    "statement (first at line 1)") },
	{ "queue warn\n", E(1, "syntax error in 'queue' statement: "
	    "unexpected end of line") },
	{ "queue expire 2h\nqueue warn 2h\n", E(2, "queue warn: 2h is not "
	    "shorter than queue expire (2h)") },
	{ "\nqueue warn 7d\n", E(2, "queue warn: 7d is not shorter than "
	    "queue expire (5d)") },
	{ "queue warn 3h\nqueue expire 1h\n", E(1, "queue warn: 3h is not "
	    "shorter than queue expire (1h)") },
	/* only a file whose every line is right gets that far */
	{ "queue expire 1h\nqueue warn 8d\n", E(2, "queue warn: invalid "
	    "duration '8d' (must be 0 or 1s-7d)") },

	/* deliver port */
	{ "deliver port 0\n", E(1, "deliver port: invalid port '0' (must be "
	    "1-65535)") },
	{ "deliver port 65536\n", E(1, "deliver port: invalid port '65536' "
	    "(must be 1-65535)") },
	{ "deliver port mx\n", E(1, "deliver port: invalid port 'mx' "
	    "(must be 1-65535)") },
	{ "deliver port -25\n", E(1, "deliver port: invalid port '-25' "
	    "(must be 1-65535)") },
	{ "deliver port 25\ndeliver port 2525\n", E(2, "duplicate 'deliver "
	    "port' statement (first at line 1)") },
	{ "deliver port\n", E(1, "syntax error in 'deliver' statement: "
	    "unexpected end of line") },
	{ "deliver 25\n", E(1, "syntax error in 'deliver' statement: "
	    "unexpected '25'") },
	{ "deliver port 25 tls\n", E(1, "syntax error in 'deliver' "
	    "statement: unexpected 'tls'") },

	/* relay via */
	{ "relay via a..b\n", E(1, "relay via: 'a..b' is not a host name or "
	    "IP address") },
	{ "relay via \"smtp example\"\n", E(1, "relay via: 'smtp example' is "
	    "not a host name or IP address") },
	{ "relay via smtp.example.\n", E(1, "relay via: 'smtp.example.' is "
	    "not a host name or IP address") },
	{ "relay via [192.0.2.1]\n", E(1, "relay via: '[192.0.2.1]' is not "
	    "a host name or IP address") },
	{ "relay via h port 0\n", E(1, "relay via: invalid port '0' (must "
	    "be 1-65535)") },
	{ "relay via h port 65536\n", E(1, "relay via: invalid port '65536' "
	    "(must be 1-65535)") },
	{ "relay via h port submission\n", E(1, "relay via: invalid port "
	    "'submission' (must be 1-65535)") },
	{ "relay via h port 25 port 25\n", E(1, "relay via: port given "
	    "twice") },
	{ "relay via h tls starttls\n", E(1, "relay via: tls, starttls or "
	    "plain given twice") },
	{ "relay via h plain plain\n", E(1, "relay via: tls, starttls or "
	    "plain given twice") },
	{ "relay via h auth u p auth u p\n", E(1, "relay via: auth given "
	    "twice") },
	{ "relay via h plain auth u p\n", E(1, "relay via: auth requires tls "
	    "or starttls") },
	{ "relay via h auth u p port 25 plain\n", E(1, "relay via: auth "
	    "requires tls or starttls") },
	{ "relay via h auth \"\" p\n", E(1, "relay via: the auth user must "
	    "be 1-255 bytes, without control characters") },
	{ "relay via h auth " U256 " p\n", E(1, "relay via: the auth user "
	    "must be 1-255 bytes, without control characters") },
	{ "relay via h auth u \"\"\n", E(1, "relay via: the auth password "
	    "must be 1-255 bytes, without control characters") },
	{ "relay via h auth u " U256 "\n", E(1, "relay via: the auth "
	    "password must be 1-255 bytes, without control characters") },
	{ "relay via h auth u \"a\tb\"\n", E(1, "relay via: the auth "
	    "password must be 1-255 bytes, without control characters") },
	{ "relay via h auth u\n", E(1, "syntax error in 'relay' statement: "
	    "unexpected end of line") },
	{ "relay via h auth\n", E(1, "syntax error in 'relay' statement: "
	    "unexpected end of line") },
	{ "relay via h smtps\n", E(1, "syntax error in 'relay' statement: "
	    "unexpected 'smtps'") },
	{ "relay via h port\n", E(1, "syntax error in 'relay' statement: "
	    "unexpected end of line") },
	{ "relay via h h2\n", E(1, "syntax error in 'relay' statement: "
	    "unexpected 'h2'") },
	{ "relay via\n", E(1, "syntax error in 'relay' statement: "
	    "unexpected end of line") },
	{ "relay via tls\n", E(1, "syntax error in 'relay' statement: "
	    "unexpected 'tls'") },
	{ "relay via a\nrelay via b\n", E(2, "duplicate 'relay via' "
	    "statement (first at line 1)") },
	{ "relay via a..b plain port 0 auth \"\" \"\" tls\n",
	    E(1, "relay via: 'a..b' is not a host name or IP address")
	    E(1, "relay via: invalid port '0' (must be 1-65535)")
	    E(1, "relay via: the auth user must be 1-255 bytes, without "
	    "control characters")
	    E(1, "relay via: the auth password must be 1-255 bytes, without "
	    "control characters")
	    E(1, "relay via: tls, starttls or plain given twice")
	    E(1, "relay via: auth requires tls or starttls") },
	/* the password is never in a message */
	{ "relay via h auth u \"" U256 "\" plain\n", E(1, "relay via: the "
	    "auth password must be 1-255 bytes, without control characters")
	    E(1, "relay via: auth requires tls or starttls") },
	{ "deliver = x\n", E(1, "'deliver' is a keyword, not a macro "
	    "name") },
	{ "via = x\n", E(1, "syntax error: unexpected 'via'") },

	/* tls */
	{ "tls\n", E(1, "syntax error in 'tls' statement: unexpected end of "
	    "line") },
	{ "tls verify\n", E(1, "syntax error in 'tls' statement: unexpected "
	    "'verify'") },
	{ "tls required\n", E(1, "syntax error in 'tls' statement: "
	    "unexpected 'required'") },
	{ "tls opportunistic for a.example\n", E(1, "syntax error in 'tls' "
	    "statement: unexpected 'for'") },
	{ "tls require verify verify\n", E(1, "syntax error in 'tls' "
	    "statement: unexpected 'verify'") },
	{ "tls require for\n", E(1, "syntax error in 'tls' statement: "
	    "unexpected end of line") },
	{ "tls require for a.example b.example\n", E(1, "syntax error in "
	    "'tls' statement: unexpected 'b.example'") },
	{ "tls require\ntls opportunistic\n", E(2, "duplicate 'tls' "
	    "statement (first at line 1)") },
	{ "tls require verify\n\ntls require verify\n", E(3, "duplicate "
	    "'tls' statement (first at line 1)") },
	{ "tls require for a..example\n", E(1, "tls: 'a..example' is not a "
	    "valid host name") },
	{ "tls require for *.example\n", E(1, "tls: '*.example' is not a "
	    "valid host name") },
	{ "tls require for .example\n", E(1, "tls: '.example' is not a "
	    "valid host name") },
	{ "tls require for example.com.\n", E(1, "tls: 'example.com.' is "
	    "not a valid host name") },
	{ "tls require for _mta.example\n", E(1, "tls: '_mta.example' is "
	    "not a valid host name") },
	{ "tls require for a.example\ntls require for a.example\n",
	    E(2, "tls: duplicate domain 'a.example' (first at line 1)") },
	{ "tls require for a.example\n\ntls require verify for A.Example\n",
	    E(3, "tls: duplicate domain 'a.example' (first at line 1)") },
	{ T64 "tls require for x.example\n", E(65, "tls: too many domains "
	    "(max 64)") },
	{ T64 "tls require for d000.example\n", E(65, "tls: duplicate "
	    "domain 'd000.example' (first at line 1)") },
	{ "require tls\n", E(1, "syntax error in 'require' statement: "
	    "unexpected 'tls'") },

	/* mta concurrency */
	{ "mta concurrency 0\n", E(1, "mta concurrency: invalid number '0' "
	    "(must be 1-1000)") },
	{ "mta concurrency 1001\n", E(1, "mta concurrency: invalid number "
	    "'1001' (must be 1-1000)") },
	{ "mta concurrency lots\n", E(1, "mta concurrency: invalid number "
	    "'lots' (must be 1-1000)") },
	{ "mta concurrency 0 per host\n", E(1, "mta concurrency per host: "
	    "invalid number '0' (must be 1-100)") },
	{ "mta concurrency 101 per host\n", E(1, "mta concurrency per host: "
	    "invalid number '101' (must be 1-100)") },
	{ "mta concurrency 101 per destination\n", E(1, "mta concurrency "
	    "per host: invalid number '101' (must be 1-100)") },
	{ "mta concurrency 1\nmta concurrency 2\n", E(2, "duplicate 'mta "
	    "concurrency' statement (first at line 1)") },
	{ "mta concurrency 1 per host\nmta concurrency 2 per destination\n",
	    E(2, "duplicate 'mta concurrency per host' statement (first at "
	    "line 1)") },
	{ "mta concurrency\n", E(1, "syntax error in 'mta' statement: "
	    "unexpected end of line") },
	{ "mta concurrency 5 per\n", E(1, "syntax error in 'mta' statement: "
	    "unexpected end of line") },
	{ "mta concurrency 5 per domain\n", E(1, "syntax error in 'mta' "
	    "statement: unexpected 'domain'") },
	{ "mta concurrency 5 per hour\n", E(1, "syntax error in 'mta' "
	    "statement: unexpected 'hour'") },
	{ "mta 5\n", E(1, "syntax error in 'mta' statement: unexpected "
	    "'5'") },
	{ "mta = x\n", E(1, "'mta' is a keyword, not a macro name") },

	/* the new keywords are values only when quoted */
	{ "hostname host\n", E(1, "syntax error in 'hostname' statement: "
	    "unexpected 'host'") },
	{ "user auth\n", E(1, "syntax error in 'user' statement: "
	    "unexpected 'auth'") },
};

static void
test_bad(void **state)
{
	check_bad_rows(bad, sizeof(bad) / sizeof(bad[0]));
}

/* The numbers the lead put in config.h, as an empty file leaves them. */
static void
test_defaults(void **state)
{
	static const int64_t	 retry[] = CONFIG_DEFAULT_QUEUE_RETRY;
	struct sendgated_conf	*conf;
	char			*errs;
	size_t			 i;

	assert_int_equal(parse("", 0, &conf, &errs), 0);
	assert_int_equal(conf->queue_nretry, sizeof(retry) / sizeof(retry[0]));
	for (i = 0; i < sizeof(retry) / sizeof(retry[0]); i++)
		assert_int_equal(conf->queue_retry[i], retry[i]);
	assert_int_equal(conf->queue_expire, CONFIG_DEFAULT_QUEUE_EXPIRE);
	assert_int_equal(conf->queue_warn, CONFIG_DEFAULT_QUEUE_WARN);
	assert_int_equal(conf->deliver_port, CONFIG_DEFAULT_DELIVER_PORT);
	assert_int_equal(conf->relayhost.set, 0);
	assert_int_equal(conf->tls_policy, CONFIG_DEFAULT_TLS_POLICY);
	assert_int_equal(conf->ntls_domains, 0);
	assert_int_equal(conf->mta_concurrency,
	    CONFIG_DEFAULT_MTA_CONCURRENCY);
	assert_int_equal(conf->mta_per_host, CONFIG_DEFAULT_MTA_PER_HOST);
	config_free(conf);
	free(errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_defaults),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
