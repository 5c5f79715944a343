/*
 * ctl.c: the monitor's side of the control channel (kxl_vmm_ctl) and the
 * small tables of names. One request, one reply, each a single
 * SOCK_SEQPACKET message (struct ctl_req / struct ctl_rep in priv.h).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vmm/priv.h"

int kxl_vmm_ctl(int fd, enum kxl_vmm_cmd cmd, const char *arg, char *msg, size_t msglen)
{
	struct ctl_req req;
	struct ctl_rep rep;

	memset(&req, 0, sizeof(req));
	req.cmd = (uint32_t)cmd;
	if (arg && strlen(arg) >= sizeof(req.arg)) {
		snprintf(msg, msglen, "argument too long");
		return -1;
	}
	if (arg)
		strcpy(req.arg, arg);
	if (send(fd, &req, sizeof(req), MSG_NOSIGNAL) != (ssize_t)sizeof(req)) {
		snprintf(msg, msglen, "cannot send the command: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, &rep, sizeof(rep));
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(rep)) {
			snprintf(msg, msglen, "the domain's VMM is gone");
			return -1;
		}
		break;
	}
	rep.msg[sizeof(rep.msg) - 1] = 0;
	if (msg && msglen)
		snprintf(msg, msglen, "%s", rep.msg);
	return rep.status ? -1 : 0;
}

int kxl_vmm_exit_code(enum kxl_vmm_outcome o)
{
	switch (o) {
	case KXL_VMM_POWEROFF: return KXL_EXIT_POWEROFF;
	case KXL_VMM_REBOOT: return KXL_EXIT_REBOOT;
	case KXL_VMM_CRASH: return KXL_EXIT_CRASH;
	case KXL_VMM_DESTROYED: return KXL_EXIT_DESTROYED;
	case KXL_VMM_ERROR: return KXL_EXIT_ERROR;
	}
	return KXL_EXIT_ERROR;
}

/* The commands of an hvm domain's QEMU that kxl's PVH VMM has no device for. */
static const struct { enum kxl_vmm_cmd cmd; const char *why; } hvm_only[] = {
	{ KXL_CMD_WAKEUP, "s3resume: kxl's PVH VMM has no ACPI sleep states (type = \"hvm\" has)" },
	{ KXL_CMD_CD_INSERT, "kxl's PVH VMM has no CD-ROM drive to change (its disks are virtio; "
	  "type = \"hvm\" has IDE CD-ROMs)" },
	{ KXL_CMD_CD_EJECT, "kxl's PVH VMM has no CD-ROM drive to change (its disks are virtio; "
	  "type = \"hvm\" has IDE CD-ROMs)" },
	{ KXL_CMD_VNC, "kxl's PVH VMM has no VNC server (type = \"hvm\" has, with vnc = 1)" },
	{ KXL_CMD_SERIAL, "kxl's PVH VMM has one console, the monitor's" },
};

const char *kxl_vmm_cmd_hvm_only(enum kxl_vmm_cmd cmd)
{
	for (size_t i = 0; i < sizeof(hvm_only) / sizeof(hvm_only[0]); i++)
		if (hvm_only[i].cmd == cmd)
			return hvm_only[i].why;
	return NULL;
}

const char *kxl_vmm_outcome_name(enum kxl_vmm_outcome o)
{
	switch (o) {
	case KXL_VMM_POWEROFF: return "poweroff";
	case KXL_VMM_REBOOT: return "reboot";
	case KXL_VMM_CRASH: return "crash";
	case KXL_VMM_DESTROYED: return "destroyed";
	case KXL_VMM_ERROR: return "error";
	}
	return "?";
}

const char *kxl_action_name(enum kxl_action a)
{
	switch (a) {
	case KXL_ACTION_DESTROY: return "destroy";
	case KXL_ACTION_RESTART: return "restart";
	case KXL_ACTION_RENAME_RESTART: return "rename-restart";
	case KXL_ACTION_PRESERVE: return "preserve";
	case KXL_ACTION_COREDUMP_DESTROY: return "coredump-destroy";
	case KXL_ACTION_COREDUMP_RESTART: return "coredump-restart";
	case KXL_ACTION_SOFT_RESET: return "soft-reset";
	}
	return "?";
}
