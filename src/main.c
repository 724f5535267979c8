/*
 * main: the program's checklist: parse the command line, load the
 * configuration, open the log, run the chosen mode.
 *
 * Exit status: 0 success, 1 run-time failure, 2 wrong usage, 78 (EX_CONFIG)
 * configuration error, always before any device is opened.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "app.h"
#include "dev/audio_card.h"
#include "cfg/cli.h"
#include "cfg/config.h"
#include "rt/log.h"
#include "dev/portmidi_list.h"
#include "render/render.h"
#include "rt/rtclock.h"
#include "ui/attach.h"
#include "ui/ctl_cmd.h"

#if defined(__SANITIZE_ADDRESS__)
const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);
/*
 * LeakSanitizer's hook (its name is fixed): libportmidi's Pm_Initialize()
 * keeps the default device names it looks up for the whole process; that is
 * the library's memory, not a leak of ours.
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:libportmidi.so\n";
}

const char *__lsan_default_options(void)
{
	return "print_suppressions=0";
}
#endif

static int print_config_errors(const struct config_errors *errs, enum config_status st)
{
	for (int i = 0; i < errs->n; i++)
		fprintf(stderr, "%s\n", errs->msg[i]);
	fprintf(stderr, "mystery-engine: %s (%d error%s)\n", config_strerror(st), errs->n,
	        errs->n == 1 ? "" : "s");
	return CONFIG_EX_CONFIG;
}

/* A seed nobody chose: the wall clock's nanoseconds mixed with the pid. */
static uint64_t seed_from_time(void)
{
	uint64_t x = (uint64_t)rtclock_real_ns();
	x ^= (uint64_t)getpid() << 32;
	x ^= x >> 33;
	x *= UINT64_C(0xff51afd7ed558ccd);
	x ^= x >> 33;
	return x;
}

static int run(int argc, char **argv, struct cli_options *opts, struct config *cfg)
{
	/* 1. the command line */
	int rc = cli_parse(opts, argc, argv, stderr);
	if (rc)
		return rc;
	if (opts->mode == CLI_HELP) {
		cli_usage(stdout);
		return 0;
	}
	if (opts->mode == CLI_VERSION) {
		printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
		return 0;
	}

	/* 2. the configuration: built-in, file, --set; any error stops here */
	struct config_errors errs = {0};
	enum config_status st =
	    config_load(cfg, opts->config_path, opts->sets, opts->n_sets, &errs);
	if (st != CONFIG_OK) {
		rc = print_config_errors(&errs, st);
		config_errors_free(&errs);
		return rc;
	}
	config_errors_free(&errs);

	/* 3. modes that only print: no log file, no devices */
	if (opts->mode == CLI_CHECK_CONFIG) {
		config_print(cfg, stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (opts->mode == CLI_LIST_MIDI)
		return portmidi_list_inputs(stdout, stderr) < 0 ? 1 : 0;
	if (opts->mode == CLI_LIST_AUDIO)
		return audio_card_list_print(stdout, NULL, cfg->synth.audio_device);

	/* 3b. clients of a running instance, and a second start on a terminal */
	if (opts->mode == CLI_ATTACH)
		return attach_main(cfg, opts);
	if (opts->mode == CLI_CTL)
		return ctl_cmd_main(cfg, opts);
	if (opts->mode == CLI_RUN && attach_if_running(cfg, opts, &rc))
		return rc;

	/* 4. the command line's overrides: -v/-q move the log level */
	int level = cfg->logging.level + opts->verbosity;
	level = log_level_clamp(level);

	/* 5. the log: human lines on stderr, JSON lines as a daemon or to a file */
	bool to_file = cfg->logging.file[0] != '\0';
	struct log_options lo = {
	    .level = (enum log_level)level,
	    .file = to_file ? cfg->logging.file : NULL,
	    .max_size = (long)cfg->logging.max_size,
	    .keep = cfg->logging.keep,
	    .json = opts->daemon,
	    .to_stderr = opts->daemon || !to_file || isatty(STDERR_FILENO),
	};
	int lrc = log_open(&lo);
	if (lrc == LOG_ERR_FILE) {
		/* An unwritable log file must not silence the instrument: play
		 * on with the log on standard error (the journal under systemd). */
		lo.file = NULL;
		lo.to_stderr = true;
		lrc = log_open(&lo);
		if (lrc == 0)
			log_warn("log_file_failed",
			         "cannot write the log file %s: logging to "
			         "standard error only",
			         cfg->logging.file);
		cfg->logging.file[0] = '\0'; /* later reopens do not try it again */
	}
	if (lrc != 0)
		return 1;
	if (!opts->seed_set) {
		opts->seed = seed_from_time();
		opts->seed_set = true;
	}
	log_info("config", "configuration from %s", cfg->source);
	log_info("seed", "seed %llu", (unsigned long long)opts->seed);

	/* 6. the mode */
	if (opts->mode == CLI_RENDER)
		rc = render_main(cfg, opts);
	else
		rc = app_run(cfg, opts);
	log_close();
	return rc;
}

int main(int argc, char **argv)
{
	struct cli_options opts;
	struct config *cfg = calloc(1, sizeof *cfg);
	if (!cfg) {
		fputs("mystery-engine: out of memory\n", stderr);
		return 1;
	}
	int rc = run(argc, argv, &opts, cfg);
	cli_free(&opts);
	free(cfg);
	return rc;
}
