/* credential: per-type secret field specs. Header-bound fields (bearer token, basic auth, API key and its
 * header) and SMTP fields become protocol lines, so CR, LF and NUL are refused there (DESIGN.md). */
#include "credential.h"
#include "secretbox.h"
#include "smtp.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(CREDENTIAL_SECRET_MAX_BYTES == 16384 - SECRETBOX_OVERHEAD,
	       "CREDENTIAL_SECRET_MAX_BYTES follows credentials.secret_enc VARBINARY(16384) and the sealing overhead");

#define SECRET_MAX 4096  /* a token, key or password */
#define SHORT_MAX 256    /* user names */
#define HEADER_NAME_MAX 100
#define GENERIC_FIELDS_MAX 50
#define GENERIC_KEY_MAX 100

/* Required (or, with REQUIRED 0, optional: *OUT NULL when absent) string member KEY of SECRET, MIN..MAX
 * characters, checked for CR/LF/NUL when HEADER_SAFE. */
static int field(const json_t *secret, const char *key, int required, long min, long max, int header_safe,
		 const char **out, verr *e)
{
	char param[64];
	snprintf(param, sizeof param, "secret.%s", key);
	const json_t *v = json_object_get(secret, key);
	*out = NULL;
	if (!v || json_is_null(v)) {
		if (required)
			return verr_set(e, VERR_MISSING, param, "%s is required", param);
		return 0;
	}
	if (validate_string(v, param, min, max, e) != 0)
		return -1;
	if (header_safe && !validate_header_safe(json_string_value(v), json_string_length(v)))
		return verr_set(e, VERR_INVALID, param, "%s must not contain CR, LF or NUL characters", param);
	*out = json_string_value(v);
	return 0;
}

/* F (a new object, or NULL when out of memory) as *FIELDS when its compact JSON text, sealed, fits the
 * credentials.secret_enc column (CREDENTIAL_SECRET_MAX_BYTES); else -1 with 422 on "secret". */
static int sealed_fits(json_t *f, json_t **fields, verr *e)
{
	if (!f)
		abort();
	size_t n = json_dumpb(f, NULL, 0, JSON_COMPACT);
	if (n == 0 || n > CREDENTIAL_SECRET_MAX_BYTES) {
		json_decref(f);
		return verr_set(e, VERR_INVALID, "secret",
				"secret is too large: its fields take %zu bytes as compact JSON (UTF-8, with escapes), "
				"at most %d",
				n, CREDENTIAL_SECRET_MAX_BYTES);
	}
	*fields = f;
	return 0;
}

static int check_bearer(const json_t *s, json_t **fields, char hint[CREDENTIAL_HINT_SIZE], verr *e)
{
	static const char *const keys[] = {"token", NULL};
	const char *token;
	if (validate_known_keys(s, "secret", keys, e) != 0 || field(s, "token", 1, 1, SECRET_MAX, 1, &token, e) != 0)
		return -1;
	credential_hint(token, strlen(token), hint);
	return sealed_fits(json_pack("{s:s}", "token", token), fields, e);
}

static int check_basic(const json_t *s, json_t **fields, char hint[CREDENTIAL_HINT_SIZE], verr *e)
{
	static const char *const keys[] = {"username", "password", NULL};
	const char *user, *pass;
	if (validate_known_keys(s, "secret", keys, e) != 0 ||
	    field(s, "username", 1, 1, SHORT_MAX, 1, &user, e) != 0 ||
	    field(s, "password", 1, 1, SECRET_MAX, 1, &pass, e) != 0)
		return -1;
	if (strchr(user, ':')) /* RFC 7617 section 2: the user-id cannot contain a colon */
		return verr_set(e, VERR_INVALID, "secret.username", "secret.username must not contain a colon");
	hint[0] = '\0';
	return sealed_fits(json_pack("{s:s, s:s}", "username", user, "password", pass), fields, e);
}

static int check_api_key(const json_t *s, json_t **fields, char hint[CREDENTIAL_HINT_SIZE], verr *e)
{
	static const char *const keys[] = {"key", "header", NULL};
	const char *key, *header;
	if (validate_known_keys(s, "secret", keys, e) != 0 || field(s, "key", 1, 1, SECRET_MAX, 1, &key, e) != 0 ||
	    field(s, "header", 0, 1, HEADER_NAME_MAX, 1, &header, e) != 0)
		return -1;
	if (header && !validate_token(header))
		return verr_set(e, VERR_INVALID, "secret.header",
				"secret.header must be an HTTP header name (letters, digits and !#$%%&'*+-.^_`|~)");
	credential_hint(key, strlen(key), hint);
	return sealed_fits(
		json_pack("{s:s, s:s}", "key", key, "header", header ? header : CREDENTIAL_DEFAULT_API_KEY_HEADER), fields,
		e);
}

