/*
 * The outbound SMTP client protocol of the mta process (RFC 5321, 1869,
 * 2920, 3207, 3461, 4954, 6152, 6531; SECURITY.md O1, O2, F2) as a
 * sans-I/O state machine.  The caller owns the socket, the TLS layer,
 * the reply parser (mta_reply.h) and the body writer (mta_body.h); the
 * machine says what to send next and what the replies mean.  Nothing is
 * allocated: the client, its parameters and the message (with its
 * per-recipient results) live in memory the caller owns and keeps for as
 * long as the machine uses them.
 *
 * The caller's loop, driven by mta_client_event():
 *
 *  connect; mta_reply_init(p); mta_reply_expect(p, 1)	(the greeting)
 *  MTA_CLIENT_WRITE	mta_client_output() gives command bytes and the
 *			number of replies they await: send them all, then
 *			mta_reply_expect(p, n)
 *  MTA_CLIENT_READ	feed the parser; each complete reply goes to
 *			mta_client_input(); a parser error, EOF or timeout
 *			goes to mta_client_protocol_error()/_abort()
 *  MTA_CLIENT_NEED_TLS	"220" to STARTTLS: check mta_reply_drained(p,
 *			buffered) (O2: refuse plaintext sent after it),
 *			do the handshake, mta_reply_init(p), then
 *			mta_client_tls_done(c, ok)
 *  MTA_CLIENT_SEND_BODY	"354": stream the body through mta_body and
 *			flush it, then mta_client_body_done() and
 *			mta_reply_expect(p, 1); a body writer error means
 *			closing WITHOUT the terminator and _abort() instead
 *  MTA_CLIENT_MESSAGE_DONE	every recipient of the message has its final
 *			result; as for READY the caller goes on with
 *  MTA_CLIENT_READY	mta_client_message() (the next transaction) or
 *			mta_client_quit()
 *  MTA_CLIENT_CLOSED	QUIT was answered: close
 *  MTA_CLIENT_FATAL	close now; mta_client_failure() says why and
 *			whether it is temporary.  A message given and not
 *			reported by MESSAGE_DONE is finished too: every
 *			recipient without a final result got the failure.
 *
 * Decisions:
 *  - TLS: OPPORTUNISTIC uses STARTTLS when offered and stays plain when
 *    it is not offered or refused; REQUIRE fails the connection
 *    temporarily (4.7.4) in both cases, after QUIT and before any
 *    transaction.  A failed handshake is a temporary failure (4.7.5)
 *    with either policy: the connection cannot go back to plaintext (the
 *    caller may retry plain on a new connection under OPPORTUNISTIC).
 *    After TLS, EHLO is sent again and the earlier keywords forgotten.
 *  - AUTH PLAIN with an initial response, only inside TLS.  Credentials
 *    and no TLS, no AUTH PLAIN offered, or AUTH refused: temporary
 *    failure of the connection (4.7.x), never mail sent unauthenticated
 *    to a smarthost that would bounce it (nor credentials in clear, O2).
 *  - Deferred RSET: after a failed transaction (MAIL refused, no RCPT
 *    accepted, DATA refused) RSET goes in front of the next MAIL, in the
 *    same pipelined group; QUIT needs none.  After the final reply to
 *    the body no RSET is needed, whatever the reply.
 *  - An 8BITMIME message to a server without 8BITMIME is refused
 *    permanently, 5.6.3 (RFC 6152 3: downgrade or return it; converting
 *    would break our DKIM signature).  SMTPUTF8 likewise, 5.6.7; a size
 *    over the server's SIZE, 5.3.4; nothing is sent for them.
 *  - 421 to any command: the server is closing, everything pending gets
 *    it (temporary), no QUIT.  A reply code of the wrong class (e.g. 250
 *    to DATA, 354 to MAIL) is a protocol error: 4.4.2, closed at once.
 *  - Results of the server carry its code, enhanced code and text (cut at
 *    MTA_CLIENT_TEXT_MAX with "..."); synthetic ones our own.
 *  - DSN parameters only when the server offers DSN; ORCPT only of type
 *    "rfc822" (a "utf-8" ORCPT is left out).  BODY= only with 8BITMIME,
 *    SMTPUTF8 only with SMTPUTF8, SIZE= only with SIZE.
 *  - Every envelope value is checked before anything is sent: a control
 *    byte (CR, LF, NUL, ...) anywhere, an 8-bit byte outside an SMTPUTF8
 *    message or a value over its cap refuses the whole message,
 *    permanently (5.3.0: a broken queue entry is not fixed by waiting).
 *    Each built command is checked once more before it is written.
 */
