/* webhook_url: the policy for outbound webhook endpoint URLs (at create, at update and at every delivery). */
#ifndef AP_WEBHOOK_URL_H
#define AP_WEBHOOK_URL_H

#include "urlguard.h"

#include <stddef.h>

/* Checks URL as a webhook endpoint: https (http too when ALLOW_HTTP, the server setting
 * webhooks_allow_http), then the outbound URL guard (urlguard_check) under ALLOW_PRIVATE (the server
 * setting allow_private_addresses). Webhook URLs are chosen by API clients, so even when private
 * addresses are allowed only loopback (127.0.0.0/8, ::1) is: every resolved address must be public or
 * loopback, never RFC 1918, CGNAT, link-local (cloud metadata at 169.254.169.254), ULA and the other
 * private ranges. Returns 0 with OUT filled (for pinning), or -1 with a client-safe reason in ERR. */
int webhook_url_check(const char *url, int allow_http, int allow_private, urlguard_target *out, char *err,
		      size_t errlen);

#endif
