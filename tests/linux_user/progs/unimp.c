/* An unimplemented system call answers ENOSYS. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(void) {
    long r = syscall(244);
    printf("r=%ld enosys=%d\n", r, errno == ENOSYS);
    r = syscall(SYS_io_setup, 1, 0);
    printf("io_setup enosys=%d\n", r == -1 && errno == ENOSYS);
    return 0;
}
