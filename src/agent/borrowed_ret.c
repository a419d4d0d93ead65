/* glibc's dlopen decides what a name means from the object its return
 * address lies in (its RUNPATH and $ORIGIN, its link namespace); the agent
 * calls it with a return address borrowed from the original caller's object
 * (call_as_caller_x86_64.S): any 0xc3 byte of its code returns correctly.
 * Which one matters only to an unwinder that stops a thread inside dlopen —
 * graft does, to check that no thread is in a function being replaced — so
 * the byte is picked with the object's own frame descriptions: the CFI row
 * covering the byte before it (where unwinders look up a return address)
 * must say CFA = rsp + 8 (the unwinder then returns to the trampoline's
 * label, whose row returns to the agent's C caller) or rsp + 16 (it returns
 * to that caller directly), restore no register and find the return
 * address at CFA - 8. Either way the frames outside dlopen are read as they
 * are. Failing that (small programs), a byte whose predecessor no frame
 * description covers: the unwinder stops there and graft, failing closed,
 * counts the thread busy while it is inside dlopen. */
#define _GNU_SOURCE
#include "borrowed_ret.h"

#include <link.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_SHSTK_STATUS 0x5005
#define ARCH_SHSTK_SHSTK (1ULL << 0)
#define DWARF_RSP 7
#define DWARF_RA 16

struct borrow {
  uintptr_t seg_start, seg_end; /* the caller's executable segment */
  const unsigned char *eh_frame_hdr;
  unsigned long long subs;
  const unsigned char *ret;
  int exact;
};

/* One cached answer per thread: most programs dlopen from one place. Valid
 * while nothing was unloaded (the segment could be gone). */
static __thread struct borrow last;

static uint64_t uleb(const unsigned char **p) {
  uint64_t v = 0;
  for (int shift = 0;; shift += 7) {
    unsigned char c = *(*p)++;
    v |= (uint64_t)(c & 0x7f) << shift;
    if (!(c & 0x80) || shift > 56) return v;
  }
}

static int64_t sleb(const unsigned char **p) {
  int64_t v = 0;
  int shift = 0;
  unsigned char c;
  do {
    c = *(*p)++;
    v |= (int64_t)(c & 0x7f) << shift;
    shift += 7;
  } while ((c & 0x80) && shift < 63);
  if (shift < 64 && (c & 0x40)) v |= -((int64_t)1 << shift);
  return v;
}

/* Size of a DW_EH_PE-encoded value, 0 when unsupported. */
static int encoded_size(unsigned char enc) {
  switch (enc & 0x0f) {
    case 0x02: case 0x0a: return 2;
    case 0x03: case 0x0b: return 4;
    case 0x00: case 0x04: case 0x0c: return 8;
    default: return 0;
  }
}

struct cie {
  uint64_t code_align;
  int64_t data_align;
  int fde_enc, has_z;
  const unsigned char *insns, *end;
};

static int read_cie(const unsigned char *p, struct cie *c) {
  uint32_t len = *(const uint32_t *)p;
  if (len == 0xffffffff || *(const uint32_t *)(p + 4) != 0) return 0;
  c->end = p + 4 + len;
  p += 8;
  unsigned char version = *p++;
  const char *aug = (const char *)p;
  p += strlen(aug) + 1;
  c->code_align = uleb(&p);
  c->data_align = sleb(&p);
  if (version == 1) p++;
  else uleb(&p);
  c->fde_enc = 0x00;
  c->has_z = aug[0] == 'z';
  if (c->has_z) {
    uint64_t n = uleb(&p);
    c->insns = p + n;
    for (const char *a = aug + 1; *a; a++) {
      if (*a == 'R') c->fde_enc = *p++;
      else if (*a == 'L') p++;
      else if (*a == 'P') {
        int k = encoded_size(*p);
        if (!k) return 0;
        p += 1 + k;
      } else if (*a != 'S') return 0;
    }
  } else {
    if (aug[0]) return 0;
    c->insns = p;
  }
  return 1;
}

/* The CFI state this reads: CFA = register + offset, which registers
 * other than the return address have a rule, and whether the return
 * address is anything but "at CFA - 8" (undefined marks the outermost
 * frame, as in _start: an unwinder would end a stack there as complete). */
struct row {
  int cfa_reg;
  int64_t cfa_off;
  uint32_t saved;
  int ra_unusual;
};

struct search {
  uintptr_t seg_start, seg_end;
  const unsigned char *found;
};

/* Called for each row [from, to): a borrowable ret is a 0xc3 at G with G-1
 * in the row. */
