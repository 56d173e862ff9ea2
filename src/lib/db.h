/* db: the one MariaDB connection of a process, its prepared-statement cache and transactions.
 * Only store files and db.c include mysql.h; everything else sees this opaque handle. */
#ifndef AP_DB_H
#define AP_DB_H

#include "settings.h"

typedef struct db db;

/* What every store call answers. */
enum store_result {
	STORE_OK,
	STORE_NOT_FOUND,
	STORE_CONFLICT,    /* a unique key or state check refused the change */
	STORE_ERROR,       /* a bug or a refused statement: logged, answered 500 */
	STORE_UNAVAILABLE, /* the server could not be reached: answered 503, reconnect next time */
};

/* A handle that connects lazily on first use (and again after a lost connection). Never NULL. */
db *db_new(const settings *s);
void db_free(db *d);

/* Connects if needed and pings. 0 when MariaDB answers, -1 otherwise. */
int db_ping(db *d);

enum store_result db_begin(db *d);
enum store_result db_commit(db *d);
/* Always safe to call, also after an error or without a transaction. */
void db_rollback(db *d);

/* InnoDB resolves a deadlock by rolling one transaction back, and a lock wait can time out; both are
 * transient. db_mark starts watching; db_retryable then answers 1 when a statement since the mark failed
 * on such a lock conflict and nothing was committed since (no COMMIT, no autocommitted write), so the
 * whole step can safely run again after a db_rollback. */
void db_mark(db *d);
int db_retryable(const db *d);

#endif
