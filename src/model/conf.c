/*
 * conf.c: kxl.conf, the keys of xl.conf(5). Without /etc/kxl/kxl.conf kxl
 * behaves as xl with Debian's stock xl.conf, so its JSON matches xl's.
 */
#include <kxl/model.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/mctx.h"
#include "util/util.h"

void kxl_conf_defaults(struct kxl_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->run_hotplug_scripts = true;
	c->claim_mode = true;
	c->max_grant_frames = -1;
	c->max_maptrack_frames = -1;
	c->max_grant_version = -1;
	c->firmware_dir = xstrdup("/usr/lib/xen-4.17/boot");
	c->bootloader_dir = xstrdup("/usr/lib/xen-4.17/bin");
}

void kxl_conf_free(struct kxl_conf *c)
{
	free(c->vif_script); free(c->default_bridge); free(c->default_gatewaydev);
	free(c->default_backend); free(c->blkdev_start); free(c->firmware_dir); free(c->bootloader_dir);
	memset(c, 0, sizeof(*c));
}

static void set_str(struct mctx *m, const char *key, char **dst)
{
	const char *s;
	if (!m_string(m, key, false, &s)) { free(*dst); *dst = xstrdup(s); }
}

int kxl_conf_load(struct kxl_conf *c, const char *path, struct kxl_diag *d)
{
	if (access(path, F_OK)) return 0;
	struct kxl_cfg cfg;
	kxl_cfg_init(&cfg);
	int r = kxl_cfg_parse_file(&cfg, path, d);
	if (r) { kxl_cfg_free(&cfg); return -1; }
	struct mctx m = { .cfg = &cfg, .conf = c, .d = d };
	long l;
	if (!m_long(&m, "run_hotplug_scripts", false, &l)) c->run_hotplug_scripts = l != 0;
	const char *s;
	if (!m_string(&m, "claim_mode", true, &s)) c->claim_mode = strcmp(s, "0") && strcasecmp(s, "off");
	if (!m_long(&m, "max_grant_frames", false, &l)) c->max_grant_frames = l;
	if (!m_long(&m, "max_maptrack_frames", false, &l)) c->max_maptrack_frames = l;
	if (!m_long(&m, "max_grant_version", false, &l)) c->max_grant_version = l;
	set_str(&m, "vif.default.script", &c->vif_script);
	set_str(&m, "vifscript", &c->vif_script);
	set_str(&m, "vif.default.bridge", &c->default_bridge);
	set_str(&m, "defaultbridge", &c->default_bridge);
	set_str(&m, "vif.default.gatewaydev", &c->default_gatewaydev);
	set_str(&m, "vif.default.backend", &c->default_backend);
	set_str(&m, "blkdev_start", &c->blkdev_start);
	set_str(&m, "firmware_dir", &c->firmware_dir);
	set_str(&m, "bootloader_dir", &c->bootloader_dir);
	kxl_cfg_free(&cfg);
	return d->errors ? -1 : 0;
}
