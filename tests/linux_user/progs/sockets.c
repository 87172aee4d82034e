/* socketpair, AF_UNIX stream server/client across fork, poll, epoll. */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int sv[2];
    printf("socketpair=%d\n", socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
    send(sv[0], "ping", 4, 0);
    char buf[32] = {0};
    struct pollfd pfd = {.fd = sv[1], .events = POLLIN};
    printf("poll=%d revents=%d\n", poll(&pfd, 1, 1000), pfd.revents);
    printf("recv=%zd %s\n", recv(sv[1], buf, sizeof buf, 0), buf);
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0x1122334455667788ULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev);
    write(sv[1], "pong", 4);
    struct epoll_event out[2];
    int n = epoll_wait(ep, out, 2, 1000);
    printf("epoll n=%d data=%llx in=%d\n", n, (unsigned long long)out[0].data.u64,
           !!(out[0].events & EPOLLIN));
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s/sock", argc > 1 ? argv[1] : "/tmp");
    unlink(addr.sun_path);
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    printf("bind=%d listen=%d\n", bind(srv, (struct sockaddr *)&addr, sizeof addr),
           listen(srv, 1));
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int c = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(c, (struct sockaddr *)&addr, sizeof addr) != 0) _exit(1);
        write(c, "hello server", 12);
        close(c);
        _exit(0);
    }
    int conn = accept(srv, NULL, NULL);
    memset(buf, 0, sizeof buf);
    int got = 0, r;
    while ((r = read(conn, buf + got, sizeof buf - 1 - got)) > 0) got += r;
    printf("server read %d: %s\n", got, buf);
    int st;
    waitpid(pid, &st, 0);
    printf("client status=%d\n", WEXITSTATUS(st));
    unlink(addr.sun_path);
    return 0;
}
