/* report: `agentplatform-admin report NAME` (the operator report views as table, CSV or JSON) and
 * `agentplatform-admin reporting-user create NAME` (a MariaDB user that may only read those views). */
#include "admin.h"
#include "crypto.h"
#include "ids.h"
#include "log.h"
#include "store_account.h"
#include "store_report.h"
#include "util.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define MAX_PASSWORD 256

enum report_format { FORMAT_TABLE, FORMAT_CSV, FORMAT_JSON };

static void print_usage(FILE *f)
{
	fputs("usage: agentplatform-admin report NAME [--account ID] [--from YYYY-MM-DD] [--to YYYY-MM-DD]\n"
	      "                                 [--format table|csv|json]\n"
	      "\n"
	      "Runs one of the report views that `migrate` creates from sql/reports/ (see README, Operations).\n"
	      "--account keeps one account's rows; --from/--to (UTC days, inclusive) apply to the reports with a day;\n"
	      "without them every day is included. --format: table (default, aligned), csv (RFC 4180, a header\n"
	      "row, CRLF line ends) or json (an array of objects; numbers as numbers, times RFC 3339, null for none).\n"
	      "\n"
	      "reports:\n",
	      f);
	int n;
	const report_def *all = store_report_all(&n);
	for (int i = 0; i < n; i++)
		fprintf(f, "  %-22s %s%s\n", all[i].name, all[i].summary, all[i].has_days ? " (--from/--to)" : "");
}

/* YYYY-MM-DD naming a real day of the Gregorian calendar: 1, else 0. */
static int valid_day(const char *s)
{
	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && !isdigit((unsigned char)s[i]))
			return 0;
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0'), d = (s[8] - '0') * 10 + (s[9] - '0');
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (y < 1000 || m < 1 || m > 12 || d < 1)
		return 0;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return d <= mdays[m - 1] + (m == 2 && leap);
}

