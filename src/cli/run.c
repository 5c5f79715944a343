/*
 * run.c: building and running a domain from its model: `kxl create' without
 * -n. The model gives the VMM a plain-value spec (boot specification,
 * actions, clock, console); the VMM builds, runs and restarts the guest.
 * With -F that happens here in the foreground; otherwise src/life starts a
 * per-domain monitor in the background (with the resolved config and the
 * defaults filled for `list -l') and this returns once the domain runs,
 * printing its name and ID, or attaching its console with -c.
 * Disks become the VMM's virtio disks (kxl_domain_vmm_disks: what KVM
 * cannot serve is refused here, and the kernel command line's Xen disk
 * names are rewritten to the guest's); vifs its virtio network interfaces
 * (kxl_domain_vmm_nics). Devices the VMM does not have yet
 * are left out with one warning each.
 */
#include "cli/cli.h"
#include "cli/cmd_life.h"
#include "life/life.h"
#include "util/util.h"

#include <stdarg.h>

#include <json-c/json.h>
#include <kxl/dm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cli_run_domain(struct loaded *ld, bool foreground, bool console, bool paused,
		   bool quiet, const char *boot_protocol);

__attribute__((format(printf, 1, 2)))
static char *xasprintf_cli(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) s = NULL;
	va_end(ap);
	return s;
}

static void warn_devices(const struct kxl_domain *dom)
{
	static const char *const keys[][2] = { { "pcidevs", "pci" },
		{ "vfbs", "vfb" }, { "vtpms", "vtpm" }, { "p9s", "p9" }, { "channels", "channel" },
		{ "usbctrls", "usbctrl" }, { "usbdevs", "usbdev" }, { "pvcallsifs", "pvcalls" }, { "dtdevs", "dtdev" } };
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_object *a;
		if (!json_object_object_get_ex(dom->config, keys[i][0], &a)) continue;
		for (size_t j = 0; j < json_object_array_length(a); j++)
			fprintf(stderr, "kxl: warning: %s device %zu is not attached: kxl does not provide "
				"`%s' devices yet\n", keys[i][1], j, keys[i][1]);
	}
}

static void on_event(void *opaque, const struct kxl_vmm_event *ev)
{
	bool quiet = *(bool *)opaque;
	if (quiet) return;
	if (ev->type == KXL_EV_RESTARTING)
		fprintf(stderr, "kxl: restarting the domain%s\n", ev->rename ? " (rename-restart: the name is kept "
			"under -F)" : "");
	else if (ev->type == KXL_EV_CORE_WRITTEN)
		fprintf(stderr, "kxl: core written to %s\n", ev->detail);
	else if (ev->type == KXL_EV_PRESERVED)
		fprintf(stderr, "kxl: the domain is preserved, paused; send SIGTERM to destroy it\n");
}

/* Messages [from, to) of a diag: those that hold for the first boot only. */
struct boot_range {
	size_t from, to;
};

static bool in_ranges(const struct boot_range *br, size_t n, size_t i)
{
	for (size_t k = 0; k < n; k++)
		if (i >= br[k].from && i < br[k].to)
			return true;
	return false;
}

/* What kxl changed to run this Xen config on KVM, for `list -l' (kvm.json):
 * {"changes": [the notes of this step, as said on stderr], "disks":
 * [{"vdev": "xvda", "guest": "/dev/vda"}, ...]}, or NULL when there is
 * nothing to say. The notes in the boot ranges are left out (the monitor
 * records each boot's with that boot, from kxl_vmm_spec.boot_notes for the
 * first: boot_notes() gives them). */
static char *kvm_json(const struct kxl_diag *d, const struct kxl_domain_disks *disks,
		      const struct boot_range *br, size_t nbr)
{
	json_object *o = json_object_new_object(), *ch = json_object_new_array();
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].sev == KXL_NOTE && !in_ranges(br, nbr, i))
			json_object_array_add(ch, json_object_new_string(d->v[i].msg));
	bool any = json_object_array_length(ch) > 0;
	json_object_object_add(o, "changes", ch);
	if (disks->n) {
		json_object *dv = json_object_new_array();
		for (size_t i = 0; i < disks->n; i++) {
			json_object *e = json_object_new_object();
			char g[48];
			snprintf(g, sizeof(g), "/dev/%s", disks->v[i].guest_name);
			json_object_object_add(e, "vdev", json_object_new_string(disks->v[i].vdev));
			json_object_object_add(e, "guest", json_object_new_string(g));
			json_object_array_add(dv, e);
		}
		json_object_object_add(o, "disks", dv);
		any = true;
	}
	char *s = any ? strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE)) : NULL;
	json_object_put(o);
	return s;
}

