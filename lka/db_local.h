/*
 * What the state store's files (db.c, db_connector.c, db_domain.c) share,
 * and nothing else includes: the connection and the row helpers.
 */
#ifndef SENDGATE_DB_LOCAL_H
#define SENDGATE_DB_LOCAL_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

extern sqlite3	*db_conn;

/*
 * Row iteration: db_next() decodes the next row into buf and returns 1,
 * or 0 at the end or on error; db_end() finalizes and says which.
 */
struct db_iter {
	sqlite3_stmt	*st;
	int		 rc;
	int		 n;
	int		 bad;
};

typedef int	(*db_decode_fn)(sqlite3_stmt *, void *);

int		 db_fail(const char *);
int		 db_corrupt(int);
sqlite3_stmt	*db_prepare(const char *, const char *, ...);
void		 db_release(sqlite3_stmt *);
int		 db_exec(sqlite3_stmt *);
int		 db_change(sqlite3_stmt *);
int		 db_text(sqlite3_stmt *, int, char *, size_t);
int		 db_blob(sqlite3_stmt *, int, uint8_t *, size_t);
void		 db_iter(struct db_iter *, sqlite3_stmt *);
int		 db_next(struct db_iter *, db_decode_fn, void *);
int		 db_end(struct db_iter *, int);
int		 db_one(sqlite3_stmt *, db_decode_fn, void *);
int		 decode_string(sqlite3_stmt *, void *);

#endif
