/* As small as a program gets: its code may offer no return address an
 * unwinder reads exactly (the agent then borrows one it stops at). It
 * dlopens libnest.so, whose constructor dlopens libdemo.so and calls it,
 * then calls libdemo.so itself: "nested A then B". */
#include <dlfcn.h>
#include <stdio.h>

int main(void) {
  void *nest = dlopen("libnest.so", RTLD_NOW);
  void *demo = dlopen("libdemo.so", RTLD_NOW | RTLD_NOLOAD);
  if (!nest || !demo) return printf("dlopen: %s\n", dlerror()), 1;
  int (*n)(int) = (int (*)(int))dlsym(nest, "nest_value");
  int (*f)(int) = (int (*)(int))dlsym(demo, "lib_value");
  printf("nested %d then %d\n", n(1), f(1));
  return 0;
}
