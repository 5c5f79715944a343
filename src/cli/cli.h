/*
 * cli.h: shared pieces of the kxl command (src/cli): loading a cfg with its
 * command-line settings into a model, and printing diagnostics.
 */
#ifndef KXL_CLI_H
#define KXL_CLI_H

#include <kxl/cfg.h>
#include <kxl/diag.h>
#include <kxl/model.h>
#include <kxl/bootloader.h>

/* Exit codes: enum kxl_vmm_exit in include/kxl/vmm.h (table in kxl(1)). */

struct loaded {
	struct kxl_cfg cfg;
	struct kxl_conf conf;
	struct kxl_domain dom;
	struct kxl_diag diag;
	size_t printed;		/* diag messages cli_print_new() has shown */
	bool ok;
};

/* Parses path plus the KEY=VALUE settings and builds the model. */
int cli_load(struct loaded *ld, const char *path, int nset, char **sets, bool check_create);
void cli_unload(struct loaded *ld);
void cli_print_diag(const struct kxl_diag *d, bool quiet);
/* The messages of ld->diag not shown yet (create prints the config's
 * warnings before the run and the run's messages after it: each once). */
void cli_print_new(struct loaded *ld, bool quiet);

/* The domain's boot specification; with bootloader = "pygrub", after
 * running kxl's bootloader on its first disk (bootspec.c), its menu on the
 * terminal when interactive. bl holds the memfds and names spec points
 * to. bl_from (NULL: not wanted) gets the index in d where the
 * bootloader's messages begin (d->n without a bootloader): they hold for
 * this boot only. Returns 0 or -1 (the cause in d). */
int cli_boot_spec(const struct kxl_domain *dom, bool interactive, struct kxl_boot_spec *spec,
		  struct kxl_bootloader *bl, size_t *bl_from, struct kxl_diag *d);
void cli_boot_spec_free(struct kxl_boot_spec *spec, struct kxl_bootloader *bl);

int cmd_create(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_layout(int argc, char **argv);

#endif
