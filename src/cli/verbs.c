/*
 * verbs.c: the kxl command's verb table and everything generated from it:
 * the getopt strings every verb parses with, its usage line, `kxl help
 * VERB' / `kxl VERB --help', the SYNOPSIS of kxl(1) (`kxl help --man') and
 * the bash completion (`kxl completion bash'). A verb or option is added
 * here once and appears in all of them.
 */
#include "cli/verbs.h"

#include <getopt.h>
#include <string.h>

#include <kxl/model.h>
#include <kxl/vmm.h>

#include "cli/cli.h"
#include "cli/cmd_life.h"

#define BOOT_PROTOCOL_OPT \
	{ 'B', "boot-protocol", "pvh|linux|auto", true, \
	  "how to enter the kernel: its PVH entry, the Linux 64-bit boot protocol, or auto " \
	  "(PVH when the kernel has the note, the default)" }

static const struct cli_opt create_opts[] = {
	{ 'n', "dryrun", NULL, false, "print libxl's domain configuration as JSON (as xl -N create) and exit" },
	{ 'D', "dry-run-dm", NULL, true, "print the QEMU command line of an hvm config, one argument a line, "
	  "and exit (nothing runs)" },
	{ 'q', "quiet", NULL, false, "print errors only, no warnings or notes" },
	{ 'F', "foreground", NULL, false, "run the domain in the foreground until it ends" },
	{ 'c', "console", NULL, false, "attach the console to the terminal" },
	{ 'p', "paused", NULL, false, "create the domain paused (kxl unpause starts it)" },
	{ 'f', NULL, NULL, false, "accepted for xl's -f CFG: the file is the first argument anyway" },
	BOOT_PROTOCOL_OPT,
	{ 0, NULL, NULL, false, NULL },
};

static const struct cli_opt check_opts[] = {
	{ 'j', "json", NULL, false, "print the diagnostics of each file as JSON" },
	{ 's', "strict", NULL, false, "refuse a file that has warnings" },
	{ 0, NULL, NULL, false, NULL },
};

static const struct cli_opt layout_opts[] = {
	{ 'j', "json", NULL, false, "print the load plan as JSON" },
	BOOT_PROTOCOL_OPT,
	{ 0, NULL, NULL, false, NULL },
};

static const struct cli_opt keys_opts[] = {
	{ 'C', "conf", NULL, true, "the keys of kxl.conf instead of xl.cfg" },
	{ 'M', "man", NULL, true, "as a man page section (what kxl.cfg(5) includes)" },
	{ 0, NULL, NULL, false, NULL },
};

static const struct cli_opt list_opts[] = {
	{ 'l', "long", NULL, false, "print each domain's config as JSON" },
	{ 0, NULL, NULL, false, NULL },
};

static const struct cli_opt console_opts[] = {
	{ 't', NULL, "serial|pv", false, "the console type: kxl domains have one console, both names reach it" },
	{ 'n', NULL, "0", false, "the console number: 0 is the only one" },
	{ 0, NULL, NULL, false, NULL },
};

static const struct cli_opt shutdown_opts[] = {
	{ 'w', "wait", NULL, false, "wait until the domain has ended" },
	{ 'a', "all", NULL, false, "every domain (no DOMAIN then)" },
	{ 'F', NULL, NULL, false, "accepted for xl: kxl always uses the ACPI power button" },
	{ 't', "timeout", "SEC", true, "wait at most SEC seconds, then destroy the domain" },
	{ 0, NULL, NULL, false, NULL },
};

static const struct cli_opt reboot_opts[] = {
	{ 'w', "wait", NULL, false, "wait until the reboot has happened" },
	{ 'a', "all", NULL, false, "every domain (no DOMAIN then)" },
	{ 'F', NULL, NULL, false, "accepted for xl: kxl always resets through ACPI" },
	{ 0, NULL, NULL, false, NULL },
};

static const struct cli_opt destroy_opts[] = {
	{ 'f', NULL, NULL, false, "accepted for xl (it is for Domain-0 there)" },
	{ 'K', "keep-nvram", NULL, true, "keep the domain's OVMF variable store (bios = \"ovmf\"), "
	  "which destroy otherwise removes" },
	{ 0, NULL, NULL, false, NULL },
};

