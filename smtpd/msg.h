/*
 * Typed imsg payloads.  Every item is a one-byte tag followed by its value,
 * so a reader that expects another type, or more items than were sent,
 * fails instead of reinterpreting bytes.  Readers return -1 with m->err set
 * on any mismatch; m_end() fails when bytes remain.
 */
#ifndef SENDGATE_MSG_H
#define SENDGATE_MSG_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "imsg.h"

#define MSG_PAYLOAD_MAX	(IMSG_MAX_SIZE - IMSG_HDR_SIZE)

struct msg_out {
	uint8_t		 buf[MSG_PAYLOAD_MAX];
	size_t		 len;
	int		 overflow;
};

struct msg_in {
	const uint8_t	*p;
	const uint8_t	*end;
	const char	*err;
};

void	 msg_out_init(struct msg_out *);
void	 m_add_u8(struct msg_out *, uint8_t);
void	 m_add_u32(struct msg_out *, uint32_t);
void	 m_add_u64(struct msg_out *, uint64_t);
void	 m_add_i64(struct msg_out *, int64_t);
void	 m_add_int(struct msg_out *, int);
void	 m_add_string(struct msg_out *, const char *);
void	 m_add_data(struct msg_out *, const void *, size_t);
void	 m_add_sockaddr(struct msg_out *, const struct sockaddr *);

void	 msg_in_init(struct msg_in *, const struct imsg *);
int	 m_get_u8(struct msg_in *, uint8_t *);
int	 m_get_u32(struct msg_in *, uint32_t *);
int	 m_get_u64(struct msg_in *, uint64_t *);
int	 m_get_i64(struct msg_in *, int64_t *);
int	 m_get_int(struct msg_in *, int *);
int	 m_get_string(struct msg_in *, char *, size_t);
int	 m_get_data(struct msg_in *, void *, size_t, size_t *);
int	 m_get_sockaddr(struct msg_in *, struct sockaddr_storage *);
int	 m_end(struct msg_in *);

#endif
