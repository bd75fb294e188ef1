/*
 * The on-disk queue (see queue_store.h).  The order of operations is the
 * promise of SECURITY.md section 5: nothing is acknowledged before body,
 * envelope and both directories are on disk, a failed sync is never
 * retried, and a failure leaves no file of the message behind.  Syncing
 * is by file system (syncfs), once per batch of messages: see
 * queue_store_sync.
 */
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "envelope.h"
#include "log.h"
#include "queue_store.h"

#define DIR_INCOMING	"incoming"
#define DIR_QUEUE	"queue"
#define DIR_CORRUPT	"corrupt"
#define DIR_SPARE	"spare"

/*
 * Emptied files kept for reuse.  Creating a file allocates an inode, and
 * ext4 without a journal skips, one by one, every inode deleted in the
 * last minutes: on the benchmark machine a create cost 260-430 us of CPU
 * after a busy hour, against 42 us to rename, truncate and write a kept
 * file.  The files of a delivered message go to spare/, emptied at once
 * (no mail, no envelope attribute and no disk space stays there), and
 * the next messages' come from there.  What spare/ holds at start is
 * removed: after a crash its state is not known.
 */
#define SPARE_MAX	256

/*
 * A new message's envelope is an extended attribute of its body file,
 * not a file of its own: one inode per message instead of two, and
 * creating a file is the queue's costliest step (see spare files
 * above).  An envelope too large for an attribute, a file system
 * without user attributes, and every updated envelope (queue_store_update)
 * are a file <id>.env beside the body, which then takes precedence: the
 * layout of queue_store.h with the envelope file optional.
 */
#define ENV_ATTR	"user.sendgate.envelope"
#define ENV_ATTR_MAX	3072

/* "<id>.msg", "<id>.env" */
#define NAME_MAX_LEN	(ENVELOPE_ID_LEN + 5)

#define TEXT_TEMPFAIL	"4.3.0 Temporary queue failure"
#define TEXT_NOSPACE	"4.3.1 Insufficient system storage"
#define TEXT_TOOBIG	"5.3.4 Message too big for system"

static struct {
	int	 incoming;
	int	 queue;
	int	 corrupt;
	int	 spare;
} store = { -1, -1, -1, -1 };

/* Slots of spare/ (file names "0" to "255") with a file, and without. */
static int	 spare_files[SPARE_MAX], spare_nfiles;
static int	 spare_slots[SPARE_MAX], spare_nslots;

/* The reply for a failed write, rename or fsync. */
static int
store_errcode(int err, const char **text)
{
	switch (err) {
	case ENOSPC:
	case EDQUOT:
		*text = TEXT_NOSPACE;
		return 452;
	case EFBIG:
		*text = TEXT_TOOBIG;
		return 552;
	default:
		*text = TEXT_TEMPFAIL;
		return 451;
	}
}

static void
store_name(char *buf, const char *id, const char *suffix)
{
	snprintf(buf, NAME_MAX_LEN + 1, "%s%s", id, suffix);
}

static int
store_dir(int dirfd, const char *name)
{
	int	 fd;

	if (mkdirat(dirfd, name, 0700) == -1 && errno != EEXIST)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	return fd;
}

static int
store_unlinkat(int dirfd, const char *name)
{
	return unlinkat(dirfd, name, 0);
}

/* unlinkat that does not mind a file already gone. */
static void
store_unlink(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT)
		log_warn("queue: unlink %s", name);
}

static int
store_exists(int dirfd, const char *name)
{
	struct stat	 st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 ||
	    errno != ENOENT;
}

/*
 * The envelope attribute of the body file dirfd/name, decoded.  -1 with
 * *why; errno ENODATA when the file has none (never committed, or its
 * envelope is a file), ENOENT when there is no such file.
 */
