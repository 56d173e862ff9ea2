/* smtp: email addresses, the RFC 5322 message composer and the libcurl SMTP sender (through the URL guard). */
#include "smtp.h"

#include "crypto.h"
#include "log.h"
#include "sbuf.h"
#include "urlguard.h"
#include "util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define SMTP_MAX_CONNECT_MS 10000L
#define SMTP_QP_LINE 76      /* RFC 2045 6.7 rule 5: encoded lines at most 76 characters */
#define SMTP_EW_BYTES 45     /* UTF-8 bytes per encoded-word: 60 base64 characters, 75 with "=?UTF-8?B?" "?=" */
#define SMTP_FOLD 78         /* RFC 5322 2.1.1: lines SHOULD be at most 78 characters */

static int smtp_fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -1;
}

/* RFC 5322 3.2.3 atext */
static int smtp_atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static int smtp_ldh(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

int smtp_address_valid(const char *s)
{
	if (!s)
		return 0;
	size_t n = strnlen(s, SMTP_MAX_ADDRESS + 1);
	const char *at = memchr(s, '@', n);
	if (n > SMTP_MAX_ADDRESS || !at)
		return 0;
	size_t local = (size_t)(at - s);
	if (local == 0 || local > SMTP_MAX_LOCAL || s[0] == '.' || s[local - 1] == '.')
		return 0;
	for (size_t i = 0; i < local; i++)
		if (!(smtp_atext(s[i]) || (s[i] == '.' && s[i + 1] != '.')))
			return 0;
	const char *d = at + 1;
	size_t dn = n - local - 1, label = 0, labels = 0;
	if (dn == 0 || dn > 253)
		return 0;
	for (size_t i = 0; i <= dn; i++) {
		if (i == dn || d[i] == '.') {
			if (label == 0 || label > 63 || d[i - 1] == '-' || d[i - label] == '-')
				return 0;
			labels++;
			label = 0;
		} else if (smtp_ldh(d[i]))
			label++;
		else
			return 0;
	}
	return labels >= 2;
}

int smtp_host_valid(const char *host)
{
	size_t hn = host ? strnlen(host, 254) : 0;
	if (hn == 0 || hn > 253)
		return 0;
	/* a host name, an IPv4 address, or an IPv6 address with or without its URL brackets */
	char bare[254];
	int bracketed = hn > 2 && host[0] == '[' && host[hn - 1] == ']';
	memcpy(bare, host + bracketed, hn - 2 * (size_t)bracketed);
	bare[hn - 2 * (size_t)bracketed] = '\0';
	unsigned char bin[16];
	if (inet_pton(AF_INET6, bare, bin) == 1)
		return 1;
	return !bracketed && strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == hn;
}

static int smtp_check_to(const json_t *to, const char *param, verr *e)
{
	if (!to)
		return verr_set(e, VERR_MISSING, param, "%s is required", param);
	if (json_is_string(to)) {
		if (!smtp_address_valid(json_string_value(to)) || strlen(json_string_value(to)) != json_string_length(to))
			return verr_set(e, VERR_INVALID, param, "%s is not a valid email address", param);
		return 0;
	}
	if (!json_is_array(to) || json_array_size(to) == 0 || json_array_size(to) > SMTP_MAX_RCPT)
		return verr_set(e, VERR_INVALID, param,
				"%s must be an email address or an array of 1 to %d distinct email addresses", param,
				SMTP_MAX_RCPT);
	for (size_t i = 0; i < json_array_size(to); i++) {
		const json_t *v = json_array_get(to, i);
		if (!json_is_string(v) || !smtp_address_valid(json_string_value(v)) ||
		    strlen(json_string_value(v)) != json_string_length(v))
			return verr_set(e, VERR_INVALID, param, "%s[%zu] is not a valid email address", param, i);
		for (size_t j = 0; j < i; j++)
			if (strcasecmp(json_string_value(v), json_string_value(json_array_get(to, j))) == 0)
				return verr_set(e, VERR_INVALID, param, "%s[%zu] repeats an address", param, i);
	}
	return 0;
}

int smtp_check_fields(const json_t *to, const json_t *subject, const json_t *body, const char *prefix, verr *e)
{
	char p[64];
	snprintf(p, sizeof p, "%s%sto", prefix, *prefix ? "." : "");
	if (smtp_check_to(to, p, e) != 0)
		return -1;
	snprintf(p, sizeof p, "%s%ssubject", prefix, *prefix ? "." : "");
	if (!subject)
		return verr_set(e, VERR_MISSING, p, "%s is required", p);
	if (validate_string(subject, p, 1, SMTP_MAX_SUBJECT, e) != 0)
		return -1;
	if (!validate_header_safe(json_string_value(subject), json_string_length(subject)))
		return verr_set(e, VERR_INVALID, p, "%s must not contain CR, LF or NUL", p);
	snprintf(p, sizeof p, "%s%sbody", prefix, *prefix ? "." : "");
	if (!body)
		return verr_set(e, VERR_MISSING, p, "%s is required", p);
	if (!json_is_string(body) || json_string_length(body) > SMTP_MAX_BODY)
		return verr_set(e, VERR_INVALID, p, "%s must be a string of at most %d bytes", p, SMTP_MAX_BODY);
	if (util_utf8_length(json_string_value(body), json_string_length(body)) < 0)
		return verr_set(e, VERR_INVALID, p, "%s must be valid UTF-8 without NUL characters", p);
	return 0;
}

int smtp_recipients(arena *a, const json_t *to, const char ***out)
{
	size_t n = json_is_string(to) ? 1 : json_is_array(to) ? json_array_size(to) : 0;
	if (n == 0 || n > SMTP_MAX_RCPT)
		return -1;
	const char **list = arena_alloc(a, (n + 1) * sizeof *list);
	for (size_t i = 0; i < n; i++) {
		list[i] = json_string_value(json_is_string(to) ? to : json_array_get(to, i));
		if (!smtp_address_valid(list[i]))
			return -1;
	}
	*out = list;
	return (int)n;
}

char *smtp_summary(arena *a, const char *subject, const char *const *to)
{
	sbuf b;
	size_t n = strlen(subject), cut = 0;
	long chars = 0;
	sbuf_init(&b, a, 256);
	while (cut < n && chars < 120) {
		cut++;
		while (cut < n && ((unsigned char)subject[cut] & 0xC0) == 0x80)
			cut++;
		chars++;
	}
	sbuf_cstr(&b, "Send email \"");
	sbuf_raw(&b, subject, cut);
	sbuf_cstr(&b, cut < n ? "…\" to " : "\" to ");
	/* the addresses are ASCII: what is left of the limit in bytes is a bound in code points */
	long used = util_utf8_length(b.buf, b.len);
	int count = 0;
	while (to[count])
		count++;
	for (int i = 0; i < count; i++) {
		size_t w = strlen(to[i]) + (i ? 2 : 0);
		int rest = count - i - 1;
		/* keep room for " and N more" unless this is the last address */
		if (used + (long)w + (rest ? 16 : 0) > SMTP_MAX_SUMMARY) {
			sbuf_cstr(&b, arena_printf(a, "%sand %d more", i ? " " : "", count - i));
			break;
		}
		if (i)
			sbuf_cstr(&b, ", ");
		sbuf_cstr(&b, to[i]);
		used += (long)w;
	}
	return b.buf;
}

/* The Subject header: as is when it is printable ASCII without "=?", else RFC 2047 B encoded-words of
 * whole UTF-8 characters (a word never splits one, RFC 2047 section 5), folded between words. */
static void smtp_subject(sbuf *b, const char *s)
{
	size_t n = strlen(s);
	int plain = strstr(s, "=?") == NULL;
	for (size_t i = 0; i < n && plain; i++)
		plain = (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f;
	sbuf_cstr(b, "Subject: ");
	if (plain) {
		sbuf_raw(b, s, n);
		sbuf_cstr(b, "\r\n");
		return;
	}
	for (size_t i = 0; i < n;) {
		size_t take = 0;
		while (i + take < n) {
			size_t c = 1;
			while (i + take + c < n && ((unsigned char)s[i + take + c] & 0xC0) == 0x80)
				c++;
			if (take + c > SMTP_EW_BYTES)
				break;
			take += c;
		}
		if (take == 0) /* a run of continuation bytes longer than a word: not UTF-8, cut anyway */
			take = n - i < SMTP_EW_BYTES ? n - i : SMTP_EW_BYTES;
		char enc[4 * ((SMTP_EW_BYTES + 2) / 3) + 1];
		crypto_b64_encode((const unsigned char *)s + i, take, enc);
		if (i)
			sbuf_cstr(b, "\r\n ");
		sbuf_cstr(b, "=?UTF-8?B?");
		sbuf_cstr(b, enc);
		sbuf_cstr(b, "?=");
		i += take;
	}
	sbuf_cstr(b, "\r\n");
}

/* RFC 2045 6.7 quoted-printable of text: LF, CRLF and CR become hard CRLF breaks; soft breaks keep lines
 * at most 76 characters; '=', controls and non-ASCII bytes, whitespace before a break, and a '.' at the
 * start of a line (so SMTP dot-stuffing never applies) are encoded. */
static void smtp_qp(sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t col = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n') {
			if (c == '\r' && i + 1 < n && s[i + 1] == '\n')
				i++;
			sbuf_cstr(b, "\r\n");
			col = 0;
			continue;
		}
		int last = i + 1 == n || s[i + 1] == '\r' || s[i + 1] == '\n';
		for (int pass = 0; pass < 2; pass++) {
			int literal = (c >= 33 && c <= 126 && c != '=' && !(c == '.' && col == 0)) ||
				      ((c == ' ' || c == '\t') && !last);
			size_t w = literal ? 1 : 3;
			/* the token plus a soft break's '=' must fit; the last token of a line may use column 76 */
			if (col + w > (last ? SMTP_QP_LINE : SMTP_QP_LINE - 1) && pass == 0) {
				sbuf_cstr(b, "=\r\n");
				col = 0;
				continue;
			}
			if (literal)
				sbuf_raw(b, (const char *)&c, 1);
			else {
				char t[3] = {'=', hex[c >> 4], hex[c & 15]};
				sbuf_raw(b, t, 3);
			}
			col += w;
			break;
		}
	}
	if (col)
		sbuf_cstr(b, "\r\n");
}

