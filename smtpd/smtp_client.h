/*
 * Per client address bookkeeping of the smtp process: open sessions and
 * recent AUTH failures (see smtp_client.c).
 */
#ifndef SENDGATE_SMTP_CLIENT_H
#define SENDGATE_SMTP_CLIENT_H

struct sockaddr;

#define SMTP_CLIENTS_MAX		65536	/* addresses remembered */
#define SMTP_CLIENT_AUTH_FAILURES	10
#define SMTP_CLIENT_AUTH_WINDOW		(15 * 60)

/* Count a new session; -1 when the address has max open already. */
int	smtp_client_open(const struct sockaddr *, int);

#endif
