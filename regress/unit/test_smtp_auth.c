/*
 * smtpd/smtp_auth.c: AUTH PLAIN and LOGIN exchanges, strict base64, the
 * AUTH ordering rules.  Each exchange row is {mechanism, initial
 * response, response lines, expected reply code and enhanced code (0
 * when done, 334 when a challenge is pending), expected user/password}.
 * Responses marked RAW are base64-encoded by the test; LIT lines are
 * sent as written.  SECURITY.md rows are named in the comments.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#include "smtp_auth.h"

#define A10	"aaaaaaaaaa"
#define A60	A10 A10 A10 A10 A10 A10
#define U64	A60 "uuuu"
#define U65	U64 "u"
#define A250	A60 A60 A60 A60 A10
#define P256	A250 "pppppp"
#define P257	P256 "p"

struct step {
	const char	*s;		/* NULL: no (more) input */
	size_t		 len;		/* raw length when enc */
	int		 enc;		/* base64-encode s first */
};

#define RAW(x)	{ x, sizeof(x) - 1, 1 }
#define LIT(x)	{ x, 0, 0 }
#define NONE	{ NULL, 0, 0 }

struct exch {
	const char	*mech;		/* AUTH argument before the response */
	struct step	 ir;		/* initial response */
	struct step	 steps[2];
	int		 code;		/* 0 done, 334 continue, else error */
	const char	*enh;
	const char	*user;
	const char	*pass;
	const char	*chal;		/* with 334 */
};

/* A row: accepted with user and password, a pending challenge, a reply. */
#define DONE(m, ir, s0, s1, u, p)	\
	{ m, ir, { s0, s1 }, 0, NULL, u, p, NULL }
#define CONT(m, ir, s0, s1, c)		\
	{ m, ir, { s0, s1 }, 334, NULL, NULL, NULL, c }
#define ERR(m, ir, s0, s1, c, e)	\
	{ m, ir, { s0, s1 }, c, e, NULL, NULL, NULL }

