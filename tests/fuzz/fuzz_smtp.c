/* fuzz_smtp: email address and field checks, the summary and the RFC 5322 composer on arbitrary fields; every
 * composed message must keep the wire invariants (CRLF lines of at most 998 bytes, no line starting with '.',
 * an ASCII header block, quoted-printable body lines of at most 76). */
#include "arena.h"
#include "smtp.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The message's wire invariants; aborts when one does not hold. */
static void check_message(const char *text, size_t len)
{
	size_t start = 0, max = 998;
	int in_body = 0;
	if (strlen(text) != len)
		abort();
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\r') {
			if (i + 1 >= len || text[i + 1] != '\n' || i - start > max)
				abort();
			if (i > start && text[start] == '.')
				abort();
			if (!in_body && i == start) {
				in_body = 1;
				max = 76;
			}
			start = i + 2;
			i++;
		} else if (c == '\n' || c == '\0' || c >= 0x80 || (c < 0x20 && c != '\t')) {
			abort(); /* headers and the quoted-printable body are printable ASCII */
		}
	}
	if (start != len || !in_body)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned flags = data[0];
	data++;
	size--;
	/* fields separated by '\n': from, to (several, split by ','), subject, then the body (the rest) */
	char *buf = malloc(size + 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	buf[size] = '\0';
	const char *part[3] = {"", "", ""};
	size_t part_len[3] = {0, 0, 0};
	size_t at = 0;
	for (int i = 0; i < 3; i++) {
		char *nl = memchr(buf + at, '\n', size - at);
		if (!nl)
			break;
		*nl = '\0';
		part[i] = buf + at;
		part_len[i] = (size_t)(nl - (buf + at));
		at = (size_t)(nl - buf) + 1;
	}
	const char *body = buf + at;
	size_t body_len = size - at;

	arena *a = arena_new();
	const char *to[SMTP_MAX_RCPT + 2];
	int nto = 0;
	char *list = arena_strndup(a, part[1], part_len[1]);
	json_t *jto = json_array();
	for (char *s = list, *comma; nto < SMTP_MAX_RCPT + 1; s = comma + 1) {
		comma = strchr(s, ',');
		if (comma)
			*comma = '\0';
		to[nto++] = s;
		json_array_append_new(jto, json_string_nocheck(s));
		if (!comma)
			break;
	}
	to[nto] = NULL;
	(void)smtp_address_valid(part[0]);

	/* the JSON checks, as an agent's config or an approval's arguments arrive */
	json_t *jsubj = json_stringn_nocheck(part[2], part_len[2]);
	json_t *jbody = json_stringn_nocheck(body, body_len);
	json_t *jone = json_string_nocheck(to[0]);
	verr e;
	int fields_ok = smtp_check_fields((flags & 1) ? jto : jone, jsubj, jbody, "config", &e) == 0;
	const char **rcpt;
	if (fields_ok) {
		if (smtp_recipients(a, (flags & 1) ? jto : jone, &rcpt) < 0)
			abort(); /* checked recipients must always convert */
		const char *sum = smtp_summary(a, part[2], rcpt);
		if (!sum || strlen(sum) > SMTP_MAX_SUMMARY * 4)
			abort();
	}

	smtp_message m = {
		.from = part[0],
		.to = to,
		.subject = part[2],
		.body = body,
		.body_len = body_len,
		.date = (time_t)(flags * 86400L * 97),
		.message_id = (flags & 2) ? "<fixed.id@example.com>" : NULL,
	};
	size_t len = 0;
	const char *id = NULL;
	char err[256];
	char *text = smtp_compose(a, &m, &len, &id, err, sizeof err);
	if (text) {
		check_message(text, len);
		if (!id || !strstr(text, id))
			abort();
	} else if (fields_ok && (flags & 1) && nto <= SMTP_MAX_RCPT && smtp_address_valid(part[0]) &&
		   strlen(part[2]) == part_len[2] && strlen(body) == body_len) {
		abort(); /* fields the JSON checks accept must compose */
	}
	json_decref(jto);
	json_decref(jsubj);
	json_decref(jbody);
	json_decref(jone);
	arena_free(a);
	free(buf);
	return 0;
}
