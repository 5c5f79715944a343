/*
 * dm-boot.c: runs an hvm config's QEMU as kxl's supervisor will, and
 * reports the stop: the command line from src/dm, QEMU started paused,
 * the QMP handshake (src/dm/qmp.c), query-status (prelaunch), stop/cont
 * (kxl pause/unpause), then the guest runs until QEMU reports a stop,
 * which is mapped to the on_* action it applies (kxl_dm_event_kind).
 * Then quit, and QEMU must exit. Used by run-boot with boot sectors built
 * at test time.
 *
 * usage: dm-boot CFG QMP-SOCKET TIMEOUT-SECONDS
 * Prints "status prelaunch", "status paused", "status running", then
 * "event NAME REASON -> KEY = ACTION" (or "timeout"), and exits 0 when
 * every step worked. Where /dev/kvm cannot be opened, the test runs QEMU
 * with TCG (accel=tcg, -cpu max) and says so on stderr.
 */
#include <kxl/dm.h>

#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static void die_diag(struct kxl_diag *d, const char *what)
{
	kxl_diag_print(d, stderr);
	fprintf(stderr, "dm-boot: %s failed\n", what);
	exit(1);
}

static const char *status(struct kxl_qmp *q, struct kxl_diag *d)
{
	static char buf[64];
	json_object *r = NULL;
	if (kxl_qmp_cmd(q, "query-status", NULL, &r, 5000, d)) die_diag(d, "query-status");
	json_object *s = NULL;
	json_object_object_get_ex(r, "status", &s);
	snprintf(buf, sizeof(buf), "%s", s ? json_object_get_string(s) : "?");
	json_object_put(r);
	printf("status %s\n", buf);
	return buf;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: dm-boot CFG QMP-SOCKET TIMEOUT-SECONDS\n");
		return 2;
	}
	struct kxl_diag d;
	kxl_diag_init(&d);
	struct kxl_cfg cfg;
	struct kxl_conf conf;
	struct kxl_domain dom;
	kxl_cfg_init(&cfg);
	kxl_conf_defaults(&conf);
	if (kxl_cfg_parse_file(&cfg, argv[1], &d) || d.errors) die_diag(&d, "reading the cfg");
	if (kxl_domain_from_cfg(&dom, &cfg, &conf, &d)) die_diag(&d, "the model");
	struct kxl_dm_opts o = { .qmp_fd = -1, .qmp_path = argv[2] };
	struct kxl_dm_argv a;
	if (kxl_dm_args(&dom, &cfg, &o, &a, &d)) die_diag(&d, "the command line");
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		fprintf(stderr, "dm-boot: no usable /dev/kvm: the test runs QEMU with TCG\n");
		for (size_t i = 1; i < a.n; i++) {
			char *p = strstr(a.v[i], "accel=kvm");
			if (p) memcpy(p, "accel=tcg", 9);
			if (!strcmp(a.v[i - 1], "-cpu")) {
				free(a.v[i]);
				a.v[i] = strdup("max");
			}
		}
	} else {
		close(kvm);
	}
	unlink(argv[2]);
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid == 0) {
		execvp(a.v[0], a.v);
		perror("exec QEMU");
		_exit(127);
	}
	struct kxl_qmp q;
	if (kxl_qmp_open(&q, argv[2], 10000, &d)) {
		kill(pid, SIGKILL);
		die_diag(&d, "QMP");
	}
	int ok = !strcmp(status(&q, &d), "prelaunch");
	if (kxl_qmp_cmd(&q, "cont", NULL, NULL, 5000, &d)) die_diag(&d, "cont");
	if (kxl_qmp_cmd(&q, "stop", NULL, NULL, 5000, &d)) die_diag(&d, "stop");
	ok &= !strcmp(status(&q, &d), "paused");
	if (kxl_qmp_cmd(&q, "cont", NULL, NULL, 5000, &d)) die_diag(&d, "cont");
	ok &= !strcmp(status(&q, &d), "running");
	int timeout = atoi(argv[3]);
	enum kxl_dm_ev kind = KXL_DM_EV_NONE;
	for (;;) {
		json_object *ev;
		int r = kxl_qmp_event(&q, &ev, timeout * 1000, &d);
		if (r < 0) die_diag(&d, "waiting for events");
		if (r == 0) {
			printf("timeout\n");
			ok = 0;
			break;
		}
		kind = kxl_dm_event_kind(ev);
		if (kind != KXL_DM_EV_NONE) {
			json_object *name = NULL, *data = NULL, *reason = NULL;
			json_object_object_get_ex(ev, "event", &name);
			json_object_object_get_ex(ev, "data", &data);
			json_object_object_get_ex(data, "reason", &reason);
			const char *key = kxl_dm_event_key(kind);
			enum kxl_action act = kind == KXL_DM_EV_POWEROFF ? dom.on_poweroff :
					      kind == KXL_DM_EV_REBOOT ? dom.on_reboot :
					      kind == KXL_DM_EV_CRASH ? dom.on_crash : dom.on_watchdog;
			printf("event %s %s -> %s = %s\n", json_object_get_string(name),
			       reason ? json_object_get_string(reason) : "-", key ? key : "none",
			       key ? kxl_domain_action_name(act) : "-");
			json_object_put(ev);
			break;
		}
		json_object_put(ev);
	}
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "dm-boot: start to stop event: %.3f s\n",
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (kxl_qmp_cmd(&q, "quit", NULL, NULL, 5000, &d))
		kxl_diag_clear(&d);	/* QEMU may close before it answers */
	kxl_qmp_close(&q);
	int st = 0;
	for (int i = 0; i < 100 && waitpid(pid, &st, WNOHANG) == 0; i++)
		usleep(50000);
	if (waitpid(pid, &st, WNOHANG) == 0) {
		fprintf(stderr, "dm-boot: QEMU did not quit\n");
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		ok = 0;
	}
	kxl_dm_argv_free(&a);
	kxl_domain_free(&dom);
	kxl_cfg_free(&cfg);
	kxl_conf_free(&conf);
	kxl_diag_free(&d);
	return ok ? 0 : 1;
}
