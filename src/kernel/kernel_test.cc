// Unit tests of the kernel back end's readers. The sysfs trees here copy the
// layout a Debian 12 kernel (6.1) showed in QEMU with a patch loaded; the
// real kernel is exercised by tests/e2e/kernel_livepatch.sh.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "base/testing.h"
#include "kernel/installed.h"
#include "kernel/live_state.h"
#include "kernel/loader.h"
#include "kernel/module_info.h"
#include "kernel/records.h"

namespace graft::kernel {
namespace {

namespace fs = std::filesystem;

void Put(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// .modinfo entries the way MODULE_INFO() emits them: NUL-terminated strings
// in a section of that name.
std::string ModinfoSource(const std::vector<std::string>& entries) {
  std::string src;
  int i = 0;
  for (const auto& e : entries)
    src += "static const char m" + std::to_string(i++) +
           "[] __attribute__((section(\".modinfo\"), used, aligned(1))) = \"" + e + "\";\n";
  return src + "int fixture_init(void) { return 0; }\n";
}

TEST(ModuleInfo, ReadsTagsAndCves) {
  testing::Scratch s;
  s.Write("lp.c", ModinfoSource({"cve=CVE-2024-1086, cve-2023-0001", "livepatch=Y", "license=GPL",
                                 "cve=CVE-2024-1086 CVE-2022-99999", "name=livepatch_fix",
                                 "vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions "}));
  auto m = ReadModuleInfo(s.Compile("lp.c", "lp.ko", "-c"));
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->name, "livepatch_fix");
  EXPECT_TRUE(m->livepatch);
  EXPECT_EQ(m->KernelRelease(), "6.1.0-56-amd64");
  EXPECT_EQ(m->cves, (std::vector<std::string>{"CVE-2024-1086", "CVE-2023-0001", "CVE-2022-99999"}));
  EXPECT_EQ(m->fields.size(), 6u);
}

TEST(ModuleInfo, NameFromFileWithoutNameTag) {
  testing::Scratch s;
  s.Write("lp.c", ModinfoSource({"vermagic=5.2.0 SMP "}));
  auto m = ReadModuleInfo(s.Compile("lp.c", "kpatch-fix-1.ko", "-c"));
  ASSERT_TRUE(m.ok()) << m.error().message();
  EXPECT_EQ(m->name, "kpatch_fix_1");
  EXPECT_FALSE(m->livepatch);
}

TEST(ModuleInfo, Errors) {
  testing::Scratch s;
  s.Write("plain.c", "int f(void) { return 1; }\n");
  auto none = ReadModuleInfo(s.Compile("plain.c", "plain.o", "-c"));
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message().find("no .modinfo section"), std::string::npos);
  s.Write("bad.c", ModinfoSource({"cve=CVE-2024-1086,GHSA-xxxx", "vermagic=6.1.0 "}));
  auto bad = ReadModuleInfo(s.Compile("bad.c", "bad.ko", "-c"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("'GHSA-xxxx' is not a CVE ID"), std::string::npos) << bad.error().message();
  s.Write("novm.c", ModinfoSource({"livepatch=Y"}));
  auto novm = ReadModuleInfo(s.Compile("novm.c", "novm.ko", "-c"));
  ASSERT_FALSE(novm.ok());
  EXPECT_NE(novm.error().message().find("no vermagic"), std::string::npos);
}

TEST(CveList, ParsesAndValidates) {
  auto ok = ParseCveList(" cve-2024-1086;CVE-2024-1086 ,CVE-2021-44228\n");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<std::string>{"CVE-2024-1086", "CVE-2021-44228"}));
  EXPECT_TRUE(ParseCveList("")->empty());
  EXPECT_FALSE(ParseCveList("CVE-24-1").ok());
  EXPECT_FALSE(ParseCveList("CVE-2024-12a4").ok());
}