static int
store_read_env_attr(int dirfd, const char *name, struct envelope *e,
    const char **why)
{
	uint8_t	 buf[ENV_ATTR_MAX];
	ssize_t	 n;
	int	 fd, save;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		*why = strerror(errno);
		return -1;
	}
	n = fgetxattr(fd, ENV_ATTR, buf, sizeof(buf));
	save = errno;
	close(fd);
	if (n == -1) {
		if (save == ENOTSUP)
			save = ENODATA;
		*why = save == ENODATA ? "no envelope" : strerror(save);
		errno = save;
		return -1;
	}
	if (envelope_decode(e, buf, (size_t)n, why) == -1) {
		errno = EIO;
		return -1;
	}
	return 0;
}

/* Whether dirfd/name has no envelope attribute (errno ENOENT then). */
static int
store_attr_missing(int dirfd, const char *name)
{
	ssize_t	 n;
	int	 fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1)
		return 1;
	n = fgetxattr(fd, ENV_ATTR, NULL, 0);
	close(fd);
	if (n >= 0)
		return 0;
	errno = ENOENT;
	return 1;
}

/* Strip the envelope attribute from an open body file, if it has one. */
static int
store_strip_attr(int fd)
{
	if (fremovexattr(fd, ENV_ATTR) == -1 && errno != ENODATA &&
	    errno != ENOTSUP)
		return -1;
	return 0;
}

/* Read a whole envelope file and decode it; -1 with *why. */
static int
store_read_env(int dirfd, const char *name, struct envelope *e,
    const char **why)
{
	struct stat	 st;
	uint8_t		*buf = NULL;
	size_t		 off = 0;
	ssize_t		 n;
	int		 fd, rc = -1;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		*why = strerror(errno);
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > QUEUE_STORE_ENV_FILE_MAX) {
		*why = "not a regular file of a sane size";
		goto done;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		*why = "out of memory";
		goto done;
	}
	while (off < (size_t)st.st_size) {
		n = read(fd, buf + off, (size_t)st.st_size - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			*why = n == 0 ? "file shrank" : strerror(errno);
			goto done;
		}
		off += (size_t)n;
	}
	rc = envelope_decode(e, buf, off, why);
done:
	free(buf);
	close(fd);
	return rc;
}

/*
 * Everything in incoming/ is an uncommitted message: never acked.
 * Everything in spare/ is an emptied file (or one that was being emptied).
 */
static void
store_recover_dir(int dirfd, const char *dir, int report)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	if ((fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		log_warn("queue: recovery: %s", dir);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == -1)
			log_warn("queue: recovery: cannot remove %s/%s",
			    dir, de->d_name);
		else if (report)
			log_info("queue: recovery: removed uncommitted %s/%s",
			    dir, de->d_name);
	}
	closedir(d);
}

static void
spare_reset(void)
{
	int	 i;

	spare_nfiles = 0;
	for (i = 0; i < SPARE_MAX; i++)
		spare_slots[i] = SPARE_MAX - 1 - i;
	spare_nslots = SPARE_MAX;
}

/*
 * A kept file moved to dirfd/name (never over an existing one), empty and
 * open for writing; -1 with errno, ENOENT when none is kept, EEXIST when
 * name is taken.
 */
