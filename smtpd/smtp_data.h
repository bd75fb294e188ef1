/*
 * Message body reader for the smtp process: DATA framing (end of data,
 * dot-unstuffing) or BDAT byte-exact pass-through, and the checks on the
 * message text and its header (SECURITY.md F1, F5, F6, M1, M2, M3, B4).
 * Sans-I/O: the session feeds whatever bytes arrived and writes out what
 * comes back.  Nothing is allocated; every counter saturates.
 */
#ifndef SENDGATE_SMTP_DATA_H
#define SENDGATE_SMTP_DATA_H

#include <stddef.h>
#include <stdint.h>

/* Same fields as struct smtp_reply_err in smtp_parse.h; to be unified. */
struct smtp_data_err {
	int		 code;
	const char	*enhanced;
	const char	*text;
};

#define SMTP_DATA_LINE_MAX	998	/* octets per line, without CRLF */
#define SMTP_DATA_HEADER_MAX	(1024 * 1024)	/* header block, with CRLFs */
#define SMTP_DATA_FIELDS_MAX	1000	/* header fields */
#define SMTP_DATA_RECEIVED_MAX	100	/* Received: fields (hops) */
#define SMTP_DATA_NAME_MAX	32	/* longest field name we compare */
#define SMTP_DATA_VALUE_MAX	2048	/* kept From:/Sender: value */
#define SMTP_DATA_OUT_MIN	2	/* smallest useful outcap */
#define SMTP_DATA_DOMAIN_SIZE	256	/* domain of a From: mailbox + NUL */

/*
 * The raw, unfolded value of the first From: or Sender: field.  A value
 * longer than SMTP_DATA_VALUE_MAX or holding a NUL is marked "bad": the
 * session must then treat the field as malformed (550 5.6.0), never use
 * the truncated text.
 */
struct smtp_data_field {
	char		 value[SMTP_DATA_VALUE_MAX + 1];
	size_t		 len;
	int		 bad;
};

/*
 * State of one message.  The fields after "What the session reads" may be
 * read by the caller once smtp_data_done() says so; everything else is
 * private.
 */
struct smtp_data {
	uint64_t	 size_max;
	uint64_t	 size;		/* message octets, saturating */
	int		 bdat;
	int		 frame;		/* framing state */
	int		 done;
	uint32_t	 errors;	/* bitmask, see smtp_data.c */
	uint32_t	 line_len;	/* saturating */

	int		 hstate;	/* header parser state */
	uint32_t	 hline_len;	/* saturating */
	uint64_t	 hsize;		/* header block octets */
	int		 capture;	/* field whose value is kept */
	size_t		 name_len;
	char		 name[SMTP_DATA_NAME_MAX];

	/* What the session reads. */
	uint32_t	 fields;	/* header fields, saturating */
	uint32_t	 from_count;	/* From: fields */
	uint32_t	 sender_count;	/* Sender: fields */
	uint32_t	 received_count;	/* saturates above the cap */
	int		 header_end;	/* see smtp_data_header_ended */
	int		 has_date;
	int		 has_message_id;
	struct smtp_data_field from;	/* first From: */
	struct smtp_data_field sender;	/* first Sender: */
};

/*
 * size_max is the limit on the stored message (M1); bdat selects
 * byte-exact BDAT mode (RFC 3030) instead of DATA framing.
 */
void	smtp_data_init(struct smtp_data *, uint64_t size_max, int bdat);

/*
 * Consumes input bytes and writes the message octets to store into out
 * (unstuffed for DATA, byte-exact for BDAT, never more than size_max of
 * them in total).  Returns how many input bytes were consumed: it stops
 * early when out has fewer than SMTP_DATA_OUT_MIN bytes left or when the
 * DATA end (CRLF.CRLF) was consumed; the bytes after the end are left for
 * the session.  *outlen is set to the number of bytes written.
 */
size_t	smtp_data_feed(struct smtp_data *, const uint8_t *in, size_t len,
	    uint8_t *out, size_t outcap, size_t *outlen);

/*
 * 1 if the last smtp_data_feed() stopped at the end of the header: the
 * last two octets it wrote are the CRLF of the empty line, so fields can
 * be inserted before them.  The caller feeds the rest afterwards.
 */
int	smtp_data_header_ended(const struct smtp_data *);

/* BDAT: the chunk just fed was the LAST one. */
void	smtp_data_bdat_end(struct smtp_data *);

/* 1 once the real end of the message was reached. */
int	smtp_data_done(const struct smtp_data *);

/*
 * NULL if the message text is acceptable, else the reply to give after
 * the end (only meaningful once done).  One reply even if several checks
 * failed, in this order: bare CR/LF 550 5.5.2, size 552 5.3.4, NUL
 * 554 5.6.0, long line 550 5.6.0, header size 552 5.3.4, malformed header
 * 554 5.6.0, too many Received: 554 5.4.6.
 */
const struct smtp_data_err *smtp_data_verdict(const struct smtp_data *);

/*
 * R2: parses a From: (or Sender:) value as an RFC 5322 mailbox-list and
 * writes the lower-cased domain of each mailbox into dom[0..ndom-1].
 * Returns the number of mailboxes (1 or more; more than one is allowed
 * only when a Sender: exists, which the caller decides), or -1 with *err
 * set to 550 5.6.0 if the value is malformed, uses group syntax, a domain
 * literal or a route, or has more than ndom mailboxes.  Display names
 * (quoted strings, encoded-words) and comments are skipped, never read
 * as an address.
 */
int	smtp_header_from(const char *value, char dom[][SMTP_DATA_DOMAIN_SIZE],
	    size_t ndom, struct smtp_data_err *err);

#endif
