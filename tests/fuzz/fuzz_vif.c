/*
 * fuzz_vif.c: libFuzzer target for the vif spec grammar
 * (xl-network-configuration(5)): any bytes give a nic or an error.
 */
#include <kxl/cfg.h>

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = 0;
	struct kxl_diag d;
	kxl_diag_init(&d);
	struct json_object *o = json_object_new_object();
	struct kxl_loc l = { .file = "fuzz", .line = 1, .col = 8, .text = "vif = ", .text_len = 6 };
	kxl_vif_parse(s, o, &l, &d);
	json_object_put(o);
	kxl_diag_free(&d);
	free(s);
	return 0;
}
