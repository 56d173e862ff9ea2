/* urlguard: the one outbound URL guard (scheme, shape, resolved-address policy and pinning) for every outbound call. */
#include "urlguard.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum urlguard_class { URLGUARD_PUBLIC, URLGUARD_PRIVATE, URLGUARD_NEVER };

/* IPv4 special-purpose ranges (RFC 6890 and the IANA registry) that an outbound call must not reach. */
static const struct {
	uint32_t net;
	int bits;
	enum urlguard_class cls;
} URLGUARD_V4[] = {
	{0x00000000u, 8, URLGUARD_NEVER},    /* 0.0.0.0/8 "this network" (connects to the local host) */
	{0x0A000000u, 8, URLGUARD_PRIVATE},  /* 10/8 */
	{0x64400000u, 10, URLGUARD_PRIVATE}, /* 100.64/10 CGNAT */
	{0x7F000000u, 8, URLGUARD_PRIVATE},  /* 127/8 loopback */
	{0xA9FE0000u, 16, URLGUARD_PRIVATE}, /* 169.254/16 link-local (cloud metadata) */
	{0xAC100000u, 12, URLGUARD_PRIVATE}, /* 172.16/12 */
	{0xC0000000u, 24, URLGUARD_PRIVATE}, /* 192.0.0/24 IETF protocol assignments */
	{0xC0000200u, 24, URLGUARD_PRIVATE}, /* 192.0.2/24 TEST-NET-1 */
	{0xC0A80000u, 16, URLGUARD_PRIVATE}, /* 192.168/16 */
	{0xC6120000u, 15, URLGUARD_PRIVATE}, /* 198.18/15 benchmarking */
	{0xC6336400u, 24, URLGUARD_PRIVATE}, /* 198.51.100/24 TEST-NET-2 */
	{0xCB007100u, 24, URLGUARD_PRIVATE}, /* 203.0.113/24 TEST-NET-3 */
	{0xE0000000u, 4, URLGUARD_NEVER},    /* 224/4 multicast */
	{0xF0000000u, 4, URLGUARD_NEVER},    /* 240/4 reserved, with 255.255.255.255 broadcast */
};

static enum urlguard_class urlguard_v4_class(const unsigned char *b)
{
	uint32_t a = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	for (size_t i = 0; i < sizeof URLGUARD_V4 / sizeof URLGUARD_V4[0]; i++) {
		uint32_t mask = 0xFFFFFFFFu << (32 - URLGUARD_V4[i].bits);
		if ((a & mask) == URLGUARD_V4[i].net)
			return URLGUARD_V4[i].cls;
	}
	return URLGUARD_PUBLIC;
}

static int urlguard_zero(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return 0;
	return 1;
}

static enum urlguard_class urlguard_v6_class(const unsigned char *b)
{
	static const unsigned char nat64[12] = {0x00, 0x64, 0xff, 0x9b};
	static const unsigned char nat64_local[6] = {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01};

	if (urlguard_zero(b, 16))
		return URLGUARD_NEVER; /* :: */
	if (b[0] == 0xff)
		return URLGUARD_NEVER; /* ff00::/8 multicast */
	if (urlguard_zero(b, 10) && b[10] == 0xff && b[11] == 0xff)
		return urlguard_v4_class(b + 12); /* ::ffff:0:0/96 IPv4-mapped */
	if (urlguard_zero(b, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0)
		return urlguard_v4_class(b + 12); /* ::ffff:0:0:0/96 IPv4-translated (SIIT) */
	if (urlguard_zero(b, 12))
		return URLGUARD_PRIVATE; /* ::1 and the deprecated IPv4-compatible ::/96 */
	if (memcmp(b, nat64, sizeof nat64) == 0)
		return urlguard_v4_class(b + 12); /* 64:ff9b::/96 NAT64 */
	if (memcmp(b, nat64_local, sizeof nat64_local) == 0)
		return URLGUARD_PRIVATE; /* 64:ff9b:1::/48 local-use NAT64 */
	if (b[0] == 0x01 && b[1] == 0x00 && urlguard_zero(b + 2, 6))
		return URLGUARD_PRIVATE; /* 100::/64 discard-only */
	if (b[0] == 0x20 && b[1] == 0x02)
		return urlguard_v4_class(b + 2); /* 2002::/16 6to4 */
	if (b[0] == 0x20 && b[1] == 0x01) {
		if (b[2] == 0x0d && b[3] == 0xb8)
			return URLGUARD_PRIVATE; /* 2001:db8::/32 documentation */
		if (b[2] == 0x00 && b[3] == 0x00)
			return URLGUARD_PRIVATE; /* 2001::/32 Teredo */
		if (b[2] == 0x00 && b[3] == 0x02 && b[4] == 0 && b[5] == 0)
			return URLGUARD_PRIVATE; /* 2001:2::/48 benchmarking */
	}
	if ((b[0] & 0xfe) == 0xfc)
		return URLGUARD_PRIVATE; /* fc00::/7 ULA */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return URLGUARD_PRIVATE; /* fe80::/10 link-local */
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return URLGUARD_PRIVATE; /* fec0::/10 deprecated site-local */
	return URLGUARD_PUBLIC;
}

int urlguard_address_allowed(const struct sockaddr *sa, int allow_private)
{
	enum urlguard_class cls;

	if (!sa)
		return 0;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof sin);
		cls = urlguard_v4_class((const unsigned char *)&sin.sin_addr);
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sa, sizeof sin6);
		cls = urlguard_v6_class(sin6.sin6_addr.s6_addr);
	} else
		return 0;
	if (cls == URLGUARD_NEVER)
		return 0;
	return cls == URLGUARD_PUBLIC || allow_private;
}

