#!/usr/bin/env bash
# How many processes per second `graft apply --all` patches, and how long it
# holds each one stopped: N processes of one program (bench/apply_target.c:
# two threads, idle most of the time, like a fleet of service workers) get
# one bundle; graft's own "threads paused" figure per process gives the
# pause. Each graft binary given is timed on a fresh fleet RUNS times, in the
# order given, so a before/after pair runs on the same machine state.
# Usage: bench/apply_rate.sh NEW_GRAFT [OLD_GRAFT...]   (root; N=500 RUNS=3)
set -euo pipefail
export GRAFT_ALLOW_UNSIGNED=1  # the bundle built here is unsigned
N=${N:-500}
RUNS=${RUNS:-3}
HERE=$(cd "$(dirname "$0")" && pwd)
GRAFTS=()
for g in "$@"; do GRAFTS+=("$(realpath "$g")"); done
[ ${#GRAFTS[@]} -gt 0 ] || GRAFTS=("$(realpath build/graft)")
W=$(mktemp -d /tmp/graft-rate.XXXXXX)
FLEET=()
stop_fleet() {
  [ ${#FLEET[@]} -eq 0 ] || kill -9 "${FLEET[@]}" 2>/dev/null || true
  for p in "${FLEET[@]}"; do wait "$p" 2>/dev/null || true; done
  FLEET=()
}
trap 'stop_fleet; rm -rf "$W"' EXIT
cd "$W"
gcc -O2 -g -o target "$HERE/apply_target.c" -pthread
gcc -O2 -g -ffunction-sections -fdata-sections -c "$HERE/apply_target.c" -o target.orig.o
gcc -O2 -g -ffunction-sections -fdata-sections -DFIXED -c "$HERE/apply_target.c" -o target.fixed.o
"${GRAFTS[0]}" build --orig target.orig.o --patched target.fixed.o --target target -o fix.graft --id fix >/dev/null

start_fleet() {
  for _ in $(seq "$N"); do
    ./target >/dev/null &
    FLEET+=("$!")
  done
  # Every process past its start-up (main's first sleep).
  sleep 1
}

# percentile P (0-100) of the numbers on stdin
pct() { sort -g | awk -v p="$1" '{a[NR]=$1} END {i=int((NR-1)*p/100)+1; print a[i]}'; }

echo "| graft | processes | wall (s), median of $RUNS | processes/s | pause per process (ms): median / p95 / max |"
echo "|---|---|---|---|---|"
for g in "${GRAFTS[@]}"; do
  walls=()
  : >pauses.txt
  for _ in $(seq "$RUNS"); do
    start_fleet
    t0=$(date +%s%N)
    "$g" apply fix.graft --all >out.txt 2>err.txt || true
    t1=$(date +%s%N)
    done_n=$(grep -c "applied fix" out.txt || true)
    [ "$done_n" = "$N" ] || { echo "$g: applied to $done_n of $N: $(head -3 err.txt)" >&2; exit 1; }
    walls+=("$(python3 -c "print(($t1 - $t0) / 1e9)")")
    sed -nE 's/.*threads paused ([0-9.]+) ms.*/\1/p' out.txt >>pauses.txt
    stop_fleet
  done
  wall=$(printf '%s\n' "${walls[@]}" | pct 50)
  rate=$(python3 -c "print(round($N / $wall, 1))")
  echo "| $g | $N | $(printf '%.2f' "$wall") | $rate | $(pct 50 <pauses.txt) / $(pct 95 <pauses.txt) / $(pct 100 <pauses.txt) |"
done