/* RFC 5322 3.3 date-time in UTC with English names whatever the locale. */
static void smtp_date(sbuf *b, time_t t)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	char out[64];
	gmtime_r(&t, &tm);
	snprintf(out, sizeof out, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	sbuf_cstr(b, out);
}

/* A msg-id (RFC 5322 3.6.4): "<" dot-atom "@" dot-atom ">" of printable ASCII, at most 250 bytes. */
static int smtp_message_id_valid(const char *id)
{
	size_t n = strnlen(id, 251);
	if (n < 5 || n > 250 || id[0] != '<' || id[n - 1] != '>')
		return 0;
	const char *at = memchr(id, '@', n);
	if (!at || at == id + 1 || at == id + n - 2 || memchr(at + 1, '@', (size_t)(id + n - at - 1)))
		return 0;
	for (size_t i = 1; i + 1 < n; i++)
		if (!(smtp_atext(id[i]) || id[i] == '.' || id[i] == '@'))
			return 0;
	return 1;
}

char *smtp_compose(arena *a, const smtp_message *m, size_t *len, const char **message_id, char *err,
		   size_t errlen)
{
	int nto = 0;
	if (!m->from || !smtp_address_valid(m->from)) {
		smtp_fail(err, errlen, "the sender address is not a valid email address");
		return NULL;
	}
	for (; m->to && m->to[nto]; nto++)
		if (nto == SMTP_MAX_RCPT || !smtp_address_valid(m->to[nto])) {
			smtp_fail(err, errlen, nto == SMTP_MAX_RCPT ? "too many recipients" : "a recipient address is not valid");
			return NULL;
		}
	if (nto == 0) {
		smtp_fail(err, errlen, "the message has no recipient");
		return NULL;
	}
	size_t sn = m->subject ? strlen(m->subject) : 0;
	long chars = m->subject ? util_utf8_length(m->subject, sn) : -1;
	if (chars < 1 || chars > SMTP_MAX_SUBJECT || !validate_header_safe(m->subject, sn)) {
		smtp_fail(err, errlen, "the subject must be 1 to 255 characters without CR, LF or NUL");
		return NULL;
	}
	if ((!m->body && m->body_len) || m->body_len > SMTP_MAX_BODY ||
	    (m->body_len && util_utf8_length(m->body, m->body_len) < 0)) {
		smtp_fail(err, errlen, "the body must be at most 65536 bytes of UTF-8 without NUL");
		return NULL;
	}

	const char *id = m->message_id;
	if (id && !smtp_message_id_valid(id)) {
		smtp_fail(err, errlen, "the Message-ID is not valid");
		return NULL;
	}
	if (!id) {
		unsigned char r[16];
		char hex[33];
		crypto_random(r, sizeof r);
		crypto_hex(r, sizeof r, hex);
		id = arena_printf(a, "<%s.%lld@%s>", hex, (long long)m->date, strchr(m->from, '@') + 1);
	}

	sbuf b;
	sbuf_init(&b, a, 1024 + m->body_len * 3 + m->body_len / 20);
	sbuf_cstr(&b, "From: ");
	sbuf_cstr(&b, m->from);
	sbuf_cstr(&b, "\r\nTo: ");
	size_t col = 4;
	for (int i = 0; i < nto; i++) {
		size_t w = strlen(m->to[i]);
		if (i) {
			sbuf_raw(&b, ",", 1);
			if (col + 2 + w > SMTP_FOLD) {
				sbuf_cstr(&b, "\r\n");
				col = 0;
			}
			sbuf_raw(&b, " ", 1);
			col += 2;
		}
		sbuf_cstr(&b, m->to[i]);
		col += w;
	}
	sbuf_cstr(&b, "\r\n");
	smtp_subject(&b, m->subject);
	smtp_date(&b, m->date);
	sbuf_cstr(&b, "Message-ID: ");
	sbuf_cstr(&b, id);
	sbuf_cstr(&b, "\r\nMIME-Version: 1.0\r\n"
		      "Content-Type: text/plain; charset=utf-8\r\n"
		      "Content-Transfer-Encoding: quoted-printable\r\n"
		      "Auto-Submitted: auto-generated\r\n"
		      "\r\n");
	smtp_qp(&b, m->body ? m->body : "", m->body_len);
	*len = b.len;
	if (message_id)
		*message_id = id;
	return b.buf;
}

