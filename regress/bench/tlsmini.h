/*
 * tlsmini: the client side of a full TLS 1.3 handshake and its record
 * layer, on libcrypto's primitives, for the load generator (smtpload -M).
 * See tlsmini.c for what it does and does not do.
 */
#ifndef TLSMINI_H
#define TLSMINI_H

#include <stddef.h>
#include <sys/types.h>

struct tlsmini;

/* Waits until fd is readable (POLLIN) or writable (POLLOUT); 0 or -1. */
typedef int (*tlsmini_wait)(void *, short);

int		 tlsmini_init(void);
struct tlsmini	*tlsmini_new(int, const char *, tlsmini_wait, void *);
int		 tlsmini_handshake(struct tlsmini *);
ssize_t		 tlsmini_read(struct tlsmini *, void *, size_t);
ssize_t		 tlsmini_write(struct tlsmini *, const void *, size_t);
int		 tlsmini_pending(const struct tlsmini *);
const char	*tlsmini_error(const struct tlsmini *);
const char	*tlsmini_desc(const struct tlsmini *);
void		 tlsmini_free(struct tlsmini *);

#endif
