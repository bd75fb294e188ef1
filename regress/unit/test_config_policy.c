/*
 * sendgated.conf: the statements of the relay's policy (connector limits,
 * SMTP session limits and timeouts, domain verification, SPF, DKIM, the
 * domain checks and their resolvers): defaults, values, ranges and error
 * messages.
 */
#include "config_test.h"

#define P32	"pppppppppppppppppppppppppppppppp"
#define S40	"ssssssssssssssssssssssssssssssssssssssss"
#define A62	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define X4	" ::1 ::1 ::1 ::1"

static const struct good_row good[] = {
	/* defaults (numbers: test_defaults) */
	{ "", "verification prefix", CONFIG_DEFAULT_VERIFY_PREFIX },
	{ "", "dkim selector", CONFIG_DEFAULT_DKIM_SELECTOR },
	{ "", "dkim algorithms", "rsa-sha256 ed25519-sha256" },
	{ "", "require spf", "0" },
	{ "", "require dkim", "0" },
	{ "", "resolvers", "0" },
	{ "", "relay addresses", "0" },
	{ "hostname mx.example\n", "spf include", "_spf.mx.example" },

	/* limits; each window is a statement of its own */
	{ "limit messages 0 per minute\n", "limit messages per minute", "0" },
	{ "limit messages 1000000000000 per hour\n",
	    "limit messages per hour", "1000000000000" },
	{ "limit messages 7 per day\n", "limit messages per day", "7" },
	{ "limit messages 7 per day\n", "limit messages per hour", "500" },
	{ "limit recipients 5 per minute\n", "limit recipients per minute",
	    "5" },
	{ "limit recipients 0 per hour\n", "limit recipients per hour", "0" },
	{ "limit recipients \"9\" per day\n", "limit recipients per day",
	    "9" },
	{ "limit recipients 1 per message\n", "limit recipients per message",
	    "1" },
	{ "limit recipients 100000 per message\n",
	    "limit recipients per message", "100000" },
	{ "limit recipients 1 per hour\nlimit recipients 2 per day\n"
	    "limit recipients 3 per message\n", "limit recipients per hour",
	    "1" },
	{ "limit size 10M\n", "limit size", "10485760" },
	{ "limit size 1K\n", "limit size", "1024" },
	{ "limit size 1024K\n", "limit size", "1048576" },
	{ "limit size 2G\n", "limit size", "2147483648" },
	{ "limit size 2048m\n", "limit size", "2147483648" },
	{ "limit size 1024\n", "limit size", "1024" },
	{ "", "limit window minute", "60" },
	{ "", "limit window day", "86400" },
	{ "limit windows 2s 6s 20s\n", "limit window minute", "2" },
	{ "limit windows 2s 6s 20s\n", "limit window hour", "6" },
	{ "limit windows 1 1 1\n", "limit window day", "1" },
	{ "limit windows 1m 1h 30d\n", "limit window day", "2592000" },

	/* smtp sessions; each is a statement of its own */
	{ "smtp limit sessions 1\n", "smtp limit sessions", "1" },
	{ "smtp limit sessions 100000\n", "smtp limit sessions", "100000" },
	{ "smtp limit sessions 250\n", "smtp limit sessions", "250" },
	{ "smtp limit sessions 250\n", "smtp limit sessions-per-address",
	    "50" },
	{ "smtp limit sessions-per-address 1\n",
	    "smtp limit sessions-per-address", "1" },
	{ "smtp limit sessions-per-address 100000\n",
	    "smtp limit sessions-per-address", "100000" },
	{ "smtp limit sessions-per-address \"10\"\n",
	    "smtp limit sessions-per-address", "10" },
	{ "smtp limit sessions-per-address 10\n", "smtp limit sessions",
	    "1000" },
	{ "smtp limit junk 1\n", "smtp limit junk", "1" },
	{ "smtp limit junk 100000\n", "smtp limit junk", "100000" },
	{ "smtp limit junk 20\n", "smtp limit junk", "20" },
	{ "smtp limit auth-failures 1\n", "smtp limit auth-failures", "1" },
	{ "smtp limit auth-failures 100\n", "smtp limit auth-failures",
	    "100" },
	{ "smtp limit auth-failures 5\n", "smtp limit auth-failures", "5" },
	{ "smtp timeout command 1s\n", "smtp timeout command", "1" },
	{ "smtp timeout command 1h\n", "smtp timeout command", "3600" },
	{ "smtp timeout command 3600\n", "smtp timeout command", "3600" },
	{ "smtp timeout command 2m\n", "smtp timeout command", "120" },
	{ "smtp timeout command 2m\n", "smtp timeout data", "600" },
	{ "smtp timeout data 1\n", "smtp timeout data", "1" },
	{ "smtp timeout data 24h\n", "smtp timeout data", "86400" },
	{ "smtp timeout data 1d\n", "smtp timeout data", "86400" },
	{ "smtp timeout data 15m\n", "smtp timeout data", "900" },
	{ "smtp timeout handshake 1s\n", "smtp timeout handshake", "1" },
	{ "smtp timeout handshake 10m\n", "smtp timeout handshake", "600" },
	{ "smtp timeout handshake 600s\n", "smtp timeout handshake", "600" },
	{ "smtp timeout handshake 45\n", "smtp timeout handshake", "45" },
	{ "", "smtp tls-threads", "-1" },
	{ "smtp tls-threads 0\n", "smtp tls-threads", "0" },
	{ "smtp tls-threads 64\n", "smtp tls-threads", "64" },
	{ "smtp tls-threads 4\nsmtp timeout handshake 3\n",
	    "smtp tls-threads", "4" },
	{ "smtp limit sessions 9\nsmtp limit sessions-per-address 8\n"
	    "smtp limit junk 7\nsmtp limit auth-failures 6\n"
	    "smtp timeout command 5\nsmtp timeout data 4\n"
	    "smtp timeout handshake 3\n", "smtp limit junk", "7" },

	/* domain verification */
	{ "verification prefix acme-mail\n", "verification prefix",
	    "acme-mail" },
	{ "verification prefix 0\n", "verification prefix", "0" },
	{ "verification grace 0\n", "verification grace", "0" },
	{ "verification grace 90m\n", "verification grace", "5400" },
	{ "verification grace 365d\n", "verification grace", "31536000" },

	/* spf, dkim */
	{ "spf include _spf.relay.example\n", "spf include",
	    "_spf.relay.example" },
	{ "hostname mx.example\nspf include spf.example.com\n",
	    "spf include", "spf.example.com" },
	{ "spf include _a-b._c\n", "spf include", "_a-b._c" },
	{ "dkim selector s2026-q1\n", "dkim selector", "s2026-q1" },
	{ "", "dkim expire", "0" },
	{ "", "dkim body simple", "0" },
	{ "", "dkim headers count", "0" },
	{ "dkim expire 7d\n", "dkim expire", "604800" },
	{ "dkim expire 0\n", "dkim expire", "0" },
	{ "dkim body simple\n", "dkim body simple", "1" },
	{ "dkim body relaxed\n", "dkim body simple", "0" },
	{ "dkim headers From Subject X-Ticket.Id List-Id\n", "dkim headers",
	    "From Subject X-Ticket.Id List-Id" },
	{ "dkim algorithms rsa-sha256\n", "dkim algorithms", "rsa-sha256" },
	{ "dkim algorithms ed25519-sha256 rsa-sha256\n", "dkim algorithms",
	    "rsa-sha256 ed25519-sha256" },
	{ "require spf\n", "require spf", "1" },
	{ "require spf\n", "require dkim", "0" },
	{ "require dkim\nrequire spf\n", "require dkim", "1" },

	/* checks */
	{ "checks every 1s\n", "checks every", "1" },
	{ "checks every 7d\n", "checks every", "604800" },
	{ "checks every 30m\n", "checks every", "1800" },
	{ "checks concurrency 1\n", "checks concurrency", "1" },
	{ "checks concurrency 1000\n", "checks concurrency", "1000" },

	/* resolver, relay address */
	{ "resolver 127.0.0.1\n", "resolver 0",
	    "127.0.0.1 port 53 [inet 127.0.0.1 53]" },
	{ "resolver ::1 port 5353 192.0.2.53\n", "resolver 0",
	    "::1 port 5353 [inet6 ::1 5353]" },
	{ "resolver ::1 port 5353 192.0.2.53\n", "resolver 1",
	    "192.0.2.53 port 53 [inet 192.0.2.53 53]" },
	{ "resolver 192.0.2.1 port 1 \\\n 192.0.2.2 port 65535\n",
	    "resolver 1", "192.0.2.2 port 65535 [inet 192.0.2.2 65535]" },
	{ "relay address 192.0.2.25\n", "relay addresses", "1" },
	{ "relay address 192.0.2.25 \"2001:db8::25\"\n", "relay address 1",
	    "inet6 2001:db8::25 0" },
	{ "relay address 192.0.2.25\n", "relay address 0",
	    "inet 192.0.2.25 0" },

	/* "relay" stays a value; other keywords are values when quoted */
	{ "u = relay\nuser $u\n", "user", "relay" },
	{ "user \"limit\"\n", "user", "limit" },

	/* lengths and counts */
	{ "verification prefix " P32 "\n", "verification prefix", P32 },
	{ "dkim selector " S40 "\n", "dkim selector", S40 },
	{ "spf include _" A62 ".example\n", "spf include",
	    "_" A62 ".example" },
	{ "resolver" X4 X4 "\n", "resolvers", "8" },
	{ "relay address" X4 X4 X4 X4 "\n", "relay addresses", "16" },
};