/* The notes in the boot ranges, one a line, or NULL. */
static char *boot_notes(const struct kxl_diag *d, const struct boot_range *br, size_t nbr)
{
	struct sbuf s = { 0 };
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].sev == KXL_NOTE && in_ranges(br, nbr, i))
			sbuf_printf(&s, "%s\n", d->v[i].msg);
	return s.s;
}

/* The config as `list -l' shows it: libxl's defaults filled in. */
static char *filled_json(const struct kxl_domain *dom, struct kxl_diag *d)
{
	char *json = kxl_domain_json(dom);
	struct kxl_domain copy;
	char *out = NULL;
	if (kxl_domain_from_json(&copy, json, d) == 0) {
		kxl_domain_fill_defaults(&copy);
		out = kxl_domain_json(&copy);
	}
	kxl_domain_free(&copy);
	free(json);
	return out;
}

static int run_background(struct loaded *ld, struct kxl_vmm_spec *spec, const char *kvm, bool console,
			  bool quiet)
{
	struct life_state st;
	struct kxl_diag d;
	unsigned domid = 0;
	int code = KXL_EXIT_ERROR;
	kxl_diag_init(&d);
	if (life_state_open(&st, &d) < 0) {
		cli_print_diag(&d, quiet);
		kxl_diag_free(&d);
		return KXL_EXIT_ERROR;
	}
	char *json = filled_json(&ld->dom, &d);
	if (json) {
		struct life_create c = {
			.spec = spec, .config_json = json, .kvm_json = kvm,
			.mem_kb = spec->boot.mem_bytes / 1024, .vcpus = spec->boot.vcpus,
		};
		if (life_start(&st, &c, &domid, &d) == 0)
			code = 0;
	}
	free(json);
	cli_print_diag(&d, quiet);
	kxl_diag_free(&d);
	if (code == 0 && !quiet)
		printf("kxl: domain %s started with ID %u\n", spec->name, domid);
	fflush(stdout);
	if (code == 0 && console)
		code = cli_console_attach(&st, spec->name, quiet);
	life_state_close(&st);
	return code;
}

/* -F: the domain runs here, under a monitor in this process, so that it is
 * listed and reachable like a background one. Without a usable state
 * directory it runs all the same, unlisted. */
static int run_here(struct loaded *ld, struct kxl_vmm_spec *spec, const char *kvm,
		    struct kxl_vmm_result *res, bool quiet)
{
	struct life_state st;
	struct kxl_diag d;
	kxl_diag_init(&d);
	if (life_state_open(&st, &d) < 0) {
		if (!quiet)
			fprintf(stderr, "kxl: warning: %s; %s runs without being listed\n",
				d.n ? d.v[0].msg : "no state directory", spec->name);
		kxl_diag_free(&d);
		char *log = NULL;
		if (spec->console_out < 0) {
			const char *dir = getenv("XDG_RUNTIME_DIR");
			log = getuid() == 0 ? xasprintf_cli("/var/log/kxl-%s.log", spec->name) :
			      xasprintf_cli("%s/kxl-%s.log", dir ? dir : "/tmp", spec->name);
			spec->console_log = log;
			fprintf(stderr, "kxl: console output of %s goes to %s\n", spec->name, log);
		}
		int r = (spec->runner ? spec->runner : kxl_vmm_run)(spec, res, &ld->diag);
		free(log);
		return r;
	}
	if (spec->console_out < 0) {
		/* the monitor keeps it: logged, and `kxl console' attaches */
		char *log = life_log_path(&st, spec->name, "console.log");
		fprintf(stderr, "kxl: console output of %s goes to %s (kxl console %s attaches)\n",
			spec->name, log, spec->name);
		free(log);
	}
	char *dump = life_dump_dir_or_state(&st, &d);
	cli_print_diag(&d, quiet);
	kxl_diag_free(&d);
	spec->dump_dir = dump;
	char *json = filled_json(&ld->dom, &ld->diag);
	int r = -1;
	if (json) {
		struct life_create c = {
			.spec = spec, .config_json = json, .kvm_json = kvm,
			.mem_kb = spec->boot.mem_bytes / 1024, .vcpus = spec->boot.vcpus,
		};
		r = life_run_here(&st, &c, res, &ld->diag);
	}
	free(json);
	/* dump stays: a straggling control thread of the monitor may read it */
	life_state_close(&st);
	return r;
}

