/*
 * fuzz_cfg.c: libFuzzer target for the xl.cfg parser and the model built on
 * it: any bytes must give settings or errors, never a crash or a leak.
 */
#include <kxl/cfg.h>
#include <kxl/model.h>

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct kxl_cfg cfg;
	struct kxl_diag d;
	struct kxl_conf conf;
	kxl_cfg_init(&cfg);
	kxl_diag_init(&d);
	kxl_conf_defaults(&conf);
	if (!kxl_cfg_parse(&cfg, "/fuzz/f.cfg", (const char *)data, size, &d)) {
		struct kxl_domain dom;
		if (!kxl_domain_from_cfg(&dom, &cfg, &conf, &d)) {
			char *j = kxl_domain_json(&dom);
			free(j);
		}
		kxl_domain_free(&dom);
	}
	kxl_conf_free(&conf);
	kxl_diag_free(&d);
	kxl_cfg_free(&cfg);
	return 0;
}
