/*
 * SMTP command and path parsing for the smtp process: bytes in, a verb,
 * a path, parameters or a reply out.  No I/O, no allocation, no state;
 * the session (smtp_session.c) decides what to do with an error.
 *
 * Every parser returns 0 on success, or -1 with *err filled with the
 * reply to send.  Reply texts are constants: input is never echoed.
 */
#ifndef SENDGATE_SMTP_PARSE_H
#define SENDGATE_SMTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define SMTP_LINE_MAX		512	/* RFC 5321 4.5.3.1.4, with CRLF */
#define SMTP_PATH_MAX		256	/* 4.5.3.1.3, with "<" and ">" */
#define SMTP_LOCAL_MAX		64	/* 4.5.3.1.1 */
#define SMTP_DOMAIN_MAX		255	/* 4.5.3.1.2 */
#define SMTP_LABEL_MAX		63	/* RFC 1035 2.3.4 */
#define SMTP_ENVID_MAX		100	/* RFC 3461 4.4 */
#define SMTP_ORCPT_MAX		500	/* RFC 3461 4.2 */

enum smtp_verb {
	SMTP_HELO, SMTP_EHLO, SMTP_MAIL, SMTP_RCPT, SMTP_DATA, SMTP_BDAT,
	SMTP_RSET, SMTP_NOOP, SMTP_QUIT, SMTP_VRFY, SMTP_EXPN, SMTP_HELP,
	SMTP_STARTTLS, SMTP_AUTH, SMTP_UNKNOWN
};

struct smtp_reply_err {
	int		 code;		/* 501 */
	const char	*enhanced;	/* "5.1.7" */
	const char	*text;		/* "Bad sender address syntax" */
};

/*
 * A mailbox as sent, source route stripped.  The local part is kept in
 * its wire form (a quoted string keeps its quotes and escapes): it is
 * opaque and never routed on.  An address literal keeps its brackets.
 * RCPT <postmaster> has local "postmaster" and an empty domain.
 */
struct smtp_path {
	char	local[SMTP_LOCAL_MAX * 4 + 1];
	char	domain[SMTP_DOMAIN_MAX + 1];
	int	null;		/* <> */
	int	utf8;		/* non-ASCII seen */
};

#define SMTP_BODY_7BIT		1
#define SMTP_BODY_8BITMIME	2

#define SMTP_RET_FULL		1
#define SMTP_RET_HDRS		2

struct smtp_mail_params {
	uint64_t	size;
	int		has_size;
	int		body;		/* 0, SMTP_BODY_* */
	int		smtputf8;
	int		ret;		/* 0, SMTP_RET_* */
	char		envid[SMTP_ENVID_MAX + 1];	/* decoded xtext */
};

#define SMTP_NOTIFY_NEVER	0x01
#define SMTP_NOTIFY_SUCCESS	0x02
#define SMTP_NOTIFY_FAILURE	0x04
#define SMTP_NOTIFY_DELAY	0x08

struct smtp_rcpt_params {
	int	notify;			/* 0 or SMTP_NOTIFY_* bits */
	char	orcpt_type[16];		/* "rfc822" or "utf-8", lower case */
	char	orcpt[SMTP_ORCPT_MAX + 1];	/* decoded xtext */
};

/*
 * line is one command without its CRLF and line[len] must be NUL (args
 * is a C string ending there).  NUL, CR or LF anywhere in the line, or a
 * non-printable or 8-bit byte in the verb: 500 5.5.2.  An unknown verb:
 * *verb = SMTP_UNKNOWN and 500 5.5.1.  *args points after the single
 * space that follows the verb, or at the terminating NUL.
 */
int	smtp_parse_verb(const char *, size_t, enum smtp_verb *,
	    const char **, struct smtp_reply_err *);

/*
 * "FROM:<path> [params]".  One space after the colon is tolerated
 * (Exchange and others send it).  smtputf8_allowed is whether EHLO
 * advertised SMTPUTF8: without it the SMTPUTF8 parameter is unknown.
 * A bare word after the path that is not a known parameter is junk:
 * 501 5.5.4; an unknown "KEYWORD=value" is 555 5.5.4.
 */
int	smtp_parse_mail(const char *, int, struct smtp_path *,
	    struct smtp_mail_params *, struct smtp_reply_err *);

/* "TO:<path> [params]"; smtputf8 is whether MAIL declared SMTPUTF8. */
int	smtp_parse_rcpt(const char *, int, struct smtp_path *,
	    struct smtp_rcpt_params *, struct smtp_reply_err *);

/*
 * A HELO/EHLO name: a domain (underscores tolerated, for Windows host
 * names; single labels and internal names like exchange.corp.local are
 * fine) or an address literal.  Trailing spaces are ignored.
 */
int	smtp_parse_helo(const char *, char *, size_t,
	    struct smtp_reply_err *);

/* "count [LAST]"; any other form is 501 5.5.4. */
int	smtp_parse_bdat(const char *, uint64_t *, int *,
	    struct smtp_reply_err *);

/*
 * RFC 3461 xtext into out (NUL-terminated).  Returns the decoded length,
 * or -1: bad character or escape (+HH with uppercase hex only), a decoded
 * control or non-ASCII byte, or out too small.
 */
int	smtp_xtext_decode(const char *, char *, size_t);

/* 1 if s[0..len) is valid UTF-8 per RFC 3629, else 0. */
int	smtp_utf8_valid(const char *, size_t);

#endif
