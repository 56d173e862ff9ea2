/* test_credentials: /api/v1/credentials — each type, validation (per-type fields, unknown fields by dotted path,
 * CR/LF/NUL), the hint, the sealed column read straight from MariaDB (never the plaintext; it opens with the
 * master key and the credential id as AAD), list pagination, revoke, isolation, scopes, quota, audit rows without
 * secrets; and agentplatform-admin rotate-master-key end to end. The rotation re-seals the whole shared database
 * under a second key and then rotates back to the stack's own key and version (the way an operator would roll
 * back), so the suites after this one find every secret as before. */
#include "e2e.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static const char *const GENEROUS[] = {"--rate-limit", "100000", "--expires", "never", NULL};

static struct tenant T, OTHER, PAGES, QUOTA;

static int init(void)
{
	if (e2e_tenant(&T, "credentials", "all", GENEROUS) != 0 || e2e_tenant(&OTHER, "credentials-other", "all", GENEROUS) != 0 ||
	    e2e_tenant(&PAGES, "credentials-pages", "credentials:read credentials:write", GENEROUS) != 0 ||
	    e2e_tenant(&QUOTA, "credentials-quota", "credentials:read credentials:write", GENEROUS) != 0)
		return -1;
	return 0;
}

/* ------------------------------------------------------------------------------------------------
 * The sealed format, checked independently of the product: 0x01 | 12-byte nonce | AES-256-GCM | 16-byte tag. */

static int unhex(const char *hex, unsigned char *out, size_t cap)
{
	size_t n = strlen(hex);
	if (n % 2 || n / 2 > cap)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return (int)(n / 2);
}

/* The plaintext of sealed HEX under KEYHEX (64 hex digits) with AAD (malloc'd, NUL-terminated), or NULL when it
 * does not open. */
static char *open_sealed(const char *keyhex, const char *aad, const char *hex)
{
	unsigned char key[32], in[20000];
	int n = hex ? unhex(hex, in, sizeof in) : -1;
	if (unhex(keyhex, key, sizeof key) != 32 || n < 29 || in[0] != 0x01)
		return NULL;
	int clen = n - 29, len = 0, fin = 0;
	char *out = malloc((size_t)clen + 1);
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int ok = c && out && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, in + 1) == 1 &&
		 EVP_DecryptUpdate(c, NULL, &len, (const unsigned char *)aad, (int)strlen(aad)) == 1 &&
		 EVP_DecryptUpdate(c, (unsigned char *)out, &len, in + 13, clen) == 1 &&
		 EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, in + 13 + clen) == 1 &&
		 EVP_DecryptFinal_ex(c, (unsigned char *)out + len, &fin) == 1;
	EVP_CIPHER_CTX_free(c);
	if (!ok) {
		free(out);
		return NULL;
	}
	out[clen] = '\0';
	return out;
}

/* The stack's master_key (64 hex digits) from its config file into OUT (65 bytes). */
static int config_master_key(char *out)
{
	FILE *f = fopen(E2E.config, "r");
	char line[512];
	int found = 0;
	while (f && fgets(line, sizeof line, f)) {
		char k[64], v[128];
		if (sscanf(line, " %63[a-z_] = %127s", k, v) == 2 && strcmp(k, "master_key") == 0 && strlen(v) == 64) {
			snprintf(out, 65, "%s", v);
			found = 1;
		}
	}
	if (f)
		fclose(f);
	return found ? 0 : -1;
}

/* The sealed column of credential ID as hex, and its key version, into HEX (cap bytes) and *VERSION. */
static int sealed_of(const char *id, char *hex, size_t cap, int *version)
{
	struct rows q;
	long n = e2e_sql(&q, "SELECT HEX(secret_enc), secret_key_version FROM credentials WHERE id = ?",
			 (const char *[]){id, NULL});
	int ok = n == 1 && q.cell[0][0];
	if (ok) {
		snprintf(hex, cap, "%s", q.cell[0][0]);
		*version = (int)strtol(q.cell[0][1], NULL, 10);
	}
	rows_free(&q);
	return ok ? 0 : -1;
}

static void hex_of(const char *s, char *out)
{
	static const char H[] = "0123456789ABCDEF";
	size_t i = 0;
	for (; s[i]; i++) {
		out[2 * i] = H[(unsigned char)s[i] >> 4];
		out[2 * i + 1] = H[(unsigned char)s[i] & 15];
	}
	out[2 * i] = '\0';
}

/* ------------------------------------------------------------------------------------------------ */

/* A credential as the API shows it: exactly the documented members, never a secret. */
static int check_credential(const json_t *c, const char *file, int line)
{
	int ok = json_is_object(c) && json_object_size(c) == 7 && e2e_is_id(jstr(c, "id"), "cred_") && jstr(c, "name") &&
		 jstr(c, "type") && jget(c, "hint") && (json_is_null(jget(c, "hint")) || jstr(c, "hint")) &&
		 e2e_is_timestamp(jstr(c, "created_at")) && jget(c, "last_used_at") && jget(c, "revoked_at");
	char *dump = c ? json_dumps(c, JSON_COMPACT) : NULL;
	e2e_check(ok, file, line, "credential: %.400s", dump ? dump : "(null)");
	free(dump);
	return ok;
}

/* Creates a credential as KEY from BODY; its id into ID (64 bytes). Returns 0 or -1. */
static int make_credential(const char *key, const char *body, char *id)
{
	struct resp r = {0};
	http_call(&r, "POST", key, body, "/api/v1/credentials");
	int ok = CHECK_STATUS(r, 201) && jstr(r.json, "data.id");
	snprintf(id, 64, "%s", ok ? jstr(r.json, "data.id") : "");
	resp_free(&r);
	return ok ? 0 : -1;
}

