/* pthreads: a mutex-protected counter, C11 atomics, a condition variable, join. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define N 4
#define ITERS 2000
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;
static atomic_long acounter;
static int ready;
static __thread int tls_value;

static void *worker(void *arg) {
    long id = (long)arg;
    tls_value = (int)id;
    for (int i = 0; i < ITERS; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
        atomic_fetch_add(&acounter, 1);
    }
    pthread_mutex_lock(&mu);
    ready++;
    pthread_cond_signal(&cv);
    pthread_mutex_unlock(&mu);
    return (void *)(long)(tls_value * 10);
}

int main(void) {
    pthread_t th[N];
    for (long i = 0; i < N; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    pthread_mutex_lock(&mu);
    while (ready < N)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    long sum = 0;
    for (int i = 0; i < N; i++) {
        void *r;
        pthread_join(th[i], &r);
        sum += (long)r;
    }
    printf("counter=%ld atomic=%ld joined=%ld\n", counter, atomic_load(&acounter), sum);
    return 0;
}
