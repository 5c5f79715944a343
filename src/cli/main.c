/*
 * main.c: the kxl command: xl's verbs dispatched to their handlers. Verbs xl
 * has and kxl does not yet answer "not supported" with a non-zero exit.
 */
#include "cli/cli.h"
#include "cli/cmd_life.h"

#include <stdio.h>
#include <string.h>

static const struct { const char *name; int (*fn)(int, char **); const char *help; } verbs[] = {
	{ "create", cmd_create, "create a domain from a config file (-n: print its JSON)" },
	{ "check", cmd_check, "check config files: every error, warning and deprecation" },
	{ "layout", cmd_layout, "print the guest memory layout a pvh config builds (--json)" },
	{ "keys", cmd_keys, "list the xl.cfg keys kxl knows (--man: as a man page section)" },
	{ "list", cmd_list, "list the domains (-l: their configs as JSON)" },
	{ "console", cmd_console, "attach to a domain's console (Ctrl-] detaches)" },
	{ "shutdown", cmd_shutdown, "press a domain's power button (-w waits, --timeout destroys)" },
	{ "reboot", cmd_reboot, "reset a domain (its on_reboot action applies)" },
	{ "destroy", cmd_destroy, "end a domain at once" },
	{ "pause", cmd_pause, "pause a domain's vCPUs" },
	{ "unpause", cmd_unpause, "let a paused domain run" },
	{ "dump-core", cmd_dump_core, "write an ELF core of a domain to a file" },
	{ "trigger", cmd_trigger, "send power, reset or nmi to a domain" },
	{ "domid", cmd_domid, "print a domain's ID" },
	{ "domname", cmd_domname, "print a domain's name" },
};

static const char *const unsupported[] = {
	"save", "restore", "migrate", "migrate-receive", "vcpu-set", "vcpu-pin", "vcpu-list",
	"mem-set", "mem-max", "sysrq", "block-attach", "block-detach", "block-list",
	"network-attach", "network-detach", "network-list", "pci-attach", "pci-detach",
	"pci-assignable-add", "cd-insert", "cd-eject", "sched-credit", "sched-credit2",
	"cpupool-create", "cpupool-list", "info", "dmesg", "top", "uptime", "vm-list",
	"rename", "config-update", "qemu-monitor-command", "usbctrl-attach", "usbdev-attach",
	"channel-list", "vtpm-attach", "remus", "devd", "psr-hwinfo", "debug-keys",
	"button-press", "vncviewer", "cpupool-destroy", "cpupool-rename",
	"cpupool-cpu-add", "cpupool-cpu-remove", "cpupool-migrate", "cpupool-numa-split",
	"sched-rtds", "sched-arinc653", "vtpm-detach", "vtpm-list", "vkb-attach", "vkb-detach",
	"vkb-list", "vdispl-attach", "vdispl-detach", "vdispl-list", "vsnd-attach",
	"vsnd-detach", "vsnd-list", "usbctrl-detach", "usbdev-detach", "usb-list",
	"pci-assignable-remove", "pci-assignable-list", "pci-list", "getenforce", "setenforce",
	"loadpolicy", "set-parameters", "claims", "domain-qualifier", "psr-cmt-attach", "psr-cat-set", "psr-mba-set",
	"dump-stats",
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kxl VERB [ARGS...]\n\nVerbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].help);
	fprintf(f, "\nSee kxl(1).\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) { usage(stderr); return KXL_EXIT_USAGE; }
	const char *verb = argv[1];
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help") || !strcmp(verb, "help")) { usage(stdout); return 0; }
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(verb, verbs[i].name))
			return verbs[i].fn(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (!strcmp(verb, unsupported[i])) {
			fprintf(stderr, "kxl %s: not supported by kxl (a KVM toolstack) yet\n", verb);
			return KXL_EXIT_ERROR;
		}
	fprintf(stderr, "kxl: unknown verb `%s' (kxl help lists them)\n", verb);
	return KXL_EXIT_USAGE;
}
