/* A library whose constructor dlopens libdemo.so by bare name (through this
 * library's own RUNPATH) and calls it: a dlopen nested in another's
 * constructor. nest_value() reports what that first call answered. */
#include <dlfcn.h>

static int answer = -1;

__attribute__((constructor)) static void load_demo(void) {
  void *h = dlopen("libdemo.so", RTLD_NOW);
  int (*f)(int) = h ? (int (*)(int))dlsym(h, "lib_value") : 0;
  answer = f ? f(1) : -2;
}

int nest_value(int unused) {
  (void)unused;
  return answer;
}
