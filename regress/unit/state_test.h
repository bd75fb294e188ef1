/*
 * A state database in a fresh temporary directory, for the tests of the
 * state store: dir and path, setup (the directory only), setup_open (and
 * the database open), open_ok, teardown (closed and removed).
 */
#ifndef SENDGATE_STATE_TEST_H
#define SENDGATE_STATE_TEST_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "unit.h"

#include "state.h"

static char	 dir[64];
static char	 path[128];

static int
setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sendgate-state-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, STATE_DB_FILE);
	return 0;
}

static int
teardown(void **state)
{
	char	 cmd[PATH_MAX + 16];

	state_close();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
open_ok(void)
{
	char	 err[512];

	if (state_open(path, err, sizeof(err)) == -1)
		fail_msg("state_open %s: %s", path, err);
}

/* A fresh database in the temporary directory, open. */
static int
setup_open(void **state)
{
	if (setup(state) == -1)
		return -1;
	open_ok();
	return 0;
}

#endif