static const struct {
	const char *type, *body, *hint, *plain, *secret; /* PLAIN: the sealed JSON; SECRET: a value never stored clear */
} TYPES[] = {
	{"bearer_token", "{\"name\":\"Bearer\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"tok-0123456789-abcdefXYZ9\"}}",
	 "XYZ9", "{\"token\":\"tok-0123456789-abcdefXYZ9\"}", "tok-0123456789-abcdefXYZ9"},
	{"basic_auth", "{\"name\":\"Basic\",\"type\":\"basic_auth\",\"secret\":{\"username\":\"svc\",\"password\":\"pw-0123456789abcdef-basic\"}}",
	 NULL, "{\"username\":\"svc\",\"password\":\"pw-0123456789abcdef-basic\"}", "pw-0123456789abcdef-basic"},
	{"api_key", "{\"name\":\"Key\",\"type\":\"api_key\",\"secret\":{\"key\":\"shortkey-1\"}}", NULL,
	 "{\"key\":\"shortkey-1\",\"header\":\"X-API-Key\"}", "shortkey-1"},
	{"api_key", "{\"name\":\"Key header\",\"type\":\"api_key\",\"secret\":{\"key\":\"k3y-0123456789abcd-éü€\",\"header\":\"X-Custom-Key\"}}",
	 "-éü€", "{\"key\":\"k3y-0123456789abcd-éü€\",\"header\":\"X-Custom-Key\"}", "k3y-0123456789abcd"},
	{"smtp", "{\"name\":\"Mail\",\"type\":\"smtp\",\"secret\":{\"host\":\"127.0.0.1\",\"port\":2525,\"username\":\"agent\","
		 "\"password\":\"smtp-pw-0123456789abcdef\",\"from\":\"agent@example.com\"}}",
	 NULL,
	 "{\"host\":\"127.0.0.1\",\"port\":2525,\"username\":\"agent\",\"password\":\"smtp-pw-0123456789abcdef\","
	 "\"from\":\"agent@example.com\",\"tls\":\"starttls\"}",
	 "smtp-pw-0123456789abcdef"},
	{"generic", "{\"name\":\"Generic\",\"type\":\"generic\",\"secret\":{\"fields\":{\"client_id\":\"abc\",\"client_secret\":\"gen-secret-0123456789abcdef\"}}}",
	 NULL, "{\"fields\":{\"client_id\":\"abc\",\"client_secret\":\"gen-secret-0123456789abcdef\"}}",
	 "gen-secret-0123456789abcdef"},
};
#define NTYPES (sizeof TYPES / sizeof TYPES[0])

static void test_types(void)
{
	struct resp r = {0};
	char key[65];
	CHECK(config_master_key(key) == 0);
	for (size_t i = 0; i < NTYPES; i++) {
		http_call(&r, "POST", T.key, TYPES[i].body, "/api/v1/credentials");
		if (!CHECK_STATUS(r, 201))
			continue;
		json_t *c = jget(r.json, "data");
		check_credential(c, __FILE__, __LINE__);
		char id[64];
		snprintf(id, sizeof id, "%s", jstr(c, "id"));
		CHECK_STR(jstr(c, "type"), TYPES[i].type);
		if (TYPES[i].hint)
			CHECK_STR(jstr(c, "hint"), TYPES[i].hint);
		else
			CHECK(json_is_null(jget(c, "hint")));
		CHECK(json_is_null(jget(c, "last_used_at")) && json_is_null(jget(c, "revoked_at")));
		CHECK(strstr(r.body, TYPES[i].secret) == NULL);
		char loc[256];
		snprintf(loc, sizeof loc, "%s/api/v1/credentials/%s", E2E.url, id);
		CHECK_HEADER(r, "Location", loc);
		char *created = json_dumps(c, JSON_COMPACT | JSON_SORT_KEYS);

		http_get(&r, T.key, "/api/v1/credentials/%s", id);
		CHECK_STATUS(r, 200);
		char *got = json_dumps(jget(r.json, "data"), JSON_COMPACT | JSON_SORT_KEYS);
		CHECK_STR(got, created);
		free(got);
		free(created);

		/* Straight from MariaDB: no plaintext in the column; it opens with the master key, bound to the id. */
		char hex[20000], plainhex[512];
		int version = 0;
		if (!CHECK(sealed_of(id, hex, sizeof hex, &version) == 0))
			continue;
		CHECK(version == 1);
		hex_of(TYPES[i].secret, plainhex);
		CHECK(strstr(hex, plainhex) == NULL);
		struct rows q;
		CHECK(e2e_sql(&q, "SELECT COUNT(*) FROM credentials WHERE id = ? AND (INSTR(secret_enc, ?) > 0 OR "
				  "INSTR(name, ?) > 0 OR INSTR(COALESCE(hint, ''), ?) > 0)",
			      (const char *[]){id, TYPES[i].secret, TYPES[i].secret, TYPES[i].secret, NULL}) == 1 &&
		      strcmp(q.cell[0][0], "0") == 0);
		rows_free(&q);
		char *plain = open_sealed(key, id, hex);
		CHECK_STR(plain, TYPES[i].plain);
		free(plain);
		plain = open_sealed(key, "cred_another", hex);
		CHECK(plain == NULL);
		free(plain);
	}
	resp_free(&r);
}

