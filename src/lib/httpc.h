/* httpc: the small libcurl HTTP client for every outbound HTTP call; always through the URL guard. */
#ifndef AP_HTTPC_H
#define AP_HTTPC_H

#include "arena.h"

#include <stddef.h>

#define HTTPC_USER_AGENT "AgentPlatform/1.0"
#define HTTPC_DEFAULT_TIMEOUT_MS 15000L
#define HTTPC_DEFAULT_MAX_RESPONSE ((size_t)1 << 20)
#define HTTPC_MAX_CAPTURED 1024

typedef struct httpc_request {
	const char *method;            /* GET POST PUT PATCH DELETE HEAD REPORT (uppercase) */
	const char *url;
	const char *const *schemes;    /* allowed schemes, NULL-terminated; NULL: http and https */
	const char *const *headers;    /* "Name: value" lines, NULL-terminated; may be NULL */
	const char *body;              /* sent as is (not with GET or HEAD); no Content-Type unless in HEADERS */
	size_t body_len;
	long timeout_ms;               /* whole transfer, connect included; <= 0: HTTPC_DEFAULT_TIMEOUT_MS */
	size_t max_response_bytes;     /* 0: HTTPC_DEFAULT_MAX_RESPONSE */
	int truncate;                  /* 0: a larger body is an error; 1: keep the first max bytes, set truncated */
	int allow_private;             /* the server-side setting; never from an agent's config */
	const char *capture_header;    /* a response header name whose (last) value is kept in RESP; may be NULL */
	/* Called after each chunk of the body with all that has arrived (NUL-terminated) and the response's content
	 * type (NULL if none); returning 1 ends the transfer there as a complete response (for a stream the server
	 * keeps open after the part the caller needs). NULL: the body is read to its end. */
	int (*body_enough)(void *arg, const char *content_type, const char *body, size_t len);
	void *body_enough_arg;
} httpc_request;

typedef struct httpc_response {
	long status;
	char *body;                    /* arena, NUL-terminated after body_len bytes; "" when empty */
	size_t body_len;
	int truncated;                 /* 1 when REQ->truncate cut the body */
	char *content_type;            /* arena, NULL when the server sent none */
	char *captured;                /* arena: the value of REQ->capture_header (trimmed, at most
	                                * HTTPC_MAX_CAPTURED bytes, else dropped), NULL when absent */
} httpc_response;

/* Initializes libcurl once for the process: each program's main calls it before any other thread
 * starts (test suites call it in their setup; a second call is harmless). Returns 0 or -1. */
int httpc_global_init(void);

/* Performs REQ through urlguard_check: the checked addresses are pinned (CURLOPT_RESOLVE) and the
 * address of every socket is checked again before it opens; no redirects (a 3xx is a response), no
 * proxies (proxy environment variables ignored), http and https only. Header names must be tokens,
 * names and values free of CR/LF/NUL; Host, Content-Length, Transfer-Encoding and Connection are
 * refused (libcurl frames the message). Returns 0 when a response arrived (any status) with RESP
 * filled in A, or -1 with a client-safe reason in ERR (guard refusal, invalid header, timeout, could
 * not connect, response too large, ...). Header values are never logged or returned. */
int httpc_do(arena *a, const httpc_request *req, httpc_response *resp, char *err, size_t errlen);

#endif
