/*
 * bench_cfg.c: configs parsed and checked per second in one process (the
 * target is at least 100,000 per second for a typical config): the cfg
 * language and the key table walk into the model, all in memory; without
 * --no-json the JSON text (in libxl's field order) is printed too.
 */
#include <kxl/cfg.h>
#include <kxl/model.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char typical[] =
	"# a typical PVH guest\n"
	"name = \"web01\"\ntype = \"pvh\"\nmemory = 1024\nmaxmem = 2048\nvcpus = 2\n"
	"kernel = \"/boot/vmlinuz\"\nramdisk = \"/boot/initrd.img\"\n"
	"cmdline = \"root=/dev/xvda1 ro console=hvc0\"\n"
	"disk = [ 'format=raw, vdev=xvda, access=rw, target=/dev/vg/web01' ]\n"
	"vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0' ]\n"
	"on_poweroff = \"destroy\"\non_reboot = \"restart\"\non_crash = \"restart\"\n";

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 200000;
	int json = !(argc > 2 && !strcmp(argv[2], "--no-json"));
	struct kxl_conf conf;
	kxl_conf_defaults(&conf);
	struct timespec a, b;
	size_t bytes = 0;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		struct kxl_cfg cfg;
		struct kxl_diag d;
		struct kxl_domain dom;
		kxl_cfg_init(&cfg);
		kxl_diag_init(&d);
		if (kxl_cfg_parse(&cfg, "/etc/xen/web01.cfg", typical, sizeof(typical) - 1, &d) ||
		    kxl_domain_from_cfg(&dom, &cfg, &conf, &d)) {
			kxl_diag_print(&d, stderr);
			return 1;
		}
		if (json) {
			char *j = kxl_domain_json(&dom);
			bytes += strlen(j);
			free(j);
		} else {
			bytes++;
		}
		kxl_domain_free(&dom);
		kxl_diag_free(&d);
		kxl_cfg_free(&cfg);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	double s = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
	printf("%s: %ld configs in %.3f s = %.0f configs/s (target >= 100000: ratio %.2fx)\n",
	       json ? "parse+check+json" : "parse+check", n, s, (double)n / s, (double)n / s / 100000.0);
	kxl_conf_free(&conf);
	return bytes ? 0 : 1;
}
