/* A library exporting an IFUNC, for the IFUNC test. graft does not load it,
 * so the patch finds lib_triple's implementation where ld.so stored it in the
 * process: the library's own GOT slot, bound when lib_warm() first calls it. */
static long triple_impl(long x) { return 3 * x; }
static long (*resolve_triple(void))(long) { return triple_impl; }
long lib_triple(long x) __attribute__((ifunc("resolve_triple")));
long lib_warm(void) { return lib_triple(1); }