static void consider(struct search *s, const struct row *r, uintptr_t from, uintptr_t to) {
  if (s->found || r->cfa_reg != DWARF_RSP || (r->cfa_off != 8 && r->cfa_off != 16) || r->saved || r->ra_unusual)
    return;
  uintptr_t lo = from + 1, hi = to + 1; /* G in [from + 1, to] */
  if (lo < s->seg_start) lo = s->seg_start;
  if (hi > s->seg_end) hi = s->seg_end;
  if (lo < hi) s->found = memchr((const void *)lo, 0xc3, hi - lo);
}

/* A rule for `reg`: `rule` 0 when it is restored to its initial one (none;
 * for the return address, CFA - 8), `at` the offset from the CFA of an
 * "at CFA + offset" rule, else 0. */
static void mark(struct row *r, uint64_t reg, int rule, int64_t at) {
  if (reg == DWARF_RA) r->ra_unusual = rule && at != -8;
  else if (reg < 32 && rule) r->saved |= 1u << reg;
  else if (reg < 32) r->saved &= ~(1u << reg);
}

/* Runs one FDE's CFI program (after its CIE's), reporting each row. Stops
 * at anything it does not read: that FDE offers nothing. */
static void run_cfi(struct search *s, const struct cie *c, const unsigned char *p, const unsigned char *end,
                    struct row *r, uintptr_t *loc, uintptr_t fde_end, int report) {
  struct row stack[8];
  int depth = 0;
  while (p < end && !s->found) {
    unsigned char op = *p++;
    uintptr_t next = *loc;
    uint64_t reg;
    switch (op >> 6) {
      case 1: next = *loc + (op & 0x3f) * c->code_align; goto advance;
      case 2: mark(r, op & 0x3f, 1, (int64_t)uleb(&p) * c->data_align); continue;
      case 3: mark(r, op & 0x3f, 0, 0); continue;
    }
    switch (op) {
      case 0x00: continue;
      case 0x02: next = *loc + *p++ * c->code_align; goto advance;
      case 0x03: next = *loc + *(const uint16_t *)p * c->code_align; p += 2; goto advance;
      case 0x04: next = *loc + *(const uint32_t *)p * c->code_align; p += 4; goto advance;
      case 0x05: reg = uleb(&p); mark(r, reg, 1, (int64_t)uleb(&p) * c->data_align); continue;
      case 0x11: reg = uleb(&p); mark(r, reg, 1, sleb(&p) * c->data_align); continue;
      case 0x14: reg = uleb(&p); uleb(&p); mark(r, reg, 1, 0); continue;
      case 0x15: case 0x2f: reg = uleb(&p); sleb(&p); mark(r, reg, 1, 0); continue;
      case 0x06: mark(r, uleb(&p), 0, 0); continue;
      case 0x07: mark(r, uleb(&p), 1, 0); continue;
      case 0x08: reg = uleb(&p); mark(r, reg, reg == DWARF_RA, 0); continue; /* same value */
      case 0x09: reg = uleb(&p); uleb(&p); mark(r, reg, 1, 0); continue;
      case 0x0a: if (depth == 8) return; stack[depth++] = *r; continue;
      case 0x0b: if (depth == 0) return; *r = stack[--depth]; continue;
      case 0x0c: r->cfa_reg = (int)uleb(&p); r->cfa_off = (int64_t)uleb(&p); continue;
      case 0x12: r->cfa_reg = (int)uleb(&p); r->cfa_off = sleb(&p) * c->data_align; continue;
      case 0x0d: r->cfa_reg = (int)uleb(&p); continue;
      case 0x0e: r->cfa_off = (int64_t)uleb(&p); continue;
      case 0x13: r->cfa_off = sleb(&p) * c->data_align; continue;
      case 0x0f: r->cfa_reg = -1; p += uleb(&p); continue;
      case 0x10: case 0x16: reg = uleb(&p); p += uleb(&p); mark(r, reg, 1, 0); continue;
      case 0x2e: uleb(&p); continue;
      default: return;
    }
  advance:
    if (report) consider(s, r, *loc, next);
    *loc = next;
  }
  if (report && !s->found && *loc < fde_end) consider(s, r, *loc, fde_end);
}

/* A 0xc3 whose preceding byte lies in [lo, hi), inside the segment. */
static const unsigned char *ret_after(const struct borrow *b, uintptr_t lo, uintptr_t hi) {
  lo += 1, hi += 1;
  if (lo < b->seg_start) lo = b->seg_start;
  if (hi > b->seg_end) hi = b->seg_end;
  return lo < hi ? memchr((const void *)lo, 0xc3, hi - lo) : NULL;
}

