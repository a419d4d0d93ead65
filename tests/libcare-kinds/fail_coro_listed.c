/* fail_coro_listed: short-lived ucontext coroutines kept in a list the
 * program exports (coro_list); each runs coroutine_body for a few rounds,
 * yielding inside it, then ends and a new one takes its place. After a patch,
 * new coroutines suspend inside the patched code. */
#include <stdio.h>
#include <stdlib.h>
#include <ucontext.h>
#include <unistd.h>

#define ROUNDS 4

struct coro {
  ucontext_t context;
  struct coro *next;
  int id, finished;
  char stack[64 * 1024];
};

struct coro *coro_list;
static ucontext_t scheduler;
static struct coro *running;

__attribute__((noipa)) void yield_to_scheduler(void) { swapcontext(&running->context, &scheduler); }

__attribute__((noipa)) void coroutine_body(void) {
  int id = running->id;
  for (int round = 0; round < ROUNDS; round++) {
#ifdef FIXED
    printf("coro%d PATCHED round %d\n", id, round);
#else
    printf("coro%d UNPATCHED round %d\n", id, round);
#endif
    yield_to_scheduler();
  }
  running->finished = 1;
}

static struct coro *coro_start(int id) {
  struct coro *c = calloc(1, sizeof *c);
  getcontext(&c->context);
  c->context.uc_stack.ss_sp = c->stack;
  c->context.uc_stack.ss_size = sizeof c->stack;
  c->context.uc_link = &scheduler;
  c->id = id;
  makecontext(&c->context, coroutine_body, 0);
  c->next = coro_list;
  coro_list = c;
  return c;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int next_id = 0;
  coro_start(next_id++);
  coro_start(next_id++);
  for (;;) {
    for (struct coro **p = &coro_list; *p;) {
      running = *p;
      swapcontext(&scheduler, &running->context);
      if (running->finished) {
        *p = running->next;
        free(running);
        coro_start(next_id++);
      } else {
        p = &running->next;
      }
    }
    running = NULL;
    usleep(20000);
  }
}
