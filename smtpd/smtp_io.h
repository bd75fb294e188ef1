/*
 * Buffered, non-blocking I/O of one SMTP connection on the libevent
 * loop, in plain text or through libtls (implicit TLS or after
 * STARTTLS).  The session sees two buffers and one callback.
 *
 * The callback is called at most once per readiness event, with the set
 * of things that happened; it may free the io (smtp_io_free), after
 * which the io code does not touch it again.  Output is only ever
 * written from the event loop, never from inside the callback, so the
 * callback never re-enters.
 */
#ifndef SENDGATE_SMTP_IO_H
#define SENDGATE_SMTP_IO_H

#include <event.h>

#include "smtp_hspool.h"

struct tls;

#define SMTP_IO_IN_MAX		(64 * 1024)	/* read no further */
#define SMTP_IO_READ_CHUNK	16384

/* What the callback is told (a bit set). */
#define SMTP_IO_DATAIN		0x01	/* new input in io->in */
#define SMTP_IO_DRAINED		0x02	/* all output written */
#define SMTP_IO_TLSREADY	0x04	/* TLS handshake done */
#define SMTP_IO_CLOSED		0x08	/* end of stream or error: io->error */

struct smtp_io;
typedef void	(*smtp_io_cb)(struct smtp_io *, int, void *);

struct smtp_io {
	int			 fd;
	struct tls		*tls;
	int			 state;		/* see smtp_io.c */
	int			 paused;	/* session reads no input */
	int			 rd_wants_out;	/* TLS read waits to write */
	int			 wr_wants_in;	/* TLS write waits to read */
	int			 hs_want;	/* handshake: EV_READ, EV_WRITE */
	int			 hs_busy;	/* a handshake step is out */
	int			 hs_inline;	/* later steps on the loop */
	struct smtp_hsjob	 hs_job;
	struct event		 ev_read;
	struct event		 ev_write;
	struct event		 ev_soon;	/* readiness made up by hand */
	short			 soon;		/* EV_READ, EV_WRITE for it */
	int			 read_armed;	/* ev_read is in epoll */
	int			 read_wanted;	/* and should be */
	int			 pending;	/* events for the next callback */
	int			 write_armed;
	int			 wr_blocked;	/* the last write would block */
	unsigned char		*rb;		/* read for libtls, not taken */
	size_t			 rb_off;
	size_t			 rb_len;
	int			 rd_drained;	/* the last read emptied it */
	int			 last;		/* smtp_io_last was called */
	struct evbuffer		*in;
	struct evbuffer		*out;
	smtp_io_cb		 cb;
	void			*arg;
	const char		*error;		/* why CLOSED */
};

/* The io starts paused: nothing is read before smtp_io_resume. */
int	smtp_io_init(struct smtp_io *, struct event_base *, int, smtp_io_cb,
	    void *);
void	smtp_io_free(struct smtp_io *);

/* Start a server handshake on the connection (ctx: the pki's). */
int	smtp_io_starttls(struct smtp_io *, struct tls *);

/* Stop or resume reading input (the bytes already read stay). */
void	smtp_io_pause(struct smtp_io *);
void	smtp_io_resume(struct smtp_io *);

/* Schedule the output buffer to be written. */
void	smtp_io_flush(struct smtp_io *);

/*
 * The output queued now is the last: under TLS it leaves in one segment
 * with the close_notify that smtp_io_free sends.
 */
void	smtp_io_last(struct smtp_io *);

/* 1 once a TLS session is up. */
int	smtp_io_tls(const struct smtp_io *);

#endif
