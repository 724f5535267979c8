/*
 * Tests of the OSC control surface against a fake instrument over loopback:
 * the allowed-hosts list an operator writes (and the errors naming what is
 * wrong), a fader message becoming exactly one command with the echo
 * reaching the sender, a refused host queueing nothing, and garbage
 * (truncated messages and bundles, lying sizes, wrong types) leaving the
 * surface answering.  tests/cli/gear_osc.sh drives the real binary.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/param.h"
#include "ops/osc_ctl.h"
#include "testlib.h"

struct fake {
	pthread_mutex_t lock;
	struct snapshot snap;
	struct command cmd[64];
	int n_cmd;
};

static struct fake fk = {.lock = PTHREAD_MUTEX_INITIALIZER};

static bool fake_snapshot(void *ctx, struct snapshot *out)
{
	(void)ctx;
	pthread_mutex_lock(&fk.lock);
	*out = fk.snap;
	pthread_mutex_unlock(&fk.lock);
	return true;
}

/* Applies a parameter set to the snapshot, as the engine would. */
static bool fake_command(void *ctx, const struct command *c)
{
	(void)ctx;
	pthread_mutex_lock(&fk.lock);
	if (fk.n_cmd < 64)
		fk.cmd[fk.n_cmd++] = *c;
	if (c->type == CMD_SET_PARAM)
		fk.snap.eng.value[c->param] = c->value;
	pthread_mutex_unlock(&fk.lock);
	return true;
}

static int n_commands(void)
{
	pthread_mutex_lock(&fk.lock);
	int n = fk.n_cmd;
	pthread_mutex_unlock(&fk.lock);
	return n;
}

static struct osc_ctl *start(const char *hosts)
{
	memset(&fk.snap, 0, sizeof fk.snap);
	fk.n_cmd = 0;
	for (int i = 0; i < P_COUNT; i++)
		fk.snap.eng.value[i] = param_table[i].def;
	fk.snap.eng.n_steps = 8;
	struct osc_ctl_options o = {
	    .address = "127.0.0.1", .port = 0, .allowed_hosts = hosts, .max_writes_per_s = 100};
	struct osc_ctl_link link = {.snapshot = fake_snapshot, .command = fake_command};
	char err[256];
	struct osc_ctl *s = osc_ctl_start(&o, &link, err, sizeof err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	return s;
}

static int client(const char *bind_addr)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET};
	inet_pton(AF_INET, bind_addr, &a.sin_addr);
	CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	return fd;
}

static void send_raw(int fd, int port, const void *b, size_t n)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
	CU_ASSERT_EQUAL(sendto(fd, b, n, 0, (struct sockaddr *)&to, sizeof to), (ssize_t)n);
}

/* "/mystery/param/filter_cutoff" ,f 900.0 */
static size_t cutoff_msg(uint8_t *b, float v)
{
	size_t n = 0;
	memcpy(b, "/mystery/param/filter_cutoff\0\0\0\0", 32);
	n = 32;
	memcpy(b + n, ",f\0\0", 4);
	n += 4;
	uint32_t u;
	memcpy(&u, &v, 4);
	u = htonl(u);
	memcpy(b + n, &u, 4);
	return n + 4;
}

/* Waits up to ms for a datagram whose text contains needle. */
static bool heard(int fd, const char *needle, int ms)
{
	uint8_t b[4096];
	for (int waited = 0; waited < ms; waited += 20) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		ssize_t n = recv(fd, b, sizeof b - 1, 0);
		if (n > 0 && memmem(b, (size_t)n, needle, strlen(needle)))
			return true;
	}
	return false;
}

static void test_hosts(void)
{
	struct osc_ctl_host h[OSC_CTL_HOSTS_MAX];
	char err[160];
	CU_ASSERT_EQUAL(
	    osc_ctl_hosts_parse("127.0.0.1, ::1", h, OSC_CTL_HOSTS_MAX, err, sizeof err), 2);
	CU_ASSERT_EQUAL(h[0].prefix, 32);
	CU_ASSERT_EQUAL(h[1].prefix, 128);
	CU_ASSERT_EQUAL(
	    osc_ctl_hosts_parse("192.168.1.0/24 10.0.0.0/8", h, OSC_CTL_HOSTS_MAX, err, sizeof err),
	    2);
	CU_ASSERT_EQUAL(h[0].prefix, 24);
	CU_ASSERT_EQUAL(osc_ctl_hosts_parse("tablet.local", h, OSC_CTL_HOSTS_MAX, err, sizeof err),
	                -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "\"tablet.local\" is not an IPv4 or IPv6 address"));
	CU_ASSERT_EQUAL(osc_ctl_hosts_parse("10.0.0.0/33", h, OSC_CTL_HOSTS_MAX, err, sizeof err),
	                -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "prefix must be 0..32"));
	CU_ASSERT_EQUAL(osc_ctl_hosts_parse("10.0.0.0/", h, OSC_CTL_HOSTS_MAX, err, sizeof err),
	                -1);
	CU_ASSERT_EQUAL(osc_ctl_hosts_parse(" , ", h, OSC_CTL_HOSTS_MAX, err, sizeof err), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no address"));
	CU_ASSERT_EQUAL(osc_ctl_hosts_parse("1.1.1.1 1.1.1.2 1.1.1.3", h, 2, err, sizeof err), -1);
}

