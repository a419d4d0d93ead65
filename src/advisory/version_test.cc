// Version ordering checked against the upstream projects' own test cases, kept
// as they are in ../shared/testdata/versions/ (rpm's rpmvercmp.at, APT's
// versions.lst).
#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <regex>

#include "advisory/version_deb.h"
#include "advisory/version_rpm.h"

namespace graft::advisory {
namespace {

const std::string kData = std::string(GRAFT_SOURCE_DIR) + "/../shared/testdata/versions/";
int Sign(int v) { return (v > 0) - (v < 0); }

TEST(RpmVerCmp, PassesRpmsOwnTestSuite) {
  std::ifstream in(kData + "rpmvercmp.at");
  ASSERT_TRUE(in) << "missing " << kData << "rpmvercmp.at";
  std::regex line(R"(^RPMVERCMP\(([^,]*), ([^,]*), (-?[01])\)\s*$)");
  std::string s;
  int cases = 0;
  while (std::getline(in, s)) {
    std::smatch m;
    if (!std::regex_match(s, m, line)) continue;
    cases++;
    int want = std::stoi(m[3]);
    EXPECT_EQ(RpmVerCmp(m[1].str(), m[2].str()), want) << s;
    EXPECT_EQ(RpmVerCmp(m[2].str(), m[1].str()), -want) << s << " (reversed)";
  }
  std::cout << "rpmvercmp.at: " << cases << " upstream cases checked\n";
  EXPECT_GE(cases, 90);
}

TEST(DebVersions, PassesAptsOwnTestSuite) {
  std::ifstream in(kData + "apt-versions.lst");
  ASSERT_TRUE(in) << "missing " << kData << "apt-versions.lst";
  std::string s;
  int cases = 0;
  while (std::getline(in, s)) {
    if (s.empty() || s[0] == '#') continue;
    std::istringstream f(s);
    std::string a, b;
    int want;
    if (!(f >> a >> b >> want)) continue;
    cases++;
    EXPECT_EQ(Sign(CompareDebVersions(a, b)), want) << s;
    EXPECT_EQ(Sign(CompareDebVersions(b, a)), -want) << s << " (reversed)";
  }
  std::cout << "apt-versions.lst: " << cases << " upstream cases checked\n";
  EXPECT_GE(cases, 60);
}

TEST(RpmEvr, EpochWinsAndMissingReleaseMatchesAny) {
  EXPECT_EQ(CompareRpmEvr(ParseEvr("1:1.0-1"), ParseEvr("2.0-1")), 1);
  EXPECT_EQ(CompareRpmEvr(ParseEvr("0:2.0-1"), ParseEvr("2.0-1")), 0);
  EXPECT_EQ(CompareRpmEvr(ParseEvr("2.0"), ParseEvr("2.0-5.el9")), 0);
  EXPECT_EQ(CompareRpmEvr(ParseEvr("4.14.336-257.562.amzn2"), ParseEvr("4.14.336-257.566.amzn2")), -1);
  Evr e = ParseEvr("3:1.2.3-4.fc40");
  EXPECT_EQ(e.epoch, "3");
  EXPECT_EQ(e.version, "1.2.3");
  EXPECT_EQ(e.release, "4.fc40");
}

TEST(DebVersions, ValidationNamesTheProblem) {
  EXPECT_TRUE(ValidateDebVersion("1:2.36-9+deb12u4").ok());
  EXPECT_TRUE(ValidateDebVersion("5.4.4-3+deb12u1").ok());
  auto r = ValidateDebVersion("a1.0");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("start with a digit"), std::string::npos);
  r = ValidateDebVersion("x:1.0");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("epoch"), std::string::npos);
  EXPECT_FALSE(ValidateDebVersion("").ok());
  EXPECT_FALSE(ValidateDebVersion("1.0 beta").ok());
}

}  // namespace
}  // namespace graft::advisory
