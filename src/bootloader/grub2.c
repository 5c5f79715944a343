/*
 * grub2.c: GRUB 2's grub.cfg as GRUB itself reads it, for the part of its
 * script language that boot menus use: words with '', "" and \ quoting,
 * $var and ${var} expansion, `;' and newlines, name=value and `set',
 * `load_env' (from the grubenv block given), if/elif/else/fi with `[ ]'
 * tests, functions (skipped), menuentry and submenu blocks with --id, and
 * in an entry linux/linux16/linuxefi and initrd/initrd16/initrdefi (several
 * files each). Entry bodies are expanded with the variables as they stand
 * at the end of the script, as GRUB does when an entry is booted. The
 * command line is the entry's text after the kernel path, variables
 * expanded, spacing as written. A pure function over a buffer: no I/O.
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <ctype.h>
#include "bootloader/bl.h"
#include "util/util.h"

#define MAX_VARS 4096
#define MAX_VALUE (64 * 1024)
#define MAX_WORDS 256
#define MAX_DEPTH 64

struct var { char *name, *value; };
struct vars { struct var *v; int n; };

static const char *var_get(const struct vars *vs, const char *name, size_t len)
{
	for (int i = vs->n - 1; i >= 0; i--)
		if (strlen(vs->v[i].name) == len && !memcmp(vs->v[i].name, name, len))
			return vs->v[i].value;
	return NULL;
}

static void var_set(struct vars *vs, const char *name, size_t nlen, const char *value)
{
	size_t vl = strlen(value);
	if (vl > MAX_VALUE)
		vl = MAX_VALUE;
	for (int i = 0; i < vs->n; i++)
		if (strlen(vs->v[i].name) == nlen && !memcmp(vs->v[i].name, name, nlen)) {
			free(vs->v[i].value);
			vs->v[i].value = xstrndup(value, vl);
			return;
		}
	if (vs->n >= MAX_VARS)
		return;
	vs->v = xrealloc(vs->v, (size_t)(vs->n + 1) * sizeof(*vs->v));
	vs->v[vs->n].name = xstrndup(name, nlen);
	vs->v[vs->n].value = xstrndup(value, vl);
	vs->n++;
}

static void vars_free(struct vars *vs)
{
	for (int i = 0; i < vs->n; i++) {
		free(vs->v[i].name);
		free(vs->v[i].value);
	}
	free(vs->v);
	vs->v = NULL;
	vs->n = 0;
}

static int is_name_char(int c)
{
	return isalnum(c) || c == '_';
}

/* Expands one $name / ${name} at *pp (pointing after '$'); appends to b. */
static const char *expand_var(const char *p, const char *end, const struct vars *vs, struct sbuf *b)
{
	const char *name = p;
	size_t len = 0;
	if (p < end && *p == '{') {
		const char *c = memchr(p, '}', (size_t)(end - p));
		if (!c) {
			sbuf_add(b, "${", 2);
			return p + 1;
		}
		name = p + 1;
		len = (size_t)(c - name);
		p = c + 1;
	} else if (p < end && (isdigit((unsigned char)*p) || *p == '?' || *p == '#' || *p == '@' || *p == '*')) {
		len = 1;
		p++;
	} else {
		while (p + len < end && is_name_char((unsigned char)p[len]))
			len++;
		if (!len) {
			sbuf_add(b, "$", 1);
			return p;
		}
		p += len;
	}
	const char *v = var_get(vs, name, len);
	if (v && (!b->s || b->len + strlen(v) <= 4 * MAX_VALUE))
		sbuf_adds(b, v);
	return p;
}

/* Expands variables in raw text, keeping quotes and spacing as written. */
static char *expand_raw(const char *p, const char *end, const struct vars *vs)
{
	struct sbuf b = { 0 };
	int sq = 0;
	sbuf_add(&b, "", 0);
	while (p < end) {
		if (*p == '\'' ) {
			sq = !sq;
			sbuf_add(&b, p++, 1);
		} else if (*p == '\\' && !sq && p + 1 < end) {
			sbuf_add(&b, p, 2);
			p += 2;
		} else if (*p == '$' && !sq) {
			p = expand_var(p + 1, end, vs, &b);
		} else {
			sbuf_add(&b, p++, 1);
		}
	}
	return sbuf_steal(&b);
}

/* One command: its words (unquoted, expanded) and where each ends in the text. */
struct cmd {
	char *w[MAX_WORDS];
	const char *wend[MAX_WORDS];
	int n;
	const char *start, *end;	/* the command's text, separator excluded */
};

