/* dlopens a library by bare name (found through this program's RUNPATH,
 * which only counts when dlopen sees this program as its caller) and calls
 * one of its functions right away, from THREADS threads at once, each
 * printing "SYMBOL ANSWER". A library whose fix is installed must answer
 * the fixed way on this very first call. Then opens it again with
 * RTLD_NOLOAD and loads an unrelated library: neither may ask graftd again.
 * With "dlmopen" last, loads through dlmopen(LM_ID_BASE, ...) instead.
 * Usage: dlopen_first_call LIB SYMBOL [THREADS [dlmopen]] */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *lib, *symbol;
static int use_dlmopen;
static pthread_barrier_t start;

static void *first_call(void *unused) {
  (void)unused;
  pthread_barrier_wait(&start);
  void *h = use_dlmopen ? dlmopen(LM_ID_BASE, lib, RTLD_NOW) : dlopen(lib, RTLD_NOW);
  if (!h) {
    printf("dlopen: %s\n", dlerror());
    return NULL;
  }
  int (*f)(int) = (int (*)(int))dlsym(h, symbol);
  if (!f) {
    printf("dlsym: %s\n", dlerror());
    return NULL;
  }
  printf("%s %d\n", symbol, f(1));
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  lib = argv[1];
  symbol = argv[2];
  int n = argc > 3 ? atoi(argv[3]) : 1;
  use_dlmopen = argc > 4 && strcmp(argv[4], "dlmopen") == 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  pthread_barrier_init(&start, NULL, n);
  pthread_t t[64];
  for (int i = 1; i < n && i < 64; i++) pthread_create(&t[i], NULL, first_call, NULL);
  first_call(NULL);
  for (int i = 1; i < n && i < 64; i++) pthread_join(t[i], NULL);
  if (!dlopen(lib, RTLD_NOW | RTLD_NOLOAD)) printf("RTLD_NOLOAD: not loaded\n");
  if (!dlopen("libm.so.6", RTLD_NOW)) printf("libm: %s\n", dlerror());
  return 0;
}
