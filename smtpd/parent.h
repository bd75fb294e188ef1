/*
 * The parent process: checks the filesystem, binds sockets, starts and
 * supervises the children, answers status and stop requests.
 */
#ifndef SENDGATE_PARENT_H
#define SENDGATE_PARENT_H

#define PARENT_READY_SEC	30	/* a child must be up within this */
#define PARENT_STOP_SEC		10	/* then the rest get SIGKILL */
#define PARENT_LISTEN_BACKLOG	512

struct sendgated_conf;
struct child_opts;

void	parent_main(struct sendgated_conf *, const struct child_opts *)
	    __attribute__((noreturn));

#endif
