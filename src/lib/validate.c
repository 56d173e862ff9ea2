/* validate: shared field checks. */
#include "validate.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int verr_set(verr *e, enum verr_code code, const char *param, const char *fmt, ...)
{
	e->code = code;
	snprintf(e->param, sizeof e->param, "%s", param ? param : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof e->message, fmt, ap);
	va_end(ap);
	return -1;
}

int validate_string(const json_t *v, const char *param, long min, long max, verr *e)
{
	if (!json_is_string(v))
		return verr_set(e, VERR_INVALID, param, "%s must be a string", param);
	long n = util_utf8_length(json_string_value(v), json_string_length(v));
	if (n < 0)
		return verr_set(e, VERR_INVALID, param, "%s must be valid UTF-8 without NUL characters", param);
	if (n < min || n > max)
		return verr_set(e, VERR_INVALID, param, "%s must be %ld to %ld characters long", param, min, max);
	return 0;
}

int validate_known_keys(const json_t *obj, const char *prefix, const char *const *allowed, verr *e)
{
	const char *key;
	json_t *value;
	json_object_foreach((json_t *)obj, key, value)
	{
		int ok = 0;
		for (const char *const *a = allowed; *a; a++)
			if (strcmp(*a, key) == 0)
				ok = 1;
		if (!ok) {
			char path[128];
			snprintf(path, sizeof path, "%s%s%.80s", prefix, *prefix ? "." : "", key);
			return verr_set(e, VERR_UNKNOWN, path, "unknown field %s", path);
		}
	}
	return 0;
}

int validate_header_safe(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
			return 0;
	return 1;
}

int validate_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	if (!*s)
		return 0;
	for (; *s; s++) {
		char c = *s;
		if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || strchr(extra, c)))
			return 0;
	}
	return 1;
}
