// The matching rules of graft scan on hand-made inventories: name + arch,
// the latest installed version, the running kernel for install-only
// packages, Debian source packages and releases, live patches, and the
// effective kernel and support window.
#include "scan/scanner.h"

#include <gtest/gtest.h>

#include "scan/support.h"

namespace graft::scan {
namespace {

using advisory::Advisory;

Advisory Adv(std::string id, std::string severity, std::vector<std::string> cves,
             std::vector<advisory::FixedPackage> pkgs, std::string issued = "2024-01-01 00:00:00") {
  Advisory a;
  a.id = std::move(id);
  a.severity = std::move(severity);
  a.cves = std::move(cves);
  a.packages = std::move(pkgs);
  a.issued = a.updated = std::move(issued);
  return a;
}

const CveFinding* Find(const ScanReport& r, const std::string& cve) {
  for (const auto& c : r.cves)
    if (c.cve == cve) return &c;
  return nullptr;
}

TEST(Scan, RpmNameArchLatestAndRunningKernel) {
  Inventory inv;
  inv.ecosystem = advisory::Ecosystem::kRpm;
  inv.kernel_release = "5.10.1-1.amzn2.x86_64";
  inv.packages = {
      {"openssl", "1:1.0.2k-20", "x86_64", "openssl", "1:1.0.2k-20"},
      {"openssl", "1:1.0.2k-30", "x86_64", "openssl", "1:1.0.2k-30"},  // latest installed counts
      {"zlib", "1.2.7-18", "i686", "zlib", "1.2.7-18"},                 // other arch only
      {"kernel", "5.10.1-1.amzn2", "x86_64", "kernel", "5.10.1-1.amzn2"},  // running
      {"kernel", "5.10.9-1.amzn2", "x86_64", "kernel", "5.10.9-1.amzn2"},  // installed, not booted
  };
  std::vector<Advisory> advs = {
      Adv("A-1", "important", {"CVE-1"}, {{"openssl", "x86_64", "1:1.0.2k-25", "rpm", ""}}),
      Adv("A-2", "critical", {"CVE-2"}, {{"openssl", "x86_64", "1:1.0.2k-31", "rpm", ""}}),
      Adv("A-3", "low", {"CVE-3"}, {{"zlib", "x86_64", "1.2.7-19", "rpm", ""}}),
      Adv("A-4", "important", {"CVE-4"}, {{"kernel", "x86_64", "5.10.5-1.amzn2", "rpm", ""}}),
      Adv("A-5", "moderate", {"CVE-5"}, {{"absent", "x86_64", "1-1", "rpm", ""}}),
      Adv("A-6", "moderate", {"CVE-6"}, {{"openssl", "x86_64", "1:1.0.2k-31", "Debian:12", ""}}),  // other ecosystem
  };
  ScanReport r = Scan(inv, advs, {});
  EXPECT_EQ(r.running_kernel_version, "5.10.1-1.amzn2");
  ASSERT_TRUE(Find(r, "CVE-1"));
  EXPECT_EQ(Find(r, "CVE-1")->status, CveStatus::kFixed);  // -30 >= -25
  EXPECT_EQ(Find(r, "CVE-2")->status, CveStatus::kMissing);
  EXPECT_EQ(Find(r, "CVE-2")->severity, "critical");
  EXPECT_EQ(Find(r, "CVE-3")->status, CveStatus::kNotApplicable);  // arch differs, as in dnf
  EXPECT_EQ(Find(r, "CVE-4")->status, CveStatus::kMissing);  // the booted kernel is older, -9 does not count
  EXPECT_EQ(Find(r, "CVE-5")->status, CveStatus::kNotApplicable);
  EXPECT_EQ(Find(r, "CVE-6"), nullptr);
  EXPECT_EQ(r.cves.front().cve, "CVE-2");  // missing and critical first

  ScanOptions opt;
  opt.live_patched = {{"CVE-4", "kpatch-cve-4", "kernel"}};
  opt.severities = {"important"};
  ScanReport lp = Scan(inv, advs, opt);
  ASSERT_TRUE(Find(lp, "CVE-4"));
  EXPECT_EQ(Find(lp, "CVE-4")->status, CveStatus::kFixedByLivePatch);
  EXPECT_EQ(Find(lp, "CVE-4")->live_patches, std::vector<std::string>{"kpatch-cve-4 (kernel)"});
  EXPECT_EQ(Find(lp, "CVE-2"), nullptr);  // filtered out by severity
}

TEST(Scan, DebianSourcePackagesAndReleases) {
  Inventory inv;
  inv.ecosystem = advisory::Ecosystem::kDeb;
  inv.release = "Debian:12";
  inv.kernel_release = "6.1.0-18-amd64";
  inv.packages = {
      {"liblua5.4-0", "5.4.4-3", "amd64", "lua5.4", "5.4.4-3"},
      {"libexpat1", "2.5.0-1+deb12u1", "amd64", "expat", "2.5.0-1+deb12u1"},
      {"linux-image-6.1.0-18-amd64", "6.1.76-1", "amd64", "linux-signed-amd64", "6.1.76+1"},
      {"linux-image-6.1.0-20-amd64", "6.1.85-1", "amd64", "linux-signed-amd64", "6.1.85+1"},
  };
  std::vector<Advisory> advs = {
      Adv("DSA-1", "", {"CVE-L1", "CVE-L2"}, {{"lua5.4", "", "5.4.4-3+deb12u1", "Debian:12", ""}}),
      Adv("DSA-2", "", {"CVE-E"}, {{"expat", "", "2.5.0-1+deb12u1", "Debian:12", ""}}),
      Adv("DSA-3", "", {"CVE-OLD"}, {{"lua5.4", "", "5.4.6-1", "Debian:13", ""}}),  // another release
      Adv("DSA-4", "", {"CVE-K1"}, {{"linux-signed-amd64", "", "6.1.80+1", "Debian:12", ""}}),
      Adv("DSA-5", "", {"CVE-K2"}, {{"linux-signed-amd64", "", "6.1.85+1", "Debian:12", ""}}),
  };
  ScanReport r = Scan(inv, advs, {});
  EXPECT_EQ(Find(r, "CVE-L1")->status, CveStatus::kMissing);
  EXPECT_EQ(Find(r, "CVE-E")->status, CveStatus::kFixed);
  EXPECT_EQ(Find(r, "CVE-OLD"), nullptr);
  EXPECT_EQ(r.running_kernel_version, "6.1.76+1");
  EXPECT_EQ(Find(r, "CVE-K1")->status, CveStatus::kMissing);  // running kernel, not the newer installed one

  // Effective kernel: K1's release (6.1.80+1) is covered by a live patch, K2's is not.
  ScanOptions opt;
  opt.live_patched = {{"CVE-K1", "lp-1", "kernel"}};
  EffectiveKernel ek = ComputeEffectiveKernel(inv, advs, opt);
  EXPECT_EQ(ek.running, "6.1.76+1");
  EXPECT_EQ(ek.effective, "6.1.80+1");
  EXPECT_EQ(ek.blocking, std::vector<std::string>{"CVE-K2"});
  opt.live_patched.push_back({"CVE-K2", "lp-2", "kernel"});
  EXPECT_EQ(ComputeEffectiveKernel(inv, advs, opt).effective, "6.1.85+1");
  EXPECT_EQ(ComputeEffectiveKernel(inv, advs, {}).effective, "6.1.76+1");
}

TEST(Support, WindowAndLatestKernels) {
  Inventory inv;
  inv.ecosystem = advisory::Ecosystem::kRpm;
  inv.kernel_release = "5.10.1-1.x86_64";
  inv.packages = {{"kernel", "5.10.1-1", "x86_64", "kernel", "5.10.1-1"}};
  std::vector<Advisory> advs = {
      Adv("K-1", "important", {"CVE-1"}, {{"kernel", "x86_64", "5.10.1-1", "rpm", ""}}, "2024-01-10 00:00:00"),
      Adv("K-2", "important", {"CVE-2"}, {{"kernel", "x86_64", "5.10.2-1", "rpm", ""}}, "2024-02-10 00:00:00"),
      Adv("LP-1", "important", {"CVE-2"}, {{"kernel-livepatch-5.10.1-1", "x86_64", "1.0-1", "rpm", ""}},
          "2024-02-11 00:00:00"),
  };
  auto at = [](const char* d) {
    struct tm tm = {};
    strptime(d, "%Y-%m-%d", &tm);
    return timegm(&tm);
  };
  SupportStatus in = CheckSupport(inv, advs, {3, 6}, at("2024-03-01"));
  EXPECT_TRUE(in.known);
  EXPECT_TRUE(in.supported) << in.reason;
  EXPECT_EQ(in.released, "2024-01-10");
  EXPECT_EQ(in.until, "2024-04-10");
  EXPECT_EQ(in.newer_releases, 1);
  EXPECT_EQ(in.livepatch_advisories, 1);
  SupportStatus out = CheckSupport(inv, advs, {3, 6}, at("2024-05-01"));
  EXPECT_FALSE(out.supported);
  EXPECT_NE(out.reason.find("stopped on 2024-04-10"), std::string::npos);
  EXPECT_TRUE(CheckSupport(inv, advs, {12, 6}, at("2024-05-01")).supported);  // a longer window
  EXPECT_FALSE(CheckSupport(inv, advs, {12, 1}, at("2024-05-01")).supported);  // only the newest kernel
  inv.packages[0].version = "5.10.0-1";
  inv.kernel_release = "5.10.0-1.x86_64";
  SupportStatus unknown = CheckSupport(inv, advs, {3, 6}, at("2024-03-01"));
  EXPECT_FALSE(unknown.known);
  EXPECT_NE(unknown.reason.find("no advisory names kernel 5.10.0-1"), std::string::npos);
}

}  // namespace
}  // namespace graft::scan
