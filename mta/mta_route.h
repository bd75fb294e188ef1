/*
 * Pure helpers of the mta process: where a task's connections go (the
 * address list built from lka's MX answer, with loop detection), what
 * an MX failure means for the recipients, the TLS policy of a
 * destination, and the per-recipient delivery log line.  No I/O: the
 * unit tests (regress/unit/test_mta_route.c) run the same functions.
 */
#ifndef SENDGATE_MTA_ROUTE_H
#define SENDGATE_MTA_ROUTE_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "mta_client.h"
#include "mx.h"

#define MTA_ROUTE_ADDRS_MAX	(MX_HOSTS_MAX * MX_ADDRS_MAX)
#define MTA_SELF_LISTEN_MAX	64	/* listeners compared */
#define MTA_SELF_LOCAL_MAX	64	/* interface addresses compared */

/* One address to connect to, with the host name it came from. */
struct mta_route_addr {
	char			 host[DNS_NAME_MAX + 1];
	struct sockaddr_storage	 ss;		/* port set */
};

/*
 * What "myself" is: our listeners (address and port; a wildcard one
 * stands for every local address) and the addresses of the local
 * interfaces, collected before the sandbox.
 */
struct mta_self {
	struct sockaddr_storage	 listen[MTA_SELF_LISTEN_MAX];
	int			 nlisten;
	struct sockaddr_storage	 local[MTA_SELF_LOCAL_MAX];
	int			 nlocal;
};

enum mta_route_status {
	MTA_ROUTE_OK,		/* addrs to try, in order */
	MTA_ROUTE_LOOP,		/* the best destination is ourselves */
	MTA_ROUTE_NONE		/* no address at all */
};

int	mta_self_is(const struct mta_self *, const struct sockaddr_storage *);

/*
 * The addresses to try for an MX answer (status MX_OK), port set.  MX
 * hosts come in the order given; when one of them is ourselves only the
 * hosts of a strictly better preference are kept (RFC 5321 5.1), and
 * none left is a loop.  A smarthost (smarthost set) that is ourselves is
 * a loop.  Returns the status; *n is the number of addresses written.
 */
enum mta_route_status	mta_route_build(const struct mx_result *,
	    uint16_t port, int smarthost, const struct mta_self *,
	    struct mta_route_addr *, size_t cap, size_t *n);

/*
 * The recipients' result when there is nowhere to deliver: an MX status
 * other than MX_OK, or MTA_ROUTE_LOOP/NONE (mx is then MX_OK).
 */
void	mta_route_failure(enum mx_status, enum mta_route_status,
	    const char *domain, const char *why, struct mta_client_result *);

/* CONFIG_TLS_* of a destination domain (exact, case-insensitive). */
struct sendgated_conf;
int	mta_route_tls_policy(const struct sendgated_conf *, const char *);

/* MTA_RESULT_* of a final client status. */
int	mta_route_result(enum mta_client_status);

/*
 * dsn_relayed of a result: delivered to a server that took no DSN
 * parameters and the recipient asked for SUCCESS notices.
 */
int	mta_route_dsn_relayed(enum mta_client_status, unsigned int ext,
	    int notify);

/* The fields of one delivery log line. */
struct mta_log_entry {
	const char		*id;		/* queue id */
	const char		*connector;
	const char		*rcpt;
	const char		*host;		/* NULL: no connection */
	const struct sockaddr_storage *ss;
	const char		*tls;		/* "TLSv1.3", NULL: none */
	long long		 delay;		/* seconds */
	const struct mta_client_result *res;
};

/*
 * Formats the line "delivery id=... reply=\"...\"" into buf (always
 * NUL-terminated, cut when cap is short).  Bytes are left as they are
 * for log_info() to escape (control and 8-bit bytes become \xHH there,
 * smtpd/log.c: escaping here too would double the backslash); only a
 * '"' inside the reply becomes '\'', so that the field always ends at
 * its closing quote.  Returns the length written.
 */
size_t	mta_log_format(char *buf, size_t cap, const struct mta_log_entry *);

/* "addr" or "[v6]"-less address text of ss; buf of 64 bytes at least. */
const char	*mta_route_ntop(const struct sockaddr_storage *, char *,
		    size_t);

#endif
