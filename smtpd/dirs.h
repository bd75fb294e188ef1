/*
 * The directories sendgated owns (queue, state, keys, the empty chroot)
 * and the safety rules for every path above them.
 */
#ifndef SENDGATE_DIRS_H
#define SENDGATE_DIRS_H

#include <sys/types.h>

#include <stddef.h>

int	dirs_check_ancestors(const char *, char *, size_t);
int	dirs_prepare(const char *, uid_t, gid_t, mode_t, char *, size_t);
int	dirs_check_empty(const char *, char *, size_t);

#endif
