/*
 * The on-disk queue (queue/queue_store.h) in a fresh mkdtemp directory:
 * create, commit and list, the files and their modes, a body whose size
 * is not what smtp claims, rollback, recovery at open, fresh ids, and
 * getting and removing one committed message by id.
 * That fsync happens before the 250 is shown by the integration test
 * (strace), not here.
 */
#include <sys/stat.h>

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

static char	 top[64];
static int	 topfd = -1;

static int
setup(void **state)
{
	strcpy(top, "/tmp/test_queue_store.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	if ((topfd = open(top, O_RDONLY | O_DIRECTORY)) == -1)
		return -1;
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
	assert_int_equal(fcntl(rfd, F_GETFL) & O_ACCMODE, O_RDONLY);
	close(wfd);
	queue_store_rollback(id, rfd);

	assert_int_equal(store_message(id, "hello\n", 6, &text), 250);
	assert_string_equal(ls("incoming"), "");
	snprintf(path, sizeof(path), "%s.env %s.msg", id, id);
	assert_string_equal(ls("queue"), path);
	snprintf(path, sizeof(path), "queue/%s.msg", id);
	assert_int_equal(mode_of(path), 0600);
	snprintf(path, sizeof(path), "queue/%s.env", id);
	assert_int_equal(mode_of(path), 0600);

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

static void
test_recovery(void **state)
{
	char		 good[ENVELOPE_ID_LEN + 1], orphan[ENVELOPE_ID_LEN + 1];
	char		 path[128], want[4096], *names[6];
	const char	*text;
	struct seen	 s = { 0 };
	int		 wfd, rfd;

	assert_int_equal(store_message(good, "hello\n", 6, &text), 250);
	assert_int_equal(store_message(orphan, "hello\n", 6, &text), 250);

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
	snprintf(path, sizeof(path), "queue/%s.env", good);
	assert_int_equal(linkat(topfd, path, topfd,
	    "queue/4444444444444444.env", 0), 0);
	put("queue/4444444444444444.msg", "body");
	/* An envelope whose body is gone. */
	snprintf(path, sizeof(path), "queue/%s.msg", orphan);
	assert_int_equal(unlinkat(topfd, path, 0), 0);
	/* Not a queue file at all. */
	put("queue/README", "x");

	assert_int_equal(queue_store_open(topfd), 0);
	assert_string_equal(ls("incoming"), "");
	snprintf(want, sizeof(want), "%s.env %s.msg", good, good);
	assert_string_equal(ls("queue"), want);
	snprintf(path, sizeof(path), "%s.env", orphan);
	names[0] = strdup("3333333333333333.env");
	names[1] = strdup("3333333333333333.msg");
	names[2] = strdup("4444444444444444.env");
	names[3] = strdup("4444444444444444.msg");
	names[4] = strdup("README");
	names[5] = strdup(path);
	assert_string_equal(ls("corrupt"), join_sorted(want, names, 6));

	assert_int_equal(queue_store_list(collect, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.ids[0], good);
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
	snprintf(want, sizeof(want), "%s.env %s.msg", other, other);
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
 * return) is not a message: remove says ENOENT, recovery deletes it.
 */
static void
test_remove_crash_leftover(void **state)
{
	char		 id[ENVELOPE_ID_LEN + 1], path[64];
	const char	*text;

	assert_int_equal(store_message(id, "hello\n", 6, &text), 250);
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
 * A delivered message's two files are kept, emptied, in spare/ and are
 * the next message's files: same inodes, nothing of the old mail in
 * them.  A removal by request (a task may be out for the message) keeps
 * nothing; spare/ is emptied at open and holds at most 256 files.
 */
static void
test_spare_reuse(void **state)
{
	char		 id[ENVELOPE_ID_LEN + 1], other[ENVELOPE_ID_LEN + 1];
	char		 path[64], buf[64];
	const char	*text;
	struct stat	 st;
	ino_t		 ino_msg, ino_env;
	off_t		 size;
	int		 wfd, rfd, fd, i;
	char		 ids[130][ENVELOPE_ID_LEN + 1];

	assert_int_equal(store_message(id, "secret", 6, &text), 250);
	snprintf(path, sizeof(path), "queue/%s.msg", id);
	ino_msg = ino_of(path, &size);
	snprintf(path, sizeof(path), "queue/%s.env", id);
	ino_env = ino_of(path, &size);
	assert_true(size > 0);

	assert_int_equal(queue_store_unlink(id), 0);
	assert_string_equal(ls("queue"), "");
	assert_string_equal(ls("spare"), "0 1");
	assert_int_equal(ino_of("spare/0", &size), ino_env);
	assert_int_equal(size, 0);
	assert_int_equal(ino_of("spare/1", &size), ino_msg);
	assert_int_equal(size, 0);

	/* The body's file comes from spare/, empty. */
	assert_int_equal(queue_store_create(other, &wfd, &rfd, &text), 0);
	assert_int_equal(fstat(wfd, &st), 0);
	assert_true(st.st_ino == ino_msg || st.st_ino == ino_env);
	assert_int_equal(st.st_size, 0);
	assert_int_equal(mode_of("spare") & 0777, 0700);
	snprintf(path, sizeof(path), "incoming/%s", other);
	assert_int_equal(mode_of(path), 0600);
	assert_int_equal(write(wfd, "hello\n", 6), 6);
	close(wfd);
	{
		struct envelope	 e;

		make_env(&e, "sender@example.com");
		assert_int_equal(queue_store_commit(other, rfd, &e, 6, &text),
		    250);
		envelope_free(&e);
	}
	assert_string_equal(ls("spare"), "");
	fd = queue_store_open_body(other);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	assert_memory_equal(buf, "hello\n", 6);
	close(fd);

	/* Removed on request: nothing kept. */
	assert_int_equal(queue_store_remove(other), 0);
	assert_string_equal(ls("spare"), "");
	assert_string_equal(ls("queue"), "");

	/* At most 256 kept; the rest is removed. */
	for (i = 0; i < 130; i++)
		assert_int_equal(store_message(ids[i], "hello\n", 6, &text),
		    250);
	for (i = 0; i < 130; i++)
		assert_int_equal(queue_store_unlink(ids[i]), 0);
	assert_int_equal(list_dir("spare", NULL, 0), 256);
	assert_string_equal(ls("queue"), "");

	/* Emptied at open: after a crash its state is not known. */
	assert_int_equal(queue_store_open(topfd), 0);
	assert_string_equal(ls("spare"), "");
	assert_int_equal(store_message(id, "hello\n", 6, &text), 250);
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
		cmocka_unit_test_setup_teardown(test_remove_crash_leftover,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
