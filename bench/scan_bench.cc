// graft scan on a host with 3,000 installed rpm packages against a store of
// 50,000 generated advisories (1-3 fixed packages each, 1-4 CVEs each, over
// 8,000 package names of which the host has 3,000). Measured: the whole scan
// as the CLI does it (query the store for the host's package names, then
// match), and the in-memory match alone.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "advisory/store.h"
#include "scan/scanner.h"

namespace {

using namespace graft;

constexpr int kInstalled = 3000, kNames = 8000, kAdvisories = 50000;

std::string Version(std::mt19937& rng) {
  return fmt::format("{}.{}.{}-{}.el9", rng() % 5, rng() % 20, rng() % 30, rng() % 40);
}

// GRAFT_SCAN_BENCH_KEEP=DIR keeps the store and writes the host's inventory
// there (DIR/advisories.db, DIR/packages.txt) for timing the CLI itself
// (bench/scan_cli.sh).
const char* KeepDir() { return getenv("GRAFT_SCAN_BENCH_KEEP"); }

struct Fixture {
  std::string path = KeepDir() ? fmt::format("{}/advisories.db", KeepDir())
                               : fmt::format("/tmp/graft-scan-bench.{}.db", getpid());
  std::unique_ptr<advisory::AdvisoryStore> store;
  scan::Inventory inv;

  Fixture() {
    std::mt19937 rng(42);
    std::filesystem::remove(path);
    store = std::move(advisory::AdvisoryStore::Open(path, true).value());
    std::vector<advisory::Advisory> advs;
    for (int i = 0; i < kAdvisories; i++) {
      advisory::Advisory a;
      a.id = fmt::format("BENCH-{}:{:05}", 2020 + i % 6, i);
      static const char* sev[] = {"critical", "important", "moderate", "low"};
      a.severity = sev[rng() % 4];
      a.issued = a.updated = fmt::format("20{}-0{}-1{} 00:00:00", 20 + i % 6, 1 + rng() % 9, rng() % 10);
      for (int c = 0, n = 1 + rng() % 4; c < n; c++) a.cves.push_back(fmt::format("CVE-20{}-{}", 20 + i % 6, rng() % 90000));
      for (int p = 0, n = 1 + rng() % 3; p < n; p++)
        a.packages.push_back({fmt::format("pkg{}", rng() % kNames), "x86_64", Version(rng), "rpm", ""});
      advs.push_back(std::move(a));
    }
    (void)store->Import(advs);
    inv.ecosystem = advisory::Ecosystem::kRpm;
    for (int i = 0; i < kInstalled; i++) {
      std::string v = Version(rng);
      inv.packages.push_back({fmt::format("pkg{}", i * kNames / kInstalled), v, "x86_64", "", v});
    }
    if (KeepDir()) {
      FILE* f = fopen(fmt::format("{}/packages.txt", KeepDir()).c_str(), "w");
      for (const auto& p : inv.packages) fmt::print(f, "{} {} {}\n", p.name, p.version, p.arch);
      fclose(f);
    }
  }
  ~Fixture() {
    if (!KeepDir()) std::filesystem::remove(path);
  }
};

Fixture& Get() {
  static Fixture f;
  return f;
}

void BM_ScanFromStore(benchmark::State& state) {
  Fixture& f = Get();
  size_t missing = 0, advisories = 0;
  for (auto _ : state) {
    auto advs = f.store->ForPackages(scan::PackageNames(f.inv));
    scan::ScanReport r = scan::Scan(f.inv, *advs, {});
    advisories = advs->size();
    missing = 0;
    for (const auto& c : r.cves) missing += c.status == scan::CveStatus::kMissing;
    benchmark::DoNotOptimize(r);
  }
  state.counters["advisories_read"] = static_cast<double>(advisories);
  state.counters["missing_cves"] = static_cast<double>(missing);
}
BENCHMARK(BM_ScanFromStore)->Unit(benchmark::kMillisecond);

void BM_StoreQueryOnly(benchmark::State& state) {
  Fixture& f = Get();
  for (auto _ : state) benchmark::DoNotOptimize(f.store->ForPackages(scan::PackageNames(f.inv)));
}
BENCHMARK(BM_StoreQueryOnly)->Unit(benchmark::kMillisecond);

void BM_MatchInMemory(benchmark::State& state) {
  Fixture& f = Get();
  auto advs = *f.store->ForPackages(scan::PackageNames(f.inv));
  for (auto _ : state) benchmark::DoNotOptimize(scan::Scan(f.inv, advs, {}));
}
BENCHMARK(BM_MatchInMemory)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
