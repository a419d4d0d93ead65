// Run-pre verification and bundle building against real linked targets:
// matching code verifies, other code (flags, sources) is refused by name, and
// linker relaxations of GOT loads in shared libraries are accepted.
#include "userspace/bundle_builder.h"

#include <gtest/gtest.h>

#include "base/testing.h"
#include "bundle/bundle.h"
#include "elf/target_symbols.h"

namespace graft::userspace {
namespace {

using graft::testing::Scratch;

const char* kProgram = R"(
#include <stdio.h>
#include <string.h>
extern int shared_total;
int shared_total;
static int hits;
static const char *names[] = {"zero", "one", "two", "three"};
int lookup(int i) {
  hits++;
  switch (i) {
    case 0: return 11; case 1: return hits * 22; case 2: return puts(names[2]); case 3: return hits ^ 47;
    case 4: return (int)strlen(names[hits & 3]); case 5: return hits + 63; case 6: return 71 - hits;
    case 7: return putchar(hits); default: return -1;
  }
}
int check(const char *s, int n) {
  shared_total += n;
  if (n > 100) { fprintf(stderr, "bad %s\n", names[n & 3]); return -1; }
  return (int)strlen(s) + lookup(n);
}
int main(int argc, char **argv) { return check(argv[0], argc); }
)";

struct Built {
  Scratch s;
  BundleRequest req;
  // The request for one object pair in the scratch directory against "prog".
  void Request(const std::string& orig, const std::string& fixed) {
    req.original_objects = {s.Path(orig)};
    req.patched_objects = {s.Path(fixed)};
    req.target = s.Path("prog");
    req.output = s.Path("fix.graft");
  }
};

std::string Replaced(std::string text, const std::string& from, const std::string& to) {
  return text.replace(text.find(from), from.size(), to);
}

void Prepare(Built& b, const std::string& target_flags, const std::string& object_flags, bool fix = true,
             const std::string& from = "n > 100", const std::string& to = "n > 10") {
  b.s.Write("prog.c", kProgram);
  b.s.Compile("prog.c", "prog", target_flags);
  b.s.Compile("prog.c", "prog.orig.o", object_flags + " -c -ffunction-sections -fdata-sections");
  std::string fixed = kProgram;
  if (fix) fixed = Replaced(fixed, from, to);
  b.s.Write("prog.c", fixed);
  b.s.Compile("prog.c", "prog.fixed.o", object_flags + " -c -ffunction-sections -fdata-sections");
  b.Request("prog.orig.o", "prog.fixed.o");
  b.req.cves = {"CVE-2099-0042"};
}

TEST(BundleBuilder, VerifiesAndWritesBundleForMatchingCode) {
  Built b;
  Prepare(b, "-O2 -g", "-O2 -g");
  auto r = BuildBundle(b.req);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->replaced, std::vector<std::string>{"check"});
  auto bundle = bundle::ReadFile(b.req.output);
  ASSERT_TRUE(bundle.ok()) << bundle.error().message();
  EXPECT_EQ(bundle->id, "fix");
  EXPECT_EQ(bundle->cves, std::vector<std::string>{"CVE-2099-0042"});
  ASSERT_EQ(bundle->functions.size(), 1u);
  EXPECT_EQ(bundle->functions[0].name, "check");
  EXPECT_FALSE(bundle->functions[0].expected.empty());
}

