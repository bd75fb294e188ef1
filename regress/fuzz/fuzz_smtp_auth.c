/*
 * libFuzzer target for the SMTP AUTH exchanges (SECURITY.md T3, T5-T7):
 * PLAIN and LOGIN, as any client that got as far as TLS can drive them.
 *
 * Input: lines separated by LF.  The first is the AUTH argument string
 * (what follows "AUTH "), the others are the client's responses; each is
 * copied to a buffer of its exact length plus a NUL (a NUL inside ends
 * it early, as it would in the session's line).  smtp_auth_start() takes
 * the first, smtp_auth_step() the others until the exchange is done or
 * fails; responses left over go to smtp_auth_step() on the idle or done
 * exchange, which must refuse them.
 * Invariants: user and pass are NUL-terminated inside their buffers,
 * within SMTP_AUTH_USER_MAX / SMTP_AUTH_PASS_MAX octets, without control
 * bytes, valid UTF-8, non-empty on DONE with passlen the length of pass;
 * the state matches the return value; after any error the struct is all
 * zero bytes (idle, nothing of user or pass left); a challenge is "",
 * "VXNlcm5hbWU6" or "UGFzc3dvcmQ6" and the right one for the state; the
 * challenge buffer of exactly SMTP_AUTH_CHALLENGE_MAX octets is never
 * overrun; every reply is one the header documents.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_auth.h"

#define FUZZ_NAME	"fuzz_smtp_auth"
#include "fuzz.h"

#define CHAL_USER	"VXNlcm5hbWU6"
#define CHAL_PASS	"UGFzc3dvcmQ6"

/* The replies of smtp_auth_start and smtp_auth_step (smtp_auth.h). */
static const struct {
	int		 code;
	const char	*enhanced;
} replies[] = {
	{ 501, "5.5.4" },	/* syntax */
	{ 504, "5.5.4" },	/* unknown mechanism */
	{ 500, "5.5.6" },	/* line too long */
	{ 501, "5.7.0" },	/* cancelled */
	{ 501, "5.5.2" },	/* bad response */
	{ 535, "5.7.8" },	/* authzid not the authcid */
	{ 503, "5.5.1" },	/* no exchange */
};

int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
check_field(const char *s, size_t size, size_t max, int done,
    const char *what)
{
	size_t	 len, i;

	if ((len = strnlen(s, size)) == size)
		fuzz_die("%s not NUL-terminated", what);
	if (len > max)
		fuzz_die("%s longer than its cap", what);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			fuzz_die("%s holds a control byte", what);
	if (!smtp_utf8_valid(s, len))
		fuzz_die("%s not valid UTF-8", what);
	if (done && len == 0)
		fuzz_die("%s empty on DONE", what);
}

static void
check_wiped(const struct smtp_auth *a)
{
	static const struct smtp_auth	 zero;

	if (memcmp(a, &zero, sizeof(zero)) != 0)
		fuzz_die("exchange not wiped after an error");
}

static void
check_err(const struct smtp_reply_err *err)
{
	size_t	 i;

	for (i = 0; i < sizeof(replies) / sizeof(replies[0]); i++)
		if (err->code == replies[i].code && err->enhanced != NULL &&
		    strcmp(err->enhanced, replies[i].enhanced) == 0)
			break;
	if (i == sizeof(replies) / sizeof(replies[0]))
		fuzz_die("undocumented reply %d %s", err->code,
		    err->enhanced ? err->enhanced : "(null)");
	if (err->text == NULL || err->text[0] == '\0' ||
	    !fuzz_printable(err->text))
		fuzz_die("reply text empty or not printable");
}

