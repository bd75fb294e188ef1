/*
 * sendgated.conf: the grammar, its error messages and line numbers, the
 * checks across statements, the lexer's limits, the sample file.  The
 * policy statements are in test_config_policy.c, the value parsers in
 * test_config_values.c.
 */
#include <errno.h>
#include <unistd.h>

#include "config_test.h"

#define PKI_RELAY \
	"pki relay cert \"/etc/ssl/r.crt\" key \"/etc/ssl/r.key\"\n"

static const struct good_row good[] = {
	/* defaults */
	{ "", "queue", CONFIG_DEFAULT_QUEUE },
	{ "", "state", CONFIG_DEFAULT_STATE },
	{ "", "keys", CONFIG_DEFAULT_KEYS },
	{ "", "empty", CONFIG_DEFAULT_EMPTY },
	{ "", "socket", CONFIG_DEFAULT_SOCKET },
	{ "", "user", CONFIG_DEFAULT_USER },
	{ "", "user queue", CONFIG_DEFAULT_QUSER },
	{ "", "user signer", CONFIG_DEFAULT_KUSER },
	{ "", "group control", CONFIG_DEFAULT_CTLGROUP },
	{ "", "pkis", "0" },
	{ "", "listeners", "0" },
	{ "\n\n# only a comment\n", "queue", CONFIG_DEFAULT_QUEUE },

	/* one statement each */
	{ "hostname mail.example.com\n", "hostname", "mail.example.com" },
	{ "hostname \"MX-1.Example.org\"\n", "hostname", "MX-1.Example.org" },
	{ "hostname 123\n", "hostname", "123" },
	{ "hostname localhost\n", "hostname", "localhost" },
	{ "queue \"/srv/queue\"\n", "queue", "/srv/queue" },
	{ "queue /srv/queue\n", "queue", "/srv/queue" },
	{ "state \"/srv/state\"\n", "state", "/srv/state" },
	{ "keys \"/srv/keys\"\n", "keys", "/srv/keys" },
	{ "empty \"/var/empty\"\n", "empty", "/var/empty" },
	{ "socket \"/run/s.sock\"\n", "socket", "/run/s.sock" },
	{ "user relay\n", "user", "relay" },
	{ "user queue spool\n", "user queue", "spool" },
	{ "user signer _dkim.signer\n", "user signer", "_dkim.signer" },
	{ "group control wheel\n", "group control", "wheel" },
	{ "user queue spool\n", "user", CONFIG_DEFAULT_USER },
	{ "hostname a\nqueue \"/q\"\n", "hostname", "a" },

	/* pki: one line, either order, or one file per line */
	{ PKI_RELAY, "pki 0",
	    "relay cert /etc/ssl/r.crt key /etc/ssl/r.key line 1" },
	{ "pki relay key \"/k\" cert \"/c\"\n", "pki 0",
	    "relay cert /c key /k line 1" },
	{ "\npki relay cert \"/c\"\npki relay key \"/k\"\n", "pki 0",
	    "relay cert /c key /k line 2" },
	{ "pki relay key \"/k\"\npki relay cert \"/c\"\n", "pkis", "1" },
	{ "pki a cert \"/a\" key \"/ak\"\n"
	    "pki b.2-x_y cert \"/b\" key \"/bk\"\n",
	    "pki 1", "b.2-x_y cert /b key /bk line 2" },

	/* listen; localhost is 127.0.0.1 */
	{ "listen on 127.0.0.1 port 587 tls pki relay\n" PKI_RELAY,
	    "listen 0",
	    "127.0.0.1 port 587 tls pki relay line 1 [inet 127.0.0.1 587]" },
	{ PKI_RELAY "listen on ::1 port 465 smtps pki relay\n", "listen 0",
	    "::1 port 465 smtps pki relay line 2 [inet6 ::1 465]" },
	{ PKI_RELAY "listen on localhost port 25 tls pki relay\n", "listen 0",
	    "localhost port 25 tls pki relay line 2 [inet 127.0.0.1 25]" },
	{ PKI_RELAY "listen on 0.0.0.0 pki relay smtps port 65535\n",
	    "listen 0",
	    "0.0.0.0 port 65535 smtps pki relay line 2 [inet 0.0.0.0 65535]" },
	{ PKI_RELAY "listen on \"2001:db8::1\" port \"1\" tls pki \"relay\"\n",
	    "listen 0",
	    "2001:db8::1 port 1 tls pki relay line 2 [inet6 2001:db8::1 1]" },
	{ PKI_RELAY "listen on 127.0.0.1 port 587 tls pki relay\n"
	    "listen on 127.0.0.1 port 465 smtps pki relay\n"
	    "listen on ::1 port 587 tls pki relay\n", "listen 2",
	    "::1 port 587 tls pki relay line 4 [inet6 ::1 587]" },

	/* macros */
	{ "dir = \"/srv/q\"\nqueue $dir\n", "queue", "/srv/q" },
	{ "d = \"/one\"\nd = \"/two\"\nqueue $d\n", "queue", "/two" },
	{ "_a1 = x\nb = $_a1\nuser $b\n", "user", "x" },
	{ "p = 2525\nip = \"::1\"\n" PKI_RELAY
	    "listen on $ip port $p tls pki relay\n", "listen 0",
	    "::1 port 2525 tls pki relay line 4 [inet6 ::1 2525]" },
	{ "dir = \"/$x\"\nqueue $dir\n", "queue", "/$x" },

	/* continuation lines, comments, line ends */
	{ "hostname mail\\\n.example.com\n", "hostname", "mail.example.com" },
	{ "queue \"/var/\\\nspool\"\n", "queue", "/var/spool" },
	{ PKI_RELAY "listen on 127.0.0.1 \\\n\tport 587 \\\n\ttls pki relay\n"
	    "listen on ::1 port 587 tls pki relay\n", "listen 1",
	    "::1 port 587 tls pki relay line 5 [inet6 ::1 587]" },
	{ "pki relay \\\n cert \"/c\" \\\n key \"/k\"\n", "pki 0",
	    "relay cert /c key /k line 1" },
	{ "# comment \\\nhostname after.comment\n", "hostname",
	    "after.comment" },
	{ "hostname x.example # trailing comment\n", "hostname", "x.example" },
	{ "hostname no.newline", "hostname", "no.newline" },
	{ "hostname crlf.example\r\nuser u\r\n", "user", "u" },
	{ "  \t hostname \t spaced.example  \n", "hostname", "spaced.example" },

	/* quoted strings */
	{ "socket \"/run/a\\\"b\"\n", "socket", "/run/a\"b" },
	{ "socket \"/run/a\\\\b\"\n", "socket", "/run/a\\b" },
	{ "socket \"/run/a\\nb\"\n", "socket", "/run/a\\nb" },
	{ "socket \"/run/a b#c=d\"\n", "socket", "/run/a b#c=d" },
};

