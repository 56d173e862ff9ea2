/* rekey: `agentplatform-admin rotate-master-key` — re-seals every stored secret under the configured master key. */
#include "admin.h"
#include "store_rekey.h"

#include <stdio.h>
#include <string.h>

#define BATCH 100

static const char USAGE[] =
	"usage: agentplatform-admin rotate-master-key [--dry-run]\n"
	"\n"
	"Re-encrypts every secret sealed under a master key (credential secrets, agents' inbound-webhook signing\n"
	"secrets, webhook endpoint signing secrets and their previous secrets, stored Idempotency-Key responses)\n"
	"under the config's current master_key, recording master_key_version with each. It works in transactions\n"
	"of 100 values; interrupted or run again, it continues where it stopped (values already under the current\n"
	"version are left alone). --dry-run only counts what is still to do.\n"
	"\n"
	"The new key is given in the config file, never on the command line. Rotating without downtime:\n"
	"  1. Generate the new key (openssl rand -hex 32). On every host add it as previous_master_key with\n"
	"     previous_master_key_version = current version + 1, and restart: every host can now open both.\n"
	"  2. On every host swap them: master_key = the new key, master_key_version = the new version,\n"
	"     previous_master_key / previous_master_key_version = the old key and version; restart. New secrets\n"
	"     are sealed under the new key; both still open.\n"
	"  3. Run agentplatform-admin rotate-master-key (once, from any host) until it reports nothing left.\n"
	"  4. Remove previous_master_key and previous_master_key_version everywhere and restart; destroy the old key.\n"
	"A value recorded under a version that neither configured key has stops the command (exit 1) and is named;\n"
	"a value not in the sealed format at all (nothing could open it) is reported and left as it is.\n";

int admin_rotate_master_key(admin_ctx *c, int argc, char **argv)
{
	int dry_run = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(USAGE, stdout);
			return EXIT_OK;
		}
		if (strcmp(argv[i], "--dry-run") != 0) {
			fprintf(stderr, "agentplatform-admin: rotate-master-key: unknown argument '%s'\n\n%s", argv[i], USAGE);
			return EXIT_USAGE;
		}
		dry_run = 1;
	}
	long total = 0;
	for (int k = 0; k < REKEY__MAX; k++) {
		long pending = 0, done = 0;
		enum store_result res = store_rekey_pending(c->db, c->a, c->cfg, (enum rekey_kind)k, &pending);
		if (res != STORE_OK)
			return admin_store_failure(res, "rotate-master-key");
		if (!dry_run) {
			rekey_cursor cur = {0};
			long skipped = 0;
			do {
				const char *failed = NULL;
				int n, left;
				res = store_rekey_batch(c->db, c->a, c->cfg, (enum rekey_kind)k, &cur, BATCH, &n, &left, &failed);
				if (res != STORE_OK) {
					if (failed)
						fprintf(stderr,
							"agentplatform-admin: rotate-master-key: %s: %s does not open under the "
							"master key of its recorded version; configure that key as "
							"previous_master_key (with its version) and run again\n",
							REKEY_KIND_NAMES[k], failed);
					else
						admin_store_failure(res, "rotate-master-key");
					printf("%s: %ld re-sealed before the failure\n", REKEY_KIND_NAMES[k], done);
					return res == STORE_UNAVAILABLE ? EXIT_DB_DOWN : EXIT_FAIL;
				}
				done += n;
				skipped += left;
				arena_reset(c->a);
			} while (cur.more);
			printf("%s: %ld re-sealed under key version %d", REKEY_KIND_NAMES[k], done, c->cfg->master_key_version);
			if (skipped)
				printf(" (%ld not in the sealed format, left as they are)", skipped);
			printf("\n");
		} else {
			printf("%s: %ld to re-seal under key version %d\n", REKEY_KIND_NAMES[k], pending,
			       c->cfg->master_key_version);
		}
		total += dry_run ? pending : done;
	}
	if (dry_run)
		fprintf(stderr, "%ld value(s) to re-seal\n", total);
	else
		fprintf(stderr, "%ld value(s) re-sealed; every secret is under key version %d\n", total,
			c->cfg->master_key_version);
	return EXIT_OK;
}