TEST(BundleBuilder, RunPreRefusesCodeBuiltWithOtherFlags) {
  Built b;
  Prepare(b, "-O1 -g", "-O2 -g");
  auto r = BuildBundle(b.req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("run-pre verification failed"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("check"), std::string::npos) << r.error().message();
}

TEST(BundleBuilder, RunPreRefusesOtherSources) {
  Built b;
  Prepare(b, "-O2 -g", "-O2 -g");
  // The "original" object now comes from already-fixed sources.
  b.req.original_objects = {b.s.Path("prog.fixed.o")};
  b.s.Write("prog.c", std::string(kProgram).replace(std::string(kProgram).find("n > 100"), 7, "n > 5"));
  b.s.Compile("prog.c", "prog.fixed2.o", "-O2 -g -c -ffunction-sections -fdata-sections");
  b.req.patched_objects = {b.s.Path("prog.fixed2.o")};
  auto r = BuildBundle(b.req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("check"), std::string::npos) << r.error().message();
}

// A target built without -ffunction-sections may pad and encode branches
// differently from the objects graft builds; alignment flags force that here
// in lookup(), whose switch table points into the shifted code.
const char* kAlignedTarget = "-O2 -g -falign-labels=16 -falign-jumps=16:7";

TEST(BundleBuilder, RunPreMatchesCodeLaidOutDifferently) {
  Built b;
  Prepare(b, kAlignedTarget, "-O2 -g", true, "return 71 - hits", "return 72 - hits");
  auto size_of = [](const std::string& path) -> uint64_t {
    auto f = elf::ObjectFile::Open(path);
    if (!f.ok()) return 0;
    for (const auto& sym : (*f)->symbols())
      if (sym.name == "lookup") return sym.size;
    return 0;
  };
  uint64_t in_target = size_of(b.req.target), in_object = size_of(b.req.original_objects[0]);
  ASSERT_TRUE(in_target && in_object);
  ASSERT_NE(in_target, in_object) << "the flags no longer change lookup()'s layout";
  auto r = BuildBundle(b.req);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->replaced, std::vector<std::string>{"lookup"});
}

TEST(BundleBuilder, RunPreLayoutMatchStillRefusesOtherCode) {
  Built b;
  Prepare(b, kAlignedTarget, "-O2 -g", true, "return 71 - hits", "return 72 - hits");
  // The target runs other code in lookup() than the original object has.
  b.s.Write("prog.c", Replaced(kProgram, "case 5: return hits + 63", "case 5: return hits + 64"));
  b.s.Compile("prog.c", "prog", kAlignedTarget);
  auto r = BuildBundle(b.req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("run-pre verification failed"), std::string::npos) << r.error().message();
  EXPECT_NE(r.error().message().find("lookup:"), std::string::npos) << r.error().message();
}

TEST(BundleBuilder, RefusesAFixThatChangesAStructLayoutUnlessAllowed) {
  const std::string base = R"(
#include <stdlib.h>
struct session { int id; char *peer; };
struct session *open_session(int id) {
  struct session *s = calloc(1, sizeof *s);
  s->id = id;
  return s;
}
int main(int argc, char **argv) { return open_session(argc)->id; }
)";
  Built b;
  b.s.Write("s.c", base);
  b.s.Compile("s.c", "prog", "-O2 -g");
  b.s.Compile("s.c", "s.orig.o", "-O2 -g -c -ffunction-sections -fdata-sections");
  b.s.Write("s.c", Replaced(base, "char *peer;", "char *peer; int verified;"));
  b.s.Compile("s.c", "s.fixed.o", "-O2 -g -c -ffunction-sections -fdata-sections");
  b.Request("s.orig.o", "s.fixed.o");
  auto r = BuildBundle(b.req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("struct session: 16 -> 24 bytes; added verified@16:int(4)"), std::string::npos)
      << r.error().message();
  b.req.allowed_layout_changes = {"struct session"};
  auto allowed = BuildBundle(b.req);
  ASSERT_TRUE(allowed.ok()) << allowed.error().message();
  EXPECT_EQ(allowed->replaced, std::vector<std::string>{"open_session"});
}

