#!/usr/bin/env bash
# The agent's dlopen hook, what it adds to a dlopen of a library that is NOT
# in graftd's index, printed as markdown: ns per dlopen+dlclose of a small
# library (a new load each time: the hook reads the loader's counters,
# stats the index and compares every loaded object's build-id) and per
# dlopen of a library already loaded (the counter check only), without the
# agent, with the agent and no index, and with the agent and a 20-line
# index; in a process with few objects and with 50 more loaded. Median of
# RUNS runs of ITER iterations each, in the thread's CPU time (time spent
# waiting for a CPU on a busy machine is not counted).
# Then the hook's parts timed alone (bench/dlopen_hook_parts.c), since a
# whole dlopen varies by more than they cost.
# Usage: bench/dlopen_cost.sh [path/to/libgraft-agent.so]   (from the repo root)
set -euo pipefail
AGENT=$(realpath "${1:-build/libgraft-agent.so}")
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-7} ITER=${ITER:-2000}
W=$(mktemp -d /tmp/graft-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
cd "$W"
gcc -O2 -o dlopen_cost "$HERE/dlopen_cost.c"
gcc -O2 -o dlopen_hook_parts "$HERE/dlopen_hook_parts.c"
printf '%s\n' '#include <stdio.h>' '#include <time.h>' '#include <unistd.h>' '#include <sys/syscall.h>' \
  'int main(void) { struct timespec a, b; clock_gettime(CLOCK_MONOTONIC, &a);' \
  '  for (int i = 0; i < 100000; i++) syscall(SYS_getppid);' \
  '  clock_gettime(CLOCK_MONOTONIC, &b);' \
  '  printf("%.0f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 100000); }' >syscall_ns.c
gcc -O2 -o syscall_ns syscall_ns.c
echo 'int plain(int x) { return x; }' >plain.c
gcc -O2 -fPIC -shared -o libplain.so plain.c
extra=()
for i in $(seq 50); do
  echo "int extra$i(int x) { return x + $i; }" >extra$i.c
  gcc -O2 -fPIC -shared -o libextra$i.so extra$i.c
  extra+=("$W/libextra$i.so")
done
mkdir noindex index
for i in $(seq 20); do head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n'; echo; done >index/agent.index

# The three settings take turns within each run, so that a busy machine
# weighs on all of them alike; each cell is the median over RUNS runs.
configs=("none" "preloaded, no index" "preloaded, 20-line index, no match")
envs=("" "LD_PRELOAD=$AGENT GRAFT_AGENT_DIR=$W/noindex" "LD_PRELOAD=$AGENT GRAFT_AGENT_DIR=$W/index")
median() { sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"; }

echo "| objects loaded | agent | dlopen+dlclose, new load (us) | dlopen of a loaded library (ns) |"
echo "|---|---|---|---|"
for set in few many; do
  args=()
  [ "$set" = few ] || args=("${extra[@]}")
  for _ in $(seq "$RUNS"); do
    for c in 0 1 2; do
      # shellcheck disable=SC2086
      env ${envs[$c]} ./dlopen_cost "$W/libplain.so" "$ITER" "${args[@]}" >>"out.$set.$c"
    done
  done
  for c in 0 1 2; do
    o=$(head -1 "out.$set.$c" | cut -d' ' -f1)
    l=$(cut -d' ' -f2 "out.$set.$c" | median)
    d=$(cut -d' ' -f3 "out.$set.$c" | median)
    echo "| $o | ${configs[$c]} | $(awk -v l="$l" 'BEGIN { printf "%.1f", l / 1000 }') | $d |"
  done
done

echo
echo "| objects loaded | dlopen that loads nothing: counter check (ns) | new load, every object's notes read: index stat + walk (ns) | new load, old objects known: index stat + walk (ns) | after an unload: return-address search (ns) |"
echo "|---|---|---|---|---|"
for set in few many; do
  args=()
  [ "$set" = few ] || args=("${extra[@]}")
  for _ in $(seq "$RUNS"); do GRAFT_AGENT_DIR=$W/index ./dlopen_hook_parts 20000 "${args[@]}"; done >"parts.$set"
  grep -qv ' ok$' "parts.$set" && { echo "unexpected: $(cat "parts.$set")" >&2; exit 1; }
  row="| $(head -1 "parts.$set" | cut -d' ' -f1) |"
  for f in 2 3 4 5; do row="$row $(cut -d' ' -f$f "parts.$set" | median) |"; done
  echo "$row"
done
echo
echo "One system call on this machine (getppid, for scale): $(./syscall_ns) ns"
