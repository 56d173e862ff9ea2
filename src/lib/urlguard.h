/* urlguard: the one outbound URL guard (scheme, shape, resolved-address policy and pinning) for every outbound call. */
#ifndef AP_URLGUARD_H
#define AP_URLGUARD_H

#include <curl/curl.h>
#include <stddef.h>
#include <sys/socket.h>

#define URLGUARD_MAX_URL 2048
/* At most this many resolved addresses are pinned (all of them are checked). */
#define URLGUARD_MAX_PINNED 8

typedef struct urlguard_target {
	char scheme[8];          /* lowercase: "http", "https", "smtp", "smtps" */
	char host[256];          /* as libcurl parses it: lowercased, IPv4 spellings canonical, IPv6 without brackets */
	int port;                /* explicit or the scheme's default */
	char address[64];        /* the first resolved (and checked) address, numeric, no brackets */
	/* "host:port:addr1,[addr2],..." for CURLOPT_RESOLVE: every pinned address; "" when the host is an
	 * IP literal (nothing to resolve; libcurl 7.88 cannot express an IPv6 literal host there). */
	char resolve_entry[704];
} urlguard_target;

/* Parses URL, allows only a scheme from SCHEMES (lowercase, NULL-terminated; NULL means http and
 * https), resolves the host (getaddrinfo, AF_UNSPEC) and refuses it unless EVERY resolved address
 * passes urlguard_address_allowed under ALLOW_PRIVATE. Also refused: over URLGUARD_MAX_URL bytes,
 * spaces, control or non-ASCII bytes, backslashes, userinfo, no host, percent-encoding or an IPv6
 * zone in the host, port outside 1-65535, and (unless ALLOW_PRIVATE) "localhost" and "*.localhost".
 * Returns 0 with OUT filled, or -1 with a client-safe one-line reason in ERR (never internals). */
int urlguard_check(const char *url, const char *const *schemes, int allow_private, urlguard_target *out, char *err,
		   size_t errlen);

/* 1 if the address SA (AF_INET or AF_INET6) may be contacted under the policy, else 0. Never allowed:
 * unspecified, multicast, broadcast and 240/4. Allowed only with ALLOW_PRIVATE: loopback, RFC 1918,
 * CGNAT, link-local, ULA, site-local, documentation and benchmarking ranges, IPv4-compatible and
 * Teredo. IPv4-mapped, NAT64 (64:ff9b::/96) and 6to4 addresses are judged by their embedded IPv4. Pure. */
int urlguard_address_allowed(const struct sockaddr *sa, int allow_private);

/* The state urlguard_opensocket reads (the policy) and writes (whether it refused an address). */
typedef struct urlguard_socket {
	int allow_private;
	int refused;
} urlguard_socket;

/* A CURLOPT_OPENSOCKETFUNCTION (CLIENTP: a urlguard_socket, set as CURLOPT_OPENSOCKETDATA): defense in depth
 * behind the pinned resolve, the address actually being connected is checked again with
 * urlguard_address_allowed; a refused one sets REFUSED and fails the connection. Sockets are close-on-exec. */
curl_socket_t urlguard_opensocket(void *clientp, curlsocktype purpose, struct curl_sockaddr *addr);

#endif
