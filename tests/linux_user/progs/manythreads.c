/* 500 threads, each touching its own stack and a fresh mapping while other
 * threads map and unmap theirs (glibc maps every thread stack): the address
 * space changes under threads that are running guest code. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#define N 500
static long done[N];

#define BIG (4 << 20)

static void *worker(void *arg) {
    long id = (long)arg;
    /* reading a page of a big mapping costs no memory (the zero page) but
     * fills the emulator's TLB while other threads unmap theirs */
    volatile char *big = mmap(NULL, BIG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long zero = 0;
    if (big != MAP_FAILED) {
        for (long off = 0; off < BIG; off += 4096)
            zero += big[off];
        munmap((void *)big, BIG);
    }
    char *p = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return (void *)-1L;
    memset(p, (int)id, 3 * 4096);
    long sum = p[0] + p[4096] + p[8191] + zero;
    munmap(p, 3 * 4096);
    done[id] = 1;
    return (void *)sum;
}

int main(void) {
    pthread_t th[N];
    int created = 0;
    for (long i = 0; i < N; i++)
        if (pthread_create(&th[i], NULL, worker, (void *)i) == 0)
            created++;
    long ok = 0;
    for (int i = 0; i < created; i++) {
        void *r;
        pthread_join(th[i], &r);
        ok += (long)r == 3L * (signed char)i;
    }
    long finished = 0;
    for (int i = 0; i < N; i++)
        finished += done[i];
    printf("created=%d ok=%ld finished=%ld\n", created, ok, finished);
    return 0;
}
