// updateinfo.xml samples of createrepo_c (plain, empty, xz, mangled), OSV
// records in Debian's and AlmaLinux's shapes, the SQLite store round trip,
// and the RSS / OSV feeds read back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <pugixml.hpp>

#include "advisory/feeds.h"
#include "advisory/osv.h"
#include "advisory/scan_snapshot.h"
#include "advisory/store.h"
#include "advisory/updateinfo.h"

namespace graft::advisory {
namespace {

const std::string kData = std::string(GRAFT_SOURCE_DIR) + "/../shared/testdata/updateinfo/";

TEST(Updateinfo, ReadsEverySample) {
  auto empty = ParseUpdateinfoFile(kData + "updateinfo_00.xml");
  ASSERT_TRUE(empty.ok()) << empty.error().message();
  EXPECT_TRUE(empty->advisories.empty());

  auto full = ParseUpdateinfoFile(kData + "updateinfo_01.xml");
  ASSERT_TRUE(full.ok()) << full.error().message();
  ASSERT_EQ(full->advisories.size(), 1u);
  const Advisory& a = full->advisories[0];
  EXPECT_EQ(a.id, "foobarupdate_1");
  EXPECT_EQ(a.type, "enhancement");
  EXPECT_EQ(a.title, "title_1");
  EXPECT_EQ(a.issued, "2012-12-12 00:00:00");
  ASSERT_EQ(a.packages.size(), 1u);
  EXPECT_EQ(a.packages[0].name, "bar");
  EXPECT_EQ(a.packages[0].version, "2.0.1-3");  // epoch 0 is left out
  EXPECT_EQ(a.packages[0].arch, "noarch");
  EXPECT_EQ(a.packages[0].filename, "bar-2.0.1-3.noarch.rpm");
  ASSERT_EQ(a.references.size(), 1u);
  EXPECT_EQ(a.references[0].href, "https://foobar/foobarupdate_1");

  // xz-compressed, with an <update> that has no id: skipped with a warning.
  auto xz = ParseUpdateinfoFile(kData + "updateinfo_02.xml.xz");
  ASSERT_TRUE(xz.ok()) << xz.error().message();
  EXPECT_TRUE(xz->advisories.empty());
  ASSERT_EQ(xz->warnings.size(), 1u);
  EXPECT_NE(xz->warnings[0].find("has no <id>"), std::string::npos);

  auto many = ParseUpdateinfoFile(kData + "updateinfo_03.xml");
  ASSERT_TRUE(many.ok()) << many.error().message();
  ASSERT_EQ(many->advisories.size(), 6u);
  EXPECT_EQ(many->advisories[1].id, "RHEA-2012:0056");
  EXPECT_EQ(many->advisories[1].packages.size(), 3u);
  EXPECT_EQ(many->advisories[5].issued, "2019-04-16 15:41:24");  // epoch seconds
  bool mangled_warned = false;
  for (const auto& w : many->warnings) mangled_warned |= w.find("'15mangled2' is not a date") != std::string::npos;
  EXPECT_TRUE(mangled_warned);
}

TEST(Updateinfo, GzipIsRecognisedByContent) {
  std::string gz = "/tmp/graft-updateinfo-test." + std::to_string(getpid()) + ".xml";  // no .gz suffix on purpose
  ASSERT_EQ(system(("gzip -c " + kData + "updateinfo_03.xml > " + gz).c_str()), 0);
  auto r = ParseUpdateinfoFile(gz);
  std::filesystem::remove(gz);
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_EQ(r->advisories.size(), 6u);
  std::string cut = gz + ".trunc";
  ASSERT_EQ(system(("gzip -c " + kData + "updateinfo_03.xml | head -c 200 > " + cut).c_str()), 0);
  auto t = ParseUpdateinfoFile(cut);
  std::filesystem::remove(cut);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message().find("gzip data is truncated"), std::string::npos) << t.error().message();
}

TEST(Updateinfo, CvesSeverityAndErrors) {
  auto r = ParseUpdateinfo(R"(<updates><update type="security"><id>ALAS2-2023-2001</id>
    <severity>Important</severity><issued date="2023-03-01 10:00"/>
    <references><reference type="cve" id="CVE-2023-0001" href="x"/><reference type="cve" id="CVE-2023-0002"/></references>
    <pkglist><collection><package name="kernel" epoch="0" version="5.10.1" release="2.amzn2" arch="x86_64"/>
    <package name="openssl" epoch="1" version="1.0.2k" release="24.amzn2" arch="x86_64"/></collection></pkglist>
    </update></updates>)",
                           "inline");
  ASSERT_TRUE(r.ok()) << r.error().message();
  const Advisory& a = r->advisories.at(0);
  EXPECT_EQ(a.severity, "important");
  EXPECT_EQ(a.cves, (std::vector<std::string>{"CVE-2023-0001", "CVE-2023-0002"}));
  EXPECT_EQ(a.packages[1].version, "1:1.0.2k-24.amzn2");
  EXPECT_EQ(a.issued, "2023-03-01 10:00:00");

