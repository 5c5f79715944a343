/*
 * cmd_check.c: `kxl check [--json] [--strict] CFG...': every error, warning
 * and deprecation in each file, including the checks libxl makes at create
 * time that `xl -N' skips, the files create would read (kernel, ramdisk,
 * modules, firmware, disk images) and, for a pvh guest, whether kxl can
 * boot its kernel. Exit 0 accepted, 1 refused, 2 usage or I/O.
 */
#include "cli/cli.h"
#include "cli/verbs.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A pvh guest that create would boot: build its image in memory, as
 * `kxl layout' does, so that a kernel kxl cannot boot is refused here and
 * not at create. Nothing runs. Returns -1 when the build fails. */
static int probe_boot(struct loaded *ld)
{
	const struct kxl_domain *dom = &ld->dom;
	if ((dom->type != KXL_TYPE_PVH && !(dom->type == KXL_TYPE_PV && dom->bootloader)) ||
	    dom->pvshim)
		return 0;
	struct kxl_boot_spec spec;
	struct kxl_bootloader bl;
	struct kxl_guest_image img;
	struct kxl_diag d;
	kxl_diag_init(&d);
	int r = 0;
	if (!cli_boot_spec(dom, false, &spec, &bl, NULL, &d)) {
		if (kxl_boot_build(&spec, &img, &d))
			r = -1;
		else
			kxl_guest_image_free(&img);
		cli_boot_spec_free(&spec, &bl);
	} else {
		r = -1;
	}
	/* what the bootloader found, said at bootloader= */
	const struct kxl_cfg_setting *bs = dom->bootloader ? kxl_cfg_find(&ld->cfg, "bootloader") : NULL;
	for (size_t i = 0; bs && !r && i < d.n; i++)
		if (d.v[i].sev == KXL_NOTE && !strncmp(d.v[i].msg, "bootloader: ", 12)) {
			struct kxl_loc bloc = kxl_cfg_loc(&bs->value->pos);
			kxl_diag_add(&ld->diag, KXL_NOTE, &bloc, "%s", d.v[i].msg);
		}
	if (r) {
		/* at the key that names the kernel, with the builder's reasons */
		const char *key = dom->bootloader ? "bootloader" : dom->has_modules ? "modules" :
				  dom->pvh_firmware ? "firmware" : "kernel";
		const struct kxl_cfg_setting *s = kxl_cfg_find(&ld->cfg, key);
		struct kxl_loc l = s ? kxl_cfg_loc(&s->value->pos) : (struct kxl_loc){ .file = ld->cfg.path };
		for (size_t i = 0; i < d.n; i++)
			if (d.v[i].sev == KXL_ERROR)
				kxl_diag_add(&ld->diag, KXL_ERROR, &l, "kxl cannot boot `%s': %s",
					     dom->bootloader ? dom->bootloader : dom->kernel ? dom->kernel :
					     "the kernel", d.v[i].msg);
	}
	kxl_diag_free(&d);
	return r;
}

int cmd_check(int argc, char **argv)
{
	bool json = false, strict = false;
	int c;
	optind = 1;
	while ((c = cli_getopt("check", argc, argv)) != -1) {
		if (c == 'j') json = true;
		else if (c == 's') strict = true;
		else return cli_usage_exit("check", c);
	}
	if (optind >= argc) return cli_usage_exit("check", '?');
	int rc = 0;
	json_object *out = json ? json_object_new_array() : NULL;
	for (int i = optind; i < argc; i++) {
		struct loaded ld;
		if (access(argv[i], R_OK)) {
			fprintf(stderr, "%s: cannot read: %s\n", argv[i], strerror(errno));
			rc = 2;
			continue;
		}
		int r = cli_load(&ld, argv[i], 0, NULL, true);
		if (!r && probe_boot(&ld))
			r = -1;
		bool refused = r || (strict && ld.diag.warnings);
		if (json) {
			json_object *f = json_object_new_object();
			json_object_object_add(f, "file", json_object_new_string(argv[i]));
			json_object_object_add(f, "accepted", json_object_new_boolean(!refused));
			json_object *msgs = json_object_new_array();
			for (size_t k = 0; k < ld.diag.n; k++) {
				const struct kxl_msg *m = &ld.diag.v[k];
				json_object *o = json_object_new_object();
				json_object_object_add(o, "severity", json_object_new_string(kxl_severity_name(m->sev)));
				json_object_object_add(o, "file", json_object_new_string(m->loc.file ? m->loc.file : argv[i]));
				json_object_object_add(o, "line", json_object_new_int(m->loc.line));
				json_object_object_add(o, "column", json_object_new_int(m->loc.col));
				json_object_object_add(o, "message", json_object_new_string(m->msg));
				json_object_array_add(msgs, o);
			}
			json_object_object_add(f, "messages", msgs);
			json_object_array_add(out, f);
		} else {
			cli_print_diag(&ld.diag, false);
			printf("%s: %s (%zu error%s, %zu warning%s)\n", argv[i], refused ? "refused" : "accepted",
			       ld.diag.errors, ld.diag.errors == 1 ? "" : "s", ld.diag.warnings,
			       ld.diag.warnings == 1 ? "" : "s");
		}
		if (refused && rc == 0) rc = 1;
		cli_unload(&ld);
	}
	if (json) {
		puts(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(out);
	}
	return rc;
}