static void cmd_free(struct cmd *c)
{
	for (int i = 0; i < c->n; i++)
		free(c->w[i]);
	c->n = 0;
}

static int is_word(const struct cmd *c, int i, const char *s)
{
	return i < c->n && !strcmp(c->w[i], s);
}

/* Reads the next command from *pp; returns 0 at the end of the text, 1 for
 * a command, -1 on a syntax error (unterminated quote). */
static int next_cmd(const char **pp, const char *end, const struct vars *vs, struct cmd *c,
		    char *err, size_t errlen)
{
	const char *p = *pp;
	c->n = 0;
	/* skip blanks, empty commands and comments */
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == ';'))
			p++;
		if (p + 1 < end && p[0] == '\\' && p[1] == '\n') {
			p += 2;
			continue;
		}
		if (p < end && *p == '#') {
			while (p < end && *p != '\n')
				p++;
			continue;
		}
		break;
	}
	if (p >= end) {
		*pp = p;
		return 0;
	}
	c->start = p;
	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p + 1 < end && p[0] == '\\' && p[1] == '\n') {
			p += 2;
			continue;
		}
		if (p >= end || *p == '\n' || *p == ';')
			break;
		if (*p == '#' && c->n > 0) {	/* a comment ends the command */
			while (p < end && *p != '\n')
				p++;
			break;
		}
		struct sbuf b = { 0 };
		int quoted = 0;
		sbuf_add(&b, "", 0);
		while (p < end && *p != ' ' && *p != '\t' && *p != '\r' && *p != '\n' && *p != ';') {
			if (*p == '\'') {
				const char *q = memchr(p + 1, '\'', (size_t)(end - p - 1));
				if (!q) {
					free(b.s);
					cmd_free(c);
					snprintf(err, errlen, "grub.cfg: unterminated ' quote");
					return -1;
				}
				sbuf_add(&b, p + 1, (size_t)(q - p - 1));
				p = q + 1;
				quoted = 1;
			} else if (*p == '"') {
				p++;
				while (p < end && *p != '"') {
					if (*p == '\\' && p + 1 < end && strchr("$\"\\\n", p[1])) {
						if (p[1] != '\n')
							sbuf_add(&b, p + 1, 1);
						p += 2;
					} else if (*p == '$') {
						p = expand_var(p + 1, end, vs, &b);
					} else {
						sbuf_add(&b, p++, 1);
					}
				}
				if (p >= end) {
					free(b.s);
					cmd_free(c);
					snprintf(err, errlen, "grub.cfg: unterminated \" quote");
					return -1;
				}
				p++;
				quoted = 1;
			} else if (*p == '\\' && p + 1 < end) {
				if (p[1] != '\n')
					sbuf_add(&b, p + 1, 1);
				p += 2;
			} else if (*p == '$') {
				p = expand_var(p + 1, end, vs, &b);
			} else {
				sbuf_add(&b, p++, 1);
			}
		}
		if (c->n >= MAX_WORDS) {
			free(b.s);
			continue;
		}
		c->w[c->n] = sbuf_steal(&b);
		c->wend[c->n] = p;
		c->n++;
		/* `{' ends a menuentry line; then/else/do/`}' stand alone. */
		if (!quoted && (!strcmp(c->w[c->n - 1], "{") ||
				(c->n == 1 && (!strcmp(c->w[0], "then") || !strcmp(c->w[0], "else") ||
					       !strcmp(c->w[0], "do") || !strcmp(c->w[0], "}")))))
			break;
	}
	c->end = p;
	*pp = p;
	return 1;
}

