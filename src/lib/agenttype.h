/* agenttype: the registry of agent types the scheduler can run, each with its config validator. */
#ifndef AP_AGENTTYPE_H
#define AP_AGENTTYPE_H

#include "validate.h"

#include <jansson.h>

/* What a config field names: each must be an object of the agent's own account (DESIGN.md "Cross-account
 * references"), checked by the API at create and update (src/api/refs.c) and again when a run uses it. */
typedef enum { AGENTTYPE_REF_CREDENTIAL, AGENTTYPE_REF_MCP_SERVER, AGENTTYPE_REF_CONNECTION } agenttype_ref_kind;

typedef struct {
	const char *field;           /* the config key, e.g. "credential_id" */
	agenttype_ref_kind kind;
	const char *credential_type; /* AGENTTYPE_REF_CREDENTIAL: the type it must have (e.g. "smtp"), NULL for any */
} agenttype_ref;

typedef struct agenttype {
	const char *name;
	const char *summary;
	/* Checks CONFIG (an object) for this type; errors name fields as "config.<field>". */
	int (*validate)(const json_t *config, verr *e);
	/* The ids its config names, terminated by an entry with FIELD NULL; NULL when it names none. */
	const agenttype_ref *refs;
} agenttype;

extern const agenttype AGENTTYPES[];
extern const int AGENTTYPES_COUNT;

/* The type named NAME, or NULL. */
const agenttype *agenttype_find(const char *name);

#endif
