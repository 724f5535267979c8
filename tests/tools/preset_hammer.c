/*
 * preset_hammer: drives preset saving for the kill test.
 *
 *   preset_hammer save DIR NAME    save NAME forever, alternating contents A and B
 *   preset_hammer once DIR NAME    save content A once
 *   preset_hammer check DIR NAME   load NAME: prints A or B (exit 0); anything
 *                                  else (an error, a mixture) exit 1
 *   preset_hammer serve DIR NAME   the kill test's rounds, one per pair of
 *                                  lines on stdin (see serve())
 *
 * A and B differ in every parameter and every step, so a preset that mixed
 * the two (a torn write) can never pass as either.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/param.h"
#include "ops/preset.h"

static void content(struct engine_state *st, int which)
{
	memset(st, 0, sizeof *st);
	for (int i = 0; i < P_COUNT; i++) {
		const struct param_info *p = &param_table[i];
		double f = which ? 0.75 : 0.25;
		st->value[i] = param_clamp((enum param_id)i, p->min + f * (p->max - p->min));
	}
	st->n_steps = (int)st->value[P_SEQUENCE_LENGTH];
	for (int k = 0; k < ENGINE_MAX_STEPS; k++) {
		st->steps[k].prob = which ? 0.9 : 0.1;
		st->steps[k].degree = (int8_t)(which ? k % 5 : -(k % 5) - 1);
		st->steps[k].velocity = (uint8_t)(which ? 100 : 40);
		st->steps[k].length = which ? 1.5 : 0.25;
		st->steps[k].on = (uint8_t)((k + which) % 2);
	}
}

/* Whether p holds exactly content `which`. */
static int same(const struct preset *p, int which)
{
	struct engine_state st;
	content(&st, which);
	if (p->mask != (1u << P_COUNT) - 1 || p->n_steps != ENGINE_MAX_STEPS)
		return 0;
	for (int i = 0; i < P_COUNT; i++)
		if (p->value[i] != st.value[i])
			return 0;
	for (int k = 0; k < ENGINE_MAX_STEPS; k++) {
		const struct engine_step *a = &p->steps[k], *b = &st.steps[k];
		if (a->prob != b->prob || a->degree != b->degree || a->velocity != b->velocity ||
		    a->length != b->length || a->on != b->on)
			return 0;
	}
	return 1;
}

/* Saves A, B, A, ... forever (once: A once); 1 on an error. */
static int save_loop(const char *dir, const char *name, bool once)
{
	char err[512];
	struct engine_state st;
	for (unsigned long i = 0;; i++) {
		content(&st, (int)(i % 2));
		if (preset_save(dir, name, &st, err, sizeof err) != 0) {
			fprintf(stderr, "preset_hammer: %s\n", err);
			return 1;
		}
		if (once)
			return 0;
	}
}

/* Loads name: "A" or "B" into out, else why not; 0 when it is one of them. */
static int check(const char *dir, const char *name, char *out, size_t n)
{
	struct preset p;
	int rc = preset_load(dir, name, &p, out, n);
	if (rc != PRESET_OK)
		return 1;
	if (same(&p, 0) || same(&p, 1)) {
		snprintf(out, n, "%s", same(&p, 0) ? "A" : "B");
		return 0;
	}
	snprintf(out, n, "%s loaded but is neither content A nor B", name);
	return 1;
}

/*
 * serve: one process answers the kill test line by line, so each of its
 * hundreds of rounds costs a fork rather than two program starts.
 *   save   a child starts saving forever; answers "saving PID" once it has
 *          begun (the test kills PID with SIGKILL)
 *   check  waits for the child to be gone, loads NAME: answers "A", "B" or
 *          "error WHY"
 */
static int serve(const char *dir, const char *name)
{
	char line[64], out[600];
	pid_t child = -1;
	while (fgets(line, sizeof line, stdin)) {
		if (strncmp(line, "save", 4) == 0) {
			fflush(stdout);
			child = fork();
			if (child == 0) {
				printf("saving %ld\n", (long)getpid());
				fflush(stdout);
				_exit(save_loop(dir, name, false));
			}
			if (child < 0) {
				printf("error fork: %s\n", strerror(errno));
				fflush(stdout);
			}
		} else if (strncmp(line, "check", 5) == 0) {
			if (child > 0)
				while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
					;
			child = -1;
			int rc = check(dir, name, out, sizeof out);
			printf("%s%s\n", rc ? "error " : "", out);
			fflush(stdout);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: preset_hammer save|once|check|serve DIR NAME\n");
		return 2;
	}
	const char *mode = argv[1], *dir = argv[2], *name = argv[3];
	char err[600];
	if (strcmp(mode, "check") == 0) {
		int rc = check(dir, name, err, sizeof err);
		fprintf(rc ? stderr : stdout, "%s%s\n", rc ? "preset_hammer: " : "", err);
		return rc;
	}
	if (strcmp(mode, "save") != 0 && strcmp(mode, "once") != 0 && strcmp(mode, "serve") != 0) {
		fprintf(stderr, "preset_hammer: unknown mode `%s`\n", mode);
		return 2;
	}
	if (preset_dir_ensure(dir, err, sizeof err) != 0) {
		fprintf(stderr, "preset_hammer: %s\n", err);
		return 1;
	}
	if (strcmp(mode, "serve") == 0)
		return serve(dir, name);
	if (mode[0] == 's') {
		/* The kill test waits for this line: the saving has begun. */
		printf("saving\n");
		fflush(stdout);
	}
	return save_loop(dir, name, mode[0] == 'o');
}
