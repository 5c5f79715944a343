/*
 * run.c: building and running a domain from its model (create without -n).
 */
#include "cli/cli.h"

#include <stdio.h>

int cli_run_domain(struct loaded *ld, bool foreground, bool console, bool paused,
		   bool quiet, const char *boot_protocol);

int cli_run_domain(struct loaded *ld, bool foreground, bool console, bool paused,
		   bool quiet, const char *boot_protocol)
{
	(void)foreground; (void)console; (void)paused; (void)quiet; (void)boot_protocol;
	struct kxl_boot_spec spec;
	if (kxl_domain_boot_spec(&ld->dom, &spec, &ld->diag)) {
		cli_print_diag(&ld->diag, false);
		return KXL_EXIT_REFUSED;
	}
	kxl_boot_spec_free(&spec);
	fprintf(stderr, "kxl create: running guests is not wired up yet\n");
	return KXL_EXIT_REFUSED;
}
