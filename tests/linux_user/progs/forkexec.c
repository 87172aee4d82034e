/* fork, pipe, execve of another riscv64 program, wait4 and exit statuses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "child") == 0) {
        char buf[32] = {0};
        read(0, buf, sizeof buf - 1);
        printf("child got: %s\n", buf);
        return 7;
    }
    int fds[2];
    if (pipe(fds)) return 1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[0], 0);
        close(fds[0]); close(fds[1]);
        execl("/proc/self/exe", argv[0], "child", (char *)NULL);
        _exit(127);
    }
    close(fds[0]);
    write(fds[1], "via pipe", 8);
    close(fds[1]);
    int st;
    waitpid(pid, &st, 0);
    printf("exited=%d status=%d\n", WIFEXITED(st), WEXITSTATUS(st));
    pid = fork();
    if (pid == 0) {
        abort();
    }
    waitpid(pid, &st, 0);
    printf("signaled=%d sig=%d\n", WIFSIGNALED(st), WTERMSIG(st));
    pid = fork();
    if (pid == 0) _exit(3);
    waitpid(pid, &st, 0);
    printf("exit=%d\n", WEXITSTATUS(st));
    return 0;
}
