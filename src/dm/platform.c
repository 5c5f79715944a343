/*
 * platform.c: the machine around the guest: the machine type and its
 * properties (hpet, mmio_hole), the CPU (viridian's groups as QEMU's hv-*
 * flags, nestedhvm, nx, pae), memory and vCPUs, ACPI and its sleep states,
 * and the clock (localtime, rtc_timeoffset, timer_mode). On Xen, most of
 * this is the hypervisor's and hvmloader's; on KVM it is QEMU's.
 */
#include "dm/dm-int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/util.h"

#define BELOW_4G_MMIO_START 0xF0000000ULL	/* libxl: the largest RAM below 4 GiB */

void dm_fam_machine(struct dm *m)
{
	struct sbuf s = { 0 };
	sbuf_printf(&s, "%s,accel=kvm", m->q35 ? "q35" : "pc");
	if (!dm_bool(m->h, "hpet", true))
		sbuf_adds(&s, ",hpet=off");
	if (!dm_bool(m->b, "acpi", true))
		sbuf_adds(&s, ",acpi=off");
	int64_t hole = dm_int(m->h, "mmio_hole_memkb", 0);
	if (hole > 0) {
		uint64_t below = (1ULL << 32) - ((uint64_t)hole << 10);
		if (hole >= (1LL << 22) || below > BELOW_4G_MMIO_START)
			dm_msg(m, KXL_WARNING, "mmio_hole", "mmio_hole = %lld MiB is outside 256..4095 MiB: "
			       "ignored (as libxl does)", (long long)(hole >> 10));
		else
			sbuf_printf(&s, ",max-ram-below-4g=%llu", (unsigned long long)below);
	}
	dm_pair(m, "-machine", s.s);
	free(s.s);
}

/* viridian's groups (libxl_viridian_enlightenment, by bit) as QEMU's
 * Hyper-V flags; NULL: nothing on KVM (said once as a warning). */
static const struct { const char *group, *flags, *why; } viridian[] = {
	{ "base", "hv-relaxed,hv-vapic,hv-vpindex,hv-spinlocks=0x1fff", NULL },
	{ "freq", "hv-frequencies", NULL },
	{ "time_ref_count", "hv-time", NULL },
	{ "reference_tsc", "hv-time", NULL },
	{ "hcall_remote_tlb_flush", "hv-tlbflush", NULL },
	{ "apic_assist", "hv-vapic", NULL },
	{ "crash_ctl", "hv-crash", NULL },
	{ "synic", "hv-vpindex,hv-synic", NULL },
	{ "stimer", "hv-time,hv-vpindex,hv-synic,hv-stimer", NULL },	/* QEMU needs both */
	{ "hcall_ipi", "hv-ipi", NULL },
	{ "ex_processor_masks", "", NULL },	/* part of hv-tlbflush and hv-ipi on KVM */
	{ "no_vp_limit", NULL, "KVM has no virtual processor limit to lift" },
	{ "cpu_hotplug", NULL, "KVM's Hyper-V emulation has no CPU hot-plug interface" },
};
/* viridian = 1 without a list: libxl's default groups */
static const char *const viridian_default[] = { "base", "freq", "time_ref_count", "apic_assist",
	"crash_ctl" };