static void test_validation(void)
{
	static const struct {
		const char *body;
		const char *code, *param;
	} BAD[] = {
		{"{\"type\":\"bearer_token\",\"secret\":{\"token\":\"t\"}}", "parameter_missing", "name"},
		{"{\"name\":\"\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"t\"}}", "parameter_invalid", "name"},
		{"{\"name\":\"n\",\"secret\":{\"token\":\"t\"}}", "parameter_missing", "type"},
		{"{\"name\":\"n\",\"type\":\"oauth\",\"secret\":{}}", "parameter_invalid", "type"},
		{"{\"name\":\"n\",\"type\":7,\"secret\":{}}", "parameter_invalid", "type"},
		{"{\"name\":\"n\",\"type\":\"bearer_token\"}", "parameter_missing", "secret"},
		{"{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":\"t\"}", "parameter_invalid", "secret"},
		{"{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"t\"},\"extra\":1}", "parameter_unknown", "extra"},
		{"{\"id\":\"cred_x\",\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"t\"}}", "parameter_read_only", "id"},
		{"{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"tokn\":\"t\"}}", "parameter_unknown", "secret.tokn"},
		{"{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{}}", "parameter_missing", "secret.token"},
		{"{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"\"}}", "parameter_invalid", "secret.token"},
		{"{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"ab\\r\\nX-Evil: 1\"}}", "parameter_invalid", "secret.token"},
		{"{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":5}}", "parameter_invalid", "secret.token"},
		{"{\"name\":\"n\",\"type\":\"basic_auth\",\"secret\":{\"username\":\"a:b\",\"password\":\"p\"}}", "parameter_invalid", "secret.username"},
		{"{\"name\":\"n\",\"type\":\"basic_auth\",\"secret\":{\"username\":\"a\\n\",\"password\":\"p\"}}", "parameter_invalid", "secret.username"},
		{"{\"name\":\"n\",\"type\":\"basic_auth\",\"secret\":{\"username\":\"a\",\"password\":\"p\\r\"}}", "parameter_invalid", "secret.password"},
		{"{\"name\":\"n\",\"type\":\"basic_auth\",\"secret\":{\"username\":\"a\"}}", "parameter_missing", "secret.password"},
		{"{\"name\":\"n\",\"type\":\"api_key\",\"secret\":{\"key\":\"k\\n\"}}", "parameter_invalid", "secret.key"},
		{"{\"name\":\"n\",\"type\":\"api_key\",\"secret\":{\"key\":\"k\",\"header\":\"X Bad\"}}", "parameter_invalid", "secret.header"},
		{"{\"name\":\"n\",\"type\":\"api_key\",\"secret\":{\"key\":\"k\",\"header\":\"X-A\\r\\nB\"}}", "parameter_invalid", "secret.header"},
		{"{\"name\":\"n\",\"type\":\"api_key\",\"secret\":{\"key\":\"k\",\"header\":\"\"}}", "parameter_invalid", "secret.header"},
		{"{\"name\":\"n\",\"type\":\"api_key\",\"secret\":{\"key\":\"k\",\"token\":\"t\"}}", "parameter_unknown", "secret.token"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":0,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}}", "parameter_invalid", "secret.port"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":65536,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}}", "parameter_invalid", "secret.port"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":\"25\",\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}}", "parameter_invalid", "secret.port"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}}", "parameter_missing", "secret.port"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\\r\\nRCPT\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}}", "parameter_invalid", "secret.host"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\\r\\n\",\"password\":\"p\",\"from\":\"a@b.c\"}}", "parameter_invalid", "secret.username"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\\n\",\"from\":\"a@b.c\"}}", "parameter_invalid", "secret.password"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\\r\\nBcc: x@y.z\"}}", "parameter_invalid", "secret.from"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"no-at-sign\"}}", "parameter_invalid", "secret.from"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@localhost\"}}", "parameter_invalid", "secret.from"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a..b@example.com\"}}", "parameter_invalid", "secret.from"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\".a@example.com\"}}", "parameter_invalid", "secret.from"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@-b.example.com\"}}", "parameter_invalid", "secret.from"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@[127.0.0.1]\"}}", "parameter_invalid", "secret.from"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"é@example.com\"}}", "parameter_invalid", "secret.from"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"[mail.example.com]\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}}", "parameter_invalid", "secret.host"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"mail:25\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}}", "parameter_invalid", "secret.host"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"[::1\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}}", "parameter_invalid", "secret.host"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"::1]\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}}", "parameter_invalid", "secret.host"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h_h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\"}}", "parameter_invalid", "secret.host"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\",\"tls\":\"ssl\"}}", "parameter_invalid", "secret.tls"},
		{"{\"name\":\"n\",\"type\":\"smtp\",\"secret\":{\"host\":\"h\",\"port\":25,\"username\":\"u\",\"password\":\"p\",\"from\":\"a@b.c\",\"helo\":\"x\"}}", "parameter_unknown", "secret.helo"},
		{"{\"name\":\"n\",\"type\":\"generic\",\"secret\":{}}", "parameter_missing", "secret.fields"},
		{"{\"name\":\"n\",\"type\":\"generic\",\"secret\":{\"fields\":{}}}", "parameter_invalid", "secret.fields"},
		{"{\"name\":\"n\",\"type\":\"generic\",\"secret\":{\"fields\":[\"a\"]}}", "parameter_invalid", "secret.fields"},
		{"{\"name\":\"n\",\"type\":\"generic\",\"secret\":{\"fields\":{\"a\":1}}}", "parameter_invalid", "secret.fields.a"},
		{"{\"name\":\"n\",\"type\":\"generic\",\"secret\":{\"fields\":{\"a\":\"b\"},\"more\":{}}}", "parameter_unknown", "secret.more"},
	};
	struct resp r = {0};
	for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
		http_call(&r, "POST", T.key, BAD[i].body, "/api/v1/credentials");
		if (!CHECK_ERROR(r, 422, BAD[i].code, BAD[i].param))
			fprintf(stderr, "  (body %zu: %s)\n", i, BAD[i].body);
	}
	/* Length limits: a 4096-character token is fine, 4097 is not; a 200-character name is fine, 201 is not. */
	char *token = malloc(4098), *body = malloc(4400), name[202];
	memset(token, 'a', 4097);
	token[4097] = '\0';
	memset(name, 'n', 201);
	name[201] = '\0';
	snprintf(body, 4400, "{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"%s\"}}", token);
	http_call(&r, "POST", T.key, body, "/api/v1/credentials");
	CHECK_ERROR(r, 422, "parameter_invalid", "secret.token");
	CHECK(strstr(r.body, "aaaaaaaa") == NULL); /* errors never echo the value */
	token[4096] = '\0';
	snprintf(body, 4400, "{\"name\":\"%.200s\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"%s\"}}", name, token);
	http_call(&r, "POST", T.key, body, "/api/v1/credentials");
	CHECK_STATUS(r, 201);
	CHECK_STR(jstr(r.json, "data.hint"), "aaaa");
	snprintf(body, 4400, "{\"name\":\"%s\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"t\"}}", name);
	http_call(&r, "POST", T.key, body, "/api/v1/credentials");
	CHECK_ERROR(r, 422, "parameter_invalid", "name");
	/* The sealed fields must fit their column: at most 16355 bytes of compact JSON, else 422 on "secret" (never a
	 * 500). 4096 characters of 4-byte UTF-8 are within the token's length but not within the bytes. */
	char *big = malloc(4 * 4096 + 1), *bbody = malloc(20000);
	for (int i = 0; i < 4096; i++)
		memcpy(big + 4 * i, "\xF0\x9F\x98\x80", 4);
	big[4 * 4096] = '\0';
	snprintf(bbody, 20000, "{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"%s\"}}", big);
	http_call(&r, "POST", T.key, bbody, "/api/v1/credentials");
	CHECK_ERROR(r, 422, "parameter_invalid", "secret");
	CHECK(strstr(r.body, "\xF0\x9F\x98\x80") == NULL);
	/* generic: {"fields":{"a":A,"b":B,"c":C,"d":D}} is 40 bytes plus the values: 16355 bytes fit, 16356 do not. */
	for (int extra = 0; extra <= 1; extra++) {
		char *v = malloc(4097);
		memset(v, 'v', 4096);
		v[4096] = '\0';
		snprintf(bbody, 20000,
			 "{\"name\":\"big\",\"type\":\"generic\",\"secret\":{\"fields\":{\"a\":\"%s\",\"b\":\"%s\",\"c\":\"%s\","
			 "\"d\":\"%.*s\"}}}",
			 v, v, v, 16355 - 40 - 3 * 4096 + extra, v);
		http_call(&r, "POST", T.key, bbody, "/api/v1/credentials");
		if (extra)
			CHECK_ERROR(r, 422, "parameter_invalid", "secret");
		else
			CHECK_STATUS(r, 201);
		free(v);
	}
	/* 50 fields of 4096 characters each pass the per-field limits, not the total. */
	char *many = malloc(50 * 4110 + 200);
	size_t off = (size_t)snprintf(many, 200, "{\"name\":\"n\",\"type\":\"generic\",\"secret\":{\"fields\":{");
	for (int i = 0; i < 50; i++) {
		off += (size_t)sprintf(many + off, "%s\"f%d\":\"", i ? "," : "", i);
		memset(many + off, 'x', 4096);
		off += 4096;
		many[off++] = '"';
	}
	strcpy(many + off, "}}}");
	http_call(&r, "POST", T.key, many, "/api/v1/credentials");
	CHECK_ERROR(r, 422, "parameter_invalid", "secret");
	free(many);
	free(big);
	free(bbody);
	/* NUL never gets that far: the JSON parser refuses \u0000 anywhere in a body. */
	http_call(&r, "POST", T.key, "{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"ab\\u0000cd\"}}",
		  "/api/v1/credentials");
	CHECK_ERROR(r, 400, "body_malformed", NULL);
	/* A CR/LF error names the field and never echoes the value. */
	http_call(&r, "POST", T.key, "{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"sekrit-value\\nX\"}}",
		  "/api/v1/credentials");
	CHECK_ERROR(r, 422, "parameter_invalid", "secret.token");
	CHECK(strstr(r.body, "sekrit") == NULL);
	/* 15 characters: no hint; 16: the last 4. */
	http_call(&r, "POST", T.key, "{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"0123456789abcde\"}}",
		  "/api/v1/credentials");
	CHECK(CHECK_STATUS(r, 201) && json_is_null(jget(r.json, "data.hint")));
	http_call(&r, "POST", T.key, "{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"0123456789abcdef\"}}",
		  "/api/v1/credentials");
	CHECK(CHECK_STATUS(r, 201) && jstr(r.json, "data.hint") && strcmp(jstr(r.json, "data.hint"), "cdef") == 0);
	free(token);
	free(body);
	resp_free(&r);
}

