/*
 * preset: save and load named presets (parameters and step pattern) as
 * libconfig text in the state directory.
 *
 * Design: preset_format() prints an engine_state as text; preset_save()
 * writes that text next to its destination under a temporary name, fsyncs,
 * renames over DIR/NAME.preset and fsyncs the directory, so the name always
 * refers to a complete file.  The keys are written in the order version,
 * n_steps, steps, params and params is required, so even a file cut exactly
 * between two statements is rejected rather than half applied.
 * preset_load_file() validates everything into a local struct preset before
 * copying it out.  A preset is read only from a regular file of bounded
 * size, opened without following a symbolic link and without blocking
 * (O_NOFOLLOW | O_NONBLOCK, then fstat), so a FIFO, a device or a link out
 * of the folder under a preset's name is an error at once, never a hang.
 * Control threads only (allocates, does file I/O).
 */
#include "ops/preset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "core/param.h"
#include "cfg/config_read.h"

#define STEP_DEGREE_MIN (-128)
#define STEP_DEGREE_MAX 127
#define PRESET_FILE_MAX (256 * 1024)

static const char *const err_names[] = {
    [0] = "success",
    [1] = "invalid preset name (allowed: 1 to 64 of A-Z a-z 0-9 _ -)",
    [2] = "no such preset",
    [3] = "input/output error",
    [4] = "damaged preset file (syntax)",
    [5] = "invalid preset value",
    [6] = "out of memory",
    [7] = "not a regular file",
};

const char *preset_strerror(int err)
{
	int i = -err;
	if (i < 0 || i >= (int)(sizeof err_names / sizeof err_names[0]))
		return "unknown preset error";
	return err_names[i];
}

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int code, char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return code;
}

bool preset_name_ok(const char *name)
{
	size_t n = 0;
	if (!name)
		return false;
	for (; name[n]; n++) {
		char c = name[n];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		          (c >= '0' && c <= '9') || c == '_' || c == '-';
		if (!ok || n >= PRESET_NAME_MAX)
			return false;
	}
	return n > 0;
}

int preset_dir_ensure(const char *dir, char *err, size_t errlen)
{
	char path[4096];
	size_t n = strlen(dir);
	if (n == 0 || n >= sizeof path)
		return fail(PRESET_ERR_IO, err, errlen, "state directory `%s`: bad path", dir);
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		char c = path[i];
		path[i] = '\0';
		if (mkdir(path, 0755) != 0 && errno != EEXIST)
			return fail(PRESET_ERR_IO, err, errlen, "%s: cannot create: %s", path,
			            strerror(errno));
		path[i] = c;
	}
	struct stat sb;
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return fail(PRESET_ERR_IO, err, errlen, "%s: not a directory", dir);
	return PRESET_OK;
}

/* ---- formatting ---- */

/* The shortest %g form that reads back as v, with a '.' whatever the locale. */
static void fmt_double(char *buf, size_t n, double v)
{
	snprintf(buf, n, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, n, "%.17g", v);
	for (char *p = buf; *p; p++)
		if (*p == ',')
			*p = '.';
	/* libconfig reads "3" as an integer; keep floats floats for readers. */
	if (!strpbrk(buf, ".eEn")) {
		size_t l = strlen(buf);
		if (l + 2 < n)
			memcpy(buf + l, ".0", 3);
	}
}