// A tree like /sys and /proc of a 6.1 kernel with one patch switched and one
// in transition.
struct FakeKernel {
  testing::Scratch s;
  fs::path sys = s.Path("sys"), proc = s.Path("proc"), records = s.Path("records");
  FakeKernel() {
    Put(proc / "sys/kernel/osrelease", "6.1.0-56-amd64\n");
    Put(proc / "sys/kernel/tainted", "45056\n");  // O, E and K
    fs::path lp = sys / "kernel/livepatch";
    Put(lp / "fix_a/enabled", "1\n");
    Put(lp / "fix_a/transition", "0\n");
    Put(lp / "fix_a/vmlinux/patched", "1\n");
    fs::create_directories(lp / "fix_a/vmlinux/tcp_rcv_established,1");
    fs::create_directories(lp / "fix_a/vmlinux/do_thing,2");
    Put(lp / "fix_a/nf_tables/patched", "0\n");
    fs::create_directories(lp / "fix_a/nf_tables/nft_verdict_init,1");
    Put(sys / "module/fix_a/parameters/cves", "CVE-2024-1086\n");
    Put(lp / "fix_b/enabled", "1\n");
    Put(lp / "fix_b/transition", "1\n");
    Put(lp / "fix_b/vmlinux/patched", "1\n");
  }
};

TEST(KernelStatus, ReadsSysfs) {
  FakeKernel k;
  auto st = ReadKernelStatus(k.sys, k.proc, k.records);
  ASSERT_TRUE(st.ok()) << st.error().message();
  EXPECT_EQ(st->release, "6.1.0-56-amd64");
  EXPECT_TRUE(st->livepatch_supported);
  EXPECT_TRUE(st->tainted_livepatch);
  ASSERT_EQ(st->patches.size(), 2u);
  const KernelLivePatch& a = st->patches[0];
  EXPECT_EQ(a.name, "fix_a");
  EXPECT_EQ(a.State(), "active");
  ASSERT_EQ(a.objects.size(), 2u);
  EXPECT_EQ(a.objects[0].name, "nf_tables");
  EXPECT_FALSE(a.objects[0].patched);  // module not loaded: nothing to redirect yet
  EXPECT_EQ(a.objects[1].name, "vmlinux");
  ASSERT_EQ(a.objects[1].functions.size(), 2u);
  EXPECT_EQ(a.objects[1].functions[0].name, "do_thing");
  EXPECT_EQ(a.objects[1].functions[0].sympos, 2);
  EXPECT_EQ(a.cves, std::vector<std::string>{"CVE-2024-1086"});
  EXPECT_EQ(a.cves_from, "module parameter");
  EXPECT_FALSE(a.loaded_by_graft);
  EXPECT_EQ(st->patches[1].State(), "patching");
  EXPECT_TRUE(st->patches[1].cves.empty());
  EXPECT_EQ(st->patches[1].cves_from, "");
}

TEST(KernelStatus, RecordComesFirst) {
  FakeKernel k;
  ASSERT_TRUE(WriteRecord(k.records, {"fix_a", "/lib/fix_a.ko", "6.1.0-56-amd64 ", {"CVE-2024-0001"}, "2026-01-01T00:00:00Z"}).ok());
  auto st = ReadKernelStatus(k.sys, k.proc, k.records);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->patches[0].cves, std::vector<std::string>{"CVE-2024-0001"});
  EXPECT_EQ(st->patches[0].cves_from, "graft record");
  EXPECT_TRUE(st->patches[0].loaded_by_graft);
  EXPECT_EQ(st->patches[0].module_path, "/lib/fix_a.ko");
  RemoveRecord(k.records, "fix_a");
  EXPECT_FALSE(ReadRecord(k.records, "fix_a").has_value());
}

TEST(KernelStatus, NoLivepatchSupport) {
  testing::Scratch s;
  Put(s.Path("proc") + "/sys/kernel/osrelease", "6.18.0\n");
  Put(s.Path("proc") + "/sys/kernel/tainted", "0\n");
  auto st = ReadKernelStatus(s.Path("sys"), s.Path("proc"), "");
  ASSERT_TRUE(st.ok());
  EXPECT_FALSE(st->livepatch_supported);
  EXPECT_FALSE(st->tainted_livepatch);
  EXPECT_TRUE(st->patches.empty());
  EXPECT_FALSE(ReadKernelStatus(s.Path("sys"), s.Path("nothing"), "").ok());
}

