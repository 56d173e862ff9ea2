/* agenttype: the registry of agent types the scheduler can run, each with its config validator. */
#ifndef AP_AGENTTYPE_H
#define AP_AGENTTYPE_H

#include "validate.h"

#include <jansson.h>

typedef struct agenttype {
	const char *name;
	const char *summary;
	/* Checks CONFIG (an object) for this type; errors name fields as "config.<field>". */
	int (*validate)(const json_t *config, verr *e);
} agenttype;

extern const agenttype AGENTTYPES[];
extern const int AGENTTYPES_COUNT;

/* The type named NAME, or NULL. */
const agenttype *agenttype_find(const char *name);

#endif
