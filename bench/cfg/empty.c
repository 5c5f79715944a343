/* empty.c: the floor of the process benchmark: a static C program that does nothing. */
int main(void)
{
	return 0;
}