  auto bad = ParseUpdateinfo("<updates><update>", "broken.xml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("broken.xml: not valid XML"), std::string::npos);
  auto wrong = ParseUpdateinfo("<repomd/>", "repomd.xml");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message().find("not an updateinfo.xml"), std::string::npos);
}

// Shaped like Debian's DSA records in OSV (source package, Debian:12).
constexpr char kDebianOsv[] = R"({
  "id": "DSA-5000-1", "published": "2022-07-01T10:00:00Z", "modified": "2022-07-02T11:00:00Z",
  "summary": "lua5.4 - security update", "details": "Heap overflow in the parser.",
  "aliases": ["CVE-2022-28805", "CVE-2022-33099"], "related": ["CVE-2021-0000"],
  "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:H"}],
  "affected": [{"package": {"ecosystem": "Debian:12", "name": "lua5.4"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "5.4.4-3+deb12u1"}]}]}],
  "references": [{"type": "ADVISORY", "url": "https://security-tracker.debian.org/tracker/DSA-5000-1"}]
})";

// Shaped like AlmaLinux's ALSA records: rpm EVR with an epoch, a v4 and a v3 vector.
constexpr char kAlmaOsv[] = R"([{
  "id": "ALSA-2024:0001", "published": "2024-01-02T00:00:00Z", "modified": "2024-01-03T00:00:00Z",
  "upstream": ["CVE-2024-1111"], "summary": "Important: openssl security update",
  "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"},
               {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:L/I:N/A:N"}],
  "affected": [{"package": {"ecosystem": "AlmaLinux:9", "name": "openssl"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:3.0.7-25.el9_3"}]}]}]
}])";

TEST(Osv, DebianAndAlmaLinuxRecords) {
  auto deb = ParseOsv(kDebianOsv, "dsa.json");
  ASSERT_TRUE(deb.ok()) << deb.error().message();
  const Advisory& d = deb->advisories.at(0);
  EXPECT_EQ(d.cves, (std::vector<std::string>{"CVE-2022-28805", "CVE-2022-33099"}));  // not "related"
  EXPECT_EQ(d.issued, "2022-07-01 10:00:00");
  EXPECT_DOUBLE_EQ(d.cvss_score, 9.1);
  EXPECT_EQ(d.severity, "critical");  // from the score, the record has no rating
  ASSERT_EQ(d.packages.size(), 1u);
  EXPECT_EQ(d.packages[0].ecosystem, "Debian:12");
  EXPECT_EQ(EcosystemOf(d.packages[0]), Ecosystem::kDeb);

  auto alma = ParseOsv(kAlmaOsv, "alsa.json");
  ASSERT_TRUE(alma.ok()) << alma.error().message();
  const Advisory& a = alma->advisories.at(0);
  EXPECT_EQ(a.cves, std::vector<std::string>{"CVE-2024-1111"});
  EXPECT_EQ(a.cvss_vector.rfind("CVSS:4.0/", 0), 0u);  // v4 preferred over v3
  EXPECT_DOUBLE_EQ(a.cvss_score, 9.3);
  EXPECT_EQ(a.packages.at(0).version, "1:3.0.7-25.el9_3");
  EXPECT_EQ(EcosystemOf(a.packages[0]), Ecosystem::kRpm);

  auto bad = ParseOsv(R"({"id": "X-1", "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:Q"}]})", "bad.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message().find("bad value 'Q' for metric AV"), std::string::npos);
  EXPECT_FALSE(ParseOsv("{", "trunc.json").ok());
}

TEST(ScanSnapshot, PacksAndUnpacksWantedAdvisoriesOnly) {
  Advisory a;
  a.id = "A-1", a.type = "security", a.severity = "important", a.cvss_vector = "CVSS:3.1/AV:N", a.cvss_score = 7.5;
  a.cves = {"CVE-2024-1", "CVE-2024-2"};
  a.packages = {{"zlib", "x86_64", "1.2.13-2", "rpm", "zlib-1.2.13-2.x86_64.rpm"}};
  Advisory b = a;
  b.id = "B-2", b.packages = {{"expat", "", "2.5.0-1+deb12u2", "Debian:12", ""}};
  std::string blob = PackScanSnapshot({a, b});
  auto got = UnpackScanSnapshot(blob, {"expat", "other"});
  ASSERT_TRUE(got.ok()) << got.error().message();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->at(0).id, "B-2");
  EXPECT_EQ(got->at(0).cves, a.cves);
  EXPECT_EQ(got->at(0).packages.at(0).ecosystem, "Debian:12");
  EXPECT_DOUBLE_EQ(got->at(0).cvss_score, 7.5);
  EXPECT_EQ(UnpackScanSnapshot(blob, {"zlib", "expat"})->size(), 2u);
  auto cut = UnpackScanSnapshot(std::string_view(blob).substr(0, blob.size() - 3), {"expat"});
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().message().find("scan snapshot"), std::string::npos);
  EXPECT_FALSE(UnpackScanSnapshot("not a snapshot", {"expat"}).ok());
}

