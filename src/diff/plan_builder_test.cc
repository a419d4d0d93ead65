// The diff engine on real gcc output: what changes, what is copied, what is
// bound by name to the running program, and what is refused.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "arch/arch.h"
#include "base/testing.h"
#include "diff/compare.h"
#include "diff/plan.h"
#include "diff/renamed_locals.h"

namespace graft::diff {
namespace {

using graft::testing::kObjectFlags;
using graft::testing::Scratch;

struct Diffed {
  std::unique_ptr<elf::ObjectFile> orig, patched;
  Result<PatchPlan> plan = Error("not run");
};

// Both versions are compiled from a file named unit.c, as a rebuilt tree would be.
Diffed Diff(Scratch& s, const std::string& before, const std::string& after, const std::string& flags = kObjectFlags,
            const std::set<std::string>& ignore = {}) {
  s.Write("unit.c", before);
  s.Compile("unit.c", "orig.o", flags);
  s.Write("unit.c", after);
  s.Compile("unit.c", "patched.o", flags);
  Diffed d;
  d.orig = elf::ObjectFile::Open(s.Path("orig.o")).value();
  d.patched = elf::ObjectFile::Open(s.Path("patched.o")).value();
  d.plan = MakePatchPlan({{d.orig.get(), d.patched.get()}}, arch::HostArch(), ignore);
  return d;
}

std::vector<std::string> Replaced(const PatchPlan& p) {
  std::vector<std::string> v;
  for (const auto& f : p.replaced) v.push_back(f.name);
  std::sort(v.begin(), v.end());
  return v;
}

std::string Edited(std::string text, const std::string& from, const std::string& to) {
  return text.replace(text.find(from), from.size(), to);
}

const PlanSection* SectionNamed(const PatchPlan& p, const std::string& name) {
  for (const auto& s : p.sections)
    if (s.name == name) return &s;
  return nullptr;
}

const std::string kBase = R"(
#include <stdio.h>
int limit = 10;
static int hits;
int unchanged(int x) { printf("unchanged %d\n", x); return x + 1; }
int check(int n) {
  hits++;
  if (n > limit + 100) { printf("too big %d\n", n); return -1; }
  return n;
}
)";

TEST(PlanBuilder, OnlyChangedFunctionsAreReplaced) {
  Scratch s;
  std::string fixed = kBase;
  fixed.replace(fixed.find("limit + 100"), 11, "limit");
  auto d = Diff(s, kBase, fixed);
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  EXPECT_EQ(Replaced(*d.plan), std::vector<std::string>{"check"});
  EXPECT_TRUE(d.plan->added.empty());
}

TEST(PlanBuilder, ExistingStateIsBoundByNameNeverCopied) {
  Scratch s;
  std::string fixed = kBase;
  fixed.replace(fixed.find("limit + 100"), 11, "limit");
  auto d = Diff(s, kBase, fixed);
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  const PlanSection* code = SectionNamed(*d.plan, "check");
  ASSERT_NE(code, nullptr);
  bool limit = false, hits = false, printf_ext = false;
  for (const PlanReloc& r : code->relocs) {
    if (r.to.kind == Referent::Kind::kExisting && r.to.name == "limit") limit = true;
    if (r.to.kind == Referent::Kind::kExisting && r.to.name == "hits" && r.to.local && r.to.file == "unit.c") hits = true;
    if (r.to.kind == Referent::Kind::kExternal && r.to.name == "printf") printf_ext = true;
  }
  EXPECT_TRUE(limit) << "global 'limit' must bind to the target's own storage";
  EXPECT_TRUE(hits) << "static 'hits' must bind to the target's own storage";
  EXPECT_TRUE(printf_ext);
  for (const PlanSection& sec : d.plan->sections)
    EXPECT_NE(sec.kind, PlanSection::Kind::kData) << sec.name << " was copied";
}

TEST(PlanBuilder, NewStringLiteralIsCarried) {
  Scratch s;
  std::string fixed = kBase;
  fixed.replace(fixed.find("too big %d"), 10, "rejected oversized %d");
  auto d = Diff(s, kBase, fixed);
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  EXPECT_EQ(Replaced(*d.plan), std::vector<std::string>{"check"});
  bool found = false;
  for (const PlanSection& sec : d.plan->sections) {
    std::string bytes(sec.bytes.begin(), sec.bytes.end());
    if (sec.kind == PlanSection::Kind::kRodata && bytes.find("rejected oversized") != std::string::npos) found = true;
  }
  EXPECT_TRUE(found);
}

TEST(PlanBuilder, RenumberedLabelsDoNotMakeUnchangedCodeDiffer) {
  // A new literal in one function shifts the assembler's labels in the
  // string pool; relocation normalisation must still see `unchanged` as equal.
  Scratch s;
  std::string before = "#include <stdio.h>\nvoid a(void) { puts(\"alpha\"); }\nvoid b(int x) { printf(\"beta %d\\n\", x); }\n";
  std::string after = "#include <stdio.h>\nvoid a(void) { puts(\"alpha\"); puts(\"gamma\"); }\nvoid b(int x) { printf(\"beta %d\\n\", x); }\n";
  auto d = Diff(s, before, after, std::string(kObjectFlags) + " -fmerge-constants");
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  EXPECT_EQ(Replaced(*d.plan), std::vector<std::string>{"a"});
}

TEST(PlanBuilder, InlinedStaticChangeReplacesItsCallers) {
  Scratch s;
  std::string before = "static int scale(int x) { return x * 2; }\nint api(int x) { return scale(x) + 1; }\nint other(int x) { return x - 1; }\n";
  std::string after = "static int scale(int x) { return x * 3; }\nint api(int x) { return scale(x) + 1; }\nint other(int x) { return x - 1; }\n";
  auto d = Diff(s, before, after);
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  EXPECT_EQ(Replaced(*d.plan), std::vector<std::string>{"api"});
}

TEST(PlanBuilder, FunctionsTheAuthorMarkedKeepTheirOriginalCode) {
  // A kernel fix's GRAFT_IGNORE_FUNCTION: `api` changed only because the
  // inlined `scale` did, and the author wants it left alone, whatever changed.
  Scratch s;
  std::string before = "static int scale(int x) { return x * 2; }\nint api(int x) { return scale(x) + 1; }\nint other(int x) { return x - 1; }\n";
  std::string after = "static int scale(int x) { return x * 3; }\nint api(int x) { return scale(x) + 1; }\nint other(int x) { return x - 2; }\n";
  s.Write("unit.c", before);
  s.Compile("unit.c", "orig.o", kObjectFlags);
  s.Write("unit.c", after);
  s.Compile("unit.c", "patched.o", kObjectFlags);
  auto orig = elf::ObjectFile::Open(s.Path("orig.o")).value();
  auto patched = elf::ObjectFile::Open(s.Path("patched.o")).value();
  auto plan = MakePatchPlan({{orig.get(), patched.get()}}, arch::HostArch(), {}, {"api"});
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  EXPECT_EQ(Replaced(*plan), std::vector<std::string>{"other"});
  EXPECT_EQ(plan->ignored, std::vector<std::string>{"api (marked in the source)"});
}

TEST(PlanBuilder, SameNamedConstantsAreMatchedByContentAcrossRenumbering) {
  // Like the kernel's __func__.12/__func__.13 of fortified string calls: a
  // fix adding one more renumbers them all, yet f1 and f2 did not change.
  Scratch s;
  std::string before =
      "__attribute__((noinline)) const char *f1(void) { static const char name[] = \"first\"; return name; }\n"
      "__attribute__((noinline)) const char *f2(void) { static const char name[] = \"second\"; return name; }\n";
  std::string after =
      "__attribute__((noinline)) const char *f0(void) { static const char name[] = \"zero\"; return name; }\n" + before;
  auto d = Diff(s, before, after);
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  EXPECT_EQ(Replaced(*d.plan), std::vector<std::string>{});
  EXPECT_EQ(d.plan->added, std::vector<std::string>{"f0"});
  // A changed value still changes the function reading it.
  Scratch s2;
  auto changed = Diff(s2, before, Edited(before, "\"second\"", "\"Second\""));
  ASSERT_TRUE(changed.plan.ok()) << changed.plan.error().message();
  EXPECT_EQ(Replaced(*changed.plan), std::vector<std::string>{"f2"});
}

TEST(PlanBuilder, StaticLocalsAreMatchedAcrossRenumbering) {
  // In the fix a second static local appears first, so GCC renumbers them;
  // the old `count` must still be bound to the original object's name.
  Scratch s;
  std::string before = "int tick(void) { static int count; return ++count; }\n";
  std::string after = "int extra(void) { static int other; return other++; }\n"
                      "int tick(void) { static int count; count += 2; return count; }\n";
  auto d = Diff(s, before, after);
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  auto orig_name = [&] {
    for (const auto& sym : d.orig->symbols())
      if (sym.name.rfind("count.", 0) == 0) return sym.name;
    return std::string();
  }();
  ASSERT_FALSE(orig_name.empty());
  const PlanSection* code = SectionNamed(*d.plan, "tick");
  ASSERT_NE(code, nullptr);
  bool bound = false;
  for (const PlanReloc& r : code->relocs) bound |= r.to.kind == Referent::Kind::kExisting && r.to.name == orig_name;
  EXPECT_TRUE(bound) << "count must bind to " << orig_name;
  EXPECT_EQ(d.plan->added, std::vector<std::string>{"extra"});
}

TEST(PlanBuilder, RenumberedSameNameLocalsDoNotDragUnchangedFunctionsIn) {
  // Several functions each with `static int count` (count.0, count.1, ...):
  // the suffix-less name is not unique, and a fix adding one more in front
  // renumbers all of them. Only the changed function may be replaced, and
  // its `count` must bind to its own original variable, not a namesake.
  Scratch s;
  std::string body = "int a(void) { static int count = 1; return ++count; }\n"
                     "int b(void) { static int count = 2; return count += 2; }\n"
                     "int c(void) { static int count = 3; return count += 3; }\n";
  std::string after = "int z(void) { static int count = 9; return count--; }\n" +
                      Edited(body, "count += 2", "count += 20");
  auto d = Diff(s, body, after);
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  EXPECT_EQ(Replaced(*d.plan), std::vector<std::string>{"b"});
  std::string orig_b;  // b's count in the original: the one initialised to 2
  for (const auto& sym : d.orig->symbols())
    if (sym.name.rfind("count.", 0) == 0 && d.orig->sections()[sym.shndx].data.size() == 4 &&
        d.orig->sections()[sym.shndx].data[0] == 2)
      orig_b = sym.name;
  ASSERT_FALSE(orig_b.empty());
  const PlanSection* code = SectionNamed(*d.plan, "b");
  ASSERT_NE(code, nullptr);
  bool bound = false;
  for (const PlanReloc& r : code->relocs) bound |= r.to.kind == Referent::Kind::kExisting && r.to.name == orig_b;
  EXPECT_TRUE(bound) << "b's count must bind to " << orig_b;
}

TEST(RenamedLocals, SuffixIsStrippedOnlyWhenNumeric) {
  EXPECT_EQ(StripNumericSuffix("__key.254"), "__key");
  EXPECT_EQ(StripNumericSuffix("__func__.65"), "__func__");
  EXPECT_EQ(StripNumericSuffix("foo.cold"), "foo.cold");
  EXPECT_EQ(StripNumericSuffix("bar.constprop.0"), "bar.constprop");
  EXPECT_EQ(StripNumericSuffix("plain"), "plain");
  EXPECT_EQ(StripNumericSuffix("trailing."), "trailing.");
}

TEST(RenamedLocals, PairsByWhoRefersToThemThenByContents) {
  auto cand = [](std::string name, uint64_t size, std::vector<uint8_t> content,
                 std::set<std::pair<std::string, int>> anchors) {
    LocalCandidate c;
    c.stripped = std::move(name);
    c.size = size;
    c.content = std::move(content);
    c.anchors = std::move(anchors);
    return c;
  };
  // Zero-size lockdep keys: all alike, told apart by the function and order
  // of use; the fix renumbered them and swapped their order in the object.
  std::vector<LocalCandidate> orig = {
      cand("__key", 0, {}, {{"copy_process", 0}}),
      cand("__key", 0, {}, {{"copy_process", 1}}),
      cand("__key", 0, {}, {{"mm_init", 0}}),
      cand("__already_done", 1, {0}, {{"free_task", 0}}),
  };
  std::vector<LocalCandidate> patched = {
      cand("__key", 0, {}, {{"mm_init", 0}}),
      cand("__key", 0, {}, {{"copy_process", 1}}),
      cand("__key", 0, {}, {{"copy_process", 0}}),
      cand("__key", 0, {}, {{"new_function", 0}}),  // new: no counterpart
      cand("__already_done", 1, {0}, {}),           // its user was inlined away: by contents
  };
  auto m = MatchRenamedLocals(orig, patched);
  std::vector<std::pair<int, int>> want = {{0, 2}, {1, 1}, {2, 0}, {3, 4}};
  EXPECT_EQ(m, want);
  // Contents pair only when they tell one variable from the others.
  std::vector<LocalCandidate> o2 = {cand("__warned", 1, {0}, {}), cand("__warned", 1, {0}, {})};
  std::vector<LocalCandidate> p2 = {cand("__warned", 1, {0}, {}), cand("__warned", 1, {0}, {})};
  EXPECT_TRUE(MatchRenamedLocals(o2, p2).empty());
  // A different size is another variable, whatever refers to it.
  EXPECT_TRUE(MatchRenamedLocals({cand("buf", 8, {}, {{"f", 0}})}, {cand("buf", 16, {}, {{"f", 0}})}).empty());
}

TEST(PlanBuilder, NewGlobalIsCarriedAsNewData) {
  Scratch s;
  std::string before = "int f(int x) { return x; }\n";
  std::string after = "int seen_total = 5;\nint f(int x) { seen_total += x; return x; }\n";
  auto d = Diff(s, before, after);
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  EXPECT_EQ(d.plan->new_data, std::vector<std::string>{"seen_total"});
  const PlanSection* data = SectionNamed(*d.plan, "seen_total");
  ASSERT_NE(data, nullptr);
  EXPECT_EQ(data->kind, PlanSection::Kind::kData);
}

TEST(PlanBuilder, RefusesChangedInitialValue) {
  Scratch s;
  auto d = Diff(s, "int threshold = 10;\nint f(int x) { return x > threshold; }\n",
                "int threshold = 20;\nint f(int x) { return x > threshold; }\n");
  ASSERT_FALSE(d.plan.ok());
  EXPECT_NE(d.plan.error().message().find("variable 'threshold'"), std::string::npos) << d.plan.error().message();
}

TEST(PlanBuilder, RefusesChangedSizeOfVariable) {
  Scratch s;
  auto d = Diff(s, "int buf[4];\nint f(int i) { return buf[i & 3]; }\n", "int buf[8];\nint f(int i) { return buf[i & 7]; }\n");
  ASSERT_FALSE(d.plan.ok());
  EXPECT_NE(d.plan.error().message().find("'buf'"), std::string::npos) << d.plan.error().message();
  EXPECT_NE(d.plan.error().message().find("size changed"), std::string::npos) << d.plan.error().message();
}

TEST(PlanBuilder, RefusesConstructorChanges) {
  Scratch s;
  auto d = Diff(s, "int v;\n__attribute__((constructor)) static void init(void) { v = 1; }\nint get(void) { return v; }\n",
                "int v;\n__attribute__((constructor)) static void init(void) { v = 2; }\nint get(void) { return v; }\n");
  ASSERT_FALSE(d.plan.ok());
  EXPECT_NE(d.plan.error().message().find("'init'"), std::string::npos) << d.plan.error().message();
}

// A fix that adds lines above functions passing __LINE__ changes only that
// constant in them: reported, and left out on request; a real change is not.
const std::string kLines = R"(
#include <stdio.h>
void trace(int line);
__attribute__((noinline)) int bounded(int n) {
  return n * 2;
}
__attribute__((noinline)) int logged(int n) {
  trace(__LINE__);
  return n + 1;
}
int main(int argc, char **argv) {
  trace(__LINE__);
  return bounded(argc) + logged(argc);
}
)";

