/*
 * SMTP AUTH PLAIN and LOGIN exchanges (RFC 4954, RFC 4616), sans-I/O.
 * See smtp_auth.h for the contract; SECURITY.md T3, T5-T7.
 */
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "smtp_auth.h"

/* Largest decoded response: a full line of base64 without padding. */
#define DECODED_MAX	(SMTP_AUTH_LINE_MAX / 4 * 3)

#define CHAL_USER	"VXNlcm5hbWU6"	/* "Username:" */
#define CHAL_PASS	"UGFzc3dvcmQ6"	/* "Password:" */

static int
fail(struct smtp_auth *a, struct smtp_reply_err *err, int code,
    const char *enhanced, const char *text)
{
	if (a != NULL)
		smtp_auth_clear(a);
	err->code = code;
	err->enhanced = enhanced;
	err->text = text;
	return -1;
}

#define FAIL_SYNTAX(a, e)	fail(a, e, 501, "5.5.4", \
				    "Syntax: AUTH mechanism [initial-response]")
#define FAIL_MECH(a, e)		fail(a, e, 504, "5.5.4", \
				    "Unrecognized authentication mechanism")
#define FAIL_LONG(a, e)		fail(a, e, 500, "5.5.6", \
				    "Authentication line too long")
#define FAIL_CANCEL(a, e)	fail(a, e, 501, "5.7.0", \
				    "Authentication cancelled")
#define FAIL_BAD(a, e)		fail(a, e, 501, "5.5.2", \
				    "Invalid authentication response")
#define FAIL_CRED(a, e)		fail(a, e, 535, "5.7.8", \
				    "Authentication credentials invalid")
#define FAIL_SEQ(a, e)		fail(a, e, 503, "5.5.1", \
				    "No authentication exchange in progress")
#define FAIL_TEMP(a, e)		fail(a, e, 454, "4.7.0", \
				    "Temporary authentication failure")

void
smtp_auth_clear(struct smtp_auth *a)
{
	explicit_bzero(a, sizeof(*a));
	a->state = SMTP_AUTH_S_IDLE;
	a->mech = SMTP_AUTH_NONE;
}

int
smtp_auth_allowed(int tls, int authenticated, int in_transaction,
    struct smtp_reply_err *err)
{
	if (!tls)
		return fail(NULL, err, 530, "5.7.0",
		    "Must issue a STARTTLS command first");
	if (authenticated)
		return fail(NULL, err, 503, "5.5.1", "Already authenticated");
	if (in_transaction)
		return fail(NULL, err, 503, "5.5.1",
		    "AUTH not permitted during a mail transaction");
	return 0;
}

/*
 * A user or password: non-empty, at most max octets, UTF-8 without any
 * control byte (CR and LF would reach the logs and lka; OpenSMTPD
 * refuses them too).
 */
static int
field_valid(const unsigned char *s, size_t len, size_t max)
{
	size_t	i;

	if (len == 0 || len > max)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return 0;
	return smtp_utf8_valid((const char *)s, len);
}

static int
set_user(struct smtp_auth *a, const unsigned char *s, size_t len)
{
	if (!field_valid(s, len, SMTP_AUTH_USER_MAX))
		return -1;
	memcpy(a->user, s, len);
	a->user[len] = '\0';
	return 0;
}

static int
set_pass(struct smtp_auth *a, const unsigned char *s, size_t len)
{
	if (!field_valid(s, len, SMTP_AUTH_PASS_MAX))
		return -1;
	memcpy(a->pass, s, len);
	a->pass[len] = '\0';
	a->passlen = len;
	return 0;
}

static int
set_challenge(char *challenge, size_t len, const char *text)
{
	if (len < SMTP_AUTH_CHALLENGE_MAX)
		return -1;
	strlcpy(challenge, text, len);
	return 0;
}

/* RFC 4616 section 2: [authzid] NUL authcid NUL passwd. */
static int
plain_message(struct smtp_auth *a, const unsigned char *msg, size_t len,
    struct smtp_reply_err *err)
{
	const unsigned char	*nul1, *nul2, *authcid, *passwd;
	size_t			 zidlen, cidlen, pwlen;