/* `[ ... ]' and `test ...' as far as menus need them; unknown is false. */
static int eval_test(char **w, int n, int have_env)
{
	if (n > 0 && !strcmp(w[0], "!"))
		return !eval_test(w + 1, n - 1, have_env);
	if (n == 0)
		return 0;
	if (n == 1)
		return w[0][0] != 0;
	if (n == 2) {
		if (!strcmp(w[0], "-n"))
			return w[1][0] != 0;
		if (!strcmp(w[0], "-z"))
			return w[1][0] == 0;
		if (!strcmp(w[0], "-s") || !strcmp(w[0], "-e") || !strcmp(w[0], "-f")) {
			size_t l = strlen(w[1]);
			return have_env && l >= 8 && !strcmp(w[1] + l - 8, "/grubenv");
		}
		return 0;
	}
	if (n == 3) {
		if (!strcmp(w[1], "=") || !strcmp(w[1], "=="))
			return !strcmp(w[0], w[2]);
		if (!strcmp(w[1], "!="))
			return strcmp(w[0], w[2]) != 0;
		if (!strcmp(w[1], "-eq") || !strcmp(w[1], "-ne") || !strcmp(w[1], "-gt") || !strcmp(w[1], "-lt")) {
			long a = strtol(w[0], NULL, 10), b2 = strtol(w[2], NULL, 10);
			return !strcmp(w[1], "-eq") ? a == b2 : !strcmp(w[1], "-ne") ? a != b2 :
			       !strcmp(w[1], "-gt") ? a > b2 : a < b2;
		}
	}
	return 0;
}

static int eval_cond(const struct cmd *c, int first, int have_env)
{
	int neg = 0;
	if (is_word(c, first, "!")) {
		neg = 1;
		first++;
	}
	int r = 0;
	if (is_word(c, first, "[")) {
		int n = c->n - first - 1;
		if (n > 0 && !strcmp(c->w[c->n - 1], "]"))
			n--;
		r = eval_test(&((struct cmd *)c)->w[first + 1], n, have_env);
	} else if (is_word(c, first, "test")) {
		r = eval_test(&((struct cmd *)c)->w[first + 1], c->n - first - 1, have_env);
	} else if (is_word(c, first, "true")) {
		r = 1;
	}
	return neg ? !r : r;
}

/* What an entry's body says, kept as text until the script has run. */
struct body { struct sbuf text; };

enum blk { B_IF, B_FUNC, B_ENTRY, B_SUBMENU, B_LOOP };
struct frame {
	enum blk kind;
	int active;		/* commands inside are executed */
	int taken;		/* B_IF: a branch has been taken */
	int in_then;		/* B_IF: waiting for `then' */
	int outer_active;
	struct bl_entry **v;	/* B_SUBMENU: the list below; B_ENTRY: unused */
	int *nv;
	int idx;		/* B_SUBMENU: its index in the list above */
};

/* An entry whose body runs at the end: where it is (indices from the top). */
struct pending { int path[MAX_DEPTH + 1]; int plen; struct sbuf body; };

static void import_env(struct vars *vs, const char *env, size_t envlen)
{
	const char *p = env, *end = env + envlen;
	while (p && p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *le = eol ? eol : end;
		const char *eq = memchr(p, '=', (size_t)(le - p));
		if (*p != '#' && eq && eq > p) {
			char *name = xstrndup(p, (size_t)(eq - p));
			char *val = bl_grubenv_get(env, envlen, name);
			if (val)
				var_set(vs, name, strlen(name), val);
			free(name);
			free(val);
		}
		p = eol ? eol + 1 : NULL;
	}
}

