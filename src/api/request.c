/* request: failure recording, response building and rendering for one request. */
#include "request.h"
#include "cursor.h"
#include "sbuf.h"
#include "db.h"
#include "log.h"
#include "store_account.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void json_release(void *p)
{
	json_decref(p);
}

json_t *req_keep(request *r, json_t *v)
{
	if (v)
		arena_defer(r->a, json_release, v);
	return v;
}

int req_fail_param(request *r, enum apierror code, const char *param, const char *message)
{
	if (r->err == ERR_NONE) {
		r->err = code;
		r->err_message = message ? arena_strdup(r->a, message) : NULL;
		r->err_param = param && *param ? arena_strdup(r->a, param) : NULL;
	}
	return -1;
}

int req_fail(request *r, enum apierror code, const char *message)
{
	return req_fail_param(r, code, NULL, message);
}

int req_fail_verr(request *r, const verr *e)
{
	static const enum apierror map[] = {
		[VERR_MISSING] = ERR_PARAMETER_MISSING,
		[VERR_INVALID] = ERR_PARAMETER_INVALID,
		[VERR_UNKNOWN] = ERR_PARAMETER_UNKNOWN,
		[VERR_READ_ONLY] = ERR_PARAMETER_READ_ONLY,
		[VERR_LIMIT] = ERR_LIMIT_EXCEEDED,
	};
	return req_fail_param(r, map[e->code], e->param, e->message);
}

int req_fail_store(request *r, int res, const char *what)
{
	switch (res) {
	case STORE_NOT_FOUND:
		return req_fail(r, ERR_NOT_FOUND, what);
	case STORE_UNAVAILABLE:
		return req_fail(r, ERR_DEPENDENCY_UNAVAILABLE, "the database is unavailable; retry shortly");
	case STORE_CONFLICT:
		return req_fail(r, ERR_STATE_CONFLICT, "the change conflicts with the current state; retry");
	default:
		return req_fail(r, ERR_INTERNAL, "internal error; the request id identifies it in the logs");
	}
}

int req_respond(request *r, int status, json_t *body)
{
	r->status = status;
	r->out = req_keep(r, body);
	return 0;
}

int req_respond_data(request *r, int status, json_t *data)
{
	json_t *body = json_object();
	json_object_set_new(body, "data", data);
	return req_respond(r, status, body);
}

void req_header(request *r, const char *name, const char *value)
{
	if (r->nhdr == REQ_MAX_HEADERS) {
		log_error("request %s: too many response headers, dropping %s", r->request_id, name);
		return;
	}
	r->hdr[r->nhdr].name = arena_strdup(r->a, name);
	r->hdr[r->nhdr].value = arena_strdup(r->a, value);
	r->nhdr++;
}

const char *req_query(const request *r, const char *name)
{
	for (int i = 0; i < r->nq; i++)
		if (strcmp(r->q[i].name, name) == 0)
			return r->q[i].value;
	return NULL;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

/* Turns a recorded failure into the error object of DESIGN.md. */
static void render_error(request *r)
{
	const struct apierror_info *info = &APIERRORS[r->err];
	json_t *e = json_pack("{s:s, s:s, s:s, s:o, s:s?}", "type", info->type, "code", info->code, "message",
			      r->err_message ? r->err_message : info->code, "param",
			      r->err_param ? json_string(r->err_param) : json_null(), "request_id", r->request_id);
	/* A message or param that is not valid UTF-8 (text echoed from the request) must not cost the
	 * client its error body: fall back to the code alone. */
	if (!e)
		e = json_pack("{s:s, s:s, s:s, s:n, s:s?}", "type", info->type, "code", info->code, "message",
			      info->code, "param", "request_id", r->request_id);
	r->status = info->status;
	req_respond(r, info->status, json_pack("{s:o}", "error", e));
}

void req_finalize(request *r)
{
	if (r->err != ERR_NONE && !r->finalized) {
		r->raw_out = NULL; /* the error replaces whatever body was prepared */
		render_error(r);
		r->finalized = 1;
	}
}

int req_check_members(request *r, const json_t *body, const char *const *writable, const char *const *read_only)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)body, key, v)
	{
		int ro = 0, ok = 0;
		for (const char *const *k = read_only; *k; k++)
			ro |= strcmp(*k, key) == 0;
		for (const char *const *k = writable; *k; k++)
			ok |= strcmp(*k, key) == 0;
		if (ro)
			return req_fail_param(r, ERR_PARAMETER_READ_ONLY, key, arena_printf(r->a, "%s is read-only", key));
		if (!ok)
			return req_fail_param(r, ERR_PARAMETER_UNKNOWN, strlen(key) <= 64 ? key : NULL,
					      arena_printf(r->a, "unknown field '%.64s'", key));
	}
	return 0;
}