static void
test_good(void **state)
{
	check_good_rows(good, sizeof(good) / sizeof(good[0]));
}

static const struct bad_row bad[] = {
	/* unknown statements and syntax errors, with recovery */
	{ "foo bar\n", E(1, "unknown keyword 'foo'") },
	{ "foo", E(1, "unknown keyword 'foo'") },
	{ "123 x\n", E(1, "unknown keyword '123'") },
	{ "\n\nhostname\n", E(3, "syntax error in 'hostname' statement: "
	    "unexpected end of line") },
	{ "hostname a b\n", E(1, "syntax error in 'hostname' statement: "
	    "unexpected 'b'") },
	{ "hostname {\n", E(1, "syntax error in 'hostname' statement: "
	    "unexpected '{'") },
	{ "hostname#comment\n", E(1, "syntax error in 'hostname' statement: "
	    "unexpected end of line") },
	{ "port 25\n", E(1, "syntax error: unexpected 'port'") },
	{ "= x\n", E(1, "syntax error: unexpected '='") },
	{ "\"quoted\" x\n", E(1, "syntax error: unexpected 'x'") },
	{ "queue = \"/x\"\n", E(1, "'queue' is a keyword, not a macro name") },
	{ "smtps = 1\n", E(1, "syntax error: unexpected 'smtps'") },
	{ "tls = 1\n", E(1, "'tls' is a keyword, not a macro name") },
	{ "listen 127.0.0.1 port 25\n", E(1, "syntax error in 'listen' "
	    "statement: unexpected '127.0.0.1'") },
	{ "pki relay\n", E(1, "syntax error in 'pki' statement: unexpected "
	    "end of line") },
	{ "user queue\n", E(1, "syntax error in 'user' statement: unexpected "
	    "end of line") },
	{ "foo\nbar\n\nbaz qux\nhostname ok.example\nhostname\n",
	    E(1, "unknown keyword 'foo'") E(2, "unknown keyword 'bar'")
	    E(4, "unknown keyword 'baz'") E(6, "syntax error in 'hostname' "
	    "statement: unexpected end of line") },
	{ "hostname bad..name\nfoo\nqueue relative/dir\n"
	    "listen on 127.0.0.1 port 0 tls pki p\nbar = \nuser \"-x\"\n",
	    E(1, "hostname: 'bad..name' is not a valid host name")
	    E(2, "unknown keyword 'foo'")
	    E(3, "queue: 'relative/dir' is not an absolute path")
	    E(4, "listen: invalid port '0' (must be 1-65535)")
	    E(5, "syntax error: unexpected end of line")
	    E(6, "user: '-x' is not a valid user name") },

	/* line numbers after continuations and inside them */
	{ "hostname a\\\n.example.com\nfoo\n", E(3, "unknown keyword 'foo'") },
	{ "listen on 127.0.0.1 \\\n port 0 tls \\\n pki relay\n" PKI_RELAY,
	    E(2, "listen: invalid port '0' (must be 1-65535)") },
	{ "listen on 127.0.0.1 \\\n bogus\nfoo\n", E(2, "syntax error in "
	    "'listen' statement: unexpected 'bogus'") E(3, "unknown keyword "
	    "'foo'") },
	{ "queue \"/a\\\nb\\\nc\" x\nfoo\n", E(3, "syntax error in 'queue' "
	    "statement: unexpected 'x'") E(4, "unknown keyword 'foo'") },
	{ "foo \\\n bar\n", E(1, "unknown keyword 'foo'") },
	{ "listen on 127.0.0.1 port 25 \\\n tls\n" PKI_RELAY,
	    E(1, "listen: missing pki") },

	/* values */
	{ "hostname -a.example\n",
	    E(1, "hostname: '-a.example' is not a valid host name") },
	{ "hostname a-.example\n",
	    E(1, "hostname: 'a-.example' is not a valid host name") },
	{ "hostname example.com.\n",
	    E(1, "hostname: 'example.com.' is not a valid host name") },
	{ "hostname .example.com\n",
	    E(1, "hostname: '.example.com' is not a valid host name") },
	{ "hostname a_b.example\n",
	    E(1, "hostname: 'a_b.example' is not a valid host name") },
	{ "hostname \"\"\n", E(1, "hostname: '' is not a valid host name") },
	{ "hostname \"a\tb\"\n",
	    E(1, "hostname: 'a\\x09b' is not a valid host name") },
	{ "queue relative\n",
	    E(1, "queue: 'relative' is not an absolute path") },
	{ "state \"\"\n", E(1, "state: '' is not an absolute path") },
	{ "keys k\n", E(1, "keys: 'k' is not an absolute path") },
	{ "empty ./e\n", E(1, "empty: './e' is not an absolute path") },
	{ "socket s.sock\n", E(1, "socket: 's.sock' is not an absolute path") },
	{ "user -u\n", E(1, "user: '-u' is not a valid user name") },
	{ "user \"a b\"\n", E(1, "user: 'a b' is not a valid user name") },
	{ "user a/b\n", E(1, "user: 'a/b' is not a valid user name") },
	{ "user 123456789012345678901234567890123\n", E(1, "user: "
	    "'123456789012345678901234567890123' is not a valid user name") },
	{ "user queue \"\"\n",
	    E(1, "user queue: '' is not a valid user name") },
	{ "user signer a:b\n",
	    E(1, "user signer: 'a:b' is not a valid user name") },
	{ "group control -g\n",
	    E(1, "group control: '-g' is not a valid group name") },
	{ "queue /a\nqueue /b\n",
	    E(2, "duplicate 'queue' statement (first at line 1)") },
	{ "user a\nuser queue b\nuser queue c\n",
	    E(3, "duplicate 'user queue' statement (first at line 2)") },

	/* pki */
	{ "pki \"a b\" cert \"/c\" key \"/k\"\n",
	    E(1, "pki: 'a b' is not a valid pki name") },
	{ "pki relay cert c key \"/k\"\n",
	    E(1, "cert: 'c' is not an absolute path") },
	{ "pki relay cert \"/c\" key k\n",
	    E(1, "key: 'k' is not an absolute path") },
	{ "pki relay cert \"/c\" cert \"/d\" key \"/k\"\n",
	    E(1, "pki 'relay': cert given twice") },
	{ PKI_RELAY "\n" PKI_RELAY,
	    E(3, "duplicate pki 'relay' (first at line 1)") },
	{ "pki relay cert \"/c\"\npki relay key \"/k\"\npki relay key \"/j\"\n",
	    E(3, "duplicate pki 'relay' (first at line 1)") },
	{ "\npki relay cert \"/c\"\n", E(2, "pki 'relay' has no key") },
	{ "pki a key \"/k\"\npki b cert \"/c\"\n",
	    E(1, "pki 'a' has no cert") E(2, "pki 'b' has no key") },

	/* listen */
	{ "listen on 127.0.0.1 port 587 tls pki nope\n" PKI_RELAY,
	    E(1, "listen: pki 'nope' is not defined") },
	{ "listen on 127.0.0.1 port 587 tls pki relay\n",
	    E(1, "listen: pki 'relay' is not defined") },
	{ PKI_RELAY "listen on 127.0.0.1 port 587 tls pki relay\n"
	    "listen on 127.0.0.1 port 587 smtps pki relay\n",
	    E(3, "duplicate listener 127.0.0.1 port 587 (first at line 2)") },
	{ PKI_RELAY "listen on 127.0.0.1 port 25 tls pki relay\n"
	    "listen on localhost port 25 tls pki relay\n",
	    E(3, "duplicate listener localhost port 25 (first at line 2)") },
	{ PKI_RELAY "listen on ::1 port 25 tls pki relay\n"
	    "listen on 0:0::1 port 25 tls pki relay\n",
	    E(3, "duplicate listener 0:0::1 port 25 (first at line 2)") },
	{ PKI_RELAY "listen on 127.0.0.1 port 0 tls pki relay\n",
	    E(2, "listen: invalid port '0' (must be 1-65535)") },
	{ PKI_RELAY "listen on 127.0.0.1 port 65536 tls pki relay\n",
	    E(2, "listen: invalid port '65536' (must be 1-65535)") },
	{ PKI_RELAY "listen on 127.0.0.1 port abc tls pki relay\n",
	    E(2, "listen: invalid port 'abc' (must be 1-65535)") },
	{ PKI_RELAY "listen on 127.0.0.1 port -1 tls pki relay\n",
	    E(2, "listen: invalid port '-1' (must be 1-65535)") },
	{ PKI_RELAY "listen on 127.0.0.1 port 99999999999999999999 tls "
	    "pki relay\n", E(2, "listen: invalid port '99999999999999999999' "
	    "(must be 1-65535)") },
	{ PKI_RELAY "listen on 127.0.0.1 port \"\" tls pki relay\n",
	    E(2, "listen: invalid port '' (must be 1-65535)") },
	{ PKI_RELAY "listen on mail.example.com port 25 tls pki relay\n",
	    E(2, "listen: 'mail.example.com' is not an IP address") },
	{ PKI_RELAY "listen on 127.1 port 25 tls pki relay\n",
	    E(2, "listen: '127.1' is not an IP address") },
	{ PKI_RELAY "listen on 1.2.3.256 port 25 tls pki relay\n",
	    E(2, "listen: '1.2.3.256' is not an IP address") },
	{ PKI_RELAY "listen on \"[::1]\" port 25 tls pki relay\n",
	    E(2, "listen: '[::1]' is not an IP address") },
	{ PKI_RELAY "listen on 127.0.0.1 tls pki relay\n",
	    E(2, "listen: missing port") },
	{ PKI_RELAY "listen on 127.0.0.1 port 25 pki relay\n",
	    E(2, "listen: missing tls or smtps") },
	{ "listen on 127.0.0.1\n", E(1, "listen: missing port")
	    E(1, "listen: missing tls or smtps") E(1, "listen: missing pki") },
	{ PKI_RELAY "listen on 127.0.0.1 port 25 port 26 tls pki relay\n",
	    E(2, "listen: port given twice") },
	{ PKI_RELAY "listen on 127.0.0.1 port 25 tls smtps pki relay\n",
	    E(2, "listen: tls or smtps given twice") },
	{ PKI_RELAY "listen on 127.0.0.1 port 25 tls pki relay pki relay\n",
	    E(2, "listen: pki given twice") },
	{ PKI_RELAY "listen on 127.0.0.1 port 25 tls pki -x!\n",
	    E(2, "syntax error in 'listen' statement: unexpected '!'") },
	{ PKI_RELAY "listen on 127.0.0.1 port 25 tls pki \"a/b\"\n",
	    E(2, "listen: 'a/b' is not a valid pki name") },

	/* checks across statements wait for a file whose lines all parse */
	{ "foo\nlisten on 127.0.0.1 port 587 tls pki nope\n",
	    E(1, "unknown keyword 'foo'") },

	/* macros */
	{ "queue $nope\nfoo\n", E(1, "undefined macro 'nope'")
	    E(2, "unknown keyword 'foo'") },
	{ "queue $later\nlater = \"/q\"\n", E(1, "undefined macro 'later'") },
	{ "foo-bar = x\n", E(1, "'foo-bar' is not a valid macro name") },
	{ "\"a b\" = x\n", E(1, "'a b' is not a valid macro name") },
	{ "1a = x\n", E(1, "'1a' is not a valid macro name") },
	{ "t = tls\n", E(1, "syntax error: unexpected 'tls'") },
	{ "queue $\n", E(1, "'$' is not a valid macro reference") },
	{ "queue $a-b\n", E(1, "'$a-b' is not a valid macro reference") },
	{ "t = \"tls\"\nlisten on ::1 port 25 $t pki relay\n" PKI_RELAY,
	    E(2, "syntax error in 'listen' statement: unexpected 'tls'") },

	/* lexical errors */
	{ "queue \"/unterminated\nfoo\n", E(1, "unterminated quoted string")
	    E(2, "unknown keyword 'foo'") },
	{ "queue \"/unterminated", E(1, "unterminated quoted string") },
	{ "hostname \x01\nfoo\n", E(1, "invalid character '\\x01'")
	    E(2, "unknown keyword 'foo'") },
	{ "hostname a\x7f\n", E(1, "invalid character '\\x7f'") },
	{ "hostname \"bad'\\\\name\"\n",
	    E(1, "hostname: 'bad\\x27\\x5cname' is not a valid host name") },
};

