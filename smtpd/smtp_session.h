/*
 * One SMTP submission session: the state machine that reads commands,
 * asks lka (who is this, may they send as this domain) and queue (a file
 * for the message, make it durable), and answers the client.  The
 * parsing lives in smtp_parse.c, smtp_data.c and smtp_auth.c; the bytes
 * move through smtp_io.c.
 */
#ifndef SENDGATE_SMTP_SESSION_H
#define SENDGATE_SMTP_SESSION_H

#include <sys/socket.h>

#include <stdint.h>

struct imsg;
struct mproc;
struct tls;

/* What a session needs to know of the server; smtp.c fills it. */
struct smtp_params {
	const char	*hostname;
	uint64_t	 size_max;	/* before AUTH: the config's default */
	uint64_t	 rcpt_max;
	int		 junk_max;
	int		 auth_failures_max;
	int64_t		 timeout_command;
	int64_t		 timeout_data;
	int64_t		 timeout_handshake;
};

/* A listener as sessions see it. */
struct smtp_listen {
	int		 smtps;		/* implicit TLS */
	struct tls	*tls;		/* server context of its pki */
	const char	*name;		/* "127.0.0.1:587", for logs */
};

/*
 * Hooks into smtp.c for what is shared between sessions of one client
 * address: whether AUTH is locked for it, and counting its failures.
 */
int	smtp_client_auth_locked(const struct sockaddr *);
void	smtp_client_auth_failed(const struct sockaddr *);
void	smtp_client_gone(const struct sockaddr *);

void	smtp_session_init(const struct smtp_params *);
/* Takes over fd; 0, or -1 when the session cannot be set up. */
int	smtp_session_new(int, const struct sockaddr *, socklen_t,
	    const struct smtp_listen *);
/* 1 if the message was one of the sessions' answers from lka or queue. */
int	smtp_session_imsg(struct mproc *, struct imsg *);
size_t	smtp_session_count(void);

#endif
