/*
 * Validation of the names an operator gives sendgatectl and lka stores:
 * connector names, domains (with IDN conversion), verification tokens,
 * SMTP AUTH usernames and source networks.  No I/O: each function takes
 * a string and returns 0, or -1 with a one-line reason that contains no
 * raw control bytes (it ends up on stderr and in the log).
 */
#ifndef SENDGATE_NAMES_H
#define SENDGATE_NAMES_H

#include <stddef.h>
#include <stdint.h>

struct sockaddr;

#define NAMES_CONNECTOR_MAX	64	/* bytes of [a-z0-9._-] */
#define NAMES_DOMAIN_MAX	253	/* A-label bytes, no root dot */
#define NAMES_LABEL_MAX		63	/* bytes of one A-label */
#define NAMES_TOKEN_LEN		40	/* lowercase hex digits */
#define NAMES_USERNAME_MAX	64	/* bytes of [A-Za-z0-9._@+-] */

/*
 * A domain as typed may carry characters that IDNA mapping removes, so
 * its cap is looser than NAMES_DOMAIN_MAX.  Each code point of a U-label
 * costs at least one byte of its A-label and at most four of UTF-8.
 */
#define NAMES_DOMAIN_TYPED_MAX	1024
#define NAMES_DOMAIN_UNICODE_MAX (4 * NAMES_DOMAIN_MAX)

/* "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128" and the NUL */
#define NAMES_CIDR_STRLEN	50

struct names_cidr {
	int		family;		/* AF_INET or AF_INET6 */
	uint8_t		addr[16];	/* network order; host bits zero */
	int		prefix;		/* 0..32 or 0..128 */
};

int	names_connector_valid(const char *, char *, size_t);
int	names_domain_normalize(const char *, char *, size_t, char *, size_t,
	    char *, size_t);
int	names_token_valid(const char *);
int	names_username_valid(const char *, char *, size_t);
int	names_cidr_parse(const char *, struct names_cidr *, char *, size_t);
int	names_cidr_match(const struct names_cidr *, const struct sockaddr *);
int	names_cidr_format(const struct names_cidr *, char *, size_t);

#endif
