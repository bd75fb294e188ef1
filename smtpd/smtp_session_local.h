/*
 * What the two halves of an SMTP session share: smtp_session.c (the
 * connection, the commands, the answers from lka) and smtp_message.c
 * (the message: its file, the header fields the relay adds, the From:
 * check, the envelope, the answers from queue).  Only these two files
 * include it.
 */
#ifndef SENDGATE_SMTP_SESSION_LOCAL_H
#define SENDGATE_SMTP_SESSION_LOCAL_H

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/tree.h>

#include <netinet/in.h>

#include <stdint.h>
#include <time.h>

#include <event.h>

#include "smtp_auth.h"
#include "smtp_data.h"
#include "smtp_io.h"
#include "smtp_parse.h"
#include "smtp_session.h"

#define SMTP_QUEUE_ID_MAX	32

enum {
	S_CONNECT,	/* TLS handshake (smtps) or address check */
	S_GREETED,	/* banner sent, no EHLO yet */
	S_READY,	/* EHLO done, no transaction */
	S_MAIL,		/* MAIL accepted */
	S_RCPT,		/* at least one recipient */
	S_BDAT,		/* between chunks of a BDAT message */
	S_BODY,		/* reading DATA text or a BDAT chunk */
	S_CLOSING	/* last reply going out */
};

enum {
	W_NONE,
	W_TLS,		/* handshake */
	W_STARTTLS,	/* 220 going out, then the handshake */
	W_ADDR,		/* lka: connector by address, for MAIL */
	W_AUTH,		/* lka: connector by password */
	W_DELAY,	/* pause before a failed AUTH's reply */
	W_MAIL,		/* lka: envelope sender */
	W_FILE,		/* queue: message file */
	W_FROM,		/* lka: header From:/Sender: */
	W_RCPT,		/* lka: room for a recipient in the rate limits */
	W_COMMIT	/* queue: durable */
};

struct smtp_rcpt {
	TAILQ_ENTRY(smtp_rcpt)	 entry;
	char			*addr;
	int			 notify;
	char			 orcpt_type[16];
	char			*orcpt;
};

struct smtp_session {
	RB_ENTRY(smtp_session)	 entry;
	uint64_t		 id;
	struct smtp_io		 io;
	struct event		 timer;
	const struct smtp_listen *l;
	struct sockaddr_storage	 ss;
	char			 addr[INET6_ADDRSTRLEN + 8];
	char			 helo[SMTP_DOMAIN_MAX + 3];
	int			 state;
	int			 wait;
	int			 esmtp;
	int			 junk;
	int			 auth_failures;
	int			 auth_result;	/* during W_DELAY */
	struct smtp_auth	 auth;
	int			 in_auth;	/* an AUTH exchange is open */
	int			 addr_pending;	/* lka: connector by address */
	int			 addr_asked;	/* ask_addr was called */

	/* Who sends, once authenticated. */
	int64_t			 connector;	/* 0: nobody yet */
	int			 by_addr;
	char			 connector_name[65];
	char			 user[SMTP_AUTH_USER_MAX + 1];
	uint64_t		 size_max;
	uint64_t		 rcpt_max;

	/* The transaction. */
	struct smtp_path	 from;
	struct smtp_mail_params	 mp;
	TAILQ_HEAD(, smtp_rcpt)	 rcpts;
	size_t			 nrcpt;
	int			 rcpt_refused;
	struct smtp_rcpt	*rcpt_asking;	/* during W_RCPT */
	int			 bdat;		/* message by BDAT chunks */
	uint64_t		 bdat_left;	/* octets of this chunk */
	uint64_t		 bdat_chunk;	/* its size, for the reply */
	int			 bdat_last;
	int			 bdat_skip;	/* chunk to read and refuse */
	int			 bdat_resume;	/* state after a refused one */
	char			 bdat_err[128];	/* its reply */
	char			 qid[SMTP_QUEUE_ID_MAX + 1];
	int			 msgfd;
	int			 write_errno;
	uint64_t		 written;
	unsigned char		 last[2];	/* last octets written */
	int			 header_done;	/* fields added at its end */
	int			 received_due;	/* Received: not written yet */
	struct smtp_data	*data;
	time_t			 started;
};

extern const struct smtp_params	*smtp_session_params;

/* smtp_session.c */
void	smtp_session_reply(struct smtp_session *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	smtp_session_reply_err(struct smtp_session *,
	    const struct smtp_reply_err *);
int	smtp_session_junk(struct smtp_session *);
void	smtp_session_timer(struct smtp_session *, int64_t);
void	smtp_session_process(struct smtp_session *);
void	smtp_session_clean_text(char *);

/* smtp_message.c */
void	smtp_message_reset(struct smtp_session *);
void	smtp_rcpt_free(struct smtp_rcpt *);
void	smtp_message_ask_file(struct smtp_session *);
void	smtp_message_input(struct smtp_session *);
void	smtp_message_file(struct smtp_session *, int, const char *);
void	smtp_message_refused(struct smtp_session *, int, char *);
void	smtp_message_committed(struct smtp_session *, int, char *);
void	smtp_message_send_envelope(struct smtp_session *);
void	smtp_message_fail(struct smtp_session *, int, const char *,
	    const char *);

#endif