static void test_fader_and_echo(void)
{
	struct osc_ctl *s = start("127.0.0.1");
	int fd = client("127.0.0.1");
	uint8_t b[64];
	send_raw(fd, osc_ctl_port(s), b, cutoff_msg(b, 900));
	CU_ASSERT(heard(fd, "/mystery/param/filter_cutoff", 1000));
	for (int i = 0; i < 50 && n_commands() < 1; i++)
		usleep(10000);
	CU_ASSERT_EQUAL_FATAL(n_commands(), 1);
	CU_ASSERT_EQUAL(fk.cmd[0].type, CMD_SET_PARAM);
	CU_ASSERT_EQUAL(fk.cmd[0].param, P_FILTER_CUTOFF);
	CU_ASSERT_DOUBLE_EQUAL(fk.cmd[0].value, 900, 1e-6);
	CU_ASSERT_EQUAL(fk.cmd[0].source, SRC_API);
	/* a change made elsewhere (mutation) reaches the sender */
	pthread_mutex_lock(&fk.lock);
	fk.snap.eng.value[P_REVERB_MIX] = 0.625;
	pthread_mutex_unlock(&fk.lock);
	CU_ASSERT(heard(fd, "/mystery/param/reverb_mix", 1000));
	struct osc_ctl_stats st;
	osc_ctl_get_stats(s, &st);
	CU_ASSERT_EQUAL(st.accepted, 1);
	CU_ASSERT_EQUAL(st.peers, 1);
	close(fd);
	osc_ctl_stop(s);
}

static void test_refused_host(void)
{
	struct osc_ctl *s = start("127.0.0.1");
	int fd = client("127.0.0.2");
	uint8_t b[64];
	send_raw(fd, osc_ctl_port(s), b, cutoff_msg(b, 900));
	CU_ASSERT(!heard(fd, "/mystery", 300));
	CU_ASSERT_EQUAL(n_commands(), 0);
	struct osc_ctl_stats st;
	osc_ctl_get_stats(s, &st);
	CU_ASSERT_EQUAL(st.refused, 1);
	CU_ASSERT_EQUAL(st.peers, 0);
	close(fd);
	osc_ctl_stop(s);
}

static void test_garbage(void)
{
	struct osc_ctl *s = start("127.0.0.1");
	int fd = client("127.0.0.1");
	int port = osc_ctl_port(s);
	uint8_t b[256], m[64];
	size_t n = cutoff_msg(m, 900);
	send_raw(fd, port, m, n - 3);                   /* truncated argument */
	send_raw(fd, port, "/mystery/param/tempo", 20); /* no terminator */
	send_raw(fd, port, "hello", 5);
	memcpy(b, "#bundle\0\0\0\0\0\0\0\0\1\x7f\xff\xff\xf0", 20); /* size lies */
	send_raw(fd, port, b, 20);
	memcpy(b, "#bundle\0\0\0\0\0\0\0\0\1\0\0\0\x28", 20); /* one message, then junk */
	memcpy(b + 20, m, n);
	memcpy(b + 20 + n, "\0\0", 2);
	send_raw(fd, port, b, 20 + n + 2);
	const uint8_t wrong[] = "/mystery/pause\0\0,s\0\0yes\0"; /* a string for a number */
	send_raw(fd, port, wrong, sizeof wrong - 1);
	send_raw(fd, port, "", 0);
	CU_ASSERT(heard(fd, "/mystery/error", 1000));
	/* still answering: a good message goes through */
	send_raw(fd, port, m, n);
	for (int i = 0; i < 100 && n_commands() < 2; i++)
		usleep(10000);
	CU_ASSERT_EQUAL(n_commands(), 2); /* the bundle's message and this one */
	struct osc_ctl_stats st;
	osc_ctl_get_stats(s, &st);
	CU_ASSERT(st.malformed >= 5);
	close(fd);
	osc_ctl_stop(s);
}

static void test_start_errors(void)
{
	struct osc_ctl_options o = {
	    .address = "127.0.0.1", .port = 0, .allowed_hosts = "nobody", .max_writes_per_s = 10};
	struct osc_ctl_link link = {.snapshot = fake_snapshot, .command = fake_command};
	char err[256];
	CU_ASSERT_PTR_NULL(osc_ctl_start(&o, &link, err, sizeof err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "nobody"));
	struct osc_ctl *a = start("127.0.0.1");
	o.allowed_hosts = "127.0.0.1";
	o.port = osc_ctl_port(a);
	CU_ASSERT_PTR_NULL(osc_ctl_start(&o, &link, err, sizeof err));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "UDP port"));
	osc_ctl_stop(a);
}

TEST_SUITE(osc_ctl, NULL, NULL, TEST_CASE(test_hosts), TEST_CASE(test_fader_and_echo),
           TEST_CASE(test_refused_host), TEST_CASE(test_garbage), TEST_CASE(test_start_errors))
