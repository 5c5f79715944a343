/*
 * main.c: the kxl command: xl's verbs (the table in verbs.c) dispatched to
 * their handlers, and --version. Verbs xl has and kxl does not yet answer
 * "not supported" with a non-zero exit.
 */
#include "cli/cli.h"
#include "cli/cmd_life.h"
#include "cli/verbs.h"

#include <stdio.h>
#include <string.h>

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

int main(int argc, char **argv)
{
	if (argc < 2) {
		cli_usage("help", stderr);
		fprintf(stderr, "(kxl help lists the verbs)\n");
		return KXL_EXIT_USAGE;
	}
	const char *verb = argv[1];
	if (!strcmp(verb, "-h") || !strcmp(verb, "--help")) {
		char *help_argv[] = { (char *)"help", NULL };
		return cli_verb("help")->fn(1, help_argv);
	}
	if (!strcmp(verb, "-V") || !strcmp(verb, "--version")) {
		printf("kxl %s (reads xl.cfg as Xen 4.17's xl does; runs guests on Linux KVM)\n", KXL_VERSION);
		return 0;
	}
	const struct cli_verb *v = cli_verb(verb);
	if (v)
		return v->fn(argc - 1, argv + 1);
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++)
		if (!strcmp(verb, unsupported[i])) {
			fprintf(stderr, "kxl %s: not supported by kxl (a KVM toolstack) yet\n", verb);
			return KXL_EXIT_ERROR;
		}
	fprintf(stderr, "kxl: unknown verb `%s' (kxl help lists them)\n", verb);
	return KXL_EXIT_USAGE;
}
