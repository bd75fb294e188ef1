/*
 * Outbound body writer: CRLF lines, dot-stuffing, the terminator (see
 * mta_body.h).
 *
 * Each input octet produces at most two output octets and the flush at
 * most five; they go into held[] first and are drained from there, so
 * the output does not depend on how the input is chunked or how small
 * out is.  A CR is not written until its LF arrives: a bare CR is thus
 * refused before any part of it reaches the wire.
 */
#include <string.h>

#include "mta_body.h"

enum {
	B_BOL,		/* at the start of a line */
	B_MID,		/* inside a line */
	B_CR,		/* a CR was read, not written yet */
	B_FLUSHED,	/* the terminator is held or written */
	B_DONE		/* the terminator is written */
};

static const char *reasons[] = {
	[MTA_BODY_E_NONE] = "no error",
	[MTA_BODY_E_BARE_CR] = "bare CR in the stored message",
	[MTA_BODY_E_BARE_LF] = "bare LF in the stored message",
	[MTA_BODY_E_DONE] = "message data after the end of data",
};

void
mta_body_init(struct mta_body *b)
{
	memset(b, 0, sizeof(*b));
	b->state = B_BOL;
	b->error = MTA_BODY_E_NONE;
}

enum mta_body_error
mta_body_error(const struct mta_body *b)
{
	return b->error;
}

const char *
mta_body_reason(enum mta_body_error e)
{
	if ((unsigned int)e >= sizeof(reasons) / sizeof(reasons[0]))
		return "unknown error";
	return reasons[e];
}

static void
hold(struct mta_body *b, const char *s, size_t n)
{
	/* Only called with held[] drained: n <= MTA_BODY_HELD_MAX. */
	memcpy(b->held, s, n);
	b->nheld = n;
	b->heldpos = 0;
}

/* Writes held octets into out; returns 1 when none is left. */
static int
drain(struct mta_body *b, uint8_t *out, size_t outcap, size_t *o)
{
	size_t	n = b->nheld - b->heldpos;

	if (n > outcap - *o)
		n = outcap - *o;
	memcpy(out + *o, b->held + b->heldpos, n);
	*o += n;
	b->heldpos += n;
	if (b->heldpos < b->nheld)
		return 0;
	b->nheld = b->heldpos = 0;
	return 1;
}

/* One stored octet; -1 (nothing held) on a bare CR or LF. */
static int
step(struct mta_body *b, uint8_t c)
{
	char	one = (char)c;

	switch (b->state) {
	case B_CR:
		if (c != '\n') {
			b->error = MTA_BODY_E_BARE_CR;
			return -1;
		}
		hold(b, "\r\n", 2);
		b->state = B_BOL;
		return 0;
	case B_BOL:
	case B_MID:
		if (c == '\r') {
			b->state = B_CR;
			return 0;
		}
		if (c == '\n') {
			b->error = MTA_BODY_E_BARE_LF;
			return -1;
		}
		if (c == '.' && b->state == B_BOL)
			hold(b, "..", 2);	/* RFC 5321 4.5.2 */
		else
			hold(b, &one, 1);
		b->state = B_MID;
		return 0;
	}
	b->error = MTA_BODY_E_DONE;
	return -1;
}

size_t
mta_body_feed(struct mta_body *b, const uint8_t *in, size_t len,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	size_t	i = 0, o = 0;

	*outlen = 0;
	if (b->error != MTA_BODY_E_NONE)
		return 0;
	if (b->state == B_FLUSHED || b->state == B_DONE) {
		if (len > 0)
			b->error = MTA_BODY_E_DONE;
		return 0;
	}
	while (drain(b, out, outcap, &o) && i < len) {
		if (step(b, in[i]) == -1)
			break;
		i++;
	}
	*outlen = o;
	return i;
}

int
mta_body_flush(struct mta_body *b, uint8_t *out, size_t outcap,
    size_t *outlen)
{
	size_t	o = 0;
	int	done;

	*outlen = 0;
	if (b->error != MTA_BODY_E_NONE)
		return -1;
	if (b->state == B_DONE)
		return 1;
	if (b->state == B_CR) {
		b->error = MTA_BODY_E_BARE_CR;	/* the last octet */
		return -1;
	}
	if (b->state != B_FLUSHED) {
		/* What the last stored octet produced goes out first. */
		if (!drain(b, out, outcap, &o)) {
			*outlen = o;
			return 0;
		}
		if (b->state == B_MID)
			hold(b, "\r\n.\r\n", 5);
		else
			hold(b, ".\r\n", 3);
		b->state = B_FLUSHED;
	}
	done = drain(b, out, outcap, &o);
	*outlen = o;
	if (!done)
		return 0;
	b->state = B_DONE;
	return 1;
}
