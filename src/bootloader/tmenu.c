/*
 * tmenu.c: kxl-bootloader's interactive menu, as pygrub shows one when
 * libxl attaches the guest's console (no -q). It runs in the parent, on the
 * menu the sandboxed reader listed (BL_LIST_MENU, parsed here), never on the
 * guest's bytes directly: the titles and command lines have had every
 * control byte replaced already, so nothing the guest wrote can reach the
 * terminal as an escape sequence. Up/Down (or k/j) move, Enter boots, `e'
 * edits the command line (printable keys insert, Backspace deletes, Enter
 * accepts, Escape returns), and any key stops the countdown. The screen is
 * redrawn with ANSI clear-screen sequences unless TERM is unset or "dumb",
 * where the menu is printed as plain numbered lines.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "bootloader/bl.h"
#include "util/util.h"

void bl_items_free(struct bl_items *it)
{
	for (int i = 0; i < it->n; i++) {
		free(it->v[i].path);
		free(it->v[i].title);
		free(it->v[i].args);
	}
	free(it->v);
	memset(it, 0, sizeof(*it));
}

/* The next tab-separated field of [*p, end), as a new string. */
static char *field(const char **p, const char *end)
{
	const char *t = memchr(*p, '\t', (size_t)(end - *p));
	const char *e = t ? t : end;
	char *s = xstrndup(*p, (size_t)(e - *p));
	*p = t ? t + 1 : end;
	return s;
}

int bl_items_parse(const char *text, size_t len, struct bl_items *it)
{
	memset(it, 0, sizeof(*it));
	it->timeout = -1;
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		if (le - p > 5 && !memcmp(p, "menu\t", 5)) {
			it->timeout = atoi(p + 5);
		} else if (le - p > 6 && !memcmp(p, "entry\t", 6) && it->n < BL_MAX_ENTRIES) {
			const char *q = p + 6;
			it->v = xrealloc(it->v, (size_t)(it->n + 1) * sizeof(*it->v));
			struct bl_item *e = &it->v[it->n];
			e->path = field(&q, le);
			char *d = field(&q, le);
			if (!strcmp(d, "1"))
				it->deflt = it->n;
			free(d);
			e->title = field(&q, le);
			e->args = field(&q, le);
			it->n++;
		}
		p = nl ? nl + 1 : end;
	}
	if (it->n == 0) {
		bl_items_free(it);
		return -1;
	}
	return 0;
}