TEST(BundleBuilder, CarriesUnwindTablesForATargetThatThrows) {
  // An exception thrown through patched code needs the new code's frame
  // descriptions; without any, a target that throws is refused.
  const std::string base = R"(
#include <stdexcept>
__attribute__((noinline)) int price(int qty) {
  if (qty > 1000) throw std::runtime_error("too many");
  return qty * 7;
}
int main(int argc, char **) { try { return price(argc); } catch (...) { return 1; } }
)";
  auto build = [&](const std::string& object_flags) {
    Built b;
    b.s.Write("p.cc", base);
    b.s.Compile("p.cc", "prog", "-x c++ -O2 -g -Wl,--no-as-needed -lstdc++");
    b.s.Compile("p.cc", "p.orig.o", "-x c++ -O2 -g -c -ffunction-sections -fdata-sections " + object_flags);
    b.s.Write("p.cc", Replaced(base, "qty > 1000", "qty < 0 || qty > 1000"));
    b.s.Compile("p.cc", "p.fixed.o", "-x c++ -O2 -g -c -ffunction-sections -fdata-sections " + object_flags);
    b.Request("p.orig.o", "p.fixed.o");
    return b;
  };
  Built with = build("");
  auto r = BuildBundle(with.req);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->replaced, std::vector<std::string>{"_Z5pricei"});
  auto bundle = bundle::ReadFile(with.req.output);
  ASSERT_TRUE(bundle.ok()) << bundle.error().message();
  ASSERT_GE(bundle->eh_frame_section, 0);
  const bundle::Section& eh = bundle->sections[bundle->eh_frame_section];
  // One CIE and the FDEs of price and price.cold, zero-terminated, each tied to the new code.
  EXPECT_EQ(eh.bytes.size() % 4, 0u);
  EXPECT_EQ(std::vector<uint8_t>(eh.bytes.end() - 4, eh.bytes.end()), std::vector<uint8_t>(4, 0));
  int to_code = 0;
  for (const bundle::Reloc& rel : eh.relocs)
    to_code += rel.kind == bundle::Reloc::Kind::kSection &&
               bundle->sections[rel.section].kind == bundle::Section::Kind::kText;
  EXPECT_EQ(to_code, 2);
  EXPECT_EQ(bundle->sections[bundle->unwind_object_section].kind, bundle::Section::Kind::kBss);

  // A C part of the same program built without unwind tables: refused.
  Built c;
  c.s.Write("main.cc", "#include <stdexcept>\nextern \"C\" int scale(int);\n"
                       "int main(int argc, char **) { try { if (argc > 5) throw std::runtime_error(\"x\"); "
                       "return scale(argc); } catch (...) { return 1; } }\n");
  c.s.Write("calc.c", "__attribute__((noinline)) int scale(int x) { int s = 0; for (int i = 0; i < x; i++) s += i ^ 3; "
                      "return s; }\n");
  std::system(("cd " + c.s.Path("") + " && g++ -O2 -g -o prog main.cc -x c calc.c").c_str());
  c.s.Compile("calc.c", "calc.orig.o", "-O2 -g -c -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables");
  c.s.Write("calc.c", "__attribute__((noinline)) int scale(int x) { int s = 0; if (x > 100) return 0; "
                      "for (int i = 0; i < x; i++) s += i ^ 3; return s; }\n");
  c.s.Compile("calc.c", "calc.fixed.o", "-O2 -g -c -ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables");
  c.Request("calc.orig.o", "calc.fixed.o");
  auto refused = BuildBundle(c.req);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("carry no unwind tables"), std::string::npos) << refused.error().message();
  c.req.allow_unwind_gap = true;
  auto allowed = BuildBundle(c.req);
  ASSERT_TRUE(allowed.ok()) << allowed.error().message();
}

TEST(BundleBuilder, SharedLibraryWithRelaxedGotLoadsVerifies) {
  Built b;
  Prepare(b, "-O2 -g -fPIC -shared -Wl,--build-id", "-O2 -g -fPIC");
  auto r = BuildBundle(b.req);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->replaced, std::vector<std::string>{"check"});
}