static void test_list(void)
{
	struct resp r = {0};
	char ids[5][64];
	for (int i = 0; i < 5; i++) {
		char body[200];
		snprintf(body, sizeof body, "{\"name\":\"page %d\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"t%d\"}}", i, i);
		CHECK(make_credential(PAGES.key, body, ids[i]) == 0);
	}
	/* Newest first, two per page, every credential once. */
	char cursor[256] = "";
	int seen = 0;
	for (int page = 0; page < 5; page++) {
		if (cursor[0])
			http_get(&r, PAGES.key, "/api/v1/credentials?limit=2&cursor=%s", cursor);
		else
			http_get(&r, PAGES.key, "/api/v1/credentials?limit=2");
		if (!CHECK_STATUS(r, 200))
			break;
		size_t i;
		json_t *c;
		CHECK(json_array_size(jget(r.json, "data")) <= 2);
		json_array_foreach(jget(r.json, "data"), i, c)
		{
			check_credential(c, __FILE__, __LINE__);
			CHECK(seen < 5 && strcmp(jstr(c, "id"), ids[4 - seen]) == 0);
			seen++;
		}
		if (!json_is_true(jget(r.json, "has_more"))) {
			CHECK(json_is_null(jget(r.json, "next_cursor")));
			break;
		}
		snprintf(cursor, sizeof cursor, "%s", jstr(r.json, "next_cursor") ? jstr(r.json, "next_cursor") : "");
	}
	CHECK(seen == 5);
	http_get(&r, PAGES.key, "/api/v1/credentials?limit=101");
	CHECK_ERROR(r, 400, "parameter_invalid", "limit");
	http_get(&r, PAGES.key, "/api/v1/credentials?cursor=garbage");
	CHECK_ERROR(r, 400, "cursor_invalid", "cursor");
	http_get(&r, PAGES.key, "/api/v1/credentials?type=smtp");
	CHECK_ERROR(r, 400, "parameter_unknown", "type");
	resp_free(&r);
}

