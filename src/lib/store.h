/* store: the shared machinery of the store files (statement execution, parameters, result rows).
 * Included only by db.c and store_*.c: this is where mysql.h stops. */
#ifndef AP_STORE_H
#define AP_STORE_H

#include "arena.h"
#include "db.h"

#include <mysql.h>
#include <stdint.h>

#define STORE_MAX_PARAMS 24

/* Bound parameters of one statement; values must outlive the call to store_exec. */
typedef struct store_params {
	int n;
	MYSQL_BIND bind[STORE_MAX_PARAMS];
	unsigned long len[STORE_MAX_PARAMS];
	long long ints[STORE_MAX_PARAMS];
	char nulls[STORE_MAX_PARAMS];
} store_params;

void store_param_str(store_params *p, const char *s);                  /* NULL binds SQL NULL */
void store_param_bytes(store_params *p, const void *data, size_t n);   /* binary / not NUL-terminated */
void store_param_int(store_params *p, long long v);
void store_param_null(store_params *p);

/* Rows as text (NULL for SQL NULL); DATETIME columns come as "YYYY-MM-DD hh:mm:ss.fff". */
typedef struct store_rows {
	int nrows, ncols;
	char ***cell;           /* cell[row][col], in the arena */
	unsigned long long affected;
	unsigned long long insert_id;
} store_rows;

/* Runs the statement SQL (a static string: its address keys the per-connection cache, so pass the
 * same pointer every time) with P (may be NULL). Result rows go to OUT (may be NULL for writes),
 * allocated in A. Connection loss -> STORE_UNAVAILABLE (the next call reconnects); duplicate key ->
 * STORE_CONFLICT; other failures -> STORE_ERROR, logged with the server's message. */
enum store_result store_exec(db *d, const char *sql, store_params *p, arena *a, store_rows *out);
/* store_exec of SQL with P keeping the first column of every row: *COLUMN (in A, NULL-terminated) and its
 * length in *N. */
enum store_result store_exec_column(db *d, const char *sql, store_params *p, arena *a, char ***column, int *n);

/* Fills the caller's row struct OUT from one result row's text CELLS (strings stay in A). */
typedef void (*store_row_fn)(arena *a, char **cells, void *out);

/* store_exec of SQL with P, each row converted with FROM into an array of elements of SIZE bytes: *ROWS (in A,
 * never NULL) and its length *N. */
enum store_result store_exec_rows(db *d, const char *sql, store_params *p, arena *a, size_t size, store_row_fn from,
				  void **rows, int *n);
/* One page of an account's rows, newest first, keyset-paginated on the id: FIRST takes (account_id, limit) and,
 * with BEFORE_ID, NEXT takes (account_id, before_id, limit). Rows as store_exec_rows. */
enum store_result store_page(db *d, arena *a, const char *first, const char *next, const char *account_id,
			     const char *before_id, int limit, size_t size, store_row_fn from, void **rows, int *n);
/* The one row SQL selects for (ACCOUNT_ID, ID), converted with FROM into OUT; STORE_NOT_FOUND when there is none. */
enum store_result store_account_row(db *d, arena *a, const char *sql, const char *account_id, const char *id,
				    store_row_fn from, void *out);
/* The single number SQL (a COUNT with ACCOUNT_ID as its one parameter) answers, into *N. */
enum store_result store_account_count(db *d, arena *a, const char *sql, const char *account_id, long *n);

/* The live connection (connecting if needed), or NULL if MariaDB is unreachable. For migrations only:
 * everything else goes through store_exec. */
MYSQL *store_connection(db *d);

/* "YYYY-MM-DD hh:mm:ss[.fff]" from MariaDB -> RFC 3339 "YYYY-MM-DDThh:mm:ss.fffZ" in A; NULL stays NULL. */
char *store_time(arena *a, const char *dbtime);
/* The same text -> epoch milliseconds, or -1. */
int64_t store_time_ms(const char *dbtime);

#endif
