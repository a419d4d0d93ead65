#include <gtest/gtest.h>

#include "advisory/updateinfo.h"
#include "base/testing.h"
#include "elf/object_file.h"
#include "repo/index.h"
#include "repo/subscriptions.h"
#include "repo/update.h"

namespace graft::repo {
namespace {

Entry Bundle(const std::string& id) {
  Entry e;
  e.id = id;
  e.kind = "bundle";
  e.file = "bundles/" + id + ".graft";
  e.sha256 = std::string(64, 'a');
  e.target_build_id = "0123abcd";
  e.target_name = "svc";
  e.published = "2026-12-01T10:00:00Z";
  return e;
}

std::string WithEntry(const std::string& field, const std::string& value) {
  Index index;
  index.sequence = 7;
  index.channels["stable"].push_back(Bundle("fix"));
  std::string text = SerializeIndex(index);
  std::string key = "\"" + field + "\": ";
  auto at = text.find(key);
  auto end = text.find_first_of(",\n", at + key.size());
  return text.substr(0, at + key.size()) + value + text.substr(end);
}

TEST(RepoIndex, RoundTrips) {
  Index index;
  index.sequence = 42;
  index.channels["stable"].push_back(Bundle("fix"));
  Entry k;
  k.id = "lp_fix";
  k.kind = "kernel";
  k.file = "kernel/lp_fix.ko";
  k.sha256 = std::string(64, 'b');
  k.kernel_release = "6.1.0-57-amd64";
  k.cumulative = true;
  k.cves = {"CVE-2099-1"};
  k.published = "2026-12-01T11:00:00Z";
  index.channels["testing"].push_back(k);
  index.kernel_policy["6.1.0-57-amd64"] = {"2026-11-01", "2027-02-01", "move to 6.1.0-58"};
  auto back = ParseIndex(SerializeIndex(index), "t");
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->sequence, 42);
  ASSERT_EQ(back->channels["testing"].size(), 1u);
  EXPECT_TRUE(back->channels["testing"][0].cumulative);
  EXPECT_EQ(back->channels["testing"][0].cves, std::vector<std::string>{"CVE-2099-1"});
  EXPECT_EQ(back->kernel_policy["6.1.0-57-amd64"].until, "2027-02-01");
}

// Ids and paths come from a remote index and become local paths: nothing
// may leave the repository or the state directory.
TEST(RepoIndex, RefusesPathsOutsideTheRepository) {
  for (const char* file : {"\"../etc/passwd\"", "\"/etc/passwd\"", "\"bundles/../../x.graft\"", "\"kernel/x.graft\"",
                           "\"bundles/.hidden.graft\""}) {
    auto r = ParseIndex(WithEntry("file", file), "t");
    EXPECT_FALSE(r.ok()) << file;
  }
  EXPECT_FALSE(ParseIndex(WithEntry("id", "\"../fix\""), "t").ok());
  EXPECT_FALSE(ParseIndex(WithEntry("sha256", "\"abc\""), "t").ok());
  EXPECT_FALSE(ParseIndex(WithEntry("published", "\"yesterday\""), "t").ok());
  EXPECT_FALSE(ParseIndex(WithEntry("kind", "\"script\""), "t").ok());
  EXPECT_TRUE(ParseIndex(WithEntry("id", "\"fix\""), "t").ok());
}

TEST(RepoIndex, RefusesWhatIsNotAnIndex) {
  auto r = ParseIndex("{\"format\": \"other\"}", "x/index.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("x/index.json is not a graft repository index"), std::string::npos);
  EXPECT_FALSE(ParseIndex("not json", "t").ok());
}

TEST(RepoIndex, KeepsItsExpiry) {
  Index index;
  index.sequence = 3;
  index.expires = "2027-01-01T00:00:00Z";
  auto back = ParseIndex(SerializeIndex(index), "t");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->expires, "2027-01-01T00:00:00Z");
  index.expires = "soon";
  EXPECT_FALSE(ParseIndex(SerializeIndex(index), "t").ok());
}

TEST(RepoTime, ParsesIsoAndDates) {
  EXPECT_EQ(ParseTime("1970-01-02T00:00:00Z"), 86400);
  EXPECT_EQ(ParseTime("1970-01-02"), 86400);
  EXPECT_EQ(ParseTime("1970-01-02T00:00:00"), -1);
  EXPECT_EQ(Iso8601(86400), "1970-01-02T00:00:00Z");
}

TEST(RepoSubscriptions, AddListRemove) {
  testing::Scratch s;
  std::string state = s.Path("state");
  ASSERT_TRUE(AddSubscription(state, {"vendor", "http://127.0.0.1:8080/", "stable", 24, ""}).ok());
  EXPECT_FALSE(AddSubscription(state, {"vendor", "http://x", "stable", 0, ""}).ok());  // same name
  EXPECT_FALSE(AddSubscription(state, {"ftp", "ftp://x", "stable", 0, ""}).ok());      // scheme
  EXPECT_FALSE(AddSubscription(state, {"../x", "http://x", "stable", 0, ""}).ok());    // name
  auto subs = ReadSubscriptions(state);
  ASSERT_TRUE(subs.ok());
  ASSERT_EQ(subs->size(), 1u);
  EXPECT_EQ((*subs)[0].url, "http://127.0.0.1:8080");
  EXPECT_EQ((*subs)[0].delay_hours, 24);
  EXPECT_TRUE(RemoveSubscription(state, "vendor").ok());
  EXPECT_FALSE(RemoveSubscription(state, "vendor").ok());
}

TEST(RepoSupport, FromTheChannelsPolicy) {
  testing::Scratch s;
  std::string state = s.Path("state");
  ASSERT_TRUE(AddSubscription(state, {"vendor", "/srv/repo", "stable", 0, ""}).ok());
  EXPECT_FALSE(SupportFromChannels(state, "6.1.0-57-amd64", 0).known);  // never fetched
  Index index;
  index.kernel_policy["6.1.0-57-amd64"] = {"", "2027-02-01", ""};
  index.kernel_policy["6.1.0-58-amd64"] = {"", "2027-05-01", ""};
  std::filesystem::create_directories(ChannelDir(state, "vendor"));
  s.Write("state/channels/vendor/index.json", SerializeIndex(index));
  auto in = SupportFromChannels(state, "6.1.0-57-amd64", ParseTime("2027-01-31"));
  EXPECT_TRUE(in.known && in.supported) << in.reason;
  EXPECT_EQ(in.until, "2027-02-01");
  auto out = SupportFromChannels(state, "6.1.0-57-amd64", ParseTime("2027-02-02"));
  EXPECT_TRUE(out.known && !out.supported) << out.reason;
  auto other = SupportFromChannels(state, "5.10.0-1-amd64", ParseTime("2027-01-01"));
  EXPECT_TRUE(other.known && !other.supported);
  EXPECT_NE(other.reason.find("does not serve kernel 5.10.0-1-amd64; it serves 6.1.0-57-amd64, 6.1.0-58-amd64"),
            std::string::npos)
      << other.reason;
}

// A bundle for a program that is installed but not running is still worth
// installing: graftd applies it when the program starts.
TEST(RepoUpdate, FindsInstalledFilesByBuildId) {
  testing::Scratch s;
  s.Write("p.c", "int main(void) { return 0; }\n");
  s.Compile("p.c", "prog", "-Wl,--build-id");
  auto obj = elf::ObjectFile::Open(s.Path("prog"));
  ASSERT_TRUE(obj.ok());
  std::string id = (*obj)->build_id();
  ASSERT_FALSE(id.empty());
  std::vector<std::string> dirs = {s.Path("nowhere"), s.Path("")};
  EXPECT_TRUE(InstalledFileHasBuildId("prog", id, dirs));
  EXPECT_FALSE(InstalledFileHasBuildId("prog", "00" + id.substr(2), dirs));
  EXPECT_FALSE(InstalledFileHasBuildId("other", id, dirs));
  EXPECT_FALSE(InstalledFileHasBuildId("../" + std::filesystem::path(s.Path("")).parent_path().filename().string() + "/prog",
                                       id, dirs));
}

TEST(Updateinfo, WhatIsRenderedReadsBack) {
  advisory::Advisory a;
  a.id = "GRAFT-fix";
  a.severity = "important";
  a.title = "Live patch fix for svc <&>";
  a.issued = a.updated = "2026-12-01 10:00:00";
  a.cves = {"CVE-2099-1", "CVE-2099-2"};
  a.packages.push_back({"kernel-livepatch-6.1.0-57-amd64", "x86_64", "1:20261201-lp_fix", "rpm", "kernel/lp_fix.ko"});
  auto back = advisory::ParseUpdateinfo(advisory::RenderUpdateinfo({a}), "t");
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_EQ(back->advisories.size(), 1u);
  const auto& b = back->advisories[0];
  EXPECT_EQ(b.id, a.id);
  EXPECT_EQ(b.title, a.title);
  EXPECT_EQ(b.severity, "important");
  EXPECT_EQ(b.cves, a.cves);
  EXPECT_EQ(b.issued, a.issued);
  ASSERT_EQ(b.packages.size(), 1u);
  EXPECT_EQ(b.packages[0].version, "1:20261201-lp_fix");
  EXPECT_EQ(b.packages[0].filename, "kernel/lp_fix.ko");
}

}  // namespace
}  // namespace graft::repo
