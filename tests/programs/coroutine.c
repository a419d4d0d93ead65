/* A coroutine (makecontext/swapcontext on a malloc'd stack) that suspends
 * inside target(): while it is suspended there, no thread runs target(), yet
 * a frame of it is alive. Each "r" line on the command FIFO resumes the
 * coroutine for one step: it either returns from target() and suspends
 * outside it, or enters target() again and suspends inside. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>

static ucontext_t main_ctx, co_ctx;

__attribute__((noinline)) int target(int x) {
  swapcontext(&co_ctx, &main_ctx); /* suspended inside target() */
#ifdef FIXED
  return x * 3;
#else
  return x * 2;
#endif
}

static void body(void) {
  for (;;) {
    int r = target(1);
    printf("coroutine %d\n", r);
    fflush(stdout);
    swapcontext(&co_ctx, &main_ctx); /* suspended outside target() */
  }
}

int main(int argc, char **argv) {
  if (argc < 2) return 2;
  getcontext(&co_ctx);
  co_ctx.uc_stack.ss_size = 256 * 1024;
  co_ctx.uc_stack.ss_sp = malloc(co_ctx.uc_stack.ss_size);
  co_ctx.uc_link = &main_ctx;
  makecontext(&co_ctx, body, 0);
  swapcontext(&main_ctx, &co_ctx); /* runs until it suspends in target() */
  int cmd = open(argv[1], O_RDWR);
  printf("ready\n");
  fflush(stdout);
  char c;
  while (read(cmd, &c, 1) == 1) {
    if (c != 'r') continue;
    swapcontext(&main_ctx, &co_ctx);
    printf("stepped\n");
    fflush(stdout);
  }
  return 0;
}