/* create -F: the domain runs in this process, its console on ours with -c;
 * returns kxl's exit status for its end. */
static int run_foreground(struct loaded *ld, struct kxl_vmm_spec *spec, const char *kvm,
			  bool console, bool quiet)
{
	spec->handle_signals = true;
	spec->log_fd = quiet ? -1 : 2;
	spec->on_event = on_event;
	spec->opaque = &quiet;
	if (console) {
		spec->console_in = 0;
		spec->console_out = 1;
	}
	struct kxl_vmm_result res = { 0 };
	int r = run_here(ld, spec, kvm, &res, quiet);
	cli_print_new(ld, quiet);
	int code = r ? KXL_EXIT_ERROR : kxl_vmm_exit_code(res.outcome);
	if (!r && !quiet)
		fprintf(stderr, "kxl: domain %s: %s\n", spec->name, kxl_vmm_outcome_name(res.outcome));
	kxl_vmm_result_free(&res);
	return code;
}

/* An hvm domain: QEMU under kxl_dm_run (src/dm/run.c), with the monitor
 * and the verbs as for a pvh one. */
static int run_hvm(struct loaded *ld, bool foreground, bool console, bool paused, bool quiet)
{
	struct kxl_vmm_spec spec;
	kxl_vmm_spec_init(&spec);
	kxl_diag_clear(&ld->diag);
	/* the command line is checked now, before anything starts */
	struct kxl_domain_nics nics;
	if (kxl_domain_vmm_nics(&ld->dom, &ld->cfg, &nics, &ld->diag)) {
		cli_print_diag(&ld->diag, false);
		return KXL_EXIT_ERROR;
	}
	struct kxl_dm_opts o = { .qmp_fd = -1, .nics = nics.v, .nr_nics = nics.n,
				 .unprivileged = geteuid() != 0 };
	struct kxl_dm_argv a;
	if (kxl_dm_args(&ld->dom, &ld->cfg, &o, &a, &ld->diag)) {
		cli_print_diag(&ld->diag, false);
		kxl_domain_nics_free(&nics);
		return KXL_EXIT_ERROR;
	}
	kxl_dm_argv_free(&a);
	cli_print_diag(&ld->diag, quiet);
	/* the notes of the mapping (a disk or NIC model QEMU lacks, ...), kept
	 * for list -l as the pvh path keeps its changes */
	struct kxl_domain_disks no_disks = { 0 };
	char *kvm = kvm_json(&ld->diag, &no_disks, NULL, 0);
	kxl_diag_clear(&ld->diag);
	const char *rt = getenv("XDG_RUNTIME_DIR");
	char *dir = xasprintf_cli("%s/kxl-hvm-XXXXXX", getuid() == 0 || !rt ? "/tmp" : rt);
	if (!dir || !mkdtemp(dir)) {
		fprintf(stderr, "kxl: cannot make a directory for the domain's QEMU: %m\n");
		free(kvm);
		free(dir);
		kxl_domain_nics_free(&nics);
		return KXL_EXIT_ERROR;
	}
	/* OVMF's variable store lives as long as the domain's name */
	char *nvram = NULL;
	if (kxl_dm_uses_ovmf(&ld->dom)) {
		struct kxl_diag nd;
		kxl_diag_init(&nd);
		nvram = life_nvram_path(ld->dom.name, true, &nd);
		if (!nvram)
			fprintf(stderr, "kxl: warning: %s; OVMF's variables of %s last until it ends\n",
				nd.n ? nd.v[0].msg : "no NVRAM directory", ld->dom.name);
		kxl_diag_free(&nd);
	}
	struct kxl_dm_run_arg arg = { .dom = &ld->dom, .cfg = &ld->cfg, .dir = dir,
				      .vars_path = nvram, .on_watchdog = ld->dom.on_watchdog };
	spec.runner = kxl_dm_run;
	spec.runner_arg = &arg;
	spec.name = ld->dom.name;
	spec.on_poweroff = ld->dom.on_poweroff;
	spec.on_reboot = ld->dom.on_reboot;
	spec.on_crash = ld->dom.on_crash;
	spec.start_paused = paused;
	spec.nics = nics.v;
	spec.nr_nics = nics.n;
	spec.boot.mem_bytes = (ld->dom.target_memkb ? ld->dom.target_memkb : 32 * 1024) * 1024;
	spec.boot.vcpus = ld->dom.vcpus ? ld->dom.vcpus : 1;
	int code;
	if (!foreground) {
		code = run_background(ld, &spec, kvm, console, quiet);
	} else {
		code = run_foreground(ld, &spec, kvm, console, quiet);
	}
	if (code && !foreground)
		rmdir(dir);
	free(kvm);
	free(dir);
	free(nvram);
	kxl_domain_nics_free(&nics);
	return code;
}

