/*
 * lex.c: the xl.cfg tokenizer, following libxlutil's flex scanner
 * (libxlu_cfg_l.l): lower-case identifiers `[a-z][._0-9a-z]*`, numbers
 * `[0-9][0-9a-fx]*` kept as text, strings in either quote style with xl's
 * backslash escapes, `,` `[` `]` `=` `+=` `;`, and NEWLINE for `\n` or a
 * `#` comment. Anything else is a lexical error covering the rest of the
 * token (up to white space), as in xl; a token holding one of `+-.():`
 * marks the file as looking like Python.
 *
 * Beyond xl: a comment that ends the file without a newline is a NEWLINE,
 * CRLF is a newline, and `\x` / octal escapes are errors with a clear message
 * instead of xl's failure or silent loss of the character.
 */
#include "cfg/lex.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

struct kxl_loc lex_loc(const struct kxl_cfg_source *src, int line, int col)
{
	struct kxl_loc l = { .file = src->name, .line = line, .col = col };
	/* find the text of the line for the caret */
	const char *p = src->text, *end = src->text + src->len;
	for (int i = 1; i < line && p < end; i++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) { p = end; break; }
		p = nl + 1;
	}
	if (p <= end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		if (!e) e = end;
		if (e > p && e[-1] == '\r') e--;
		l.text = p;
		l.text_len = (int)(e - p);
	}
	return l;
}

void lex_error(struct lexer *lx, int line, int col, const char *fmt, ...)
{
	struct kxl_loc l = lex_loc(lx->src, line, col);
	va_list ap;
	va_start(ap, fmt);
	kxl_diag_vadd(lx->d, KXL_ERROR, &l, fmt, ap);
	va_end(ap);
	lx->errors++;
}

void lex_init(struct lexer *lx, const struct kxl_cfg_source *src, struct kxl_diag *d)
{
	memset(lx, 0, sizeof(*lx));
	lx->src = src;
	lx->p = src->text;
	lx->end = src->text + src->len;
	lx->line = 1;
	lx->line_start = lx->p;
	lx->d = d;
}

const char *tok_name(enum tok t)
{
	switch (t) {
	case T_EOF: return "end of file";
	case T_NEWLINE: return "end of line";
	case T_IDENT: return "a name";
	case T_NUMBER: return "a number";
	case T_STRING: return "a string";
	case T_COMMA: return "`,'";
	case T_LBRACKET: return "`['";
	case T_RBRACKET: return "`]'";
	case T_EQ: return "`='";
	case T_ADD: return "`+='";
	case T_SEMI: return "`;'";
	case T_ERROR: return "an invalid token";
	}
	return "?";
}

static int is_ident_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
}

static int is_number_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == 'x';
}

static void newline(struct lexer *lx)
{
	lx->line++;
	lx->line_start = lx->p;
}

/* Dequotes a string token [s, e) (quotes included). Returns NULL after
 * reporting an error. */
static char *dequote(struct lexer *lx, const char *s, const char *e, int line)
{
	char *out = xmalloc((size_t)(e - s) + 1), *q = out;
	int bad = 0;
	for (const char *p = s + 1; p < e - 1; p++) {
		if (*p != '\\') { *q++ = *p; continue; }
		char c = *++p;
		int col = (int)(p - 1 - lx->line_start) + 1;
		switch (c) {
		case '"': case '\'': case '\\': *q++ = c; break;
		case 'a': *q++ = '\a'; break;
		case 'b': *q++ = '\b'; break;
		case 'f': *q++ = '\f'; break;
		case 'n': *q++ = '\n'; break;
		case 'r': *q++ = '\r'; break;
		case 't': *q++ = '\t'; break;
		case 'v': *q++ = '\v'; break;
		case 'x':
			lex_error(lx, line, col, "`\\x' escapes are not supported in xl.cfg strings "
				  "(xl 4.17 fails on them); write the character itself");
			bad = 1;
			break;
		default:
			if (c >= '0' && c <= '7')
				lex_error(lx, line, col, "octal escape `\\%c' is not supported in xl.cfg "
					  "strings (xl 4.17 silently drops the character)", c);
			else
				lex_error(lx, line, col, "invalid character `%c' after backslash in "
					  "quoted string (valid: \\\" \\' \\\\ \\a \\b \\f \\n \\r \\t \\v)", c);
			bad = 1;
		}
	}
	*q = 0;
	if (bad) { free(out); return NULL; }
	return out;
}

/* [after, end) is a size unit: k, m, g or t, then optionally i and b (or
 * just b), in either case. */
static bool size_unit(const char *after, const char *end)
{
	size_t n = (size_t)(end - after);
	if (n < 1 || n > 3 || !strchr("kKmMgGtT", after[0]))
		return false;
	if (n == 1)
		return true;
	if (n == 2)
		return after[1] == 'b' || after[1] == 'B';
	return (after[1] == 'i' || after[1] == 'I') && (after[2] == 'b' || after[2] == 'B');
}