static void
test_bad(void **state)
{
	check_bad_rows(bad, sizeof(bad) / sizeof(bad[0]));
}

/* head, then count times fill (filllen bytes, 0: strlen), then tail. */
static const struct {
	const char	*head;
	const char	*fill;
	size_t		 filllen;
	size_t		 count;
	const char	*tail;
	const char	*want;
} limits[] = {
	/* physical line: 8192 bytes, newline not counted */
	{ "#", "x", 0, 8191, "\nhostname ok\n", "" },
	{ "#", "x", 0, 8192, "\nfoo\n", E(1, "line too long (max 8192 bytes)")
	    E(2, "unknown keyword 'foo'") },
	{ "m = ", "x", 0, 8188, "\nqueue \"/$m\"\n", "" },
	{ "m = ", "x", 0, 8189, "\nfoo\n", E(1, "line too long (max 8192 "
	    "bytes)") E(2, "unknown keyword 'foo'") },
	{ "hostname \"", "x", 0, 9000, "\"\nfoo\n", E(1, "line too long (max "
	    "8192 bytes)") E(2, "unknown keyword 'foo'") },

	/* token: 8192 bytes, continuations joined */
	{ "m = ", "xxxx\\\n", 0, 2048, "\nqueue $m\n",
	    E(2050, "queue: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxx...' is not an absolute path") },
	{ "m = ", "xxxx\\\n", 0, 2049, "\nfoo\n",
	    E(2049, "token too long (max 8192 bytes)")
	    E(2051, "unknown keyword 'foo'") },
	{ "m = \"", "xxxx\\\n", 0, 2048, "\"\nqueue $m\n",
	    E(2050, "queue: 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxx...' is not an absolute path") },
	{ "m = \"", "xxxx\\\n", 0, 2049, "\"\nfoo\n",
	    E(2049, "token too long (max 8192 bytes)")
	    E(2051, "unknown keyword 'foo'") },

	/* file: 1 MiB */
	{ "", "\n", 0, 1024 * 1024, "", "" },
	{ "", "\n", 0, 1024 * 1024 + 1, "",
	    E(1048577, "file too large (max 1048576 bytes)") },
	{ "hostname a\n", "#\n", 0, 512 * 1024, "",
	    E(524284, "file too large (max 1048576 bytes)") },

	/* NUL anywhere */
	{ "hostname a", "\0", 1, 1, "b\nfoo\n", E(1, "NUL byte in file")
	    E(2, "unknown keyword 'foo'") },
	{ "# comment ", "\0", 1, 1, "\nhostname a\n",
	    E(1, "NUL byte in file") },
	{ "\n\nqueue \"/a", "\0", 1, 1, "\"\n", E(3, "NUL byte in file") },
	{ "", "\0", 1, 3, "", E(1, "NUL byte in file") },

	/* lengths of values */
	{ "socket \"/", "s", 0, 106, "\"\n", "" },
	{ "socket \"/", "s", 0, 107, "\"\n",
	    E(1, "socket: path too long (max 107 bytes)") },
	{ "queue \"/", "q", 0, PATH_MAX - 2, "\"\n", "" },
	{ "queue \"/", "q", 0, PATH_MAX - 1, "\"\n",
	    E(1, "queue: path too long (max 4095 bytes)") },
	{ "pki relay cert \"/", "c", 0, PATH_MAX - 1, "\" key \"/k\"\n",
	    E(1, "cert: path too long (max 4095 bytes)") },
	{ "hostname ", "a", 0, 63, ".example\n", "" },
	{ "hostname ", "a", 0, 64, ".example\n", E(1, "hostname: 'aaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' is not a "
	    "valid host name") },
	{ "hostname ", "abc.", 0, 63, "abc\nspf include _spf.a\n", "" },
	{ "hostname ", "abc.", 0, 63, "abcd\n", E(1, "hostname: 'abc.abc.abc."
	    "abc.abc.abc.abc.abc.abc.abc.abc.abc.abc.abc....' is not a valid "
	    "host name") },
	{ "pki ", "p", 0, 63, " cert \"/c\" key \"/k\"\n", "" },
	{ "pki ", "p", 0, 64, " cert \"/c\" key \"/k\"\n", E(1, "pki: 'ppppp"
	    "ppppppppppppppppppppppppppppppppppppppppppppppppppp...' is not a "
	    "valid pki name") },
	{ "user ", "u", 0, 32, "\n", "" },

	/* the default spf include: "_spf." and the host name, 255 bytes */
	{ "hostname ", "abc.", 0, 61, "abcdef\n", "" },
	{ "hostname ", "abc.", 0, 61, "abcdefg\n", E(1, "hostname: too long "
	    "for the default spf include (max 250 bytes)") },
	{ "\nhostname ", "abc.", 0, 63, "abc\n", E(2, "hostname: too long "
	    "for the default spf include (max 250 bytes)") },
};

