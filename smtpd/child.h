/*
 * What every re-executed child process shares: its channels to the peers
 * the mesh gives it, orderly exit on SIGTERM, the ready message, and the
 * messages every child understands (log level).
 */
#ifndef SENDGATE_CHILD_H
#define SENDGATE_CHILD_H

#include "mproc.h"
#include "proc.h"
#include "sandbox.h"

struct sendgated_conf;

/* What the parent passes to a re-executed child on its command line. */
struct child_opts {
	enum proc_id		 self;
	const char		*config;
	int			 foreground;
	int			 verbose;
	enum sandbox_mode	 sandbox;
};

typedef void	(*child_main_fn)(struct sendgated_conf *,
		    const struct child_opts *);

void		 child_setup(const struct child_opts *, mproc_handler);
struct mproc	*child_peer(enum proc_id);
struct event_base *child_base(void);
void		 child_ready(void);
void		 child_run(void) __attribute__((noreturn));
int		 child_imsg(struct mproc *, struct imsg *);
void		 child_on_exit(void (*)(void));

void	smtp_main(struct sendgated_conf *, const struct child_opts *);
void	lka_main(struct sendgated_conf *, const struct child_opts *);
void	queue_main(struct sendgated_conf *, const struct child_opts *);
void	mta_main(struct sendgated_conf *, const struct child_opts *);
void	signer_main(struct sendgated_conf *, const struct child_opts *);
void	control_main(struct sendgated_conf *, const struct child_opts *);

#endif
