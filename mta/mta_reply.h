/*
 * The one parser of SMTP replies read from a remote server by the mta
 * process (RFC 5321 4.2; SECURITY.md O1, O2, I5 and CVE-2020-8794).
 * Sans-I/O: the session feeds whatever bytes arrived, in any chunking,
 * and gets complete replies back one at a time.  Nothing is allocated:
 * the reply being read lives in the parser the caller owns.
 *
 * A line is "ddd" then "-" (more lines follow), " " (the last line) or
 * CRLF at once (the last line, empty text).  All lines of one reply carry
 * the same code; the first digit is 2-5, the second 0-5, the third 0-9.
 * Only CRLF ends a line: a bare CR or a bare LF is an error, never a line
 * end, so a hostile server cannot make its reply parse differently from
 * the way another client would see it.  A line is never read past its
 * end: a line that ends inside the code ("25" CRLF, CVE-2020-8794) is
 * an error found on its CR, and "250-" CRLF is a continuation with an
 * empty text; every decision is taken on the byte that arrives.
 *
 * The stored text holds printable ASCII only (0x20-0x7e), so it can be
 * logged, put into an envelope or a bounce unescaped: NUL is an error
 * (nothing legitimate sends it and C strings would cut there), TAB
 * becomes a space, any other control byte, DEL or 8-bit byte becomes
 * '?' (counted in nsubst) so that a reply from a server that speaks
 * Latin-1 stays usable.
 *
 * Replies arriving when none is expected are errors ("unexpected data"):
 * the caller says how many replies it waits for (mta_reply_expect: one
 * for the greeting, one per command sent, several when pipelining).
 * Bytes after the last expected reply, in the same chunk or in the
 * caller's buffer, are what a STARTTLS response injection (CVE-2011-0411,
 * O2) looks like: see mta_reply_drained().
 *
 * After an error the parser refuses all input until mta_reply_init().
 */
#ifndef SENDGATE_MTA_REPLY_H
#define SENDGATE_MTA_REPLY_H

#include <stddef.h>
#include <stdint.h>

#define MTA_REPLY_LINE_MAX	512	/* octets per line, CRLF included */
#define MTA_REPLY_LINES_MAX	100	/* lines per reply */
#define MTA_REPLY_PENDING_MAX	1000	/* replies awaited at once */
#define MTA_REPLY_ENHANCED_MAX	15	/* "5.999.999" fits; + NUL */
/* Line text ("ddd-" and CRLF off) of every line plus the joining spaces. */
#define MTA_REPLY_TEXT_MAX \
	(MTA_REPLY_LINES_MAX * (MTA_REPLY_LINE_MAX - 6 + 1) - 1)

/*
 * A complete reply.  text is the text of every line after "ddd-" or
 * "ddd ", as sent (an enhanced code included) but escaped as above, the
 * lines joined with a single space; an empty line adds nothing but its
 * space.  Line i is text[line_off[i]] to text[line_off[i] + line_len[i]]
 * (see mta_reply_line()), for EHLO keywords.  The cap is computed so
 * that the text is never truncated.
 */
struct mta_reply {
	int		 code;		/* 200..559 */
	char		 enhanced[MTA_REPLY_ENHANCED_MAX + 1];	/* or "" */
	char		 text[MTA_REPLY_TEXT_MAX + 1];
	size_t		 len;		/* strlen(text) */
	int		 nlines;	/* 1..MTA_REPLY_LINES_MAX */
	uint16_t	 line_off[MTA_REPLY_LINES_MAX];
	uint16_t	 line_len[MTA_REPLY_LINES_MAX];
	unsigned int	 nsubst;	/* bytes replaced by '?' */
};

