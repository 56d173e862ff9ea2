/* main: agentplatform-scheduler: reads the config, installs the signal handlers and runs the supervisor. */
#include "httpc.h"
#include "log.h"
#include "settings.h"
#include "supervisor.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* Counts SIGTERM/SIGINT: the first stops taking work, a second one stops waiting for running runs. */
static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	if (stopping < 100)
		stopping = stopping + 1;
}

/* Only there so that a child's exit interrupts the supervisor's sleep. */
static void on_child(int sig)
{
	(void)sig;
}

int main(int argc, char **argv)
{
	char err[512];
	const char *path = settings_take_config_arg(&argc, argv);
	if (argc > 1) {
		int help = strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
		fprintf(help ? stdout : stderr,
			"usage: agentplatform-scheduler [--config FILE]\n"
			"Runs in the foreground until SIGTERM or SIGINT: run workers, cron tick, recovery sweep.\n");
		return help ? 0 : 2;
	}
	settings *cfg = settings_new(path, err, sizeof err);
	if (!cfg) {
		fprintf(stderr, "agentplatform-scheduler: %s\n", err);
		return 2;
	}
	if (log_open("scheduler", cfg->log_level, cfg->log_file) != 0) {
		fprintf(stderr, "agentplatform-scheduler: setting log_file: cannot open %s\n", cfg->log_file);
		settings_free(cfg);
		return 2;
	}
	if (httpc_global_init() != 0) {
		fprintf(stderr, "agentplatform-scheduler: libcurl could not be initialized\n");
		settings_free(cfg);
		return 2;
	}
	struct sigaction sa = {0};
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_child;
	sa.sa_flags = SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	int status = supervisor_run(cfg, &stopping);
	log_close();
	settings_free(cfg);
	return status;
}
