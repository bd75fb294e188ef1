/*
 * Envelope records (queue/envelope.h): every field round-trips exactly,
 * LF, CR and NUL included (SECURITY.md I3); every malformed file is
 * rejected with its reason; random and mutated input never crashes the
 * decoder, and whatever it accepts is exactly what the encoder writes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "envelope.h"

#define BYTES(s)	s, sizeof(s) - 1

/* A value with every troublesome byte, per field so that none is shared. */
#define NASTY(tag)	tag "\n" "sender 3:x@y\n\r\0end 0:\n"

static void
set(struct envelope_str *s, size_t max, const char *p, size_t len)
{
	assert_int_equal(envelope_set(s, max, p, len), 0);
}

static void
fill(struct envelope *e)
{
	envelope_init(e);
	strcpy(e->id, "0123456789abcdef");
	set(&e->sender, ENVELOPE_ADDR_MAX, BYTES(NASTY("sender")));
	e->body = 2;
	e->smtputf8 = 1;
	e->ret = 1;
	set(&e->envid, ENVELOPE_ENVID_MAX, BYTES(NASTY("envid")));
	e->connector_id = 42;
	set(&e->connector, ENVELOPE_NAME_MAX, BYTES(NASTY("connector")));
	set(&e->auth_user, ENVELOPE_USER_MAX, BYTES(NASTY("user")));
	set(&e->client_addr, ENVELOPE_CLIENT_MAX, BYTES(NASTY("addr")));
	set(&e->client_name, ENVELOPE_HELO_MAX, BYTES(NASTY("helo")));
	set(&e->tls, ENVELOPE_TLS_MAX, BYTES(NASTY("tls")));
	e->time = 1700000000;
	e->size = 123456789;
	assert_int_equal(envelope_rcpt_add(e, BYTES(NASTY("rcpt1")), 15,
	    BYTES(NASTY("type1")), BYTES(NASTY("orcpt1"))), 0);
	assert_int_equal(envelope_rcpt_add(e, BYTES("b@c"), 0, "", 0, "", 0),
	    0);
	assert_int_equal(envelope_rcpt_add(e, BYTES("\0"), 4, BYTES("\r"),
	    BYTES("\n")), 0);
	/* delivery state: done, tried, a hostile last reply */
	e->warned = 1;
	e->rcpt[0].state = ENVELOPE_RCPT_DONE;
	e->rcpt[0].attempts = 3;
	e->rcpt[0].next_try = INT64_MAX;
	set(&e->rcpt[0].last_mta, ENVELOPE_MTA_MAX, BYTES(NASTY("mta")));
	set(&e->rcpt[0].last, ENVELOPE_LAST_MAX, BYTES(NASTY("last")));
	e->rcpt[1].attempts = INT32_MAX;
	e->rcpt[1].next_try = 1700000300;
}

static void
str_equal(const struct envelope_str *a, const struct envelope_str *b)
{
	assert_int_equal(a->len, b->len);
	if (a->len)
		assert_memory_equal(a->s, b->s, a->len);
}

static void
env_equal(const struct envelope *a, const struct envelope *b)
{
	size_t	 i;

	assert_string_equal(a->id, b->id);
	str_equal(&a->sender, &b->sender);
	assert_int_equal(a->body, b->body);
	assert_int_equal(a->smtputf8, b->smtputf8);
	assert_int_equal(a->ret, b->ret);
	str_equal(&a->envid, &b->envid);
	assert_int_equal(a->connector_id, b->connector_id);
	str_equal(&a->connector, &b->connector);
	str_equal(&a->auth_user, &b->auth_user);
	str_equal(&a->client_addr, &b->client_addr);
	str_equal(&a->client_name, &b->client_name);
	str_equal(&a->tls, &b->tls);
	assert_int_equal(a->time, b->time);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->nrcpt, b->nrcpt);
	for (i = 0; i < a->nrcpt; i++) {
		str_equal(&a->rcpt[i].addr, &b->rcpt[i].addr);
		assert_int_equal(a->rcpt[i].notify, b->rcpt[i].notify);
		str_equal(&a->rcpt[i].orcpt_type, &b->rcpt[i].orcpt_type);
		str_equal(&a->rcpt[i].orcpt, &b->rcpt[i].orcpt);
		assert_int_equal(a->rcpt[i].state, b->rcpt[i].state);
		assert_int_equal(a->rcpt[i].attempts, b->rcpt[i].attempts);
		assert_int_equal(a->rcpt[i].next_try, b->rcpt[i].next_try);
		str_equal(&a->rcpt[i].last_mta, &b->rcpt[i].last_mta);
		str_equal(&a->rcpt[i].last, &b->rcpt[i].last);
	}
	assert_int_equal(a->warned, b->warned);
}

