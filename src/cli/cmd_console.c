/*
 * cmd_console.c: `kxl console [-t serial] [-n 0] DOMAIN', also used by
 * `kxl create -c'. It connects to the domain's console socket: the monitor
 * answers "ok" and sends what the guest wrote lately (its bounded buffer),
 * then the live output; keystrokes go to the guest's serial port, in raw
 * mode when stdin is a terminal. Ctrl-] detaches; the end of the domain
 * (a destroy, a poweroff) ends the client with exit status 0. Another
 * client attached already is refused by the monitor with a clear message.
 * An hvm domain whose config puts its first serial port on a pty
 * (serial = "pty") is reached on that pty instead, which the monitor finds
 * through QMP (query-chardev).
 */
#include "cli/cli.h"
#include "cli/cmd_life.h"
#include "cli/verbs.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define CTRL_RBRACKET 0x1d

static int write_full(int fd, const char *b, size_t n)
{
	return life_write_all(fd, b, n);
}

static int relay(int fd, const char *name, bool quiet);

/* The pty of an hvm domain's first serial port, or NULL (kxl's console). */
static char *serial_pty(struct life_state *st, const char *name)
{
	struct kxl_diag d;
	kxl_diag_init(&d);
	char *reply = NULL;
	if (life_request(st, name, "serial", &reply, 5000, &d) < 0 || !reply ||
	    strncmp(reply, "/dev/", 5)) {
		free(reply);
		reply = NULL;
	}
	kxl_diag_free(&d);
	return reply;
}

int cli_console_attach(struct life_state *st, const char *name, bool quiet)
{
	char *pty = serial_pty(st, name);
	if (pty) {
		int pfd = open(pty, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (pfd < 0) {
			fprintf(stderr, "kxl console: %s (the first serial port of %s): %s\n", pty, name,
				strerror(errno));
			free(pty);
			return KXL_EXIT_ERROR;
		}
		struct termios t;
		if (tcgetattr(pfd, &t) == 0) {
			cfmakeraw(&t);
			tcsetattr(pfd, TCSANOW, &t);
		}
		free(pty);
		return relay(pfd, name, quiet);
	}
	struct kxl_diag d;
	kxl_diag_init(&d);
	int fd = life_connect(st, name, "console.sock", &d);
	if (fd < 0) {
		cli_life_err("console", &d);
		kxl_diag_free(&d);
		return KXL_EXIT_ERROR;
	}
	kxl_diag_free(&d);
	char line[512];
	if (life_read_line(fd, line, sizeof(line), 10000) < 0) {
		fprintf(stderr, "kxl console: the monitor of `%s' did not answer\n", name);
		close(fd);
		return KXL_EXIT_ERROR;
	}
	if (strcmp(line, "ok")) {
		fprintf(stderr, "kxl console: %s\n", !strncmp(line, "error ", 6) ? line + 6 : line);
		close(fd);
		return KXL_EXIT_ERROR;
	}
	return relay(fd, name, quiet);
}

/* The terminal and fd joined until Ctrl-] or fd's end (closes fd). */
static int relay(int fd, const char *name, bool quiet)
{
	struct termios saved;
	bool raw = false;
	if (isatty(0) && tcgetattr(0, &saved) == 0) {
		struct termios t = saved;
		cfmakeraw(&t);
		raw = tcsetattr(0, TCSAFLUSH, &t) == 0;
	}
	bool in_open = true, ended = false;
	char buf[4096];
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = in_open ? 0 : -1, .events = POLLIN },
		};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[0].revents) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				ended = true;
				break;
			}
			if (write_full(1, buf, (size_t)n) < 0)
				break;
		}
		if (p[1].revents) {
			ssize_t n = read(0, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				in_open = false;	/* no more input; keep showing the output */
				continue;
			}
			char *esc = memchr(buf, CTRL_RBRACKET, (size_t)n);
			size_t k = esc ? (size_t)(esc - buf) : (size_t)n;
			if (k && write_full(fd, buf, k) < 0) {
				ended = true;
				break;
			}
			if (esc)
				break;	/* Ctrl-]: detach */
		}
	}
	if (raw)
		tcsetattr(0, TCSAFLUSH, &saved);
	close(fd);
	if (ended && !quiet)
		fprintf(stderr, "%skxl console: the domain %s has ended\n", raw ? "\r\n" : "\n", name);
	return 0;
}

int cmd_console(int argc, char **argv)
{
	int c;
	optind = 1;
	while ((c = cli_getopt("console", argc, argv)) != -1) {
		switch (c) {
		case 't':
			if (strcmp(optarg, "serial") && strcmp(optarg, "pv")) {
				fprintf(stderr, "kxl console: -t is serial or pv\n");
				return KXL_EXIT_USAGE;
			}
			break;	/* kxl has one console: the serial port (pv names it too) */
		case 'n':
			if (strcmp(optarg, "0")) {
				fprintf(stderr, "kxl console: kxl domains have console 0 only\n");
				return KXL_EXIT_ERROR;
			}
			break;
		default:
			return cli_usage_exit("console", c);
		}
	}
	if (optind + 1 != argc)
		return cli_usage_exit("console", '?');
	struct life_state st;
	struct life_dom dom;
	if (cli_state(&st, "console") < 0)
		return KXL_EXIT_ERROR;
	if (cli_find(&st, "console", argv[optind], &dom) < 0) {
		life_state_close(&st);
		return KXL_EXIT_ERROR;
	}
	int r = cli_console_attach(&st, dom.name, false);
	life_dom_free(&dom);
	life_state_close(&st);
	return r;
}
