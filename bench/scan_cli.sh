#!/usr/bin/env bash
# `graft scan` as a user runs it, timed with hyperfine: the scan_bench
# fixture (50,000 generated advisories in a store, a host inventory of 3,000
# rpm packages) written to disk, then the CLI end to end: open the store,
# read the inventory, query, match, print the report (text and --json).
# Usage: bench/scan_cli.sh [build-dir]   (from the repo root)
set -euo pipefail
B=$(realpath "${1:-build}")
W=$(mktemp -d /tmp/graft-scan-cli.XXXXXX)
trap 'rm -rf "$W"' EXIT
GRAFT_SCAN_BENCH_KEEP=$W "$B/bench/scan_bench" --benchmark_filter=StoreQueryOnly >/dev/null
hyperfine -N --warmup 2 --runs "${RUNS:-20}" \
  "$B/graft scan --db $W/advisories.db --packages $W/packages.txt --ecosystem rpm" \
  "$B/graft scan --db $W/advisories.db --packages $W/packages.txt --ecosystem rpm --json"