TEST(BundleBuilder, SharedLibraryCallsKeepGoingThroughItsPlt) {
  // check() calls the exported lookup() through the library's PLT, so that
  // another library may interpose it; the new code must do the same.
  Built b;
  Prepare(b, "-O2 -g -fPIC -shared -Wl,--build-id", "-O2 -g -fPIC");
  ASSERT_TRUE(BuildBundle(b.req).ok());
  auto bundle = bundle::ReadFile(b.req.output);
  ASSERT_TRUE(bundle.ok());
  auto lib = elf::ObjectFile::Open(b.req.target).value();
  elf::TargetSymbols syms(*lib);
  auto plt = syms.PltStub("lookup");
  ASSERT_TRUE(plt.has_value()) << "the linker made no PLT stub for lookup";
  bool via_plt = false;
  for (const auto& sec : bundle->sections)
    for (const auto& r : sec.relocs)
      if (r.symbol == "lookup") {
        EXPECT_EQ(r.kind, bundle::Reloc::Kind::kTarget);
        EXPECT_EQ(r.address, *plt);
        via_plt = true;
      }
  EXPECT_TRUE(via_plt) << "no reference to lookup in the bundle";
}

// The linker keeps one copy of equal constants (.rodata.cst4/8/16) and string
// literals across objects, in its own order: the target's 3.5, 2.5f, fabs()
// mask and "shared %g\n" are the first file's, and run-pre must find each
// constant of the second file where its reference lands, one by one.
TEST(BundleBuilder, RunPreVerifiesMergedConstantsOneByOne) {
  Scratch s;
  s.Write("first.c", R"(
#include <stdio.h>
double scale_b(double x);
float half_b(float x);
double scale_a(double x) { printf("shared %g\n", x); return __builtin_fabs(x) * 1.25 + 3.5; }
float half_a(float x) { return x * 2.5f + 0.75f; }
int main(int argc, char **argv) { return (int)(scale_a(argc) + scale_b(argc) + half_a(argc) + half_b(argc)); }
)");
  const std::string second = R"(
#include <stdio.h>
double scale_b(double x) {
  if (x > 7.75) printf("big %g\n", x);
  printf("shared %g\n", x);
  return __builtin_fabs(x) * 9.125 + 3.5;
}
float half_b(float x) { return x * 0.125f + 2.5f; }
)";
  s.Write("second.c", second);
  s.Compile("first.c second.c", "prog", "-O2 -g");
  s.Compile("second.c", "second.orig.o", "-O2 -g -c -ffunction-sections -fdata-sections");
  s.Write("second.c", Replaced(second, "x > 7.75", "x > 7.5"));
  s.Compile("second.c", "second.fixed.o", "-O2 -g -c -ffunction-sections -fdata-sections");
  BundleRequest req;
  req.original_objects = {s.Path("second.orig.o")};
  req.patched_objects = {s.Path("second.fixed.o")};
  req.target = s.Path("prog");
  req.output = s.Path("fix.graft");
  auto r = BuildBundle(req);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->replaced, std::vector<std::string>{"scale_b"});

  // Still a check: a target whose constant differs is refused, naming it.
  s.Write("first.c", "int main(void) { return 0; }\n");
  s.Write("second.c", Replaced(second, "9.125", "9.25"));
  s.Compile("first.c second.c", "prog", "-O2 -g");
  auto refused = BuildBundle(req);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message().find("scale_b"), std::string::npos) << refused.error().message();
  EXPECT_NE(refused.error().message().find(".rodata.cst8"), std::string::npos) << refused.error().message();
}

TEST(BundleBuilder, RefusesStrippedTarget) {
  Built b;
  Prepare(b, "-O2 -s", "-O2");
  auto r = BuildBundle(b.req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("stripped"), std::string::npos) << r.error().message();
}

TEST(BundleBuilder, MismatchedObjectCountsAreAUsageError) {
  Built b;
  Prepare(b, "-O2 -g", "-O2 -g");
  b.req.patched_objects.push_back(b.req.patched_objects[0]);
  auto r = BuildBundle(b.req);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("one --patched per --orig"), std::string::npos);
}

}  // namespace
}  // namespace graft::userspace
