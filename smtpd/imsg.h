/*
 * imsg: framed messages over a stream socket, with at most one passed file
 * descriptor per message.
 *
 * A message is a 16-byte header followed by a payload:
 *	uint32_t type; uint16_t len (header included); uint16_t flags;
 *	uint32_t peerid; uint32_t pid;
 * at most IMSG_MAX_SIZE bytes in all.  Payloads are built and read with the
 * typed helpers of msg.h, never as raw structs.
 */
#ifndef SENDGATE_IMSG_H
#define SENDGATE_IMSG_H

#include <sys/queue.h>
#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#define IMSG_HDR_SIZE	16
#define IMSG_MAX_SIZE	16384
#define IMSG_FLAG_FD	0x0001		/* one fd travels with this message */
#define IMSG_FDQ_MAX	16		/* fds received but not yet claimed */
#define IMSG_WQ_MAX	(64 * 1024 * 1024)	/* bytes waiting to be written */

struct imsg {
	uint32_t	 type;
	uint32_t	 peerid;
	uint32_t	 pid;
	int		 fd;		/* -1 when none; owned by the receiver */
	const uint8_t	*data;		/* payload, valid until the next read */
	size_t		 len;		/* payload length */
};

struct imsg_wbuf {
	TAILQ_ENTRY(imsg_wbuf)	 entry;
	size_t			 len, off;
	int			 fd;	/* sent with the first byte, then closed */
	uint8_t			 buf[];
};

struct imsg_fdq {
	int		 fd;
	uint64_t	 start;	/* stream offsets of the bytes it came with */
	uint64_t	 end;
};

struct imsgbuf {
	int			 fd;
	uint8_t			 rbuf[2 * IMSG_MAX_SIZE];
	size_t			 rlen;		/* valid bytes in rbuf */
	size_t			 roff;		/* consumed bytes in rbuf */
	uint64_t		 rpos;		/* stream offset of rbuf[0] */
	struct imsg_fdq		 fdq[IMSG_FDQ_MAX];
	size_t			 nfdq;
	TAILQ_HEAD(, imsg_wbuf)	 wq;
	size_t			 wqlen;
	pid_t			 pid;		/* written into every header */
	const char		*err;		/* why the last call failed */
};

void	 imsgbuf_init(struct imsgbuf *, int);
void	 imsgbuf_clear(struct imsgbuf *);
ssize_t	 imsgbuf_read(struct imsgbuf *);
int	 imsgbuf_get(struct imsgbuf *, struct imsg *);
int	 imsgbuf_compose(struct imsgbuf *, uint32_t, uint32_t, int,
	    const void *, size_t);
int	 imsgbuf_write(struct imsgbuf *);
int	 imsgbuf_pending(const struct imsgbuf *);

#endif