static int cmd_help(int argc, char **argv);
static int cmd_completion(int argc, char **argv);

static const struct cli_opt help_opts[] = {
	{ 'M', "man", NULL, true, "the SYNOPSIS section of kxl(1), generated from this table" },
	{ 0, NULL, NULL, false, NULL },
};

static const struct cli_verb verbs[] = {
	{ "create", cmd_create, "CFG [KEY=VALUE...]",
	  "create a domain from a config file (-n: print its JSON)",
	  "Builds the domain config from CFG and the settings after it (config syntax, appended "
	  "after the file as xl does). Without -F the domain runs in the background under a "
	  "per-domain monitor; the other verbs reach it by name or ID.",
	  create_opts, CLI_COMPLETE_CFG },
	{ "list", cmd_list, "[DOMAIN...]", "list the domains (-l: their configs as JSON)",
	  NULL, list_opts, CLI_COMPLETE_DOMAIN },
	{ "console", cmd_console, "DOMAIN", "attach to a domain's console (Ctrl-] detaches)",
	  NULL, console_opts, CLI_COMPLETE_DOMAIN },
	{ "shutdown", cmd_shutdown, "DOMAIN",
	  "press a domain's power button (-w waits, --timeout destroys)",
	  NULL, shutdown_opts, CLI_COMPLETE_DOMAIN },
	{ "reboot", cmd_reboot, "DOMAIN", "reset a domain (its on_reboot action applies)",
	  NULL, reboot_opts, CLI_COMPLETE_DOMAIN },
	{ "destroy", cmd_destroy, "DOMAIN", "end a domain at once", "An hvm domain under OVMF keeps "
	  "its variable store (boot entries, Secure Boot keys) across reboots and creates of its "
	  "name; destroy removes it unless --keep-nvram (also when the name runs no more).", destroy_opts,
	  CLI_COMPLETE_DOMAIN },
	{ "pause", cmd_pause, "DOMAIN", "pause a domain's vCPUs", NULL, NULL, CLI_COMPLETE_DOMAIN },
	{ "unpause", cmd_unpause, "DOMAIN", "let a paused domain run", NULL, NULL,
	  CLI_COMPLETE_DOMAIN },
	{ "dump-core", cmd_dump_core, "DOMAIN FILE", "write an ELF core of a domain to a file",
	  NULL, NULL, CLI_COMPLETE_DOMAIN },
	{ "trigger", cmd_trigger, "DOMAIN power|reset|nmi|s3resume [VCPU]",
	  "send power, reset, nmi or s3resume to a domain",
	  "VCPU is accepted for xl; kxl's triggers go to the whole domain. s3resume wakes an hvm "
	  "guest out of ACPI S3 (QMP system_wakeup).",
	  NULL, CLI_COMPLETE_DOMAIN },
	{ "cd-insert", cmd_cd_insert, "DOMAIN VDEV TARGET",
	  "put the image TARGET into an hvm domain's CD-ROM drive VDEV",
	  "VDEV is a disk of the config with devtype=cdrom (an empty one: \",,hdc,cdrom\"); TARGET "
	  "a raw image (ISO; xl's raw: prefix is accepted), opened by QEMU. The tray is forced "
	  "open first. A pvh domain has no CD-ROM drive.", NULL, CLI_COMPLETE_DOMAIN },
	{ "cd-eject", cmd_cd_eject, "DOMAIN VDEV", "empty an hvm domain's CD-ROM drive VDEV",
	  NULL, NULL, CLI_COMPLETE_DOMAIN },
	{ "vncviewer", cmd_vncviewer, "DOMAIN",
	  "run vncviewer on an hvm domain's VNC display",
	  "The address is QEMU's (QMP query-vnc), given as HOST:DISPLAY; KXL_VNCVIEWER names "
	  "another viewer. Without a viewer installed, the address is printed (exit status 1).",
	  NULL, CLI_COMPLETE_DOMAIN },
	{ "domid", cmd_domid, "NAME", "print a domain's ID", NULL, NULL, CLI_COMPLETE_DOMAIN },
	{ "domname", cmd_domname, "ID", "print a domain's name", NULL, NULL, CLI_COMPLETE_NONE },
	{ "check", cmd_check, "CFG...", "check config files: every error, warning and deprecation",
	  "Exit status 0 when every file is accepted, 1 when one is refused, 2 for a usage or "
	  "I/O error.", check_opts, CLI_COMPLETE_CFG },
	{ "layout", cmd_layout, "CFG [KEY=VALUE...]",
	  "print the guest memory layout a pvh config builds (--json)",
	  "Builds the guest image as create would, and prints where everything lands in guest "
	  "memory. Nothing runs.", layout_opts, CLI_COMPLETE_CFG },
	{ "keys", cmd_keys, "", "list the xl.cfg keys kxl knows (--man: as a man page section)",
	  NULL, keys_opts, CLI_COMPLETE_NONE },
	{ "help", cmd_help, "[VERB]", "print the verbs, or what one verb's options do", NULL,
	  help_opts, CLI_COMPLETE_VERB },
	{ "completion", cmd_completion, "bash",
	  "print the shell completion script (meson install puts it in place)", NULL, NULL,
	  CLI_COMPLETE_NONE },
};

