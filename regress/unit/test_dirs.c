/*
 * dirs: which paths are safe to keep the queue, state and keys under, and
 * the owner and mode start-up gives them.  Needs root (chown).
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"

#include "dirs.h"

static char	 top[64];

static int
setup(void **state)
{
	snprintf(top, sizeof(top), "/tmp/sendgate-dirs-XXXXXX");
	if (mkdtemp(top) == NULL || chmod(top, 0755) == -1)
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", top);
	return system(cmd) == 0 ? 0 : -1;
}

static void
path(char buf[PATH_MAX], const char *rel)
{
	snprintf(buf, PATH_MAX, "%s/%s", top, rel);
}

static void
test_ancestors(void **state)
{
	static const struct {
		const char	*mkdir;		/* made first, with mode */
		mode_t		 mode;
		uid_t		 owner;
		const char	*check;
		const char	*err;		/* NULL: accepted */
	} rows[] = {
		{ "ok", 0755, 0, "ok/a/b/c", NULL },
		{ "ww", 0777, 0, "ww/state", "is writable by others" },
		{ "gw", 0775, 0, "gw/state", "is writable by its group" },
		{ "sticky", 01777, 0, "sticky/state", NULL },
		{ "user", 0755, 65534, "user/state", "is owned by uid 65534" },
		{ "deep", 0777, 0, "deep/x/y/z", "is writable by others" },
	};
	char	 p[PATH_MAX], err[PATH_MAX + 128];
	size_t	 i;
	int	 rc;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		path(p, rows[i].mkdir);
		assert_int_equal(mkdir(p, 0700), 0);
		assert_int_equal(chmod(p, rows[i].mode), 0);
		assert_int_equal(chown(p, rows[i].owner, 0), 0);
		path(p, rows[i].check);
		err[0] = '\0';
		rc = dirs_check_ancestors(p, err, sizeof(err));
		if (rows[i].err == NULL && rc != 0)
			fail_msg("row %zu: %s refused: %s", i, p, err);
		if (rows[i].err != NULL &&
		    (rc != -1 || strstr(err, rows[i].err) == NULL))
			fail_msg("row %zu: %s: got \"%s\", want \"%s\"", i, p,
			    err, rows[i].err);
	}
	assert_int_equal(dirs_check_ancestors("relative/x", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "not an absolute path"));
}

static void
test_prepare_creates_and_fixes(void **state)
{
	char		 p[PATH_MAX], err[PATH_MAX + 128];
	struct stat	 st;

	path(p, "new/spool");
	assert_int_equal(dirs_prepare(p, 65534, 65534, 0700, err,
	    sizeof(err)), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 65534);
	assert_int_equal(st.st_mode & 07777, 0700);
	path(p, "new");
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_uid, 0);
	assert_int_equal(st.st_mode & 07777, 0755);

	/* An existing directory with a wrong mode is fixed. */
	path(p, "new/spool");
	assert_int_equal(chmod(p, 0777), 0);
	assert_int_equal(dirs_prepare(p, 65534, 65534, 0700, err,
	    sizeof(err)), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
}

static void
test_prepare_refuses_links_and_files(void **state)
{
	char	 p[PATH_MAX], t[PATH_MAX], err[PATH_MAX + 128];
	FILE	*f;

	path(t, "target");
	assert_int_equal(mkdir(t, 0700), 0);
	path(p, "link");
	assert_int_equal(symlink(t, p), 0);
	assert_int_equal(dirs_prepare(p, 0, 0, 0700, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is a symbolic link"));

	path(p, "file");
	assert_non_null(f = fopen(p, "w"));
	fclose(f);
	assert_int_equal(dirs_prepare(p, 0, 0, 0700, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a directory"));
}

static void
test_empty_dir(void **state)
{
	char	 p[PATH_MAX], f[PATH_MAX + 8], err[PATH_MAX + 128];
	FILE	*fp;

	path(p, "empty");
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(dirs_check_empty(p, err, sizeof(err)), 0);
	snprintf(f, sizeof(f), "%s/x", p);
	assert_non_null(fp = fopen(f, "w"));
	fclose(fp);
	assert_int_equal(dirs_check_empty(p, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "must be empty (found x)"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ancestors, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_prepare_creates_and_fixes,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_prepare_refuses_links_and_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_dir, setup,
		    teardown),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_dirs: needs root (chown); skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
