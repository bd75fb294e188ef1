/*
 * Answers to sendgatectl commands (see answer.h): one row builder for
 * every process that answers, parameterised by its message types.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "answer.h"
#include "log.h"
#include "mproc.h"
#include "msg.h"

struct answer {
	struct mproc	*peer;
	uint32_t	 rowtype;
	uint32_t	 donetype;
	uint64_t	 reqid;
	int		 open;		/* a row is being built */
	struct msg_out	 m;
};

struct answer *
answer_new(struct mproc *peer, uint32_t rowtype, uint32_t donetype,
    uint64_t reqid)
{
	struct answer	*a;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		fatal("answer_new");
	a->peer = peer;
	a->rowtype = rowtype;
	a->donetype = donetype;
	a->reqid = reqid;
	return a;
}

static void
answer_flush(struct answer *a)
{
	if (!a->open)
		return;
	m_add_string(&a->m, "");
	mproc_send(a->peer, a->rowtype, 0, -1, &a->m);
	a->open = 0;
}

/* Start a row of the given kind; single: one object, not a list item. */
void
answer_row(struct answer *a, const char *kind, int single)
{
	answer_flush(a);
	msg_out_init(&a->m);
	m_add_u64(&a->m, a->reqid);
	m_add_string(&a->m, kind);
	m_add_u8(&a->m, single != 0);
	a->open = 1;
}

void
answer_str(struct answer *a, const char *key, const char *value)
{
	m_add_string(&a->m, key);
	m_add_u8(&a->m, 's');
	m_add_string(&a->m, value);
}

void
answer_int(struct answer *a, const char *key, int64_t value)
{
	m_add_string(&a->m, key);
	m_add_u8(&a->m, 'i');
	m_add_i64(&a->m, value);
}

/* A time as ISO 8601 UTC, "never" for 0. */
void
answer_time(struct answer *a, const char *key, int64_t t)
{
	char		 buf[32];
	struct tm	 tm;
	time_t		 tt = (time_t)t;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, sizeof(buf), "never");
	answer_str(a, key, buf);
}

/* Finish: status 0 done, 1 refused; the message goes to the operator. */
void
answer_done(struct answer *a, int status, const char *fmt, ...)
{
	struct msg_out	 m;
	char		 msg[1024];
	va_list		 ap;

	answer_flush(a);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msg_out_init(&m);
	m_add_u64(&m, a->reqid);
	m_add_int(&m, status);
	m_add_string(&m, msg);
	mproc_send(a->peer, a->donetype, 0, -1, &m);
	free(a);
}
