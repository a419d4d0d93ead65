// Unit tests of the kernel live patch builder's parts that need no kernel:
// symbol binding policy, the livepatch relocation rewrite, which functions
// ftrace can redirect. The whole builder runs on real kbuild objects in
// tests/e2e/kernel_build.sh and kernel_constructs.sh.
#include <elf.h>
#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "arch/arch.h"
#include "base/testing.h"
#include "diff/plan.h"
#include "elf/object_file.h"
#include "kernel/debian_source.h"
#include "kernel/klp_convert.h"
#include "kernel/module_builder.h"
#include "kernel/patch_object.h"
#include "kernel/run_pre.h"
#include "kernel/source_build.h"
#include "kernel/source_tree.h"
#include "kernel/symbol_binding.h"
#include "kernel/table_layout.h"

namespace graft::kernel {
namespace {

using diff::Referent;

Referent Existing(const std::string& name, bool local, const std::string& file = "") {
  return ExistingReferent(name, local, file);
}

struct Sources {
  testing::Scratch s;
  KernelSymbolSources src;
  Sources() {
    src.module_symvers = s.Write("Module.symvers",
                                 "0x12345678\tseq_printf\tvmlinux\tEXPORT_SYMBOL\t\n"
                                 "0x9abcdef0\tnft_register_expr\tnet/netfilter/nf_tables\tEXPORT_SYMBOL_GPL\t\n");
    std::string filler;  // a real map has tens of thousands of symbols
    for (int i = 0; i < 1000; i++) filler += "ffffffff82000000 t filler_" + std::to_string(i) + "\n";
    src.system_map = s.Write("System.map", filler +
                             "ffffffff81000000 T _stext\n"
                             "ffffffff81100000 t show_val\n"
                             "ffffffff81200000 t show_val\n"
                             "ffffffff81300000 T seq_printf\n"
                             "ffffffff81400000 d counter\n"
                             "ffffffff81500000 T unexported_helper\n"
                             "ffffffffc0000000 t show_val\t[some_module]\n");  // kallsyms: a module's
  }
  // Compiles a.c and b.c and links them like a module's files (mod.ko), the
  // module to patch.
  void LinkModule(const std::string& a, const std::string& b) {
    s.Write("a.c", a);
    s.Write("b.c", b);
    s.Compile("a.c", "a.o", "-O2 -c");
    s.Compile("b.c", "b.o", "-O2 -c");
    if (std::system(("cd " + s.Path("") + " && ld -r a.o b.o -o mod.ko").c_str()) != 0)
      throw std::runtime_error("ld -r failed");
    src.object = "mod";
    src.module_file = s.Path("mod.ko");
  }
};

TEST(SymbolBinder, VmlinuxPolicy) {
  Sources t;
  t.src.object = "vmlinux";
  auto b = SymbolBinder::Load(t.src);
  ASSERT_TRUE(b.ok()) << b.error().message();
  // Exported: an ordinary reference the module loader resolves.
  auto r = b->Bind(ExternalReferent("seq_printf"));
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->klp);
  EXPECT_EQ(r->symbol, "seq_printf");
  // Unexported global and static data: livepatch symbols.
  EXPECT_EQ(b->Bind(ExternalReferent("unexported_helper"))->symbol, ".klp.sym.vmlinux.unexported_helper,0");
  EXPECT_EQ(b->Bind(Existing("counter", true, "fs/x.c"))->symbol, ".klp.sym.vmlinux.counter,0");
  // Two statics of one name: System.map cannot say which belongs to the file.
  auto dup = b->Bind(Existing("show_val", true, "fs/x.c"));
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message().find("defined 2 times in vmlinux"), std::string::npos) << dup.error().message();
  auto none = b->Bind(ExternalReferent("no_such_symbol"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("neither exported"), std::string::npos);
}

TEST(SymbolBinder, PerCpuVariablesBindAndAmbiguousStaticsNeedEvidence) {
  Sources t;
  t.src.object = "vmlinux";
  std::string filler;
  for (int i = 0; i < 1000; i++) filler += "ffffffff82000000 t filler_" + std::to_string(i) + "\n";
  // Per-CPU variables are listed as absolute ('A') and bind like any other;
  // a static vmlinux has twice is refused when nothing tells the copies apart.
  t.src.system_map = t.s.Write("kallsyms", filler +
                               "0000000000020090 A process_counts\n"
                               "ffffffff81050000 t helper.constprop.0\n"
                               "ffffffff81090000 T copy_process\n"
                               "ffffffff81090800 t helper.constprop.0\n"
                               "ffffffff81091000 T nr_processes\n");
  auto b = SymbolBinder::Load(t.src);
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_FALSE(b->Bind(Existing("helper.constprop.0", true, "fork.c")).ok());
  EXPECT_EQ(b->Bind(ExternalReferent("process_counts"))->symbol, ".klp.sym.vmlinux.process_counts,0");
}

// Objects compiled as the kernel's are for ftrace (-pg -mfentry
// -mrecord-mcount: a __fentry__ call and a __mcount_loc entry per function,
// none for notrace ones).
struct FtraceObjects {
  testing::Scratch s;
  std::unique_ptr<elf::ObjectFile> orig, fixed;
  Result<diff::PatchPlan> plan = Error("not run");
  FtraceObjects(const std::string& before, const std::string& after,
                const std::string& flags = "-O2 -c -ffunction-sections -fdata-sections -pg -mfentry -mrecord-mcount") {
    s.Write("f.c", before);
    s.Compile("f.c", "orig.o", flags);
    s.Write("f.c", after);
    s.Compile("f.c", "fixed.o", flags);
    orig = elf::ObjectFile::Open(s.Path("orig.o")).value();
    fixed = elf::ObjectFile::Open(s.Path("fixed.o")).value();
    plan = diff::MakePatchPlan({{orig.get(), fixed.get()}}, arch::HostArch());
  }
  Result<PatchObject> Write() {
    KernelSymbolSources src;
    src.object = "vmlinux";
    src.module_symvers = s.Write("Module.symvers", "0x1\t__fentry__\tvmlinux\tEXPORT_SYMBOL\t\n");
    std::string map;
    for (int i = 0; i < 1000; i++) map += "ffffffff82000000 t filler_" + std::to_string(i) + "\n";
    src.system_map = s.Write("kallsyms", map + "ffffffff81000000 T traced\nffffffff81000100 T untraced\n");
    GRAFT_ASSIGN(SymbolBinder b, SymbolBinder::Load(src));
    GRAFT_ASSIGN(TableLayouts layouts,
                 ParseTableLayouts("__ex_table 12 -1\n__bug_table 12 -1\n.altinstructions 12 11\n__jump_table 16 -1\n"));
    return WritePatchObject(*plan, b, layouts, s.Path("patch.o"));
  }
};

const char* kTraceBase = "int traced(int x) { return x + 1; }\n"
                         "__attribute__((no_instrument_function)) int untraced(int x) { return x * 3; }\n";

TEST(PatchObject, NotraceFunctionIsRefusedNamingIt) {
  std::string fixed = kTraceBase;
  fixed.replace(fixed.find("x * 3"), 5, "x * 5");
  FtraceObjects t(kTraceBase, fixed);
  ASSERT_TRUE(t.plan.ok()) << t.plan.error().message();
  auto po = t.Write();
  ASSERT_FALSE(po.ok());
  EXPECT_NE(po.error().message().find("function 'untraced' cannot be replaced"), std::string::npos)
      << po.error().message();
  EXPECT_NE(po.error().message().find("functions that call it"), std::string::npos) << po.error().message();
}

TEST(PatchObject, FileBuiltWithoutFtraceIsRefusedWhenKbuildSaysSo) {
  // kernel/trace/ and some of lib/ remove -pg/-mfentry: no function of the
  // file has an ftrace entry. An object kbuild compiled that way (its .cmd
  // line has -D__KERNEL__ but no -mfentry) is refused; an object without a
  // kbuild command line (compiled by hand, as here) is not judged.
  std::string fixed = kTraceBase;
  fixed.replace(fixed.find("x + 1"), 5, "x + 2");
  FtraceObjects t(kTraceBase, fixed, "-O2 -c -ffunction-sections -fdata-sections");
  ASSERT_TRUE(t.plan.ok()) << t.plan.error().message();
  ASSERT_TRUE(t.Write().ok());
  t.s.Write(".orig.o.cmd", "cmd_kernel/trace/fgraph.o := gcc-12 -Wp,-MMD -nostdinc -D__KERNEL__ -O2 -c -o orig.o f.c\n");
  auto po = t.Write();
  ASSERT_FALSE(po.ok());
  EXPECT_NE(po.error().message().find("its file is built without ftrace entries"), std::string::npos)
      << po.error().message();
}

TEST(PatchObject, TracedFunctionIsReplaced) {
  std::string fixed = kTraceBase;
  fixed.replace(fixed.find("x + 1"), 5, "x + 2");
  FtraceObjects t(kTraceBase, fixed);
  ASSERT_TRUE(t.plan.ok()) << t.plan.error().message();
  auto po = t.Write();
  ASSERT_TRUE(po.ok()) << po.error().message();
  ASSERT_EQ(po->functions.size(), 1u);
  EXPECT_EQ(po->functions[0].old_name, "traced");
}

TEST(SymbolBinder, RefusesPlaceholderMap) {
  Sources t;
  t.src.object = "vmlinux";
  t.src.system_map = t.s.Write("placeholder", "ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package\n");
  auto b = SymbolBinder::Load(t.src);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message().find("placeholder"), std::string::npos) << b.error().message();
}

