/*
 * kxl-vmm-run.c: the VMM's test driver. It fills a struct kxl_vmm_spec
 * straight from its options (no xl.cfg, no CLI), runs the domain with
 * kxl_vmm_run() and exits with kxl_vmm_exit_code(). The guest's console
 * goes through a pipe that a thread copies to stdout (or --log) and scans,
 * so that a control script (--ctl) can wait for console text before it
 * sends a command: "wait:TEXT,power,wait:TEXT,destroy".
 *
 * usage: kxl-vmm-run [options] KERNEL [CMDLINE]
 *   -m MIB  -c VCPUS  -C MAXVCPUS  -M PATH[=CMDLINE] (module, repeatable)
 *   -p pvh|linux|auto  --no-acpi  -P (start paused)
 *   --on-poweroff/--on-reboot/--on-crash ACTION  --dump-dir DIR
 *   --localtime  --rtc-offset SEC  --stdin (console input from stdin)
 *   --stuck-console (console output into a 4 KiB pipe nobody reads)
 *   --ctl STEPS  (wait:TEXT sleep:MS power pause unpause nmi reset
 *                 destroy dump:PATH status, comma-separated)
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <kxl/vmm.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t out_cond = PTHREAD_COND_INITIALIZER;
static char *out_buf;		/* everything the guest printed */
static size_t out_len, out_scan;
static bool out_eof;
static int out_fd = 1;

static int stop_pipe[2];

/* Copies console output until EOF, or until main says the run is over and
 * the pipe is empty (a killed VMM child may hold the write end a little
 * longer while the kernel tears its VM down). */
static void *console_reader(void *arg)
{
	int fd = *(int *)arg;
	char b[4096];
	bool stopping = false;
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = stopping ? -1 : stop_pipe[0], .events = POLLIN } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents) {
			stopping = true;
			fcntl(fd, F_SETFL, O_NONBLOCK);
		}
		if (!p[0].revents && !stopping)
			continue;
		ssize_t n = read(fd, b, sizeof(b));
		if (n <= 0)
			break;
		if (write(out_fd, b, (size_t)n) < 0) {
			/* keep scanning even if stdout is gone */
		}
		pthread_mutex_lock(&out_lock);
		out_buf = realloc(out_buf, out_len + (size_t)n + 1);
		memcpy(out_buf + out_len, b, (size_t)n);
		out_len += (size_t)n;
		out_buf[out_len] = 0;
		pthread_cond_broadcast(&out_cond);
		pthread_mutex_unlock(&out_lock);
	}
	pthread_mutex_lock(&out_lock);
	out_eof = true;
	pthread_cond_broadcast(&out_cond);
	pthread_mutex_unlock(&out_lock);
	return NULL;
}

/* Waits until TEXT appears after the previous match. */
static bool wait_text(const char *text)
{
	bool ok = false;
	pthread_mutex_lock(&out_lock);
	for (;;) {
		char *p = out_buf ? strstr(out_buf + out_scan, text) : NULL;
		if (p) {
			out_scan = (size_t)(p - out_buf) + strlen(text);
			ok = true;
			break;
		}
		if (out_eof)
			break;
		pthread_cond_wait(&out_cond, &out_lock);
	}
	pthread_mutex_unlock(&out_lock);
	return ok;
}

static int ctl_fd = -1;
static char *ctl_steps;

