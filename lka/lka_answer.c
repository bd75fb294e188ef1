/*
 * Answers to sendgatectl commands: rows of typed fields, then one DONE
 * with a status and a message (see IMSG_LKA_ROW in proto.h).  Rows are
 * sent as they are built, so a list of any length needs no more memory
 * than one row.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "child.h"
#include "lka.h"
#include "log.h"
#include "msg.h"
#include "proto.h"

struct lka_answer {
	uint64_t	 reqid;
	int		 open;		/* a row is being built */
	struct msg_out	 m;
};

struct lka_answer *
lka_answer_new(uint64_t reqid)
{
	struct lka_answer	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("lka_answer_new");
	a->reqid = reqid;
	return a;
}

static void
lka_answer_flush(struct lka_answer *a)
{
	if (!a->open)
		return;
	m_add_string(&a->m, "");
	mproc_send(child_peer(PROC_CONTROL), IMSG_LKA_ROW, 0, -1, &a->m);
	a->open = 0;
}

/* Start a row of the given kind; single: one object, not a list item. */
void
lka_answer_row(struct lka_answer *a, const char *kind, int single)
{
	lka_answer_flush(a);
	msg_out_init(&a->m);
	m_add_u64(&a->m, a->reqid);
	m_add_string(&a->m, kind);
	m_add_u8(&a->m, single != 0);
	a->open = 1;
}

void
lka_answer_str(struct lka_answer *a, const char *key, const char *value)
{
	m_add_string(&a->m, key);
	m_add_u8(&a->m, 's');
	m_add_string(&a->m, value);
}

void
lka_answer_int(struct lka_answer *a, const char *key, int64_t value)
{
	m_add_string(&a->m, key);
	m_add_u8(&a->m, 'i');
	m_add_i64(&a->m, value);
}

/* A time as ISO 8601 UTC, "never" for 0. */
void
lka_answer_time(struct lka_answer *a, const char *key, int64_t t)
{
	char		 buf[32];
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, sizeof(buf), "never");
	lka_answer_str(a, key, buf);
}

/* Finish: status 0 done, 1 refused; the message goes to the operator. */
void
lka_answer_done(struct lka_answer *a, int status, const char *fmt, ...)
{
	struct msg_out	 m;
	char		 msg[1024];
	va_list		 ap;

	lka_answer_flush(a);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msg_out_init(&m);
	m_add_u64(&m, a->reqid);
	m_add_int(&m, status);
	m_add_string(&m, msg);
	mproc_send(child_peer(PROC_CONTROL), IMSG_LKA_DONE, 0, -1, &m);
	free(a);
}
