/* main: agentplatform-scheduler — for now it connects, reports its dependencies and waits for SIGTERM.
 * The runs issue fills it with the cron tick, run workers, sweep and deliveries. */
#include "db.h"
#include "kv.h"
#include "log.h"
#include "settings.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	char err[512];
	const char *path = settings_take_config_arg(&argc, argv);
	if (argc > 1) {
		int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
		fprintf(help ? stdout : stderr, "usage: agentplatform-scheduler [--config FILE]\n"
						"Runs in the foreground until SIGTERM or SIGINT.\n");
		return help ? 0 : 2;
	}
	settings *cfg = settings_new(path, err, sizeof err);
	if (!cfg) {
		fprintf(stderr, "agentplatform-scheduler: %s\n", err);
		return 2;
	}
	if (log_open("scheduler", cfg->log_level, cfg->log_file) != 0) {
		fprintf(stderr, "agentplatform-scheduler: setting log_file: cannot open %s\n", cfg->log_file);
		return 2;
	}
	struct sigaction sa = {0};
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	db *d = db_new(cfg);
	kv *k = kv_new(cfg);
	int was_ok = -1;
	log_info("scheduler started");
	while (!stopping) {
		int ok = db_ping(d) == 0 && kv_ping(k) == 0;
		if (ok != was_ok)
			log_info(ok ? "connected to MariaDB and Redis" : "waiting for MariaDB and Redis");
		was_ok = ok;
		struct timespec ts = {5, 0};
		nanosleep(&ts, NULL); /* interrupted by the signal, which ends the loop */
	}
	log_info("scheduler stopping");
	db_free(d);
	kv_free(k);
	settings_free(cfg);
	return 0;
}
