/*
 * lex.h: tokens of the xl.cfg language (internal to src/cfg).
 */
#ifndef KXL_CFG_LEX_H
#define KXL_CFG_LEX_H

#include <kxl/cfg.h>

enum tok {
	T_EOF, T_NEWLINE, T_IDENT, T_NUMBER, T_STRING,
	T_COMMA, T_LBRACKET, T_RBRACKET, T_EQ, T_ADD, T_SEMI,
	T_ERROR,		/* a lexical error, already reported */
};

struct kxl_cfg_source {
	char *name;		/* "<command line>" or the path as given */
	char *basedir;		/* absolute directory relative paths resolve against */
	char *text;		/* owned copy of the text */
	size_t len;
	struct kxl_cfg_source *next;
};

struct lexer {
	const struct kxl_cfg_source *src;
	const char *p, *end;
	int line;
	const char *line_start;
	struct kxl_diag *d;
	int errors;
	bool python;
};

struct token {
	enum tok t;
	int line, col;
	char *val;		/* IDENT, NUMBER, STRING: owned text (dequoted) */
	const char *start;	/* for error messages: the token's text */
	int len;
};

void lex_init(struct lexer *lx, const struct kxl_cfg_source *src, struct kxl_diag *d);
void lex_next(struct lexer *lx, struct token *tk);
const char *tok_name(enum tok t);
void lex_error(struct lexer *lx, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
struct kxl_loc lex_loc(const struct kxl_cfg_source *src, int line, int col);

#endif