#define NVERBS (sizeof(verbs) / sizeof(verbs[0]))
#define MAX_OPTS 16

const struct cli_verb *cli_verbs(size_t *n)
{
	*n = NVERBS;
	return verbs;
}

const struct cli_verb *cli_verb(const char *name)
{
	for (size_t i = 0; i < NVERBS; i++)
		if (!strcmp(verbs[i].name, name))
			return &verbs[i];
	return NULL;
}

static const struct cli_verb *must_verb(const char *name)
{
	const struct cli_verb *v = cli_verb(name);
	if (!v) {
		/* a handler asked for a verb missing from the table: a build bug */
		fprintf(stderr, "kxl: internal error: no verb `%s' in the table\n", name);
	}
	return v;
}

int cli_getopt(const char *verb, int argc, char **argv)
{
	static const char *built_for;
	static char shorts[2 + 3 * MAX_OPTS + 2];
	static struct option longs[MAX_OPTS + 2];

	if (built_for != verb) {
		const struct cli_verb *v = must_verb(verb);
		size_t s = 0, l = 0;
		shorts[s++] = '+';	/* stop at the first non-option, as xl */
		shorts[s++] = ':';	/* a missing value is ':', told apart below */
		for (const struct cli_opt *o = v && v->opts ? v->opts : NULL; o && o->val && l < MAX_OPTS; o++) {
			if (!o->long_only) {
				shorts[s++] = (char)o->val;
				if (o->arg)
					shorts[s++] = ':';
			}
			if (o->lng)
				longs[l++] = (struct option){ o->lng, o->arg ? required_argument : no_argument,
							      NULL, o->val };
		}
		shorts[s++] = 'h';
		shorts[s] = 0;
		longs[l++] = (struct option){ "help", no_argument, NULL, 'h' };
		longs[l] = (struct option){ NULL, 0, NULL, 0 };
		built_for = verb;
	}
	opterr = 0;		/* our own message, naming kxl and the verb */
	int c = getopt_long(argc, argv, shorts, longs, NULL);
	if (c == '?' || c == ':') {
		const char *what = c == ':' ? "needs a value" : "is not an option of this verb";
		const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
		if (!strncmp(arg, "--", 2))
			fprintf(stderr, "kxl %s: `%s' %s\n", verb, arg, what);
		else
			fprintf(stderr, "kxl %s: `-%c' %s\n", verb, optopt, what);
		c = '?';
	}
	return c;
}

