/*
 * Outbound body writer for DATA in the mta process (RFC 5321 4.5.2;
 * SECURITY.md F2, B4).  Sans-I/O: the caller feeds the stored message
 * (any chunking), then flushes, and sends what comes out.  Nothing is
 * allocated; the few octets that did not fit the caller's buffer wait
 * in the writer (at most MTA_BODY_HELD_MAX).
 *
 * The wire form: every line ends with CRLF, a line starting with "." is
 * sent with a second "." in front, and the end of data CRLF "." CRLF
 * follows the message.  A message whose last line lacks its CRLF gets
 * one before the terminator (the stored form always has it; this only
 * keeps the terminator on a line of its own).  An empty message is just
 * ".\r\n".
 *
 * A stored bare CR or bare LF is never sent, neither as such nor
 * "repaired" into CRLF: another hop could read it as a line end and a
 * smuggled message would come out of it (F2).  The writer stops with an
 * error at that octet, and the caller must fail the delivery by closing
 * the connection without the terminator: part of the body may already
 * be on the wire, and only the missing end of data makes the remote
 * server discard it.  NUL and long lines are passed as stored (the smtp
 * process refused them at intake).  No BDAT mode.
 */
#ifndef SENDGATE_MTA_BODY_H
#define SENDGATE_MTA_BODY_H

#include <stddef.h>
#include <stdint.h>

#define MTA_BODY_HELD_MAX	5	/* "\r\n.\r\n", the longest step */

enum mta_body_error {
	MTA_BODY_E_NONE = 0,
	MTA_BODY_E_BARE_CR,		/* stored CR not followed by LF */
	MTA_BODY_E_BARE_LF,		/* stored LF not preceded by CR */
	MTA_BODY_E_DONE			/* fed after the terminator */
};

/* Private state; read only through the functions below. */
struct mta_body {
	int			 state;		/* see mta_body.c */
	enum mta_body_error	 error;
	uint8_t			 held[MTA_BODY_HELD_MAX];
	size_t			 nheld;
	size_t			 heldpos;
};

void	mta_body_init(struct mta_body *);

/*
 * Consumes stored message bytes and writes their wire form into out,
 * never more than outcap octets (any outcap >= 1 makes progress; octets
 * that do not fit are held and written first on the next call).
 * Returns how many input bytes were consumed; *outlen is set to the
 * number of octets written.  It stops early when out is full, or at a
 * bare CR or LF: then mta_body_error() is set, that octet and the ones
 * after it are not consumed, and every later call consumes and writes
 * nothing.
 */
size_t	mta_body_feed(struct mta_body *, const uint8_t *in, size_t len,
	    uint8_t *out, size_t outcap, size_t *outlen);

/*
 * The message is complete: writes what is held, the CRLF of an
 * unterminated last line and the terminator ".\r\n".  Returns 1 once
 * all of it was written, 0 when out was too small (call again, with
 * room), -1 on an error (a CR as the very last stored octet is a bare
 * CR; or an earlier error).  Feeding after a flush returned 1 is the
 * error MTA_BODY_E_DONE.
 */
int	mta_body_flush(struct mta_body *, uint8_t *out, size_t outcap,
	    size_t *outlen);

/* MTA_BODY_E_NONE, or the error that stopped the writer. */
enum mta_body_error	mta_body_error(const struct mta_body *);

/* A constant printable reason for an error, for the log and a bounce. */
const char	*mta_body_reason(enum mta_body_error);

#endif
