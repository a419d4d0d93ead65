// CVSS v3.0/v3.1 against every vector of the Red Hat cvss project's test
// files in ../shared/testdata/cvss/, with exact expected scores.
#include "advisory/cvss3.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <regex>

namespace graft::advisory {
namespace {

const std::string kData = std::string(GRAFT_SOURCE_DIR) + "/../shared/testdata/cvss/";

void CheckFile(const std::string& name) {
  std::ifstream in(kData + name);
  ASSERT_TRUE(in) << "missing " << kData << name;
  std::regex line(R"(^(\S+) - \(([0-9.]+), ([0-9.]+), ([0-9.]+)\)\s*$)");
  std::string s;
  int cases = 0, wrong = 0;
  while (std::getline(in, s)) {
    std::smatch m;
    if (!std::regex_match(s, m, line)) continue;
    cases++;
    auto r = ScoreCvss3(m[1].str());
    ASSERT_TRUE(r.ok()) << s << ": " << r.error().message();
    char got[64];
    snprintf(got, sizeof got, "%.1f %.1f %.1f", r->base, r->temporal, r->environmental);
    std::string want = m[2].str() + " " + m[3].str() + " " + m[4].str();
    if (got != want && ++wrong <= 10) ADD_FAILURE() << s << ": got (" << got << ")";
  }
  std::cout << name << ": " << cases << " vectors, " << cases - wrong << " exact\n";
  EXPECT_GT(cases, 0) << name << " loaded no vectors";
  EXPECT_EQ(wrong, 0) << name;
}

TEST(Cvss3, SimpleV30) { CheckFile("vectors_simple3"); }
TEST(Cvss3, SimpleV31) { CheckFile("vectors_simple31"); }
TEST(Cvss3, Calculator) { CheckFile("vectors_calculator3"); }
TEST(Cvss3, Cvsslib) { CheckFile("vectors_cvsslib3"); }

TEST(Cvss3, ErrorsNameTheMetric) {
  auto msg = [](std::string_view v) {
    auto r = ScoreCvss3(v);
    return r.ok() ? std::string("ok") : r.error().message();
  };
  EXPECT_EQ(msg("CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), "bad value 'Q' for metric AV");
  EXPECT_EQ(msg("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H"), "missing mandatory metric A");
  EXPECT_EQ(msg("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), "duplicate metric AV");
  EXPECT_EQ(msg("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/XX:Y"), "unknown metric 'XX'");
  EXPECT_NE(msg("CVSS:3.7/AV:N").find("bad prefix"), std::string::npos);
  EXPECT_EQ(Cvss3Severity(9.8), "Critical");
  EXPECT_EQ(Cvss3Severity(0), "None");
}

}  // namespace
}  // namespace graft::advisory
