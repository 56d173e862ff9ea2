/* test_lib: unit tests for the shared library (util, arena, crypto, ids, apikey, scope, cursor, jsonbody,
 * mergepatch, validate, agenttype, settings). */
#include "suites.h"

#include "agenttype.h"
#include "apikey.h"
#include "keygen.h"
#include "arena.h"
#include "crypto.h"
#include "cursor.h"
#include "ids.h"
#include "jsonbody.h"
#include "log.h"
#include "mergepatch.h"
#include "scope.h"
#include "settings.h"
#include "util.h"
#include "validate.h"

#include <CUnit/CUnit.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char B62_ALPHABET[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* ---------------------------------------------------------------- util */

static void test_lib_parse_long(void)
{
	long v = 12345;

	CU_ASSERT_EQUAL(util_parse_long("0", 0, 10, &v), 0);
	CU_ASSERT_EQUAL(v, 0);
	CU_ASSERT_EQUAL(util_parse_long("42", 0, 100, &v), 0);
	CU_ASSERT_EQUAL(v, 42);
	CU_ASSERT_EQUAL(util_parse_long("007", 0, 100, &v), 0);
	CU_ASSERT_EQUAL(v, 7);
	/* Bounds are inclusive. */
	CU_ASSERT_EQUAL(util_parse_long("1", 1, 100, &v), 0);
	CU_ASSERT_EQUAL(v, 1);
	CU_ASSERT_EQUAL(util_parse_long("100", 1, 100, &v), 0);
	CU_ASSERT_EQUAL(v, 100);
	v = 777;
	CU_ASSERT_EQUAL(util_parse_long("0", 1, 100, &v), -1);
	CU_ASSERT_EQUAL(util_parse_long("101", 1, 100, &v), -1);
	CU_ASSERT_EQUAL(v, 777); /* untouched on failure */
	/* Negative numbers only when the range allows them. */
	CU_ASSERT_EQUAL(util_parse_long("-5", -10, 10, &v), 0);
	CU_ASSERT_EQUAL(v, -5);
	CU_ASSERT_EQUAL(util_parse_long("-10", -10, 10, &v), 0);
	CU_ASSERT_EQUAL(v, -10);
	CU_ASSERT_EQUAL(util_parse_long("-11", -10, 10, &v), -1);
	CU_ASSERT_EQUAL(util_parse_long("-1", 0, 10, &v), -1);
	CU_ASSERT_EQUAL(util_parse_long("-0", 0, 10, &v), -1);
	CU_ASSERT_EQUAL(util_parse_long("+5", 0, 10, &v), -1);
	CU_ASSERT_EQUAL(util_parse_long("-", -10, 10, &v), -1);
	CU_ASSERT_EQUAL(util_parse_long("--1", -10, 10, &v), -1);
	CU_ASSERT_EQUAL(util_parse_long("- 1", -10, 10, &v), -1);
	/* Junk and spaces. */
	static const char *junk[] = {"", " 5", "5 ", "5\n", "\t5", "5a", "a5", "0x10", "1e3", "1.5", "1,5", "abc",
				     "5-", "١", "5\x01"};
	for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++) {
		v = 777;
		CU_ASSERT_EQUAL(util_parse_long(junk[i], LONG_MIN, LONG_MAX, &v), -1);
		CU_ASSERT_EQUAL(v, 777);
	}
	CU_ASSERT_EQUAL(util_parse_long(NULL, 0, 10, &v), -1);
	/* Overflow is refused, the extremes themselves are fine. */
	CU_ASSERT_EQUAL(util_parse_long("9223372036854775807", 0, LONG_MAX, &v), 0);
	CU_ASSERT_EQUAL(v, LONG_MAX);
	CU_ASSERT_EQUAL(util_parse_long("-9223372036854775808", LONG_MIN, 0, &v), 0);
	CU_ASSERT_EQUAL(v, LONG_MIN);
	CU_ASSERT_EQUAL(util_parse_long("9223372036854775808", 0, LONG_MAX, &v), -1);
	CU_ASSERT_EQUAL(util_parse_long("-9223372036854775809", LONG_MIN, 0, &v), -1);
	CU_ASSERT_EQUAL(util_parse_long("99999999999999999999999", 0, LONG_MAX, &v), -1);
}

static void test_lib_utf8_length(void)
{
	CU_ASSERT_EQUAL(util_utf8_length("", 0), 0);
	CU_ASSERT_EQUAL(util_utf8_length("hello", 5), 5);
	CU_ASSERT_EQUAL(util_utf8_length("\x7f", 1), 1);
	/* 2, 3 and 4 byte forms, at their boundaries. */
	CU_ASSERT_EQUAL(util_utf8_length("\xc2\x80", 2), 1);             /* U+0080 */
	CU_ASSERT_EQUAL(util_utf8_length("\xc3\xa9t\xc3\xa9", 5), 3);    /* été */
	CU_ASSERT_EQUAL(util_utf8_length("\xdf\xbf", 2), 1);             /* U+07FF */
	CU_ASSERT_EQUAL(util_utf8_length("\xe0\xa0\x80", 3), 1);         /* U+0800 */
	CU_ASSERT_EQUAL(util_utf8_length("\xe2\x82\xac", 3), 1);         /* € */
	CU_ASSERT_EQUAL(util_utf8_length("\xed\x9f\xbf", 3), 1);         /* U+D7FF */
	CU_ASSERT_EQUAL(util_utf8_length("\xee\x80\x80", 3), 1);         /* U+E000 */
	CU_ASSERT_EQUAL(util_utf8_length("\xef\xbf\xbf", 3), 1);         /* U+FFFF */
	CU_ASSERT_EQUAL(util_utf8_length("\xf0\x90\x80\x80", 4), 1);     /* U+10000 */
	CU_ASSERT_EQUAL(util_utf8_length("\xf0\x9f\x98\x80", 4), 1);     /* 😀 */
	CU_ASSERT_EQUAL(util_utf8_length("\xf4\x8f\xbf\xbf", 4), 1);     /* U+10FFFF */
	CU_ASSERT_EQUAL(util_utf8_length("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 11), 5);
	/* LEN bounds the scan: the bytes after it do not count. */
	CU_ASSERT_EQUAL(util_utf8_length("abcdef", 3), 3);
	/* Overlong forms. */
	CU_ASSERT_EQUAL(util_utf8_length("\xc0\x80", 2), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xc0\xaf", 2), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xc1\xbf", 2), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xe0\x80\xaf", 3), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xe0\x9f\xbf", 3), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xf0\x80\x80\xaf", 4), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xf0\x8f\xbf\xbf", 4), -1);
	/* Surrogates and beyond U+10FFFF. */
	CU_ASSERT_EQUAL(util_utf8_length("\xed\xa0\x80", 3), -1); /* U+D800 */
	CU_ASSERT_EQUAL(util_utf8_length("\xed\xbf\xbf", 3), -1); /* U+DFFF */
	CU_ASSERT_EQUAL(util_utf8_length("\xed\xa0\xbd\xed\xb8\x80", 6), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xf4\x90\x80\x80", 4), -1); /* U+110000 */
	CU_ASSERT_EQUAL(util_utf8_length("\xf5\x80\x80\x80", 4), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xf8\x88\x80\x80\x80", 5), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xfe", 1), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xff", 1), -1);
	/* Stray continuation bytes, truncated sequences, bad continuations. */
	CU_ASSERT_EQUAL(util_utf8_length("\x80", 1), -1);
	CU_ASSERT_EQUAL(util_utf8_length("a\xbf", 2), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xc3", 1), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xe2\x82", 2), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xf0\x9f\x98", 3), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xe2\x82\xac", 2), -1); /* complete in memory, truncated by LEN */
	CU_ASSERT_EQUAL(util_utf8_length("\xc3(", 2), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xe2(\xac", 3), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xf0\x9f\x98(", 4), -1);
	CU_ASSERT_EQUAL(util_utf8_length("\xc3\xa9\xa9", 3), -1);
	/* NUL anywhere. */
	CU_ASSERT_EQUAL(util_utf8_length("\0", 1), -1);
	CU_ASSERT_EQUAL(util_utf8_length("ab\0cd", 5), -1);
	CU_ASSERT_EQUAL(util_utf8_length("ab\0", 3), -1);
}

