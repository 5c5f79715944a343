/*
 * load.c: reading a cfg file and its command-line settings into a model, as
 * `xl create CFG KEY=VALUE...' does; `/dev/null' as CFG means "command line
 * only".
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

static int load(struct loaded *ld, const char *path, int nset, char **sets, bool check_create)
{
	memset(ld, 0, sizeof(*ld));
	kxl_diag_init(&ld->diag);
	kxl_cfg_init(&ld->cfg);
	kxl_conf_defaults(&ld->conf);
	if (kxl_conf_load(&ld->conf, "/etc/kxl/kxl.conf", &ld->diag)) return -1;
	int errs = kxl_cfg_parse_file(&ld->cfg, path, &ld->diag);
	for (int i = 0; i < nset; i++)
		errs += kxl_cfg_parse_arg(&ld->cfg, sets[i], &ld->diag);
	if (errs || ld->diag.errors) {
		if (ld->cfg.python)
			kxl_diag_add(&ld->diag, KXL_NOTE, &(struct kxl_loc){ .file = path },
				     "the file looks like it contains Python code: arbitrary Python is no "
				     "longer supported in xl.cfg");
		return -1;
	}
	if (kxl_domain_from_cfg(&ld->dom, &ld->cfg, &ld->conf, &ld->diag)) return -1;
	if (check_create && kxl_domain_check_create(&ld->dom, &ld->cfg, &ld->diag)) return -1;
	ld->ok = true;
	return 0;
}

int cli_load(struct loaded *ld, const char *path, int nset, char **sets, bool check_create)
{
	int r = load(ld, path, nset, sets, check_create);
	kxl_diag_sort(&ld->diag);	/* in line order, whichever stage found them */
	return r;
}

void cli_unload(struct loaded *ld)
{
	kxl_domain_free(&ld->dom);
	kxl_cfg_free(&ld->cfg);
	kxl_conf_free(&ld->conf);
	kxl_diag_free(&ld->diag);
}

void cli_print_diag(const struct kxl_diag *d, bool quiet)
{
	for (size_t i = 0; i < d->n; i++) {
		if (quiet && d->v[i].sev < KXL_ERROR) continue;
		kxl_msg_print(&d->v[i], stderr);
	}
	if (d->n < d->errors + d->warnings)
		fprintf(stderr, "kxl: %zu more messages not shown\n", d->errors + d->warnings - d->n);
}

void cli_print_new(struct loaded *ld, bool quiet)
{
	struct kxl_diag *d = &ld->diag;
	for (size_t i = ld->printed; i < d->n; i++) {
		if (quiet && d->v[i].sev < KXL_ERROR) continue;
		kxl_msg_print(&d->v[i], stderr);
	}
	ld->printed = d->n;
}