char *preset_format(const struct engine_state *st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	char a[64], b[64];
	int n_steps = st->n_steps < 1                  ? 1
	              : st->n_steps > ENGINE_MAX_STEPS ? ENGINE_MAX_STEPS
	                                               : st->n_steps;
	fprintf(f, "# mystery-engine preset (libconfig syntax), written by preset_save\n");
	fprintf(f, "version = %d;\n", PRESET_VERSION);
	fprintf(f, "n_steps = %d;\n", n_steps);
	fprintf(f, "# every step of the pattern: the first n_steps play\n");
	fprintf(f, "steps = (\n");
	for (int k = 0; k < ENGINE_MAX_STEPS; k++) {
		const struct engine_step *s = &st->steps[k];
		fmt_double(a, sizeof a, s->prob);
		fmt_double(b, sizeof b, s->length);
		fprintf(f, "\t{ prob = %s; degree = %d; velocity = %d; length = %s; on = %s; }%s\n",
		        a, s->degree, s->velocity, b, s->on ? "true" : "false",
		        k + 1 < ENGINE_MAX_STEPS ? "," : "");
	}
	fprintf(f, ");\n");
	fprintf(f, "params = {\n");
	for (int i = 0; i < P_COUNT; i++) {
		double v = st->value[i];
		if (param_table[i].curve == CURVE_STEPPED)
			fprintf(f, "\t%s = %d;\n", param_table[i].name, (int)lrint(v));
		else {
			fmt_double(a, sizeof a, v);
			fprintf(f, "\t%s = %s;\n", param_table[i].name, a);
		}
	}
	fprintf(f, "};\n");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- saving ---- */

/* Removes DIR/.NAME.tmp.PID files whose writer no longer exists. */
static void remove_stale(const char *dir, const char *name)
{
	char prefix[PRESET_NAME_MAX + 8];
	snprintf(prefix, sizeof prefix, ".%s.tmp.", name);
	size_t pl = strlen(prefix);
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, prefix, pl) != 0)
			continue;
		char *end;
		long pid = strtol(de->d_name + pl, &end, 10);
		if (*end || pid <= 0 || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char path[4096];
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) < (int)sizeof path)
			unlink(path);
	}
	closedir(d);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int preset_save(const char *dir, const char *name, const struct engine_state *st, char *err,
                size_t errlen)
{
	if (!preset_name_ok(name))
		return fail(PRESET_ERR_NAME, err, errlen, "preset `%.80s`: %s", name ? name : "",
		            preset_strerror(PRESET_ERR_NAME));
	char file[PRESET_NAME_MAX + 16];
	snprintf(file, sizeof file, "%s%s", name, PRESET_SUFFIX);
	char *text = preset_format(st);
	if (!text)
		return fail(PRESET_ERR_NOMEM, err, errlen, "preset %s: out of memory", name);
	remove_stale(dir, name);
	int rc = preset_write_atomic(dir, name, file, text, err, errlen);
	free(text);
	return rc;
}

int preset_write_atomic(const char *dir, const char *stem, const char *file, const char *text,
                        char *err, size_t errlen)
{
	char tmp[4096], dst[4096];
	if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, stem, (long)getpid()) >=
	        (int)sizeof tmp ||
	    snprintf(dst, sizeof dst, "%s/%s", dir, file) >= (int)sizeof dst)
		return fail(PRESET_ERR_IO, err, errlen, "%s: path too long", dir);

	/* A fresh file of our own: never through a link planted under its name. */
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		int e = errno;
		return fail(PRESET_ERR_IO, err, errlen, "%s: cannot create: %s", tmp, strerror(e));
	}
	const char *what = "write";
	int rc = write_all(fd, text, strlen(text));
	if (rc == 0) {
		what = "fsync";
		rc = fsync(fd);
	}
	int e = errno;
	if (close(fd) != 0 && rc == 0) {
		what = "close";
		rc = -1;
		e = errno;
	}
	if (rc == 0 && rename(tmp, dst) != 0) {
		what = "rename";
		rc = -1;
		e = errno;
	}
	if (rc != 0) {
		unlink(tmp);
		return fail(PRESET_ERR_IO, err, errlen, "%s: %s failed: %s", dst, what,
		            strerror(e));
	}
	/* The rename is durable only once the directory itself is. */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) != 0) {
		e = errno;
		if (dfd >= 0)
			close(dfd);
		return fail(PRESET_ERR_IO, err, errlen, "%s: fsync of the directory failed: %s",
		            dir, strerror(e));
	}
	close(dfd);
	return PRESET_OK;
}

/* ---- loading ---- */

struct ctx {
	const char *file;
	char *err;
	size_t errlen;
	int last_line; /* where a missing key is reported */
};

static int bad(const struct ctx *c, const config_setting_t *s, const char *key, const char *fmt,
               ...) __attribute__((format(printf, 4, 5)));

/* An INVALID error "FILE:LINE: KEY: problem". */
static int bad(const struct ctx *c, const config_setting_t *s, const char *key, const char *fmt,
               ...)
{
	if (c->err && c->errlen) {
		char msg[256];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		unsigned line = s ? config_setting_source_line(s) : 0;
		if (!line)
			line = c->last_line > 0 ? (unsigned)c->last_line : 1;
		snprintf(c->err, c->errlen, "%s:%u: %s: %s", c->file, line, key, msg);
	}
	return PRESET_ERR_INVALID;
}