/* Fills entry e from its body text, with the final variables. */
static int finish_entry(struct bl_entry *e, const char *body, const struct vars *vs0,
			int have_env, char *err, size_t errlen)
{
	struct vars vs = { 0 };
	for (int i = 0; i < vs0->n; i++)
		var_set(&vs, vs0->v[i].name, strlen(vs0->v[i].name), vs0->v[i].value);
	const char *p = body, *end = body + strlen(body);
	struct cmd c;
	int rc = 0, depth = 0, active[MAX_DEPTH + 1], taken[MAX_DEPTH + 1];
	active[0] = 1;
	taken[0] = 1;
	for (;;) {
		int r = next_cmd(&p, end, &vs, &c, err, errlen);
		if (r <= 0) {
			rc = r;
			break;
		}
		int act = active[depth];
		if (is_word(&c, 0, "if") || is_word(&c, 0, "elif")) {
			int elif = is_word(&c, 0, "elif");
			if (!elif) {
				if (depth >= MAX_DEPTH) {
					snprintf(err, errlen, "grub.cfg: if nested too deeply");
					cmd_free(&c);
					rc = -1;
					break;
				}
				depth++;
				taken[depth] = 0;
				act = active[depth - 1];
			} else if (depth == 0) {
				cmd_free(&c);
				continue;
			} else {
				act = active[depth - 1];
			}
			int t = act && !taken[depth] && eval_cond(&c, 1, have_env);
			active[depth] = t;
			taken[depth] |= t;
		} else if (is_word(&c, 0, "else")) {
			if (depth > 0)
				active[depth] = active[depth - 1] && !taken[depth];
		} else if (is_word(&c, 0, "fi")) {
			if (depth > 0)
				depth--;
		} else if (!act || is_word(&c, 0, "then")) {
			/* skipped */
		} else if (c.n >= 2 && (is_word(&c, 0, "linux") || is_word(&c, 0, "linux16") ||
					is_word(&c, 0, "linuxefi") || is_word(&c, 0, "linux32"))) {
			free(e->kernel);
			free(e->args);
			e->kernel = bl_strip_device(c.w[1]);
			char *a = expand_raw(c.wend[1], c.end, &vs);
			char *s = a, *t = a + strlen(a);
			while (*s == ' ' || *s == '\t')
				s++;
			while (t > s && (t[-1] == ' ' || t[-1] == '\t' || t[-1] == '\r'))
				t--;
			e->args = t > s ? xstrndup(s, (size_t)(t - s)) : NULL;
			free(a);
		} else if (is_word(&c, 0, "initrd") || is_word(&c, 0, "initrd16") ||
			   is_word(&c, 0, "initrdefi") || is_word(&c, 0, "initrd32")) {
			for (int i = 0; i < e->ninitrd; i++)
				free(e->initrd[i]);
			e->ninitrd = 0;
			for (int i = 1; i < c.n; i++) {
				if (!strncmp(c.w[i], "--", 2))	/* --nounzip and the like */
					continue;
				if (e->ninitrd >= BL_MAX_INITRDS) {
					snprintf(err, errlen, "grub.cfg: more than %d initrd files in \"%s\"",
						 BL_MAX_INITRDS, e->title);
					cmd_free(&c);
					vars_free(&vs);
					return -1;
				}
				e->initrd[e->ninitrd++] = bl_strip_device(c.w[i]);
			}
		} else if (is_word(&c, 0, "set") && c.n >= 2) {
			const char *eq = strchr(c.w[1], '=');
			if (eq)
				var_set(&vs, c.w[1], (size_t)(eq - c.w[1]), eq + 1);
		} else if (c.n >= 1 && strchr(c.w[0], '=') && c.w[0][0] != '=') {
			const char *eq = strchr(c.w[0], '=');
			var_set(&vs, c.w[0], (size_t)(eq - c.w[0]), eq + 1);
		}
		cmd_free(&c);
	}
	vars_free(&vs);
	return rc;
}

int bl_parse_grub2(const char *buf, size_t len, const char *env, size_t envlen,
		   struct bl_menu *m, char *err, size_t errlen)
{
	struct vars vs = { 0 };
	struct frame st[MAX_DEPTH + 1];
	int depth = 0, rc = 0, have_env = env != NULL;
	const char *p = buf, *end = buf + len;
	struct pending *pend = NULL;
	int npend = 0;
	struct cmd c;

