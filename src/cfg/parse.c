/*
 * parse.c: the xl.cfg grammar of libxlutil (libxlu_cfg_y.y) by recursive
 * descent:
 *
 *   file       := { stmt } [ assignment ]
 *   stmt       := assignment end | end
 *   assignment := IDENT ('=' | '+=') value
 *   end        := NEWLINE | ';'
 *   value      := STRING | NUMBER | '[' {NEWLINE} [ values [',' {NEWLINE}] ] ']'
 *   values     := value {NEWLINE} { ',' {NEWLINE} value {NEWLINE} }
 *
 * Errors are reported with their position and the parser resumes at the
 * next line outside brackets (xl's `error NEWLINE` rule, made to skip a
 * whole broken list), so one run reports every error in the file.
 *
 * Semantics of storing, as xl: settings are kept newest first and lookups
 * take the newest; `+=` concatenates with the newest previous value of the
 * key (strings join, lists append) and mixing a list with a string is an
 * error.
 */
#include <kxl/cfg.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/lex.h"
#include "util/util.h"

struct parser {
	struct lexer lx;
	struct token tk;
	struct kxl_cfg *cfg;
	int errors;
};

static void advance(struct parser *ps)
{
	free(ps->tk.val);
	lex_next(&ps->lx, &ps->tk);
}

static void value_free(struct kxl_cfg_value *v)
{
	if (!v) return;
	free(v->str);
	for (size_t i = 0; i < v->n; i++) value_free(v->items[i]);
	free(v->items);
	free(v);
}

static struct kxl_cfg_value *value_copy(const struct kxl_cfg_value *v)
{
	struct kxl_cfg_value *c = xcalloc(1, sizeof(*c));
	*c = *v;
	c->str = v->str ? xstrdup(v->str) : NULL;
	c->items = v->n ? xcalloc(v->n, sizeof(*c->items)) : NULL;
	for (size_t i = 0; i < v->n; i++) c->items[i] = value_copy(v->items[i]);
	return c;
}

static void syntax_error(struct parser *ps, const char *expected)
{
	struct token *t = &ps->tk;
	if (t->t == T_ERROR) {	/* already reported by the lexer */
		ps->errors++;
		return;
	}
	const char *found = tok_name(t->t);
	if (t->t == T_IDENT || t->t == T_NUMBER || t->t == T_STRING)
		lex_error(&ps->lx, t->line, t->col, "expected %s, found %s `%.*s'",
			  expected, found, t->len, t->start);
	else
		lex_error(&ps->lx, t->line, t->col, "expected %s, found %s", expected, found);
	ps->errors++;
}

/* Skips to the end of the statement: the next NEWLINE or `;' outside brackets. */
static void recover(struct parser *ps)
{
	int depth = 0;
	while (ps->tk.t != T_EOF) {
		if (ps->tk.t == T_LBRACKET) depth++;
		else if (ps->tk.t == T_RBRACKET && depth > 0) depth--;
		else if ((ps->tk.t == T_NEWLINE || ps->tk.t == T_SEMI) && depth == 0) {
			advance(ps);
			return;
		}
		advance(ps);
	}
}

static void skip_newlines(struct parser *ps)
{
	while (ps->tk.t == T_NEWLINE) advance(ps);
}

static struct kxl_cfg_value *parse_value(struct parser *ps, int depth)
{
	struct kxl_cfg_value *v = xcalloc(1, sizeof(*v));
	v->pos = (struct kxl_cfg_pos){ ps->lx.src, ps->tk.line, ps->tk.col };
	if (ps->tk.t == T_STRING || ps->tk.t == T_NUMBER) {
		v->type = KXL_CFG_STRING;
		v->number = ps->tk.t == T_NUMBER;
		v->str = ps->tk.val;
		ps->tk.val = NULL;
		advance(ps);
		return v;
	}
	if (ps->tk.t != T_LBRACKET) {
		syntax_error(ps, "a value (a string, a number or a [list])");
		free(v);
		return NULL;
	}
	if (depth > 64) {
		lex_error(&ps->lx, ps->tk.line, ps->tk.col, "lists nested more than 64 deep");
		ps->errors++;
		free(v);
		return NULL;
	}
	v->type = KXL_CFG_LIST;
	advance(ps);
	skip_newlines(ps);
	size_t cap = 0;
	while (ps->tk.t != T_RBRACKET) {
		struct kxl_cfg_value *item = parse_value(ps, depth + 1);
		if (!item) { value_free(v); return NULL; }
		if (v->n == cap) {
			cap = cap ? cap * 2 : 4;
			v->items = xrealloc(v->items, cap * sizeof(*v->items));
		}
		v->items[v->n++] = item;
		skip_newlines(ps);
		if (ps->tk.t == T_COMMA) {
			advance(ps);
			skip_newlines(ps);
		} else if (ps->tk.t != T_RBRACKET) {
			syntax_error(ps, "`,' or `]' in the list");
			value_free(v);
			return NULL;
		}
	}
	advance(ps);
	return v;
}

