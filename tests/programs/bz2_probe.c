/* Linked against the libbz2 Debian installed: every 50 ms, the library's
 * version (BZ2_bzlibVersion, exported) and what BZ2_bzdopen does with mode
 * "a", which a bzip2 handle cannot honour (the mode is parsed by
 * bzopen_or_bzdopen, a static function): "opened" (as a reader) or
 * "refused". A compression round trip shows the rest of the library works. */
#include <bzlib.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
  static char in[65536], out[70000], back[65536];
  for (unsigned i = 0; i < sizeof in; i++) in[i] = "abcabcabdabcab xyz"[(i * 7 + i / 13) % 18];
  int null = open("/dev/null", O_RDWR);
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int fd = dup(null);
    BZFILE *b = BZ2_bzdopen(fd, "a");
    if (b) BZ2_bzclose(b); /* closes fd */
    else close(fd);
    unsigned n = sizeof out, m = sizeof back;
    int ok = BZ2_bzBuffToBuffCompress(out, &n, in, sizeof in, 9, 0, 0) == BZ_OK &&
             BZ2_bzBuffToBuffDecompress(back, &m, out, n, 0, 0) == BZ_OK && m == sizeof in && !memcmp(in, back, m);
    printf("version %s append %s roundtrip %s\n", BZ2_bzlibVersion(), b ? "opened" : "refused", ok ? "ok" : "BROKEN");
    fflush(stdout);
    usleep(50000);
  }
}