static void test_revoke(void)
{
	struct resp r = {0};
	char id[64];
	if (make_credential(T.key, "{\"name\":\"to revoke\",\"type\":\"api_key\",\"secret\":{\"key\":\"revoke-me-0123456789\"}}", id) != 0)
		return;
	http_call(&r, "POST", T.key, "{\"now\":true}", "/api/v1/credentials/%s/revoke", id);
	CHECK_ERROR(r, 422, "parameter_unknown", "now");
	http_call(&r, "POST", T.key, NULL, "/api/v1/credentials/%s/revoke", id);
	CHECK_STATUS(r, 200);
	check_credential(jget(r.json, "data"), __FILE__, __LINE__);
	char revoked_at[64];
	snprintf(revoked_at, sizeof revoked_at, "%s", jstr(r.json, "data.revoked_at") ? jstr(r.json, "data.revoked_at") : "");
	CHECK(e2e_is_timestamp(revoked_at));
	CHECK_STR(jstr(r.json, "data.hint"), "6789");
	/* Final and idempotent: again is 200 with the first revoked_at, and one audit row. */
	http_call(&r, "POST", T.key, "{}", "/api/v1/credentials/%s/revoke", id);
	CHECK_STATUS(r, 200);
	CHECK_STR(jstr(r.json, "data.revoked_at"), revoked_at);
	http_get(&r, T.key, "/api/v1/credentials/%s", id);
	CHECK_STR(jstr(r.json, "data.revoked_at"), revoked_at);
	http_get(&r, T.key, "/api/v1/audit-logs?target_id=%s", id);
	CHECK_STATUS(r, 200);
	json_t *data = jget(r.json, "data");
	CHECK(json_array_size(data) == 2);
	if (json_array_size(data) == 2) {
		CHECK_STR(jstr(json_array_get(data, 0), "action"), "credential.revoked");
		CHECK_STR(jstr(json_array_get(data, 1), "action"), "credential.created");
		CHECK_STR(jstr(json_array_get(data, 1), "target_type"), "credential");
		CHECK_STR(jstr(json_array_get(data, 1), "actor"), T.key_id);
	}
	/* Audit metadata never holds the secret nor its hint. */
	CHECK(strstr(r.body, "revoke-me") == NULL && strstr(r.body, "6789") == NULL);
	CHECK(strstr(r.body, "to revoke") != NULL);
	resp_free(&r);
}

static void test_isolation_and_scopes(void)
{
	struct resp r = {0};
	char id[64], key_ro[64], id_ro[64], key_wo[64], id_wo[64];
	if (make_credential(T.key, "{\"name\":\"mine\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"isolated\"}}", id) != 0)
		return;
	/* Another account: 404 on get and revoke, absent from its list. */
	http_get(&r, OTHER.key, "/api/v1/credentials/%s", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_call(&r, "POST", OTHER.key, NULL, "/api/v1/credentials/%s/revoke", id);
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, OTHER.key, "/api/v1/credentials?limit=100");
	CHECK(CHECK_STATUS(r, 200) && strstr(r.body, id) == NULL);
	http_get(&r, T.key, "/api/v1/credentials/%s", id);
	CHECK(CHECK_STATUS(r, 200) && json_is_null(jget(r.json, "data.revoked_at")));
	/* Unknown and malformed ids. */
	http_get(&r, T.key, "/api/v1/credentials/cred_0000000000000000000000000");
	CHECK_ERROR(r, 404, "not_found", NULL);
	http_get(&r, T.key, "/api/v1/credentials/whk_0000000000000000000000000");
	CHECK_STATUS(r, 404);
	http_call(&r, "POST", T.key, NULL, "/api/v1/credentials/nope/revoke");
	CHECK_STATUS(r, 404);
	/* Scopes: credentials:read reads, credentials:write writes. */
	CHECK(e2e_key(&T, "credentials:read", GENEROUS, key_ro, id_ro) == 0);
	CHECK(e2e_key(&T, "credentials:write", GENEROUS, key_wo, id_wo) == 0);
	http_get(&r, key_ro, "/api/v1/credentials/%s", id);
	CHECK_STATUS(r, 200);
	http_get(&r, key_ro, "/api/v1/credentials");
	CHECK_STATUS(r, 200);
	http_call(&r, "POST", key_ro, "{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"t\"}}", "/api/v1/credentials");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	http_call(&r, "POST", key_ro, NULL, "/api/v1/credentials/%s/revoke", id);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	http_get(&r, key_wo, "/api/v1/credentials/%s", id);
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	http_get(&r, key_wo, "/api/v1/credentials");
	CHECK_ERROR(r, 403, "missing_scope", NULL);
	http_call(&r, "POST", key_wo, "{\"name\":\"n\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"t\"}}", "/api/v1/credentials");
	CHECK_STATUS(r, 201);
	http_get(&r, NULL, "/api/v1/credentials");
	CHECK_ERROR(r, 401, "api_key_missing", NULL);
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/credentials/%s", id);
	CHECK_STATUS(r, 405);
	resp_free(&r);
}

