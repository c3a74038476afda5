// proc_number reads the numbers of /proc files as the pre-flight checks use them.
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include "../../common/util.h"

static int failures;

static void expect(long long got, long long want, const char *what) {
    if (got != want) {
        printf("FAIL %s: got %lld, want %lld\n", what, got, want);
        failures++;
    }
}

int main() {
    char path[] = "/tmp/c10k-unit-util.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 1;
    FILE *f = fdopen(fd, "w");
    fputs("sockets: used 180\n"
          "TCP: inuse 7 orphan 0 tw 16223 alloc 9 mem 3\n"
          "MemTotal:       24000000 kB\n"
          "MemAvailable:   23456789 kB\n", f);
    fclose(f);
    expect(proc_number(path, "TCP:", 2), 16223, "third number after TCP: (tw)");
    expect(proc_number(path, "TCP:", 0), 7, "first number after TCP: (inuse)");
    expect(proc_number(path, "MemAvailable:", 0), 23456789, "MemAvailable");
    expect(proc_number(path, "MemAvailable:", 1), -1, "a number the line does not have");
    expect(proc_number(path, "Missing:", 0), -1, "a key no line starts with");
    expect(proc_number(path, nullptr, 0), 180, "first number of any line");
    f = fopen(path, "w");
    fputs("32768\t60999\n", f);
    fclose(f);
    expect(proc_number(path, nullptr, 1), 60999, "second of two numbers split by a tab");
    unlink(path);
    expect(proc_number(path, nullptr, 0), -1, "a file that does not exist");
    // The build keeps asserts in what it tests and benchmarks (close_fd's guard of
    // the standard streams): a build type that adds -DNDEBUG fails here.
#ifdef NDEBUG
    expect(1, 0, "asserts compiled in (the build defines NDEBUG)");
#endif
    if (!failures) printf("ok\n");
    return failures ? 1 : 0;
}