TEST(SymbolBinder, ModulePositionsFromItsSymbolTable) {
  Sources t;
  // A module of two files, each with a static 'state' and 'helper'.
  t.LinkModule("static int state; static __attribute__((noinline)) int helper(void) { return state++; }\n"
               "int a_entry(void) { return helper(); }\n",
               "static int state; static __attribute__((noinline)) int helper(void) { return state--; }\n"
               "int b_entry(void) { return helper(); } int shared_fn(void) { return 1; } int __this_module;\n");
  auto b = SymbolBinder::Load(t.src);
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(b->Bind(Existing("state", true, "a.c"))->symbol, ".klp.sym.mod.state,1");
  EXPECT_EQ(b->Bind(Existing("state", true, "b.c"))->symbol, ".klp.sym.mod.state,2");
  EXPECT_EQ(*b->FunctionPosition("helper", "b.c"), 2);
  EXPECT_EQ(*b->FunctionPosition("a_entry", ""), 0);
  // Defined in another file of the module: resolved in the module, not as an export.
  EXPECT_EQ(b->Bind(ExternalReferent("shared_fn"))->symbol, ".klp.sym.mod.shared_fn,0");
  EXPECT_EQ(b->Bind(ExternalReferent("__this_module"))->symbol.rfind(".klp.sym.mod.__this_module", 0), 0u);
  EXPECT_EQ(b->Bind(ExternalReferent("nft_register_expr"))->symbol, "nft_register_expr");
}

