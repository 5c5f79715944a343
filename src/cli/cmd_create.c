/*
 * cmd_create.c: `kxl create [OPTIONS] CFG [KEY=VALUE...]' (options: verbs.c).
 * -n prints libxl's domain config as JSON (what `xl -N create' prints) and
 * exits; otherwise the domain is built and run (src/boot, src/vmm).
 */
#include "cli/cli.h"
#include "cli/verbs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_run_domain(struct loaded *ld, bool foreground, bool console, bool paused,
		   bool quiet, const char *boot_protocol);

int cmd_create(int argc, char **argv)
{
	bool dry = false, quiet = false, fg = false, console = false, paused = false;
	const char *proto = NULL;
	int c;
	optind = 1;
	while ((c = cli_getopt("create", argc, argv)) != -1) {
		switch (c) {
		case 'n': dry = true; break;
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
	int r = cli_load(&ld, path, argc - optind - 1, argv + optind + 1, !dry);
	cli_print_new(&ld, quiet);
	if (r) {
		if (!ld.diag.errors)
			fprintf(stderr, "%s: refused\n", path);
		cli_unload(&ld);
		return KXL_EXIT_ERROR;
	}
	int rc = 0;
	if (dry) {
		char *json = kxl_domain_json(&ld.dom);
		fputs(json, stdout);
		free(json);
	} else {
		rc = cli_run_domain(&ld, fg, console, paused, quiet, proto);
	}
	cli_unload(&ld);
	return rc;
}
