/*
 * rtc.c: the CMOS real-time clock at ports 0x70/0x71. Time registers read
 * the host's UTC clock plus an offset (localtime, rtc_timeoffset, and what
 * the guest set), in BCD or binary and 12/24-hour form as register B asks.
 * The other 114 bytes are plain CMOS RAM. Bit 7 of the index (NMI mask) is
 * ignored. Guest writes to the time registers move the offset. The
 * calendar arithmetic is done here (days from/to civil dates), not with
 * gmtime_r/timegm: glibc's may open the time zone file, which the seccomp
 * filter forbids.
 */
#include <string.h>
#include <time.h>

#include "layout.h"
#include "vmm/priv.h"

#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define B_24H 0x02
#define B_BIN 0x04
#define B_SET 0x80

void rtc_init(struct vm *vm, int64_t offset)
{
	memset(&vm->rtc, 0, sizeof(vm->rtc));
	vm->rtc.offset = offset;
	vm->rtc.ram[REG_A] = 0x26;	/* 32.768 kHz, 1024 Hz rate, no update in progress */
	vm->rtc.ram[REG_B] = B_24H;
	vm->rtc.ram[REG_D] = 0x80;	/* valid RAM and time */
}

static uint8_t to_reg(struct rtc *r, int v)
{
	if (r->ram[REG_B] & B_BIN)
		return (uint8_t)v;
	return (uint8_t)(((v / 10) << 4) | (v % 10));
}

static int from_reg(struct rtc *r, uint8_t v)
{
	if (r->ram[REG_B] & B_BIN)
		return v;
	return ((v >> 4) & 0x0f) * 10 + (v & 0x0f);
}

/* Howard Hinnant's civil-date algorithms (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, struct tm *tm)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned d = doy - (153 * mp + 2) / 5 + 1;
	unsigned m = mp < 10 ? mp + 3 : mp - 9;
	tm->tm_year = (int)(y + (m <= 2) - 1900);
	tm->tm_mon = (int)m - 1;
	tm->tm_mday = (int)d;
}

static void rtc_now(struct rtc *r, struct tm *tm)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t t = (int64_t)ts.tv_sec + r->offset;
	int64_t days = (t >= 0 ? t : t - 86399) / 86400;
	int64_t sec = t - days * 86400;
	memset(tm, 0, sizeof(*tm));
	civil_from_days(days, tm);
	tm->tm_hour = (int)(sec / 3600);
	tm->tm_min = (int)(sec / 60 % 60);
	tm->tm_sec = (int)(sec % 60);
	tm->tm_wday = (int)(((days % 7) + 11) % 7);	/* 1970-01-01 was a Thursday */
}

static uint8_t rtc_read(struct rtc *r, uint8_t idx)
{
	struct tm tm;
	int hour;

	if (idx > 9 && idx != 0x32)
		return idx == REG_C ? 0 : r->ram[idx];
	rtc_now(r, &tm);
	switch (idx) {
	case 0: return to_reg(r, tm.tm_sec);
	case 2: return to_reg(r, tm.tm_min);
	case 4:
		hour = tm.tm_hour;
		if (!(r->ram[REG_B] & B_24H)) {
			bool pm = hour >= 12;
			hour %= 12;
			if (!hour)
				hour = 12;
			return (uint8_t)(to_reg(r, hour) | (pm ? 0x80 : 0));
		}
		return to_reg(r, hour);
	case 6: return to_reg(r, tm.tm_wday + 1);
	case 7: return to_reg(r, tm.tm_mday);
	case 8: return to_reg(r, tm.tm_mon + 1);
	case 9: return to_reg(r, tm.tm_year % 100);
	case 0x32: return to_reg(r, 19 + tm.tm_year / 100);
	default: return r->ram[idx];	/* alarm registers */
	}
}

/* The guest sets a time field: fold the change into the offset. */
static void rtc_set_field(struct rtc *r, uint8_t idx, uint8_t v)
{
	struct tm tm;
	rtc_now(r, &tm);
	int val = from_reg(r, v & (idx == 4 ? 0x7f : 0xff));
	if (val < 0 || val > 99)
		return;
	switch (idx) {
	case 0: if (val > 59) return; tm.tm_sec = val; break;
	case 2: if (val > 59) return; tm.tm_min = val; break;
	case 4:
		if (!(r->ram[REG_B] & B_24H)) {
			if (val < 1 || val > 12)
				return;
			val = (val % 12) + ((v & 0x80) ? 12 : 0);
		}
		if (val > 23)
			return;
		tm.tm_hour = val;
		break;
	case 7: if (val < 1 || val > 31) return; tm.tm_mday = val; break;
	case 8: if (val < 1 || val > 12) return; tm.tm_mon = val - 1; break;
	case 9: tm.tm_year = (tm.tm_year / 100) * 100 + val; break;
	default: return;
	}
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t want = days_from_civil(tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
				       (unsigned)tm.tm_mday) * 86400 +
		       tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	r->offset = want - (int64_t)ts.tv_sec;
}

void rtc_io_locked(struct vm *vm, unsigned off, uint8_t *val, bool wr)
{
	struct rtc *r = &vm->rtc;
	if (off == 0) {
		if (wr)
			r->index = *val & 0x7f;
		else
			*val = 0xff;
		return;
	}
	if (!wr) {
		*val = rtc_read(r, r->index);
		return;
	}
	switch (r->index) {
	case REG_A: r->ram[REG_A] = (*val & 0x7f); break;	/* UIP is read-only */
	case REG_B: r->ram[REG_B] = *val & 0xfe; break;	/* no daylight saving */
	case REG_C: case REG_D: break;			/* read-only */
	case 0: case 2: case 4: case 7: case 8: case 9:
		rtc_set_field(r, r->index, *val);
		break;
	default:
		r->ram[r->index] = *val;
		break;
	}
}

static void rtc_dev_io(struct vmm_io *c, unsigned inst, uint64_t off, uint8_t *data,
		       unsigned len, bool write)
{
	rtc_io_locked(c->vm, (unsigned)off, data, write);
}

static void rtc_reset(struct vm *vm)
{
	rtc_init(vm, vm->args->clock_offset);
}

static size_t rtc_save(struct vm *vm, uint8_t *buf, size_t cap)
{
	if (sizeof(vm->rtc) <= cap)
		memcpy(buf, &vm->rtc, sizeof(vm->rtc));
	return sizeof(vm->rtc);
}

static int rtc_restore(struct vm *vm, const uint8_t *buf, size_t len)
{
	if (len != sizeof(vm->rtc))
		return -1;
	memcpy(&vm->rtc, buf, len);
	vm->rtc.index &= 0x7f;
	return 0;
}

const struct vmm_dev_kind dev_rtc = {
	.name = "rtc",
	.bus = VMM_BUS_PIO,
	.base = KXL_PORT_RTC,
	.size = 2,
	.widths = 1u << 1,
	.reset = rtc_reset,
	.io = rtc_dev_io,
	.save = rtc_save,
	.restore = rtc_restore,
};