static void test_quota(void)
{
	struct resp r = {0};
	/* Fill the account to the default quota (1000 live credentials) by SQL, then the API refuses one more. */
	char salt[16];
	snprintf(salt, sizeof salt, "%010lld", (long long)time(NULL) % 10000000000LL);
	long made = 0;
	for (int i = 0; i < 1000; i++) {
		char id[64];
		snprintf(id, sizeof id, "cred_Q%s%014d", salt, i);
		made += e2e_sql(NULL,
				"INSERT INTO credentials (id, account_id, name, type, secret_enc, secret_key_version, "
				"created_at) VALUES (?, ?, 'quota', 'generic', UNHEX('00'), 1, UTC_TIMESTAMP(3))",
				(const char *[]){id, QUOTA.account, NULL});
	}
	CHECK(made == 1000);
	const char *body = "{\"name\":\"one too many\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"t\"}}";
	http_call(&r, "POST", QUOTA.key, body, "/api/v1/credentials");
	CHECK_ERROR(r, 422, "limit_exceeded", NULL);
	/* Revoked credentials do not count. */
	char first[64];
	snprintf(first, sizeof first, "cred_Q%s%014d", salt, 0);
	http_call(&r, "POST", QUOTA.key, NULL, "/api/v1/credentials/%s/revoke", first);
	CHECK_STATUS(r, 200);
	http_call(&r, "POST", QUOTA.key, body, "/api/v1/credentials");
	CHECK_STATUS(r, 201);
	/* Another account is not affected. */
	char other[64];
	CHECK(make_credential(OTHER.key, body, other) == 0);
	/* Those rows hold no sealed value: drop them, so the rotation test below only meets real ones. */
	CHECK(e2e_sql(NULL, "DELETE FROM credentials WHERE account_id = ? AND id LIKE 'cred_Q%'",
		      (const char *[]){QUOTA.account, NULL}) == 1000);
	resp_free(&r);
}

/* An agent config naming a credential (send_email's credential_id, an smtp credential): another account's or an
 * unknown one is 404 naming config.credential_id; a revoked one or another type is 422; at create and at update. */
static void test_agent_references(void)
{
	struct resp r = {0};
	char mine[64], theirs[64], bearer[64], revoked[64], agent[64] = "";
	const char *smtp = "{\"name\":\"mail\",\"type\":\"smtp\",\"secret\":{\"host\":\"127.0.0.1\",\"port\":2525,"
			   "\"username\":\"u\",\"password\":\"p\",\"from\":\"agent@example.com\"}}";
	if (make_credential(T.key, smtp, mine) != 0 || make_credential(OTHER.key, smtp, theirs) != 0 ||
	    make_credential(T.key, smtp, revoked) != 0 ||
	    make_credential(T.key, "{\"name\":\"b\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"t\"}}", bearer) != 0)
		return;
	http_call(&r, "POST", T.key, NULL, "/api/v1/credentials/%s/revoke", revoked);
	CHECK_STATUS(r, 200);
	static const struct {
		int which; /* 0 theirs, 1 unknown, 2 malformed, 3 bearer, 4 revoked */
		long status;
		const char *code;
	} CASES[] = {{0, 404, "not_found"}, {1, 404, "not_found"}, {2, 404, "not_found"},
		     {3, 422, "parameter_invalid"}, {4, 422, "parameter_invalid"}};
	for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
		const char *id = CASES[i].which == 0   ? theirs
				 : CASES[i].which == 1 ? "cred_0000000000000000000000000"
				 : CASES[i].which == 2 ? "not-an-id"
				 : CASES[i].which == 3 ? bearer
						       : revoked;
		char body[400];
		snprintf(body, sizeof body,
			 "{\"name\":\"mailer\",\"type\":\"send_email\",\"config\":{\"to\":\"someone@example.com\","
			 "\"subject\":\"s\",\"body\":\"b\",\"credential_id\":\"%s\"}}",
			 id);
		http_call(&r, "POST", T.key, body, "/api/v1/agents");
		CHECK_ERROR(r, CASES[i].status, CASES[i].code, "config.credential_id");
	}
	char body[400];
	snprintf(body, sizeof body,
		 "{\"name\":\"mailer\",\"type\":\"send_email\",\"config\":{\"to\":\"someone@example.com\","
		 "\"subject\":\"s\",\"body\":\"b\",\"credential_id\":\"%s\"}}",
		 mine);
	http_call(&r, "POST", T.key, body, "/api/v1/agents");
	if (CHECK_STATUS(r, 201))
		snprintf(agent, sizeof agent, "%s", jstr(r.json, "data.id"));
	snprintf(body, sizeof body, "{\"config\":{\"credential_id\":\"%s\"}}", theirs);
	http_call(&r, "PATCH", T.key, body, "/api/v1/agents/%s", agent);
	CHECK_ERROR(r, 404, "not_found", "config.credential_id");
	snprintf(body, sizeof body, "{\"config\":{\"credential_id\":\"%s\"}}", revoked);
	http_call(&r, "PATCH", T.key, body, "/api/v1/agents/%s", agent);
	CHECK_ERROR(r, 422, "parameter_invalid", "config.credential_id");
	http_get(&r, T.key, "/api/v1/agents/%s", agent);
	CHECK_STR(jstr(r.json, "data.config.credential_id"), mine);
	http_call(&r, "DELETE", T.key, NULL, "/api/v1/agents/%s", agent);
	CHECK_STATUS(r, 204);
	resp_free(&r);
}

/* ------------------------------------------------------------------------------------------------
 * rotate-master-key */

/* Runs rotate-master-key (ARG: NULL or "--dry-run") with MASTER/VERSION current and PREV/PREV_VERSION accepted. */
static int rotate(struct admin_run *run, const char *arg, const char *master, const char *version, const char *prev,
		  const char *prev_version)
{
	char e1[120], e2[80], e3[120], e4[80];
	snprintf(e1, sizeof e1, "AGENTPLATFORM_MASTER_KEY=%s", master);
	snprintf(e2, sizeof e2, "AGENTPLATFORM_MASTER_KEY_VERSION=%s", version);
	snprintf(e3, sizeof e3, "AGENTPLATFORM_PREVIOUS_MASTER_KEY=%s", prev);
	snprintf(e4, sizeof e4, "AGENTPLATFORM_PREVIOUS_MASTER_KEY_VERSION=%s", prev_version);
	const char *env[] = {e1, e2, e3, e4, NULL};
	const char *argv[] = {"rotate-master-key", arg, NULL};
	return e2e_admin(run, argv, env);
}

