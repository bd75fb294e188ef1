/*
 * Base64 (RFC 4648 section 4) for every process: decoding for SMTP AUTH
 * and DKIM key records, encoding for the relay agent's AUTH PLAIN.
 */
#ifndef SENDGATE_BASE64_H
#define SENDGATE_BASE64_H

#include <stddef.h>

int	base64_value(int);
int	base64_decode(const char *, size_t, unsigned char *, size_t,
	    size_t *);

/* Padded encoding of len bytes plus a NUL: -1 if out is too small. */
#define BASE64_ENCODED_LEN(n)	(((n) + 2) / 3 * 4)
int	base64_encode(const unsigned char *, size_t, char *, size_t);

#endif
