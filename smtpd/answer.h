/*
 * Answers to sendgatectl commands, built by the process that runs the
 * command (lka, queue): rows of typed fields, then one DONE with a
 * status and a message (see IMSG_LKA_ROW in proto.h).  Rows are sent as
 * they are built, so a list of any length needs no more memory than one
 * row.
 */
#ifndef SENDGATE_ANSWER_H
#define SENDGATE_ANSWER_H

#include <stdint.h>

struct mproc;
struct answer;

/* rowtype, donetype: the sender's IMSG_<PROC>_ROW and _DONE. */
struct answer	*answer_new(struct mproc *, uint32_t, uint32_t, uint64_t);
void		 answer_row(struct answer *, const char *, int);
void		 answer_str(struct answer *, const char *, const char *);
void		 answer_int(struct answer *, const char *, int64_t);
void		 answer_time(struct answer *, const char *, int64_t);
void		 answer_done(struct answer *, int, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

#endif