#ifndef SENDGATE_MTA_CLIENT_H
#define SENDGATE_MTA_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "mta_reply.h"

#define MTA_CLIENT_RCPT_MAX	100	/* per transaction, RFC 5321 4.5.3.1.8 */
#define MTA_CLIENT_ADDR_MAX	(64 * 4 + 1 + 255)	/* local@domain */
#define MTA_CLIENT_HELO_MAX	255
#define MTA_CLIENT_CRED_MAX	255	/* user, password */
#define MTA_CLIENT_TEXT_MAX	512	/* of a result's text */
/*
 * The longest command: RCPT with an address, NOTIFY and an ORCPT of
 * SMTP_ORCPT_MAX octets each xtext-encoded into three.  An output buffer
 * of this size always makes progress.
 */
#define MTA_CLIENT_CMD_MAX	2304

enum mta_client_tls {
	MTA_CLIENT_TLS_OPPORTUNISTIC,
	MTA_CLIENT_TLS_REQUIRE,
	/*
	 * Never STARTTLS, even when offered: the plaintext retry after a
	 * failed opportunistic handshake, and a "relay via ... plain".
	 */
	MTA_CLIENT_TLS_NONE,
	/* The caller did TLS from the first byte (implicit TLS, 465). */
	MTA_CLIENT_TLS_IMPLICIT
};

struct mta_client_params {
	const char		*helo;		/* our name, for EHLO/HELO */
	enum mta_client_tls	 tls;
	const char		*auth_user;	/* NULL: no AUTH */
	const char		*auth_pass;
};

enum mta_client_status {
	MTA_CLIENT_PENDING = 0,		/* nothing known yet */
	MTA_CLIENT_ACCEPTED,		/* RCPT accepted, data not yet */
	MTA_CLIENT_DELIVERED,		/* final reply 2xx */
	MTA_CLIENT_TEMPFAIL,
	MTA_CLIENT_PERMFAIL
};

struct mta_client_result {
	enum mta_client_status	 status;
	int			 code;
	char			 enhanced[MTA_REPLY_ENHANCED_MAX + 1];
	char			 text[MTA_CLIENT_TEXT_MAX + 1];
};

/* Values as decoded in the queue; the machine encodes them. */
struct mta_client_rcpt {
	const char		*addr;		/* without <> */
	int			 notify;	/* 0, SMTP_NOTIFY_* bits */
	const char		*orcpt_type;	/* "rfc822" or NULL */
	const char		*orcpt;		/* decoded xtext */
	struct mta_client_result result;	/* written by the machine */
};

struct mta_client_msg {
	const char		*sender;	/* "" for <> */
	uint64_t		 size;		/* of the stored message */
	int			 body;		/* 0, SMTP_BODY_* */
	int			 smtputf8;
	int			 ret;		/* 0, SMTP_RET_* */
	const char		*envid;		/* NULL or decoded xtext */
	struct mta_client_rcpt	*rcpt;
	size_t			 nrcpt;		/* 1..MTA_CLIENT_RCPT_MAX */
};

enum mta_client_event {
	MTA_CLIENT_WRITE,
	MTA_CLIENT_READ,
	MTA_CLIENT_NEED_TLS,
	MTA_CLIENT_SEND_BODY,
	MTA_CLIENT_MESSAGE_DONE,
	MTA_CLIENT_READY,
	MTA_CLIENT_CLOSED,
	MTA_CLIENT_FATAL
};

