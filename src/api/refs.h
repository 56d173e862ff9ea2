/* refs: the ids an agent's config names must be usable objects of the caller's account. */
#ifndef AP_REFS_H
#define AP_REFS_H

#include "agenttype.h"
#include "request.h"

/* 0 when ID is a usable object of REF's kind in the caller's account. Otherwise records the failure, naming
 * PARAM (e.g. "config.credential_id"): absent or another account's -> 404 not_found; revoked, or a credential
 * of another type than REF requires -> 422 parameter_invalid; a store error -> 500/503; and returns -1. */
int refs_check(request *r, const agenttype_ref *ref, const char *id, const char *param);

#endif