/* What the callbacks share with smtp_send during one session. */
struct smtp_xfer {
	const char *data;
	size_t len, off;
	urlguard_socket sock; /* the connect-time address check */
};

static size_t smtp_read(char *buf, size_t size, size_t nmemb, void *userp)
{
	struct smtp_xfer *x = userp;
	size_t n = size * nmemb;
	if (n > x->len - x->off)
		n = x->len - x->off;
	memcpy(buf, x->data + x->off, n);
	x->off += n;
	return n;
}

/* A readable reason for a failed session; CODE is the server's last reply code (0 when none). */
static void smtp_reason(CURLcode rc, long code, char *err, size_t errlen)
{
	switch (rc) {
	case CURLE_LOGIN_DENIED:
		snprintf(err, errlen, "the SMTP server refused the login (check the credential's username and password)");
		return;
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(err, errlen, "the SMTP server did not answer in time");
		return;
	case CURLE_COULDNT_RESOLVE_HOST:
		snprintf(err, errlen, "could not resolve the SMTP host");
		return;
	case CURLE_COULDNT_CONNECT:
		snprintf(err, errlen, "could not connect to the SMTP server");
		return;
	case CURLE_USE_SSL_FAILED:
		snprintf(err, errlen, "the SMTP server does not offer STARTTLS");
		return;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
		snprintf(err, errlen, "the TLS handshake with the SMTP server failed");
		return;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_GOT_NOTHING:
		snprintf(err, errlen, "the SMTP server gave an unexpected answer");
		return;
	default:
		break;
	}
	if (code >= 400 && code < 600)
		snprintf(err, errlen, "the SMTP server refused the message (reply %ld)", code);
	else
		snprintf(err, errlen, "sending the email failed");
}

