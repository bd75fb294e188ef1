/*
 * The process table: who the sendgated processes are, who talks to whom,
 * and on which fd a re-executed child finds each of its channels.
 */
#ifndef SENDGATE_PROC_H
#define SENDGATE_PROC_H

enum proc_id {
	PROC_PARENT = 0,
	PROC_SMTP,
	PROC_LKA,
	PROC_QUEUE,
	PROC_MTA,
	PROC_SIGNER,
	PROC_CONTROL,
	PROC_COUNT,
	PROC_CLIENT = PROC_COUNT	/* a sendgatectl connection */
};

/* A child finds its channel to peer P on fd PROC_FD_BASE + P. */
#define PROC_FD_BASE	3

#define PROC_BIT(p)	(1u << (p))

const char	*proc_name(enum proc_id);
int		 proc_lookup(const char *, enum proc_id *);
int		 proc_talks(enum proc_id, enum proc_id);

#endif
