/* db: the MariaDB connection, lazy (re)connect, prepared-statement cache and row fetching. */
#include "db.h"
#include "log.h"
#include "store.h"

#include <errmsg.h>
#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_STATEMENTS 128
#define CELL_INITIAL 256

struct cached_stmt {
	const char *sql;
	MYSQL_STMT *stmt;
};

struct db {
	const settings *cfg;
	MYSQL *conn; /* NULL while disconnected */
	int in_txn;  /* between a successful db_begin and its commit or rollback */
	unsigned int last_errno; /* of the last failed call */
	int lock_conflict;       /* a deadlock or lock wait timeout since db_mark */
	unsigned long writes;    /* commits and autocommitted writes, counted for db_retryable */
	unsigned long writes_at_mark;
	int nstmts;
	struct cached_stmt stmts[MAX_STATEMENTS];
};

db *db_new(const settings *s)
{
	db *d = calloc(1, sizeof *d);
	if (!d)
		abort();
	d->cfg = s;
	return d;
}

static void disconnect(db *d)
{
	for (int i = 0; i < d->nstmts; i++)
		mysql_stmt_close(d->stmts[i].stmt);
	d->nstmts = 0;
	if (d->conn)
		mysql_close(d->conn);
	d->conn = NULL;
	d->in_txn = 0;
}

void db_free(db *d)
{
	if (!d)
		return;
	disconnect(d);
	free(d);
}

/* Connects with timeouts, utf8mb4 and a UTC session; never MYSQL_OPT_RECONNECT (it would silently drop
 * prepared statements). Returns 0 or -1 (logged). */
