/*
 * verbs.h: the kxl command's verb table (verbs.c). One row per verb carries
 * its handler, synopsis, summary, options and what its arguments complete
 * to; the getopt strings, the usage lines, `kxl help VERB', `kxl VERB
 * --help' and the bash completion are all generated from it, so they cannot
 * disagree.
 */
#ifndef KXL_CLI_VERBS_H
#define KXL_CLI_VERBS_H

#include <getopt.h>	/* optind, optarg for the callers of cli_getopt */
#include <stdbool.h>
#include <stdio.h>

/* One option. val is what cli_getopt() returns; it is also the short
 * option letter unless long_only is set. arg names the value (NULL: a
 * flag). -h/--help is implicit for every verb. */
struct cli_opt {
	int val;
	const char *lng;
	const char *arg;
	bool long_only;
	const char *help;
};

/* What the positional arguments complete to in the shell. */
enum cli_complete {
	CLI_COMPLETE_NONE,
	CLI_COMPLETE_CFG,	/* a cfg file, then KEY=VALUE settings */
	CLI_COMPLETE_DOMAIN,	/* running domain names */
	CLI_COMPLETE_VERB,	/* another verb (help) */
};

struct cli_verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *args;		/* synopsis after the options, e.g. "DOMAIN" */
	const char *summary;		/* one line */
	const char *detail;		/* a paragraph for `kxl help VERB', or NULL */
	const struct cli_opt *opts;	/* terminated by a zero row; NULL: none */
	enum cli_complete complete;
};

const struct cli_verb *cli_verbs(size_t *n);
const struct cli_verb *cli_verb(const char *name);

/* getopt_long over VERB's options (plus -h/--help, returned as 'h'),
 * stopping at the first non-option as xl does. Call with optind = 1 first
 * (cli_getopt resets it when argv changes). Returns -1 at the end, '?' on a
 * bad option (getopt has printed why). */
int cli_getopt(const char *verb, int argc, char **argv);

/* "usage: kxl VERB [-x] [--long=ARG] ARGS" to f. */
void cli_usage(const char *verb, FILE *f);

/* The usage line to stderr and KXL_EXIT_USAGE, or, for c == 'h', the full
 * help to stdout and 0: the end of every verb's option loop. */
int cli_usage_exit(const char *verb, int c);

/* The full help of one verb (usage, summary, detail, options). */
void cli_help(const char *verb, FILE *f);

/* The bash completion script, generated from the verb and key tables. */
void cli_completion_bash(FILE *f);

#endif
