/*
 * conmerge.h: the line-atomic merge of the guest's two console outputs
 * (the UART's ttyS0 and virtio-console's hvc0) into the one console
 * stream. Each source's bytes are held until its newline; a complete line
 * goes into the stream whole, in the order the lines were completed, so
 * lines of the two sources never interleave. A partial line (a prompt) goes
 * out when its source has been quiet for CONMERGE_IDLE_MS, has held it for
 * CONMERGE_MAX_HOLD_MS, or filled its CONMERGE_LINE_MAX buffer; once part
 * of a line is out, the rest of it follows at once while no other source
 * wrote in between (typed characters echo at once after a prompt).
 *
 * Two layers: the core (struct conmerge_core, pure, clock passed in, tested
 * without threads) and the merge (struct conmerge): the core under a mutex
 * and one writer thread that alone writes the stream's descriptor, so that
 * a console nobody reads blocks only that thread; producers wait only when
 * their own source has no room left (the UART's vCPU, hvc0's device thread:
 * what a stalled console stalled before). Memory is bounded: two line
 * buffers and the stream's ring, CONMERGE_RING bytes.
 */
#ifndef KXL_VMM_CONMERGE_H
#define KXL_VMM_CONMERGE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kxl/diag.h>

enum conmerge_src { CONMERGE_UART, CONMERGE_HVC, CONMERGE_NSRC };

#define CONMERGE_LINE_MAX	4096	/* a longer line goes out in pieces this long */
#define CONMERGE_RING		8192	/* committed, not yet written */
#define CONMERGE_IDLE_MS	100	/* a partial line out after this much quiet */
#define CONMERGE_MAX_HOLD_MS	500	/* ... or after held this long */

struct conmerge_line {
	uint8_t buf[CONMERGE_LINE_MAX];
	size_t len;
	bool complete;			/* buf is one line, ending in '\n', not committed yet */
	uint64_t seq;			/* completion order of that line */
	uint64_t start_ms, last_ms;	/* first and newest byte held */
};

struct conmerge_core {
	struct conmerge_line src[CONMERGE_NSRC];
	uint8_t ring[CONMERGE_RING];	/* the stream, committed in order */
	size_t head, len;
	int open;			/* the source whose line the stream is in the middle of, or -1 */
	uint64_t seq;
};

/* The pure core: now_ms is a monotonic clock in milliseconds. */
void conmerge_core_init(struct conmerge_core *c);
/* Takes bytes of one source; returns how many it took (fewer than n when
 * the source has no room left until the stream is written). */
size_t conmerge_core_put(struct conmerge_core *c, unsigned src, const uint8_t *buf, size_t n,
			 uint64_t now_ms);
/* Commits what is due at now_ms (waiting lines, partial lines whose time
 * came); with all set, every held byte that fits (a final flush). */
void conmerge_core_tick(struct conmerge_core *c, uint64_t now_ms, bool all);
/* When the next partial line falls due, or UINT64_MAX if none waits. */
uint64_t conmerge_core_deadline(const struct conmerge_core *c);
/* The committed stream: its first contiguous piece, then consumed. */
size_t conmerge_core_peek(const struct conmerge_core *c, const uint8_t **p);
void conmerge_core_consume(struct conmerge_core *c, size_t n);
/* Nothing committed or held. */
bool conmerge_core_empty(const struct conmerge_core *c);

/* The merge with its writer thread. A zeroed struct is a merge that
 * discards everything (no console); conmerge_start gives it a descriptor. */
struct conmerge {
	bool on;			/* started with a descriptor */
	int fd;
	pthread_mutex_t lock;
	pthread_cond_t work;		/* writer: something to write, or a new deadline */
	pthread_cond_t room;		/* producers and drain: the stream moved */
	pthread_t thread;
	bool started;			/* the thread runs */
	bool quit, dead;		/* quit: end the thread; dead: the descriptor failed */
	struct conmerge_core core;
};

/* Starts the writer thread (named "console") on fd, which it writes until
 * a write fails (then output is discarded, the guest goes on). fd < 0:
 * the merge stays off and discards. Returns 0 or -1 with the error in d. */
int conmerge_start(struct conmerge *m, int fd, struct kxl_diag *d);
/* Ends the writer thread after it wrote what was committed (at most
 * timeout_ms), and frees the merge's resources. */
void conmerge_stop(struct conmerge *m, unsigned timeout_ms);
/* Takes what fits without waiting; returns how many bytes it took. */
size_t conmerge_put(struct conmerge *m, unsigned src, const uint8_t *buf, size_t n);
/* After a put that took fewer bytes than given: waits at most timeout_ms
 * for the stream to move (not at all if src has room again). */
void conmerge_wait(struct conmerge *m, unsigned src, unsigned timeout_ms);
/* Puts all of buf, waiting as long as the console takes (a device thread
 * whose console is stalled stays stalled, as with a blocking write). */
void conmerge_write(struct conmerge *m, unsigned src, const uint8_t *buf, size_t n);
/* Commits every held byte and waits until the stream is written, at most
 * timeout_ms (before a stop is reported: the parent kills the process). */
void conmerge_drain(struct conmerge *m, unsigned timeout_ms);

#endif
