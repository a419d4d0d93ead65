/* A long-running giflib user for the giflib CVE-2026-26740 test: for each
 * line on standard input it builds an in-memory GIF whose only extension is
 * a graphics control block of ByteCount 1 (in a 16-byte buffer, so the old
 * code's 4-byte write stays inside it) and prints what
 * EGifGCBToSavedExtension returns: 1 (GIF_OK) before the fix, 0 (GIF_ERROR) after. */
#include <gif_lib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  printf("ready\n");
  fflush(stdout);
  char line[64];
  while (fgets(line, sizeof line, stdin)) {
    GifFileType gif;
    SavedImage image;
    ExtensionBlock ext;
    memset(&gif, 0, sizeof gif);
    memset(&image, 0, sizeof image);
    ext.Function = GRAPHICS_EXT_FUNC_CODE;
    ext.ByteCount = 1;
    ext.Bytes = calloc(16, 1);
    image.ExtensionBlockCount = 1;
    image.ExtensionBlocks = &ext;
    gif.ImageCount = 1;
    gif.SavedImages = &image;
    GraphicsControlBlock gcb = {0, false, 10, NO_TRANSPARENT_COLOR};
    printf("gcb %d\n", EGifGCBToSavedExtension(&gcb, &gif, 0));
    fflush(stdout);
    free(ext.Bytes);
  }
  return 0;
}
