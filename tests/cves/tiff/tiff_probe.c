/* A long-running libtiff user for the tiff cases of the CVE corpus. At start
 * it writes probe.tif (4x8 RGB, one strip of 8 rows) with the libtiff under
 * test; each line on standard input names a probe, answered with one line,
 * run in a forked child (fork_probe.h).
 *   strip     TIFFReadRGBAStrip at row 8, past the last row (CVE-2023-52356)
 *   oriented  TIFFReadRGBAImageOriented into a raster of 4 rows, fewer than
 *             the image's 8, with 16 guard rows before it; prints how many
 *             guard pixels were written (the buggy library writes 16 GiB
 *             past the raster and crashes)                (CVE-2025-9900) */
#include "../fork_probe.h"

#include <stdint.h>
#include <tiffio.h>

#define W 4
#define H 8
#define GUARD 16

static void write_image(const char* path) {
  TIFF* t = TIFFOpen(path, "w");
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, W);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, H);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, H);
  uint8_t row[W * 3];
  for (int y = 0; y < H; y++) {
    memset(row, 16 * y + 1, sizeof row);
    TIFFWriteScanline(t, row, y, 0);
  }
  TIFFClose(t);
}

static void probe(const char* what) {
  TIFF* t = TIFFOpen("probe.tif", "r");
  if (!t) {
    printf("cannot open probe.tif\n");
    return;
  }
  if (strcmp(what, "strip") == 0) {
    static uint32_t raster[W * H];
    printf("strip %d\n", TIFFReadRGBAStrip(t, H, raster));
  } else if (strcmp(what, "oriented") == 0) {
    static uint32_t buf[W * (GUARD + H)];
    for (size_t i = 0; i < sizeof buf / sizeof *buf; i++) buf[i] = 0xaaaaaaaa;
    int ok = TIFFReadRGBAImageOriented(t, W, H / 2, buf + W * GUARD, ORIENTATION_BOTLEFT, 0);
    int written = 0;
    for (int i = 0; i < W * GUARD; i++) written += buf[i] != 0xaaaaaaaa;
    printf("oriented %d guard %d\n", ok, written);
  } else {
    printf("unknown probe %s\n", what);
  }
  TIFFClose(t);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  TIFFSetErrorHandler(NULL);
  TIFFSetWarningHandler(NULL);
  write_image("probe.tif");
  printf("ready\n");
  char line[128];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    run_forked(probe, line);
  }
  return 0;
}
