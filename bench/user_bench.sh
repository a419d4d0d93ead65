#!/usr/bin/env bash
# User-space live patching benchmarks, printed as markdown:
#  - pause: largest heartbeat gap inside the target during one apply, for 1, 8
#    and 64 threads, next to the largest gap in an equal window without apply;
#    plus graft's own measure of how long it held the threads stopped;
#  - total apply and revert wall time (hyperfine);
#  - cost of calling a patched function (one extra jump) vs the unpatched one.
# Usage: bench/user_bench.sh [path/to/graft]   (root; from the repo root)
set -euo pipefail
export GRAFT_ALLOW_UNSIGNED=${GRAFT_ALLOW_UNSIGNED:-1}  # bundles built here are unsigned
GRAFT=$(realpath "${1:-build/graft}")
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d /tmp/graft-bench.XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$W"' EXIT
cd "$W"
gcc -O2 -g -o hb "$HERE/heartbeat.c" -pthread
gcc -O2 -g -ffunction-sections -fdata-sections -c "$HERE/heartbeat.c" -o hb.orig.o
gcc -O2 -g -ffunction-sections -fdata-sections -DFIXED -c "$HERE/heartbeat.c" -o hb.fixed.o
"$GRAFT" build --orig hb.orig.o --patched hb.fixed.o --target hb -o fix.graft >/dev/null
RUNS=${RUNS:-10}

echo "| threads | max gap, no patching (us) | max gap during apply (us), median of $RUNS | max gap during apply, worst (us) | graft-reported stop (ms), median |"
echo "|---|---|---|---|---|"
for n in 1 8 64; do
  mkfifo ctl.$n
  ./hb heartbeat "$n" <ctl.$n >out.$n &
  PID=$!
  exec 9>ctl.$n
  sleep 1
  base=()
  gaps=()
  stops=()
  for i in $(seq "$RUNS"); do
    echo reset >&9; sleep 0.3; echo report >&9; sleep 0.05
    base+=("$(grep max_gap_us out.$n | tail -1 | awk '{print $2}')")
    echo reset >&9; sleep 0.05
    stops+=("$("$GRAFT" apply fix.graft --pid "$PID" | sed -E 's/.*paused ([0-9.]+) ms.*/\1/')")
    sleep 0.2; echo report >&9; sleep 0.05
    gaps+=("$(grep max_gap_us out.$n | tail -1 | awk '{print $2}')")
    "$GRAFT" revert fix --pid "$PID" >/dev/null
  done
  kill "$PID" 2>/dev/null || true  # closing the control FIFO also ends it
  exec 9>&-
  med() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  worst() { printf '%s\n' "$@" | sort -g | tail -1; }
  echo "| $n | $(med "${base[@]}") | $(med "${gaps[@]}") | $(worst "${gaps[@]}") | $(med "${stops[@]}") |"
done

echo
./hb heartbeat 8 </dev/zero >/dev/null &
PID=$!
sleep 0.5
hyperfine --warmup 2 --runs 30 --export-markdown apply.md \
  --prepare "$GRAFT revert fix --pid $PID >/dev/null 2>&1 || true" "$GRAFT apply fix.graft --pid $PID" >/dev/null
"$GRAFT" apply fix.graft --pid "$PID" >/dev/null 2>&1 || true
hyperfine --warmup 2 --runs 30 --export-markdown revert.md \
  --prepare "$GRAFT apply fix.graft --pid $PID >/dev/null 2>&1 || true" "$GRAFT revert fix --pid $PID" >/dev/null
echo "Total wall time of one command against a process with 8 threads (hyperfine):"
echo
cat apply.md; tail -1 revert.md
kill "$PID"

echo
./hb callcost >cc.out &
PID=$!
sleep 2.5
before=$(grep ns_per_call cc.out | tail -2 | awk '{s+=$2} END {printf "%.3f", s/NR}')
"$GRAFT" apply fix.graft --pid "$PID" >/dev/null
sleep 0.5; n=$(wc -l <cc.out); sleep 2.5
after=$(tail -n +"$((n + 1))" cc.out | grep ns_per_call | tail -2 | awk '{s+=$2} END {printf "%.3f", s/NR}')
kill "$PID"
echo "| call | ns per call |"
echo "|---|---|"
echo "| beat(), unpatched | $before |"
echo "| beat(), patched (entry jump to the new code) | $after |"