curl_socket_t urlguard_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr)
{
	urlguard_socket *g = clientp;
	if (purpose != CURLSOCKTYPE_IPCXN || !urlguard_address_allowed(&addr->addr, g->allow_private)) {
		g->refused = 1;
		return CURL_SOCKET_BAD;
	}
	return socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

static int urlguard_fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

static int urlguard_scheme_listed(const char *scheme, const char *const *schemes)
{
	static const char *const web[] = {"http", "https", NULL};
	for (const char *const *s = schemes ? schemes : web; *s; s++)
		if (strcasecmp(scheme, *s) == 0)
			return 1;
	return 0;
}

static void urlguard_lower(char *s)
{
	for (; *s; s++)
		if (*s >= 'A' && *s <= 'Z')
			*s = (char)(*s - 'A' + 'a');
}

/* The raw authority, checked strictly before libcurl sees the URL, so that the two parsers cannot
 * disagree about which host is meant. HOST gets the host (brackets stripped), *PORT the explicit port
 * or 0. */
static int urlguard_authority(const char *auth, size_t n, char *host, size_t hostlen, long *port, char *err,
			      size_t errlen)
{
	const char *p = auth, *end = auth + n, *h, *he;

	if (memchr(auth, '@', n))
		return urlguard_fail(err, errlen, "URL must not contain credentials");
	if (p < end && *p == '[') {
		h = ++p;
		while (p < end && *p != ']') {
			if (!(strchr("0123456789abcdefABCDEF:.", *p)))
				return urlguard_fail(err, errlen, "URL host is not valid");
			p++;
		}
		if (p == end)
			return urlguard_fail(err, errlen, "URL host is not valid");
		he = p++;
	} else {
		h = p;
		while (p < end && *p != ':') {
			char c = *p;
			if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			      c == '.' || c == '_'))
				return urlguard_fail(err, errlen, "URL host is not valid");
			p++;
		}
		he = p;
	}
	if (he == h)
		return urlguard_fail(err, errlen, "URL has no host");
	if ((size_t)(he - h) >= hostlen)
		return urlguard_fail(err, errlen, "URL host is too long");
	memcpy(host, h, (size_t)(he - h));
	host[he - h] = '\0';

	*port = 0;
	if (p < end) {
		if (*p != ':')
			return urlguard_fail(err, errlen, "URL host is not valid");
		p++;
		if (p == end || end - p > 5)
			return urlguard_fail(err, errlen, "URL port must be 1-65535");
		long v = 0;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return urlguard_fail(err, errlen, "URL port must be 1-65535");
			v = v * 10 + (*p - '0');
		}
		if (v < 1 || v > 65535)
			return urlguard_fail(err, errlen, "URL port must be 1-65535");
		*port = v;
	}
	return 0;
}

/* What libcurl will connect to: its scheme, host (lowercased, brackets stripped) and port. */
static int urlguard_curl_parts(const char *url, char *scheme, size_t schemelen, char *host, size_t hostlen,
			       long *port)
{
	CURLU *u = curl_url();
	char *s = NULL, *h = NULL, *p = NULL, *zone = NULL;
	int rc = -1;

	if (!u)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		goto done;
	if (curl_url_get(u, CURLUPART_ZONEID, &zone, 0) == CURLUE_OK)
		goto done;
	if (curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) != CURLUE_OK)
		goto done;
	char *end;
	long v = strtol(p, &end, 10);
	if (*end || v < 1 || v > 65535)
		goto done;
	size_t hl = strlen(h);
	const char *hs = h;
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') {
		hs = h + 1;
		hl -= 2;
	}
	if (strlen(s) >= schemelen || hl == 0 || hl >= hostlen)
		goto done;
	memcpy(scheme, s, strlen(s) + 1);
	memcpy(host, hs, hl);
	host[hl] = '\0';
	urlguard_lower(scheme);
	urlguard_lower(host);
	*port = v;
	rc = 0;
done:
	curl_free(s);
	curl_free(h);
	curl_free(p);
	curl_free(zone);
	curl_url_cleanup(u);
	return rc;
}

static int urlguard_is_localhost(const char *host)
{
	size_t n = strlen(host);
	if (n && host[n - 1] == '.')
		n--;
	if (n == 9 && strncmp(host, "localhost", 9) == 0)
		return 1;
	return n > 10 && strncmp(host + n - 10, ".localhost", 10) == 0;
}

