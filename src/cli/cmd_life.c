/*
 * cmd_life.c: xl's verbs that act on a running domain: shutdown, reboot,
 * destroy, pause, unpause, dump-core, trigger, domid and domname. Each
 * finds the domain by name or ID in the state directory (src/life) and
 * sends one request of docs/protocol.md to its monitor; shutdown and
 * reboot can wait for the domain to stop (-w) and shutdown can destroy it
 * after a timeout (--timeout).
 */
#include "cli/cli.h"
#include "cli/cmd_life.h"
#include "cli/verbs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REQ_TIMEOUT_MS 30000

void cli_life_err(const char *verb, struct kxl_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(stderr, "kxl %s: %s%s%s\n", verb,
			d->v[i].sev == KXL_ERROR ? "" : kxl_severity_name(d->v[i].sev),
			d->v[i].sev == KXL_ERROR ? "" : ": ", d->v[i].msg);
	kxl_diag_clear(d);
}

int cli_state(struct life_state *st, const char *verb)
{
	struct kxl_diag d;
	kxl_diag_init(&d);
	int r = life_state_open(st, &d);
	if (r < 0)
		cli_life_err(verb, &d);
	kxl_diag_free(&d);
	return r;
}

int cli_find(struct life_state *st, const char *verb, const char *spec, struct life_dom *dom)
{
	struct kxl_diag d;
	kxl_diag_init(&d);
	int r = life_find(st, spec, dom, &d);
	if (r < 0)
		cli_life_err(verb, &d);
	kxl_diag_free(&d);
	return r;
}

/* One request to one domain named on the command line. */
static int simple(const char *verb, const char *domspec, const char *req, int timeout_ms,
		  bool print_reply)
{
	struct life_state st;
	struct life_dom dom;
	if (cli_state(&st, verb) < 0)
		return KXL_EXIT_ERROR;
	if (cli_find(&st, verb, domspec, &dom) < 0) {
		life_state_close(&st);
		return KXL_EXIT_ERROR;
	}
	struct kxl_diag d;
	kxl_diag_init(&d);
	char *reply = NULL;
	int r = life_request(&st, dom.name, req, &reply, timeout_ms, &d);
	if (r < 0)
		cli_life_err(verb, &d);
	else if (print_reply && reply && *reply)
		printf("%s\n", reply);
	free(reply);
	kxl_diag_free(&d);
	life_dom_free(&dom);
	life_state_close(&st);
	return r < 0 ? KXL_EXIT_ERROR : 0;
}

/* The verb's table options (only -h for most), then one DOMAIN and
 * nargs more, up to extra optional ones. On success argv[*first] is the
 * DOMAIN. Returns 0, or the exit status when the command line was not. */
static int one_domain(const char *verb, int argc, char **argv, int nargs, int extra, int *first)
{
	int c;
	optind = 1;
	while ((c = cli_getopt(verb, argc, argv)) != -1)
		if (c == 'h' || c == '?')	/* the table's other flags are xl's no-ops */
			return cli_usage_exit(verb, c) == 0 ? -2 : -1;
	if (argc - optind < 1 + nargs || argc - optind > 1 + nargs + extra) {
		cli_usage(verb, stderr);
		return -1;
	}
	*first = optind;
	return 0;
}

#define USAGE_STATUS(u) ((u) == -2 ? 0 : KXL_EXIT_USAGE)

int cmd_pause(int argc, char **argv)
{
	int i, u = one_domain("pause", argc, argv, 0, 0, &i);
	return u ? USAGE_STATUS(u) : simple("pause", argv[i], "pause", REQ_TIMEOUT_MS, false);
}

int cmd_unpause(int argc, char **argv)
{
	int i, u = one_domain("unpause", argc, argv, 0, 0, &i);
	return u ? USAGE_STATUS(u) : simple("unpause", argv[i], "unpause", REQ_TIMEOUT_MS, false);
}

