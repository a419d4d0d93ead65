// Which same-named kernel symbol a patch means (sympos), on synthetic symbol
// lists shaped like Debian 6.1's vmlinux (three c_start: arch/x86/kernel/cpu/
// proc.c, fs/proc/consoles.c, crypto/proc.c), and on a real linked file with
// twin statics standing in for vmlinux with its symbol table; and run-pre of a
// module through merged string sections.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "arch/arch.h"
#include "base/testing.h"
#include "diff/plan.h"
#include "elf/object_file.h"
#include "kernel/run_pre.h"
#include "kernel/symbol_binding.h"
#include "kernel/symbol_position.h"
#include "kernel/table_layout.h"

namespace graft::kernel {
namespace {

SymbolCandidate Cand(uint64_t address, const std::string& file, uint64_t size) {
  SymbolCandidate c;
  c.address = address;
  c.local = true;
  c.attributed = !file.empty();
  c.file = file;
  c.size = size;
  return c;
}

PositionQuery Query(const std::string& file, uint64_t size) {
  PositionQuery q;
  q.object = "vmlinux";
  q.name = "c_start";
  q.local = true;
  q.file = file;
  q.size = size;
  return q;
}

// In kallsyms (address) order, as 6.1.0-57-amd64 has them.
std::vector<SymbolCandidate> CStarts() {
  return {Cand(0xffffffff8104c960, "proc.c", 69), Cand(0xffffffff81410760, "consoles.c", 57),
          Cand(0xffffffff814bb040, "proc.c", 37)};
}

TEST(SymbolPosition, FileNameDecides) {
  EXPECT_EQ(*PickPosition(CStarts(), Query("consoles.c", 57)), 2);
  // The object's STT_FILE may carry a directory; vmlinux's has the basename.
  EXPECT_EQ(*PickPosition(CStarts(), Query("fs/proc/consoles.c", 0)), 2);
}

TEST(SymbolPosition, SizeTellsApartFilesOfOneName) {
  EXPECT_EQ(*PickPosition(CStarts(), Query("proc.c", 37)), 3);  // crypto/proc.c
  EXPECT_EQ(*PickPosition(CStarts(), Query("proc.c", 69)), 1);  // arch/x86/kernel/cpu/proc.c
  auto unsized = PickPosition(CStarts(), Query("proc.c", 0));
  ASSERT_FALSE(unsized.ok());
  EXPECT_NE(unsized.error().message().find("positions 1, 3"), std::string::npos) << unsized.error().message();
  // A size neither has (another build): weak evidence, ignored, still refused.
  EXPECT_FALSE(PickPosition(CStarts(), Query("proc.c", 40)).ok());
}

TEST(SymbolPosition, NeighbouringStaticsTellApartFilesOfOneName) {
  auto list = CStarts();
  list[0].neighbours = {"c_next", "c_stop", "cpuinfo_open", "show_cpuinfo"};
  list[2].neighbours = {"c_next", "c_show", "c_stop", "crypto_proc_init"};
  // A build whose c_start has another size (other flags): the file's other
  // statics still say which proc.c it is.
  auto q = Query("proc.c", 40);
  q.neighbours = {"c_next", "c_show", "c_start", "c_stop"};
  EXPECT_EQ(*PickPosition(list, q), 3);
  q.neighbours = {"c_next", "c_start", "c_stop", "show_cpuinfo"};
  EXPECT_EQ(*PickPosition(list, q), 1);
}

TEST(SymbolPosition, CodeTellsApartWhatFilesAndSizesCannot) {
  auto q = Query("proc.c", 40);
  q.same_code = [](uint64_t a) { return a == 0xffffffff814bb040; };
  EXPECT_EQ(*PickPosition(CStarts(), q), 3);
}

TEST(SymbolPosition, IdenticalClonesServeAReferenceButNotAReplacement) {
  // An inline helper's clone in several files, no file names known: the
  // copies whose code is the original's are equivalent callees.
  std::vector<SymbolCandidate> clones = {Cand(0xffffffff81001000, "", 0), Cand(0xffffffff81002000, "", 0),
                                         Cand(0xffffffff81003000, "", 0)};
  auto q = Query("fork.c", 0);
  q.name = "__refcount_add.constprop.0";
  q.same_code = [](uint64_t a) { return a != 0xffffffff81002000; };
  q.reference = true;
  EXPECT_EQ(*PickPosition(clones, q), 1);
  q.reference = false;  // a function to replace: which copy fork.c calls matters
  EXPECT_FALSE(PickPosition(clones, q).ok());
}

TEST(SymbolPosition, FileOfNoCandidateIsRefused) {
  auto r = PickPosition(CStarts(), Query("cpuinfo.c", 57));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("none of the 3 symbols 'c_start' of vmlinux comes from a file named cpuinfo.c"),
            std::string::npos)
      << r.error().message();
}

TEST(SymbolPosition, WithoutFileNamesTheCodeDecidesOrTheHintIsGiven) {
  std::vector<SymbolCandidate> map = {Cand(0x1000, "", 0), Cand(0x2000, "", 0), Cand(0x3000, "", 0)};
  auto q = Query("consoles.c", 57);
  q.without_files_hint = "give --vmlinux";
  auto r = PickPosition(map, q);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("give --vmlinux"), std::string::npos) << r.error().message();
  q.same_code = [](uint64_t a) { return a == 0x2000; };
  EXPECT_EQ(*PickPosition(map, q), 2);
  // Identical code at two places: not a guess.
  q.same_code = [](uint64_t a) { return a != 0x1000; };
  auto twice = PickPosition(map, q);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message().find("give --vmlinux"), std::string::npos) << twice.error().message();
}

