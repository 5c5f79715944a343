/*
 * test-conlog.c: the monitor's console ring and log rotation (mon_con.c)
 * without a guest: 3.5 MiB of numbered lines through con_output() must
 * leave NAME.console.log and .1 .. .3 (four files, none over 1 MiB, the
 * oldest rotated away) holding the newest output in order, and the ring
 * the last 64 KiB.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "life/mon.h"

static int fails;

#define CHECK(c, ...) do { if (!(c)) { fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); fails++; } } while (0)

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc((size_t)n + 1);
	*len = fread(b, 1, (size_t)n, f);
	b[*len] = 0;
	fclose(f);
	return b;
}

int main(void)
{
	char dir[] = "/tmp/kxl-conlog-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char log[256];
	snprintf(log, sizeof(log), "%s/d.console.log", dir);
	static struct con c;
	con_init(&c, log);
	unsigned long lines = 0, bytes = 0;
	char buf[64];
	while (bytes < 3 * 1024 * 1024 + 512 * 1024) {
		int n = snprintf(buf, sizeof(buf), "line %08lu of the console\n", lines++);
		con_output(&c, buf, (size_t)n);
		bytes += (unsigned long)n;
	}
	CHECK(c.total == bytes, "total %llu", (unsigned long long)c.total);
	/* the files, newest first: log, .1, .2, .3; .4 must not exist */
	char *all = calloc(1, 1);
	size_t alllen = 0;
	for (int i = LIFE_LOG_KEEP - 1; i >= 0; i--) {
		char p[300];
		if (i)
			snprintf(p, sizeof(p), "%s.%d", log, i);
		else
			snprintf(p, sizeof(p), "%s", log);
		size_t len = 0;
		char *b = slurp(p, &len);
		CHECK(b != NULL, "%s missing", p);
		if (!b)
			continue;
		CHECK(len <= LIFE_LOG_MAX, "%s is %zu bytes", p, len);
		all = realloc(all, alllen + len + 1);
		memcpy(all + alllen, b, len);
		alllen += len;
		all[alllen] = 0;
		free(b);
	}
	char p4[300];
	snprintf(p4, sizeof(p4), "%s.%d", log, LIFE_LOG_KEEP);
	CHECK(access(p4, F_OK) != 0, "%s should not exist", p4);
	/* the kept logs are the tail of the output, contiguous */
	CHECK(alllen > 3 * LIFE_LOG_MAX && alllen <= bytes, "kept %zu of %lu bytes", alllen, bytes);
	snprintf(buf, sizeof(buf), "line %08lu of the console\n", lines - 1);
	CHECK(alllen >= strlen(buf) && !strcmp(all + alllen - strlen(buf), buf), "last line at the end");
	char *first = strstr(all, "line ");
	unsigned long expect = first ? strtoul(first + 5, NULL, 10) : 0;
	for (char *q = first; q && *q; q = strchr(q, '\n') ? strchr(q, '\n') + 1 : NULL) {
		if (!*q)
			break;
		unsigned long v = strtoul(q + 5, NULL, 10);
		if (v != expect) {
			CHECK(0, "line %lu where %lu was expected", v, expect);
			break;
		}
		expect++;
	}
	/* the ring holds the last 64 KiB */
	size_t off = (size_t)(c.total % LIFE_RING_SIZE);
	char *ring = malloc(LIFE_RING_SIZE);
	memcpy(ring, c.ring + off, LIFE_RING_SIZE - off);
	memcpy(ring + LIFE_RING_SIZE - off, c.ring, off);
	CHECK(!memcmp(ring, all + alllen - LIFE_RING_SIZE, LIFE_RING_SIZE), "ring = last 64 KiB");
	free(ring);
	free(all);
	for (int i = 0; i <= LIFE_LOG_KEEP; i++) {
		char p[300];
		if (i)
			snprintf(p, sizeof(p), "%s.%d", log, i);
		else
			snprintf(p, sizeof(p), "%s", log);
		unlink(p);
	}
	rmdir(dir);
	if (!fails)
		printf("ok: console ring and log rotation\n");
	return fails ? 1 : 0;
}
