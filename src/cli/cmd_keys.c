/*
 * cmd_keys.c: `kxl keys [--man]': the key table as text, or as the man page
 * section that docs/kxl.cfg.5 includes, so the two cannot drift apart.
 */
#include "cli/cli.h"
#include "cli/verbs.h"

#include <stdio.h>
#include <string.h>

static void man_escape(const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\') fputs("\\e", stdout);
		else if (*s == '-') fputs("\\-", stdout);
		else putchar(*s);
	}
}

int cmd_keys(int argc, char **argv)
{
	bool man = false, conf = false;
	int c;
	optind = 1;
	while ((c = cli_getopt("keys", argc, argv)) != -1) {
		if (c == 'M') man = true;
		else if (c == 'C') conf = true;
		else return cli_usage_exit("keys", c);
	}
	if (optind != argc)
		return cli_usage_exit("keys", '?');
	const struct kxl_key_doc *k;
	size_t n = conf ? kxl_conf_keys_doc(&k) : kxl_keys_doc(&k);
	for (size_t i = 0; i < n; i++) {
		if (man) {
			fputs(".TP\n.B ", stdout);
			man_escape(k[i].name);
			fputs("\n", stdout);
			man_escape(k[i].doc);
			printf(".\n.br\nKind: %s. Types: %s. Default: ", k[i].kind, k[i].types);
			man_escape(k[i].deflt);
			fputs(".", stdout);
			if (k[i].values) { fputs(" Values: ", stdout); man_escape(k[i].values); fputs(".", stdout); }
			if (k[i].bounds) { fputs(" Range: ", stdout); man_escape(k[i].bounds); fputs(".", stdout); }
			if (k[i].deprecated) { fputs(" Deprecated: use ", stdout); man_escape(k[i].deprecated); fputs(".", stdout); }
			fputs("\n", stdout);
		} else {
			printf("%-34s %-14s %-9s %s", k[i].name, k[i].kind, k[i].types, k[i].doc);
			if (k[i].deprecated)
				printf(" [deprecated: use %s]", k[i].deprecated);
			putchar('\n');
		}
	}
	return 0;
}