TEST(Store, RoundTripFiltersAndFeeds) {
  std::string dir = "/tmp/graft-store-test." + std::to_string(getpid());
  auto store = AdvisoryStore::Open(dir + "/a.db", true);
  ASSERT_TRUE(store.ok()) << store.error().message();
  auto deb = ParseOsv(kDebianOsv, "dsa.json");
  auto alma = ParseOsv(kAlmaOsv, "alsa.json");
  auto full = ParseUpdateinfoFile(kData + "updateinfo_03.xml");
  ASSERT_TRUE(deb.ok() && alma.ok() && full.ok());
  std::vector<Advisory> all = deb->advisories;
  all.insert(all.end(), alma->advisories.begin(), alma->advisories.end());
  all.insert(all.end(), full->advisories.begin(), full->advisories.end());
  auto added = (*store)->Import(all);
  ASSERT_TRUE(added.ok()) << added.error().message();
  EXPECT_EQ(*added, 8);
  auto again = (*store)->Import(deb->advisories);  // replaces, adds nothing
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  EXPECT_EQ(*(*store)->Count(), 8);

  auto got = (*store)->Get("DSA-5000-1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->cves, deb->advisories[0].cves);
  EXPECT_EQ((*got)->packages.at(0).version, "5.4.4-3+deb12u1");
  EXPECT_EQ((*got)->cvss_vector, deb->advisories[0].cvss_vector);

  AdvisoryFilter f;
  f.cve = "CVE-2024-1111";
  EXPECT_EQ((*store)->List(f)->size(), 1u);
  f = {};
  f.type = "security";
  f.severities = {"critical"};
  auto crit = (*store)->List(f);
  ASSERT_TRUE(crit.ok());
  EXPECT_EQ(crit->size(), 2u);  // DSA (9.1) and ALSA (9.3)
  auto by_pkg = (*store)->ForPackages({"duck", "nothing"});
  ASSERT_TRUE(by_pkg.ok());
  EXPECT_EQ(by_pkg->size(), 3u);  // 0056, 0059, 0060 fix duck
  // ForPackages reads the packed snapshot Import wrote: the same fields as the
  // tables, for the advisories naming a wanted package only.
  auto lua = (*store)->ForPackages({"lua5.4"});
  ASSERT_TRUE(lua.ok() && lua->size() == 1u);
  EXPECT_EQ(lua->at(0).id, "DSA-5000-1");
  EXPECT_EQ(lua->at(0).cves, deb->advisories[0].cves);
  EXPECT_EQ(lua->at(0).packages.at(0).version, "5.4.4-3+deb12u1");
  EXPECT_EQ(lua->at(0).packages.at(0).ecosystem, deb->advisories[0].packages.at(0).ecosystem);
  EXPECT_EQ(lua->at(0).cvss_vector, deb->advisories[0].cvss_vector);
  EXPECT_DOUBLE_EQ(lua->at(0).cvss_score, deb->advisories[0].cvss_score);
  EXPECT_EQ(lua->at(0).severity, deb->advisories[0].severity);

  // RSS: one item per advisory, parseable, with pubDate in RFC 822.
  auto everything = (*store)->List({});
  std::string rss = RenderRss(*everything, FeedInfo{});
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(rss.c_str()));
  auto items = doc.child("rss").child("channel").children("item");
  EXPECT_EQ(std::distance(items.begin(), items.end()), 8);
  EXPECT_EQ(Rfc822Date("2022-07-01 10:00:00"), "Fri, 01 Jul 2022 10:00:00 GMT");

  // OSV out and back in keeps ids, CVEs, fixed versions and the vector.
  for (const Advisory& a : *everything) {
    auto back = ParseOsv(ToOsv(a, "AlmaLinux:9").dump(), "roundtrip");
    ASSERT_TRUE(back.ok()) << back.error().message();
    const Advisory& b = back->advisories.at(0);
    EXPECT_EQ(b.id, a.id);
    EXPECT_EQ(b.packages.size(), a.packages.size()) << a.id;
    if (!a.packages.empty()) {
      EXPECT_EQ(b.packages[0].version, a.packages[0].version);
    }
    EXPECT_EQ(b.cvss_vector, a.cvss_vector);
    EXPECT_EQ(b.type, a.type);
  }
  store->reset();
  std::filesystem::remove_all(dir);

  auto missing = AdvisoryStore::Open("/nonexistent/graft/a.db", false);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message().find("graft advisories import"), std::string::npos);
}

}  // namespace
}  // namespace graft::advisory
