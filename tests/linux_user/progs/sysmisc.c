/* Time, identity, limits, /proc/self as the guest sees it. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    struct timespec a, b, req = {0, 20 * 1000 * 1000};
    clock_gettime(CLOCK_MONOTONIC, &a);
    nanosleep(&req, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    printf("slept>=20ms: %d\n", ms >= 20);
    printf("realtime sane: %d\n", time(NULL) > 1600000000);
    struct utsname u;
    uname(&u);
    printf("machine=%s sys=%s\n", u.machine, u.sysname);
    printf("pid ok=%d\n", getpid() > 1 && getppid() > 0);
    struct rlimit rl;
    printf("getrlimit=%d\n", getrlimit(RLIMIT_NOFILE, &rl));
    char exe[512] = {0};
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    const char *base = strrchr(exe, '/');
    printf("exe=%s n_ok=%d\n", base ? base + 1 : exe, n > 0);
    FILE *f = fopen("/proc/self/maps", "r");
    char line[512];
    int found = 0, stack = 0;
    while (f && fgets(line, sizeof line, f)) {
        if (strstr(line, base ? base + 1 : "none")) found = 1;
        if (strstr(line, "[stack]")) stack = 1;
    }
    printf("maps has exe=%d stack=%d\n", found, stack);
    printf("pagesize=%ld\n", sysconf(_SC_PAGESIZE));
    return 0;
}