static void out_s(int fd, const char *s)
{
	size_t len = strlen(s);
	while (len) {
		ssize_t w = write(fd, s, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		s += w;
		len -= (size_t)w;
	}
}

/* Keys, with the escape sequences of the arrow keys folded in. */
enum { K_NONE = -2, K_EOF = -1, K_UP = 256, K_DOWN, K_LEFT, K_RIGHT, K_ESC };

/* One key from in, waiting at most ms (< 0: forever). */
static int key(int in, int ms)
{
	struct pollfd pf = { in, POLLIN, 0 };
	int r = poll(&pf, 1, ms);
	if (r == 0)
		return K_NONE;
	if (r < 0)
		return errno == EINTR ? K_NONE : K_EOF;
	unsigned char c;
	if (read(in, &c, 1) != 1)
		return K_EOF;
	if (c != 0x1b)
		return c;
	/* ESC [ A..D (or ESC O A..D); a lone ESC is Escape */
	unsigned char s[2];
	pf.revents = 0;
	if (poll(&pf, 1, 50) <= 0 || read(in, &s[0], 1) != 1 || (s[0] != '[' && s[0] != 'O'))
		return K_ESC;
	if (poll(&pf, 1, 50) <= 0 || read(in, &s[1], 1) != 1)
		return K_ESC;
	switch (s[1]) {
	case 'A': return K_UP;
	case 'B': return K_DOWN;
	case 'C': return K_RIGHT;
	case 'D': return K_LEFT;
	default: return K_NONE;
	}
}

static void draw(int out, bool ansi, const struct bl_items *it, int sel, int left)
{
	struct sbuf b = { 0 };
	sbuf_adds(&b, ansi ? "\033[H\033[J" : "\n");
	sbuf_adds(&b, "kxl-bootloader: choose the entry to boot\n\n");
	for (int i = 0; i < it->n; i++)
		sbuf_printf(&b, "%s%2d %.70s\n", i == sel ? " * " : "   ", i, it->v[i].title);
	sbuf_adds(&b, "\nUp/Down choose, Enter boots, e edits the command line");
	if (left >= 0)
		sbuf_printf(&b, "; booting the selected entry in %d s", left);
	sbuf_adds(&b, "\n");
	out_s(out, b.s);
	free(b.s);
}

/* Edits line (a new string is returned in *line); 1 accepted, 0 escaped. */
static int edit(int in, int out, bool ansi, char **line)
{
	struct sbuf b = { 0 };
	sbuf_adds(&b, *line);
	size_t cur = b.len;
	for (;;) {
		struct sbuf d = { 0 };
		sbuf_adds(&d, ansi ? "\033[H\033[J" : "\n");
		sbuf_adds(&d, "Edit the command line (Enter boots, Escape returns):\n\n");
		sbuf_add(&d, b.s ? b.s : "", b.len);
		if (ansi && cur < b.len)
			sbuf_printf(&d, "\033[%zuD", b.len - cur);
		out_s(out, d.s);
		free(d.s);
		int k = key(in, -1);
		if (k == K_EOF || k == K_ESC) {
			free(b.s);
			return 0;
		}
		if (k == '\r' || k == '\n') {
			free(*line);
			*line = b.s ? sbuf_steal(&b) : xstrdup("");
			return 1;
		}
		if ((k == 0x7f || k == 8) && cur > 0) {
			memmove(b.s + cur - 1, b.s + cur, b.len - cur);
			b.len--;
			cur--;
			b.s[b.len] = 0;
		} else if (k == K_LEFT && cur > 0) {
			cur--;
		} else if (k == K_RIGHT && cur < b.len) {
			cur++;
		} else if (k >= 0x20 && k < 0x7f && b.len + 1 < BL_CMDLINE_MAX) {
			char c = (char)k;
			sbuf_add(&b, &c, 1);	/* grows by one, then moved into place */
			memmove(b.s + cur + 1, b.s + cur, b.len - cur - 1);
			b.s[cur++] = c;
		}
	}
}

int bl_tty_menu(int in, int out, const struct bl_items *it, char **cmdline)
{
	*cmdline = NULL;
	const char *term = getenv("TERM");
	bool ansi = term && *term && strcmp(term, "dumb");
	struct termios old, raw;
	bool tty = tcgetattr(in, &old) == 0;
	if (tty) {
		raw = old;
		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
		raw.c_iflag &= ~(tcflag_t)(ICRNL | IXON);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(in, TCSANOW, &raw);
	}
	int sel = it->deflt, left = it->timeout;
	for (;;) {
		draw(out, ansi, it, sel, left);
		int k = key(in, left >= 0 ? 1000 : -1);
		if (k == K_NONE) {
			if (left >= 0 && --left < 0)
				break;	/* the countdown ran out: the selected entry */
			continue;
		}
		left = -1;	/* a key stops the countdown */
		if (k == K_EOF || k == '\r' || k == '\n')
			break;
		if ((k == K_UP || k == 'k') && sel > 0)
			sel--;
		else if ((k == K_DOWN || k == 'j') && sel + 1 < it->n)
			sel++;
		else if (k == 'e') {
			char *line = xstrdup(it->v[sel].args);
			if (edit(in, out, ansi, &line)) {
				*cmdline = line;
				break;
			}
			free(line);
		}
	}
	if (tty)
		tcsetattr(in, TCSANOW, &old);
	out_s(out, ansi ? "\033[H\033[J" : "\n");
	return sel;
}
