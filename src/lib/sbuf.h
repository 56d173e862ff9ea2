/* sbuf: an arena-backed string builder with JSON string escaping, for hot-path responses written
 * straight to text instead of through a jansson tree. */
#ifndef AP_SBUF_H
#define AP_SBUF_H

#include "arena.h"

#include <stddef.h>

typedef struct sbuf {
	arena *a;
	char *buf; /* NUL-terminated at all times */
	size_t len, cap;
} sbuf;

/* An empty builder whose memory lives in A. */
void sbuf_init(sbuf *b, arena *a, size_t initial);
void sbuf_raw(sbuf *b, const char *s, size_t n);
void sbuf_cstr(sbuf *b, const char *s);
/* S as a JSON string (quoted, escaped), or null when S is NULL. S must be valid UTF-8. */
void sbuf_json_str(sbuf *b, const char *s);
/* "key": — a member name (KEY is trusted ASCII) followed by its colon, preceded by a comma unless FIRST. */
void sbuf_key(sbuf *b, const char *key, int first);
void sbuf_int(sbuf *b, long long v);

#endif