int cmd_destroy(int argc, char **argv)
{
	/* xl destroy [-f] DOMAIN: -f is for Dom0 only (a no-op in the table) */
	bool keep = false;
	int c;
	optind = 1;
	while ((c = cli_getopt("destroy", argc, argv)) != -1)
		if (c == 'K')
			keep = true;
		else if (c == 'h' || c == '?')
			return cli_usage_exit("destroy", c);
	if (argc - optind != 1) {
		cli_usage("destroy", stderr);
		return KXL_EXIT_USAGE;
	}
	struct life_state st;
	struct life_dom dom;
	if (cli_state(&st, "destroy") < 0)
		return KXL_EXIT_ERROR;
	struct kxl_diag d;
	kxl_diag_init(&d);
	if (life_find(&st, argv[optind], &dom, &d) < 0) {
		/* a name that runs no more may still have its OVMF store */
		struct kxl_diag nd;
		kxl_diag_init(&nd);
		char *nv = keep ? NULL : life_nvram_path(argv[optind], false, &nd);
		kxl_diag_free(&nd);
		int r = KXL_EXIT_ERROR;
		if (nv && unlink(nv) == 0) {
			fprintf(stderr, "kxl destroy: %s is not running; removed its OVMF variable store "
				"%s\n", argv[optind], nv);
			r = 0;
		} else {
			cli_life_err("destroy", &d);
		}
		free(nv);
		kxl_diag_free(&d);
		life_state_close(&st);
		return r;
	}
	int r = life_request(&st, dom.name, "destroy", NULL, 60000, &d);
	if (r == 0 && !keep) {
		/* the OVMF variable store lives as long as the name: until now */
		struct kxl_diag nd;	/* no NVRAM directory: none to remove */
		kxl_diag_init(&nd);
		char *nv = life_nvram_path(dom.name, false, &nd);
		kxl_diag_free(&nd);
		if (nv && unlink(nv) < 0 && errno != ENOENT)
			kxl_warn(&d, "cannot remove the OVMF variable store %s: %s", nv, strerror(errno));
		free(nv);
	}
	cli_life_err("destroy", &d);
	kxl_diag_free(&d);
	life_dom_free(&dom);
	life_state_close(&st);
	return r < 0 ? KXL_EXIT_ERROR : 0;
}

int cmd_dump_core(int argc, char **argv)
{
	int i, u = one_domain("dump-core", argc, argv, 1, 0, &i);
	if (u)
		return USAGE_STATUS(u);
	argv += i - 1;
	char *path;
	if (argv[2][0] == '/') {
		path = strdup(argv[2]);
	} else {
		char *cwd = getcwd(NULL, 0);
		if (!cwd || asprintf(&path, "%s/%s", cwd, argv[2]) < 0)
			path = NULL;
		free(cwd);
	}
	if (!path || strchr(path, '\n')) {
		fprintf(stderr, "kxl dump-core: bad file name `%s'\n", argv[2]);
		free(path);
		return KXL_EXIT_ERROR;
	}
	char *req;
	if (asprintf(&req, "dump-core %s", path) < 0) {
		free(path);
		return KXL_EXIT_ERROR;
	}
	int r = simple("dump-core", argv[1], req, -1, false);
	free(req);
	free(path);
	return r;
}

int cmd_trigger(int argc, char **argv)
{
	/* xl trigger DOMAIN nmi|reset|init|power|sleep|s3resume [VCPU]: the
	 * vCPU is accepted; kxl's triggers go to the whole domain */
	int i, u = one_domain("trigger", argc, argv, 1, 1, &i);
	if (u)
		return USAGE_STATUS(u);
	argv += i - 1;
	const char *t = argv[2];
	if (!strcmp(t, "init") || !strcmp(t, "sleep")) {
		fprintf(stderr, "kxl trigger: `%s' is not supported by kxl (power, reset, nmi and "
			"s3resume are)\n", t);
		return KXL_EXIT_ERROR;
	}
	if (strcmp(t, "power") && strcmp(t, "reset") && strcmp(t, "nmi") && strcmp(t, "s3resume")) {
		fprintf(stderr, "kxl trigger: unknown trigger `%s' (power, reset, nmi or s3resume)\n", t);
		return KXL_EXIT_USAGE;
	}
	char req[32];
	snprintf(req, sizeof(req), "trigger %s", t);
	return simple("trigger", argv[1], req, REQ_TIMEOUT_MS, false);
}

int cmd_domid(int argc, char **argv)
{
	int i, u = one_domain("domid", argc, argv, 0, 0, &i);
	if (u)
		return USAGE_STATUS(u);
	argv += i - 1;
	struct life_state st;
	struct life_dom dom;
	if (cli_state(&st, "domid") < 0)
		return KXL_EXIT_ERROR;
	int r = cli_find(&st, "domid", argv[1], &dom);
	if (r == 0) {
		printf("%u\n", dom.domid);
		life_dom_free(&dom);
	}
	life_state_close(&st);
	return r < 0 ? KXL_EXIT_ERROR : 0;
}

int cmd_domname(int argc, char **argv)
{
	int i, u = one_domain("domname", argc, argv, 0, 0, &i);
	if (u)
		return USAGE_STATUS(u);
	argv += i - 1;
	char *end;
	strtoul(argv[1], &end, 10);
	if (!*argv[1] || *end) {
		fprintf(stderr, "kxl domname: `%s' is not a domain ID\n", argv[1]);
		return KXL_EXIT_USAGE;
	}
	struct life_state st;
	struct life_dom dom;
	if (cli_state(&st, "domname") < 0)
		return KXL_EXIT_ERROR;
	int r = cli_find(&st, "domname", argv[1], &dom);
	if (r == 0) {
		printf("%s\n", dom.name);
		life_dom_free(&dom);
	}
	life_state_close(&st);
	return r < 0 ? KXL_EXIT_ERROR : 0;
}