TEST(PlanBuilder, LineNumberOnlyChangesAreNamedAndCanBeLeftOut) {
  Scratch s;
  std::string fixed = Edited(kLines, "  return n * 2;\n", "  if (n < 0)\n    return 0;\n  return n * 2;\n");
  auto plain = Diff(s, kLines, fixed);
  // main moved too, and main runs only at start: refused, with the hint.
  ASSERT_FALSE(plain.plan.ok());
  EXPECT_NE(plain.plan.error().message().find("Only constants differ in it (12 -> 14)"), std::string::npos)
      << plain.plan.error().message();
  auto d = Diff(s, kLines, fixed, kObjectFlags, {"main"});
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  EXPECT_EQ(Replaced(*d.plan), (std::vector<std::string>{"bounded", "logged"}));
  EXPECT_EQ(d.plan->ignored, std::vector<std::string>{"main (12 -> 14)"});
  for (const PlanFunction& f : d.plan->replaced) {
    if (f.name == "logged") {
      EXPECT_EQ(f.constants_only, (std::vector<std::pair<int64_t, int64_t>>{{8, 10}}));
    }
    if (f.name == "bounded") {
      EXPECT_TRUE(f.constants_only.empty());
    }
  }
  auto both = Diff(s, kLines, fixed, kObjectFlags, {"main", "logged"});
  ASSERT_TRUE(both.plan.ok()) << both.plan.error().message();
  EXPECT_EQ(Replaced(*both.plan), std::vector<std::string>{"bounded"});
  auto wrong = Diff(s, kLines, fixed, kObjectFlags, {"main", "bounded"});
  ASSERT_FALSE(wrong.plan.ok());
  EXPECT_NE(wrong.plan.error().message().find("'bounded' changed in more than constants"), std::string::npos)
      << wrong.plan.error().message();
}