int urlguard_check(const char *url, const char *const *schemes, int allow_private, urlguard_target *out, char *err,
		   size_t errlen)
{
	char scheme[16], rawhost[256], host[256];
	long rawport, port;

	memset(out, 0, sizeof *out);
	if (!url || !*url)
		return urlguard_fail(err, errlen, "URL is required");
	size_t len = strnlen(url, URLGUARD_MAX_URL + 1);
	if (len > URLGUARD_MAX_URL)
		return urlguard_fail(err, errlen, "URL is too long");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return urlguard_fail(err, errlen, "URL contains a character that is not allowed");
	}

	/* scheme "://" authority, nothing looser (libcurl also takes "http:/h" and "http:///h") */
	size_t sl = 0;
	while ((url[sl] >= 'a' && url[sl] <= 'z') || (url[sl] >= 'A' && url[sl] <= 'Z') ||
	       (sl > 0 && ((url[sl] >= '0' && url[sl] <= '9') || url[sl] == '+' || url[sl] == '-' || url[sl] == '.')))
		sl++;
	if (sl == 0 || strncmp(url + sl, "://", 3) != 0)
		return urlguard_fail(err, errlen, "URL must start with a scheme and //");
	if (sl >= sizeof scheme)
		return urlguard_fail(err, errlen, "URL scheme is not allowed");
	memcpy(scheme, url, sl);
	scheme[sl] = '\0';
	urlguard_lower(scheme);
	if (!urlguard_scheme_listed(scheme, schemes) || sl >= sizeof out->scheme)
		return urlguard_fail(err, errlen, "URL scheme is not allowed");

	const char *auth = url + sl + 3;
	size_t an = strcspn(auth, "/?#");
	if (an == 0)
		return urlguard_fail(err, errlen, "URL has no host");
	if (urlguard_authority(auth, an, rawhost, sizeof rawhost, &rawport, err, errlen) != 0)
		return -1;

	char cscheme[16];
	if (urlguard_curl_parts(url, cscheme, sizeof cscheme, host, sizeof host, &port) != 0 ||
	    strcmp(cscheme, scheme) != 0 || (rawport && rawport != port))
		return urlguard_fail(err, errlen, "URL is not valid");

	unsigned char bin[16];
	int literal4 = inet_pton(AF_INET, host, bin) == 1;
	int literal6 = inet_pton(AF_INET6, host, bin) == 1;
	/* libcurl rewrites numeric IPv4 spellings (127.1, 0x7f.0.0.1, 2130706433) to dotted quads; any other
	 * difference between the two parsers means the URL is ambiguous. */
	urlguard_lower(rawhost);
	if (strcmp(rawhost, host) != 0 && !literal4 && !literal6)
		return urlguard_fail(err, errlen, "URL is not valid");
	if (!allow_private && urlguard_is_localhost(host))
		return urlguard_fail(err, errlen, "URL host is not allowed");

	struct addrinfo hints, *res = NULL;
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = (literal4 || literal6) ? AI_NUMERICHOST : 0;
	if (getaddrinfo(host, NULL, &hints, &res) != 0 || !res)
		return urlguard_fail(err, errlen, "could not resolve host");

	char pinned[URLGUARD_MAX_PINNED][INET6_ADDRSTRLEN];
	int npinned = 0, v6[URLGUARD_MAX_PINNED];
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		char num[INET6_ADDRSTRLEN];
		const void *a;
		if (ai->ai_family == AF_INET)
			a = &((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr;
		else if (ai->ai_family == AF_INET6)
			a = &((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr;
		else
			continue;
		if (!urlguard_address_allowed(ai->ai_addr, allow_private)) {
			freeaddrinfo(res);
			return urlguard_fail(err, errlen, "URL host resolves to an address that is not allowed");
		}
		if (!inet_ntop(ai->ai_family, a, num, sizeof num))
			continue;
		int seen = 0;
		for (int i = 0; i < npinned; i++)
			seen |= strcmp(pinned[i], num) == 0;
		if (!seen && npinned < URLGUARD_MAX_PINNED) {
			memcpy(pinned[npinned], num, sizeof num);
			v6[npinned++] = ai->ai_family == AF_INET6;
		}
	}
	freeaddrinfo(res);
	if (npinned == 0)
		return urlguard_fail(err, errlen, "could not resolve host");

	memcpy(out->scheme, scheme, sl + 1);
	memcpy(out->host, host, strlen(host) + 1);
	out->port = (int)port;
	snprintf(out->address, sizeof out->address, "%s", pinned[0]);
	if (!literal4 && !literal6) {
		size_t o = (size_t)snprintf(out->resolve_entry, sizeof out->resolve_entry, "%s:%ld:", host, port);
		for (int i = 0; i < npinned && o < sizeof out->resolve_entry; i++)
			o += (size_t)snprintf(out->resolve_entry + o, sizeof out->resolve_entry - o, v6[i] ? "%s[%s]" : "%s%s",
					      i ? "," : "", pinned[i]);
		if (o >= sizeof out->resolve_entry) {
			memset(out, 0, sizeof *out);
			return urlguard_fail(err, errlen, "URL host is too long");
		}
	}
	return 0;
}
