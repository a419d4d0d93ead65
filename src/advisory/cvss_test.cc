// CVSS v2 and v4.0 against every vector of the Red Hat cvss project's test
// files in ../shared/testdata/cvss/, with exact expected scores, and the
// version dispatch of ScoreCvss.
#include "advisory/cvss.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <regex>

#include "advisory/cvss2.h"
#include "advisory/cvss4.h"

namespace graft::advisory {
namespace {

const std::string kData = std::string(GRAFT_SOURCE_DIR) + "/../shared/testdata/cvss/";

std::vector<std::string> Lines(const std::string& name) {
  std::ifstream in(kData + name);
  EXPECT_TRUE(in) << "missing " << kData << name;
  std::vector<std::string> out;
  for (std::string s; std::getline(in, s);)
    if (!s.empty()) out.push_back(s);
  return out;
}

template <class T>
std::string Msg(const Result<T>& s) {
  return s.ok() ? "ok" : s.error().message();
}

void CheckV4(const std::string& name) {
  // "CVSS:4.0/... - (9.2,)" or "CVSS:4.0/... - 9.2"
  std::regex line(R"(^(\S+) - \(?([0-9.]+),?\)?\s*$)");
  int cases = 0, wrong = 0;
  for (const std::string& s : Lines(name)) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(s, m, line)) << "unparsed test line: " << s;
    cases++;
    auto r = ScoreCvss4(m[1].str());
    ASSERT_TRUE(r.ok()) << s << ": " << r.error().message();
    if (std::fabs(r->score - std::stod(m[2].str())) > 1e-9 && ++wrong <= 10)
      ADD_FAILURE() << s << ": got " << r->score << " (macrovector " << r->macrovector << ")";
  }
  std::cout << name << ": " << cases << " vectors, " << cases - wrong << " exact\n";
  EXPECT_GT(cases, 0);
  EXPECT_EQ(wrong, 0) << name;
}

TEST(Cvss4, Simple) { CheckV4("vectors_simple4"); }
TEST(Cvss4, Threat) { CheckV4("vectors_threat4"); }
TEST(Cvss4, SecurityRequirements) { CheckV4("vectors_security4"); }
TEST(Cvss4, Supplemental) { CheckV4("vectors_supplemental4"); }

void CheckV2(const std::string& name) {
  // "AV:... - (5, 3.5, 1.2)" with None for an undefined temporal/environmental score
  std::regex line(R"(^(\S+) - \((-?[0-9.]+), (None|[0-9.]+), (None|[0-9.]+)\)\s*$)");
  int cases = 0, wrong = 0;
  for (const std::string& s : Lines(name)) {
    std::smatch m;
    ASSERT_TRUE(std::regex_match(s, m, line)) << "unparsed test line: " << s;
    cases++;
    auto r = ScoreCvss2(m[1].str());
    ASSERT_TRUE(r.ok()) << s << ": " << r.error().message();
    auto same = [](bool has, double got, const std::string& want) {
      if (want == "None") return !has;
      return has && std::fabs(got - std::stod(want)) < 1e-9;
    };
    bool ok = std::fabs(r->base - std::stod(m[2].str())) < 1e-9 && same(r->has_temporal, r->temporal, m[3].str()) &&
              same(r->has_environmental, r->environmental, m[4].str());
    if (!ok && ++wrong <= 10)
      ADD_FAILURE() << s << ": got (" << r->base << ", " << (r->has_temporal ? std::to_string(r->temporal) : "None")
                    << ", " << (r->has_environmental ? std::to_string(r->environmental) : "None") << ")";
  }
  std::cout << name << ": " << cases << " vectors, " << cases - wrong << " exact\n";
  EXPECT_GT(cases, 0);
  EXPECT_EQ(wrong, 0) << name;
}

TEST(Cvss2, Simple) { CheckV2("vectors_simple2"); }
TEST(Cvss2, Calculator) { CheckV2("vectors_calculator2"); }
TEST(Cvss2, Cvsslib) { CheckV2("vectors_cvsslib2"); }

TEST(Cvss, DispatchesOnVersion) {
  auto v4 = ScoreCvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->version, "4.0");
  EXPECT_DOUBLE_EQ(v4->score, 9.3);
  EXPECT_EQ(v4->macrovector, "000200");
  auto v31 = ScoreCvss("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H");
  ASSERT_TRUE(v31.ok());
  EXPECT_EQ(v31->version, "3.1");
  EXPECT_DOUBLE_EQ(v31->score, 9.8);
  auto v2 = ScoreCvss("AV:N/AC:L/Au:N/C:P/I:P/A:P");
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, "2.0");
  EXPECT_DOUBLE_EQ(v2->score, 7.5);
  EXPECT_EQ(CvssSeverity("2.0", 7.5), "High");
  EXPECT_EQ(CvssSeverity("4.0", 9.3), "Critical");
}

TEST(Cvss, ErrorsNameTheMetric) {
  EXPECT_EQ(Msg(ScoreCvss("CVSS:4.0/AV:N/AC:L/AT:Q/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")),
            "bad value 'Q' for metric AT");
  EXPECT_EQ(Msg(ScoreCvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N")),
            "missing mandatory metric SA");
  EXPECT_EQ(Msg(ScoreCvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:S/SA:N")),
            "bad value 'S' for metric SI");  // Safety exists only as MSI/MSA
  EXPECT_EQ(Msg(ScoreCvss("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N/U:Blue")),
            "bad value 'Blue' for metric U");
  EXPECT_EQ(Msg(ScoreCvss("AV:N/AC:L/Au:N/C:P/I:P/A:P/E:X")), "bad value 'X' for metric E");
  EXPECT_EQ(Msg(ScoreCvss("AV:N/AC:L/Au:N/C:P/I:P")), "missing mandatory metric A");
  EXPECT_NE(Msg(ScoreCvss("CVSS:4.1/AV:N")).find("bad prefix"), std::string::npos);
}

}  // namespace
}  // namespace graft::advisory
