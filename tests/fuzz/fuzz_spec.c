/*
 * fuzz_spec.c: libFuzzer target for one of the two spec grammars, chosen at
 * build time: -DFUZZ_DISK for the disk spec (xl-disk-configuration(5)),
 * otherwise the vif spec (xl-network-configuration(5)). Any bytes give a
 * device or an error.
 */
#include <kxl/cfg.h>

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#ifdef FUZZ_DISK
#define SPEC_PARSE kxl_disk_parse
#define SPEC_KEY "disk = "
#else
#define SPEC_PARSE kxl_vif_parse
#define SPEC_KEY "vif = "
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	struct kxl_diag d;
	kxl_diag_init(&d);
	struct json_object *o = json_object_new_object();
	struct kxl_loc l = { .file = "fuzz", .line = 1, .col = (int)sizeof(SPEC_KEY),
			     .text = SPEC_KEY, .text_len = (int)sizeof(SPEC_KEY) - 1 };
	SPEC_PARSE(s, o, &l, &d);
	json_object_put(o);
	kxl_diag_free(&d);
	free(s);
	return 0;
}