static void
test_limits(void **state)
{
	size_t	 i, j, len, head, fill;
	char	*input;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		head = strlen(limits[i].head);
		fill = limits[i].filllen != 0 ? limits[i].filllen :
		    strlen(limits[i].fill);
		len = head + fill * limits[i].count + strlen(limits[i].tail);
		input = malloc(len + 1);
		assert_non_null(input);
		memcpy(input, limits[i].head, head);
		for (j = 0; j < limits[i].count; j++)
			memcpy(input + head + j * fill, limits[i].fill, fill);
		strcpy(input + head + fill * limits[i].count, limits[i].tail);
		check_errors(input, len, limits[i].want, i);
		free(input);
	}
}

static void
test_default_hostname(void **state)
{
	struct sendgated_conf	*conf;
	char			 want[CONFIG_HOSTNAME_MAX + 1] = "";
	char			 spf[CONFIG_HOSTNAME_MAX + 6];
	char			*errs;

	if (gethostname(want, sizeof(want) - 1) == -1 ||
	    !config_valid_hostname(want))
		strlcpy(want, "localhost", sizeof(want));
	assert_int_equal(parse("", 0, &conf, &errs), 0);
	assert_string_equal(conf->hostname, want);
	assert_string_equal(conf->path, "");
	snprintf(spf, sizeof(spf), "_spf.%s", want);
	assert_string_equal(conf->spf_include, spf);
	config_free(conf);
	free(errs);
}

