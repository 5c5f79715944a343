/*
 * cmd_list.c: `kxl list [-l] [DOMAIN...]'. Without -l, xl's table (Name,
 * ID, Mem, VCPUs, State with the rbpscd letters, Time(s)) from each
 * monitor's `info' answer; kxl has no Domain-0, so there is no such row.
 * With -l, `[{"domid": N, "config": {...}}]' as `xl list -l' prints it,
 * the config being the one each domain was built from with libxl's
 * defaults filled in (the monitor's config.json). When kxl changed
 * something to run the Xen config on KVM (pv run as PVH, disks presented as
 * /dev/vdX, root= rewritten: what create said once on stderr), the object
 * also has "kvm": {"changes": [...], "disks": [{"vdev", "guest"}...]}
 * (kvm.json), after "config", where xl has nothing. A domain whose monitor
 * is gone (killed) is cleaned away by src/life and not listed.
 */
#include "cli/cli.h"
#include "cli/cmd_life.h"
#include "cli/verbs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "util/util.h"

/* json-c pretty-prints with 2 spaces, libxl's yajl with 4. */
static void print_json4(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o,
		JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	for (const char *p = s; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t sp = 0;
		while (sp < len && p[sp] == ' ')
			sp++;
		printf("%*s%.*s\n", (int)(sp * 2), "", (int)(len - sp), p + sp);
		p += len + (nl ? 1 : 0);
	}
}

static int list_long(struct life_state *st, struct life_dom *doms, size_t n)
{
	json_object *arr = json_object_new_array();
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		char *p = life_dom_path(st, doms[i].name, "config.json"), *text = NULL;
		size_t len;
		json_object *cfg = NULL;
		if (read_file(p, &text, &len) == 0)
			cfg = json_tokener_parse(text);
		free(text);
		if (!cfg) {
			if (life_alive(st, doms[i].name)) {
				fprintf(stderr, "kxl list: cannot read %s\n", p);
				rc = KXL_EXIT_ERROR;
			}
			free(p);
			continue;
		}
		free(p);
		json_object *o = json_object_new_object();
		json_object_object_add(o, "domid", json_object_new_int64(doms[i].domid));
		json_object_object_add(o, "config", cfg);
		p = life_dom_path(st, doms[i].name, "kvm.json");
		if (read_file(p, &text, &len) == 0) {
			json_object *kvm = json_tokener_parse(text);
			if (kvm)
				json_object_object_add(o, "kvm", kvm);
			free(text);
		}
		free(p);
		json_object_array_add(arr, o);
	}
	print_json4(arr);
	json_object_put(arr);
	return rc;
}

static int list_table(struct life_state *st, struct life_dom *doms, size_t n)
{
	printf("Name                                        ID   Mem VCPUs\tState\tTime(s)\n");
	for (size_t i = 0; i < n; i++) {
		struct kxl_diag d;
		char *reply = NULL;
		kxl_diag_init(&d);
		json_object *o = NULL;
		if (life_request(st, doms[i].name, "info", &reply, 10000, &d) == 0)
			o = json_tokener_parse(reply);
		free(reply);
		if (!o) {
			/* gone meanwhile (cleaned away), or dying: its monitor holds the
			 * lock but answers no more; the sizes from its config */
			if (life_alive(st, doms[i].name)) {
				long long mem = 0, vcpus = 0;
				char *p = life_dom_path(st, doms[i].name, "config.json"), *text = NULL;
				size_t len;
				json_object *cfg = read_file(p, &text, &len) == 0 ? json_tokener_parse(text) : NULL, *b, *v;
				if (cfg && json_object_object_get_ex(cfg, "b_info", &b)) {
					if (json_object_object_get_ex(b, "target_memkb", &v))
						mem = json_object_get_int64(v);
					if (json_object_object_get_ex(b, "avail_vcpus", &v) &&
					    json_object_is_type(v, json_type_array))
						vcpus = (long long)json_object_array_length(v);
				}
				if (cfg)
					json_object_put(cfg);
				free(text);
				free(p);
				/* no control socket yet: being built, which xl shows paused */
				char *sock = life_dom_path(st, doms[i].name, "ctl.sock");
				bool building = access(sock, F_OK) != 0;
				free(sock);
				printf("%-40s %5u %5lld %5lld     %s  %8.1f\n", doms[i].name, doms[i].domid,
				       mem / 1024, vcpus, building ? "--p---" : "-----d", 0.0);
			}
			kxl_diag_free(&d);
			continue;
		}
		json_object *v;
		long long mem = json_object_object_get_ex(o, "mem_kb", &v) ? json_object_get_int64(v) : 0;
		long long vcpus = json_object_object_get_ex(o, "vcpus", &v) ? json_object_get_int64(v) : 0;
		long long id = json_object_object_get_ex(o, "domid", &v) ? json_object_get_int64(v) :
			       doms[i].domid;
		double t = json_object_object_get_ex(o, "cpu_time", &v) ? json_object_get_double(v) : 0;
		const char *flags = json_object_object_get_ex(o, "flags", &v) ? json_object_get_string(v) :
				    "------";
		printf("%-40s %5lld %5lld %5lld     %s  %8.1f\n", doms[i].name, id, mem / 1024, vcpus,
		       flags, t);
		json_object_put(o);
		kxl_diag_free(&d);
	}
	return 0;
}

int cmd_list(int argc, char **argv)
{
	bool lng = false;
	int c;
	optind = 1;
	while ((c = cli_getopt("list", argc, argv)) != -1) {
		if (c == 'l') {
			lng = true;
			continue;
		}
		return cli_usage_exit("list", c);
	}
	struct life_state st;
	if (cli_state(&st, "list") < 0)
		return KXL_EXIT_ERROR;
	struct life_dom *doms = NULL;
	size_t n = 0;
	int rc = 0;
	struct kxl_diag d;
	kxl_diag_init(&d);
	if (optind == argc) {
		if (life_list(&st, &doms, &n, &d) < 0)
			rc = KXL_EXIT_ERROR;
	} else {
		for (int i = optind; i < argc; i++) {
			struct life_dom one;
			if (life_find(&st, argv[i], &one, &d) < 0) {
				rc = KXL_EXIT_ERROR;
				continue;
			}
			doms = xrealloc(doms, (n + 1) * sizeof(*doms));
			doms[n++] = one;
		}
	}
	cli_life_err("list", &d);
	kxl_diag_free(&d);
	int r = lng ? list_long(&st, doms, n) : list_table(&st, doms, n);
	life_doms_free(doms, n);
	life_state_close(&st);
	return rc ? rc : r;
}
