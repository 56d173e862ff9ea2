/* test_credential: credential secret-field validation and hints, and opening sealed values by key version. */
#include "credential.h"
#include "secretbox.h"
#include "settings.h"
#include "smtp.h"
#include "suites.h"

#include <CUnit/CUnit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Validates SECRET (JSON text) as TYPE: 0 with *FIELDS_TEXT (malloc'd, sorted keys) and HINT, or -1 with E. */
static int tcr_check(const char *type, const char *secret, char **fields_text, char *hint, verr *e)
{
	const credential_type *t = credential_type_find(type);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	json_t *s = json_loads(secret, JSON_DECODE_ANY, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	json_t *f = NULL;
	int rc = t->validate(s, &f, hint, e);
	*fields_text = rc == 0 ? json_dumps(f, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(f);
	json_decref(s);
	return rc;
}

static void tcr_ok(const char *type, const char *secret, const char *want_fields, const char *want_hint)
{
	char *got, hint[CREDENTIAL_HINT_SIZE];
	verr e = {0};
	int rc = tcr_check(type, secret, &got, hint, &e);
	if (rc != 0 || strcmp(got, want_fields) != 0 || strcmp(hint, want_hint) != 0)
		fprintf(stderr, "\n%s %s: rc %d (%s) fields %s hint '%s'\n", type, secret, rc, e.message, got ? got : "-",
			rc == 0 ? hint : "-");
	CU_ASSERT_EQUAL(rc, 0);
	if (rc == 0) {
		CU_ASSERT_STRING_EQUAL(got, want_fields);
		CU_ASSERT_STRING_EQUAL(hint, want_hint);
	}
	free(got);
}

static void tcr_bad(const char *type, const char *secret, enum verr_code code, const char *param)
{
	char *got, hint[CREDENTIAL_HINT_SIZE];
	verr e = {0};
	int rc = tcr_check(type, secret, &got, hint, &e);
	if (rc == 0 || e.code != code || strcmp(e.param, param) != 0)
		fprintf(stderr, "\n%s %s: rc %d code %d param %s (%s)\n", type, secret, rc, (int)e.code, e.param, e.message);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL(e.code, code);
	CU_ASSERT_STRING_EQUAL(e.param, param);
	free(got);
}

static void tcr_types(void)
{
	CU_ASSERT_PTR_NULL(credential_type_find("oauth"));
	CU_ASSERT_PTR_NULL(credential_type_find(NULL));
	CU_ASSERT_EQUAL(CREDENTIAL_TYPES_COUNT, 5);
	tcr_ok("bearer_token", "{\"token\":\"0123456789abcdef\"}", "{\"token\":\"0123456789abcdef\"}", "cdef");
	tcr_ok("bearer_token", "{\"token\":\"0123456789abcde\"}", "{\"token\":\"0123456789abcde\"}", "");
	tcr_ok("basic_auth", "{\"username\":\"u\",\"password\":\"0123456789abcdefgh\"}",
	       "{\"password\":\"0123456789abcdefgh\",\"username\":\"u\"}", "");
	tcr_ok("api_key", "{\"key\":\"k\"}", "{\"header\":\"X-API-Key\",\"key\":\"k\"}", "");
	tcr_ok("api_key", "{\"key\":\"0123456789abcdef\",\"header\":\"Api-Key\"}",
	       "{\"header\":\"Api-Key\",\"key\":\"0123456789abcdef\"}", "cdef");
	tcr_ok("smtp", "{\"host\":\"mail.example.com\",\"port\":465,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\",\"tls\":\"implicit\"}",
	       "{\"from\":\"a@b.c\",\"host\":\"mail.example.com\",\"password\":\"p\",\"port\":465,\"tls\":\"implicit\",\"username\":\"u\"}", "");
	tcr_ok("smtp", "{\"host\":\"[::1]\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}",
	       "{\"from\":\"a@b.c\",\"host\":\"[::1]\",\"password\":\"p\",\"port\":25,\"tls\":\"starttls\",\"username\":\"u\"}", "");
	tcr_ok("generic", "{\"fields\":{\"a\":\"1\",\"b\":\"\\r\\n allowed: not header-bound\"}}",
	       "{\"fields\":{\"a\":\"1\",\"b\":\"\\r\\n allowed: not header-bound\"}}", "");
}

static void tcr_refusals(void)
{
	tcr_bad("bearer_token", "{\"token\":\"a\\rb\"}", VERR_INVALID, "secret.token");
	tcr_bad("bearer_token", "{\"token\":\"a\\nb\"}", VERR_INVALID, "secret.token");
	tcr_bad("bearer_token", "{}", VERR_MISSING, "secret.token");
	tcr_bad("bearer_token", "{\"token\":\"t\",\"x\":1}", VERR_UNKNOWN, "secret.x");
	tcr_bad("basic_auth", "{\"username\":\"a:b\",\"password\":\"p\"}", VERR_INVALID, "secret.username");
	tcr_bad("basic_auth", "{\"username\":\"a\",\"password\":\"p\\n\"}", VERR_INVALID, "secret.password");
	tcr_bad("api_key", "{\"key\":\"k\",\"header\":\"Bad Header\"}", VERR_INVALID, "secret.header");
	tcr_bad("api_key", "{\"key\":\"k\",\"header\":\"X-A:\"}", VERR_INVALID, "secret.header");
	tcr_bad("api_key", "{\"key\":\"k\\r\\nX-Evil: 1\"}", VERR_INVALID, "secret.key");
	tcr_bad("smtp", "{\"host\":\"h h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}", VERR_INVALID,
		"secret.host");
	tcr_bad("smtp", "{\"host\":\"h\",\"port\":25.5,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}", VERR_INVALID,
		"secret.port");
	tcr_bad("smtp", "{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"<a@b.c>\"}", VERR_INVALID,
		"secret.from");
	tcr_bad("smtp", "{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"@b.c\"}", VERR_INVALID,
		"secret.from");
	tcr_bad("smtp", "{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@\"}", VERR_INVALID,
		"secret.from");
	tcr_bad("smtp", "{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\",\"tls\":\"TLS\"}",
		VERR_INVALID, "secret.tls");
	tcr_bad("generic", "{\"fields\":{\"a\":null}}", VERR_INVALID, "secret.fields.a");
	tcr_bad("generic", "{\"fields\":{\"\":\"v\"}}", VERR_INVALID, "secret.fields");
}

/* An smtp credential's from and host follow the rules the sender applies (smtp_address_valid, smtp_host_valid):
 * what create accepts can be sent from and connected to. */
static void tcr_smtp_rules(void)
{
	static const char *const froms_bad[] = {"a@localhost", "a..b@example.com", ".a@example.com", "a.@example.com",
						"a@-b.example.com", "a@b-.example.com", "a@[127.0.0.1]", "a@b..c",
						"\u00e9@example.com", "a b@example.com"};
	static const char *const hosts_bad[] = {"[mail.example.com]", "mail:25", "[::1", "::1]", "[]", "h_h", "[1.2.3.4]"};
	static const char *const hosts_ok[] = {"mail.example.com", "127.0.0.1", "::1", "[::1]", "[2001:db8::1]", "h"};
	char secret[400];
	for (size_t i = 0; i < sizeof froms_bad / sizeof froms_bad[0]; i++) {
		snprintf(secret, sizeof secret,
			 "{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"%s\"}", froms_bad[i]);
		tcr_bad("smtp", secret, VERR_INVALID, "secret.from");
	}
	for (size_t i = 0; i < sizeof hosts_bad / sizeof hosts_bad[0]; i++) {
		CU_ASSERT_EQUAL(smtp_host_valid(hosts_bad[i]), 0);
		snprintf(secret, sizeof secret,
			 "{\"host\":\"%s\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}", hosts_bad[i]);
		tcr_bad("smtp", secret, VERR_INVALID, "secret.host");
	}
	for (size_t i = 0; i < sizeof hosts_ok / sizeof hosts_ok[0]; i++) {
		CU_ASSERT_EQUAL(smtp_host_valid(hosts_ok[i]), 1);
		char *got, hint[CREDENTIAL_HINT_SIZE];
		verr e = {0};
		snprintf(secret, sizeof secret,
			 "{\"host\":\"%s\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a.b+c@mail.example.com\"}",
			 hosts_ok[i]);
		CU_ASSERT_EQUAL(tcr_check("smtp", secret, &got, hint, &e), 0);
		free(got);
	}
	CU_ASSERT_EQUAL(smtp_host_valid(NULL), 0);
	CU_ASSERT_EQUAL(smtp_host_valid(""), 0);
	char longhost[300];
	memset(longhost, 'a', 254);
	longhost[254] = '\0';
	CU_ASSERT_EQUAL(smtp_host_valid(longhost), 0);
	longhost[253] = '\0';
	CU_ASSERT_EQUAL(smtp_host_valid(longhost), 1);
}

/* The sealed fields must fit credentials.secret_enc: CREDENTIAL_SECRET_MAX_BYTES of compact JSON, else 422 on
 * "secret" (each field within its own limit). */
static void tcr_size(void)
{
	CU_ASSERT_EQUAL(CREDENTIAL_SECRET_MAX_BYTES, 16384 - SECRETBOX_OVERHEAD);
	/* 4096 characters of 4-byte UTF-8: 16384 bytes of token. */
	char *secret = malloc(60000);
	strcpy(secret, "{\"token\":\"");
	for (int i = 0; i < 4096; i++)
		strcat(secret + 10 + 4 * i, "\xF0\x9F\x98\x80");
	strcat(secret, "\"}");
	tcr_bad("bearer_token", secret, VERR_INVALID, "secret");
	/* Control characters are escaped (\u0001: 6 bytes each). */
	strcpy(secret, "{\"token\":\"");
	for (int i = 0; i < 3000; i++)
		strcat(secret + 10 + 6 * i, "\\u0001");
	strcat(secret, "\"}");
	tcr_bad("bearer_token", secret, VERR_INVALID, "secret");
	/* generic {"fields":{"a":A,"b":B,"c":C,"d":D}}: 40 bytes plus the values; 16355 fit, 16356 do not. */
	for (int extra = 0; extra <= 1; extra++) {
		char v[4097];
		memset(v, 'v', 4096);
		v[4096] = '\0';
		snprintf(secret, 60000, "{\"fields\":{\"a\":\"%s\",\"b\":\"%s\",\"c\":\"%s\",\"d\":\"%.*s\"}}", v, v, v,
			 CREDENTIAL_SECRET_MAX_BYTES - 40 - 3 * 4096 + extra, v);
		if (extra) {
			tcr_bad("generic", secret, VERR_INVALID, "secret");
		} else {
			char *got, hint[CREDENTIAL_HINT_SIZE];
			verr e = {0};
			CU_ASSERT_EQUAL(tcr_check("generic", secret, &got, hint, &e), 0);
			CU_ASSERT_EQUAL(got ? strlen(got) : 0, (size_t)CREDENTIAL_SECRET_MAX_BYTES);
			free(got);
		}
	}
	free(secret);
}

static void tcr_hint(void)
{
	char h[CREDENTIAL_HINT_SIZE];
	credential_hint("", 0, h);
	CU_ASSERT_STRING_EQUAL(h, "");
	const char *s = "0123456789ab€äöü"; /* 16 characters, 21 bytes */
	credential_hint(s, strlen(s), h);
	CU_ASSERT_STRING_EQUAL(h, "€äöü");
	s = "0123456789a€äöü"; /* 15 characters */
	credential_hint(s, strlen(s), h);
	CU_ASSERT_STRING_EQUAL(h, "");
	s = "𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞𝄞"; /* 16 four-byte characters: the hint fills the buffer exactly */
	credential_hint(s, strlen(s), h);
	CU_ASSERT_STRING_EQUAL(h, "𝄞𝄞𝄞𝄞");
}

/* A value sealed under one key version opens with the key of that version only: current or previous. */
static void tcr_key_versions(void)
{
	char err[256];
	setenv("AGENTPLATFORM_DB_USER", "u", 1);
	setenv("AGENTPLATFORM_DB_NAME", "d", 1);
	setenv("AGENTPLATFORM_PUBLIC_BASE_URL", "https://example.com", 1);
	setenv("AGENTPLATFORM_MASTER_KEY", "1111111111111111111111111111111111111111111111111111111111111111", 1);
	setenv("AGENTPLATFORM_MASTER_KEY_VERSION", "3", 1);
	settings *only = settings_new(NULL, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(only);
	setenv("AGENTPLATFORM_PREVIOUS_MASTER_KEY", "2222222222222222222222222222222222222222222222222222222222222222", 1);
	settings *half = settings_new(NULL, err, sizeof err); /* a key without its version */
	CU_ASSERT_PTR_NULL(half);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "go together"));
	setenv("AGENTPLATFORM_PREVIOUS_MASTER_KEY_VERSION", "3", 1);
	settings *same = settings_new(NULL, err, sizeof err);
	CU_ASSERT_PTR_NULL(same);
	setenv("AGENTPLATFORM_PREVIOUS_MASTER_KEY_VERSION", "2", 1);
	settings *both = settings_new(NULL, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(both);
	CU_ASSERT_PTR_EQUAL(settings_master_key(both, 3), both->master_key);
	CU_ASSERT_PTR_EQUAL(settings_master_key(both, 2), both->previous_master_key);
	CU_ASSERT_PTR_NULL(settings_master_key(both, 1));
	CU_ASSERT_PTR_NULL(settings_master_key(only, 2));

	/* "2:<hex>" sealed under the previous key opens with BOTH, not with ONLY; relabelled "3:" it does not open. */
	unsigned char sealed[64];
	size_t n = secretbox_seal(both->previous_master_key, "cred_x", "secret", 6, sealed);
	char stored[200], hex[160];
	for (size_t i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02X", sealed[i]);
	snprintf(stored, sizeof stored, "2:%s", hex);
	char out[64];
	long len = secretbox_open_stored(both, "cred_x", stored, out, sizeof out);
	CU_ASSERT_EQUAL(len, 6);
	CU_ASSERT(len == 6 && memcmp(out, "secret", 6) == 0);
	CU_ASSERT_EQUAL(secretbox_open_stored(both, "cred_y", stored, out, sizeof out), -1);
	CU_ASSERT_EQUAL(secretbox_open_stored(only, "cred_x", stored, out, sizeof out), -1);
	stored[0] = '3';
	CU_ASSERT_EQUAL(secretbox_open_stored(both, "cred_x", stored, out, sizeof out), -1);
	CU_ASSERT_EQUAL(secretbox_open_stored(both, "cred_x", hex, out, sizeof out), -1);
	CU_ASSERT_EQUAL(secretbox_open_stored(both, "cred_x", "2:zz", out, sizeof out), -1);
	CU_ASSERT_EQUAL(secretbox_open_stored(both, "cred_x", NULL, out, sizeof out), -1);

	settings_free(only);
	settings_free(both);
	unsetenv("AGENTPLATFORM_PREVIOUS_MASTER_KEY");
	unsetenv("AGENTPLATFORM_PREVIOUS_MASTER_KEY_VERSION");
	unsetenv("AGENTPLATFORM_MASTER_KEY");
	unsetenv("AGENTPLATFORM_MASTER_KEY_VERSION");
	unsetenv("AGENTPLATFORM_DB_USER");
	unsetenv("AGENTPLATFORM_DB_NAME");
	unsetenv("AGENTPLATFORM_PUBLIC_BASE_URL");
}

int test_credential_suite(void)
{
	CU_pSuite s = CU_add_suite("credential", NULL, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "each type's fields, normalized with defaults", tcr_types) ||
	    !CU_add_test(s, "refusals name the dotted field: CR/LF, tokens, ports, addresses", tcr_refusals) ||
	    !CU_add_test(s, "smtp: from and host follow the sender's rules", tcr_smtp_rules) ||
	    !CU_add_test(s, "the sealed fields fit their column, else 422 on secret", tcr_size) ||
	    !CU_add_test(s, "hint: last 4 characters of 16 or more (UTF-8)", tcr_hint) ||
	    !CU_add_test(s, "sealed values open with the key of their recorded version", tcr_key_versions))
		return -1;
	return 0;
}
