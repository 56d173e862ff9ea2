/* deliveries: the outbox dispatch and the delivery attempts of outbound webhooks (see deliveries.h). */
#include "deliveries.h"
#include "crypto.h"
#include "httpc.h"
#include "ids.h"
#include "log.h"
#include "secretbox.h"
#include "stdwebhook.h"
#include "store_webhook.h"
#include "util.h"
#include "webhook_url.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SCHEDULE_MAX 32
#define SCHEDULE_MAX_SECONDS 604800L

int deliveries_parse_schedule(const char *text, long *delays, int max)
{
	int n = 0;
	const char *p = text;
	if (!p || !*p)
		return -1;
	for (;;) {
		char *end;
		if (*p < '0' || *p > '9' || n >= max)
			return -1;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (errno || v < 1 || v > SCHEDULE_MAX_SECONDS)
			return -1;
		delays[n++] = v;
		if (*end == '\0')
			return n;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
}

long long deliveries_retry_in_ms(const long *delays, int n, int retry)
{
	if (retry < 1 || retry > n)
		return -1;
	long long base = (long long)delays[retry - 1] * 1000;
	unsigned char r[2];
	crypto_random(r, sizeof r);
	/* +-20%: spreads the retries of many deliveries that failed together (a receiver's outage). */
	long long span = base * 40 / 100, off = span ? (long long)((r[0] << 8 | r[1]) % (span + 1)) : 0;
	return base - base * 20 / 100 + off;
}

/* Opens the stored secret STORED ("version:hex") of endpoint ENDPOINT_ID into OUT ("whsec_..."). 0, or -1. */
static int open_secret(const settings *cfg, const char *endpoint_id, const char *stored, char *out, size_t outlen)
{
	long len = secretbox_open_stored(cfg, endpoint_id, stored, out, outlen - 1);
	if (len < 0)
		return -1;
	out[len] = '\0';
	return 0;
}

/* The webhook-signature header: the current secret's signature, then the previous one's while it signs. */
static int sign(const settings *cfg, const webhook_due *x, long long ts, char *out, size_t outlen)
{
	char secret[STDWEBHOOK_SECRET_LEN * 2], sig[STDWEBHOOK_SIGNATURE_LEN], prev[STDWEBHOOK_SIGNATURE_LEN];
	size_t len = strlen(x->payload);
	int rc = open_secret(cfg, x->endpoint_id, x->secret_hex, secret, sizeof secret) == 0 &&
			 stdwebhook_sign(secret, x->event_id, ts, x->payload, len, sig, sizeof sig) == 0
		 ? 0
		 : -1;
	if (rc != 0) {
		explicit_bzero(secret, sizeof secret);
		return -1;
	}
	snprintf(out, outlen, "webhook-signature: %s", sig);
	if (x->previous_hex && open_secret(cfg, x->endpoint_id, x->previous_hex, secret, sizeof secret) == 0 &&
	    stdwebhook_sign(secret, x->event_id, ts, x->payload, len, prev, sizeof prev) == 0) {
		size_t o = strlen(out);
		snprintf(out + o, outlen - o, " %s", prev);
	}
	explicit_bzero(secret, sizeof secret);
	return 0;
}

/* One attempt at delivery X; fills the outcome in RES (strings in A). */
static void attempt(arena *a, const settings *cfg, const webhook_due *x, webhook_attempt *res)
{
	static const char *const HTTPS_ONLY[] = {"https", NULL}, *const HTTP_TOO[] = {"http", "https", NULL};
	res->success = 0;
	res->status_code = -1;
	res->error = NULL;
	res->disable = NULL;
	if (!x->live) {
		res->error = "the endpoint is disabled";
		return;
	}
	/* The webhook URL policy again (only loopback of the private ranges, and only when allowed): the URL was
	 * checked at create, but what its name resolves to may have changed since; httpc pins and checks again. */
	urlguard_target target;
	char why[256] = "";
	if (webhook_url_check(x->url, cfg->webhooks_allow_http, cfg->allow_private_addresses, &target, why,
			      sizeof why) != 0) {
		res->error = arena_printf(a, "the URL was refused: %s", why[0] ? why : "not allowed");
		return;
	}
	long long ts = (long long)time(NULL);
	char id_h[64 + IDS_MAX_LEN], ts_h[64], sig_h[32 + 2 * STDWEBHOOK_SIGNATURE_LEN];
	if (sign(cfg, x, ts, sig_h, sizeof sig_h) != 0) {
		log_error("webhook delivery %s: the endpoint's signing secret cannot be opened (master key changed?)",
			  x->id);
		res->error = "the delivery could not be signed";
		return;
	}
	snprintf(id_h, sizeof id_h, "webhook-id: %s", x->event_id);
	snprintf(ts_h, sizeof ts_h, "webhook-timestamp: %lld", ts);
	const char *headers[] = {"Content-Type: application/json", id_h, ts_h, sig_h, NULL};
	httpc_request req = {.method = "POST",
			     .url = x->url,
			     .schemes = cfg->webhooks_allow_http ? HTTP_TOO : HTTPS_ONLY,
			     .headers = headers,
			     .body = x->payload,
			     .body_len = strlen(x->payload),
			     .timeout_ms = DELIVERIES_TIMEOUT_MS,
			     .max_response_bytes = 64 * 1024,
			     .truncate = 1,
			     .allow_private = cfg->allow_private_addresses};
	httpc_response resp;
	char err[256] = "";
	if (httpc_do(a, &req, &resp, err, sizeof err) != 0) {
		res->error = arena_strdup(a, err[0] ? err : "the request failed");
		return;
	}
	res->status_code = (int)resp.status;
	if (resp.status >= 200 && resp.status < 300) {
		res->success = 1;
		return;
	}
	if (resp.status >= 300 && resp.status < 400)
		res->error = arena_printf(a, "the receiver answered %ld (redirects are not followed)", resp.status);
	else
		res->error = arena_printf(a, "the receiver answered %ld", resp.status);
	if (resp.status == 410)
		res->disable = "the receiver answered 410 Gone";
}

int deliveries_run(db *d, arena *a, const settings *cfg, volatile sig_atomic_t *stop)
{
	long delays[SCHEDULE_MAX];
	int nd = deliveries_parse_schedule(cfg->webhook_retry_schedule, delays, SCHEDULE_MAX);
	if (nd < 0)
		return -1; /* deliveries_main said why, once */
	for (int i = 0; i < DELIVERIES_DISPATCH_MAX_BATCHES; i++) {
		int n = 0;
		if (store_webhook_dispatch(d, a, DELIVERIES_DISPATCH_BATCH, &n) != STORE_OK)
			return -1;
		if (n < DELIVERIES_DISPATCH_BATCH)
			break;
	}
	int done = 0, ngone = 0;
	const char *gone[DELIVERIES_MAX_PER_PASS]; /* endpoints disabled during this pass */
	while (done < DELIVERIES_MAX_PER_PASS && !*stop) {
		webhook_due *rows;
		int n = 0;
		if (store_webhook_due(d, a, DELIVERIES_BATCH, (int)(2 * DELIVERIES_TIMEOUT_MS / 1000), &rows, &n) !=
		    STORE_OK)
			return -1;
		for (int i = 0; i < n; i++) {
			webhook_attempt x = {.disable_after = cfg->webhook_disable_after_failures};
			for (int j = 0; j < ngone; j++)
				if (strcmp(gone[j], rows[i].endpoint_id) == 0)
					rows[i].live = 0; /* claimed before this pass disabled it */
			attempt(a, cfg, &rows[i], &x);
			x.retry_in_ms = x.success || x.disable || !rows[i].live
						? -1
						: deliveries_retry_in_ms(delays, nd, rows[i].attempts + 1);
			int disabled = 0;
			if (store_webhook_attempt_record(d, a, rows[i].id, rows[i].endpoint_id, &x, &disabled) != STORE_OK)
				return -1; /* claimed: attempted again once the claim expires */
			if (disabled && ngone < DELIVERIES_MAX_PER_PASS)
				gone[ngone++] = rows[i].endpoint_id;
			if (disabled)
				log_info("webhook endpoint %s disabled: %s", rows[i].endpoint_id,
					 x.disable ? x.disable : "repeated failed deliveries");
		}
		done += n;
		if (n < DELIVERIES_BATCH)
			break;
	}
	return 0;
}

int deliveries_main(const settings *cfg, volatile sig_atomic_t *stop)
{
	db *d = db_new(cfg);
	arena *a = arena_new();
	int failing = 0;
	long delays[SCHEDULE_MAX];
	int usable = deliveries_parse_schedule(cfg->webhook_retry_schedule, delays, SCHEDULE_MAX) > 0;
	if (usable)
		log_info("webhook deliveries started: every %d s", cfg->webhook_dispatch_seconds);
	else
		log_error("webhook_retry_schedule is not a list of 1 to %d numbers of seconds (e.g. 5,30,120); "
			  "webhooks are not delivered",
			  SCHEDULE_MAX);
	while (!*stop) {
		arena_reset(a);
		int rc = usable ? deliveries_run(d, a, cfg, stop) : 0;
		if (rc != 0 && !failing)
			log_warn("webhook deliveries failed (MariaDB unavailable?); retrying every %d s",
				 cfg->webhook_dispatch_seconds);
		else if (rc == 0 && failing)
			log_info("webhook deliveries work again");
		failing = rc != 0;
		for (int ms = 0; ms < cfg->webhook_dispatch_seconds * 1000 && !*stop; ms += 100) {
			struct timespec ts = {0, 100 * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	arena_free(a);
	db_free(d);
	return 0;
}
