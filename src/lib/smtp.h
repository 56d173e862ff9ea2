/* smtp: email addresses, the RFC 5322 message composer and the libcurl SMTP sender (through the URL guard). */
#ifndef AP_SMTP_H
#define AP_SMTP_H

#include "arena.h"
#include "validate.h"

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#define SMTP_MAX_RCPT 10        /* recipients of one message */
#define SMTP_MAX_ADDRESS 254    /* RFC 5321 4.5.3.1.3: a path holds at most 256 octets with its brackets */
#define SMTP_MAX_LOCAL 64       /* RFC 5321 4.5.3.1.1 */
#define SMTP_MAX_SUBJECT 255    /* code points */
#define SMTP_MAX_BODY 65536     /* bytes of UTF-8 */
#define SMTP_DEFAULT_TIMEOUT_MS 30000L

/* 1 if S (NUL-terminated) is an address we send to or from: an ASCII addr-spec whose local part is a
 * dot-atom (RFC 5322 3.4.1; no quoted strings, no comments) of at most 64 bytes and whose domain is a
 * host name of LDH labels (1-63 bytes, no leading or trailing hyphen, at least two labels, at most
 * 253 bytes; no address literals); at most 254 bytes in all. Else 0. Pure. */
int smtp_address_valid(const char *s);

/* 1 if HOST (NUL-terminated) is an SMTP server address smtp_send accepts: 1..253 bytes, and an IPv6 address
 * with or without its URL brackets, or (unbracketed) letters, digits, '.' and '-' (a host name or an IPv4
 * address). Else 0. Pure. */
int smtp_host_valid(const char *host);

/* Checks the fields of an email as they arrive in JSON (an agent's config, an approval's arguments):
 * TO is one address (a string) or an array of 1..SMTP_MAX_RCPT distinct addresses, SUBJECT a string
 * of 1..SMTP_MAX_SUBJECT code points without CR, LF or NUL, BODY a string of at most SMTP_MAX_BODY
 * bytes of UTF-8 without NUL. NULL means absent (reported as missing). PREFIX ("config", "arguments")
 * builds the param path. Returns 0, or -1 with E set (a readable message that quotes no secret). */
int smtp_check_fields(const json_t *to, const json_t *subject, const json_t *body, const char *prefix, verr *e);

/* The recipients of a TO already checked by smtp_check_fields, as a NULL-terminated array in A
 * (strings borrowed from TO). Returns the count, or -1 if TO is not a valid recipient list. */
int smtp_recipients(arena *a, const json_t *to, const char ***out);

/* The one-line summary of an email for a person deciding an approval, in A: Send email "SUBJECT" to
 * A, B, C (the subject cut at 120 code points with "…", the list cut with "and N more" to stay within
 * SMTP_MAX_SUMMARY code points). TO is NULL-terminated. Never NULL. */
#define SMTP_MAX_SUMMARY 500
char *smtp_summary(arena *a, const char *subject, const char *const *to);

/* One message. Every string is UTF-8; addresses pass smtp_address_valid. */
typedef struct smtp_message {
	const char *from;
	const char *const *to;  /* NULL-terminated, 1..SMTP_MAX_RCPT */
	const char *subject;    /* no CR, LF or NUL */
	const char *body;       /* line breaks LF, CRLF or CR; no NUL */
	size_t body_len;
	time_t date;            /* the Date header (written in UTC) */
	const char *message_id; /* "<left@right>" as the Message-ID header, or NULL: smtp_compose makes one */
} smtp_message;

/* Composes M as RFC 5322 text into A: From, To (folded), Subject (RFC 2047 B encoded-words when it is
 * not plain printable ASCII), Date, Message-ID, MIME-Version, Content-Type text/plain; charset=utf-8,
 * Content-Transfer-Encoding quoted-printable, Auto-Submitted, a blank line, then the quoted-printable
 * body. Every line ends in CRLF and is at most 998 bytes (body lines at most 76); no line starts with
 * '.', so the SMTP dot-stuffing of DATA never changes the text. *LEN gets the length, *MESSAGE_ID the
 * Message-ID used (arena). Returns the text (NUL-terminated), or NULL with a readable reason in ERR
 * when a field is not valid. */
char *smtp_compose(arena *a, const smtp_message *m, size_t *len, const char **message_id, char *err,
		   size_t errlen);

/* Where and how to send: the fields of an smtp credential plus the server-side policy. */
typedef struct smtp_server {
	const char *host;       /* a host name or IP address (no brackets) */
	int port;               /* 1-65535 */
	const char *tls;        /* "starttls" (smtp:// then STARTTLS, required), "implicit" (smtps://) or "none" */
	const char *username;   /* NULL or "": no AUTH */
	const char *password;
	long timeout_ms;        /* the whole session; <= 0: SMTP_DEFAULT_TIMEOUT_MS */
	int allow_private;      /* the server-side setting; never from an agent's config */
} smtp_server;

/* Composes M (smtp_compose) and sends it through SRV with libcurl: the server's address is checked by
 * urlguard_check (schemes smtp and smtps) and pinned, and checked again when the socket opens; no
 * proxies; the certificate is verified for starttls and implicit TLS; MAIL FROM the From address,
 * RCPT TO each recipient (any refused recipient fails the whole send). Returns 0 when the server
 * accepted the message for every recipient, with *MESSAGE_ID (arena) set; or -1 with a client-safe
 * reason in ERR (never the password, the body or libcurl internals). Logs the host and the outcome only. */
int smtp_send(arena *a, const smtp_server *srv, const smtp_message *m, const char **message_id, char *err,
	      size_t errlen);

#endif
