/*
 * sc_link: a client connection to a running scsynth over UDP (liblo).
 *
 * Sends commands and bundles, and waits for the replies that matter
 * (/done, /synced, /n_go, /status.reply, /fail) on its own reply socket;
 * hands node replies and /n_go to listeners; measures how far ahead of
 * its timetag the server needs a bundle (sc_link_lead).
 * Used by the live synth backend and by the test tools; see doc/synth.md.
 */
#ifndef ME_SYNTH_SC_LINK_H
#define ME_SYNTH_SC_LINK_H

#include <lo/lo.h>
#include <stdint.h>

enum sc_link_err {
	SC_LINK_OK = 0,
	SC_LINK_E_SOCKET,  /* cannot open the reply socket or resolve the server */
	SC_LINK_E_SEND,    /* sending failed */
	SC_LINK_E_TIMEOUT, /* no reply in time: is scsynth running on that port? */
	SC_LINK_E_FAIL,    /* the server answered /fail (see sc_link_last_fail()) */
	SC_LINK_E_DEFS,    /* building the synth defs failed */
	SC_LINK_E_ARG,     /* a bad argument */
	SC_LINK_E_NOMEM
};

struct sc_status {
	int ugens, synths, groups, defs;
	float avg_cpu, peak_cpu;
	double nominal_rate, actual_rate;
};

struct sc_link;

/* A link to scsynth at host:port (host NULL = 127.0.0.1). */
struct sc_link *sc_link_open(const char *host, int port, enum sc_link_err *err);
void sc_link_close(struct sc_link *l);

/* Sends a message or a bundle (the caller keeps and frees it). */
enum sc_link_err sc_link_send(struct sc_link *l, const char *path, lo_message m);
/* Sends a message built from types and the arguments, then frees it (the
 * macro adds the end marker liblo's varargs functions need). */
#define sc_link_send_args(l, path, ...) sc_link_send_args_(l, path, __VA_ARGS__, LO_ARGS_END)
enum sc_link_err sc_link_send_args_(struct sc_link *l, const char *path, const char *types, ...);
/* An OSC message already serialised (sc_plan_message), sent as it is. */
enum sc_link_err sc_link_send_raw(struct sc_link *l, const void *msg, size_t len);
/* Sends one bundle timetagged tt with the n messages msgs to paths, and
 * frees the messages (NULL ones make it fail with SC_LINK_E_NOMEM). */
enum sc_link_err sc_link_send_timed(struct sc_link *l, lo_timetag tt, int n,
                                    const char *const *paths, lo_message *msgs);

/* Waits until a message with this path arrives whose first argument is the
 * string key (when key is not NULL) or the int32 ikey (when key is NULL and
 * ikey >= 0); any first argument when key is NULL and ikey < 0.  A /fail
 * for the command fail_cmd (if not NULL) ends the wait with SC_LINK_E_FAIL.
 * Other messages are dropped. */
enum sc_link_err sc_link_wait(struct sc_link *l, const char *path, const char *key, int32_t ikey,
                              const char *fail_cmd, int timeout_ms);

/* Handles the replies that arrive within timeout_ms (node replies go to
 * their listener, the rest is dropped); returns how many arrived. */
int sc_link_poll(struct sc_link *l, int timeout_ms);

/* Node replies (SendReply, SendPeakRMS: "PATH node id float...") with this
 * path go to fn, during waits and polls, on the thread that owns the link,
 * with their arrival time (CLOCK_MONOTONIC ns, when the kernel received
 * them: the same whether they are read at once or in a batch later).  At
 * most SC_LINK_REPLY_MAX values; path NULL removes the listener. */
#define SC_LINK_REPLY_MAX 16
typedef void (*sc_link_node_reply_fn)(void *ud, int32_t node, int32_t id, const float *v, int n,
                                      int64_t arrived);
void sc_link_on_node_reply(struct sc_link *l, const char *path, sc_link_node_reply_fn fn, void *ud);

/* Every /n_go (a node started; needs /notify 1) goes to fn with the node
 * and its arrival time (CLOCK_MONOTONIC ns, when the kernel received it),
 * during waits and polls. */
typedef void (*sc_link_go_fn)(void *ud, int32_t node, int64_t arrived_ns);
void sc_link_on_go(struct sc_link *l, sc_link_go_fn fn, void *ud);