static void test_lib_format_time(void)
{
	char out[64];

	util_format_time_ms(0, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1970-01-01T00:00:00.000Z");
	util_format_time_ms(1, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1970-01-01T00:00:00.001Z");
	util_format_time_ms(999, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1970-01-01T00:00:00.999Z");
	util_format_time_ms(1000, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1970-01-01T00:00:01.000Z");
	util_format_time_ms(1700000000123LL, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "2023-11-14T22:13:20.123Z");
	util_format_time_ms(951782400000LL, out, sizeof out); /* leap day 2000 */
	CU_ASSERT_STRING_EQUAL(out, "2000-02-29T00:00:00.000Z");
	util_format_time_ms(4102444799999LL, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "2099-12-31T23:59:59.999Z");
	util_format_time_ms(253402300799999LL, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "9999-12-31T23:59:59.999Z");
	/* Before the epoch the milliseconds still count forward within their second. */
	util_format_time_ms(-1, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1969-12-31T23:59:59.999Z");
	util_format_time_ms(-1000, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1969-12-31T23:59:59.000Z");
	util_format_time_ms(-1001, out, sizeof out);
	CU_ASSERT_STRING_EQUAL(out, "1969-12-31T23:59:58.999Z");
	CU_ASSERT_EQUAL(strlen(out), 24);
	/* A value gmtime cannot represent still yields a terminated string, never garbage. */
	memset(out, 'x', sizeof out);
	util_format_time_ms(INT64_MAX, out, sizeof out);
	CU_ASSERT(memchr(out, '\0', sizeof out) != NULL);
	/* Truncation keeps the terminator. */
	memset(out, 'x', sizeof out);
	util_format_time_ms(0, out, 11);
	CU_ASSERT_STRING_EQUAL(out, "1970-01-01");
	/* now is plausible: after 2023, before 2100. */
	int64_t now = util_now_ms();
	CU_ASSERT(now > 1700000000000LL && now < 4102444800000LL);
}

/* ---------------------------------------------------------------- arena */

static int cleanup_log[16];
static int cleanup_count;

static void test_lib_record_cleanup(void *p)
{
	if (cleanup_count < 16)
		cleanup_log[cleanup_count] = *(int *)p;
	cleanup_count++;
}

static void test_lib_json_release(void *p)
{
	json_decref(p);
}

static void test_lib_arena_blocks(void)
{
	arena *a = arena_new();
	enum { N = 5000, SZ = 100 };
	unsigned char **p = calloc(N, sizeof *p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	/* 500 KB in 100-byte pieces: several 64 KiB blocks, each piece zeroed, aligned and distinct. */
	for (int i = 0; i < N; i++) {
		p[i] = arena_alloc(a, SZ);
		CU_ASSERT_EQUAL((uintptr_t)p[i] % 16, 0);
		int zero = 1;
		for (int k = 0; k < SZ; k++)
			zero &= p[i][k] == 0;
		CU_ASSERT(zero);
		memset(p[i], i & 0xff, SZ);
	}
	int intact = 1;
	for (int i = 0; i < N; i++)
		for (int k = 0; k < SZ; k++)
			intact &= p[i][k] == (unsigned char)(i & 0xff);
	CU_ASSERT(intact);
	/* Zero bytes still gives a distinct, usable pointer. */
	char *z1 = arena_alloc(a, 0), *z2 = arena_alloc(a, 0);
	CU_ASSERT_PTR_NOT_NULL(z1);
	CU_ASSERT(z1 != z2);
	/* Reuse after reset: the memory is zeroed again. */
	arena_reset(a);
	for (int i = 0; i < N; i++) {
		unsigned char *q = arena_alloc(a, SZ);
		int zero = 1;
		for (int k = 0; k < SZ; k++)
			zero &= q[k] == 0;
		CU_ASSERT(zero);
		memset(q, 0xab, SZ);
	}
	free(p);
	arena_free(a);
	arena_free(NULL);
}

static void test_lib_arena_huge(void)
{
	arena *a = arena_new();
	char *small1 = arena_strdup(a, "before");
	size_t big = 3 * 1024 * 1024 + 7;
	unsigned char *h = arena_alloc(a, big);
	CU_ASSERT_PTR_NOT_NULL_FATAL(h);
	CU_ASSERT_EQUAL((uintptr_t)h % 16, 0);
	CU_ASSERT_EQUAL(h[0], 0);
	CU_ASSERT_EQUAL(h[big - 1], 0);
	memset(h, 0x5a, big);
	char *small2 = arena_strdup(a, "after");
	CU_ASSERT_STRING_EQUAL(small1, "before");
	CU_ASSERT_STRING_EQUAL(small2, "after");
	CU_ASSERT_EQUAL(h[big - 1], 0x5a);
	/* Exactly one block, and one byte more. */
	unsigned char *b1 = arena_alloc(a, 64 * 1024);
	unsigned char *b2 = arena_alloc(a, 64 * 1024 + 1);
	memset(b1, 1, 64 * 1024);
	memset(b2, 2, 64 * 1024 + 1);
	CU_ASSERT_EQUAL(h[0], 0x5a);
	arena_reset(a);
	/* A second huge allocation after a reset. */
	h = arena_alloc(a, big);
	CU_ASSERT_EQUAL(h[big - 1], 0);
	arena_free(a);
}

/* Runs FN in a child; returns the signal that ended it (0 if it exited). */
static int test_lib_child_signal(void (*fn)(void))
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		fn();
		_exit(0);
	}
	if (pid < 0)
		return -1;
	int st = 0;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

static void test_lib_alloc_absurd(void)
{
	arena *a = arena_new();
	volatile char *p = arena_alloc(a, SIZE_MAX - 40);
	p[0] = 1;
}

static void test_lib_alloc_max(void)
{
	arena *a = arena_new();
	volatile char *p = arena_alloc(a, SIZE_MAX);
	p[0] = 1;
}

static void test_lib_arena_overflow(void)
{
	/* Sizes whose rounding or block header would wrap around must abort, never return a tiny block. */
	CU_ASSERT_EQUAL(test_lib_child_signal(test_lib_alloc_max), SIGABRT);
	CU_ASSERT_EQUAL(test_lib_child_signal(test_lib_alloc_absurd), SIGABRT);
}

static void test_lib_arena_cleanups(void)
{
	static int ids[5] = {1, 2, 3, 4, 5};
	arena *a = arena_new();

	cleanup_count = 0;
	for (int i = 0; i < 3; i++) {
		arena_defer(a, test_lib_record_cleanup, &ids[i]);
		/* Interleave allocations, some spilling into new blocks, so records live in several blocks. */
		arena_alloc(a, 70 * 1024);
	}
	arena_reset(a);
	CU_ASSERT_EQUAL(cleanup_count, 3);
	CU_ASSERT_EQUAL(cleanup_log[0], 3);
	CU_ASSERT_EQUAL(cleanup_log[1], 2);
	CU_ASSERT_EQUAL(cleanup_log[2], 1);
	/* A reset arena has no cleanups left: a second reset runs nothing. */
	arena_reset(a);
	CU_ASSERT_EQUAL(cleanup_count, 3);

	cleanup_count = 0;
	arena_defer(a, test_lib_record_cleanup, &ids[3]);
	arena_defer(a, test_lib_record_cleanup, &ids[4]);
	arena_free(a);
	CU_ASSERT_EQUAL(cleanup_count, 2);
	CU_ASSERT_EQUAL(cleanup_log[0], 5);
	CU_ASSERT_EQUAL(cleanup_log[1], 4);

	/* jansson objects die with the arena (ASan would report the leak otherwise). */
	a = arena_new();
	json_t *j = json_pack("{s:[i,i,i]}", "a", 1, 2, 3);
	arena_defer(a, test_lib_json_release, j);
	arena_free(a);
}

static void test_lib_arena_strings(void)
{
	arena *a = arena_new();

	CU_ASSERT_STRING_EQUAL(arena_printf(a, "%s-%d-%05.1f", "x", 42, 3.25), "x-42-003.2");
	CU_ASSERT_STRING_EQUAL(arena_printf(a, "%s", ""), "");
	CU_ASSERT_STRING_EQUAL(arena_strndup(a, "abcdef", 3), "abc");
	CU_ASSERT_STRING_EQUAL(arena_strndup(a, "", 0), "");
	const char *src = "copy me";
	char *d = arena_strdup(a, src);
	CU_ASSERT_STRING_EQUAL(d, src);
	CU_ASSERT(d != src);
	/* A formatted string larger than a block. */
	size_t n = 200 * 1024;
	char *big = malloc(n + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	memset(big, 'q', n);
	big[n] = '\0';
	char *s = arena_printf(a, "<%s>", big);
	CU_ASSERT_EQUAL(strlen(s), n + 2);
	CU_ASSERT_EQUAL(s[0], '<');
	CU_ASSERT_EQUAL(s[n + 1], '>');
	CU_ASSERT_EQUAL(s[n / 2], 'q');
	free(big);
	arena_free(a);
}

/* ---------------------------------------------------------------- crypto */

static void test_lib_sha256(void)
{
	unsigned char h[CRYPTO_SHA256_LEN];
	char hex[2 * CRYPTO_SHA256_LEN + 1];

	crypto_sha256("abc", 3, h);
	crypto_hex(h, sizeof h, hex);
	CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	crypto_sha256("", 0, h);
	crypto_hex(h, sizeof h, hex);
	CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	crypto_sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, h);
	crypto_hex(h, sizeof h, hex);
	CU_ASSERT_STRING_EQUAL(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

	unsigned char x[3] = {0x00, 0x7f, 0xff};
	crypto_hex(x, 3, hex);
	CU_ASSERT_STRING_EQUAL(hex, "007fff");
	crypto_hex(x, 0, hex);
	CU_ASSERT_STRING_EQUAL(hex, "");

	CU_ASSERT_EQUAL(crypto_equal("abcd", "abcd", 4), 1);
	CU_ASSERT_EQUAL(crypto_equal("abcd", "abce", 4), 0);
	CU_ASSERT_EQUAL(crypto_equal("xbcd", "abcd", 4), 0);
	CU_ASSERT_EQUAL(crypto_equal("abcd", "abce", 3), 1);

	/* Random bytes differ between calls (2^-256 false failure). */
	unsigned char r1[32], r2[32];
	crypto_random(r1, sizeof r1);
	crypto_random(r2, sizeof r2);
	CU_ASSERT(memcmp(r1, r2, sizeof r1) != 0);
	crypto_random(r1, 0);
}

static void test_lib_b64url_vectors(void)
{
	static const struct {
		const char *raw, *enc;
	} v[] = {
		{"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"},
		{"foobar", "Zm9vYmFy"}, {"\xfb\xff\xbf", "-_-_"}, {"\xff", "_w"}, {"\xfb\xef", "--8"},
	};
	char enc[64];
	unsigned char dec[64];

	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		size_t n = strlen(v[i].raw);
		crypto_b64url_encode((const unsigned char *)v[i].raw, n, enc);
		CU_ASSERT_STRING_EQUAL(enc, v[i].enc);
		long got = crypto_b64url_decode(v[i].enc, strlen(v[i].enc), dec, sizeof dec);
		CU_ASSERT_EQUAL(got, (long)n);
		if (got == (long)n)
			CU_ASSERT_EQUAL(memcmp(dec, v[i].raw, n), 0);
	}
}

static void test_lib_b64url_roundtrip(void)
{
	unsigned char raw[40], dec[41];
	char enc[4 * 14 + 1];

	for (size_t n = 0; n <= 40; n++) {
		for (int round = 0; round < 20; round++) {
			crypto_random(raw, n);
			if (round == 0)
				memset(raw, 0, n);
			if (round == 1)
				memset(raw, 0xff, n);
			crypto_b64url_encode(raw, n, enc);
			CU_ASSERT_EQUAL(strlen(enc), (4 * n + 2) / 3);
			CU_ASSERT_PTR_NULL(strpbrk(enc, "+/="));
			long got = crypto_b64url_decode(enc, strlen(enc), dec, sizeof dec);
			CU_ASSERT_EQUAL(got, (long)n);
			CU_ASSERT(got == (long)n && memcmp(raw, dec, n) == 0);
			/* OUTLEN one short of the decoded size refuses. */
			if (n > 0)
				CU_ASSERT_EQUAL(crypto_b64url_decode(enc, strlen(enc), dec, n - 1), -1);
			CU_ASSERT_EQUAL(crypto_b64url_decode(enc, strlen(enc), dec, n), (long)n);
		}
	}
}

static void test_lib_b64url_rejects(void)
{
	unsigned char dec[64];

	/* Characters outside the URL-safe alphabet, padding, whitespace, NUL. */
	static const char *bad[] = {"Zm9v+A", "Zm9v/A", "Zg==", "Zm8=", "Zm 9v", "Zm9v\n", " Zm9v", "Zm9v.",
				    "Zm9v!", "Zm\xc3\xa9v"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CU_ASSERT_EQUAL(crypto_b64url_decode(bad[i], strlen(bad[i]), dec, sizeof dec), -1);
	CU_ASSERT_EQUAL(crypto_b64url_decode("Zm\0v", 4, dec, sizeof dec), -1);
	/* Length % 4 == 1 can encode nothing. */
	CU_ASSERT_EQUAL(crypto_b64url_decode("A", 1, dec, sizeof dec), -1);
	CU_ASSERT_EQUAL(crypto_b64url_decode("Zm9vY", 5, dec, sizeof dec), -1);
	CU_ASSERT_EQUAL(crypto_b64url_decode("Zm9vYmFyZ", 9, dec, sizeof dec), -1);
	/* Non-canonical trailing bits: "Zh" and "Zm9" decode to the same bytes as "Zg" and "Zm8". */
	CU_ASSERT_EQUAL(crypto_b64url_decode("Zh", 2, dec, sizeof dec), -1);
	CU_ASSERT_EQUAL(crypto_b64url_decode("Z_", 2, dec, sizeof dec), -1);
	CU_ASSERT_EQUAL(crypto_b64url_decode("Zm9", 3, dec, sizeof dec), -1);
	CU_ASSERT_EQUAL(crypto_b64url_decode("Zm-", 3, dec, sizeof dec), -1);
	CU_ASSERT_EQUAL(crypto_b64url_decode("Zm9vYh", 6, dec, sizeof dec), -1);
	CU_ASSERT_EQUAL(crypto_b64url_decode("Zg", 2, dec, sizeof dec), 1);
	CU_ASSERT_EQUAL(crypto_b64url_decode("Zm8", 3, dec, sizeof dec), 2);
}

static void test_lib_base62(void)
{
	char a[16], b[16];

	crypto_base62_fixed(0, a, 9);
	CU_ASSERT_STRING_EQUAL(a, "000000000");
	crypto_base62_fixed(9, a, 3);
	CU_ASSERT_STRING_EQUAL(a, "009");
	crypto_base62_fixed(10, a, 3);
	CU_ASSERT_STRING_EQUAL(a, "00A");
	crypto_base62_fixed(35, a, 3);
	CU_ASSERT_STRING_EQUAL(a, "00Z");
	crypto_base62_fixed(36, a, 3);
	CU_ASSERT_STRING_EQUAL(a, "00a");
	crypto_base62_fixed(61, a, 3);
	CU_ASSERT_STRING_EQUAL(a, "00z");
	crypto_base62_fixed(62, a, 3);
	CU_ASSERT_STRING_EQUAL(a, "010");
	crypto_base62_fixed(62 * 62 * 62 - 1, a, 3);
	CU_ASSERT_STRING_EQUAL(a, "zzz");
	crypto_base62_fixed(1700000000000ULL, a, 9);
	CU_ASSERT_STRING_EQUAL(a, "00Tvcokgi");
	crypto_base62_fixed(0, a, 0);
	CU_ASSERT_STRING_EQUAL(a, "");

	/* ASCII order equals numeric order: consecutive values, digit boundaries and random pairs. */
	for (uint64_t v = 0; v < 62 * 62 + 5; v++) {
		crypto_base62_fixed(v, a, 9);
		crypto_base62_fixed(v + 1, b, 9);
		CU_ASSERT(strcmp(a, b) < 0);
	}
	for (int i = 0; i < 2000; i++) {
		uint64_t x, y;
		crypto_random(&x, sizeof x);
		crypto_random(&y, sizeof y);
		x %= 13537086546263552ULL; /* 62^9 */
		y %= 13537086546263552ULL;
		crypto_base62_fixed(x, a, 9);
		crypto_base62_fixed(y, b, 9);
		int c = strcmp(a, b);
		CU_ASSERT((x < y && c < 0) || (x > y && c > 0) || (x == y && c == 0));
	}

	CU_ASSERT_EQUAL(crypto_is_base62(B62_ALPHABET, 62), 1);
	CU_ASSERT_EQUAL(crypto_is_base62("", 0), 1);
	CU_ASSERT_EQUAL(crypto_is_base62("ab-c", 4), 0);
	CU_ASSERT_EQUAL(crypto_is_base62("ab_c", 4), 0);
	CU_ASSERT_EQUAL(crypto_is_base62("ab c", 4), 0);
	CU_ASSERT_EQUAL(crypto_is_base62("ab\0c", 4), 0);
	CU_ASSERT_EQUAL(crypto_is_base62("ab\xc3\xa9", 4), 0);
	CU_ASSERT_EQUAL(crypto_is_base62("ab-c", 2), 1);
}

static void test_lib_random_base62(void)
{
	enum { N = 62000 };
	char *s = malloc(N + 2);
	int counts[256] = {0};

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	s[N + 1] = 'X';
	crypto_random_base62(s, N);
	CU_ASSERT_EQUAL(s[N], '\0');
	CU_ASSERT_EQUAL(s[N + 1], 'X');
	CU_ASSERT_EQUAL(strlen(s), N);
	for (int i = 0; i < N; i++)
		counts[(unsigned char)s[i]]++;
	int outside = 0;
	for (int c = 0; c < 256; c++)
		if (counts[c] && !strchr(B62_ALPHABET, c))
			outside++;
	CU_ASSERT_EQUAL(outside, 0);
	/* Every digit appears, near uniformly (expected 1000 each; 10 standard deviations is ~310). */
	for (int i = 0; i < 62; i++) {
		int c = counts[(unsigned char)B62_ALPHABET[i]];
		CU_ASSERT(c > 690 && c < 1310);
	}
	crypto_random_base62(s, 0);
	CU_ASSERT_EQUAL(s[0], '\0');
	free(s);
}

/* ---------------------------------------------------------------- ids */

static uint64_t test_lib_b62_value(const char *s, size_t n)
{
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 62 + (uint64_t)(strchr(B62_ALPHABET, s[i]) - B62_ALPHABET);
	return v;
}

static void test_lib_ids_shape(void)
{
	char id[IDS_MAX_LEN];
	static const char *prefixes[] = {"acct_", "key_", "agt_", "sig_", "run_", "msg_", "ntf_", "whk_",
					 "evt_", "dlv_", "mcp_", "cred_", "conn_", "apr_", "aud_"};

	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		size_t pl = strlen(prefixes[i]);
		int64_t before = util_now_ms();
		ids_new(prefixes[i], id);
		int64_t after = util_now_ms();
		CU_ASSERT_EQUAL(strlen(id), pl + IDS_BODY_LEN);
		CU_ASSERT_EQUAL(strncmp(id, prefixes[i], pl), 0);
		CU_ASSERT_EQUAL(crypto_is_base62(id + pl, IDS_BODY_LEN), 1);
		CU_ASSERT_EQUAL(ids_valid(prefixes[i], id), 1);
		/* The first 9 digits are the creation time in milliseconds. */
		uint64_t ms = test_lib_b62_value(id + pl, 9);
		CU_ASSERT(ms >= (uint64_t)before && ms <= (uint64_t)after);
	}
	/* Two ids never collide (95 random bits). */
	char other[IDS_MAX_LEN];
	ids_new("agt_", id);
	ids_new("agt_", other);
	CU_ASSERT(strcmp(id, other) != 0);
}

static void test_lib_ids_sortable(void)
{
	char prev[IDS_MAX_LEN], next[IDS_MAX_LEN];
	struct timespec two_ms = {0, 2 * 1000 * 1000};

	ids_new("run_", prev);
	for (int i = 0; i < 20; i++) {
		nanosleep(&two_ms, NULL);
		ids_new("run_", next);
		CU_ASSERT(strcmp(prev, next) < 0);
		memcpy(prev, next, sizeof prev);
	}
	/* Within one millisecond too: ids made back to back sort in creation order, and stay well-formed. */
	for (int i = 0; i < 5000; i++) {
		ids_new("run_", next);
		CU_ASSERT(strcmp(prev, next) < 0);
		CU_ASSERT(ids_valid("run_", next));
		memcpy(prev, next, sizeof prev);
	}
}

static void test_lib_ids_valid(void)
{
	char id[IDS_MAX_LEN], bad[64];

	ids_new("agt_", id);
	CU_ASSERT_EQUAL(ids_valid("agt_", id), 1);
	CU_ASSERT_EQUAL(ids_valid("run_", id), 0);
	CU_ASSERT_EQUAL(ids_valid("agt", id), 0);
	CU_ASSERT_EQUAL(ids_valid("agt__", id), 0);
	CU_ASSERT_EQUAL(ids_valid("agt_", ""), 0);
	CU_ASSERT_EQUAL(ids_valid("agt_", "agt_"), 0);
	CU_ASSERT_EQUAL(ids_valid("agt_", NULL), 0);
	CU_ASSERT_EQUAL(ids_valid("agt_", "AGT_0000000000000000000000000"), 0);
	CU_ASSERT_EQUAL(ids_valid("agt_", "agt_0000000000000000000000000"), 1);
	/* One character short, one too many. */
	snprintf(bad, sizeof bad, "%.*s", (int)strlen(id) - 1, id);
	CU_ASSERT_EQUAL(ids_valid("agt_", bad), 0);
	snprintf(bad, sizeof bad, "%sA", id);
	CU_ASSERT_EQUAL(ids_valid("agt_", bad), 0);
	/* A non-base62 character anywhere in the body. */
	static const char nonb62[] = {'-', '_', ' ', '/', '.', '%', '\x80', '~'};
	for (size_t pos = 4; pos < 4 + IDS_BODY_LEN; pos++) {
		snprintf(bad, sizeof bad, "%s", id);
		bad[pos] = nonb62[pos % sizeof nonb62];
		CU_ASSERT_EQUAL(ids_valid("agt_", bad), 0);
	}
	/* The prefix is compared exactly. */
	snprintf(bad, sizeof bad, "%s", id);
	bad[0] = 'A';
	CU_ASSERT_EQUAL(ids_valid("agt_", bad), 0);
	bad[0] = 'a';
	bad[3] = '-';
	CU_ASSERT_EQUAL(ids_valid("agt_", bad), 0);
}

/* ---------------------------------------------------------------- apikey */

static void test_lib_apikey(void)
{
	char key[APIKEY_LEN + 1], other[APIKEY_LEN + 1], mutated[APIKEY_LEN + 1];

	apikey_generate(key);
	apikey_generate(other);
	CU_ASSERT_EQUAL(strlen(key), 44);
	CU_ASSERT_EQUAL(strncmp(key, "ap_live_", 8), 0);
	CU_ASSERT_EQUAL(crypto_is_base62(key + 8, 36), 1);
	CU_ASSERT(strcmp(key, other) != 0);
	CU_ASSERT_EQUAL(apikey_well_formed(key, APIKEY_LEN), 1);
	CU_ASSERT_EQUAL(apikey_well_formed(other, APIKEY_LEN), 1);

	/* Any single changed character is caught: prefix, random part or checksum. */
	int caught = 0;
	for (size_t pos = 0; pos < APIKEY_LEN; pos++) {
		memcpy(mutated, key, sizeof key);
		char c = key[pos];
		/* The next base62 character (wrapping), so the alphabet check alone cannot catch it. */
		const char *at = strchr(B62_ALPHABET, c);
		mutated[pos] = at ? B62_ALPHABET[(at - B62_ALPHABET + 1) % 62] : 'x';
		caught += apikey_well_formed(mutated, APIKEY_LEN) == 0;
		mutated[pos] = '-';
		caught += apikey_well_formed(mutated, APIKEY_LEN) == 0;
	}
	CU_ASSERT_EQUAL(caught, 2 * APIKEY_LEN);
	/* Swapping the random part of two keys breaks the checksum. */
	memcpy(mutated, key, sizeof key);
	memcpy(mutated + 8, other + 8, 30);
	CU_ASSERT_EQUAL(apikey_well_formed(mutated, APIKEY_LEN), 0);
	/* ... which is the checksum's half: the shape is right. */
	CU_ASSERT_EQUAL(apikey_shaped(mutated, APIKEY_LEN), 1);
	CU_ASSERT_EQUAL(apikey_checksum_ok(mutated), 0);
	CU_ASSERT_EQUAL(apikey_shaped(key, APIKEY_LEN), 1);
	CU_ASSERT_EQUAL(apikey_checksum_ok(key), 1);
	mutated[8] = '-';
	CU_ASSERT_EQUAL(apikey_shaped(mutated, APIKEY_LEN), 0);
	CU_ASSERT_EQUAL(apikey_shaped(key, APIKEY_LEN - 1), 0);
	/* Wrong lengths. */
	CU_ASSERT_EQUAL(apikey_well_formed(key, APIKEY_LEN - 1), 0);
	CU_ASSERT_EQUAL(apikey_well_formed("", 0), 0);
	char longer[APIKEY_LEN + 2];
	snprintf(longer, sizeof longer, "%sA", key);
	CU_ASSERT_EQUAL(apikey_well_formed(longer, APIKEY_LEN + 1), 0);
	/* Other prefixes. */
	memcpy(mutated, key, sizeof key);
	memcpy(mutated, "ap_test_", 8);
	CU_ASSERT_EQUAL(apikey_well_formed(mutated, APIKEY_LEN), 0);
	memcpy(mutated, "AP_LIVE_", 8);
	CU_ASSERT_EQUAL(apikey_well_formed(mutated, APIKEY_LEN), 0);

	/* The stored form is SHA-256 of the whole key. */
	unsigned char h1[CRYPTO_SHA256_LEN], h2[CRYPTO_SHA256_LEN];
	apikey_hash(key, APIKEY_LEN, h1);
	crypto_sha256(key, APIKEY_LEN, h2);
	CU_ASSERT_EQUAL(memcmp(h1, h2, sizeof h1), 0);
	apikey_hash(other, APIKEY_LEN, h2);
	CU_ASSERT(memcmp(h1, h2, sizeof h1) != 0);
	/* The reused digest context: the same input again, and a known answer (FIPS 180-2, "abc"). */
	apikey_hash(key, APIKEY_LEN, h2);
	CU_ASSERT_EQUAL(memcmp(h1, h2, sizeof h1), 0);
	static const unsigned char abc[CRYPTO_SHA256_LEN] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22, 0x23,
		0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad};
	crypto_sha256("abc", 3, h2);
	CU_ASSERT_EQUAL(memcmp(h2, abc, sizeof abc), 0);

	char disp[APIKEY_DISPLAY_LEN + 1];
	memset(disp, 'z', sizeof disp);
	apikey_display_prefix(key, disp);
	CU_ASSERT_EQUAL(strlen(disp), 12);
	CU_ASSERT_EQUAL(strncmp(disp, key, 12), 0);
	CU_ASSERT_EQUAL(strncmp(disp, "ap_live_", 8), 0);
}

/* A key's generation as the rate-limit script reads it: only the plain digits of [1, 10^15). */
static void test_lib_keygen_parse(void)
{
	CU_ASSERT_EQUAL(keygen_parse("1"), 1);
	CU_ASSERT_EQUAL(keygen_parse("4242"), 4242);
	CU_ASSERT_EQUAL(keygen_parse("281474976710655"), 281474976710655LL); /* 2^48 - 1 */
	CU_ASSERT_EQUAL(keygen_parse("999999999999999"), 999999999999999LL);
	static const char *const bad[] = {"", "0", "012", "-1", "+1", " 12", "12 ", "1.5", "1e3", "0x10", "inf",
					  "1000000000000000", "12abc"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CU_ASSERT_EQUAL(keygen_parse(bad[i]), -1);
	for (int i = 0; i < 1000; i++) {
		char s[24];
		long long g = keygen_new();
		snprintf(s, sizeof s, "%lld", g);
		CU_ASSERT_EQUAL(keygen_parse(s), g);
	}
}

/* ---------------------------------------------------------------- scope */

static void test_lib_scope_names(void)
{
	static const char *want[] = {"agents:read",      "agents:write",      "runs:read",
				     "connections:read", "usage:read",        "signals:write",
				     "notifications:read", "notifications:write", "webhooks:read",
				     "webhooks:write",   "mcp:read",          "mcp:write",
				     "credentials:read", "credentials:write", "audit_logs:read",
				     "mcp:tools"};

	CU_ASSERT_EQUAL_FATAL(SCOPE__MAX, 16);
	CU_ASSERT_EQUAL(SCOPE_ALL_MASK, 0xffffu);
	for (int i = 0; i < SCOPE__MAX; i++) {
		CU_ASSERT_STRING_EQUAL(SCOPE_NAMES[i], want[i]);
		CU_ASSERT_EQUAL(scope_from_name(want[i], strlen(want[i])), i);
	}
	CU_ASSERT_EQUAL(SCOPE_AGENTS_READ, 0);
	CU_ASSERT_EQUAL(SCOPE_MCP_TOOLS, 15);
	CU_ASSERT_EQUAL(scope_from_name("agents:rea", 10), SCOPE_NONE);
	CU_ASSERT_EQUAL(scope_from_name("agents:reads", 12), SCOPE_NONE);
	CU_ASSERT_EQUAL(scope_from_name("Agents:read", 11), SCOPE_NONE);
	CU_ASSERT_EQUAL(scope_from_name("", 0), SCOPE_NONE);
	CU_ASSERT_EQUAL(scope_from_name("all", 3), SCOPE_NONE);
	/* N bounds the name: a prefix of a longer buffer. */
	CU_ASSERT_EQUAL(scope_from_name("runs:read,mcp:read", 9), SCOPE_RUNS_READ);
}

static void test_lib_scope_parse(void)
{
	uint32_t m = 0;
	char bad[80];

	CU_ASSERT_EQUAL(scope_parse_list("agents:read", &m, bad, sizeof bad), 0);
	CU_ASSERT_EQUAL(m, 1u << SCOPE_AGENTS_READ);
	CU_ASSERT_EQUAL(scope_parse_list("agents:read runs:read", &m, bad, sizeof bad), 0);
	CU_ASSERT_EQUAL(m, (1u << SCOPE_AGENTS_READ) | (1u << SCOPE_RUNS_READ));
	CU_ASSERT_EQUAL(scope_parse_list("agents:read,mcp:tools", &m, bad, sizeof bad), 0);
	CU_ASSERT_EQUAL(m, (1u << SCOPE_AGENTS_READ) | (1u << SCOPE_MCP_TOOLS));
	CU_ASSERT_EQUAL(scope_parse_list("  webhooks:read , ,\taudit_logs:read,  ", &m, bad, sizeof bad), 0);
	CU_ASSERT_EQUAL(m, (1u << SCOPE_WEBHOOKS_READ) | (1u << SCOPE_AUDIT_LOGS_READ));
	CU_ASSERT_EQUAL(scope_parse_list("runs:read runs:read", &m, bad, sizeof bad), 0);
	CU_ASSERT_EQUAL(m, 1u << SCOPE_RUNS_READ);
	CU_ASSERT_EQUAL(scope_parse_list("all", &m, bad, sizeof bad), 0);
	CU_ASSERT_EQUAL(m, SCOPE_ALL_MASK);
	CU_ASSERT_EQUAL(scope_parse_list("agents:read all", &m, bad, sizeof bad), 0);
	CU_ASSERT_EQUAL(m, SCOPE_ALL_MASK);

	/* Unknown names are reported; the mask is left alone. */
	m = 0x1234;
	CU_ASSERT_EQUAL(scope_parse_list("agents:read bogus runs:read", &m, bad, sizeof bad), -1);
	CU_ASSERT_STRING_EQUAL(bad, "bogus");
	CU_ASSERT_EQUAL(m, 0x1234);
	CU_ASSERT_EQUAL(scope_parse_list("agents:read,agents:delete", &m, bad, sizeof bad), -1);
	CU_ASSERT_STRING_EQUAL(bad, "agents:delete");
	CU_ASSERT_EQUAL(scope_parse_list("ALL", &m, bad, sizeof bad), -1);
	CU_ASSERT_STRING_EQUAL(bad, "ALL");
	CU_ASSERT_EQUAL(scope_parse_list("agents:read;runs:read", &m, bad, sizeof bad), -1);
	CU_ASSERT_STRING_EQUAL(bad, "agents:read;runs:read");
	/* A long unknown name is cut, never overflows BAD. */
	char longname[300];
	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	char small[8];
	CU_ASSERT_EQUAL(scope_parse_list(longname, &m, small, sizeof small), -1);
	CU_ASSERT_STRING_EQUAL(small, "xxxxxxx");
	/* Empty lists are errors. */
	CU_ASSERT_EQUAL(scope_parse_list("", &m, bad, sizeof bad), -1);
	CU_ASSERT_EQUAL(scope_parse_list("   ", &m, bad, sizeof bad), -1);
	CU_ASSERT_EQUAL(scope_parse_list(" , ,\t", &m, bad, sizeof bad), -1);
	CU_ASSERT_EQUAL(m, 0x1234);
}

static void test_lib_scope_format(void)
{
	char out[512];
	uint32_t m = 0;
	char bad[80];

	CU_ASSERT_EQUAL(scope_format(0, out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(scope_format((1u << SCOPE_AGENTS_READ) | (1u << SCOPE_MCP_TOOLS), out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "agents:read mcp:tools");
	CU_ASSERT_EQUAL(scope_format(1u << SCOPE_SIGNALS_WRITE, out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "signals:write");
	CU_ASSERT_EQUAL(scope_format(SCOPE_ALL_MASK, out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "agents:read agents:write runs:read connections:read usage:read signals:write "
				    "notifications:read notifications:write webhooks:read webhooks:write mcp:read "
				    "mcp:write credentials:read credentials:write audit_logs:read mcp:tools");
	/* Bits beyond the 16 scopes are ignored. */
	CU_ASSERT_EQUAL(scope_format(0xffff0000u | (1u << SCOPE_RUNS_READ), out, sizeof out), 0);
	CU_ASSERT_STRING_EQUAL(out, "runs:read");
	/* Too small a buffer. */
	CU_ASSERT_EQUAL(scope_format(1u << SCOPE_RUNS_READ, out, 9), -1);
	CU_ASSERT_EQUAL(scope_format(1u << SCOPE_RUNS_READ, out, 10), 0);
	CU_ASSERT_STRING_EQUAL(out, "runs:read");
	CU_ASSERT_EQUAL(scope_format((1u << SCOPE_RUNS_READ) | (1u << SCOPE_MCP_READ), out, 15), -1);
	CU_ASSERT_EQUAL(scope_format(0, out, 0), -1);
	/* format and parse are inverse. */
	for (int i = 0; i < 500; i++) {
		uint32_t want;
		crypto_random(&want, sizeof want);
		want &= SCOPE_ALL_MASK;
		if (want == 0)
			continue;
		CU_ASSERT_EQUAL_FATAL(scope_format(want, out, sizeof out), 0);
		CU_ASSERT_EQUAL(scope_parse_list(out, &m, bad, sizeof bad), 0);
		CU_ASSERT_EQUAL(m, want);
	}
}

/* ---------------------------------------------------------------- cursor */

static void test_lib_cursor_roundtrip(void)
{
	char id[IDS_MAX_LEN], cur[CURSOR_MAX_LEN], back[IDS_MAX_LEN];
	static const char *prefixes[] = {"agt_", "run_", "acct_", "cred_", "conn_"};

	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		for (int k = 0; k < 50; k++) {
			ids_new(prefixes[i], id);
			cursor_encode(id, cur);
			CU_ASSERT(strlen(cur) > 0 && strlen(cur) < CURSOR_MAX_LEN);
			CU_ASSERT_PTR_NULL(strpbrk(cur, "+/=")); /* URL-safe as it is */
			CU_ASSERT_PTR_NULL(strstr(cur, prefixes[i])); /* opaque */
			memset(back, 'x', sizeof back);
			CU_ASSERT_EQUAL(cursor_decode(cur, prefixes[i], back), 0);
			CU_ASSERT_STRING_EQUAL(back, id);
		}
	}
}

static void test_lib_cursor_garbled(void)
{
	char id[IDS_MAX_LEN], cur[CURSOR_MAX_LEN], back[IDS_MAX_LEN], text[256];
	unsigned char raw[64];

	ids_new("agt_", id);
	cursor_encode(id, cur);
	size_t n = strlen(cur);

	/* Another type's id inside. */
	CU_ASSERT_EQUAL(cursor_decode(cur, "run_", back), -1);
	/* Empty, truncated, extended, too long. */
	CU_ASSERT_EQUAL(cursor_decode("", "agt_", back), -1);
	for (size_t cut = 1; cut < n; cut++) {
		snprintf(text, sizeof text, "%.*s", (int)(n - cut), cur);
		CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
	}
	snprintf(text, sizeof text, "%sAA", cur);
	CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
	memset(text, 'A', 200);
	text[200] = '\0';
	CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
	memset(text, 'A', CURSOR_MAX_LEN);
	text[CURSOR_MAX_LEN] = '\0';
	CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
	/* Every single character changed to another base64url character: refused, or (a cursor is not
	 * signed) another well-formed id, never the same id under a second spelling. */
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	int refused = 0, other = 0;
	for (size_t pos = 0; pos < n; pos++) {
		for (int bit = 1; bit < 64; bit <<= 1) {
			snprintf(text, sizeof text, "%s", cur);
			text[pos] = b64[((strchr(b64, cur[pos]) - b64) ^ bit)];
			if (cursor_decode(text, "agt_", back) == -1)
				refused++;
			else if (ids_valid("agt_", back) && strcmp(back, id) != 0)
				other++;
		}
	}
	CU_ASSERT_EQUAL(refused + other, (int)n * 6);
	/* The version byte is covered by the first two characters: any change there is refused. */
	for (size_t pos = 0; pos < 1; pos++)
		for (int bit = 1; bit < 64; bit <<= 1) {
			snprintf(text, sizeof text, "%s", cur);
			text[pos] = b64[((strchr(b64, cur[pos]) - b64) ^ bit)];
			CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
		}
	/* Characters outside base64url, padding. */
	static const char *bad[] = {"Y2FndF8=", "Y2Fnd+8", "Y2Fnd/8", "Y2Fn d", "%59%32", "!!!!", "\xc3\xa9\xc3\xa9"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CU_ASSERT_EQUAL(cursor_decode(bad[i], "agt_", back), -1);
	snprintf(text, sizeof text, "%s=", cur);
	CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
	snprintf(text, sizeof text, "%s", cur);
	text[n / 2] = '.';
	CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
	/* A bare id is not a cursor. */
	CU_ASSERT_EQUAL(cursor_decode(id, "agt_", back), -1);

	/* Well-encoded but wrong contents: version byte, missing id, id plus a trailing NUL or junk. */
	raw[0] = 'x';
	memcpy(raw + 1, id, strlen(id));
	crypto_b64url_encode(raw, 1 + strlen(id), text);
	CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
	raw[0] = 'c';
	crypto_b64url_encode(raw, 1, text);
	CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
	size_t idl = strlen(id);
	memcpy(raw + 1, id, idl);
	raw[1 + idl] = '\0';
	crypto_b64url_encode(raw, 2 + idl, text);
	CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
	memcpy(raw + 1 + idl, "\0junk", 5);
	crypto_b64url_encode(raw, 1 + idl + 5, text);
	CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
	raw[1 + idl] = 'A';
	crypto_b64url_encode(raw, 2 + idl, text);
	CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);
	memcpy(raw + 1, id, idl);
	raw[5] = '\0';
	crypto_b64url_encode(raw, 1 + idl, text);
	CU_ASSERT_EQUAL(cursor_decode(text, "agt_", back), -1);

	/* Random strings of the alphabet, random bytes encoded: never accepted. */
	int accepted = 0;
	for (int i = 0; i < 3000; i++) {
		unsigned char r[64];
		crypto_random(r, sizeof r);
		size_t len = r[0] % 70;
		for (size_t k = 0; k < len; k++)
			text[k] = b64[r[k % 63 + 1] % 64];
		text[len] = '\0';
		accepted += cursor_decode(text, "agt_", back) == 0;
		crypto_random(raw, sizeof raw);
		raw[0] = 'c';
		crypto_b64url_encode(raw, 1 + r[1] % 40, text);
		accepted += cursor_decode(text, "agt_", back) == 0;
	}
	CU_ASSERT_EQUAL(accepted, 0);
}

/* ---------------------------------------------------------------- jsonbody */

static json_t *test_lib_parse(const char *text)
{
	char err[256] = "";
	json_t *v = jsonbody_parse(text, strlen(text), err, sizeof err);
	if (!v)
		CU_ASSERT(err[0] != '\0');
	return v;
}

static int test_lib_parse_fails(const char *text, size_t len)
{
	char err[256] = "";
	json_t *v = jsonbody_parse(text, len, err, sizeof err);
	if (v) {
		fprintf(stderr, "\njsonbody accepted: %.80s\n", text);
		json_decref(v);
		return 0;
	}
	CU_ASSERT(err[0] != '\0' && strlen(err) < sizeof err);
	return 1;
}

/* An object nested DEPTH deep: {"a":{"a":...}} (or with arrays inside when ARRAYS), innermost INNER. */
static char *test_lib_nested(int depth, int arrays, const char *inner)
{
	size_t cap = (size_t)depth * 8 + strlen(inner) + 16, n = 0;
	char *s = malloc(cap);
	if (!s)
		abort();
	n += (size_t)snprintf(s + n, cap - n, "{\"a\":");
	for (int i = 1; i < depth; i++)
		n += (size_t)snprintf(s + n, cap - n, "%s", arrays && i % 2 ? "[" : "{\"a\":");
	n += (size_t)snprintf(s + n, cap - n, "%s", inner);
	for (int i = depth - 1; i >= 1; i--)
		n += (size_t)snprintf(s + n, cap - n, "%s", arrays && i % 2 ? "]" : "}");
	snprintf(s + n, cap - n, "}");
	return s;
}

static void test_lib_jsonbody_ok(void)
{
	json_t *v = test_lib_parse("{\"name\":\"x\",\"config\":{\"location\":\"Berlin\"},\"n\":[1,2,{\"k\":null}]}");
	CU_ASSERT_PTR_NOT_NULL_FATAL(v);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(v, "name")), "x");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(v, "n")), 3);
	json_decref(v);
	v = test_lib_parse("{}");
	CU_ASSERT(json_is_object(v));
	json_decref(v);
	v = test_lib_parse(" \n\t{ \"a\" : 1 } \r\n");
	CU_ASSERT_PTR_NOT_NULL(v);
	json_decref(v);
	v = test_lib_parse("{\"s\":\"\\u00e9t\\u00e9 \xe2\x82\xac \\ud83d\\ude00\"}");
	CU_ASSERT_PTR_NOT_NULL(v);
	json_decref(v);
	/* The same key in sibling objects is not a duplicate. */
	v = test_lib_parse("{\"a\":{\"k\":1},\"b\":{\"k\":2},\"c\":[{\"k\":1},{\"k\":2}]}");
	CU_ASSERT_PTR_NOT_NULL(v);
	json_decref(v);
	/* LEN bounds the input: bytes after it are ignored. */
	char err[128];
	v = jsonbody_parse("{\"a\":1}garbage", 7, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL(v);
	json_decref(v);
}

static void test_lib_jsonbody_rejects(void)
{
	/* Duplicate keys at the top and nested. */
	CU_ASSERT(test_lib_parse_fails("{\"a\":1,\"a\":2}", 13));
	CU_ASSERT(test_lib_parse_fails("{\"a\":1,\"b\":2,\"a\":1}", 19));
	CU_ASSERT(test_lib_parse_fails("{\"o\":{\"b\":1,\"b\":2}}", 19));
	CU_ASSERT(test_lib_parse_fails("{\"o\":[{\"x\":{\"b\":1,\"b\":{}}}]}", 28));
	CU_ASSERT(test_lib_parse_fails("{\"\\u0061\":1,\"a\":2}", 18));
	/* Not an object at the top. */
	static const char *tops[] = {"[]", "[{\"a\":1}]", "\"s\"", "1", "-2.5", "null", "true", "false"};
	for (size_t i = 0; i < sizeof tops / sizeof tops[0]; i++)
		CU_ASSERT(test_lib_parse_fails(tops[i], strlen(tops[i])));
	/* Trailing garbage, truncation, syntax. */
	static const char *syntax[] = {"{} x", "{}{}", "{}]", "{\"a\":1},", "{\"a\":1", "{\"a\"}", "{'a':1}",
				       "{a:1}", "{\"a\":1,}", "{\"a\":01}", "{\"a\":NaN}", "{\"a\":.5}",
				       "{\"a\":\"\\x41\"}", "{\"a\":\"tab\there\"}", "{\"a\":[1,]}", "/*c*/{}"};
	for (size_t i = 0; i < sizeof syntax / sizeof syntax[0]; i++)
		CU_ASSERT(test_lib_parse_fails(syntax[i], strlen(syntax[i])));
	/* Invalid UTF-8, lone surrogates, NUL. */
	CU_ASSERT(test_lib_parse_fails("{\"a\":\"\xff\"}", 9));
	CU_ASSERT(test_lib_parse_fails("{\"a\":\"\xc0\xaf\"}", 10));
	CU_ASSERT(test_lib_parse_fails("{\"a\":\"\xed\xa0\x80\"}", 11));
	CU_ASSERT(test_lib_parse_fails("{\"\xc3\":1}", 8));
	CU_ASSERT(test_lib_parse_fails("{\"a\":\"\\ud800\"}", 14));
	CU_ASSERT(test_lib_parse_fails("{\"a\":\"\\udc00x\"}", 15));
	CU_ASSERT(test_lib_parse_fails("{\"a\":\"\\u0000\"}", 14));
	CU_ASSERT(test_lib_parse_fails("{\"a\":\"x\0\"}", 10));
	CU_ASSERT(test_lib_parse_fails("{\"a\":1}\0", 8));
	/* Empty or blank. */
	CU_ASSERT(test_lib_parse_fails("", 0));
	CU_ASSERT(test_lib_parse_fails("   ", 3));
	CU_ASSERT(test_lib_parse_fails("\n", 1));
}

static void test_lib_jsonbody_depth(void)
{
	for (int arrays = 0; arrays <= 1; arrays++) {
		char *s = test_lib_nested(32, arrays, "1");
		json_t *v = test_lib_parse(s);
		CU_ASSERT_PTR_NOT_NULL(v);
		CU_ASSERT_EQUAL(jsonbody_depth(v, 100), 32);
		json_decref(v);
		free(s);
		s = test_lib_nested(32, arrays, arrays ? "[]" : "{}");
		CU_ASSERT(test_lib_parse_fails(s, strlen(s))); /* the empty container is level 33 */
		free(s);
		s = test_lib_nested(31, arrays, "{}");
		v = test_lib_parse(s);
		CU_ASSERT_PTR_NOT_NULL(v);
		json_decref(v);
		free(s);
		s = test_lib_nested(33, arrays, "1");
		CU_ASSERT(test_lib_parse_fails(s, strlen(s)));
		free(s);
		s = test_lib_nested(33, arrays, "\"x\"");
		CU_ASSERT(test_lib_parse_fails(s, strlen(s)));
		free(s);
		s = test_lib_nested(500, arrays, "1");
		CU_ASSERT(test_lib_parse_fails(s, strlen(s)));
		free(s);
	}
	/* A deep branch after a shallow one is still found. */
	char *deep = test_lib_nested(32, 0, "1");
	size_t dl = strlen(deep);
	char *wide = malloc(dl + 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(wide);
	snprintf(wide, dl + 64, "{\"first\":1,\"second\":[],\"third\":%s}", deep);
	CU_ASSERT(test_lib_parse_fails(wide, strlen(wide)));
	free(wide);
	free(deep);

	json_t *v = json_loads("[[[]],{\"a\":[{}]}]", 0, NULL);
	CU_ASSERT_EQUAL(jsonbody_depth(v, 32), 4);
	json_decref(v);
	v = json_integer(3);
	CU_ASSERT_EQUAL(jsonbody_depth(v, 32), 0);
	json_decref(v);
	v = json_object();
	CU_ASSERT_EQUAL(jsonbody_depth(v, 32), 1);
	json_decref(v);
}

/* ---------------------------------------------------------------- mergepatch */

static void test_lib_mergepatch_rfc7396(void)
{
	/* RFC 7396 Appendix A, every example. */
	static const struct {
		const char *target, *patch, *result;
	} ex[] = {
		{"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
		{"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
		{"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
		{"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
		{"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
		{"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
		{"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
		{"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
		{"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
		{"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
		{"{\"a\":\"foo\"}", "null", "null"},
		{"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
		{"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
		{"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
		{"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
		/* And the section 3 example. */
		{"{\"title\":\"Goodbye!\",\"author\":{\"givenName\":\"John\",\"familyName\":\"Doe\"},"
		 "\"tags\":[\"example\",\"sample\"],\"content\":\"This will be unchanged\"}",
		 "{\"title\":\"Hello!\",\"phoneNumber\":\"+01-123-456-7890\",\"author\":{\"familyName\":null},"
		 "\"tags\":[\"example\"]}",
		 "{\"title\":\"Hello!\",\"author\":{\"givenName\":\"John\"},\"tags\":[\"example\"],"
		 "\"content\":\"This will be unchanged\",\"phoneNumber\":\"+01-123-456-7890\"}"},
	};
	for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
		json_error_t e;
		json_t *t = json_loads(ex[i].target, JSON_DECODE_ANY, &e);
		json_t *p = json_loads(ex[i].patch, JSON_DECODE_ANY, &e);
		json_t *want = json_loads(ex[i].result, JSON_DECODE_ANY, &e);
		CU_ASSERT_FATAL(t && p && want);
		json_t *t0 = json_deep_copy(t), *p0 = json_deep_copy(p);
		json_t *got = mergepatch_apply(t, p);
		CU_ASSERT_PTR_NOT_NULL(got);
		if (!json_equal(got, want)) {
			char *s = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
			fprintf(stderr, "\nmerge patch example %zu: got %s, want %s\n", i + 1, s, ex[i].result);
			free(s);
			CU_FAIL("merge patch result differs from RFC 7396");
		}
		/* Neither input is modified, and the result shares no mutable object with them. */
		CU_ASSERT(json_equal(t, t0));
		CU_ASSERT(json_equal(p, p0));
		if (json_is_object(got) || json_is_array(got)) {
			CU_ASSERT(got != t && got != p);
		}
		json_decref(got);
		CU_ASSERT(json_equal(t, t0));
		CU_ASSERT(json_equal(p, p0));
		json_decref(t);
		json_decref(p);
		json_decref(want);
		json_decref(t0);
		json_decref(p0);
	}
	/* A NULL target (absent member) takes the patch, with nulls removed. */
	json_t *p = json_pack("{s:{s:n,s:i}}", "a", "x", "y", 1);
	json_t *got = mergepatch_apply(NULL, p);
	json_t *want = json_pack("{s:{s:i}}", "a", "y", 1);
	CU_ASSERT(json_equal(got, want));
	json_decref(got);
	json_decref(want);
	json_decref(p);
}

/* ---------------------------------------------------------------- validate and agent types */

/* Runs the validator of TYPE on CONFIG (JSON text); returns its result and fills E. */
static int test_lib_check(const char *type, const char *config, verr *e)
{
	const agenttype *t = agenttype_find(type);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	json_error_t je;
	json_t *c = json_loads(config, JSON_ALLOW_NUL, &je);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	memset(e, 0, sizeof *e);
	e->code = (enum verr_code)99;
	int rc = t->validate(c, e);
	json_decref(c);
	return rc;
}

static void test_lib_expect_verr(const char *type, const char *config, enum verr_code code, const char *param)
{
	verr e;
	int rc = test_lib_check(type, config, &e);
	if (rc != -1 || e.code != code || strcmp(e.param, param) != 0)
		fprintf(stderr, "\n%s %s: rc %d code %d param '%s' (want code %d param '%s')\n", type, config, rc,
			(int)e.code, e.param, (int)code, param);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(e.code, code);
	CU_ASSERT_STRING_EQUAL(e.param, param);
	CU_ASSERT(e.message[0] != '\0');
}

static void test_lib_expect_ok(const char *type, const char *config)
{
	verr e;
	int rc = test_lib_check(type, config, &e);
	if (rc != 0)
		fprintf(stderr, "\n%s %s refused: %s (%s)\n", type, config, e.message, e.param);
	CU_ASSERT_EQUAL(rc, 0);
}

static void test_lib_agenttypes(void)
{
	/* Each type is looked up by name below; the count only grows as types are added. */
	CU_ASSERT_TRUE(AGENTTYPES_COUNT >= 4);
	CU_ASSERT_PTR_NOT_NULL(agenttype_find("calendar_digest"));
	CU_ASSERT_PTR_NOT_NULL(agenttype_find("weather_check"));
	CU_ASSERT_PTR_NOT_NULL(agenttype_find("http_request"));
	CU_ASSERT_PTR_NOT_NULL(agenttype_find("echo"));
	CU_ASSERT_PTR_NOT_NULL(agenttype_find("mcp_tool"));
	CU_ASSERT_PTR_NULL(agenttype_find("Echo"));
	CU_ASSERT_PTR_NULL(agenttype_find(""));
	CU_ASSERT_PTR_NULL(agenttype_find("weather"));
	for (int i = 0; i < AGENTTYPES_COUNT; i++) {
		CU_ASSERT_PTR_EQUAL(agenttype_find(AGENTTYPES[i].name), &AGENTTYPES[i]);
		CU_ASSERT(AGENTTYPES[i].summary && AGENTTYPES[i].summary[0]);
		CU_ASSERT_PTR_NOT_NULL(AGENTTYPES[i].validate);
	}
}

static void test_lib_validate_weather(void)
{
	test_lib_expect_ok("weather_check", "{\"location\":\"Berlin\"}");
	test_lib_expect_ok("weather_check", "{\"location\":\"S\xc3\xa3o Paulo\",\"units\":\"imperial\"}");
	test_lib_expect_ok("weather_check", "{\"location\":\"x\",\"units\":\"metric\"}");
	test_lib_expect_verr("weather_check", "{}", VERR_MISSING, "config.location");
	test_lib_expect_verr("weather_check", "{\"units\":\"metric\"}", VERR_MISSING, "config.location");
	test_lib_expect_verr("weather_check", "{\"location\":\"\"}", VERR_INVALID, "config.location");
	test_lib_expect_verr("weather_check", "{\"location\":5}", VERR_INVALID, "config.location");
	test_lib_expect_verr("weather_check", "{\"location\":null}", VERR_INVALID, "config.location");
	test_lib_expect_verr("weather_check", "{\"location\":\"x\",\"units\":\"kelvin\"}", VERR_INVALID,
			     "config.units");
	test_lib_expect_verr("weather_check", "{\"location\":\"x\",\"units\":1}", VERR_INVALID, "config.units");
	test_lib_expect_verr("weather_check", "{\"location\":\"x\",\"extra\":1}", VERR_UNKNOWN, "config.extra");
	test_lib_expect_verr("weather_check", "{\"Location\":\"x\"}", VERR_UNKNOWN, "config.Location");
	/* 200 code points is the limit, counted as characters, not bytes. */
	char buf[1024];
	size_t n = (size_t)snprintf(buf, sizeof buf, "{\"location\":\"");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, "\xc3\xa9");
	snprintf(buf + n, sizeof buf - n, "\"}");
	test_lib_expect_ok("weather_check", buf);
	snprintf(buf + n, sizeof buf - n, "x\"}");
	test_lib_expect_verr("weather_check", buf, VERR_INVALID, "config.location");
}

static void test_lib_validate_http(void)
{
	test_lib_expect_ok("http_request", "{\"url\":\"https://example.com\"}");
	test_lib_expect_ok("http_request", "{\"url\":\"http://example.com:8080/a?b=c\",\"method\":\"POST\","
					   "\"headers\":{\"X-Token\":\"abc\",\"Content-Type\":\"text/plain\"},"
					   "\"body\":\"hi\",\"timeout_seconds\":30}");
	test_lib_expect_ok("http_request", "{\"url\":\"https://example.com\",\"timeout_seconds\":1}");
	test_lib_expect_verr("http_request", "{}", VERR_MISSING, "config.url");
	test_lib_expect_verr("http_request", "{\"method\":\"GET\"}", VERR_MISSING, "config.url");
	static const char *bad_urls[] = {
		"\"ftp://example.com\"", "\"example.com\"", "\"http://\"", "\"https://\"", "\"https:///path\"",
		"\"http://exa mple.com\"", "\"http://example.com/\\r\\nX-Evil: 1\"", "\"http://example.com/\\n\"",
		"\"http://example.com/\\t\"", "\"HTTP//example.com\"", "\"javascript:alert(1)\"", "5", "null",
		"\"http://ex\\u00e9.com\"", "\"\"",
	};
	char buf[4096];
	for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
		snprintf(buf, sizeof buf, "{\"url\":%s}", bad_urls[i]);
		test_lib_expect_verr("http_request", buf, VERR_INVALID, "config.url");
	}
	/* 2048 characters is the limit. */
	int n = snprintf(buf, sizeof buf, "{\"url\":\"https://e.com/");
	memset(buf + n, 'a', 2048 - 14);
	snprintf(buf + n + 2048 - 14, sizeof buf - (size_t)n - 2048 + 14, "\"}");
	test_lib_expect_ok("http_request", buf);
	snprintf(buf + n + 2048 - 14, sizeof buf - (size_t)n - 2048 + 14, "a\"}");
	test_lib_expect_verr("http_request", buf, VERR_INVALID, "config.url");

	/* Headers: CR, LF and NUL refused in values, names must be tokens. */
	static const char *bad_headers[] = {
		"{\"X-A\":\"a\\r\\nX-Evil: 1\"}", "{\"X-A\":\"a\\nb\"}", "{\"X-A\":\"a\\rb\"}", "{\"X-A\":\"a\\u0000b\"}",
		"{\"Bad Name\":\"v\"}", "{\"X-A\\r\\nX-B\":\"v\"}", "{\"X:A\":\"v\"}", "{\"\":\"v\"}",
		"{\"X-A\":1}", "{\"X-A\":null}", "[]", "\"X-A: b\"", "{\"X-\xc3\xa9\":\"v\"}",
	};
	for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
		snprintf(buf, sizeof buf, "{\"url\":\"https://example.com\",\"headers\":%s}", bad_headers[i]);
		test_lib_expect_verr("http_request", buf, VERR_INVALID, "config.headers");
	}
	test_lib_expect_verr("http_request", "{\"url\":\"https://example.com\",\"method\":\"TRACE\"}", VERR_INVALID,
			     "config.method");
	test_lib_expect_verr("http_request", "{\"url\":\"https://example.com\",\"method\":\"get\"}", VERR_INVALID,
			     "config.method");
	test_lib_expect_verr("http_request", "{\"url\":\"https://example.com\",\"method\":1}", VERR_INVALID,
			     "config.method");
	test_lib_expect_verr("http_request", "{\"url\":\"https://example.com\",\"timeout_seconds\":0}",
			     VERR_INVALID, "config.timeout_seconds");
	test_lib_expect_verr("http_request", "{\"url\":\"https://example.com\",\"timeout_seconds\":31}",
			     VERR_INVALID, "config.timeout_seconds");
	test_lib_expect_verr("http_request", "{\"url\":\"https://example.com\",\"timeout_seconds\":1.5}",
			     VERR_INVALID, "config.timeout_seconds");
	test_lib_expect_verr("http_request", "{\"url\":\"https://example.com\",\"body\":{}}", VERR_INVALID,
			     "config.body");
	test_lib_expect_verr("http_request", "{\"url\":\"https://example.com\",\"follow\":true}", VERR_UNKNOWN,
			     "config.follow");
}

static void test_lib_validate_echo(void)
{
	test_lib_expect_ok("echo", "{}");
	test_lib_expect_ok("echo", "{\"message\":\"\"}");
	test_lib_expect_ok("echo", "{\"message\":\"hello \xe2\x82\xac\"}");
	test_lib_expect_verr("echo", "{\"message\":5}", VERR_INVALID, "config.message");
	test_lib_expect_verr("echo", "{\"message\":[\"a\"]}", VERR_INVALID, "config.message");
	test_lib_expect_verr("echo", "{\"x\":1}", VERR_UNKNOWN, "config.x");
	test_lib_expect_verr("echo", "{\"message\":\"a\",\"location\":\"b\"}", VERR_UNKNOWN, "config.location");
}

static void test_lib_validate_helpers(void)
{
	verr e;
	static const char *const allowed[] = {"name", "type", NULL};

	json_t *o = json_pack("{s:s,s:s}", "name", "a", "type", "echo");
	CU_ASSERT_EQUAL(validate_known_keys(o, "", allowed, &e), 0);
	json_object_set_new(o, "colour", json_true());
	CU_ASSERT_EQUAL(validate_known_keys(o, "", allowed, &e), -1);
	CU_ASSERT_EQUAL(e.code, VERR_UNKNOWN);
	CU_ASSERT_STRING_EQUAL(e.param, "colour");
	CU_ASSERT_EQUAL(validate_known_keys(o, "config", allowed, &e), -1);
	CU_ASSERT_STRING_EQUAL(e.param, "config.colour");
	json_decref(o);

	/* Strings: type, NUL, invalid UTF-8 (only constructible without jansson's check), length in code points. */
	json_t *s = json_string("abc");
	CU_ASSERT_EQUAL(validate_string(s, "name", 1, 3, &e), 0);
	CU_ASSERT_EQUAL(validate_string(s, "name", 4, 10, &e), -1);
	CU_ASSERT_EQUAL(e.code, VERR_INVALID);
	CU_ASSERT_STRING_EQUAL(e.param, "name");
	CU_ASSERT_EQUAL(validate_string(s, "name", 0, 2, &e), -1);
	json_decref(s);
	s = json_stringn("a\0b", 3);
	CU_ASSERT_EQUAL(validate_string(s, "name", 0, 10, &e), -1);
	CU_ASSERT_STRING_EQUAL(e.param, "name");
	json_decref(s);
	s = json_stringn_nocheck("a\xff", 2);
	CU_ASSERT_EQUAL(validate_string(s, "name", 0, 10, &e), -1);
	json_decref(s);
	s = json_integer(1);
	CU_ASSERT_EQUAL(validate_string(s, "name", 0, 10, &e), -1);
	json_decref(s);
	CU_ASSERT_EQUAL(validate_string(NULL, "name", 0, 10, &e), -1);

	CU_ASSERT_EQUAL(verr_set(&e, VERR_LIMIT, "config.x", "too many %s: %d", "agents", 7), -1);
	CU_ASSERT_EQUAL(e.code, VERR_LIMIT);
	CU_ASSERT_STRING_EQUAL(e.param, "config.x");
	CU_ASSERT_STRING_EQUAL(e.message, "too many agents: 7");
	verr_set(&e, VERR_MISSING, NULL, "x");
	CU_ASSERT_STRING_EQUAL(e.param, "");

	CU_ASSERT_EQUAL(validate_header_safe("plain value", 11), 1);
	CU_ASSERT_EQUAL(validate_header_safe("a\rb", 3), 0);
	CU_ASSERT_EQUAL(validate_header_safe("a\nb", 3), 0);
	CU_ASSERT_EQUAL(validate_header_safe("a\0b", 3), 0);
	CU_ASSERT_EQUAL(validate_header_safe("", 0), 1);
	CU_ASSERT_EQUAL(validate_token("X-Request-Id"), 1);
	CU_ASSERT_EQUAL(validate_token("!#$%&'*+-.^_`|~09azAZ"), 1);
	CU_ASSERT_EQUAL(validate_token(""), 0);
	CU_ASSERT_EQUAL(validate_token("a b"), 0);
	CU_ASSERT_EQUAL(validate_token("a:b"), 0);
	CU_ASSERT_EQUAL(validate_token("a\"b"), 0);
	CU_ASSERT_EQUAL(validate_token("a(b)"), 0);
	CU_ASSERT_EQUAL(validate_token("\xc3\xa9"), 0);
}

/* ---------------------------------------------------------------- settings */

static char **saved_env;
static size_t saved_env_count;

/* Moves every AGENTPLATFORM_* variable aside, so the caller's environment cannot leak into a test. */
static void test_lib_env_clear(void)
{
	size_t n = 0;
	for (char **e = environ; *e; e++)
		n += strncmp(*e, "AGENTPLATFORM_", 14) == 0;
	saved_env = calloc(n + 1, sizeof *saved_env);
	saved_env_count = 0;
	for (char **e = environ; *e; e++)
		if (strncmp(*e, "AGENTPLATFORM_", 14) == 0 && saved_env_count < n)
			saved_env[saved_env_count++] = strdup(*e);
	for (size_t i = 0; i < saved_env_count; i++) {
		char *eq = strchr(saved_env[i], '=');
		*eq = '\0';
		unsetenv(saved_env[i]);
		*eq = '=';
	}
}

static void test_lib_env_restore(void)
{
	for (char **e = environ; *e;) {
		if (strncmp(*e, "AGENTPLATFORM_", 14) == 0) {
			char name[128];
			snprintf(name, sizeof name, "%.*s", (int)strcspn(*e, "="), *e);
			unsetenv(name);
			e = environ;
			continue;
		}
		e++;
	}
	for (size_t i = 0; i < saved_env_count; i++) {
		char *eq = strchr(saved_env[i], '=');
		*eq = '\0';
		setenv(saved_env[i], eq + 1, 1);
		free(saved_env[i]);
	}
	free(saved_env);
	saved_env = NULL;
	saved_env_count = 0;
}

#define TEST_KEY_HEX "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF"
#define TEST_BASE_CONFIG                                                                                     \
	"db_user = ap\n"                                                                                     \
	"db_name = apdb\n"                                                                                   \
	"master_key = " TEST_KEY_HEX "\n"                                                                    \
	"public_base_url = https://api.example.com\n"

static char config_path[64];

/* Writes TEXT to a new temporary file; its name is in config_path. */
static const char *test_lib_config(const char *text)
{
	snprintf(config_path, sizeof config_path, "/tmp/ap-unit-config-XXXXXX");
	int fd = mkstemp(config_path);
	CU_ASSERT_FATAL(fd >= 0);
	size_t n = strlen(text);
	CU_ASSERT_FATAL(write(fd, text, n) == (ssize_t)n);
	close(fd);
	return config_path;
}

/* Loads TEXT as a config file; on failure returns NULL and leaves the message in ERR. */
static settings *test_lib_load(const char *text, char *err, size_t errlen)
{
	const char *path = test_lib_config(text);
	err[0] = '\0';
	settings *s = settings_new(path, err, errlen);
	unlink(path);
	return s;
}

/* TEXT must fail to load with a message containing WANT. */
static void test_lib_load_fails(const char *text, const char *want)
{
	char err[512];
	settings *s = test_lib_load(text, err, sizeof err);
	CU_ASSERT_PTR_NULL(s);
	if (!strstr(err, want))
		fprintf(stderr, "\nsettings error '%s' does not mention '%s'\n", err, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	settings_free(s);
}

static void test_lib_settings_defaults(void)
{
	char err[512];

	test_lib_env_clear();
	settings *s = test_lib_load(TEST_BASE_CONFIG, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s->db_host, "127.0.0.1");
	CU_ASSERT_EQUAL(s->db_port, 3306);
	CU_ASSERT_PTR_NULL(s->db_socket);
	CU_ASSERT_STRING_EQUAL(s->db_user, "ap");
	CU_ASSERT_STRING_EQUAL(s->db_password, "");
	CU_ASSERT_STRING_EQUAL(s->db_name, "apdb");
	CU_ASSERT_STRING_EQUAL(s->redis_host, "127.0.0.1");
	CU_ASSERT_EQUAL(s->redis_port, 6379);
	CU_ASSERT_PTR_NULL(s->redis_socket);
	static const unsigned char key[32] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa,
					      0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55,
					      0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff};
	CU_ASSERT_EQUAL(memcmp(s->master_key, key, 32), 0);
	CU_ASSERT_EQUAL(s->master_key_version, 1);
	CU_ASSERT_EQUAL(s->rate_limit_default, 100);
	CU_ASSERT_EQUAL(s->rate_limit_redis_down, RL_DOWN_OPEN);
	CU_ASSERT_EQUAL(s->log_level, LOG_INFO);
	CU_ASSERT_PTR_NULL(s->log_file);
	CU_ASSERT_STRING_EQUAL(s->public_base_url, "https://api.example.com");
	CU_ASSERT_PTR_NOT_NULL(s->sql_dir);
	if (s->sql_dir) {
		size_t n = strlen(s->sql_dir);
		CU_ASSERT(n >= 18 && strcmp(s->sql_dir + n - 18, "/agentplatform/sql") == 0);
	}
	CU_ASSERT_EQUAL(s->agents_max_per_account, 1000);
	CU_ASSERT_EQUAL(s->db_timeout_seconds, 5);
	CU_ASSERT_EQUAL(s->redis_timeout_ms, 1000);
	settings_free(s);

	/* Every setting, comments, blank lines, CRLF, spaces around '='. */
	s = test_lib_load("# AgentPlatform\n"
			  "\n"
			  "   # indented comment\n"
			  "db_host=db.internal\r\n"
			  "db_port = 3307\n"
			  "db_socket = /run/mysqld/mysqld.sock\n"
			  "db_user =  ap  \n"
			  "db_password = s3cret = with equals\n"
			  "db_name\t=\tapdb\n"
			  "redis_host = cache.internal\n"
			  "redis_port = 6380\n"
			  "redis_socket = /run/redis.sock\n"
			  "master_key = " TEST_KEY_HEX "\n"
			  "master_key_version = 3\n"
			  "rate_limit_default = 250\n"
			  "rate_limit_redis_down = closed\n"
			  "log_level = debug\n"
			  "log_file = /var/log/ap.log\n"
			  "public_base_url = http://localhost:8080\n"
			  "sql_dir = /opt/ap/sql\n"
			  "agents_max_per_account = 0\n"
			  "db_timeout_seconds = 600\n"
			  "redis_timeout_ms = 10",
			  err, sizeof err);
	if (!s)
		fprintf(stderr, "\nfull config refused: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s->db_host, "db.internal");
	CU_ASSERT_EQUAL(s->db_port, 3307);
	CU_ASSERT_STRING_EQUAL(s->db_socket, "/run/mysqld/mysqld.sock");
	CU_ASSERT_STRING_EQUAL(s->db_user, "ap");
	CU_ASSERT_STRING_EQUAL(s->db_password, "s3cret = with equals");
	CU_ASSERT_STRING_EQUAL(s->db_name, "apdb");
	CU_ASSERT_STRING_EQUAL(s->redis_host, "cache.internal");
	CU_ASSERT_EQUAL(s->redis_port, 6380);
	CU_ASSERT_STRING_EQUAL(s->redis_socket, "/run/redis.sock");
	CU_ASSERT_EQUAL(s->master_key_version, 3);
	CU_ASSERT_EQUAL(s->rate_limit_default, 250);
	CU_ASSERT_EQUAL(s->rate_limit_redis_down, RL_DOWN_CLOSED);
	CU_ASSERT_EQUAL(s->log_level, LOG_DEBUG);
	CU_ASSERT_STRING_EQUAL(s->log_file, "/var/log/ap.log");
	CU_ASSERT_STRING_EQUAL(s->public_base_url, "http://localhost:8080");
	CU_ASSERT_STRING_EQUAL(s->sql_dir, "/opt/ap/sql");
	CU_ASSERT_EQUAL(s->agents_max_per_account, 0);
	CU_ASSERT_EQUAL(s->db_timeout_seconds, 600);
	CU_ASSERT_EQUAL(s->redis_timeout_ms, 10);
	settings_free(s);
	settings_free(NULL);
	test_lib_env_restore();
}

static void test_lib_settings_required(void)
{
	static const char *lines[4] = {"db_user = ap\n", "db_name = apdb\n", "master_key = " TEST_KEY_HEX "\n",
				       "public_base_url = https://api.example.com\n"};
	static const char *names[4] = {"db_user", "db_name", "master_key", "public_base_url"};
	static const char *vars[4] = {"AGENTPLATFORM_DB_USER", "AGENTPLATFORM_DB_NAME", "AGENTPLATFORM_MASTER_KEY",
				      "AGENTPLATFORM_PUBLIC_BASE_URL"};
	char text[1024], want[128];

	test_lib_env_clear();
	for (int miss = 0; miss < 4; miss++) {
		size_t n = 0;
		text[0] = '\0';
		for (int i = 0; i < 4; i++)
			if (i != miss)
				n += (size_t)snprintf(text + n, sizeof text - n, "%s", lines[i]);
		snprintf(want, sizeof want, "setting %s is missing", names[miss]);
		test_lib_load_fails(text, want);
		test_lib_load_fails(text, vars[miss]);
	}
	test_lib_load_fails("", "is missing");
	/* No file at all and nothing in the environment. */
	char err[512] = "";
	settings *s = settings_new(NULL, err, sizeof err);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "setting db_user is missing"));
	settings_free(s);
	/* A file that does not exist names it. */
	s = settings_new("/nonexistent/ap-unit.conf", err, sizeof err);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/ap-unit.conf"));
	settings_free(s);
	test_lib_env_restore();
}

static void test_lib_settings_invalid(void)
{
	static const struct {
		const char *line, *want;
	} bad[] = {
		{"db_port = 0\n", "db_port"},
		{"db_port = 65536\n", "db_port"},
		{"db_port = -1\n", "db_port"},
		{"db_port = 33o6\n", "db_port"},
		{"db_port = \n", "db_port"},
		{"redis_port = 0\n", "redis_port"},
		{"master_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeef\n", "master_key"},
		{"master_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0\n", "master_key"},
		{"master_key = 00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg\n", "master_key"},
		{"rate_limit_redis_down = maybe\n", "rate_limit_redis_down"},
		{"rate_limit_redis_down = OPEN\n", "rate_limit_redis_down"},
		{"rate_limit_default = 0\n", "rate_limit_default"},
		{"log_level = loud\n", "log_level"},
		{"log_level = INFO\n", "log_level"},
		{"public_base_url = https://api.example.com/\n", "public_base_url"},
		{"public_base_url = ftp://api.example.com\n", "public_base_url"},
		{"public_base_url = api.example.com\n", "public_base_url"},
		{"redis_timeout_ms = 9\n", "redis_timeout_ms"},
		{"db_timeout_seconds = 601\n", "db_timeout_seconds"},
		{"db_user =\n", "db_user"},
		{"db_name =   \n", "db_name"},
		{"colour = blue\n", "unknown setting 'colour'"},
		{"DB_USER = ap\n", "unknown setting 'DB_USER'"},
		{"db_user ap\n", "expected 'key = value'"},
	};
	char text[1024];

	test_lib_env_clear();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* After the valid lines, so the bad one is what fails. */
		snprintf(text, sizeof text, TEST_BASE_CONFIG "%s", bad[i].line);
		test_lib_load_fails(text, bad[i].want);
	}
	/* The error names the line. */
	test_lib_load_fails("db_user = ap\n\nlog_level = loud\n", "line 3");
	/* A line longer than the reader's buffer is an error, not two lines. */
	size_t big = 5000;
	char *huge = malloc(big + 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(huge);
	int n = snprintf(huge, big + 64, "db_password = ");
	memset(huge + n, 'p', big);
	snprintf(huge + n + big, 64, "\n" "db_user = ap\n");
	test_lib_load_fails(huge, "too long");
	free(huge);
	test_lib_env_restore();
}

static void test_lib_settings_env(void)
{
	char err[512];

	test_lib_env_clear();
	setenv("AGENTPLATFORM_DB_PORT", "4000", 1);
	settings *s = test_lib_load(TEST_BASE_CONFIG "db_port = 3307\n", err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->db_port, 4000);
	settings_free(s);

	/* The environment alone can supply everything. */
	setenv("AGENTPLATFORM_DB_USER", "envuser", 1);
	setenv("AGENTPLATFORM_DB_NAME", "envdb", 1);
	setenv("AGENTPLATFORM_MASTER_KEY", TEST_KEY_HEX, 1);
	setenv("AGENTPLATFORM_PUBLIC_BASE_URL", "http://127.0.0.1", 1);
	setenv("AGENTPLATFORM_RATE_LIMIT_REDIS_DOWN", "closed", 1);
	s = settings_new(NULL, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s->db_user, "envuser");
	CU_ASSERT_STRING_EQUAL(s->db_name, "envdb");
	CU_ASSERT_EQUAL(s->db_port, 4000);
	CU_ASSERT_EQUAL(s->rate_limit_redis_down, RL_DOWN_CLOSED);
	settings_free(s);

	/* ... and wins over the file for strings too. */
	s = test_lib_load(TEST_BASE_CONFIG, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s->db_user, "envuser");
	settings_free(s);

	/* AGENTPLATFORM_CONFIG names the file when no path is given. */
	unsetenv("AGENTPLATFORM_DB_USER");
	const char *path = test_lib_config(TEST_BASE_CONFIG "redis_port = 7000\n");
	setenv("AGENTPLATFORM_CONFIG", path, 1);
	s = settings_new(NULL, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL(s);
	if (s) {
		CU_ASSERT_EQUAL(s->redis_port, 7000);
		CU_ASSERT_STRING_EQUAL(s->db_user, "ap");
	}
	settings_free(s);
	unlink(path);
	unsetenv("AGENTPLATFORM_CONFIG");

	/* A bad override is an error naming the variable. */
	setenv("AGENTPLATFORM_DB_PORT", "0", 1);
	s = test_lib_load(TEST_BASE_CONFIG, err, sizeof err);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "AGENTPLATFORM_DB_PORT"));
	settings_free(s);
	setenv("AGENTPLATFORM_DB_PORT", "4000", 1);
	setenv("AGENTPLATFORM_DB_USER", "", 1);
	s = test_lib_load(TEST_BASE_CONFIG, err, sizeof err);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "AGENTPLATFORM_DB_USER"));
	settings_free(s);
	unsetenv("AGENTPLATFORM_DB_USER");
	setenv("AGENTPLATFORM_LOG_LEVEL", "loud", 1);
	s = test_lib_load(TEST_BASE_CONFIG, err, sizeof err);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "log_level"));
	settings_free(s);
	test_lib_env_restore();
}

static void test_lib_settings_config_arg(void)
{
	char a0[] = "prog", a1[] = "--config", a2[] = "/etc/ap.conf", a3[] = "migrate", a4[] = "--config=/x.conf",
	     a5[] = "-v";
	char *argv[8] = {a0, a1, a2, a3, NULL};
	int argc = 4;

	const char *p = settings_take_config_arg(&argc, argv);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(p, "/etc/ap.conf");
	CU_ASSERT_EQUAL(argc, 2);
	CU_ASSERT_STRING_EQUAL(argv[0], "prog");
	CU_ASSERT_STRING_EQUAL(argv[1], "migrate");
	CU_ASSERT_PTR_NULL(argv[2]);

	char *argv2[8] = {a0, a3, a4, a5, NULL};
	argc = 4;
	p = settings_take_config_arg(&argc, argv2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(p, "/x.conf");
	CU_ASSERT_EQUAL(argc, 3);
	CU_ASSERT_STRING_EQUAL(argv2[1], "migrate");
	CU_ASSERT_STRING_EQUAL(argv2[2], "-v");
	CU_ASSERT_PTR_NULL(argv2[3]);

	char *argv3[8] = {a0, a3, NULL};
	argc = 2;
	CU_ASSERT_PTR_NULL(settings_take_config_arg(&argc, argv3));
	CU_ASSERT_EQUAL(argc, 2);
	CU_ASSERT_STRING_EQUAL(argv3[1], "migrate");

	/* Both forms in one command line: both are removed. */
	char *argv4[8] = {a0, a1, a2, a4, a3, NULL};
	argc = 5;
	p = settings_take_config_arg(&argc, argv4);
	CU_ASSERT_PTR_NOT_NULL(p);
	CU_ASSERT_EQUAL(argc, 2);
	CU_ASSERT_STRING_EQUAL(argv4[1], "migrate");
	CU_ASSERT_PTR_NULL(argv4[2]);
}

int test_lib_suite(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{"util_parse_long", test_lib_parse_long},
		{"util_utf8_length", test_lib_utf8_length},
		{"util_format_time_ms", test_lib_format_time},
		{"arena many blocks", test_lib_arena_blocks},
		{"arena huge allocation", test_lib_arena_huge},
		{"arena size overflow aborts", test_lib_arena_overflow},
		{"arena cleanups in reverse order", test_lib_arena_cleanups},
		{"arena strings and printf", test_lib_arena_strings},
		{"crypto sha256, hex, equal, random", test_lib_sha256},
		{"crypto b64url vectors", test_lib_b64url_vectors},
		{"crypto b64url round trips 0..40", test_lib_b64url_roundtrip},
		{"crypto b64url rejects", test_lib_b64url_rejects},
		{"crypto base62 fixed width order", test_lib_base62},
		{"crypto random base62 alphabet", test_lib_random_base62},
		{"ids shape", test_lib_ids_shape},
		{"ids time-sortable", test_lib_ids_sortable},
		{"ids_valid", test_lib_ids_valid},
		{"apikey", test_lib_apikey},
		{"apikey generation parsing", test_lib_keygen_parse},
		{"scope names", test_lib_scope_names},
		{"scope parse", test_lib_scope_parse},
		{"scope format", test_lib_scope_format},
		{"cursor round trip", test_lib_cursor_roundtrip},
		{"cursor garbled", test_lib_cursor_garbled},
		{"jsonbody valid", test_lib_jsonbody_ok},
		{"jsonbody rejects", test_lib_jsonbody_rejects},
		{"jsonbody depth", test_lib_jsonbody_depth},
		{"mergepatch RFC 7396", test_lib_mergepatch_rfc7396},
		{"agenttype registry", test_lib_agenttypes},
		{"validate weather_check", test_lib_validate_weather},
		{"validate http_request", test_lib_validate_http},
		{"validate echo", test_lib_validate_echo},
		{"validate helpers", test_lib_validate_helpers},
		{"settings defaults and file", test_lib_settings_defaults},
		{"settings required", test_lib_settings_required},
		{"settings invalid values", test_lib_settings_invalid},
		{"settings environment", test_lib_settings_env},
		{"settings --config", test_lib_settings_config_arg},
	};
	CU_pSuite suite = CU_add_suite("lib", NULL, NULL);

	if (!suite)
		return -1;
	for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			return -1;
	return 0;
}
