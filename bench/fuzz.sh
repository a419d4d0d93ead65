#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs one for a while:
#   bench/fuzz.sh bundle_fuzz|link_fuzz [SECONDS] (default 60)
# link_fuzz starts from payloads of real bundles (the e2e programs' fixes).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?name a fuzz target: bundle_fuzz or link_fuzz}
secs=${2:-60}
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DGRAFT_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j2 --target "$target"
corpus=build-fuzz/corpus-$target
mkdir -p "$corpus"
if [ -z "$(ls -A "$corpus")" ] && [ -x build/graft ]; then
  # Seeds: real bundles, header (44 bytes) cut off, as the targets expect.
  w=$(mktemp -d)
  gcc -O2 -g -o "$w/svc" tests/programs/svc.c -pthread
  gcc -O2 -g -ffunction-sections -fdata-sections -c tests/programs/svc.c -o "$w/o.o"
  gcc -O2 -g -ffunction-sections -fdata-sections -DFIXED -c tests/programs/svc.c -o "$w/f.o"
  build/graft build --orig "$w/o.o" --patched "$w/f.o" --target "$w/svc" -o "$w/fix.graft" >/dev/null
  tail -c +45 "$w/fix.graft" >"$corpus/svc-fix"
  rm -rf "$w"
fi
find build-fuzz -name "$target" -type f -executable | head -1 | {
  read -r bin
  "$bin" -max_total_time="$secs" -rss_limit_mb=4096 "$corpus"
}
