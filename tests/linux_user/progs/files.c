/* Files and directories in a temporary directory given as argv[1]. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define CHECK(x) do { if (!(x)) { printf("FAIL %s:%d %s errno=%d\n", __FILE__, __LINE__, #x, errno); return 1; } } while (0)

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

int main(int argc, char **argv) {
    CHECK(argc == 2);
    CHECK(chdir(argv[1]) == 0);
    CHECK(mkdir("d", 0755) == 0);
    CHECK(mkdir("d", 0755) == -1 && errno == EEXIST);
    int fd = open("d/a.txt", O_CREAT | O_WRONLY | O_TRUNC, 0644);
    CHECK(fd >= 0);
    CHECK(write(fd, "hello world\n", 12) == 12);
    struct iovec iov[2] = {{"abc", 3}, {"defg\n", 5}};
    CHECK(writev(fd, iov, 2) == 8);
    CHECK(pwrite(fd, "H", 1, 0) == 1);
    CHECK(close(fd) == 0);
    struct stat st;
    CHECK(stat("d/a.txt", &st) == 0);
    printf("size=%ld mode=%o reg=%d\n", (long)st.st_size, st.st_mode & 0777, S_ISREG(st.st_mode));
    fd = open("d/a.txt", O_RDONLY);
    char buf[64] = {0};
    CHECK(read(fd, buf, sizeof buf - 1) == 20);
    printf("content=%s", buf);
    CHECK(lseek(fd, 6, SEEK_SET) == 6);
    memset(buf, 0, sizeof buf);
    CHECK(pread(fd, buf, 5, 6) == 5);
    printf("pread=%s\n", buf);
    int fd2 = dup(fd);
    CHECK(fd2 > fd);
    CHECK(fcntl(fd2, F_GETFD) == 0);
    CHECK(fcntl(fd2, F_SETFD, FD_CLOEXEC) == 0 && fcntl(fd2, F_GETFD) == FD_CLOEXEC);
    CHECK(dup2(fd, 17) == 17);
    close(fd); close(fd2); close(17);
    CHECK(rename("d/a.txt", "d/b.txt") == 0);
    CHECK(access("d/a.txt", F_OK) == -1 && errno == ENOENT);
    CHECK(access("d/b.txt", R_OK) == 0);
    CHECK(symlink("b.txt", "d/link") == 0);
    memset(buf, 0, sizeof buf);
    CHECK(readlink("d/link", buf, sizeof buf) == 5);
    printf("readlink=%s\n", buf);
    CHECK(lstat("d/link", &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(truncate("d/b.txt", 4) == 0);
    CHECK(stat("d/link", &st) == 0 && st.st_size == 4);
    CHECK(mkdir("d/sub", 0700) == 0);
    DIR *d = opendir("d");
    CHECK(d != NULL);
    char *names[16];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, cmp);
    for (int i = 0; i < n; i++)
        printf("entry %s\n", names[i]);
    CHECK(unlink("d/link") == 0);
    CHECK(rmdir("d/sub") == 0);
    CHECK(rmdir("d") == -1 && errno == ENOTEMPTY);
    CHECK(unlink("d/b.txt") == 0 && rmdir("d") == 0);
    char cwd[256];
    CHECK(getcwd(cwd, sizeof cwd) != NULL);
    printf("cwd ok=%d\n", strcmp(cwd, argv[1]) == 0);
    CHECK(open("/nonexistent/x", O_RDONLY) == -1 && errno == ENOENT);
    FILE *f = fopen("stdio.txt", "w+");
    fprintf(f, "line %d\n", 42);
    rewind(f);
    CHECK(fgets(buf, sizeof buf, f) != NULL);
    printf("stdio=%s", buf);
    fclose(f);
    puts("files done");
    return 0;
}
