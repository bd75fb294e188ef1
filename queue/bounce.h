/*
 * Delivery status notifications (RFC 3464, multipart/report RFC 6522) and
 * the rules for when to send one (RFC 3461, RFC 3834; SECURITY.md M4).
 * Pure: the queue passes what it knows, including the time and the random
 * bytes, and gets the message as bytes.  No I/O, no clock.
 *
 * Every value that reaches a header line is 7-bit printable: addresses and
 * names with any other byte are xtext-encoded (RFC 3461 4), free text
 * (remote replies) has CR, LF and TAB turned into spaces and any other
 * control or 8-bit byte written as "\xHH" (SECURITY.md I3, I5).  Lines are
 * folded at 78 columns; no line of the report, the original aside, reaches
 * 998 octets.
 */
#ifndef SENDGATE_BOUNCE_H
#define SENDGATE_BOUNCE_H

#include <stddef.h>
#include <stdint.h>

#define BOUNCE_ORIG_MAX		(1024 * 1024)	/* larger: headers only */
#define BOUNCE_DIAG_MAX		1000	/* escaped remote reply, octets */
#define BOUNCE_MSG_MAX		(16 * 1024 * 1024)	/* the whole DSN */
#define BOUNCE_SEED_LEN		16	/* random bytes: boundary, Message-ID */
#define BOUNCE_FOLD		78	/* fold header lines here */

/* Action of one recipient (RFC 3464 2.3.3). */
#define BOUNCE_FAILED		1
#define BOUNCE_DELAYED		2
#define BOUNCE_DELIVERED	3
#define BOUNCE_RELAYED		4

struct bounce_params {
	const char	*hostname;	/* reporting MTA, our name */
	const char	*from_domain;	/* of From: MAILER-DAEMON@, NULL:
					 * hostname ("dkim domain") */
	const char	*sender;	/* envelope sender: the DSN's To */
	const char	*envid;		/* decoded ENVID, NULL or "" if none */
	int		 ret;		/* 0, SMTP_RET_FULL, SMTP_RET_HDRS */
	int64_t		 arrival;	/* seconds since the epoch */
	int64_t		 now;
	uint8_t		 seed[BOUNCE_SEED_LEN];
};

struct bounce_rcpt {
	const char	*addr;		/* final recipient */
	const char	*orcpt_type;	/* NULL or "" if no ORCPT */
	const char	*orcpt;		/* decoded */
	int		 action;	/* BOUNCE_* */
	const char	*status;	/* "5.1.1"; bad or NULL: x.0.0 */
	const char	*remote_mta;	/* NULL if unknown */
	const char	*diagnostic;	/* remote reply, NULL if none */
	int64_t		 last_attempt;	/* 0: none */
	int64_t		 will_retry_until;	/* delayed only, 0: none */
};

/* Growable output, never past max (0: BOUNCE_MSG_MAX). */
struct bounce_buf {
	uint8_t		*p;
	size_t		 len;
	size_t		 size;
	size_t		 max;
};

void	bounce_buf_init(struct bounce_buf *, size_t);
void	bounce_buf_free(struct bounce_buf *);

/*
 * Build the DSN for n recipients (1 or more) of the original message
 * (orig, origlen) into out, which the caller has initialized and frees.
 * Returns 0, or -1 with *why: a hostname or sender that cannot be written
 * into a header, no recipient, an unknown action, the report over
 * out->max, the boundary found in the content (retry with another seed),
 * or no memory.
 */
int	bounce_build(const struct bounce_params *, const struct bounce_rcpt *,
	    size_t, const uint8_t *, size_t, struct bounce_buf *,
	    const char **);

/*
 * Whether a DSN with this action goes to sender, for a recipient with
 * these NOTIFY bits (SMTP_NOTIFY_*, 0 when not given) of an original that
 * bounce_is_auto() judged (is_auto).  Never to the null sender (""),
 * never about an automatic message, never with NOTIFY=NEVER; without
 * NOTIFY, failures and delays only.
 */
int	bounce_wanted(const char *, int, int, int);

/*
 * 1 if the header of the message says it is automatic: Auto-Submitted
 * other than "no" (RFC 3834 5), or Content-Type multipart/report with
 * report-type=delivery-status (a DSN).
 */
int	bounce_is_auto(const uint8_t *, size_t);

#endif
