/*
 * supervise: one child process kept alive by one supervisor thread.
 *
 * The thread spawns the child (own process group, stdin /dev/null, stdout
 * and stderr on two pipes, signal mask and dispositions reset), then polls
 * the pipes and a wake-up pipe every 20 ms, splitting output into lines
 * for the callback and checking waitpid(WNOHANG).  When the child dies it
 * removes the leftover file, counts a failure when the run was shorter
 * than stable_ns, and waits: the minimum back-off after a long run, twice
 * as long after each further failure up to the maximum, error_retry once
 * error_after failures were reached.  Stopping writes to the wake-up pipe;
 * the thread sends SIGTERM, SIGKILL after the grace time, and exits.
 * Statistics are guarded by a mutex that only this module's non-real-time
 * threads take.  Any thread may call the API; callbacks run on the
 * supervisor thread.
 */
#include "synth/supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MS INT64_C(1000000)
#define POLL_MS 20

struct line_buf {
	int fd;
	size_t len;
	char buf[SUPERVISE_LINE_MAX];
};

struct supervise {
	struct supervise_spec spec;
	char *name, *prefix, *cleanup;
	char *path; /* argv[0] resolved on PATH */
	char **argv, **envp;
	pthread_t thread;
	pthread_mutex_t lock; /* guards st */
	struct supervise_stats st;
	int wake[2];
	atomic_int stopping;
	atomic_int kicked;
	atomic_int child; /* pid of the running child, 0 when none */
	struct line_buf out, err;
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

const char *supervise_state_name(enum supervise_state st)
{
	switch (st) {
	case SUPERVISE_STARTING:
		return "starting";
	case SUPERVISE_RUNNING:
		return "running";
	case SUPERVISE_BACKOFF:
		return "backoff";
	case SUPERVISE_ERROR:
		return "error";
	case SUPERVISE_STOPPED:
		return "stopped";
	}
	return "?";
}

const char *supervise_strerror(enum supervise_err e)
{
	switch (e) {
	case SUPERVISE_OK:
		return "no error";
	case SUPERVISE_E_ARGS:
		return "no program given, or too many arguments or variables";
	case SUPERVISE_E_NOTFOUND:
		return "program not found on PATH";
	case SUPERVISE_E_NOMEM:
		return "out of memory";
	case SUPERVISE_E_THREAD:
		return "could not start the supervisor thread";
	case SUPERVISE_E_SPAWN:
		return "could not start the program";
	}
	return "unknown error";
}

/* argv[0] as an executable path (searched on PATH without a slash), malloc'd. */
static char *resolve(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0 ? strdup(prog) : NULL;
	const char *p = getenv("PATH");
	if (!p || !*p)
		p = "/usr/local/bin:/usr/bin:/bin";
	while (*p) {
		const char *end = strchr(p, ':');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char *cand = malloc(n + strlen(prog) + 2);
		if (!cand)
			return NULL;
		memcpy(cand, n ? p : ".", n ? n : 1);
		snprintf(cand + (n ? n : 1), strlen(prog) + 2, "/%s", prog);
		if (access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (!end)
			break;
		p = end + 1;
	}
	return NULL;
}

static void free_vec(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static char **copy_argv(const char *const *argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	if (n > SUPERVISE_MAX_ARGS)
		return NULL;
	char **v = calloc(n + 1, sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = strdup(argv[i]))) {
			free_vec(v);
			return NULL;
		}
	return v;
}

static int overridden(const char *entry, const char *const *env)
{
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry);
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], entry, n) == 0 && env[i][n] == '=')
			return 1;
	return 0;
}

/* The process environment with env's variables set (malloc'd vector). */
static char **build_env(const char *const *env)
{
	size_t n = 0, k = 0, ne = 0;
	while (environ && environ[n])
		n++;
	while (env && env[ne])
		ne++;
	char **v = calloc(n + ne + 1, sizeof *v);
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!overridden(environ[i], env) && !(v[k++] = strdup(environ[i])))
			goto fail;
	for (size_t i = 0; i < ne; i++)
		if (!(v[k++] = strdup(env[i])))
			goto fail;
	return v;
fail:
	free_vec(v);
	return NULL;
}