static int connect_if_needed(db *d)
{
	if (d->conn)
		return 0;
	MYSQL *m = mysql_init(NULL);
	if (!m)
		abort();
	unsigned int t = (unsigned int)d->cfg->db_timeout_seconds;
	mysql_options(m, MYSQL_OPT_CONNECT_TIMEOUT, &t);
	mysql_options(m, MYSQL_OPT_READ_TIMEOUT, &t);
	mysql_options(m, MYSQL_OPT_WRITE_TIMEOUT, &t);
	mysql_options(m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	/* A row lock wait must end (error 1205, which the API retries) before the client's read timeout
	 * would drop the connection. */
	int lock_wait = d->cfg->db_lock_wait_seconds;
	if (lock_wait >= d->cfg->db_timeout_seconds)
		lock_wait = d->cfg->db_timeout_seconds > 1 ? d->cfg->db_timeout_seconds - 1 : 1;
	char init[200];
	snprintf(init, sizeof init,
		 "SET time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_DATE,NO_ENGINE_SUBSTITUTION', "
		 "innodb_lock_wait_timeout = %d",
		 lock_wait);
	mysql_options(m, MYSQL_INIT_COMMAND, init);
	const char *sock = d->cfg->db_socket && *d->cfg->db_socket ? d->cfg->db_socket : NULL;
	if (!mysql_real_connect(m, sock ? NULL : d->cfg->db_host, d->cfg->db_user, d->cfg->db_password,
				d->cfg->db_name, sock ? 0 : (unsigned int)d->cfg->db_port, sock, 0)) {
		log_error("mariadb connect failed: %s", mysql_error(m));
		mysql_close(m);
		return -1;
	}
	d->conn = m;
	return 0;
}

static int is_connection_error(unsigned int e)
{
	return e == CR_SERVER_GONE_ERROR || e == CR_SERVER_LOST || e == CR_CONNECTION_ERROR ||
	       e == CR_CONN_HOST_ERROR || e == CR_SERVER_LOST_EXTENDED || e == ER_CONNECTION_KILLED ||
	       e == ER_SERVER_SHUTDOWN || e == CR_COMMANDS_OUT_OF_SYNC;
}

/* Maps a failed call's error to a store result, dropping the connection when it is gone. */
static enum store_result fail(db *d, unsigned int e, const char *msg, const char *sql)
{
	d->last_errno = e;
	if (e == ER_DUP_ENTRY)
		return STORE_CONFLICT;
	if (e == ER_LOCK_DEADLOCK || e == ER_LOCK_WAIT_TIMEOUT) {
		d->lock_conflict = 1;
		log_warn("mariadb lock conflict %u: %s; statement: %.120s", e, msg, sql);
		return STORE_ERROR;
	}
	if (is_connection_error(e)) {
		log_error("mariadb connection lost (%u: %s); reconnecting on next use", e, msg);
		disconnect(d);
		return STORE_UNAVAILABLE;
	}
	log_error("mariadb error %u: %s; statement: %.120s", e, msg, sql);
	return STORE_ERROR;
}

MYSQL *store_connection(db *d)
{
	return connect_if_needed(d) == 0 ? d->conn : NULL;
}

/* A connection kept from an earlier request may have been closed by the server meanwhile (MariaDB
 * restarted, wait_timeout): the first call on it fails with "server has gone away", the statement
 * unsent. Outside a transaction that call is made once more on a new connection, so a restart does
 * not cost every worker one failed request. REUSED: the connection existed before the call. */
static int retry_on_new_connection(const db *d, int reused, enum store_result res)
{
	if (!reused || res != STORE_UNAVAILABLE || d->last_errno != CR_SERVER_GONE_ERROR)
		return 0;
	log_warn("mariadb connection was closed by the server; retrying on a new connection");
	return 1;
}

int db_ping(db *d)
{
	for (int attempt = 0;; attempt++) {
		int reused = d->conn != NULL;
		if (connect_if_needed(d) != 0)
			return -1;
		if (mysql_ping(d->conn) == 0)
			return 0;
		enum store_result res = fail(d, mysql_errno(d->conn), mysql_error(d->conn), "ping");
		if (d->conn)
			disconnect(d);
		if (attempt > 0 || !retry_on_new_connection(d, reused, res))
			return -1;
	}
}

static enum store_result simple(db *d, const char *what)
{
	if (connect_if_needed(d) != 0)
		return STORE_UNAVAILABLE;
	/* Fixed statement text: no input ever reaches it. */
	if (mysql_real_query(d->conn, what, (unsigned long)strlen(what)) != 0)
		return fail(d, mysql_errno(d->conn), mysql_error(d->conn), what);
	return STORE_OK;
}

enum store_result db_begin(db *d)
{
	for (int attempt = 0;; attempt++) {
		int reused = d->conn != NULL && !d->in_txn;
		enum store_result res = simple(d, "START TRANSACTION");
		if (res == STORE_OK)
			d->in_txn = 1;
		if (res == STORE_OK || attempt > 0 || !retry_on_new_connection(d, reused, res))
			return res;
	}
}

enum store_result db_commit(db *d)
{
	enum store_result res = simple(d, "COMMIT");
	d->in_txn = 0;
	if (res == STORE_OK)
		d->writes++;
	return res;
}

void db_mark(db *d)
{
	d->lock_conflict = 0;
	d->writes_at_mark = d->writes;
}

int db_retryable(const db *d)
{
	return d->lock_conflict && d->writes == d->writes_at_mark;
}

void db_rollback(db *d)
{
	if (d->conn && mysql_real_query(d->conn, "ROLLBACK", 8) != 0)
		fail(d, mysql_errno(d->conn), mysql_error(d->conn), "ROLLBACK");
	d->in_txn = 0;
}

static MYSQL_STMT *statement(db *d, const char *sql, enum store_result *res)
{
	for (int i = 0; i < d->nstmts; i++)
		if (d->stmts[i].sql == sql)
			return d->stmts[i].stmt;
	if (d->nstmts == MAX_STATEMENTS) {
		log_error("statement cache full (%d)", MAX_STATEMENTS);
		*res = STORE_ERROR;
		return NULL;
	}
	MYSQL_STMT *st = mysql_stmt_init(d->conn);
	if (!st)
		abort();
	if (mysql_stmt_prepare(st, sql, (unsigned long)strlen(sql)) != 0) {
		unsigned int e = mysql_stmt_errno(st);
		char msg[256];
		snprintf(msg, sizeof msg, "%s", mysql_stmt_error(st));
		mysql_stmt_close(st);
		*res = fail(d, e, msg, sql);
		return NULL;
	}
	d->stmts[d->nstmts].sql = sql;
	d->stmts[d->nstmts].stmt = st;
	d->nstmts++;
	return st;
}

static MYSQL_BIND *next_param(store_params *p)
{
	if (p->n >= STORE_MAX_PARAMS)
		abort(); /* a programming error: statements have fixed parameter counts */
	MYSQL_BIND *b = &p->bind[p->n];
	memset(b, 0, sizeof *b);
	return b;
}

void store_param_bytes(store_params *p, const void *data, size_t n)
{
	MYSQL_BIND *b = next_param(p);
	p->len[p->n] = (unsigned long)n;
	b->buffer_type = MYSQL_TYPE_STRING;
	b->buffer = (void *)data;
	b->buffer_length = (unsigned long)n;
	b->length = &p->len[p->n];
	p->n++;
}

void store_param_str(store_params *p, const char *s)
{
	if (!s) {
		store_param_null(p);
		return;
	}
	store_param_bytes(p, s, strlen(s));
}

void store_param_int(store_params *p, long long v)
{
	MYSQL_BIND *b = next_param(p);
	p->ints[p->n] = v;
	b->buffer_type = MYSQL_TYPE_LONGLONG;
	b->buffer = &p->ints[p->n];
	p->n++;
}

void store_param_null(store_params *p)
{
	MYSQL_BIND *b = next_param(p);
	p->nulls[p->n] = 1;
	b->buffer_type = MYSQL_TYPE_NULL;
	b->is_null = (my_bool *)&p->nulls[p->n];
	p->n++;
}

/* Writes V as N decimal digits (zero-padded) at P; returns the end. */
static char *put_digits(char *p, unsigned long v, int n)
{
	for (int i = n - 1; i >= 0; i--) {
		p[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return p + n;
}

/* T as MariaDB's own text for a DATE or DATETIME(DECIMALS) column ("YYYY-MM-DD[ hh:mm:ss[.fff...]]"), in A.
 * Formatting here instead of letting the connector convert to a string saves a sprintf per cell, which
 * showed up in the profile of GET /api/v1/agents (three timestamps per agent). */
static char *datetime_text(arena *a, const MYSQL_TIME *t, int is_date, unsigned int decimals)
{
	char buf[32], *p = buf;
	p = put_digits(p, t->year, 4);
	*p++ = '-';
	p = put_digits(p, t->month, 2);
	*p++ = '-';
	p = put_digits(p, t->day, 2);
	if (!is_date) {
		*p++ = ' ';
		p = put_digits(p, t->hour, 2);
		*p++ = ':';
		p = put_digits(p, t->minute, 2);
		*p++ = ':';
		p = put_digits(p, t->second, 2);
		if (decimals == AUTO_SEC_PART_DIGITS) /* an expression of unknown scale: microseconds when present */
			decimals = t->second_part ? 6 : 0;
		if (decimals > 0 && decimals <= 6) {
			*p++ = '.';
			unsigned long frac = t->second_part;
			for (unsigned int i = decimals; i < 6; i++)
				frac /= 10;
			p = put_digits(p, frac, (int)decimals);
		}
	}
	return arena_strndup(a, buf, (size_t)(p - buf));
}

/* Fetches every row of ST as text cells into OUT (if not NULL). */
static enum store_result fetch_rows(db *d, MYSQL_STMT *st, const char *sql, arena *a, store_rows *out)
{
	MYSQL_RES *meta = mysql_stmt_result_metadata(st);
	if (!meta)
		return STORE_OK;
	unsigned int ncols = mysql_num_fields(meta);
	MYSQL_FIELD *fields = mysql_fetch_fields(meta);
	MYSQL_BIND *binds = arena_alloc(a, ncols * sizeof *binds);
	unsigned long *lens = arena_alloc(a, ncols * sizeof *lens);
	my_bool *nulls = arena_alloc(a, ncols * sizeof *nulls);
	char **bufs = arena_alloc(a, ncols * sizeof *bufs);
	/* 0: text; 1: DATETIME/TIMESTAMP; 2: DATE (fetched as MYSQL_TIME, see datetime_text). */
	unsigned char *timekind = arena_alloc(a, ncols);
	unsigned int *decimals = arena_alloc(a, ncols * sizeof *decimals);
	for (unsigned int c = 0; c < ncols; c++) {
		enum enum_field_types ft = fields[c].type;
		timekind[c] = ft == MYSQL_TYPE_DATETIME || ft == MYSQL_TYPE_TIMESTAMP ? 1 : ft == MYSQL_TYPE_DATE ? 2 : 0;
		decimals[c] = fields[c].decimals;
		binds[c].length = &lens[c];
		binds[c].is_null = &nulls[c];
		if (timekind[c]) {
			bufs[c] = arena_alloc(a, sizeof(MYSQL_TIME));
			binds[c].buffer_type = MYSQL_TYPE_DATETIME;
			binds[c].buffer = bufs[c];
			binds[c].buffer_length = sizeof(MYSQL_TIME);
		} else {
			bufs[c] = arena_alloc(a, CELL_INITIAL);
			binds[c].buffer_type = MYSQL_TYPE_STRING;
			binds[c].buffer = bufs[c];
			binds[c].buffer_length = CELL_INITIAL;
		}
	}
	mysql_free_result(meta);
	if (mysql_stmt_bind_result(st, binds) != 0 || mysql_stmt_store_result(st) != 0)
		return fail(d, mysql_stmt_errno(st), mysql_stmt_error(st), sql);
	int cap = 0, n = 0;
	char ***rows = NULL;
	for (;;) {
		int rc = mysql_stmt_fetch(st);
		if (rc == MYSQL_NO_DATA)
			break;
		if (rc == 1) {
			enum store_result r = fail(d, mysql_stmt_errno(st), mysql_stmt_error(st), sql);
			if (d->conn)
				mysql_stmt_free_result(st);
			return r;
		}
		if (!out)
			continue;
		if (n == cap) {
			int ncap = cap ? cap * 2 : 8;
			char ***grown = arena_alloc(a, (size_t)ncap * sizeof *grown);
			if (n)
				memcpy(grown, rows, (size_t)n * sizeof *grown);
			rows = grown;
			cap = ncap;
		}
		char **row = arena_alloc(a, ncols * sizeof *row);
		for (unsigned int c = 0; c < ncols; c++) {
			if (nulls[c]) {
				row[c] = NULL;
			} else if (timekind[c]) {
				row[c] = datetime_text(a, (const MYSQL_TIME *)(void *)bufs[c], timekind[c] == 2, decimals[c]);
			} else if (lens[c] <= CELL_INITIAL) {
				row[c] = arena_strndup(a, bufs[c], lens[c]);
			} else { /* truncated (MYSQL_DATA_TRUNCATED): read the whole value */
				char *big = arena_alloc(a, lens[c] + 1);
				MYSQL_BIND col = {0};
				unsigned long got = 0;
				col.buffer_type = MYSQL_TYPE_STRING;
				col.buffer = big;
				col.buffer_length = lens[c];
				col.length = &got;
				if (mysql_stmt_fetch_column(st, &col, c, 0) != 0) {
					mysql_stmt_free_result(st);
					return fail(d, mysql_stmt_errno(st), mysql_stmt_error(st), sql);
				}
				big[lens[c]] = '\0';
				row[c] = big;
			}
		}
		rows[n++] = row;
	}
	mysql_stmt_free_result(st);
	if (out) {
		out->nrows = n;
		out->ncols = (int)ncols;
		out->cell = rows;
	}
	return STORE_OK;
}

static enum store_result exec_once(db *d, const char *sql, store_params *p, arena *a, store_rows *out)
{
	enum store_result res = STORE_OK;
	if (out)
		memset(out, 0, sizeof *out);
	if (connect_if_needed(d) != 0)
		return STORE_UNAVAILABLE;
	MYSQL_STMT *st = statement(d, sql, &res);
	if (!st)
		return res;
	unsigned long want = mysql_stmt_param_count(st);
	if (want != (unsigned long)(p ? p->n : 0)) {
		log_error("statement wants %lu parameters, got %d: %.120s", want, p ? p->n : 0, sql);
		return STORE_ERROR;
	}
	if (p && p->n > 0 && mysql_stmt_bind_param(st, p->bind) != 0)
		return fail(d, mysql_stmt_errno(st), mysql_stmt_error(st), sql);
	if (mysql_stmt_execute(st) != 0)
		return fail(d, mysql_stmt_errno(st), mysql_stmt_error(st), sql);
	res = fetch_rows(d, st, sql, a, out);
	if (res == STORE_OK && !d->in_txn && mysql_stmt_field_count(st) == 0)
		d->writes++; /* an autocommitted write: work a retry of the request would repeat */
	if (res == STORE_OK && out) {
		out->affected = mysql_stmt_affected_rows(st);
		out->insert_id = mysql_stmt_insert_id(st);
	}
	return res;
}

enum store_result store_exec(db *d, const char *sql, store_params *p, arena *a, store_rows *out)
{
	for (int attempt = 0;; attempt++) {
		int reused = d->conn != NULL && !d->in_txn;
		enum store_result res = exec_once(d, sql, p, a, out);
		if (attempt > 0 || !retry_on_new_connection(d, reused, res))
			return res;
	}
}

enum store_result store_exec_column(db *d, const char *sql, store_params *p, arena *a, char ***column, int *n)
{
	store_rows r;
	enum store_result res = store_exec(d, sql, p, a, &r);
	if (res != STORE_OK)
		return res;
	*column = arena_alloc(a, (size_t)(r.nrows + 1) * sizeof **column);
	for (int i = 0; i < r.nrows; i++)
		(*column)[i] = r.cell[i][0];
	(*column)[r.nrows] = NULL;
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_exec_rows(db *d, const char *sql, store_params *p, arena *a, size_t size, store_row_fn from,
				  void **rows, int *n)
{
	store_rows r;
	enum store_result res = store_exec(d, sql, p, a, &r);
	if (res != STORE_OK)
		return res;
	char *out = arena_alloc(a, (size_t)(r.nrows ? r.nrows : 1) * size);
	memset(out, 0, (size_t)(r.nrows ? r.nrows : 1) * size);
	for (int i = 0; i < r.nrows; i++)
		from(a, r.cell[i], out + (size_t)i * size);
	*rows = out;
	*n = r.nrows;
	return STORE_OK;
}

enum store_result store_page(db *d, arena *a, const char *first, const char *next, const char *account_id,
			     const char *before_id, int limit, size_t size, store_row_fn from, void **rows, int *n)
{
	store_params p = {0};
	store_param_str(&p, account_id);
	if (before_id)
		store_param_str(&p, before_id);
	store_param_int(&p, limit);
	return store_exec_rows(d, before_id ? next : first, &p, a, size, from, rows, n);
}

enum store_result store_account_row(db *d, arena *a, const char *sql, const char *account_id, const char *id,
				    store_row_fn from, void *out)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	store_param_str(&p, id);
	enum store_result res = store_exec(d, sql, &p, a, &r);
	if (res != STORE_OK)
		return res;
	if (r.nrows != 1)
		return STORE_NOT_FOUND;
	from(a, r.cell[0], out);
	return STORE_OK;
}

enum store_result store_account_count(db *d, arena *a, const char *sql, const char *account_id, long *n)
{
	store_params p = {0};
	store_rows r;
	store_param_str(&p, account_id);
	enum store_result res = store_exec(d, sql, &p, a, &r);
	if (res != STORE_OK)
		return res;
	*n = r.nrows == 1 && r.cell[0][0] ? strtol(r.cell[0][0], NULL, 10) : 0;
	return STORE_OK;
}

char *store_time(arena *a, const char *t)
{
	if (!t)
		return NULL;
	/* "2026-11-28 14:19:31.123" -> "2026-11-28T14:19:31.123Z" */
	size_t n = strlen(t);
	if (n < 19 || n > 26)
		return arena_strdup(a, t);
	char *out = arena_alloc(a, 25);
	memcpy(out, t, 10);
	out[10] = 'T';
	memcpy(out + 11, t + 11, 8);
	out[19] = '.';
	memcpy(out + 20, n >= 23 ? t + 20 : "000", 3);
	out[23] = 'Z';
	out[24] = '\0';
	return out;
}

int64_t store_time_ms(const char *t)
{
	if (!t || strlen(t) < 19)
		return -1;
	struct tm tm = {0};
	int ms = 0;
	if (sscanf(t, "%4d-%2d-%2d %2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
		   &tm.tm_sec) != 6)
		return -1;
	if (strlen(t) >= 23)
		ms = (t[20] - '0') * 100 + (t[21] - '0') * 10 + (t[22] - '0');
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}
