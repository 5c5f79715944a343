/*
 * cmd_create.c: `kxl create [OPTIONS] CFG [KEY=VALUE...]' (options: verbs.c).
 * -n prints libxl's domain config as JSON (what `xl -N create' prints) and
 * exits; --dry-run-dm prints the QEMU command line of an hvm domain (src/dm),
 * one argument a line, and exits; otherwise the domain is built and run
 * (src/boot, src/vmm).
 */
#include "cli/cli.h"
#include "cli/verbs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kxl/dm.h>

int cli_run_domain(struct loaded *ld, bool foreground, bool console, bool paused,
		   bool quiet, const char *boot_protocol);

/* --dry-run-dm: what create would run, with placeholders for what only
 * create knows (the QMP socket, the variable store's copy); the domain ID
 * is 0 there. SOURCE_DATE_EPOCH, when set, is "now" (rtc_timeoffset). */
static int print_dm(struct loaded *ld, bool quiet)
{
	if (ld->dom.type != KXL_TYPE_HVM) {
		fprintf(stderr, "kxl create: --dry-run-dm: %s is not an hvm domain (QEMU runs type = "
			"\"hvm\" domains only)\n", ld->dom.name ? ld->dom.name : "the domain");
		return KXL_EXIT_ERROR;
	}
	struct kxl_dm_opts o = { .qmp_fd = -1, .now = (long long)time(NULL) };
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		errno = 0;
		long long t = strtoll(sde, &end, 10);
		if (!errno && !*end)
			o.now = t;
	}
	struct kxl_dm_argv a;
	int r = kxl_dm_args(&ld->dom, &ld->cfg, &o, &a, &ld->diag);
	cli_print_new(ld, quiet);
	if (r) {
		if (!ld->diag.errors)
			fprintf(stderr, "%s: refused\n", ld->cfg.path);
		return KXL_EXIT_ERROR;
	}
	for (size_t i = 0; i < a.n; i++)
		puts(a.v[i]);
	kxl_dm_argv_free(&a);
	return 0;
}

int cmd_create(int argc, char **argv)
{
	bool dry = false, dry_dm = false, quiet = false, fg = false, console = false, paused = false;
	const char *proto = NULL;
	int c;
	optind = 1;
	while ((c = cli_getopt("create", argc, argv)) != -1) {
		switch (c) {
		case 'n': dry = true; break;
		case 'D': dry_dm = true; break;
		case 'q': quiet = true; break;
		case 'F': fg = true; break;
		case 'c': console = true; break;
		case 'p': paused = true; break;
		case 'f': break;	/* xl's -f CFG: the file is the first argument anyway */
		case 'B':
			if (strcmp(optarg, "pvh") && strcmp(optarg, "linux") && strcmp(optarg, "auto")) {
				fprintf(stderr, "kxl create: --boot-protocol is pvh, linux or auto\n");
				return KXL_EXIT_USAGE;
			}
			proto = optarg;
			break;
		default:
			return cli_usage_exit("create", c);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "kxl create: no config file given\n");
		return KXL_EXIT_USAGE;
	}
	const char *path = argv[optind];
	for (int i = optind + 1; i < argc; i++)
		if (!strchr(argv[i], '=')) {
			fprintf(stderr, "kxl create: `%s' is not a KEY=VALUE setting (settings after the config "
				"file are in config syntax, e.g. 'name=\"x\"')\n", argv[i]);
			return KXL_EXIT_USAGE;
		}
	struct loaded ld;
	int r = cli_load(&ld, path, argc - optind - 1, argv + optind + 1, !dry && !dry_dm);
	cli_print_new(&ld, quiet);
	if (r) {
		if (!ld.diag.errors)
			fprintf(stderr, "%s: refused\n", path);
		cli_unload(&ld);
		return KXL_EXIT_ERROR;
	}
	int rc = 0;
	if (dry_dm) {
		rc = print_dm(&ld, quiet);
	} else if (dry) {
		char *json = kxl_domain_json(&ld.dom);
		fputs(json, stdout);
		free(json);
	} else {
		rc = cli_run_domain(&ld, fg, console, paused, quiet, proto);
	}
	cli_unload(&ld);
	return rc;
}