void lex_next(struct lexer *lx, struct token *tk)
{
	memset(tk, 0, sizeof(*tk));
again:
	while (lx->p < lx->end && (*lx->p == ' ' || *lx->p == '\t'))
		lx->p++;
	tk->line = lx->line;
	tk->col = (int)(lx->p - lx->line_start) + 1;
	tk->start = lx->p;
	if (lx->p >= lx->end) { tk->t = T_EOF; return; }
	char c = *lx->p;
	const char *s = lx->p;
	if (c == '\n' || (c == '\r' && lx->p + 1 < lx->end && lx->p[1] == '\n')) {
		lx->p += c == '\r' ? 2 : 1;
		tk->t = T_NEWLINE;
		tk->len = 1;
		newline(lx);
		return;
	}
	if (c == '#') {
		while (lx->p < lx->end && *lx->p != '\n') lx->p++;
		if (lx->p < lx->end) { lx->p++; newline(lx); }
		tk->t = T_NEWLINE;
		tk->len = 1;
		return;
	}
	if (c >= 'a' && c <= 'z') {
		while (lx->p < lx->end && is_ident_char(*lx->p)) lx->p++;
		tk->t = T_IDENT;
	} else if (c >= '0' && c <= '9') {
		while (lx->p < lx->end && is_number_char(*lx->p)) lx->p++;
		tk->t = T_NUMBER;
	} else if (c == ',' || c == '[' || c == ']' || c == '=' || c == ';') {
		lx->p++;
		tk->t = c == ',' ? T_COMMA : c == '[' ? T_LBRACKET : c == ']' ? T_RBRACKET :
			c == '=' ? T_EQ : T_SEMI;
		tk->len = 1;
		return;
	} else if (c == '+' && lx->p + 1 < lx->end && lx->p[1] == '=') {
		lx->p += 2;
		tk->t = T_ADD;
		tk->len = 2;
		return;
	} else if (c == '"' || c == '\'') {
		const char *p = lx->p + 1;
		while (p < lx->end && *p != c && *p != '\n') {
			if (*p == '\\') {
				if (p + 1 >= lx->end || p[1] == '\n') break;
				p++;
			}
			p++;
		}
		if (p < lx->end && *p == c) {
			lx->p = p + 1;
			tk->len = (int)(lx->p - s);
			tk->val = dequote(lx, s, lx->p, tk->line);
			tk->t = tk->val ? T_STRING : T_ERROR;
			return;
		}
		/* unterminated: an error up to the end of the line */
		while (lx->p < lx->end && *lx->p != '\n' && *lx->p != '\r') lx->p++;
		lex_error(lx, tk->line, tk->col, "unterminated string: the closing %c is missing "
			  "on this line (strings cannot span lines)", c);
		tk->t = T_ERROR;
		tk->len = (int)(lx->p - s);
		return;
	} else {
		/* xl's error rule: the bad character and the rest of the token */
		if (c == '\r') {
			lx->p++;
			lex_error(lx, tk->line, tk->col, "stray carriage return (a CR not followed by a newline)");
			goto again;
		}
		/* xl's hint that the file is Python: as xl for these characters,
		 * but `memory: 1024' and `memory = 1.5' are typos, not Python */
		if (strchr("+-.()", c)) lx->python = true;
		while (lx->p < lx->end && *lx->p != ' ' && *lx->p != '\t' && *lx->p != '\n' &&
		       !(*lx->p == '\r' && lx->p + 1 < lx->end && lx->p[1] == '\n'))
			lx->p++;
		tk->t = T_ERROR;
		tk->len = (int)(lx->p - s);
		const char *hint = "";
		if (c >= 'A' && c <= 'Z')
			hint = " (names are lower case)";
		else if (c == '-' || c == '.')
			hint = " (numbers are non-negative integers: decimal, 0octal or 0xhex in lower case)";
		else if (c == '+')
			hint = " (did you mean `+='?)";
		lex_error(lx, tk->line, tk->col, "lexical error near `%.*s'%s", tk->len, s, hint);
		return;
	}
	tk->len = (int)(lx->p - s);
	/* a number or name running into an invalid character is one bad token */
	if (lx->p < lx->end && !strchr(" \t\n\r,[]=;#+'\"", *lx->p)) {
		char bad = *lx->p;
		const char *after = lx->p;
		if (strchr("+-()", bad) || (bad == '.' && tk->t != T_NUMBER)) lx->python = true;
		while (lx->p < lx->end && *lx->p != ' ' && *lx->p != '\t' && *lx->p != '\n' &&
		       !(*lx->p == '\r' && lx->p + 1 < lx->end && lx->p[1] == '\n'))
			lx->p++;
		tk->len = (int)(lx->p - s);
		const char *hint = "";
		bool hex = tk->t == T_NUMBER && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
		if (tk->t == T_NUMBER && bad == '.')
			hint = " (numbers are whole: a fraction is not one; memory sizes are in MiB)";
		else if (tk->t == T_NUMBER && !hex && size_unit(after, lx->p))
			hint = " (a size is a plain number: memory and maxmem are in MiB, so 2G is 2048)";
		else if (tk->t == T_NUMBER)
			hint = bad == '-' ? " (numbers are non-negative integers)" :
			       (bad >= 'A' && bad <= 'Z') ? " (hex digits are lower case)" : "";
		else if (bad == ':')
			hint = " (a setting is written KEY = VALUE, with `=')";
		else if (bad >= 'A' && bad <= 'Z')
			hint = " (names are lower case)";
		lex_error(lx, tk->line, tk->col + (int)(strchr(s, bad) - s),
			  "lexical error near `%.*s'%s", tk->len, s, hint);
		tk->t = T_ERROR;
		return;
	}
	tk->val = xstrndup(s, (size_t)tk->len);
}