TEST(SymbolBinder, ModuleInitSymbolsDoNotCount) {
  // kallsyms drops a module's .init symbols after init: a static of the same
  // name there does not make the running one ambiguous.
  Sources t;
  t.LinkModule("__attribute__((noinline, section(\".init.text\"))) static int setup(void) { return 1; }\n"
               "int a_init(void) { return setup(); }\n",
               "__attribute__((noinline)) static int setup(void) { return 2; }\n"
               "int b_entry(void) { return setup(); } int __this_module;\n");
  auto b = SymbolBinder::Load(t.src);
  ASSERT_TRUE(b.ok()) << b.error().message();
  EXPECT_EQ(*b->FunctionPosition("setup", "b.c"), 0);
}

TEST(KlpConvert, MovesRelocationsAndMarksSymbols) {
  testing::Scratch s;
  // References to a livepatch symbol (by its ELF name) and to an ordinary one.
  s.Write("p.s",
          ".section .text.get,\"ax\",@progbits\n.globl get\nget:\n"
          "  movl \".klp.sym.vmlinux.counter,0\"(%rip), %eax\n"
          "  addl plain_counter(%rip), %eax\n  ret\n");
  std::string obj = s.Compile("p.s", "p.o", "-c");
  auto conv = ConvertKlpRelocations(obj);
  ASSERT_TRUE(conv.ok()) << conv.error().message();
  EXPECT_EQ(conv->symbols, 1);
  EXPECT_EQ(conv->relocations, 1);
  EXPECT_EQ(conv->sections, 1);
  auto f = elf::ObjectFile::Open(obj);
  ASSERT_TRUE(f.ok()) << f.error().message();
  const elf::Section* klp = (*f)->section_named(".klp.rela.vmlinux..text.get");
  ASSERT_NE(klp, nullptr);
  EXPECT_EQ(klp->type, static_cast<uint32_t>(SHT_RELA));
  EXPECT_EQ(klp->flags & (SHF_ALLOC | 0x00100000), static_cast<uint64_t>(SHF_ALLOC | 0x00100000));
  EXPECT_EQ((*f)->sections()[klp->info].name, ".text.get");
  bool marked = false;
  for (const auto& sym : (*f)->symbols())
    if (sym.name == ".klp.sym.vmlinux.counter,0") marked = sym.shndx == 0xff20;
  EXPECT_TRUE(marked);
  // The ordinary reference stays where the module loader applies it (one
  // entry left), the other moved to the livepatch section (one entry).
  const elf::Section* rela = (*f)->section_named(".rela.text.get");
  ASSERT_NE(rela, nullptr);
  EXPECT_EQ(rela->size, sizeof(Elf64_Rela));
  EXPECT_EQ(klp->size, sizeof(Elf64_Rela));
}