// A switch compiled to a jump table: its entries are places inside the
// function, which only the new copy has; the function's own address (taken
// in the code) stays the old one, as for any function pointer.
const std::string kSwitch = R"(
long pick(int op, long x) {
  switch (op) {
    case 0: return x + 11; case 1: return x * 3 - 1; case 2: return x ^ 0x55; case 3: return x << 3;
    case 4: return (x >> 1) + 40; case 5: return x * 7 + 2; case 6: return -x; case 7: return x % 13 + 600;
    case 8: return x * x; case 9: return (long)pick;
    default: return -1;
  }
}
)";

TEST(PlanBuilder, JumpTableEntriesBindToTheNewCopy) {
  for (const char* pic : {"-fPIC", "-fno-pic"}) {
    Scratch s;
    auto d = Diff(s, kSwitch, Edited(kSwitch, "x * 7 + 2", "x * 100 + 1"), std::string(kObjectFlags) + " " + pic);
    ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
    ASSERT_EQ(Replaced(*d.plan), std::vector<std::string>{"pick"});
    const PlanSection* code = SectionNamed(*d.plan, "pick");
    ASSERT_NE(code, nullptr);
    uint32_t copy = code - d.plan->sections.data();
    bool address_of = false;
    for (const PlanReloc& r : code->relocs) address_of |= r.to.kind == Referent::Kind::kExisting && r.to.name == "pick";
    EXPECT_TRUE(address_of) << pic << ": (long)pick must stay the old address";
    const PlanSection* table = nullptr;
    for (const PlanSection& sec : d.plan->sections)
      if (sec.kind == PlanSection::Kind::kRodata && sec.relocs.size() >= 8) table = &sec;
    ASSERT_NE(table, nullptr) << pic << ": no jump table copied";
    for (const PlanReloc& r : table->relocs) {
      EXPECT_EQ(r.to.kind, Referent::Kind::kCopied) << pic << ": entry at +" << r.offset << " binds to " << r.to.name;
      EXPECT_EQ(r.to.section, copy) << pic << ": entry at +" << r.offset;
    }
  }
}

