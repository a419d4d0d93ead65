/* A thread blocked in code that has no frame descriptions (a hand-assembled
 * read() in an anonymous executable page, as JIT compilers make), called from
 * target(). An unwinder cannot see past that frame, so graft must count the
 * thread as busy rather than as "not inside target()". */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef long (*read_fn)(int fd, void *buf, long n);
static read_fn jit_read;

__attribute__((noinline)) long target(int fd) {
  char c;
  long r = jit_read(fd, &c, 1);
#ifdef FIXED
  return r + 100;
#else
  return r;
#endif
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  /* mov eax, 0 (SYS_read); syscall; ret */
  static const unsigned char code[] = {0xb8, 0, 0, 0, 0, 0x0f, 0x05, 0xc3};
  void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  memcpy(page, code, sizeof code);
  mprotect(page, 4096, PROT_READ | PROT_EXEC);
  jit_read = (read_fn)page;
  int go = open(argv[1], O_RDWR), data = open(argv[2], O_RDWR);
  printf("ready\n");
  fflush(stdout);
  char c;
  while (read(go, &c, 1) == 1) {
    printf("calling\n");
    fflush(stdout);
    printf("result %ld\n", target(data));
    fflush(stdout);
  }
  return 0;
}