static void store(struct parser *ps, char *name, bool add, struct kxl_cfg_pos key_pos,
		  struct kxl_cfg_value *val)
{
	struct kxl_cfg *cfg = ps->cfg;
	if (add) {
		const struct kxl_cfg_setting *prev = kxl_cfg_find(cfg, name);
		if (prev) {
			const struct kxl_cfg_value *pv = prev->value;
			if (pv->type != val->type) {
				lex_error(&ps->lx, val->pos.line, val->pos.col,
					  "can't add %s to %s for `%s' (`+=' needs the same kind as "
					  "the previous value)",
					  val->type == KXL_CFG_LIST ? "a [list]" : "a \"string\"",
					  pv->type == KXL_CFG_LIST ? "a [list]" : "a \"string\"", name);
				ps->errors++;
				free(name);
				value_free(val);
				return;
			}
			if (val->type == KXL_CFG_STRING) {
				char *s = xasprintf("%s%s", pv->str, val->str);
				free(val->str);
				val->str = s;
				val->number = false;
			} else {
				size_t n = pv->n + val->n;
				struct kxl_cfg_value **items = xcalloc(n ? n : 1, sizeof(*items));
				for (size_t i = 0; i < pv->n; i++) items[i] = value_copy(pv->items[i]);
				for (size_t i = 0; i < val->n; i++) items[pv->n + i] = val->items[i];
				free(val->items);
				val->items = items;
				val->n = n;
			}
		}
	}
	struct kxl_cfg_setting *s = xcalloc(1, sizeof(*s));
	s->name = name;
	s->value = val;
	s->add = add;
	s->key_pos = key_pos;
	s->next = cfg->last;
	cfg->last = s;
}

static void parse_stmt(struct parser *ps)
{
	struct token *t = &ps->tk;
	if (t->t == T_NEWLINE || t->t == T_SEMI) { advance(ps); return; }
	if (t->t != T_IDENT) {
		syntax_error(ps, "a setting `name = value'");
		recover(ps);
		return;
	}
	char *name = t->val;
	t->val = NULL;
	struct kxl_cfg_pos key_pos = { ps->lx.src, t->line, t->col };
	advance(ps);
	if (t->t != T_EQ && t->t != T_ADD) {
		syntax_error(ps, "`=' or `+=' after the name");
		free(name);
		recover(ps);
		return;
	}
	bool add = t->t == T_ADD;
	advance(ps);
	struct kxl_cfg_value *v = parse_value(ps, 0);
	if (!v) { free(name); recover(ps); return; }
	if (t->t != T_NEWLINE && t->t != T_SEMI && t->t != T_EOF) {
		syntax_error(ps, "end of line or `;' after the value");
		free(name);
		value_free(v);
		recover(ps);
		return;
	}
	store(ps, name, add, key_pos, v);
	if (t->t != T_EOF) advance(ps);
}

static struct kxl_cfg_source *add_source(struct kxl_cfg *cfg, const char *name,
					 const char *basedir, const char *text, size_t len)
{
	struct kxl_cfg_source *src = xcalloc(1, sizeof(*src));
	src->name = xstrdup(name);
	src->basedir = xstrdup(basedir);
	src->text = xmalloc(len + 1);
	memcpy(src->text, text, len);
	src->text[len] = 0;
	src->len = len;
	src->next = cfg->sources;
	cfg->sources = src;
	return src;
}

