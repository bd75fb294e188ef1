/*
 * The rate counters of the connectors in the state database: one row per
 * connector with the counter as lka/rate.c encodes it.  lka writes the
 * counters that changed every few seconds and at shutdown; a counter is
 * deleted with its connector (ON DELETE CASCADE).
 */
#include <sqlite3.h>
#include <stdlib.h>

#include "db_local.h"
#include "state.h"

int
state_rate_load(size_t len, state_rate_cb cb, void *arg)
{
	sqlite3_stmt	*st;
	const void	*b;
	int		 rc;

	if ((st = db_prepare("SELECT connector, data FROM rate", "")) == NULL)
		return STATE_ERROR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		b = sqlite3_column_blob(st, 1);
		if (b == NULL || sqlite3_column_bytes(st, 1) != (int)len)
			continue;	/* another encoding: start from zero */
		if (cb(sqlite3_column_int64(st, 0), b, len, arg) == -1)
			break;
	}
	db_release(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return db_fail("read rate");
	return STATE_OK;
}

int
state_rate_save(int64_t connector, int64_t now, const uint8_t *data,
    size_t len)
{
	return db_exec(db_prepare("INSERT INTO rate (connector, updated, "
	    "data) VALUES (?, ?, ?) ON CONFLICT (connector) DO UPDATE SET "
	    "updated = excluded.updated, data = excluded.data", "iib",
	    connector, now, data, (int)len));
}
