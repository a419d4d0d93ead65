// `graft cvss VECTOR [--json]` and `graft cvss -` (one vector a line on
// standard input, VECTOR<TAB>SCORE a line on standard output).
#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "advisory/cvss3.h"
#include "cli/commands.h"
#include "cli/output.h"

namespace graft::cli {

void RegisterCvssCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("cvss", "Score a CVSS v3.0/v3.1 vector");
  cmd->footer(
      "Examples:\n"
      "  graft cvss CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n"
      "  graft cvss --json CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N/E:P/RL:O\n"
      "  cut -f2 vectors.tsv | graft cvss -      # prints VECTOR<TAB>SCORE per line\n"
      "The single score of a vector is its environmental score when environmental metrics are\n"
      "given, else its temporal score when temporal metrics are given, else its base score.\n"
      "CVSS v2 and v4.0 vectors are refused with an error for now.");
  auto vector = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  cmd->add_option("vector", *vector, "The vector, or - to read one vector a line from standard input")->required();
  cmd->add_flag("--json", *as_json, "Machine-readable output");
  cmd->callback([=] {
    auto score = [](const std::string& v) -> Result<advisory::Cvss3Scores> {
      if (v.rfind("CVSS:4.0/", 0) == 0) return Err("CVSS v4.0 vectors are not supported yet");
      return advisory::ScoreCvss3(v);
    };
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
        fmt::print("{}\t{:.1f}\n", line, r->overall());
      }
      if (bad) throw CLI::RuntimeError(1);
      return;
    }
    advisory::Cvss3Scores s = Check(score(*vector));
    if (*as_json) {
      nlohmann::json j = {{"vector", *vector}, {"version", s.version}, {"base", s.base},
                          {"temporal", s.temporal}, {"environmental", s.environmental},
                          {"score", s.overall()}, {"severity", advisory::Cvss3Severity(s.overall())}};
      fmt::print("{}\n", j.dump(2));
      return;
    }
    fmt::print("CVSS {}\n", s.version);
    fmt::print("base           {:.1f} ({})\n", s.base, advisory::Cvss3Severity(s.base));
    fmt::print("temporal       {:.1f}\n", s.temporal);
    fmt::print("environmental  {:.1f}\n", s.environmental);
    fmt::print("score          {:.1f} ({})\n", s.overall(), advisory::Cvss3Severity(s.overall()));
  });
}

}  // namespace graft::cli
