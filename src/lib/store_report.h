/* store_report: the operator report views of sql/reports/ (one fixed table of them, each with its prepared
 * SELECT) and the read-only MariaDB user that may read them. */
#ifndef AP_STORE_REPORT_H
#define AP_STORE_REPORT_H

#include "arena.h"
#include "db.h"

/* How a column is rendered: text, an integer, a decimal fraction, a DATETIME(3) (as RFC 3339 UTC). */
enum report_kind { REPORT_TEXT, REPORT_INT, REPORT_DECIMAL, REPORT_TIME };

#define REPORT_MAX_COLS 16

typedef struct report_column {
	const char *name;
	enum report_kind kind;
} report_column;

typedef struct report_def {
	const char *name;    /* what `agentplatform-admin report NAME` takes */
	const char *view;    /* the view it reads: report_<name> */
	const char *summary; /* one line for --help */
	int has_days;        /* rows have a UTC `day`: --from/--to apply */
	int ncols;
	report_column cols[REPORT_MAX_COLS];
} report_def;

/* Every report, in --help order; N gets the count. The table is static: never free it. */
const report_def *store_report_all(int *n);
/* The report named NAME, or NULL. */
const report_def *store_report_find(const char *name);

/* Rows of report R, filtered by ACCOUNT_ID (NULL: every account) and, for a report with days, FROM..TO
 * (YYYY-MM-DD, inclusive; NULL: unbounded). Cells are text or NULL, in R's column order; TIME cells already
 * RFC 3339. All in A. */
enum store_result store_report_rows(db *d, arena *a, const report_def *r, const char *account_id, const char *from,
				    const char *to, char ****cells, int *nrows);

/* Creates the MariaDB user NAME@HOST identified by the mysql_native_password hash HASH ("*" + 40 uppercase
 * hex: the password itself never reaches the server) and grants it SELECT on each report view of the current
 * database, one GRANT per view. NAME must match [a-z][a-z0-9_]{0,31} and HOST [A-Za-z0-9.%_:-]{1,60} (callers
 * validate; checked again here). STORE_CONFLICT: the user exists (left untouched). On any failure after the
 * user was created it is dropped again. Other failures: STORE_ERROR (logged with the server's message, e.g. a
 * missing CREATE USER privilege or views not created yet), STORE_UNAVAILABLE. */
enum store_result store_report_create_user(db *d, const char *name, const char *host, const char *hash);

/* 1 when S is a valid reporting user name / host for store_report_create_user, else 0. */
int store_report_valid_user(const char *s);
int store_report_valid_host(const char *s);

#endif