/* Server extensions, from the last EHLO. */
#define MTA_CLIENT_EXT_PIPELINING	0x01
#define MTA_CLIENT_EXT_SIZE		0x02
#define MTA_CLIENT_EXT_8BITMIME		0x04
#define MTA_CLIENT_EXT_SMTPUTF8		0x08
#define MTA_CLIENT_EXT_DSN		0x10
#define MTA_CLIENT_EXT_STARTTLS		0x20
#define MTA_CLIENT_EXT_AUTH_PLAIN	0x40

/* Private state; read only through the functions below. */
struct mta_client {
	const struct mta_client_params	*params;
	int			 state;		/* see mta_client.c */
	int			 cmd;		/* single command to send */
	unsigned int		 awaited;	/* replies outstanding */
	unsigned int		 ext;		/* MTA_CLIENT_EXT_* */
	uint64_t		 size_max;	/* 0: no limit */
	int			 tls;		/* TLS is up */
	int			 rset;		/* RSET before next MAIL */
	int			 done;		/* message reported done */
	struct mta_client_msg	*msg;
	/* The pipelined group RSET? MAIL RCPT... DATA, by position. */
	size_t			 group_base;	/* 1 with RSET */
	size_t			 group_end;	/* positions to send */
	size_t			 sent;		/* positions sent */
	size_t			 replied;	/* positions answered */
	int			 mail_ok;
	size_t			 accepted;
	struct mta_client_result failure;	/* for FATAL */
	int			 failed;
};

/*
 * Starts a connection: the greeting is awaited.  Returns -1 with errno
 * EINVAL for a HELO name or credentials that are empty, too long, or
 * hold a control or 8-bit byte (nothing is started then), else 0.
 */
int	mta_client_init(struct mta_client *, const struct mta_client_params *);

/* What the caller does next (see above). */
enum mta_client_event	mta_client_event(const struct mta_client *);

/*
 * Writes the next whole commands into buf (never part of one) and sets
 * *len and *nreplies, the replies they await.  With PIPELINING, RSET,
 * MAIL, every RCPT and DATA come in one call when cap allows; without,
 * one command per reply.  Returns 0 (*len is 0 when there is nothing to
 * send), or -1: ENOBUFS when the next command does not fit an empty buf
 * (MTA_CLIENT_CMD_MAX always does).
 */
int	mta_client_output(struct mta_client *, uint8_t *buf, size_t cap,
	    size_t *len, unsigned int *nreplies);

/* A complete reply; returns the next event. */
enum mta_client_event	mta_client_input(struct mta_client *,
	    const struct mta_reply *);

/* The STARTTLS handshake succeeded (ok) or failed. */
enum mta_client_event	mta_client_tls_done(struct mta_client *, int ok);

/* The body and its terminator were sent: one reply is awaited. */
enum mta_client_event	mta_client_body_done(struct mta_client *);

/*
 * Starts a transaction (in READY or MESSAGE_DONE).  The results are
 * reset and written as they become known.  Returns MESSAGE_DONE at once
 * when the message cannot go to this server (SIZE, SMTPUTF8, 8BITMIME,
 * a bad envelope value); a call in another state or with 0 or too many
 * recipients is a caller bug: FATAL.
 */
enum mta_client_event	mta_client_message(struct mta_client *,
	    struct mta_client_msg *);

/* Ends the session (in READY or MESSAGE_DONE): QUIT. */
enum mta_client_event	mta_client_quit(struct mta_client *);

/*
 * The connection is unusable (EOF, timeout, TLS error, a body writer
 * error): FATAL, everything pending gets code (4xx temporary, 5xx
 * permanent), enhanced and text.  The first failure is kept.
 */
enum mta_client_event	mta_client_abort(struct mta_client *, int code,
	    const char *enhanced, const char *text);

/* A reply parser error: temporary failure 4.4.2 (O1), FATAL. */
enum mta_client_event	mta_client_protocol_error(struct mta_client *,
	    enum mta_reply_error);

/* Why FATAL: status TEMPFAIL or PERMFAIL, code, enhanced, text. */
const struct mta_client_result	*mta_client_failure(
	    const struct mta_client *);

/* MTA_CLIENT_EXT_* offered by the server in its last EHLO reply. */
unsigned int	mta_client_extensions(const struct mta_client *);

#endif
