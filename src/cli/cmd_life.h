/*
 * cmd_life.h: the lifecycle verbs of the kxl command (cmd_life.c,
 * cmd_list.c, cmd_console.c) on top of src/life.
 */
#ifndef KXL_CLI_CMD_LIFE_H
#define KXL_CLI_CMD_LIFE_H

#include <stdbool.h>

#include "life/life.h"

int cmd_list(int argc, char **argv);
int cmd_console(int argc, char **argv);
int cmd_shutdown(int argc, char **argv);
int cmd_reboot(int argc, char **argv);
int cmd_destroy(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_dump_core(int argc, char **argv);
int cmd_trigger(int argc, char **argv);
int cmd_domid(int argc, char **argv);
int cmd_domname(int argc, char **argv);
int cmd_cd_insert(int argc, char **argv);
int cmd_cd_eject(int argc, char **argv);
int cmd_vncviewer(int argc, char **argv);

/* Attaches to NAME's console until Ctrl-] or the domain's end. */
int cli_console_attach(struct life_state *st, const char *name, bool quiet);

/* Shared by the verbs: open the state directory, find a domain; both
 * print their error as "kxl VERB: ..." and return -1. */
int cli_state(struct life_state *st, const char *verb);
int cli_find(struct life_state *st, const char *verb, const char *spec, struct life_dom *dom);
void cli_life_err(const char *verb, struct kxl_diag *d);

#endif
