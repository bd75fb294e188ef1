/*
 * mproc: one imsg channel on the libevent loop.
 *
 * Every received message is checked against the protocol table before the
 * handler sees it.  What happens on a broken channel (malformed message,
 * end of stream, write error) depends on the peer: for a trusted peer
 * (on_close == NULL) the process logs what was wrong and exits, which the
 * parent turns into an orderly shutdown of the daemon; for a sendgatectl
 * client, on_close is called and only that connection goes away.
 */
#ifndef SENDGATE_MPROC_H
#define SENDGATE_MPROC_H

#include <event.h>

#include "imsg.h"
#include "msg.h"
#include "proc.h"

struct mproc;
typedef void	(*mproc_handler)(struct mproc *, struct imsg *);
typedef void	(*mproc_closer)(struct mproc *, const char *);

struct mproc {
	struct imsgbuf		 ibuf;
	struct event		 ev_read;	/* persistent while open */
	struct event		 ev_write;	/* see mproc_update() */
	int			 active;
	int			 full;		/* the socket took not all */
	enum proc_id		 self;
	enum proc_id		 peer;
	mproc_handler		 handler;
	mproc_closer		 on_close;
	void			*arg;
	const char		*broken;	/* why the channel must close */
	char			 why[256];
};

void	 mproc_init(struct mproc *, int, enum proc_id, enum proc_id,
	    mproc_handler, mproc_closer, void *);
void	 mproc_send(struct mproc *, uint32_t, uint32_t, int,
	    const struct msg_out *);
void	 mproc_forward(struct mproc *, uint32_t, uint32_t,
	    const struct imsg *);
void	 mproc_malformed(struct mproc *, const struct imsg *,
	    const struct msg_in *);
void	 mproc_clear(struct mproc *);
int	 mproc_flush(struct mproc *);

#endif
