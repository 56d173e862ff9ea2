/* webhook_url: the policy for outbound webhook endpoint URLs. */
#include "webhook_url.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const char *const HTTPS_ONLY[] = {"https", NULL};
static const char *const HTTP_AND_HTTPS[] = {"http", "https", NULL};

/* 1 if numeric address TEXT is public or loopback (127/8, ::1, ::ffff:127.0.0.0/104), else 0. */
static int webhook_url_address_ok(const char *text)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	memset(&sin, 0, sizeof sin);
	memset(&sin6, 0, sizeof sin6);
	if (inet_pton(AF_INET, text, &sin.sin_addr) == 1) {
		sin.sin_family = AF_INET;
		const unsigned char *b = (const unsigned char *)&sin.sin_addr;
		return b[0] == 127 || urlguard_address_allowed((const struct sockaddr *)&sin, 0);
	}
	if (inet_pton(AF_INET6, text, &sin6.sin6_addr) == 1) {
		static const unsigned char loop6[16] = {[15] = 1};
		static const unsigned char mapped[12] = {[10] = 0xff, [11] = 0xff};
		const unsigned char *b = sin6.sin6_addr.s6_addr;
		sin6.sin6_family = AF_INET6;
		if (memcmp(b, loop6, 16) == 0 || (memcmp(b, mapped, 12) == 0 && b[12] == 127))
			return 1;
		return urlguard_address_allowed((const struct sockaddr *)&sin6, 0);
	}
	return 0;
}

int webhook_url_check(const char *url, int allow_http, int allow_private, urlguard_target *out, char *err,
		      size_t errlen)
{
	if (url && !allow_http && strncmp(url, "https://", 8) != 0 && strncmp(url, "HTTPS://", 8) != 0 &&
	    (strncmp(url, "http://", 7) == 0 || strncmp(url, "HTTP://", 7) == 0)) {
		snprintf(err, errlen, "URL must use https");
		return -1;
	}
	if (urlguard_check(url, allow_http ? HTTP_AND_HTTPS : HTTPS_ONLY, allow_private, out, err, errlen) != 0)
		return -1;
	if (!allow_private)
		return 0;
	/* Every pinned address: the one literal, or each entry of "host:port:a1,[a2],..." */
	const char *list = out->address;
	if (out->resolve_entry[0]) {
		const char *c = strchr(out->resolve_entry, ':');
		c = c ? strchr(c + 1, ':') : NULL;
		list = c ? c + 1 : "";
	}
	while (*list) {
		size_t n = strcspn(list, ",");
		char one[INET6_ADDRSTRLEN + 2];
		const char *s = list;
		size_t m = n;
		if (m >= 2 && s[0] == '[' && s[m - 1] == ']') {
			s++;
			m -= 2;
		}
		if (m >= sizeof one)
			m = sizeof one - 1;
		memcpy(one, s, m);
		one[m] = '\0';
		if (!webhook_url_address_ok(one)) {
			memset(out, 0, sizeof *out);
			snprintf(err, errlen, "URL host resolves to an address that is not allowed");
			return -1;
		}
		list += n;
		if (*list == ',')
			list++;
	}
	return 0;
}
