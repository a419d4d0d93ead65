/* A long-running libexif user for the libexif cases of the CVE corpus. Each
 * line on standard input names a probe: it loads an EXIF block (built here
 * by hand: IFD0 -> Exif IFD -> a Fuji MakerNote) and prints, on one line, what
 * exif_mnote_data_get_value answers. Probes run in a forked child
 * (fork_probe.h).
 *   zerolen  a MakerNote with one Version entry ("0130"), value asked into a
 *            buffer of length 0                          (CVE-2026-32775)
 *   empty    a MakerNote whose entry table is out of the block, so it loads
 *            with no entries; value of entry 1           (CVE-2026-40386) */
#include "../fork_probe.h"

#include <libexif/exif-data.h>
#include <stdint.h>

static size_t put16(uint8_t* p, unsigned v) { p[0] = v; p[1] = v >> 8; return 2; }
static size_t put32(uint8_t* p, uint32_t v) { put16(p, v & 0xffff); put16(p + 2, v >> 16); return 4; }
static size_t entry(uint8_t* p, unsigned tag, unsigned type, uint32_t count, uint32_t value) {
  put16(p, tag); put16(p + 2, type); put32(p + 4, count); put32(p + 8, value);
  return 12;
}

/* "Exif\0\0", a little-endian TIFF header, IFD0 with the Exif IFD pointer,
 * the Exif IFD with the MakerNote (UNDEFINED, at TIFF offset 44), the note. */
static size_t exif_block(uint8_t* b, const uint8_t* note, size_t note_size) {
  size_t n = 0;
  memcpy(b, "Exif\0\0II*\0", 10); n = 10;
  n += put32(b + n, 8);
  n += put16(b + n, 1);
  n += entry(b + n, 0x8769, 4, 1, 26);   /* ExifIfdPointer */
  n += put32(b + n, 0);
  n += put16(b + n, 1);
  n += entry(b + n, 0x927c, 7, note_size, 44);   /* MakerNote */
  n += put32(b + n, 0);
  memcpy(b + n, note, note_size);
  return n + note_size;
}

static void probe(const char* what) {
  uint8_t note[64], block[256];
  size_t ns = 0;
  memcpy(note, "FUJIFILM", 8); ns = 8;
  unsigned index = 0, maxlen = 16;
  if (strcmp(what, "zerolen") == 0) {
    ns += put32(note + ns, 12);   /* the entry table follows */
    ns += put16(note + ns, 1);
    ns += entry(note + ns, 0x0000, 7, 4, 0);   /* MNOTE_FUJI_TAG_VERSION */
    memcpy(note + ns - 4, "0130", 4);
    ns += put32(note + ns, 0);
    maxlen = 0;
  } else if (strcmp(what, "empty") == 0) {
    ns += put32(note + ns, 0xffff);   /* past the end: loads no entries */
    index = 1;
  } else {
    printf("unknown probe %s\n", what);
    return;
  }
  ExifData* ed = exif_data_new_from_data(block, exif_block(block, note, ns));
  ExifMnoteData* md = ed ? exif_data_get_mnote_data(ed) : NULL;
  if (!md) {
    printf("no MakerNote\n");
    return;
  }
  char value[16];
  memset(value, 0, sizeof value);
  const char* v = exif_mnote_data_get_value(md, index, value, maxlen);
  printf("count %u value %s\n", exif_mnote_data_count(md), v ? (*v ? v : "empty") : "null");
  exif_data_unref(ed);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("ready\n");
  char line[128];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    run_forked(probe, line);
  }
  return 0;
}
