/*
 * Directory preparation and path safety.
 *
 * A directory is only as safe as the directories above it: whoever may
 * rename an ancestor may swap in a tree of their own.  So every real
 * ancestor (symlinks resolved) must be owned by root and not writable by
 * group or others, unless it is sticky (like /tmp: others may create
 * entries there but not rename or remove ours).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dirs.h"

static int
dirs_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
dirs_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
dirs_safe_dir(const char *path, const char *what, char *err, size_t errlen)
{
	struct stat	 st;

	if (stat(path, &st) == -1)
		return dirs_err(err, errlen, "%s: %s: %s", what, path,
		    strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return dirs_err(err, errlen, "%s: %s is not a directory",
		    what, path);
	if (st.st_uid != 0)
		return dirs_err(err, errlen,
		    "unsafe path %s: %s is owned by uid %ld, not root", what,
		    path, (long)st.st_uid);
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		return dirs_err(err, errlen,
		    "unsafe path %s: %s is writable by %s", what, path,
		    (st.st_mode & S_IWOTH) ? "others" : "its group");
	return 0;
}

/*
 * Check every existing ancestor of path (not path itself).  Missing
 * ancestors are fine here; dirs_prepare() creates them.
 */
int
dirs_check_ancestors(const char *path, char *err, size_t errlen)
{
	char	 buf[PATH_MAX], real[PATH_MAX], *slash;

	if (path[0] != '/')
		return dirs_err(err, errlen, "%s: not an absolute path", path);
	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return dirs_err(err, errlen, "%s: path too long", path);
	/* Cut to the longest existing ancestor. */
	for (;;) {
		if ((slash = strrchr(buf, '/')) == NULL)
			return dirs_err(err, errlen, "%s: bad path", path);
		if (slash == buf) {
			buf[1] = '\0';
		} else
			*slash = '\0';
		if (access(buf, F_OK) == 0 || strcmp(buf, "/") == 0)
			break;
	}
	if (realpath(buf, real) == NULL)
		return dirs_err(err, errlen, "%s: %s: %s", path, buf,
		    strerror(errno));
	/* Walk up from the deepest real ancestor to /. */
	for (;;) {
		if (dirs_safe_dir(real, path, err, errlen) == -1)
			return -1;
		if (strcmp(real, "/") == 0)
			return 0;
		slash = strrchr(real, '/');
		if (slash == real)
			real[1] = '\0';
		else
			*slash = '\0';
	}
}

/* mkdir -p for the ancestors of path, root-owned, mode 0755. */
static int
dirs_make_ancestors(const char *path, char *err, size_t errlen)
{
	char	 buf[PATH_MAX], *p;

	if (strlcpy(buf, path, sizeof(buf)) >= sizeof(buf))
		return dirs_err(err, errlen, "%s: path too long", path);
	for (p = buf + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return dirs_err(err, errlen, "mkdir %s: %s", buf,
			    strerror(errno));
		*p = '/';
	}
	return 0;
}

/*
 * Make path a directory owned by uid:gid with the given mode, creating it
 * (and root-owned ancestors) when missing.  Refuses unsafe ancestors, a
 * symlink or a non-directory at path.
 */
int
dirs_prepare(const char *path, uid_t uid, gid_t gid, mode_t mode, char *err,
    size_t errlen)
{
	struct stat	 st;

	if (dirs_check_ancestors(path, err, errlen) == -1)
		return -1;
	if (dirs_make_ancestors(path, err, errlen) == -1)
		return -1;
	if (dirs_check_ancestors(path, err, errlen) == -1)
		return -1;
	if (lstat(path, &st) == -1) {
		if (errno != ENOENT)
			return dirs_err(err, errlen, "%s: %s", path,
			    strerror(errno));
		if (mkdir(path, 0700) == -1)
			return dirs_err(err, errlen, "mkdir %s: %s", path,
			    strerror(errno));
		if (lstat(path, &st) == -1)
			return dirs_err(err, errlen, "%s: %s", path,
			    strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return dirs_err(err, errlen, "unsafe path %s: is a symbolic "
		    "link", path);
	if (!S_ISDIR(st.st_mode))
		return dirs_err(err, errlen, "%s: not a directory", path);
	if (chown(path, uid, gid) == -1)
		return dirs_err(err, errlen, "chown %s: %s", path,
		    strerror(errno));
	if (chmod(path, mode) == -1)
		return dirs_err(err, errlen, "chmod %s: %s", path,
		    strerror(errno));
	return 0;
}

/* The chroot of smtp, mta and control must hold nothing. */
int
dirs_check_empty(const char *path, char *err, size_t errlen)
{
	DIR		*d;
	struct dirent	*de;
	int		 rc = 0;

	if ((d = opendir(path)) == NULL)
		return dirs_err(err, errlen, "%s: %s", path, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		rc = dirs_err(err, errlen, "%s must be empty (found %s)", path,
		    de->d_name);
		break;
	}
	closedir(d);
	return rc;
}
