// Reads one byte of a /proc file into a valid buffer and into an unmapped
// user address: prints the byte, and whether the bad read failed with EFAULT
// (the kernel's exception table handled the fault) — run in the QEMU guest.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  char c = 0;
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0 || read(fd, &c, 1) != 1) return perror(argv[1]), 1;
  close(fd);
  // A page that is reserved but not accessible: the store faults.
  void *bad = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  fd = open(argv[1], O_RDONLY);
  ssize_t n = read(fd, bad, 1);
  printf("byte=%c bad-read=%s\n", c, n < 0 ? strerror(errno) : "succeeded");
  return 0;
}