/* A number in [lo, hi] (integral when integral is set). */
static int get_number(const struct ctx *c, const config_setting_t *s, const char *key, double lo,
                      double hi, bool integral, double *out)
{
	double v;
	bool whole;
	if (!config_read_number(s, &v, &whole) || !isfinite(v))
		return bad(c, s, key, "expected a number, found %s", config_read_type_name(s));
	if (integral && v != floor(v))
		return bad(c, s, key, "%g is not a whole number", v);
	if (v < lo || v > hi)
		return bad(c, s, key, "%g is out of range (allowed: %g..%g)", v, lo, hi);
	*out = v;
	return PRESET_OK;
}

static int load_params(const struct ctx *c, const config_setting_t *g, struct preset *p)
{
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return bad(c, g, "params", "expected a group { name = value; ... }, found %s",
		           config_read_type_name(g));
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		char key[96];
		snprintf(key, sizeof key, "params.%s", name ? name : "?");
		int id = name ? param_find(name) : -1;
		if (id < 0)
			return bad(c, s, key, "unknown parameter");
		const struct param_info *pi = &param_table[id];
		int rc = get_number(c, s, key, pi->min, pi->max, pi->curve == CURVE_STEPPED,
		                    &p->value[id]);
		if (rc)
			return rc;
		p->mask |= 1u << id;
	}
	return PRESET_OK;
}

static const char *const step_keys[] = {"prob", "degree", "velocity", "length", "on"};
#define N_STEP_KEYS (sizeof step_keys / sizeof step_keys[0])

static int load_step(const struct ctx *c, const config_setting_t *g, int k, struct engine_step *st)
{
	char key[64];
	snprintf(key, sizeof key, "steps[%d]", k);
	if (config_setting_type(g) != CONFIG_TYPE_GROUP)
		return bad(c, g, key, "expected a group { prob = ...; ... }, found %s",
		           config_read_type_name(g));
	int n = config_setting_length(g);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const char *name = config_setting_name(s);
		bool known = false;
		for (size_t j = 0; j < N_STEP_KEYS; j++)
			known = known || (name && strcmp(name, step_keys[j]) == 0);
		if (!known) {
			snprintf(key, sizeof key, "steps[%d].%s", k, name ? name : "?");
			return bad(c, s, key,
			           "unknown key (allowed: prob, degree, velocity, "
			           "length, on)");
		}
	}
	double v;
	int rc;
	for (size_t j = 0; j < N_STEP_KEYS; j++) {
		const config_setting_t *s = config_setting_get_member(g, step_keys[j]);
		snprintf(key, sizeof key, "steps[%d].%s", k, step_keys[j]);
		if (!s)
			return bad(c, g, key, "missing");
		switch (j) {
		case 0:
			if ((rc = get_number(c, s, key, 0, 1, false, &v)))
				return rc;
			st->prob = v;
			break;
		case 1:
			if ((rc =
			         get_number(c, s, key, STEP_DEGREE_MIN, STEP_DEGREE_MAX, true, &v)))
				return rc;
			st->degree = (int8_t)v;
			break;
		case 2:
			if ((rc = get_number(c, s, key, 1, 127, true, &v)))
				return rc;
			st->velocity = (uint8_t)v;
			break;
		case 3:
			if ((rc = get_number(c, s, key, 0.05, 4, false, &v)))
				return rc;
			st->length = v;
			break;
		default:
			if (config_setting_type(s) == CONFIG_TYPE_BOOL)
				st->on = config_setting_get_bool(s) ? 1 : 0;
			else if ((rc = get_number(c, s, key, 0, 1, true, &v)))
				return bad(c, s, key, "expected true or false");
			else
				st->on = (uint8_t)v;
			break;
		}
	}
	return PRESET_OK;
}

static int load_steps(const struct ctx *c, const config_setting_t *l, struct preset *p)
{
	int t = config_setting_type(l);
	if (t != CONFIG_TYPE_LIST && !(t == CONFIG_TYPE_ARRAY && config_setting_length(l) == 0))
		return bad(c, l, "steps", "expected a list ( { ... }, ... ), found %s",
		           config_read_type_name(l));
	int n = config_setting_length(l);
	if (n > ENGINE_MAX_STEPS)
		return bad(c, l, "steps", "%d steps (at most %d)", n, ENGINE_MAX_STEPS);
	for (int k = 0; k < n; k++) {
		int rc = load_step(c, config_setting_get_elem(l, (unsigned)k), k, &p->steps[k]);
		if (rc)
			return rc;
	}
	p->n_steps = n;
	return PRESET_OK;
}