/*
 * In the child after fork(): only async-signal-safe calls.  Sets up the
 * standard streams, a fresh signal state and its own process group, and
 * asks for SIGTERM when the supervisor thread goes away.
 */
static void exec_child(const char *path, char **argv, char **envp, int in_fd, int out_fd,
                       int err_fd, pid_t parent)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != parent)
		_exit(127);
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(127);
	syscall(SYS_close_range, 3U, ~0U, 0U);
	execve(path, argv, envp);
	_exit(127);
}

/* Forks the child with its output on the pipes *out and *err; returns the pid or -1. */
static pid_t spawn(const char *path, char **argv, char **envp, int *out, int *err)
{
	int po[2] = {-1, -1}, pe[2] = {-1, -1};
	int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid_t parent = getpid();
	pid_t pid = -1;

	if (devnull < 0 || pipe2(po, O_CLOEXEC) < 0 || (err && pipe2(pe, O_CLOEXEC) < 0))
		goto done;
	pid = fork();
	if (pid == 0)
		exec_child(path, argv, envp, devnull, po[1], err ? pe[1] : po[1], parent);
	if (pid < 0)
		goto done;
	*out = po[0];
	po[0] = -1;
	if (err) {
		*err = pe[0];
		pe[0] = -1;
	}
	fcntl(*out, F_SETFL, O_NONBLOCK);
	if (err)
		fcntl(*err, F_SETFL, O_NONBLOCK);
done:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	if (devnull >= 0)
		close(devnull);
	return pid;
}

static void emit_line(struct supervise *sv, enum supervise_stream stream, char *line)
{
	int counted = sv->prefix && strncmp(line, sv->prefix, strlen(sv->prefix)) == 0;
	pthread_mutex_lock(&sv->lock);
	sv->st.lines++;
	sv->st.counted += counted;
	pthread_mutex_unlock(&sv->lock);
	if (sv->spec.on_line)
		sv->spec.on_line(sv->spec.ud, stream, line);
}