/* ---- shutdown and reboot ---- */
static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int shut_or_reboot(int argc, char **argv, bool reboot)
{
	const char *verb = reboot ? "reboot" : "shutdown";
	bool wait = false, all = false;
	long timeout = -1;
	int c;
	optind = 1;
	while ((c = cli_getopt(verb, argc, argv)) != -1) {
		switch (c) {
		case 'w': wait = true; break;
		case 'a': all = true; break;
		case 'F': break;	/* xl: fall back to ACPI; kxl always uses it */
		case 't': {
			char *end;
			timeout = strtol(optarg, &end, 10);
			if (*end || !*optarg || timeout < 0)
				return cli_usage_exit(verb, '?');
			break;
		}
		default:
			return cli_usage_exit(verb, c);
		}
	}
	if (all ? optind != argc : optind + 1 != argc)
		return cli_usage_exit(verb, '?');
	struct life_state st;
	if (cli_state(&st, verb) < 0)
		return KXL_EXIT_ERROR;
	struct life_dom *doms = NULL;
	size_t n = 0;
	struct kxl_diag d;
	kxl_diag_init(&d);
	int rc = 0;
	if (all) {
		if (life_list(&st, &doms, &n, &d) < 0)
			rc = KXL_EXIT_ERROR;
	} else {
		doms = calloc(1, sizeof(*doms));
		if (doms && life_find(&st, argv[optind], doms, &d) == 0)
			n = 1;
		else
			rc = KXL_EXIT_ERROR;
	}
	cli_life_err(verb, &d);
	/* With -w or --timeout, "shutdown wait" is answered when the domain
	 * has stopped: no stop can slip between the request and the wait. */
	bool waiting = wait || timeout >= 0;
	const char *req = reboot ? (waiting ? "reboot wait" : "reboot") :
			  (waiting ? "shutdown wait" : "shutdown");
	int *fds = calloc(n ? n : 1, sizeof(int));
	for (size_t i = 0; i < n; i++) {
		fds[i] = -1;
		if (!waiting) {
			if (life_request(&st, doms[i].name, req, NULL, REQ_TIMEOUT_MS, &d) < 0) {
				cli_life_err(verb, &d);
				rc = KXL_EXIT_ERROR;
			}
			continue;
		}
		fds[i] = life_connect(&st, doms[i].name, "ctl.sock", &d);
		char *line = NULL;
		if (fds[i] >= 0 && (asprintf(&line, "%s\n", req) < 0 ||
				    life_write_all(fds[i], line, strlen(line)) < 0)) {
			kxl_err(&d, "domain `%s': cannot send the request", doms[i].name);
			close(fds[i]);
			fds[i] = -1;
		}
		free(line);
		if (fds[i] < 0) {
			cli_life_err(verb, &d);
			rc = KXL_EXIT_ERROR;
		}
	}
	long long deadline = timeout >= 0 ? now_ms() + timeout * 1000 : 0;
	for (size_t i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		char line[512];
		int left = -1;
		if (deadline) {
			long long l = deadline - now_ms();
			left = l < 0 ? 0 : (int)l;
		}
		errno = 0;
		ssize_t got = life_read_line(fds[i], line, sizeof(line), left);
		int e = errno;
		close(fds[i]);
		if (got >= 0 && !strncmp(line, "error ", 6)) {
			fprintf(stderr, "kxl %s: %s\n", verb, line + 6);
			rc = KXL_EXIT_ERROR;
		} else if (got >= 0 || e != ETIMEDOUT) {
			printf("kxl: domain %s (ID %u) has %s%s%s\n", doms[i].name, doms[i].domid,
			       reboot ? "rebooted" : "shut down", got > 3 ? ": " : "",
			       got > 3 ? line + 3 : "");
		} else {
			fprintf(stderr, "kxl %s: domain %s did not shut down within %ld s: destroying it\n",
				verb, doms[i].name, timeout);
			if (life_request(&st, doms[i].name, "destroy", NULL, 60000, &d) < 0) {
				cli_life_err(verb, &d);
				rc = KXL_EXIT_ERROR;
			}
		}
	}
	fflush(stdout);
	free(fds);
	kxl_diag_free(&d);
	life_doms_free(doms, n);
	life_state_close(&st);
	return rc;
}

int cmd_shutdown(int argc, char **argv)
{
	return shut_or_reboot(argc, argv, false);
}

int cmd_reboot(int argc, char **argv)
{
	return shut_or_reboot(argc, argv, true);
}
