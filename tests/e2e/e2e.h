/* e2e: the toolkit of the end-to-end suites: an HTTP client, the admin CLI, SQL on the test database, checks. */
#ifndef AP_E2E_H
#define AP_E2E_H

#include <CUnit/CUnit.h>
#include <jansson.h>
#include <stddef.h>

/* The stack under test, from the environment (main.c fills it; every field is set). */
struct e2e_env {
	const char *url;         /* AGENTPLATFORM_URL: the origin, e.g. http://127.0.0.1:18190 */
	const char *config;      /* AGENTPLATFORM_CONFIG */
	const char *admin;       /* AGENTPLATFORM_ADMIN: the agentplatform-admin binary */
	const char *stack;       /* AP_TEST_STACK: a command taking redis-stop | redis-start */
	const char *db_socket;   /* AP_TEST_DB_* : direct SQL on the stack's database */
	const char *db_name;
	const char *db_user;
	const char *db_password;
};
extern struct e2e_env E2E;

/* ------------------------------------------------------------------------------------------------
 * HTTP */

#define E2E_MAX_HEADERS 64

/* One response. Zero-initialize before first use; every http_* call frees what OUT held before. */
struct resp {
	long status;      /* 0 when the request failed below HTTP (logged) */
	char *body;       /* NUL-terminated, "" when empty */
	size_t body_len;
	json_t *json;     /* the body parsed, or NULL when it is not JSON */
	struct {
		char *name, *value;
	} hdr[E2E_MAX_HEADERS];
	int nhdr;
};

/* One request. Unset fields mean: GET, no Authorization, no body. */
struct req {
	const char *method;
	const char *path;           /* appended to E2E.url and sent exactly as written (no // squashing) */
	const char *key;            /* Authorization: Bearer KEY */
	const char *authorization;  /* the whole Authorization value instead ("" sends an empty header) */
	const char *body;           /* sent as is; NULL for no body */
	size_t body_len;            /* 0: strlen(body) */
	const char *content_type;   /* with a body, default application/json; "" sends none */
	const char *const *headers; /* extra "Name: value" lines, NULL-terminated */
};

/* Sends Q and fills OUT. Returns 0, or -1 when no HTTP response came (OUT->status is then 0). */
int http_send(const struct req *q, struct resp *out);
/* Sends the N requests Q[] at once over N connections (curl multi); OUT[i] answers Q[i]. Returns 0 when
 * every one got an HTTP response, else -1. OUT[] zeroed or holding earlier responses. */