/* Every sealed value of the database recorded under VERSION (and none under another). Values not in the sealed
 * format at all (other suites' fixtures such as x'00') are left alone by the command and not counted. */
#define SEALED(col) "LENGTH(" col ") >= 29 AND ASCII(" col ") = 1"
static int all_under(const char *version)
{
	struct rows q;
	long n = e2e_sql(&q,
			 "SELECT (SELECT COUNT(*) FROM credentials WHERE secret_key_version <> ? AND " SEALED("secret_enc") ") + "
			 "(SELECT COUNT(*) FROM agents WHERE hook_secret_key_version <> ? AND " SEALED("hook_secret_enc") ") + "
			 "(SELECT COUNT(*) FROM webhook_endpoints WHERE secret_key_version <> ? AND " SEALED("secret_enc") ") + "
			 "(SELECT COUNT(*) FROM webhook_endpoints WHERE previous_secret_key_version <> ? AND "
			 SEALED("previous_secret_enc") ") + "
			 "(SELECT COUNT(*) FROM idempotency_keys WHERE response LIKE 'sb1:%' AND "
			 "COALESCE(response_key_version, 0) <> ?)",
			 (const char *[]){version, version, version, version, version, NULL});
	int ok = n == 1 && q.cell[0][0] && strcmp(q.cell[0][0], "0") == 0;
	if (!ok)
		fprintf(stderr, "  values not under key version %s: %s\n", version, n == 1 && q.cell[0][0] ? q.cell[0][0] : "?");
	rows_free(&q);
	return ok;
}

/* The column COL of TABLE's row ID as hex (SQL names are the test's own constants). */
static int column_hex(const char *sql, const char *id, char *out, size_t cap)
{
	struct rows q;
	long n = e2e_sql(&q, sql, (const char *[]){id, NULL});
	int ok = n == 1 && q.cell[0][0];
	snprintf(out, cap, "%s", ok ? q.cell[0][0] : "");
	rows_free(&q);
	return ok ? 0 : -1;
}

