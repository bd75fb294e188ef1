/*
 * lka's answers to sendgatectl commands go to control as IMSG_LKA_ROW
 * and IMSG_LKA_DONE; the rows are built by smtpd/answer.c.
 */
#include "answer.h"
#include "child.h"
#include "lka.h"
#include "proto.h"

struct answer *
lka_answer_new(uint64_t reqid)
{
	return answer_new(child_peer(PROC_CONTROL), IMSG_LKA_ROW,
	    IMSG_LKA_DONE, reqid);
}
