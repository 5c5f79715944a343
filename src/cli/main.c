/*
 * main.c: the kxl command: xl's verbs dispatched to their handlers.
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "kxl: not built yet\n");
	return 2;
}