/* Reads what is available; returns 0 at end of file. */
static int drain(struct supervise *sv, struct line_buf *lb, enum supervise_stream stream)
{
	if (lb->fd < 0)
		return 0;
	for (;;) {
		char chunk[1024];
		ssize_t r = read(lb->fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return 1; /* EAGAIN: nothing more now */
		if (r == 0) {
			if (lb->len) {
				lb->buf[lb->len] = '\0';
				emit_line(sv, stream, lb->buf);
				lb->len = 0;
			}
			close(lb->fd);
			lb->fd = -1;
			return 0;
		}
		for (ssize_t i = 0; i < r; i++) {
			char c = chunk[i];
			if (c == '\n' || lb->len == sizeof lb->buf - 1) {
				lb->buf[lb->len] = '\0';
				emit_line(sv, stream, lb->buf);
				lb->len = 0;
				if (c == '\n')
					continue;
			}
			if (c != '\r')
				lb->buf[lb->len++] = c;
		}
	}
}

static void set_state(struct supervise *sv, enum supervise_state s)
{
	pthread_mutex_lock(&sv->lock);
	sv->st.state = s;
	pthread_mutex_unlock(&sv->lock);
}

/* Sleeps up to ns or until woken; returns nonzero when stopping. */
static int nap(struct supervise *sv, int64_t ns)
{
	int64_t until = mono_ns() + ns;
	while (!atomic_load(&sv->stopping)) {
		int64_t left = until - mono_ns();
		if (left <= 0)
			return 0;
		struct pollfd p = {.fd = sv->wake[0], .events = POLLIN};
		int ms = (int)((left + MS - 1) / MS);
		if (poll(&p, 1, ms) > 0) {
			char b[16];
			while (read(sv->wake[0], b, sizeof b) > 0)
				;
		}
	}
	return 1;
}

/* Waits for pid up to grace_ns while reading its output; returns 1 when reaped. */
static int reap_within(struct supervise *sv, pid_t pid, int64_t grace_ns, int *status)
{
	int64_t until = mono_ns() + grace_ns;
	do {
		if (waitpid(pid, status, WNOHANG) == pid)
			return 1;
		struct pollfd p[2] = {{.fd = sv->out.fd, .events = POLLIN},
		                      {.fd = sv->err.fd, .events = POLLIN}};
		poll(p, 2, 10);
		drain(sv, &sv->out, SUPERVISE_STDOUT);
		drain(sv, &sv->err, SUPERVISE_STDERR);
	} while (mono_ns() < until);
	return 0;
}

/* Signals the child's process group (its helpers too), or the child alone. */
static void signal_group(pid_t pid, int sig)
{
	if (kill(-pid, sig) < 0)
		kill(pid, sig);
}

/* Watches the running child until it dies or we stop; returns its status. */
static int watch(struct supervise *sv, pid_t pid, int64_t started)
{
	int status = 0;
	for (;;) {
		if (atomic_load(&sv->stopping)) {
			signal_group(pid, SIGTERM);
			if (!reap_within(sv, pid, sv->spec.stop_grace_ns, &status)) {
				signal_group(pid, SIGKILL);
				while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
					;
			}
			break;
		}
		struct pollfd p[3] = {{.fd = sv->out.fd, .events = POLLIN},
		                      {.fd = sv->err.fd, .events = POLLIN},
		                      {.fd = sv->wake[0], .events = POLLIN}};
		if (poll(p, 3, POLL_MS) > 0 && (p[2].revents & POLLIN)) {
			char b[16];
			while (read(sv->wake[0], b, sizeof b) > 0)
				;
		}
		drain(sv, &sv->out, SUPERVISE_STDOUT);
		drain(sv, &sv->err, SUPERVISE_STDERR);
		if (waitpid(pid, &status, WNOHANG) == pid) {
			/* Whatever it printed last. */
			drain(sv, &sv->out, SUPERVISE_STDOUT);
			drain(sv, &sv->err, SUPERVISE_STDERR);
			break;
		}
		if (mono_ns() - started >= sv->spec.stable_ns) {
			pthread_mutex_lock(&sv->lock);
			if (sv->st.state != SUPERVISE_RUNNING) {
				sv->st.state = SUPERVISE_RUNNING;
				sv->st.failures = 0;
			}
			pthread_mutex_unlock(&sv->lock);
		}
	}
	atomic_store(&sv->child, 0);
	for (struct line_buf *lb = &sv->out; lb; lb = lb == &sv->out ? &sv->err : NULL) {
		if (lb->fd >= 0) {
			drain(sv, lb, lb == &sv->out ? SUPERVISE_STDOUT : SUPERVISE_STDERR);
			if (lb->fd >= 0)
				close(lb->fd);
		}
		if (lb->len) {
			lb->buf[lb->len] = '\0';
			emit_line(sv, lb == &sv->out ? SUPERVISE_STDOUT : SUPERVISE_STDERR,
			          lb->buf);
		}
		lb->fd = -1;
		lb->len = 0;
	}
	return status;
}

static int64_t backoff_for(const struct supervise_spec *sp, unsigned failures)
{
	int64_t d = sp->backoff_min_ns;
	for (unsigned i = 1; i < failures && d < sp->backoff_max_ns; i++)
		d *= 2;
	return d < sp->backoff_max_ns ? d : sp->backoff_max_ns;
}

/* Looks for the program on PATH again (it may have been installed or
 * removed since); false (stats: missing, error) while it is absent. */
static bool find_program(struct supervise *sv)
{
	char *path = resolve(sv->argv[0]);
	free(sv->path);
	sv->path = path;
	pthread_mutex_lock(&sv->lock);
	sv->st.missing = path == NULL;
	if (!path) {
		sv->st.state = SUPERVISE_ERROR;
		sv->st.next_start_ns = mono_ns() + sv->spec.missing_retry_ns;
	}
	pthread_mutex_unlock(&sv->lock);
	return path != NULL;
}

static void *supervise_thread(void *arg)
{
	struct supervise *sv = arg;
	const struct supervise_spec *sp = &sv->spec;

	while (!atomic_load(&sv->stopping)) {
		int failed = 1;
		int kicked = 0;
		int64_t started = mono_ns();

		if (sp->missing_retry_ns && !find_program(sv)) {
			if (nap(sv, sp->missing_retry_ns))
				break;
			continue;
		}
		set_state(sv, SUPERVISE_STARTING);
		if (!sp->before_start || sp->before_start(sp->ud) == 0) {
			pid_t pid = spawn(sv->path, sv->argv, sv->envp, &sv->out.fd, &sv->err.fd);
			if (pid > 0) {
				pthread_mutex_lock(&sv->lock);
				unsigned no = sv->st.starts++;
				sv->st.restarts = no;
				sv->st.pid = pid;
				pthread_mutex_unlock(&sv->lock);
				atomic_store(&sv->child, pid);
				if (sp->on_start)
					sp->on_start(sp->ud, pid, no);
				int status = watch(sv, pid, started);
				kicked = atomic_exchange(&sv->kicked, 0);
				pthread_mutex_lock(&sv->lock);
				sv->st.pid = 0;
				sv->st.last_status = status;
				pthread_mutex_unlock(&sv->lock);
				if (sv->cleanup)
					unlink(sv->cleanup);
				if (sp->on_exit)
					sp->on_exit(sp->ud, pid, status);
				failed = mono_ns() - started < sp->stable_ns && !kicked;
			}
		}
		if (atomic_load(&sv->stopping))
			break;

		int64_t delay;
		pthread_mutex_lock(&sv->lock);
		sv->st.failures = failed ? sv->st.failures + 1 : 0;
		unsigned f = sv->st.failures;
		if (kicked || f == 0)
			delay = 0; /* asked for, or it had run stably: at once */
		else if ((int)f >= sp->error_after)
			delay = sp->error_retry_ns;
		else
			delay = backoff_for(sp, f);
		sv->st.state = (int)f >= sp->error_after ? SUPERVISE_ERROR : SUPERVISE_BACKOFF;
		sv->st.next_start_ns = mono_ns() + delay;
		pthread_mutex_unlock(&sv->lock);
		if (nap(sv, delay))
			break;
	}
	if (sv->cleanup)
		unlink(sv->cleanup);
	set_state(sv, SUPERVISE_STOPPED);
	return NULL;
}

static void destroy(struct supervise *sv)
{
	free(sv->name);
	free(sv->prefix);
	free(sv->cleanup);
	free(sv->path);
	free_vec(sv->argv);
	free_vec(sv->envp);
	if (sv->wake[0] >= 0)
		close(sv->wake[0]);
	if (sv->wake[1] >= 0)
		close(sv->wake[1]);
	pthread_mutex_destroy(&sv->lock);
	free(sv);
}

static char *dup_or_null(const char *s, int *bad)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*bad = 1;
	return d;
}