static int load_root(const struct ctx *c, const config_t *cfg, struct preset *p)
{
	const config_setting_t *root = config_root_setting(cfg);
	int n = config_setting_length(root);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
		const char *name = config_setting_name(s);
		if (!name || (strcmp(name, "version") && strcmp(name, "n_steps") &&
		              strcmp(name, "steps") && strcmp(name, "params")))
			return bad(c, s, name ? name : "?",
			           "unknown key (allowed: version, n_steps, steps, params)");
	}
	const config_setting_t *ver = config_setting_get_member(root, "version");
	const config_setting_t *ns = config_setting_get_member(root, "n_steps");
	const config_setting_t *steps = config_setting_get_member(root, "steps");
	const config_setting_t *params = config_setting_get_member(root, "params");
	double v;
	int rc;
	if (!ver)
		return bad(c, NULL, "version", "missing (not a preset file?)");
	if ((rc = get_number(c, ver, "version", PRESET_VERSION, PRESET_VERSION, true, &v)))
		return rc;
	if (!params)
		return bad(c, NULL, "params", "missing (the file is incomplete)");
	if ((rc = load_params(c, params, p)))
		return rc;
	if (steps && (rc = load_steps(c, steps, p)))
		return rc;
	if (ns) {
		if ((rc = get_number(c, ns, "n_steps", 1, ENGINE_MAX_STEPS, true, &v)))
			return rc;
		if (!steps || p->n_steps < (int)v)
			return bad(c, ns, "n_steps",
			           "%d steps play but only %d are listed (the file is incomplete)",
			           (int)v, p->n_steps);
		if ((p->mask & 1u << P_SEQUENCE_LENGTH) && p->value[P_SEQUENCE_LENGTH] != v)
			return bad(c, ns, "n_steps", "%d disagrees with params.sequence_length %g",
			           (int)v, p->value[P_SEQUENCE_LENGTH]);
		p->value[P_SEQUENCE_LENGTH] = v;
		p->mask |= 1u << P_SEQUENCE_LENGTH;
	}
	return PRESET_OK;
}

/*
 * Reads a whole regular file (at most PRESET_FILE_MAX bytes) into a
 * NUL-terminated buffer.  Opened with O_NONBLOCK (a FIFO must not wait for a
 * writer) and O_NOFOLLOW (a link is refused), then checked with fstat.
 */
