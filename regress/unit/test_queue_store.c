/*
 * The on-disk queue (queue/queue_store.h) in a fresh mkdtemp directory:
 * create, commit and list, the files and their modes, a body whose size
 * is not what smtp claims, rollback, recovery at open, fresh ids, and
 * getting and removing one committed message by id, the envelope as an
 * attribute of the body file or as a file of its own.
 * That fsync happens before the 250 is shown by the integration test
 * (strace), not here.
 */
#include <sys/stat.h>
#include <sys/xattr.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "envelope.h"
#include "queue_store.h"

#define ENV_ATTR	"user.sendgate.envelope"

static char	 top[64];
static int	 topfd = -1;
static int	 attrs;		/* the file system has user attributes */

static int
setup(void **state)
{
	strcpy(top, "/tmp/test_queue_store.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	if ((topfd = open(top, O_RDONLY | O_DIRECTORY)) == -1)
		return -1;
	attrs = fsetxattr(topfd, "user.probe", "x", 1, 0) == 0;
	if (attrs)
		fremovexattr(topfd, "user.probe");
	return queue_store_open(topfd);
}

static void
rmdir_all(int dirfd, const char *name)
{
	DIR		*d;
	struct dirent	*de;
	int		 fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY)) == -1)
		return;
	d = fdopendir(fd);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			unlinkat(fd, de->d_name, 0);
	closedir(d);
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

static int
teardown(void **state)
{
	queue_store_close();
	rmdir_all(topfd, "incoming");
	rmdir_all(topfd, "queue");
	rmdir_all(topfd, "corrupt");
	rmdir_all(topfd, "spare");
	close(topfd);
	rmdir(top);
	return 0;
}

/* names sorted and joined by spaces into out (4096 bytes); frees them */
static const char *
join_sorted(char *out, char **names, size_t n)
{
	char	*tmp;
	size_t	 i, j;

	out[0] = '\0';
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (strcmp(names[j], names[i]) < 0) {
				tmp = names[i];
				names[i] = names[j];
				names[j] = tmp;
			}
	for (i = 0; i < n; i++) {
		if (i)
			strlcat(out, " ", 4096);
		strlcat(out, names[i], 4096);
		free(names[i]);
	}
	return out;
}

/* How many names a directory of the store has; the first max in names. */
static size_t
list_dir(const char *dir, char **names, size_t max)
{
	DIR		*d;
	struct dirent	*de;
	size_t		 n = 0;
	int		 fd;

	assert_int_not_equal(fd = openat(topfd, dir, O_RDONLY | O_DIRECTORY),
	    -1);
	assert_non_null(d = fdopendir(fd));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && n++ < max)
			assert_non_null(names[n - 1] = strdup(de->d_name));
	closedir(d);
	return n;
}

/* Names in a directory of the store, sorted, joined by spaces. */
static const char *
ls(const char *dir)
{
	static char	 out[4096];
	char		*names[64];
	size_t		 n;

	n = list_dir(dir, names, 64);
	return join_sorted(out, names, n < 64 ? n : 64);
}

/* The files queue/ has for one committed message with a small envelope. */
static const char *
files_of(const char *id)
{
	static char	 out[64];

	if (attrs)
		snprintf(out, sizeof(out), "%s.msg", id);
	else
		snprintf(out, sizeof(out), "%s.env %s.msg", id, id);
	return out;
}

/* The length of path's envelope attribute; -1 with errno. */
static ssize_t
attr_len(const char *path)
{
	ssize_t	 n;
	int	 fd;

	assert_int_not_equal(fd = openat(topfd, path, O_RDONLY), -1);
	n = fgetxattr(fd, ENV_ATTR, NULL, 0);
	close(fd);
	return n;
}

