/*
 * The envelope of a queued message and its on-disk encoding.  Pure:
 * bytes in, a struct out (or the reverse), no I/O.
 *
 * The encoding is a sequence of length-prefixed records
 *
 *	<tag> SP <decimal length> ":" <length bytes> LF
 *
 * in one fixed order, starting with "version" and ending with "end".  A
 * value may hold any byte (LF, CR, NUL included): nothing is ever parsed
 * out of a value, so no field can forge another (SECURITY.md I3).  The
 * order being fixed, an accepted file is exactly what envelope_encode()
 * writes for what was decoded.
 */
#ifndef SENDGATE_ENVELOPE_H
#define SENDGATE_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#define ENVELOPE_VERSION	2	/* 2: delivery state; 1 never shipped */
#define ENVELOPE_ID_LEN		16	/* lowercase hex */
#define ENVELOPE_RCPT_MAX	10000	/* recipients of one message */

/* Caps of the string fields, in octets. */
#define ENVELOPE_ADDR_MAX	1024	/* sender, recipient */
#define ENVELOPE_ENVID_MAX	512	/* RFC 3461 ENVID, decoded */
#define ENVELOPE_ORCPT_MAX	1024	/* RFC 3461 ORCPT, decoded */
#define ENVELOPE_ORCPT_TYPE_MAX	64	/* "rfc822", "utf-8" */
#define ENVELOPE_NAME_MAX	256	/* connector name */
#define ENVELOPE_USER_MAX	512	/* AUTH user */
#define ENVELOPE_CLIENT_MAX	128	/* client address */
#define ENVELOPE_HELO_MAX	1024	/* client name given in HELO */
#define ENVELOPE_TLS_MAX	256	/* "TLSv1.3 TLS_AES_256_GCM_SHA384" */
#define ENVELOPE_MTA_MAX	512	/* "mx.example.net[192.0.2.1]" */
#define ENVELOPE_LAST_MAX	1024	/* last reply, for a DSN */

/* Ranges of the small integers (smtp_parse.h: SMTP_BODY_* etc.). */
#define ENVELOPE_BODY_MAX	2
#define ENVELOPE_RET_MAX	2
#define ENVELOPE_NOTIFY_MAX	0x0f

/*
 * A string that may contain any byte.  s is NUL-terminated for the
 * convenience of callers that know it holds no NUL, or NULL for "".
 */
struct envelope_str {
	char	*s;
	size_t	 len;
};

/* Where a recipient stands; the delivery state is rewritten after tries. */
#define ENVELOPE_RCPT_PENDING	0	/* still to deliver */
#define ENVELOPE_RCPT_DONE	1	/* delivered, or given up (bounced) */

struct envelope_rcpt {
	struct envelope_str	 addr;
	int			 notify;	/* SMTP_NOTIFY_* bits */
	struct envelope_str	 orcpt_type;
	struct envelope_str	 orcpt;
	int			 state;		/* ENVELOPE_RCPT_* */
	int			 attempts;	/* made so far */
	int64_t			 next_try;	/* seconds, 0: at once */
	struct envelope_str	 last_mta;	/* host[addr] of the last try */
	struct envelope_str	 last;		/* its reply, "" none */
};

struct envelope {
	char			 id[ENVELOPE_ID_LEN + 1];
	struct envelope_str	 sender;	/* "" for <> */
	int			 body;		/* 0, SMTP_BODY_* */
	int			 smtputf8;
	int			 ret;		/* 0, SMTP_RET_* */
	struct envelope_str	 envid;
	int64_t			 connector_id;
	struct envelope_str	 connector;
	struct envelope_str	 auth_user;	/* "" when by address */
	struct envelope_str	 client_addr;
	struct envelope_str	 client_name;
	struct envelope_str	 tls;		/* "" without TLS */
	int64_t			 time;		/* arrival, seconds */
	uint64_t		 size;		/* body octets */
	int			 warned;	/* delay notice sent */
	struct envelope_rcpt	*rcpt;
	size_t			 nrcpt;
	size_t			 rcpt_alloc;
};

void		 envelope_init(struct envelope *);
void		 envelope_free(struct envelope *);
const char	*envelope_cstr(const struct envelope_str *);
int		 envelope_id_valid(const char *, size_t);

/*
 * Setters copy; -1 with errno EINVAL when over the field's cap (or the
 * recipient count is at ENVELOPE_RCPT_MAX: E2BIG), ENOMEM.
 */
int	envelope_set(struct envelope_str *, size_t, const void *, size_t);
int	envelope_rcpt_add(struct envelope *, const void *, size_t, int,
	    const void *, size_t, const void *, size_t);

/*
 * Encode into a new buffer (*out, *outlen; the caller frees it).  -1 with
 * errno EINVAL when a field breaks its cap or range, or there is no
 * recipient; ENOMEM.
 */
int	envelope_encode(const struct envelope *, uint8_t **, size_t *);

/*
 * Decode buf into e (initialized here; envelope_free() it on success
 * only).  Returns 0, or -1 with *why saying what was wrong.
 */
int	envelope_decode(struct envelope *, const uint8_t *, size_t,
	    const char **);

#endif
