/*
 * The on-disk queue, under one directory (the queue process's chroot):
 *
 *	incoming/<id>		body being received (smtp writes it)
 *	incoming/<id>.env	envelope being written at commit, when it is
 *				not the body's attribute
 *	queue/<id>.msg		committed body; its attribute
 *				user.sendgate.envelope is the envelope of a
 *				message committed so (its arrival the commit)
 *	queue/<id>.env		committed or updated envelope: its arrival is
 *				the commit; it overrides the attribute
 *	corrupt/<id>.env	what recovery could not make sense of
 *	spare/<n>		emptied files of delivered messages, for reuse
 *
 * Everything is reached with *at() calls on directory fds, O_NOFOLLOW,
 * so the store works the same in the chroot and in a test directory.
 *
 * Functions that answer an SMTP client return the reply code (250, 451,
 * 452, 552) and set *text to the reply text after the code.
 */
#ifndef SENDGATE_QUEUE_STORE_H
#define SENDGATE_QUEUE_STORE_H

#include <stdint.h>

#include "envelope.h"

#define QUEUE_STORE_RESERVE_PCT		5	/* blocks and inodes kept free */
#define QUEUE_STORE_RESERVE_BYTES	(1024 * 1024)
#define QUEUE_STORE_ENV_FILE_MAX	(32 * 1024 * 1024)
#define QUEUE_STORE_ID_TRIES		16	/* fresh ids tried at create */

/*
 * Take the store under dirfd (not closed, not kept): create the three
 * directories (0700) if missing and recover what a crash left.  Returns
 * 0, or -1 with errno; the caller treats that as a start-up failure.
 */
int	queue_store_open(int);
void	queue_store_close(void);

/*
 * A new message: incoming/<id>, mode 0600.  On 0, id (ENVELOPE_ID_LEN+1
 * bytes) is set, *wfd is the write-only fd for smtp and *rfd a copy of
 * it (same open file) the caller keeps for commit or rollback.  Opened
 * before any byte is written, it sees every writeback error of the body.
 * Otherwise returns 451 or 452 (storage below the reserve).
 */
int	queue_store_create(char *, int *, int *, const char **);

/*
 * A commit in four steps, so that a batch of messages shares the syncs:
 * prepare each (the body must hold size octets; the envelope becomes the
 * body's attribute, or is written to incoming/<id>.env: *envfile 0 or
 * 1; e->id and e->size are set; rfd is closed), sync, publish each
 * (rename body, then the envelope file if envfile, into queue/), sync
 * again.
 * Only after the second sync is a message durable.  Each returns 250, or
 * 451, 452 (no space), 552 (too big) with *text set; prepare and publish
 * remove the message's files on failure, and after a failed sync the
 * caller discards every message of the batch.
 */
int	queue_store_prepare(const char *, int, struct envelope *, uint64_t,
	    int *, const char **);
int	queue_store_sync(const char **);
int	queue_store_publish(const char *, int, const char **);
void	queue_store_discard(const char *);

/* The four steps for one message. */
int	queue_store_commit(const char *, int, struct envelope *, uint64_t,
	    const char **);

/* Forget an uncommitted message; rfd (-1: none) is closed. */
void	queue_store_rollback(const char *, int);

/*
 * Call cb for each committed envelope until it returns non-zero (which
 * is then returned).  An envelope that does not decode is skipped and
 * logged.  Returns 0, or -1 with errno when queue/ cannot be read.
 */
int	queue_store_list(int (*)(const struct envelope *, void *), void *);

/*
 * One committed message by id: its envelope decoded into e (initialized
 * here; envelope_free() it on success only).  Returns 0, or -1 with
 * errno EINVAL (not an id), ENOENT (no such committed message), EIO (the
 * envelope does not decode; logged).
 */
int	queue_store_get(const char *, struct envelope *);

/*
 * Remove a committed message: a body with its envelope attribute at
 * once; else its attribute, then the envelope file (the point of no
 * return: a body left without either is what recovery removes), then
 * the body; then fsync of queue/.  A message still in incoming/ is not
 * touched.  Returns 0, or -1 with errno EINVAL (not an id), ENOENT (no
 * such committed message), or the errno of the unlink or the fsync.
 */
int	queue_store_remove(const char *);

/* The committed body, read only: an fd, or -1 with errno. */
int	queue_store_open_body(const char *);

/*
 * Atomically replace the committed envelope of e->id with e (written,
 * fsynced, renamed over it).  0, or -1 with errno: ENOENT when the
 * message is gone (removed meanwhile: nothing is written).  The rename
 * is durable after the next queue_store_sync_queue().  The file takes
 * precedence over the attribute the body may have kept.
 */
int	queue_store_update(const struct envelope *);

/*
 * queue_store_remove() without the fsync of queue/: delivered messages
 * are removed in batches and queue_store_sync_queue() makes the batch
 * durable (a removal lost to a crash is a duplicate delivery, never a
 * lost message).  Its files are kept, emptied, in spare/ for the next
 * messages (creating files is costly): only for a message no task is out
 * for.
 */
int	queue_store_unlink(const char *);
int	queue_store_sync_queue(void);

#endif