static int
spare_take(int dirfd, const char *name)
{
	char	 s[16];
	int	 fd, slot, save;

	if (spare_nfiles == 0) {
		errno = ENOENT;
		return -1;
	}
	slot = spare_files[--spare_nfiles];
	spare_slots[spare_nslots++] = slot;
	snprintf(s, sizeof(s), "%d", slot);
	if (renameat2(store.spare, s, dirfd, name, RENAME_NOREPLACE) == -1) {
		save = errno;
		(void)unlinkat(store.spare, s, 0);
		errno = save;
		return -1;
	}
	/* Emptied, envelope attribute stripped, when kept (spare_give);
	 * O_TRUNC all the same: nothing old goes out. */
	if ((fd = openat(dirfd, name, O_WRONLY | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		save = errno;
		(void)unlinkat(dirfd, name, 0);
		errno = save == EEXIST ? EIO : save;
	}
	return fd;
}

/* A new file dirfd/name for writing: a kept one, or created. */
static int
store_create_file(int dirfd, const char *name)
{
	int	 fd;

	if ((fd = spare_take(dirfd, name)) != -1 || errno == EEXIST)
		return fd;
	return openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
}

/*
 * dirfd/name is not needed any more: kept, emptied, in spare/ while there
 * is a free slot, else removed.  -1 with errno only when it is still
 * there (ENOENT: it was not).
 */
static int
spare_give(int dirfd, const char *name)
{
	char	 s[16];
	int	 fd, slot;

	if (spare_nslots == 0)
		return unlinkat(dirfd, name, 0);
	slot = spare_slots[spare_nslots - 1];
	snprintf(s, sizeof(s), "%d", slot);
	if (renameat(dirfd, name, store.spare, s) == -1)
		return unlinkat(dirfd, name, 0);
	spare_nslots--;
	if ((fd = openat(store.spare, s, O_WRONLY | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || store_strip_attr(fd) == -1) {
		if (fd != -1)
			close(fd);
		(void)unlinkat(store.spare, s, 0);
		spare_slots[spare_nslots++] = slot;
		return 0;
	}
	close(fd);
	spare_files[spare_nfiles++] = slot;
	return 0;
}

static void
store_to_corrupt(const char *name, const char *why)
{
	if (renameat(store.queue, name, store.corrupt, name) == -1)
		log_warn("queue: recovery: cannot move %s/%s to %s",
		    DIR_QUEUE, name, DIR_CORRUPT);
	else
		log_warnx("queue: recovery: %s/%s moved to %s: %s", DIR_QUEUE,
		    name, DIR_CORRUPT, why);
}

/* A bad envelope takes its body along: a human may still want it. */
static void
store_env_to_corrupt(const char *id, const char *why)
{
	char	 name[NAME_MAX_LEN + 1];

	store_name(name, id, ".env");
	store_to_corrupt(name, why);
	store_name(name, id, ".msg");
	if (store_exists(store.queue, name))
		store_to_corrupt(name, "its envelope is in corrupt/");
}

/*
 * One entry of queue/.  A body without its envelope (file or attribute)
 * was never committed; an envelope that does not decode or lost its body
 * is kept aside for a human, never delivered and never silently dropped.
 */
static void
store_recover_entry(const char *name)
{
	struct envelope	 e;
	char		 other[NAME_MAX_LEN + 1], id[ENVELOPE_ID_LEN + 1];
	const char	*why;
	size_t		 len = strlen(name);

	if (len != ENVELOPE_ID_LEN + 4 || !envelope_id_valid(name,
	    ENVELOPE_ID_LEN) || (strcmp(name + ENVELOPE_ID_LEN, ".msg") != 0 &&
	    strcmp(name + ENVELOPE_ID_LEN, ".env") != 0)) {
		store_to_corrupt(name, "not a queue file name");
		return;
	}
	memcpy(id, name, ENVELOPE_ID_LEN);
	id[ENVELOPE_ID_LEN] = '\0';
	if (strcmp(name + ENVELOPE_ID_LEN, ".msg") == 0) {
		store_name(other, id, ".env");
		if (store_exists(store.queue, other))
			return;
		if (store_read_env_attr(store.queue, name, &e, &why) == 0) {
			if (strcmp(e.id, id) != 0)
				store_to_corrupt(name, "id of its envelope "
				    "attribute differs from the file name");
			envelope_free(&e);
			return;
		}
		if (errno != ENODATA) {
			if (errno != ENOENT)
				store_to_corrupt(name, why);
			return;
		}
		if (unlinkat(store.queue, name, 0) == -1) {
			/* gone meanwhile with its corrupt envelope */
			if (errno != ENOENT)
				log_warn("queue: recovery: cannot remove "
				    "%s/%s", DIR_QUEUE, name);
		}
		else
			log_info("queue: recovery: removed %s/%s, never "
			    "committed", DIR_QUEUE, name);
		return;
	}
	store_name(other, id, ".msg");
	if (store_read_env(store.queue, name, &e, &why) == -1) {
		store_env_to_corrupt(id, why);
		return;
	}
	if (strcmp(e.id, id) != 0)
		store_env_to_corrupt(id, "id differs from the file name");
	else if (!store_exists(store.queue, other))
		store_to_corrupt(name, "no message body");
	envelope_free(&e);
}

static int
store_recover_queue(void)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	if ((fd = openat(store.queue, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 &&
		    strcmp(de->d_name, "..") != 0)
			store_recover_entry(de->d_name);
	closedir(d);
	return 0;
}

void
queue_store_close(void)
{
	if (store.incoming != -1)
		close(store.incoming);
	if (store.queue != -1)
		close(store.queue);
	if (store.corrupt != -1)
		close(store.corrupt);
	if (store.spare != -1)
		close(store.spare);
	store.incoming = store.queue = store.corrupt = store.spare = -1;
	spare_reset();
}

int
queue_store_open(int dirfd)
{
	int	 save;

	queue_store_close();
	if ((store.incoming = store_dir(dirfd, DIR_INCOMING)) == -1 ||
	    (store.queue = store_dir(dirfd, DIR_QUEUE)) == -1 ||
	    (store.corrupt = store_dir(dirfd, DIR_CORRUPT)) == -1 ||
	    (store.spare = store_dir(dirfd, DIR_SPARE)) == -1)
		goto fail;
	store_recover_dir(store.incoming, DIR_INCOMING, 1);
	store_recover_dir(store.spare, DIR_SPARE, 0);
	if (store_recover_queue() == -1)
		goto fail;
	/* What recovery removed or moved stays removed or moved. */
	if (fsync(store.incoming) == -1 || fsync(store.queue) == -1 ||
	    fsync(store.corrupt) == -1 || fsync(store.spare) == -1 ||
	    fsync(dirfd) == -1)
		goto fail;
	return 0;
fail:
	save = errno;
	queue_store_close();
	errno = save;
	return -1;
}

/* Is there room for one more message?  0, or 452 with *text. */
static int
store_room(const char **text)
{
	struct statvfs	 sv;

	if (fstatvfs(store.queue, &sv) == -1) {
		log_warn("queue: fstatvfs");
		*text = TEXT_TEMPFAIL;
		return 451;
	}
	/* Some file systems have no inode count (f_files 0). */
	if (sv.f_bavail < sv.f_blocks / 100 * QUEUE_STORE_RESERVE_PCT ||
	    (sv.f_files > 0 &&
	    sv.f_favail < sv.f_files / 100 * QUEUE_STORE_RESERVE_PCT) ||
	    (unsigned long long)sv.f_bavail * sv.f_frsize <
	    QUEUE_STORE_RESERVE_BYTES) {
		log_warnx("queue: below the free space reserve, "
		    "message refused");
		*text = TEXT_NOSPACE;
		return 452;
	}
	return 0;
}

/*
 * A fresh random id; -1 when some file of the store already has it (or
 * cannot be checked).  O_EXCL at create settles the rest.
 */
static int
store_newid(char *id)
{
	static const char	 hex[] = "0123456789abcdef";
	char			 name[NAME_MAX_LEN + 1];
	uint32_t		 r[2];
	int			 i;

	r[0] = arc4random();
	r[1] = arc4random();
	for (i = 0; i < ENVELOPE_ID_LEN; i++)
		id[i] = hex[(r[i / 8] >> (i % 8 * 4)) & 0xf];
	id[ENVELOPE_ID_LEN] = '\0';
	/*
	 * Two lookups, not four: a queued message always has its body,
	 * queue/<id>.msg (its .env, if any, goes before the body when it is
	 * removed), and an incoming .env always has its body incoming/<id>,
	 * which the caller creates with O_EXCL.  corrupt/ keeps ids of its
	 * own that recovery could otherwise mix up.
	 */
	store_name(name, id, ".msg");
	if (store_exists(store.queue, name))
		return -1;
	store_name(name, id, ".env");
	if (store_exists(store.corrupt, name))
		return -1;
	return 0;
}

int
queue_store_create(char *id, int *wfd, int *rfd, const char **text)
{
	int	 code, i;

	if ((code = store_room(text)) != 0)
		return code;
	*wfd = -1;
	errno = EEXIST;
	for (i = 0; i < QUEUE_STORE_ID_TRIES; i++) {
		if (store_newid(id) == -1)
			continue;
		*wfd = store_create_file(store.incoming, id);
		if (*wfd != -1 || errno != EEXIST)
			break;
	}
	if (*wfd == -1) {
		log_warn("queue: create %s/%s", DIR_INCOMING, id);
		return store_errcode(errno, text);
	}
	/* The queue's own descriptor (fstat, the envelope attribute): a
	 * copy, not a second open, which would look the name up again. */
	if ((*rfd = fcntl(*wfd, F_DUPFD_CLOEXEC, 0)) == -1) {
		log_warn("queue: dup %s/%s", DIR_INCOMING, id);
		code = store_errcode(errno, text);
		close(*wfd);
		store_unlink(store.incoming, id);
		return code;
	}
	return 0;
}

/* Every file of the message, wherever the commit stopped. */
static void
store_remove(const char *id)
{
	char	 name[NAME_MAX_LEN + 1];

	/* The envelope first: without it the rest is not a message. */
	store_name(name, id, ".env");
	store_unlink(store.queue, name);
	store_unlink(store.incoming, name);
	store_name(name, id, ".msg");
	store_unlink(store.queue, name);
	store_unlink(store.incoming, id);
}

static int
store_write_all(int fd, const uint8_t *p, size_t len)
{
	ssize_t	 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * incoming/<name>, e encoded, a new file: the batch's syncfs makes it
 * durable, or with dosync its own fsync (an update of one envelope).
 * With bodyfd (not -1), the envelope becomes the attribute of that body
 * file instead when it fits and the file system has them.  0 for an
 * attribute, 1 for a file, -1 with errno.
 */
static int
store_write_env(const char *name, const struct envelope *e, int dosync,
    int bodyfd)
{
	uint8_t	*buf;
	size_t	 len;
	int	 fd, save;

	if (envelope_encode(e, &buf, &len) == -1)
		return -1;
	if (bodyfd != -1 && len <= ENV_ATTR_MAX) {
		if (fsetxattr(bodyfd, ENV_ATTR, buf, len, 0) == 0) {
			free(buf);
			return 0;
		}
		/* No attributes here, or no room for this one: a file. */
		if (errno != ENOTSUP && errno != E2BIG && errno != ERANGE &&
		    errno != ENOSPC) {
			save = errno;
			free(buf);
			errno = save;
			return -1;
		}
	}
	if ((fd = store_create_file(store.incoming, name)) == -1) {
		save = errno;
		free(buf);
		errno = save;
		return -1;
	}
	if (store_write_all(fd, buf, len) == -1 ||
	    (dosync && fsync(fd) == -1)) {
		save = errno;
		free(buf);
		close(fd);
		errno = save;
		return -1;
	}
	free(buf);
	return close(fd) == -1 ? -1 : 1;
}

int
queue_store_prepare(const char *id, int rfd, struct envelope *e,
    uint64_t size, int *envfile, const char **text)
{
	struct stat	 st;
	char		 env[NAME_MAX_LEN + 1];
	const char	*step;
	int		 where;

	store_name(env, id, ".env");
	step = "fstat";
	if (fstat(rfd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size) {
		log_warnx("queue: %s: body has %lld octets, smtp wrote %llu",
		    id, (long long)st.st_size, (unsigned long long)size);
		errno = EIO;
		step = NULL;
		goto fail;
	}
	strlcpy(e->id, id, sizeof(e->id));
	e->size = size;
	step = "envelope";
	if ((where = store_write_env(env, e, 0, rfd)) == -1)
		goto fail;
	*envfile = where;
	close(rfd);
	*text = "";
	return 250;
fail:
	if (step != NULL)
		log_warn("queue: %s: %s", id, step);
	close(rfd);
	store_remove(id);
	return store_errcode(errno, text);
}

/*
 * One syncfs for every message of a batch: it writes back all their
 * bodies and envelopes (or, after publishing, the directory entries) and
 * waits for the journal commit and the disk's cache flush, and since
 * Linux 5.8 it reports any writeback error on the file system since the
 * queue was opened.  One call instead of four fsyncs per message is what
 * lets concurrent sessions share the cost of durability.  Never retried:
 * after a failure the caller fails the whole batch.
 */
int
queue_store_sync(const char **text)
{
	if (syncfs(store.queue) == -1) {
		log_warn("queue: syncfs");
		return store_errcode(errno, text);
	}
	*text = "";
	return 250;
}

/*
 * The commit point: the envelope's arrival in queue/, after the body or
 * with it (an attribute of the body).
 */
int
queue_store_publish(const char *id, int envfile, const char **text)
{
	char		 env[NAME_MAX_LEN + 1], msg[NAME_MAX_LEN + 1];
	const char	*step;

	store_name(env, id, ".env");
	store_name(msg, id, ".msg");
	step = "rename body";
	if (renameat(store.incoming, id, store.queue, msg) == -1)
		goto fail;
	/* No envelope file: prepare made it the body's attribute, and the
	 * body's arrival was the commit. */
	step = "rename envelope";
	if (envfile && renameat(store.incoming, env, store.queue, env) == -1)
		goto fail;
	*text = "";
	return 250;
fail:
	log_warn("queue: %s: %s", id, step);
	store_remove(id);
	return store_errcode(errno, text);
}

void
queue_store_discard(const char *id)
{
	store_remove(id);
}

int
queue_store_commit(const char *id, int rfd, struct envelope *e,
    uint64_t size, const char **text)
{
	int	code, envfile;

	if ((code = queue_store_prepare(id, rfd, e, size, &envfile,
	    text)) != 250)
		return code;
	if ((code = queue_store_sync(text)) != 250 ||
	    (code = queue_store_publish(id, envfile, text)) != 250 ||
	    (code = queue_store_sync(text)) != 250) {
		store_remove(id);
		return code;
	}
	return 250;
}

void
queue_store_rollback(const char *id, int rfd)
{
	char	 env[NAME_MAX_LEN + 1];

	if (rfd != -1)
		close(rfd);
	store_name(env, id, ".env");
	store_unlink(store.incoming, env);
	store_unlink(store.incoming, id);
}

int
queue_store_list(int (*cb)(const struct envelope *, void *), void *arg)
{
	DIR		*d;
	struct dirent	*de;
	struct envelope	 e;
	char		 id[ENVELOPE_ID_LEN + 1], env[NAME_MAX_LEN + 1];
	const char	*why;
	size_t		 len;
	int		 fd, rc = 0;

	if ((fd = openat(store.queue, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len != ENVELOPE_ID_LEN + 4 ||
		    !envelope_id_valid(de->d_name, ENVELOPE_ID_LEN))
			continue;
		/* Each message once: by its envelope file if it has one. */
		memcpy(id, de->d_name, ENVELOPE_ID_LEN);
		id[ENVELOPE_ID_LEN] = '\0';
		store_name(env, id, ".env");
		if (strcmp(de->d_name + ENVELOPE_ID_LEN, ".msg") == 0 &&
		    !store_exists(store.queue, env)) {
			if (store_read_env_attr(store.queue, de->d_name, &e,
			    &why) == -1) {
				/* ENODATA: being published with a file. */
				if (errno != ENODATA && errno != ENOENT)
					log_warnx("queue: %s/%s: %s",
					    DIR_QUEUE, de->d_name, why);
				continue;
			}
		} else if (strcmp(de->d_name + ENVELOPE_ID_LEN, ".env") == 0) {
			if (store_read_env(store.queue, de->d_name, &e,
			    &why) == -1) {
				log_warnx("queue: %s/%s: %s", DIR_QUEUE,
				    de->d_name, why);
				continue;
			}
		} else
			continue;
		rc = cb(&e, arg);
		envelope_free(&e);
	}
	closedir(d);
	return rc;
}

int
queue_store_get(const char *id, struct envelope *e)
{
	char		 name[NAME_MAX_LEN + 1];
	const char	*why;

	if (!envelope_id_valid(id, strlen(id))) {
		errno = EINVAL;
		return -1;
	}
	store_name(name, id, ".env");
	if (!store_exists(store.queue, name)) {
		/* The envelope attribute of the body, if committed so. */
		store_name(name, id, ".msg");
		if (store_read_env_attr(store.queue, name, e, &why) == 0)
			return 0;
		if (errno == ENODATA || errno == ENOENT) {
			errno = ENOENT;
			return -1;
		}
	} else if (store_read_env(store.queue, name, e, &why) == 0)
		return 0;
	else if (errno == ENOENT)
		return -1;
	log_warnx("queue: %s/%s: %s", DIR_QUEUE, name, why);
	errno = EIO;
	return -1;
}

int
queue_store_open_body(const char *id)
{
	char	 name[NAME_MAX_LEN + 1];

	store_name(name, id, ".msg");
	return openat(store.queue, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
}

/*
 * Replace queue/<id>.env by a new encoding of e: written to
 * incoming/<id>.upd, fsynced, renamed over the old one.  A crash leaves
 * the old envelope or the new one, never a mix; a leftover .upd is what
 * recovery removes from incoming/.  The rename reaches the disk with the
 * next queue_store_sync_queue().
 */
int
queue_store_update(const struct envelope *e)
{
	char	 upd[NAME_MAX_LEN + 1], env[NAME_MAX_LEN + 1];
	char	 msg[NAME_MAX_LEN + 1];
	int	 save;

	if (!envelope_id_valid(e->id, strlen(e->id))) {
		errno = EINVAL;
		return -1;
	}
	store_name(env, e->id, ".env");
	store_name(msg, e->id, ".msg");
	/* An envelope file, or a body with its envelope attribute (which
	 * the new file overrides). */
	if (!store_exists(store.queue, env) &&
	    !store_exists(store.queue, msg)) {
		/* Removed meanwhile: an update must not bring it back. */
		errno = ENOENT;
		return -1;
	}
	store_name(upd, e->id, ".upd");
	if (store_write_env(upd, e, 1, -1) == -1 ||
	    renameat(store.incoming, upd, store.queue, env) == -1) {
		save = errno;
		unlinkat(store.incoming, upd, 0);
		errno = save;
		return -1;
	}
	return 0;
}

/*
 * keep: the files may go to spare/ for reuse.  Only for a message no
 * task is out for: mta may still hold the body of one being delivered,
 * and must never read another message through it.
 */
static int
store_unlink_message(const char *id, int keep)
{
	char	 env[NAME_MAX_LEN + 1], msg[NAME_MAX_LEN + 1];
	int	 (*drop)(int, const char *);
	int	 fd, save;

	if (!envelope_id_valid(id, strlen(id))) {
		errno = EINVAL;
		return -1;
	}
	drop = keep ? spare_give : store_unlinkat;
	store_name(env, id, ".env");
	store_name(msg, id, ".msg");
	/* Envelope attribute and body go at once. */
	if (!store_exists(store.queue, env)) {
		/* By request: only a message (a body left by a crash is
		 * recovery's).  Delivery knows what it delivered. */
		if (!keep && store_attr_missing(store.queue, msg))
			return -1;
		return drop(store.queue, msg);
	}
	/*
	 * An envelope file: the body may still have the attribute it was
	 * committed with.  It goes first, or a crash between the two
	 * unlinks would bring the message back as it was then.
	 */
	if ((fd = openat(store.queue, msg, O_RDONLY | O_NOFOLLOW |
	    O_CLOEXEC)) != -1) {
		if (store_strip_attr(fd) == -1) {
			save = errno;
			close(fd);
			errno = save;
			return -1;
		}
		close(fd);
	}
	/* The point of no return: without its envelope, no message. */
	if (drop(store.queue, env) == -1)
		return -1;
	if (drop(store.queue, msg) == -1 && errno != ENOENT)
		log_warn("queue: unlink %s", msg);
	return 0;
}

int
queue_store_unlink(const char *id)
{
	return store_unlink_message(id, 1);
}

int
queue_store_sync_queue(void)
{
	if (fsync(store.queue) == -1) {
		log_warn("queue: fsync %s", DIR_QUEUE);
		return -1;
	}
	return 0;
}

int
queue_store_remove(const char *id)
{
	if (store_unlink_message(id, 0) == -1)
		return -1;
	if (fsync(store.queue) == -1) {
		log_warn("queue: fsync %s after removing %s", DIR_QUEUE, id);
		return -1;
	}
	return 0;
}