static void viridian_flags(struct dm *m, struct sbuf *s)
{
	bool on[ARRAY_SIZE(viridian)] = { 0 };
	if (dm_bool(m->h, "viridian", false))
		for (size_t i = 0; i < ARRAY_SIZE(viridian); i++)
			for (size_t j = 0; j < ARRAY_SIZE(viridian_default); j++)
				if (!strcmp(viridian[i].group, viridian_default[j])) on[i] = true;
	static const char *const lists[] = { "viridian_enable", "viridian_disable" };
	for (size_t l = 0; l < 2; l++) {
		json_object *a = dm_get(m->h, lists[l]);
		for (size_t i = 0; a && i < json_object_array_length(a); i++) {
			int64_t bit = json_object_get_int64(json_object_array_get_idx(a, i));
			if (bit >= 0 && (size_t)bit < ARRAY_SIZE(viridian)) on[bit] = l == 0;
		}
	}
	bool any = false;
	for (size_t i = 0; i < ARRAY_SIZE(viridian); i++) any |= on[i];
	if (!any) return;
	if (!on[0]) {
		dm_msg(m, KXL_ERROR, "viridian", "viridian: the groups given need \"base\" (as libxl "
		       "requires)");
		return;
	}
	/* each flag once, in the table's order */
	struct sbuf seen = { 0 };
	sbuf_adds(&seen, ",");
	for (size_t i = 0; i < ARRAY_SIZE(viridian); i++) {
		if (!on[i]) continue;
		if (!viridian[i].flags) {
			dm_msg(m, KXL_WARNING, "viridian", "viridian group \"%s\" has no meaning on KVM (%s): "
			       "ignored", viridian[i].group, viridian[i].why);
			continue;
		}
		char *flags = xstrdup(viridian[i].flags), *save = NULL;
		for (char *f = strtok_r(flags, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
			char *key = xasprintf(",%s,", f);
			if (!strstr(seen.s, key)) {
				sbuf_printf(s, ",%s", f);
				sbuf_printf(&seen, "%s,", f);
			}
			free(key);
		}
		free(flags);
	}
	free(seen.s);
}

void dm_fam_cpu(struct dm *m)
{
	struct sbuf s = { 0 };
	sbuf_adds(&s, "host");
	viridian_flags(m, &s);
	/* nestedhvm: host's VMX or SVM as KVM's nesting allows, or neither */
	if (!dm_bool(m->b, "nested_hvm", false))
		sbuf_adds(&s, ",-vmx,-svm");
	if (!dm_bool(m->h, "nx", true))
		sbuf_adds(&s, ",-nx");
	if (!dm_bool(m->h, "pae", true))
		sbuf_adds(&s, ",-pae,-lm");
	dm_pair(m, "-cpu", s.s);
	free(s.s);
}

void dm_fam_memory(struct dm *m)
{
	/* as libxl: the guest's RAM is maxmem less the video memory, in MiB
	 * rounded up */
	int64_t max = dm_int(m->b, "max_memkb", 0), video = dm_int(m->b, "video_memkb", 0);
	int64_t target = dm_int(m->b, "target_memkb", max);
	if (max - video <= 0) {
		dm_msg(m, KXL_ERROR, "memory", "memory (%lld MiB) leaves nothing beside videoram (%lld MiB)",
		       (long long)(max >> 10), (long long)(video >> 10));
		return;
	}
	dm_pairf(m, "-m", "%lld", (long long)((max - video + 1023) / 1024));
	if (target < max)
		dm_msg(m, KXL_NOTE, "maxmem", "maxmem (%lld MiB) above memory (%lld MiB): the guest sees "
		       "maxmem; KVM has no populate-on-demand, the host gives pages as the guest "
		       "touches them", (long long)(max >> 10), (long long)(target >> 10));
	json_object *avail = dm_get(m->b, "avail_vcpus");
	int64_t maxv = dm_int(m->b, "max_vcpus", 1);
	if (maxv > 1) {
		if (avail)
			dm_pairf(m, "-smp", "%zu,maxcpus=%lld", json_object_array_length(avail),
				 (long long)maxv);
		else
			dm_pairf(m, "-smp", "%lld", (long long)maxv);
	}
}

void dm_fam_acpi(struct dm *m)
{
	if (!dm_bool(m->b, "acpi", true))
		return;		/* acpi=off on -machine */
	const char *pm = m->q35 ? "ICH9-LPC" : "PIIX4_PM";
	dm_pairf(m, "-global", "%s.disable_s3=%d", pm, !dm_bool(m->h, "acpi_s3", true));
	dm_pairf(m, "-global", "%s.disable_s4=%d", pm, !dm_bool(m->h, "acpi_s4", true));
}

/* timer_mode: Xen's policies for ticks a vCPU missed, as KVM's PIT and
 * QEMU's RTC do them (kxl.cfg(5)). */
static const struct { const char *mode, *pit, *rtc; } timer_modes[] = {
	{ "delay_for_missed_ticks", "delay", "slew" },
	{ "no_delay_for_missed_ticks", "delay", "slew" },
	{ "no_missed_ticks_pending", "discard", "none" },
	{ "one_missed_tick_pending", "discard", "none" },
};

void dm_fam_clock(struct dm *m)
{
	bool local = dm_bool(m->b, "localtime", false);
	int64_t off = dm_int(m->b, "rtc_timeoffset", 0);
	const char *tm = dm_gets(m->b, "timer_mode");
	struct sbuf s = { 0 };
	sbuf_adds(&s, "");
	if (off) {
		/* Xen adds the offset to the RTC's base; QEMU takes the start time */
		time_t t = (time_t)((m->o->now ? m->o->now : (long long)time(NULL)) + off);
		struct tm tmv;
		char buf[32];
		if (!(local ? localtime_r(&t, &tmv) : gmtime_r(&t, &tmv)) ||
		    !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tmv)) {
			dm_msg(m, KXL_ERROR, "rtc_timeoffset", "rtc_timeoffset = %lld: no such time",
			       (long long)off);
			free(s.s);
			return;
		}
		sbuf_printf(&s, "base=%s", buf);
	} else if (local) {
		sbuf_adds(&s, "base=localtime");
	}
	if (tm) {
		for (size_t i = 0; i < ARRAY_SIZE(timer_modes); i++) {
			if (strcmp(tm, timer_modes[i].mode)) continue;
			sbuf_printf(&s, "%sdriftfix=%s", s.len ? "," : "", timer_modes[i].rtc);
			dm_pairf(m, "-global", "kvm-pit.lost_tick_policy=%s", timer_modes[i].pit);
		}
	}
	if (s.len)
		dm_pair(m, "-rtc", s.s);
	free(s.s);
}