/* "[-n] [--boot-protocol=pvh|linux|auto] [-t serial|pv]" */
static void opts_synopsis(const struct cli_verb *v, FILE *f, bool man)
{
	for (const struct cli_opt *o = v->opts; o && o->val; o++) {
		bool first = o == v->opts;
		char name[64];
		if (o->long_only || !o->val)
			snprintf(name, sizeof(name), "--%s", o->lng);
		else
			snprintf(name, sizeof(name), "-%c", o->val);
		if (!man) {
			if (o->arg)
				fprintf(f, " [%s%s%s]", name, o->long_only ? "=" : " ", o->arg);
			else
				fprintf(f, " [%s]", name);
			continue;
		}
		fputs(first ? "[\\fB" : " [\\fB", f);	/* a leading space would break the line */
		for (const char *p = name; *p; p++)
			fputs(*p == '-' ? "\\-" : (char[]){ *p, 0 }, f);
		fputs("\\fR", f);
		if (o->arg)
			fprintf(f, "%s\\fI%s\\fR", o->long_only ? "=" : " ", o->arg);
		fputs("]", f);
	}
}

void cli_usage(const char *verb, FILE *f)
{
	const struct cli_verb *v = must_verb(verb);
	if (!v)
		return;
	fprintf(f, "usage: kxl %s", v->name);
	opts_synopsis(v, f, false);
	fprintf(f, "%s%s\n", *v->args ? " " : "", v->args);
}

int cli_usage_exit(const char *verb, int c)
{
	if (c == 'h') {
		cli_help(verb, stdout);
		return 0;
	}
	cli_usage(verb, stderr);
	return KXL_EXIT_USAGE;
}

void cli_help(const char *verb, FILE *f)
{
	const struct cli_verb *v = must_verb(verb);
	if (!v)
		return;
	cli_usage(verb, f);
	fprintf(f, "\n%s.\n", v->summary);
	if (v->detail)
		fprintf(f, "\n%s\n", v->detail);
	fputs("\nOptions:\n", f);
	for (const struct cli_opt *o = v->opts; o && o->val; o++) {
		char left[64];
		if (o->long_only)
			snprintf(left, sizeof(left), "    --%s%s%s", o->lng, o->arg ? "=" : "", o->arg ? o->arg : "");
		else if (o->lng)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", o->val, o->lng, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		else
			snprintf(left, sizeof(left), "-%c%s%s", o->val, o->arg ? " " : "", o->arg ? o->arg : "");
		if (strlen(left) > 30)
			fprintf(f, "  %s\n  %-30s %s\n", left, "", o->help);
		else
			fprintf(f, "  %-30s %s\n", left, o->help);
	}
	fprintf(f, "  %-30s %s\n", "-h, --help", "print this help");
	fputs("\nSee kxl(1).\n", f);
}