	memset(m, 0, sizeof(*m));
	m->kind = BL_GRUB2;
	m->timeout = -1;
	m->blscfg_at = -1;
	/* What GRUB itself defines before it reads grub.cfg. */
	static const char *const builtin[][2] = {
		{ "feature_menuentry_id", "y" }, { "feature_default_font_path", "y" },
		{ "feature_all_video_module", "y" }, { "feature_platform_search_hint", "y" },
		{ "feature_timeout_style", "y" }, { "grub_platform", "xen" },
		{ "grub_cpu", "x86_64" }, { "prefix", "(hd0)/boot/grub" },
		{ "config_directory", "(hd0)/boot/grub" }, { "root", "hd0" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(builtin); i++)
		var_set(&vs, builtin[i][0], strlen(builtin[i][0]), builtin[i][1]);
	memset(&st[0], 0, sizeof(st[0]));
	st[0].kind = B_SUBMENU;
	st[0].active = 1;
	st[0].v = &m->entries;
	st[0].nv = &m->nentries;

	for (;;) {
		int r = next_cmd(&p, end, &vs, &c, err, errlen);
		if (r < 0) {
			rc = -1;
			break;
		}
		if (r == 0)
			break;
		struct frame *f = &st[depth];
		int act = f->active;

		if (f->kind == B_ENTRY) {
			/* inside an entry: keep the text; track nesting of braces */
			if (is_word(&c, 0, "}") && c.n == 1) {
				depth--;
			} else if (act) {
				struct pending *pe = &pend[npend - 1];
				sbuf_add(&pe->body, c.start, (size_t)(c.end - c.start));
				sbuf_add(&pe->body, "\n", 1);
				if (c.n && !strcmp(c.w[c.n - 1], "{")) {
					/* a block inside an entry (a function, a nested entry): skipped */
					if (depth >= MAX_DEPTH) {
						snprintf(err, errlen, "grub.cfg: blocks nested too deeply");
						cmd_free(&c);
						rc = -1;
						break;
					}
					depth++;
					memset(&st[depth], 0, sizeof(st[depth]));
					st[depth].kind = B_FUNC;
				}
			}
			cmd_free(&c);
			continue;
		}
		if (f->kind == B_FUNC) {
			if (is_word(&c, 0, "}") && c.n == 1)
				depth--;
			else if (c.n && !strcmp(c.w[c.n - 1], "{")) {
				if (depth >= MAX_DEPTH) {
					snprintf(err, errlen, "grub.cfg: blocks nested too deeply");
					cmd_free(&c);
					rc = -1;
					break;
				}
				depth++;
				memset(&st[depth], 0, sizeof(st[depth]));
				st[depth].kind = B_FUNC;
			}
			cmd_free(&c);
			continue;
		}

		if (is_word(&c, 0, "if") || is_word(&c, 0, "while") || is_word(&c, 0, "for") ||
		    is_word(&c, 0, "until")) {
			if (depth >= MAX_DEPTH) {
				snprintf(err, errlen, "grub.cfg: blocks nested too deeply");
				rc = -1;
				cmd_free(&c);
				break;
			}
			int isif = is_word(&c, 0, "if");
			depth++;
			st[depth] = *f;
			st[depth].kind = isif ? B_IF : B_LOOP;
			st[depth].outer_active = act;
			/* loops are not run: their bodies are skipped */
			st[depth].active = isif ? act && eval_cond(&c, 1, have_env) : 0;
			st[depth].taken = st[depth].active;
		} else if (is_word(&c, 0, "elif")) {
			if (f->kind == B_IF) {
				int t = f->outer_active && !f->taken && eval_cond(&c, 1, have_env);
				f->active = t;
				f->taken |= t;
			}
		} else if (is_word(&c, 0, "else")) {
			if (f->kind == B_IF)
				f->active = f->outer_active && !f->taken;
		} else if (is_word(&c, 0, "fi") || is_word(&c, 0, "done")) {
			if (depth > 0 && (f->kind == B_IF || f->kind == B_LOOP))
				depth--;
			else {
				snprintf(err, errlen, "grub.cfg: \"%s\" without its opening", c.w[0]);
				rc = -1;
				cmd_free(&c);
				break;
			}
		} else if (is_word(&c, 0, "then") || is_word(&c, 0, "do")) {
			/* part of if/while */
		} else if (is_word(&c, 0, "}") && c.n == 1) {
			if (depth == 0 || f->kind != B_SUBMENU) {
				snprintf(err, errlen, "grub.cfg: \"}\" without its opening");
				rc = -1;
				cmd_free(&c);
				break;
			}
			depth--;
		} else if (is_word(&c, 0, "function")) {
			if (depth >= MAX_DEPTH) {
				snprintf(err, errlen, "grub.cfg: blocks nested too deeply");
				rc = -1;
				cmd_free(&c);
				break;
			}
			depth++;
			memset(&st[depth], 0, sizeof(st[depth]));
			st[depth].kind = B_FUNC;
		} else if (is_word(&c, 0, "menuentry") || is_word(&c, 0, "submenu")) {
			if (c.n < 2 || strcmp(c.w[c.n - 1], "{")) {
				snprintf(err, errlen, "grub.cfg: %s without a { block", c.w[0]);
				rc = -1;
				cmd_free(&c);
				break;
			}
			if (depth >= MAX_DEPTH) {
				snprintf(err, errlen, "grub.cfg: blocks nested too deeply");
				rc = -1;
				cmd_free(&c);
				break;
			}
			int sub = is_word(&c, 0, "submenu");
			/* the innermost submenu (or the top) receives the entry */
			int d = depth;
			while (st[d].kind != B_SUBMENU)
				d--;
			struct bl_entry *e = NULL;
			if (act) {
				e = bl_menu_add(st[d].v, st[d].nv);
				if (!e) {
					snprintf(err, errlen, "grub.cfg: more than %d entries", BL_MAX_ENTRIES);
					rc = -1;
					cmd_free(&c);
					break;
				}
				for (int i = 1; i < c.n - 1; i++) {
					if (!strcmp(c.w[i], "--id") && i + 1 < c.n - 1) {
						free(e->id);
						e->id = xstrdup(c.w[++i]);
					} else if (!strncmp(c.w[i], "--id=", 5)) {
						free(e->id);
						e->id = xstrdup(c.w[i] + 5);
					} else if ((!strcmp(c.w[i], "--class") || !strcmp(c.w[i], "--users") ||
						    !strcmp(c.w[i], "--hotkey") || !strcmp(c.w[i], "--source")) &&
						   i + 1 < c.n - 1) {
						i++;
					} else if (!strncmp(c.w[i], "--", 2)) {
						/* --unrestricted and the like */
					} else if (!e->title) {
						e->title = xstrdup(c.w[i]);
					}
				}
				if (!e->title)
					e->title = xstrdup("");
				e->is_submenu = sub;
			}
			depth++;
			memset(&st[depth], 0, sizeof(st[depth]));
			st[depth].active = act;
			if (sub) {
				st[depth].kind = act ? B_SUBMENU : B_FUNC;
				if (act) {
					st[depth].v = &e->children;
					st[depth].nv = &e->nchildren;
					st[depth].idx = *st[d].nv - 1;
				}
			} else if (act) {
				st[depth].kind = B_ENTRY;
				pend = xrealloc(pend, (size_t)(npend + 1) * sizeof(*pend));
				memset(&pend[npend], 0, sizeof(pend[npend]));
				for (int k = 1; k <= d; k++)
					if (st[k].kind == B_SUBMENU)
						pend[npend].path[pend[npend].plen++] = st[k].idx;
				pend[npend].path[pend[npend].plen++] = *st[d].nv - 1;
				npend++;
			} else {
				st[depth].kind = B_FUNC;
			}
		} else if (!act) {
			/* a branch not taken */
		} else if (is_word(&c, 0, "set") && c.n >= 2) {
			for (int i = 1; i < c.n; i++) {
				const char *eq = strchr(c.w[i], '=');
				if (eq && eq != c.w[i])
					var_set(&vs, c.w[i], (size_t)(eq - c.w[i]), eq + 1);
			}
		} else if (is_word(&c, 0, "unset")) {
			for (int i = 1; i < c.n; i++)
				var_set(&vs, c.w[i], strlen(c.w[i]), "");
		} else if (is_word(&c, 0, "load_env")) {
			if (env)
				import_env(&vs, env, envlen);
		} else if (is_word(&c, 0, "blscfg")) {
			if (m->blscfg_at < 0)
				m->blscfg_at = m->nentries;
		} else if (c.n >= 1 && strchr(c.w[0], '=') && c.w[0][0] != '=' &&
			   is_name_char((unsigned char)c.w[0][0])) {
			const char *eq = strchr(c.w[0], '=');
			var_set(&vs, c.w[0], (size_t)(eq - c.w[0]), eq + 1);
		}
		cmd_free(&c);
	}
	if (!rc && depth > 0) {
		snprintf(err, errlen, "grub.cfg: end of file inside a %s block",
			 st[depth].kind == B_IF ? "if" : st[depth].kind == B_LOOP ? "loop" : "{ }");
		rc = -1;
	}
	for (int i = 0; i < npend; i++) {
		struct bl_entry *e = NULL, *v = m->entries;
		for (int k = 0; k < pend[i].plen; k++) {
			e = &v[pend[i].path[k]];
			v = e->children;
		}
		if (!rc && finish_entry(e, pend[i].body.s ? pend[i].body.s : "", &vs, have_env, err, errlen) < 0)
			rc = -1;
		free(pend[i].body.s);
	}
	free(pend);
	if (!rc) {
		const char *d = var_get(&vs, "default", 7);
		m->deflt = d ? xstrdup(d) : NULL;
		const char *t = var_get(&vs, "timeout", 7);
		m->timeout = t && *t ? atoi(t) : -1;
		struct sbuf b = { 0 };
		sbuf_add(&b, "", 0);
		for (int i = 0; i < vs.n; i++)
			if (!strchr(vs.v[i].value, '\n'))
				sbuf_printf(&b, "%s=%s\n", vs.v[i].name, vs.v[i].value);
		m->varslen = b.len;
		m->vars = sbuf_steal(&b);
	}
	vars_free(&vs);
	if (rc)
		bl_menu_free(m);
	return rc;
}
