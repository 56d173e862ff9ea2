/* sbuf: growable text in an arena; JSON escaping as RFC 8259 section 7 requires. */
#include "sbuf.h"

#include <stdio.h>
#include <string.h>

void sbuf_init(sbuf *b, arena *a, size_t initial)
{
	b->a = a;
	b->cap = initial < 64 ? 64 : initial;
	b->buf = arena_alloc(a, b->cap);
	b->len = 0;
}

static void reserve(sbuf *b, size_t more)
{
	if (b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap * 2;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *grown = arena_alloc(b->a, cap);
	memcpy(grown, b->buf, b->len + 1);
	b->buf = grown;
	b->cap = cap;
}

void sbuf_raw(sbuf *b, const char *s, size_t n)
{
	reserve(b, n);
	memcpy(b->buf + b->len, s, n);
	b->len += n;
	b->buf[b->len] = '\0';
}

void sbuf_cstr(sbuf *b, const char *s)
{
	sbuf_raw(b, s, strlen(s));
}

void sbuf_json_str(sbuf *b, const char *s)
{
	if (!s) {
		sbuf_raw(b, "null", 4);
		return;
	}
	size_t n = strlen(s);
	reserve(b, n + 2);
	b->buf[b->len++] = '"';
	size_t start = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		sbuf_raw(b, s + start, i - start);
		char esc[8];
		switch (c) {
		case '"': sbuf_raw(b, "\\\"", 2); break;
		case '\\': sbuf_raw(b, "\\\\", 2); break;
		case '\n': sbuf_raw(b, "\\n", 2); break;
		case '\r': sbuf_raw(b, "\\r", 2); break;
		case '\t': sbuf_raw(b, "\\t", 2); break;
		case '\b': sbuf_raw(b, "\\b", 2); break;
		case '\f': sbuf_raw(b, "\\f", 2); break;
		default:
			snprintf(esc, sizeof esc, "\\u%04x", c);
			sbuf_raw(b, esc, 6);
		}
		start = i + 1;
	}
	sbuf_raw(b, s + start, n - start);
	sbuf_raw(b, "\"", 1);
}

void sbuf_key(sbuf *b, const char *key, int first)
{
	if (!first)
		sbuf_raw(b, ",", 1);
	sbuf_raw(b, "\"", 1);
	sbuf_cstr(b, key);
	sbuf_raw(b, "\":", 2);
}

void sbuf_int(sbuf *b, long long v)
{
	char num[24];
	int n = snprintf(num, sizeof num, "%lld", v);
	sbuf_raw(b, num, (size_t)n);
}