static const unsigned char *search_fdes(const struct borrow *b, int *exact) {
  const unsigned char *hdr = b->eh_frame_hdr;
  /* The table GNU ld writes: sorted (initial location, FDE) pairs, each a
   * 4-byte offset from the header. */
  if (!hdr || hdr[0] != 1 || hdr[2] != 0x03 || hdr[3] != 0x3b || encoded_size(hdr[1]) != 4) return NULL;
  uint32_t count = *(const uint32_t *)(hdr + 8);
  const int32_t *table = (const int32_t *)(hdr + 12);
  struct search s = {b->seg_start, b->seg_end, NULL};
  /* Second choice: a byte no FDE covers the byte before, where an unwinder
   * finds no frame description and calls the stack incomplete — graft then
   * counts the thread busy (fail closed) instead of reading it wrong. */
  const unsigned char *uncovered = NULL;
  uintptr_t covered_to = b->seg_start; /* 0: not known (an FDE this cannot read) */
  for (uint32_t i = 0; i < count && !s.found; i++) {
    uintptr_t begin = (uintptr_t)hdr + table[2 * i];
    const unsigned char *fde = hdr + table[2 * i + 1];
    uint32_t len = *(const uint32_t *)fde;
    if (begin < b->seg_start || begin >= b->seg_end) continue;
    if (!uncovered && covered_to && covered_to < begin) uncovered = ret_after(b, covered_to, begin);
    covered_to = 0;
    struct cie c;
    if (len == 0xffffffff || !read_cie(fde + 4 - *(const int32_t *)(fde + 4), &c)) continue;
    int n = encoded_size((unsigned char)c.fde_enc);
    if (n != 4 && n != 8) continue;
    uint64_t range = n == 4 ? *(const uint32_t *)(fde + 8 + n) : *(const uint64_t *)(fde + 8 + n);
    covered_to = begin + range;
    const unsigned char *p = fde + 8 + 2 * n;
    if (c.has_z) p += uleb(&p);
    struct row r = {DWARF_RSP, 8, 0, 0};
    uintptr_t loc = begin;
    run_cfi(&s, &c, c.insns, c.end, &r, &loc, begin + range, 0);
    loc = begin;
    run_cfi(&s, &c, p, fde + 4 + len, &r, &loc, begin + range, 1);
  }
  if (!s.found && !uncovered && covered_to) uncovered = ret_after(b, covered_to, b->seg_end);
  *exact = s.found != NULL;
  return s.found ? s.found : uncovered;
}

struct lookup {
  uintptr_t caller;
  struct borrow *b;
};

static int find_segment(struct dl_phdr_info *info, size_t size, void *data) {
  struct lookup *l = data;
  (void)size;
  const ElfW(Phdr) *eh = NULL, *text = NULL;
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    if (ph->p_type == PT_GNU_EH_FRAME) eh = ph;
    if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X)) continue;
    uintptr_t start = info->dlpi_addr + ph->p_vaddr;
    if (l->caller >= start && l->caller < start + ph->p_filesz) text = ph;
  }
  if (!text) return 0;
  l->b->seg_start = info->dlpi_addr + text->p_vaddr;
  l->b->seg_end = l->b->seg_start + text->p_filesz;
  l->b->eh_frame_hdr = eh ? (const unsigned char *)(info->dlpi_addr + eh->p_vaddr) : NULL;
  return 1;
}

static int unloads(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  *(unsigned long long *)data = info->dlpi_subs;
  return 1;
}

static int shadow_stack;

/* glibc enables a shadow stack at start-up or never; kernels without user
 * shadow stacks answer EINVAL: none then. */
static void read_shadow_stack(void) {
  unsigned long long features = 0;
  shadow_stack = syscall(SYS_arch_prctl, ARCH_SHSTK_STATUS, &features) == 0 && (features & ARCH_SHSTK_SHSTK);
}

const void *graft_borrowed_ret(const void *caller, int *exact) {
  unsigned long long subs = 0;
  dl_iterate_phdr(unloads, &subs);
  uintptr_t c = (uintptr_t)caller;
  if (last.ret && last.subs == subs && c >= last.seg_start && c < last.seg_end) {
    *exact = last.exact;
    return last.ret;
  }
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, read_shadow_stack);
  if (shadow_stack) return NULL;
  struct borrow b = {0};
  struct lookup l = {c, &b};
  if (!dl_iterate_phdr(find_segment, &l)) return NULL; /* code outside any object (JIT) */
  b.subs = subs;
  b.ret = search_fdes(&b, &b.exact);
  *exact = b.exact;
  if (b.ret) last = b;
  return b.ret;
}