int req_respond_list(request *r, json_t *data, const char *next_id)
{
	json_t *cursor = json_null();
	if (next_id) {
		char c[CURSOR_MAX_LEN];
		cursor_encode(next_id, c);
		cursor = json_string(c);
	}
	return req_respond(r, 200,
			   json_pack("{s:o, s:b, s:o}", "data", data, "has_more", next_id != NULL, "next_cursor", cursor));
}

int req_respond_list_text(request *r, sbuf *b, const char *next_id)
{
	if (next_id) {
		char c[CURSOR_MAX_LEN];
		cursor_encode(next_id, c);
		sbuf_cstr(b, "],\"has_more\":true,\"next_cursor\":\"");
		sbuf_cstr(b, c);
		sbuf_raw(b, "\"}", 2);
	} else {
		sbuf_cstr(b, "],\"has_more\":false,\"next_cursor\":null}");
	}
	return req_respond_text(r, 200, b->buf, b->len);
}

int req_respond_text(request *r, int status, const char *text, size_t len)
{
	r->status = status;
	r->raw_out = text;
	r->raw_out_len = len;
	return 0;
}

const char *req_body_text(request *r, size_t *len)
{
	*len = 0;
	if (r->raw_out) {
		*len = r->raw_out_len;
		return r->raw_out;
	}
	if (!r->out || r->status == 204)
		return NULL;
	char *text = json_dumps(r->out, JSON_COMPACT | JSON_REAL_PRECISION(15));
	if (!text)
		abort();
	r->raw_out = arena_strdup(r->a, text);
	r->raw_out_len = strlen(text);
	r->out = NULL;
	free(text);
	*len = r->raw_out_len;
	return r->raw_out;
}

void req_render(request *r, const char **out, size_t *outlen)
{
	req_finalize(r);
	if (r->status == 0)
		r->status = 500;
	size_t blen = 0;
	const char *body = req_body_text(r, &blen);
	size_t cap = 512 + blen + (r->request_id ? strlen(r->request_id) : 0);
	for (int i = 0; i < r->nhdr; i++)
		cap += strlen(r->hdr[i].name) + strlen(r->hdr[i].value) + 4;
	char *buf = arena_alloc(r->a, cap);
	size_t n = 0;
	n += (size_t)snprintf(buf + n, cap - n, "Status: %d %s\r\n", r->status, reason(r->status));
	/* With the length known, nginx passes it on instead of chunking the response. */
	if (body)
		n += (size_t)snprintf(buf + n, cap - n, "Content-Type: application/json\r\nContent-Length: %zu\r\n", blen);
	n += (size_t)snprintf(buf + n, cap - n, "Cache-Control: no-store\r\nX-Request-Id: %s\r\n",
			      r->request_id ? r->request_id : "");
	for (int i = 0; i < r->nhdr; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s: %s\r\n", r->hdr[i].name, r->hdr[i].value);
	n += (size_t)snprintf(buf + n, cap - n, "\r\n");
	if (body) {
		memcpy(buf + n, body, blen);
		n += blen;
	}
	*out = buf;
	*outlen = n;
}

int req_begin_create(request *r, req_count_fn count, int max, const char *what)
{
	db *d = r->app->db;
	enum store_result res = db_begin(d);
	if (res != STORE_OK)
		return req_fail_store(r, res, NULL);
	long n = 0;
	if ((res = store_account_exists(d, r->a, r->account_id, 1)) != STORE_OK ||
	    (res = count(d, r->a, r->account_id, &n)) != STORE_OK) {
		req_fail_store(r, res, NULL);
		db_rollback(d);
		return -1;
	}
	if (n >= max) {
		req_fail(r, ERR_LIMIT_EXCEEDED, arena_printf(r->a, "this account already has the maximum of %d %s", max, what));
		db_rollback(d);
		return -1;
	}
	return 0;
}