static mode_t
mode_of(const char *path)
{
	struct stat	 st;

	assert_int_equal(fstatat(topfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_mode & 07777;
}

static void
make_env(struct envelope *e, const char *sender)
{
	envelope_init(e);
	assert_int_equal(envelope_set(&e->sender, ENVELOPE_ADDR_MAX, sender,
	    strlen(sender)), 0);
	assert_int_equal(envelope_set(&e->connector, ENVELOPE_NAME_MAX,
	    "exchange", 8), 0);
	e->connector_id = 3;
	e->time = 1700000000;
	assert_int_equal(envelope_rcpt_add(e, "a@example.org", 13, 0, "", 0,
	    "", 0), 0);
	assert_int_equal(envelope_rcpt_add(e, "b@example.org", 13, 0, "", 0,
	    "", 0), 0);
}

/* A message with the given body, committed; returns the reply code. */
static int
store_message(char *id, const char *body, uint64_t claimed,
    const char **text)
{
	struct envelope	 e;
	int		 wfd, rfd, code;

	assert_int_equal(queue_store_create(id, &wfd, &rfd, text), 0);
	assert_int_equal(write(wfd, body, strlen(body)), (ssize_t)strlen(body));
	close(wfd);
	make_env(&e, "sender@example.com");
	code = queue_store_commit(id, rfd, &e, claimed, text);
	envelope_free(&e);
	return code;
}

struct seen {
	int	 n;
	char	 ids[8][ENVELOPE_ID_LEN + 1];
};

static int
collect(const struct envelope *e, void *arg)
{
	struct seen	*s = arg;

	assert_true(s->n < 8);
	strcpy(s->ids[s->n++], e->id);
	assert_string_equal(envelope_cstr(&e->sender), "sender@example.com");
	assert_string_equal(envelope_cstr(&e->connector), "exchange");
	assert_int_equal(e->nrcpt, 2);
	assert_string_equal(envelope_cstr(&e->rcpt[1].addr), "b@example.org");
	assert_int_equal(e->size, 6);
	return 0;
}

static void
test_commit_and_list(void **state)
{
	char		 id[ENVELOPE_ID_LEN + 1], path[64];
	const char	*text;
	struct seen	 s = { 0 };
	int		 wfd, rfd;

	assert_int_equal(mode_of("incoming"), 0700);
	assert_int_equal(mode_of("queue"), 0700);
	assert_int_equal(mode_of("corrupt"), 0700);

	/* The fresh body: in incoming/, 0600, smtp's fd write-only. */
	assert_int_equal(queue_store_create(id, &wfd, &rfd, &text), 0);
	assert_true(envelope_id_valid(id, strlen(id)));
	assert_string_equal(ls("incoming"), id);
	snprintf(path, sizeof(path), "incoming/%s", id);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(fcntl(wfd, F_GETFL) & O_ACCMODE, O_WRONLY);
	/* The queue's fd is a copy of smtp's (one open file, one offset),
	 * close-on-exec. */
	assert_int_equal(write(wfd, "abc", 3), 3);
	assert_int_equal(lseek(rfd, 0, SEEK_CUR), 3);
	assert_int_equal(fcntl(rfd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	close(wfd);
	queue_store_rollback(id, rfd);

	assert_int_equal(store_message(id, "hello\n", 6, &text), 250);
	assert_string_equal(ls("incoming"), "");
	/* One file: the envelope is the body's attribute. */
	assert_string_equal(ls("queue"), files_of(id));
	snprintf(path, sizeof(path), "queue/%s.msg", id);
	assert_int_equal(mode_of(path), 0600);
	if (attrs)
		assert_true(attr_len(path) > 0);
	else {
		snprintf(path, sizeof(path), "queue/%s.env", id);
		assert_int_equal(mode_of(path), 0600);
	}

	assert_int_equal(queue_store_list(collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], id);

	/* What was committed survives a restart. */
	assert_int_equal(queue_store_open(topfd), 0);
	s.n = 0;
	assert_int_equal(queue_store_list(collect, &s), 0);
	assert_int_equal(s.n, 1);
}

static void
test_size_mismatch(void **state)
{
	char		 id[ENVELOPE_ID_LEN + 1];
	const char	*text;

	assert_int_equal(store_message(id, "hello\n", 7, &text), 451);
	assert_string_equal(text, "4.3.0 Temporary queue failure");
	assert_string_equal(ls("incoming"), "");
	assert_string_equal(ls("queue"), "");
	assert_int_equal(store_message(id, "hello\n", 5, &text), 451);
	assert_string_equal(ls("incoming"), "");
	assert_string_equal(ls("queue"), "");
}

/* An envelope the encoder refuses (no recipient) stores nothing. */
static void
test_bad_envelope(void **state)
{
	struct envelope	 e;
	char		 id[ENVELOPE_ID_LEN + 1];
	const char	*text;
	int		 wfd, rfd;

	assert_int_equal(queue_store_create(id, &wfd, &rfd, &text), 0);
	close(wfd);
	envelope_init(&e);
	assert_int_equal(queue_store_commit(id, rfd, &e, 0, &text), 451);
	assert_string_equal(ls("incoming"), "");
	assert_string_equal(ls("queue"), "");
	envelope_free(&e);
}

static void
test_rollback(void **state)
{
	char		 id[ENVELOPE_ID_LEN + 1];
	const char	*text;
	int		 wfd, rfd;

	assert_int_equal(queue_store_create(id, &wfd, &rfd, &text), 0);
	assert_int_equal(write(wfd, "x", 1), 1);
	queue_store_rollback(id, rfd);
	assert_string_equal(ls("incoming"), "");
	/* smtp may still hold its fd: writing there stores nothing. */
	assert_int_equal(write(wfd, "y", 1), 1);
	close(wfd);
	/* Twice, or for an id never created: harmless. */
	queue_store_rollback(id, -1);
	queue_store_rollback("0000000000000000", -1);
	assert_string_equal(ls("incoming"), "");
	assert_string_equal(ls("queue"), "");
}

static void
put(const char *path, const char *content)
{
	int	 fd;

	assert_int_not_equal(fd = openat(topfd, path, O_WRONLY | O_CREAT |
	    O_TRUNC, 0600), -1);
	assert_int_equal(write(fd, content, strlen(content)),
	    (ssize_t)strlen(content));
	close(fd);
}

/* dirfd-relative path with the given attribute value. */
static void
put_attr(const char *path, const void *val, size_t len)
{
	int	 fd;

	assert_int_not_equal(fd = openat(topfd, path, O_RDONLY), -1);
	assert_int_equal(fsetxattr(fd, ENV_ATTR, val, len, 0), 0);
	close(fd);
}

/* The encoding of message id's envelope as the store has it. */
static void
encoded(const char *id, uint8_t **buf, size_t *len)
{
	struct envelope	 e;

	assert_int_equal(queue_store_get(id, &e), 0);
	assert_int_equal(envelope_encode(&e, buf, len), 0);
	envelope_free(&e);
}

static void
test_recovery(void **state)
{
	char		 good[ENVELOPE_ID_LEN + 1], orphan[ENVELOPE_ID_LEN + 1];
	char		 upd[ENVELOPE_ID_LEN + 1];
	char		 path[128], want[4096], *names[10];
	const char	*text;
	struct envelope	 e;
	struct seen	 s = { 0 };
	uint8_t		*buf;
	size_t		 len, n = 0;
	int		 wfd, rfd, fd;

	assert_int_equal(store_message(good, "hello\n", 6, &text), 250);
	assert_int_equal(store_message(orphan, "hello\n", 6, &text), 250);
	/* Updated: an envelope file beside the body and its attribute. */
	assert_int_equal(store_message(upd, "hello\n", 6, &text), 250);
	assert_int_equal(queue_store_get(upd, &e), 0);
	assert_int_equal(queue_store_update(&e), 0);
	envelope_free(&e);

	/* An uncommitted body and envelope, and some junk, in incoming/. */
	assert_int_equal(queue_store_create(path, &wfd, &rfd, &text), 0);
	close(wfd);
	close(rfd);
	put("incoming/1111111111111111.env", "version 1:1\n");
	put("incoming/junk", "x");
	/* A body without envelope: never committed. */
	put("queue/2222222222222222.msg", "body");
	/* An envelope that does not decode, with its body. */
	put("queue/3333333333333333.env", "version 1:1\nend 0:\n");
	put("queue/3333333333333333.msg", "body");
	/* An envelope of another id under this name. */
	encoded(good, &buf, &len);
	assert_int_not_equal(fd = openat(topfd, "queue/4444444444444444.env",
	    O_WRONLY | O_CREAT, 0600), -1);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
	put("queue/4444444444444444.msg", "body");
	/* An envelope whose body is gone. */
	assert_int_equal(queue_store_get(orphan, &e), 0);
	assert_int_equal(queue_store_update(&e), 0);
	envelope_free(&e);
	snprintf(path, sizeof(path), "queue/%s.msg", orphan);
	assert_int_equal(unlinkat(topfd, path, 0), 0);
	/* Not a queue file at all. */
	put("queue/README", "x");
	if (attrs) {
		/* Envelope attributes: not decoding, of another id. */
		put("queue/5555555555555555.msg", "body");
		put_attr("queue/5555555555555555.msg", "version 1:1\n", 12);
		put("queue/6666666666666666.msg", "body");
		put_attr("queue/6666666666666666.msg", buf, len);
		names[n++] = strdup("5555555555555555.msg");
		names[n++] = strdup("6666666666666666.msg");
	}
	free(buf);

	assert_int_equal(queue_store_open(topfd), 0);
	assert_string_equal(ls("incoming"), "");
	names[n++] = strdup(files_of(good));
	snprintf(path, sizeof(path), "%s.env", upd);
	names[n++] = strdup(path);
	snprintf(path, sizeof(path), "%s.msg", upd);
	names[n++] = strdup(path);
	assert_string_equal(ls("queue"), join_sorted(want, names + n - 3, 3));
	n -= 3;
	snprintf(path, sizeof(path), "%s.env", orphan);
	names[n++] = strdup("3333333333333333.env");
	names[n++] = strdup("3333333333333333.msg");
	names[n++] = strdup("4444444444444444.env");
	names[n++] = strdup("4444444444444444.msg");
	names[n++] = strdup("README");
	names[n++] = strdup(path);
	assert_string_equal(ls("corrupt"), join_sorted(want, names, n));

	/* Each message once, the updated one by its envelope file. */
	assert_int_equal(queue_store_list(collect, &s), 0);
	assert_int_equal(s.n, 2);
	assert_true((strcmp(s.ids[0], good) == 0 && strcmp(s.ids[1],
	    upd) == 0) || (strcmp(s.ids[0], upd) == 0 && strcmp(s.ids[1],
	    good) == 0));
}

static void
test_unique_ids(void **state)
{
	char		 ids[200][ENVELOPE_ID_LEN + 1];
	const char	*text;
	int		 wfd[200], rfd[200], i, j;

	for (i = 0; i < 200; i++) {
		assert_int_equal(queue_store_create(ids[i], &wfd[i], &rfd[i],
		    &text), 0);
		assert_true(envelope_id_valid(ids[i], strlen(ids[i])));
		for (j = 0; j < i; j++)
			assert_string_not_equal(ids[i], ids[j]);
	}
	for (i = 0; i < 200; i++) {
		close(wfd[i]);
		queue_store_rollback(ids[i], rfd[i]);
	}
	assert_string_equal(ls("incoming"), "");
}

static void
test_get(void **state)
{
	struct envelope	 e;
	char		 id[ENVELOPE_ID_LEN + 1];
	const char	*text;
	int		 wfd, rfd;

	assert_int_equal(store_message(id, "hello\n", 6, &text), 250);
	assert_int_equal(queue_store_get(id, &e), 0);
	assert_string_equal(e.id, id);
	assert_string_equal(envelope_cstr(&e.sender), "sender@example.com");
	assert_int_equal(e.nrcpt, 2);
	assert_int_equal(e.size, 6);
	envelope_free(&e);

	/* Being received is not in the queue yet. */
	assert_int_equal(queue_store_create(id, &wfd, &rfd, &text), 0);
	assert_int_equal(queue_store_get(id, &e), -1);
	assert_int_equal(errno, ENOENT);
	close(wfd);
	queue_store_rollback(id, rfd);
}

/* Ids that are not 16 lowercase hex digits never reach the file system. */
static void
test_invalid_ids(void **state)
{
	static const char	*bad[] = {
		"", "0123456789abcde", "0123456789abcdef0", "0123456789ABCDEF",
		"../queue/0123456", "0123456789abcdeg", "all",
	};
	struct envelope		 e;
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		if (queue_store_get(bad[i], &e) != -1 || errno != EINVAL)
			fail_msg("get \"%s\": want -1 EINVAL", bad[i]);
		errno = 0;
		if (queue_store_remove(bad[i]) != -1 || errno != EINVAL)
			fail_msg("remove \"%s\": want -1 EINVAL", bad[i]);
	}
}

static void
test_remove(void **state)
{
	struct envelope	 e;
	struct seen	 s = { 0 };
	char		 id[ENVELOPE_ID_LEN + 1], other[ENVELOPE_ID_LEN + 1];
	char		 busy[ENVELOPE_ID_LEN + 1], want[64];
	const char	*text;
	int		 wfd, rfd;

	assert_int_equal(store_message(id, "hello\n", 6, &text), 250);
	assert_int_equal(store_message(other, "hello\n", 6, &text), 250);
	assert_int_equal(queue_store_create(busy, &wfd, &rfd, &text), 0);

	/* Exactly that message's two files go; the rest stays. */
	assert_int_equal(queue_store_remove(id), 0);
	snprintf(want, sizeof(want), "%s", files_of(other));
	assert_string_equal(ls("queue"), want);
	assert_string_equal(ls("incoming"), busy);
	assert_int_equal(queue_store_get(id, &e), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_store_list(collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], other);

	/* Twice, unknown, or still being received: ENOENT, nothing touched. */
	assert_int_equal(queue_store_remove(id), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_store_remove("0000000000000000"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_store_remove(busy), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(ls("incoming"), busy);
	assert_string_equal(ls("queue"), want);

	/* Gone for good: a restart does not bring it back. */
	close(wfd);
	queue_store_rollback(busy, rfd);
	assert_int_equal(queue_store_open(topfd), 0);
	assert_int_equal(queue_store_get(id, &e), -1);
	assert_int_equal(queue_store_remove(other), 0);
	assert_string_equal(ls("queue"), "");
	assert_string_equal(ls("corrupt"), "");
}

/*
 * Delivery state: an update replaces the envelope whole and leaves no
 * temporary file; a removed message is not brought back by a late
 * update; unlink removes both files; the body opens read-only.
 */
static void
test_update_unlink(void **state)
{
	struct envelope	 e, d;
	char		 id[ENVELOPE_ID_LEN + 1], want[64], buf[16];
	const char	*text;
	int		 fd;

	assert_int_equal(store_message(id, "hello\n", 6, &text), 250);
	assert_int_equal(queue_store_get(id, &e), 0);
	e.rcpt[0].state = ENVELOPE_RCPT_DONE;
	e.rcpt[0].attempts = 2;
	e.rcpt[0].next_try = 1234;
	assert_int_equal(envelope_set(&e.rcpt[0].last, ENVELOPE_LAST_MAX,
	    "451 4.7.1 later", 15), 0);
	e.warned = 1;
	assert_int_equal(queue_store_update(&e), 0);
	assert_string_equal(ls("incoming"), "");
	assert_int_equal(queue_store_sync_queue(), 0);
	assert_int_equal(queue_store_get(id, &d), 0);
	assert_int_equal(d.rcpt[0].state, ENVELOPE_RCPT_DONE);
	assert_int_equal(d.rcpt[0].attempts, 2);
	assert_int_equal(d.rcpt[0].next_try, 1234);
	assert_string_equal(envelope_cstr(&d.rcpt[0].last), "451 4.7.1 later");
	assert_int_equal(d.warned, 1);
	envelope_free(&d);

	fd = queue_store_open_body(id);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, buf, sizeof(buf), 0), 6);
	assert_int_equal(write(fd, "x", 1), -1);
	close(fd);

	assert_int_equal(queue_store_unlink(id), 0);
	assert_string_equal(ls("queue"), "");
	assert_int_equal(queue_store_update(&e), -1);
	assert_int_equal(errno, ENOENT);
	assert_string_equal(ls("queue"), "");
	assert_string_equal(ls("incoming"), "");
	assert_int_equal(queue_store_unlink(id), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_store_open_body(id), -1);
	envelope_free(&e);
	snprintf(want, sizeof(want), "%s", "");
	assert_string_equal(ls("corrupt"), want);
}

/*
 * A body whose envelope is gone (a crash after remove's point of no
 * return: an updated message's body loses the attribute it was committed
 * with, then its envelope file) is not a message: remove says ENOENT,
 * recovery deletes it.
 */
static void
test_remove_crash_leftover(void **state)
{
	struct envelope	 e;
	char		 id[ENVELOPE_ID_LEN + 1], path[64];
	const char	*text;
	int		 fd;

	assert_int_equal(store_message(id, "hello\n", 6, &text), 250);
	assert_int_equal(queue_store_get(id, &e), 0);
	assert_int_equal(queue_store_update(&e), 0);
	envelope_free(&e);
	snprintf(path, sizeof(path), "queue/%s.msg", id);
	assert_int_not_equal(fd = openat(topfd, path, O_RDONLY), -1);
	if (attrs)
		assert_int_equal(fremovexattr(fd, ENV_ATTR), 0);
	close(fd);
	snprintf(path, sizeof(path), "queue/%s.env", id);
	assert_int_equal(unlinkat(topfd, path, 0), 0);
	assert_int_equal(queue_store_remove(id), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(queue_store_open(topfd), 0);
	assert_string_equal(ls("queue"), "");
	assert_string_equal(ls("corrupt"), "");
}

static ino_t
ino_of(const char *path, off_t *size)
{
	struct stat	 st;

	assert_int_equal(fstatat(topfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
	*size = st.st_size;
	return st.st_ino;
}

/*
 * A delivered message's files are kept, emptied, in spare/ and are the
 * next message's files: same inode, nothing of the old mail in them, no
 * envelope attribute either.  A removal by request (a task may be out
 * for the message) keeps nothing; spare/ is emptied at open and holds at
 * most 256 files.
 */
static void
test_spare_reuse(void **state)
{
	struct envelope	 e;
	char		 id[ENVELOPE_ID_LEN + 1], other[ENVELOPE_ID_LEN + 1];
	char		 path[64], buf[64];
	const char	*text;
	struct stat	 st;
	ino_t		 ino_msg;
	off_t		 size;
	int		 wfd, rfd, fd, i;
	char		 ids[260][ENVELOPE_ID_LEN + 1];

	assert_int_equal(store_message(id, "secret", 6, &text), 250);
	snprintf(path, sizeof(path), "queue/%s.msg", id);
	ino_msg = ino_of(path, &size);
	assert_int_equal(size, 6);

	assert_int_equal(queue_store_unlink(id), 0);
	assert_string_equal(ls("queue"), "");
	assert_string_equal(ls("spare"), attrs ? "0" : "0 1");
	assert_int_equal(ino_of(attrs ? "spare/0" : "spare/1", &size),
	    ino_msg);
	assert_int_equal(size, 0);
	if (attrs) {
		assert_int_equal(attr_len("spare/0"), -1);
		assert_int_equal(errno, ENODATA);
	}

	/* The body's file comes from spare/, empty, without attribute. */
	assert_int_equal(queue_store_create(other, &wfd, &rfd, &text), 0);
	assert_int_equal(fstat(wfd, &st), 0);
	if (attrs)
		assert_int_equal(st.st_ino, ino_msg);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(mode_of("spare") & 0777, 0700);
	snprintf(path, sizeof(path), "incoming/%s", other);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(write(wfd, "hello\n", 6), 6);
	close(wfd);
	make_env(&e, "sender@example.com");
	assert_int_equal(queue_store_commit(other, rfd, &e, 6, &text), 250);
	envelope_free(&e);
	assert_string_equal(ls("spare"), attrs ? "" : "0");
	fd = queue_store_open_body(other);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "hello\n", 6);
	close(fd);
	assert_int_equal(queue_store_get(other, &e), 0);
	assert_string_equal(e.id, other);
	envelope_free(&e);

	/* Removed on request: nothing kept. */
	assert_int_equal(queue_store_remove(other), 0);
	assert_string_equal(ls("queue"), "");

	/* At most 256 kept; the rest is removed. */
	for (i = 0; i < 260; i++)
		assert_int_equal(store_message(ids[i], "hello\n", 6, &text),
		    250);
	for (i = 0; i < 260; i++)
		assert_int_equal(queue_store_unlink(ids[i]), 0);
	assert_int_equal(list_dir("spare", NULL, 0), 256);
	assert_string_equal(ls("queue"), "");

	/* Emptied at open: after a crash its state is not known. */
	assert_int_equal(queue_store_open(topfd), 0);
	assert_string_equal(ls("spare"), "");
	assert_int_equal(store_message(id, "hello\n", 6, &text), 250);
}

/*
 * The envelope's two homes: a small one is the body's attribute (one
 * file per message), a large one (or any, where the file system has no
 * user attributes) a file beside the body; an update always writes a
 * file, which then takes precedence over the attribute; a message is
 * listed once either way, and removing an updated one takes both.
 */
static void
test_envelope_homes(void **state)
{
	struct envelope	 e, d;
	struct seen	 s = { 0 };
	char		 small[ENVELOPE_ID_LEN + 1], big[ENVELOPE_ID_LEN + 1];
	char		 path[64], want[128], addr[64];
	const char	*text;
	int		 wfd, rfd, i, n;

	if (!attrs)
		skip();
	assert_int_equal(store_message(small, "hello\n", 6, &text), 250);
	snprintf(path, sizeof(path), "queue/%s.msg", small);
	assert_true(attr_len(path) > 0);

	/* 200 recipients: more than an attribute takes here. */
	assert_int_equal(queue_store_create(big, &wfd, &rfd, &text), 0);
	assert_int_equal(write(wfd, "hello\n", 6), 6);
	close(wfd);
	make_env(&e, "sender@example.com");
	for (i = 0; i < 198; i++) {
		n = snprintf(addr, sizeof(addr), "recipient%03d@example.org",
		    i);
		assert_int_equal(envelope_rcpt_add(&e, addr, (size_t)n, 0, "",
		    0, "", 0), 0);
	}
	assert_int_equal(queue_store_commit(big, rfd, &e, 6, &text), 250);
	envelope_free(&e);
	snprintf(path, sizeof(path), "queue/%s.msg", big);
	assert_int_equal(attr_len(path), -1);
	snprintf(want, sizeof(want), "%s.env", big);
	assert_non_null(strstr(ls("queue"), want));
	assert_int_equal(queue_store_get(big, &d), 0);
	assert_int_equal(d.nrcpt, 200);
	envelope_free(&d);

	/* An update: a file, which wins over the attribute. */
	assert_int_equal(queue_store_get(small, &e), 0);
	e.rcpt[1].state = ENVELOPE_RCPT_DONE;
	assert_int_equal(queue_store_update(&e), 0);
	envelope_free(&e);
	snprintf(path, sizeof(path), "queue/%s.env", small);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(queue_store_get(small, &d), 0);
	assert_int_equal(d.rcpt[1].state, ENVELOPE_RCPT_DONE);
	envelope_free(&d);
	assert_int_equal(queue_store_open(topfd), 0);
	assert_int_equal(queue_store_get(small, &d), 0);
	assert_int_equal(d.rcpt[1].state, ENVELOPE_RCPT_DONE);
	envelope_free(&d);

	/* Listed once each. */
	s.n = 0;
	assert_int_equal(queue_store_remove(big), 0);
	assert_int_equal(queue_store_list(collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], small);

	/* Removing the updated one takes file and body. */
	assert_int_equal(queue_store_remove(small), 0);
	assert_string_equal(ls("queue"), "");
	assert_int_equal(queue_store_open(topfd), 0);
	assert_string_equal(ls("queue"), "");
	assert_string_equal(ls("corrupt"), "");
}

int
main(void)
{
	const struct CMUnitTest	 tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_and_list, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_size_mismatch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_envelope, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rollback, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_recovery, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unique_ids, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_ids, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_unlink, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_spare_reuse, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_envelope_homes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_remove_crash_leftover,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
