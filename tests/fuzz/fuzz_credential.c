/* fuzz_credential: every credential type's secret-field validation on arbitrary JSON. Invariants of an accepted
 * secret: it is an object of exactly the type's fields; no header-bound or SMTP field holds CR, LF or NUL; the
 * hint is empty or the last 4 characters of the token or key, which then has 16 or more; an smtp secret's from and
 * host pass the sender's own checks; the fields' compact JSON fits the sealed column. */
#include "credential.h"
#include "smtp.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void no_crlf(const json_t *f, const char *key)
{
	const json_t *v = json_object_get(f, key);
	if (!json_is_string(v))
		abort();
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v) || strpbrk(s, "\r\n"))
		abort();
}

static void check_hint(const json_t *f, const char *key, const char *hint)
{
	const char *s = json_string_value(json_object_get(f, key));
	size_t n = strlen(s), h = strlen(hint);
	long chars = util_utf8_length(s, n);
	if (h == 0) {
		if (chars >= 16)
			abort();
		return;
	}
	if (chars < 16 || h > n || strcmp(s + n - h, hint) != 0 || util_utf8_length(hint, h) != 4)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!json_is_object(in)) {
		json_decref(in);
		return 0;
	}
	for (int i = 0; i < CREDENTIAL_TYPES_COUNT; i++) {
		const credential_type *t = &CREDENTIAL_TYPES[i];
		json_t *f = NULL;
		char hint[CREDENTIAL_HINT_SIZE];
		verr e;
		if (t->validate(in, &f, hint, &e) != 0) {
			if (f || strncmp(e.param, "secret", 6) != 0)
				abort();
			continue;
		}
		if (!json_is_object(f) || json_dumpb(f, NULL, 0, JSON_COMPACT) > CREDENTIAL_SECRET_MAX_BYTES)
			abort();
		if (strcmp(t->name, "bearer_token") == 0) {
			no_crlf(f, "token");
			check_hint(f, "token", hint);
		} else if (strcmp(t->name, "basic_auth") == 0) {
			no_crlf(f, "username");
			no_crlf(f, "password");
			if (hint[0] || strchr(json_string_value(json_object_get(f, "username")), ':'))
				abort();
		} else if (strcmp(t->name, "api_key") == 0) {
			no_crlf(f, "key");
			no_crlf(f, "header");
			check_hint(f, "key", hint);
		} else if (strcmp(t->name, "smtp") == 0) {
			static const char *const fields[] = {"host", "username", "password", "from", "tls"};
			for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
				no_crlf(f, fields[k]);
			json_int_t port = json_integer_value(json_object_get(f, "port"));
			if (port < 1 || port > 65535 || json_object_size(f) != 6 || hint[0] ||
			    !smtp_address_valid(json_string_value(json_object_get(f, "from"))) ||
			    !smtp_host_valid(json_string_value(json_object_get(f, "host"))))
				abort();
		} else if (json_object_size(f) != 1 || !json_is_object(json_object_get(f, "fields")) || hint[0]) {
			abort();
		}
		json_decref(f);
	}
	json_decref(in);
	return 0;
}