/* After one call that returned r. */
static void
check(const struct smtp_auth *a, int r, const char *chal,
    const struct smtp_reply_err *err)
{
	if (r == -1) {
		check_err(err);
		check_wiped(a);
		return;
	}
	if (a->mech != SMTP_AUTH_PLAIN && a->mech != SMTP_AUTH_LOGIN)
		fuzz_die("an exchange without a mechanism");
	check_field(a->user, sizeof(a->user), SMTP_AUTH_USER_MAX,
	    r == SMTP_AUTH_DONE, "user");
	check_field(a->pass, sizeof(a->pass), SMTP_AUTH_PASS_MAX,
	    r == SMTP_AUTH_DONE, "pass");
	if (r == SMTP_AUTH_DONE) {
		if (a->state != SMTP_AUTH_S_DONE ||
		    a->passlen != strlen(a->pass))
			fuzz_die("DONE without the done state or passlen");
		return;
	}
	if (r != SMTP_AUTH_CONTINUE)
		fuzz_die("return value %d", r);
	if (strnlen(chal, SMTP_AUTH_CHALLENGE_MAX) == SMTP_AUTH_CHALLENGE_MAX)
		fuzz_die("challenge not NUL-terminated");
	switch (a->state) {
	case SMTP_AUTH_S_PLAIN:
		if (strcmp(chal, "") != 0 || a->mech != SMTP_AUTH_PLAIN ||
		    a->user[0] != '\0' || a->pass[0] != '\0')
			fuzz_die("PLAIN waits with a challenge or a user");
		break;
	case SMTP_AUTH_S_LOGIN_USER:
		if (strcmp(chal, CHAL_USER) != 0 || a->mech != SMTP_AUTH_LOGIN ||
		    a->user[0] != '\0')
			fuzz_die("LOGIN user asked for with another challenge");
		break;
	case SMTP_AUTH_S_LOGIN_PASS:
		if (strcmp(chal, CHAL_PASS) != 0 || a->mech != SMTP_AUTH_LOGIN ||
		    a->user[0] == '\0' || a->pass[0] != '\0')
			fuzz_die("LOGIN password asked for with another "
			    "challenge, or without a user");
		break;
	default:
		fuzz_die("CONTINUE in state %d", a->state);
	}
}

/* The next LF-separated line of data, as a C string of its own. */
static char *
next_line(const uint8_t **pp, const uint8_t *end)
{
	const uint8_t	*p = *pp, *nl;
	size_t		 len;
	char		*s;

	if ((nl = memchr(p, '\n', end - p)) == NULL)
		nl = end;
	len = nl - p;
	if ((s = malloc(len + 1)) == NULL)
		fuzz_die("out of memory");
	memcpy(s, p, len);
	s[len] = '\0';
	*pp = nl < end ? nl + 1 : end;
	return s;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtp_reply_err	 err;
	struct smtp_auth	 a;
	const uint8_t		*p = data, *end = data + size;
	char			*line, *chal;
	int			 r, prev;

	/* Exactly sized: ASan sees a write past it. */
	if ((chal = malloc(SMTP_AUTH_CHALLENGE_MAX)) == NULL)
		fuzz_die("out of memory");
	/* Garbage first: start must not trust what was there. */
	memset(&a, 0xa5, sizeof(a));
	memset(&err, 0, sizeof(err));
	memset(chal, 'x', SMTP_AUTH_CHALLENGE_MAX);
	line = next_line(&p, end);
	r = smtp_auth_start(&a, line, chal, SMTP_AUTH_CHALLENGE_MAX, &err);
	free(line);
	check(&a, r, chal, &err);
	while (p < end) {
		prev = r;
		memset(&err, 0, sizeof(err));
		memset(chal, 'x', SMTP_AUTH_CHALLENGE_MAX);
		line = next_line(&p, end);
		r = smtp_auth_step(&a, line, chal, SMTP_AUTH_CHALLENGE_MAX,
		    &err);
		free(line);
		if (prev != SMTP_AUTH_CONTINUE && (r != -1 ||
		    err.code != 503))
			fuzz_die("a response taken without an exchange");
		check(&a, r, chal, &err);
	}
	smtp_auth_clear(&a);
	check_wiped(&a);
	free(chal);
	return 0;
}