static int parse_source(struct kxl_cfg *cfg, const struct kxl_cfg_source *src,
			struct kxl_diag *d)
{
	struct parser ps = { .cfg = cfg };
	lex_init(&ps.lx, src, d);
	/* a NUL byte cannot be in a cfg file: xl stops reading there */
	const char *nul = memchr(src->text, 0, src->len);
	if (nul) {
		int line = 1;
		const char *ls = src->text;
		for (const char *p = src->text; p < nul; p++)
			if (*p == '\n') { line++; ls = p + 1; }
		lex_error(&ps.lx, line, (int)(nul - ls) + 1, "NUL byte in the file (is it a binary file?)");
		return 1;
	}
	advance(&ps);
	while (ps.tk.t != T_EOF)
		parse_stmt(&ps);
	free(ps.tk.val);
	if (ps.lx.python) cfg->python = true;
	/* lexer errors are counted by the lexer; syntax errors on error tokens too */
	return ps.lx.errors;
}

int kxl_cfg_parse(struct kxl_cfg *cfg, const char *name, const char *text,
		  size_t len, struct kxl_diag *d)
{
	char *dir = path_dirname(name);
	const struct kxl_cfg_source *src = add_source(cfg, name, dir, text, len);
	free(dir);
	if (!cfg->path) cfg->path = xstrdup(name);
	return parse_source(cfg, src, d);
}

int kxl_cfg_parse_file(struct kxl_cfg *cfg, const char *path, struct kxl_diag *d)
{
	char *text;
	size_t len;
	int e = read_file(path, &text, &len);
	if (e) {
		struct kxl_loc l = { .file = path };
		kxl_diag_add(d, KXL_ERROR, &l, "cannot read the configuration file: %s", strerror(-e));
		return 1;
	}
	int r = kxl_cfg_parse(cfg, path, text, len, d);
	free(text);
	return r;
}

int kxl_cfg_parse_arg(struct kxl_cfg *cfg, const char *arg, struct kxl_diag *d)
{
	char *cwd = getcwd(NULL, 0);
	const struct kxl_cfg_source *src = add_source(cfg, "<command line>", cwd ? cwd : "/",
						      arg, strlen(arg));
	free(cwd);
	return parse_source(cfg, src, d);
}

void kxl_cfg_init(struct kxl_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
}

void kxl_cfg_free(struct kxl_cfg *cfg)
{
	for (struct kxl_cfg_setting *s = cfg->last, *n; s; s = n) {
		n = s->next;
		free(s->name);
		value_free(s->value);
		free(s);
	}
	for (struct kxl_cfg_source *s = cfg->sources, *n; s; s = n) {
		n = s->next;
		free(s->name);
		free(s->basedir);
		free(s->text);
		free(s);
	}
	free(cfg->path);
	memset(cfg, 0, sizeof(*cfg));
}

const struct kxl_cfg_setting *kxl_cfg_find(const struct kxl_cfg *cfg, const char *name)
{
	for (const struct kxl_cfg_setting *s = cfg->last; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

struct kxl_loc kxl_cfg_loc(const struct kxl_cfg_pos *pos)
{
	if (!pos->src) return (struct kxl_loc){ 0 };
	return lex_loc(pos->src, pos->line, pos->col);
}

struct kxl_loc kxl_cfg_value_loc(const struct kxl_cfg *cfg, const char *key, long idx)
{
	struct kxl_loc l = { .file = cfg ? cfg->path : NULL };
	const struct kxl_cfg_setting *s = cfg && key ? kxl_cfg_find(cfg, key) : NULL;
	if (!s)
		return l;
	const struct kxl_cfg_value *v = s->value;
	if (idx >= 0 && v->type == KXL_CFG_LIST && (size_t)idx < v->n)
		v = v->items[idx];
	return kxl_cfg_loc(&v->pos);
}

const char *kxl_cfg_pos_file(const struct kxl_cfg_pos *pos)
{
	return pos->src ? pos->src->name : "<unknown>";
}

const char *kxl_cfg_pos_basedir(const struct kxl_cfg_pos *pos)
{
	return pos->src ? pos->src->basedir : "/";
}
