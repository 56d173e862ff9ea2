/* credential: the credential types and the validation of their secret fields. */
#ifndef AP_CREDENTIAL_H
#define AP_CREDENTIAL_H

#include "validate.h"

#include <jansson.h>

#define CREDENTIAL_NAME_MAX 200
#define CREDENTIAL_HINT_SIZE 17 /* 4 UTF-8 characters + NUL */
#define CREDENTIAL_DEFAULT_API_KEY_HEADER "X-API-Key"
/* The sealed secret fields go into credentials.secret_enc, VARBINARY(16384): their compact JSON text (UTF-8, with
 * JSON escapes) may take 16384 - SECRETBOX_OVERHEAD (29) bytes. */
#define CREDENTIAL_SECRET_MAX_BYTES (16384 - 29)

typedef struct credential_type {
	const char *name;
	/* Checks SECRET (an object) for this type; errors name fields as "secret.<field>". On success *FIELDS is a
	 * new object holding the normalized fields (defaults filled in) and HINT the hint, or "" for none. */
	int (*validate)(const json_t *secret, json_t **fields, char hint[CREDENTIAL_HINT_SIZE], verr *e);
} credential_type;

extern const credential_type CREDENTIAL_TYPES[];
extern const int CREDENTIAL_TYPES_COUNT;

/* The type named NAME, or NULL. */
const credential_type *credential_type_find(const char *name);

/* The hint of secret S (N bytes of UTF-8): its last 4 characters when it has 16 or more, else "". */
void credential_hint(const char *s, size_t n, char hint[CREDENTIAL_HINT_SIZE]);

#endif