// A computed goto's label table, when the fix changes an operand but moves no
// label: the table is byte for byte the same, yet the running program's copy
// points into the old code. It travels with the function (in .data.rel.ro
// under -fPIC, .rodata otherwise); a writable one is refused.
const std::string kLabels = R"(
long run(const unsigned char *prog, long x) {
  static const void *const ops[] = {&&add, &&mul, &&end};
  goto *ops[*prog++];
add:
  x += 5;
  goto *ops[*prog++];
mul:
  x *= 3;
  goto *ops[*prog++];
end:
  return x;
}
)";

TEST(PlanBuilder, LabelTableTravelsWithItsFunction) {
  for (const char* pic : {"-fPIC", "-fno-pic"}) {
    Scratch s;
    auto d = Diff(s, kLabels, Edited(kLabels, "x += 5", "x += 6"), std::string(kObjectFlags) + " " + pic);
    ASSERT_TRUE(d.plan.ok()) << pic << ": " << d.plan.error().message();
    ASSERT_EQ(Replaced(*d.plan), std::vector<std::string>{"run"});
    const PlanSection* code = SectionNamed(*d.plan, "run");
    const PlanSection* table = SectionNamed(*d.plan, "ops.0");
    ASSERT_NE(code, nullptr);
    ASSERT_NE(table, nullptr) << pic << ": the label table was not carried";
    ASSERT_EQ(table->relocs.size(), 3u);
    for (const PlanReloc& r : table->relocs) {
      EXPECT_EQ(r.to.kind, Referent::Kind::kCopied) << pic << ": label at +" << r.offset << " binds to " << r.to.name;
      EXPECT_EQ(r.to.section, static_cast<uint32_t>(code - d.plan->sections.data()));
    }
  }
  Scratch s;
  std::string writable = Edited(kLabels, "static const void *const ops[] = {&&add, &&mul, &&end};",
                                "static const void *ops[] = {&&add, &&mul, &&end};\n  if (!prog) ops[1] = &&add;");
  auto d = Diff(s, writable, Edited(writable, "x += 5", "x += 6"));
  ASSERT_FALSE(d.plan.ok());
  EXPECT_NE(d.plan.error().message().find("variable 'ops.0' holds addresses inside 'run'"), std::string::npos)
      << d.plan.error().message();
}