/* /notify on (1) or off (0), waiting for its /done.  Already registered
 * (or already unregistered) counts as done: re-registering is idempotent. */
enum sc_link_err sc_link_notify(struct sc_link *l, int on, int timeout_ms);
/* /status, waiting for /status.reply (st may be NULL). */
enum sc_link_err sc_link_status(struct sc_link *l, struct sc_status *st, int timeout_ms);
/* The figures of the last /status.reply that arrived (during any wait or
 * poll, whether waited for or not) and its arrival time (CLOCK_MONOTONIC
 * ns, 0 none); returns how many arrived so far.  A caller that does not
 * want to wait sends /status itself and looks here later. */
uint64_t sc_link_last_status(const struct sc_link *l, struct sc_status *st, int64_t *arrived_ns);
/* /sync id, waiting for /synced id: every earlier command is done. */
enum sc_link_err sc_link_sync(struct sc_link *l, int32_t id, int timeout_ms);
/* /d_recv of the project's defs (synthdef_build_all), waiting for /done.
 * scsynth answers /done even for a def it rejected: confirm with
 * sc_link_trial(). */
enum sc_link_err sc_link_load_defs(struct sc_link *l, int timeout_ms);
/* Starts def as node at the head of group and waits for its /n_go (needs
 * /notify 1), then frees it.  SC_LINK_E_FAIL when the server answers /fail
 * (e.g. "SynthDef not found"). */
enum sc_link_err sc_link_trial(struct sc_link *l, const char *def, int32_t node, int32_t group,
                               int timeout_ms);

/*
 * How far ahead of its timetag a bundle must reach the server: sends
 * SC_LINK_LEAD_PROBES silent trial notes of def (amp 0, nodes first_node
 * and up, head of group; needs /notify 1) timetagged 60 ms ahead at phases
 * SC_LINK_LEAD_STEP_NS apart (46.5 ms in all: more than a JACK period of
 * 2048 frames), and times each /n_go.  The server acts on a bundle its
 * output latency plus up to one period before the timetag.
 */
#define SC_LINK_LEAD_PROBES 16
#define SC_LINK_LEAD_STEP_NS INT64_C(3100000)
struct sc_lead {
	int64_t lead_ns;     /* latest_ns + rtt_ns: the lead a bundle needs */
	int64_t earliest_ns; /* smallest timetag - /n_go arrival: where on-time notes start */
	int64_t latest_ns;   /* largest timetag - /n_go arrival */
	int64_t rtt_ns;      /* the best round trip of /status */
};
enum sc_link_err sc_link_lead(struct sc_link *l, const char *def, int32_t first_node, int32_t group,
                              struct sc_lead *out, int timeout_ms);

/*
 * How late a note started on a server measured as m, told by its /n_go
 * alone (an external server prints its "late" lines only on its own
 * output): due_ns is its timetag (CLOCK_MONOTONIC), sent_ns when its
 * bundle was sent, arrived_ns when its /n_go arrived.  An on-time note's
 * /n_go comes at least m->earliest_ns before its timetag; a later one by
 * more than SC_LINK_LATE_MARGIN_NS is late, if the server can have started
 * it at once: a bundle that came late starts in the first period after it
 * arrives, so its /n_go comes within the round trip, a period and the
 * margin of the send.  One that came later than that was held for its
 * timetag, that is on time: the reply came late (the server's reply
 * thread starved), or the server's clock moved (a JACK clock step).
 * Returns how late the note started (ns), 0 when on time.
 */
#define SC_LINK_LATE_MARGIN_NS INT64_C(5000000)
int64_t sc_link_late_ns(const struct sc_lead *m, int64_t due_ns, int64_t sent_ns,
                        int64_t arrived_ns);

/* Text of the last /fail received ("" when none). */
const char *sc_link_last_fail(const struct sc_link *l);

/* The OSC timetag (wall clock, as scsynth reads it) of the moment
 * target_ns on CLOCK_MONOTONIC: the wall clock now plus the monotonic
 * distance, so a step of the wall clock between now and then does not move
 * the event. */
lo_timetag sc_link_timetag(int64_t target_ns);
/* The NTP timetag (32.32 seconds since 1900) of a CLOCK_REALTIME time, as
 * OSC bundles carry it; the one conversion the live side uses. */
uint64_t sc_link_ntp(int64_t real_ns);

const char *sc_link_strerror(enum sc_link_err e);

#endif