static int slurp(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		if (e == ELOOP)
			return fail(PRESET_ERR_NOT_REGULAR, err, errlen,
			            "%s: a symbolic link: presets are read only from regular files "
			            "in the presets folder",
			            path);
		return fail(e == ENOENT ? PRESET_ERR_NOT_FOUND : PRESET_ERR_IO, err, errlen,
		            "%s: %s", path, e == ENOENT ? "no such preset" : strerror(e));
	}
	struct stat sb;
	if (fstat(fd, &sb) != 0) {
		int e = errno;
		close(fd);
		return fail(PRESET_ERR_IO, err, errlen, "%s: %s", path, strerror(e));
	}
	const char *why = config_read_file_kind(sb.st_mode);
	if (why) {
		close(fd);
		return fail(PRESET_ERR_NOT_REGULAR, err, errlen,
		            "%s: %s, not a regular file: refused", path, why);
	}
	if (sb.st_size > PRESET_FILE_MAX) {
		close(fd);
		return fail(PRESET_ERR_SYNTAX, err, errlen, "%s:1: damaged preset: over %d bytes",
		            path, PRESET_FILE_MAX);
	}
	char *buf = malloc(PRESET_FILE_MAX + 1);
	if (!buf) {
		close(fd);
		return fail(PRESET_ERR_NOMEM, err, errlen, "%s: out of memory", path);
	}
	size_t n = 0;
	int e = 0;
	while (n < PRESET_FILE_MAX + 1) {
		ssize_t r = read(fd, buf + n, PRESET_FILE_MAX + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			e = errno;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (e) {
		free(buf);
		return fail(PRESET_ERR_IO, err, errlen, "%s: cannot be read: %s", path,
		            strerror(e));
	}
	if (n > PRESET_FILE_MAX) { /* it grew while being read */
		free(buf);
		return fail(PRESET_ERR_SYNTAX, err, errlen, "%s:1: damaged preset: over %d bytes",
		            path, PRESET_FILE_MAX);
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return PRESET_OK;
}

static int line_of(const char *text, size_t off)
{
	int line = 1;
	for (size_t i = 0; i < off; i++)
		line += text[i] == '\n';
	return line;
}

int preset_read_file(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	return slurp(path, text, len, err, errlen);
}

int preset_load_file(const char *path, struct preset *out, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int rc = slurp(path, &text, &len, err, errlen);
	if (rc)
		return rc;
	const char *nul = memchr(text, '\0', len);
	if (nul) {
		rc = fail(PRESET_ERR_SYNTAX, err, errlen, "%s:%d: damaged preset: NUL byte", path,
		          line_of(text, (size_t)(nul - text)));
		free(text);
		return rc;
	}
	config_t cfg;
	config_init(&cfg);
	if (config_read_string(&cfg, text) != CONFIG_TRUE) {
		rc = fail(PRESET_ERR_SYNTAX, err, errlen, "%s:%d: damaged preset: %s", path,
		          config_error_line(&cfg),
		          config_error_text(&cfg) ? config_error_text(&cfg) : "syntax error");
	} else {
		struct preset *p = calloc(1, sizeof *p);
		/* Something missing was expected by the end of the file. */
		struct ctx c = {path, err, errlen,
		                line_of(text, len) - (len && text[len - 1] == '\n')};
		if (!p)
			rc = fail(PRESET_ERR_NOMEM, err, errlen, "%s: out of memory", path);
		else if ((rc = load_root(&c, &cfg, p)) == PRESET_OK)
			*out = *p;
		free(p);
	}
	config_destroy(&cfg);
	free(text);
	return rc;
}

int preset_load(const char *dir, const char *name, struct preset *out, char *err, size_t errlen)
{
	if (!preset_name_ok(name))
		return fail(PRESET_ERR_NAME, err, errlen, "preset `%.80s`: %s", name ? name : "",
		            preset_strerror(PRESET_ERR_NAME));
	char path[4096];
	if (snprintf(path, sizeof path, "%s/%s%s", dir, name, PRESET_SUFFIX) >= (int)sizeof path)
		return fail(PRESET_ERR_IO, err, errlen, "%s: path too long", dir);
	return preset_load_file(path, out, err, errlen);
}

size_t preset_commands(const struct preset *p, struct command *out, size_t cap)
{
	size_t n = 0;
	/* The mode first: choosing one applies its profile, the values after it win. */
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < P_COUNT && n < cap; i++)
			if ((p->mask & 1u << i) && (pass == 0) == (i == P_MODE))
				out[n++] = (struct command){.type = CMD_SET_PARAM,
				                            .source = SRC_PRESET,
				                            .param = (uint8_t)i,
				                            .value = p->value[i]};
	for (int k = 0; k < p->n_steps && k < ENGINE_MAX_STEPS && n < cap; k++)
		out[n++] = (struct command){.type = CMD_SET_STEP,
		                            .source = SRC_PRESET,
		                            .step = (int16_t)k,
		                            .step_data = p->steps[k]};
	return n;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(a, b);
}

int preset_list(const char *dir, char (*names)[PRESET_NAME_MAX + 1], int cap)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : PRESET_ERR_IO;
	int n = 0;
	size_t sl = strlen(PRESET_SUFFIX);
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l <= sl || strcmp(de->d_name + l - sl, PRESET_SUFFIX) != 0)
			continue;
		char name[PRESET_NAME_MAX + 1];
		if (l - sl > PRESET_NAME_MAX)
			continue;
		memcpy(name, de->d_name, l - sl);
		name[l - sl] = '\0';
		if (!preset_name_ok(name))
			continue;
		if (n < cap)
			memcpy(names[n], name, l - sl + 1);
		n++;
	}
	closedir(d);
	if (n > 0 && cap > 0)
		qsort(names, (size_t)(n < cap ? n : cap), sizeof names[0], cmp_names);
	return n;
}