TEST(SymbolPosition, GlobalBeatsStaticsOfTheSameName) {
  auto list = CStarts();
  list[1].local = false;
  PositionQuery q = Query("", 0);
  q.local = false;
  EXPECT_EQ(*PickPosition(list, q), 2);
  EXPECT_EQ(*PickPosition({Cand(1, "a.c", 1)}, q), 0);  // unique: 0
}

// A linked file with twin statics stands in for vmlinux with its symbol
// table; the map is its `nm -n`, shifted by a KASLR offset. Both files are
// proc.c and both c_next are the same code: only the other statics of each
// file (and the original object's) tell them apart.
TEST(SymbolBinder, VmlinuxTwinsFromItsSymbolTable) {
  testing::Scratch s;
  std::filesystem::create_directories(s.Path("one"));
  std::filesystem::create_directories(s.Path("two"));
  s.Write("one/proc.c", "static int n; static __attribute__((noinline)) int c_next(int x) { return x + n; }\n"
                        "static __attribute__((noinline)) int only_one(int x) { return x * 5; }\n"
                        "int cpu_entry(int x) { n = x; return c_next(x) + only_one(x); }\n");
  s.Write("two/proc.c", "static int m; static __attribute__((noinline)) int c_next(int x) { return x + m; }\n"
                        "static __attribute__((noinline)) int only_two(int x) { return x - 9; }\n"
                        "int crypto_entry(int x) { m = x; return c_next(x) + only_two(x); }\n");
  s.Write("main.c", "int cpu_entry(int); int crypto_entry(int); int main(int c, char** v) { return cpu_entry(c) + crypto_entry(c); }\n");
  std::string dir = s.Path("");
  if (std::system(("cd " + dir + " && gcc -O2 -c one/proc.c -o one.o && gcc -O2 -c two/proc.c -o two.o && "
                   "gcc -O2 -no-pie main.c one.o two.o -o vmlinux && "
                   "nm -n vmlinux | while read a t n; do case \"$t\" in [tTdDbB]) "
                   "printf '%016x %s %s\\n' $((0x$a + 0x2000000)) $t $n;; esac; done > map && "
                   "for i in $(seq 1000); do echo \"ffffffffff000000 t filler_$i\"; done >> map && "
                   "printf '0x1\\tprintf\\tvmlinux\\tEXPORT_SYMBOL\\t\\n' > Module.symvers").c_str()) != 0)
    throw std::runtime_error("building the stand-in vmlinux failed");
  auto v = elf::ObjectFile::Open(s.Path("vmlinux"));
  auto two = elf::ObjectFile::Open(s.Path("two.o"));
  ASSERT_TRUE(v.ok() && two.ok());
  const elf::Section* text = (*v)->section_named(".text");
  ASSERT_NE(text, nullptr);
  std::ofstream(s.Path("map"), std::ios::app) << fmt::format("{:016x} T _text\n", text->addr + 0x2000000);
  std::vector<uint64_t> sizes, addresses;
  for (const auto& sym : (*v)->symbols())
    if (sym.name == "c_next") sizes.push_back(sym.size), addresses.push_back(sym.value);
  ASSERT_EQ(sizes.size(), 2u);
  ASSERT_EQ(sizes[0], sizes[1]) << "the test needs twins of one size";
  KernelSymbolSources src;
  src.object = "vmlinux";
  src.module_symvers = s.Path("Module.symvers");
  src.system_map = s.Path("map");
  src.vmlinux = v->get();
  src.link_text = text->addr;
  auto blind = SymbolBinder::Load(src);  // no original object: file names alone leave two
  ASSERT_TRUE(blind.ok()) << blind.error().message();
  EXPECT_FALSE(blind->FunctionPosition("c_next", "proc.c").ok());
  src.originals = {two->get()};
  auto b = SymbolBinder::Load(src);
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(b->kaslr_offset(), 0x2000000u);
  auto pos = b->FunctionPosition("c_next", "proc.c");
  ASSERT_TRUE(pos.ok()) << pos.error().message();
  EXPECT_EQ(*pos, 2);  // two.o is linked after one.o
  auto at = b->LinkAddress("c_next", *pos);
  ASSERT_TRUE(at.ok()) << at.error().message();
  EXPECT_EQ(*at, std::max(addresses[0], addresses[1]));
  // A static of the other file, reached by the new code.
  auto m = b->Bind(ExistingReferent("m", true, "proc.c"));
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->symbol, ".klp.sym.vmlinux.m,0");
}

