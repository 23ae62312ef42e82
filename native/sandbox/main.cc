// nbuild-sandbox: single-threaded helper that enters namespaces and execs.
#include <cstdio>
int main() { std::fprintf(stderr, "nbuild-sandbox: not implemented yet\n"); return 2; }
