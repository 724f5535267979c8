/*
 * testlib_config: the built-in configuration for tests, read from the
 * embedded conf/mystery-engine.conf by the program's own loader, so tests
 * play what the program plays with no file (there is no second copy of the
 * defaults to keep equal).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cfg/config.h"
#include "testlib.h"

void testlib_default_config(struct engine_config *out)
{
	static struct config builtin;
	static int loaded;
	if (!loaded) {
		struct config_errors errs = {0};
		if (config_load(&builtin, CONFIG_BUILTIN, NULL, 0, &errs) != CONFIG_OK) {
			for (int i = 0; i < errs.n; i++)
				fprintf(stderr, "%s\n", errs.msg[i]);
			fprintf(stderr, "the built-in configuration does not load\n");
			exit(99);
		}
		config_errors_free(&errs);
		loaded = 1;
	}
	*out = builtin.engine;
}