struct supervise *supervise_start(const struct supervise_spec *spec, enum supervise_err *err)
{
	enum supervise_err e = SUPERVISE_OK;
	struct supervise *sv = NULL;
	size_t ne = 0;
	int bad = 0;

	while (spec->env && spec->env[ne])
		ne++;
	if (!spec->argv || !spec->argv[0] || !*spec->argv[0] || ne > SUPERVISE_MAX_ENV) {
		e = SUPERVISE_E_ARGS;
		goto out;
	}
	sv = calloc(1, sizeof *sv);
	if (!sv) {
		e = SUPERVISE_E_NOMEM;
		goto out;
	}
	pthread_mutex_init(&sv->lock, NULL);
	sv->wake[0] = sv->wake[1] = -1;
	sv->out.fd = sv->err.fd = -1;
	sv->spec = *spec;
	struct supervise_spec *sp = &sv->spec;
	if (!sp->backoff_min_ns)
		sp->backoff_min_ns = 100 * MS;
	if (!sp->backoff_max_ns)
		sp->backoff_max_ns = 5000 * MS;
	if (sp->backoff_max_ns < sp->backoff_min_ns)
		sp->backoff_max_ns = sp->backoff_min_ns;
	if (!sp->stable_ns)
		sp->stable_ns = 2000 * MS;
	if (!sp->error_after)
		sp->error_after = 5;
	if (!sp->error_retry_ns)
		sp->error_retry_ns = 10000 * MS;
	if (!sp->stop_grace_ns)
		sp->stop_grace_ns = 2000 * MS;
	sv->name = dup_or_null(spec->name ? spec->name : spec->argv[0], &bad);
	sv->prefix = dup_or_null(spec->count_prefix, &bad);
	sv->cleanup = dup_or_null(spec->cleanup_path, &bad);
	sp->name = sv->name;
	sp->count_prefix = sv->prefix;
	sp->cleanup_path = sv->cleanup;
	sp->argv = NULL;
	sp->env = NULL;
	if (bad) {
		e = SUPERVISE_E_NOMEM;
		goto out;
	}
	sv->argv = copy_argv(spec->argv);
	if (!sv->argv) {
		e = SUPERVISE_E_ARGS;
		goto out;
	}
	sv->path = resolve(spec->argv[0]);
	if (!sv->path && !sp->missing_retry_ns) {
		e = SUPERVISE_E_NOTFOUND;
		goto out;
	}
	sv->st.missing = sv->path == NULL;
	sv->envp = build_env(spec->env);
	if (!sv->envp || pipe2(sv->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		e = SUPERVISE_E_NOMEM;
		goto out;
	}
	sv->st.state = SUPERVISE_STARTING;

	/* The supervisor thread takes no signals: they belong to the main thread. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&sv->thread, NULL, supervise_thread, sv);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		e = SUPERVISE_E_THREAD;
		goto out;
	}
out:
	if (err)
		*err = e;
	if (e != SUPERVISE_OK && sv) {
		destroy(sv);
		sv = NULL;
	}
	return sv;
}

static void wake(struct supervise *sv)
{
	char c = 1;
	if (write(sv->wake[1], &c, 1) < 0 && errno != EAGAIN)
		return;
}

void supervise_stop(struct supervise *sv)
{
	if (!sv)
		return;
	atomic_store(&sv->stopping, 1);
	wake(sv);
	pthread_join(sv->thread, NULL);
	destroy(sv);
}

void supervise_restart(struct supervise *sv)
{
	pid_t pid = atomic_load(&sv->child);
	if (pid > 0) {
		atomic_store(&sv->kicked, 1);
		signal_group(pid, SIGKILL);
	}
	wake(sv);
}

void supervise_get_stats(struct supervise *sv, struct supervise_stats *out)
{
	pthread_mutex_lock(&sv->lock);
	*out = sv->st;
	pthread_mutex_unlock(&sv->lock);
}

int supervise_run(const char *const *argv, const char *const *env, char *out, size_t cap,
                  int64_t timeout_ns)
{
	char *path = NULL, **av = NULL, **envp = NULL;
	int fd = -1, status = 0, rc = -1;
	size_t len = 0;
	pid_t pid = -1;

	if (out && cap)
		out[0] = '\0';
	if (!argv || !argv[0] || !(path = resolve(argv[0])) || !(av = copy_argv(argv)) ||
	    !(envp = build_env(env)))
		goto done;
	pid = spawn(path, av, envp, &fd, NULL);
	if (pid < 0)
		goto done;
	int64_t until = mono_ns() + timeout_ns;
	int reaped = 0;
	while (!reaped) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int64_t left = until - mono_ns();
		if (left <= 0)
			break;
		poll(&p, fd >= 0 ? 1 : 0, fd >= 0 ? 10 : 5);
		if (fd >= 0) {
			char chunk[256];
			ssize_t r;
			while ((r = read(fd, chunk, sizeof chunk)) > 0) {
				for (ssize_t i = 0; i < r && out && len + 1 < cap; i++)
					out[len++] = chunk[i];
			}
			if (r == 0) {
				close(fd);
				fd = -1;
			}
		}
		reaped = waitpid(pid, &status, WNOHANG) == pid;
	}
	if (reaped && fd >= 0) {
		char chunk[256];
		ssize_t r;
		while ((r = read(fd, chunk, sizeof chunk)) > 0)
			for (ssize_t i = 0; i < r && out && len + 1 < cap; i++)
				out[len++] = chunk[i];
	}
	if (!reaped) {
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
	} else if (WIFEXITED(status)) {
		rc = WEXITSTATUS(status);
	}
	if (out && cap)
		out[len < cap ? len : cap - 1] = '\0';
done:
	if (fd >= 0)
		close(fd);
	free(path);
	free_vec(av);
	free_vec(envp);
	return rc;
}
