/* request: one HTTP request as the pipeline and handlers see it (no FastCGI types), and its response. */
#ifndef AP_REQUEST_H
#define AP_REQUEST_H

#include "apierror.h"
#include "app.h"
#include "arena.h"
#include "ids.h"
#include "validate.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define REQ_MAX_HEADERS 16
#define REQ_MAX_QUERY 16
#define REQ_MAX_PATH_PARAMS 4
#define REQ_BODY_MAX (1024 * 1024)

struct route;

typedef struct request {
	app *app;
	arena *a;
	int64_t started_ms;

	/* Input, as the front end delivered it (strings NUL-terminated, NULL when absent). */
	const char *method, *uri; /* uri: the raw request target, path and query */
	const char *content_type, *authorization, *remote_addr, *request_id, *idempotency_key;
	const char *user_agent, *webhook_id, *webhook_timestamp, *webhook_signature; /* inbound hooks */
	const char *accept, *origin;                     /* /mcp: content negotiation, DNS-rebinding check */
	const char *mcp_protocol_version, *mcp_method, *mcp_name; /* /mcp: MCP-Protocol-Version, Mcp-Method, Mcp-Name */
	const char *body;
	size_t body_len;
	int body_truncated; /* more than REQ_BODY_MAX bytes were sent */

	/* Set by the pipeline. */
	const char *path; /* uri without the query */
	const char *query;
	const struct route *route;
	const char *param[REQ_MAX_PATH_PARAMS];
	int nparams;
	struct {
		const char *name, *value;
	} q[REQ_MAX_QUERY];
	int nq;
	int limit;                   /* list routes: 1..100, default 20 */
	char cursor_id[IDS_MAX_LEN]; /* list routes: decoded cursor, "" for the first page */
	json_t *json;                /* parsed body, or NULL */

	int authenticated;
	char key_id[IDS_MAX_LEN];
	char account_id[IDS_MAX_LEN];
	uint32_t scopes;
	long long rate_limit; /* the key's requests per minute */

	/* Output. */
	int status;
	json_t *out;          /* body; NULL for no body */
	const char *raw_out;  /* a prebuilt JSON body instead of OUT (not copied: must outlive the request) */
	size_t raw_out_len;
	struct {
		const char *name, *value;
	} hdr[REQ_MAX_HEADERS];
	int nhdr;
	enum apierror err;
	int finalized; /* err has been rendered into status and out */
	const char *err_message;
	const char *err_param;
} request;

/* Records the first failure of the request (later ones are ignored) and returns -1, so a step can
 * `return req_fail(r, ERR_NOT_FOUND, "agent not found");`. MESSAGE is client-safe text. */
int req_fail(request *r, enum apierror code, const char *message);
/* The same, naming the field at fault (a dotted path). */
int req_fail_param(request *r, enum apierror code, const char *param, const char *message);
/* Maps a field validation error to its 422. */
int req_fail_verr(request *r, const verr *e);
/* Maps a failed store call: STORE_NOT_FOUND -> 404 (with WHAT), UNAVAILABLE -> 503, others -> 500. */
int req_fail_store(request *r, int store_result, const char *what);

/* How many objects of one kind an account has (store_agent_count, store_webhook_count, ...). */
typedef enum store_result (*req_count_fn)(db *d, arena *a, const char *account_id, long *n);
/* Opens the transaction of a create and checks the account's quota: locks the account row (so concurrent creations
 * queue and the quota holds), counts with COUNT and refuses at MAX with 422 limit_exceeded ("this account already
 * has the maximum of MAX WHAT"). 0 inside the open transaction, or -1 with the failure recorded and the
 * transaction rolled back. */
int req_begin_create(request *r, req_count_fn count, int max, const char *what);

/* Sets the status and body (ownership of BODY passes to the request). Returns 0. */
int req_respond(request *r, int status, json_t *body);
/* {"data": DATA} with STATUS. */
int req_respond_data(request *r, int status, json_t *data);

/* Unknown and read-only members of BODY are 422s naming the member (parameter_unknown / parameter_read_only).
 * WRITABLE and READ_ONLY are NULL-terminated. Returns 0, or -1 with the failure recorded. */
int req_check_members(request *r, const json_t *body, const char *const *writable, const char *const *read_only);

/* 200 with the list envelope {"data": DATA, "has_more", "next_cursor"}; NEXT_ID is the id the next page
 * continues from (NULL: the last page). DATA is stolen. */
int req_respond_list(request *r, json_t *data, const char *next_id);

struct sbuf;
/* The same envelope for a list written as text: B holds `{"data":[` and the items; this closes it and answers
 * 200. */
int req_respond_list_text(request *r, struct sbuf *b, const char *next_id);

/* Answers STATUS with TEXT (LEN bytes of JSON, living at least as long as the request: arena or static). */
int req_respond_text(request *r, int status, const char *text, size_t len);

/* The response body as it will be sent (the rendered JSON text, in the arena), or NULL for none. */
const char *req_body_text(request *r, size_t *len);

/* Adds a response header (NAME and VALUE are copied into the arena). */
void req_header(request *r, const char *name, const char *value);

/* The value of query parameter NAME, or NULL. */
const char *req_query(const request *r, const char *name);

/* Registers V for release when the request ends; returns V. */
json_t *req_keep(request *r, json_t *v);

/* Turns a recorded failure into its status and error body (idempotent). */
void req_finalize(request *r);

/* Renders the response head and body into *OUT (arena), as a CGI/FastCGI response. */
void req_render(request *r, const char **out, size_t *outlen);

#endif
