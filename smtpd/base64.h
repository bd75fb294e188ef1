/*
 * Base64 decoding (RFC 4648 section 4) for every process: SMTP AUTH and
 * DKIM key records.
 */
#ifndef SENDGATE_BASE64_H
#define SENDGATE_BASE64_H

#include <stddef.h>

int	base64_value(int);
int	base64_decode(const char *, size_t, unsigned char *, size_t,
	    size_t *);

#endif