	if ((nul1 = memchr(msg, '\0', len)) == NULL)
		return FAIL_BAD(a, err);
	authcid = nul1 + 1;
	if ((nul2 = memchr(authcid, '\0', len - (authcid - msg))) == NULL)
		return FAIL_BAD(a, err);
	passwd = nul2 + 1;
	zidlen = nul1 - msg;
	cidlen = nul2 - authcid;
	pwlen = len - (passwd - msg);
	if (memchr(passwd, '\0', pwlen) != NULL)
		return FAIL_BAD(a, err);
	if (set_user(a, authcid, cidlen) == -1 ||
	    set_pass(a, passwd, pwlen) == -1)
		return FAIL_BAD(a, err);
	/* No proxy authorization: never another identity than authcid. */
	if (zidlen != 0 &&
	    (zidlen != cidlen || memcmp(msg, authcid, cidlen) != 0))
		return FAIL_CRED(a, err);
	a->state = SMTP_AUTH_S_DONE;
	return SMTP_AUTH_DONE;
}

/* One response (base64, or empty) for the state *a is in. */
static int
respond(struct smtp_auth *a, const char *resp, size_t resplen,
    char *challenge, size_t len, struct smtp_reply_err *err)
{
	unsigned char	buf[DECODED_MAX];
	size_t		n;
	int		r;

	/* A half-decoded bad response may hold a password too. */
	if (base64_decode(resp, resplen, buf, sizeof(buf), &n) == -1) {
		explicit_bzero(buf, sizeof(buf));
		return FAIL_BAD(a, err);
	}

	switch (a->state) {
	case SMTP_AUTH_S_PLAIN:
		r = plain_message(a, buf, n, err);
		break;
	case SMTP_AUTH_S_LOGIN_USER:
		if (set_user(a, buf, n) == -1)
			r = FAIL_BAD(a, err);
		else if (set_challenge(challenge, len, CHAL_PASS) == -1)
			r = FAIL_TEMP(a, err);
		else {
			a->state = SMTP_AUTH_S_LOGIN_PASS;
			r = SMTP_AUTH_CONTINUE;
		}
		break;
	case SMTP_AUTH_S_LOGIN_PASS:
		if (set_pass(a, buf, n) == -1)
			r = FAIL_BAD(a, err);
		else {
			a->state = SMTP_AUTH_S_DONE;
			r = SMTP_AUTH_DONE;
		}
		break;
	default:
		r = FAIL_SEQ(a, err);
		break;
	}
	explicit_bzero(buf, n);
	return r;
}

int
smtp_auth_start(struct smtp_auth *a, const char *args, char *challenge,
    size_t len, struct smtp_reply_err *err)
{
	const char	*ir = NULL;
	size_t		 mechlen, irlen;

	/* T7: whatever came before, this exchange starts from nothing. */
	smtp_auth_clear(a);

	mechlen = strcspn(args, " ");
	if (mechlen == 0)
		return FAIL_SYNTAX(a, err);
	if (args[mechlen] == ' ') {
		ir = args + mechlen + 1;
		if (*ir == '\0')
			return FAIL_SYNTAX(a, err);
	}
	if (mechlen == 5 && strncasecmp(args, "PLAIN", 5) == 0) {
		a->mech = SMTP_AUTH_PLAIN;
		a->state = SMTP_AUTH_S_PLAIN;
	} else if (mechlen == 5 && strncasecmp(args, "LOGIN", 5) == 0) {
		a->mech = SMTP_AUTH_LOGIN;
		a->state = SMTP_AUTH_S_LOGIN_USER;
	} else
		return FAIL_MECH(a, err);

	if (ir == NULL) {
		if (set_challenge(challenge, len,
		    a->mech == SMTP_AUTH_PLAIN ? "" : CHAL_USER) == -1)
			return FAIL_TEMP(a, err);
		return SMTP_AUTH_CONTINUE;
	}
	if (strcmp(ir, "*") == 0)
		return FAIL_CANCEL(a, err);
	if (strcmp(ir, "=") == 0)	/* RFC 4954 4: zero-length response */
		return respond(a, "", 0, challenge, len, err);
	if ((irlen = strnlen(ir, SMTP_AUTH_LINE_MAX + 1)) > SMTP_AUTH_LINE_MAX)
		return FAIL_LONG(a, err);
	return respond(a, ir, irlen, challenge, len, err);
}

int
smtp_auth_step(struct smtp_auth *a, const char *line, char *challenge,
    size_t len, struct smtp_reply_err *err)
{
	size_t	linelen;

	if (a->state != SMTP_AUTH_S_PLAIN &&
	    a->state != SMTP_AUTH_S_LOGIN_USER &&
	    a->state != SMTP_AUTH_S_LOGIN_PASS)
		return FAIL_SEQ(a, err);
	if (strcmp(line, "*") == 0)
		return FAIL_CANCEL(a, err);
	if ((linelen = strnlen(line, SMTP_AUTH_LINE_MAX + 1)) >
	    SMTP_AUTH_LINE_MAX)
		return FAIL_LONG(a, err);
	return respond(a, line, linelen, challenge, len, err);
}