static const struct exch exchs[] = {
	/* PLAIN with and without initial response */
	DONE("PLAIN", RAW("\0user\0pass"), NONE, NONE, "user", "pass"),
	DONE("PLAIN", NONE, RAW("\0user\0pass"), NONE, "user", "pass"),
	CONT("PLAIN", NONE, NONE, NONE, ""),
	DONE("plain", RAW("\0user\0pass"), NONE, NONE, "user", "pass"),
	DONE("PLAIN", RAW("user\0user\0pass"), NONE, NONE, "user", "pass"),
	DONE("PLAIN", RAW("\0j\xc3\xbcrgen\0p\xc3\xa4ss w"), NONE, NONE,
	    "j\xc3\xbcrgen", "p\xc3\xa4ss w"),
	DONE("PLAIN", RAW("\0" U64 "\0" P256), NONE, NONE, U64, P256),
	/* "=" is a zero-length initial response: not a PLAIN message */
	ERR("PLAIN", LIT("="), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", NONE, LIT(""), NONE, 501, "5.5.2"),

	/* LOGIN both forms */
	CONT("LOGIN", NONE, NONE, NONE, "VXNlcm5hbWU6"),
	CONT("LOGIN", NONE, RAW("user"), NONE, "UGFzc3dvcmQ6"),
	DONE("LOGIN", NONE, RAW("user"), RAW("pass"), "user", "pass"),
	CONT("LOGIN", RAW("user"), NONE, NONE, "UGFzc3dvcmQ6"),
	DONE("LOGIN", RAW("user"), RAW("pass"), NONE, "user", "pass"),
	DONE("login", LIT("dXNlcg=="), LIT("cGFzcw=="), NONE, "user", "pass"),
	ERR("LOGIN", LIT("="), NONE, NONE, 501, "5.5.2"),
	ERR("LOGIN", NONE, RAW("user"), LIT(""), 501, "5.5.2"),
	ERR("LOGIN", NONE, RAW("us\rer"), NONE, 501, "5.5.2"),
	ERR("LOGIN", NONE, RAW("user"), RAW("pa\r\nss"), 501, "5.5.2"),
	ERR("LOGIN", NONE, RAW("user"), RAW("pa\0ss"), 501, "5.5.2"),
	ERR("LOGIN", NONE, RAW(U65), NONE, 501, "5.5.2"),
	ERR("LOGIN", NONE, RAW(U64), RAW(P257), 501, "5.5.2"),
	DONE("LOGIN", NONE, RAW(U64), RAW(P256), U64, P256),
	ERR("LOGIN", NONE, LIT("dXNlcg"), NONE, 501, "5.5.2"),

	/* mechanism and syntax */
	ERR("CRAM-MD5", NONE, NONE, NONE, 504, "5.5.4"),
	ERR("GSSAPI", LIT("YQ=="), NONE, NONE, 504, "5.5.4"),
	ERR("PLAINX", NONE, NONE, NONE, 504, "5.5.4"),
	ERR("PLAIN\tAHVzZXIAcGFzcw==", NONE, NONE, NONE, 504, "5.5.4"),
	ERR("", NONE, NONE, NONE, 501, "5.5.4"),
	ERR("PLAIN ", NONE, NONE, NONE, 501, "5.5.4"),
	ERR("PLAIN", LIT(" AHVzZXIAcGFzcw=="), NONE, NONE, 501, "5.5.2"),

	/* T5: cancel "*" at each step */
	ERR("PLAIN", LIT("*"), NONE, NONE, 501, "5.7.0"),
	ERR("PLAIN", NONE, LIT("*"), NONE, 501, "5.7.0"),
	ERR("LOGIN", LIT("*"), NONE, NONE, 501, "5.7.0"),
	ERR("LOGIN", NONE, LIT("*"), NONE, 501, "5.7.0"),
	ERR("LOGIN", NONE, RAW("user"), LIT("*"), 501, "5.7.0"),
	ERR("LOGIN", RAW("user"), LIT("*"), NONE, 501, "5.7.0"),
	ERR("PLAIN", NONE, LIT("**"), NONE, 501, "5.5.2"),

	/* T5: bad base64 */
	ERR("PLAIN", LIT("AHVzZXIAcGFzcw!="), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", NONE, LIT("not base64!"), NONE, 501, "5.5.2"),
	/* T5: one NUL, no NUL, three NULs */
	ERR("PLAIN", RAW("user\0pass"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", NONE, RAW("user\0pass"), NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("userpass"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0user\0pa\0ss"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0\0\0"), NONE, NONE, 501, "5.5.2"),
	/* T5: empty authcid or password */
	ERR("PLAIN", RAW("\0\0pass"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0user\0"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("user\0\0pass"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0\0"), NONE, NONE, 501, "5.5.2"),
	/* T5: CR/LF and other control bytes, carried by base64 */
	ERR("PLAIN", RAW("\0us\rer\0pass"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0us\ner\0pass"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0user\r\nMAIL FROM:<a@b>\0pass"), NONE, NONE,
	    501, "5.5.2"),
	ERR("PLAIN", RAW("\0user\0pa\r\nss"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0user\0pass\n"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0us\ter\0pass"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0us\x01er\0pass"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0user\0pa\x7fss"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0us\xff" "er\0pass"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0user\0pa\xc3"), NONE, NONE, 501, "5.5.2"),
	/* lengths */
	ERR("PLAIN", RAW("\0" U65 "\0pass"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", RAW("\0user\0" P257), NONE, NONE, 501, "5.5.2"),
	/* T5: authzid other than authcid */
	ERR("PLAIN", RAW("admin\0user\0pass"), NONE, NONE, 535, "5.7.8"),
	ERR("PLAIN", RAW("users\0user\0pass"), NONE, NONE, 535, "5.7.8"),
	ERR("PLAIN", RAW("use\0user\0pass"), NONE, NONE, 535, "5.7.8"),
	ERR("PLAIN", NONE, RAW("USER\0user\0pass"), NONE, 535, "5.7.8"),

	/* base64: padding and canonical form (RFC 4648 3.2, 3.5, 4) */
	DONE("PLAIN", LIT("AHVzZXIAcGFzcw=="), NONE, NONE, "user", "pass"),
	DONE("PLAIN", LIT("AHVzZXIAcGFzc3c="), NONE, NONE, "user", "passw"),
	DONE("PLAIN", LIT("AHVzZXIAcGFzczEy"), NONE, NONE, "user", "pass12"),
	ERR("PLAIN", LIT("AHVzZXIAcGFzcw"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIAcGFzcw="), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIAcGFzc3c"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIAcGFzc==="), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIAcGFz===="), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AH=zZXIAcGFzcw=="), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIAcGFzcw=A"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIAcGFzcw==AAAA"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIA=GFzcw=="), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIAcGFzcx=="), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIAcGFzc3d="), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIAcGFz cw=="), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIAcGFzcw==\r"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", LIT("AHVzZXIAcGF-cw__"), NONE, NONE, 501, "5.5.2"),
	ERR("PLAIN", NONE, LIT("AHVzZXIAcGFzcw"), NONE, 501, "5.5.2"),
	DONE("PLAIN", NONE, LIT("AHVzZXIAcGFzcw=="), NONE, "user", "pass"),
};

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Padded base64 of in[0..len) into out, independent of the decoder. */
static void
b64_encode(const unsigned char *in, size_t len, char *out)
{
	size_t		i, o = 0;
	unsigned int	v;

	for (i = 0; i < len; i += 3) {
		v = in[i] << 16;
		if (i + 1 < len)
			v |= in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[o++] = b64chars[(v >> 18) & 63];
		out[o++] = b64chars[(v >> 12) & 63];
		out[o++] = i + 1 < len ? b64chars[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < len ? b64chars[v & 63] : '=';
	}
	out[o] = '\0';
}

static void
step_text(const struct step *st, char *out, size_t outsz)
{
	if (st->enc) {
		assert_true(st->len / 3 * 4 + 5 <= outsz);
		b64_encode((const unsigned char *)st->s, st->len, out);
	} else
		snprintf(out, outsz, "%s", st->s);
}

static int
is_zeroed(const struct smtp_auth *a)
{
	static const struct smtp_auth	zero;

	return memcmp(a, &zero, sizeof(zero)) == 0;
}

static void
test_exchanges(void **state)
{
	struct smtp_auth	 a;
	struct smtp_reply_err	 err;
	char			 args[1024], line[1024];
	char			 chal[SMTP_AUTH_CHALLENGE_MAX];
	size_t			 i, k, o;
	int			 r, bad = 0;

	for (i = 0; i < sizeof(exchs) / sizeof(exchs[0]); i++) {
		const struct exch	*e = &exchs[i];

		memset(&a, 0xa5, sizeof(a));	/* start must wipe this */
		memset(&err, 0, sizeof(err));
		o = snprintf(args, sizeof(args), "%s", e->mech);
		if (e->ir.s != NULL) {
			args[o++] = ' ';
			step_text(&e->ir, args + o, sizeof(args) - o);
		}
		r = smtp_auth_start(&a, args, chal, sizeof(chal), &err);
		for (k = 0; k < 2 && e->steps[k].s != NULL; k++) {
			if (r != SMTP_AUTH_CONTINUE)
				break;
			step_text(&e->steps[k], line, sizeof(line));
			r = smtp_auth_step(&a, line, chal, sizeof(chal), &err);
		}
		if (e->code == 0) {
			if (r == SMTP_AUTH_DONE &&
			    a.state == SMTP_AUTH_S_DONE &&
			    strcmp(a.user, e->user) == 0 &&
			    strcmp(a.pass, e->pass) == 0 &&
			    a.passlen == strlen(e->pass))
				continue;
		} else if (e->code == 334) {
			if (r == SMTP_AUTH_CONTINUE &&
			    strcmp(chal, e->chal) == 0)
				continue;
		} else if (r == -1 && err.code == e->code &&
		    strcmp(err.enhanced, e->enh) == 0 && is_zeroed(&a))
			continue;
		print_error("row %zu AUTH \"%s\" step %zu: want %d %s, got r=%d "
		    "%d %s (%s) user \"%s\" zeroed %d\n", i, args, k, e->code,
		    e->enh ? e->enh : "", r, err.code,
		    err.enhanced ? err.enhanced : "", err.text ? err.text : "",
		    a.state == SMTP_AUTH_S_DONE ? a.user : "", is_zeroed(&a));
		bad++;
	}
	assert_int_equal(bad, 0);
}

/* Reply texts that must be exact: T5 cancel, T6 identical failures. */
static void
test_texts(void **state)
{
	struct smtp_auth	 a;
	struct smtp_reply_err	 err;
	char			 chal[SMTP_AUTH_CHALLENGE_MAX];

	assert_int_equal(smtp_auth_start(&a, "PLAIN *", chal, sizeof(chal),
	    &err), -1);
	assert_string_equal(err.text, "Authentication cancelled");
	/* "admin\0user\0pass" */
	assert_int_equal(smtp_auth_start(&a, "PLAIN YWRtaW4AdXNlcgBwYXNz",
	    chal, sizeof(chal), &err), -1);
	assert_int_equal(err.code, 535);
	assert_string_equal(err.enhanced, "5.7.8");
	assert_string_equal(err.text, "Authentication credentials invalid");
}

/* T5 line > limit; RFC 4954 4: a 12288-octet line must be read. */
static void
test_line_limit(void **state)
{
	struct smtp_auth	 a;
	struct smtp_reply_err	 err;
	char			 chal[SMTP_AUTH_CHALLENGE_MAX];
	unsigned char		*raw;
	char			*line, *args;
	size_t			 rawlen = SMTP_AUTH_LINE_MAX / 4 * 3;

	raw = malloc(rawlen + 3);
	line = malloc(SMTP_AUTH_LINE_MAX + 5);
	args = malloc(SMTP_AUTH_LINE_MAX + 11);
	assert_non_null(raw);
	assert_non_null(line);
	assert_non_null(args);

	/* "\0user\0" then a password of 9210 octets: valid base64 */
	memset(raw, 'p', rawlen + 3);
	memcpy(raw, "\0user\0", 6);
	b64_encode(raw, rawlen, line);
	assert_int_equal(strlen(line), SMTP_AUTH_LINE_MAX);

	assert_int_equal(smtp_auth_start(&a, "PLAIN", chal, sizeof(chal),
	    &err), SMTP_AUTH_CONTINUE);
	assert_int_equal(smtp_auth_step(&a, line, chal, sizeof(chal), &err),
	    -1);
	assert_int_equal(err.code, 501);
	assert_string_equal(err.enhanced, "5.5.2");
	assert_true(is_zeroed(&a));

	snprintf(args, SMTP_AUTH_LINE_MAX + 11, "PLAIN %s", line);
	assert_int_equal(smtp_auth_start(&a, args, chal, sizeof(chal), &err),
	    -1);
	assert_int_equal(err.code, 501);
	assert_string_equal(err.enhanced, "5.5.2");

	/* LOGIN: the password line at the limit */
	assert_int_equal(smtp_auth_start(&a, "LOGIN dXNlcg==", chal,
	    sizeof(chal), &err), SMTP_AUTH_CONTINUE);
	assert_int_equal(smtp_auth_step(&a, line, chal, sizeof(chal), &err),
	    -1);
	assert_int_equal(err.code, 501);
	assert_string_equal(err.enhanced, "5.5.2");

	/* one quantum more: 12292 octets */
	b64_encode(raw, rawlen + 3, line);
	assert_int_equal(strlen(line), SMTP_AUTH_LINE_MAX + 4);
	assert_int_equal(smtp_auth_start(&a, "PLAIN", chal, sizeof(chal),
	    &err), SMTP_AUTH_CONTINUE);
	assert_int_equal(smtp_auth_step(&a, line, chal, sizeof(chal), &err),
	    -1);
	assert_int_equal(err.code, 500);
	assert_string_equal(err.enhanced, "5.5.6");
	assert_true(is_zeroed(&a));
	snprintf(args, SMTP_AUTH_LINE_MAX + 11, "PLAIN %s", line);
	assert_int_equal(smtp_auth_start(&a, args, chal, sizeof(chal), &err),
	    -1);
	assert_int_equal(err.code, 500);
	assert_string_equal(err.enhanced, "5.5.6");
	assert_true(is_zeroed(&a));

	free(raw);
	free(line);
	free(args);
}

/* T7: AUTH LOGIN, "*", AUTH PLAIN; a new AUTH mid-exchange; disconnect. */
static void
test_switch(void **state)
{
	struct smtp_auth	 a;
	struct smtp_reply_err	 err;
	char			 chal[SMTP_AUTH_CHALLENGE_MAX];

	/* "olduser" / "oldpass" */
	assert_int_equal(smtp_auth_start(&a, "LOGIN b2xkdXNlcg==", chal,
	    sizeof(chal), &err), SMTP_AUTH_CONTINUE);
	assert_string_equal(a.user, "olduser");
	assert_int_equal(smtp_auth_step(&a, "*", chal, sizeof(chal), &err),
	    -1);
	assert_int_equal(err.code, 501);
	assert_string_equal(err.enhanced, "5.7.0");
	assert_true(is_zeroed(&a));
	/* a response after the cancel belongs to no exchange */
	assert_int_equal(smtp_auth_step(&a, "b2xkcGFzcw==", chal,
	    sizeof(chal), &err), -1);
	assert_int_equal(err.code, 503);
	assert_string_equal(err.enhanced, "5.5.1");
	assert_true(is_zeroed(&a));

	/* PLAIN without response: nothing of LOGIN left */
	assert_int_equal(smtp_auth_start(&a, "PLAIN", chal, sizeof(chal),
	    &err), SMTP_AUTH_CONTINUE);
	assert_int_equal(a.mech, SMTP_AUTH_PLAIN);
	assert_string_equal(a.user, "");
	assert_int_equal(a.passlen, 0);
	/* "\0user\0pass" */
	assert_int_equal(smtp_auth_step(&a, "AHVzZXIAcGFzcw==", chal,
	    sizeof(chal), &err), SMTP_AUTH_DONE);
	assert_string_equal(a.user, "user");

	/* LOGIN user given, then AUTH PLAIN: start wipes it */
	assert_int_equal(smtp_auth_start(&a, "LOGIN", chal, sizeof(chal),
	    &err), SMTP_AUTH_CONTINUE);
	assert_int_equal(smtp_auth_step(&a, "b2xkdXNlcg==", chal,
	    sizeof(chal), &err), SMTP_AUTH_CONTINUE);
	assert_int_equal(smtp_auth_start(&a, "PLAIN", chal, sizeof(chal),
	    &err), SMTP_AUTH_CONTINUE);
	assert_string_equal(a.user, "");
	/* the LOGIN password now goes to PLAIN: not a PLAIN message */
	assert_int_equal(smtp_auth_step(&a, "b2xkcGFzcw==", chal,
	    sizeof(chal), &err), -1);
	assert_true(is_zeroed(&a));

	/* done, then the session clears; disconnect mid-exchange too */
	assert_int_equal(smtp_auth_start(&a, "PLAIN AHVzZXIAcGFzcw==", chal,
	    sizeof(chal), &err), SMTP_AUTH_DONE);
	assert_int_equal(smtp_auth_step(&a, "AHVzZXIAcGFzcw==", chal,
	    sizeof(chal), &err), -1);
	assert_int_equal(err.code, 503);
	assert_true(is_zeroed(&a));
	assert_int_equal(smtp_auth_start(&a, "LOGIN dXNlcg==", chal,
	    sizeof(chal), &err), SMTP_AUTH_CONTINUE);
	smtp_auth_clear(&a);
	assert_true(is_zeroed(&a));
	assert_int_equal(smtp_auth_start(&a, "PLAIN AHVzZXIAcGFzcw==", chal,
	    sizeof(chal), &err), SMTP_AUTH_DONE);
	smtp_auth_clear(&a);
	assert_true(is_zeroed(&a));
}

static const struct {
	int		 tls, authenticated, in_transaction;
	int		 code;
	const char	*enh;
	const char	*text;
} allowed[] = {
	{ 1, 0, 0, 0, NULL, NULL },
	/* T3: before TLS, whatever else holds */
	{ 0, 0, 0, 530, "5.7.0", "Must issue a STARTTLS command first" },
	{ 0, 1, 0, 530, "5.7.0", "Must issue a STARTTLS command first" },
	{ 0, 0, 1, 530, "5.7.0", "Must issue a STARTTLS command first" },
	/* T5: AUTH twice, AUTH in a transaction */
	{ 1, 1, 0, 503, "5.5.1", NULL },
	{ 1, 1, 1, 503, "5.5.1", NULL },
	{ 1, 0, 1, 503, "5.5.1", NULL },
};

static void
test_allowed(void **state)
{
	struct smtp_reply_err	err;
	size_t			i;
	int			r, bad = 0;

	for (i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		memset(&err, 0, sizeof(err));
		r = smtp_auth_allowed(allowed[i].tls, allowed[i].authenticated,
		    allowed[i].in_transaction, &err);
		if (allowed[i].code == 0 ? r == 0 :
		    r == -1 && err.code == allowed[i].code &&
		    strcmp(err.enhanced, allowed[i].enh) == 0 &&
		    (allowed[i].text == NULL ||
		    strcmp(err.text, allowed[i].text) == 0))
			continue;
		print_error("allowed row %zu: want %d, got r=%d %d %s\n", i,
		    allowed[i].code, r, err.code,
		    err.enhanced ? err.enhanced : "");
		bad++;
	}
	assert_int_equal(bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exchanges),
		cmocka_unit_test(test_texts),
		cmocka_unit_test(test_line_limit),
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_allowed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