static void verbs_list(FILE *f)
{
	fprintf(f, "usage: kxl VERB [ARGS...]\n\nVerbs:\n");
	for (size_t i = 0; i < NVERBS; i++)
		fprintf(f, "  %-11s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(f, "\n`kxl help VERB' or `kxl VERB --help' tells what a verb's options do. See kxl(1).\n");
}

static void man_synopsis(FILE *f)
{
	for (size_t i = 0; i < NVERBS; i++) {
		const struct cli_verb *v = &verbs[i];
		fputs(i ? ".br\n.B kxl " : ".B kxl ", f);
		for (const char *p = v->name; *p; p++)
			fputs(*p == '-' ? "\\-" : (char[]){ *p, 0 }, f);
		if (v->opts && v->opts->val) {
			fputs("\n", f);
			opts_synopsis(v, f, true);
		}
		if (*v->args) {
			fputs("\n.I ", f);
			for (const char *p = v->args; *p; p++)
				fputs(*p == '-' ? "\\-" : (char[]){ *p, 0 }, f);
		}
		fputs("\n", f);
	}
}

static int cmd_help(int argc, char **argv)
{
	bool man = false;
	int c;
	optind = 1;
	while ((c = cli_getopt("help", argc, argv)) != -1) {
		if (c == 'M')
			man = true;
		else
			return cli_usage_exit("help", c);
	}
	if (man) {
		man_synopsis(stdout);
		return 0;
	}
	if (optind == argc) {
		verbs_list(stdout);
		return 0;
	}
	if (optind + 1 != argc || !cli_verb(argv[optind])) {
		fprintf(stderr, "kxl help: unknown verb `%s' (kxl help lists them)\n",
			optind < argc ? argv[optind] : "");
		return KXL_EXIT_USAGE;
	}
	cli_help(argv[optind], stdout);
	return 0;
}

/* Words for `compgen -W', space-separated. */
static void opt_words(const struct cli_verb *v, FILE *f)
{
	for (const struct cli_opt *o = v->opts; o && o->val; o++) {
		if (!o->long_only)
			fprintf(f, "-%c ", o->val);
		if (o->lng)
			fprintf(f, "--%s%s ", o->lng, o->arg && o->long_only ? "=" : "");
	}
	fputs("-h --help", f);
}

void cli_completion_bash(FILE *f)
{
	fputs("# bash completion for kxl, generated by `kxl completion bash' from kxl's verb\n"
	      "# and key tables. Installed as bash-completion/completions/kxl.\n"
	      "_kxl_domains() { kxl list 2>/dev/null | awk 'NR > 1 { print $1 }'; }\n"
	      "_kxl() {\n"
	      "    local cur=${COMP_WORDS[COMP_CWORD]} verb=${COMP_WORDS[1]} i nonopt=0\n"
	      "    if [ \"$COMP_CWORD\" -eq 1 ]; then\n"
	      "        COMPREPLY=($(compgen -W '--version", f);
	for (size_t i = 0; i < NVERBS; i++)
		fprintf(f, " %s", verbs[i].name);
	fputs("' -- \"$cur\")); return\n"
	      "    fi\n"
	      "    for ((i = 2; i < COMP_CWORD; i++)); do\n"
	      "        case ${COMP_WORDS[i]} in -*) ;; *) nonopt=$((nonopt + 1)) ;; esac\n"
	      "    done\n"
	      "    case $verb in\n", f);
	for (size_t i = 0; i < NVERBS; i++) {
		const struct cli_verb *v = &verbs[i];
		fprintf(f, "    %s)\n        case $cur in -*) COMPREPLY=($(compgen -W '", v->name);
		opt_words(v, f);
		fputs("' -- \"$cur\")); [ \"${COMPREPLY[0]: -1}\" = = ] && compopt -o nospace; return ;; esac\n", f);
		switch (v->complete) {
		case CLI_COMPLETE_CFG:
			fputs("        if [ $nonopt -eq 0 ]; then\n"
			      "            compopt -o filenames\n"
			      "            COMPREPLY=($(compgen -f -X '!*.cfg' -- \"$cur\") $(compgen -d -- \"$cur\"))\n"
			      "        else\n"
			      "            compopt -o nospace\n"
			      "            COMPREPLY=($(compgen -W '", f);
			{
				const struct kxl_key_doc *k;
				size_t n = kxl_keys_doc(&k);
				for (size_t j = 0; j < n; j++)
					fprintf(f, "%s%s=", j ? " " : "", k[j].name);
			}
			fputs("' -- \"$cur\"))\n        fi ;;\n", f);
			break;
		case CLI_COMPLETE_DOMAIN:
			fputs("        [ $nonopt -eq 0 ] || [ \"$verb\" = list ] &&\n"
			      "            COMPREPLY=($(compgen -W \"$(_kxl_domains)\" -- \"$cur\")) ;;\n", f);
			break;
		case CLI_COMPLETE_VERB:
			fputs("        COMPREPLY=($(compgen -W '", f);
			for (size_t j = 0; j < NVERBS; j++)
				fprintf(f, "%s%s", j ? " " : "", verbs[j].name);
			fputs("' -- \"$cur\")) ;;\n", f);
			break;
		case CLI_COMPLETE_NONE:
			if (!strcmp(v->name, "completion"))
				fputs("        COMPREPLY=($(compgen -W 'bash' -- \"$cur\")) ;;\n", f);
			else
				fputs("        ;;\n", f);
			break;
		}
	}
	fputs("    esac\n}\ncomplete -F _kxl kxl\n", f);
}

static int cmd_completion(int argc, char **argv)
{
	int c;
	optind = 1;
	while ((c = cli_getopt("completion", argc, argv)) != -1)
		return cli_usage_exit("completion", c);
	if (optind + 1 != argc || strcmp(argv[optind], "bash")) {
		fprintf(stderr, "kxl completion: only bash is generated\n");
		return KXL_EXIT_USAGE;
	}
	cli_completion_bash(stdout);
	return 0;
}
