// CVSS vectors scored per second: every v3.1 vector of the Red Hat test file,
// parsed and scored per iteration.
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>
#include <vector>

#include "advisory/cvss.h"
#include "advisory/cvss3.h"
#include "advisory/version_rpm.h"

static std::vector<std::string> Vectors(const char* file) {
  std::ifstream in(std::string(GRAFT_SOURCE_DIR) + "/../shared/testdata/cvss/" + file);
  std::vector<std::string> out;
  std::string s;
  while (std::getline(in, s))
    if (auto p = s.find(" - ("); p != std::string::npos) out.push_back(s.substr(0, p));
  return out;
}

static void BM_Cvss31(benchmark::State& state) {
  auto vectors = Vectors("vectors_simple31");
  size_t n = 0;
  for (auto _ : state) {
    auto r = graft::advisory::ScoreCvss3(vectors[n++ % vectors.size()]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Cvss31);

static void BM_Cvss30Environmental(benchmark::State& state) {
  auto vectors = Vectors("vectors_cvsslib3");
  size_t n = 0;
  for (auto _ : state) {
    auto r = graft::advisory::ScoreCvss3(vectors[n++ % vectors.size()]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Cvss30Environmental);

// v4.0 (macrovector lookup and interpolation) and v2 through the common entry point.
static void BM_Cvss40(benchmark::State& state) {
  std::vector<std::string> vectors;
  std::ifstream in(std::string(GRAFT_SOURCE_DIR) + "/../shared/testdata/cvss/vectors_simple4");
  for (std::string s; std::getline(in, s);)
    if (auto p = s.find(" - "); p != std::string::npos) vectors.push_back(s.substr(0, p));
  size_t n = 0;
  for (auto _ : state) {
    auto r = graft::advisory::ScoreCvss(vectors[n++ % vectors.size()]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Cvss40);

static void BM_Cvss2(benchmark::State& state) {
  auto vectors = Vectors("vectors_simple2");
  size_t n = 0;
  for (auto _ : state) {
    auto r = graft::advisory::ScoreCvss(vectors[n++ % vectors.size()]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Cvss2);

static void BM_RpmVerCmp(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(graft::advisory::RpmVerCmp("4.14.336-257.562.amzn2", "4.14.336-257.566.amzn2"));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RpmVerCmp);

BENCHMARK_MAIN();
