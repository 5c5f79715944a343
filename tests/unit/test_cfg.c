/*
 * test_cfg.c: unit tests of the xl.cfg lexer and parser (every construct of
 * the grammar, xl's quirks and kxl's improvements), path resolution, and the
 * model's JSON round trip (model -> JSON -> model -> JSON is byte-identical).
 */
#include <kxl/cfg.h>
#include <kxl/model.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static int failures, checks;

#define CHECK(c) do { checks++; if (!(c)) { failures++; fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c); } } while (0)

static int parse(const char *text, struct kxl_cfg *cfg, struct kxl_diag *d)
{
	kxl_cfg_init(cfg);
	kxl_diag_init(d);
	return kxl_cfg_parse(cfg, "/t/x.cfg", text, strlen(text), d);
}

static const char *str(const struct kxl_cfg *cfg, const char *k)
{
	const struct kxl_cfg_setting *s = kxl_cfg_find(cfg, k);
	return s && s->value->type == KXL_CFG_STRING ? s->value->str : NULL;
}

static void test_grammar(void)
{
	struct kxl_cfg c;
	struct kxl_diag d;
	CHECK(parse("a = 'x'; b = \"y\"\nc=12\n", &c, &d) == 0);
	CHECK(!strcmp(str(&c, "a"), "x") && !strcmp(str(&c, "b"), "y") && !strcmp(str(&c, "c"), "12"));
	kxl_cfg_free(&c); kxl_diag_free(&d);

	CHECK(parse("l = [ 'a', # comment\n  'b',\n\n  [ 'c' ], ]\nlast = 'no newline'", &c, &d) == 0);
	const struct kxl_cfg_setting *s = kxl_cfg_find(&c, "l");
	CHECK(s && s->value->type == KXL_CFG_LIST && s->value->n == 3);
	CHECK(s && s->value->items[2]->type == KXL_CFG_LIST);
	CHECK(!strcmp(str(&c, "last"), "no newline"));
	kxl_cfg_free(&c); kxl_diag_free(&d);

	CHECK(parse("e = []\nx = 'a'\nx = 'b'\ns = 'a'\ns += 'b'\nl = ['1']\nl += ['2']\n", &c, &d) == 0);
	CHECK(kxl_cfg_find(&c, "e")->value->n == 0);
	CHECK(!strcmp(str(&c, "x"), "b"));
	CHECK(!strcmp(str(&c, "s"), "ab"));
	CHECK(kxl_cfg_find(&c, "l")->value->n == 2);
	kxl_cfg_free(&c); kxl_diag_free(&d);

	CHECK(parse("s = '\\t\\n\\\\\\'\\\"'\n", &c, &d) == 0);
	CHECK(!strcmp(str(&c, "s"), "\t\n\\'\""));
	kxl_cfg_free(&c); kxl_diag_free(&d);

	/* kxl is better than xl: CRLF, a last comment without newline */
	CHECK(parse("a = 1\r\nb = 2\r\n# end", &c, &d) == 0);
	CHECK(!strcmp(str(&c, "b"), "2"));
	kxl_cfg_free(&c); kxl_diag_free(&d);

	/* errors: every one reported, with line and column */
	CHECK(parse("a = 1.5\nB = 2\nc = '\\x41'\nd = '\\101'\ne = [ 'x' 'y' ]\nf = 'ok'\n", &c, &d) == 5);
	CHECK(d.errors == 5);
	CHECK(d.n >= 1 && d.v[0].loc.line == 1 && d.v[0].loc.col == 6);
	CHECK(d.n >= 2 && d.v[1].loc.line == 2 && d.v[1].loc.col == 1);
	CHECK(!strcmp(str(&c, "f"), "ok"));
	kxl_cfg_free(&c); kxl_diag_free(&d);

	CHECK(parse("s = 'a'\ns += ['b']\n", &c, &d) == 1);
	kxl_cfg_free(&c); kxl_diag_free(&d);
	CHECK(parse("s = 'unterminated\n", &c, &d) == 1);
	kxl_cfg_free(&c); kxl_diag_free(&d);
	CHECK(parse("memory = 0xFF\n", &c, &d) == 1);
	kxl_cfg_free(&c); kxl_diag_free(&d);
}

static void test_paths(void)
{
	char *p = path_join_normalize("/a/b", "../c/./d//e");
	CHECK(!strcmp(p, "/a/c/d/e"));
	free(p);
	p = path_join_normalize("/a", "/abs/../x");
	CHECK(!strcmp(p, "/x"));
	free(p);
	p = path_join_normalize("/", "../../x");
	CHECK(!strcmp(p, "/x"));
	free(p);
}

static void test_roundtrip(void)
{
	const char *text =
		"name = 'rt'\ntype = 'hvm'\nmemory = 512\nmaxmem = 1024\nvcpus = 2\nmaxvcpus = 4\n"
		"firmware = 'uefi'\ndisk = [ 'd.img,qcow2,hda,rw', 'vdev=hdc,devtype=cdrom,target=' ]\n"
		"vif = [ 'mac=00:16:3e:00:00:01,bridge=xenbr0,rate=10MB/s' ]\ncpuid = 'host,tm=0'\n"
		"on_crash = 'coredump-restart'\nviridian = [ 'defaults', '!freq' ]\nserial = [ 'pty' ]\n";
	struct kxl_cfg c;
	struct kxl_diag d;
	struct kxl_conf conf;
	kxl_conf_defaults(&conf);
	CHECK(parse(text, &c, &d) == 0);
	struct kxl_domain a, b;
	CHECK(kxl_domain_from_cfg(&a, &c, &conf, &d) == 0);
	char *j1 = kxl_domain_json(&a);
	CHECK(kxl_domain_from_json(&b, j1, &d) == 0);
	char *j2 = kxl_domain_json(&b);
	CHECK(!strcmp(j1, j2));
	CHECK(strstr(j1, "\"bios\": \"ovmf\"") != NULL);
	CHECK(strstr(j1, "\"pdev_path\": \"/t/d.img\"") != NULL);
	CHECK(b.vcpus == 2 && b.max_vcpus == 4 && b.target_memkb == 512 * 1024);
	free(j1);
	free(j2);
	kxl_domain_free(&a);
	kxl_domain_free(&b);
	kxl_cfg_free(&c);
	kxl_diag_free(&d);
	kxl_conf_free(&conf);
}

int main(void)
{
	test_grammar();
	test_paths();
	test_roundtrip();
	printf("%d passed, %d failed\n", checks - failures, failures);
	return failures ? 1 : 0;
}