// A parallel build compiles translation units in any order, and the source
// build passes them on in that order: the plan (what `graft build` prints as
// "replaces", the bundle's functions and sections) must not depend on it.
TEST(PlanBuilder, OrderDoesNotDependOnTheOrderObjectsAreGiven) {
  Scratch s;
  auto compile = [&](const std::string& name, const std::string& text) {
    s.Write(name + ".c", text);
    s.Compile(name + ".c", name + ".o", kObjectFlags);
    return elf::ObjectFile::Open(s.Path(name + ".o")).value();
  };
  const std::string two = "int zebra(int x) { return x + 1; }\nint apple(int x) { return x + 2; }\n";
  auto b_orig = compile("b_orig", two);
  auto b_fixed = compile("b_fixed", Edited(Edited(two, "x + 1", "x - 1"), "x + 2", "x - 2"));
  auto a_orig = compile("a_orig", "int middle(int x) { return x * 2; }\n");
  auto a_fixed = compile("a_fixed", "int middle(int x) { return x * 4; }\n");
  ObjectPair a{a_orig.get(), a_fixed.get()}, b{b_orig.get(), b_fixed.get()};
  auto names = [](const PatchPlan& p) {
    std::vector<std::string> v;
    for (const auto& f : p.replaced) v.push_back(f.name);
    for (const auto& sec : p.sections) v.push_back("section " + sec.name);
    return v;
  };
  auto ab = MakePatchPlan({a, b}, arch::HostArch());
  auto ba = MakePatchPlan({b, a}, arch::HostArch());
  ASSERT_TRUE(ab.ok()) << ab.error().message();
  ASSERT_TRUE(ba.ok()) << ba.error().message();
  EXPECT_EQ(names(*ab), names(*ba));
  // By object path, then by name: a_fixed.o's middle, then b_fixed.o's apple and zebra.
  std::vector<std::string> replaced;
  for (const auto& f : ba->replaced) replaced.push_back(f.name);
  EXPECT_EQ(replaced, (std::vector<std::string>{"middle", "apple", "zebra"}));
}

