/* System calls with arguments Linux rejects: each prints its result and
 * errno, the way a careless or hostile program would call them. */
#include <errno.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void show(const char *what, long r) {
    printf("%s = %ld errno=%d\n", what, r, r < 0 ? errno : 0);
    errno = 0;
}

int main(void) {
    show("flock(-1, LOCK_EX)", flock(-1, LOCK_EX));
    show("flock(-1, -1)", syscall(SYS_flock, -1, -1));
    show("flock(0x7fffffff)", syscall(SYS_flock, 0x7fffffff, LOCK_SH));
    show("munmap(0, -1)", munmap(0, (size_t)-1));
    show("munmap(0, huge)", syscall(SYS_munmap, 0, 1UL << 63));
    show("munmap(kernel half)", syscall(SYS_munmap, 0xffffffc000000000UL, 4096));
    show("mmap(len -1)", (long)mmap(NULL, (size_t)-1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
                                    -1, 0) == -1 ? -1 : 0);
    return 0;
}