static void *ctl_thread(void *arg)
{
	(void)arg;
	char *save = NULL;
	for (char *s = strtok_r(ctl_steps, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
		static const struct { const char *n; enum kxl_vmm_cmd c; } cmds[] = {
			{ "power", KXL_CMD_POWER }, { "pause", KXL_CMD_PAUSE },
			{ "unpause", KXL_CMD_UNPAUSE }, { "nmi", KXL_CMD_NMI },
			{ "reset", KXL_CMD_RESET }, { "destroy", KXL_CMD_DESTROY },
			{ "status", KXL_CMD_STATUS },
		};
		char msg[256] = "";
		if (!strncmp(s, "wait:", 5)) {
			if (!wait_text(s + 5)) {
				fprintf(stderr, "ctl: console ended before \"%s\"\n", s + 5);
				return NULL;
			}
			continue;
		}
		if (!strncmp(s, "sleep:", 6)) {
			struct timespec ts = { 0, 0 };
			long ms = atol(s + 6);
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (ms % 1000) * 1000000L;
			nanosleep(&ts, NULL);
			continue;
		}
		if (!strncmp(s, "dump:", 5)) {
			int r = kxl_vmm_ctl(ctl_fd, KXL_CMD_DUMP_CORE, s + 5, msg, sizeof(msg));
			fprintf(stderr, "ctl: dump -> %d (%s)\n", r, msg);
			continue;
		}
		size_t i;
		for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
			if (!strcmp(s, cmds[i].n))
				break;
		if (i == sizeof(cmds) / sizeof(cmds[0])) {
			fprintf(stderr, "ctl: unknown step %s\n", s);
			continue;
		}
		int r = kxl_vmm_ctl(ctl_fd, cmds[i].c, NULL, msg, sizeof(msg));
		fprintf(stderr, "ctl: %s -> %d (%s)\n", s, r, msg);
	}
	return NULL;
}

static const char *ev_names[] = {
	"started", "paused", "unpaused", "stopped", "restarting", "preserved", "core-written",
};

static void on_event(void *opaque, const struct kxl_vmm_event *ev)
{
	(void)opaque;
	fprintf(stderr, "event: %s gen=%u", ev_names[ev->type], ev->generation);
	if (ev->type == KXL_EV_STOPPED)
		fprintf(stderr, " outcome=%s", kxl_vmm_outcome_name(ev->outcome));
	if (ev->type == KXL_EV_RESTARTING && ev->rename)
		fprintf(stderr, " rename");
	if (ev->detail)
		fprintf(stderr, " (%s)", ev->detail);
	fputc('\n', stderr);
}

static int parse_action(const char *s, enum kxl_action *a)
{
	for (int i = KXL_ACTION_DESTROY; i <= KXL_ACTION_SOFT_RESET; i++)
		if (!strcmp(s, kxl_action_name((enum kxl_action)i))) {
			*a = (enum kxl_action)i;
			return 0;
		}
	fprintf(stderr, "kxl-vmm-run: unknown action %s\n", s);
	exit(2);
}

int main(int argc, char **argv)
{
	struct kxl_vmm_spec spec;
	struct kxl_boot_module mods[16] = { 0 };
	size_t nmods = 0;
	bool use_stdin = false, stuck = false;
	const char *log = NULL;
	enum { O_NOACPI = 256, O_POFF, O_REBOOT, O_CRASH, O_DUMP, O_LT, O_RTC, O_STDIN, O_CTL, O_LOG, O_STUCK };
	static const struct option lo[] = {
		{ "no-acpi", 0, 0, O_NOACPI }, { "on-poweroff", 1, 0, O_POFF },
		{ "on-reboot", 1, 0, O_REBOOT }, { "on-crash", 1, 0, O_CRASH },
		{ "dump-dir", 1, 0, O_DUMP }, { "localtime", 0, 0, O_LT },
		{ "rtc-offset", 1, 0, O_RTC }, { "stdin", 0, 0, O_STDIN },
		{ "ctl", 1, 0, O_CTL }, { "log", 1, 0, O_LOG },
		{ "stuck-console", 0, 0, O_STUCK }, { 0, 0, 0, 0 },
	};

	kxl_vmm_spec_init(&spec);
	spec.boot.mem_bytes = 32ULL << 20;
	spec.name = "test";
	spec.log_fd = 2;
	spec.handle_signals = true;
	spec.on_event = on_event;
	int c;
	while ((c = getopt_long(argc, argv, "m:c:C:M:p:Pn:", lo, NULL)) != -1) {
		switch (c) {
		case 'm': spec.boot.mem_bytes = strtoull(optarg, NULL, 0) << 20; break;
		case 'c': spec.boot.vcpus = (unsigned)atoi(optarg); break;
		case 'C': spec.boot.maxvcpus = (unsigned)atoi(optarg); break;
		case 'n': spec.name = optarg; break;
		case 'M': {
			if (nmods == 16)
				return 2;
			char *eq = strchr(optarg, '=');
			if (eq)
				*eq = 0;
			mods[nmods].path = optarg;
			mods[nmods].cmdline = eq ? eq + 1 : NULL;
			nmods++;
			break;
		}
		case 'p':
			spec.boot.protocol = !strcmp(optarg, "pvh") ? KXL_BOOT_PROTO_PVH :
					     !strcmp(optarg, "linux") ? KXL_BOOT_PROTO_LINUX :
					     KXL_BOOT_PROTO_AUTO;
			break;
		case 'P': spec.start_paused = true; break;
		case O_NOACPI: spec.boot.acpi = false; break;
		case O_POFF: parse_action(optarg, &spec.on_poweroff); break;
		case O_REBOOT: parse_action(optarg, &spec.on_reboot); break;
		case O_CRASH: parse_action(optarg, &spec.on_crash); break;
		case O_DUMP: spec.dump_dir = optarg; break;
		case O_LT: spec.localtime = true; break;
		case O_RTC: spec.rtc_timeoffset = atoll(optarg); break;
		case O_STDIN: use_stdin = true; break;
		case O_CTL: ctl_steps = optarg; break;
		case O_LOG: log = optarg; break;
		case O_STUCK: stuck = true; break;
		default:
			fprintf(stderr, "usage: kxl-vmm-run [options] KERNEL [CMDLINE]\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: kxl-vmm-run [options] KERNEL [CMDLINE]\n");
		return 2;
	}
	if (spec.boot.maxvcpus < spec.boot.vcpus)
		spec.boot.maxvcpus = spec.boot.vcpus;
	spec.boot.kernel = argv[optind];
	spec.boot.cmdline = optind + 1 < argc ? argv[optind + 1] : NULL;
	spec.boot.modules = mods;
	spec.boot.nr_modules = nmods;

	int pfd[2];
	if (pipe(pfd) < 0)
		return 1;
	if (log) {
		out_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (out_fd < 0) {
			perror(log);
			return 1;
		}
	}
	spec.console_out = pfd[1];
	int stuck_pipe[2];
	if (stuck) {
		if (pipe(stuck_pipe) < 0)
			return 1;
		fcntl(stuck_pipe[1], F_SETPIPE_SZ, 4096);
		spec.console_out = stuck_pipe[1];
	}
	spec.console_in = use_stdin ? 0 : -1;
	/* kxl_vmm_run takes SIGINT/SIGTERM/SIGHUP through a signalfd: keep
	 * them away from the helper threads. */
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	if (pipe(stop_pipe) < 0)
		return 1;
	pthread_t rd, ct;
	pthread_create(&rd, NULL, console_reader, &pfd[0]);
	int sv[2] = { -1, -1 };
	if (ctl_steps) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
			return 1;
		spec.ctl_fd = sv[0];
		ctl_fd = sv[1];
		if (pthread_create(&ct, NULL, ctl_thread, NULL) == 0)
			pthread_detach(ct);	/* it may wait on a reply that never comes */
	}

	struct kxl_vmm_result res;
	struct kxl_diag d;
	kxl_diag_init(&d);
	int r = kxl_vmm_run(&spec, &res, &d);
	kxl_diag_print(&d, stderr);
	close(pfd[1]);
	if (write(stop_pipe[1], "x", 1) < 0)
		return 1;
	pthread_join(rd, NULL);
	fprintf(stderr, "kxl-vmm-run: outcome=%s restarts=%u%s%s\n", kxl_vmm_outcome_name(res.outcome),
		res.restarts, res.last_core ? " core=" : "", res.last_core ? res.last_core : "");
	kxl_vmm_result_free(&res);
	kxl_diag_free(&d);
	return r < 0 ? KXL_EXIT_ERROR : kxl_vmm_exit_code(res.outcome);
}