// A constant the fix adds to one function shifts the others in the object's
// constant pool (.rodata.cst8); functions whose own constants are the same
// did not change, since the linker places each constant by its value anyway.
TEST(PlanBuilder, ConstantPoolShiftsDoNotMakeOtherFunctionsDiffer) {
  Scratch s;
  const std::string before = "double area(double r) { return r * r * 3.25; }\n"
                             "double volume(double r) { return r * r * r * 4.5; }\n";
  auto d = Diff(s, before, Edited(before, "r * r * 3.25", "r * r * 3.5 + 0.125"));
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  EXPECT_EQ(Replaced(*d.plan), std::vector<std::string>{"area"});
}

TEST(PlanBuilder, ThreadLocalVariablesBindToTheThreadsOwnStorage) {
  Scratch s;
  auto d = Diff(s, "__thread int tl;\nint f(int x) { return x + tl; }\n", "__thread int tl;\nint f(int x) { return x * 2 + tl; }\n");
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  const PlanSection* code = SectionNamed(*d.plan, "f");
  ASSERT_NE(code, nullptr);
  ASSERT_EQ(code->relocs.size(), 1u);
  EXPECT_EQ(code->relocs[0].to.kind, Referent::Kind::kExisting);
  EXPECT_EQ(code->relocs[0].to.name, "tl");
  EXPECT_EQ(d.plan->new_data.size(), 0u) << "a thread-local variable must never be copied";
}