enum mta_reply_error {
	MTA_REPLY_E_NONE = 0,
	MTA_REPLY_E_SHORT,		/* line ends inside the code */
	MTA_REPLY_E_CODE,		/* not a code 200..559 */
	MTA_REPLY_E_SEPARATOR,		/* not SP, "-" or CRLF after it */
	MTA_REPLY_E_MISMATCH,		/* lines with different codes */
	MTA_REPLY_E_LONG_LINE,		/* over MTA_REPLY_LINE_MAX */
	MTA_REPLY_E_LINES,		/* over MTA_REPLY_LINES_MAX */
	MTA_REPLY_E_BARE_CR,		/* CR not followed by LF */
	MTA_REPLY_E_BARE_LF,		/* LF not preceded by CR */
	MTA_REPLY_E_NUL,		/* NUL in a line */
	MTA_REPLY_E_UNEXPECTED		/* data when no reply is awaited */
};

enum mta_reply_status {
	MTA_REPLY_MORE,			/* everything consumed, no reply yet */
	MTA_REPLY_READY,		/* a reply is complete */
	MTA_REPLY_ERROR			/* protocol error, see mta_reply_error */
};

/* Private state; read only through the functions below. */
struct mta_reply_parser {
	enum mta_reply_error	 error;
	unsigned int		 pending;	/* replies awaited */
	int			 state;		/* see mta_reply.c */
	size_t			 line_octets;	/* of this line, CRLF too */
	int			 last;		/* this line is the last one */
	char			 digits[3];	/* of this line */
	struct mta_reply	 reply;		/* being read, or complete */
};

/*
 * A fresh parser awaiting no reply: after connecting the caller calls
 * mta_reply_expect(p, 1) for the greeting.  Also the reset after an
 * error, and after STARTTLS (whatever was buffered is dropped).
 */
void	mta_reply_init(struct mta_reply_parser *);

/*
 * n more replies are awaited (commands were sent).  Returns 0, or -1
 * with errno EOVERFLOW when more than MTA_REPLY_PENDING_MAX would be
 * awaited (nothing is changed then).
 */
int	mta_reply_expect(struct mta_reply_parser *, unsigned int n);

/*
 * Consumes input bytes; *consumed is set to how many.  Returns
 *  MTA_REPLY_READY when a reply was completed: it stops right after the
 *	CRLF of its last line (the rest of in is left for the next call)
 *	and mta_reply_get() returns it until the next feed or init;
 *  MTA_REPLY_MORE when all of in was consumed without completing one;
 *  MTA_REPLY_ERROR on a protocol error, consumed counting the bytes up to
 *	and including the offending one, or 0 when the parser already was
 *	in error.  A byte arriving when no reply is awaited is the error
 *	MTA_REPLY_E_UNEXPECTED.
 */
enum mta_reply_status	mta_reply_feed(struct mta_reply_parser *,
	    const uint8_t *in, size_t len, size_t *consumed);

/* The reply completed by the last feed; NULL unless it returned READY. */
const struct mta_reply	*mta_reply_get(const struct mta_reply_parser *);

/*
 * To call after a reply, with the number of bytes the caller still
 * holds unfed (the rest of its chunk and its buffer).  Returns 0 when
 * that is none, or when more replies are awaited (pipelining: they may
 * be the next replies); else -1, and the parser goes into the error
 * MTA_REPLY_E_UNEXPECTED.  After "220" to STARTTLS nothing else is
 * awaited, so buffered plaintext is refused here (O2): the caller fails
 * the connection instead of starting TLS on top of it.
 */
int	mta_reply_drained(struct mta_reply_parser *, size_t buffered);

/* MTA_REPLY_E_NONE, or the error that stopped the parser. */
enum mta_reply_error	mta_reply_error(const struct mta_reply_parser *);

/* A constant printable reason for an error, for the log and a bounce. */
const char	*mta_reply_reason(enum mta_reply_error);

/*
 * Line i (0-based) of a reply, not NUL-terminated, its length in *len.
 * NULL if i is out of range.
 */
const char	*mta_reply_line(const struct mta_reply *, int i, size_t *len);

#endif