int smtp_send(arena *a, const smtp_server *srv, const smtp_message *m, const char **message_id, char *err,
	      size_t errlen)
{
	static const char *const schemes[] = {"smtp", "smtps", NULL};
	struct curl_slist *rcpt = NULL, *pin = NULL;
	struct smtp_xfer x;
	urlguard_target t;
	size_t len;
	int implicit, rc = -1;

	memset(&x, 0, sizeof x);
	if (!srv->tls || !(strcmp(srv->tls, "starttls") == 0 || strcmp(srv->tls, "implicit") == 0 ||
			   strcmp(srv->tls, "none") == 0))
		return smtp_fail(err, errlen, "the SMTP TLS mode must be starttls, implicit or none");
	implicit = strcmp(srv->tls, "implicit") == 0;
	if (!smtp_host_valid(srv->host) || srv->port < 1 || srv->port > 65535)
		return smtp_fail(err, errlen, "the SMTP host or port is not valid");
	const char *host = srv->host;
	size_t hn = strlen(host);
	if (hn > 2 && host[0] == '[' && host[hn - 1] == ']')
		host = arena_strndup(a, host + 1, hn - 2);
	unsigned char bin[16];
	int v6 = inet_pton(AF_INET6, host, bin) == 1;
	if (srv->username && *srv->username &&
	    (!validate_header_safe(srv->username, strlen(srv->username)) || !srv->password ||
	     !validate_header_safe(srv->password, strlen(srv->password))))
		return smtp_fail(err, errlen, "the SMTP username or password contains CR, LF or NUL");

	const char *url = arena_printf(a, v6 ? "%s://[%s]:%d" : "%s://%s:%d",
				       implicit ? "smtps" : "smtp", host, srv->port);
	char gerr[160];
	if (urlguard_check(url, schemes, srv->allow_private, &t, gerr, sizeof gerr) != 0) {
		snprintf(err, errlen, "the SMTP server is not allowed: %s", gerr);
		return -1;
	}
	const char *id = NULL;
	const char *text = smtp_compose(a, m, &len, &id, err, errlen);
	if (!text)
		return -1;
	x.data = text;
	x.len = len;
	x.sock.allow_private = srv->allow_private;

	for (const char *const *to = m->to; *to; to++)
		if (!(rcpt = curl_slist_append(rcpt, arena_printf(a, "<%s>", *to))))
			abort();
	if (t.resolve_entry[0] && !(pin = curl_slist_append(NULL, t.resolve_entry)))
		abort();
	long timeout = srv->timeout_ms > 0 ? srv->timeout_ms : SMTP_DEFAULT_TIMEOUT_MS;

	CURL *c = curl_easy_init();
	if (!c)
		abort();
	char curlerr[CURL_ERROR_SIZE] = "";
	CURLcode cr = CURLE_OK;
#define SMTP_SET(opt, val) \
	do { \
		if (cr == CURLE_OK) \
			cr = curl_easy_setopt(c, opt, val); \
	} while (0)
	SMTP_SET(CURLOPT_ERRORBUFFER, curlerr);
	SMTP_SET(CURLOPT_URL, url);
	SMTP_SET(CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	SMTP_SET(CURLOPT_PROXY, "");
	SMTP_SET(CURLOPT_NOPROXY, "*");
	SMTP_SET(CURLOPT_NOSIGNAL, 1L);
	SMTP_SET(CURLOPT_TIMEOUT_MS, timeout);
	SMTP_SET(CURLOPT_CONNECTTIMEOUT_MS, timeout < SMTP_MAX_CONNECT_MS ? timeout : SMTP_MAX_CONNECT_MS);
	/* starttls: STARTTLS is required, never skipped when the server does not offer it */
	SMTP_SET(CURLOPT_USE_SSL, (long)(strcmp(srv->tls, "none") == 0 ? CURLUSESSL_NONE : CURLUSESSL_ALL));
	if (pin)
		SMTP_SET(CURLOPT_RESOLVE, pin);
	SMTP_SET(CURLOPT_OPENSOCKETFUNCTION, urlguard_opensocket);
	SMTP_SET(CURLOPT_OPENSOCKETDATA, &x.sock);
	if (srv->username && *srv->username) {
		SMTP_SET(CURLOPT_USERNAME, srv->username);
		SMTP_SET(CURLOPT_PASSWORD, srv->password);
	}
	SMTP_SET(CURLOPT_MAIL_FROM, arena_printf(a, "<%s>", m->from));
	SMTP_SET(CURLOPT_MAIL_RCPT, rcpt);
	SMTP_SET(CURLOPT_UPLOAD, 1L);
	SMTP_SET(CURLOPT_READFUNCTION, smtp_read);
	SMTP_SET(CURLOPT_READDATA, &x);
	SMTP_SET(CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
#undef SMTP_SET
	if (cr != CURLE_OK) {
		log_error("smtp: libcurl option refused: %s", curl_easy_strerror(cr));
		smtp_fail(err, errlen, "sending the email failed");
		goto done;
	}

	cr = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (cr != CURLE_OK) {
		if (x.sock.refused)
			smtp_fail(err, errlen, "the SMTP server is not allowed: its address is not allowed");
		else
			smtp_reason(cr, code, err, errlen);
		/* libcurl's error text names the command and the host, never the password or the message */
		log_info("smtp: %s port %d: %s (reply %ld)", t.host, t.port, curlerr[0] ? curlerr : curl_easy_strerror(cr),
			 code);
		goto done;
	}
	int nrcpt = 0;
	for (const char *const *to = m->to; *to; to++)
		nrcpt++;
	log_info("smtp: %s port %d accepted a message for %d recipient(s)", t.host, t.port, nrcpt);
	if (message_id)
		*message_id = id;
	rc = 0;
done:
	curl_easy_cleanup(c);
	curl_slist_free_all(rcpt);
	curl_slist_free_all(pin);
	return rc;
}