static void test_rotate_master_key(void)
{
	struct resp r = {0};
	struct admin_run run;
	char k1[65], k2[65] = "";
	if (!CHECK(config_master_key(k1) == 0))
		return;
	for (int i = 0; i < 64; i++) /* any other key */
		k2[i] = "0123456789abcdef"[(k1[i] - '0' + 7) & 15];
	k2[64] = '\0';
	CHECK(strcmp(k1, k2) != 0);

	/* One of every sealed kind: a credential, a signed agent hook, a webhook endpoint with a previous secret, and
	 * a stored Idempotency-Key response. */
	char cred[64], agent[64] = "", whk[64] = "", hook_secret[128] = "", wsecret[128] = "", wprev[128] = "";
	const char *cred_plain = "{\"token\":\"rotate-token-0123456789abcdef\"}";
	CHECK(make_credential(T.key, "{\"name\":\"rotated\",\"type\":\"bearer_token\",\"secret\":" "{\"token\":\"rotate-token-0123456789abcdef\"}}", cred) == 0);
	http_call(&r, "POST", T.key, "{\"name\":\"rotated hook\",\"type\":\"echo\"}", "/api/v1/agents");
	if (CHECK_STATUS(r, 201))
		snprintf(agent, sizeof agent, "%s", jstr(r.json, "data.id"));
	http_call(&r, "POST", T.key, "{\"signed\":true}", "/api/v1/agents/%s/inbound-webhook/rotate", agent);
	if (CHECK_STATUS(r, 200) && CHECK(jstr(r.json, "data.inbound_webhook_secret")))
		snprintf(hook_secret, sizeof hook_secret, "%s", jstr(r.json, "data.inbound_webhook_secret"));
	http_call(&r, "POST", T.key, "{\"url\":\"http://127.0.0.1:9/rotate\",\"events\":[\"run.failed\"],\"enabled\":false}",
		  "/api/v1/webhooks");
	if (CHECK_STATUS(r, 201)) {
		snprintf(whk, sizeof whk, "%s", jstr(r.json, "data.id"));
		snprintf(wprev, sizeof wprev, "%s", jstr(r.json, "data.secret"));
	}
	http_call(&r, "POST", T.key, NULL, "/api/v1/webhooks/%s/rotate-secret", whk);
	if (CHECK_STATUS(r, 200))
		snprintf(wsecret, sizeof wsecret, "%s", jstr(r.json, "data.secret"));
	char idem[80], idem_hdr[120];
	struct timeval tv;
	gettimeofday(&tv, NULL);
	snprintf(idem, sizeof idem, "rotate-%lld-%06ld", (long long)tv.tv_sec, (long)tv.tv_usec);
	snprintf(idem_hdr, sizeof idem_hdr, "Idempotency-Key: %s", idem);
	const char *hdrs[] = {idem_hdr, NULL};
	const char *idem_body = "{\"name\":\"idempotent\",\"type\":\"bearer_token\",\"secret\":{\"token\":\"t\"}}";
	struct req q = {.method = "POST", .path = "/api/v1/credentials", .key = T.key, .body = idem_body, .headers = hdrs};
	http_send(&q, &r);
	CHECK_STATUS(r, 201);
	char *first_body = strdup(r.body);
	CHECK(all_under("1"));

	char before[20000], after[20000];
	int version = 0;
	CHECK(sealed_of(cred, before, sizeof before, &version) == 0 && version == 1);

	/* A dry run counts and changes nothing. */
	CHECK(rotate(&run, "--dry-run", k2, "2", k1, "1") == 0);
	CHECK(strstr(run.out, "credential secrets: ") != NULL && strstr(run.out, "to re-seal under key version 2") != NULL);
	CHECK(all_under("1"));

	/* A value under a version neither key has stops the command, naming it; the batch is left as it was. */
	char stray[64];
	snprintf(stray, sizeof stray, "cred_Z%024lld", (long long)tv.tv_sec);
	CHECK(e2e_sql(NULL,
		      "INSERT INTO credentials (id, account_id, name, type, secret_enc, secret_key_version, created_at) "
		      "VALUES (?, ?, 'stray', 'generic', UNHEX(CONCAT('01', REPEAT('AB', 40))), 7, UTC_TIMESTAMP(3))",
		      (const char *[]){stray, T.account, NULL}) == 1);
	CHECK(rotate(&run, NULL, k2, "2", k1, "1") == 1);
	e2e_check(strstr(run.err, stray) != NULL, __FILE__, __LINE__, "rotate-master-key stderr: %s", run.err);
	CHECK(e2e_sql(NULL, "DELETE FROM credentials WHERE id = ?", (const char *[]){stray, NULL}) == 1);

	/* Rotate to key 2: everything re-sealed under version 2, opens with key 2 (same AAD), no longer with key 1. */
	CHECK(rotate(&run, NULL, k2, "2", k1, "1") == 0);
	e2e_check(strstr(run.err, "every secret is under key version 2") != NULL, __FILE__, __LINE__, "stderr: %s", run.err);
	CHECK(all_under("2"));
	CHECK(sealed_of(cred, after, sizeof after, &version) == 0 && version == 2);
	CHECK(strcmp(before, after) != 0);
	char *p = open_sealed(k2, cred, after);
	CHECK_STR(p, cred_plain);
	free(p);
	p = open_sealed(k1, cred, after);
	CHECK(p == NULL);
	free(p);
	char hex[2000];
	CHECK(column_hex("SELECT HEX(hook_secret_enc) FROM agents WHERE id = ?", agent, hex, sizeof hex) == 0);
	p = open_sealed(k2, agent, hex);
	CHECK_STR(p, hook_secret);
	free(p);
	CHECK(column_hex("SELECT HEX(secret_enc) FROM webhook_endpoints WHERE id = ?", whk, hex, sizeof hex) == 0);
	p = open_sealed(k2, whk, hex);
	CHECK_STR(p, wsecret);
	free(p);
	CHECK(column_hex("SELECT HEX(previous_secret_enc) FROM webhook_endpoints WHERE id = ?", whk, hex, sizeof hex) == 0);
	p = open_sealed(k2, whk, hex);
	CHECK_STR(p, wprev);
	free(p);

	/* Run again: nothing left, nothing changed (restartable and idempotent). */
	CHECK(rotate(&run, NULL, k2, "2", k1, "1") == 0);
	CHECK(strstr(run.err, "0 value(s) re-sealed") != NULL);
	CHECK(sealed_of(cred, before, sizeof before, &version) == 0 && strcmp(before, after) == 0);

	/* Roll back to the stack's own key and version, as an operator would, so the running stack and the suites
	 * after this one open everything again. */
	CHECK(rotate(&run, NULL, k1, "1", k2, "2") == 0);
	CHECK(all_under("1"));
	CHECK(sealed_of(cred, after, sizeof after, &version) == 0 && version == 1);
	p = open_sealed(k1, cred, after);
	CHECK_STR(p, cred_plain);
	free(p);
	/* The running API opens what was re-sealed: the stored idempotent answer replays byte for byte. */
	http_send(&q, &r);
	CHECK_STATUS(r, 201);
	CHECK_HEADER(r, "Idempotent-Replayed", "true");
	CHECK_STR(r.body, first_body);
	free(first_body);
	resp_free(&r);
}

/* Nothing secret in the stack's logs (API, scheduler, nginx). */
static void test_logs(void)
{
	const char *dir = getenv("AP_TEST_STACK_DIR");
	if (!CHECK(dir != NULL))
		return;
	char cmd[600];
	snprintf(cmd, sizeof cmd,
		 "grep -rlaE 'tok-0123456789-abcdef|pw-0123456789abcdef|smtp-pw-0123456789|gen-secret-0123456789|"
		 "rotate-token-0123456789|revoke-me-0123456789' '%s/log' 2>/dev/null",
		 dir);
	FILE *f = popen(cmd, "r");
	char line[512] = "";
	int found = f && fgets(line, sizeof line, f) != NULL;
	if (f)
		pclose(f);
	e2e_check(!found, __FILE__, __LINE__, "a secret appears in %s", line);
}

int suite_credentials_register(void)
{
	CU_pSuite s = CU_add_suite("credentials", init, NULL);
	if (!s)
		return -1;
	if (!CU_add_test(s, "each type: 201, Location, hint, the column sealed (never the plaintext)", test_types) ||
	    !CU_add_test(s, "validation: per-type fields, dotted unknown fields, CR/LF/NUL, limits", test_validation) ||
	    !CU_add_test(s, "list: newest first, cursor pagination, query errors", test_list) ||
	    !CU_add_test(s, "revoke: final and idempotent; audit rows without secrets", test_revoke) ||
	    !CU_add_test(s, "another account's is 404; scopes; 401; 405", test_isolation_and_scopes) ||
	    !CU_add_test(s, "quota per account: credentials_max_per_account", test_quota) ||
	    !CU_add_test(s, "agent configs naming credentials: account, type and revocation checked", test_agent_references) ||
	    !CU_add_test(s, "rotate-master-key: every sealed kind re-sealed, restartable, rolled back", test_rotate_master_key) ||
	    !CU_add_test(s, "no secret in the stack's logs", test_logs))
		return -1;
	return 0;
}
