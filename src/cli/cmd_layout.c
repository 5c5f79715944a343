/*
 * cmd_layout.c: `kxl layout [--json] [--boot-protocol=pvh|linux|auto] CFG
 * [KEY=VALUE...]': builds the guest image of a pvh config into memory, as
 * create would, and prints the load plan: every region with its address,
 * size and source file, the Xen notes found, the boot protocol and why, the
 * entry point, and what was done with each module. Nothing runs.
 */
#include "cli/cli.h"
#include "cli/verbs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_layout(int argc, char **argv)
{
	bool json = false;
	enum kxl_boot_protocol proto = KXL_BOOT_PROTO_AUTO;
	int c;
	optind = 1;
	while ((c = cli_getopt("layout", argc, argv)) != -1) {
		if (c == 'j') {
			json = true;
		} else if (c == 'B' && (!strcmp(optarg, "pvh") || !strcmp(optarg, "linux") || !strcmp(optarg, "auto"))) {
			proto = !strcmp(optarg, "pvh") ? KXL_BOOT_PROTO_PVH :
				!strcmp(optarg, "linux") ? KXL_BOOT_PROTO_LINUX : KXL_BOOT_PROTO_AUTO;
		} else {
			return cli_usage_exit("layout", c);
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "kxl layout: no config file given\n");
		return KXL_EXIT_USAGE;
	}
	struct loaded ld;
	if (cli_load(&ld, argv[optind], argc - optind - 1, argv + optind + 1, true)) {
		cli_print_diag(&ld.diag, false);
		cli_unload(&ld);
		return KXL_EXIT_ERROR;
	}
	struct kxl_boot_spec spec;
	struct kxl_bootloader bl;
	struct kxl_guest_image img;
	int rc = KXL_EXIT_ERROR;
	if (!cli_boot_spec(&ld.dom, false, &spec, &bl, NULL, &ld.diag)) {
		spec.protocol = proto;
		spec.serial_console = true;
		if (!kxl_boot_build(&spec, &img, &ld.diag)) {
			char *plan = json ? kxl_boot_plan_json(&img) : kxl_boot_plan_text(&img);
			fputs(plan, stdout);
			if (plan[0] && plan[strlen(plan) - 1] != '\n') putchar('\n');
			free(plan);
			rc = 0;
		}
		kxl_guest_image_free(&img);
		cli_boot_spec_free(&spec, &bl);
	}
	cli_print_diag(&ld.diag, false);
	cli_unload(&ld);
	return rc;
}
