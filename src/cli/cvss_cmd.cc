// `graft cvss VECTOR [--json]` and `graft cvss -` (one vector a line on
// standard input, VECTOR<TAB>SCORE a line on standard output).
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "advisory/cvss.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace graft::cli {

void RegisterCvssCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("cvss", "Score a CVSS v2, v3.0, v3.1 or v4.0 vector");
  cmd->footer(
      "Examples:\n"
      "  graft cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n"
      "  graft cvss --json CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N/E:P/RL:O\n"
      "  graft cvss CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N\n"
      "  graft cvss AV:N/AC:L/Au:N/C:P/I:P/A:P            # CVSS v2\n"
      "  cut -f2 vectors.tsv | graft cvss -      # prints VECTOR<TAB>SCORE per line\n"
      "The single score of a vector is its environmental score when environmental metrics are\n"
      "given, else its temporal score when temporal metrics are given, else its base score\n"
      "(v2, v3.x). CVSS v4.0 has one score, computed with the FIRST macrovector method.");
  auto vector = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("vector", *vector, "The vector, or - to read one vector a line from standard input")->required();
  cmd->add_flag("--json", *as_json, "Machine-readable output");
  cmd->callback([=] {
    auto score = [](const std::string& v) { return advisory::ScoreCvss(v); };
    if (*vector == "-") {
      std::string line;
      int n = 0, bad = 0;
      while (std::getline(std::cin, line)) {
        n++;
        if (line.empty()) continue;
        auto r = score(line);
        if (!r.ok()) {
          fmt::print(stderr, "graft: line {}: {}\n", n, r.error().message());
          bad++;
          continue;
        }
        fmt::print("{}\t{:.1f}\n", line, r->score);
      }
      if (bad) throw CLI::RuntimeError(1);
      return;
    }
    advisory::CvssScore s = Check(score(*vector));
    auto severity = advisory::CvssSeverity(s.version, s.score);
    if (*as_json) {
      nlohmann::json j = {{"vector", *vector}, {"version", s.version}, {"score", s.score}, {"severity", severity}};
      if (s.version == "4.0") {
        j["macrovector"] = s.macrovector;
      } else {
        j["base"] = s.base;
        j["temporal"] = s.has_temporal ? nlohmann::json(s.temporal) : nlohmann::json(nullptr);
        j["environmental"] = s.has_environmental ? nlohmann::json(s.environmental) : nlohmann::json(nullptr);
      }
      fmt::print("{}\n", j.dump(2));
      return;
    }
    fmt::print("CVSS {}\n", s.version);
    if (s.version == "4.0") {
      fmt::print("macrovector    {}\n", s.macrovector);
    } else {
      fmt::print("base           {:.1f} ({})\n", s.base, advisory::CvssSeverity(s.version, s.base));
      if (s.has_temporal) fmt::print("temporal       {:.1f}\n", s.temporal);
      if (s.has_environmental) fmt::print("environmental  {:.1f}\n", s.environmental);
    }
    fmt::print("score          {:.1f} ({})\n", s.score, severity);
  });
}

}  // namespace graft::cli
