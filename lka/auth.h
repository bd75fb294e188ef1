/*
 * Who is sending: a connector by its SMTP credentials or by the client's
 * source network, and whether it may use a sender domain.  lka answers
 * smtp's questions with these; the imsg comes with the SMTP session.
 */
#ifndef SENDGATE_AUTH_H
#define SENDGATE_AUTH_H

#include <stddef.h>
#include <stdint.h>

struct sendgated_conf;
struct sockaddr;
struct state_connector;

#define AUTH_TEMPFAIL	(-2)	/* auth_password: try again later */

int	auth_password(const char *, const char *, size_t,
	    struct state_connector *, char *, size_t);
int	auth_address(const struct sockaddr *, struct state_connector *);
int	auth_sender(const struct state_connector *, const char *,
	    const struct sendgated_conf *, int64_t, char *, size_t);

#endif
