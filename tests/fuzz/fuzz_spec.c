/*
 * fuzz_spec.c: libFuzzer target for the disk and vif spec grammars; the
 * first byte picks the grammar.
 */
#include <kxl/cfg.h>

#include <json-c/json.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1) return 0;
	char *s = malloc(size);
	memcpy(s, data + 1, size - 1);
	s[size - 1] = 0;
	struct kxl_diag d;
	kxl_diag_init(&d);
	struct json_object *o = json_object_new_object();
	struct kxl_loc l = { .file = "fuzz" };
	if (data[0] & 1) kxl_disk_parse(s, o, &l, &d);
	else kxl_vif_parse(s, o, &l, &d);
	json_object_put(o);
	kxl_diag_free(&d);
	free(s);
	return 0;
}