/* One CSV field (RFC 4180 section 2): quoted when it holds a comma, a quote, CR or LF; quotes doubled. */
static void csv_field(const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void print_csv(const report_def *r, char ***cells, int n)
{
	for (int c = 0; c < r->ncols; c++) {
		if (c)
			putchar(',');
		csv_field(r->cols[c].name);
	}
	fputs("\r\n", stdout);
	for (int i = 0; i < n; i++) {
		for (int c = 0; c < r->ncols; c++) {
			if (c)
				putchar(',');
			csv_field(cells[i][c]);
		}
		fputs("\r\n", stdout);
	}
}

static long width_of(const char *s)
{
	long w = util_utf8_length(s, strlen(s));
	return w < 0 ? (long)strlen(s) : w;
}

/* Columns padded to their widest cell; numbers right-aligned; "-" for none. */
static void print_table(const report_def *r, char ***cells, int n)
{
	long w[REPORT_MAX_COLS];
	for (int c = 0; c < r->ncols; c++) {
		w[c] = width_of(r->cols[c].name);
		for (int i = 0; i < n; i++) {
			long cw = cells[i][c] ? width_of(cells[i][c]) : 1;
			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (int i = -1; i < n; i++) {
		for (int c = 0; c < r->ncols; c++) {
			const char *s = i < 0 ? r->cols[c].name : cells[i][c] ? cells[i][c] : "-";
			long pad = w[c] - width_of(s);
			int right = i >= 0 && (r->cols[c].kind == REPORT_INT || r->cols[c].kind == REPORT_DECIMAL);
			if (c)
				fputs("  ", stdout);
			if (right)
				printf("%*s", (int)pad, "");
			fputs(s, stdout);
			if (!right && c + 1 < r->ncols)
				printf("%*s", (int)pad, "");
		}
		putchar('\n');
	}
}

static void print_json(const report_def *r, char ***cells, int n)
{
	json_t *arr = json_array();
	for (int i = 0; i < n; i++) {
		json_t *o = json_object();
		for (int c = 0; c < r->ncols; c++) {
			const char *s = cells[i][c];
			json_t *v = !s				       ? json_null()
				    : r->cols[c].kind == REPORT_INT     ? json_integer(strtoll(s, NULL, 10))
				    : r->cols[c].kind == REPORT_DECIMAL ? json_real(strtod(s, NULL))
									: json_string(s);
			if (!v) /* not UTF-8: cannot happen for these columns (utf8mb4 or ASCII) */
				v = json_null();
			json_object_set_new(o, r->cols[c].name, v);
		}
		json_array_append_new(arr, o);
	}
	char *text = json_dumps(arr, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (!text)
		abort();
	puts(text);
	free(text);
	json_decref(arr);
}

int admin_report(admin_ctx *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			print_usage(stdout);
			return EXIT_OK;
		}
	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	const report_def *r = store_report_find(argv[1]);
	if (!r) {
		fprintf(stderr, "agentplatform-admin: unknown report '%s'\n\n", argv[1]);
		print_usage(stderr);
		return EXIT_USAGE;
	}
	const char *account = NULL, *from = NULL, *to = NULL, *format = "table";
	for (int i = 2; i < argc; i++) {
		const char **slot = strcmp(argv[i], "--account") == 0  ? &account
				    : strcmp(argv[i], "--from") == 0   ? &from
				    : strcmp(argv[i], "--to") == 0     ? &to
				    : strcmp(argv[i], "--format") == 0 ? &format
								       : NULL;
		if (!slot || i + 1 >= argc) {
			fprintf(stderr, "agentplatform-admin: report: unexpected argument '%s'\n\n", argv[i]);
			print_usage(stderr);
			return EXIT_USAGE;
		}
		*slot = argv[++i];
	}
	enum report_format fmt;
	if (strcmp(format, "table") == 0)
		fmt = FORMAT_TABLE;
	else if (strcmp(format, "csv") == 0)
		fmt = FORMAT_CSV;
	else if (strcmp(format, "json") == 0)
		fmt = FORMAT_JSON;
	else {
		fprintf(stderr, "agentplatform-admin: --format must be table, csv or json (got '%s')\n", format);
		return EXIT_USAGE;
	}
	if ((from || to) && !r->has_days) {
		fprintf(stderr, "agentplatform-admin: report %s has no day: --from and --to do not apply\n", r->name);
		return EXIT_USAGE;
	}
	if ((from && !valid_day(from)) || (to && !valid_day(to))) {
		fprintf(stderr, "agentplatform-admin: --from and --to must be days as YYYY-MM-DD\n");
		return EXIT_USAGE;
	}
	if (from && to && strcmp(from, to) > 0) {
		fprintf(stderr, "agentplatform-admin: --from %s is after --to %s\n", from, to);
		return EXIT_USAGE;
	}
	if (account) {
		enum store_result res = ids_valid("acct_", account) ? store_account_exists(c->db, c->a, account, 0)
								    : STORE_NOT_FOUND;
		if (res == STORE_NOT_FOUND) {
			fprintf(stderr, "agentplatform-admin: unknown account '%s'\n", account);
			return EXIT_USAGE;
		}
		if (res != STORE_OK)
			return admin_store_failure(res, "report");
	}
	char ***cells;
	int n;
	enum store_result res = store_report_rows(c->db, c->a, r, account, from, to, &cells, &n);
	if (res != STORE_OK) {
		if (res == STORE_ERROR)
			fprintf(stderr, "agentplatform-admin: report %s: has `agentplatform-admin migrate` created view %s?\n",
				r->name, r->view);
		return admin_store_failure(res, "report");
	}
	if (fmt == FORMAT_CSV)
		print_csv(r, cells, n);
	else if (fmt == FORMAT_JSON)
		print_json(r, cells, n);
	else
		print_table(r, cells, n);
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
}

static const char USER_USAGE[] =
	"usage: agentplatform-admin reporting-user create NAME [--host HOST]\n"
	"\n"
	"Creates the MariaDB user NAME@HOST (NAME: [a-z][a-z0-9_]{0,31}; HOST default '%', any host; use\n"
	"localhost or an address or pattern to narrow it) with SELECT on each report view and nothing else.\n"
	"The password is the first line of stdin (prompted without echo on a terminal), 8 to 256 bytes; it is\n"
	"never an argument, and only its mysql_native_password hash is sent to the server. A user that exists\n"
	"already is refused and left as it is. The admin's own database user needs CREATE USER and GRANT\n"
	"OPTION on the database (README, Operations).\n";

/* The first line of stdin into BUF (without its CR LF); -1 when empty, too long or holding a NUL. */
static int read_password(char *buf, size_t size)
{
	struct termios old, quiet;
	int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		fputs("password for the reporting user: ", stderr);
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	int rc = -1;
	size_t n = 0;
	int ch;
	while ((ch = getchar()) != EOF && ch != '\n') {
		if (ch == '\0' || n + 1 >= size) {
			n = 0;
			break;
		}
		buf[n++] = (char)ch;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (n > 0 && (ch == '\n' || ch == EOF))
		rc = 0;
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	return rc;
}

/* mysql_native_password: "*" + uppercase hex of SHA1(SHA1(password)), 42 bytes with the NUL. */
static void native_hash(const char *pw, char out[42])
{
	unsigned char h1[CRYPTO_SHA1_LEN], h2[CRYPTO_SHA1_LEN];
	crypto_sha1(pw, strlen(pw), h1);
	crypto_sha1(h1, sizeof h1, h2);
	static const char hex[] = "0123456789ABCDEF";
	out[0] = '*';
	for (int i = 0; i < CRYPTO_SHA1_LEN; i++) {
		out[1 + 2 * i] = hex[h2[i] >> 4];
		out[2 + 2 * i] = hex[h2[i] & 15];
	}
	out[41] = '\0';
	explicit_bzero(h1, sizeof h1);
}

int admin_reporting_user(admin_ctx *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(USER_USAGE, stdout);
			return EXIT_OK;
		}
	const char *host = "%";
	if (argc == 5 && strcmp(argv[3], "--host") == 0)
		host = argv[4];
	else if (argc != 3) {
		fputs(USER_USAGE, stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "create") != 0) {
		fprintf(stderr, "agentplatform-admin: reporting-user: unknown subcommand '%s'\n\n%s", argv[1], USER_USAGE);
		return EXIT_USAGE;
	}
	const char *name = argv[2];
	if (!store_report_valid_user(name)) {
		fprintf(stderr, "agentplatform-admin: reporting user NAME must match [a-z][a-z0-9_]{0,31}\n");
		return EXIT_USAGE;
	}
	if (!store_report_valid_host(host)) {
		fprintf(stderr, "agentplatform-admin: --host must be 1 to 60 of A-Z a-z 0-9 . %% _ : -\n");
		return EXIT_USAGE;
	}
	char pw[MAX_PASSWORD + 2], hash[42];
	if (read_password(pw, sizeof pw) != 0 || strlen(pw) < 8 || strlen(pw) > MAX_PASSWORD) {
		explicit_bzero(pw, sizeof pw);
		fprintf(stderr, "agentplatform-admin: the password (first line of stdin) must be 8 to %d bytes\n",
			MAX_PASSWORD);
		return EXIT_USAGE;
	}
	native_hash(pw, hash);
	explicit_bzero(pw, sizeof pw);
	enum store_result res = store_report_create_user(c->db, name, host, hash);
	if (res == STORE_CONFLICT) {
		fprintf(stderr, "agentplatform-admin: MariaDB user '%s'@'%s' exists already; left unchanged\n", name, host);
		return EXIT_FAIL;
	}
	if (res != STORE_OK) {
		if (res == STORE_ERROR)
			fprintf(stderr, "agentplatform-admin: reporting-user create: does the admin's database user have "
					"CREATE USER and GRANT OPTION, and has migrate created the report views?\n");
		return admin_store_failure(res, "reporting-user create");
	}
	int n;
	store_report_all(&n);
	/* Reporting users belong to no account, so audit_logs (per account) cannot hold this: the log does. */
	log_warn("reporting user '%s'@'%s' created with SELECT on %d report views", name, host, n);
	return EXIT_OK;
}