TEST(PlanBuilder, RefusesNewThreadLocalVariable) {
  Scratch s;
  auto d = Diff(s, "__thread int tl;\nint f(int x) { return x + tl; }\n",
                "__thread int tl, fresh;\nint f(int x) { return x + tl + fresh++; }\n");
  ASSERT_FALSE(d.plan.ok());
  EXPECT_NE(d.plan.error().message().find("thread-local variable 'fresh'"), std::string::npos) << d.plan.error().message();
}

TEST(PlanBuilder, MovedLiteralInAnUnmergedPoolIsUnchanged) {
  Scratch s;
  const char* before = "int puts(const char*);\nconst char *banner = \"service\";\n"
                       "void f(void) { puts(\"short\"); }\nvoid g(void) { puts(banner); }\n";
  auto d = Diff(s, before, Edited(before, "short", "a much longer text"),
                std::string(kObjectFlags) + " -fno-merge-constants");
  ASSERT_TRUE(d.plan.ok()) << d.plan.error().message();
  EXPECT_EQ(Replaced(*d.plan), std::vector<std::string>{"f"});
}

TEST(PlanBuilder, RefusesObjectsWithoutFunctionSections) {
  Scratch s;
  auto d = Diff(s, "int f(int x) { return x; }\nint g(int x) { return x + 1; }\n",
                "int f(int x) { return x; }\nint g(int x) { return x + 2; }\n", "-O2 -c");
  ASSERT_FALSE(d.plan.ok());
  EXPECT_NE(d.plan.error().message().find("-ffunction-sections"), std::string::npos) << d.plan.error().message();
}

TEST(PlanBuilder, NothingChangedIsAnError) {
  Scratch s;
  auto d = Diff(s, kBase, kBase);
  ASSERT_FALSE(d.plan.ok());
  EXPECT_NE(d.plan.error().message().find("no function changed"), std::string::npos);
}

}  // namespace
}  // namespace graft::diff