static void
test_pki_find(void **state)
{
	static const char	 text[] = PKI_RELAY
	    "pki other cert \"/o.crt\" key \"/o.key\"\n";
	struct sendgated_conf	*conf;
	struct config_pki	*pki;
	char			*errs;

	assert_int_equal(parse(text, strlen(text), &conf, &errs), 0);
	pki = config_pki_find(conf, "other");
	assert_non_null(pki);
	assert_string_equal(pki->cert, "/o.crt");
	assert_int_equal(pki->line, 2);
	assert_null(config_pki_find(conf, "Relay"));
	assert_null(config_pki_find(conf, ""));
	config_free(conf);
	config_free(NULL);
	free(errs);
}

static void
test_parse_file(void **state)
{
	static const char	 text[] = "hostname file.example\nfoo\n";
	struct sendgated_conf	*conf = NULL;
	char			 path[] = "/tmp/test_config.XXXXXX";
	char			 longpath[PATH_MAX + 1], want[256];
	char			*errs;
	size_t			 errlen;
	FILE			*errf;
	int			 fd;

	errf = open_memstream(&errs, &errlen);
	assert_non_null(errf);
	assert_int_equal(config_parse_file("/nonexistent/sendgated.conf",
	    errf, &conf), -1);
	assert_int_equal(errno, ENOENT);
	memset(longpath, 'a', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	assert_int_equal(config_parse_file(longpath, errf, &conf), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(config_parse_file("/", errf, &conf), 1);

	/* the path names the file in messages and in the result */
	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(config_parse_file(path, errf, &conf), 1);
	assert_null(conf);
	assert_int_equal(truncate(path, strlen("hostname file.example\n")), 0);
	assert_int_equal(config_parse_file(path, errf, &conf), 0);
	assert_non_null(conf);
	assert_string_equal(conf->path, path);
	assert_string_equal(conf->hostname, "file.example");
	config_free(conf);
	unlink(path);
	fclose(errf);
	snprintf(want, sizeof(want), "/:1: read error: %s\n"
	    "%s:2: unknown keyword 'foo'\n", strerror(EISDIR), path);
	assert_string_equal(errs, want);
	free(errs);
}

/*
 * The sample shipped in smtpd/ parses as it stands, and again with its
 * commented statements ('#' then a letter at the start of a line) enabled:
 * those must be valid and show the real defaults: every field that no row
 * with examples names must be what an empty file gives.
 */
static const struct {
	int		 examples;
	const char	*key;
	const char	*want;
} sample[] = {
	{ 0, "pki 0", "relay cert /etc/ssl/sendgate/relay.crt "
	    "key /etc/ssl/sendgate/relay.key line 36" },
	{ 0, "listeners", "2" },
	{ 0, "listen 0",
	    "127.0.0.1 port 587 tls pki relay line 45 [inet 127.0.0.1 587]" },
	{ 0, "listen 1",
	    "127.0.0.1 port 465 smtps pki relay line 46 [inet 127.0.0.1 465]" },
	{ 1, "hostname", "relay.example.com" },
	{ 1, "queue", CONFIG_DEFAULT_QUEUE },
	{ 1, "state", CONFIG_DEFAULT_STATE },
	{ 1, "keys", CONFIG_DEFAULT_KEYS },
	{ 1, "empty", CONFIG_DEFAULT_EMPTY },
	{ 1, "socket", CONFIG_DEFAULT_SOCKET },
	{ 1, "user", CONFIG_DEFAULT_USER },
	{ 1, "user queue", CONFIG_DEFAULT_QUSER },
	{ 1, "user signer", CONFIG_DEFAULT_KUSER },
	{ 1, "group control", CONFIG_DEFAULT_CTLGROUP },
	{ 1, "pki 0", "backup cert /etc/ssl/sendgate/backup.crt "
	    "key /etc/ssl/sendgate/backup.key line 34" },
	{ 1, "listeners", "3" },
	{ 1, "listen 0", "::1 port 587 tls pki relay line 13 [inet6 ::1 587]" },
	{ 1, "spf include", "_spf.relay.example.com" },
	{ 1, "resolver 0", "127.0.0.1 port 53 [inet 127.0.0.1 53]" },
	{ 1, "relay address 1", "inet6 2001:db8::25 0" },
	{ 1, "queue retry", "5m 10m 20m 40m 1h" },
	{ 1, "relay via", "smtp.example.net port 587 starttls auth user "
	    "password" },
	{ 1, "tls", "opportunistic" },
	{ 1, "tls domain 0", "example.org require verify line 95" },
	/* The default, one per CPU, has no word: the example is a number. */
	{ 1, "smtp tls-threads", "2" },
	{ 0, "resolvers", "0" },
	{ 0, "relay addresses", "0" },
	{ 0, "relay via", "(none)" },
	{ 0, "tls domains", "0" },
};

/* With the examples, the fields no row names are the defaults. */
static void
sample_defaults(const char *text, size_t len)
{
	struct sendgated_conf	*conf, *defaults;
	char			 want[PATH_MAX];
	char			*errs;
	const char		*key, *got;
	size_t			 i, j;

	assert_int_equal(parse("", 0, &defaults, &errs), 0);
	free(errs);
	assert_int_equal(parse(text, len, &conf, &errs), 0);
	free(errs);
	for (i = 0; i <= sizeof(fields) / sizeof(fields[0]); i++) {
		key = i < sizeof(fields) / sizeof(fields[0]) ?
		    fields[i].key : "dkim algorithms";
		for (j = 0; j < sizeof(sample) / sizeof(sample[0]); j++)
			if (sample[j].examples &&
			    strcmp(sample[j].key, key) == 0)
				break;
		if (j < sizeof(sample) / sizeof(sample[0]))
			continue;
		strlcpy(want, describe(defaults, key), sizeof(want));
		got = describe(conf, key);
		if (strcmp(got, want) != 0)
			fail_msg("sample with the examples: %s is \"%s\", "
			    "not the default \"%s\"", key, got, want);
	}
	config_free(conf);
	config_free(defaults);
}

static void
test_sample(void **state)
{
	static char		 text[2][16384];
	struct sendgated_conf	*conf;
	const char		*dir, *got;
	char			 path[PATH_MAX];
	char			*errs;
	size_t			 len[2], i;
	FILE			*f;
	int			 ex;

	if ((dir = getenv("SENDGATE_SRCDIR")) == NULL)
		dir = ".";
	snprintf(path, sizeof(path), "%s/smtpd/sendgated.conf", dir);
	if ((f = fopen(path, "r")) == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	len[0] = fread(text[0], 1, sizeof(text[0]), f);
	fclose(f);
	assert_true(len[0] < sizeof(text[0]));
	for (i = 0, len[1] = 0; i < len[0]; i++)
		if (!(text[0][i] == '#' && (i == 0 || text[0][i - 1] == '\n') &&
		    text[0][i + 1] >= 'a' && text[0][i + 1] <= 'z'))
			text[1][len[1]++] = text[0][i];

	for (i = 0; i < sizeof(sample) / sizeof(sample[0]); i++) {
		ex = sample[i].examples;
		if (parse(text[ex], len[ex], &conf, &errs) != 0)
			fail_msg("row %zu: %s%s:\n%s", i, path,
			    ex ? " with the examples" : "", errs);
		got = describe(conf, sample[i].key);
		if (strcmp(got, sample[i].want) != 0)
			fail_msg("row %zu: %s is \"%s\", want \"%s\"", i,
			    sample[i].key, got, sample[i].want);
		config_free(conf);
		free(errs);
	}
	sample_defaults(text[1], len[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_default_hostname),
		cmocka_unit_test(test_pki_find),
		cmocka_unit_test(test_parse_file),
		cmocka_unit_test(test_sample),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