TEST(KernelBuild, ModuleNames) {
  EXPECT_TRUE(ValidateModuleName("livepatch_cve_2024_1086").ok());
  EXPECT_FALSE(ValidateModuleName("Livepatch").ok());
  EXPECT_FALSE(ValidateModuleName("lp-1").ok());
  EXPECT_FALSE(ValidateModuleName(std::string(56, 'a')).ok());
}

}  // namespace
}  // namespace graft::kernel

namespace graft::kernel {
namespace {

// Run-pre against a module file built without -ffunction-sections: calls
// within its .text are resolved by the assembler, and must still land on the
// functions the original object names.
TEST(RunPre, ModuleBuiltWithoutFunctionSections) {
  testing::Scratch s;
  const char* src =
      "static int state;\n"
      "__attribute__((noinline)) static int helper(int x) { return x * 3 + state; }\n"
      "__attribute__((noinline)) static int other(int x) { return x - 1; }\n"
      "int entry(int x) {\n#ifdef FIXED\n  if (x < 0) return 0;\n#endif\n  return helper(x) + SHIFT; }\n"
      "int entry2(int x) { return other(x); }\n";
  s.Write("m.c", src);
  std::string orig = s.Compile("m.c", "orig.o", std::string(testing::kObjectFlags) + " -DSHIFT=1");
  std::string fixed = s.Compile("m.c", "fixed.o", std::string(testing::kObjectFlags) + " -DSHIFT=1 -DFIXED");
  std::string running = s.Compile("m.c", "running.ko", "-O2 -g -c -DSHIFT=1");
  std::string other = s.Compile("m.c", "other.ko", "-O2 -g -c -DSHIFT=2");
  auto o = elf::ObjectFile::Open(orig), f = elf::ObjectFile::Open(fixed);
  auto r = elf::ObjectFile::Open(running), x = elf::ObjectFile::Open(other);
  ASSERT_TRUE(o.ok() && f.ok() && r.ok() && x.ok());
  auto plan = diff::MakePatchPlan({{o->get(), f->get()}}, arch::HostArch());
  ASSERT_TRUE(plan.ok()) << plan.error().message();
  ASSERT_EQ(plan->replaced.size(), 1u);
  EXPECT_EQ(plan->replaced[0].name, "entry");
  Status same = VerifyAgainstModule(*plan, **r, arch::HostArch());
  EXPECT_TRUE(same.ok()) << same.error().message();
  Status differs = VerifyAgainstModule(*plan, **x, arch::HostArch());
  ASSERT_FALSE(differs.ok());
  EXPECT_NE(differs.error().message().find("run-pre: function 'entry'"), std::string::npos) << differs.error().message();
}

}  // namespace
}  // namespace graft::kernel

