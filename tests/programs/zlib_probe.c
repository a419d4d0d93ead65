/* Linked against the zlib Debian installed: every 50 ms, compressBound(1000)
 * (an exported function) and the size of a level-1 compression
 * (deflate_fast, a static function reached through zlib's table of
 * strategies), plus a round trip check. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

int main(void) {
  static unsigned char in[65536], out[70000], back[65536];
  for (unsigned i = 0; i < sizeof in; i++) in[i] = "abcabcabdabcab xyz"[(i * 7 + i / 13) % 18];
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    uLongf n = sizeof out, m = sizeof back;
    compress2(out, &n, in, sizeof in, 1);
    int ok = uncompress(back, &m, out, n) == Z_OK && m == sizeof in && !memcmp(in, back, m);
    printf("bound %lu level1 %lu roundtrip %s\n", compressBound(1000), (unsigned long)n, ok ? "ok" : "BROKEN");
    fflush(stdout);
    usleep(50000);
  }
}