int http_multi(const struct req *q, int n, struct resp *out);
/* GET PATH (printf format) with KEY (NULL: no Authorization). Returns the status (0: no response). */
long http_get(struct resp *out, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* METHOD PATH with KEY and a JSON BODY (NULL: none). Returns the status (0: no response). */
long http_call(struct resp *out, const char *method, const char *key, const char *body, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The value of response header NAME (case-insensitive), or NULL. */
const char *resp_header(const struct resp *r, const char *name);
/* Releases what R holds and zeroes it. */
void resp_free(struct resp *r);

/* The member at dotted PATH ("error.code", "data.config.location") of V, or NULL. */
json_t *jget(const json_t *v, const char *path);
/* The string at PATH, or NULL when absent or not a string. */
const char *jstr(const json_t *v, const char *path);

/* ------------------------------------------------------------------------------------------------
 * The admin CLI and the test database */

struct admin_run {
	int status;     /* exit status; -1 when it did not run or died of a signal */
	char out[4096]; /* stdout, trailing newlines removed */
	char err[4096]; /* stderr */
};

/* Runs E2E.admin --config E2E.config ARGV... (NULL-terminated) with the extra environment ENV
 * ("NAME=VALUE", NULL-terminated, or NULL). Returns RUN->status. */
int e2e_admin(struct admin_run *run, const char *const *argv, const char *const *env);

/* An account with one API key, made through the admin CLI. */
struct tenant {
	char account[64];
	char key[64];
	char key_id[64];
};

/* Creates an account named after LABEL and a key on it with SCOPES ("agents:read agents:write", "all")
 * plus the extra key create arguments EXTRA (NULL-terminated, or NULL). Returns 0, or -1 (logged). */
int e2e_tenant(struct tenant *t, const char *label, const char *scopes, const char *const *extra);
/* Another key on T's account, into KEY and KEY_ID (64 bytes each). Returns 0 or -1. */
int e2e_key(const struct tenant *t, const char *scopes, const char *const *extra, char *key, char *key_id);

/* Rows of a query, every cell a string or NULL. */
struct rows {
	int n, ncols;
	char ***cell;
};

/* Runs SQL (a prepared statement) with the string PARAMS (NULL-terminated, or NULL). Fills OUT when
 * not NULL (free with rows_free). Returns the rows matched or changed, or -1 (logged). */
long e2e_sql(struct rows *out, const char *sql, const char *const *params);
void rows_free(struct rows *r);
/* Closes the test's database connection (at exit). */
void e2e_sql_close(void);

/* Runs ARGV (a program on PATH) with stdout discarded; its exit status, or -1. */
int e2e_run_program(const char *const *argv);

/* Runs AP_TEST_STACK ARG (redis-stop | redis-start). Returns its exit status, -1 if it did not run. */
int e2e_stack(const char *arg);
/* Replaces the stack's extra settings (AP_TEST_STACK_DIR/etc/agentplatform.extra.conf, appended to its config at
 * every start) with the printf FMT, then restarts what the change concerns (AP_TEST_STACK start). 0 or -1. */
int e2e_stack_settings(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ------------------------------------------------------------------------------------------------
 * Checks: each records a CUnit assertion at the caller's line, with the actual values on failure, and
 * returns whether it held. */

int e2e_check(int ok, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
int e2e_check_status(const struct resp *r, long status, const char *file, int line);
int e2e_check_error(const struct resp *r, long status, const char *code, const char *param, const char *file,
		    int line);
int e2e_check_str(const char *got, const char *want, const char *what, const char *file, int line);

#define CHECK(cond) e2e_check(!!(cond), __FILE__, __LINE__, "%s", #cond)
#define CHECK_STATUS(r, st) e2e_check_status(&(r), (st), __FILE__, __LINE__)
/* Status, the whole error object (type for the status, CODE, PARAM or null, request_id = X-Request-Id). */
#define CHECK_ERROR(r, st, code, param) e2e_check_error(&(r), (st), (code), (param), __FILE__, __LINE__)
#define CHECK_STR(got, want) e2e_check_str((got), (want), #got, __FILE__, __LINE__)
#define CHECK_HEADER(r, name, want) e2e_check_str(resp_header(&(r), (name)), (want), name, __FILE__, __LINE__)

/* True when S is YYYY-MM-DDThh:mm:ss.sssZ. */
int e2e_is_timestamp(const char *s);
/* True when S is PREFIX followed by 25 base62 characters. */
int e2e_is_id(const char *s, const char *prefix);
/* Parses a decimal header value into *V; 0 when S is a whole non-negative integer. */
int e2e_parse_long(const char *s, long long *v);

/* ------------------------------------------------------------------------------------------------
 * Suites */

int suite_platform_register(void);
int suite_auth_register(void);
int suite_agents_register(void);
int suite_audit_register(void);
int suite_runs_register(void);
int suite_signals_register(void);
int suite_usage_register(void);
int suite_notifications_register(void);
int suite_reports_register(void);
int suite_deliveries_register(void);
int suite_webhooks_register(void);
int suite_calendar_register(void);
int suite_mcp_servers_register(void);
int suite_email_register(void);
int suite_credentials_register(void);
int suite_mcp_register(void);
int suite_approvals_register(void);

#endif