// A module linked from two files of one basename, each with a static
// helper: its symbol table's STT_FILE entries cannot tell them apart, the
// size of the original object's helper does; without it graft refuses.
TEST(SymbolBinder, ModuleTwinsOfOneBasename) {
  testing::Scratch s;
  std::filesystem::create_directories(s.Path("one"));
  std::filesystem::create_directories(s.Path("two"));
  s.Write("one/x.c", "static __attribute__((noinline)) int helper(int x) { return x + 1; }\n"
                     "int one_entry(int x) { return helper(x); }\n");
  s.Write("two/x.c", "static __attribute__((noinline)) int helper(int x) { if (x > 3) return x * 7 - 1; return x / 3; }\n"
                     "int two_entry(int x) { return helper(x); } int __this_module;\n");
  s.Write("Module.symvers", "0x1\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n");
  if (std::system(("cd " + s.Path("") + " && gcc -O2 -c one/x.c -o one.o && gcc -O2 -c two/x.c -o two.o && "
                   "ld -r one.o two.o -o mod.ko").c_str()) != 0)
    throw std::runtime_error("building the module failed");
  auto two = elf::ObjectFile::Open(s.Path("two.o"));
  ASSERT_TRUE(two.ok());
  KernelSymbolSources src;
  src.object = "mod";
  src.module_file = s.Path("mod.ko");
  src.module_symvers = s.Path("Module.symvers");
  auto blind = SymbolBinder::Load(src);
  ASSERT_TRUE(blind.ok()) << blind.error().message();
  EXPECT_FALSE(blind->FunctionPosition("helper", "x.c").ok());
  src.originals = {two->get()};
  auto b = SymbolBinder::Load(src);
  ASSERT_TRUE(b.ok()) << b.error().message();
  auto pos = b->FunctionPosition("helper", "x.c");
  ASSERT_TRUE(pos.ok()) << pos.error().message();
  EXPECT_EQ(*pos, 2);  // symbol-table order: one.o's first
}

TEST(TableLayouts, ParsesAndChecks) {
  auto l = ParseTableLayouts("__ex_table 12 -1\n__bug_table 0 -1\n.altinstructions 14 13\n");
  ASSERT_TRUE(l.ok()) << l.error().message();
  EXPECT_EQ(l->For("__bug_table"), nullptr);  // no CONFIG_GENERIC_BUG: no table
  ASSERT_NE(l->For(".altinstructions"), nullptr);
  EXPECT_EQ(l->For(".altinstructions")->replacement_len_at, 13);
  EXPECT_FALSE(ParseTableLayouts(".altinstructions 12 12\n").ok());
}

// Debian's modules are built without -fdata-sections: the literals of all
// functions share one .rodata.str1.1, while the original object has one
// .rodata.<fn>.str1.1 per function. Relocations to strings compare by the
// string's bytes.
TEST(RunPre, ModuleStringsThroughMergedSections) {
  testing::Scratch s;
  const char* src =
      "extern int printk(const char*, ...);\n"
      "int first(int x) { if (x) printk(\"first: an earlier literal %d\\n\", x); return x; }\n"
      "int entry(int x) {\n#ifdef FIXED\n  if (x < 0) return 0;\n#endif\n"
      "  if (x > 10) printk(MSG, x); return x * 2; }\n";
  s.Write("m.c", src);
  std::string flags = std::string(testing::kObjectFlags) + " '-DMSG=\"entry: bad value %d\\n\"'";
  s.Compile("m.c", "orig.o", flags);
  s.Compile("m.c", "fixed.o", flags + " -DFIXED");
  s.Compile("m.c", "running.ko", "-O2 -g -c '-DMSG=\"entry: bad value %d\\n\"'");
  s.Compile("m.c", "other.ko", "-O2 -g -c '-DMSG=\"entry: wrong value %d\\n\"'");
  auto o = elf::ObjectFile::Open(s.Path("orig.o")), f = elf::ObjectFile::Open(s.Path("fixed.o"));
  auto r = elf::ObjectFile::Open(s.Path("running.ko")), x = elf::ObjectFile::Open(s.Path("other.ko"));
  ASSERT_TRUE(o.ok() && f.ok() && r.ok() && x.ok());
  ASSERT_NE((*o)->section_named(".rodata.entry.str1.1"), nullptr);
  ASSERT_NE((*r)->section_named(".rodata.str1.1"), nullptr);
  auto plan = diff::MakePatchPlan({{o->get(), f->get()}}, arch::HostArch());
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  Status same = VerifyAgainstModule(*plan, **r, arch::HostArch());
  EXPECT_TRUE(same.ok()) << same.error().message();
  Status differs = VerifyAgainstModule(*plan, **x, arch::HostArch());
  ASSERT_FALSE(differs.ok());
  EXPECT_NE(differs.error().message().find("string \"entry: wrong value"), std::string::npos)
      << differs.error().message();
}

}  // namespace
}  // namespace graft::kernel
