/* fail_coro: a ucontext coroutine is suspended inside the function to replace
 * (it yields from its loop and never returns). The thread's own stack is in
 * main() at that moment; the coroutine's stack is only known to the program. */
#include <stdio.h>
#include <ucontext.h>
#include <unistd.h>

static ucontext_t scheduler, coroutine;
static char coroutine_stack[64 * 1024];

__attribute__((noipa)) void yield_to_scheduler(void) { swapcontext(&coroutine, &scheduler); }

__attribute__((noipa)) void coroutine_body(void) {
  for (int n = 0;; n++) {
#ifdef FIXED
    printf("coro PATCHED %d\n", n);
#else
    printf("coro UNPATCHED %d\n", n);
#endif
    yield_to_scheduler();
  }
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  getcontext(&coroutine);
  coroutine.uc_stack.ss_sp = coroutine_stack;
  coroutine.uc_stack.ss_size = sizeof coroutine_stack;
  coroutine.uc_link = &scheduler;
  makecontext(&coroutine, coroutine_body, 0);
  for (;;) {
    swapcontext(&scheduler, &coroutine);
    usleep(20000);
  }
}