TEST(Loader, WhyNotLoadable) {
  FakeKernel k;
  ModuleInfo m;
  m.path = "fix_c.ko";
  m.name = "fix_c";
  m.vermagic = "6.1.0-56-amd64 SMP preempt ";
  m.livepatch = true;
  EXPECT_EQ(WhyNotLoadable(m, "6.1.0-56-amd64", k.sys), "");
  EXPECT_NE(WhyNotLoadable(m, "6.1.0-57-amd64", k.sys).find("built for kernel 6.1.0-56-amd64, the running kernel is "
                                                            "6.1.0-57-amd64"), std::string::npos);
  EXPECT_NE(WhyNotLoadable(m, "6.1.0-56-amd64", k.s.Path("none")).find("no live patch support"), std::string::npos);
  m.name = "fix_a";
  EXPECT_NE(WhyNotLoadable(m, "6.1.0-56-amd64", k.sys).find("already loaded"), std::string::npos);
  m.livepatch = false;
  EXPECT_NE(WhyNotLoadable(m, "6.1.0-56-amd64", k.sys).find("not a kernel live patch"), std::string::npos);
}

TEST(Loader, RefusesBeforeTheKernelSeesIt) {
  // The host's kernel is not the fixture's: the release check stops the load
  // before any syscall, and nothing is recorded.
  testing::Scratch s;
  s.Write("lp.c", ModinfoSource({"livepatch=Y", "name=fix_z", "vermagic=0.0.0-graft-test SMP "}));
  LoadOptions opt;
  opt.records_dir = s.Path("records");
  opt.trust_store = s.Path("keys");
  std::string ko = s.Compile("lp.c", "lp.ko", "-c");
  // Unsigned: refused first, under the default policy.
  auto r = LoadLivePatch(ko, opt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("is not signed"), std::string::npos) << r.error().message();
  opt.allow_unsigned = true;
  r = LoadLivePatch(ko, opt);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("was built for kernel 0.0.0-graft-test"), std::string::npos) << r.error().message();
  EXPECT_FALSE(fs::exists(s.Path("records")));
}

}  // namespace
}  // namespace graft::kernel

namespace graft::kernel {
namespace {

TEST(Installed, PerReleaseDirectories) {
  testing::Scratch s;
  s.Write("a.c", ModinfoSource({"livepatch=Y", "name=fix_a", "cve=CVE-2024-0001", "vermagic=6.1.0-56-amd64 SMP "}));
  s.Write("b.c", ModinfoSource({"livepatch=Y", "name=fix_b", "vermagic=6.1.0-57-amd64 SMP "}));
  s.Write("c.c", ModinfoSource({"name=plain", "vermagic=6.1.0-56-amd64 SMP "}));
  std::string records = s.Path("records");
  LoadOptions unsigned_ok;
  unsigned_ok.allow_unsigned = true;
  unsigned_ok.trust_store = s.Path("keys");
  EXPECT_FALSE(InstallPatch(s.Compile("a.c", "a.ko", "-c"), records, LoadOptions{}).ok());  // unsigned
  auto a = InstallPatch(s.Compile("a.c", "a.ko", "-c"), records, unsigned_ok);
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(a->path, records + "/installed/6.1.0-56-amd64/fix_a.ko");
  ASSERT_TRUE(InstallPatch(s.Compile("b.c", "b.ko", "-c"), records, unsigned_ok).ok());
  EXPECT_FALSE(InstallPatch(s.Compile("c.c", "c.ko", "-c"), records, unsigned_ok).ok());
  auto listed = ListInstalled(records, "6.1.0-56-amd64");
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].name, "fix_a");
  EXPECT_EQ(listed[0].cves, std::vector<std::string>{"CVE-2024-0001"});
  FakeKernel k;  // 6.1.0-56-amd64, fix_a and fix_b loaded
  auto st = ReadKernelStatus(k.sys, k.proc, records);
  ASSERT_TRUE(st.ok());
  ASSERT_EQ(st->installed.size(), 1u);
  EXPECT_TRUE(st->installed[0].loaded);
  EXPECT_TRUE(UninstallPatch("fix_a", "6.1.0-56-amd64", records).ok());
  EXPECT_FALSE(UninstallPatch("fix_a", "6.1.0-56-amd64", records).ok());
  EXPECT_TRUE(ListInstalled(records, "6.1.0-56-amd64").empty());
}

}  // namespace
}  // namespace graft::kernel
