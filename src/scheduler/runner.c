/* runner: the table of agent-type runners and the helpers they share (messages, output, deadline). */
#include "runner.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A message's content column is TEXT (65535 bytes): leave room for the " …" marker. */
#define RUNNER_CONTENT_MAX 60000

static const struct {
	const char *name;
	runner_fn fn;
	int flags; /* RUNNER_OWN_GATE, RUNNER_APPROVAL_DEFAULT */
} RUNNERS[] = {
	{"calendar_digest", agent_calendar_digest_run, 0},
	{"echo", agent_echo_run, 0},
	{"mcp_tool", agent_mcp_tool_run, 0},
	{"http_request", agent_http_request_run, 0},
	{"send_email", agent_send_email_run, RUNNER_OWN_GATE | RUNNER_APPROVAL_DEFAULT},
	{"weather_check", agent_weather_check_run, 0},
};

runner_fn runner_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof RUNNERS / sizeof RUNNERS[0]; i++)
		if (strcmp(RUNNERS[i].name, name) == 0)
			return RUNNERS[i].fn;
	return NULL;
}

int runner_flags(const char *name)
{
	for (size_t i = 0; name && i < sizeof RUNNERS / sizeof RUNNERS[0]; i++)
		if (strcmp(RUNNERS[i].name, name) == 0)
			return RUNNERS[i].flags;
	return 0;
}

int runner_gate(runner_ctx *ctx, const char *action, const char *summary, const json_t *args)
{
	if (!ctx->require_approval || (ctx->approved_action && strcmp(ctx->approved_action, action) == 0))
		return 1;
	if (!ctx->gate_action) {
		ctx->gate_action = arena_strdup(ctx->a, action);
		ctx->gate_summary = arena_strdup(ctx->a, summary);
		ctx->gate_args = runner_keep(ctx, args ? json_deep_copy(args) : json_object());
		if (!ctx->gate_args)
			abort();
	}
	return 0;
}

int64_t runner_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void runner_init(runner_ctx *ctx, arena *a, const settings *cfg, const run_row *run, const json_t *input,
		 const json_t *config)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->a = a;
	ctx->cfg = cfg;
	ctx->run = run;
	ctx->input = input;
	ctx->config = config;
	ctx->deadline_ms = runner_now_ms() + (int64_t)cfg->run_timeout_seconds * 1000;
	ctx->last = &ctx->messages;
}

long runner_remaining_ms(const runner_ctx *ctx)
{
	int64_t left = ctx->deadline_ms - runner_now_ms();
	return left > 0 ? (long)left : 0;
}

static void json_release(void *p)
{
	json_decref(p);
}

json_t *runner_keep(runner_ctx *ctx, json_t *v)
{
	if (v)
		arena_defer(ctx->a, json_release, v);
	return v;
}

/* Length of the valid UTF-8 sequence at S (N bytes left), or 0 when it is not one (NUL counts as invalid). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t need;
	uint32_t cp;
	if (c == 0)
		return 0;
	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0) {
		need = 1;
		cp = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		need = 2;
		cp = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		need = 3;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (need >= n)
		return 0;
	for (size_t k = 1; k <= need; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[k] & 0x3F);
	}
	if ((need == 1 && cp < 0x80) || (need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) || cp > 0x10FFFF ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return need + 1;
}

json_t *runner_text(const char *s, size_t len)
{
	static const char REPLACEMENT[] = "\xEF\xBF\xBD";
	const unsigned char *p = (const unsigned char *)s;
	/* Worst case every byte becomes 3. */
	char *buf = malloc(len * 3 + 1);
	if (!buf)
		abort();
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		size_t k = utf8_seq(p + i, len - i);
		if (k == 0) {
			memcpy(buf + o, REPLACEMENT, 3);
			o += 3;
			i++;
		} else {
			memcpy(buf + o, p + i, k);
			o += k;
			i += k;
		}
	}
	json_t *v = json_stringn(buf, o);
	free(buf);
	if (!v)
		abort();
	return v;
}

void runner_message_add(runner_ctx *ctx, const char *content, const json_t *data)
{
	runner_message *m = arena_alloc(ctx->a, sizeof *m);
	size_t n = strlen(content);
	if (n > RUNNER_CONTENT_MAX) {
		n = RUNNER_CONTENT_MAX;
		while (n > 0 && ((unsigned char)content[n] & 0xC0) == 0x80)
			n--;
		m->content = arena_printf(ctx->a, "%.*s …", (int)n, content);
	} else {
		m->content = arena_strndup(ctx->a, content, n);
	}
	if (data) {
		char *text = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
		if (!text)
			abort();
		m->data = arena_strdup(ctx->a, text);
		free(text);
	}
	*ctx->last = m;
	ctx->last = &m->next;
	ctx->nmessages++;
}

void runner_set_output(runner_ctx *ctx, json_t *output)
{
	ctx->output = runner_keep(ctx, output);
}

int runner_fail(runner_ctx *ctx, const char *fmt, ...)
{
	if (!ctx->error[0]) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ctx->error, sizeof ctx->error, fmt, ap);
		va_end(ap);
	}
	return -1;
}

const json_t *runner_payload(const runner_ctx *ctx)
{
	const json_t *p = json_is_object(ctx->input) ? json_object_get(ctx->input, "payload") : NULL;
	return p && !json_is_null(p) ? p : NULL;
}