/* The bootloader at each restart, as libxl runs it at every build: a guest
 * that installed a new kernel (or changed its grub.cfg) and rebooted boots
 * what its disk now says, chosen as at the first boot but without the menu
 * (the default, or bootloader_args' --entry). The monitor of a background
 * domain is a fork of this process and has its own copy. */
struct reboot_bl {
	const struct kxl_domain *dom;
	const struct kxl_domain_disks *disks;
	struct kxl_bootloader *first;	/* the first boot's, freed at the first restart */
	struct kxl_bootloader bl;	/* the last restart's memfds and names */
	struct kxl_boot_module *mods;	/* the last restart's module list */
	char *cmdline;			/* its command line with the guest's disk names */
};

static void reboot_bl_free(struct reboot_bl *rb)
{
	kxl_bootloader_free(&rb->bl);
	free(rb->mods);
	free(rb->cmdline);
	rb->mods = NULL;
	rb->cmdline = NULL;
}

static int reboot_bootloader(void *arg, struct kxl_boot_spec *b, struct kxl_diag *d)
{
	struct reboot_bl *rb = arg;
	struct kxl_boot_spec t = *b;
	t.modules = NULL;	/* kxl_bootloader_boot frees it and makes its own */
	struct kxl_bootloader nbl;
	if (kxl_bootloader_boot(rb->dom, false, &t, &nbl, d)) {
		free((void *)t.modules);
		kxl_bootloader_free(&nbl);
		return -1;
	}
	char *cmd = nbl.cmdline ? kxl_cmdline_map_disks(nbl.cmdline, rb->disks->v, rb->disks->n, d) : NULL;
	if (cmd)
		t.cmdline = cmd;
	reboot_bl_free(rb);	/* the previous build is done with them */
	if (rb->first) {
		/* the first boot's memfds too (spec->boot is not built from again:
		 * every restart comes here first) */
		kxl_bootloader_free(rb->first);
		rb->first = NULL;
	}
	rb->bl = nbl;
	rb->mods = (struct kxl_boot_module *)t.modules;
	rb->cmdline = cmd;
	*b = t;
	return 0;
}