static void
test_round_trip(void **state)
{
	struct envelope	 e, d;
	uint8_t		*buf, *again;
	size_t		 len, alen;
	const char	*why = NULL;

	fill(&e);
	assert_int_equal(envelope_encode(&e, &buf, &len), 0);
	if (envelope_decode(&d, buf, len, &why) == -1)
		fail_msg("decode: %s", why);
	env_equal(&e, &d);
	assert_int_equal(envelope_encode(&d, &again, &alen), 0);
	assert_int_equal(len, alen);
	assert_memory_equal(buf, again, len);
	free(buf);
	free(again);
	envelope_free(&e);
	envelope_free(&d);
}

/* The null sender, empty fields, extreme numbers, the most recipients. */
static void
test_round_trip_limits(void **state)
{
	struct envelope	 e, d;
	uint8_t		*buf;
	size_t		 len, i;
	const char	*why = NULL;
	char		 big[ENVELOPE_ADDR_MAX];

	envelope_init(&e);
	strcpy(e.id, "ffffffffffffffff");
	e.connector_id = INT64_MAX;
	e.time = INT64_MAX;
	e.size = INT64_MAX;
	e.body = ENVELOPE_BODY_MAX;
	memset(big, 'a', sizeof(big));
	for (i = 0; i < ENVELOPE_RCPT_MAX; i++)
		assert_int_equal(envelope_rcpt_add(&e, big, i % 2 ?
		    sizeof(big) : 1, ENVELOPE_NOTIFY_MAX, "", 0, big,
		    i % 3 ? 0 : ENVELOPE_ORCPT_MAX), 0);
	errno = 0;
	assert_int_equal(envelope_rcpt_add(&e, "a", 1, 0, "", 0, "", 0), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(envelope_encode(&e, &buf, &len), 0);
	if (envelope_decode(&d, buf, len, &why) == -1)
		fail_msg("decode: %s", why);
	env_equal(&e, &d);
	assert_int_equal(d.sender.len, 0);
	assert_string_equal(envelope_cstr(&d.sender), "");
	free(buf);
	envelope_free(&e);
	envelope_free(&d);
}

/* What the encoder refuses to write. */
static void
test_encode_refused(void **state)
{
	struct envelope	 e;
	uint8_t		*buf;
	size_t		 len;
	char		 big[ENVELOPE_ADDR_MAX + 1];

	memset(big, 'a', sizeof(big));
	envelope_init(&e);
	strcpy(e.id, "0123456789abcdef");
	errno = 0;
	assert_int_equal(envelope_encode(&e, &buf, &len), -1);	/* no rcpt */
	assert_int_equal(errno, EINVAL);
	assert_int_equal(envelope_rcpt_add(&e, "a", 1, 0, "", 0, "", 0), 0);
	assert_int_equal(envelope_encode(&e, &buf, &len), 0);
	free(buf);
	strcpy(e.id, "0123456789ABCDEF");
	assert_int_equal(envelope_encode(&e, &buf, &len), -1);
	strcpy(e.id, "0123456789abcdef");
	e.body = ENVELOPE_BODY_MAX + 1;
	assert_int_equal(envelope_encode(&e, &buf, &len), -1);
	e.body = 0;
	e.time = -1;
	assert_int_equal(envelope_encode(&e, &buf, &len), -1);
	e.time = 0;
	errno = 0;
	assert_int_equal(envelope_set(&e.sender, ENVELOPE_ADDR_MAX, big,
	    sizeof(big)), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(envelope_rcpt_add(&e, big, sizeof(big), 0, "", 0, "",
	    0), -1);
	assert_int_equal(envelope_rcpt_add(&e, "a", 1, ENVELOPE_NOTIFY_MAX + 1,
	    "", 0, "", 0), -1);
	envelope_free(&e);
}

#define HEAD1	"version 1:2\nid 16:0123456789abcdef\nsender 3:a@b\n" \
		"body 1:0\nsmtputf8 1:0\nret 1:0\n"
#define ENVID	"envid 0:\n"
#define HEAD2	"connector-id 1:1\nconnector 1:c\nauth-user 0:\n" \
		"client-addr 9:127.0.0.1\nclient-name 1:h\ntls 0:\n" \
		"time 1:5\nsize 1:9\nwarned 1:0\n"
#define HEAD	HEAD1 ENVID HEAD2
#define GROUP	"rcpt 3:x@y\nnotify 1:0\norcpt-type 0:\norcpt 0:\n" \
		"state 1:0\nattempts 1:0\nnext-try 1:0\nlast-mta 0:\nlast 0:\n"
#define RCPT1	"nrcpt 1:1\n" GROUP
#define END	"end 0:\n"
#define VALID	HEAD RCPT1 END

static const struct {
	const char	*name;
	const char	*in;
	size_t		 len;
	const char	*why;		/* NULL: accepted */
} decode_rows[] = {
	{ "valid", BYTES(VALID), NULL },
	{ "two recipients", BYTES(HEAD "nrcpt 1:2\n" GROUP GROUP END), NULL },
	{ "LF and NUL in a value", BYTES(HEAD1 "envid 3:\n\0\r\n" HEAD2 RCPT1
	    END), NULL },
	{ "empty", BYTES(""), "bad record header" },
	{ "version not first", BYTES("id 16:0123456789abcdef\n"),
	    "no version record first" },
	{ "version 3", BYTES("version 1:3\n"), "unsupported version" },
	{ "version 1", BYTES("version 1:1\n"), "unsupported version" },
	{ "version 01", BYTES("version 2:01\n"), "unsupported version" },
	{ "only a version", BYTES("version 1:2\n"), "no end record" },
	{ "unknown tag", BYTES(HEAD "bogus 0:\n" RCPT1 END),
	    "unknown record" },
	{ "upper-case tag", BYTES(HEAD "NRCPT 1:1\n" GROUP END),
	    "bad record header" },
	{ "tag too long", BYTES(HEAD "abcdefghijklmnopq 0:\n"),
	    "tag too long" },
	{ "duplicate sender", BYTES(HEAD "sender 1:x\n" RCPT1 END),
	    "duplicate record" },
	{ "duplicate version", BYTES("version 1:2\nversion 1:2\n"),
	    "duplicate record" },
	{ "duplicate after recipients", BYTES(HEAD RCPT1 "tls 0:\n" END),
	    "duplicate record" },
	{ "duplicate nrcpt", BYTES(HEAD RCPT1 "nrcpt 1:1\n" END),
	    "duplicate record" },
	{ "missing envid", BYTES(HEAD1 HEAD2 RCPT1 END), "missing record" },
	{ "missing nrcpt", BYTES(HEAD GROUP END), "missing record" },
	{ "missing everything", BYTES("version 1:2\nend 0:\n"),
	    "missing record" },
	{ "missing end", BYTES(HEAD RCPT1), "no end record" },
	{ "end with value", BYTES(HEAD RCPT1 "end 1:x\n"),
	    "end record with a value" },
	{ "trailing byte", BYTES(VALID "x"), "bytes after the end record" },
	{ "trailing LF", BYTES(VALID "\n"), "bytes after the end record" },
	{ "second end", BYTES(VALID END), "bytes after the end record" },
	{ "length with leading zero", BYTES(HEAD1 "envid 00:\n" HEAD2 RCPT1
	    END), "bad length" },
	{ "no length", BYTES(HEAD1 "envid :\n" HEAD2 RCPT1 END),
	    "bad length" },
	{ "no colon", BYTES(HEAD1 "envid 0\n" HEAD2 RCPT1 END),
	    "bad length" },
	{ "negative length", BYTES(HEAD1 "envid -1:\n" HEAD2 RCPT1 END),
	    "bad length" },
	{ "two spaces", BYTES(HEAD1 "envid  0:\n" HEAD2 RCPT1 END),
	    "bad length" },
	{ "length of 9 digits", BYTES(HEAD1 "envid 100000000:" HEAD2),
	    "bad length" },
	{ "length past the end", BYTES(HEAD RCPT1 "end 5:\n"),
	    "record runs past the end" },
	{ "no LF after the value", BYTES(HEAD1 "envid 0:x" HEAD2 RCPT1 END),
	    "record not terminated by LF" },
	{ "value longer than said", BYTES(HEAD1 "envid 1:ab\n" HEAD2 RCPT1
	    END), "record not terminated by LF" },
	{ "CRLF record end", BYTES(HEAD1 "envid 0:\r\n" HEAD2 RCPT1 END),
	    "record not terminated by LF" },
	{ "upper-case id", BYTES("version 1:2\nid 16:0123456789ABCDEF\n"),
	    "bad queue id" },
	{ "short id", BYTES("version 1:2\nid 15:0123456789abcde\n"),
	    "bad queue id" },
	{ "id with a slash", BYTES("version 1:2\nid 16:../3456789abcdef\n"),
	    "bad queue id" },
	{ "body 3", BYTES("version 1:2\nid 16:0123456789abcdef\n"
	    "sender 0:\nbody 1:3\n"), "number out of range" },
	{ "body 01", BYTES("version 1:2\nid 16:0123456789abcdef\n"
	    "sender 0:\nbody 2:01\n"), "bad number" },
	{ "body +1", BYTES("version 1:2\nid 16:0123456789abcdef\n"
	    "sender 0:\nbody 2:+1\n"), "bad number" },
	{ "body empty", BYTES("version 1:2\nid 16:0123456789abcdef\n"
	    "sender 0:\nbody 0:\n"), "bad number" },
	{ "negative time", BYTES(HEAD1 ENVID "connector-id 1:1\n"
	    "connector 1:c\nauth-user 0:\nclient-addr 0:\nclient-name 0:\n"
	    "tls 0:\ntime 2:-1\n"), "number out of range" },
	{ "minus zero", BYTES(HEAD1 ENVID "connector-id 2:-0\n"),
	    "bad number" },
	{ "connector-id overflow", BYTES(HEAD1 ENVID
	    "connector-id 19:9223372036854775808\n"), "bad number" },
	{ "nrcpt 0", BYTES(HEAD "nrcpt 1:0\n" END), "number out of range" },
	{ "state 2", BYTES(HEAD "nrcpt 1:1\nrcpt 3:x@y\nnotify 1:0\n"
	    "orcpt-type 0:\norcpt 0:\nstate 1:2\n"), "number out of range" },
	{ "negative next-try", BYTES(HEAD "nrcpt 1:1\nrcpt 3:x@y\n"
	    "notify 1:0\norcpt-type 0:\norcpt 0:\nstate 1:0\nattempts 1:0\n"
	    "next-try 2:-1\n"), "number out of range" },
	{ "state before orcpt", BYTES(HEAD "nrcpt 1:1\nrcpt 3:x@y\n"
	    "notify 1:0\nstate 1:0\n"), "bad recipient records" },
	{ "group without last", BYTES(HEAD "nrcpt 1:1\nrcpt 3:x@y\n"
	    "notify 1:0\norcpt-type 0:\norcpt 0:\nstate 1:0\nattempts 1:0\n"
	    "next-try 1:0\nlast-mta 0:\n" END), "bad recipient records" },
	{ "warned 2", BYTES(HEAD1 ENVID "connector-id 1:1\nconnector 1:c\n"
	    "auth-user 0:\nclient-addr 9:127.0.0.1\nclient-name 1:h\ntls 0:\n"
	    "time 1:5\nsize 1:9\nwarned 1:2\n"), "number out of range" },
	{ "nrcpt 10001", BYTES(HEAD "nrcpt 5:10001\n" GROUP END),
	    "number out of range" },
	{ "fewer recipients", BYTES(HEAD "nrcpt 1:2\n" GROUP END),
	    "fewer recipients than nrcpt" },
	{ "more recipients", BYTES(HEAD RCPT1 GROUP END),
	    "more recipients than nrcpt" },
	{ "group without notify", BYTES(HEAD "nrcpt 1:1\nrcpt 3:x@y\n"
	    "orcpt-type 0:\norcpt 0:\n" END), "bad recipient records" },
	{ "group cut short", BYTES(HEAD "nrcpt 1:1\nrcpt 3:x@y\n"
	    "notify 1:0\n" END), "bad recipient records" },
	{ "notify without rcpt", BYTES(HEAD "nrcpt 1:1\nnotify 1:0\n" END),
	    "bad recipient records" },
	{ "notify 16", BYTES(HEAD "nrcpt 1:1\nrcpt 3:x@y\nnotify 2:16\n"),
	    "number out of range" },
};

static void
test_decode_table(void **state)
{
	struct envelope	 e;
	const char	*why;
	size_t		 i;
	int		 rc, failed = 0;

	for (i = 0; i < sizeof(decode_rows) / sizeof(decode_rows[0]); i++) {
		why = NULL;
		rc = envelope_decode(&e, (const uint8_t *)decode_rows[i].in,
		    decode_rows[i].len, &why);
		if (decode_rows[i].why == NULL && rc != 0) {
			print_error("row \"%s\": refused: %s\n",
			    decode_rows[i].name, why);
			failed++;
		} else if (decode_rows[i].why != NULL && (rc != -1 ||
		    why == NULL || strcmp(why, decode_rows[i].why) != 0)) {
			print_error("row \"%s\": want \"%s\", got %d \"%s\"\n",
			    decode_rows[i].name, decode_rows[i].why, rc,
			    why ? why : "(null)");
			failed++;
		}
		if (rc == 0)
			envelope_free(&e);
	}
	assert_int_equal(failed, 0);
}

/* Each field one octet over its cap. */
static void
test_decode_oversized(void **state)
{
	static const struct {
		const char	*before, *tag, *after;
		size_t		 max;
	} rows[] = {
		{ "version 1:2\nid 16:0123456789abcdef\n", "sender",
		    "", ENVELOPE_ADDR_MAX },
		{ HEAD1, "envid", "", ENVELOPE_ENVID_MAX },
		{ HEAD1 ENVID "connector-id 1:1\n", "connector", "",
		    ENVELOPE_NAME_MAX },
		{ HEAD1 ENVID "connector-id 1:1\nconnector 0:\n", "auth-user",
		    "", ENVELOPE_USER_MAX },
		{ HEAD1 ENVID "connector-id 1:1\nconnector 0:\nauth-user 0:\n",
		    "client-addr", "", ENVELOPE_CLIENT_MAX },
		{ HEAD1 ENVID "connector-id 1:1\nconnector 0:\nauth-user 0:\n"
		    "client-addr 0:\n", "client-name", "", ENVELOPE_HELO_MAX },
		{ HEAD1 ENVID "connector-id 1:1\nconnector 0:\nauth-user 0:\n"
		    "client-addr 0:\nclient-name 0:\n", "tls", "",
		    ENVELOPE_TLS_MAX },
		{ HEAD "nrcpt 1:1\n", "rcpt", "", ENVELOPE_ADDR_MAX },
		{ HEAD "nrcpt 1:1\nrcpt 0:\nnotify 1:0\n", "orcpt-type", "",
		    ENVELOPE_ORCPT_TYPE_MAX },
		{ HEAD "nrcpt 1:1\nrcpt 0:\nnotify 1:0\norcpt-type 0:\n",
		    "orcpt", "", ENVELOPE_ORCPT_MAX },
	};
	struct envelope	 e;
	const char	*why;
	char		*buf;
	size_t		 i, len, n, v;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (v = rows[i].max; v <= rows[i].max + 1; v++) {
			len = strlen(rows[i].before) + 64 + v;
			assert_non_null(buf = malloc(len));
			n = (size_t)snprintf(buf, len, "%s%s %zu:",
			    rows[i].before, rows[i].tag, v);
			memset(buf + n, 'a', v);
			buf[n + v] = '\n';
			why = NULL;
			assert_int_equal(envelope_decode(&e, (uint8_t *)buf,
			    n + v + 1, &why), -1);
			/* At the cap the file only ends too soon. */
			if (strcmp(why, v > rows[i].max ? "field too long" :
			    "no end record") != 0)
				fail_msg("%s of %zu octets: %s", rows[i].tag,
				    v, why);
			free(buf);
		}
	}
}

/*
 * Random bytes are never an envelope; a mutated envelope, when it still
 * decodes, is exactly what the encoder writes for the result.
 */
static void
test_property(void **state)
{
	struct envelope	 e, d;
	uint8_t		*valid, *buf, *again, rnd[512];
	size_t		 len, alen, i, j, n;
	const char	*why;
	int		 accepted = 0;

	srandom(5);
	for (i = 0; i < 20000; i++) {
		n = (size_t)random() % sizeof(rnd);
		for (j = 0; j < n; j++)
			rnd[j] = (uint8_t)random();
		assert_int_equal(envelope_decode(&d, rnd, n, &why), -1);
	}
	fill(&e);
	assert_int_equal(envelope_encode(&e, &valid, &len), 0);
	assert_non_null(buf = malloc(len + 1));
	for (i = 0; i < 50000; i++) {
		memcpy(buf, valid, len);
		n = 1 + (size_t)random() % 3;
		for (j = 0; j < n; j++)
			buf[random() % len] = (uint8_t)(random() % 4 ?
			    random() : "0123456789:\n -"[random() % 15]);
		/* Sometimes cut short. */
		n = random() % 8 ? len : (size_t)random() % len;
		if (envelope_decode(&d, buf, n, &why) == -1)
			continue;
		accepted++;
		assert_int_equal(envelope_encode(&d, &again, &alen), 0);
		assert_int_equal(alen, n);
		assert_memory_equal(again, buf, n);
		free(again);
		envelope_free(&d);
	}
	/* Mutations inside values keep the file valid: the loop ran. */
	assert_true(accepted > 0);
	free(buf);
	free(valid);
	envelope_free(&e);
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_limits),
		cmocka_unit_test(test_encode_refused),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_oversized),
		cmocka_unit_test(test_property),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
