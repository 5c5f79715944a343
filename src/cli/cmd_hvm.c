/*
 * cmd_hvm.c: xl's verbs for the devices of an hvm domain's QEMU: cd-insert
 * and cd-eject (the medium of an emulated IDE CD-ROM, through the monitor
 * and QMP) and vncviewer (QEMU's VNC address from query-vnc, then a
 * `vncviewer HOST:DISPLAY' as xl runs it, or the address printed when no
 * viewer is installed). Each sends one request of docs/protocol.md; a pvh
 * domain's VMM answers with a clear error (it has no such device).
 */
#include "cli/cli.h"
#include "cli/cmd_life.h"
#include "cli/verbs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

#define REQ_TIMEOUT_MS 30000

/* One request to the domain domspec; 0 with *reply (caller frees) or -1
 * with the error said. */
static int request(const char *verb, const char *domspec, const char *req, char **reply)
{
	struct life_state st;
	struct life_dom dom;
	*reply = NULL;
	if (cli_state(&st, verb) < 0)
		return -1;
	if (cli_find(&st, verb, domspec, &dom) < 0) {
		life_state_close(&st);
		return -1;
	}
	struct kxl_diag d;
	kxl_diag_init(&d);
	int r = life_request(&st, dom.name, req, reply, REQ_TIMEOUT_MS, &d);
	if (r < 0)
		cli_life_err(verb, &d);
	kxl_diag_free(&d);
	life_dom_free(&dom);
	life_state_close(&st);
	return r;
}

/* Only -h, then exactly n arguments; argv[*first] is the first. */
static int args(const char *verb, int argc, char **argv, int n, int *first)
{
	optind = 1;
	int c = cli_getopt(verb, argc, argv);
	if (c != -1)	/* -h, or a bad option */
		return cli_usage_exit(verb, c) == 0 ? -2 : -1;
	if (argc - optind != n) {
		cli_usage(verb, stderr);
		return -1;
	}
	*first = optind;
	return 0;
}

#define USAGE_STATUS(u) ((u) == -2 ? 0 : KXL_EXIT_USAGE)

static bool bad_word(const char *verb, const char *what, const char *s)
{
	if (*s && !strpbrk(s, " \t\n"))
		return false;
	fprintf(stderr, "kxl %s: bad %s `%s'\n", verb, what, s);
	return true;
}

int cmd_cd_insert(int argc, char **argv)
{
	int i, u = args("cd-insert", argc, argv, 3, &i);
	if (u)
		return USAGE_STATUS(u);
	const char *vdev = argv[i + 1], *target = argv[i + 2];
	/* xl's target may carry a format prefix (raw:PATH); QEMU reads raw */
	if (!strncmp(target, "raw:", 4))
		target += 4;
	if (bad_word("cd-insert", "device", vdev) || !*target || strchr(target, '\n')) {
		if (!*target || strchr(target, '\n'))
			fprintf(stderr, "kxl cd-insert: bad file name `%s'\n", target);
		return KXL_EXIT_USAGE;
	}
	char *path;
	if (target[0] == '/') {
		path = strdup(target);
	} else {
		char *cwd = getcwd(NULL, 0);
		if (!cwd || asprintf(&path, "%s/%s", cwd, target) < 0)
			path = NULL;
		free(cwd);
	}
	if (!path || access(path, R_OK)) {
		fprintf(stderr, "kxl cd-insert: %s: %s\n", target, path ? strerror(errno) : "no memory");
		free(path);
		return KXL_EXIT_ERROR;
	}
	char *req = xasprintf("cd-insert %s %s", vdev, path), *reply = NULL;
	int r = request("cd-insert", argv[i], req, &reply);
	free(req);
	free(reply);
	free(path);
	return r < 0 ? KXL_EXIT_ERROR : 0;
}

int cmd_cd_eject(int argc, char **argv)
{
	int i, u = args("cd-eject", argc, argv, 2, &i);
	if (u)
		return USAGE_STATUS(u);
	if (bad_word("cd-eject", "device", argv[i + 1]))
		return KXL_EXIT_USAGE;
	char *req = xasprintf("cd-eject %s", argv[i + 1]), *reply = NULL;
	int r = request("cd-eject", argv[i], req, &reply);
	free(req);
	free(reply);
	return r < 0 ? KXL_EXIT_ERROR : 0;
}

/* Is prog an executable in PATH? */
static bool in_path(const char *prog)
{
	const char *p = getenv("PATH");
	char *copy = xstrdup(p && *p ? p : "/usr/local/bin:/usr/bin:/bin"), *save = NULL;
	bool found = false;
	for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
		char *f = xasprintf("%s/%s", dir, prog);
		found = access(f, X_OK) == 0;
		free(f);
	}
	free(copy);
	return found;
}

int cmd_vncviewer(int argc, char **argv)
{
	int i, u = args("vncviewer", argc, argv, 1, &i);
	if (u)
		return USAGE_STATUS(u);
	char *reply = NULL;
	if (request("vncviewer", argv[i], "vnc", &reply) < 0)
		return KXL_EXIT_ERROR;
	/* HOST:PORT, as query-vnc says; the viewer takes HOST:DISPLAY, as xl
	 * gives it (display = port - 5900) */
	char *colon = reply ? strrchr(reply, ':') : NULL;
	char *end;
	long port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || *end || port < 5900 || port > 65535) {
		fprintf(stderr, "kxl vncviewer: QEMU's VNC server is at `%s', not a HOST:PORT a "
			"viewer takes\n", reply ? reply : "");
		free(reply);
		return KXL_EXIT_ERROR;
	}
	*colon = 0;
	const char *host = reply;
	char *display = xasprintf("%s:%ld", host, port - 5900);
	const char *viewer = getenv("KXL_VNCVIEWER");
	if (!viewer || !*viewer)
		viewer = "vncviewer";
	if (!in_path(viewer) && !(viewer[0] == '/' && access(viewer, X_OK) == 0)) {
		printf("%s\n", display);
		fprintf(stderr, "kxl vncviewer: no %s installed (Debian: tigervnc-viewer); the domain's "
			"VNC server is at %s (port %ld)\n", viewer, display, port);
		free(display);
		free(reply);
		return KXL_EXIT_ERROR;
	}
	fflush(stdout);
	execlp(viewer, viewer, display, (char *)NULL);
	fprintf(stderr, "kxl vncviewer: cannot run %s: %s\n", viewer, strerror(errno));
	free(display);
	free(reply);
	return KXL_EXIT_ERROR;
}
