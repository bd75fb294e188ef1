/*
 * SMTP AUTH (RFC 4954) for the smtp process: the SASL PLAIN (RFC 4616)
 * and LOGIN exchanges, sans-I/O.  The session feeds the AUTH arguments
 * and each response line in; out come the 334 challenge to send, the
 * user and password to hand to lka, or the reply to send.  Reply texts
 * are constants: input is never echoed, and never logged from here.
 *
 * Every call that fails returns -1 with *err filled and the exchange
 * wiped (smtp_auth_clear): nothing of a failed or cancelled exchange
 * survives into the next one (SECURITY.md T7).  After SMTP_AUTH_DONE
 * the session passes user/pass on and then calls smtp_auth_clear.
 */
#ifndef SENDGATE_SMTP_AUTH_H
#define SENDGATE_SMTP_AUTH_H

#include <stddef.h>

#include "smtp_parse.h"

#define SMTP_AUTH_USER_MAX	64	/* authcid octets */
#define SMTP_AUTH_PASS_MAX	256	/* passwd octets */
#define SMTP_AUTH_LINE_MAX	12288	/* RFC 4954 4, without CRLF */
#define SMTP_AUTH_CHALLENGE_MAX	16	/* challenge buffer the session needs */

/* Return values of smtp_auth_start and smtp_auth_step, besides -1. */
#define SMTP_AUTH_DONE		0	/* user and pass are set */
#define SMTP_AUTH_CONTINUE	1	/* send "334 <challenge>" */

/* mech */
#define SMTP_AUTH_NONE		0
#define SMTP_AUTH_PLAIN		1
#define SMTP_AUTH_LOGIN		2

/* state */
#define SMTP_AUTH_S_IDLE	0	/* no exchange */
#define SMTP_AUTH_S_PLAIN	1	/* waiting for the PLAIN response */
#define SMTP_AUTH_S_LOGIN_USER	2	/* waiting for the LOGIN user */
#define SMTP_AUTH_S_LOGIN_PASS	3	/* waiting for the LOGIN password */
#define SMTP_AUTH_S_DONE	4	/* user and pass complete */

struct smtp_auth {
	int	state;			/* SMTP_AUTH_S_* */
	int	mech;			/* SMTP_AUTH_NONE, _PLAIN, _LOGIN */
	char	user[SMTP_AUTH_USER_MAX + 1];
	char	pass[SMTP_AUTH_PASS_MAX + 1];
	size_t	passlen;
};

/*
 * The session's one place for the AUTH ordering rules: 0 if AUTH may
 * start now, else -1 with 530 5.7.0 before TLS (checked first: nothing
 * of the command is looked at), 503 5.5.1 when already authenticated
 * or inside a mail transaction.
 */
int	smtp_auth_allowed(int, int, int, struct smtp_reply_err *);

/*
 * args is what follows "AUTH ": a mechanism (PLAIN or LOGIN, any case)
 * and an optional initial response ("=" is a zero-length one, "*"
 * cancels: 501 5.7.0).  Any earlier exchange in *a is wiped first.
 * Unknown mechanism: 504 5.5.4; no mechanism or a stray space: 501
 * 5.5.4; an initial response over SMTP_AUTH_LINE_MAX: 500 5.5.6.
 * The challenge (len >= SMTP_AUTH_CHALLENGE_MAX) is "" for PLAIN,
 * "VXNlcm5hbWU6" or "UGFzc3dvcmQ6" for LOGIN.
 */
int	smtp_auth_start(struct smtp_auth *, const char *, char *, size_t,
	    struct smtp_reply_err *);

/*
 * line is one client response without its CRLF.  "*": 501 5.7.0.
 * Over SMTP_AUTH_LINE_MAX: 500 5.5.6.  Base64 that is not strict RFC
 * 4648 (padding required, canonical, no white space), a PLAIN message
 * without exactly two NULs, an empty or over-long user or password, a
 * control byte or invalid UTF-8 in either: 501 5.5.2.  A PLAIN authzid
 * that is neither empty nor the authcid: 535 5.7.8, the same reply as
 * wrong credentials (the session treats it as one: delay and count).
 * No exchange in progress: 503 5.5.1.
 */
int	smtp_auth_step(struct smtp_auth *, const char *, char *, size_t,
	    struct smtp_reply_err *);

/* Wipe user and password (explicit_bzero) and return to idle. */
void	smtp_auth_clear(struct smtp_auth *);

#endif
