/* validate: field-level validation results and checks shared by handlers and agent types. */
#ifndef AP_VALIDATE_H
#define AP_VALIDATE_H

#include <jansson.h>
#include <stddef.h>

enum verr_code { VERR_MISSING, VERR_INVALID, VERR_UNKNOWN, VERR_READ_ONLY, VERR_LIMIT };

/* The first field error found; PARAM is a dotted path such as "config.location". */
typedef struct verr {
	enum verr_code code;
	char param[128];
	char message[256];
} verr;

/* Fills E and returns -1, so a check can `return verr_set(...)`. */
int verr_set(verr *e, enum verr_code code, const char *param, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* V must be a string of MIN..MAX code points (valid UTF-8, no NUL). 0 or -1 with E set. */
int validate_string(const json_t *v, const char *param, long min, long max, verr *e);

/* Every key of OBJ must be in ALLOWED (NULL-terminated); PREFIX ("config" or "") builds the param path. */
int validate_known_keys(const json_t *obj, const char *prefix, const char *const *allowed, verr *e);

/* S may become part of an HTTP header or SMTP line: 1 if it has no CR, LF or NUL. */
int validate_header_safe(const char *s, size_t n);
/* 1 if S is an RFC 9110 token (a valid header name). */
int validate_token(const char *s);

#endif