namespace graft::kernel {
namespace {

TEST(ModuleBuild, UndefinedSymbolsOtherThanLivepatchOnesAreRefused) {
  testing::Scratch s;
  std::string klp_only = s.Write("a.log",
                                 "WARNING: modpost: \".klp.sym.vmlinux.saved_command_line,0\" [/w/p.ko] undefined!\n"
                                 "Skipping BTF generation for /w/p.ko due to unavailability of vmlinux\n");
  EXPECT_TRUE(CheckModpostLog(klp_only, "6.1.0-57-amd64").ok());
  std::string missing = s.Write("b.log",
                                "WARNING: modpost: \".klp.sym.vmlinux.x,0\" [/w/p.ko] undefined!\n"
                                "WARNING: modpost: \"new_helper\" [/w/p.ko] undefined!\n");
  Status st = CheckModpostLog(missing, "6.1.0-57-amd64");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message().find("neither exports nor lists new_helper"), std::string::npos) << st.error().message();
}

TEST(SourceBuild, OverlayAndKbuildDirectory) {
  testing::Scratch s;
  std::filesystem::create_directories(s.Path("tree/fs/xfs/libxfs"));
  std::filesystem::create_directories(s.Path("tree/net/bridge"));
  s.Write("tree/Makefile", "VERSION = 6\nPATCHLEVEL = 1\nSUBLEVEL = 192\nEXTRAVERSION =\n");
  s.Write("tree/fs/xfs/Makefile", "obj-$(CONFIG_XFS_FS) += xfs.o\n");
  s.Write("tree/fs/xfs/libxfs/xfs_alloc.c", "x\n");
  s.Write("tree/fs/xfs/xfs_super.c", "x\n");
  s.Write("tree/net/bridge/br_private.h", "h\n");
  EXPECT_EQ(*TreeVersion(s.Path("tree")), "6.1.192");
  EXPECT_EQ(KbuildDirectory(s.Path("tree"), "fs/xfs/libxfs/xfs_alloc.c"), "fs/xfs");
  EXPECT_EQ(KbuildDirectory(s.Path("tree"), "fs/xfs/xfs_super.c"), "fs/xfs");
  ASSERT_TRUE(MakeOverlay(s.Path("tree"), s.Path("fixed"), {"fs/xfs/libxfs/xfs_alloc.c"}).ok());
  namespace fs = std::filesystem;
  // The changed file is a real copy; its directories are real; the rest links to the original.
  EXPECT_FALSE(fs::is_symlink(s.Path("fixed/fs/xfs/libxfs/xfs_alloc.c")));
  EXPECT_FALSE(fs::is_symlink(s.Path("fixed/fs/xfs/libxfs")));
  EXPECT_TRUE(fs::is_symlink(s.Path("fixed/fs/xfs/xfs_super.c")));
  EXPECT_TRUE(fs::is_symlink(s.Path("fixed/net")));
  EXPECT_TRUE(fs::exists(s.Path("fixed/fs/xfs/libxfs/../../../net/bridge/br_private.h")));
  s.Write("fixed/fs/xfs/libxfs/xfs_alloc.c", "fixed\n");
  std::ifstream orig(s.Path("tree/fs/xfs/libxfs/xfs_alloc.c"));
  std::string line;
  std::getline(orig, line);
  EXPECT_EQ(line, "x");  // the original tree is never written
}

}  // namespace
}  // namespace graft::kernel