static int check_smtp(const json_t *s, json_t **fields, char hint[CREDENTIAL_HINT_SIZE], verr *e)
{
	static const char *const keys[] = {"host", "port", "username", "password", "from", "tls", NULL};
	const char *host, *user, *pass, *from, *tls;
	if (validate_known_keys(s, "secret", keys, e) != 0 || field(s, "host", 1, 1, 253, 1, &host, e) != 0)
		return -1;
	if (!smtp_host_valid(host))
		return verr_set(e, VERR_INVALID, "secret.host",
				"secret.host must be a host name, an IPv4 address or an IPv6 address (brackets optional)");
	const json_t *port = json_object_get(s, "port");
	if (!port || json_is_null(port))
		return verr_set(e, VERR_MISSING, "secret.port", "secret.port is required");
	if (!json_is_integer(port) || json_integer_value(port) < 1 || json_integer_value(port) > 65535)
		return verr_set(e, VERR_INVALID, "secret.port", "secret.port must be an integer from 1 to 65535");
	if (field(s, "username", 1, 1, SHORT_MAX, 1, &user, e) != 0 ||
	    field(s, "password", 1, 1, SECRET_MAX, 1, &pass, e) != 0 ||
	    field(s, "from", 1, 3, SMTP_MAX_ADDRESS, 1, &from, e) != 0)
		return -1;
	/* the rule smtp_compose applies to the From address, so a credential that is accepted can send */
	if (!smtp_address_valid(from))
		return verr_set(e, VERR_INVALID, "secret.from",
				"secret.from must be an ASCII email address such as agent@example.com (a dot-atom local part "
				"of at most 64 characters, a domain of at least two labels; no display name, quotes or "
				"address literals)");
	if (field(s, "tls", 0, 1, 20, 1, &tls, e) != 0)
		return -1;
	if (!tls)
		tls = "starttls";
	else if (strcmp(tls, "starttls") != 0 && strcmp(tls, "implicit") != 0 && strcmp(tls, "none") != 0)
		return verr_set(e, VERR_INVALID, "secret.tls", "secret.tls must be one of: starttls, implicit, none");
	hint[0] = '\0';
	return sealed_fits(json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "host", host, "port", json_integer_value(port),
				     "username", user, "password", pass, "from", from, "tls", tls),
			   fields, e);
}

static int check_generic(const json_t *s, json_t **fields, char hint[CREDENTIAL_HINT_SIZE], verr *e)
{
	static const char *const keys[] = {"fields", NULL};
	if (validate_known_keys(s, "secret", keys, e) != 0)
		return -1;
	const json_t *f = json_object_get(s, "fields");
	if (!f || json_is_null(f))
		return verr_set(e, VERR_MISSING, "secret.fields", "secret.fields is required");
	if (!json_is_object(f) || json_object_size(f) < 1 || json_object_size(f) > GENERIC_FIELDS_MAX)
		return verr_set(e, VERR_INVALID, "secret.fields",
				"secret.fields must be an object of 1 to %d string fields", GENERIC_FIELDS_MAX);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)f, k, v)
	{
		char param[128];
		snprintf(param, sizeof param, "secret.fields.%.100s", k);
		long kl = util_utf8_length(k, strlen(k));
		if (kl < 1 || kl > GENERIC_KEY_MAX)
			return verr_set(e, VERR_INVALID, "secret.fields",
					"secret.fields names must be 1 to %d characters long", GENERIC_KEY_MAX);
		if (validate_string(v, param, 0, SECRET_MAX, e) != 0)
			return -1;
	}
	hint[0] = '\0';
	return sealed_fits(json_pack("{s:O}", "fields", f), fields, e);
}

const credential_type CREDENTIAL_TYPES[] = {
	{"bearer_token", check_bearer}, {"basic_auth", check_basic}, {"api_key", check_api_key},
	{"smtp", check_smtp},           {"generic", check_generic},
};
const int CREDENTIAL_TYPES_COUNT = (int)(sizeof CREDENTIAL_TYPES / sizeof CREDENTIAL_TYPES[0]);

const credential_type *credential_type_find(const char *name)
{
	for (int i = 0; name && i < CREDENTIAL_TYPES_COUNT; i++)
		if (strcmp(CREDENTIAL_TYPES[i].name, name) == 0)
			return &CREDENTIAL_TYPES[i];
	return NULL;
}

void credential_hint(const char *s, size_t n, char hint[CREDENTIAL_HINT_SIZE])
{
	hint[0] = '\0';
	long chars = util_utf8_length(s, n);
	if (chars < 16)
		return;
	/* Back up over 4 characters: UTF-8 continuation bytes are 10xxxxxx. */
	size_t i = n;
	for (int c = 0; c < 4 && i > 0;) {
		i--;
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			c++;
	}
	memcpy(hint, s + i, n - i);
	hint[n - i] = '\0';
}