int cli_run_domain(struct loaded *ld, bool foreground, bool console, bool paused,
		   bool quiet, const char *boot_protocol)
{
	if (ld->dom.type == KXL_TYPE_HVM)
		return run_hvm(ld, foreground, console, paused, quiet);
	struct kxl_vmm_spec spec;
	kxl_vmm_spec_init(&spec);
	/* The notes of the load were printed by cmd_create; from here on d
	 * holds this step's: the pv note, the disks, the command line's
	 * rewrites. They are said now, once, before the guest runs. */
	kxl_diag_clear(&ld->diag);
	struct kxl_bootloader bl;
	/* the bootloader's notes and its command line's rewrites hold for the
	 * first boot only: a restart runs it again (reboot_bootloader) */
	struct boot_range br[2] = { { 0, 0 }, { 0, 0 } };
	if (cli_boot_spec(&ld->dom, console && !quiet && isatty(0) && isatty(1), &spec.boot, &bl,
			  &br[0].from, &ld->diag)) {
		cli_print_new(ld, false);
		return KXL_EXIT_ERROR;
	}
	br[0].to = ld->diag.n;
	if (boot_protocol)
		spec.boot.protocol = !strcmp(boot_protocol, "linux") ? KXL_BOOT_PROTO_LINUX :
				     !strcmp(boot_protocol, "pvh") ? KXL_BOOT_PROTO_PVH : KXL_BOOT_PROTO_AUTO;
	struct kxl_domain_disks disks;
	if (kxl_domain_vmm_disks(&ld->dom, &ld->cfg, &disks, &ld->diag)) {
		cli_print_diag(&ld->diag, false);
		cli_boot_spec_free(&spec.boot, &bl);
		return KXL_EXIT_ERROR;
	}
	spec.disks = disks.v;
	spec.nr_disks = disks.n;
	/* vifs become virtio-net devices on taps that the VMM makes once the
	 * domain has its ID (src/vmm/net-host.c) */
	struct kxl_domain_nics nics;
	if (kxl_domain_vmm_nics(&ld->dom, &ld->cfg, &nics, &ld->diag)) {
		cli_print_diag(&ld->diag, false);
		cli_boot_spec_free(&spec.boot, &bl);
		kxl_domain_disks_free(&disks);
		return KXL_EXIT_ERROR;
	}
	spec.nics = nics.v;
	spec.nr_nics = nics.n;
	/* the Xen disk names in the command line become the guest's; the
	 * bootloader's arguments are mapped as cmdline= is */
	br[1].from = ld->diag.n;
	char *blcmd = bl.cmdline ? kxl_cmdline_map_disks(bl.cmdline, disks.v, disks.n, &ld->diag) : NULL;
	br[1].to = ld->diag.n;
	if (blcmd)
		spec.boot.cmdline = blcmd;
	else if (disks.cmdline && !ld->dom.bootloader)
		spec.boot.cmdline = disks.cmdline;
	cli_print_diag(&ld->diag, quiet);
	char *kvm = kvm_json(&ld->diag, &disks, br, 2);	/* the same notes, kept for list -l */
	char *first_boot = boot_notes(&ld->diag, br, 2);
	spec.boot_notes = first_boot;
	kxl_diag_clear(&ld->diag);
	if (!quiet) warn_devices(&ld->dom);
	spec.name = ld->dom.name;
	spec.on_poweroff = ld->dom.on_poweroff;
	spec.on_reboot = ld->dom.on_reboot;
	spec.on_crash = ld->dom.on_crash;
	spec.localtime = ld->dom.localtime;
	spec.rtc_timeoffset = ld->dom.rtc_timeoffset;
	spec.start_paused = paused;
	struct reboot_bl rb = { .dom = &ld->dom, .disks = &disks, .first = &bl,
				.bl = { .kernel_fd = -1, .ramdisk_fd = -1 } };
	if (ld->dom.bootloader) {
		spec.reboot_boot = reboot_bootloader;
		spec.reboot_arg = &rb;
	}
	if (!foreground) {
		int code = run_background(ld, &spec, kvm, console, quiet);
		free(kvm);
		free(first_boot);
		cli_boot_spec_free(&spec.boot, &bl);
		kxl_domain_disks_free(&disks);
		kxl_domain_nics_free(&nics);
		free(blcmd);
		return code;
	}
	int code = run_foreground(ld, &spec, kvm, console, quiet);
	free(kvm);
	free(first_boot);
	reboot_bl_free(&rb);
	cli_boot_spec_free(&spec.boot, &bl);
	kxl_domain_disks_free(&disks);
	kxl_domain_nics_free(&nics);
	free(blcmd);
	return code;
}