static void
test_good(void **state)
{
	check_good_rows(good, sizeof(good) / sizeof(good[0]));
}

static const struct bad_row bad[] = {
	/* limit */
	{ "dkim expire 30m\n", E(1, "dkim expire: invalid duration '30m' "
	    "(must be 0 or 1h-366d)") },
	{ "dkim body loose\n", E(1, "dkim body: 'loose' is neither relaxed "
	    "nor simple") },
	{ "dkim body simple\ndkim body simple\n", E(2, "duplicate 'dkim "
	    "body' statement (first at line 1)") },
	{ "dkim headers From To:\n", E(1, "dkim headers: invalid header name "
	    "'To:'") },
	{ "dkim headers\n", E(1, "syntax error in 'dkim' statement: "
	    "unexpected end of line") },
	{ "limit windows 0 1m 1h\n", E(1, "limit windows: invalid duration "
	    "'0' (must be 1s-30d)") },
	{ "limit windows 1m 1h 31d\n", E(1, "limit windows: invalid duration "
	    "'31d' (must be 1s-30d)") },
	{ "limit windows 1h 1m 1d\n", E(1, "limit windows: '1m' is shorter "
	    "than the window before it") },
	{ "limit windows 1m 1h\n", E(1, "syntax error in 'limit' statement: "
	    "unexpected end of line") },
	{ "limit windows 1m 1h 1d\nlimit windows 1m 1h 1d\n", E(2,
	    "duplicate 'limit windows' statement (first at line 1)") },
	{ "limit messages -1 per hour\n", E(1, "limit messages per hour: "
	    "invalid number '-1' (must be 0-1000000000000)") },
	{ "limit messages 1000000000001 per minute\n", E(1, "limit messages "
	    "per minute: invalid number '1000000000001' (must be "
	    "0-1000000000000)") },
	{ "limit recipients 1e3 per day\n", E(1, "limit recipients per day: "
	    "invalid number '1e3' (must be 0-1000000000000)") },
	{ "limit recipients 0 per message\n", E(1, "limit recipients per "
	    "message: invalid number '0' (must be 1-100000)") },
	{ "limit recipients 100001 per message\n", E(1, "limit recipients "
	    "per message: invalid number '100001' (must be 1-100000)") },
	{ "limit messages 5 per week\n", E(1, "syntax error in 'limit' "
	    "statement: unexpected 'week'") },
	{ "limit messages 5 per message\n", E(1, "syntax error in 'limit' "
	    "statement: unexpected 'message'") },
	{ "limit messages 5\n", E(1, "syntax error in 'limit' statement: "
	    "unexpected end of line") },
	{ "limit message size 10M\n", E(1, "syntax error in 'limit' "
	    "statement: unexpected 'message'") },
	{ "limit size 1023\n",
	    E(1, "limit size: invalid size '1023' (must be 1K-2G)") },
	{ "limit size 2049M\n",
	    E(1, "limit size: invalid size '2049M' (must be 1K-2G)") },
	{ "limit size 10MB\n",
	    E(1, "limit size: invalid size '10MB' (must be 1K-2G)") },
	{ "limit size 99999999999999999999\n", E(1, "limit size: invalid "
	    "size '99999999999999999999' (must be 1K-2G)") },
	{ "limit messages 1 per hour\nlimit messages 2 per hour\n",
	    E(2, "duplicate 'limit messages per hour' statement (first at "
	    "line 1)") },
	{ "limit recipients 1 per message\n\nlimit recipients 1 per message\n",
	    E(3, "duplicate 'limit recipients per message' statement (first "
	    "at line 1)") },
	{ "limit size 1M\nlimit size 2M\n",
	    E(2, "duplicate 'limit size' statement (first at line 1)") },

	/* smtp limit */
	{ "smtp limit sessions 0\n", E(1, "smtp limit sessions: invalid "
	    "number '0' (must be 1-100000)") },
	{ "smtp limit sessions 100001\n", E(1, "smtp limit sessions: invalid "
	    "number '100001' (must be 1-100000)") },
	{ "smtp limit sessions -1\n", E(1, "smtp limit sessions: invalid "
	    "number '-1' (must be 1-100000)") },
	{ "smtp limit sessions 1k\n", E(1, "smtp limit sessions: invalid "
	    "number '1k' (must be 1-100000)") },
	{ "smtp limit sessions-per-address 0\n", E(1, "smtp limit "
	    "sessions-per-address: invalid number '0' (must be 1-100000)") },
	{ "smtp limit sessions-per-address 100001\n", E(1, "smtp limit "
	    "sessions-per-address: invalid number '100001' (must be "
	    "1-100000)") },
	{ "smtp limit sessions-per-address many\n", E(1, "smtp limit "
	    "sessions-per-address: invalid number 'many' (must be "
	    "1-100000)") },
	{ "smtp limit junk 0\n", E(1, "smtp limit junk: invalid number '0' "
	    "(must be 1-100000)") },
	{ "smtp limit junk 100001\n", E(1, "smtp limit junk: invalid number "
	    "'100001' (must be 1-100000)") },
	{ "smtp limit junk 5.5\n", E(1, "smtp limit junk: invalid number "
	    "'5.5' (must be 1-100000)") },
	{ "smtp limit auth-failures 0\n", E(1, "smtp limit auth-failures: "
	    "invalid number '0' (must be 1-100)") },
	{ "smtp limit auth-failures 101\n", E(1, "smtp limit auth-failures: "
	    "invalid number '101' (must be 1-100)") },
	{ "smtp limit auth-failures 3x\n", E(1, "smtp limit auth-failures: "
	    "invalid number '3x' (must be 1-100)") },
	{ "smtp tls-threads 65\n", E(1, "smtp tls-threads: invalid number "
	    "'65' (must be 0-64)") },
	{ "smtp tls-threads -1\n", E(1, "smtp tls-threads: invalid number "
	    "'-1' (must be 0-64)") },
	{ "smtp tls-threads 1\nsmtp tls-threads 2\n", E(2, "duplicate "
	    "'smtp tls-threads' statement (first at line 1)") },
	{ "smtp limit sessions 1\nsmtp limit sessions 2\n",
	    E(2, "duplicate 'smtp limit sessions' statement (first at line "
	    "1)") },
	{ "smtp limit sessions-per-address 1\n\n"
	    "smtp limit sessions-per-address 1\n", E(3, "duplicate 'smtp "
	    "limit sessions-per-address' statement (first at line 1)") },
	{ "smtp limit junk 1\nsmtp limit junk 2\n",
	    E(2, "duplicate 'smtp limit junk' statement (first at line 1)") },
	{ "smtp limit auth-failures 1\nsmtp limit auth-failures 2\n",
	    E(2, "duplicate 'smtp limit auth-failures' statement (first at "
	    "line 1)") },
	{ "smtp limit junk 1\nsmtp limit junk 0\n",
	    E(2, "duplicate 'smtp limit junk' statement (first at line 1)")
	    E(2, "smtp limit junk: invalid number '0' (must be 1-100000)") },
	{ "smtp limit sessions\n", E(1, "syntax error in 'smtp' statement: "
	    "unexpected end of line") },
	{ "smtp limit sessions 5 10\n", E(1, "syntax error in 'smtp' "
	    "statement: unexpected '10'") },
	{ "smtp limit connections 5\n", E(1, "syntax error in 'smtp' "
	    "statement: unexpected 'connections'") },
	{ "smtp limit sessions per address 5\n", E(1, "syntax error in "
	    "'smtp' statement: unexpected 'per'") },
	{ "smtp sessions 5\n", E(1, "syntax error in 'smtp' statement: "
	    "unexpected 'sessions'") },
	{ "limit sessions 5\n", E(1, "syntax error in 'limit' statement: "
	    "unexpected 'sessions'") },
	{ "smtp\n", E(1, "syntax error in 'smtp' statement: unexpected end "
	    "of line") },
	{ "smtp = x\n", E(1, "'smtp' is a keyword, not a macro name") },

	/* smtp timeout */
	{ "smtp timeout command 0\n", E(1, "smtp timeout command: invalid "
	    "duration '0' (must be 1s-1h)") },
	{ "smtp timeout command 3601\n", E(1, "smtp timeout command: "
	    "invalid duration '3601' (must be 1s-1h)") },
	{ "smtp timeout command 61m\n", E(1, "smtp timeout command: invalid "
	    "duration '61m' (must be 1s-1h)") },
	{ "smtp timeout command 5 m\n", E(1, "syntax error in 'smtp' "
	    "statement: unexpected 'm'") },
	{ "smtp timeout command 1w\n", E(1, "smtp timeout command: invalid "
	    "duration '1w' (must be 1s-1h)") },
	{ "smtp timeout data 0s\n", E(1, "smtp timeout data: invalid "
	    "duration '0s' (must be 1s-1d)") },
	{ "smtp timeout data 86401\n", E(1, "smtp timeout data: invalid "
	    "duration '86401' (must be 1s-1d)") },
	{ "smtp timeout data 25h\n", E(1, "smtp timeout data: invalid "
	    "duration '25h' (must be 1s-1d)") },
	{ "smtp timeout data 1.5h\n", E(1, "smtp timeout data: invalid "
	    "duration '1.5h' (must be 1s-1d)") },
	{ "smtp timeout handshake 0\n", E(1, "smtp timeout handshake: "
	    "invalid duration '0' (must be 1s-10m)") },
	{ "smtp timeout handshake 601\n", E(1, "smtp timeout handshake: "
	    "invalid duration '601' (must be 1s-10m)") },
	{ "smtp timeout handshake 1h\n", E(1, "smtp timeout handshake: "
	    "invalid duration '1h' (must be 1s-10m)") },
	{ "smtp timeout handshake 30ms\n", E(1, "smtp timeout handshake: "
	    "invalid duration '30ms' (must be 1s-10m)") },
	{ "smtp timeout command 1m\nsmtp timeout command 2m\n",
	    E(2, "duplicate 'smtp timeout command' statement (first at line "
	    "1)") },
	{ "smtp timeout data 1m\nsmtp timeout data 2m\n",
	    E(2, "duplicate 'smtp timeout data' statement (first at line 1)") },
	{ "smtp timeout handshake 1m\nsmtp timeout handshake 2m\n",
	    E(2, "duplicate 'smtp timeout handshake' statement (first at line "
	    "1)") },
	{ "smtp timeout data\n", E(1, "syntax error in 'smtp' statement: "
	    "unexpected end of line") },
	{ "smtp timeout 5m\n", E(1, "syntax error in 'smtp' statement: "
	    "unexpected '5m'") },
	{ "smtp timeout tls 30s\n", E(1, "syntax error in 'smtp' statement: "
	    "unexpected 'tls'") },

	/* verification */
	{ "verification prefix Sendgate\n", E(1, "verification prefix: "
	    "'Sendgate' is not a valid prefix") },
	{ "verification prefix -x\n",
	    E(1, "verification prefix: '-x' is not a valid prefix") },
	{ "verification prefix x-\n",
	    E(1, "verification prefix: 'x-' is not a valid prefix") },
	{ "verification prefix a_b\n",
	    E(1, "verification prefix: 'a_b' is not a valid prefix") },
	{ "verification prefix a.b\n",
	    E(1, "verification prefix: 'a.b' is not a valid prefix") },
	{ "verification prefix \"\"\n",
	    E(1, "verification prefix: '' is not a valid prefix") },
	{ "verification grace 366d\n", E(1, "verification grace: invalid "
	    "duration '366d' (must be 0-365d)") },
	{ "verification grace 1w\n", E(1, "verification grace: invalid "
	    "duration '1w' (must be 0-365d)") },
	{ "verification grace 1d\nverification grace 2d\n", E(2,
	    "duplicate 'verification grace' statement (first at line 1)") },
	{ "verification 1d\n", E(1, "syntax error in 'verification' "
	    "statement: unexpected '1d'") },

	/* spf */
	{ "spf include a..b\n",
	    E(1, "spf include: 'a..b' is not a valid host name") },
	{ "spf include _spf.example.\n",
	    E(1, "spf include: '_spf.example.' is not a valid host name") },
	{ "spf include -x.example\n",
	    E(1, "spf include: '-x.example' is not a valid host name") },
	{ "spf include \"a b\"\n",
	    E(1, "spf include: 'a b' is not a valid host name") },
	{ "spf include a\nspf include b\n",
	    E(2, "duplicate 'spf include' statement (first at line 1)") },

	/* dkim */
	{ "dkim delegate a..b\n",
	    E(1, "dkim delegate: 'a..b' is not a valid host name") },
	{ "dkim delegate dkim.example\ndkim delegate dkim.example\n",
	    E(2, "duplicate 'dkim delegate' statement (first at line 1)") },
	{ "dkim delegate\n", E(1, "syntax error in 'dkim' statement: "
	    "unexpected end of line") },
	{ "dkim selector Sel\n",
	    E(1, "dkim selector: 'Sel' is not a valid selector") },
	{ "dkim selector s.1\n",
	    E(1, "dkim selector: 's.1' is not a valid selector") },
	{ "dkim selector -s\n",
	    E(1, "dkim selector: '-s' is not a valid selector") },
	{ "dkim algorithms ed25519-sha256\n",
	    E(1, "dkim algorithms: rsa-sha256 is required") },
	{ "dkim algorithms rsa-sha256 rsa-sha256\n",
	    E(1, "dkim algorithms: 'rsa-sha256' given twice") },
	{ "dkim algorithms rsa-sha1\n",
	    E(1, "dkim algorithms: unknown algorithm 'rsa-sha1'") },
	{ "dkim algorithms RSA-SHA256 ed25519-sha256\n",
	    E(1, "dkim algorithms: unknown algorithm 'RSA-SHA256'") },
	{ "dkim algorithms\n", E(1, "syntax error in 'dkim' statement: "
	    "unexpected end of line") },
	{ "dkim algorithms rsa-sha256\ndkim algorithms rsa-sha256\n",
	    E(2, "duplicate 'dkim algorithms' statement (first at line 1)") },
	{ "dkim rsa-sha256\n", E(1, "syntax error in 'dkim' statement: "
	    "unexpected 'rsa-sha256'") },

	/* require */
	{ "require spf\nrequire spf\n",
	    E(2, "duplicate 'require spf' statement (first at line 1)") },
	{ "require tls\n", E(1, "syntax error in 'require' statement: "
	    "unexpected 'tls'") },
	{ "require\n", E(1, "syntax error in 'require' statement: "
	    "unexpected end of line") },
	{ "require dkim yes\n", E(1, "syntax error in 'require' statement: "
	    "unexpected 'yes'") },

	/* checks */
	{ "checks every 0\n",
	    E(1, "checks every: invalid duration '0' (must be 1s-7d)") },
	{ "checks every 8d\n",
	    E(1, "checks every: invalid duration '8d' (must be 1s-7d)") },
	{ "checks every 1h\nchecks every 2h\n",
	    E(2, "duplicate 'checks every' statement (first at line 1)") },
	{ "checks concurrency 0\n", E(1, "checks concurrency: invalid number "
	    "'0' (must be 1-1000)") },
	{ "checks concurrency 1001\n", E(1, "checks concurrency: invalid "
	    "number '1001' (must be 1-1000)") },
	{ "checks concurrency many\n", E(1, "checks concurrency: invalid "
	    "number 'many' (must be 1-1000)") },

	/* resolver */
	{ "resolver localhost\n",
	    E(1, "resolver: 'localhost' is not an IP address") },
	{ "resolver 127.1\n", E(1, "resolver: '127.1' is not an IP address") },
	{ "resolver 127.0.0.1 port 0\n",
	    E(1, "resolver: invalid port '0' (must be 1-65535)") },
	{ "resolver dns.example port 0 ::1\n",
	    E(1, "resolver: 'dns.example' is not an IP address")
	    E(1, "resolver: invalid port '0' (must be 1-65535)") },
	{ "resolver port 53\n", E(1, "syntax error in 'resolver' statement: "
	    "unexpected 'port'") },
	{ "resolver ::1 port 53 port 54\n", E(1, "syntax error in "
	    "'resolver' statement: unexpected 'port'") },
	{ "resolver\n", E(1, "syntax error in 'resolver' statement: "
	    "unexpected end of line") },
	{ "resolver ::1\nresolver 127.0.0.1\n",
	    E(2, "duplicate 'resolver' statement (first at line 1)") },

	/* relay address */
	{ "relay address mail.example\n",
	    E(1, "relay address: 'mail.example' is not an IP address") },
	{ "relay address 192.0.2.1 port 25\n", E(1, "syntax error in "
	    "'relay' statement: unexpected 'port'") },
	{ "relay 192.0.2.1\n", E(1, "syntax error in 'relay' statement: "
	    "unexpected '192.0.2.1'") },
	{ "relay address\n", E(1, "syntax error in 'relay' statement: "
	    "unexpected end of line") },
	{ "relay address ::1\nrelay address ::2\n",
	    E(2, "duplicate 'relay address' statement (first at line 1)") },
	{ "relay = x\n", E(1, "'relay' is a keyword, not a macro name") },

	/* lengths and counts */
	{ "verification prefix " P32 "p\n", E(1, "verification prefix: '"
	    P32 "p' is not a valid prefix") },
	{ "dkim selector " S40 "s\n",
	    E(1, "dkim selector: '" S40 "s' is not a valid selector") },
	{ "spf include _" A62 "a.example\n", E(1, "spf include: '_"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is "
	    "not a valid host name") },
	{ "resolver" X4 X4 " ::1\n",
	    E(1, "resolver: too many addresses (max 8)") },
	{ "resolver" X4 X4 " ::1 port 53 ::1 port 53\n",
	    E(1, "resolver: too many addresses (max 8)") },
	{ "relay address" X4 X4 X4 X4 " ::1 ::1\n",
	    E(1, "relay address: too many addresses (max 16)") },

	/* a second list statement is an error, and replaces the first */
	{ "resolver" X4 X4 "\nresolver" X4 X4 "\n",
	    E(2, "duplicate 'resolver' statement (first at line 1)") },
	{ "relay address" X4 X4 X4 X4 "\nrelay address" X4 X4 X4 X4 "\n",
	    E(2, "duplicate 'relay address' statement (first at line 1)") },
	{ "dkim algorithms ed25519-sha256\ndkim algorithms ed25519-sha256\n",
	    E(1, "dkim algorithms: rsa-sha256 is required")
	    E(2, "duplicate 'dkim algorithms' statement (first at line 1)")
	    E(2, "dkim algorithms: rsa-sha256 is required") },
	{ "resolver\nresolver ::1\n", E(1, "syntax error in 'resolver' "
	    "statement: unexpected end of line") },
	{ "require\nrequire spf\n", E(1, "syntax error in 'require' "
	    "statement: unexpected end of line") },
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
	struct sendgated_conf	*conf;
	struct config_limits	*l;
	char			*errs;

	assert_int_equal(parse("", 0, &conf, &errs), 0);
	l = &conf->limits;
	assert_int_equal(l->messages[WINDOW_MINUTE], CONFIG_DEFAULT_MSG_MINUTE);
	assert_int_equal(l->messages[WINDOW_HOUR], CONFIG_DEFAULT_MSG_HOUR);
	assert_int_equal(l->messages[WINDOW_DAY], CONFIG_DEFAULT_MSG_DAY);
	assert_int_equal(l->recipients[WINDOW_MINUTE],
	    CONFIG_DEFAULT_RCPT_MINUTE);
	assert_int_equal(l->recipients[WINDOW_HOUR], CONFIG_DEFAULT_RCPT_HOUR);
	assert_int_equal(l->recipients[WINDOW_DAY], CONFIG_DEFAULT_RCPT_DAY);
	assert_int_equal(l->message_size, CONFIG_DEFAULT_MSG_SIZE);
	assert_int_equal(l->rcpt_per_message, CONFIG_DEFAULT_RCPT_PER_MSG);
	assert_int_equal(conf->verify_grace, CONFIG_DEFAULT_GRACE);
	assert_int_equal(conf->checks_every, CONFIG_DEFAULT_CHECKS_EVERY);
	assert_int_equal(conf->checks_inflight, CONFIG_DEFAULT_CHECKS_INFLIGHT);
	assert_int_equal(conf->dkim_algs,
	    CONFIG_DKIM_RSA | CONFIG_DKIM_ED25519);
	assert_int_equal(conf->smtp_sessions, CONFIG_DEFAULT_SMTP_SESSIONS);
	assert_int_equal(conf->smtp_sessions_per_addr,
	    CONFIG_DEFAULT_SMTP_SESSIONS_PER_ADDR);
	assert_int_equal(conf->smtp_junk_max, CONFIG_DEFAULT_SMTP_JUNK_MAX);
	assert_int_equal(conf->smtp_auth_failures,
	    CONFIG_DEFAULT_SMTP_AUTH_FAILURES);
	assert_int_equal(conf->smtp_timeout_command,
	    CONFIG_DEFAULT_SMTP_TIMEOUT_COMMAND);
	assert_int_equal(conf->smtp_timeout_data,
	    CONFIG_DEFAULT_SMTP_TIMEOUT_DATA);
	assert_int_equal(conf->smtp_timeout_handshake,
	    CONFIG_DEFAULT_SMTP_TIMEOUT_HANDSHAKE);
	config_free(conf);
	free(errs);
}

/* dkim delegate: the zone of the provider's key records; none by default. */
static void
test_dkim_delegate(void **state)
{
	static const char	 text[] = "dkim delegate _dkim.provider.example\n";
	struct sendgated_conf	*conf;
	char			*errs;

	assert_int_equal(parse("", 0, &conf, &errs), 0);
	assert_string_equal(conf->dkim_delegate, "");
	config_free(conf);
	free(errs);
	assert_int_equal(parse(text, sizeof(text) - 1, &conf, &errs), 0);
	assert_string_equal(conf->dkim_delegate, "_dkim.provider.example");
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
		cmocka_unit_test(test_dkim_delegate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
