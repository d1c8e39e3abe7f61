// vibrun.c: (being written in this session)
int main(void) { return 0; }
